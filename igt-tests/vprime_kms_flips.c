// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display, through the generic KMS uapi only: what the CRTC
 * composes (read back through its writeback connector and compared with a
 * reference composition computed here), its CRCs, page-flip events, the
 * framebuffers ADDFB2 accepts and refuses, and the pin that scanout puts on
 * a buffer.
 *
 * Every subtest drives vprime.0's card node, which becomes DRM master as the
 * only opener; dynamic subtests open it in their own process for that
 * reason. vprime.0 may have several outputs (the suite loads num_crtcs=2):
 * a subtest uses the CRTC the library lights or captures on, and asks for
 * that CRTC's planes and properties; two-crtcs* drive two at once. Every
 * subtest turns its CRTCs off before it ends; the helpers also turn off
 * planes an earlier failed subtest left on.
 */

#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/fb.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_test.h"
#include "vtest.h"

/* The mode every subtest uses: vprime's preferred one. */
#define W		1024
#define H		768

#define MAX_PLANES	4
/*
 * How long an event or a CRC may take before a subtest gives up. They bound
 * waits and assert no timing: the vblank timer and the composer run in an
 * emulated guest on a loaded host (a CRC once took over 1 s there).
 */
#define EVENT_TIMEOUT_MS	10000
#define CRC_TIMEOUT_MS		10000
#define NUM_CRCS		5
#define NUM_FLIPS		30

/* Framebuffers */

/* A framebuffer and a CPU mapping of its bytes (which may be an exporter's). */
struct fb {
	uint32_t handle, fb_id, format, w, h, pitch;
	size_t size;
	void *map;
};

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
static void fb_add(int fd, struct fb *fb)
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
static void fb_create(int fd, uint32_t format, uint32_t w, uint32_t h, struct fb *fb)
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

static void fb_release(int fd, struct fb *fb)
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
static void fill_nv12_range(struct fb *fb, uint32_t seed, bool full)
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
static void fb_fill(struct fb *fb, uint32_t seed, bool premult)
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

