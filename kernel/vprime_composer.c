// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: composer
 *
 * A CRTC's frame is composed in software, one row at a time, only when
 * someone looks at it: a CRC source is set, or a writeback job waits. The
 * vblank timer queues the work on the CRTC's ordered workqueue; the work
 * blends the visible planes over a black background in zpos order, adds
 * the frame's CRC (crc32 of the rows as little-endian ARGB8888) and fills
 * the writeback buffer.
 *
 * Blending follows the "pixel blend mode" property, with the plane's
 * "alpha" applied on top: "Pre-multiplied" (the default) adds the colour to
 * the background scaled by one minus alpha, "Coverage" scales the colour by
 * alpha first, "None" ignores the pixels' alpha. Planes are not scaled.
 * A rotated or reflected plane is read along the row or column of its
 * framebuffer that the core's rotation of the source rectangle puts on the
 * screen row. The blended row then goes through the CRTC's colour pipeline
 * (vprime_color.c).
 */

#include <linux/crc32.h>
#include <linux/dma-fence.h>

#include <drm/drm_atomic.h>
#include <drm/drm_blend.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_rect.h>
#include <drm/drm_vblank.h>

#include "vprime_fault.h"
#include "vprime_kms.h"

static u32 vprime_mul_div255(u32 a, u32 b)
{
	return DIV_ROUND_CLOSEST(a * b, 255);
}

/* Blend one ARGB8888 pixel over @dst by @mode, with plane alpha @alpha (16 bit). */
static u32 vprime_blend_pixel(u32 dst, u32 src, u16 mode, u16 alpha)
{
	u32 pa = mode == DRM_MODE_BLEND_PIXEL_NONE ? 255 : src >> 24;
	u32 a8 = DIV_ROUND_CLOSEST(alpha * 255u, 0xffff);
	u32 a = vprime_mul_div255(pa, a8), out = 0;
	int shift;

	/* Opaque over anything, in every mode: the source itself. */
	if (a == 255)
		return src | 0xff000000;

	for (shift = 0; shift < 24; shift += 8) {
		u32 s = (src >> shift) & 0xff, d = (dst >> shift) & 0xff;

		if (mode == DRM_MODE_BLEND_PREMULTI)
			s = vprime_mul_div255(s, a8);
		else
			s = vprime_mul_div255(s, a);
		out |= min(s + vprime_mul_div255(d, 255 - a), 255u) << shift;
	}
	return out | 0xff000000;
}

/* Whether every pixel of @s covers what is below it: no blending to do. */
static bool vprime_plane_is_opaque(const struct drm_plane_state *s)
{
	return s->alpha == DRM_BLEND_ALPHA_OPAQUE &&
	       (s->pixel_blend_mode == DRM_MODE_BLEND_PIXEL_NONE || !s->fb->format->has_alpha);
}

/*
 * Where a plane is, read once per frame: an async cursor update moves the
 * cursor while frames are composed (vprime_plane.c).
 */
struct vprime_plane_place {
	struct drm_rect src;
	struct drm_rect dst;
};

static void vprime_read_places(struct vprime_output *out, const struct vprime_crtc_state *state,
			       struct vprime_plane_place *place)
{
	unsigned int i;

	spin_lock_irq(&out->lock);
	for (i = 0; i < state->num_planes; i++) {
		place[i].src = state->planes[i]->base.src;
		place[i].dst = state->planes[i]->base.dst;
	}
	spin_unlock_irq(&out->lock);
}

/*
 * The framebuffer pixel that @s, at @place, shows at (@ox, @oy) of its
 * on-screen rectangle, as a 1x1 rectangle: the core's own rotation of the
 * source rectangle says where it is.
 */
static struct drm_rect vprime_source_pixel(const struct drm_plane_state *s,
					   const struct vprime_plane_place *place, int ox, int oy)
{
	const struct drm_framebuffer *fb = s->fb;
	struct drm_rect src = DRM_RECT_INIT(place->src.x1 >> 16, place->src.y1 >> 16,
					    drm_rect_width(&place->src) >> 16,
					    drm_rect_height(&place->src) >> 16);
	struct drm_rect p;

	drm_rect_rotate(&src, fb->width, fb->height, s->rotation);
	p = DRM_RECT_INIT(src.x1 + ox, src.y1 + oy, 1, 1);
	drm_rect_rotate_inv(&p, fb->width, fb->height, s->rotation);
	return p;
}

/* Blend plane @ps, at @place, into row @y of the frame, @row, @width pixels wide. */
static void vprime_blend_plane_row(const struct vprime_plane_state *ps,
				   const struct vprime_plane_place *place, int y, u32 *row,
				   u32 *line, int width)
{
	const struct drm_plane_state *s = &ps->base;
	const struct drm_rect *dst = &place->dst;
	int x1 = max(dst->x1, 0), x2 = min(dst->x2, width), i;
	struct drm_rect first, next;

	if (x1 >= x2)
		return;
	/* Along a screen row the source moves one pixel in x or in y. */
	first = vprime_source_pixel(s, place, x1 - dst->x1, y - dst->y1);
	next = vprime_source_pixel(s, place, x1 + 1 - dst->x1, y - dst->y1);
	vprime_read_line(ps, first.x1, first.y1, next.x1 - first.x1, next.y1 - first.y1,
			 x2 - x1, line);
	if (vprime_plane_is_opaque(s)) {
		for (i = 0; i < x2 - x1; i++)
			row[x1 + i] = line[i] | 0xff000000;
		return;
	}
	for (i = 0; i < x2 - x1; i++)
		row[x1 + i] = vprime_blend_pixel(row[x1 + i], line[i], s->pixel_blend_mode,
						 s->alpha);
}

