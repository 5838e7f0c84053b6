// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-demo: what a render-offload stack and a compositor do with a
 * shared buffer, step by step, verifying each step:
 *
 *   1. allocate a buffer on vprime.0 (no memory is used yet),
 *   2. draw a test pattern into it with the device's job engine,
 *   3. export it as a dma-buf,
 *   4. import it into a 32-bit vprime instance (nothing moves yet),
 *   5. import it into vkms, scan it out there, and read vkms's frame back,
 *   6. scan it out on the 32-bit instance's display under an overlay and a
 *      cursor: the buffer first moves below 4 GiB for that display,
 *   7. read the frame back through writeback and compare every pixel with
 *      the composition computed here,
 *   8. write the frame as a PNG.
 *
 * Exit status: 0 when everything verified, 1 when a check failed, 2 on a
 * usage error, 3 when a device or an ioctl failed.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "buffer.h"
#include "display.h"
#include "png.h"
#include "tool.h"

#define W	1024
#define H	768
#define OVL_W	384
#define OVL_H	192
#define OVL_X	600
#define OVL_Y	500
#define CUR_W	64
#define CUR_H	64
#define CUR_X	520
#define CUR_Y	330

static bool wrong_expectation;

/* The tools' common pattern at the demo's size. */
static uint32_t demo_pattern(uint32_t x, uint32_t y, const void *ctx)
{
	(void)ctx;
	return pattern_pixel(x, y, W, H);
}

/* A dark blue panel whose opacity rises from left to right, pre-multiplied. */
static uint32_t overlay_pixel(uint32_t x, uint32_t y)
{
	uint32_t a = 0x40 + x * 0x80 / (OVL_W - 1);

	(void)y;
	return a << 24 | (0x20 * a / 255) << 16 | (0x30 * a / 255) << 8 | (0x90 * a / 255);
}

/* An arrow: white with a black edge inside the triangle, transparent outside. */
static uint32_t cursor_pixel(uint32_t x, uint32_t y)
{
	if (x > y || y >= CUR_H - 8)
		return 0;
	if (x == 0 || x == y || y == CUR_H - 9)
		return 0xff000000;
	return 0xffffffff;
}

static void draw(void *map, uint32_t pitch, uint32_t w, uint32_t h,
		 uint32_t (*pixel)(uint32_t x, uint32_t y))
{
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)((char *)map + (size_t)y * pitch);

		for (uint32_t x = 0; x < w; x++)
			row[x] = pixel(x, y);
	}
}

static uint32_t mul255(uint32_t a, uint32_t b)
{
	return (a * b + 127) / 255;
}

/* Pre-multiplied "over": what the display does with an ARGB plane. */
static uint32_t over(uint32_t dst, uint32_t src)
{
	uint32_t a = src >> 24, out = 0;

	for (int shift = 0; shift < 24; shift += 8) {
		uint32_t c = ((src >> shift) & 0xff) + mul255((dst >> shift) & 0xff, 255 - a);

		out |= (c > 255 ? 255 : c) << shift;
	}
	return out;
}

/* The frame the display must compose, pixel (x, y). */
static uint32_t expected_pixel(uint32_t x, uint32_t y, const void *ctx)
{
	uint32_t p = demo_pattern(x, y, ctx);

	if (wrong_expectation && y < H * 2 / 3 && x < W / 8)
		p ^= 0x00ff00;
	if (x >= OVL_X && y >= OVL_Y && x - OVL_X < OVL_W && y - OVL_Y < OVL_H)
		p = over(p, overlay_pixel(x - OVL_X, y - OVL_Y));
	if (x >= CUR_X && y >= CUR_Y && x - CUR_X < CUR_W && y - CUR_Y < CUR_H)
		p = over(p, cursor_pixel(x - CUR_X, y - CUR_Y));
	return p;
}

static struct drm_vprime_gem_info info_of(int fd, uint32_t handle)
{
	struct drm_vprime_gem_info info;

	check_call(vprime_info(fd, handle, &info), NULL, "VPRIME_GEM_INFO");
	return info;
}