/* Fill a 32-bit @fb with one value. */
static void fb_fill_solid(struct fb *fb, uint32_t value)
{
	for (uint32_t y = 0; y < fb->h; y++)
		for (uint32_t x = 0; x < fb->w; x++)
			((uint32_t *)((uint8_t *)fb->map + (size_t)y * fb->pitch))[x] = value;
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

/* YCbCr encodings and ranges, in the order of their enum entries' names below. */
enum ycbcr_encoding { YCBCR_BT601, YCBCR_BT709, YCBCR_BT2020 };
enum ycbcr_range { YCBCR_LIMITED, YCBCR_FULL };

static const char *const encoding_names[] = {
	[YCBCR_BT601] = "ITU-R BT.601 YCbCr",
	[YCBCR_BT709] = "ITU-R BT.709 YCbCr",
	[YCBCR_BT2020] = "ITU-R BT.2020 YCbCr",
};

static const char *const range_names[] = {
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

enum blend { BLEND_PREMULTIPLIED, BLEND_COVERAGE, BLEND_NONE };

/* The "pixel blend mode" enum's entries. */
static const char *const blend_names[] = {
	[BLEND_PREMULTIPLIED] = "Pre-multiplied",
	[BLEND_COVERAGE] = "Coverage",
	[BLEND_NONE] = "None",
};

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
static struct ref_plane plane_at(enum kms_plane_type type, const struct fb *fb,
				 int32_t x, int32_t y)
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

/* The CRTC's colour pipeline as a test sets it; a NULL stage is off. */
struct ref_color {
	const struct drm_color_lut *degamma;	/* 256 entries */
	const double *ctm;			/* 3x3, row-major: out = ctm x in */
	const struct drm_color_lut *gamma;	/* 256 entries */
};

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
static void compare_capture_color(const struct kms_capture *cap, const struct ref_plane *planes,
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

static struct kms_plane_setup setup_of(const struct ref_plane *p)
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
static void capture_compare(int fd, const struct ref_plane *planes, int n, int tol,
			    const char *what)
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

/* A full-screen XRGB8888 primary of @fb, captured and compared (±1). */
static void capture_compare_primary(int fd, const struct fb *fb, const char *what)
{
	struct ref_plane primary = plane_at(KMS_PLANE_PRIMARY, fb, 0, 0);

	capture_compare(fd, &primary, 1, 1, what);
}

static int open_card(void)
{
	return vprime_open(0, VPRIME_NODE_CARD);
}

/* writeback-local */

static void local_gem(void *arg)
{
	int fd = open_card();
	struct fb fb;

	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x10ca1, false);
	capture_compare_primary(fd, &fb, "vprime's GEM object");
	fb_release(fd, &fb);
	close(fd);
}

static void local_dumb(void *arg)
{
	struct fb fb = { .format = DRM_FORMAT_XRGB8888, .w = W, .h = H };
	int fd = open_card();
	uint64_t size;

	fb.handle = dumb_create_mapped(fd, W, H, &fb.pitch, &size, &fb.map);
	fb.size = size;
	fb_add(fd, &fb);
	fb_fill(&fb, 0xd0b, false);
	capture_compare_primary(fd, &fb, "vprime's dumb buffer");
	fb_release(fd, &fb);
	close(fd);
}

static void test_writeback_local(void)
{
	vtest_dynamic("gem", local_gem, NULL);
	vtest_dynamic("dumb", local_dumb, NULL);
}

/* writeback-imported */

/*
 * Another exporter's buffer, W x H XRGB8888 at @pitch and filled through
 * @map, its mapping: imported into vprime.0, shown, captured, compared with
 * the exporter's bytes.
 */
static void show_imported(int dmabuf, void *map, uint32_t pitch, const char *exporter)
{
	struct fb fb = {
		.format = DRM_FORMAT_XRGB8888, .w = W, .h = H, .pitch = pitch, .map = map,
	};
	int fd = open_card();
	char what[64];

	fb.handle = prime_import(fd, dmabuf);
	fb_add(fd, &fb);
	snprintf(what, sizeof(what), "%s's buffer on vprime's display", exporter);
	capture_compare_primary(fd, &fb, what);
	vt_assert_eq(drmModeRmFB(fd, fb.fb_id), 0);
	gem_close(fd, fb.handle);
	close(fd);
}

/* @map as a W x H XRGB8888 fb to fill with a pattern. */
static void fill_foreign(void *map, uint32_t pitch, uint32_t seed)
{
	struct fb fb = {
		.format = DRM_FORMAT_XRGB8888, .w = W, .h = H, .pitch = pitch, .map = map,
	};

	fb_fill(&fb, seed, false);
}

static void dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
}

static bool is_lenient(const struct vprime_limits *l)
{
	return l->dma_bits >= 64 && !l->contiguous && !l->max_segment && !l->seg_boundary;
}

static void imported_vprime(void *arg)
{
	const size_t size = (size_t)W * 4 * H;
	int n = vprime_num_devices(), idx = -1, fd, dmabuf;
	uint32_t h;
	void *p;

	for (int i = 1; i < n && idx < 0; i++) {
		struct vprime_limits l = vprime_limits(i);

		if (is_lenient(&l))
			idx = i;
	}
	vt_require_f(idx > 0, "needs a second vprime instance without DMA limits\n");
	fd = vprime_open(idx, VPRIME_NODE_RENDER);
	h = vprime_gem_create(fd, size);
	p = vprime_gem_mmap(fd, h, size);
	fill_foreign(p, W * 4, 0x1d0 + idx);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	show_imported(dmabuf, p, W * 4, "another vprime instance");
	close(dmabuf);
	munmap(p, size);
	gem_close(fd, h);
	close(fd);
}

/* A dumb buffer of vgem or vkms. */
static void imported_dumb(void *arg)
{
	const char *driver = arg;
	int fd = vprime_open_other(driver), dmabuf;
	uint32_t pitch, h;
	uint64_t size;
	void *p;

	h = dumb_create_mapped(fd, W, H, &pitch, &size, &p);
	fill_foreign(p, pitch, 0xd0b0 + driver[1]);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	show_imported(dmabuf, p, pitch, driver);
	close(dmabuf);
	munmap(p, size);
	gem_close(fd, h);
	close(fd);
}

static void imported_udmabuf(void *arg)
{
	const size_t size = (size_t)W * 4 * H;
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int dev = open("/dev/udmabuf", O_RDWR), memfd, dmabuf;
	void *p;

	vt_require_f(dev >= 0, "no /dev/udmabuf (%m): this kernel is built without "
		     "CONFIG_UDMABUF\n");
	memfd = memfd_create("vprime-display", MFD_ALLOW_SEALING);
	vt_assert(memfd >= 0);
	vt_assert_ok(ftruncate(memfd, size));
	vt_assert_ok(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	vt_assert(p != MAP_FAILED);
	fill_foreign(p, W * 4, 0x0db);
	create.memfd = memfd;
	dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
	vt_assert_f(dmabuf >= 0, "UDMABUF_CREATE: %m\n");
	show_imported(dmabuf, p, W * 4, "udmabuf");
	close(dmabuf);
	munmap(p, size);
	close(memfd);
	close(dev);
}

static void imported_dma_heap(void *arg)
{
	const size_t size = (size_t)W * 4 * H;
	struct dma_heap_allocation_data alloc = {
		.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	void *p;

	vt_require_f(heap >= 0, "no /dev/dma_heap/system (%m): this kernel is built "
		     "without CONFIG_DMABUF_HEAPS_SYSTEM\n");
	vt_assert_ok(ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, alloc.fd, 0);
	vt_assert_f(p != MAP_FAILED, "mmap of the heap buffer: %m\n");
	dmabuf_sync(alloc.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	fill_foreign(p, W * 4, 0x4ea9);
	dmabuf_sync(alloc.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	show_imported(alloc.fd, p, W * 4, "the system heap");
	munmap(p, size);
	close(alloc.fd);
	close(heap);
}

static void test_writeback_imported(void)
{
	vtest_dynamic("vprime", imported_vprime, NULL);
	vtest_dynamic("vgem", imported_dumb, "vgem");
	vtest_dynamic("vkms", imported_dumb, "vkms");
	vtest_dynamic("udmabuf", imported_udmabuf, NULL);
	vtest_dynamic("dma-heap", imported_dma_heap, NULL);
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

/* mode-invalid */

/* vprime's 1024x768@60 (DMT): the mode the others are made from. */
static drmModeModeInfo dmt_1024x768(void)
{
	drmModeModeInfo m = {
		.clock = 65000, .hdisplay = 1024, .hsync_start = 1048, .hsync_end = 1184,
		.htotal = 1344, .vdisplay = 768, .vsync_start = 771, .vsync_end = 777,
		.vtotal = 806, .vrefresh = 60,
		.flags = DRM_MODE_FLAG_NHSYNC | DRM_MODE_FLAG_NVSYNC,
		.type = DRM_MODE_TYPE_USERDEF, .name = "1024x768",
	};

	return m;
}

static void test_mode_invalid(void)
{
	int fd = open_card();
	drmModeModeInfo m = dmt_1024x768();

	/* The mode itself, and at 240 Hz, pass. */
	vt_assert_eq(kms_try_mode(fd, &m), 0);
	m.clock = 65000 * 4;
	vt_assert_eq(kms_try_mode(fd, &m), 0);

	/* Past 600 MHz, past 240 Hz, below 1 Hz: -EINVAL. */
	m = dmt_1024x768();
	m.clock = 600001;
	m.htotal = 8192;	/* 91 Hz: only the clock is wrong */
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	m = dmt_1024x768();
	m.clock = INT32_MAX;
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	m = dmt_1024x768();
	m.clock = 65000 * 5;	/* 300 Hz */
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	m = dmt_1024x768();
	m.clock = 500;		/* 0.46 Hz */
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);

	/* htotal * vtotal * vscan = 2^32: the refresh rate overflows. */
	m = dmt_1024x768();
	m.htotal = 32768;
	m.vtotal = 32768;
	m.vscan = 4;
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	close(fd);
}

/* Showing frames on the real connector */

static struct kms_plane_setup primary_setup(const struct fb *fb)
{
	struct ref_plane p = plane_at(KMS_PLANE_PRIMARY, fb, 0, 0);

	return setup_of(&p);
}

static void output_on(int fd, const struct fb *fb, struct kms_output *out)
{
	struct kms_plane_setup s = primary_setup(fb);

	kms_output_on(fd, &s, 1, W, H, out);
}

/* Whether a DRM event is waiting on @fd within @ms. */
static bool event_pending(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret = poll(&pfd, 1, ms);

	vt_assert_f(ret >= 0, "poll: %m\n");
	return ret == 1;
}

/* crc */

struct crc {
	bool has_frame;
	uint32_t frame, value;
};

/*
 * The debugfs CRC directory of vprime.0's CRTC @crtc_index (dri/<card
 * minor>/crtc-N/crc). Skips without debugfs; the core creates crc/ only for
 * a driver that implements CRCs, so its absence is vprime's.
 */
static void crc_dir(int crtc_index, char *dir, size_t len)
{
	char node[64], dri[128];

	vt_assert(vprime_node_path("vprime.0", VPRIME_NODE_CARD, node, sizeof(node)));
	snprintf(dri, sizeof(dri), "/sys/kernel/debug/dri/%s", node + strlen("/dev/dri/card"));
	vt_require_f(access(dri, F_OK) == 0, "no %s (debugfs): %m\n", dri);
	snprintf(dir, len, "%s/crtc-%d/crc", dri, crtc_index);
}

/* Select the source "auto" and open crc/data, which starts the CRCs. */
static int crc_start(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/control", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	vt_assert_f(fd >= 0, "cannot open %s: %m (does the CRTC implement CRCs?)\n", path);
	vt_assert_f(write(fd, "auto", 4) == 4, "writing \"auto\" to %s: %m\n", path);
	close(fd);
	snprintf(path, sizeof(path), "%s/data", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	vt_assert_f(fd >= 0, "opening %s: %m (no CRC source \"auto\"?)\n", path);
	return fd;
}

/* One line of crc/data: "0x%08x 0x%08x" (frame, crc); the frame may be X's. */
static struct crc crc_read(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char line[256], frame[16];
	struct crc c = {};
	ssize_t n;

	vt_assert_f(poll(&pfd, 1, CRC_TIMEOUT_MS) == 1, "no CRC within %d ms\n",
		    CRC_TIMEOUT_MS);
	n = read(fd, line, sizeof(line) - 1);
	vt_assert_f(n > 0, "reading a CRC: %m\n");
	line[n] = '\0';
	vt_assert_f(sscanf(line, "%15s %" SCNx32, frame, &c.value) == 2,
		    "a CRC line reads \"%s\"\n", line);
	c.has_frame = strcmp(frame, "XXXXXXXXXX") != 0;
	if (c.has_frame)
		vt_assert_f(sscanf(frame, "%" SCNx32, &c.frame) == 1,
			    "a CRC line reads \"%s\"\n", line);
	return c;
}

/*
 * NUM_CRCS CRCs of the frame on screen, taken from a fresh start of the CRC
 * source (so none predates the frame): all equal, frames increasing.
 */
static uint32_t crc_of_frame(const char *dir, const char *what)
{
	int fd = crc_start(dir);
	struct crc first = crc_read(fd), c = first;

	for (int i = 1; i < NUM_CRCS; i++) {
		struct crc prev = c;

		c = crc_read(fd);
		vt_assert_f(c.value == first.value, "%s: CRC %d is 0x%08x, the first 0x%08x\n",
			    what, i, c.value, first.value);
		if (c.has_frame && prev.has_frame)
			vt_assert_f((int32_t)(c.frame - prev.frame) > 0,
				    "%s: CRC frame %u follows frame %u\n", what, c.frame,
				    prev.frame);
	}
	close(fd);
	return first.value;
}

/*
 * Tell the display @fb changed: DIRTYFB, or where the driver has no dirty
 * hook (ENOSYS), a commit of the same fb.
 */
static void fb_flush(int fd, const struct kms_output *out, const struct fb *fb)
{
	drmModeClip clip = { 0, 0, W, H };
	struct kms_plane_setup s = primary_setup(fb);
	int ret = drmModeDirtyFB(fd, fb->fb_id, &clip, 1);

	if (ret == -ENOSYS)
		kms_output_planes(fd, out, &s, 1);
	else
		vt_assert_f(ret == 0, "DIRTYFB: %s\n", strerror(-ret));
}

static void test_crc(void)
{
	uint32_t before, changed, again, *pixel;
	struct kms_output out;
	char dir[PATH_MAX];
	int fd = open_card();
	struct fb fb;

	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0xc4c, false);
	output_on(fd, &fb, &out);
	crc_dir(out.crtc_index, dir, sizeof(dir));
	before = crc_of_frame(dir, "the first frame");

	/* One pixel changes: so does the CRC. */
	pixel = (uint32_t *)((uint8_t *)fb.map + (size_t)(H / 2) * fb.pitch) + W / 2;
	*pixel ^= 0x00ffffff;
	fb_flush(fd, &out, &fb);
	changed = crc_of_frame(dir, "the frame with one pixel changed");
	vt_assert_f(changed != before, "one pixel changed and the CRC stayed 0x%08x\n", before);

	/* Changed back: the first frame's CRC again. */
	*pixel ^= 0x00ffffff;
	fb_flush(fd, &out, &fb);
	again = crc_of_frame(dir, "the first frame again");
	vt_assert_f(again == before, "the first frame shown again has CRC 0x%08x, "
		    "0x%08x before\n", again, before);
	vtest_info("CRCs: 0x%08x, one pixel changed 0x%08x\n", before, changed);

	kms_output_off(fd, &out);
	fb_release(fd, &fb);
	close(fd);
}

/* flip-events */

struct flip {
	int events;
	unsigned int seq;
	double ts;
};

static int flip_events_total;

static void flip_handler(int fd, unsigned int seq, unsigned int sec, unsigned int usec,
			 void *data)
{
	struct flip *f = data;

	vt_assert_f(f, "a page-flip event without its flip's user data\n");
	f->events++;
	f->seq = seq;
	f->ts = sec + usec / 1e6;
	flip_events_total++;
}

/* Read the events of @fd until @total have arrived; fails after a timeout. */
static void wait_events(int fd, int total)
{
	drmEventContext ev = { .version = 2, .page_flip_handler = flip_handler };

	while (flip_events_total < total) {
		vt_assert_f(event_pending(fd, EVENT_TIMEOUT_MS),
			    "page-flip event %d did not arrive within %d ms\n", total,
			    EVENT_TIMEOUT_MS);
		vt_assert_eq(drmHandleEvent(fd, &ev), 0);
	}
	vt_assert_eq(flip_events_total, total);
}

static drmVBlankSeqType vblank_crtc(int crtc_index)
{
	if (crtc_index == 0)
		return 0;
	if (crtc_index == 1)
		return DRM_VBLANK_SECONDARY;
	return (crtc_index << DRM_VBLANK_HIGH_CRTC_SHIFT) & DRM_VBLANK_HIGH_CRTC_MASK;
}

/* drmWaitVBlank for @count vblanks from now (0: the current count). */
static drmVBlank wait_vblank(int fd, int crtc_index, unsigned int count)
{
	drmVBlank vbl = {
		.request = {
			.type = DRM_VBLANK_RELATIVE | vblank_crtc(crtc_index),
			.sequence = count,
		},
	};

	vt_assert_f(drmWaitVBlank(fd, &vbl) == 0, "drmWaitVBlank: %m\n");
	return vbl;
}

static double vblank_ts(const drmVBlank *vbl)
{
	return vbl->reply.tval_sec + vbl->reply.tval_usec / 1e6;
}

/* Each flip's event: exactly one, sequence and time past the previous one's. */
static void check_flip(const struct flip *f, int i, unsigned int prev_seq, double prev_ts)
{
	vt_assert_f(f->events == 1, "flip %d got %d events\n", i, f->events);
	vt_assert_f((int)(f->seq - prev_seq) > 0, "flip %d's event has sequence %u, "
		    "the one before %u\n", i, f->seq, prev_seq);
	vt_assert_f(f->ts > prev_ts, "flip %d's event has time %.6f, the one before "
		    "%.6f\n", i, f->ts, prev_ts);
}

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * enable-event: the event of the commit that turns the CRTC on comes at its
 * first vblank, stamped with that vblank's time, after the commit was made
 * (Weston found it stamped with the time the CRTC last went off, or 0).
 */
static void test_enable_event(void)
{
	struct kms_output out;
	struct flip f = {};
	double before, after;
	struct fb fb;
	int fd = open_card();
	struct kms_plane_setup s;

	flip_events_total = 0;
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0xe7e7, false);
	s = primary_setup(&fb);
	for (int round = 0; round < 2; round++) {
		before = monotonic_now();
		kms_output_on_event(fd, &s, 1, W, H, &f, &out);
		wait_events(fd, round + 1);
		after = monotonic_now();
		vtest_info("turned on at %.6f, event at %.6f (sequence %u), read at %.6f\n",
			   before, f.ts, f.seq, after);
		vt_assert_f(f.ts >= before && f.ts <= after, "the enabling commit's event is "
			    "stamped %.6f, outside [%.6f, %.6f]\n", f.ts, before, after);
		kms_output_off(fd, &out);
		usleep(100 * 1000);	/* then on again, from a CRTC that was on */
	}
	fb_release(fd, &fb);
	close(fd);
}

static void test_flip_events(void)
{
	struct flip flips[NUM_FLIPS] = {};
	unsigned int prev_seq, single = 0;
	struct kms_output out;
	double prev_ts, span;
	struct fb fbs[2];
	drmVBlank vbl;
	int fd = open_card();

	flip_events_total = 0;
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i]);
		fb_fill(&fbs[i], 0xf11b + i, false);
	}
	output_on(fd, &fbs[0], &out);

	/* drmWaitVBlank works, and counts up. */
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	vbl = wait_vblank(fd, out.crtc_index, 1);
	vt_assert_f((int)(vbl.reply.sequence - prev_seq) >= 1, "waiting one vblank from %u "
		    "returned %u\n", prev_seq, vbl.reply.sequence);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);

	for (int i = 0; i < NUM_FLIPS; i++) {
		int ret = drmModePageFlip(fd, out.crtc, fbs[(i + 1) % 2].fb_id,
					  DRM_MODE_PAGE_FLIP_EVENT, &flips[i]);

		vt_assert_f(ret == 0, "page flip %d: %s\n", i, strerror(-ret));
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		single += flips[i].seq - prev_seq == 1;
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");

	/* The vblank counter goes on past the last flip. */
	vbl = wait_vblank(fd, out.crtc_index, 1);
	vt_assert_f((int)(vbl.reply.sequence - prev_seq) > 0, "drmWaitVBlank returned "
		    "sequence %u after flip event %u\n", vbl.reply.sequence, prev_seq);
	vt_assert_f(vblank_ts(&vbl) > prev_ts, "drmWaitVBlank returned time %.6f after "
		    "flip event time %.6f\n", vblank_ts(&vbl), prev_ts);

	span = flips[NUM_FLIPS - 1].ts - flips[0].ts;
	vtest_info("%d flips over %u vblanks in %.3f s: %.1f flips/s, %.1f vblanks/s "
		   "(mode %u Hz); %u flips took one vblank\n", NUM_FLIPS,
		   flips[NUM_FLIPS - 1].seq - flips[0].seq, span, (NUM_FLIPS - 1) / span,
		   (flips[NUM_FLIPS - 1].seq - flips[0].seq) / span, out.mode.vrefresh, single);

	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

/* async-flip-refused */

static void test_async_flip_refused(void)
{
	struct kms_plane_setup s;
	struct kms_output out;
	struct fb fbs[2];
	uint32_t plane;
	int fd = open_card(), ret;

	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i]);
		fb_fill(&fbs[i], 0xa5 + i, false);
	}
	output_on(fd, &fbs[0], &out);

	ret = drmModePageFlip(fd, out.crtc, fbs[1].fb_id,
			      DRM_MODE_PAGE_FLIP_ASYNC | DRM_MODE_PAGE_FLIP_EVENT, NULL);
	vt_assert_f(ret == -EINVAL, "an async legacy page flip returned %d (%s)\n", ret,
		    strerror(-ret));

	/* The atomic API refuses it too. */
	s = primary_setup(&fbs[1]);
	ret = kms_output_try_planes(fd, &out, &s, 1, DRM_MODE_PAGE_FLIP_ASYNC |
				    DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT);
	vt_assert_f(ret == -EINVAL, "an async atomic flip returned %d (%s)\n", ret,
		    strerror(-ret));

	/* Neither did anything: no event, the first fb is still on screen. */
	vt_assert_f(!event_pending(fd, 100), "a refused flip sent an event\n");
	plane = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	vt_assert_eq(kms_get_prop(fd, plane, DRM_MODE_OBJECT_PLANE, "FB_ID"), fbs[0].fb_id);

	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

