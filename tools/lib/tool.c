// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

#include "tool.h"

const char *tool_name = "vprime-tool";

void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

void check_call(int ret, const char *device, const char *what)
{
	if (ret >= 0)
		return;
	if (device)
		die(EXIT_DEVICE, "%s: %s: %s", device, what, strerror(-ret));
	die(EXIT_DEVICE, "%s: %s", what, strerror(-ret));
}

void usage_exit(void (*usage)(FILE *out), bool help)
{
	usage(help ? stdout : stderr);
	exit(help ? 0 : EXIT_USAGE);
}

void step(const char *fmt, ...)
{
	va_list ap;

	fputs("\n== ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void detail(const char *fmt, ...)
{
	va_list ap;

	fputs("   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Whether /sys/class/drm/@minor belongs to the device @devname. */
static bool minor_is(const char *minor, const char *devname)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/drm/%s/device", minor);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	return !strcmp(base ? base + 1 : target, devname);
}

/* The minor (card0, renderD128) of @devname's card or render node, in @minor. */
static int find_minor(const char *devname, bool card, char *minor, size_t len)
{
	const char *prefix = card ? "card" : "renderD";
	DIR *dir = opendir("/sys/class/drm");
	struct dirent *de;
	int ret = -ENODEV;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) || strchr(de->d_name, '-') ||
		    !minor_is(de->d_name, devname))
			continue;
		snprintf(minor, len, "%.64s", de->d_name);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

int open_device(const char *devname, bool card)
{
	char minor[80], path[PATH_MAX];
	int fd = find_minor(devname, card, minor, sizeof(minor));

	if (fd)
		return fd;
	snprintf(path, sizeof(path), "/dev/dri/%s", minor);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int vprime_debugfs_path(const char *devname, char *path, size_t len)
{
	char minor[80];
	int ret = find_minor(devname, true, minor, sizeof(minor));

	if (ret)
		return ret;
	/* /dev/dri/cardN's debugfs directory is dri/N. */
	snprintf(path, len, "/sys/kernel/debug/dri/%s/vprime_objects", minor + strlen("card"));
	return 0;
}

/* Counter @name of debugfs's header @line ("name: N"), in *@value. */
static int header_counter(const char *line, const char *name, long long *value)
{
	char key[64];
	const char *at = line;
	size_t n;

	n = (size_t)snprintf(key, sizeof(key), "%s: ", name);
	while ((at = strstr(at, key)) && at != line && at[-1] != ' ')
		at += n;
	return at && sscanf(at + n, "%lld", value) == 1 ? 0 : -EPROTO;
}

int vprime_read_counters(const char *devname, struct vprime_counters *c)
{
	char path[PATH_MAX], line[1024];
	FILE *f;
	int ret = vprime_debugfs_path(devname, path, sizeof(path));

	if (ret)
		return ret;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ret = fgets(line, sizeof(line), f) ? 0 : -EPROTO;
	fclose(f);
	ret = ret ?: header_counter(line, "objects", &c->objects);
	ret = ret ?: header_counter(line, "migrations", &c->migrations);
	ret = ret ?: header_counter(line, "bytes_moved", &c->bytes_moved);
	ret = ret ?: header_counter(line, "vram_size", &c->vram_size);
	ret = ret ?: header_counter(line, "vram_used", &c->vram_used);
	ret = ret ?: header_counter(line, "evictions", &c->evictions);
	ret = ret ?: header_counter(line, "evicted_bytes", &c->evicted_bytes);
	ret = ret ?: header_counter(line, "peer_mappings", &c->peer_mappings);
	return ret;
}

/* The text of /sys/module/vprime/parameters/@name, in @buf. */
static int read_param(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/vprime/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	return 0;
}

int vprime_instances(void)
{
	char buf[32];
	int ret = read_param("num_devices", buf, sizeof(buf));

	return ret ? ret : atoi(buf);
}

long vprime_param(const char *name, int index)
{
	char buf[256], *tok, *save = NULL;

	if (read_param(name, buf, sizeof(buf)))
		return 0;
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (index-- == 0)
			return tok[0] == 'Y' ? 1 : tok[0] == 'N' ? 0 : strtol(tok, NULL, 0);
	return 0;
}

int vprime_instance_index(const char *devname)
{
	char *end;
	long i;

	if (strncmp(devname, "vprime.", 7))
		return -1;
	i = strtol(devname + 7, &end, 10);
	return end != devname + 7 && !*end && i >= 0 && i < vprime_instances() ? (int)i : -1;
}

unsigned long vprime_peers(int index)
{
	/* An instance never counts as its own peer. */
	return (unsigned long)vprime_param("p2p", index) & ~(1ul << index);
}

int vprime_peers_text(int index, char *buf, size_t len)
{
	unsigned long peers = vprime_peers(index);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < (int)(8 * sizeof(peers)) && used < len; i++)
		if (peers & (1ul << i))
			used += snprintf(buf + used, len - used, "%svprime.%d", used ? "," : "", i);
	if (!peers)
		snprintf(buf, len, "-");
	return peers ? 1 : 0;
}

int vprime_instance_with_dma_bits(unsigned int bits, int not)
{
	int n = vprime_instances();

	for (int i = 0; i < n; i++) {
		long b = vprime_param("dma_bits", i);

		if (i != not && (b ? b : 64) == bits)
			return i;
	}
	return -1;
}

int vprime_create(int fd, uint64_t size, uint32_t *handle)
{
	struct drm_vprime_gem_create c = { .size = size };

	if (ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

int vprime_info(int fd, uint32_t handle, struct drm_vprime_gem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return ioctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, info) ? -errno : 0;
}

int vprime_mmap(int fd, uint32_t handle, size_t size, void **map)
{
	struct drm_vprime_gem_info info;
	int ret = vprime_info(fd, handle, &info);

	if (ret)
		return ret;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, info.mmap_offset);
	return *map == MAP_FAILED ? -errno : 0;
}

int vprime_fill_rects(int fd, uint32_t handle, uint32_t width, uint32_t height,
		      uint32_t pitch, const struct fill_rect *rects, unsigned int n)
{
	struct drm_vprime_submit_bo bo = {
		.handle = handle, .flags = VPRIME_SUBMIT_BO_WRITE, .width = width,
		.height = height, .pitch = pitch, .format = DRM_FORMAT_XRGB8888,
	};
	struct drm_vprime_cmd cmds[VPRIME_SUBMIT_MAX_CMDS];
	struct drm_vprime_wait_idle idle = { .handle = handle, .timeout_ns = 10000000000ll };

	for (unsigned int done = 0; done < n;) {
		struct drm_vprime_submit submit = {
			.bos_ptr = (uintptr_t)&bo, .cmds_ptr = (uintptr_t)cmds, .num_bos = 1,
		};

		/* Jobs of one file run in order; implicit sync on the buffer agrees. */
		while (done < n && submit.num_cmds < VPRIME_SUBMIT_MAX_CMDS) {
			const struct fill_rect *r = &rects[done++];

			cmds[submit.num_cmds++] = (struct drm_vprime_cmd){
				.op = VPRIME_CMD_FILL, .dst_x = r->x, .dst_y = r->y,
				.width = r->w, .height = r->h, .value = r->argb,
			};
		}
		if (ioctl(fd, DRM_IOCTL_VPRIME_SUBMIT, &submit))
			return -errno;
	}
	return ioctl(fd, DRM_IOCTL_VPRIME_WAIT_IDLE, &idle) ? -errno : 0;
}

bool device_is_vprime(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	bool yes = v && !strcmp(v->name, "vprime");

	drmFreeVersion(v);
	return yes;
}

static const char *const placement_keys[] = {
	[VPRIME_PLACEMENT_NONE] = "none",
	[VPRIME_PLACEMENT_SYSTEM] = "system",
	[VPRIME_PLACEMENT_DMA32] = "dma32",
	[VPRIME_PLACEMENT_CONTIG] = "contig",
	[VPRIME_PLACEMENT_CONTIG_DMA32] = "contig-dma32",
	[VPRIME_PLACEMENT_IMPORTED] = "imported",
	[VPRIME_PLACEMENT_VRAM] = "vram",
};

int placement_from_key(const char *key)
{
	for (size_t i = 0; i < sizeof(placement_keys) / sizeof(placement_keys[0]); i++)
		if (!strcmp(key, placement_keys[i]))
			return (int)i;
	return -1;
}

const char *placement_name(uint32_t placement)
{
	static const char *const names[] = {
		[VPRIME_PLACEMENT_NONE] = "none (no storage yet)",
		[VPRIME_PLACEMENT_SYSTEM] = "system pages",
		[VPRIME_PLACEMENT_DMA32] = "pages below 4 GiB",
		[VPRIME_PLACEMENT_CONTIG] = "one contiguous block",
		[VPRIME_PLACEMENT_CONTIG_DMA32] = "one contiguous block below 4 GiB",
		[VPRIME_PLACEMENT_IMPORTED] = "another driver's memory",
		[VPRIME_PLACEMENT_VRAM] = "the exporter's device memory (VRAM)",
	};

	return placement < sizeof(names) / sizeof(names[0]) ? names[placement] : "unknown";
}
