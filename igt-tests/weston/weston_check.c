// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-weston-check: the assertions of the Weston test (weston-test), on
 * the two captures it took of the same screen while Weston showed the
 * pattern client (pattern.h):
 *   WESTON_WRITEBACK_PNG   weston-screenshooter --source-type=writeback:
 *                          the frame vprime's writeback connector composed
 *   WESTON_SCREENSHOT_PNG  weston-screenshooter's framebuffer source:
 *                          Weston's own picture of its output
 *   WESTON_CLIENT_SIZE     "WIDTH HEIGHT" of the client's buffer
 *   WESTON_DIFF_PNG        where to write the differences, if any
 *   WESTON_CROP            "X Y WIDTH HEIGHT": only this rectangle of the
 *                          writeback capture is looked at (one output of a
 *                          capture of several, side by side), if set
 * Pixels are compared as RGB; the PNGs' alpha is not looked at.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "pattern.h"
#include "vtest.h"

struct image {
	uint32_t *px;		/* XRGB8888, no padding */
	uint32_t width, height;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	vt_require_f(v && *v, "%s is not set (run through weston-test)\n", name);
	return v;
}

/* Keep only the rectangle "X Y WIDTH HEIGHT" of @img. */
static void crop(struct image *img, const char *rect)
{
	uint32_t x, y, w, h;

	vt_assert_f(sscanf(rect, "%u %u %u %u", &x, &y, &w, &h) == 4,
		    "WESTON_CROP is \"%s\"\n", rect);
	vt_assert_f(w && h && x < img->width && y < img->height &&
		    w <= img->width - x && h <= img->height - y,
		    "WESTON_CROP %s is not within the %ux%u capture\n", rect,
		    img->width, img->height);
	for (uint32_t r = 0; r < h; r++)
		memmove(img->px + (size_t)r * w, img->px + (size_t)(y + r) * img->width + x,
			w * sizeof(*img->px));
	img->width = w;
	img->height = h;
	vtest_info("cropped to %ux%u at %u,%u\n", w, h, x, y);
}

static void load(const char *var, struct image *img)
{
	const char *path = env(var);
	png_image png = { .version = PNG_IMAGE_VERSION };

	vt_assert_f(png_image_begin_read_from_file(&png, path),
		    "%s: %s\n", path, png.message);
	png.format = PNG_FORMAT_BGRA;	/* little-endian ARGB8888 words */
	img->width = png.width;
	img->height = png.height;
	img->px = malloc(PNG_IMAGE_SIZE(png));
	vt_assert(img->px);
	vt_assert_f(png_image_finish_read(&png, NULL, img->px, 0, NULL),
		    "%s: %s\n", path, png.message);
	for (size_t i = 0; i < (size_t)img->width * img->height; i++)
		img->px[i] &= 0xffffff;
	if (!strcmp(var, "WESTON_WRITEBACK_PNG") && getenv("WESTON_CROP") &&
	    *getenv("WESTON_CROP"))
		crop(img, getenv("WESTON_CROP"));
	vtest_info("%s: %s, %ux%u\n", var, path, img->width, img->height);
}

