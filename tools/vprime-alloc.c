// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-alloc: allocate a buffer on a vprime instance, share it with other
 * devices, and watch where its storage goes. The buffer is created on
 * --device (nothing is allocated yet), exported as a dma-buf and imported
 * into each --import device in turn (which only attaches). With --map,
 * each vprime device maps it for DMA and unmaps it again, as a job would,
 * as soon as it holds it: the allocating device right away, which
 * allocates the storage, then each importer after its import, which moves
 * the storage if that device cannot reach it, or maps it in place when it
 * is a peer of an instance with VRAM. The placement, segments, migrations,
 * evictions and peer mappings (GEM_INFO), and on an instance with VRAM its
 * use (debugfs, as root), are printed after each step. --expect checks the final
 * placement; --exec runs a command that inherits the dma-buf.
 *
 * Exit status: 0 when done (and --expect held), 1 when the placement is not
 * the expected one, 2 on a usage error, 3 when a device or an ioctl failed;
 * with --exec, the command's status.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <xf86drm.h>

#include "tool.h"

#define MAX_IMPORTS	8
#define FOUR_GIB	(1ull << 32)

struct options {
	const char *device;
	const char *imports[MAX_IMPORTS];
	int num_imports;
	uint64_t size;
	bool map;
	int expect;		/* a VPRIME_PLACEMENT_*, or -1 */
	char **exec;		/* the command of --exec, or NULL */
};

/* A device that holds the buffer: the allocating one or an importer. */
struct holder {
	const char *name;
	int fd;
	uint32_t handle;
	bool is_vprime;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--device DEVICE] [--size SIZE] [--import DEVICE]... [--map]\n"
		"       [--expect PLACEMENT] [--exec COMMAND [ARG]...]\n"
		"  --device DEVICE     the vprime instance to allocate on (default vprime.0)\n"
		"  --size SIZE         bytes, with an optional K, M or G suffix (default 4M)\n"
		"  --import DEVICE     import the buffer into DEVICE: vprime.N, vgem or vkms\n"
		"                      (repeatable, up to %d)\n"
		"  --map               map it for DMA (and unmap it) on each vprime device as\n"
		"                      soon as it holds it\n"
		"  --expect PLACEMENT  fail (exit 1) unless the storage ends up there: none,\n"
		"                      system, dma32, contig, contig-dma32 or vram\n"
		"  --exec COMMAND...   then run COMMAND with the dma-buf open; its fd number is\n"
		"                      in VPRIME_DMABUF_FD (the rest of the line is the command)\n",
		tool_name, MAX_IMPORTS);
}

static uint64_t parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		die(EXIT_USAGE, "--size %s: not a size", s);
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10;
		/* fallthrough */
	case 'M':
	case 'm':
		v <<= 10;
		/* fallthrough */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end || !v)
		die(EXIT_USAGE, "--size %s: expected a number of bytes, not 0, with K, M or G", s);
	return v;
}

