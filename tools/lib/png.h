/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef VPRIME_PNG_H
#define VPRIME_PNG_H

#include <stdint.h>

/*
 * Write @width x @height XRGB8888 pixels (@pitch bytes per row) to @path as
 * an 8-bit RGB PNG. Returns 0, or a negative errno (-EIO for libpng errors).
 */
int write_png(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
	      uint32_t pitch);

#endif /* VPRIME_PNG_H */
