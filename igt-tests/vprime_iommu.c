// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * Instances behind an IOMMU. An instance loaded with iommu=1 maps through
 * its own IO address space (iova_mb MiB from 0x40000000), so its contiguous
 * need is met by one IO segment over scattered pages: no 4 MiB limit, no
 * CONTIG placement. max_segment and seg_boundary shape the IO segments. A
 * full IO space gives ENOSPC and leaves nothing behind. The subtests find
 * the instance by its parameters (iommu, contiguous) and skip when there
 * is none; a module without the iommu parameter fails them.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#define SZ_1M		(1ull << 20)
#define SZ_64M		(64 * SZ_1M)
#define IOVA_BASE	0x40000000ull

/* The first contiguous instance behind an IOMMU, with its limits. */
static int iommu_instance(struct vprime_limits *l)
{
	char buf[32];

	vt_assert_f(vprime_param("iommu", 0, buf, sizeof(buf)),
		    "the module has no iommu parameter\n");
	for (int i = 0; i < vprime_num_devices(); i++) {
		*l = vprime_limits(i);
		if (l->iommu && l->contiguous)
			return i;
	}
	vtest_skip("needs a contiguous instance behind an IOMMU (iommu=1 contiguous=1)\n");
}

/* The IO space's size, from the parameter (0: 1024 MiB). */
static uint64_t iova_size(int idx)
{
	uint64_t mb = vprime_param_u64("iova_mb", idx);

	return (mb ?: 1024) * SZ_1M;
}

static long iova_used(int idx)
{
	return vprime_debugfs_counter(idx, "iova_used");
}

static long iova_ranges(int idx)
{
	return vprime_debugfs_counter(idx, "iova_ranges");
}

/* One map of @h that must give a single IO segment of @size bytes; its address. */
static uint64_t map_one_segment(int fd, uint32_t h, uint64_t size, int idx)
{
	struct drm_vprime_segment *segs;
	uint32_t n, placement;
	uint64_t addr;

	segs = vprime_gem_map(fd, h, &n, &placement);
	vt_assert_f(n == 1, "vprime.%d mapped %llu bytes in %u segments, not one\n", idx,
		    (unsigned long long)size, n);
	vt_assert_eq(segs[0].len, size);
	addr = segs[0].addr;
	free(segs);
	vt_assert_f(addr >= IOVA_BASE && addr + size <= IOVA_BASE + iova_size(idx),
		    "segment %#llx+%#llx is outside vprime.%d's IO space\n",
		    (unsigned long long)addr, (unsigned long long)size, idx);
	return addr;
}

/*
 * 64 MiB, far above the 4 MiB of a physically contiguous block, in one IO
 * segment over system pages; a contiguous instance without an IOMMU
 * refuses the size as before.
 */
static void test_contiguous_64m(void)
{
	struct vprime_limits l;
	int io = iommu_instance(&l);
	int contig = vprime_find_instance(vprime_is_contiguous, 0);
	int fd = vprime_open(io, VPRIME_NODE_RENDER);
	long used = iova_used(io), ranges = iova_ranges(io);
	struct drm_vprime_gem_create create = { .size = SZ_64M };
	uint32_t h;

	vt_require_f(iova_size(io) >= SZ_64M, "vprime.%d's IO space is under 64 MiB\n", io);
	h = vprime_gem_create(fd, SZ_64M);
	map_one_segment(fd, h, SZ_64M, io);
	vt_assert_eq(vprime_gem_info(fd, h).placement, VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(iova_used(io), used + (long)SZ_64M);
	vt_assert_eq(iova_ranges(io), ranges + 1);
	vprime_gem_unmap(fd, h);
	vt_assert_eq(iova_used(io), used);
	vt_assert_eq(iova_ranges(io), ranges);
	gem_close(fd, h);
	close(fd);

	if (contig < 0) {
		vtest_info("no contiguous instance without an IOMMU to compare with\n");
		return;
	}
	fd = vprime_open(contig, VPRIME_NODE_RENDER);
	vt_assert_errno(drmIoctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &create), EINVAL);
	close(fd);
}

/*
 * max_segment and seg_boundary apply to IO segments: a size over
 * max_segment is refused at create, and a buffer's one segment never
 * crosses the boundary, even when that leaves a hole in the IO space.
 */
