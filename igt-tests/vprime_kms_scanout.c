// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display, whose buffers it scans out: vprime's own GEM objects and
 * dumb buffers, and buffers imported from another vprime instance, vgem,
 * vkms, udmabuf and the system heap, each read back through writeback; the
 * pin that scanout puts on a buffer, and the move of a buffer shown on an
 * instance whose display cannot reach its storage.
 *
 * The display tests' conventions (vprime.0's card node as DRM master, the
 * CRTC the library lights, every subtest turning its CRTCs off) are in
 * lib/vprime_output.h.
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

#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vprime_test.h"
#include "vtest.h"

/* A full-screen XRGB8888 primary of @fb, captured and compared (±1). */
static void capture_compare_primary(int fd, const struct fb *fb, const char *what)
{
	struct ref_plane primary = plane_at(KMS_PLANE_PRIMARY, fb, 0, 0);

	capture_compare(fd, &primary, 1, 1, what);
}

/* writeback-local */

static void local_gem(void *arg)
{
	int fd = open_card();
	struct fb fb;

	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x10ca1, false);
	capture_compare_primary(fd, &fb, "vprime's GEM object");
	fb_release(fd, &fb);
	close(fd);
}

static void local_dumb(void *arg)
{
	struct fb fb = { .format = DRM_FORMAT_XRGB8888, .w = W, .h = H };
	int fd = open_card();
	uint64_t size;

	fb.handle = dumb_create_mapped(fd, W, H, &fb.pitch, &size, &fb.map);
	fb.size = size;
	fb_add(fd, &fb);
	fb_fill(&fb, 0xd0b, false);
	capture_compare_primary(fd, &fb, "vprime's dumb buffer");
	fb_release(fd, &fb);
	close(fd);
}

static void test_writeback_local(void)
{
	vtest_dynamic("gem", local_gem, NULL);
	vtest_dynamic("dumb", local_dumb, NULL);
}

/* writeback-imported */

/*
 * Another exporter's buffer, W x H XRGB8888 at @pitch and filled through
 * @map, its mapping: imported into vprime.0, shown, captured, compared with
 * the exporter's bytes.
 */
static void show_imported(int dmabuf, void *map, uint32_t pitch, const char *exporter)
{
	struct fb fb = {
		.format = DRM_FORMAT_XRGB8888, .w = W, .h = H, .pitch = pitch, .map = map,
	};
	int fd = open_card();
	char what[64];

	fb.handle = prime_import(fd, dmabuf);
	fb_add(fd, &fb);
	snprintf(what, sizeof(what), "%s's buffer on vprime's display", exporter);
	capture_compare_primary(fd, &fb, what);
	vt_assert_eq(drmModeRmFB(fd, fb.fb_id), 0);
	gem_close(fd, fb.handle);
	close(fd);
}

/* @map as a W x H XRGB8888 fb to fill with a pattern. */
static void fill_foreign(void *map, uint32_t pitch, uint32_t seed)
{
	struct fb fb = {
		.format = DRM_FORMAT_XRGB8888, .w = W, .h = H, .pitch = pitch, .map = map,
	};

	fb_fill(&fb, seed, false);
}

static void dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
}

static bool is_lenient(const struct vprime_limits *l)
{
	return l->dma_bits >= 64 && !l->contiguous && !l->max_segment && !l->seg_boundary;
}

static void imported_vprime(void *arg)
{
	const size_t size = (size_t)W * 4 * H;
	int n = vprime_num_devices(), idx = -1, fd, dmabuf;
	uint32_t h;
	void *p;

	for (int i = 1; i < n && idx < 0; i++) {
		struct vprime_limits l = vprime_limits(i);

		if (is_lenient(&l))
			idx = i;
	}
	vt_require_f(idx > 0, "needs a second vprime instance without DMA limits\n");
	fd = vprime_open(idx, VPRIME_NODE_RENDER);
	h = vprime_gem_create(fd, size);
	p = vprime_gem_mmap(fd, h, size);
	fill_foreign(p, W * 4, 0x1d0 + idx);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	show_imported(dmabuf, p, W * 4, "another vprime instance");
	close(dmabuf);
	munmap(p, size);
	gem_close(fd, h);
	close(fd);
}