/* two-crtcs, two-crtcs-stress */

#define TWO		2
#define STRESS_FLIPS	500
#define STRESS_HZ	240	/* the fastest refresh vprime takes */
#define WRITEBACK_TIMEOUT_MS	10000

/* The events of one commit that drives TWO CRTCs, by CRTC. */
struct crtc_events {
	uint32_t crtc[TWO];
	int events[TWO];
	unsigned int seq[TWO];
	double ts[TWO];
};

static void crtc_event_handler(int fd, unsigned int seq, unsigned int sec, unsigned int usec,
			       unsigned int crtc_id, void *data)
{
	struct crtc_events *e = data;
	int i = 0;

	vt_assert_f(e, "a page-flip event without its commit's user data\n");
	while (i < TWO && e->crtc[i] != crtc_id)
		i++;
	vt_assert_f(i < TWO, "an event for CRTC %u, which the commit does not drive\n", crtc_id);
	e->events[i]++;
	e->seq[i] = seq;
	e->ts[i] = sec + usec / 1e6;
}

/*
 * Read events until each CRTC of @e has had one; fails after a timeout, or
 * when a CRTC gets two or an event is left over.
 */
static void wait_crtc_events(int fd, struct crtc_events *e, const char *what)
{
	drmEventContext ev = { .version = 3, .page_flip_handler2 = crtc_event_handler };

	for (int i = 0; i < TWO; i++) {
		while (!e->events[i]) {
			vt_assert_f(event_pending(fd, EVENT_TIMEOUT_MS), "%s: no event for CRTC "
				    "%u within %d ms\n", what, e->crtc[i], EVENT_TIMEOUT_MS);
			vt_assert_eq(drmHandleEvent(fd, &ev), 0);
		}
	}
	vt_assert_f(!event_pending(fd, 0), "%s: an event more than one per CRTC\n", what);
	for (int i = 0; i < TWO; i++)
		vt_assert_f(e->events[i] == 1, "%s: CRTC %u got %d events\n", what, e->crtc[i],
			    e->events[i]);
}

/* The linux kernel's crc32_le() (no inversions), which vprime's CRCs use. */
static uint32_t crc32_le(uint32_t crc, const uint8_t *p, size_t len)
{
	static uint32_t table[256];

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0xedb88320u & -(c & 1));
			table[i] = c;
		}
	}
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
	return crc;
}

/*
 * The CRC vprime gives a full-screen XRGB8888 @fb: crc32 of the rows as
 * ARGB8888, which over black is the fb made opaque.
 */
static uint32_t expected_crc(const struct fb *fb)
{
	uint32_t *row = malloc(fb->w * 4), crc = 0;

	vt_assert(row);
	for (uint32_t y = 0; y < fb->h; y++) {
		const uint32_t *src = (const uint32_t *)((const uint8_t *)fb->map +
							 (size_t)y * fb->pitch);

		for (uint32_t x = 0; x < fb->w; x++)
			row[x] = htole32(src[x] | 0xff000000u);
		crc = crc32_le(crc, (const uint8_t *)row, fb->w * 4);
	}
	free(row);
	return crc;
}

/* A dumb buffer to write a frame back into, and its fb. */
static uint32_t capture_buffer(int fd, struct kms_capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->width = W;
	cap->height = H;
	cap->handle = dumb_create_mapped(fd, W, H, &cap->pitch, &cap->size, &cap->map);
	memset(cap->map, 0x5a, cap->size);	/* not what any test draws */
	return kms_add_fb_xrgb8888(fd, cap->handle, W, H, cap->pitch);
}

/* Commit @req with @flags and a page-flip event for each of its CRTCs; wait for them. */
static void commit_both(int fd, drmModeAtomicReq *req, uint32_t flags,
			const struct kms_output *outs, struct crtc_events *e, const char *what)
{
	int ret;

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < TWO; i++)
		e->crtc[i] = outs[i].crtc;
	ret = drmModeAtomicCommit(fd, req, flags | DRM_MODE_PAGE_FLIP_EVENT, e);
	vt_assert_f(ret == 0, "%s: atomic commit: %s\n", what, strerror(-ret));
	wait_crtc_events(fd, e, what);
}

/*
 * Each CRTC's frame, written back in the same commit, is its own fb, and its
 * CRCs are that fb's.
 */
