// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-scanout: scan out a buffer that another device rendered, as a
 * compositor does with a client's dma-buf. The buffer is allocated on
 * --from and filled with a pattern, imported into --on, shown full screen
 * on its display (1024x768), and the frame read back through the display's
 * writeback connector must be the pattern; --out also writes it as a PNG.
 *
 * Exit status: 0 when the frame verified, 1 when a pixel differs, 2 on a
 * usage error, 3 when a device or an ioctl failed.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "buffer.h"
#include "display.h"
#include "png.h"
#include "tool.h"

#define W	1024
#define H	768
struct options {
	const char *from, *on, *out;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--from DEVICE] [--on DEVICE] [--out FILE.png]\n"
		"  --from DEVICE  where the buffer is rendered (default vprime.1)\n"
		"  --on DEVICE    the display that scans it out: vprime.N or vkms (default vprime.0)\n"
		"  --out FILE     write the frame read back as a PNG\n", tool_name);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "on", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ "vprime.1", "vprime.0", NULL };
	while ((c = getopt_long(argc, argv, "f:n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->from = optarg;
			break;
		case 'n':
			o->on = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'h':
			usage_exit(usage, true);
		default:
			usage_exit(usage, false);
		}
	}
	if (optind != argc)
		usage_exit(usage, false);
}

int main(int argc, char **argv)
{
	struct options o;
	struct frame frame;
	struct buffer b;
	uint32_t handle, fb;
	unsigned long bad;
	int on, dmabuf;

	tool_name = "vprime-scanout";
	parse_args(argc, argv, &o);

	step("render the pattern into a %ux%u buffer on %s", W, H, o.from);
	check_call(buffer_create(o.from, W, H, &b), o.from, "allocate");
	pattern_draw(b.pixels, b.pitch, W, H);

	step("import it into %s and make it a framebuffer", o.on);
	check_call(drmPrimeHandleToFD(b.fd, b.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf) ? -errno : 0,
		   o.from, "PRIME_HANDLE_TO_FD");
	on = open_device(o.on, true);
	check_call(on, o.on, "open");
	check_call(drmPrimeFDToHandle(on, dmabuf, &handle) ? -errno : 0, o.on, "PRIME_FD_TO_HANDLE");
	check_call(add_fb(on, handle, W, H, DRM_FORMAT_XRGB8888, b.pitch, &fb), o.on, "ADDFB2");

	step("scan it out on %s and read the frame back through writeback", o.on);
	check_call(display_capture(on, &(struct plane_setup){
			DRM_PLANE_TYPE_PRIMARY, fb, 0, 0, W, H, 0xffff }, 1, W, H, &frame),
		   o.on, "scanout and writeback");
	bad = pattern_mismatches(frame.pixels, frame.pitch, W, H, "the frame");
	if (!bad)
		detail("verified: all %u pixels of the frame are the buffer's", W * H);
	if (o.out) {
		check_call(write_png(o.out, frame.pixels, W, H, frame.pitch), o.out, "write PNG");
		detail("wrote %s", o.out);
	}
	frame_release(on, &frame);
	drmModeRmFB(on, fb);
	close(dmabuf);
	close(on);
	buffer_destroy(&b);
	if (bad)
		die(EXIT_CHECK, "verification failed: %lu pixels differ", bad);
	step("all verified");
	return 0;
}
