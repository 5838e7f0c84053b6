/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * A linear XRGB8888 buffer on any DRM device, mapped for the CPU, and how
 * another device's import of it is seen: what the tools share and verify.
 * Functions return 0 or a negative errno.
 */

#ifndef VPRIME_BUFFER_H
#define VPRIME_BUFFER_H

#include <stdbool.h>
#include <stdint.h>

#include "tool.h"

struct buffer {
	int fd;			/* the device's card node */
	uint32_t handle;
	uint32_t width, height, pitch;
	uint64_t size;
	uint32_t *pixels;	/* CPU mapping */
};

/*
 * A @width x @height buffer on @devname: a vprime GEM object on a vprime
 * instance, a dumb buffer elsewhere (vgem, vkms).
 */
int buffer_create(const char *devname, uint32_t width, uint32_t height, struct buffer *b);
void buffer_destroy(struct buffer *b);

/*
 * Import dma-buf @dmabuf into @fd as @handle, and map what that device sees:
 * a vprime import through its own GEM mmap, another driver's through the
 * dma-buf it hands back when re-exporting (vgem and vkms cannot map
 * imports themselves).
 */
int import_and_map(int fd, int dmabuf, uint64_t size, uint32_t *handle, void **map);

/* The demo pattern: colour bars over a grey ramp, a white border. */
uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t width, uint32_t height);
void pattern_draw(uint32_t *pixels, uint32_t pitch, uint32_t width, uint32_t height);

/*
 * The same pattern as fill rectangles, for a job engine: bars, one column
 * per grey, the border last. *@n receives their number; free() the array.
 */
struct fill_rect *pattern_rects(uint32_t width, uint32_t height, unsigned int *n);

/* Pixels of @got that differ from the pattern (24 colour bits), the first printed. */
unsigned long pattern_mismatches(const uint32_t *got, uint32_t pitch, uint32_t width,
				 uint32_t height, const char *what);

#endif /* VPRIME_BUFFER_H */