static void check_frames(int fd, const struct kms_output *outs, struct kms_capture *caps,
			 const int32_t *fences, struct fb *const *shown)
{
	struct pollfd pfd = { .events = POLLIN };
	char dir[PATH_MAX], what[64];

	for (int i = 0; i < TWO; i++) {
		struct ref_plane p = plane_at(KMS_PLANE_PRIMARY, shown[i], 0, 0);
		uint32_t crc, want = expected_crc(shown[i]);

		snprintf(what, sizeof(what), "CRTC index %d", outs[i].crtc_index);
		vt_assert_f(fences[i] >= 0, "%s: the writeback job returned no out-fence\n", what);
		pfd.fd = fences[i];
		vt_assert_f(poll(&pfd, 1, WRITEBACK_TIMEOUT_MS) == 1, "%s: the writeback fence "
			    "did not signal within %d ms\n", what, WRITEBACK_TIMEOUT_MS);
		close(fences[i]);
		compare_capture_color(&caps[i], &p, 1, NULL, 0, what);
		crc_dir(outs[i].crtc_index, dir, sizeof(dir));
		crc = crc_of_frame(dir, what);
		vt_assert_f(crc == want, "%s: CRC 0x%08x, its frame's is 0x%08x\n", what, crc,
			    want);
	}
}

/*
 * Both CRTCs in every commit: one modeset lights both (with writeback
 * jobs on both), @flips commits flip both with an event each, a last flip
 * writes both back again, one commit turns both off. The frames written
 * back and the CRCs are each CRTC's own; every commit sends one event per
 * CRTC, with sequences that increase per CRTC. @mode_hz 0: the connector's
 * mode; else the 1024x768 timings at that refresh rate. @one_cpu keeps the
 * test, and so the blocking commits and the vblank timers they start, on
 * the CPU it runs on.
 */
static void two_crtcs(int flips, int mode_hz, bool one_cpu)
{
	struct kms_output outs[TWO];
	struct kms_capture caps[TWO];
	struct fb fbs[TWO][2], *shown[TWO];
	unsigned int prev_seq[TWO];
	uint32_t cap_fb[TWO], blobs[TWO];
	int32_t fences[TWO] = { -1, -1 };
	struct crtc_events e;
	drmModeAtomicReq *req;
	int fd = open_card(), n;

	if (one_cpu) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sched_getcpu(), &set);
		vt_assert_f(sched_setaffinity(0, sizeof(set), &set) == 0, "affinity: %m\n");
	}
	n = kms_find_outputs(fd, W, H, outs, TWO);
	if (vprime_param_u64("num_crtcs", 0) >= TWO)
		vt_assert_f(n == TWO, "vprime.0 has %d outputs to light, not %d\n", n, TWO);
	vt_require_f(n == TWO, "vprime.0 has one output (num_crtcs=1)\n");
	for (int i = 0; i < TWO; i++) {
		vt_assert_f(outs[i].writeback, "CRTC %u has no writeback connector\n",
			    outs[i].crtc);
		if (mode_hz) {
			outs[i].mode = dmt_1024x768();
			outs[i].mode.clock = 65000 * mode_hz / 60;
			outs[i].mode.vrefresh = mode_hz;
		}
		for (int k = 0; k < 2; k++) {
			fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i][k]);
			fb_fill(&fbs[i][k], 0x2c0 + i * 2 + k, false);
		}
		cap_fb[i] = capture_buffer(fd, &caps[i]);
	}

	/* Both lit in one commit, each written back. */
	req = drmModeAtomicAlloc();
	vt_assert(req);
	for (int i = 0; i < TWO; i++) {
		struct kms_plane_setup s = primary_setup(&fbs[i][0]);

		kms_req_modeset(req, fd, &outs[i], true, &blobs[i]);
		kms_req_planes(req, fd, &outs[i], &s, 1);
		kms_req_writeback_job(req, fd, &outs[i], cap_fb[i], &fences[i]);
		shown[i] = &fbs[i][0];
	}
	commit_both(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, outs, &e, "the modeset of both");
	drmModeAtomicFree(req);
	for (int i = 0; i < TWO; i++) {
		drmModeDestroyPropertyBlob(fd, blobs[i]);
		prev_seq[i] = e.seq[i];
	}
	check_frames(fd, outs, caps, fences, shown);

	/* Flips of both in one commit, the last one written back. */
	for (int f = 1; f <= flips; f++) {
		bool last = f == flips;
		char what[64];

		snprintf(what, sizeof(what), "flip %d of both", f);
		req = drmModeAtomicAlloc();
		vt_assert(req);
		for (int i = 0; i < TWO; i++) {
			struct kms_plane_setup s = primary_setup(&fbs[i][f % 2]);

			kms_req_planes(req, fd, &outs[i], &s, 1);
			if (last)
				kms_req_writeback_job(req, fd, &outs[i], cap_fb[i], &fences[i]);
			shown[i] = &fbs[i][f % 2];
		}
		commit_both(fd, req, 0, outs, &e, what);
		drmModeAtomicFree(req);
		for (int i = 0; i < TWO; i++) {
			vt_assert_f((int)(e.seq[i] - prev_seq[i]) > 0, "%s: CRTC %u's event has "
				    "sequence %u, the one before %u\n", what, outs[i].crtc,
				    e.seq[i], prev_seq[i]);
			prev_seq[i] = e.seq[i];
		}
	}
	check_frames(fd, outs, caps, fences, shown);

	/* Both off in one commit: each CRTC's event still comes, and both are off. */
	req = drmModeAtomicAlloc();
	vt_assert(req);
	for (int i = 0; i < TWO; i++)
		kms_req_output_off(req, fd, &outs[i]);
	commit_both(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, outs, &e, "turning both off");
	drmModeAtomicFree(req);
	for (int i = 0; i < TWO; i++) {
		vt_assert_eq(kms_get_prop(fd, outs[i].crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 0);
		vt_assert_ok(drmModeRmFB(fd, cap_fb[i]));
		kms_capture_release(fd, &caps[i]);
		fb_release(fd, &fbs[i][1]);
		fb_release(fd, &fbs[i][0]);
	}
	vtest_info("%d commits drove both CRTCs\n", flips + 2);
	close(fd);
}

static void test_two_crtcs(void)
{
	two_crtcs(NUM_FLIPS, 0, false);
}

static void test_two_crtcs_stress(void)
{
	two_crtcs(STRESS_FLIPS, STRESS_HZ, true);
}

/*
 * vblank-on-off: every vblank wait turns the CRTC's vblank on and, with the
 * core's vblankoffdelay at -1, off again, while a SCHED_FIFO process on the
 * same CPU, woken as the wait starts, preempts it after a delay that sweeps
 * the time turning vblank on takes, and holds the CPU for longer than a
 * frame. On PREEMPT_RT the core enables vblank under sleeping locks: the
 * waiter is preempted there, after the timer started and before the core
 * sampled the vblank time. The timestamps must still increase, or the count
 * jumps by billions and the wait (and any armed event) never ends: the core
 * gives up on a vblank wait after 3 s with -EBUSY.
 */
#define ON_OFF_WAITS	1000
#define ON_OFF_SECONDS	90
#define ON_OFF_HOLD	0.012	/* s: longer than a frame at 240 Hz, or at 85 */
#define ON_OFF_OFFDELAY	"/sys/module/drm/parameters/vblankoffdelay"

/* For each delay read from @rfd: sleep that long, then spin ON_OFF_HOLD s. */
static void fifo_preemptor(int rfd)
{
	struct sched_param sp = { .sched_priority = 10 };
	long ns;

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(1);
	while (read(rfd, &ns, sizeof(ns)) == sizeof(ns)) {
		struct timespec nap = { ns / 1000000000, ns % 1000000000 };
		double until;

		nanosleep(&nap, NULL);
		until = monotonic_now() + ON_OFF_HOLD;
		while (monotonic_now() < until)
			;
	}
	_exit(0);
}

static void test_vblank_on_off(void)
{
	char saved[32] = "";
	struct kms_output out;
	struct kms_plane_setup s;
	drmModeAtomicReq *req;
	unsigned int prev, waits = 0, seed = 1;
	double start, span = 0;
	struct fb fb;
	cpu_set_t set;
	uint32_t blob;
	FILE *f;
	pid_t pid;
	int fd = open_card(), status, pipefd[2];

	f = fopen(ON_OFF_OFFDELAY, "r");
	vt_require_f(f, "no %s: %m\n", ON_OFF_OFFDELAY);
	vt_assert(fgets(saved, sizeof(saved), f));
	fclose(f);
	f = fopen(ON_OFF_OFFDELAY, "w");
	vt_require_f(f, "%s is not writable: %m\n", ON_OFF_OFFDELAY);
	vt_assert(fputs("-1", f) >= 0 && fclose(f) == 0);

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	vt_assert_f(sched_setaffinity(0, sizeof(set), &set) == 0, "affinity: %m\n");
	vt_assert_eq(kms_find_outputs(fd, W, H, &out, 1), 1);
	out.mode = dmt_1024x768();
	out.mode.clock = 65000 * STRESS_HZ / 60;
	out.mode.vrefresh = STRESS_HZ;
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x0ff0, false);
	s = primary_setup(&fb);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	kms_req_modeset(req, fd, &out, false, &blob);
	kms_req_planes(req, fd, &out, &s, 1);
	vt_assert_ok(drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL));
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);

	/* How long turning vblank on and off takes: the span the delays sweep. */
	for (int i = 0; i < 10; i++) {
		double t0 = monotonic_now();

		prev = wait_vblank(fd, out.crtc_index, 0).reply.sequence;
		span += (monotonic_now() - t0) / 10;
	}
	vt_assert(pipe(pipefd) == 0);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[1]);
		fifo_preemptor(pipefd[0]);
	}
	close(pipefd[0]);
	start = monotonic_now();
	while (waits < ON_OFF_WAITS && monotonic_now() - start < ON_OFF_SECONDS) {
		drmVBlank vbl = {
			.request = {
				.type = DRM_VBLANK_RELATIVE | vblank_crtc(out.crtc_index),
				.sequence = 1,
			},
		};
		long ns = (long)(span * 1e9 * (rand_r(&seed) % 1000) / 1000);
		int ret;

		vt_assert(write(pipefd[1], &ns, sizeof(ns)) == sizeof(ns));
		ret = drmWaitVBlank(fd, &vbl);
		vt_assert_f(ret == 0, "vblank wait %u (after sequence %u): %m\n", waits, prev);
		vt_assert_f(vbl.reply.sequence - prev >= 1 && vbl.reply.sequence - prev < 1u << 23,
			    "vblank wait %u: sequence %u after %u\n", waits, vbl.reply.sequence,
			    prev);
		prev = vbl.reply.sequence;
		waits++;
	}
	close(pipefd[1]);
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "the SCHED_FIFO process failed (status 0x%x)\n", status);
	vtest_info("%u vblank waits, each turning vblank on and off; preempted up to "
		   "%.0f us into each\n", waits, span * 1e6);

	f = fopen(ON_OFF_OFFDELAY, "w");
	vt_assert(f && fputs(saved, f) >= 0 && fclose(f) == 0);
	kms_output_off(fd, &out);
	fb_release(fd, &fb);
	close(fd);
}

