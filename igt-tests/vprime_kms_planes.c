// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display, its planes: what the CRTC composes from the primary,
 * overlay and cursor planes (blend modes, plane alpha, zpos, every format,
 * YCbCr encodings and ranges, rotation and reflection), read back through
 * its writeback connector and compared with the reference composition of
 * lib/vprime_ref.c, and the planes each CRTC has.
 *
 * The display tests' conventions (vprime.0's card node as DRM master, the
 * CRTC the library lights, every subtest turning its CRTCs off) are in
 * lib/vprime_output.h.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
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

/* Fill a 32-bit @fb with one value. */
static void fb_fill_solid(struct fb *fb, uint32_t value)
{
	for (uint32_t y = 0; y < fb->h; y++)
		for (uint32_t x = 0; x < fb->w; x++)
			((uint32_t *)((uint8_t *)fb->map + (size_t)y * fb->pitch))[x] = value;
}

/* planes-blend */

struct blend_case {
	const char *name;
	enum blend overlay_blend;
	int32_t cursor_x, cursor_y;
};

/*
 * The overlay (320x240, plane alpha 0x8000) hangs off the right and bottom
 * edges; the cursor (64x64) straddles its top-left corner, so some pixels
 * see two blends, or hangs off the top-left corner of the CRTC.
 */
static const struct blend_case blend_cases[] = {
	{ "pre-multiplied", BLEND_PREMULTIPLIED, W - 232, H - 150 },
	{ "coverage", BLEND_COVERAGE, W - 232, H - 150 },
	{ "none", BLEND_NONE, W - 232, H - 150 },
	{ "cursor-top-left", BLEND_PREMULTIPLIED, -20, -30 },
};

static void blend_run(void *arg)
{
	const struct blend_case *c = arg;
	struct fb primary, overlay, cursor;
	struct ref_plane planes[3];
	int fd = open_card();

	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary);
	fb_fill_solid(&primary, 0x00204080);
	fb_create(fd, DRM_FORMAT_ARGB8888, 320, 240, &overlay);
	fb_fill(&overlay, 0x0e1a, true);
	fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor);
	fb_fill(&cursor, 0xc065, true);

	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary, 0, 0);
	planes[1] = plane_at(KMS_PLANE_OVERLAY, &overlay, W - 200, H - 120);
	planes[1].alpha = 0x8000;
	planes[1].blend = c->overlay_blend;
	planes[2] = plane_at(KMS_PLANE_CURSOR, &cursor, c->cursor_x, c->cursor_y);
	capture_compare(fd, planes, 3, 1, c->name);

	fb_release(fd, &cursor);
	fb_release(fd, &overlay);
	fb_release(fd, &primary);
	close(fd);
}

static void test_planes_blend(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(blend_cases); i++)
		vtest_dynamic(blend_cases[i].name, blend_run, (void *)&blend_cases[i]);
}

/* planes-per-crtc, planes-four */

/* vprime's num_overlays parameter; fails when the module has none. */
static unsigned int num_overlays_param(void)
{
	FILE *f = fopen("/sys/module/vprime/parameters/num_overlays", "r");
	unsigned int n = 0;
	int ok;

	vt_assert_f(f, "vprime has no num_overlays parameter: %m\n");
	ok = fscanf(f, "%u", &n) == 1;
	fclose(f);
	vt_assert_f(ok, "num_overlays is not a number\n");
	return n;
}

/* Plane @plane's "zpos": its value, range and whether it is immutable. */
struct zpos_prop {
	uint64_t value, min, max;
	bool immutable;
};

static struct zpos_prop plane_zpos(int fd, uint32_t plane)
{
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, plane,
								    DRM_MODE_OBJECT_PLANE);
	struct zpos_prop z = { 0 };
	bool found = false;

	vt_assert_f(props, "properties of plane %u: %m\n", plane);
	for (uint32_t i = 0; i < props->count_props && !found; i++) {
		drmModePropertyRes *p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, "zpos")) {
			found = true;
			vt_assert_f(p->count_values == 2 &&
				    (p->flags & (DRM_MODE_PROP_RANGE | DRM_MODE_PROP_SIGNED_RANGE)),
				    "plane %u: zpos is not a range\n", plane);
			z.value = props->prop_values[i];
			z.min = p->values[0];
			z.max = p->values[1];
			z.immutable = p->flags & DRM_MODE_PROP_IMMUTABLE;
		}
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	vt_assert_f(found, "plane %u has no zpos\n", plane);
	return z;
}

