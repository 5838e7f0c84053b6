/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * The picture the Weston test's client draws (wl_pattern.c) and the checker
 * looks for (weston_check.c): XRGB8888, a function of the pixel's place in
 * a window of @w x @h only, so that either side computes it.
 *
 *   red    rises from 0 at the left edge to 255 at the right edge
 *   green  rises from 0 at the top to 255 at the bottom
 *   blue   a 32-pixel checkerboard of 0x20 and 0xe0
 *   the middle quarter (w/4..3w/4, h/4..3h/4) is one known colour,
 *   PATTERN_KNOWN, whose blue (0xc0) the rest of the picture never has.
 */

#ifndef VPRIME_WESTON_PATTERN_H
#define VPRIME_WESTON_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#define PATTERN_KNOWN	0x002080c0u

static inline bool pattern_in_known(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	return x >= w / 4 && x < w - w / 4 && y >= h / 4 && y < h - h / 4;
}

static inline uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t r, g, b;

	if (pattern_in_known(x, y, w, h))
		return PATTERN_KNOWN;
	r = w > 1 ? x * 255 / (w - 1) : 0;
	g = h > 1 ? y * 255 / (h - 1) : 0;
	b = ((x >> 5) ^ (y >> 5)) & 1 ? 0xe0 : 0x20;
	return r << 16 | g << 8 | b;
}

#endif /* VPRIME_WESTON_PATTERN_H */
