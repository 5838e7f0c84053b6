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
 * a CPU or the engine past its timeout.
 */

#include <linux/crc32.h>
#include <linux/kernel.h>
#include <linux/sched.h>

#include <drm/drm_fourcc.h>
#include <drm/drm_gem.h>

#include "vprime_cmd.h"
#include "vprime_compat.h"
#include "vprime_sched.h"
#include "vprime_kms.h"

static unsigned int format_cpp(u32 format)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
		return 4;
	case DRM_FORMAT_RGB565:
		return 2;
	default:
		return 0;
	}
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
	unsigned int cpp = format_cpp(desc->format);

	if (!cpp || !desc->width || !desc->height ||
	    (u64)desc->width * cpp > desc->pitch ||
	    (u64)desc->pitch * (desc->height - 1) + (u64)desc->width * cpp > size)
		return -EINVAL;
	return 0;
}

static bool rect_inside(const struct drm_vprime_submit_bo *s, u32 x, u32 y, u32 w, u32 h)
{
	return w && h && x <= s->width && w <= s->width - x && y <= s->height &&
	       h <= s->height - y;
}

static bool writable(const struct vprime_job_bo *bo)
{
	return bo->desc.flags & VPRIME_SUBMIT_BO_WRITE;
}

static bool readable(const struct vprime_job_bo *bo)
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
		return writable(dst) && rect_inside(&dst->desc, cmd->dst_x, cmd->dst_y,
						    cmd->width, cmd->height) ? 0 : -EINVAL;
	default:	/* COPY, CHECKSUM */
		if (cmd->src >= num_bos)
			return -EINVAL;
		src = &bos[cmd->src];
		if (!readable(src) || !writable(dst) ||
		    !rect_inside(&src->desc, cmd->src_x, cmd->src_y, cmd->width, cmd->height))
			return -EINVAL;
		if (cmd->op == VPRIME_CMD_CHECKSUM)
			return cmd->dst_offset % 4 || cmd->dst_offset > dst->obj->size - 4 ?
			       -EINVAL : 0;
		return rect_inside(&dst->desc, cmd->dst_x, cmd->dst_y, cmd->width,
				   cmd->height) ? 0 : -EINVAL;
	}
}

static u8 *pixel_at(const struct vprime_job_bo *bo, u32 x, u32 y)
{
	return (u8 *)bo->map.vaddr + (size_t)y * bo->desc.pitch +
	       (size_t)x * format_cpp(bo->desc.format);
}

/* Before each row: give the CPU up, and tell whether the job must stop. */
static bool row_stop(const struct vprime_job *job)
{
	cond_resched();
	return vprime_job_stopped(job);
}

static int fill(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *dst = &job->bos[cmd->dst];
	unsigned int cpp = format_cpp(dst->desc.format);
	u32 x, y;

	for (y = 0; y < cmd->height; y++) {
		if (row_stop(job))
			return -ECANCELED;
		for (x = 0; x < cmd->width; x++)
			vprime_argb_to_packed(pixel_at(dst, cmd->dst_x, cmd->dst_y + y) + x * cpp,
					      dst->desc.format, cmd->value);
	}
	return 0;
}

static int copy(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *src = &job->bos[cmd->src], *dst = &job->bos[cmd->dst];
	unsigned int scpp = format_cpp(src->desc.format), dcpp = format_cpp(dst->desc.format);
	u32 x, y;

	for (y = 0; y < cmd->height; y++) {
		const u8 *s = pixel_at(src, cmd->src_x, cmd->src_y + y);
		u8 *d = pixel_at(dst, cmd->dst_x, cmd->dst_y + y);

		if (row_stop(job))
			return -ECANCELED;
		for (x = 0; x < cmd->width; x++) {
			u32 argb = vprime_packed_to_argb(s + x * scpp, src->desc.format);

			vprime_argb_to_packed(d + x * dcpp, dst->desc.format, argb);
		}
	}
	return 0;
}

static int checksum(const struct drm_vprime_cmd *cmd, const struct vprime_job *job)
{
	const struct vprime_job_bo *src = &job->bos[cmd->src], *dst = &job->bos[cmd->dst];
	size_t row = (size_t)cmd->width * format_cpp(src->desc.format);
	u32 crc = 0, y;

	for (y = 0; y < cmd->height; y++) {
		if (row_stop(job))
			return -ECANCELED;
		crc = crc32_le(crc, pixel_at(src, cmd->src_x, cmd->src_y + y), row);
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
		return fill(cmd, job);
	case VPRIME_CMD_COPY:
		return copy(cmd, job);
	case VPRIME_CMD_CHECKSUM:
		return checksum(cmd, job);
	default:
		return 0;
	}
}