/* A TEST_ONLY atomic commit that sets plane property @name alone: 0 or -errno. */
static int try_plane_prop(int fd, uint32_t plane, const char *name, uint64_t value)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret;

	vt_assert(req);
	vt_assert(drmModeAtomicAddProperty(req, plane,
					   kms_prop_id(fd, plane, DRM_MODE_OBJECT_PLANE, name),
					   value) > 0);
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_TEST_ONLY, NULL) ? -errno : 0;
	drmModeAtomicFree(req);
	return ret;
}

/*
 * Every CRTC of vprime.0 has one primary, num_overlays overlays (at least
 * two by default: four planes) and one cursor. The primary's and the
 * overlays' zpos is settable over 0..num_overlays, starting at 0 for the
 * primary and 1..num_overlays for the overlays, each once; the cursor's is
 * num_overlays + 1, immutable. Every overlay blends like the first one.
 */
static void test_planes_per_crtc(void)
{
	int fd = open_card();
	unsigned int n = num_overlays_param();
	drmModeRes *res;

	vt_assert_eq(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1), 0);
	vt_assert_f(n >= 2, "num_overlays is %u: fewer than four planes per CRTC\n", n);
	res = drmModeGetResources(fd);
	vt_assert(res && res->count_crtcs >= 1);
	for (int c = 0; c < res->count_crtcs; c++) {
		uint32_t primary = kms_plane_id(fd, c, KMS_PLANE_PRIMARY);
		uint32_t cursor = kms_plane_id(fd, c, KMS_PLANE_CURSOR);
		uint64_t seen = 0;
		struct zpos_prop z;
		unsigned int k;

		vt_assert_f(primary && cursor, "CRTC %d: no primary or no cursor\n", c);
		vt_assert_eq(kms_plane_id_nth(fd, c, KMS_PLANE_PRIMARY, 1), 0);
		vt_assert_eq(kms_plane_id_nth(fd, c, KMS_PLANE_CURSOR, 1), 0);
		z = plane_zpos(fd, primary);
		vt_assert_f(!z.immutable && z.value == 0 && z.min == 0 && z.max == n,
			    "CRTC %d primary: zpos %" PRIu64 " in %" PRIu64 "-%" PRIu64 "%s\n",
			    c, z.value, z.min, z.max, z.immutable ? " immutable" : "");
		for (k = 0; kms_plane_id_nth(fd, c, KMS_PLANE_OVERLAY, k); k++) {
			uint32_t ovl = kms_plane_id_nth(fd, c, KMS_PLANE_OVERLAY, k);
			drmModePlane *pl = drmModeGetPlane(fd, ovl);

			z = plane_zpos(fd, ovl);
			vt_assert_f(!z.immutable && z.min == 0 && z.max == n && z.value >= 1 &&
				    z.value <= n && !(seen & (1ull << z.value)),
				    "CRTC %d overlay %u: zpos %" PRIu64 " in %" PRIu64 "-%" PRIu64
				    "%s\n", c, k, z.value, z.min, z.max,
				    z.immutable ? " immutable" : "");
			seen |= 1ull << z.value;
			vt_assert(pl);
			vt_assert_eq(pl->possible_crtcs, 1u << c);
			drmModeFreePlane(pl);
			kms_prop_id(fd, ovl, DRM_MODE_OBJECT_PLANE, "alpha");
			kms_prop_id(fd, ovl, DRM_MODE_OBJECT_PLANE, "pixel blend mode");
			kms_prop_id(fd, ovl, DRM_MODE_OBJECT_PLANE, "rotation");
			/* The core checks the range: past it is -EINVAL. */
			vt_assert_eq(try_plane_prop(fd, ovl, "zpos", n), 0);
			vt_assert_eq(try_plane_prop(fd, ovl, "zpos", n + 1), -EINVAL);
		}
		vt_assert_f(k == n, "CRTC %d has %u overlays, num_overlays is %u\n", c, k, n);
		z = plane_zpos(fd, cursor);
		vt_assert_f(z.immutable && z.value == n + 1 && z.min == n + 1 && z.max == n + 1,
			    "CRTC %d cursor: zpos %" PRIu64 " in %" PRIu64 "-%" PRIu64 "%s\n",
			    c, z.value, z.min, z.max, z.immutable ? "" : " not immutable");
	}
	drmModeFreeResources(res);
	close(fd);
}