/* addfb-invalid */

struct addfb_case {
	const char *name;
	int err;
	void (*spoil)(struct drm_mode_fb_cmd2 *f, int fd);
};

/* A handle this file had and closed. */
static void spoil_handle(struct drm_mode_fb_cmd2 *f, int fd)
{
	uint32_t h = vprime_gem_create(fd, VT_PAGE);

	gem_close(fd, h);
	f->handles[0] = h;
}

static void spoil_pitch(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->pitches[0] = f->width * 4 - 4;
}

static void spoil_format(struct drm_mode_fb_cmd2 *f, int fd)
{
	vt_require_f(!kms_any_plane_has_format(fd, DRM_FORMAT_C8),
		     "a plane lists C8: no unsupported format to try\n");
	f->pixel_format = DRM_FORMAT_C8;
}

static void spoil_modifier(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->flags |= DRM_MODE_FB_MODIFIERS;
	f->modifier[0] = I915_FORMAT_MOD_X_TILED;
}

/* One row more than the object holds. */
static void spoil_height(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->height++;
}

/* The same size, starting a page into the object. */
static void spoil_offset(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->offsets[0] = VT_PAGE;
}

static const struct addfb_case addfb_cases[] = {
	{ "bad-handle", ENOENT, spoil_handle },
	{ "pitch-too-small", EINVAL, spoil_pitch },
	{ "unsupported-format", EINVAL, spoil_format },
	{ "non-linear-modifier", EINVAL, spoil_modifier },
	{ "larger-than-object", EINVAL, spoil_height },
	{ "offset-past-object", EINVAL, spoil_offset },
};

static void addfb_run(void *arg)
{
	const struct addfb_case *c = arg;
	const uint32_t pitch = W * 4;
	int fd = open_card();
	uint32_t bo = vprime_gem_create(fd, (uint64_t)pitch * H);	/* exactly W x H */
	struct drm_mode_fb_cmd2 good = {
		.width = W, .height = H, .pixel_format = DRM_FORMAT_XRGB8888,
		.handles = { bo }, .pitches = { pitch },
	}, bad = good;

	/* The request is valid before it is spoilt. */
	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_ADDFB2, &good));
	vt_assert_eq(drmModeRmFB(fd, good.fb_id), 0);

	c->spoil(&bad, fd);
	vt_assert_errno(ioctl(fd, DRM_IOCTL_MODE_ADDFB2, &bad), c->err);
	gem_close(fd, bo);
	close(fd);
}

static void test_addfb_invalid(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(addfb_cases); i++)
		vtest_dynamic(addfb_cases[i].name, addfb_run, (void *)&addfb_cases[i]);
}

/* scanout-pins */

/* An instance that storage of some placements does not suit. */
struct strict_kind {
	const char *name;
	bool (*match)(const struct vprime_limits *l);
	bool (*unreachable)(uint32_t placement);
};

static bool is_dma32(const struct vprime_limits *l)
{
	return l->dma_bits == 32 && !l->contiguous;
}

static bool is_contiguous(const struct vprime_limits *l)
{
	return vprime_is_contiguous(l);
}

/* Storage a 32-bit device cannot reach: anywhere in memory. */
static bool above_4g(uint32_t placement)
{
	return placement == VPRIME_PLACEMENT_SYSTEM || placement == VPRIME_PLACEMENT_CONTIG;
}

/* Storage a contiguous device cannot use: scattered pages. */
static bool scattered(uint32_t placement)
{
	return placement == VPRIME_PLACEMENT_SYSTEM || placement == VPRIME_PLACEMENT_DMA32;
}

static const struct strict_kind strict_kinds[] = {
	{ "dma32", is_dma32, above_4g },
	{ "contiguous", is_contiguous, scattered },
};

static int find_strict(const struct strict_kind *k)
{
	int n = vprime_num_devices();

	for (int i = 1; i < n; i++) {
		struct vprime_limits l = vprime_limits(i);

		if (k->match(&l))
			return i;
	}
	vtest_skip("needs a %s instance besides vprime.0 (see the parameters dma_bits and "
		   "contiguous)\n", k->name);
}

static void pins_run(void *arg)
{
	const struct strict_kind *k = arg;
	int strict = find_strict(k), fd = open_card(), sfd, dmabuf;
	struct drm_vprime_gem_info before, info;
	struct kms_output out;
	uint32_t h = 0;
	struct fb fb;

	sfd = vprime_open(strict, VPRIME_NODE_RENDER);
	/* Filled through the CPU: the storage exists, placed for vprime.0 alone. */
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x919, false);
	dmabuf = prime_export(fd, fb.handle, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_eq(vprime_gem_info(fd, fb.handle).pin_count, 0);

	output_on(fd, &fb, &out);
	before = vprime_gem_info(fd, fb.handle);
	vt_assert_f(before.pin_count > 0, "the buffer on screen has pin_count 0\n");
	vt_require_f(k->unreachable(before.placement), "vprime.0's storage (placement %u) "
		     "suits vprime.%d\n", before.placement, strict);

	/* Attaching would need the storage to move: refused while it is on screen. */
	vt_assert_errno(drmPrimeFDToHandle(sfd, dmabuf, &h), EBUSY);
	info = vprime_gem_info(fd, fb.handle);
	vt_assert_eq(info.placement, before.placement);
	vt_assert_eq(info.migrations, before.migrations);
	vt_assert_eq(info.num_attachments, before.num_attachments);
	vt_assert_eq(info.pin_count, before.pin_count);

	/* Off the screen, unpinned: the same import is accepted. */
	kms_output_off(fd, &out);
	vt_assert_eq(vprime_gem_info(fd, fb.handle).pin_count, 0);
	h = prime_import(sfd, dmabuf);
	vt_assert_eq(vprime_gem_info(fd, fb.handle).num_attachments, before.num_attachments + 1);

	gem_close(sfd, h);
	close(dmabuf);
	fb_release(fd, &fb);
	close(sfd);
	close(fd);
}

static void test_scanout_pins(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(strict_kinds); i++)
		vtest_dynamic(strict_kinds[i].name, pins_run, (void *)&strict_kinds[i]);
}

/*
 * scanout-migrates: a buffer of vprime.0, shown on a strict instance's own
 * display through an import, is first placed where that display can reach
 * it, contents and all, and pinned there while it is shown.
 */
static void migrates_run(void *arg)
{
	const struct strict_kind *k = arg;
	int strict = find_strict(k), fd = open_card(), sfd, dmabuf;
	struct drm_vprime_gem_info before, info;
	struct ref_plane primary;
	struct fb fb, shown;
	char what[64];

	sfd = vprime_open(strict, VPRIME_NODE_CARD);
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x5ca7, false);
	before = vprime_gem_info(fd, fb.handle);
	vt_require_f(k->unreachable(before.placement), "vprime.0's storage (placement %u) "
		     "suits vprime.%d already\n", before.placement, strict);

	dmabuf = prime_export(fd, fb.handle, DRM_CLOEXEC | DRM_RDWR);
	shown = fb;
	shown.handle = prime_import(sfd, dmabuf);
	shown.fb_id = kms_add_fb(sfd, shown.handle, W, H, DRM_FORMAT_XRGB8888, fb.pitch);
	info = vprime_gem_info(fd, fb.handle);
	vt_assert_eq(info.placement, before.placement);	/* importing moved nothing */
	vt_assert_eq(info.migrations, before.migrations);

	/* shown maps vprime.0's pixels: they are the expected frame. */
	primary = plane_at(KMS_PLANE_PRIMARY, &shown, 0, 0);
	snprintf(what, sizeof(what), "vprime.%d's display", strict);
	capture_compare(sfd, &primary, 1, 1, what);

	info = vprime_gem_info(fd, fb.handle);
	vt_assert_f(!k->unreachable(info.placement), "still placement %u after the scanout\n",
		    info.placement);
	vt_assert_eq(info.migrations, before.migrations + 1);
	vt_assert_eq(info.pin_count, 0);		/* the capture turned it off */

	vt_assert_ok(drmModeRmFB(sfd, shown.fb_id));
	gem_close(sfd, shown.handle);
	close(dmabuf);
	fb_release(fd, &fb);
	close(sfd);
	close(fd);
}

static void test_scanout_migrates(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(strict_kinds); i++)
		vtest_dynamic(strict_kinds[i].name, migrates_run, (void *)&strict_kinds[i]);
}

/* edid */

#define EDID_LEN	128

/* The EDID blob of connector @conn, in @edid; false when it has none. */
static bool connector_edid(int fd, uint32_t conn, uint8_t *edid)
{
	uint64_t blob_id = kms_get_prop(fd, conn, DRM_MODE_OBJECT_CONNECTOR, "EDID");
	drmModePropertyBlobPtr blob;

	if (!blob_id)
		return false;
	blob = drmModeGetPropertyBlob(fd, blob_id);
	vt_assert_f(blob, "EDID blob %" PRIu64 ": %m\n", blob_id);
	vt_assert_f(blob->length == EDID_LEN, "the EDID is %u bytes, not one block\n",
		    blob->length);
	memcpy(edid, blob->data, EDID_LEN);
	drmModeFreePropertyBlob(blob);
	return true;
}