/* Write @px (@w x @h XRGB8888) to @path as a PNG; a failure is only said. */
static void save(const char *path, const uint32_t *px, uint32_t w, uint32_t h)
{
	png_image png = {
		.version = PNG_IMAGE_VERSION,
		.width = w,
		.height = h,
		.format = PNG_FORMAT_BGRA,
	};
	uint32_t *opaque = malloc((size_t)w * h * sizeof(*opaque));

	for (size_t i = 0; opaque && i < (size_t)w * h; i++)
		opaque[i] = px[i] | 0xff000000;
	if (!opaque || !png_image_write_to_file(&png, path, 0, opaque, 0, NULL))
		vtest_info("%s: %s\n", path, opaque ? png.message : "out of memory");
	free(opaque);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Not blank: at least 256 distinct colours, and no colour covers half of
 * the frame (the pattern's known colour covers a quarter of the window).
 */
static void writeback_not_blank(void)
{
	struct image wb;
	size_t n, distinct = 0, run = 0, most = 0;
	uint32_t most_colour = 0, *sorted;

	load("WESTON_WRITEBACK_PNG", &wb);
	n = (size_t)wb.width * wb.height;
	vt_assert(n > 0);
	sorted = malloc(n * sizeof(*sorted));
	vt_assert(sorted);
	memcpy(sorted, wb.px, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || sorted[i] != sorted[i - 1]) {
			distinct++;
			run = 0;
		}
		if (++run > most) {
			most = run;
			most_colour = sorted[i];
		}
	}
	vtest_info("%zu distinct colours; the commonest, 0x%06x, covers %zu of %zu pixels\n",
		   distinct, most_colour, most, n);
	vt_assert_f(distinct >= 256, "only %zu distinct colours\n", distinct);
	vt_assert_f(most * 2 < n, "0x%06x covers %zu of %zu pixels\n", most_colour, most, n);
}

/*
 * The client's picture, every pixel, where kiosk-shell puts its window:
 * centred on the output (at 0,0 when it has the output's size). The known
 * colour must be exactly where the pattern has it, and nowhere else.
 */
static void check_client(const char *var)
{
	struct image img;
	uint32_t cw, ch, x0, y0, first_x = 0, first_y = 0;
	size_t bad = 0, known = 0, known_area;

	load(var, &img);
	vt_assert_f(sscanf(env("WESTON_CLIENT_SIZE"), "%u %u", &cw, &ch) == 2,
		    "WESTON_CLIENT_SIZE is \"%s\"\n", getenv("WESTON_CLIENT_SIZE"));
	vt_assert_f(cw <= img.width && ch <= img.height,
		    "a %ux%u window on a %ux%u output\n", cw, ch, img.width, img.height);
	x0 = (img.width - cw) / 2;
	y0 = (img.height - ch) / 2;
	vtest_info("the %ux%u window is expected at %u,%u\n", cw, ch, x0, y0);
	for (uint32_t y = 0; y < img.height; y++) {
		for (uint32_t x = 0; x < img.width; x++) {
			uint32_t p = img.px[(size_t)y * img.width + x];

			known += p == PATTERN_KNOWN;
			if (x < x0 || y < y0 || x >= x0 + cw || y >= y0 + ch)
				continue;
			if (p != pattern_pixel(x - x0, y - y0, cw, ch) && !bad++) {
				first_x = x;
				first_y = y;
			}
		}
	}
	known_area = (size_t)(cw - cw / 4 * 2) * (ch - ch / 4 * 2);
	vtest_info("%zu pixels of the known colour 0x%06x (the pattern has %zu)\n",
		   known, PATTERN_KNOWN, known_area);
	if (bad) {
		uint32_t p = img.px[(size_t)first_y * img.width + first_x];

		vt_fail("Failed assertion: the window shows the pattern",
			"%zu of %u pixels differ; the first at %u,%u is 0x%06x, not 0x%06x\n",
			bad, cw * ch, first_x, first_y, p,
			pattern_pixel(first_x - x0, first_y - y0, cw, ch));
	}
	vt_assert_eq(known, known_area);
}

static void client_in_writeback(void)
{
	check_client("WESTON_WRITEBACK_PNG");
}

static void client_in_screenshot(void)
{
	check_client("WESTON_SCREENSHOT_PNG");
}

/*
 * Writeback equals Weston's screenshot, exactly: every pixel's RGB. Where
 * they differ, WESTON_DIFF_PNG shows the differing pixels white on black.
 */
static void writeback_matches_screenshot(void)
{
	struct image wb, fb;
	size_t n, bad = 0, first = 0;
	uint32_t *diff, x1 = UINT32_MAX, y1 = UINT32_MAX, x2 = 0, y2 = 0;

	load("WESTON_WRITEBACK_PNG", &wb);
	load("WESTON_SCREENSHOT_PNG", &fb);
	vt_assert_f(wb.width == fb.width && wb.height == fb.height,
		    "writeback %ux%u, screenshot %ux%u\n", wb.width, wb.height,
		    fb.width, fb.height);
	n = (size_t)wb.width * wb.height;
	diff = calloc(n, sizeof(*diff));
	vt_assert(diff);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = i % wb.width, y = i / wb.width;

		if (wb.px[i] == fb.px[i])
			continue;
		if (!bad++)
			first = i;
		diff[i] = 0xffffff;
		x1 = x < x1 ? x : x1;
		y1 = y < y1 ? y : y1;
		x2 = x > x2 ? x : x2;
		y2 = y > y2 ? y : y2;
	}
	if (!bad)
		return;
	if (getenv("WESTON_DIFF_PNG") && *getenv("WESTON_DIFF_PNG"))
		save(getenv("WESTON_DIFF_PNG"), diff, wb.width, wb.height);
	vt_fail("Failed assertion: writeback == screenshot",
		"%zu of %zu pixels differ, within %u,%u-%u,%u; the first at %zu,%zu: "
		"writeback 0x%06x, screenshot 0x%06x\n", bad, n, x1, y1, x2, y2,
		first % wb.width, first / wb.width, wb.px[first], fb.px[first]);
}

static const struct vtest tests[] = {
	VTEST("writeback-not-blank",
	      "The frame vprime's writeback connector captured under Weston is a picture: "
	      "256 colours or more, none covering half of it",
	      writeback_not_blank),
	VTEST("client-in-writeback",
	      "The client's window is in the writeback frame, every pixel as drawn",
	      client_in_writeback),
	VTEST("client-in-screenshot",
	      "The client's window is in Weston's own screenshot, every pixel as drawn",
	      client_in_screenshot),
	VTEST("writeback-matches-screenshot",
	      "The writeback frame and Weston's screenshot are the same picture, exactly",
	      writeback_matches_screenshot),
};

VTEST_MAIN("Weston's DRM backend on vprime, captured through writeback", tests)