/*
 * Four planes at once: the primary, two overlays that overlap (one with
 * plane alpha, pre-multiplied, one with per-pixel alpha, coverage) and the
 * cursor over both, captured through writeback and compared with the
 * reference (±2: up to three blends a pixel); then the overlays' zpos
 * swapped, so the second shows under the first, and back again.
 */
static void test_planes_four(void)
{
	struct fb primary, ovl_a, ovl_b, cursor;
	struct ref_plane p[4], swapped[4];
	int fd = open_card();

	vt_assert_f(kms_plane_id_nth(fd, kms_capture_crtc_index(fd, W, H), KMS_PLANE_OVERLAY,
				     1), "the CRTC has fewer than two overlays\n");
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary);
	fb_fill(&primary, 0x4b1, false);
	fb_create(fd, DRM_FORMAT_ARGB8888, 400, 300, &ovl_a);
	fb_fill(&ovl_a, 0xa0a, true);
	fb_create(fd, DRM_FORMAT_ARGB8888, 360, 240, &ovl_b);
	fb_fill(&ovl_b, 0xb0b, true);
	fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor);
	fb_fill(&cursor, 0xc0c, true);

	p[0] = plane_at(KMS_PLANE_PRIMARY, &primary, 0, 0);
	p[1] = plane_at(KMS_PLANE_OVERLAY, &ovl_a, 100, 80);
	p[1].alpha = 0xc000;
	p[1].set_zpos = true;
	p[1].zpos = 1;
	p[2] = plane_at(KMS_PLANE_OVERLAY, &ovl_b, 380, 260);
	p[2].blend = BLEND_COVERAGE;
	p[2].set_zpos = true;
	p[2].zpos = 2;
	p[3] = plane_at(KMS_PLANE_CURSOR, &cursor, 440, 320);
	capture_compare(fd, p, 4, 2, "four planes");

	/* The reference blends bottom first: b (zpos 1) now comes before a (2). */
	swapped[0] = p[0];
	swapped[1] = p[2];
	swapped[1].zpos = 1;
	swapped[2] = p[1];
	swapped[2].zpos = 2;
	swapped[3] = p[3];
	/* The library puts the n-th setup of a type on the n-th plane: keep a first. */
	{
		struct kms_plane_setup setups[4] = {
			setup_of(&p[0]), setup_of(&swapped[2]), setup_of(&swapped[1]),
			setup_of(&p[3]),
		};
		struct kms_capture cap;

		kms_capture_planes(fd, setups, 4, W, H, &cap);
		compare_capture_color(&cap, swapped, 4, NULL, 2, "the overlays' zpos swapped");
		kms_capture_release(fd, &cap);
	}
	capture_compare(fd, p, 4, 2, "the zpos back");

	fb_release(fd, &cursor);
	fb_release(fd, &ovl_b);
	fb_release(fd, &ovl_a);
	fb_release(fd, &primary);
	close(fd);
}

/* formats */

struct format_case {
	const char *name;
	uint32_t format;
	int tol;
	bool optional;		/* may be missing from the plane's list: skip */
};

