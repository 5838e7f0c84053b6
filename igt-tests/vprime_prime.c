// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <xf86drm.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#define SZ (16 * 4096 + 4096)	/* 17 pages: page boundaries inside and at the end */

static void test_create(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ - 100);
	struct drm_vprime_gem_info info = vprime_gem_info(fd, h);
	void *p;

	vt_assert_eq(info.size, SZ);
	vt_assert_eq(info.num_pages, 0);	/* late allocation: no pages yet */
	vt_assert_eq(info.state & VPRIME_BO_STATE_POPULATED, 0);

	p = vprime_gem_mmap(fd, h, SZ);
	vt_assert_eq(vprime_gem_info(fd, h).num_pages, 0);	/* mmap alone allocates nothing */
	for (size_t i = 0; i < SZ; i++)
		vt_assert_f(((uint8_t *)p)[i] == 0, "new object byte %zu is not zero\n", i);
	pattern_fill(p, SZ, 0x1234);
	pattern_check(p, SZ, 0x1234, "gem mmap");
	info = vprime_gem_info(fd, h);
	vt_assert_eq(info.num_pages, SZ / 4096);
	vt_assert(info.state & VPRIME_BO_STATE_POPULATED);
	munmap(p, SZ);
	gem_close(fd, h);
	close(fd);
}

static void test_create_invalid(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	long before = vprime_object_count_settled(0);
	struct drm_vprime_gem_create c;
	static const uint64_t bad_sizes[] = { 0, 1ull << 62, ~0ull, ~0ull - 4094 };

	for (unsigned int i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		c = (struct drm_vprime_gem_create){ .size = bad_sizes[i] };
		vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c), EINVAL);
	}
	c = (struct drm_vprime_gem_create){ .size = 4096, .flags = 1 };
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c), EINVAL);
	c = (struct drm_vprime_gem_create){ .size = 4096, .flags = 0x80000000u };
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c), EINVAL);
	vt_assert_eq(vprime_object_count(0), before);
	close(fd);
}

static void test_info_invalid(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, 4096);
	struct drm_vprime_gem_info info;

	info = (struct drm_vprime_gem_info){ .handle = h + 1000 };
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), ENOENT);
	info = (struct drm_vprime_gem_info){ .handle = h, .flags = 1 };
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), EINVAL);
	info = (struct drm_vprime_gem_info){ .handle = h, .pad = 1 };
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), EINVAL);
	gem_close(fd, h);
	info = (struct drm_vprime_gem_info){ .handle = h };
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), ENOENT);
	close(fd);
}

static void test_dumb(void)
{
	int fd = vprime_open(0, VPRIME_NODE_CARD);
	struct drm_mode_create_dumb c = { .width = 1024, .height = 768, .bpp = 32 };
	struct drm_mode_map_dumb m = {};
	struct drm_mode_destroy_dumb d = {};
	long before = vprime_object_count_settled(0);
	void *p;

	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	vt_assert_eq(c.pitch, 4096);
	vt_assert_eq(c.size, 4096 * 768);
	vt_assert_eq(vprime_object_count(0), before + 1);
	m.handle = c.handle;
	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m));
	p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	vt_assert(p != MAP_FAILED);
	pattern_fill(p, c.size, 0xd0d0);
	pattern_check(p, c.size, 0xd0d0, "dumb mmap");
	munmap(p, c.size);
	d.handle = c.handle;
	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d));
	vt_assert_eq(vprime_object_count(0), before);
	close(fd);
}

static void test_self_import(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	int fd2 = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ), h2;
	int dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR), again;
	struct stat a, b;
	long before;
	void *p, *q;

	vt_assert_eq(prime_import(fd, dmabuf), h);		/* same file: same handle */
	vt_assert_eq(prime_import(fd, dmabuf), h);		/* twice: still the same */
	again = prime_export(fd, h, DRM_CLOEXEC);		/* same object: same dma-buf */
	vt_assert_ok(fstat(dmabuf, &a));
	vt_assert_ok(fstat(again, &b));
	vt_assert_eq(a.st_ino, b.st_ino);
	close(again);

	before = vprime_object_count(0);
	h2 = prime_import(fd2, dmabuf);			/* another file, same object */
	vt_assert_eq(vprime_object_count(0), before);
	vt_assert_eq(vprime_gem_info(fd2, h2).state & VPRIME_BO_STATE_IMPORTED, 0);
	p = vprime_gem_mmap(fd, h, SZ);
	q = vprime_gem_mmap(fd2, h2, SZ);
	pattern_fill(p, SZ, 0x5e1f);
	pattern_check(q, SZ, 0x5e1f, "self-imported view");
	munmap(p, SZ);
	munmap(q, SZ);
	close(dmabuf);
	close(fd2);
	close(fd);
}

