// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-share: share a buffer between two DRM devices as a render-offload
 * stack does, and verify both views. The buffer is allocated on --from
 * (vprime.N, vgem or vkms), filled with a pattern through the CPU,
 * exported as a dma-buf and imported into --to; the importer's view must
 * hold the pattern, and what is written through it must show in the
 * exporter's view.
 *
 * Exit status: 0 when both views verified, 1 when a byte differs, 2 on a
 * usage error, 3 when a device or an ioctl failed.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "buffer.h"
#include "tool.h"

struct options {
	const char *from, *to;
	uint32_t width, height;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--from DEVICE] [--to DEVICE] [--size WxH]\n"
		"  --from DEVICE  where the buffer is allocated (default vprime.0)\n"
		"  --to DEVICE    the importer: vprime.N, vgem or vkms (default vprime.1)\n"
		"  --size WxH     the buffer in XRGB8888 pixels (default 1024x768)\n",
		tool_name);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ "vprime.0", "vprime.1", 1024, 768 };
	while ((c = getopt_long(argc, argv, "f:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->from = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &o->width, &o->height) != 2 || !o->width ||
			    !o->height || o->width > 8192 || o->height > 8192)
				die(EXIT_USAGE, "--size %s: expected WxH, each 1 to 8192", optarg);
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
	struct buffer b;
	uint32_t handle;
	unsigned long bad;
	int to, dmabuf;
	void *view;

	tool_name = "vprime-share";
	parse_args(argc, argv, &o);

	step("allocate %ux%u XRGB8888 on %s and draw the pattern", o.width, o.height, o.from);
	check_call(buffer_create(o.from, o.width, o.height, &b), o.from, "allocate");
	pattern_draw(b.pixels, b.pitch, o.width, o.height);
	detail("handle %u, pitch %u, %llu bytes", b.handle, b.pitch, (unsigned long long)b.size);

	step("export it and import it into %s", o.to);
	check_call(drmPrimeHandleToFD(b.fd, b.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf) ? -errno : 0,
		   o.from, "PRIME_HANDLE_TO_FD");
	to = open_device(o.to, true);
	check_call(to, o.to, "open");
	check_call(import_and_map(to, dmabuf, b.size, &handle, &view), o.to,
		   "import and map");
	detail("%s's handle %u", o.to, handle);

	step("verify %s's view, then write through it and verify %s's", o.to, o.from);
	bad = pattern_mismatches(view, b.pitch, o.width, o.height, "the importer's view");
	if (!bad) {
		detail("verified: %s sees all %llu bytes as written on %s", o.to,
		       (unsigned long long)b.size, o.from);
		memset(view, 0, b.size);
		for (uint64_t i = 0; i < b.size / 4 && !bad; i++)
			bad += b.pixels[i] != 0;
		if (bad)
			detail("MISMATCH: %s's view does not show %s's writes", o.from, o.to);
		else
			detail("verified: %s sees what %s wrote", o.from, o.to);
	}
	munmap(view, b.size);
	close(dmabuf);
	close(to);
	buffer_destroy(&b);
	if (bad)
		die(EXIT_CHECK, "verification failed");
	step("all verified");
	return 0;
}
