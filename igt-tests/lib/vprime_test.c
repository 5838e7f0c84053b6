// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/dma-heap.h>
#include <sys/syscall.h>

#include <xf86drm.h>

#include "vtest.h"
#include "vprime_test.h"

int vprime_num_devices(void)
{
	FILE *f = fopen("/sys/module/vprime/parameters/num_devices", "r");
	int n = -1;

	vt_require_f(f, "vprime is not loaded\n");
	vt_assert_eq(fscanf(f, "%d", &n), 1);
	fclose(f);
	return n;
}

/* The name of the device behind /sys/class/drm/<minor>, in @name. */
static bool minor_device_name(const char *minor, char *name, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/drm/%s/device", minor);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	snprintf(name, len, "%s", basename(target));
	return true;
}

bool vprime_node_path(const char *devname, enum vprime_node node,
		      char *path, size_t len)
{
	const char *prefix = node == VPRIME_NODE_CARD ? "card" : "renderD";
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir("/sys/class/drm");
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		char name[NAME_MAX + 1];

		if (strncmp(de->d_name, prefix, strlen(prefix)) ||
		    strchr(de->d_name, '-'))
			continue;
		if (!minor_device_name(de->d_name, name, sizeof(name)) ||
		    strcmp(name, devname))
			continue;
		snprintf(path, len, "/dev/dri/%s", de->d_name);
		found = true;
	}
	closedir(dir);
	return found;
}

static int open_node(const char *devname, enum vprime_node node)
{
	char path[PATH_MAX];
	int fd;

	vt_require_f(vprime_node_path(devname, node, path, sizeof(path)),
		      "no %s node for device %s\n",
		      node == VPRIME_NODE_CARD ? "card" : "render", devname);
	fd = open(path, O_RDWR | O_CLOEXEC);
	vt_assert_f(fd >= 0, "cannot open %s: %m\n", path);
	return fd;
}

int vprime_open(int index, enum vprime_node node)
{
	char devname[32];

	snprintf(devname, sizeof(devname), "vprime.%d", index);
	return open_node(devname, node);
}

int vprime_open_other(const char *devname)
{
	return open_node(devname, VPRIME_NODE_CARD);
}

void vprime_driver_name(int fd, char *name, size_t len)
{
	struct drm_version v = { .name = name, .name_len = len - 1 };

	memset(name, 0, len);
	vt_assert_ok(ioctl(fd, DRM_IOCTL_VERSION, &v));
}

void vprime_objects_header(int index, char *line, size_t len)
{
	char devname[32], node[64], path[128];
	FILE *f;

	snprintf(devname, sizeof(devname), "vprime.%d", index);
	vt_assert_f(vprime_node_path(devname, VPRIME_NODE_CARD, node, sizeof(node)),
		    "no card node for %s\n", devname);
	/* /dev/dri/cardN -> /sys/kernel/debug/dri/N */
	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%s/vprime_objects",
		 node + strlen("/dev/dri/card"));
	f = fopen(path, "r");
	vt_require_f(f, "cannot read %s (debugfs): %m\n", path);
	vt_assert_f(fgets(line, len, f), "%s is empty\n", path);
	fclose(f);
}

long vprime_debugfs_counter(int index, const char *name)
{
	char line[512], key[64], *at;
	long value = -1;

	vprime_objects_header(index, line, sizeof(line));
	snprintf(key, sizeof(key), "%s: ", name);
	at = strstr(line, key);
	vt_assert_f(at && (at == line || at[-1] == ' ') &&
		    sscanf(at + strlen(key), "%ld", &value) == 1,
		    "vprime.%d's debugfs header has no counter %s: %s", index, name, line);
	return value;
}

long vprime_object_count(int index)
{
	return vprime_debugfs_counter(index, "objects");
}

int vprime_dma_heap_alloc(size_t size)
{
	struct dma_heap_allocation_data alloc = {
		.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

	vt_require_f(heap >= 0, "no /dev/dma_heap/system (%m): this kernel is built "
		     "without CONFIG_DMABUF_HEAPS_SYSTEM (Debian's 6.1 is)\n");
	vt_assert_ok(ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc));
	close(heap);
	return alloc.fd;
}

long vprime_object_count_settled(int index)
{
	long count = vprime_object_count(index), last = -1;
	unsigned int stable = 0, i;

	/* Up to a minute: a loaded host under emulation is slow, never wrong. */
	for (i = 0; i < 600 && stable < 3; i++) {
		usleep(100 * 1000);
		last = count;
		count = vprime_object_count(index);
		if (count == last && vprime_debugfs_counter(index, "jobs") == 0)
			stable++;
		else
			stable = 0;
	}
	return count;
}

bool vprime_param(const char *name, int index, char *buf, size_t len)
{
	char path[PATH_MAX], line[1024], *tok, *save = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/vprime/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (index-- == 0) {
			snprintf(buf, len, "%s", tok);
			return true;
		}
	}
	return false;
}

static void require_param(const char *name, int index, char *buf, size_t len)
{
	vt_require_f(vprime_param(name, index, buf, len),
		     "vprime has no parameter %s for instance %d\n", name, index);
}

uint64_t vprime_param_u64(const char *name, int index)
{
	unsigned long long v;
	char buf[64], *end;

	require_param(name, index, buf, sizeof(buf));
	errno = 0;
	v = strtoull(buf, &end, 0);
	vt_assert_f(!errno && end != buf && !*end,
		    "parameter %s[%d] is '%s', not a number\n", name, index, buf);
	return v;
}