/* The text of the display descriptor tagged @tag, "" when there is none. */
static void edid_descriptor_text(const uint8_t *edid, uint8_t tag, char *text)
{
	text[0] = '\0';
	for (int d = 54; d < 126; d += 18) {
		const uint8_t *desc = edid + d;
		int n;

		if (desc[0] || desc[1] || desc[3] != tag)
			continue;
		for (n = 0; n < 13 && desc[5 + n] != '\n'; n++)
			text[n] = desc[5 + n];
		text[n] = '\0';
		return;
	}
}

/* Connector @conn's mode @w x @h at 60 Hz, if listed, in @mode. */
static bool find_mode(const drmModeConnector *c, int w, int h, drmModeModeInfo *mode)
{
	for (int i = 0; i < c->count_modes; i++) {
		if (c->modes[i].hdisplay == w && c->modes[i].vdisplay == h &&
		    c->modes[i].vrefresh == 60) {
			*mode = c->modes[i];
			return true;
		}
	}
	return false;
}

/* The virtual (not writeback) connector of the card @fd. */
static drmModeConnector *virtual_connector(int fd)
{
	drmModeRes *res = drmModeGetResources(fd);
	drmModeConnector *found = NULL;

	vt_assert_f(res, "GETRESOURCES: %m\n");
	for (int i = 0; i < res->count_connectors && !found; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);

		vt_assert_f(c, "GETCONNECTOR %u: %m\n", res->connectors[i]);
		if (c->connector_type == DRM_MODE_CONNECTOR_VIRTUAL)
			found = c;
		else
			drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	vt_assert_f(found, "no virtual connector\n");
	return found;
}

/* Instance @index's EDID: well formed and saying what vprime puts in it. */
static void check_edid(int index, uint32_t *serial)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	int fd = vprime_open(index, VPRIME_NODE_CARD);
	drmModeConnector *c = virtual_connector(fd);
	char text[16], want[16];
	drmModeModeInfo mode;
	uint8_t edid[EDID_LEN], sum = 0;

	vt_assert_f(connector_edid(fd, c->connector_id, edid), "vprime.%d's connector has no "
		    "EDID\n", index);
	vt_assert_f(!memcmp(edid, header, sizeof(header)), "bad EDID header\n");
	for (int i = 0; i < EDID_LEN; i++)
		sum += edid[i];
	vt_assert_f(sum == 0, "EDID checksum: the bytes add up to 0x%02x\n", sum);
	vt_assert_eq(edid[18], 1);				/* EDID 1.4 */
	vt_assert_eq(edid[19], 4);
	vt_assert_eq(edid[8] << 8 | edid[9],			/* "VPR" */
		     ('V' - '@') << 10 | ('P' - '@') << 5 | ('R' - '@'));
	*serial = edid[12] | edid[13] << 8 | edid[14] << 16 | (uint32_t)edid[15] << 24;
	edid_descriptor_text(edid, 0xfc, text);
	snprintf(want, sizeof(want), "vprime-%d.0", index);
	vt_assert_f(!strcmp(text, want), "monitor name \"%s\", not \"%s\"\n", text, want);

	/* The core parsed it: size, preferred mode, standard timings. */
	vt_assert_eq(c->mmWidth, 400);
	vt_assert_eq(c->mmHeight, 300);
	vt_assert_f(find_mode(c, 1024, 768, &mode), "no 1024x768@60\n");
	vt_assert_f(mode.type & DRM_MODE_TYPE_PREFERRED, "1024x768 is not preferred\n");
	vt_assert_eq(mode.clock, 65000);
	vt_assert_eq(mode.htotal, 1344);
	vt_assert_eq(mode.vtotal, 806);
	vt_assert_f(find_mode(c, 1920, 1080, &mode), "no 1920x1080@60\n");
	vt_assert_f(find_mode(c, 640, 480, &mode), "no 640x480@60\n");
	vtest_info("vprime.%d: \"%s\", serial %u, %d modes\n", index, text, *serial,
		   c->count_modes);
	drmModeFreeConnector(c);
	close(fd);
}

static void test_edid(void)
{
	uint32_t serial0, serial1;

	check_edid(0, &serial0);
	check_edid(1, &serial1);
	vt_assert_f(serial0 != serial1, "vprime.0 and vprime.1 have the same serial %u\n",
		    serial0);
}

/* fbdev */

#define FBDEV_WAIT_MS	3000

/* The fbdev of instance vprime.0: its /dev/fbN path, or false. */
static bool vprime_fbdev(char *path, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];

	for (int i = 0; i < 32; i++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/sys/class/graphics/fb%d/device", i);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(strrchr(target, '/') ? strrchr(target, '/') + 1 : target,
			   "vprime.0"))
			continue;
		snprintf(path, len, "/dev/fb%d", i);
		return true;
	}
	return false;
}

/*
 * Wait until the frame's CRC is (@equal) or is not @crc: the fbdev helper
 * copies what was written to the framebuffer a little later.
 */
static uint32_t wait_crc(const char *dir, uint32_t crc, bool equal, const char *what)
{
	int fd = crc_start(dir);
	struct crc c = {};

	for (int waited = 0; waited < FBDEV_WAIT_MS; waited += 1000 / 60) {
		c = crc_read(fd);
		if ((c.value == crc) == equal)
			break;
	}
	close(fd);
	vt_assert_f((c.value == crc) == equal, "%s: CRC 0x%08x, %s 0x%08x\n", what, c.value,
		    equal ? "wanted" : "as before,", crc);
	return c.value;
}

/*
 * The CRC of @fb shown full screen through KMS, as DRM master; the index of
 * the CRTC that showed it in *@crtc_index.
 */
static uint32_t kms_crc_of(int fd, const struct fb *fb, const char *what, int *crtc_index)
{
	struct kms_output out;
	char dir[PATH_MAX];
	uint32_t crc;

	output_on(fd, fb, &out);
	crc_dir(out.crtc_index, dir, sizeof(dir));
	crc = crc_of_frame(dir, what);
	kms_output_off(fd, &out);
	*crtc_index = out.crtc_index;
	return crc;
}

/* A copy of @fb's pixels, @fb->w * 4 bytes a row. */
static uint32_t *fb_pixels(const struct fb *fb)
{
	uint32_t *pixels = malloc((size_t)fb->w * fb->h * 4);

	vt_assert(pixels);
	for (uint32_t y = 0; y < fb->h; y++)
		memcpy(pixels + (size_t)y * fb->w, (uint8_t *)fb->map + (size_t)y * fb->pitch,
		       fb->w * 4);
	return pixels;
}

/*
 * The framebuffer the primary plane of vprime.0's CRTC @crtc_index scans out holds
 * @frame: what the fbdev wrote reached the GEM object (GETFB2 gives root
 * its handle). Closing the card afterwards gives the display back to fbdev.
 * (Debian's 6.1 and 6.12 lose a write() of exactly one whole line: it
 * damages an empty rectangle, fixed in later kernels. Whole frames are
 * written here.)
 */
static void check_fbdev_object(int crtc_index, const uint32_t *frame, const char *what)
{
	int fd = open_card();
	uint32_t plane_id;
	drmModePlanePtr plane;
	drmModeFB2Ptr fb;
	uint8_t *map;
	size_t size;
	int bad = 0;

	vt_assert_ok(drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1));
	plane_id = kms_plane_id(fd, crtc_index, KMS_PLANE_PRIMARY);
	plane = drmModeGetPlane(fd, plane_id);
	vt_assert_f(plane && plane->fb_id, "the primary plane shows no framebuffer\n");
	fb = drmModeGetFB2(fd, plane->fb_id);
	vt_assert_f(fb && fb->handles[0], "GETFB2 %u: %m\n", plane->fb_id);
	vt_assert_eq(fb->width, W);
	vt_assert_eq(fb->height, H);
	size = (size_t)fb->pitches[0] * H;
	map = vprime_gem_mmap(fd, fb->handles[0], size);
	for (int y = 0; y < H; y++)
		bad += !!memcmp(map + (size_t)y * fb->pitches[0], frame + (size_t)y * W, W * 4);
	vt_assert_f(bad == 0, "%s: %d of %d rows of the fbdev's framebuffer differ\n", what, bad,
		    H);
	munmap(map, size);
	gem_close(fd, fb->handles[0]);
	drmModeFreeFB2(fb);
	drmModeFreePlane(plane);
	close(fd);
}

