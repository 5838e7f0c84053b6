// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: engine commands
 *
 * What a job's commands do, on the CPU standing in for a GPU: fill a
 * rectangle, copy one between surfaces converting the pixel format through
 * ARGB8888 (with the display's conversions, vprime_formats.c), and write
 * the crc32 of one into a buffer. Every command was
 * checked against its buffers' surfaces at submission, so execution cannot
 * go out of bounds. Fields a command does not use must be 0, so that they
 * can be given a meaning later.
 *
 * Execution has a budget: between rows it gives the CPU up
 * (cond_resched()) and stops when the job must (vprime_job_stopped(): its
 * timeout, or the engine's teardown), so that a job of any size cannot hold
 * a CPU or the engine past its timeout. A rectangle whose rows follow each
 * other without a gap is done as one run of pixels, up to VPRIME_CMD_STEP
 * bytes between two such checks.
 *
 * Fast paths, each giving the bytes the per-pixel conversion would: a
 * fill stores its colour, converted once, with memset() when its bytes are
 * equal, else memset16()/memset64(); a copy between formats with the same
 * channels copies the bytes as they are (ARGB8888, ABGR8888, RGB565), or
 * sets the X or A byte to 0xff when either side is an X format (an X byte
 * is written as 0xff, an X pixel is read as opaque), eight bytes at a time. Any other pair converts
 * a line at a time through ARGB8888, the formats chosen once a line.
 */

#include <linux/crc32.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <drm/drm_fourcc.h>
#include <drm/drm_gem.h>

#include "vprime_cmd.h"
#include "vprime_compat.h"
#include "vprime_sched.h"
#include "vprime_kms.h"

/* The packed formats the engine reads and writes. */
static bool vprime_cmd_format_supported(u32 format)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
	case DRM_FORMAT_RGB565:
		return true;
	default:
		return false;
	}
}

/* Bytes per pixel of a format vprime_surface_check() accepted. */
static unsigned int vprime_cpp(u32 format)
{
	return drm_format_info(format)->cpp[0];
}

/**
 * vprime_surface_check - whether a buffer's surface description is sound
 * @desc: the description
 * @size: the object's size
 *
 * Returns: 0, or -EINVAL for an unknown format, a pitch shorter than a row,
 * or rows that do not fit in the object.
 */
int vprime_surface_check(const struct drm_vprime_submit_bo *desc, size_t size)
{
	unsigned int cpp;

	/* drm_format_info() WARNs on a format it does not know. */
	if (!vprime_cmd_format_supported(desc->format))
		return -EINVAL;
	cpp = vprime_cpp(desc->format);
	if (!desc->width || !desc->height ||
	    (u64)desc->width * cpp > desc->pitch ||
	    (u64)desc->pitch * (desc->height - 1) + (u64)desc->width * cpp > size)
		return -EINVAL;
	return 0;
}

static bool vprime_rect_inside(const struct drm_vprime_submit_bo *s, u32 x, u32 y, u32 w, u32 h)
{
	return w && h && x <= s->width && w <= s->width - x && y <= s->height &&
	       h <= s->height - y;
}

static bool vprime_job_bo_writable(const struct vprime_job_bo *bo)
{
	return bo->desc.flags & VPRIME_SUBMIT_BO_WRITE;
}

static bool vprime_job_bo_readable(const struct vprime_job_bo *bo)
{
	return bo->desc.flags & VPRIME_SUBMIT_BO_READ;
}

/**
 * vprime_cmd_check - whether a command is valid for the job's buffers
 * @cmd: the command
 * @bos: the job's buffers, looked up
 * @num_bos: their number
 *
 * Returns: 0, or -EINVAL: unknown op, flags or padding set, a field the op
 * does not use set, a buffer index out of range or used against its
 * READ/WRITE flags, a rectangle outside its surface, a checksum offset
 * unaligned or past the end.
 */
