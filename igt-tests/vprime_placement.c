// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * Where a shared buffer's storage lives. Each vprime instance has DMA limits
 * set by module parameters (an address mask, a largest segment, a segment
 * boundary, a need for contiguous storage); the exporter allocates storage
 * only at the first map, places it where every attached device can reach it,
 * and moves it when a device attached later cannot. The subtests find the
 * instances they need by their limits, and skip with the reason when the
 * module was loaded without them.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <xf86drm.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#define SZ_SMALL	(64 * VT_PAGE)
#define SZ_1M		(1u << 20)
#define SZ_4M		(4u << 20)
#define SZ_8M		(8u << 20)
#define SZ_4G		(1ull << 32)

#define MAX_INSTANCES	32
#define BIT(i)		(1u << (i))

#define CHURN_CHILDREN	4
#define CHURN_SECONDS	2.0

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *placement_name(uint32_t placement)
{
	static const char *const names[] = {
		[VPRIME_PLACEMENT_NONE] = "none",
		[VPRIME_PLACEMENT_SYSTEM] = "system",
		[VPRIME_PLACEMENT_DMA32] = "dma32",
		[VPRIME_PLACEMENT_CONTIG] = "contig",
		[VPRIME_PLACEMENT_CONTIG_DMA32] = "contig-dma32",
		[VPRIME_PLACEMENT_IMPORTED] = "imported",
	};

	return placement < ARRAY_SIZE(names) ? names[placement] : "unknown";
}

#define assert_placement(got, want) do {					\
	uint32_t _got = (got), _want = (want);					\
	vt_assert_f(_got == _want, "placement is %s (%u), expected %s (%u)\n",	\
		    placement_name(_got), _got, placement_name(_want), _want);	\
} while (0)

static bool splits_segments(const struct vprime_limits *l)
{
	return (l->max_segment || l->seg_boundary) && !l->contiguous;
}

/* A device that cannot reach scattered storage anywhere in memory. */
static bool is_strict(const struct vprime_limits *l)
{
	return vprime_is_dma32(l) || vprime_is_contiguous(l);
}

static unsigned int all_instances(void)
{
	int n = vprime_num_devices();

	return n >= MAX_INSTANCES ? ~0u : BIT(n) - 1;
}

/* The cheapest placement every instance in the mask @devices can reach. */
static uint32_t placement_for(unsigned int devices)
{
	bool dma32 = false, contig = false;

	for (int i = 0; i < vprime_num_devices(); i++) {
		struct vprime_limits l;

		if (!(devices & BIT(i)))
			continue;
		l = vprime_limits(i);
		dma32 |= l.dma_bits <= 32;
		contig |= vprime_is_contiguous(&l);
	}
	if (contig)
		return dma32 ? VPRIME_PLACEMENT_CONTIG_DMA32 : VPRIME_PLACEMENT_CONTIG;
	return dma32 ? VPRIME_PLACEMENT_DMA32 : VPRIME_PLACEMENT_SYSTEM;
}

static uint64_t map_wait_ms(void)
{
	return vprime_param_u64("map_wait_ms", 0);
}

/* Segments */

/* A mapping of @size bytes for instance @idx obeys its limits, segment by segment. */
static void check_segments(const struct drm_vprime_segment *segs, uint32_t n, uint64_t size,
			   const struct vprime_limits *l, int idx)
{
	uint64_t total = 0;

	vt_assert_f(n > 0, "vprime.%d's mapping has no segment\n", idx);
	if (l->contiguous)
		vt_assert_f(n == 1, "vprime.%d needs contiguous storage and got %u segments\n",
			    idx, n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = segs[i].addr, len = segs[i].len;

		vt_assert_f(len > 0 && addr + len > addr,
			    "vprime.%d's segment %u is [%#llx, +%#llx)\n", idx, i,
			    (unsigned long long)addr, (unsigned long long)len);
		if (l->dma_bits < 64)
			vt_assert_f(addr + len <= 1ull << l->dma_bits,
				    "vprime.%d's segment %u [%#llx, +%#llx) is past its "
				    "%u-bit mask\n", idx, i, (unsigned long long)addr,
				    (unsigned long long)len, l->dma_bits);
		if (l->max_segment)
			vt_assert_f(len <= l->max_segment,
				    "vprime.%d's segment %u is %#llx bytes, its max_segment "
				    "%#llx\n", idx, i, (unsigned long long)len,
				    (unsigned long long)l->max_segment);
		if (l->seg_boundary)
			vt_assert_f(addr / l->seg_boundary == (addr + len - 1) / l->seg_boundary,
				    "vprime.%d's segment %u [%#llx, +%#llx) crosses its "
				    "%#llx boundary\n", idx, i, (unsigned long long)addr,
				    (unsigned long long)len,
				    (unsigned long long)l->seg_boundary);
		total += len;
	}
	vt_assert_f(total == size, "vprime.%d's %u segments cover %#llx bytes of %#llx\n",
		    idx, n, (unsigned long long)total, (unsigned long long)size);
}

/* GEM_MAP for instance @idx, whose segments must obey its limits. */
static struct drm_vprime_segment *map_checked(int fd, uint32_t handle, uint64_t size, int idx,
					      uint32_t *num, uint32_t *placement)
{
	struct vprime_limits l = vprime_limits(idx);
	struct drm_vprime_segment *segs = vprime_gem_map(fd, handle, num, placement);

	check_segments(segs, *num, size, &l, idx);
	return segs;
}

/* The DMA address of each page of a buffer of @size bytes, in a malloc'd array. */
static uint64_t *page_addresses(const struct drm_vprime_segment *segs, uint32_t n,
				uint64_t size)
{
	uint64_t npages = size / VT_PAGE, start = 0;
	uint64_t *pages = calloc(npages, sizeof(*pages));
	uint32_t s = 0;

	vt_assert(pages);
	for (uint64_t p = 0; p < npages; p++) {
		uint64_t off = p * VT_PAGE;

		while (s < n && off >= start + segs[s].len)
			start += segs[s++].len;
		vt_assert_f(s < n, "segments end before page %llu\n", (unsigned long long)p);
		pages[p] = segs[s].addr + (off - start);
	}
	return pages;
}