static void test_fbdev(void)
{
	uint32_t crc_a, crc_b, *frame_a, *frame_b;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	char path[64], dir[PATH_MAX];
	struct fb a, b;
	int fd, fbfd, crtc_index;
	uint8_t *map, *buf;

	vt_require_f(vprime_param_bool("fbdev", 0), "vprime was loaded with fbdev=0\n");
	vt_require_f(access("/sys/class/graphics/fb0", F_OK) == 0, "this kernel gives no "
		     "driver an fbdev (no /sys/class/graphics/fb0)\n");
	vt_assert_f(vprime_fbdev(path, sizeof(path)), "vprime.0 has no /dev/fbN "
		    "(/sys/class/graphics/fb*/device)\n");

	/* Two frames shown through KMS first, for their CRCs. */
	fd = open_card();
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &a);
	fb_fill(&a, 0xfbde, false);
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &b);
	fb_fill(&b, 0xfbdf, false);
	crc_a = kms_crc_of(fd, &a, "frame A through KMS", &crtc_index);
	crc_b = kms_crc_of(fd, &b, "frame B through KMS", &crtc_index);
	vt_assert_neq(crc_a, crc_b);
	frame_a = fb_pixels(&a);
	frame_b = fb_pixels(&b);
	/* fbdev lights every output: that CRTC shows its frames too. */
	crc_dir(crtc_index, dir, sizeof(dir));
	/* Unmapped and closed, so that the master goes away. */
	fb_release(fd, &a);
	fb_release(fd, &b);
	close(fd);

	/*
	 * With no master left, an fbdev client (fbcon, a splash screen) sets
	 * its mode, which turns the display on with the fbdev's buffer.
	 */
	fbfd = open(path, O_RDWR | O_CLOEXEC);
	vt_assert_f(fbfd >= 0, "open %s: %m\n", path);
	vt_assert_ok(ioctl(fbfd, FBIOGET_VSCREENINFO, &var));
	vt_assert_ok(ioctl(fbfd, FBIOGET_FSCREENINFO, &fix));
	var.activate = FB_ACTIVATE_NOW | FB_ACTIVATE_FORCE;
	vt_assert_ok(ioctl(fbfd, FBIOPUT_VSCREENINFO, &var));
	vtest_info("%s: \"%.16s\" %ux%u, %u bpp, pitch %u, %u bytes\n", path, fix.id, var.xres,
		   var.yres, var.bits_per_pixel, fix.line_length, fix.smem_len);
	vt_assert_f(strstr(fix.id, "vprime"), "fb id \"%.16s\"\n", fix.id);
	vt_assert_eq(var.xres, W);
	vt_assert_eq(var.yres, H);
	vt_assert_eq(var.bits_per_pixel, 32);
	vt_assert_lte((size_t)fix.line_length * H, fix.smem_len);

	/*
	 * Frame A written with one write(), as `cat frame > /dev/fbN` does:
	 * the display shows it, and the fbdev's GEM object holds it.
	 */
	buf = calloc(fix.line_length, H);
	vt_assert(buf);
	for (int y = 0; y < H; y++)
		memcpy(buf + (size_t)y * fix.line_length, frame_a + (size_t)y * W, W * 4);
	vt_assert_eq(pwrite(fbfd, buf, (size_t)fix.line_length * H, 0),
		     (ssize_t)fix.line_length * H);
	free(buf);
	wait_crc(dir, crc_a, true, "frame A written to the fbdev");
	check_fbdev_object(crtc_index, frame_a, "frame A written to the fbdev");

	/* Frame B stored through a mapping: the display follows. */
	map = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fbfd, 0);
	vt_assert_f(map != MAP_FAILED, "mmap %s: %m\n", path);
	for (int y = 0; y < H; y++)
		memcpy(map + (size_t)y * fix.line_length, frame_b + (size_t)y * W, W * 4);
	wait_crc(dir, crc_b, true, "frame B stored in the fbdev's mapping");
	vt_assert_ok(munmap(map, fix.smem_len));
	close(fbfd);
	free(frame_a);
	free(frame_b);
}

/* cursor-async */

/* Light @o with its writeback connector and @planes, in one blocking modeset. */
static void light_with_writeback(int fd, const struct kms_output *o, const struct ref_plane *planes,
				 int n)
{
	struct kms_plane_setup setups[MAX_PLANES];
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t blob;

	vt_assert(req && n <= MAX_PLANES);
	for (int i = 0; i < n; i++)
		setups[i] = setup_of(&planes[i]);
	kms_req_modeset(req, fd, o, true, &blob);
	kms_req_planes(req, fd, o, setups, n);
	vt_assert_eq(drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL), 0);
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);
}


#define CURSOR_MOVES	40

/* How many cursor moves CRTC index @crtc_index of vprime.0 applied without a commit. */
static long async_updates(int crtc_index)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], line[128];
	long value = -1;
	FILE *f;

	crc_dir(crtc_index, dir, sizeof(dir));
	*strstr(dir, "/crtc-") = '\0';
	snprintf(path, sizeof(path), "%s/vprime_display", dir);
	f = fopen(path, "r");
	vt_assert_f(f, "%s: %m\n", path);
	while (fgets(line, sizeof(line), f)) {
		int crtc;
		long n;

		if (sscanf(line, "crtc %d: async_updates: %ld", &crtc, &n) == 2 &&
		    crtc == crtc_index)
			value = n;
	}
	fclose(f);
	vt_assert_f(value >= 0, "%s has no line for CRTC index %d\n", path, crtc_index);
	return value;
}

/* Write the next frame of @o back into @cap_fb (a commit of nothing else) and wait. */
static void capture_next_frame(int fd, const struct kms_output *o, uint32_t cap_fb)
{
	struct pollfd pfd = { .events = POLLIN };
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int32_t fence = -1;
	int ret;

	vt_assert(req);
	kms_req_writeback_job(req, fd, o, cap_fb, &fence);
	ret = drmModeAtomicCommit(fd, req, 0, NULL);
	vt_assert_f(ret == 0, "the writeback commit: %s\n", strerror(-ret));
	drmModeAtomicFree(req);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	pfd.fd = fence;
	vt_assert_f(poll(&pfd, 1, WRITEBACK_TIMEOUT_MS) == 1,
		    "the writeback fence did not signal within %d ms\n", WRITEBACK_TIMEOUT_MS);
	close(fence);
}

static void move_cursor(int fd, const struct kms_output *o, struct ref_plane *cursor,
			int32_t x, int32_t y)
{
	int ret = drmModeMoveCursor(fd, o->crtc, x, y);

	vt_assert_f(ret == 0, "moving the cursor to (%d, %d): %s\n", x, y, strerror(-ret));
	cursor->x = x;
	cursor->y = y;
}

/*
 * Legacy cursor moves of a visible cursor are async updates: each is
 * applied at once, without a commit (the debugfs count says so), and the
 * next frame shows the cursor where the last move put it. A move off the
 * screen and back takes ordinary commits, and shows right too.
 */
static void test_cursor_async(void)
{
	struct ref_plane planes[2];
	struct kms_capture cap;
	struct kms_output out;
	struct fb primary, cursor;
	uint32_t cap_fb;
	int fd = open_card();
	long before;

	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "vprime.0 has no output with writeback at %dx%d\n", W, H);
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary);
	fb_fill(&primary, 0x3a0, false);
	fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor);
	fb_fill(&cursor, 0x3a1, true);
	cap_fb = capture_buffer(fd, &cap);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary, 0, 0);
	planes[1] = plane_at(KMS_PLANE_CURSOR, &cursor, 100, 100);
	light_with_writeback(fd, &out, planes, 2);

	before = async_updates(out.crtc_index);
	for (int i = 1; i <= CURSOR_MOVES; i++)
		move_cursor(fd, &out, &planes[1], 100 + 7 * i, 100 + 5 * i);
	vt_assert_eq(async_updates(out.crtc_index) - before, CURSOR_MOVES);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "after the async moves");

	/* Partly off the top left corner: still on screen, still async. */
	move_cursor(fd, &out, &planes[1], -20, -30);
	vt_assert_eq(async_updates(out.crtc_index) - before, CURSOR_MOVES + 1);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "the cursor across the corner");

	/* Wholly off the screen and back: ordinary commits. */
	move_cursor(fd, &out, &planes[1], W + 10, 10);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 1, NULL, 0, "the cursor off the screen");
	move_cursor(fd, &out, &planes[1], W - 32, H - 32);
	vt_assert_eq(async_updates(out.crtc_index) - before, CURSOR_MOVES + 1);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "the cursor back on the screen");

	kms_output_off(fd, &out);
	vt_assert_eq(drmModeRmFB(fd, cap_fb), 0);
	kms_capture_release(fd, &cap);
	fb_release(fd, &cursor);
	fb_release(fd, &primary);
	close(fd);
}

/* cursor-vs-flips */

#define CURSOR_VS_FLIPS	60

/*
 * One nonblocking atomic page flip of @o's primary plane to @fb_id with an
 * event carrying @data, made again while the core says the previous one is
 * still busy (-EBUSY), as IGT's flip_nonblocking() does.
 */
static void flip_primary_nonblocking(int fd, const struct kms_output *o, uint32_t plane,
				     uint32_t fb_id, void *data)
{
	int ret;

	do {
		drmModeAtomicReq *req = drmModeAtomicAlloc();

		vt_assert(req);
		vt_assert(drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane,
						   DRM_MODE_OBJECT_PLANE, "FB_ID"), fb_id) > 0);
		vt_assert(drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane,
						   DRM_MODE_OBJECT_PLANE, "CRTC_ID"), o->crtc) > 0);
		ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK |
					  DRM_MODE_PAGE_FLIP_EVENT, data) ? -errno : 0;
		drmModeAtomicFree(req);
	} while (ret == -EBUSY);
	vt_assert_f(ret == 0, "nonblocking flip: %s\n", strerror(-ret));
}

/*
 * kms_cursor_legacy's cursorA-vs-flipA-atomic, bounded: a child moves the
 * visible cursor back and forth without pause (async updates, on the same
 * file) while the parent makes 60 nonblocking atomic flips of the primary
 * with events, each after the previous one's event. Every flip gets exactly
 * one event, in order; every move was an async update (debugfs); the frame
 * written back afterwards shows the last fb and the cursor where the last
 * move put it.
 */