static void test_segment_limits(void)
{
	struct vprime_limits l;
	int io = iommu_instance(&l);
	int fd = vprime_open(io, VPRIME_NODE_RENDER);
	uint64_t small = 4 * SZ_1M, big, a, b;
	struct drm_vprime_gem_create create = { 0 };
	uint32_t ha, hb;

	vt_require_f(l.max_segment && l.seg_boundary,
		     "vprime.%d has no max_segment and seg_boundary\n", io);
	create.size = l.max_segment + VT_PAGE;
	vt_assert_errno(drmIoctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &create), EINVAL);

	big = l.max_segment < l.seg_boundary ? l.max_segment : l.seg_boundary;
	vt_require_f(big > small && iova_size(io) >= 2 * l.seg_boundary,
		     "vprime.%d's limits leave no room for this test\n", io);
	ha = vprime_gem_create(fd, small);
	hb = vprime_gem_create(fd, big);
	a = map_one_segment(fd, ha, small, io);
	b = map_one_segment(fd, hb, big, io);
	vtest_info("4 MiB at %#llx, %llu MiB at %#llx\n", (unsigned long long)a,
		   (unsigned long long)(big >> 20), (unsigned long long)b);
	vt_assert_f(b / l.seg_boundary == (b + big - 1) / l.seg_boundary,
		    "the segment %#llx+%#llx crosses a %#llx boundary\n",
		    (unsigned long long)b, (unsigned long long)big,
		    (unsigned long long)l.seg_boundary);
	vt_assert_f(a / l.seg_boundary != b / l.seg_boundary || b + big <= a || a + small <= b,
		    "the segments overlap\n");
	vprime_gem_unmap(fd, hb);
	vprime_gem_unmap(fd, ha);
	gem_close(fd, hb);
	gem_close(fd, ha);
	close(fd);
}

/*
 * Imports are mapped in IO space too: a foreign buffer (vgem, scattered
 * shmem pages) and another instance's buffer each get one IO segment; a
 * contiguous instance without an IOMMU cannot take the vgem buffer
 * (ERANGE) unless its pages happen to be contiguous.
 */
static void test_import(void)
{
	struct vprime_limits l;
	int io = iommu_instance(&l);
	int contig = vprime_find_instance(vprime_is_contiguous, 0);
	int lenient = vprime_find_instance(vprime_is_lenient, 0);
	int vgem = vprime_open_other("vgem");
	int fd = vprime_open(io, VPRIME_NODE_RENDER);
	long used = iova_used(io);
	uint32_t pitch, h, ih, n;
	uint64_t size;
	int dmabuf, err;
	void *map;

	/* 1024 x 2048 x 4 bytes: 8 MiB */
	h = dumb_create_mapped(vgem, 1024, 2048, &pitch, &size, &map);
	pattern_fill(map, size, 0x10);
	dmabuf = prime_export(vgem, h, DRM_CLOEXEC | DRM_RDWR);
	ih = prime_import(fd, dmabuf);
	map_one_segment(fd, ih, size, io);
	vt_assert_eq(iova_used(io), used + (long)size);
	vprime_gem_unmap(fd, ih);
	vt_assert_eq(iova_used(io), used);
	gem_close(fd, ih);

	if (contig >= 0) {
		int cfd = vprime_open(contig, VPRIME_NODE_RENDER);
		struct drm_vprime_segment *segs = NULL;

		ih = prime_import(cfd, dmabuf);
		err = vprime_gem_try_map(cfd, ih, &segs, &n, NULL);
		vt_assert_f(err == ERANGE || (!err && n == 1),
			    "vprime.%d (contiguous, no IOMMU) mapped the vgem buffer: %s, %u segments\n",
			    contig, strerror(err), err ? 0 : n);
		vtest_info("vprime.%d without an IOMMU: %s\n", contig,
			   err ? strerror(err) : "one segment, by luck");
		if (!err)
			vprime_gem_unmap(cfd, ih);
		free(segs);
		gem_close(cfd, ih);
		close(cfd);
	}
	close(dmabuf);
	munmap(map, size);
	gem_close(vgem, h);
	close(vgem);

	/* Another instance's buffer: its exporter maps it into this IO space. */
	if (lenient >= 0) {
		int efd = vprime_open(lenient, VPRIME_NODE_RENDER);
		uint32_t eh = vprime_gem_create(efd, 8 * SZ_1M);
		void *p = vprime_gem_mmap(efd, eh, 8 * SZ_1M);

		pattern_fill(p, 8 * SZ_1M, 0x11);
		dmabuf = prime_export(efd, eh, DRM_CLOEXEC | DRM_RDWR);
		ih = prime_import(fd, dmabuf);
		map_one_segment(fd, ih, 8 * SZ_1M, io);
		vt_assert_eq(vprime_gem_info(efd, eh).placement, VPRIME_PLACEMENT_SYSTEM);
		pattern_check(p, 8 * SZ_1M, 0x11, "the exported buffer after the IO map");
		vprime_gem_unmap(fd, ih);
		vt_assert_eq(iova_used(io), used);
		gem_close(fd, ih);
		close(dmabuf);
		munmap(p, 8 * SZ_1M);
		gem_close(efd, eh);
		close(efd);
	}
	close(fd);
}