/* A dumb buffer of vgem or vkms. */
static void imported_dumb(void *arg)
{
	const char *driver = arg;
	int fd = vprime_open_other(driver), dmabuf;
	uint32_t pitch, h;
	uint64_t size;
	void *p;

	h = dumb_create_mapped(fd, W, H, &pitch, &size, &p);
	fill_foreign(p, pitch, 0xd0b0 + driver[1]);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	show_imported(dmabuf, p, pitch, driver);
	close(dmabuf);
	munmap(p, size);
	gem_close(fd, h);
	close(fd);
}

static void imported_udmabuf(void *arg)
{
	const size_t size = (size_t)W * 4 * H;
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int dev = open("/dev/udmabuf", O_RDWR), memfd, dmabuf;
	void *p;

	vt_require_f(dev >= 0, "no /dev/udmabuf (%m): this kernel is built without "
		     "CONFIG_UDMABUF\n");
	memfd = memfd_create("vprime-display", MFD_ALLOW_SEALING);
	vt_assert(memfd >= 0);
	vt_assert_ok(ftruncate(memfd, size));
	vt_assert_ok(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	vt_assert(p != MAP_FAILED);
	fill_foreign(p, W * 4, 0x0db);
	create.memfd = memfd;
	dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
	vt_assert_f(dmabuf >= 0, "UDMABUF_CREATE: %m\n");
	show_imported(dmabuf, p, W * 4, "udmabuf");
	close(dmabuf);
	munmap(p, size);
	close(memfd);
	close(dev);
}

static void imported_dma_heap(void *arg)
{
	const size_t size = (size_t)W * 4 * H;
	int fd = vprime_dma_heap_alloc(size);
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	vt_assert_f(p != MAP_FAILED, "mmap of the heap buffer: %m\n");
	dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	fill_foreign(p, W * 4, 0x4ea9);
	dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	show_imported(fd, p, W * 4, "the system heap");
	munmap(p, size);
	close(fd);
}

static void test_writeback_imported(void)
{
	vtest_dynamic("vprime", imported_vprime, NULL);
	vtest_dynamic("vgem", imported_dumb, "vgem");
	vtest_dynamic("vkms", imported_dumb, "vkms");
	vtest_dynamic("udmabuf", imported_udmabuf, NULL);
	vtest_dynamic("dma-heap", imported_dma_heap, NULL);
}

/* scanout-pins */

/* An instance that storage of some placements does not suit. */
struct strict_kind {
	const char *name;
	bool (*match)(const struct vprime_limits *l);
	bool (*unreachable)(uint32_t placement);
};

static bool is_dma32(const struct vprime_limits *l)
{
	return l->dma_bits == 32 && !l->contiguous;
}

static bool is_contiguous(const struct vprime_limits *l)
{
	return vprime_is_contiguous(l);
}

/* Storage a 32-bit device cannot reach: anywhere in memory. */
static bool above_4g(uint32_t placement)
{
	return placement == VPRIME_PLACEMENT_SYSTEM || placement == VPRIME_PLACEMENT_CONTIG;
}

/* Storage a contiguous device cannot use: scattered pages. */
static bool scattered(uint32_t placement)
{
	return placement == VPRIME_PLACEMENT_SYSTEM || placement == VPRIME_PLACEMENT_DMA32;
}

static const struct strict_kind strict_kinds[] = {
	{ "dma32", is_dma32, above_4g },
	{ "contiguous", is_contiguous, scattered },
};

static int find_strict(const struct strict_kind *k)
{
	int n = vprime_num_devices();

	for (int i = 1; i < n; i++) {
		struct vprime_limits l = vprime_limits(i);

		if (k->match(&l))
			return i;
	}
	vtest_skip("needs a %s instance besides vprime.0 (see the parameters dma_bits and "
		   "contiguous)\n", k->name);
}

static void pins_run(void *arg)
{
	const struct strict_kind *k = arg;
	int strict = find_strict(k), fd = open_card(), sfd, dmabuf;
	struct drm_vprime_gem_info before, info;
	struct kms_output out;
	uint32_t h = 0;
	struct fb fb;

	sfd = vprime_open(strict, VPRIME_NODE_RENDER);
	/* Filled through the CPU: the storage exists, placed for vprime.0 alone. */
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x919, false);
	dmabuf = prime_export(fd, fb.handle, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_eq(vprime_gem_info(fd, fb.handle).pin_count, 0);

	output_on(fd, &fb, &out);
	before = vprime_gem_info(fd, fb.handle);
	vt_assert_f(before.pin_count > 0, "the buffer on screen has pin_count 0\n");
	vt_require_f(k->unreachable(before.placement), "vprime.0's storage (placement %u) "
		     "suits vprime.%d\n", before.placement, strict);

	/* Attaching would need the storage to move: refused while it is on screen. */
	vt_assert_errno(drmPrimeFDToHandle(sfd, dmabuf, &h), EBUSY);
	info = vprime_gem_info(fd, fb.handle);
	vt_assert_eq(info.placement, before.placement);
	vt_assert_eq(info.migrations, before.migrations);
	vt_assert_eq(info.num_attachments, before.num_attachments);
	vt_assert_eq(info.pin_count, before.pin_count);

	/* Off the screen, unpinned: the same import is accepted. */
	kms_output_off(fd, &out);
	vt_assert_eq(vprime_gem_info(fd, fb.handle).pin_count, 0);
	h = prime_import(sfd, dmabuf);
	vt_assert_eq(vprime_gem_info(fd, fb.handle).num_attachments, before.num_attachments + 1);

	gem_close(sfd, h);
	close(dmabuf);
	fb_release(fd, &fb);
	close(sfd);
	close(fd);
}

static void test_scanout_pins(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(strict_kinds); i++)
		vtest_dynamic(strict_kinds[i].name, pins_run, (void *)&strict_kinds[i]);
}