/* Export from vprime.0, import into vprime.1: both see the same bytes. */
static void test_vprime_to_vprime(void)
{
	int a = vprime_open(0, VPRIME_NODE_RENDER);
	int b;
	long base_a = vprime_object_count_settled(0), base_b;
	uint32_t ha = vprime_gem_create(a, SZ), hb;
	struct drm_vprime_gem_info info;
	int dmabuf;
	void *pa, *pb;

	vt_require_f(vprime_num_devices() >= 2, "needs two vprime instances\n");
	b = vprime_open(1, VPRIME_NODE_RENDER);
	base_b = vprime_object_count_settled(1);
	pa = vprime_gem_mmap(a, ha, SZ);
	pattern_fill(pa, SZ, 0xa0a0);
	dmabuf = prime_export(a, ha, DRM_CLOEXEC | DRM_RDWR);
	hb = prime_import(b, dmabuf);
	info = vprime_gem_info(b, hb);
	vt_assert(info.state & VPRIME_BO_STATE_IMPORTED);
	vt_assert_eq(info.size, SZ);
	info = vprime_gem_info(a, ha);
	vt_assert(info.state & VPRIME_BO_STATE_EXPORTED);
	vt_assert_eq(info.num_attachments, 1);
	vt_assert_eq(vprime_object_count(1), base_b + 1);

	pb = vprime_gem_mmap(b, hb, SZ);
	pattern_check(pb, SZ, 0xa0a0, "vprime.1's view");
	pattern_fill(pb, SZ, 0xb1b1);
	pattern_check(pa, SZ, 0xb1b1, "vprime.0's view after vprime.1 wrote");
	munmap(pa, SZ);
	munmap(pb, SZ);

	/* Close in the "wrong" order: exporter's handle first. */
	gem_close(a, ha);
	close(dmabuf);
	vt_assert_eq(vprime_object_count(0), base_a + 1);	/* the importer holds it */
	gem_close(b, hb);
	vt_assert_eq(vprime_object_count(1), base_b);
	vt_assert_eq(vprime_object_count(0), base_a);
	close(a);
	close(b);
}

/*
 * Every reference a sharing setup holds: the exporter's handle, the dma-buf
 * fd, the importer's handle (on vprime.1) and a CPU mapping of the dma-buf.
 * Dropping them in any order must free the exporter's object exactly once,
 * after the last one, and the importer's wrapper when its handle goes.
 */
enum share_ref { REF_HANDLE, REF_DMABUF, REF_IMPORT, REF_MMAP, NUM_REFS };

static const char *const share_ref_name[NUM_REFS] = {
	[REF_HANDLE] = "handle", [REF_DMABUF] = "dmabuf",
	[REF_IMPORT] = "import", [REF_MMAP] = "mmap",
};

struct close_order {
	enum share_ref order[NUM_REFS];
};

static void run_close_order(void *arg)
{
	const struct close_order *co = arg;
	int a = vprime_open(0, VPRIME_NODE_RENDER), b = vprime_open(1, VPRIME_NODE_RENDER);
	long base_a = vprime_object_count_settled(0), base_b = vprime_object_count_settled(1);
	uint32_t ha = vprime_gem_create(a, SZ), hb;
	int dmabuf = prime_export(a, ha, DRM_CLOEXEC | DRM_RDWR);
	void *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0), *q;

	vt_assert_f(p != MAP_FAILED, "mmap of the dma-buf: %m\n");
	pattern_fill(p, SZ, 0xc105e);
	hb = prime_import(b, dmabuf);
	q = vprime_gem_mmap(b, hb, SZ);
	pattern_check(q, SZ, 0xc105e, "importer's view");
	munmap(q, SZ);
	vt_assert_eq(vprime_object_count(0), base_a + 1);
	vt_assert_eq(vprime_object_count(1), base_b + 1);

	for (int i = 0; i < NUM_REFS; i++) {
		switch (co->order[i]) {
		case REF_HANDLE:
			gem_close(a, ha);
			break;
		case REF_DMABUF:
			vt_assert_ok(close(dmabuf));
			break;
		case REF_IMPORT:
			gem_close(b, hb);
			vt_assert_eq(vprime_object_count(1), base_b);
			break;
		case REF_MMAP:
			vt_assert_ok(munmap(p, SZ));
			break;
		default:
			vt_fail("close order", "bad reference %d\n", co->order[i]);
		}
		vt_assert_eq(vprime_object_count(0), base_a + (i < NUM_REFS - 1));
	}
	vt_assert_eq(vprime_object_count(1), base_b);
	close(a);
	close(b);
}

