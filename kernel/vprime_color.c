// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: colour management
 *
 * Each CRTC has the standard colour pipeline after blending, in the order
 * the uapi defines: "DEGAMMA_LUT", then "CTM", then "GAMMA_LUT". Both LUTs
 * have 256 entries ("DEGAMMA_LUT_SIZE", "GAMMA_LUT_SIZE"); a blob of any
 * other size fails the commit with -EINVAL. The legacy gamma ioctl works
 * too: the core turns it into a GAMMA_LUT and clears the other two.
 *
 * The composer applies the pipeline to every composed row, so CRCs and
 * writeback see its result. Between the stages a channel has 16 bits: an
 * 8-bit value v enters as the degamma LUT's entry v (v * 257 without one),
 * the CTM's coefficients are used to 1/65536, and the gamma LUT
 * interpolates linearly between its entries; the result is rounded to 8
 * bits. Without a CTM, degamma and gamma fold into one 8-bit table per
 * channel, built for each frame.
 */

#include <linux/math64.h>

#include <drm/drm_color_mgmt.h>
#include <drm/drm_crtc.h>
#include <drm/drm_property.h>

#include "vprime_kms.h"

/**
 * vprime_color_init - give a CRTC its colour pipeline properties
 * @crtc: the CRTC
 *
 * Returns: 0 or a negative errno.
 */
int vprime_color_init(struct drm_crtc *crtc)
{
	int ret;

	ret = drm_mode_crtc_set_gamma_size(crtc, VPRIME_LUT_SIZE);
	if (ret)
		return ret;
	drm_crtc_enable_color_mgmt(crtc, VPRIME_LUT_SIZE, true, VPRIME_LUT_SIZE);
	return 0;
}

static int vprime_color_check_lut(const struct drm_property_blob *lut)
{
	return !lut || drm_color_lut_size(lut) == VPRIME_LUT_SIZE ? 0 : -EINVAL;
}

/**
 * vprime_color_atomic_check - check a CRTC state's colour pipeline
 * @state: the new CRTC state
 *
 * The core has checked that the blobs hold whole entries and that the CTM
 * has its size.
 *
 * Returns: 0, or -EINVAL for a LUT that does not have 256 entries.
 */
int vprime_color_atomic_check(const struct drm_crtc_state *state)
{
	int ret = vprime_color_check_lut(state->degamma_lut);

	return ret ?: vprime_color_check_lut(state->gamma_lut);
}

static u16 vprime_lut_channel(const struct drm_color_lut *e, int c)
{
	return c == 0 ? e->red : c == 1 ? e->green : e->blue;
}

/* Channel @c of 8-bit @v through the degamma LUT @lut (or none): 16 bits. */
static u16 vprime_apply_degamma(const struct drm_color_lut *lut, int c, u8 v)
{
	return lut ? vprime_lut_channel(&lut[v], c) : v * 257;
}

/* Channel @c of 16-bit @v through the gamma LUT @lut (or none), to 8 bits. */
static u8 vprime_apply_gamma(const struct drm_color_lut *lut, int c, u16 v)
{
	/* v sits between entries i and i + 1, frac / 0xffff of the way. */
	u32 pos = v * (VPRIME_LUT_SIZE - 1);
	u32 i = pos / 0xffff;
	u32 frac = pos % 0xffff;
	s32 lo, hi;

	if (lut) {
		lo = vprime_lut_channel(&lut[i], c);
		hi = i + 1 < VPRIME_LUT_SIZE ? vprime_lut_channel(&lut[i + 1], c) : lo;
		v = lo + DIV_S64_ROUND_CLOSEST((s64)(hi - lo) * frac, 0xffff);
	}
	return DIV_ROUND_CLOSEST(v * 255u, 0xffff);
}

/*
 * A CTM coefficient, S31.32 sign-magnitude, as signed 16.16, saturated at
 * +-2^24: far past where any input saturates the output, and small enough
 * that three products with 16-bit inputs add up without overflow.
 */
static s64 vprime_ctm_coefficient(u64 v)
{
	s64 mag = min_t(u64, ((v & ~BIT_ULL(63)) + BIT_ULL(15)) >> 16, 1ull << 40);

	return v & BIT_ULL(63) ? -mag : mag;
}

static const struct drm_color_lut *vprime_lut_of(const struct drm_property_blob *blob)
{
	return blob ? blob->data : NULL;
}

/**
 * vprime_color_prepare - build the tables of a frame's colour pipeline
 * @t: the output's tables
 * @state: the CRTC state being composed
 */
void vprime_color_prepare(struct vprime_color *t, const struct drm_crtc_state *state)
{
	const struct drm_color_lut *deg = vprime_lut_of(state->degamma_lut);
	const struct drm_color_ctm *ctm = state->ctm ? state->ctm->data : NULL;
	unsigned int c, v;

	t->lut_only = !ctm;
	t->active = deg || ctm || state->gamma_lut;
	t->gamma = vprime_lut_of(state->gamma_lut);
	if (!t->active)
		return;
	for (c = 0; c < 3; c++) {
		for (v = 0; v < 256; v++) {
			t->degamma[c][v] = vprime_apply_degamma(deg, c, v);
			t->lut8[c][v] = vprime_apply_gamma(t->gamma, c, t->degamma[c][v]);
		}
	}
	for (c = 0; ctm && c < ARRAY_SIZE(t->ctm); c++)
		t->ctm[c] = vprime_ctm_coefficient(ctm->matrix[c]);
}

static u32 vprime_color_channel(u32 argb, int c)
{
	return (argb >> (16 - 8 * c)) & 0xff;
}

/* One pixel through degamma, the CTM and gamma. */
static u32 vprime_color_pixel_ctm(const struct vprime_color *t, u32 argb)
{
	u16 in[3];
	u32 out = argb & 0xff000000;
	int c, j;

	for (c = 0; c < 3; c++)
		in[c] = t->degamma[c][vprime_color_channel(argb, c)];
	for (c = 0; c < 3; c++) {
		s64 sum = 0;

		for (j = 0; j < 3; j++)
			sum += t->ctm[3 * c + j] * in[j];
		sum = clamp_t(s64, (sum + (1 << 15)) >> 16, 0, 0xffff);
		out |= (u32)vprime_apply_gamma(t->gamma, c, sum) << (16 - 8 * c);
	}
	return out;
}

/**
 * vprime_color_apply - put a composed row through the colour pipeline
 * @t: the tables vprime_color_prepare() built for this frame
 * @row: ARGB8888 pixels, changed in place
 * @count: their number
 */
void vprime_color_apply(const struct vprime_color *t, u32 *row, unsigned int count)
{
	unsigned int i;
	u32 p;

	if (!t->active)
		return;
	if (!t->lut_only) {
		for (i = 0; i < count; i++)
			row[i] = vprime_color_pixel_ctm(t, row[i]);
		return;
	}
	for (i = 0; i < count; i++) {
		p = row[i];
		row[i] = (p & 0xff000000) | t->lut8[0][vprime_color_channel(p, 0)] << 16 |
			 t->lut8[1][vprime_color_channel(p, 1)] << 8 |
			 t->lut8[2][vprime_color_channel(p, 2)];
	}
}