static const struct format_case format_cases[] = {
	{ "xrgb8888", DRM_FORMAT_XRGB8888, 1, false },
	{ "argb8888", DRM_FORMAT_ARGB8888, 1, false },
	{ "xbgr8888", DRM_FORMAT_XBGR8888, 1, false },
	{ "abgr8888", DRM_FORMAT_ABGR8888, 1, false },
	{ "rgb565", DRM_FORMAT_RGB565, 1, false },
	/* BT.601 limited range (the defaults), nearest chroma. */
	{ "nv12", DRM_FORMAT_NV12, 1, true },
};

static void format_run(void *arg)
{
	const struct format_case *c = arg;
	struct ref_plane primary;
	int fd = open_card();
	uint32_t plane;
	bool listed;
	struct fb fb;

	/* Atomic implies universal planes: the primary plane is listed. */
	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	plane = kms_plane_id(fd, kms_capture_crtc_index(fd, W, H), KMS_PLANE_PRIMARY);
	vt_assert_f(plane, "no primary plane\n");
	listed = kms_plane_has_format(fd, plane, c->format);
	if (c->optional)
		vt_require_f(listed, "the primary plane does not list %s (not offered yet)\n",
			     c->name);
	vt_assert_f(listed, "the primary plane does not list %s\n", c->name);

	fb_create(fd, c->format, W, H, &fb);
	fb_fill(&fb, 0xf0 ^ c->format, false);
	primary = plane_at(KMS_PLANE_PRIMARY, &fb, 0, 0);
	capture_compare(fd, &primary, 1, c->tol, c->name);
	fb_release(fd, &fb);
	close(fd);
}

static void test_formats(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++)
		vtest_dynamic(format_cases[i].name, format_run, (void *)&format_cases[i]);
}

/* yuv-encodings */

/* NV12 on the primary plane in each COLOR_ENCODING and COLOR_RANGE. */
static void yuv_encoding_run(void *arg)
{
	unsigned int combo = (uintptr_t)arg;
	enum ycbcr_encoding e = combo / 2;
	enum ycbcr_range range = combo % 2;
	struct ref_plane primary;
	int fd = open_card();
	uint32_t plane;
	struct fb fb;

	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	plane = kms_plane_id(fd, kms_capture_crtc_index(fd, W, H), KMS_PLANE_PRIMARY);
	vt_require_f(kms_plane_has_format(fd, plane, DRM_FORMAT_NV12),
		     "the primary plane does not list NV12\n");
	fb_create(fd, DRM_FORMAT_NV12, W, H, &fb);
	fill_nv12_range(&fb, 0xe0c + combo, range == YCBCR_FULL);
	primary = plane_at(KMS_PLANE_PRIMARY, &fb, 0, 0);
	primary.encoding = e;
	primary.range = range;
	capture_compare(fd, &primary, 1, 1, encoding_names[e]);
	fb_release(fd, &fb);
	close(fd);
}

static void test_yuv_encodings(void)
{
	static const char *const names[] = {
		"bt601-limited", "bt601-full", "bt709-limited", "bt709-full",
		"bt2020-limited", "bt2020-full",
	};

	for (uintptr_t i = 0; i < ARRAY_SIZE(names); i++)
		vtest_dynamic(names[i], yuv_encoding_run, (void *)i);
}

/* rotation */

struct rotation_case {
	const char *name;
	uint32_t rotation;
	int32_t x, y;
	uint32_t format;
};

#define ROT(r)		DRM_MODE_ROTATE_##r
#define RX		DRM_MODE_REFLECT_X
#define RY		DRM_MODE_REFLECT_Y
#define XRGB		DRM_FORMAT_XRGB8888

/*
 * A 200x150 overlay (150x200 on screen when turned by a quarter); the
 * clipped ones hang off the left or the bottom edge.
 */
