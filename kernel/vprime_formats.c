// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: pixel formats
 *
 * The formats vprime's planes scan out and its writeback connector writes,
 * and their conversion to and from the composer's working format: one
 * 32-bit ARGB8888 value per pixel, alpha as the framebuffer holds it (1.0
 * for formats without alpha). RGB565 widens by bit replication; NV12 is
 * converted by the plane's "COLOR_ENCODING" (BT.601, BT.709 or BT.2020) and
 * "COLOR_RANGE" (limited or full), in 16.16 fixed point.
 */

#include <linux/kernel.h>

#include <drm/drm_color_mgmt.h>
#include <drm/drm_framebuffer.h>

#include "vprime_compat.h"
#include "vprime_kms.h"

const u32 vprime_plane_formats[] = {
	DRM_FORMAT_XRGB8888,
	DRM_FORMAT_ARGB8888,
	DRM_FORMAT_XBGR8888,
	DRM_FORMAT_ABGR8888,
	DRM_FORMAT_RGB565,
	DRM_FORMAT_NV12,
};

const unsigned int vprime_num_plane_formats = ARRAY_SIZE(vprime_plane_formats);

const u32 vprime_wb_formats[] = {
	DRM_FORMAT_XRGB8888,
	DRM_FORMAT_ARGB8888,
};

const unsigned int vprime_num_wb_formats = ARRAY_SIZE(vprime_wb_formats);

/**
 * vprime_format_supported - whether some plane scans out @format
 * @format: a DRM fourcc
 *
 * Returns: true for the planes' formats (writeback's are among them).
 */
bool vprime_format_supported(u32 format)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vprime_plane_formats); i++)
		if (vprime_plane_formats[i] == format)
			return true;
	return false;
}

/**
 * vprime_wb_format_supported - whether writeback writes @format
 * @format: a DRM fourcc
 *
 * Returns: true for XRGB8888 and ARGB8888.
 */
bool vprime_wb_format_supported(u32 format)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vprime_wb_formats); i++)
		if (vprime_wb_formats[i] == format)
			return true;
	return false;
}

static const u8 *vprime_plane_pixel(const struct vprime_plane_state *ps, unsigned int i, int x,
				    int y)
{
	const struct drm_framebuffer *fb = ps->base.fb;
	const struct drm_format_info *info = fb->format;

	return (const u8 *)ps->map[i].vaddr + fb->offsets[i] + y * fb->pitches[i] +
	       x * info->cpp[i];
}

/**
 * struct vprime_yuv_coeffs - Y'CbCr to R'G'B', in 16.16 fixed point
 * @y: the luma scale (255/219 in limited range)
 * @rv: Cr's share of red
 * @gu: Cb's share of green, subtracted
 * @gv: Cr's share of green, subtracted
 * @bu: Cb's share of blue
 * @y_off: the luma offset: 16 in limited range, 0 in full
 */
struct vprime_yuv_coeffs {
	int y, rv, gu, gv, bu, y_off;
};

/*
 * From Kr and Kb of each encoding: rv = 2(1 - Kr), bu = 2(1 - Kb),
 * gu = 2 Kb (1 - Kb) / Kg, gv = 2 Kr (1 - Kr) / Kg; limited range scales
 * luma by 255/219 and chroma by 255/224.
 */
static const struct vprime_yuv_coeffs yuv_coeffs[DRM_COLOR_ENCODING_MAX][DRM_COLOR_RANGE_MAX] = {
	[DRM_COLOR_YCBCR_BT601] = {
		[DRM_COLOR_YCBCR_LIMITED_RANGE] = { 76309, 104597, 25675, 53279, 132201, 16 },
		[DRM_COLOR_YCBCR_FULL_RANGE] = { 65536, 91881, 22553, 46802, 116130, 0 },
	},
	[DRM_COLOR_YCBCR_BT709] = {
		[DRM_COLOR_YCBCR_LIMITED_RANGE] = { 76309, 117489, 13975, 34925, 138438, 16 },
		[DRM_COLOR_YCBCR_FULL_RANGE] = { 65536, 103206, 12276, 30679, 121609, 0 },
	},
	[DRM_COLOR_YCBCR_BT2020] = {
		[DRM_COLOR_YCBCR_LIMITED_RANGE] = { 76309, 110014, 12277, 42626, 140363, 16 },
		[DRM_COLOR_YCBCR_FULL_RANGE] = { 65536, 96639, 10784, 37444, 123299, 0 },
	},
};

static const struct vprime_yuv_coeffs *vprime_plane_yuv_coeffs(const struct drm_plane_state *s)
{
	unsigned int e = s->color_encoding, r = s->color_range;

	/* Planes without the properties keep the reset values: BT.601, limited. */
	if (e >= DRM_COLOR_ENCODING_MAX || r >= DRM_COLOR_RANGE_MAX)
		return &yuv_coeffs[DRM_COLOR_YCBCR_BT601][DRM_COLOR_YCBCR_LIMITED_RANGE];
	return &yuv_coeffs[e][r];
}

static u32 vprime_fixed_to_u8(int v)
{
	return clamp((v + (1 << 15)) >> 16, 0, 255);
}

