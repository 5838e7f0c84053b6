// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_ref.h"
#include "vtest.h"

/* Framebuffers */

static uint32_t format_cpp(uint32_t format)
{
	switch (format) {
	case DRM_FORMAT_RGB565:
		return 2;
	case DRM_FORMAT_NV12:
		return 1;	/* the luma plane; CbCr follows it at the same pitch */
	default:
		return 4;
	}
}

static bool format_has_alpha(uint32_t format)
{
	return format == DRM_FORMAT_ARGB8888 || format == DRM_FORMAT_ABGR8888;
}

/* ADDFB2 of @fb's object, single-plane or NV12 (both planes in one object). */
void fb_add(int fd, struct fb *fb)
{
	uint32_t handles[4] = { fb->handle }, pitches[4] = { fb->pitch }, offsets[4] = { 0 };
	int ret;

	if (fb->format == DRM_FORMAT_NV12) {
		handles[1] = fb->handle;
		pitches[1] = fb->pitch;
		offsets[1] = fb->pitch * fb->h;
	}
	ret = drmModeAddFB2(fd, fb->w, fb->h, fb->format, handles, pitches, offsets,
			    &fb->fb_id, 0);
	vt_assert_f(ret == 0, "ADDFB2 of a %ux%u %.4s buffer: %s\n", fb->w, fb->h,
		    (const char *)&fb->format, strerror(-ret));
}

/* A framebuffer on a new VPRIME_GEM_CREATE object, mapped. */
void fb_create(int fd, uint32_t format, uint32_t w, uint32_t h, struct fb *fb)
{
	memset(fb, 0, sizeof(*fb));
	fb->format = format;
	fb->w = w;
	fb->h = h;
	fb->pitch = w * format_cpp(format);
	fb->size = (size_t)fb->pitch * h;
	if (format == DRM_FORMAT_NV12)
		fb->size += (size_t)fb->pitch * (h / 2);
	fb->handle = vprime_gem_create(fd, fb->size);
	fb->map = vprime_gem_mmap(fd, fb->handle, fb->size);
	fb_add(fd, fb);
}

void fb_release(int fd, struct fb *fb)
{
	vt_assert_eq(drmModeRmFB(fd, fb->fb_id), 0);
	munmap(fb->map, fb->size);
	gem_close(fd, fb->handle);
	memset(fb, 0, sizeof(*fb));
}

/* Patterns */

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t pixel_hash(uint32_t x, uint32_t y, uint32_t seed)
{
	return hash32(hash32(seed) ^ (y << 16 | x));
}

/*
 * Valid pre-multiplied ARGB (no colour channel above alpha) from @v. Every
 * sixteenth column is fully transparent and the next fully opaque: the
 * edge cases of blending.
 */
static uint32_t premultiplied(uint32_t v, uint32_t x)
{
	uint32_t a = x % 16 == 0 ? 0 : x % 16 == 1 ? 255 : v >> 24, out = a << 24;

	for (int shift = 0; shift < 24; shift += 8)
		out |= (((v >> shift) & 0xff) * a / 255) << shift;
	return out;
}

/*
 * NV12 of @seed: limited range (luma 16..235, chroma 16..240), or with
 * @full every byte value.
 */
void fill_nv12_range(struct fb *fb, uint32_t seed, bool full)
{
	uint8_t *y_plane = fb->map, *uv = y_plane + (size_t)fb->pitch * fb->h;
	uint32_t luma = full ? 256 : 220, chroma = full ? 256 : 225, base = full ? 0 : 16;

	for (uint32_t y = 0; y < fb->h; y++)
		for (uint32_t x = 0; x < fb->w; x++)
			y_plane[(size_t)y * fb->pitch + x] = base + pixel_hash(x, y, seed) % luma;
	for (uint32_t y = 0; y < fb->h / 2; y++) {
		for (uint32_t x = 0; x < fb->w / 2; x++) {
			uint32_t v = pixel_hash(x, y, ~seed);
			uint8_t *p = uv + (size_t)y * fb->pitch + 2 * x;

			p[0] = base + (v & 0xffff) % chroma;	/* Cb */
			p[1] = base + (v >> 16) % chroma;	/* Cr */
		}
	}
}

static void fill_nv12(struct fb *fb, uint32_t seed)
{
	fill_nv12_range(fb, seed, false);
}

/*
 * Fill @fb with a pattern of @seed that differs on every pixel. With
 * @premult, alpha formats hold valid pre-multiplied pixels; without, any
 * byte values (the alpha of a bottom plane over black does not show).
 */
