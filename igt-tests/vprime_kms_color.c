// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display, the CRTC's colour pipeline: DEGAMMA_LUT, CTM and
 * GAMMA_LUT, alone and together, and the legacy SETGAMMA, checked through
 * writeback against the reference composition put through them; the
 * blobs and sizes the properties refuse.
 *
 * The display tests' conventions (vprime.0's card node as DRM master, the
 * CRTC the library lights, every subtest turning its CRTCs off) are in
 * lib/vprime_output.h.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vprime_test.h"
#include "vtest.h"

/* color-pipeline, legacy-gamma, color-invalid */

#define LUT_SIZE	256

/* The id of the CRTC kms_capture_planes() shows the frames on. */
static uint32_t crtc_id(int fd)
{
	int index = kms_capture_crtc_index(fd, W, H);
	drmModeRes *res = drmModeGetResources(fd);
	uint32_t id;

	vt_assert_f(res && res->count_crtcs > index, "no CRTC %d\n", index);
	id = res->crtcs[index];
	drmModeFreeResources(res);
	return id;
}

/* A curve per channel that differs from the identity nearly everywhere. */
static void make_gamma(struct drm_color_lut *lut)
{
	memset(lut, 0, LUT_SIZE * sizeof(*lut));
	for (int i = 0; i < LUT_SIZE; i++) {
		double x = i / 255.0;

		lut[i].red = 65535 - i * 257;		/* inverted */
		lut[i].green = (uint16_t)(sqrt(x) * 65535 + 0.5);
		lut[i].blue = (uint16_t)(x * x * 65535 + 0.5);
	}
}

/* An sRGB-like decoding curve (power 2.2), the same on every channel. */
static void make_degamma(struct drm_color_lut *lut)
{
	for (int i = 0; i < LUT_SIZE; i++) {
		uint16_t v = (uint16_t)(pow(i / 255.0, 2.2) * 65535 + 0.5);

		lut[i] = (struct drm_color_lut){ .red = v, .green = v, .blue = v };
	}
}

/* S31.32 sign-magnitude, the CTM's number format. */
static uint64_t ctm_fixed(double v)
{
	uint64_t mag = (uint64_t)((v < 0 ? -v : v) * 4294967296.0 + 0.5);

	return v < 0 ? mag | 1ull << 63 : mag;
}

static uint32_t create_blob(int fd, const void *data, size_t size)
{
	uint32_t id = 0;

	vt_assert_eq(drmModeCreatePropertyBlob(fd, data, size, &id), 0);
	return id;
}

/* The blobs of @col on @fd. */
static struct kms_crtc_color color_blobs(int fd, const struct ref_color *col)
{
	struct kms_crtc_color blobs = { 0 };
	struct drm_color_ctm ctm;

	if (col->degamma)
		blobs.degamma_lut = create_blob(fd, col->degamma, LUT_SIZE * sizeof(*col->degamma));
	if (col->gamma)
		blobs.gamma_lut = create_blob(fd, col->gamma, LUT_SIZE * sizeof(*col->gamma));
	if (col->ctm) {
		for (int i = 0; i < 9; i++)
			ctm.matrix[i] = ctm_fixed(col->ctm[i]);
		blobs.ctm = create_blob(fd, &ctm, sizeof(ctm));
	}
	return blobs;
}

static void destroy_blobs(int fd, const struct kms_crtc_color *blobs)
{
	const uint32_t ids[] = { blobs->degamma_lut, blobs->ctm, blobs->gamma_lut };

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (ids[i])
			vt_assert_eq(drmModeDestroyPropertyBlob(fd, ids[i]), 0);
}

/*
 * A full-screen pattern in every 8-bit value on each channel, shown through
 * @blobs (which is @col), captured and compared with @col applied (±1).
 */
static void capture_compare_color(int fd, const struct kms_crtc_color *blobs,
				  const struct ref_color *col, const char *what)
{
	struct kms_plane_setup setup;
	struct ref_plane primary;
	struct kms_capture cap;
	struct fb fb;

	vt_require_f(kms_get_prop(fd, crtc_id(fd), DRM_MODE_OBJECT_CRTC, "GAMMA_LUT_SIZE"),
		     "the CRTC has no gamma LUT\n");
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0xc010, false);
	primary = plane_at(KMS_PLANE_PRIMARY, &fb, 0, 0);
	setup = setup_of(&primary);
	kms_capture_planes_color(fd, &setup, 1, blobs, W, H, &cap);
	compare_capture_color(&cap, &primary, 1, col, 1, what);
	kms_capture_release(fd, &cap);
	fb_release(fd, &fb);
}

struct color_case {
	const char *name;
	bool degamma, gamma;
	const double *ctm;
};

/* Swaps red and blue, mixes green into both, takes some blue off green. */
static const double ctm_mix[9] = {
	0.25, 0.5, 0.75,
	0.0, 1.0, -0.5,
	1.0, 0.5, 0.0,
};