/* Two devices' mappings of @size bytes reach the same page at every offset. */
static void assert_same_pages(const struct drm_vprime_segment *a, uint32_t na,
			      const struct drm_vprime_segment *b, uint32_t nb,
			      uint64_t size, const char *what)
{
	uint64_t *pa = page_addresses(a, na, size), *pb = page_addresses(b, nb, size);

	for (uint64_t p = 0; p < size / VT_PAGE; p++)
		vt_assert_f(pa[p] == pb[p], "%s: page %llu is at %#llx for one device and "
			    "%#llx for the other\n", what, (unsigned long long)p,
			    (unsigned long long)pa[p], (unsigned long long)pb[p]);
	free(pa);
	free(pb);
}

/* System state */

static uint64_t mem_total_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;

	vt_assert(f);
	vt_assert_eq(fscanf(f, "MemTotal: %llu kB", &kb), 1);
	fclose(f);
	return kb * 1024;
}

/* swiotlb's slots in use, or -1 when debugfs does not show them. */
static long swiotlb_used(void)
{
	FILE *f = fopen("/sys/kernel/debug/swiotlb/io_tlb_used", "r");
	long used = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &used) != 1)
		used = -1;
	fclose(f);
	return used;
}

static void assert_counts(const int *idx, const long *base, int n)
{
	for (int i = 0; i < n; i++)
		vt_assert_f(vprime_object_count(idx[i]) == base[i],
			    "vprime.%d holds %ld objects, %ld before\n", idx[i],
			    vprime_object_count(idx[i]), base[i]);
}

static pid_t fork_child(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	vt_assert_f(pid >= 0, "fork: %m\n");
	return pid;
}

static void wait_child_ok(pid_t pid, const char *what)
{
	int status;

	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s (pid %d) ended with status %#x\n", what, pid, status);
}

/* late-allocation */

static void test_late_allocation(void)
{
	int exp = vprime_require_instance(vprime_is_lenient, 0, "a lenient instance");
	int n = vprime_num_devices(), fds[MAX_INSTANCES], first = -1, k = 0, a, dmabuf;
	uint32_t hs[MAX_INSTANCES], h, num, placement, want = placement_for(all_instances());
	struct drm_vprime_gem_info info;
	struct drm_vprime_segment *segs;

	vt_require_f(n >= 2, "needs two vprime instances\n");
	a = vprime_open(exp, VPRIME_NODE_RENDER);
	h = vprime_gem_create(a, SZ_SMALL);
	info = vprime_gem_info(a, h);
	vt_assert_eq(info.num_pages, 0);
	assert_placement(info.placement, VPRIME_PLACEMENT_NONE);
	vt_assert_eq(info.num_attachments, 0);
	dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_eq(vprime_gem_info(a, h).num_pages, 0);

	/* Every other instance attaches; none of them maps, nothing is allocated. */
	for (int i = 0; i < n; i++) {
		if (i == exp)
			continue;
		if (first < 0)
			first = i;
		fds[i] = vprime_open(i, VPRIME_NODE_RENDER);
		hs[i] = prime_import(fds[i], dmabuf);
		assert_placement(vprime_gem_info(fds[i], hs[i]).placement,
				 VPRIME_PLACEMENT_IMPORTED);
		info = vprime_gem_info(a, h);
		vt_assert_eq(info.num_attachments, ++k);
		vt_assert_eq(info.num_mapped, 0);
		vt_assert_eq(info.num_pages, 0);
		assert_placement(info.placement, VPRIME_PLACEMENT_NONE);
	}

	/* The first map, an importer's, places the storage for every device. */
	segs = map_checked(fds[first], hs[first], SZ_SMALL, first, &num, &placement);
	free(segs);
	assert_placement(placement, want);
	info = vprime_gem_info(a, h);
	vt_assert_eq(info.num_pages, SZ_SMALL / VT_PAGE);
	vt_assert(info.state & VPRIME_BO_STATE_POPULATED);
	assert_placement(info.placement, want);
	vt_assert_eq(info.num_mapped, 1);
	vt_assert_eq(info.migrations, 0);

	/* So every other device, the exporter too, maps it where it is. */
	for (int i = 0; i < n; i++) {
		int fd = i == exp ? a : fds[i];

		segs = map_checked(fd, i == exp ? h : hs[i], SZ_SMALL, i, &num, &placement);
		free(segs);
		assert_placement(placement, want);
	}
	info = vprime_gem_info(a, h);
	vt_assert_eq(info.migrations, 0);
	vt_assert_eq(info.num_mapped, n - 1);

	/* Maps nest: one unmap leaves the first importer mapped, its handle's close drops it. */
	vprime_gem_unmap(fds[first], hs[first]);
	vt_assert_eq(vprime_gem_info(a, h).num_mapped, n - 1);
	gem_close(fds[first], hs[first]);
	info = vprime_gem_info(a, h);
	vt_assert_eq(info.num_mapped, n - 2);
	vt_assert_eq(info.num_attachments, n - 2);

	for (int i = 0; i < n; i++) {
		if (i != exp)
			close(fds[i]);
	}
	info = vprime_gem_info(a, h);
	vt_assert_eq(info.num_mapped, 0);
	vt_assert_eq(info.num_attachments, 0);
	close(dmabuf);
	close(a);
}

/* dma32-no-bounce */

/* Map @handle for the 32-bit instance @idx: below 4 GiB, and without swiotlb. */
static struct drm_vprime_segment *map_dma32(int fd, uint32_t handle, uint64_t size, int idx,
					    uint32_t *num, uint32_t *placement)
{
	long before = swiotlb_used(), after;
	struct drm_vprime_segment *segs = map_checked(fd, handle, size, idx, num, placement);

	after = swiotlb_used();
	if (before < 0) {
		vtest_info("no /sys/kernel/debug/swiotlb/io_tlb_used: bouncing not checked\n");
		return segs;
	}
	vt_assert_f(after == before, "the map used swiotlb: io_tlb_used %ld before, %ld "
		    "while mapped\n", before, after);
	return segs;
}

static void dma32_own(void *arg)
{
	int idx = *(int *)arg, fd = vprime_open(idx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_4M), num, placement;
	struct drm_vprime_segment *segs = map_dma32(fd, h, SZ_4M, idx, &num, &placement);
	void *p;

	assert_placement(placement, placement_for(BIT(idx)));
	assert_placement(vprime_gem_info(fd, h).placement, placement);
	p = vprime_gem_mmap(fd, h, SZ_4M);
	pattern_fill(p, SZ_4M, 0xd32a);
	pattern_check(p, SZ_4M, 0xd32a, "dma32 object");
	munmap(p, SZ_4M);
	vprime_gem_unmap(fd, h);
	free(segs);
	close(fd);
}

