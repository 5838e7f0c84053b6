// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "buffer.h"
#include "display.h"
#include "tool.h"

int buffer_create(const char *devname, uint32_t width, uint32_t height, struct buffer *b)
{
	void *map;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = open_device(devname, true);
	if (b->fd < 0)
		return b->fd;
	b->width = width;
	b->height = height;
	if (!strncmp(devname, "vprime.", 7)) {
		b->pitch = width * 4;
		b->size = (uint64_t)b->pitch * height;
		ret = vprime_create(b->fd, b->size, &b->handle);
		if (!ret)
			ret = vprime_mmap(b->fd, b->handle, b->size, &map);
	} else {
		ret = dumb_create(b->fd, width, height, &b->handle, &b->pitch, &b->size, &map);
	}
	if (ret) {
		close(b->fd);
		return ret;
	}
	b->pixels = map;
	return 0;
}

void buffer_destroy(struct buffer *b)
{
	struct drm_gem_close c = { .handle = b->handle };

	if (b->pixels)
		munmap(b->pixels, b->size);
	if (b->handle)
		ioctl(b->fd, DRM_IOCTL_GEM_CLOSE, &c);
	close(b->fd);
	memset(b, 0, sizeof(*b));
}

int import_and_map(int fd, int dmabuf, uint64_t size, uint32_t *handle, void **map)
{
	int again, ret;

	if (drmPrimeFDToHandle(fd, dmabuf, handle))
		return -errno;
	if (device_is_vprime(fd))
		return vprime_mmap(fd, *handle, size, map);
	if (drmPrimeHandleToFD(fd, *handle, DRM_CLOEXEC | DRM_RDWR, &again))
		return -errno;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
	ret = *map == MAP_FAILED ? -errno : 0;
	close(again);
	return ret;
}

uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t width, uint32_t height)
{
	static const uint32_t bars[] = {
		0xc0c0c0, 0xc0c000, 0x00c0c0, 0x00c000, 0xc000c0, 0xc00000, 0x0000c0, 0x101010,
	};
	uint32_t g;

	if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
		return 0xffffff;
	if (y < height * 2 / 3)
		return bars[x * 8 / width];
	g = x * 255 / (width - 1);
	return g << 16 | g << 8 | g;
}

void pattern_draw(uint32_t *pixels, uint32_t pitch, uint32_t width, uint32_t height)
{
	for (uint32_t y = 0; y < height; y++) {
		uint32_t *row = (uint32_t *)((char *)pixels + (size_t)y * pitch);

		for (uint32_t x = 0; x < width; x++)
			row[x] = pattern_pixel(x, y, width, height);
	}
}

struct fill_rect *pattern_rects(uint32_t width, uint32_t height, unsigned int *n)
{
	struct fill_rect *r = malloc((8 + width + 4) * sizeof(*r));
	uint32_t bars_h = height * 2 / 3, i = 0;

	if (!r)
		return NULL;
	for (uint32_t b = 0; b < 8; b++) {
		uint32_t x0 = (b * width + 7) / 8, x1 = ((b + 1) * width + 7) / 8;

		r[i++] = (struct fill_rect){ x0, 0, x1 - x0, bars_h,
					     pattern_pixel(x0 + 1, 1, width, height) };
	}
	for (uint32_t x = 0; x < width; x++)
		r[i++] = (struct fill_rect){ x, bars_h, 1, height - bars_h,
					     pattern_pixel(x, height - 2, width, height) };
	r[i++] = (struct fill_rect){ 0, 0, width, 1, 0xffffff };
	r[i++] = (struct fill_rect){ 0, height - 1, width, 1, 0xffffff };
	r[i++] = (struct fill_rect){ 0, 0, 1, height, 0xffffff };
	r[i++] = (struct fill_rect){ width - 1, 0, 1, height, 0xffffff };
	*n = i;
	return r;
}

unsigned long pattern_mismatches(const uint32_t *got, uint32_t pitch, uint32_t width,
				 uint32_t height, const char *what)
{
	unsigned long bad = 0;

	for (uint32_t y = 0; y < height; y++) {
		const uint32_t *row = (const uint32_t *)((const char *)got + (size_t)y * pitch);

		for (uint32_t x = 0; x < width; x++) {
			uint32_t want = pattern_pixel(x, y, width, height);

			if ((row[x] & 0xffffff) == want)
				continue;
			if (!bad++)
				detail("MISMATCH in %s at (%u,%u): 0x%06x, expected 0x%06x", what,
				       x, y, row[x] & 0xffffff, want);
		}
	}
	return bad;
}
