// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: connector
 *
 * Each CRTC drives one always-connected virtual connector through one
 * virtual encoder. The connector has an EDID 1.4 block, made up when it is
 * probed, as a monitor would present it: manufacturer "VPR", a serial
 * number and a name ("vprime-<instance>.<output>") that tell the outputs
 * apart, 1024x768 at 60 Hz as the preferred (first detailed) timing, the
 * VESA modes from 640x480 to 1920x1200 as established and standard
 * timings, and range limits. The standard (DMT) modes the core knows are
 * added on top, up to 4096x2160, as vkms does.
 */

#include <drm/drm_atomic_helper.h>
#include <drm/drm_connector.h>
#include <drm/drm_edid.h>
#include <drm/drm_encoder.h>
#include <drm/drm_managed.h>
#include <drm/drm_probe_helper.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_kms.h"

#define EDID_NAME_LEN	13

/* 640x480, 800x600 and 1024x768 at 60 Hz (EDID bytes 35-37). */
static const u8 edid_established[3] = { 0x21, 0x08, 0x00 };

/*
 * Standard timings at 60 Hz: (width / 8 - 31), aspect ratio << 6 (0: 16:10,
 * 1: 4:3, 2: 5:4, 3: 16:9).
 */
static const u8 edid_standard[8][2] = {
	{ 0x81, 0x80 },	/* 1280x1024 */
	{ 0x81, 0xc0 },	/* 1280x720 */
	{ 0x81, 0x00 },	/* 1280x800 */
	{ 0x95, 0x00 },	/* 1440x900 */
	{ 0xa9, 0x40 },	/* 1600x1200 */
	{ 0xb3, 0x00 },	/* 1680x1050 */
	{ 0xd1, 0xc0 },	/* 1920x1080 */
	{ 0xd1, 0x00 },	/* 1920x1200 */
};

/* DMT 1024x768 at 60 Hz, 65 MHz, negative syncs, on a 400x300 mm screen. */
static const u8 edid_preferred_timing[18] = {
	0x64, 0x19, 0x00, 0x40, 0x41, 0x00, 0x26, 0x30, 0x18, 0x88,
	0x36, 0x00, 0x90, 0x2c, 0x11, 0x00, 0x00, 0x18,
};

/* 50-75 Hz, 30-140 kHz, up to 600 MHz, no timing formula. */
static const u8 edid_range_limits[18] = {
	0x00, 0x00, 0x00, 0xfd, 0x00, 50, 75, 30, 140, 60,
	0x01, 0x0a, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
};

/* A display descriptor of @tag holding @text, ended by '\n' and padded. */
static void vprime_edid_put_text(u8 *desc, u8 tag, const char *text)
{
	size_t len = min_t(size_t, strlen(text), EDID_NAME_LEN);

	memset(desc, 0, 5);
	desc[3] = tag;
	memset(desc + 5, ' ', EDID_NAME_LEN);
	memcpy(desc + 5, text, len);
	if (len < EDID_NAME_LEN)
		desc[5 + len] = '\n';
}

/* The EDID base block of output @index of instance @instance. */
static void vprime_edid_build(u8 *edid, unsigned int instance, unsigned int index)
{
	static const u8 header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	/* sRGB primaries and white point */
	static const u8 chroma[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54 };
	u32 serial = (instance << 8 | index) + 1;
	char text[EDID_NAME_LEN + 1];
	u8 sum = 0;
	int i;

	memset(edid, 0, EDID_LENGTH);
	memcpy(edid, header, sizeof(header));
	put_unaligned_be16(('V' - '@') << 10 | ('P' - '@') << 5 | ('R' - '@'), edid + 8);
	put_unaligned_le16(0x0001, edid + 10);		/* product code */
	put_unaligned_le32(serial, edid + 12);
	edid[16] = 0;					/* week: unknown */
	edid[17] = 2026 - 1990;				/* year */
	edid[18] = 1;					/* EDID 1.4 */
	edid[19] = 4;
	edid[20] = 0xa0;				/* digital, 8 bpc */
	edid[21] = 40;					/* 40 x 30 cm */
	edid[22] = 30;
	edid[23] = 120;					/* gamma 2.2 */
	edid[24] = 0x06;			/* RGB, sRGB, preferred is native */
	memcpy(edid + 25, chroma, sizeof(chroma));
	memcpy(edid + 35, edid_established, sizeof(edid_established));
	memcpy(edid + 38, edid_standard, sizeof(edid_standard));
	memcpy(edid + 54, edid_preferred_timing, sizeof(edid_preferred_timing));
	snprintf(text, sizeof(text), "vprime-%u.%u", instance, index);
	vprime_edid_put_text(edid + 72, EDID_DETAIL_MONITOR_NAME, text);
	memcpy(edid + 90, edid_range_limits, sizeof(edid_range_limits));
	snprintf(text, sizeof(text), "VPR%08x", serial);
	vprime_edid_put_text(edid + 108, EDID_DETAIL_MONITOR_SERIAL, text);
	edid[126] = 0;					/* no extension */
	for (i = 0; i < EDID_LENGTH - 1; i++)
		sum += edid[i];
	edid[127] = -sum;
}

static int vprime_connector_get_modes(struct drm_connector *connector)
{
	struct vprime_output *out = container_of(connector, struct vprime_output, connector);
	struct vprime_device *vdev = to_vprime_device(connector->dev);
	const struct drm_edid *drm_edid;
	u8 edid[EDID_LENGTH];
	int count;

	vprime_edid_build(edid, vdev->index, drm_crtc_index(&out->crtc));
	drm_edid = drm_edid_alloc(edid, sizeof(edid));
	count = vprime_compat_edid_connector_update(connector, drm_edid);
	drm_edid_free(drm_edid);

	count += drm_add_modes_noedid(connector, VPRIME_MAX_WIDTH, VPRIME_MAX_HEIGHT);
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
	/* The core leaves the EDID property off virtual connectors. */
	drm_connector_attach_edid_property(&out->connector);
	return drm_connector_attach_encoder(&out->connector, &out->encoder);
}
