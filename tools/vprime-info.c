// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-info: list the DRM devices of this machine with their nodes and
 * drivers, then each vprime instance's DMA constraints, job settings, VRAM
 * (vram_mb) and peers (p2p), the VRAM's size, use, evictions and peer
 * mappings (from debugfs) and, with --objects, what its debugfs says of its
 * objects: their placement (vram among them), pages, segments, pins and
 * maps, and the devices attached to them. Exit status: 0 when at least
 * one vprime device was found, 1 when none was, 2 on a usage error.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xf86drm.h>

#include "tool.h"

struct drm_node {
	char minor[NAME_MAX + 1];	/* card0, renderD128 */
	char device[NAME_MAX + 1];	/* the parent device: vprime.0, vgem, vkms */
};

static int cmp_nodes(const void *a, const void *b)
{
	const struct drm_node *x = a, *y = b;
	int c = strcmp(x->device, y->device);

	return c ? c : strcmp(x->minor, y->minor);
}

/* The DRM minors in /sys/class/drm, sorted by device then minor. */
static int list_nodes(struct drm_node *nodes, int max)
{
	DIR *dir = opendir("/sys/class/drm");
	struct dirent *de;
	int n = 0;

	if (!dir) {
		fprintf(stderr, "vprime-info: /sys/class/drm: %s\n", strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) && n < max) {
		char link[PATH_MAX], target[PATH_MAX];
		ssize_t len;

		if (strncmp(de->d_name, "card", 4) && strncmp(de->d_name, "renderD", 7))
			continue;
		if (strchr(de->d_name, '-'))	/* connectors: card0-Virtual-1 */
			continue;
		snprintf(link, sizeof(link), "/sys/class/drm/%s/device", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		snprintf(nodes[n].minor, sizeof(nodes[n].minor), "%.*s", NAME_MAX, de->d_name);
		snprintf(nodes[n].device, sizeof(nodes[n].device), "%s", basename(target));
		n++;
	}
	closedir(dir);
	qsort(nodes, n, sizeof(*nodes), cmp_nodes);
	return n;
}

static void print_node(const struct drm_node *node)
{
	char path[PATH_MAX];
	drmVersionPtr v;
	int fd;

	snprintf(path, sizeof(path), "/dev/dri/%.*s", NAME_MAX, node->minor);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("  %-12s %-10s cannot open: %s\n", node->device, node->minor, strerror(errno));
		return;
	}
	v = drmGetVersion(fd);
	if (v) {
		printf("  %-12s %-12s %-16s %s %d.%d.%d (%s)\n", node->device, node->minor, path,
		       v->name, v->version_major, v->version_minor, v->version_patchlevel,
		       v->desc);
		drmFreeVersion(v);
	} else {
		printf("  %-12s %-12s %-16s DRM_IOCTL_VERSION failed: %s\n",
		       node->device, node->minor, path, strerror(errno));
	}
	close(fd);
}

/* An array parameter's value for @index, "-" when it is 0 (not set). */
static const char *param_or_dash(const char *name, int index, char *buf, size_t len)
{
	long v = vprime_param(name, index);

	if (!v)
		return "-";
	snprintf(buf, len, "%ld", v);
	return buf;
}

static void print_constraints(void)
{
	char a[24], b[24], c[24], d[24], peers[128];
	int n = vprime_instances();

	printf("vprime instances (module parameters; - is no limit):\n");
	printf("  %-10s %-8s %-12s %-12s %-10s %-12s %-8s %s\n", "instance", "dma_bits",
	       "max_segment", "seg_boundary", "contiguous", "job_delay_ms", "vram_mb",
	       "p2p (peers)");
	for (int i = 0; i < n; i++) {
		long bits = vprime_param("dma_bits", i);

		vprime_peers_text(i, peers, sizeof(peers));
		printf("  vprime.%-3d %-8ld %-12s %-12s %-10s %-12s %-8s %s\n", i, bits ? bits : 64,
		       param_or_dash("max_segment", i, a, sizeof(a)),
		       param_or_dash("seg_boundary", i, b, sizeof(b)),
		       vprime_param("contiguous", i) ? "yes" : "no",
		       param_or_dash("job_delay_ms", i, c, sizeof(c)),
		       param_or_dash("vram_mb", i, d, sizeof(d)), peers);
	}
}

/*
 * Each instance with VRAM: its size and use, evictions, and the peers'
 * mappings of it in place, from its debugfs counters.
 */
static void print_vram(void)
{
	int n = vprime_instances();
	bool header = false;

	for (int i = 0; i < n; i++) {
		struct vprime_counters c;
		char name[32];
		int ret;

		if (!vprime_param("vram_mb", i))
			continue;
		if (!header)
			printf("VRAM (debugfs):\n");
		header = true;
		snprintf(name, sizeof(name), "vprime.%d", i);
		ret = vprime_read_counters(name, &c);
		if (ret) {
			printf("  vprime.%-3d %ld MiB; use unknown: cannot read debugfs: %s\n", i,
			       vprime_param("vram_mb", i), strerror(-ret));
			continue;
		}
		printf("  vprime.%-3d size %lld used %lld free %lld evictions %lld (%lld bytes) "
		       "peer_mappings %lld\n", i, c.vram_size, c.vram_used,
		       c.vram_size - c.vram_used, c.evictions, c.evicted_bytes, c.peer_mappings);
	}
}

/* The debugfs vprime_objects file of the device behind card node @minor. */
static void print_objects(const struct drm_node *node)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	if (strncmp(node->minor, "card", 4))
		return;
	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%s/vprime_objects",
		 node->minor + 4);
	f = fopen(path, "r");
	if (!f) {
		printf("%s: cannot read %s: %s\n", node->device, path, strerror(errno));
		return;
	}
	printf("%s objects (%s):\n", node->device, path);
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vprime-info [--all] [--objects]\n"
		"List vprime's DRM devices (--all: every DRM device) with their nodes, each\n"
		"instance's constraints, VRAM and peers, and the use of each VRAM (from\n"
		"debugfs, as root); --objects: each instance's objects, placements and\n"
		"attachments (from debugfs, as root).\n"
		"Exit status: 0 vprime found, 1 no vprime device, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "objects", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct drm_node nodes[64];
	bool all = false, objects = false;
	int n, found = 0, c;

	tool_name = "vprime-info";
	while ((c = getopt_long(argc, argv, "aoh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'o':
			objects = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	n = list_nodes(nodes, 64);
	if (n < 0)
		return 1;
	printf("DRM devices:\n");
	for (int i = 0; i < n; i++) {
		bool is_vprime = !strncmp(nodes[i].device, "vprime.", 7);

		found += is_vprime;
		if (is_vprime || all)
			print_node(&nodes[i]);
	}
	if (!found) {
		fprintf(stderr, "vprime-info: no vprime device (is vprime.ko loaded?)\n");
		return 1;
	}
	print_constraints();
	print_vram();
	for (int i = 0; i < n && objects; i++)
		if (!strncmp(nodes[i].device, "vprime.", 7))
			print_objects(&nodes[i]);
	return 0;
}