static void dma32_imported(void *arg)
{
	int idx = *(int *)arg, exp = vprime_require_instance(vprime_is_lenient, BIT(idx), "a lenient instance");
	int a = vprime_open(exp, VPRIME_NODE_RENDER), d = vprime_open(idx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(a, SZ_4M), hd, nd, na, placement;
	struct drm_vprime_segment *sd, *sa;
	int dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);
	void *p, *q;

	hd = prime_import(d, dmabuf);
	sd = map_dma32(d, hd, SZ_4M, idx, &nd, &placement);
	assert_placement(placement, placement_for(BIT(exp) | BIT(idx)));
	assert_placement(vprime_gem_info(a, h).placement, placement);
	sa = map_checked(a, h, SZ_4M, exp, &na, &placement);
	assert_same_pages(sa, na, sd, nd, SZ_4M, "exporter and dma32 importer");

	p = vprime_gem_mmap(a, h, SZ_4M);
	q = vprime_gem_mmap(d, hd, SZ_4M);
	pattern_fill(p, SZ_4M, 0xd32b);
	pattern_check(q, SZ_4M, 0xd32b, "the dma32 importer's view");
	munmap(p, SZ_4M);
	munmap(q, SZ_4M);
	free(sa);
	free(sd);
	gem_close(d, hd);
	close(dmabuf);
	gem_close(a, h);
	close(d);
	close(a);
}

static void test_dma32_no_bounce(void)
{
	int idx = vprime_require_instance(vprime_is_dma32, 0, "an instance with dma_bits 32");
	uint64_t mem = mem_total_bytes();

	vt_require_f(mem > SZ_4G, "needs more than 4 GiB of RAM for memory above 4 GiB "
		     "to exist, the VM has %llu MiB\n", (unsigned long long)(mem >> 20));
	vtest_dynamic("own", dma32_own, &idx);
	vtest_dynamic("imported", dma32_imported, &idx);
}

/* contiguous */

static void contiguous_own(void *arg)
{
	int idx = *(int *)arg, fd = vprime_open(idx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_1M), num, placement;
	struct drm_vprime_segment *segs = map_checked(fd, h, SZ_1M, idx, &num, &placement);
	void *p;

	vt_assert_eq(num, 1);
	vt_assert_eq(segs[0].len, SZ_1M);
	assert_placement(placement, placement_for(BIT(idx)));
	p = vprime_gem_mmap(fd, h, SZ_1M);
	pattern_fill(p, SZ_1M, 0xc0c0);
	pattern_check(p, SZ_1M, 0xc0c0, "contiguous object");
	munmap(p, SZ_1M);
	free(segs);
	gem_close(fd, h);
	close(fd);
}

static void contiguous_imported(void *arg)
{
	int idx = *(int *)arg, exp = vprime_require_instance(vprime_is_lenient, BIT(idx), "a lenient instance");
	int a = vprime_open(exp, VPRIME_NODE_RENDER), c = vprime_open(idx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(a, SZ_1M), hc, nc, na, placement;
	struct drm_vprime_segment *sc, *sa;
	int dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);
	void *p, *q;

	hc = prime_import(c, dmabuf);
	sc = map_checked(c, hc, SZ_1M, idx, &nc, &placement);
	vt_assert_eq(nc, 1);
	assert_placement(placement, placement_for(BIT(exp) | BIT(idx)));
	assert_placement(vprime_gem_info(a, h).placement, placement);
	sa = map_checked(a, h, SZ_1M, exp, &na, &placement);
	assert_same_pages(sa, na, sc, nc, SZ_1M, "exporter and contiguous importer");

	p = vprime_gem_mmap(a, h, SZ_1M);
	q = vprime_gem_mmap(c, hc, SZ_1M);
	pattern_fill(p, SZ_1M, 0xc1c1);
	pattern_check(q, SZ_1M, 0xc1c1, "the contiguous importer's view");
	munmap(p, SZ_1M);
	munmap(q, SZ_1M);
	free(sa);
	free(sc);
	close(dmabuf);
	close(c);
	close(a);
}

static void test_contiguous(void)
{
	int idx = vprime_require_instance(vprime_is_contiguous, 0, "an instance with contiguous=Y");

	vtest_dynamic("own", contiguous_own, &idx);
	vtest_dynamic("imported", contiguous_imported, &idx);
}

/* max-segment */

static void split_own(void *arg)
{
	int idx = *(int *)arg, fd = vprime_open(idx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_1M), num, placement;
	struct drm_vprime_segment *segs = map_checked(fd, h, SZ_1M, idx, &num, &placement);
	struct drm_vprime_segment two[2] = { {}, { .addr = 0xdead, .len = 0xbeef } };
	struct drm_vprime_gem_map m = {
		.handle = h, .segments_ptr = (uintptr_t)two, .num_segments = 1,
	};

	/* An array too small gets what fits and the total count. */
	vt_assert_ok(ioctl(fd, DRM_IOCTL_VPRIME_GEM_MAP, &m));
	vt_assert_eq(m.num_segments, num);
	vt_assert_eq(two[0].addr, segs[0].addr);
	vt_assert_eq(two[0].len, segs[0].len);
	vt_assert_f(two[1].addr == 0xdead && two[1].len == 0xbeef,
		    "GEM_MAP wrote past the array's size\n");
	vprime_gem_unmap(fd, h);
	vprime_gem_unmap(fd, h);
	free(segs);
	gem_close(fd, h);
	close(fd);
}

static void split_imported(void *arg)
{
	int idx = *(int *)arg, exp = vprime_require_instance(vprime_is_lenient, BIT(idx), "a lenient instance");
	int a = vprime_open(exp, VPRIME_NODE_RENDER), s = vprime_open(idx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(a, SZ_1M), hs, ns, na, placement;
	struct drm_vprime_segment *ss, *sa;
	int dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);
	void *p, *q;

	hs = prime_import(s, dmabuf);
	ss = map_checked(s, hs, SZ_1M, idx, &ns, &placement);
	sa = map_checked(a, h, SZ_1M, exp, &na, &placement);
	assert_same_pages(sa, na, ss, ns, SZ_1M, "exporter and segment-limited importer");
	p = vprime_gem_mmap(a, h, SZ_1M);
	q = vprime_gem_mmap(s, hs, SZ_1M);
	pattern_fill(p, SZ_1M, 0x5e65);
	pattern_check(q, SZ_1M, 0x5e65, "the segment-limited importer's view");
	munmap(p, SZ_1M);
	munmap(q, SZ_1M);
	free(sa);
	free(ss);
	close(dmabuf);
	close(s);
	close(a);
}