/* kms_color's ctm-0-50: exact halves, which must round (127.5 -> 128). */
static const double ctm_half[9] = { 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5 };

/* kms_color's ctm-max and ctm-negative at once: saturation both ways. */
static const double ctm_saturate[9] = { 100.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0 };

static const struct color_case color_cases[] = {
	{ "gamma", false, true, NULL },
	{ "degamma", true, false, NULL },
	{ "degamma-gamma", true, true, NULL },
	{ "ctm", false, false, ctm_mix },
	{ "ctm-half", false, false, ctm_half },
	{ "ctm-saturate", false, false, ctm_saturate },
	{ "degamma-ctm-gamma", true, true, ctm_mix },
};

static void color_run(void *arg)
{
	const struct color_case *c = arg;
	struct drm_color_lut degamma[LUT_SIZE], gamma[LUT_SIZE];
	struct ref_color col = { .ctm = c->ctm };
	struct kms_crtc_color blobs;
	int fd = open_card();

	make_degamma(degamma);
	make_gamma(gamma);
	if (c->degamma)
		col.degamma = degamma;
	if (c->gamma)
		col.gamma = gamma;
	blobs = color_blobs(fd, &col);
	capture_compare_color(fd, &blobs, &col, c->name);
	destroy_blobs(fd, &blobs);
	close(fd);
}

static void test_color_pipeline(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(color_cases); i++)
		vtest_dynamic(color_cases[i].name, color_run, (void *)&color_cases[i]);
}

/* A commit (with @flags) of CRTC property @name = @value: 0 or -errno. */
static int commit_crtc_prop(int fd, uint32_t crtc, const char *name, uint64_t value,
			    uint32_t flags)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t prop = kms_prop_id(fd, crtc, DRM_MODE_OBJECT_CRTC, name);
	int ret;

	vt_assert(req);
	vt_assert(drmModeAtomicAddProperty(req, crtc, prop, value) >= 0);
	ret = drmModeAtomicCommit(fd, req, flags, NULL);
	drmModeAtomicFree(req);
	return ret ? -errno : 0;
}

/* A TEST_ONLY commit of CRTC property @name = @value: 0 or -errno. */
static int try_crtc_prop(int fd, uint32_t crtc, const char *name, uint64_t value)
{
	return commit_crtc_prop(fd, crtc, name, value,
				DRM_MODE_ATOMIC_TEST_ONLY | DRM_MODE_ATOMIC_ALLOW_MODESET);
}

static void test_legacy_gamma(void)
{
	uint16_t r[LUT_SIZE], g[LUT_SIZE], b[LUT_SIZE];
	struct drm_color_lut want[LUT_SIZE], degamma[LUT_SIZE];
	struct kms_crtc_color blobs = { 0 }, others;
	struct ref_color col = { .gamma = want };
	drmModePropertyBlobPtr blob;
	uint64_t before;
	int fd = open_card();
	uint32_t crtc = crtc_id(fd);
	drmModeCrtc *kc = drmModeGetCrtc(fd, crtc);

	vt_assert(kc);
	vt_require_f(kc->gamma_size, "the CRTC has no legacy gamma\n");
	vt_assert_eq(kc->gamma_size, LUT_SIZE);
	drmModeFreeCrtc(kc);
	make_gamma(want);
	for (int i = 0; i < LUT_SIZE; i++) {
		r[i] = want[i].red;
		g[i] = want[i].green;
		b[i] = want[i].blue;
	}
	/* A DEGAMMA_LUT and a CTM, for SETGAMMA to clear. */
	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	make_degamma(degamma);
	others = color_blobs(fd, &(struct ref_color){ .degamma = degamma, .ctm = ctm_mix });
	vt_assert_eq(commit_crtc_prop(fd, crtc, "DEGAMMA_LUT", others.degamma_lut, 0), 0);
	vt_assert_eq(commit_crtc_prop(fd, crtc, "CTM", others.ctm, 0), 0);
	destroy_blobs(fd, &others);

	/* A size other than the CRTC's fails and changes nothing. */
	before = kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "GAMMA_LUT");
	vt_assert_eq(drmModeCrtcSetGamma(fd, crtc, LUT_SIZE - 1, r, g, b), -EINVAL);
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "GAMMA_LUT"), before);
	vt_assert_neq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "CTM"), 0);
	vt_assert_eq(drmModeCrtcSetGamma(fd, crtc, LUT_SIZE, r, g, b), 0);

	/* The core turned it into a GAMMA_LUT, entry for entry, and nothing else. */
	blobs.gamma_lut = kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "GAMMA_LUT");
	vt_assert_f(blobs.gamma_lut, "SETGAMMA left no GAMMA_LUT\n");
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "DEGAMMA_LUT"), 0);
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "CTM"), 0);
	blob = drmModeGetPropertyBlob(fd, blobs.gamma_lut);
	vt_assert(blob);
	vt_assert_eq(blob->length, sizeof(want));
	for (int i = 0; i < LUT_SIZE; i++) {
		const struct drm_color_lut *e = (const struct drm_color_lut *)blob->data + i;

		vt_assert_f(e->red == r[i] && e->green == g[i] && e->blue == b[i],
			    "GAMMA_LUT entry %d is %04x %04x %04x, SETGAMMA gave %04x %04x %04x\n",
			    i, e->red, e->green, e->blue, r[i], g[i], b[i]);
	}
	drmModeFreePropertyBlob(blob);

	/* And the frame goes through it. */
	capture_compare_color(fd, &blobs, &col, "legacy gamma");
	close(fd);
}

