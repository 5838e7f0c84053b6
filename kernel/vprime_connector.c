// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: connector
 *
 * Each CRTC drives one always-connected virtual connector through one
 * virtual encoder. Its modes are the standard (DMT) ones the core knows, up
 * to 4096x2160 (1920x1080 and 1024x768 among them), 1024x768 preferred. It
 * has no EDID.
 */

#include <drm/drm_atomic_helper.h>
#include <drm/drm_connector.h>
#include <drm/drm_edid.h>
#include <drm/drm_encoder.h>
#include <drm/drm_managed.h>
#include <drm/drm_probe_helper.h>

#include "vprime_kms.h"

static int vprime_connector_get_modes(struct drm_connector *connector)
{
	int count = drm_add_modes_noedid(connector, VPRIME_MAX_WIDTH, VPRIME_MAX_HEIGHT);

	drm_set_preferred_mode(connector, 1024, 768);
	return count;
}

static const struct drm_connector_helper_funcs vprime_connector_helper_funcs = {
	.get_modes = vprime_connector_get_modes,
};

static const struct drm_connector_funcs vprime_connector_funcs = {
	.fill_modes = drm_helper_probe_single_connector_modes,
	.reset = drm_atomic_helper_connector_reset,
	.atomic_duplicate_state = drm_atomic_helper_connector_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_connector_destroy_state,
};

/**
 * vprime_connector_init - the encoder and virtual connector of an output
 * @drm: the device
 * @out: the output, its CRTC initialised
 *
 * Returns: 0 or a negative errno.
 */
int vprime_connector_init(struct drm_device *drm, struct vprime_output *out)
{
	int ret;

	ret = drmm_encoder_init(drm, &out->encoder, NULL, DRM_MODE_ENCODER_VIRTUAL, NULL);
	if (ret)
		return ret;
	out->encoder.possible_crtcs = drm_crtc_mask(&out->crtc);

	ret = drmm_connector_init(drm, &out->connector, &vprime_connector_funcs,
				  DRM_MODE_CONNECTOR_VIRTUAL, NULL);
	if (ret)
		return ret;
	drm_connector_helper_add(&out->connector, &vprime_connector_helper_funcs);
	return drm_connector_attach_encoder(&out->connector, &out->encoder);
}