/* Contiguous storage, which a limited device must see split at its limits. */
static void split_contiguous_storage(void *arg)
{
	int idx = *(int *)arg;
	int exp = vprime_require_instance(vprime_is_lenient, BIT(idx), "a lenient instance");
	int cidx = vprime_require_instance(vprime_is_contiguous, BIT(idx) | BIT(exp),
				    "an instance with contiguous=Y");
	int a = vprime_open(exp, VPRIME_NODE_RENDER), s = vprime_open(idx, VPRIME_NODE_RENDER);
	int c = vprime_open(cidx, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(a, SZ_1M), hs, hc, ns, nc, placement;
	int dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);
	struct drm_vprime_segment *ss, *sc;

	hc = prime_import(c, dmabuf);
	hs = prime_import(s, dmabuf);
	sc = map_checked(c, hc, SZ_1M, cidx, &nc, &placement);
	assert_placement(placement, placement_for(BIT(exp) | BIT(idx) | BIT(cidx)));
	ss = map_checked(s, hs, SZ_1M, idx, &ns, &placement);
	assert_same_pages(sc, nc, ss, ns, SZ_1M, "contiguous and segment-limited importers");
	vt_assert_eq(vprime_gem_info(a, h).migrations, 0);
	free(sc);
	free(ss);
	close(dmabuf);
	close(c);
	close(s);
	close(a);
}

static void test_max_segment(void)
{
	int idx = vprime_require_instance(splits_segments, 0,
				   "a non-contiguous instance with max_segment or seg_boundary");

	vtest_dynamic("own", split_own, &idx);
	vtest_dynamic("imported", split_imported, &idx);
	vtest_dynamic("contiguous-storage", split_contiguous_storage, &idx);
}

/*
 * A buffer for the migration subtests: created by a lenient instance and
 * filled through its CPU mapping (so the storage exists, placed for it
 * alone), exported, and imported by a second lenient instance, which has not
 * mapped it yet. shared_attach_strict() then imports it into the strict one.
 * (Any device's next map moves storage that a newcomer cannot reach, so the
 * waiting subtests map the lenient importer before the strict one attaches.)
 */
struct shared {
	int idx[3];			/* exporter, lenient importer, strict importer */
	int fd[3];
	uint32_t handle[3];
	long base[3];			/* object counts before */
	int dmabuf;
	void *map;			/* the exporter's CPU mapping, made before any move */
};

enum { EXP, LEN, STRICT };