/* A dumb ARGB8888 buffer on @fd drawn by @pixel, as a framebuffer. */
static uint32_t argb_fb(int fd, uint32_t w, uint32_t h, uint32_t (*pixel)(uint32_t, uint32_t))
{
	uint32_t handle, pitch, fb;
	uint64_t size;
	void *map;

	check_call(dumb_create(fd, w, h, &handle, &pitch, &size, &map), NULL, "CREATE_DUMB");
	draw(map, pitch, w, h, pixel);
	munmap(map, size);
	check_call(add_fb(fd, handle, w, h, DRM_FORMAT_ARGB8888, pitch, &fb), NULL,
		   "ADDFB2 (ARGB8888)");
	return fb;
}

static int open_or_die(const char *devname, bool card)
{
	int fd = open_device(devname, card);

	check_call(fd, NULL, devname);
	return fd;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--out FILE.png] [--wrong-expectation]\n"
		"  --out FILE            where to write the captured frame (default vprime-demo.png)\n"
		"  --wrong-expectation   expect a wrong colour, to see verification fail\n",
		tool_name);
}

static const char *parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "wrong-expectation", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = "vprime-demo.png";
	int c;

	while ((c = getopt_long(argc, argv, "o:wh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'w':
			wrong_expectation = true;
			break;
		case 'h':
			usage_exit(usage, true);
		default:
			usage_exit(usage, false);
		}
	}
	if (optind != argc)
		usage_exit(usage, false);
	return out;
}

