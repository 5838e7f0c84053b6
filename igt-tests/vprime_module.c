// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vtest.h"
#include "vprime_test.h"

#define MAX_MINORS 64

/* The DRM minors whose parent device is a vprime instance, sorted. */
struct minors {
	int count;
	char names[MAX_MINORS][32];
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void vprime_minors(struct minors *m)
{
	struct dirent *de;
	DIR *dir = opendir("/sys/class/drm");

	vt_assert(dir);
	m->count = 0;
	while ((de = readdir(dir))) {
		char link[300], target[256];
		ssize_t n;

		snprintf(link, sizeof(link), "/sys/class/drm/%s/device", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0 || strchr(de->d_name, '-'))
			continue;
		target[n] = '\0';
		if (!strstr(target, "/vprime."))
			continue;
		vt_assert(m->count < MAX_MINORS);
		snprintf(m->names[m->count++], sizeof(m->names[0]), "%.31s", de->d_name);
	}
	closedir(dir);
	qsort(m->names, m->count, sizeof(m->names[0]), cmp_names);
}

/* Devices named vprime.* anywhere on the buses a bus-less device lives on. */
static int stale_bus_devices(void)
{
	static const char * const buses[] = {
		"/sys/bus/platform/devices", "/sys/bus/faux/devices",
	};
	int count = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(buses); i++) {
		DIR *dir = opendir(buses[i]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir)))
			if (!strncmp(de->d_name, "vprime.", 7)) {
				vtest_info("stale device %s/%s\n", buses[i], de->d_name);
				count++;
			}
		closedir(dir);
	}
	return count;
}

static const char *module_path(void)
{
	const char *ko = getenv("VM_KO_vprime");

	vt_require_f(ko && access(ko, R_OK) == 0,
		      "VM_KO_vprime does not name vprime.ko (run through ./vprime-test)\n");
	return ko;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "vprime", O_NONBLOCK) ? -errno : 0;
}

/*
 * The parameters the module was loaded with, as "name=value ..." from
 * sysfs, so that a reload gives every instance its constraints back.
 */
static void loaded_params(char *params, size_t len)
{
	static const char *const names[] = {
		"num_devices", "num_crtcs", "dma_bits", "max_segment", "seg_boundary",
		"contiguous", "map_wait_ms", "job_delay_ms", "job_timeout_ms",
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

static void load(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);

	vt_assert_f(fd >= 0, "open %s: %m\n", ko);
	vt_assert_f(syscall(SYS_finit_module, fd, params, 0) == 0,
		     "finit_module(%s, %s): %m\n", ko, params);
	close(fd);
}

static void assert_same_minors(const struct minors *a, const struct minors *b)
{
	vt_assert_eq(a->count, b->count);
	for (int i = 0; i < a->count; i++)
		vt_assert_f(!strcmp(a->names[i], b->names[i]),
			     "minor %d was %s, now %s: a device was not freed\n",
			     i, a->names[i], b->names[i]);
}

static void assert_devices_answer(int num_devices)
{
	for (int i = 0; i < num_devices; i++) {
		char name[32];
		int fd = vprime_open(i, VPRIME_NODE_RENDER);

		vprime_driver_name(fd, name, sizeof(name));
		vt_assert_f(!strcmp(name, "vprime"), "vprime.%d answers '%s'\n", i, name);
		close(fd);
	}
}

/*
 * Unload and reload the module a few times. The same minors come back each
 * time: the DRM core hands out the lowest free minor, so a device that was
 * not freed would push the new ones up.
 */
static void reload_cycles(int cycles)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	struct minors before, now;
	char params[512];
	struct stat st;

	loaded_params(params, sizeof(params));
	vprime_minors(&before);
	vt_assert_eq(before.count, 2 * num_devices);

	for (int c = 0; c < cycles; c++) {
		vt_assert_eq(unload(), 0);
		vt_assert_f(stat("/sys/module/vprime", &st) && errno == ENOENT,
			     "/sys/module/vprime still exists after unload\n");
		vprime_minors(&now);
		vt_assert_f(now.count == 0, "%d vprime minors left after unload\n", now.count);
		vt_assert_eq(stale_bus_devices(), 0);

		load(ko, params);
		vprime_minors(&now);
		assert_same_minors(&before, &now);
		assert_devices_answer(num_devices);
	}
}

static void test_reload(void)
{
	reload_cycles(3);
}

static void test_unload_while_open(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	int fd = vprime_open(num_devices - 1, VPRIME_NODE_CARD);
	char name[32], params[512];

	loaded_params(params, sizeof(params));
	vt_assert_eq(unload(), -EAGAIN);
	vprime_driver_name(fd, name, sizeof(name));
	vt_assert_f(!strcmp(name, "vprime"), "answers '%s'\n", name);
	close(fd);
	vt_assert_eq(unload(), 0);
	load(ko, params);
	assert_devices_answer(num_devices);
}

static const struct vtest tests[] = {
	VTEST("reload", "Unloading removes every vprime device and node; reloading brings "
	      "back the same minors, three times in a row.", test_reload),
	VTEST("unload-while-open", "A module with an open file cannot be unloaded "
	      "(-EAGAIN); the device keeps working and unloads once the file is closed.",
	      test_unload_while_open),
};

VTEST_MAIN("Unloading and reloading vprime.ko: every device goes away with the "
	   "module and nothing is left behind.", tests)