static void shared_setup(struct shared *sh, int strict, uint32_t seed)
{
	struct drm_vprime_gem_info info;

	sh->idx[STRICT] = strict;
	sh->idx[EXP] = vprime_require_instance(vprime_is_lenient, BIT(strict), "a lenient instance");
	sh->idx[LEN] = vprime_require_instance(vprime_is_lenient, BIT(strict) | BIT(sh->idx[EXP]),
					"two lenient instances");
	for (int i = 0; i < 3; i++) {
		sh->fd[i] = vprime_open(sh->idx[i], VPRIME_NODE_RENDER);
		sh->base[i] = vprime_object_count_settled(sh->idx[i]);
	}
	sh->handle[EXP] = vprime_gem_create(sh->fd[EXP], SZ_SMALL);
	sh->map = vprime_gem_mmap(sh->fd[EXP], sh->handle[EXP], SZ_SMALL);
	pattern_fill(sh->map, SZ_SMALL, seed);
	sh->dmabuf = prime_export(sh->fd[EXP], sh->handle[EXP], DRM_CLOEXEC | DRM_RDWR);
	sh->handle[LEN] = prime_import(sh->fd[LEN], sh->dmabuf);

	info = vprime_gem_info(sh->fd[EXP], sh->handle[EXP]);
	assert_placement(info.placement, VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(info.num_pages, SZ_SMALL / VT_PAGE);
	vt_assert_eq(info.num_attachments, 1);
	vt_assert_eq(info.num_mapped, 0);
	vt_assert_eq(info.migrations, 0);
}

/* The strict instance attaches: that alone moves nothing. */
static void shared_attach_strict(struct shared *sh)
{
	struct drm_vprime_gem_info before = vprime_gem_info(sh->fd[EXP], sh->handle[EXP]), info;

	sh->handle[STRICT] = prime_import(sh->fd[STRICT], sh->dmabuf);
	info = vprime_gem_info(sh->fd[EXP], sh->handle[EXP]);
	vt_assert_eq(info.num_attachments, before.num_attachments + 1);
	assert_placement(info.placement, before.placement);
	vt_assert_eq(info.migrations, before.migrations);
}

static struct drm_vprime_gem_info shared_info(const struct shared *sh)
{
	return vprime_gem_info(sh->fd[EXP], sh->handle[EXP]);
}

static uint32_t shared_strict_placement(const struct shared *sh)
{
	return placement_for(BIT(sh->idx[EXP]) | BIT(sh->idx[LEN]) | BIT(sh->idx[STRICT]));
}

/* The contents through a new CPU mapping of the exporter. */
static void shared_check_fresh(const struct shared *sh, uint32_t seed, const char *what)
{
	void *p = vprime_gem_mmap(sh->fd[EXP], sh->handle[EXP], SZ_SMALL);

	pattern_check(p, SZ_SMALL, seed, what);
	munmap(p, SZ_SMALL);
}

/* Close everything; every instance's object count is back where it was. */
static void shared_teardown(struct shared *sh)
{
	munmap(sh->map, SZ_SMALL);
	close(sh->dmabuf);
	for (int i = 0; i < 3; i++)
		gem_close(sh->fd[i], sh->handle[i]);
	assert_counts(sh->idx, sh->base, 3);
	for (int i = 0; i < 3; i++)
		close(sh->fd[i]);
}

/* migrate */

static void migrate_to(void *arg)
{
	struct shared sh;
	struct drm_vprime_gem_info info;
	struct drm_vprime_segment *ss, *sl;
	uint32_t ns, nl, placement, want;
	void *fdmap;

	shared_setup(&sh, *(int *)arg, 0x3a7e);
	/* A mapping of the dma-buf fd too, made before the move: it must follow. */
	fdmap = mmap(NULL, SZ_SMALL, PROT_READ | PROT_WRITE, MAP_SHARED, sh.dmabuf, 0);
	vt_assert_f(fdmap != MAP_FAILED, "mmap of the dma-buf: %m\n");
	pattern_check(fdmap, SZ_SMALL, 0x3a7e, "dma-buf mapping before the move");
	shared_attach_strict(&sh);
	want = shared_strict_placement(&sh);

	/* The strict device's first map moves the storage. */
	ss = map_checked(sh.fd[STRICT], sh.handle[STRICT], SZ_SMALL, sh.idx[STRICT], &ns,
			 &placement);
	assert_placement(placement, want);
	info = shared_info(&sh);
	assert_placement(info.placement, want);
	vt_assert_eq(info.migrations, 1);
	vt_assert_eq(info.num_pages, SZ_SMALL / VT_PAGE);

	/* The old CPU mapping refaults onto the new pages; a new one sees them too. */
	pattern_check(sh.map, SZ_SMALL, 0x3a7e, "CPU mapping made before the move");
	shared_check_fresh(&sh, 0x3a7e, "CPU mapping made after the move");
	pattern_fill(sh.map, SZ_SMALL, 0x3a7f);
	shared_check_fresh(&sh, 0x3a7f, "new pages, written through the old mapping");
	pattern_check(fdmap, SZ_SMALL, 0x3a7f, "dma-buf mapping made before the move");
	munmap(fdmap, SZ_SMALL);

	/* The lenient importer now maps the new storage, without another move. */
	sl = map_checked(sh.fd[LEN], sh.handle[LEN], SZ_SMALL, sh.idx[LEN], &nl, &placement);
	assert_placement(placement, want);
	assert_same_pages(ss, ns, sl, nl, SZ_SMALL, "strict and lenient importers");
	vt_assert_eq(shared_info(&sh).migrations, 1);

	vprime_gem_unmap(sh.fd[LEN], sh.handle[LEN]);
	vprime_gem_unmap(sh.fd[STRICT], sh.handle[STRICT]);
	vt_assert_eq(shared_info(&sh).num_mapped, 0);
	free(ss);
	free(sl);
	shared_teardown(&sh);
}

static void test_migrate(void)
{
	int dma32 = vprime_find_instance(vprime_is_dma32, 0), contig = vprime_find_instance(vprime_is_contiguous, 0);

	vt_require_f(dma32 >= 0 || contig >= 0, "needs an instance with dma_bits 32 or "
		     "contiguous=Y\n");
	if (dma32 >= 0)
		vtest_dynamic("dma32", migrate_to, &dma32);
	if (contig >= 0)
		vtest_dynamic("contiguous", migrate_to, &contig);
}

/* migrate-fresh-zero */

/* Bytes [@from, @to) of @p are zero. */
static void assert_zero(const uint8_t *p, size_t from, size_t to, const char *what)
{
	for (size_t i = from; i < to; i++)
		vt_assert_f(!p[i], "%s: byte %zu is 0x%02x, not zero\n", what, i, p[i]);
}

/*
 * Buffers moved to the strict instance (the first with only its first page
 * written), each checked through the CPU mapping made before its move, then
 * freed; then new buffers, placed for the strict instance or the lenient one
 * on pages those moves freed or used, read zeros.
 */
static void move_then_fresh(void *arg)
{
	int strict = *(int *)arg;
	int exp = vprime_require_instance(vprime_is_lenient, BIT(strict), "a lenient instance");
	int fe = vprime_open(exp, VPRIME_NODE_RENDER), fs = vprime_open(strict, VPRIME_NODE_RENDER);
	struct drm_vprime_segment *segs;
	uint32_t n, placement, h, hs;
	uint8_t *p;
	char what[64];

	for (int round = 0; round < 4; round++) {
		size_t written = round ? SZ_1M : VT_PAGE;
		int dmabuf;

		h = vprime_gem_create(fe, SZ_1M);
		p = vprime_gem_mmap(fe, h, SZ_1M);
		pattern_fill(p, written, 0x2e70 + round);
		dmabuf = prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
		hs = prime_import(fs, dmabuf);
		segs = map_checked(fs, hs, SZ_1M, strict, &n, &placement);
		vt_assert_eq(vprime_gem_info(fe, h).migrations, 1);
		snprintf(what, sizeof(what), "move %d", round);
		pattern_check(p, written, 0x2e70 + round, what);
		assert_zero(p, written, SZ_1M, what);
		vprime_gem_unmap(fs, hs);
		free(segs);
		munmap(p, SZ_1M);
		close(dmabuf);
		gem_close(fs, hs);
		gem_close(fe, h);
	}
	for (int round = 0; round < 4; round++) {
		/* Allocated by the strict instance's map, in its placement. */
		h = vprime_gem_create(fs, SZ_1M);
		segs = map_checked(fs, h, SZ_1M, strict, &n, &placement);
		p = vprime_gem_mmap(fs, h, SZ_1M);
		snprintf(what, sizeof(what), "new buffer %d of the strict instance", round);
		assert_zero(p, 0, SZ_1M, what);
		vprime_gem_unmap(fs, h);
		free(segs);
		munmap(p, SZ_1M);
		gem_close(fs, h);
		/* Allocated by a CPU fault on the lenient instance. */
		h = vprime_gem_create(fe, SZ_1M);
		p = vprime_gem_mmap(fe, h, SZ_1M);
		snprintf(what, sizeof(what), "new buffer %d of the lenient instance", round);
		assert_zero(p, 0, SZ_1M, what);
		munmap(p, SZ_1M);
		gem_close(fe, h);
	}
	close(fs);
	close(fe);
}

static void test_migrate_fresh_zero(void)
{
	int dma32 = vprime_find_instance(vprime_is_dma32, 0);
	int contig = vprime_find_instance(vprime_is_contiguous, 0);

	vt_require_f(dma32 >= 0 || contig >= 0, "needs an instance with dma_bits 32 or "
		     "contiguous=Y\n");
	if (dma32 >= 0)
		vtest_dynamic("dma32", move_then_fresh, &dma32);
	if (contig >= 0)
		vtest_dynamic("contiguous", move_then_fresh, &contig);
}

/* migrate-wait, migrate-timeout */

struct map_result {
	int err;
	uint32_t placement;
};

/* In a child: the strict device's map, whose result goes down the pipe @out. */
static void strict_map_child(int fd, uint32_t handle, int out)
{
	struct map_result r = {};

	r.err = vprime_gem_try_map(fd, handle, NULL, NULL, &r.placement);
	vt_assert_eq(write(out, &r, sizeof(r)), sizeof(r));
	_exit(0);
}

/* The exporter's waits and move notices, and the lenient importer's notices. */
struct notice_counters {
	long waits, sent, received;
};

static struct notice_counters notice_counters(const struct shared *sh)
{
	return (struct notice_counters) {
		.waits = vprime_debugfs_counter(sh->idx[EXP], "waits"),
		.sent = vprime_debugfs_counter(sh->idx[EXP], "invalidations_sent"),
		.received = vprime_debugfs_counter(sh->idx[LEN], "invalidations"),
	};
}

/*
 * The waiting map counted one wait on the exporter, and every notice the
 * exporter sent reached the lenient importer (a dynamic importer). Kernels
 * from 7.2 on can always send them; Debian's 6.x cannot (no
 * CONFIG_DMABUF_MOVE_NOTIFY).
 */
static void assert_waited_and_notified(const struct shared *sh,
				       const struct notice_counters *before)
{
	struct notice_counters now = notice_counters(sh);
	struct utsname u;
	int major = 0;

	vt_assert_eq(now.waits, before->waits + 1);
	vt_assert_eq(now.received - before->received, now.sent - before->sent);
	vt_assert_ok(uname(&u));
	sscanf(u.release, "%d", &major);
	if (major >= 7)
		vt_assert_f(now.sent > before->sent,
			    "%s: the exporter did not ask the importers to unmap\n", u.release);
}

static void test_migrate_wait(void)
{
	struct notice_counters counters;
	int strict = vprime_require_instance(is_strict, 0, "an instance with dma_bits 32 or "
				      "contiguous=Y");
	struct drm_vprime_gem_info before, info;
	struct map_result r;
	struct shared sh;
	int pipefd[2], status;
	uint32_t placement;
	pid_t pid;

	vt_require_f(map_wait_ms() >= 500, "map_wait_ms is %llu: needs 500 or more to "
		     "tell a wait from a timeout\n", (unsigned long long)map_wait_ms());
	shared_setup(&sh, strict, 0x3a17);
	free(vprime_gem_map(sh.fd[LEN], sh.handle[LEN], NULL, &placement));
	assert_placement(placement, VPRIME_PLACEMENT_SYSTEM);
	shared_attach_strict(&sh);
	before = shared_info(&sh);

	counters = notice_counters(&sh);
	vt_assert_ok(pipe(pipefd));
	pid = fork_child();
	if (pid == 0)
		strict_map_child(sh.fd[STRICT], sh.handle[STRICT], pipefd[1]);
	close(pipefd[1]);

	/* While the lenient importer holds its mapping, the strict map waits. */
	usleep(200 * 1000);
	vt_assert_f(waitpid(pid, &status, WNOHANG) == 0,
		    "the strict map did not wait for the lenient importer's mapping\n");
	info = shared_info(&sh);
	assert_placement(info.placement, before.placement);
	vt_assert_eq(info.migrations, before.migrations);
	assert_waited_and_notified(&sh, &counters);

	/* Released: it moves the storage and succeeds. */
	vprime_gem_unmap(sh.fd[LEN], sh.handle[LEN]);
	wait_child_ok(pid, "strict map");
	vt_assert_eq(read(pipefd[0], &r, sizeof(r)), sizeof(r));
	close(pipefd[0]);
	vt_assert_f(!r.err, "the strict map failed after the wait: %s\n", strerror(r.err));
	assert_placement(r.placement, shared_strict_placement(&sh));
	info = shared_info(&sh);
	assert_placement(info.placement, r.placement);
	vt_assert_eq(info.migrations, before.migrations + 1);
	shared_check_fresh(&sh, 0x3a17, "after a move that waited");
	pattern_check(sh.map, SZ_SMALL, 0x3a17, "CPU mapping made before the move");

	/* The child's map belongs to the file it shared with this process. */
	vprime_gem_unmap(sh.fd[STRICT], sh.handle[STRICT]);
	vt_assert_errno(ioctl(sh.fd[STRICT], DRM_IOCTL_VPRIME_GEM_UNMAP,
			      &(struct drm_vprime_gem_unmap){ .handle = sh.handle[STRICT] }),
			EINVAL);
	shared_teardown(&sh);
}

static void test_migrate_timeout(void)
{
	int strict = vprime_require_instance(is_strict, 0, "an instance with dma_bits 32 or "
				      "contiguous=Y");
	uint64_t wait_ms = map_wait_ms();
	struct drm_vprime_gem_info before, info;
	struct drm_vprime_gem_unmap u = {};
	struct shared sh;
	uint32_t placement;
	double t0, elapsed_ms;
	int err;

	vt_require_f(wait_ms <= 10000, "map_wait_ms is %llu: too long a wait for a test\n",
		     (unsigned long long)wait_ms);
	shared_setup(&sh, strict, 0x713e);
	free(vprime_gem_map(sh.fd[LEN], sh.handle[LEN], NULL, &placement));
	shared_attach_strict(&sh);
	before = shared_info(&sh);

	/* The lenient importer's mapping stays: the strict map gives up. */
	t0 = now();
	err = vprime_gem_try_map(sh.fd[STRICT], sh.handle[STRICT], NULL, NULL, &placement);
	elapsed_ms = (now() - t0) * 1000;
	vt_assert_f(err == ETIME, "the strict map returned %d (%s), expected ETIME\n",
		    err, strerror(err));
	vt_assert_f(elapsed_ms >= wait_ms * 0.9, "gave up after %.0f ms, map_wait_ms is "
		    "%llu\n", elapsed_ms, (unsigned long long)wait_ms);

	/* Nothing changed, and the failed map left nothing to unmap. */
	info = shared_info(&sh);
	assert_placement(info.placement, before.placement);
	vt_assert_eq(info.migrations, before.migrations);
	vt_assert_eq(info.num_pages, before.num_pages);
	vt_assert_eq(info.num_mapped, before.num_mapped);
	pattern_check(sh.map, SZ_SMALL, 0x713e, "CPU mapping after the timeout");
	u.handle = sh.handle[STRICT];
	vt_assert_errno(ioctl(sh.fd[STRICT], DRM_IOCTL_VPRIME_GEM_UNMAP, &u), EINVAL);

	/* Once the mapping goes, the same map moves the storage. */
	vprime_gem_unmap(sh.fd[LEN], sh.handle[LEN]);
	free(vprime_gem_map(sh.fd[STRICT], sh.handle[STRICT], NULL, &placement));
	assert_placement(placement, shared_strict_placement(&sh));
	vt_assert_eq(shared_info(&sh).migrations, before.migrations + 1);
	shared_check_fresh(&sh, 0x713e, "after the move");
	shared_teardown(&sh);
}

/* refuse-impossible */

static void test_refuse_impossible(void)
{
	int cidx = vprime_require_instance(vprime_is_contiguous, 0, "an instance with contiguous=Y");
	int exp = vprime_require_instance(vprime_is_lenient, BIT(cidx), "a lenient instance");
	int a = vprime_open(exp, VPRIME_NODE_RENDER), c = vprime_open(cidx, VPRIME_NODE_RENDER);
	int idx[2] = { exp, cidx };
	long base[2] = { vprime_object_count_settled(exp), vprime_object_count_settled(cidx) };
	uint32_t h = vprime_gem_create(a, SZ_8M), h4, hc = 0;
	int dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR), dmabuf4;
	struct drm_vprime_gem_info info;
	void *p;

	base[0]++;		/* the 8 MiB object */
	vt_assert_errno(drmPrimeFDToHandle(c, dmabuf, &hc), EINVAL);
	vt_assert_eq(vprime_gem_info(a, h).num_attachments, 0);
	assert_counts(idx, base, 2);

	/* With storage, the same. */
	p = vprime_gem_mmap(a, h, SZ_8M);
	pattern_fill(p, SZ_8M, 0x8888);
	vt_assert_errno(drmPrimeFDToHandle(c, dmabuf, &hc), EINVAL);
	info = vprime_gem_info(a, h);
	vt_assert_eq(info.num_attachments, 0);
	assert_placement(info.placement, VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(info.migrations, 0);
	assert_counts(idx, base, 2);
	pattern_check(p, SZ_8M, 0x8888, "the refused buffer");
	munmap(p, SZ_8M);

	/* The largest contiguous block is still accepted, and only attached. */
	h4 = vprime_gem_create(a, SZ_4M);
	dmabuf4 = prime_export(a, h4, DRM_CLOEXEC | DRM_RDWR);
	hc = prime_import(c, dmabuf4);
	info = vprime_gem_info(a, h4);
	vt_assert_eq(info.num_attachments, 1);
	vt_assert_eq(info.num_pages, 0);
	gem_close(c, hc);
	close(dmabuf4);
	gem_close(a, h4);

	close(dmabuf);
	gem_close(a, h);
	base[0]--;
	assert_counts(idx, base, 2);
	close(c);
	close(a);
}

/* concurrent */

struct churn {
	int dmabuf;
	uint32_t seed;
	int n;				/* instances to pick from */
	int idx[MAX_INSTANCES];
	struct vprime_limits limits[MAX_INSTANCES];
};

struct churn_counts {
	unsigned int rounds, maps, tolerated;
};

/* One round: instance @i imports, maps, checks segments and data, unmaps, closes. */
static void churn_round(const struct churn *ch, int i, struct churn_counts *cnt)
{
	int fd = vprime_open(ch->idx[i], VPRIME_NODE_RENDER);
	uint32_t h = prime_import(fd, ch->dmabuf), num;
	struct drm_vprime_segment *segs;
	int err = vprime_gem_try_map(fd, h, &segs, &num, NULL);
	void *p;

	cnt->rounds++;
	if (err) {
		vt_assert_f(err == EINTR || err == ETIME || err == EBUSY,
			    "vprime.%d's GEM_MAP: %s\n", ch->idx[i], strerror(err));
		cnt->tolerated++;
	} else {
		cnt->maps++;
		check_segments(segs, num, SZ_SMALL, &ch->limits[i], ch->idx[i]);
		p = vprime_gem_mmap(fd, h, SZ_SMALL);
		pattern_check(p, SZ_SMALL, ch->seed, "a concurrent importer's view");
		munmap(p, SZ_SMALL);
		vprime_gem_unmap(fd, h);
		free(segs);
	}
	gem_close(fd, h);
	close(fd);
}

static void churn_child(const struct churn *ch, unsigned int seed, int out)
{
	struct churn_counts cnt = {};
	double end = now() + CHURN_SECONDS;

	while (now() < end)
		churn_round(ch, rand_r(&seed) % ch->n, &cnt);
	vt_assert_eq(write(out, &cnt, sizeof(cnt)), sizeof(cnt));
	_exit(0);
}

static void test_concurrent(void)
{
	int exp = vprime_require_instance(vprime_is_lenient, 0, "a lenient instance");
	int n = vprime_num_devices(), all[MAX_INSTANCES], a, pipefd[2];
	struct churn ch = { .seed = 0xc0c0a };
	struct churn_counts cnt, sum = {};
	struct drm_vprime_gem_info info;
	pid_t pids[CHURN_CHILDREN];
	long base[MAX_INSTANCES];
	uint32_t h;
	void *p;

	for (int i = 0; i < n; i++) {
		struct vprime_limits l = vprime_limits(i);

		all[i] = i;
		base[i] = vprime_object_count_settled(i);
		if (l.contiguous && SZ_SMALL > SZ_4M)
			continue;
		ch.idx[ch.n] = i;
		ch.limits[ch.n++] = l;
	}
	a = vprime_open(exp, VPRIME_NODE_RENDER);
	h = vprime_gem_create(a, SZ_SMALL);
	p = vprime_gem_mmap(a, h, SZ_SMALL);
	pattern_fill(p, SZ_SMALL, ch.seed);
	ch.dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);

	vt_assert_ok(pipe(pipefd));
	for (int c = 0; c < CHURN_CHILDREN; c++) {
		pids[c] = fork_child();
		if (pids[c] == 0)
			churn_child(&ch, 0x5eed + c, pipefd[1]);
	}
	close(pipefd[1]);
	for (int c = 0; c < CHURN_CHILDREN; c++)
		wait_child_ok(pids[c], "concurrent importer");
	while (read(pipefd[0], &cnt, sizeof(cnt)) == sizeof(cnt)) {
		sum.rounds += cnt.rounds;
		sum.maps += cnt.maps;
		sum.tolerated += cnt.tolerated;
	}
	close(pipefd[0]);
	vtest_info("%u rounds over %d instances: %u maps, %u maps given up "
		   "(EINTR/ETIME/EBUSY)\n", sum.rounds, ch.n, sum.maps, sum.tolerated);
	vt_assert_lt(0, sum.maps);

	info = vprime_gem_info(a, h);
	vt_assert_eq(info.num_attachments, 0);
	vt_assert_eq(info.num_mapped, 0);
	pattern_check(p, SZ_SMALL, ch.seed, "the exporter's view after the churn");
	munmap(p, SZ_SMALL);
	close(ch.dmabuf);
	gem_close(a, h);
	assert_counts(all, base, n);
	close(a);
}