int main(int argc, char **argv)
{
	struct drm_vprime_gem_info info, before;
	uint32_t bo, imported, vkms_bo, vkms_fb, shown_fb, ovl_fb, cur_fb;
	int exp_fd, strict, strict_fd, vkms_fd, dmabuf, ret;
	unsigned long bad = 0;
	char strict_name[32];
	struct fill_rect *rects;
	unsigned int nrects;
	struct frame frame;
	const char *png;

	tool_name = "vprime-demo";
	png = parse_args(argc, argv);

	step("1. allocate a %ux%u XRGB8888 buffer on vprime.0", W, H);
	exp_fd = open_or_die("vprime.0", true);
	check_call(vprime_create(exp_fd, (uint64_t)W * H * 4, &bo), NULL, "VPRIME_GEM_CREATE");
	info = info_of(exp_fd, bo);
	detail("handle %u, %llu bytes; pages allocated: %llu, placement: %s", bo,
	       (unsigned long long)info.size, (unsigned long long)info.num_pages,
	       placement_name(info.placement));
	if (info.num_pages)
		die(EXIT_CHECK, "verification failed: storage allocated before first use");
	detail("verified: nothing is allocated before the buffer is used");

	step("2. draw the test pattern (colour bars over a grey ramp) with vprime.0's job engine");
	rects = pattern_rects(W, H, &nrects);
	if (!rects)
		die(EXIT_DEVICE, "out of memory");
	check_call(vprime_fill_rects(exp_fd, bo, W, H, W * 4, rects, nrects), "vprime.0",
		   "fill jobs");
	free(rects);
	info = info_of(exp_fd, bo);
	detail("%u fill commands ran; pages allocated when the engine first used the buffer: "
	       "%llu, placement: %s", nrects, (unsigned long long)info.num_pages,
	       placement_name(info.placement));

	step("3. export it as a dma-buf");
	check_call(drmPrimeHandleToFD(exp_fd, bo, DRM_CLOEXEC | DRM_RDWR, &dmabuf) ? -errno : 0, NULL,
		   "PRIME_HANDLE_TO_FD");
	detail("dma-buf fd %d", dmabuf);

	strict = vprime_instance_with_dma_bits(32, 0);
	if (strict < 0)
		die(EXIT_DEVICE, "no vprime instance with dma_bits=32 (load vprime with e.g. "
		    "num_devices=3 dma_bits=64,64,32)");
	snprintf(strict_name, sizeof(strict_name), "vprime.%d", strict);
	step("4. import it into %s, a device that reaches only the low 4 GiB", strict_name);
	strict_fd = open_or_die(strict_name, true);
	check_call(drmPrimeFDToHandle(strict_fd, dmabuf, &imported) ? -errno : 0, NULL,
		   "PRIME_FD_TO_HANDLE into the 32-bit instance");
	before = info_of(exp_fd, bo);
	detail("%s's handle %u; vprime.0 sees %u attachment(s); placement still %s, "
	       "migrations %llu", strict_name, imported, before.num_attachments,
	       placement_name(before.placement), (unsigned long long)before.migrations);

	step("5. import it into vkms, scan it out there and read vkms's frame back");
	vkms_fd = open_device("vkms", true);
	if (vkms_fd < 0) {
		detail("skipped: no vkms device (%s)", strerror(-vkms_fd));
	} else {
		check_call(drmPrimeFDToHandle(vkms_fd, dmabuf, &vkms_bo) ? -errno : 0, NULL,
			   "PRIME_FD_TO_HANDLE into vkms");
		check_call(add_fb(vkms_fd, vkms_bo, W, H, DRM_FORMAT_XRGB8888, W * 4, &vkms_fb), NULL,
			   "ADDFB2 on vkms");
		check_call(display_capture(vkms_fd, &(struct plane_setup){
				DRM_PLANE_TYPE_PRIMARY, vkms_fb, 0, 0, W, H, 0xffff }, 1, W, H,
				&frame), NULL, "scanout and writeback on vkms");
		bad += frame_compare(&frame, demo_pattern, NULL, 0,
				     "vkms's frame of the shared buffer");
		frame_release(vkms_fd, &frame);
		drmModeRmFB(vkms_fd, vkms_fb);
		close(vkms_fd);
	}

	step("6. scan it out on %s's display, under an overlay and a cursor", strict_name);
	check_call(add_fb(strict_fd, imported, W, H, DRM_FORMAT_XRGB8888, W * 4, &shown_fb), NULL,
		   "ADDFB2 of the imported buffer");
	ovl_fb = argb_fb(strict_fd, OVL_W, OVL_H, overlay_pixel);
	cur_fb = argb_fb(strict_fd, CUR_W, CUR_H, cursor_pixel);
	ret = display_capture(strict_fd, (struct plane_setup[]){
		{ DRM_PLANE_TYPE_PRIMARY, shown_fb, 0, 0, W, H, 0xffff },
		{ DRM_PLANE_TYPE_OVERLAY, ovl_fb, OVL_X, OVL_Y, OVL_W, OVL_H, 0xffff },
		{ DRM_PLANE_TYPE_CURSOR, cur_fb, CUR_X, CUR_Y, CUR_W, CUR_H, 0xffff },
	}, 3, W, H, &frame);
	check_call(ret, NULL, "scanout and writeback on the 32-bit instance");
	info = info_of(exp_fd, bo);
	detail("placement before the scanout: %s; after: %s; migrations %llu -> %llu",
	       placement_name(before.placement), placement_name(info.placement),
	       (unsigned long long)before.migrations, (unsigned long long)info.migrations);
	if (info.placement != VPRIME_PLACEMENT_DMA32 &&
	    info.placement != VPRIME_PLACEMENT_CONTIG_DMA32)
		die(EXIT_CHECK, "verification failed: the storage is not below 4 GiB for %s",
		    strict_name);
	detail("verified: the storage moved below 4 GiB before %s's display read it",
	       strict_name);

	step("7. compare the frame read back through writeback with the expected composition");
	bad += frame_compare(&frame, expected_pixel, NULL, 1, "the composed frame");

	step("8. write the frame as a PNG");
	check_call(write_png(png, frame.pixels, W, H, frame.pitch), NULL, png);
	detail("wrote %s", png);
	frame_release(strict_fd, &frame);

	if (bad)
		die(EXIT_CHECK, "verification failed: %lu pixels differ (see above)", bad);
	step("all verified");
	return 0;
}
