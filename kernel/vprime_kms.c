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
#include <linux/workqueue.h>

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_vblank.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_kms.h"

/*
 * The commit up to hw_done, in the order of
 * drm_atomic_helper_commit_tail_rpm(): CRTCs are enabled before the planes
 * are committed, so that a CRTC turned on has its vblank running when its
 * flush arms the commit's event, which then comes at the first vblank with
 * its time (committing the planes first sent it at once, stamped with the
 * time the CRTC last went off). This is on the way to signalling the
 * commit's flip events and out-fences: it neither allocates nor takes a
 * reservation lock, and says so to lockdep.
 */
static void vprime_commit_hw(struct vprime_atomic_state *state)
{
	struct drm_device *drm = state->dev;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	drm_atomic_helper_commit_modeset_disables(drm, state);
	drm_atomic_helper_commit_modeset_enables(drm, state);
	drm_atomic_helper_commit_planes(drm, state, 0);
	drm_atomic_helper_fake_vblank(state);
	drm_atomic_helper_commit_hw_done(state);
	dma_fence_end_signalling(cookie);
}

/*
 * The rest of the commit, once the flip is done. The composer must be done
 * with the old states before their framebuffers are unmapped: not only the
 * old CRTC state's frame, but every frame queued before the swap, since an
 * older CRTC state may show a plane state this commit frees (a CRTC state
 * keeps the current state of the planes a commit leaves alone).
 */
static void vprime_commit_finish(struct vprime_atomic_state *state)
{
	struct drm_crtc_state *old_crtc_state __maybe_unused;
	struct drm_device *drm = state->dev;
	struct drm_crtc *crtc;
	int i;

	drm_atomic_helper_wait_for_flip_done(drm, state);
	for_each_old_crtc_in_state(state, crtc, old_crtc_state, i)
		flush_workqueue(crtc_to_output(crtc)->compose_wq);
	drm_atomic_helper_cleanup_planes(drm, state);
}

/*
 * The tail of a blocking commit (the helpers' drm_atomic_helper_commit()
 * runs it), and of a nonblocking one that could not be applied in its
 * ioctl (vprime_commit_work()). It waits for the flip rather than for a
 * vblank, as vkms's does.
 */
static void vprime_atomic_commit_tail(struct vprime_atomic_state *state)
{
	vprime_commit_hw(state);
	vprime_commit_finish(state);
}

static const struct drm_mode_config_helper_funcs vprime_mode_config_helpers = {
	.atomic_commit_tail = vprime_atomic_commit_tail,
};

/*
 * A nonblocking commit's worker, as the helpers' (their commit_tail()) but
 * for the self-refresh statistics, which vprime has no use for: wait for
 * the planes' fences and the commits before, then the whole tail.
 */
static void vprime_commit_work(struct work_struct *work)
{
	struct vprime_atomic_state *state = container_of(work, struct vprime_atomic_state,
							 commit_work);

	vprime_fault_delay(VPRIME_DELAY_COMMIT_WORK);
	drm_atomic_helper_wait_for_fences(state->dev, state, false);
	drm_atomic_helper_wait_for_dependencies(state);
	vprime_atomic_commit_tail(state);
	drm_atomic_helper_commit_cleanup_done(state);
	vprime_atomic_state_put(state);
}

/* The worker of a nonblocking commit applied in its ioctl: the rest. */
static void vprime_commit_finish_work(struct work_struct *work)
{
	struct vprime_atomic_state *state = container_of(work, struct vprime_atomic_state,
							 commit_work);

	vprime_fault_delay(VPRIME_DELAY_COMMIT_WORK);
	vprime_commit_finish(state);
	drm_atomic_helper_commit_cleanup_done(state);
	vprime_atomic_state_put(state);
}

/* Whether a commit a state waits for (drm_crtc_commit_wait()) is over. */
static bool commit_done(struct drm_crtc_commit *commit)
{
	return !commit || (completion_done(&commit->hw_done) &&
			   completion_done(&commit->flip_done));
}

/*
 * Whether a swapped nonblocking commit needs nothing its worker would wait
 * for, so that its ioctl can apply it: no modeset and no connector (no
 * writeback job), every plane's fence signalled, and the commits before it
 * on its CRTCs, planes and connectors done (their flips included, as
 * drm_atomic_helper_wait_for_dependencies() waits for them). A page flip
 * of a client that waits for each flip's event is such a commit.
 */