static void test_cursor_vs_flips(void)
{
	struct flip flips[CURSOR_VS_FLIPS] = {};
	volatile long *shared;	/* [0]: stop; [1]: moves made; [2]: the last x = y */
	struct ref_plane planes[2];
	struct fb primary[2], cursor;
	struct kms_capture cap;
	struct kms_output out;
	unsigned int prev_seq;
	uint32_t cap_fb, plane;
	int fd = open_card(), status;
	double prev_ts;
	drmVBlank vbl;
	long before;
	pid_t child;

	flip_events_total = 0;
	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "vprime.0 has no output with writeback at %dx%d\n", W, H);
	plane = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary[i]);
		fb_fill(&primary[i], 0xcf0 + i, false);
	}
	fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor);
	fb_fill(&cursor, 0xcf2, true);
	cap_fb = capture_buffer(fd, &cap);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary[0], 0, 0);
	planes[1] = plane_at(KMS_PLANE_CURSOR, &cursor, 128, 128);
	light_with_writeback(fd, &out, planes, 2);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	vt_assert(shared != MAP_FAILED);
	shared[0] = shared[1] = 0;
	shared[2] = 128;

	before = async_updates(out.crtc_index);
	child = fork();
	vt_assert(child >= 0);
	if (child == 0) {
		long n = 0;

		while (!shared[0]) {
			int32_t at = n & 64 ? 192 : 128;

			if (drmModeMoveCursor(fd, out.crtc, at, at))
				_exit(1);
			shared[2] = at;
			shared[1] = ++n;
		}
		_exit(0);
	}
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);
	for (int i = 0; i < CURSOR_VS_FLIPS; i++) {
		flip_primary_nonblocking(fd, &out, plane, primary[(i + 1) % 2].fb_id, &flips[i]);
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	shared[0] = 1;
	vt_assert_eq(waitpid(child, &status, 0), child);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "a cursor move failed in the child (status 0x%x)\n", status);
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");
	vtest_info("%ld cursor moves during %d flips over %u vblanks\n", shared[1],
		   CURSOR_VS_FLIPS, flips[CURSOR_VS_FLIPS - 1].seq - vbl.reply.sequence);
	vt_assert_eq(async_updates(out.crtc_index) - before, shared[1]);

	/* The last flip showed primary[0] (60 flips, from primary[0]). */
	planes[0].fb = &primary[CURSOR_VS_FLIPS % 2];
	planes[1].x = planes[1].y = shared[2];
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "after the flips and moves");

	munmap((void *)shared, 4096);
	kms_output_off(fd, &out);
	vt_assert_eq(drmModeRmFB(fd, cap_fb), 0);
	kms_capture_release(fd, &cap);
	fb_release(fd, &cursor);
	fb_release(fd, &primary[1]);
	fb_release(fd, &primary[0]);
	close(fd);
}

/* cursor-change-held-frame */

#define HELD_FRAME_MS	3000

/* Set the driver's injectable delay @name (docs/testing.md), in its unit. */
static void delay_set(const char *name, unsigned int value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vprime/delay/%s", name);
	f = fopen(path, "w");
	vt_require_f(f, "%s: %m\n", path);
	vt_assert_f(fprintf(f, "%u\n", value) > 0 && fclose(f) == 0, "writing %s: %m\n", path);
}

/* Commit @req nonblocking with a page-flip event, and wait for the event. */
static void commit_and_wait_event(int fd, drmModeAtomicReq *req, const char *what)
{
	drmEventContext ev = { .version = 2, .page_flip_handler = NULL };
	int ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT,
				      NULL);

	vt_assert_f(ret == 0, "%s: %s\n", what, strerror(-ret));
	vt_assert_f(event_pending(fd, WRITEBACK_TIMEOUT_MS), "%s: no event\n", what);
	vt_assert_eq(drmHandleEvent(fd, &ev), 0);
}

/*
 * A frame held in the compose queue while later commits free what it shows.
 * A writeback job's frame is held back (the compose delay); a flip of the
 * primary plane alone waits for it in its commit tail; meanwhile a new
 * cursor image (an ordinary commit) frees the cursor state the held frame
 * still shows. That commit must wait for the held frame too: the frame
 * then shows the old cursor (and the kernel reads no freed or unmapped
 * memory, which KASAN or an oops would show).
 */
static void test_cursor_change_held_frame(void)
{
	struct pollfd pfd = { .events = POLLIN };
	struct fb primary[2], cursor[2];
	struct ref_plane planes[2];
	struct kms_capture cap;
	struct kms_output out;
	drmModeAtomicReq *req;
	uint32_t cap_fb, plane;
	int32_t fence = -1;
	int fd = open_card();

	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "vprime.0 has no output with writeback at %dx%d\n", W, H);
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary[i]);
		fb_fill(&primary[i], 0x3b0 + i, false);
		fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor[i]);
		fb_fill(&cursor[i], 0x3b2 + i, true);
	}
	cap_fb = capture_buffer(fd, &cap);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary[0], 0, 0);
	planes[1] = plane_at(KMS_PLANE_CURSOR, &cursor[0], 200, 150);
	light_with_writeback(fd, &out, planes, 2);

	delay_set("compose_ms", HELD_FRAME_MS);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	kms_req_writeback_job(req, fd, &out, cap_fb, &fence);
	commit_and_wait_event(fd, req, "the writeback commit");
	drmModeAtomicFree(req);

	plane = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	vt_assert(drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane,
		  DRM_MODE_OBJECT_PLANE, "FB_ID"), primary[1].fb_id) > 0);
	commit_and_wait_event(fd, req, "the flip of the primary plane");
	drmModeAtomicFree(req);

	vt_assert_eq(drmModeSetCursor(fd, out.crtc, cursor[1].handle, 64, 64), 0);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	pfd.fd = fence;
	vt_assert_f(poll(&pfd, 1, HELD_FRAME_MS + WRITEBACK_TIMEOUT_MS) == 1,
		    "the held writeback frame did not come\n");
	close(fence);
	delay_set("compose_ms", 0);
	compare_capture_color(&cap, planes, 2, NULL, 0, "the held frame");

	kms_output_off(fd, &out);
	vt_assert_eq(drmModeRmFB(fd, cap_fb), 0);
	kms_capture_release(fd, &cap);
	for (int i = 0; i < 2; i++) {
		fb_release(fd, &cursor[i]);
		fb_release(fd, &primary[i]);
	}
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("writeback-local", "vprime's own GEM object and dumb buffer, full screen: "
	      "every pixel read back through writeback is the buffer's.",
	      test_writeback_local),
	VTEST("writeback-imported", "A buffer of another vprime instance, vgem, vkms, "
	      "udmabuf and the system heap, imported into vprime and shown full screen: "
	      "writeback reads back the exporter's pixels.", test_writeback_imported),
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
	VTEST("mode-invalid", "A mode past 600 MHz, past 240 Hz, below 1 Hz or whose "
	      "refresh rate overflows fails a TEST_ONLY modeset with -EINVAL; the "
	      "same timings at 60 and 240 Hz pass.", test_mode_invalid),
	VTEST("crc", "The CRTC's CRC is the same every vblank for an unchanged frame, "
	      "changes when one pixel does, and comes back when it does.", test_crc),
	VTEST("flip-events", "30 page flips each deliver one event, with sequence numbers "
	      "and timestamps that increase; drmWaitVBlank counts on.", test_flip_events),
	VTEST("enable-event", "The event of a commit that turns the CRTC on comes at its "
	      "first vblank, stamped with a time after the commit, twice.", test_enable_event),
	VTEST("async-flip-refused", "An async page flip, legacy or atomic, fails with "
	      "-EINVAL and changes nothing.", test_async_flip_refused),
	VTEST("two-crtcs", "Both CRTCs in every commit: one modeset lights both, 30 "
	      "commits flip both, one turns both off. Every commit sends each CRTC one "
	      "event, sequences increase per CRTC, and the frames written back in the "
	      "same commits and the CRCs are each CRTC's own.", test_two_crtcs),
	VTEST("two-crtcs-stress", "two-crtcs at 240 Hz with 500 flips of both, the test "
	      "and the vblank timers on one CPU (two CRTCs' locks once nested there).",
	      test_two_crtcs_stress),
	VTEST("cursor-async", "Legacy moves of a visible cursor are applied without a "
	      "commit (async updates, counted in debugfs) and the next frame written back "
	      "shows the cursor where the last one put it; moves off the screen and back "
	      "take ordinary commits.", test_cursor_async),
	VTEST("vblank-on-off", "1000 vblank waits at 240 Hz, each turning vblank on and "
	      "off (vblankoffdelay -1), preempted at a swept delay by a SCHED_FIFO process "
	      "on the same CPU: every wait ends, one or more vblanks on.",
	      test_vblank_on_off),
	VTEST("cursor-vs-flips", "A child moves the visible cursor without pause (async "
	      "updates) while 60 nonblocking atomic flips with events are made one after "
	      "the other: one event per flip, in order, every move async, and the frame "
	      "written back afterwards shows the last fb and the cursor's last place.",
	      test_cursor_vs_flips),
	VTEST("cursor-change-held-frame", "A writeback frame held in the compose queue "
	      "(compose delay) while a flip and a new cursor image free the plane states it "
	      "shows: the frame comes, right, and nothing freed is read.",
	      test_cursor_change_held_frame),
	VTEST("addfb-invalid", "ADDFB2 refuses a bad handle (-ENOENT), a short pitch, an "
	      "unsupported format, a non-linear modifier and a buffer larger than its "
	      "object (-EINVAL).", test_addfb_invalid),
	VTEST("scanout-pins", "A buffer on screen is pinned: an instance it would have to "
	      "move for cannot import it (-EBUSY) until it leaves the screen.",
	      test_scanout_pins),
	VTEST("scanout-migrates", "vprime.0's buffer shown on a 32-bit or contiguous "
	      "instance's display is moved where that display can reach it first; the "
	      "frame is the buffer's.", test_scanout_migrates),
	VTEST("edid", "Each instance's connector has a valid EDID 1.4 block (header, "
	      "checksum, \"VPR\", its own name and serial) that the core parsed: "
	      "400x300 mm, 1024x768@60 preferred, 1920x1080 and 640x480 listed.", test_edid),
	VTEST("fbdev", "vprime.0's fbdev shows what is written to /dev/fbN, through "
	      "write() and through a mapping, once no master holds the display: the CRCs "
	      "equal those of the same frames shown through KMS.", test_fbdev),
};

VTEST_MAIN("vprime's display: composition through writeback, CRCs, page flips, "
	   "framebuffers and the scanout pin.", tests)
