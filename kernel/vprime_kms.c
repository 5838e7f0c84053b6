// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: display
 *
 * Every vprime instance has a display of num_crtcs outputs, each a CRTC
 * with a primary plane, num_overlays overlay planes and a cursor plane, a
 * virtual connector and a
 * writeback connector. Modesetting is atomic. Framebuffers are created from
 * any GEM object of the device, its own or imported, and scanning one out
 * pins it (see the planes) so that the placement of shared storage takes
 * the display into account.
 */

#include <linux/dma-fence.h>

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_vblank.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_kms.h"

/*
 * The commit tail of the helpers in the order of
 * drm_atomic_helper_commit_tail_rpm(): CRTCs are enabled before the planes
 * are committed, so that a CRTC turned on has its vblank running when its
 * flush arms the commit's event, which then comes at the first vblank with
 * its time (committing the planes first sent it at once, stamped with the
 * time the CRTC last went off). The composer must be done with the old
 * states before their framebuffers are unmapped: not only the old CRTC
 * state's frame, but every frame queued before the swap, since an older
 * CRTC state may show a plane state this commit frees (a CRTC state keeps
 * the current state of the planes a commit leaves alone). Up to hw_done the commit
 * is on the way to signalling its flip events and out-fences: it neither
 * allocates nor takes a reservation lock, and says so to lockdep.
 */
static void vprime_atomic_commit_tail(struct vprime_atomic_state *old_state)
{
	struct drm_device *drm = old_state->dev;
	struct drm_crtc_state *old_crtc_state __maybe_unused;
	struct drm_crtc *crtc;
	bool cookie;
	int i;

	cookie = dma_fence_begin_signalling();
	drm_atomic_helper_commit_modeset_disables(drm, old_state);
	drm_atomic_helper_commit_modeset_enables(drm, old_state);
	drm_atomic_helper_commit_planes(drm, old_state, 0);
	drm_atomic_helper_fake_vblank(old_state);
	drm_atomic_helper_commit_hw_done(old_state);
	dma_fence_end_signalling(cookie);
	drm_atomic_helper_wait_for_flip_done(drm, old_state);
	for_each_old_crtc_in_state(old_state, crtc, old_crtc_state, i)
		flush_workqueue(crtc_to_output(crtc)->compose_wq);
	drm_atomic_helper_cleanup_planes(drm, old_state);
}

static const struct drm_mode_config_helper_funcs vprime_mode_config_helpers = {
	.atomic_commit_tail = vprime_atomic_commit_tail,
};

/*
 * Framebuffers of a format no plane scans out, or with a modifier other than
 * linear, are refused at ADDFB2 already; 6.1's core does not check that.
 */
static struct drm_framebuffer *vprime_fb_create(struct drm_device *drm, struct drm_file *file,
						VPRIME_FB_CREATE_INFO_PARAM
						const struct drm_mode_fb_cmd2 *cmd)
{
	if (!vprime_format_supported(cmd->pixel_format) ||
	    ((cmd->flags & DRM_MODE_FB_MODIFIERS) && cmd->modifier[0] != DRM_FORMAT_MOD_LINEAR))
		return ERR_PTR(-EINVAL);
	return drm_gem_fb_create_with_dirty(drm, file, VPRIME_FB_CREATE_INFO_ARG cmd);
}

static const struct drm_mode_config_funcs vprime_mode_config_funcs = {
	.fb_create = vprime_fb_create,
	.atomic_check = drm_atomic_helper_check,
	.atomic_commit = drm_atomic_helper_commit,
};

/*
 * The planes of an output, in zpos order: the primary at 0, the overlays at
 * 1 to @num_overlays (each of them, and the primary, may be given any zpos
 * in that range), the cursor above them all.
 */
static int vprime_output_init(struct drm_device *drm, struct vprime_output *out,
			      unsigned int index, unsigned int num_overlays)
{
	struct drm_plane *primary, *overlay, *cursor;
	unsigned int i;
	int ret;

	primary = vprime_plane_create(drm, DRM_PLANE_TYPE_PRIMARY, BIT(index), 0, num_overlays);
	if (IS_ERR(primary))
		return PTR_ERR(primary);
	for (i = 1; i <= num_overlays; i++) {
		overlay = vprime_plane_create(drm, DRM_PLANE_TYPE_OVERLAY, BIT(index), i,
					      num_overlays);
		if (IS_ERR(overlay))
			return PTR_ERR(overlay);
	}
	cursor = vprime_plane_create(drm, DRM_PLANE_TYPE_CURSOR, BIT(index), num_overlays + 1,
				     num_overlays + 1);
	if (IS_ERR(cursor))
		return PTR_ERR(cursor);
	ret = vprime_crtc_init(drm, out, primary, cursor);
	if (ret)
		return ret;
	ret = vprime_connector_init(drm, out);
	if (ret)
		return ret;
	return vprime_writeback_init(drm, out);
}

/**
 * vprime_kms_init - create an instance's display
 * @vdev: the instance, not registered yet
 * @num_crtcs: its number of outputs, 1 to %VPRIME_MAX_CRTCS
 * @num_overlays: overlay planes per output, 0 to %VPRIME_MAX_OVERLAYS
 *
 * Returns: 0 or a negative errno; what was made is freed with the device.
 */
int vprime_kms_init(struct vprime_device *vdev, unsigned int num_crtcs,
		    unsigned int num_overlays)
{
	struct drm_device *drm = &vdev->drm;
	unsigned int i;
	int ret;

	ret = drmm_mode_config_init(drm);
	if (ret)
		return ret;
	drm->mode_config.funcs = &vprime_mode_config_funcs;
	drm->mode_config.helper_private = &vprime_mode_config_helpers;
	drm->mode_config.min_width = 1;
	drm->mode_config.min_height = 1;
	drm->mode_config.max_width = VPRIME_MAX_WIDTH;
	drm->mode_config.max_height = VPRIME_MAX_HEIGHT;
	drm->mode_config.cursor_width = VPRIME_CURSOR_MAX;
	drm->mode_config.cursor_height = VPRIME_CURSOR_MAX;
	drm->mode_config.preferred_depth = 24;
	drm->mode_config.normalize_zpos = true;

	vdev->num_outputs = num_crtcs;
	for (i = 0; i < num_crtcs; i++) {
		ret = vprime_output_init(drm, &vdev->outputs[i], i, num_overlays);
		if (ret)
			return ret;
	}
	ret = drm_vblank_init(drm, num_crtcs);
	if (ret)
		return ret;
	drm_mode_config_reset(drm);
	return 0;
}

/**
 * vprime_kms_fini - turn an instance's display off before it goes
 * @vdev: the instance, unregistered
 */
void vprime_kms_fini(struct vprime_device *vdev)
{
	drm_atomic_helper_shutdown(&vdev->drm);
}
