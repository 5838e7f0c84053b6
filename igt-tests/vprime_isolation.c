// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * What one client of a vprime node cannot do to another: reach its objects
 * by handle number or by mmap offset, name them with flink on a render
 * node, or change the display without being master (DMA addresses without
 * privilege: vprime_robust/map-addresses-privileged). Each "client" is its
 * own open file, as two processes' are.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#define SZ_64K	(64u << 10)

/* A handle number of one file means nothing in another. */
static void test_handles_per_file(void)
{
	int a = vprime_open(0, VPRIME_NODE_RENDER), b = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(a, SZ_64K);
	struct drm_vprime_gem_info info = { .handle = h };
	struct drm_vprime_gem_map map = { .handle = h };
	struct drm_gem_close cl = { .handle = h };
	int fd;

	vt_assert_errno(ioctl(b, DRM_IOCTL_VPRIME_GEM_INFO, &info), ENOENT);
	vt_assert_errno(ioctl(b, DRM_IOCTL_VPRIME_GEM_MAP, &map), ENOENT);
	vt_assert_f(drmPrimeHandleToFD(b, h, DRM_CLOEXEC, &fd) != 0,
		    "another file exported handle %u\n", h);
	vt_assert_errno(ioctl(b, DRM_IOCTL_GEM_CLOSE, &cl), EINVAL);
	/* The owner still has it. */
	vprime_gem_info(a, h);
	close(a);
	close(b);
}

/* An mmap offset is good only on the file that holds a handle to the object. */
static void test_mmap_offset_per_file(void)
{
	int a = vprime_open(0, VPRIME_NODE_RENDER), b = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(a, SZ_64K);
	uint64_t offset = vprime_gem_info(a, h).mmap_offset;
	void *p;

	p = mmap(NULL, SZ_64K, PROT_READ | PROT_WRITE, MAP_SHARED, b, offset);
	if (p != MAP_FAILED)
		munmap(p, SZ_64K);
	vt_assert_f(p == MAP_FAILED && errno == EACCES,
		    "another file mapped the offset: %s\n",
		    p == MAP_FAILED ? strerror(errno) : "mapped");
	close(a);
	close(b);
}

/*
 * A handle number another process got by importing is not the importer's
 * own to use: a process that did not import the buffer cannot use the
 * number, even on the same device.
 */
static void test_import_handle_per_process(void)
{
	int exp = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(exp, SZ_64K), imported = 0;
	int dmabuf = prime_export(exp, h, DRM_CLOEXEC | DRM_RDWR);
	int pipefd[2];
	pid_t pid;
	int status;

	vt_assert_ok(pipe(pipefd));
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		int imp = vprime_open(1, VPRIME_NODE_RENDER);
		uint32_t ih = prime_import(imp, dmabuf);

		if (write(pipefd[1], &ih, sizeof(ih)) != sizeof(ih))
			_exit(2);
		pause();
		_exit(0);
	}
	vt_assert_eq(read(pipefd[0], &imported, sizeof(imported)), (ssize_t)sizeof(imported));
	{
		int other = vprime_open(1, VPRIME_NODE_RENDER);
		struct drm_vprime_gem_info info = { .handle = imported };

		vt_assert_errno(ioctl(other, DRM_IOCTL_VPRIME_GEM_INFO, &info), ENOENT);
		close(other);
	}
	kill(pid, SIGKILL);
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	close(dmabuf);
	close(exp);
}

/* No flink on a render node: global names are the card node's legacy. */
static void test_no_flink_on_render(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	struct drm_gem_flink flink = { .handle = vprime_gem_create(fd, SZ_64K) };
	struct drm_gem_open open_arg = { .name = 1 };

	vt_assert_errno(ioctl(fd, DRM_IOCTL_GEM_FLINK, &flink), EACCES);
	vt_assert_errno(ioctl(fd, DRM_IOCTL_GEM_OPEN, &open_arg), EACCES);
	close(fd);
}

/* A render node cannot touch the display at all. */
static void test_no_kms_on_render(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	struct drm_mode_card_res res = {};
	struct drm_mode_create_dumb dumb = { .width = 64, .height = 64, .bpp = 32 };

	vt_assert_errno(ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res), EACCES);
	vt_assert_errno(ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb), EACCES);
	close(fd);
}

/*
 * A card-node client that is not master (another file holds it) cannot
 * change the display: an atomic commit and a SETCRTC fail with EACCES.
 */
static void test_non_master_no_modeset(void)
{
	int master = vprime_open(0, VPRIME_NODE_CARD), other;
	struct drm_mode_atomic atomic = { .flags = DRM_MODE_ATOMIC_TEST_ONLY };
	struct drm_mode_crtc crtc = {};
	drmModeResPtr res;

	vt_require_f(drmSetMaster(master) == 0, "cannot become master: %m\n");
	other = vprime_open(0, VPRIME_NODE_CARD);
	vt_assert_f(drmIsMaster(other) == 0, "the second file is master too\n");
	vt_assert_ok(drmSetClientCap(other, DRM_CLIENT_CAP_ATOMIC, 1));
	res = drmModeGetResources(other);
	vt_assert(res && res->count_crtcs > 0);
	crtc.crtc_id = res->crtcs[0];
	vt_assert_errno(ioctl(other, DRM_IOCTL_MODE_SETCRTC, &crtc), EACCES);
	vt_assert_errno(ioctl(other, DRM_IOCTL_MODE_ATOMIC, &atomic), EACCES);
	drmModeFreeResources(res);
	close(other);
	close(master);
}

static const struct vtest tests[] = {
	VTEST("handles-per-file", "another file's handle numbers name nothing",
	      test_handles_per_file),
	VTEST("mmap-offset-per-file", "another file's mmap offsets cannot be mapped (EACCES)",
	      test_mmap_offset_per_file),
	VTEST("import-handle-per-process", "a process that did not import cannot use the handle",
	      test_import_handle_per_process),
	VTEST("no-flink-on-render", "GEM_FLINK and GEM_OPEN are refused on a render node",
	      test_no_flink_on_render),
	VTEST("no-kms-on-render", "a render node has no display ioctls",
	      test_no_kms_on_render),
	VTEST("non-master-no-modeset", "a client that is not master cannot change the display",
	      test_non_master_no_modeset),
};

VTEST_MAIN("what one vprime client cannot do to another", tests)