static int parse_placement(const char *s)
{
	int placement = placement_from_key(s);

	if (placement < 0 || placement == VPRIME_PLACEMENT_IMPORTED)
		die(EXIT_USAGE, "--expect %s: expected none, system, dma32, contig, "
		    "contig-dma32 or vram", s);
	return placement;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "import", required_argument, NULL, 'i' },
		{ "map", no_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' },
		{ "exec", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .device = "vprime.0", .size = 4 << 20, .expect = -1 };
	/* "+": stop at the first non-option, which --exec's command is. */
	while ((c = getopt_long(argc, argv, "+d:s:i:me:xh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 's':
			o->size = parse_size(optarg);
			break;
		case 'i':
			if (o->num_imports == MAX_IMPORTS)
				die(EXIT_USAGE, "at most %d --import", MAX_IMPORTS);
			o->imports[o->num_imports++] = optarg;
			break;
		case 'm':
			o->map = true;
			break;
		case 'e':
			o->expect = parse_placement(optarg);
			break;
		case 'x':
			if (optind == argc)
				die(EXIT_USAGE, "--exec: no command");
			o->exec = argv + optind;
			return;
		case 'h':
			usage_exit(usage, true);
		default:
			usage_exit(usage, false);
		}
	}
	if (optind != argc)
		usage_exit(usage, false);
}

static void open_holder(struct holder *h, const char *name)
{
	/* vkms has no render node; vprime and vgem do, and need no master. */
	int fd = open_device(name, !strcmp(name, "vkms"));

	check_call(fd, name, "open");
	h->name = name;
	h->fd = fd;
	h->is_vprime = device_is_vprime(fd);
}

/* The owner's GEM_INFO as one line of text, in @buf. */
static void describe(const struct holder *owner, char *buf, size_t len)
{
	struct drm_vprime_gem_info info;

	check_call(vprime_info(owner->fd, owner->handle, &info), owner->name, "GEM_INFO");
	snprintf(buf, len, "%s, %" PRIu64 " pages allocated, %u attachment(s), %u mapped, "
		 "%" PRIu64 " migration(s), %" PRIu64 " eviction(s), %u peer-mapped",
		 placement_name(info.placement), (uint64_t)info.num_pages, info.num_attachments,
		 info.num_mapped, (uint64_t)info.migrations, (uint64_t)info.evictions,
		 info.num_peer_mapped);
}

/* On an instance with VRAM, its use as debugfs counts it (as root). */
static void print_vram(const struct holder *owner)
{
	int index = vprime_instance_index(owner->name);
	struct vprime_counters c;
	int ret;

	if (index < 0 || !vprime_param("vram_mb", index))
		return;
	ret = vprime_read_counters(owner->name, &c);
	if (ret) {
		detail("%s's VRAM: use unknown: cannot read debugfs: %s", owner->name,
		       strerror(-ret));
		return;
	}
	detail("%s's VRAM: %lld of %lld bytes used, %lld eviction(s), %lld peer mapping(s)",
	       owner->name, c.vram_used, c.vram_size, c.evictions, c.peer_mappings);
}

static void print_info(const struct holder *owner)
{
	char text[256];

	describe(owner, text, sizeof(text));
	detail("%s's storage: %s", owner->name, text);
	print_vram(owner);
}

/*
 * Map the buffer for @h's device, describe the segments it got and, while
 * it holds them, the owner's view (a peer maps VRAM in place); unmap.
 */
static void map_for(const struct holder *h, const struct holder *owner, uint64_t size)
{
	struct drm_vprime_gem_unmap unmap = { .handle = h->handle };
	uint32_t max_segments = size / 4096 + 1;
	struct drm_vprime_segment *segs = calloc(max_segments, sizeof(*segs));
	struct drm_vprime_gem_map map = {
		.handle = h->handle,
		.segments_ptr = (uintptr_t)segs,
		.num_segments = max_segments,
	};
	uint64_t largest = 0, top = 0;
	char text[256];

	if (!segs)
		die(EXIT_DEVICE, "out of memory");
	step("%s: map for DMA", h->name);
	check_call(ioctl(h->fd, DRM_IOCTL_VPRIME_GEM_MAP, &map) ? -errno : 0, h->name,
		   "GEM_MAP");
	for (uint32_t i = 0; i < map.num_segments && i < max_segments; i++) {
		if (segs[i].len > largest)
			largest = segs[i].len;
		if (segs[i].addr + segs[i].len > top)
			top = segs[i].addr + segs[i].len;
	}
	detail("placement %s; %u segment(s), the largest %" PRIu64 " bytes, all %s 4 GiB",
	       placement_name(map.placement), map.num_segments, largest,
	       top <= FOUR_GIB ? "below" : "not below");
	if (h != owner) {
		describe(owner, text, sizeof(text));
		detail("while %s holds the map: %s", h->name, text);
		print_vram(owner);
	}
	check_call(ioctl(h->fd, DRM_IOCTL_VPRIME_GEM_UNMAP, &unmap) ? -errno : 0, h->name,
		   "GEM_UNMAP");
	free(segs);
}

/* Run @argv with the dma-buf @fd inherited; its exit status. */
static int run_with_dmabuf(char **argv, int fd)
{
	char number[16];
	int status;
	pid_t pid;

	snprintf(number, sizeof(number), "%d", fd);
	step("run %s with the dma-buf as fd %d", argv[0], fd);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die(EXIT_DEVICE, "fork: %s", strerror(errno));
	if (pid == 0) {
		setenv("VPRIME_DMABUF_FD", number, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", tool_name, argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		die(EXIT_DEVICE, "waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	struct holder holders[1 + MAX_IMPORTS];
	struct drm_vprime_gem_info info;
	struct holder *owner = &holders[0];
	struct options o;
	int dmabuf, n = 1;

	tool_name = "vprime-alloc";
	parse_args(argc, argv, &o);
	open_holder(owner, o.device);
	if (!owner->is_vprime)
		die(EXIT_USAGE, "--device %s: not a vprime instance", o.device);

	step("%s: allocate %" PRIu64 " bytes", owner->name, o.size);
	check_call(vprime_create(owner->fd, o.size, &owner->handle), owner->name, "GEM_CREATE");
	print_info(owner);
	if (o.map) {
		map_for(owner, owner, o.size);
		print_info(owner);
	}

	check_call(drmPrimeHandleToFD(owner->fd, owner->handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf) ?
		   -errno : 0, owner->name, "PRIME_HANDLE_TO_FD");
	for (int i = 0; i < o.num_imports; i++, n++) {
		struct holder *h = &holders[n];

		open_holder(h, o.imports[i]);
		step("%s: import the dma-buf", h->name);
		check_call(drmPrimeFDToHandle(h->fd, dmabuf, &h->handle) ? -errno : 0, h->name,
			   "PRIME_FD_TO_HANDLE");
		print_info(owner);
		if (o.map && h->is_vprime) {
			map_for(h, owner, o.size);
			print_info(owner);
		}
	}

	check_call(vprime_info(owner->fd, owner->handle, &info), owner->name, "GEM_INFO");
	if (o.expect >= 0) {
		step("check the placement");
		if (info.placement != (uint32_t)o.expect)
			die(EXIT_CHECK, "the storage is %s, not %s as expected",
			    placement_name(info.placement), placement_name(o.expect));
		detail("verified: %s", placement_name(info.placement));
	}
	if (o.exec) {
		/* Only the dma-buf is passed on. */
		int fd = dup(dmabuf);

		if (fd < 0)
			die(EXIT_DEVICE, "dup: %s", strerror(errno));
		return run_with_dmabuf(o.exec, fd);
	}
	return 0;
}