/* The next permutation of @v in lexicographic order; false after the last. */
static bool next_permutation(enum share_ref *v, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && v[i] >= v[i + 1])
		i--;
	if (i < 0)
		return false;
	while (v[j] <= v[i])
		j--;
	SWAP(v[i], v[j]);
	for (i++, j = n - 1; i < j; i++, j--)
		SWAP(v[i], v[j]);
	return true;
}

static void test_close_order(void)
{
	struct close_order co = { { REF_HANDLE, REF_DMABUF, REF_IMPORT, REF_MMAP } };
	char name[64];

	vt_require_f(vprime_num_devices() >= 2, "needs two vprime instances\n");
	do {
		snprintf(name, sizeof(name), "%s-%s-%s-%s",
			 share_ref_name[co.order[0]], share_ref_name[co.order[1]],
			 share_ref_name[co.order[2]], share_ref_name[co.order[3]]);
		vtest_dynamic(name, run_close_order, &co);
	} while (next_permutation(co.order, NUM_REFS));
}

static void test_dmabuf_mmap_sync(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ);
	int dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	void *p = vprime_gem_mmap(fd, h, SZ), *q;

	q = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	vt_assert_f(q != MAP_FAILED, "mmap of the dma-buf: %m\n");
	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
	pattern_fill(q, SZ, 0xdb0f);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
	pattern_check(p, SZ, 0xdb0f, "GEM view of dma-buf writes");
	pattern_fill(p, SZ, 0x0fdb);
	pattern_check(q, SZ, 0x0fdb, "dma-buf view of GEM writes");

	sync.flags = 0;			/* neither read nor write */
	vt_assert_errno(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync), EINVAL);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW | 0x100;
	vt_assert_errno(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync), EINVAL);
	munmap(p, SZ);
	munmap(q, SZ);
	close(dmabuf);
	close(fd);
}

static void test_export_flags(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, 4096);
	int ro = prime_export(fd, h, DRM_CLOEXEC);
	void *p;

	vt_assert(fcntl(ro, F_GETFD) & FD_CLOEXEC);
	vt_assert_eq(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	vt_assert_f(p == MAP_FAILED && errno == EACCES,
		    "writable mmap of a read-only export: %p errno %d\n", p, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	vt_assert(p != MAP_FAILED);
	munmap(p, 4096);
	close(ro);
	close(fd);
}

static void test_import_invalid(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	int null = open("/dev/null", O_RDWR);
	long before = vprime_object_count_settled(0);
	uint32_t h = 0;
	int closed = dup(null), out;

	close(closed);
	/* libdrm returns -1 and leaves the kernel's answer in errno. */
	vt_assert_errno(drmPrimeFDToHandle(fd, null, &h), EINVAL);
	vt_assert_errno(drmPrimeFDToHandle(fd, closed, &h), EBADF);
	vt_assert_errno(drmPrimeHandleToFD(fd, 12345, DRM_CLOEXEC, &out), ENOENT);
	vt_assert_errno(drmPrimeHandleToFD(fd, 12345, 0x4000000, &out), EINVAL);
	vt_assert_eq(vprime_object_count(0), before);
	close(null);
	close(fd);
}

/* vgem's buffer into vprime, vprime's into vgem. */
static void test_vgem(void)
{
	int vgem = vprime_open_other("vgem");
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	struct drm_mode_create_dumb c = { .width = 1024, .height = 17, .bpp = 32 };
	struct drm_mode_map_dumb m = {};
	struct drm_vprime_gem_info info;
	struct stat a, b;
	uint32_t h, hv;
	int dmabuf, again;
	void *pv, *p;

	/* vgem -> vprime */
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	m.handle = c.handle;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &m));
	pv = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, m.offset);
	vt_assert(pv != MAP_FAILED);
	pattern_fill(pv, c.size, 0x76e3);
	dmabuf = prime_export(vgem, c.handle, DRM_CLOEXEC | DRM_RDWR);
	h = prime_import(fd, dmabuf);
	vt_assert(vprime_gem_info(fd, h).state & VPRIME_BO_STATE_IMPORTED);
	p = vprime_gem_mmap(fd, h, c.size);
	pattern_check(p, c.size, 0x76e3, "vprime's view of vgem's buffer");
	munmap(p, c.size);
	munmap(pv, c.size);
	close(dmabuf);
	gem_close(fd, h);

	/* vprime -> vgem */
	h = vprime_gem_create(fd, SZ);
	p = vprime_gem_mmap(fd, h, SZ);
	pattern_fill(p, SZ, 0x9e9e);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	hv = prime_import(vgem, dmabuf);
	/*
	 * vgem attaches at import, and cannot mmap an imported object itself:
	 * its view is the dma-buf it hands back, which must be vprime's own.
	 */
	info = vprime_gem_info(fd, h);
	vt_assert_eq(info.num_attachments, 1);
	/* Whether vgem maps at import differs by kernel (7.2 does not). */
	vt_assert_lte(info.num_mapped, 1);
	again = prime_export(vgem, hv, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_ok(fstat(dmabuf, &a));
	vt_assert_ok(fstat(again, &b));
	vt_assert_eq(a.st_ino, b.st_ino);
	pv = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
	vt_assert_f(pv != MAP_FAILED, "mmap of vgem's re-export: %m\n");
	pattern_check(pv, SZ, 0x9e9e, "vgem's view of vprime's buffer");
	close(again);
	munmap(pv, SZ);
	munmap(p, SZ);
	close(dmabuf);
	close(vgem);
	close(fd);
}