int vprime_cmd_check(const struct drm_vprime_cmd *cmd, const struct vprime_job_bo *bos,
		     unsigned int num_bos)
{
	const struct vprime_job_bo *src, *dst;

	if (cmd->flags || cmd->pad)
		return -EINVAL;
	/* The fields the op does not use. */
	switch (cmd->op) {
	case VPRIME_CMD_HANG:
		return cmd->src || cmd->dst || cmd->src_x || cmd->src_y || cmd->dst_x ||
		       cmd->dst_y || cmd->width || cmd->height || cmd->value ||
		       cmd->dst_offset ? -EINVAL : 0;
	case VPRIME_CMD_FILL:
		if (cmd->src || cmd->src_x || cmd->src_y || cmd->dst_offset)
			return -EINVAL;
		break;
	case VPRIME_CMD_COPY:
		if (cmd->value || cmd->dst_offset)
			return -EINVAL;
		break;
	case VPRIME_CMD_CHECKSUM:
		if (cmd->value || cmd->dst_x || cmd->dst_y)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (cmd->dst >= num_bos)
		return -EINVAL;
	dst = &bos[cmd->dst];
	switch (cmd->op) {
	case VPRIME_CMD_FILL:
		return vprime_job_bo_writable(dst) &&
		       vprime_rect_inside(&dst->desc, cmd->dst_x, cmd->dst_y, cmd->width,
					  cmd->height) ? 0 : -EINVAL;
	default:	/* COPY, CHECKSUM */
		if (cmd->src >= num_bos)
			return -EINVAL;
		src = &bos[cmd->src];
		if (!vprime_job_bo_readable(src) || !vprime_job_bo_writable(dst) ||
		    !vprime_rect_inside(&src->desc, cmd->src_x, cmd->src_y, cmd->width,
					cmd->height))
			return -EINVAL;
		if (cmd->op == VPRIME_CMD_CHECKSUM)
			return cmd->dst_offset % 4 || cmd->dst_offset > dst->obj->size - 4 ?
			       -EINVAL : 0;
		return vprime_rect_inside(&dst->desc, cmd->dst_x, cmd->dst_y, cmd->width,
					  cmd->height) ? 0 : -EINVAL;
	}
}

static u8 *vprime_pixel_at(const struct vprime_job_bo *bo, u32 x, u32 y)
{
	return (u8 *)bo->map.vaddr + (size_t)y * bo->desc.pitch +
	       (size_t)x * vprime_cpp(bo->desc.format);
}

/* Before each row: give the CPU up, and tell whether the job must stop. */
static bool vprime_row_stop(const struct vprime_job *job)
{
	cond_resched();
	return vprime_job_stopped(job);
}

/* The most bytes written between two vprime_row_stop() checks, in whole rows. */
#define VPRIME_CMD_STEP		SZ_256K

/*
 * Rows done at once: all those of a step when the rectangle's rows follow
 * each other in both surfaces (each pitch is its row's length), else one.
 */
static u32 vprime_rows_per_step(size_t src_row, size_t src_pitch, size_t dst_row, size_t dst_pitch)
{
	if (src_row != src_pitch || dst_row != dst_pitch)
		return 1;
	return max_t(size_t, 1, VPRIME_CMD_STEP / dst_row);
}

/* @n pixels of @cpp bytes at @d, each the bytes @px. */
static void vprime_fill_pixels(u8 *d, const u8 *px, unsigned int cpp, size_t n)
{
	size_t i;
	u32 v32;
	u16 v16;

	if (!memchr_inv(px + 1, px[0], cpp - 1)) {
		memset(d, px[0], n * cpp);
		return;
	}
	if (cpp == 2) {
		memcpy(&v16, px, 2);
		if (IS_ALIGNED((unsigned long)d, 2)) {
			memset16((u16 *)d, v16, n);
			return;
		}
		for (i = 0; i < n; i++)
			put_unaligned(v16, (u16 *)(d + 2 * i));
		return;
	}
	memcpy(&v32, px, 4);
	if (!IS_ALIGNED((unsigned long)d, 4)) {
		for (i = 0; i < n; i++)
			put_unaligned(v32, (u32 *)(d + 4 * i));
		return;
	}
	if (n && !IS_ALIGNED((unsigned long)d, 8)) {
		*(u32 *)d = v32;
		d += 4;
		n--;
	}
	/* Both halves the same pixel: the byte order does not matter. */
	memset64((u64 *)d, (u64)v32 << 32 | v32, n / 2);
	if (n & 1)
		*(u32 *)(d + 4 * (n - 1)) = v32;
}

static int vprime_cmd_fill(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *dst = &job->bos[cmd->dst];
	unsigned int cpp = vprime_cpp(dst->desc.format);
	size_t row = (size_t)cmd->width * cpp, pitch = dst->desc.pitch;
	u32 step = vprime_rows_per_step(row, row, row, pitch), y, n;
	u8 *d = vprime_pixel_at(dst, cmd->dst_x, cmd->dst_y);
	u8 px[4];

	/* The colour in the surface's format, once. */
	vprime_argb_to_packed(px, dst->desc.format, cmd->value);
	for (y = 0; y < cmd->height; y += n) {
		n = min(step, cmd->height - y);
		if (vprime_row_stop(job))
			return -ECANCELED;
		vprime_fill_pixels(d + y * pitch, px, cpp, (size_t)cmd->width * n);
	}
	return 0;
}

/* @n pixels of @s, in @format, as ARGB8888: the format is chosen once. */
static void vprime_line_to_argb(const u8 *s, u32 format, u32 *argb, unsigned int n)
{
	unsigned int i;

	switch (format) {
	case DRM_FORMAT_XRGB8888:
		for (i = 0; i < n; i++)
			argb[i] = get_unaligned_le32(s + 4 * i) | 0xff000000;
		break;
	case DRM_FORMAT_ARGB8888:
		for (i = 0; i < n; i++)
			argb[i] = get_unaligned_le32(s + 4 * i);
		break;
	case DRM_FORMAT_XBGR8888:
		for (i = 0; i < n; i++)
			argb[i] = vprime_swap_red_blue(get_unaligned_le32(s + 4 * i)) | 0xff000000;
		break;
	case DRM_FORMAT_ABGR8888:
		for (i = 0; i < n; i++)
			argb[i] = vprime_swap_red_blue(get_unaligned_le32(s + 4 * i));
		break;
	default:	/* RGB565, the only other format a surface has */
		for (i = 0; i < n; i++)
			argb[i] = vprime_rgb565_to_argb(get_unaligned_le16(s + 2 * i));
	}
}

/* @n ARGB8888 pixels stored at @d in @format. */
static void vprime_line_from_argb(u8 *d, u32 format, const u32 *argb, unsigned int n)
{
	unsigned int i;

	switch (format) {
	case DRM_FORMAT_XRGB8888:
		for (i = 0; i < n; i++)
			put_unaligned_le32(argb[i] | 0xff000000, d + 4 * i);
		break;
	case DRM_FORMAT_ARGB8888:
		for (i = 0; i < n; i++)
			put_unaligned_le32(argb[i], d + 4 * i);
		break;
	case DRM_FORMAT_XBGR8888:
		for (i = 0; i < n; i++)
			put_unaligned_le32(vprime_swap_red_blue(argb[i]) | 0xff000000, d + 4 * i);
		break;
	case DRM_FORMAT_ABGR8888:
		for (i = 0; i < n; i++)
			put_unaligned_le32(vprime_swap_red_blue(argb[i]), d + 4 * i);
		break;
	default:	/* RGB565 */
		for (i = 0; i < n; i++)
			put_unaligned_le16(vprime_argb_to_rgb565(argb[i]), d + 2 * i);
	}
}

/* Pixels converted through ARGB8888 at a time: 256 bytes of stack. */
#define VPRIME_CONVERT_CHUNK	64

static void vprime_convert_pixels(u8 *d, u32 dst_format, const u8 *s, u32 src_format, size_t n)
{
	unsigned int scpp = vprime_cpp(src_format), dcpp = vprime_cpp(dst_format), k;
	u32 argb[VPRIME_CONVERT_CHUNK];

	for (; n; n -= k, s += k * scpp, d += k * dcpp) {
		k = min_t(size_t, n, VPRIME_CONVERT_CHUNK);
		vprime_line_to_argb(s, src_format, argb, k);
		vprime_line_from_argb(d, dst_format, argb, k);
	}
}

/*
 * Copy @len bytes, OR-ing @mask into each 8-byte word: 0, or byte 3 of
 * both 32-bit pixels of a word (then @len is a multiple of 4). Four words
 * a round, loads before stores, as memcpy_orig does. Not memcpy() itself:
 * before 6.2 it is `rep movsb` on a CPU with ERMS, which QEMU's TCG
 * emulates a byte at a time (17 MiB/s in the test VM).
 */
static void vprime_copy_run(u8 *d, const u8 *s, size_t len, u64 mask)
{
	size_t i;

	for (i = 0; i + 32 <= len; i += 32) {
		u64 a = get_unaligned_le64(s + i), b = get_unaligned_le64(s + i + 8);
		u64 c = get_unaligned_le64(s + i + 16), e = get_unaligned_le64(s + i + 24);

		put_unaligned_le64(a | mask, d + i);
		put_unaligned_le64(b | mask, d + i + 8);
		put_unaligned_le64(c | mask, d + i + 16);
		put_unaligned_le64(e | mask, d + i + 24);
	}
	for (; i + 8 <= len; i += 8)
		put_unaligned_le64(get_unaligned_le64(s + i) | mask, d + i);
	if (i + 4 <= len) {
		put_unaligned_le32(get_unaligned_le32(s + i) | (u32)mask, d + i);
		i += 4;
	}
	/* An RGB565 pixel, copied as it is. */
	if (i < len)
		memcpy(d + i, s + i, len - i);
}

enum vprime_copy_kind {
	COPY_CONVERT,	/* through ARGB8888 */
	COPY_BYTES,	/* as they are */
	COPY_OPAQUE,	/* 32 bits, byte 3 set to 0xff */
};

static bool vprime_format_has_alpha(u32 format)
{
	return format == DRM_FORMAT_ARGB8888 || format == DRM_FORMAT_ABGR8888;
}

/* How a pixel of @src_format becomes one of @dst_format, without a conversion when it can. */
static enum vprime_copy_kind vprime_copy_kind_of(u32 src_format, u32 dst_format)
{
	/* The channels' order, whether the fourth byte is X or A. */
	static const u32 rgb[] = { DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888 };
	static const u32 bgr[] = { DRM_FORMAT_XBGR8888, DRM_FORMAT_ABGR8888 };
	bool same_order = false;
	unsigned int i, j;

	if (src_format == DRM_FORMAT_RGB565 || dst_format == DRM_FORMAT_RGB565)
		return src_format == dst_format ? COPY_BYTES : COPY_CONVERT;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			if ((src_format == rgb[i] && dst_format == rgb[j]) ||
			    (src_format == bgr[i] && dst_format == bgr[j]))
				same_order = true;
	if (!same_order)
		return COPY_CONVERT;
	/* An alpha kept as it is only from alpha to alpha. */
	return vprime_format_has_alpha(src_format) && vprime_format_has_alpha(dst_format) ?
	       COPY_BYTES : COPY_OPAQUE;
}

/*
 * The generic path, for rectangles that overlap in memory: a pixel at a
 * time, rows and pixels in order, each read before it is written, which
 * defines what such a copy gives.
 */
static int vprime_copy_pixelwise(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *src = &job->bos[cmd->src], *dst = &job->bos[cmd->dst];
	unsigned int scpp = vprime_cpp(src->desc.format), dcpp = vprime_cpp(dst->desc.format);
	u32 x, y;

	for (y = 0; y < cmd->height; y++) {
		const u8 *s = vprime_pixel_at(src, cmd->src_x, cmd->src_y + y);
		u8 *d = vprime_pixel_at(dst, cmd->dst_x, cmd->dst_y + y);

		if (vprime_row_stop(job))
			return -ECANCELED;
		for (x = 0; x < cmd->width; x++) {
			u32 argb = vprime_packed_to_argb(s + x * scpp, src->desc.format);

			vprime_argb_to_packed(d + x * dcpp, dst->desc.format, argb);
		}
	}
	return 0;
}

/* Whether the bytes from a rectangle's first pixel to its last meet the other's. */
static bool vprime_spans_meet(const u8 *s, size_t spitch, size_t srow, const u8 *d, size_t dpitch,
			      size_t drow, u32 height)
{
	unsigned long s0 = (unsigned long)s, d0 = (unsigned long)d;

	return s0 < d0 + (height - 1) * dpitch + drow && d0 < s0 + (height - 1) * spitch + srow;
}

static int vprime_cmd_copy(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *src = &job->bos[cmd->src], *dst = &job->bos[cmd->dst];
	u32 sf = src->desc.format, df = dst->desc.format, y, n;
	size_t srow = (size_t)cmd->width * vprime_cpp(sf);
	size_t drow = (size_t)cmd->width * vprime_cpp(df);
	size_t spitch = src->desc.pitch, dpitch = dst->desc.pitch;
	u32 step = vprime_rows_per_step(srow, spitch, drow, dpitch);
	enum vprime_copy_kind kind = vprime_copy_kind_of(sf, df);
	const u8 *s = vprime_pixel_at(src, cmd->src_x, cmd->src_y);
	u8 *d = vprime_pixel_at(dst, cmd->dst_x, cmd->dst_y);

	/* The same buffer (or two views of it) read and written at once. */
	if (vprime_spans_meet(s, spitch, srow, d, dpitch, drow, cmd->height))
		return vprime_copy_pixelwise(cmd, job);
	for (y = 0; y < cmd->height; y += n) {
		size_t px;

		n = min(step, cmd->height - y);
		px = (size_t)cmd->width * n;
		if (vprime_row_stop(job))
			return -ECANCELED;
		switch (kind) {
		case COPY_BYTES:
			vprime_copy_run(d + y * dpitch, s + y * spitch, drow * n, 0);
			break;
		case COPY_OPAQUE:
			vprime_copy_run(d + y * dpitch, s + y * spitch, drow * n,
					0xff000000ff000000ull);
			break;
		default:
			vprime_convert_pixels(d + y * dpitch, df, s + y * spitch, sf, px);
		}
	}
	return 0;
}

static int vprime_cmd_checksum(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *src = &job->bos[cmd->src], *dst = &job->bos[cmd->dst];
	size_t row = (size_t)cmd->width * vprime_cpp(src->desc.format);
	u32 crc = 0, y;

	for (y = 0; y < cmd->height; y++) {
		if (vprime_row_stop(job))
			return -ECANCELED;
		crc = crc32_le(crc, vprime_pixel_at(src, cmd->src_x, cmd->src_y + y), row);
	}
	put_unaligned_le32(crc, (u8 *)dst->map.vaddr + cmd->dst_offset);
	return 0;
}

/**
 * vprime_cmd_execute - execute one checked FILL, COPY or CHECKSUM
 * @cmd: the command
 * @job: its job, whose buffers are mapped
 *
 * Returns: 0, or -ECANCELED when the job had to stop (vprime_job_stopped())
 * before the command completed.
 */
int vprime_cmd_execute(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	switch (cmd->op) {
	case VPRIME_CMD_FILL:
		return vprime_cmd_fill(cmd, job);
	case VPRIME_CMD_COPY:
		return vprime_cmd_copy(cmd, job);
	case VPRIME_CMD_CHECKSUM:
		return vprime_cmd_checksum(cmd, job);
	default:
		return 0;
	}
}