/*
 * scanout-migrates: a buffer of vprime.0, shown on a strict instance's own
 * display through an import, is first placed where that display can reach
 * it, contents and all, and pinned there while it is shown.
 */
static void migrates_run(void *arg)
{
	const struct strict_kind *k = arg;
	int strict = find_strict(k), fd = open_card(), sfd, dmabuf;
	struct drm_vprime_gem_info before, info;
	struct ref_plane primary;
	struct fb fb, shown;
	char what[64];

	sfd = vprime_open(strict, VPRIME_NODE_CARD);
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x5ca7, false);
	before = vprime_gem_info(fd, fb.handle);
	vt_require_f(k->unreachable(before.placement), "vprime.0's storage (placement %u) "
		     "suits vprime.%d already\n", before.placement, strict);

	dmabuf = prime_export(fd, fb.handle, DRM_CLOEXEC | DRM_RDWR);
	shown = fb;
	shown.handle = prime_import(sfd, dmabuf);
	shown.fb_id = kms_add_fb(sfd, shown.handle, W, H, DRM_FORMAT_XRGB8888, fb.pitch);
	info = vprime_gem_info(fd, fb.handle);
	vt_assert_eq(info.placement, before.placement);	/* importing moved nothing */
	vt_assert_eq(info.migrations, before.migrations);

	/* shown maps vprime.0's pixels: they are the expected frame. */
	primary = plane_at(KMS_PLANE_PRIMARY, &shown, 0, 0);
	snprintf(what, sizeof(what), "vprime.%d's display", strict);
	capture_compare(sfd, &primary, 1, 1, what);

	info = vprime_gem_info(fd, fb.handle);
	vt_assert_f(!k->unreachable(info.placement), "still placement %u after the scanout\n",
		    info.placement);
	vt_assert_eq(info.migrations, before.migrations + 1);
	vt_assert_eq(info.pin_count, 0);		/* the capture turned it off */

	vt_assert_ok(drmModeRmFB(sfd, shown.fb_id));
	gem_close(sfd, shown.handle);
	close(dmabuf);
	fb_release(fd, &fb);
	close(sfd);
	close(fd);
}

static void test_scanout_migrates(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(strict_kinds); i++)
		vtest_dynamic(strict_kinds[i].name, migrates_run, (void *)&strict_kinds[i]);
}

static const struct vtest tests[] = {
	VTEST("writeback-local", "vprime's own GEM object and dumb buffer, full screen: "
	      "every pixel read back through writeback is the buffer's.",
	      test_writeback_local),
	VTEST("writeback-imported", "A buffer of another vprime instance, vgem, vkms, "
	      "udmabuf and the system heap, imported into vprime and shown full screen: "
	      "writeback reads back the exporter's pixels.", test_writeback_imported),
	VTEST("scanout-pins", "A buffer on screen is pinned: an instance it would have to "
	      "move for cannot import it (-EBUSY) until it leaves the screen.",
	      test_scanout_pins),
	VTEST("scanout-migrates", "vprime.0's buffer shown on a 32-bit or contiguous "
	      "instance's display is moved where that display can reach it first; the "
	      "frame is the buffer's.", test_scanout_migrates),
};

VTEST_MAIN("vprime's display: local and imported buffers scanned out, the "
	   "scanout pin and the migration for a display.", tests)