/*
 * MODE_MAP_DUMB on imported handles, as Mesa's kms_swrast does for every
 * buffer it imports: the DRM core's default refuses imports (-EINVAL);
 * vprime's gives the offset and its mmap goes to the exporter.
 */

/* An exporter's buffer of SZ bytes: its dma-buf, its own mapping, and how to drop both. */
struct foreign_buf {
	int dmabuf;
	void *map;
	int owner_fd;		/* the exporter's device fd, or -1 */
	uint32_t owner_handle;
	int memfd;		/* udmabuf's memfd, or -1 */
};

static void foreign_vgem(struct foreign_buf *b, uint32_t dmabuf_flags)
{
	uint32_t pitch;
	uint64_t size;

	b->owner_fd = vprime_open_other("vgem");
	b->owner_handle = dumb_create_mapped(b->owner_fd, VT_PAGE / 4, SZ / VT_PAGE, &pitch,
					     &size, &b->map);
	vt_assert_eq(size, SZ);
	b->memfd = -1;
	b->dmabuf = prime_export(b->owner_fd, b->owner_handle, dmabuf_flags);
}

static void foreign_vprime1(struct foreign_buf *b, uint32_t dmabuf_flags)
{
	vt_require_f(vprime_num_devices() >= 2, "needs two vprime instances\n");
	b->owner_fd = vprime_open(1, VPRIME_NODE_RENDER);
	b->owner_handle = vprime_gem_create(b->owner_fd, SZ);
	b->map = vprime_gem_mmap(b->owner_fd, b->owner_handle, SZ);
	b->memfd = -1;
	b->dmabuf = prime_export(b->owner_fd, b->owner_handle, dmabuf_flags);
}

static void foreign_udmabuf(struct foreign_buf *b, uint32_t dmabuf_flags)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = SZ };
	int dev = open("/dev/udmabuf", O_RDWR);

	vt_require_f(dev >= 0, "no /dev/udmabuf (%m): this kernel is built without "
		     "CONFIG_UDMABUF (Debian's 6.1 is)\n");
	vt_assert_eq(dmabuf_flags & DRM_RDWR, DRM_RDWR);	/* udmabuf's are read-write */
	b->memfd = memfd_create("vprime-dumb-map", MFD_ALLOW_SEALING);
	vt_assert(b->memfd >= 0);
	vt_assert_ok(ftruncate(b->memfd, SZ));
	vt_assert_ok(fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	b->map = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	vt_assert(b->map != MAP_FAILED);
	create.memfd = b->memfd;
	b->dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
	vt_assert_f(b->dmabuf >= 0, "UDMABUF_CREATE: %m\n");
	b->owner_fd = -1;
	close(dev);
}