void fb_fill(struct fb *fb, uint32_t seed, bool premult)
{
	if (fb->format == DRM_FORMAT_NV12) {
		fill_nv12(fb, seed);
		return;
	}
	for (uint32_t y = 0; y < fb->h; y++) {
		uint8_t *row = (uint8_t *)fb->map + (size_t)y * fb->pitch;

		for (uint32_t x = 0; x < fb->w; x++) {
			uint32_t v = pixel_hash(x, y, seed);

			if (fb->format == DRM_FORMAT_RGB565) {
				((uint16_t *)row)[x] = v;
				continue;
			}
			if (premult && format_has_alpha(fb->format))
				v = premultiplied(v, x);
			((uint32_t *)row)[x] = v;
		}
	}
}

/* The reference composition */

/* A pixel: colour channels 0..255, alpha 0..1. */
struct rgba {
	double r, g, b, a;
};

static double clamp255(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* 8 bits of a colour from 5 or 6 by bit replication. */
static double expand_bits(uint32_t v, int bits)
{
	return (v << (8 - bits)) | (v >> (2 * bits - 8));
}

const char *const encoding_names[] = {
	[YCBCR_BT601] = "ITU-R BT.601 YCbCr",
	[YCBCR_BT709] = "ITU-R BT.709 YCbCr",
	[YCBCR_BT2020] = "ITU-R BT.2020 YCbCr",
};

const char *const range_names[] = {
	[YCBCR_LIMITED] = "YCbCr limited range",
	[YCBCR_FULL] = "YCbCr full range",
};

/*
 * Y'CbCr to R'G'B' from the standards' Kr and Kb: R = Y + 2(1-Kr) Cr,
 * B = Y + 2(1-Kb) Cb, G = (Y - Kr R - Kb B) / Kg. Limited range puts black
 * at 16, white at 235 and the chroma excursion at 16..240.
 */
static struct rgba ycbcr_to_rgb(double y, double cb, double cr, enum ycbcr_encoding e,
				enum ycbcr_range range)
{
	static const double k[][2] = {
		[YCBCR_BT601] = { 0.299, 0.114 },
		[YCBCR_BT709] = { 0.2126, 0.0722 },
		[YCBCR_BT2020] = { 0.2627, 0.0593 },
	};
	double kr = k[e][0], kb = k[e][1], kg = 1 - kr - kb, r, g, b;

	if (range == YCBCR_LIMITED) {
		y = (y - 16) * 255 / 219;
		cb = (cb - 128) * 255 / 224;
		cr = (cr - 128) * 255 / 224;
	} else {
		cb -= 128;
		cr -= 128;
	}
	r = y + 2 * (1 - kr) * cr;
	b = y + 2 * (1 - kb) * cb;
	g = (y - kr * r - kb * b) / kg;
	return (struct rgba){ clamp255(r), clamp255(g), clamp255(b), 1 };
}

/*
 * The pixel (@x, @y) of @fb; NV12 takes its 2x2 block's chroma sample as is
 * and converts by @e and @range.
 */
static struct rgba fb_sample(const struct fb *fb, uint32_t x, uint32_t y,
			     enum ycbcr_encoding e, enum ycbcr_range range)
{
	const uint8_t *row = (const uint8_t *)fb->map + (size_t)y * fb->pitch;
	const uint8_t *uv;
	uint32_t v;

	switch (fb->format) {
	case DRM_FORMAT_NV12:
		uv = (const uint8_t *)fb->map + (size_t)fb->pitch * fb->h +
		     (size_t)(y / 2) * fb->pitch + (x / 2) * 2;
		return ycbcr_to_rgb(row[x], uv[0], uv[1], e, range);
	case DRM_FORMAT_RGB565:
		v = ((const uint16_t *)row)[x];
		return (struct rgba){ expand_bits(v >> 11, 5), expand_bits((v >> 5) & 0x3f, 6),
				      expand_bits(v & 0x1f, 5), 1 };
	default:
		break;
	}
	v = ((const uint32_t *)row)[x];
	if (fb->format == DRM_FORMAT_XBGR8888 || fb->format == DRM_FORMAT_ABGR8888)
		v = (v & 0xff00ff00) | (v >> 16 & 0xff) | (v & 0xff) << 16;
	return (struct rgba){
		(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff,
		format_has_alpha(fb->format) ? (v >> 24) / 255.0 : 1,
	};
}

/* The "pixel blend mode" enum's entries. */
static const char *const blend_names[] = {
	[BLEND_PREMULTIPLIED] = "Pre-multiplied",
	[BLEND_COVERAGE] = "Coverage",
	[BLEND_NONE] = "None",
};

/* A plane with the properties' defaults: opaque, pre-multiplied, unrotated. */
struct ref_plane plane_at(enum kms_plane_type type, const struct fb *fb, int32_t x, int32_t y)
{
	return (struct ref_plane){
		.type = type, .fb = fb, .x = x, .y = y, .alpha = 0xffff,
		.blend = BLEND_PREMULTIPLIED, .rotation = DRM_MODE_ROTATE_0,
	};
}

/* @s over @dst, by the uapi's definition of each blend mode. */
static struct rgba blend_over(struct rgba dst, struct rgba s, const struct ref_plane *p)
{
	double pa = p->alpha / 65535.0, sa = s.a * pa, fs, fd;

	switch (p->blend) {
	case BLEND_NONE:		/* pixel alpha ignored */
		fs = pa;
		fd = 1 - pa;
		break;
	case BLEND_COVERAGE:		/* colours not pre-multiplied */
		fs = sa;
		fd = 1 - sa;
		break;
	default:			/* colours pre-multiplied by their alpha */
		fs = pa;
		fd = 1 - sa;
		break;
	}
	return (struct rgba){
		clamp255(s.r * fs + dst.r * fd), clamp255(s.g * fs + dst.g * fd),
		clamp255(s.b * fs + dst.b * fd), 1,
	};
}

/* Whether @p is turned by a quarter: it covers fb h x fb w on screen. */
static bool quarter_turn(const struct ref_plane *p)
{
	return p->rotation & (DRM_MODE_ROTATE_90 | DRM_MODE_ROTATE_270);
}

/*
 * The fb pixel that @p shows at (@px, @py) of its on-screen rectangle. The
 * uapi rotates counter-clockwise, after reflecting: undo the rotation
 * (turning clockwise), then the reflection.
 */
static void unrotate(const struct ref_plane *p, int px, int py, int *fx, int *fy)
{
	int w = p->fb->w, h = p->fb->h;

	switch (p->rotation & 0xf) {
	case DRM_MODE_ROTATE_90:	/* the fb's top right corner is on top left */
		*fx = w - 1 - py;
		*fy = px;
		break;
	case DRM_MODE_ROTATE_180:
		*fx = w - 1 - px;
		*fy = h - 1 - py;
		break;
	case DRM_MODE_ROTATE_270:	/* the fb's bottom left corner is on top left */
		*fx = py;
		*fy = h - 1 - px;
		break;
	default:
		*fx = px;
		*fy = py;
		break;
	}
	if (p->rotation & DRM_MODE_REFLECT_X)
		*fx = w - 1 - *fx;
	if (p->rotation & DRM_MODE_REFLECT_Y)
		*fy = h - 1 - *fy;
}

/*
 * What the CRTC shows at (@x, @y): black, then each plane that covers it,
 * bottom (the first) to top. *@layers counts those planes.
 */
static struct rgba expect_pixel(const struct ref_plane *planes, int n, int x, int y,
				int *layers)
{
	struct rgba out = { 0, 0, 0, 1 };

	*layers = 0;
	for (int i = 0; i < n; i++) {
		const struct ref_plane *p = &planes[i];
		int px = x - p->x, py = y - p->y, fx, fy;
		int sw = quarter_turn(p) ? p->fb->h : p->fb->w;
		int sh = quarter_turn(p) ? p->fb->w : p->fb->h;

		if (px < 0 || py < 0 || px >= sw || py >= sh)
			continue;
		unrotate(p, px, py, &fx, &fy);
		out = blend_over(out, fb_sample(p->fb, fx, fy, p->encoding, p->range), p);
		(*layers)++;
	}
	return out;
}

static uint32_t pack_rgb(struct rgba c)
{
	return (uint32_t)(c.r + 0.5) << 16 | (uint32_t)(c.g + 0.5) << 8 | (uint32_t)(c.b + 0.5);
}

static bool within(uint32_t got, uint32_t want, int tol)
{
	for (int shift = 0; shift < 24; shift += 8) {
		int d = (int)((got >> shift) & 0xff) - (int)((want >> shift) & 0xff);

		if (d > tol || d < -tol)
			return false;
	}
	return true;
}

static double lut_entry(const struct drm_color_lut *e, int c)
{
	return (c == 0 ? e->red : c == 1 ? e->green : e->blue) / 65535.0;
}

/* @v (0..1) through the 256 entries of @lut, linear between them. */
static double lut_interpolate(const struct drm_color_lut *lut, int c, double v)
{
	double pos = v * 255, f;
	int i = (int)pos;

	if (i >= 255)
		return lut_entry(&lut[255], c);
	f = pos - i;
	return lut_entry(&lut[i], c) * (1 - f) + lut_entry(&lut[i + 1], c) * f;
}

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/*
 * An 8-bit RGB pixel through @col in the uapi's order: the degamma LUT
 * (entry v for value v), the CTM (clamped to 0..1), the gamma LUT.
 */
static uint32_t color_transform(const struct ref_color *col, uint32_t rgb)
{
	double in[3], mid[3];
	uint32_t out = 0;

	for (int c = 0; c < 3; c++) {
		uint32_t v = (rgb >> (16 - 8 * c)) & 0xff;

		in[c] = col->degamma ? lut_entry(&col->degamma[v], c) : v / 255.0;
	}
	for (int c = 0; c < 3; c++) {
		mid[c] = in[c];
		if (col->ctm)
			mid[c] = col->ctm[3 * c] * in[0] + col->ctm[3 * c + 1] * in[1] +
				 col->ctm[3 * c + 2] * in[2];
		mid[c] = clamp01(mid[c]);
		if (col->gamma)
			mid[c] = lut_interpolate(col->gamma, c, mid[c]);
		out |= (uint32_t)(mid[c] * 255 + 0.5) << (16 - 8 * c);
	}
	return out;
}

/*
 * Every pixel of @cap (its low 24 bits) against the reference composition
 * of @planes through @col (NULL: no colour pipeline), within @tol per
 * 8-bit channel, one more for each blend past the first plane over
 * another. All mismatches are counted, the first is reported.
 */
void compare_capture_color(const struct kms_capture *cap, const struct ref_plane *planes,
			   int n, const struct ref_color *col, int tol, const char *what)
{
	uint32_t bad = 0, first_x = 0, first_y = 0, first_got = 0, first_want = 0;
	int first_tol = 0, first_layers = 0;

	for (uint32_t y = 0; y < cap->height; y++) {
		const uint32_t *row = (const uint32_t *)((const char *)cap->map +
							 (size_t)y * cap->pitch);

		for (uint32_t x = 0; x < cap->width; x++) {
			int layers, t;
			uint32_t want = pack_rgb(expect_pixel(planes, n, x, y, &layers));
			uint32_t got = row[x] & 0xffffff;

			if (col)
				want = color_transform(col, want);
			t = tol + (layers > 2 ? layers - 2 : 0);
			if (within(got, want, t))
				continue;
			if (!bad++) {
				first_x = x, first_y = y, first_got = got, first_want = want;
				first_tol = t, first_layers = layers;
			}
		}
	}
	vt_assert_f(!bad, "%s: %u of %u pixels differ; the first, (%u,%u), is 0x%06x, "
		    "expected 0x%06x ±%d (%d planes there)\n", what, bad,
		    cap->width * cap->height, first_x, first_y, first_got, first_want,
		    first_tol, first_layers);
}

struct kms_plane_setup setup_of(const struct ref_plane *p)
{
	struct kms_plane_setup s = {
		.type = p->type, .fb_id = p->fb->fb_id, .x = p->x, .y = p->y,
		.w = p->fb->w, .h = p->fb->h,
	};
	int k = 0;

	if (p->alpha != 0xffff)
		s.props[k++] = (struct kms_prop){ .name = "alpha", .value = p->alpha };
	if (p->blend != BLEND_PREMULTIPLIED)
		s.props[k++] = (struct kms_prop){ .name = "pixel blend mode",
						  .enum_name = blend_names[p->blend] };
	if (p->rotation != DRM_MODE_ROTATE_0)
		s.props[k++] = (struct kms_prop){ .name = "rotation", .value = p->rotation };
	if (p->encoding != YCBCR_BT601)
		s.props[k++] = (struct kms_prop){ .name = "COLOR_ENCODING",
						  .enum_name = encoding_names[p->encoding] };
	if (p->range != YCBCR_LIMITED)
		s.props[k++] = (struct kms_prop){ .name = "COLOR_RANGE",
						  .enum_name = range_names[p->range] };
	if (p->set_zpos)
		s.props[k++] = (struct kms_prop){ .name = "zpos", .value = p->zpos };
	return s;
}

/* Show @planes on vprime's CRTC, capture the frame through writeback, compare. */
void capture_compare(int fd, const struct ref_plane *planes, int n, int tol, const char *what)
{
	struct kms_plane_setup setups[MAX_PLANES];
	struct kms_capture cap;

	vt_assert(n <= MAX_PLANES);
	for (int i = 0; i < n; i++)
		setups[i] = setup_of(&planes[i]);
	kms_capture_planes(fd, setups, n, W, H, &cap);
	compare_capture_color(&cap, planes, n, NULL, tol, what);
	kms_capture_release(fd, &cap);
}