/* map-invalid */

static int gem_unmap_flags(int fd, uint32_t handle, uint32_t flags)
{
	struct drm_vprime_gem_unmap u = { .handle = handle, .flags = flags };

	return ioctl(fd, DRM_IOCTL_VPRIME_GEM_UNMAP, &u);
}

static void test_map_invalid(void)
{
	int exp = vprime_require_instance(vprime_is_lenient, 0, "a lenient instance");
	int imp = vprime_require_instance(vprime_is_lenient, BIT(exp), "two lenient instances");
	int a = vprime_open(exp, VPRIME_NODE_RENDER), b = vprime_open(imp, VPRIME_NODE_RENDER);
	int idx[2] = { exp, imp };
	long base[2] = { vprime_object_count_settled(exp), vprime_object_count_settled(imp) };
	uint32_t h = vprime_gem_create(a, SZ_SMALL), hb;
	struct drm_vprime_gem_map m;
	int dmabuf;

	m = (struct drm_vprime_gem_map){ .handle = h, .flags = 1 };
	vt_assert_errno(ioctl(a, DRM_IOCTL_VPRIME_GEM_MAP, &m), EINVAL);
	m = (struct drm_vprime_gem_map){ .handle = h, .flags = 0x80000000u };
	vt_assert_errno(ioctl(a, DRM_IOCTL_VPRIME_GEM_MAP, &m), EINVAL);
	m = (struct drm_vprime_gem_map){ .handle = h + 1000 };
	vt_assert_errno(ioctl(a, DRM_IOCTL_VPRIME_GEM_MAP, &m), ENOENT);
	vt_assert_errno(gem_unmap_flags(a, h + 1000, 0), ENOENT);
	vt_assert_errno(gem_unmap_flags(a, h, 0), EINVAL);	/* never mapped */

	/* A bad array: -EFAULT, and no map is left behind. */
	m = (struct drm_vprime_gem_map){
		.handle = h, .segments_ptr = (uint64_t)-4096, .num_segments = 4,
	};
	vt_assert_errno(ioctl(a, DRM_IOCTL_VPRIME_GEM_MAP, &m), EFAULT);
	vt_assert_errno(gem_unmap_flags(a, h, 0), EINVAL);

	/* No array: only the count. Unmap's flags are checked before it drops it. */
	m = (struct drm_vprime_gem_map){ .handle = h };
	vt_assert_ok(ioctl(a, DRM_IOCTL_VPRIME_GEM_MAP, &m));
	vt_assert_lte(1, m.num_segments);
	assert_placement(m.placement, placement_for(BIT(exp)));
	vt_assert_errno(gem_unmap_flags(a, h, 1), EINVAL);
	vt_assert_ok(gem_unmap_flags(a, h, 0));
	vt_assert_errno(gem_unmap_flags(a, h, 0), EINVAL);

	/* The same on an importer: its attachment is not left mapped. */
	dmabuf = prime_export(a, h, DRM_CLOEXEC | DRM_RDWR);
	hb = prime_import(b, dmabuf);
	m = (struct drm_vprime_gem_map){
		.handle = hb, .segments_ptr = (uint64_t)-4096, .num_segments = 4,
	};
	vt_assert_errno(ioctl(b, DRM_IOCTL_VPRIME_GEM_MAP, &m), EFAULT);
	vt_assert_eq(vprime_gem_info(a, h).num_mapped, 0);
	vt_assert_errno(gem_unmap_flags(b, hb, 0), EINVAL);
	m = (struct drm_vprime_gem_map){ .handle = hb, .flags = 1 };
	vt_assert_errno(ioctl(b, DRM_IOCTL_VPRIME_GEM_MAP, &m), EINVAL);
	vt_assert_eq(vprime_gem_info(a, h).num_mapped, 0);

	base[0]++;		/* the object and its import */
	base[1]++;
	assert_counts(idx, base, 2);
	close(dmabuf);
	gem_close(b, hb);
	gem_close(a, h);
	base[0]--;
	base[1]--;
	assert_counts(idx, base, 2);
	close(b);
	close(a);
}