static u32 vprime_yuv_to_argb(const struct vprime_yuv_coeffs *k, int y, int u, int v)
{
	int c = (y - k->y_off) * k->y, d = u - 128, e = v - 128;

	return 0xff000000 | vprime_fixed_to_u8(c + k->rv * e) << 16 |
	       vprime_fixed_to_u8(c - k->gu * d - k->gv * e) << 8 |
	       vprime_fixed_to_u8(c + k->bu * d);
}

/**
 * vprime_packed_to_argb - one pixel of a packed RGB format as ARGB8888
 * @p: the pixel
 * @format: XRGB8888, ARGB8888, XBGR8888, ABGR8888 or RGB565
 *
 * Returns: the pixel; formats without alpha are opaque.
 */
u32 vprime_packed_to_argb(const u8 *p, u32 format)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
		return get_unaligned_le32(p) | 0xff000000;
	case DRM_FORMAT_ARGB8888:
		return get_unaligned_le32(p);
	case DRM_FORMAT_XBGR8888:
		return vprime_swap_red_blue(get_unaligned_le32(p)) | 0xff000000;
	case DRM_FORMAT_ABGR8888:
		return vprime_swap_red_blue(get_unaligned_le32(p));
	case DRM_FORMAT_RGB565:
		return vprime_rgb565_to_argb(get_unaligned_le16(p));
	default:
		return 0xff000000;
	}
}

/**
 * vprime_argb_to_packed - store an ARGB8888 pixel in a packed RGB format
 * @p: where the pixel goes
 * @format: XRGB8888, ARGB8888, XBGR8888, ABGR8888 or RGB565
 * @argb: the pixel; X bytes are written as 0xff, RGB565 keeps the top bits
 */
void vprime_argb_to_packed(u8 *p, u32 format, u32 argb)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
		put_unaligned_le32(argb | 0xff000000, p);
		break;
	case DRM_FORMAT_ARGB8888:
		put_unaligned_le32(argb, p);
		break;
	case DRM_FORMAT_XBGR8888:
		put_unaligned_le32(vprime_swap_red_blue(argb) | 0xff000000, p);
		break;
	case DRM_FORMAT_ABGR8888:
		put_unaligned_le32(vprime_swap_red_blue(argb), p);
		break;
	case DRM_FORMAT_RGB565:
		put_unaligned_le16(vprime_argb_to_rgb565(argb), p);
		break;
	}
}

static u32 vprime_read_nv12_pixel(const struct vprime_plane_state *ps,
				  const struct vprime_yuv_coeffs *k, int x, int y)
{
	const u8 *luma = vprime_plane_pixel(ps, 0, x, y);
	/* One CbCr pair per 2x2 block; cpp[1] is 2, so x / 2 addresses it. */
	const u8 *uv = vprime_plane_pixel(ps, 1, x / 2, y / 2);

	return vprime_yuv_to_argb(k, luma[0], uv[0], uv[1]);
}

/**
 * vprime_read_line - read pixels of a plane's framebuffer as ARGB8888
 * @ps: the plane state, its framebuffer mapped
 * @sx: the first pixel's column in the framebuffer
 * @sy: its row
 * @dx: the column step from one pixel to the next: -1, 0 or 1
 * @dy: the row step: -1, 0 or 1 (a plane rotated by 90 or 270 degrees
 *	reads a column of the framebuffer for a row of the screen)
 * @count: the number of pixels
 * @argb: out: @count pixels
 */
void vprime_read_line(const struct vprime_plane_state *ps, int sx, int sy, int dx, int dy,
		      int count, u32 *argb)
{
	const struct drm_framebuffer *fb = ps->base.fb;
	u32 format = fb->format->format;
	const struct vprime_yuv_coeffs *k;
	ptrdiff_t step;
	const u8 *p;
	int i;

	if (format == DRM_FORMAT_NV12) {
		k = vprime_plane_yuv_coeffs(&ps->base);
		for (i = 0; i < count; i++, sx += dx, sy += dy)
			argb[i] = vprime_read_nv12_pixel(ps, k, sx, sy);
		return;
	}
	/* Packed: the address moves by one step a pixel, the format is chosen once a row. */
	p = vprime_plane_pixel(ps, 0, sx, sy);
	step = dx * fb->format->cpp[0] + dy * (ptrdiff_t)fb->pitches[0];
	switch (format) {
	case DRM_FORMAT_XRGB8888:
		for (i = 0; i < count; i++, p += step)
			argb[i] = get_unaligned_le32(p) | 0xff000000;
		break;
	case DRM_FORMAT_ARGB8888:
		for (i = 0; i < count; i++, p += step)
			argb[i] = get_unaligned_le32(p);
		break;
	default:
		for (i = 0; i < count; i++, p += step)
			argb[i] = vprime_packed_to_argb(p, format);
	}
}

/**
 * vprime_write_line - write one row of a composed frame to a writeback target
 * @wb: the target, mapped
 * @y: the row
 * @argb: the composed pixels
 * @count: their number
 */
void vprime_write_line(const struct vprime_wb_job *wb, int y, const u32 *argb,
		       unsigned int count)
{
	const struct drm_framebuffer *fb = wb->fb;
	u8 *row = (u8 *)wb->map[0].vaddr + fb->offsets[0] + y * fb->pitches[0];
	unsigned int i;

	for (i = 0; i < count; i++)
		put_unaligned_le32(argb[i] | 0xff000000, row + 4 * i);
}