/* A LUT of @entries for @name: -EINVAL unless it has 256. */
static void check_lut_size(int fd, uint32_t crtc, const char *name, int entries, int want)
{
	struct drm_color_lut lut[LUT_SIZE + 1] = { 0 };
	uint32_t id = create_blob(fd, lut, entries * sizeof(lut[0]));
	int ret = try_crtc_prop(fd, crtc, name, id);

	vt_assert_f(ret == want, "%s of %d entries: %s, expected %s\n", name, entries,
		    strerror(-ret), strerror(-want));
	vt_assert_eq(drmModeDestroyPropertyBlob(fd, id), 0);
}

static void test_color_invalid(void)
{
	int fd = open_card();
	uint32_t crtc = crtc_id(fd), id;
	struct drm_color_lut lut[LUT_SIZE] = { 0 };
	struct drm_color_ctm ctm = { 0 };
	uint64_t gamma, ctm_id;

	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	gamma = kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "GAMMA_LUT");
	ctm_id = kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "CTM");
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "GAMMA_LUT_SIZE"), LUT_SIZE);
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "DEGAMMA_LUT_SIZE"),
		     LUT_SIZE);
	check_lut_size(fd, crtc, "GAMMA_LUT", LUT_SIZE, 0);
	check_lut_size(fd, crtc, "GAMMA_LUT", LUT_SIZE - 1, -EINVAL);
	check_lut_size(fd, crtc, "GAMMA_LUT", LUT_SIZE + 1, -EINVAL);
	check_lut_size(fd, crtc, "GAMMA_LUT", 1, -EINVAL);
	check_lut_size(fd, crtc, "DEGAMMA_LUT", LUT_SIZE, 0);
	check_lut_size(fd, crtc, "DEGAMMA_LUT", LUT_SIZE - 1, -EINVAL);
	check_lut_size(fd, crtc, "DEGAMMA_LUT", LUT_SIZE + 1, -EINVAL);

	/* Not whole entries, a CTM of the wrong size, a blob that is not there. */
	id = create_blob(fd, lut, sizeof(lut) - 1);
	vt_assert_eq(try_crtc_prop(fd, crtc, "GAMMA_LUT", id), -EINVAL);
	vt_assert_eq(drmModeDestroyPropertyBlob(fd, id), 0);
	id = create_blob(fd, &ctm, sizeof(ctm) - 8);
	vt_assert_eq(try_crtc_prop(fd, crtc, "CTM", id), -EINVAL);
	vt_assert_eq(drmModeDestroyPropertyBlob(fd, id), 0);
	id = create_blob(fd, &ctm, sizeof(ctm));
	vt_assert_eq(try_crtc_prop(fd, crtc, "CTM", id), 0);
	vt_assert_eq(drmModeDestroyPropertyBlob(fd, id), 0);
	vt_assert_eq(try_crtc_prop(fd, crtc, "CTM", id), -EINVAL);

	/* TEST_ONLY changed nothing. */
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "GAMMA_LUT"), gamma);
	vt_assert_eq(kms_get_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, "CTM"), ctm_id);
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("color-pipeline", "The CRTC's DEGAMMA_LUT, CTM and GAMMA_LUT, alone and "
	      "together: the frame is the composition put through them in the uapi's "
	      "order (±1), halves round, the CTM saturates at 0 and 1.",
	      test_color_pipeline),
	VTEST("legacy-gamma", "SETGAMMA with the CRTC's size (256) becomes a GAMMA_LUT "
	      "of the same entries, clears DEGAMMA_LUT and CTM, and the frame goes "
	      "through it; another size fails with -EINVAL.", test_legacy_gamma),
	VTEST("color-invalid", "LUTs of other than 256 entries, a blob of partial entries, "
	      "a CTM of the wrong size or a blob that is gone fail with -EINVAL; "
	      "GAMMA_LUT_SIZE and DEGAMMA_LUT_SIZE are 256.", test_color_invalid),
};

VTEST_MAIN("vprime's display: the CRTC's colour pipeline (degamma, CTM, "
	   "gamma, legacy gamma), checked through writeback.", tests)
