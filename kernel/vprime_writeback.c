// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: writeback
 *
 * Each CRTC has a writeback connector, so the composed frame can be read
 * back: a job's framebuffer (XRGB8888 or ARGB8888, the CRTC's size) is
 * mapped when the job is prepared, filled by the composer at the next
 * vblank, and its out-fence signalled then.
 */

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_edid.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_probe_helper.h>
#include <drm/drm_vblank.h>

#include "vprime_compat.h"
#include "vprime_kms.h"

static int vprime_wb_get_modes(struct drm_connector *connector)
{
	int count = drm_add_modes_noedid(connector, VPRIME_MAX_WIDTH, VPRIME_MAX_HEIGHT);

	drm_set_preferred_mode(connector, 1024, 768);
	return count;
}

static int vprime_wb_prepare_job(struct drm_writeback_connector *wb,
				 struct drm_writeback_job *job)
{
	struct vprime_wb_job *wbjob;
	int ret;

	if (!job->fb)
		return 0;
	wbjob = kzalloc_obj(*wbjob, GFP_KERNEL);
	if (!wbjob)
		return -ENOMEM;
	ret = drm_gem_fb_vmap(job->fb, wbjob->map, NULL);
	if (ret) {
		kfree(wbjob);
		return ret;
	}
	wbjob->fb = job->fb;
	drm_framebuffer_get(wbjob->fb);
	job->priv = wbjob;
	return 0;
}

static void vprime_wb_cleanup_job(struct drm_writeback_connector *wb,
				  struct drm_writeback_job *job)
{
	struct vprime_wb_job *wbjob = job->priv;

	if (!wbjob)
		return;
	if (wbjob->vblank_crtc)
		drm_crtc_vblank_put(wbjob->vblank_crtc);
	drm_gem_fb_vunmap(wbjob->fb, wbjob->map);
	drm_framebuffer_put(wbjob->fb);
	kfree(wbjob);
}

/* The job's framebuffer must have the CRTC's size and a writeback format. */
static int vprime_wb_atomic_check(struct drm_connector *connector,
				  struct vprime_atomic_state *state)
{
	struct drm_connector_state *cs = drm_atomic_get_new_connector_state(state, connector);
	struct drm_crtc_state *crtc_state;
	struct drm_framebuffer *fb;

	if (!cs->writeback_job || !cs->writeback_job->fb || !cs->crtc)
		return 0;
	fb = cs->writeback_job->fb;
	crtc_state = drm_atomic_get_new_crtc_state(state, cs->crtc);
	if (!crtc_state)
		return 0;
	if (fb->width != crtc_state->mode.hdisplay || fb->height != crtc_state->mode.vdisplay)
		return -EINVAL;
	/* The composer writes 32-bit pixels: nothing else may be a target. */
	if (!vprime_wb_format_supported(fb->format->format))
		return -EINVAL;
	return 0;
}

static void vprime_wb_atomic_commit(struct drm_connector *connector,
				    struct vprime_atomic_state *state)
{
	struct drm_connector_state *cs = drm_atomic_get_new_connector_state(state, connector);
	struct vprime_output *out = container_of(connector, struct vprime_output, wb.base);
	struct vprime_crtc_state *crtc_state;
	struct vprime_wb_job *wbjob;

	if (!cs->writeback_job || !cs->writeback_job->fb || !cs->crtc)
		return;
	crtc_state = to_vprime_crtc_state(drm_atomic_get_new_crtc_state(state, cs->crtc));
	/* The vblank timer composes the frame: keep it running until the job is done. */
	wbjob = cs->writeback_job->priv;
	if (!drm_crtc_vblank_get(cs->crtc))
		wbjob->vblank_crtc = cs->crtc;
	spin_lock_irq(&out->composer_lock);
	crtc_state->wb = wbjob;
	crtc_state->wb_pending = true;
	spin_unlock_irq(&out->composer_lock);
	drm_writeback_queue_job(&out->wb, cs);
}

static const struct drm_connector_helper_funcs vprime_wb_helper_funcs = {
	.get_modes = vprime_wb_get_modes,
	.prepare_writeback_job = vprime_wb_prepare_job,
	.cleanup_writeback_job = vprime_wb_cleanup_job,
	.atomic_check = vprime_wb_atomic_check,
	.atomic_commit = vprime_wb_atomic_commit,
};

static const struct drm_connector_funcs vprime_wb_connector_funcs = {
	.fill_modes = drm_helper_probe_single_connector_modes,
	VPRIME_WRITEBACK_CONNECTOR_DESTROY
	.reset = drm_atomic_helper_connector_reset,
	.atomic_duplicate_state = drm_atomic_helper_connector_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_connector_destroy_state,
};

/**
 * vprime_writeback_init - the writeback connector of an output
 * @drm: the device
 * @out: the output, its CRTC initialised
 *
 * Returns: 0 or a negative errno.
 */
int vprime_writeback_init(struct drm_device *drm, struct vprime_output *out)
{
	int ret;

	ret = drmm_encoder_init(drm, &out->wb_encoder, NULL, DRM_MODE_ENCODER_VIRTUAL, NULL);
	if (ret)
		return ret;
	out->wb_encoder.possible_crtcs = drm_crtc_mask(&out->crtc);
	/* It may run alongside the display, as a clone of its encoder. */
	out->wb_encoder.possible_clones = drm_encoder_mask(&out->wb_encoder) |
					  drm_encoder_mask(&out->encoder);
	out->encoder.possible_clones = out->wb_encoder.possible_clones;
	drm_connector_helper_add(&out->wb.base, &vprime_wb_helper_funcs);
	return vprime_compat_drmm_writeback_connector_init(drm, &out->wb,
							   &vprime_wb_connector_funcs,
							   &out->wb_encoder, vprime_wb_formats,
							   vprime_num_wb_formats);
}
