// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime and the other exporters and importers of a Debian kernel: udmabuf,
 * the dma-heaps and vkms. (vgem and vprime itself are in vprime_prime.) Each
 * subtest moves real bytes both ways and compares whole buffers; a kernel
 * without the other side skips with the reason.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_test.h"
#include "vtest.h"

#define SZ (33 * VT_PAGE)

static void dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
}

/*
 * Import @dmabuf (@size bytes, holding pattern @seed) into vprime.0, check
 * vprime's view, write a new pattern through it and check @theirs, the
 * exporter's own mapping, sees it. The import must not add pages to vprime.
 */
static void check_import_both_ways(int dmabuf, void *theirs, size_t size, uint32_t seed,
				   const char *exporter)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	long base = vprime_object_count_settled(0);
	struct drm_vprime_gem_info info;
	char what[64];
	uint32_t h;
	int again;
	void *p;

	h = prime_import(fd, dmabuf);
	vt_assert_eq(prime_import(fd, dmabuf), h);	/* twice: the same handle */
	vt_assert_eq(vprime_object_count(0), base + 1);
	info = vprime_gem_info(fd, h);
	vt_assert(info.state & VPRIME_BO_STATE_IMPORTED);
	vt_assert_eq(info.size, size);

	p = vprime_gem_mmap(fd, h, size);
	snprintf(what, sizeof(what), "vprime's view of %s's buffer", exporter);
	dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	pattern_check(p, size, seed, what);
	pattern_fill(p, size, ~seed);
	dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	snprintf(what, sizeof(what), "%s's view of vprime's writes", exporter);
	pattern_check(theirs, size, ~seed, what);
	munmap(p, size);

	/* Re-exporting an imported object hands back the exporter's dma-buf. */
	again = prime_export(fd, h, DRM_CLOEXEC);
	vt_assert_eq(fd_inode(again), fd_inode(dmabuf));
	close(again);
	gem_close(fd, h);
	vt_assert_eq(vprime_object_count(0), base);
	close(fd);
}

static void test_udmabuf(void)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = SZ };
	int dev = open("/dev/udmabuf", O_RDWR);
	int memfd, dmabuf;
	void *p;

	vt_require_f(dev >= 0, "no /dev/udmabuf (%m): this kernel is built without "
		     "CONFIG_UDMABUF (Debian's 6.1 is)\n");
	memfd = memfd_create("vprime-udmabuf", MFD_ALLOW_SEALING);
	vt_assert(memfd >= 0);
	vt_assert_ok(ftruncate(memfd, SZ));
	vt_assert_ok(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	vt_assert(p != MAP_FAILED);
	pattern_fill(p, SZ, 0x0d3a);

	create.memfd = memfd;
	dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
	vt_assert_f(dmabuf >= 0, "UDMABUF_CREATE: %m\n");
	check_import_both_ways(dmabuf, p, SZ, 0x0d3a, "udmabuf (memfd)");

	munmap(p, SZ);
	close(dmabuf);
	close(memfd);
	close(dev);
}

static void test_dma_heap_system(void)
{
	int fd = vprime_dma_heap_alloc(SZ);
	void *p;

	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	vt_assert_f(p != MAP_FAILED, "mmap of the heap buffer: %m\n");
	dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	pattern_fill(p, SZ, 0x4ea9);
	dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	check_import_both_ways(fd, p, SZ, 0x4ea9, "the system heap");
	munmap(p, SZ);
	close(fd);
}

static void test_vkms_dumb(void)
{
	int vkms = vprime_open_other("vkms");
	uint32_t pitch, h;
	uint64_t size;
	int dmabuf;
	void *p;

	h = dumb_create_mapped(vkms, 1024, 33, &pitch, &size, &p);
	pattern_fill(p, size, 0x7c35);
	dmabuf = prime_export(vkms, h, DRM_CLOEXEC | DRM_RDWR);
	check_import_both_ways(dmabuf, p, size, 0x7c35, "vkms (dumb)");
	munmap(p, size);
	close(dmabuf);
	gem_close(vkms, h);
	close(vkms);
}

/*
 * vprime's buffer as a vkms framebuffer: vkms composes it and its writeback
 * connector hands back what it read, which must be vprime's bytes.
 */
static void test_vkms_framebuffer(void)
{
	const uint32_t w = 1024, h = 768, pitch = w * 4;
	int vkms = vprime_open_other("vkms");
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	long base = vprime_object_count_settled(0);
	struct kms_capture cap;
	uint32_t bo, hv, fb;
	const uint32_t *got, *want;
	int dmabuf;
	void *p;

	bo = vprime_gem_create(fd, (uint64_t)pitch * h);
	p = vprime_gem_mmap(fd, bo, (size_t)pitch * h);
	pattern_fill(p, (size_t)pitch * h, 0xfb00);
	dmabuf = prime_export(fd, bo, DRM_CLOEXEC | DRM_RDWR);
	hv = prime_import(vkms, dmabuf);
	vt_assert_eq(vprime_gem_info(fd, bo).num_attachments, 1);
	fb = kms_add_fb_xrgb8888(vkms, hv, w, h, pitch);

	kms_writeback_capture(vkms, fb, w, h, &cap);
	for (uint32_t y = 0; y < h; y++) {
		got = (const uint32_t *)((const char *)cap.map + (size_t)y * cap.pitch);
		want = (const uint32_t *)((const char *)p + (size_t)y * pitch);
		for (uint32_t x = 0; x < w; x++)
			vt_assert_f((got[x] & 0xffffff) == (want[x] & 0xffffff),
				    "vkms composed 0x%06x at (%u,%u) (byte %zu of vprime's "
				    "buffer, page %zu), vprime holds 0x%06x\n",
				    got[x] & 0xffffff, x, y, ((size_t)y * w + x) * 4,
				    ((size_t)y * w + x) * 4 / VT_PAGE, want[x] & 0xffffff);
	}
	kms_capture_release(vkms, &cap);

	vt_assert_ok(drmModeRmFB(vkms, fb));
	gem_close(vkms, hv);
	close(dmabuf);
	munmap(p, (size_t)pitch * h);
	gem_close(fd, bo);
	vt_assert_eq(vprime_object_count(0), base);
	close(vkms);
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("udmabuf", "A udmabuf over a memfd imported by vprime: both views hold the "
	      "same bytes both ways (6.12 and later).", test_udmabuf),
	VTEST("dma-heap-system", "A system dma-heap buffer imported by vprime: both views "
	      "hold the same bytes both ways (6.12 and later).", test_dma_heap_system),
	VTEST("vkms-dumb", "A vkms dumb buffer imported by vprime: both views hold the same "
	      "bytes both ways.", test_vkms_dumb),
	VTEST("vkms-framebuffer", "vprime's buffer imported by vkms as a framebuffer: what "
	      "vkms composes, read back through writeback, is vprime's bytes.",
	      test_vkms_framebuffer),
};

VTEST_MAIN("vprime with the other exporters and importers: udmabuf, dma-heaps, vkms.",
	   tests)