/*
 * Compose the frame of @state row by row into @out's rows; write it back and
 * CRC it as asked. Nothing is allocated: this is on the way to signalling
 * a writeback out-fence.
 */
static void vprime_compose(struct vprime_output *out, struct vprime_crtc_state *state,
			   bool writeback, u32 *crc)
{
	const struct drm_display_mode *mode = &state->base.mode;
	int width = mode->hdisplay, height = mode->vdisplay, y;
	u32 *row = out->compose_row, *line = out->compose_line;
	struct vprime_plane_place place[VPRIME_MAX_PLANES_PER_CRTC];
	unsigned int i;

	*crc = 0;
	vprime_read_places(out, state, place);
	vprime_color_prepare(&out->color, &state->base);
	for (y = 0; y < height; y++) {
		memset32(row, 0xff000000, width);
		for (i = 0; i < state->num_planes; i++) {
			const struct drm_rect *dst = &place[i].dst;

			if (y >= dst->y1 && y < dst->y2)
				vprime_blend_plane_row(state->planes[i], &place[i], y, row,
						       line, width);
		}
		vprime_color_apply(&out->color, row, width);
		if (writeback)
			vprime_write_line(state->wb, y, row, width);
		*crc = crc32_le(*crc, (const u8 *)row, width * sizeof(*row));
	}
}

/**
 * vprime_compose_worker - compose a frame for CRC and writeback
 * @work: &vprime_crtc_state.compose_work
 *
 * Queued by the vblank timer while a CRC source is set or a writeback job
 * waits; it may run behind the timer, so one CRC can stand for several
 * vblanks.
 */
void vprime_compose_worker(struct work_struct *work)
{
	struct vprime_crtc_state *state = container_of(work, struct vprime_crtc_state,
						       compose_work);
	struct drm_crtc *crtc = state->base.crtc;
	struct vprime_output *out = crtc_to_output(crtc);
	bool crc_pending, wb_pending, cookie;
	u64 frame_start, frame_end;
	u32 crc;

	vprime_fault_delay(VPRIME_DELAY_COMPOSE);
	spin_lock_irq(&out->composer_lock);
	frame_start = state->frame_start;
	frame_end = state->frame_end;
	crc_pending = state->crc_pending;
	wb_pending = state->wb_pending;
	state->crc_pending = false;
	state->wb_pending = false;
	spin_unlock_irq(&out->composer_lock);

	if (!crc_pending && !wb_pending)
		return;
	cookie = dma_fence_begin_signalling();
	vprime_compose(out, state, wb_pending && state->wb, &crc);
	if (wb_pending && state->wb)
		drm_writeback_signal_completion(&out->wb, 0);
	dma_fence_end_signalling(cookie);
	if (!crc_pending || !READ_ONCE(out->crc_enabled))
		return;
	while (frame_start <= frame_end)
		drm_crtc_add_crc_entry(crtc, true, frame_start++, &crc);
}

static const char *const crc_sources[] = { "auto" };

/**
 * vprime_get_crc_sources - &drm_crtc_funcs.get_crc_sources
 * @crtc: the CRTC
 * @count: out: the number of sources
 *
 * Returns: the sources: "auto", the composed frame.
 */
const char *const *vprime_get_crc_sources(struct drm_crtc *crtc, size_t *count)
{
	*count = ARRAY_SIZE(crc_sources);
	return crc_sources;
}

static int vprime_parse_crc_source(const char *src_name, bool *enabled)
{
	if (!src_name) {
		*enabled = false;
		return 0;
	}
	if (strcmp(src_name, "auto"))
		return -EINVAL;
	*enabled = true;
	return 0;
}

/**
 * vprime_verify_crc_source - &drm_crtc_funcs.verify_crc_source
 * @crtc: the CRTC
 * @src_name: the source asked for, or NULL to turn CRCs off
 * @values_cnt: out: values per CRC entry
 *
 * Returns: 0, or -EINVAL for a source other than "auto".
 */
int vprime_verify_crc_source(struct drm_crtc *crtc, const char *src_name, size_t *values_cnt)
{
	bool enabled;

	if (vprime_parse_crc_source(src_name, &enabled))
		return -EINVAL;
	*values_cnt = 1;
	return 0;
}

/**
 * vprime_set_crc_source - &drm_crtc_funcs.set_crc_source
 * @crtc: the CRTC
 * @src_name: "auto", or NULL to turn CRCs off
 *
 * Holds a vblank reference while CRCs are on, so the timer keeps running.
 *
 * Returns: 0, or -EINVAL for an unknown source.
 */
int vprime_set_crc_source(struct drm_crtc *crtc, const char *src_name)
{
	struct vprime_output *out = crtc_to_output(crtc);
	bool enabled, was;
	int ret;

	ret = vprime_parse_crc_source(src_name, &enabled);
	if (ret)
		return ret;
	was = READ_ONCE(out->crc_enabled);
	if (enabled && !was) {
		ret = drm_crtc_vblank_get(crtc);
		if (ret)
			return ret;
	}
	spin_lock_irq(&out->lock);
	out->crc_enabled = enabled;
	spin_unlock_irq(&out->lock);
	if (!enabled && was)
		drm_crtc_vblank_put(crtc);
	return 0;
}