bool vprime_param_bool(const char *name, int index)
{
	char buf[64];

	require_param(name, index, buf, sizeof(buf));
	if (!strcmp(buf, "Y") || !strcmp(buf, "y") || !strcmp(buf, "1"))
		return true;
	vt_assert_f(!strcmp(buf, "N") || !strcmp(buf, "n") || !strcmp(buf, "0"),
		    "parameter %s[%d] is '%s', not a boolean\n", name, index, buf);
	return false;
}

unsigned int vprime_job_timeout_ms(int index)
{
	char buf[64];

	vt_require_f(vprime_param("job_timeout_ms", 0, buf, sizeof(buf)),
		     "vprime has no job engine (no parameter job_timeout_ms)\n");
	if (index > 0 && !vprime_param("job_timeout_ms", 1, buf, sizeof(buf)))
		index = 0;		/* one value: every instance's */
	if (!vprime_param("job_timeout_ms", index, buf, sizeof(buf)))
		return 2000;		/* the default, past the values given */
	return vprime_param_u64("job_timeout_ms", index);
}

int vprime_find_hang_instance(unsigned int exclude)
{
	int n = vprime_num_devices(), best = -1;
	char buf[64];

	if (!vprime_param("job_timeout_ms", 0, buf, sizeof(buf)))
		return -1;
	for (int i = 0; i < n && i < 32; i++) {
		unsigned int t = vprime_job_timeout_ms(i);

		if (!(exclude & (1u << i)) && t &&
		    (best < 0 || t < vprime_job_timeout_ms(best)))
			best = i;
	}
	return best;
}

int vprime_hang_instance(unsigned int exclude)
{
	int i = vprime_find_hang_instance(exclude);

	vt_require_f(i >= 0, "no vprime instance (of those not excluded) has a job timeout: "
		     "job_timeout_ms is 0 or absent, no job can hang\n");
	return i;
}

struct vprime_limits vprime_limits(int index)
{
	struct vprime_limits l;
	char buf[32];

	l.dma_bits = vprime_param_u64("dma_bits", index) ?: 64;	/* 0: not set */
	l.max_segment = vprime_param_u64("max_segment", index);
	l.seg_boundary = vprime_param_u64("seg_boundary", index);
	l.contiguous = vprime_param_bool("contiguous", index);
	l.vram_mb = vprime_param("vram_mb", index, buf, sizeof(buf)) ? strtoul(buf, NULL, 0) : 0;
	l.iommu = vprime_param("iommu", index, buf, sizeof(buf)) && (buf[0] == 'Y' || buf[0] == '1');
	vt_assert_f(l.dma_bits >= 12 && l.dma_bits <= 64, "instance %d: dma_bits %u\n",
		    index, l.dma_bits);
	vt_assert_f(!(l.seg_boundary & (l.seg_boundary - 1)),
		    "instance %d: seg_boundary %#llx is not a power of two\n", index,
		    (unsigned long long)l.seg_boundary);
	return l;
}

bool vprime_is_lenient(const struct vprime_limits *l)
{
	return l->dma_bits >= 64 && !l->contiguous && !l->max_segment && !l->seg_boundary &&
	       !l->vram_mb && !l->iommu;
}

bool vprime_is_dma32(const struct vprime_limits *l)
{
	return l->dma_bits == 32;
}

/* Behind an IOMMU, a contiguous need is met by IO addresses over any pages. */
bool vprime_is_contiguous(const struct vprime_limits *l)
{
	return l->contiguous && !l->iommu;
}

int vprime_find_instance(vprime_instance_match match, unsigned int exclude)
{
	int n = vprime_num_devices();

	vt_assert_lte(n, 32);
	for (int i = 0; i < n; i++) {
		struct vprime_limits l = vprime_limits(i);

		if (!(exclude & (1u << i)) && match(&l))
			return i;
	}
	return -1;
}

int vprime_require_instance(vprime_instance_match match, unsigned int exclude,
			    const char *what)
{
	int i = vprime_find_instance(match, exclude);

	vt_require_f(i >= 0, "needs %s among the module's instances (see the parameters "
		     "dma_bits, max_segment, seg_boundary, contiguous)\n", what);
	return i;
}

int vprime_unload(void)
{
	return syscall(SYS_delete_module, "vprime", O_NONBLOCK) ? -errno : 0;
}

void vprime_loaded_params(char *params, size_t len)
{
	static const char *const names[] = {
		"num_devices", "num_crtcs", "dma_bits", "max_segment", "seg_boundary",
		"contiguous", "map_wait_ms", "job_delay_ms", "job_timeout_ms", "vram_mb", "p2p",
		"iommu", "iova_mb",
	};
	size_t used = 0;

	params[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char path[96], value[128] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/module/vprime/parameters/%s", names[i]);
		f = fopen(path, "r");
		vt_assert_f(f, "%s: %m\n", path);
		vt_assert(fgets(value, sizeof(value), f));
		fclose(f);
		value[strcspn(value, "\n")] = '\0';
		used += snprintf(params + used, len - used, "%s%s=%s", used ? " " : "",
				 names[i], value);
		vt_assert(used < len);
	}
}

void vprime_load(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);

	vt_assert_f(fd >= 0, "open %s: %m\n", ko);
	vt_assert_f(syscall(SYS_finit_module, fd, params, 0) == 0,
		     "finit_module(%s, %s): %m\n", ko, params);
	close(fd);
}

void vprime_assert_devices_answer(int num_devices)
{
	for (int i = 0; i < num_devices; i++) {
		char name[32];
		int fd = vprime_open(i, VPRIME_NODE_RENDER);

		vprime_driver_name(fd, name, sizeof(name));
		vt_assert_f(!strcmp(name, "vprime"), "vprime.%d answers '%s'\n", i, name);
		close(fd);
	}
}