static const struct vtest tests[] = {
	VTEST("late-allocation", "Creating, exporting and importing into every other "
	      "instance allocates nothing and maps nothing; the first map places the storage "
	      "where every attached device reaches it, so no device's map moves it.",
	      test_late_allocation),
	VTEST("dma32-no-bounce", "A 32-bit instance's own and imported buffers are placed "
	      "below 4 GiB and mapped without swiotlb (needs more than 4 GiB of RAM).",
	      test_dma32_no_bounce),
	VTEST("contiguous", "An instance that needs contiguous storage sees its own and an "
	      "imported buffer as one segment, the same pages the exporter maps.",
	      test_contiguous),
	VTEST("max-segment", "An instance with max_segment or seg_boundary gets segments "
	      "within its limits covering the same pages as the others, even over "
	      "contiguous storage; a short segment array gets what fits and the count.",
	      test_max_segment),
	VTEST("migrate", "A device that cannot reach the storage moves it at its first map: "
	      "placement and migrations change once, the contents stay, an old CPU mapping "
	      "refaults onto the new pages and the other importer maps them.",
	      test_migrate),
	VTEST("migrate-fresh-zero", "Moves keep every byte, those never written as zeros; "
	      "after moves freed pages that held data, new buffers of the strict and of a "
	      "lenient instance read zeros.", test_migrate_fresh_zero),
	VTEST("migrate-wait", "A map that must move the storage waits while another device "
	      "holds a mapping, then moves it once that mapping goes.", test_migrate_wait),
	VTEST("migrate-timeout", "A map that must move the storage fails with -ETIME "
	      "after map_wait_ms when another mapping stays, changing nothing.",
	      test_migrate_timeout),
	VTEST("refuse-impossible", "Importing into a contiguous instance a buffer larger than "
	      "the largest contiguous block fails with -EINVAL, attaching nothing and "
	      "creating no object.", test_refuse_impossible),
	VTEST("concurrent", "Processes importing, mapping, checking and closing one buffer "
	      "on every instance at once: segments within each device's limits, intact "
	      "data, and every object freed.", test_concurrent),
	VTEST("map-invalid", "GEM_MAP and GEM_UNMAP: -EINVAL for flags or no map, -ENOENT "
	      "for unknown handles, -EFAULT for a bad array with no map left behind.",
	      test_map_invalid),
};

VTEST_MAIN("Placement of shared buffers: late allocation, DMA limits, migration, "
	   "waiting and refusal.", tests)
