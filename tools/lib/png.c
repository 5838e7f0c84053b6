// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <png.h>

#include "png.h"

/* The rows as RGB bytes, kept out of setjmp()'s way. */
static uint8_t *to_rgb(const uint32_t *pixels, uint32_t width, uint32_t height, uint32_t pitch)
{
	uint8_t *rgb = malloc((size_t)width * height * 3);

	for (uint32_t y = 0; rgb && y < height; y++) {
		const uint32_t *row = (const uint32_t *)((const uint8_t *)pixels + (size_t)y * pitch);

		for (uint32_t x = 0; x < width; x++) {
			uint8_t *p = rgb + ((size_t)y * width + x) * 3;

			p[0] = row[x] >> 16;
			p[1] = row[x] >> 8;
			p[2] = row[x];
		}
	}
	return rgb;
}

/* Encode @rgb into @f. Nothing it changes after setjmp() is read after a longjmp(). */
static int encode(FILE *f, const uint8_t *rgb, uint32_t width, uint32_t height)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;

	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -EIO;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < height; y++)
		png_write_row(png, rgb + (size_t)y * width * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int write_png(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
	      uint32_t pitch)
{
	uint8_t *rgb = to_rgb(pixels, width, height, pitch);
	FILE *f;
	int ret;

	if (!rgb)
		return -ENOMEM;
	f = fopen(path, "wb");
	if (!f) {
		ret = -errno;
		free(rgb);
		return ret;
	}
	ret = encode(f, rgb, width, height);
	if (fclose(f) && !ret)
		ret = -errno;
	free(rgb);
	return ret;
}