static const struct rotation_case rotation_cases[] = {
	{ "reflect-x", ROT(0) | RX, 300, 200, XRGB },
	{ "reflect-y", ROT(0) | RY, 300, 200, XRGB },
	{ "reflect-xy", ROT(0) | RX | RY, 300, 200, XRGB },
	{ "reflect-x-clipped", ROT(0) | RX, -80, 200, XRGB },
	{ "reflect-y-clipped", ROT(0) | RY, 300, H - 60, XRGB },
	{ "rotate-90", ROT(90), 300, 200, XRGB },
	{ "rotate-180", ROT(180), 300, 200, XRGB },
	{ "rotate-270", ROT(270), 300, 200, XRGB },
	{ "rotate-90-reflect-x", ROT(90) | RX, 300, 200, XRGB },
	{ "rotate-270-reflect-y", ROT(270) | RY, 300, 200, XRGB },
	{ "rotate-180-reflect-x", ROT(180) | RX, 300, 200, XRGB },
	{ "rotate-90-clipped", ROT(90), -80, 200, XRGB },
	{ "rotate-270-clipped", ROT(270), 300, H - 60, XRGB },
	{ "rotate-90-rgb565", ROT(90), 300, 200, DRM_FORMAT_RGB565 },
	{ "rotate-270-nv12", ROT(270), 300, 200, DRM_FORMAT_NV12 },
};

static void rotation_run(void *arg)
{
	const struct rotation_case *c = arg;
	struct ref_plane planes[2];
	struct fb primary, overlay;
	int fd = open_card();

	if (c->format == DRM_FORMAT_NV12) {
		uint32_t overlay_id = kms_plane_id(fd, kms_capture_crtc_index(fd, W, H),
						   KMS_PLANE_OVERLAY);

		vt_require_f(kms_plane_has_format(fd, overlay_id, DRM_FORMAT_NV12),
			     "the overlay does not list NV12\n");
	}
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary);
	fb_fill_solid(&primary, 0x00305070);
	/* A pattern that differs on every pixel: any rotation or reflection shows. */
	fb_create(fd, c->format, 200, 150, &overlay);
	fb_fill(&overlay, 0x707, false);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary, 0, 0);
	planes[1] = plane_at(KMS_PLANE_OVERLAY, &overlay, c->x, c->y);
	planes[1].rotation = c->rotation;
	capture_compare(fd, planes, 2, 1, c->name);
	fb_release(fd, &overlay);
	fb_release(fd, &primary);
	close(fd);
}

static void test_rotation(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rotation_cases); i++)
		vtest_dynamic(rotation_cases[i].name, rotation_run, (void *)&rotation_cases[i]);
}

static const struct vtest tests[] = {
	VTEST("planes-blend", "Primary, overlay with per-pixel and plane alpha in each blend "
	      "mode, and cursor, partly off screen: the composition matches the uapi's "
	      "blend equations within ±1 per blend.", test_planes_blend),
	VTEST("planes-per-crtc", "Each CRTC has a primary, num_overlays overlays (two or "
	      "more: four planes) and a cursor; zpos is settable over 0..num_overlays for "
	      "the primary (0) and the overlays (1..num_overlays, once each), past it "
	      "-EINVAL, and the cursor's is num_overlays + 1, immutable.",
	      test_planes_per_crtc),
	VTEST("planes-four", "Primary, two overlapping overlays (plane alpha, coverage) and "
	      "the cursor in one commit, then the overlays' zpos swapped and back: each "
	      "frame written back matches the reference composition (±2).",
	      test_planes_four),
	VTEST("formats", "The primary plane in each of its formats (NV12 when listed, "
	      "BT.601 limited range): the composition matches the conversion (±1).",
	      test_formats),
	VTEST("yuv-encodings", "NV12 in each COLOR_ENCODING (BT.601, BT.709, BT.2020) and "
	      "COLOR_RANGE (limited, full): the composition matches the standard's "
	      "conversion (±1).", test_yuv_encodings),
	VTEST("rotation", "The overlay turned by 0, 90, 180 and 270 degrees, reflected, "
	      "on and partly off screen, in XRGB8888, RGB565 and NV12: the composition "
	      "shows the fb turned counter-clockwise after the reflection.", test_rotation),
};

VTEST_MAIN("vprime's display: planes, blending, zpos, formats, YCbCr "
	   "conversions and rotation, checked through writeback.", tests)
