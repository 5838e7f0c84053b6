// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xf86drm.h>

#include "vtest.h"
#include "vprime_drm.h"
#include "vprime_test.h"

static const enum vprime_node nodes[] = { VPRIME_NODE_CARD, VPRIME_NODE_RENDER };

static const char *node_name(enum vprime_node node)
{
	return node == VPRIME_NODE_CARD ? "card" : "render";
}

static void check_instances(void)
{
	int n = vprime_num_devices();
	char path[64], devname[32];

	vt_assert_f(n >= 1, "num_devices is %d\n", n);
	for (int i = 0; i < n; i++) {
		snprintf(devname, sizeof(devname), "vprime.%d", i);
		for (unsigned int j = 0; j < ARRAY_SIZE(nodes); j++)
			vt_assert_f(vprime_node_path(devname, nodes[j], path, sizeof(path)),
				     "%s has no %s node\n", devname, node_name(nodes[j]));
	}
	snprintf(devname, sizeof(devname), "vprime.%d", n);
	vt_assert_f(!vprime_node_path(devname, VPRIME_NODE_CARD, path, sizeof(path)),
		     "%s exists but num_devices is %d\n", devname, n);
}

/* DRM_IOCTL_VERSION's two-step protocol: lengths first, then the strings. */
static void check_version(int fd)
{
	struct drm_version v = {};
	char name[64] = {}, date[64] = {}, desc[128] = {};

	vt_assert_ok(ioctl(fd, DRM_IOCTL_VERSION, &v));
	vt_assert_eq(v.name_len, strlen("vprime"));
	vt_assert_f(v.desc_len > 0, "empty driver description\n");
	vt_assert(v.desc_len < sizeof(desc));
	vt_assert(v.date_len < sizeof(date));

	v.name = name;
	v.name_len = sizeof(name) - 1;
	v.date = date;
	v.date_len = sizeof(date) - 1;
	v.desc = desc;
	v.desc_len = sizeof(desc) - 1;
	vt_assert_ok(ioctl(fd, DRM_IOCTL_VERSION, &v));
	vt_assert_f(!strcmp(name, "vprime"), "driver name is '%s'\n", name);
	vt_assert_f(strlen(desc) == v.desc_len, "desc '%s' len %zu\n", desc, v.desc_len);
	vt_assert_lte(0, v.version_major);

	/* A short buffer is filled as far as it goes; lengths stay full. */
	memset(name, 0, sizeof(name));
	v.name_len = 3;
	vt_assert_ok(ioctl(fd, DRM_IOCTL_VERSION, &v));
	vt_assert_eq(v.name_len, strlen("vprime"));
	vt_assert_f(!strcmp(name, "vpr"), "truncated name is '%s'\n", name);
}

/*
 * The DRM core answers -EINVAL for a driver-private number past the driver's
 * table and for a number outside the core and driver ranges.
 */
static void check_undefined_ioctls(int fd)
{
	const unsigned long cmds[] = {
		DRM_IOWR(DRM_COMMAND_END - 1, struct drm_version),
		DRM_IO(DRM_COMMAND_END - 1),
		DRM_IOWR(0xff, struct drm_version),
	};
	struct drm_version v = {};

	for (unsigned int i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		vt_assert_eq(ioctl(fd, cmds[i], &v), -1);
		vt_assert_f(errno == EINVAL, "ioctl 0x%lx: errno %d (%s), expected EINVAL\n",
			     cmds[i], errno, strerror(errno));
	}
	/* The device still answers afterwards. */
	check_version(fd);
}

static void test_version(enum vprime_node node)
{
	for (int i = 0; i < vprime_num_devices(); i++) {
		int fd = vprime_open(i, node);

		check_version(fd);
		close(fd);
	}
}

static void test_version_card(void)
{
	test_version(VPRIME_NODE_CARD);
}

static void test_version_render(void)
{
	test_version(VPRIME_NODE_RENDER);
}

static void test_undefined_ioctl(enum vprime_node node)
{
	int fd = vprime_open(0, node);

	check_undefined_ioctls(fd);
	close(fd);
}

static void test_undefined_ioctl_card(void)
{
	test_undefined_ioctl(VPRIME_NODE_CARD);
}

static void test_undefined_ioctl_render(void)
{
	test_undefined_ioctl(VPRIME_NODE_RENDER);
}

static const struct vtest tests[] = {
	VTEST("instances", "num_devices instances exist, each with a card and a render "
	      "node, and no more.", check_instances),
	VTEST("version-card", "DRM_IOCTL_VERSION on each instance's card node reports "
	      "vprime, honouring the two-step length protocol.", test_version_card),
	VTEST("version-render", "DRM_IOCTL_VERSION on each instance's render node reports "
	      "vprime, honouring the two-step length protocol.", test_version_render),
	VTEST("undefined-ioctl-card", "Undefined ioctl numbers on a card node get -EINVAL "
	      "and leave the device working.", test_undefined_ioctl_card),
	VTEST("undefined-ioctl-render", "Undefined ioctl numbers on a render node get "
	      "-EINVAL and leave the device working.", test_undefined_ioctl_render),
};

VTEST_MAIN("vprime's devices: instances, nodes, DRM_IOCTL_VERSION and the answer "
	   "to ioctls it does not define.", tests)
