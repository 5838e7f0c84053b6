/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * What the display tests (vprime_kms_*) show and what they expect to see:
 * framebuffers on vprime objects with a CPU mapping, the patterns drawn in
 * them, and the reference composition a frame written back through
 * writeback is compared with, computed here from the uapi's definitions
 * (blend modes, rotation, YCbCr conversions, the CRTC's colour pipeline).
 */

#ifndef VPRIME_REF_H
#define VPRIME_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <drm_mode.h>

#include "vprime_kms.h"

/* The mode every subtest uses: vprime's preferred one. */
#define W		1024
#define H		768

/* The most planes a frame of the tests has: a CRTC's primary, two overlays, cursor. */
#define MAX_PLANES	4

/* Framebuffers */

/* A framebuffer and a CPU mapping of its bytes (which may be an exporter's). */
struct fb {
	uint32_t handle, fb_id, format, w, h, pitch;
	size_t size;
	void *map;
};

/* ADDFB2 of @fb's object, single-plane or NV12 (both planes in one object). */
void fb_add(int fd, struct fb *fb);

/* A framebuffer on a new VPRIME_GEM_CREATE object, mapped. */
void fb_create(int fd, uint32_t format, uint32_t w, uint32_t h, struct fb *fb);

/* Remove @fb, unmap and close its object. */
void fb_release(int fd, struct fb *fb);

/* Patterns */

/*
 * NV12 of @seed: limited range (luma 16..235, chroma 16..240), or with
 * @full every byte value.
 */
void fill_nv12_range(struct fb *fb, uint32_t seed, bool full);

/*
 * Fill @fb with a pattern of @seed that differs on every pixel. With
 * @premult, alpha formats hold valid pre-multiplied pixels; without, any
 * byte values (the alpha of a bottom plane over black does not show).
 * NV12 is filled in limited range.
 */
void fb_fill(struct fb *fb, uint32_t seed, bool premult);

/* The reference composition */

/* YCbCr encodings and ranges, in the order of their enum entries' names below. */
enum ycbcr_encoding { YCBCR_BT601, YCBCR_BT709, YCBCR_BT2020 };
enum ycbcr_range { YCBCR_LIMITED, YCBCR_FULL };

/* The "COLOR_ENCODING" and "COLOR_RANGE" enums' entries. */
extern const char *const encoding_names[];
extern const char *const range_names[];

/* The "pixel blend mode" enum's entries, in the order of its names. */
enum blend { BLEND_PREMULTIPLIED, BLEND_COVERAGE, BLEND_NONE };

/* A plane as the test shows it: the whole fb at (@x, @y), no scaling. */
struct ref_plane {
	enum kms_plane_type type;
	const struct fb *fb;
	int32_t x, y;
	uint16_t alpha;
	enum blend blend;
	uint32_t rotation;	/* DRM_MODE_ROTATE_*, maybe with DRM_MODE_REFLECT_X/Y */
	enum ycbcr_encoding encoding;	/* NV12's conversion */
	enum ycbcr_range range;
	bool set_zpos;		/* set "zpos" to @zpos; otherwise leave it */
	uint32_t zpos;
};

/* A plane with the properties' defaults: opaque, pre-multiplied, unrotated. */
struct ref_plane plane_at(enum kms_plane_type type, const struct fb *fb, int32_t x, int32_t y);

/* The CRTC's colour pipeline as a test sets it; a NULL stage is off. */
struct ref_color {
	const struct drm_color_lut *degamma;	/* 256 entries */
	const double *ctm;			/* 3x3, row-major: out = ctm x in */
	const struct drm_color_lut *gamma;	/* 256 entries */
};

/*
 * Every pixel of @cap (its low 24 bits) against the reference composition
 * of @planes through @col (NULL: no colour pipeline), within @tol per
 * 8-bit channel, one more for each blend past the first plane over
 * another. All mismatches are counted, the first is reported.
 */
void compare_capture_color(const struct kms_capture *cap, const struct ref_plane *planes,
			   int n, const struct ref_color *col, int tol, const char *what);

/* The library's setup of @p: its fb, place and the properties it sets. */
struct kms_plane_setup setup_of(const struct ref_plane *p);

/* Show @planes on vprime's CRTC, capture the frame through writeback, compare. */
void capture_compare(int fd, const struct ref_plane *planes, int n, int tol, const char *what);

#endif /* VPRIME_REF_H */