static void foreign_release(struct foreign_buf *b)
{
	munmap(b->map, SZ);
	close(b->dmabuf);
	if (b->owner_fd >= 0) {
		gem_close(b->owner_fd, b->owner_handle);
		close(b->owner_fd);
	}
	if (b->memfd >= 0)
		close(b->memfd);
}

static void dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
}

/* MODE_MAP_DUMB of @handle: 0 and the offset in *@offset, or -1 and errno. */
static int map_dumb(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_mode_map_dumb m = { .handle = handle };
	int ret = ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m);

	if (!ret)
		*offset = m.offset;
	return ret;
}

static void run_dumb_map_import(void *arg)
{
	void (*make)(struct foreign_buf *, uint32_t) = arg;
	int fd = vprime_open(0, VPRIME_NODE_CARD);
	long base = vprime_object_count_settled(0);
	struct foreign_buf b;
	uint64_t off = 0, again = 0;
	uint32_t h;
	void *p;

	make(&b, DRM_CLOEXEC | DRM_RDWR);
	pattern_fill(b.map, SZ, 0xd1a5);
	h = prime_import(fd, b.dmabuf);
	vt_assert(vprime_gem_info(fd, h).state & VPRIME_BO_STATE_IMPORTED);
	vt_assert_f(map_dumb(fd, h, &off) == 0, "MODE_MAP_DUMB of an imported handle: %m\n");
	vt_assert_ok(map_dumb(fd, h, &again));
	vt_assert_eq(again, off);
	vt_assert_eq(off, vprime_gem_info(fd, h).mmap_offset);
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	vt_assert_f(p != MAP_FAILED, "mmap of MODE_MAP_DUMB's offset: %m\n");

	/* The exporter's bytes through vprime, vprime's through the exporter. */
	dmabuf_sync(b.dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	pattern_check(p, SZ, 0xd1a5, "MAP_DUMB view of the exporter's bytes");
	pattern_fill(p, SZ, 0x5a1d);
	dmabuf_sync(b.dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	pattern_check(b.map, SZ, 0x5a1d, "the exporter's view of writes through MAP_DUMB");
	/* And again after the exporter writes, with the mapping kept. */
	pattern_fill(b.map, SZ, 0x0b0e);
	pattern_check(p, SZ, 0x0b0e, "MAP_DUMB view of the exporter's second writes");

	/* The mapping outlives the handle and the dma-buf fd. */
	gem_close(fd, h);
	vt_assert_eq(vprime_object_count(0), base);
	vt_assert_errno(map_dumb(fd, h, &again), ENOENT);
	pattern_check(p, SZ, 0x0b0e, "MAP_DUMB view after GEM_CLOSE");
	munmap(p, SZ);
	foreign_release(&b);
	close(fd);
}

static void test_dumb_map_import(void)
{
	vtest_dynamic("vgem", run_dumb_map_import, (void *)foreign_vgem);
	vtest_dynamic("udmabuf", run_dumb_map_import, (void *)foreign_udmabuf);
	vtest_dynamic("vprime", run_dumb_map_import, (void *)foreign_vprime1);
}

/*
 * What MAP_DUMB must not give: a writable mapping of a read-only dma-buf
 * (through MAP_DUMB's offset or GEM_INFO's, on the card or the render
 * node), a mapping past the end, an offset for a handle that is not there.
 */
static void test_dumb_map_import_invalid(void)
{
	int fd = vprime_open(0, VPRIME_NODE_CARD);
	int rfd = vprime_open(0, VPRIME_NODE_RENDER);
	long base = vprime_object_count_settled(0);
	struct foreign_buf b;
	uint64_t off = 0;
	uint32_t h, hr;
	void *p;

	vt_assert_errno(map_dumb(fd, 0, &off), ENOENT);
	vt_assert_errno(map_dumb(fd, 0xfffffff, &off), ENOENT);

	foreign_vgem(&b, DRM_CLOEXEC);			/* a read-only dma-buf */
	vt_assert_eq(fcntl(b.dmabuf, F_GETFL) & O_ACCMODE, O_RDONLY);
	pattern_fill(b.map, SZ, 0x7ead);
	h = prime_import(fd, b.dmabuf);
	vt_assert_ok(map_dumb(fd, h, &off));
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	vt_assert_f(p == MAP_FAILED && errno == EACCES,
		    "writable mapping of a read-only dma-buf through MAP_DUMB: %p, %m\n", p);
	p = mmap(NULL, SZ + VT_PAGE, PROT_READ, MAP_SHARED, fd, off);
	vt_assert_f(p == MAP_FAILED && errno == EINVAL,
		    "mapping past the end of an import: %p, %m\n", p);
	p = mmap(NULL, SZ, PROT_READ, MAP_PRIVATE, fd, off);
	vt_assert_f(p == MAP_FAILED && errno == EINVAL,
		    "private mapping of an import through MAP_DUMB: %p, %m\n", p);
	p = mmap(NULL, SZ, PROT_READ, MAP_SHARED, fd, off);
	vt_assert_f(p != MAP_FAILED, "read-only mapping of a read-only import: %m\n");
	pattern_check(p, SZ, 0x7ead, "read-only MAP_DUMB view");
	vt_assert_errno(mprotect(p, SZ, PROT_READ | PROT_WRITE), EACCES);
	munmap(p, SZ);

	/* The render node's way to the same offset (GEM_INFO) is held to it too. */
	hr = prime_import(rfd, b.dmabuf);
	off = vprime_gem_info(rfd, hr).mmap_offset;
	p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, off);
	vt_assert_f(p == MAP_FAILED && errno == EACCES,
		    "writable mapping of a read-only dma-buf through GEM_INFO: %p, %m\n", p);
	gem_close(rfd, hr);
	gem_close(fd, h);
	vt_assert_errno(map_dumb(fd, h, &off), ENOENT);
	foreign_release(&b);
	vt_assert_eq(vprime_object_count(0), base);
	close(rfd);
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("create", "GEM_CREATE rounds to pages and allocates nothing until the first "
	      "CPU fault; the object starts zeroed and keeps what is written.", test_create),
	VTEST("create-invalid", "GEM_CREATE rejects zero, absurd and overflowing sizes and "
	      "unknown flags with -EINVAL, leaving the object count unchanged.",
	      test_create_invalid),
	VTEST("info-invalid", "GEM_INFO: -ENOENT for unknown or closed handles, -EINVAL "
	      "for flags or padding.", test_info_invalid),
	VTEST("dumb", "Dumb buffers: pitch and size, MAP_DUMB mmap, and DESTROY_DUMB frees "
	      "the object.", test_dumb),
	VTEST("self-import", "Importing vprime's own dma-buf gives the same handle on the same "
	      "file and the same object on another; re-export gives the same dma-buf.",
	      test_self_import),
	VTEST("vprime-to-vprime", "A buffer exported by vprime.0 and imported by vprime.1 "
	      "shows the same bytes both ways; closing in any order frees it once.",
	      test_vprime_to_vprime),
	VTEST("close-order", "The exporter's handle, the dma-buf fd, the importer's handle and "
	      "a CPU mapping dropped in each of the 24 orders free each object once, after "
	      "its last reference.", test_close_order),
	VTEST("dmabuf-mmap-sync", "mmap of the dma-buf fd and of the GEM object see the same "
	      "bytes; DMA_BUF_IOCTL_SYNC start/end work and bad flags get -EINVAL.",
	      test_dmabuf_mmap_sync),
	VTEST("export-flags", "DRM_CLOEXEC sets FD_CLOEXEC; an export without DRM_RDWR "
	      "cannot be mapped writable.", test_export_flags),
	VTEST("import-invalid", "PRIME with a non-dma-buf fd (-EINVAL), a closed fd (-EBADF), "
	      "a bad handle (-ENOENT) or bad flags (-EINVAL) leaves nothing behind.",
	      test_import_invalid),
	VTEST("vgem", "vgem's buffer imported by vprime and vprime's imported by vgem show "
	      "the same bytes.", test_vgem),
	VTEST("dumb-map-import", "MODE_MAP_DUMB on a handle imported from vgem, udmabuf or "
	      "another vprime: the mapping shows the exporter's bytes and the exporter sees "
	      "its writes (the DRM core's default refuses imports).", test_dumb_map_import),
	VTEST("dumb-map-import-invalid", "MODE_MAP_DUMB: -ENOENT for unknown or closed "
	      "handles; a read-only dma-buf cannot be mapped writable (-EACCES, by MAP_DUMB's "
	      "offset or GEM_INFO's) nor made so by mprotect; past the end and MAP_PRIVATE "
	      "are -EINVAL.",
	      test_dumb_map_import_invalid),
};

VTEST_MAIN("vprime's GEM objects and the PRIME contract: create, mmap, export, "
	   "import, CPU access.", tests)