static bool vprime_commit_ready(struct vprime_atomic_state *state)
{
	struct drm_plane_state *old_plane_state, *new_plane_state;
	struct drm_crtc_state *old_crtc_state, *new_crtc_state;
	struct drm_connector_state *conn_state __maybe_unused;
	struct drm_connector *conn;
	struct drm_plane *plane;
	struct drm_crtc *crtc;
	int i;

	for_each_old_connector_in_state(state, conn, conn_state, i)
		return false;
	for_each_oldnew_crtc_in_state(state, crtc, old_crtc_state, new_crtc_state, i)
		if (drm_atomic_crtc_needs_modeset(new_crtc_state) ||
		    !commit_done(old_crtc_state->commit))
			return false;
	for_each_oldnew_plane_in_state(state, plane, old_plane_state, new_plane_state, i)
		if (!commit_done(old_plane_state->commit) ||
		    (new_plane_state->fence && !dma_fence_is_signaled(new_plane_state->fence)))
			return false;
	return true;
}

/*
 * The planes' fences of a commit vprime_commit_ready() found signalled,
 * dropped as the worker's drm_atomic_helper_wait_for_fences() drops them
 * once it has waited. Kept, they would stay in the new plane state, the
 * screen's for as long as the plane does not change: another driver's
 * fence, whose last put calls into that driver where the core does not
 * detach signalled fences from it (6.1, 6.12), after it may have been
 * unloaded (vprime_kms_flips/flip-in-fence-vgem-gone).
 */
static void vprime_commit_drop_fences(struct vprime_atomic_state *state)
{
	struct drm_plane_state *new_plane_state;
	struct drm_plane *plane;
	int i;

	for_each_new_plane_in_state(state, plane, new_plane_state, i) {
		dma_fence_put(new_plane_state->fence);
		new_plane_state->fence = NULL;
	}
}

/*
 * &drm_mode_config_funcs.atomic_commit: the helpers' drm_atomic_helper_commit(),
 * but a nonblocking commit that needs nothing to happen first
 * (vprime_commit_ready()) is applied in its ioctl, up to hw_done, its event
 * armed for the next vblank there; only the wait for the flip and the
 * cleanup are left to the worker. Otherwise the worker does everything, as
 * the helpers' does: under load it may not run before the vblank the flip
 * was meant for, although the ioctl returned well before it. Blocking
 * commits and async updates are the helpers' own.
 */
static int vprime_atomic_commit(struct drm_device *drm, struct vprime_atomic_state *state,
				bool nonblock)
{
	struct drm_crtc_state *crtc_state __maybe_unused;
	struct drm_crtc *crtc;
	int ret, i;

	if (!nonblock || state->async_update)
		return drm_atomic_helper_commit(drm, state, nonblock);
	ret = drm_atomic_helper_setup_commit(state, true);
	if (ret)
		return ret;
	ret = drm_atomic_helper_prepare_planes(drm, state);
	if (ret)
		return ret;
	/* The point of no return, as in the helpers. */
	ret = drm_atomic_helper_swap_state(state, true);
	if (ret) {
		vprime_compat_unprepare_planes(drm, state);
		return ret;
	}
	vprime_atomic_state_get(state);
	if (vprime_commit_ready(state)) {
		vprime_commit_drop_fences(state);
		vprime_commit_hw(state);
		for_each_new_crtc_in_state(state, crtc, crtc_state, i)
			atomic64_inc(&crtc_to_output(crtc)->ioctl_flips);
		INIT_WORK(&state->commit_work, vprime_commit_finish_work);
	} else {
		INIT_WORK(&state->commit_work, vprime_commit_work);
	}
	/*
	 * Unbound, as the helpers' system_unbound_wq: one commit's cleanup
	 * must not hold up the next. The device's own, for vprime_kms_fini().
	 */
	queue_work(to_vprime_device(drm)->commit_wq, &state->commit_work);
	return 0;
}

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
	.atomic_commit = vprime_atomic_commit,
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

static void vprime_destroy_commit_wq(struct drm_device *drm, void *wq)
{
	destroy_workqueue(wq);
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
	vdev->commit_wq = alloc_workqueue("vprime_commit", WQ_UNBOUND, 0);
	if (!vdev->commit_wq)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(drm, vprime_destroy_commit_wq, vdev->commit_wq);
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
 *
 * The shutdown's commit waits for the commits before it to be applied and
 * flipped, not for their workers to clean up: those run vprime's code and
 * free what the commits replaced, so they must be done before the module
 * may go.
 */
void vprime_kms_fini(struct vprime_device *vdev)
{
	drm_atomic_helper_shutdown(&vdev->drm);
	flush_workqueue(vdev->commit_wq);
}