/*
 * A full IO space: the map fails with ENOSPC and holds nothing (no IO
 * range, no mapping); once room is made the same object maps.
 */
static void test_exhausted(void)
{
	struct vprime_limits l;
	int io = iommu_instance(&l);
	uint64_t space = iova_size(io), chunk, small = 4 * SZ_1M;
	int fd = vprime_open(io, VPRIME_NODE_RENDER);
	long used = iova_used(io), mappings, ranges;
	uint32_t *h, extra, hs, n;
	int count, err;

	vt_require_f(space <= 256 * SZ_1M,
		     "vprime.%d's IO space (%llu MiB) is too large to fill here\n", io,
		     (unsigned long long)(space >> 20));
	vt_require_f(used == 0, "vprime.%d's IO space is in use\n", io);
	chunk = l.max_segment && l.max_segment < space / 2 ? l.max_segment : space / 2;
	if (l.seg_boundary && chunk > l.seg_boundary)
		chunk = l.seg_boundary;
	count = space / chunk;
	h = calloc(count, sizeof(*h));
	vt_assert(h);
	/* All but one chunk, then a small buffer in the last one. */
	for (int i = 0; i < count - 1; i++) {
		h[i] = vprime_gem_create(fd, chunk);
		map_one_segment(fd, h[i], chunk, io);
	}
	hs = vprime_gem_create(fd, small);
	map_one_segment(fd, hs, small, io);

	/* No room left for one more chunk in one segment. */
	mappings = vprime_debugfs_counter(io, "mappings");
	ranges = iova_ranges(io);
	used = iova_used(io);
	extra = vprime_gem_create(fd, chunk);
	err = vprime_gem_try_map(fd, extra, NULL, &n, NULL);
	vt_assert_f(err == ENOSPC, "a map into a full IO space: %s, not ENOSPC\n",
		    err ? strerror(err) : "success");
	vt_assert_eq(iova_used(io), used);
	vt_assert_eq(iova_ranges(io), ranges);
	vt_assert_eq(vprime_debugfs_counter(io, "mappings"), mappings);

	/* Room again: the same object maps. */
	vprime_gem_unmap(fd, hs);
	map_one_segment(fd, extra, chunk, io);
	vprime_gem_unmap(fd, extra);
	for (int i = 0; i < count - 1; i++) {
		vprime_gem_unmap(fd, h[i]);
		gem_close(fd, h[i]);
	}
	gem_close(fd, extra);
	gem_close(fd, hs);
	free(h);
	vt_assert_eq(iova_used(io), 0);
	vt_assert_eq(iova_ranges(io), 0);
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("contiguous-64m", "A contiguous instance behind an IOMMU maps 64 MiB of system "
	      "pages as one IO segment; without an IOMMU the size is refused",
	      test_contiguous_64m),
	VTEST("segment-limits", "max_segment and seg_boundary apply to IO segments",
	      test_segment_limits),
	VTEST("import", "Imports from vgem and from another instance map as one IO segment",
	      test_import),
	VTEST("exhausted", "A full IO space gives ENOSPC and holds nothing; room again, it maps",
	      test_exhausted),
};

VTEST_MAIN("Instances behind an IOMMU: IO address spaces and their limits", tests)
