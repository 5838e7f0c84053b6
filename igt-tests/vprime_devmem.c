// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * Device memory. An instance loaded with vram_mb has VRAM, the cheapest
 * placement for its own buffers while no other device maps them; its p2p
 * mask names the instances that map it in place (peers). Any other
 * importer moves the buffer to system memory. When VRAM is full, idle
 * buffers are evicted least recently used first, after their fences;
 * pinned and mapped ones stay, and with nothing to evict an allocation
 * fails with ENOSPC. The subtests find the instances by their parameters
 * (vram_mb, p2p, job_delay_ms) and skip when the module has none.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_test.h"
#include "vtest.h"

#define SZ_1M		(1u << 20)
#define BIT(i)		(1u << (i))
#define KMS_W		1024
#define KMS_H		768

/* The first instance with VRAM; skips when there is none. */
static int vram_instance(void)
{
	for (int i = 0; i < vprime_num_devices(); i++)
		if (vprime_limits(i).vram_mb)
			return i;
	vtest_skip("needs an instance with VRAM (the parameter vram_mb)\n");
}

static unsigned int p2p_mask(int idx)
{
	char buf[32];

	return vprime_param("p2p", idx, buf, sizeof(buf)) ? strtoul(buf, NULL, 0) : 0;
}

/* An instance that @vram's p2p mask names; skips when there is none. */
static int peer_instance(int vram)
{
	for (int i = 0; i < vprime_num_devices(); i++)
		if (i != vram && (p2p_mask(vram) & BIT(i)))
			return i;
	vtest_skip("needs a peer of vprime.%d (its p2p parameter)\n", vram);
}

/* A 64-bit instance without VRAM that @vram's p2p mask does not name. */
static int non_peer_instance(int vram)
{
	for (int i = 0; i < vprime_num_devices(); i++) {
		struct vprime_limits l = vprime_limits(i);

		if (i != vram && !(p2p_mask(vram) & BIT(i)) && vprime_is_lenient(&l))
			return i;
	}
	vtest_skip("needs a lenient instance that is not a peer of vprime.%d\n", vram);
}

static long vram_free(int idx)
{
	return vprime_debugfs_counter(idx, "vram_size") - vprime_debugfs_counter(idx, "vram_used");
}

static uint32_t placement_of(int fd, uint32_t h)
{
	return vprime_gem_info(fd, h).placement;
}

/* Create a buffer of @size and place it with a map by its owner, dropped again. */
static uint32_t create_placed(int fd, uint64_t size, uint32_t *placement)
{
	uint32_t h = vprime_gem_create(fd, size);

	free(vprime_gem_map(fd, h, NULL, placement));
	vprime_gem_unmap(fd, h);
	return h;
}

/* vram-placement */

static void test_vram_placement(void)
{
	int v = vram_instance(), fd = vprime_open(v, VPRIME_NODE_RENDER);
	long used = vprime_debugfs_counter(v, "vram_used");
	uint64_t big = (uint64_t)vprime_debugfs_counter(v, "vram_size") + SZ_1M;
	struct drm_vprime_gem_info info;
	uint32_t h, hb, placement;
	void *p;

	/* Nothing before first use; the owner's first map places it in VRAM. */
	h = vprime_gem_create(fd, SZ_1M);
	vt_assert_eq(placement_of(fd, h), VPRIME_PLACEMENT_NONE);
	vt_assert_eq(vprime_debugfs_counter(v, "vram_used"), used);
	free(vprime_gem_map(fd, h, NULL, &placement));
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	info = vprime_gem_info(fd, h);
	vt_assert_eq(info.placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(info.num_pages, SZ_1M / VT_PAGE);
	vt_assert_eq(info.evictions, 0);
	vt_assert_eq(vprime_debugfs_counter(v, "vram_used"), used + SZ_1M);
	vprime_gem_unmap(fd, h);

	/* VRAM is zeroed, and the CPU reads and writes it. */
	p = vprime_gem_mmap(fd, h, SZ_1M);
	for (size_t i = 0; i < SZ_1M; i += VT_PAGE)
		vt_assert_eq(((volatile uint8_t *)p)[i], 0);
	pattern_fill(p, SZ_1M, 0x7a41);
	pattern_check(p, SZ_1M, 0x7a41, "a buffer in VRAM");
	munmap(p, SZ_1M);

	/* The first CPU fault places a new buffer in VRAM too. */
	hb = vprime_gem_create(fd, SZ_1M);
	p = vprime_gem_mmap(fd, hb, SZ_1M);
	((volatile uint8_t *)p)[0] = 1;
	vt_assert_eq(placement_of(fd, hb), VPRIME_PLACEMENT_VRAM);
	munmap(p, SZ_1M);
	gem_close(fd, hb);

	/* Larger than all of VRAM: system memory. */
	hb = create_placed(fd, big, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_SYSTEM);
	gem_close(fd, hb);

	gem_close(fd, h);
	vt_assert_eq(vprime_debugfs_counter(v, "vram_used"), used);
	close(fd);
}

/* peer-import */

static void test_peer_import(void)
{
	int v = vram_instance(), peer = peer_instance(v);
	int fd = vprime_open(v, VPRIME_NODE_RENDER), fp = vprime_open(peer, VPRIME_NODE_RENDER);
	long peer_maps = vprime_debugfs_counter(v, "peer_mappings");
	struct drm_vprime_segment *segs;
	struct drm_vprime_gem_info info;
	uint32_t h, imported, num, placement;
	int dmabuf;
	void *p;

	h = create_placed(fd, SZ_1M, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	p = vprime_gem_mmap(fd, h, SZ_1M);
	pattern_fill(p, SZ_1M, 0x9ee7);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);
	imported = prime_import(fp, dmabuf);

	/* The peer maps VRAM in place: no move, DMA addresses only. */
	segs = vprime_gem_map(fp, imported, &num, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_lte(1, num);
	for (uint32_t i = 0; i < num; i++) {
		vt_assert_eq(segs[i].len % VT_PAGE, 0);
		if (geteuid() == 0)
			vt_assert_neq(segs[i].addr, 0);
	}
	free(segs);
	info = vprime_gem_info(fd, h);
	vt_assert_eq(info.placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(info.migrations, 0);
	vt_assert_eq(info.num_mapped, 1);
	vt_assert_eq(info.num_peer_mapped, 1);
	vt_assert_eq(vprime_debugfs_counter(v, "peer_mappings"), peer_maps + 1);
	pattern_check(p, SZ_1M, 0x9ee7, "VRAM mapped by a peer");

	vprime_gem_unmap(fp, imported);
	vt_assert_eq(vprime_gem_info(fd, h).num_peer_mapped, 0);
	vt_assert_eq(vprime_debugfs_counter(v, "peer_mappings"), peer_maps);
	munmap(p, SZ_1M);
	gem_close(fp, imported);
	close(dmabuf);
	gem_close(fd, h);
	close(fp);
	close(fd);
}

/* non-peer-import */

static void test_non_peer_import(void)
{
	int v = vram_instance(), other = non_peer_instance(v);
	int fd = vprime_open(v, VPRIME_NODE_RENDER), fo = vprime_open(other, VPRIME_NODE_RENDER);
	long used = vprime_debugfs_counter(v, "vram_used");
	struct drm_vprime_gem_info info;
	uint32_t h, imported, placement;
	int dmabuf;
	void *p, *q;

	h = create_placed(fd, SZ_1M, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	p = vprime_gem_mmap(fd, h, SZ_1M);
	pattern_fill(p, SZ_1M, 0x40c1);
	dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);

	/* Attaching moves nothing yet; the non-peer's map moves it out of VRAM. */
	imported = prime_import(fo, dmabuf);
	vt_assert_eq(placement_of(fd, h), VPRIME_PLACEMENT_VRAM);
	free(vprime_gem_map(fo, imported, NULL, &placement));
	vt_assert_eq(placement, VPRIME_PLACEMENT_SYSTEM);
	info = vprime_gem_info(fd, h);
	vt_assert_eq(info.placement, VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(info.migrations, 1);
	vt_assert_eq(info.evictions, 0);
	vt_assert_eq(info.num_peer_mapped, 0);
	vt_assert_eq(vprime_debugfs_counter(v, "vram_used"), used);

	/* The bytes came along: the old CPU mapping refaults onto them. */
	pattern_check(p, SZ_1M, 0x40c1, "the owner's mapping after the move");
	q = vprime_gem_mmap(fo, imported, SZ_1M);
	pattern_check(q, SZ_1M, 0x40c1, "the importer's mapping after the move");
	munmap(q, SZ_1M);

	/* Nothing moves back while the non-peer stays attached. */
	vprime_gem_unmap(fo, imported);
	free(vprime_gem_map(fd, h, NULL, &placement));
	vt_assert_eq(placement, VPRIME_PLACEMENT_SYSTEM);
	vprime_gem_unmap(fd, h);

	munmap(p, SZ_1M);
	gem_close(fo, imported);
	close(dmabuf);
	gem_close(fd, h);
	close(fo);
	close(fd);
}

/*
 * Fill the free VRAM of instance @v with @n buffers (their handles in @hs),
 * each placed by its owner's map and filled with a pattern. Returns their
 * size: n of them fill VRAM so that one more does not fit.
 */
static uint64_t fill_vram(int fd, int v, uint32_t *hs, int n)
{
	uint64_t size = ((uint64_t)vram_free(v) / n) & ~(uint64_t)(VT_PAGE - 1);
	uint32_t placement;
	void *p;

	vt_require_f(size >= 16 * VT_PAGE, "vprime.%d has only %ld bytes of VRAM free\n", v,
		     vram_free(v));
	for (int i = 0; i < n; i++) {
		hs[i] = create_placed(fd, size, &placement);
		vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
		p = vprime_gem_mmap(fd, hs[i], size);
		pattern_fill(p, size, 0x1000 + i);
		munmap(p, size);
	}
	vt_assert_lt(vram_free(v), (long)size);
	return size;
}

static void check_pattern(int fd, uint32_t h, uint64_t size, uint32_t seed, const char *what)
{
	void *p = vprime_gem_mmap(fd, h, size);

	pattern_check(p, size, seed, what);
	munmap(p, size);
}

/* evict-lru */

static void test_evict_lru(void)
{
	int v = vram_instance(), fd = vprime_open(v, VPRIME_NODE_RENDER);
	long evictions = vprime_debugfs_counter(v, "evictions");
	long evicted = vprime_debugfs_counter(v, "evicted_bytes");
	uint32_t hs[4], h, placement;
	uint64_t size;
	void *old;

	size = fill_vram(fd, v, hs, 4);
	/* A mapping of the victim made before its eviction. */
	old = vprime_gem_mmap(fd, hs[1], size);
	pattern_check(old, size, 0x1001, "buffer 1 before eviction");
	/* Buffer 0 is used again, so 1 is now the least recently used. */
	free(vprime_gem_map(fd, hs[0], NULL, NULL));
	vprime_gem_unmap(fd, hs[0]);

	h = create_placed(fd, size, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(placement_of(fd, hs[1]), VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(vprime_gem_info(fd, hs[1]).evictions, 1);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			vt_assert_eq(placement_of(fd, hs[i]), VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(vprime_debugfs_counter(v, "evictions"), evictions + 1);
	vt_assert_eq(vprime_debugfs_counter(v, "evicted_bytes"), evicted + (long)size);

	/* Contents kept; the old CPU mapping refaults onto system memory. */
	pattern_check(old, size, 0x1001, "buffer 1's old mapping after eviction");
	munmap(old, size);
	for (int i = 0; i < 4; i++)
		check_pattern(fd, hs[i], size, 0x1000 + i, "a buffer after the eviction");

	/* Next in line: 2, then 3, then 0. */
	gem_close(fd, h);
	h = create_placed(fd, 2 * size, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(placement_of(fd, hs[2]), VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(placement_of(fd, hs[3]), VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(placement_of(fd, hs[0]), VPRIME_PLACEMENT_VRAM);

	gem_close(fd, h);
	for (int i = 0; i < 4; i++)
		gem_close(fd, hs[i]);
	close(fd);
}

/* evict-fences */

static int delayed_instance(void)
{
	for (int i = 0; i < vprime_num_devices(); i++)
		if (vprime_param_u64("job_delay_ms", i))
			return i;
	vtest_skip("needs an instance whose jobs are delayed (job_delay_ms)\n");
}

static void test_evict_fences(void)
{
	int v = vram_instance(), slow = delayed_instance();
	int fd = vprime_open(v, VPRIME_NODE_RENDER), fs = vprime_open(slow, VPRIME_NODE_RENDER);
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	uint32_t hs[2], h, other, bo, placement;
	struct vprime_job job;
	int dmabuf, dmabuf1, fence;
	uint64_t size;

	vt_require(slow != v);
	size = fill_vram(fd, v, hs, 2);
	/*
	 * Both buffers, exported, carry a pending fence: idle victims go
	 * first, so with none the eviction waits for the LRU one.
	 */
	dmabuf = prime_export(fd, hs[0], DRM_CLOEXEC | DRM_RDWR);
	dmabuf1 = prime_export(fd, hs[1], DRM_CLOEXEC | DRM_RDWR);
	other = vprime_gem_create(fs, 64 * 64 * 4);
	vprime_job_init(&job);
	bo = vprime_job_add_bo(&job, other, VPRIME_SUBMIT_BO_WRITE, 64, 64, 64 * 4,
			       DRM_FORMAT_XRGB8888);
	vprime_job_fill(&job, bo, 0, 0, 64, 64, 0xff00ff00);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fs, &job);
	imp.fd = fence;
	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	vt_assert_ok(ioctl(dmabuf1, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	if (sync_file_status(fence) == 1)
		vtest_info("the job finished before the eviction: the wait is not exercised\n");

	/* The eviction waits for the fence, then moves the buffer. */
	h = create_placed(fd, size, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_f(sync_file_status(fence) == 1,
		    "a buffer was evicted while a fence on it was pending\n");
	vt_assert_eq(placement_of(fd, hs[0]), VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(placement_of(fd, hs[1]), VPRIME_PLACEMENT_VRAM);
	check_pattern(fd, hs[0], size, 0x1000, "the fenced buffer after eviction");

	close(fence);
	close(dmabuf1);
	close(dmabuf);
	gem_close(fs, other);
	gem_close(fd, h);
	gem_close(fd, hs[0]);
	gem_close(fd, hs[1]);
	close(fs);
	close(fd);
}

/* pinned-not-evicted */

static void test_pinned_not_evicted(void)
{
	int v = vram_instance(), fd = vprime_open(v, VPRIME_NODE_CARD);
	struct kms_plane_setup s = { .type = KMS_PLANE_PRIMARY, .w = KMS_W, .h = KMS_H };
	struct drm_vprime_gem_info info;
	uint32_t scan, pitch, hs[1], h, placement;
	struct kms_output out;
	uint64_t scan_size, size;
	void *map;

	/* The oldest buffer in VRAM is on screen, so pinned. */
	scan = dumb_create_mapped(fd, KMS_W, KMS_H, &pitch, &scan_size, &map);
	pattern_fill(map, scan_size, 0x5ca7);
	vt_require_f(placement_of(fd, scan) == VPRIME_PLACEMENT_VRAM,
		     "the dumb buffer is not in VRAM (%ld bytes free)\n", vram_free(v));
	s.fb_id = kms_add_fb_xrgb8888(fd, scan, KMS_W, KMS_H, pitch);
	kms_output_on(fd, &s, 1, KMS_W, KMS_H, &out);
	info = vprime_gem_info(fd, scan);
	vt_assert_lt(0, info.pin_count);

	size = fill_vram(fd, v, hs, 1);
	h = create_placed(fd, size, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	info = vprime_gem_info(fd, scan);
	vt_assert_eq(info.placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(info.evictions, 0);
	vt_assert_eq(info.migrations, 0);
	vt_assert_eq(placement_of(fd, hs[0]), VPRIME_PLACEMENT_SYSTEM);
	pattern_check(map, scan_size, 0x5ca7, "the buffer on screen");

	kms_output_off(fd, &out);
	drmModeRmFB(fd, s.fb_id);
	munmap(map, scan_size);
	gem_close(fd, h);
	gem_close(fd, hs[0]);
	gem_close(fd, scan);
	close(fd);
}

/* full-fallback */

static void test_full_fallback(void)
{
	int v = vram_instance(), fd = vprime_open(v, VPRIME_NODE_RENDER);
	long evictions = vprime_debugfs_counter(v, "evictions");
	uint32_t hs[2], h, h2, placement = 0;
	uint64_t size;
	void *p;

	/* Both buffers stay mapped by their device: neither can be evicted. */
	size = fill_vram(fd, v, hs, 2);
	for (int i = 0; i < 2; i++)
		free(vprime_gem_map(fd, hs[i], NULL, NULL));
	/* VRAM is preferred, not required: the newcomer goes to system memory. */
	h = vprime_gem_create(fd, size);
	vt_assert_eq(vprime_gem_try_map(fd, h, NULL, NULL, &placement), 0);
	vt_assert_eq(placement, VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(placement_of(fd, h), VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(vprime_gem_info(fd, h).num_pages, size / VT_PAGE);
	vt_assert_eq(vprime_debugfs_counter(v, "evictions"), evictions);
	for (int i = 0; i < 2; i++)
		vt_assert_eq(placement_of(fd, hs[i]), VPRIME_PLACEMENT_VRAM);
	p = vprime_gem_mmap(fd, h, size);
	pattern_fill(p, size, 0x2000);
	munmap(p, size);
	check_pattern(fd, h, size, 0x2000, "the buffer in system memory");

	/* Once one is unmapped, it is evicted for the next newcomer. */
	vprime_gem_unmap(fd, hs[1]);
	h2 = create_placed(fd, size, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(placement_of(fd, hs[1]), VPRIME_PLACEMENT_SYSTEM);
	vt_assert_eq(placement_of(fd, hs[0]), VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(placement_of(fd, h), VPRIME_PLACEMENT_SYSTEM);
	check_pattern(fd, hs[1], size, 0x1001, "the evicted buffer");
	vprime_gem_unmap(fd, h);
	vprime_gem_unmap(fd, hs[0]);

	gem_close(fd, h2);
	gem_close(fd, h);
	gem_close(fd, hs[0]);
	gem_close(fd, hs[1]);
	close(fd);
}

/* full-other-client */

/*
 * A fresh client's buffer, touched by the CPU in a child process: whether
 * the fault succeeded (0) or the signal that killed the child.
 */
static int cpu_touch_in_child(int v, uint64_t size)
{
	int status;
	pid_t pid = fork();

	vt_assert_lte(0, pid);
	if (!pid) {
		int fd = vprime_open(v, VPRIME_NODE_RENDER);
		uint32_t h = vprime_gem_create(fd, size);
		volatile uint8_t *p = vprime_gem_mmap(fd, h, size);

		p[0] = 0x5a;
		_exit(p[0] == 0x5a ? 0 : 1);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status) ? -1 : 0;
}

static void test_full_other_client(void)
{
	int v = vram_instance(), fa = vprime_open(v, VPRIME_NODE_RENDER);
	int fb = vprime_open(v, VPRIME_NODE_RENDER);
	uint32_t hs[2], h, placement = 0;
	int err, sig;

	/* Client A fills VRAM and holds every buffer with a device map. */
	fill_vram(fa, v, hs, 2);
	for (int i = 0; i < 2; i++)
		free(vprime_gem_map(fa, hs[i], NULL, NULL));

	/* Client B still gets storage: system memory is there. */
	sig = cpu_touch_in_child(v, 64 * 1024);
	h = vprime_gem_create(fb, 64 * 1024);
	err = vprime_gem_try_map(fb, h, NULL, NULL, &placement);
	vtest_info("another client: CPU fault -> %d (signal), device map -> %d (errno), "
		   "placement %u\n", sig, err, placement);
	vt_assert_f(sig == 0, "another client's CPU fault died of signal %d\n", sig);
	vt_assert_f(err == 0, "another client's map failed: %s\n", strerror(err));
	vt_assert_eq(placement, VPRIME_PLACEMENT_SYSTEM);
	vprime_gem_unmap(fb, h);

	gem_close(fb, h);
	for (int i = 0; i < 2; i++) {
		vprime_gem_unmap(fa, hs[i]);
		gem_close(fa, hs[i]);
	}
	close(fb);
	close(fa);
}

/* evict-wait-signal */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * A fence that stays pending for a while, put on the first @n of @hs
 * through their dma-bufs (returned in @dmabufs): a job on @fo that hangs
 * until the job timeout (@fo then on vprime_hang_instance()), or with !@hang a fill (which takes the time of the
 * instance's job_delay_ms). @other is the job's buffer. Returns the fence's
 * sync_file.
 */
static int busy_fence_on(int fd, int fo, const uint32_t *hs, int n, int *dmabufs,
			 uint32_t *other, bool hang)
{
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	struct vprime_job job;
	uint32_t bo;
	int fence;

	*other = vprime_gem_create(fo, 64 * 64 * 4);
	vprime_job_init(&job);
	bo = vprime_job_add_bo(&job, *other, VPRIME_SUBMIT_BO_WRITE, 64, 64, 64 * 4,
			       DRM_FORMAT_XRGB8888);
	if (hang)
		vprime_job_hang(&job);
	else
		vprime_job_fill(&job, bo, 0, 0, 64, 64, 0xff00ff00);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fo, &job);
	imp.fd = fence;
	for (int i = 0; i < n; i++) {
		dmabufs[i] = prime_export(fd, hs[i], DRM_CLOEXEC | DRM_RDWR);
		vt_assert_ok(ioctl(dmabufs[i], DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	}
	return fence;
}

/* Wait for the job (a hung one's timeout), then close what busy_fence_on() made. */
static void busy_fence_done(int fo, int fence, int *dmabufs, int n, uint32_t other)
{
	for (int i = 0; i < 500 && sync_file_status(fence) != 1; i++)
		usleep(10000);
	close(fence);
	for (int i = 0; i < n; i++)
		close(dmabufs[i]);
	gem_close(fo, other);
}

static void test_evict_wait_signal(void)
{
	int v = vram_instance(), o = vprime_hang_instance(1u << v);
	int fd = vprime_open(v, VPRIME_NODE_RENDER), fo = vprime_open(o, VPRIME_NODE_RENDER);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } }, off = { 0 };
	uint32_t hs[2], h, other, placement = 0;
	int dmabufs[2], fence, err;
	uint64_t size;

	/*
	 * Both buffers carry a fence that stays pending (a hung job
	 * elsewhere), so that the eviction waits: idle victims go first.
	 */
	size = fill_vram(fd, v, hs, 2);
	fence = busy_fence_on(fd, fo, hs, 2, dmabufs, &other, true);

	/* A harmless, restartable signal every 10 ms while the map evicts. */
	vt_assert_ok(sigaction(SIGALRM, &sa, NULL));
	h = vprime_gem_create(fd, size);
	vt_assert_ok(setitimer(ITIMER_REAL, &it, NULL));
	err = vprime_gem_try_map(fd, h, NULL, NULL, &placement);
	vt_assert_ok(setitimer(ITIMER_REAL, &off, NULL));
	vtest_info("map during the eviction wait: errno %d, placement %u, %d signals, "
		   "fence status %d\n", err, placement, (int)alarms, sync_file_status(fence));
	/* GEM_MAP is documented killable: -EINTR only on a fatal signal. */
	vt_assert_f(err != EINTR, "a non-fatal SA_RESTART signal made GEM_MAP fail with EINTR\n");

	if (!err)
		vprime_gem_unmap(fd, h);
	busy_fence_done(fo, fence, dmabufs, 2, other);
	gem_close(fd, h);
	gem_close(fd, hs[0]);
	gem_close(fd, hs[1]);
	close(fo);
	close(fd);
}

/* evict-idle-first */

static void test_evict_idle_first(void)
{
	int v = vram_instance(), slow = delayed_instance();
	int fd = vprime_open(v, VPRIME_NODE_RENDER), fo = vprime_open(slow, VPRIME_NODE_RENDER);
	uint32_t hs[2], h, other, placement = 0;
	int dmabuf, fence;
	bool pending;
	uint64_t size;

	vt_require(slow != v);
	/*
	 * The least recently used buffer is busy for a while (a slow job that
	 * ends well within map_wait_ms: waiting for it would evict it), the
	 * next one idle.
	 */
	size = fill_vram(fd, v, hs, 2);
	fence = busy_fence_on(fd, fo, hs, 1, &dmabuf, &other, false);
	pending = sync_file_status(fence) == 0;
	h = create_placed(fd, size, &placement);
	vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
	vtest_info("fence pending before the map: %d; placements %u %u\n", pending,
		   placement_of(fd, hs[0]), placement_of(fd, hs[1]));
	if (pending) {
		/* The idle one went, without waiting for the busy one. */
		vt_assert_eq(placement_of(fd, hs[0]), VPRIME_PLACEMENT_VRAM);
		vt_assert_eq(placement_of(fd, hs[1]), VPRIME_PLACEMENT_SYSTEM);
		check_pattern(fd, hs[1], size, 0x1001, "the evicted idle buffer");
	} else {
		vtest_info("the slow job ended before the map: the order is not checked\n");
	}

	busy_fence_done(fo, fence, &dmabuf, 1, other);
	gem_close(fd, h);
	gem_close(fd, hs[0]);
	gem_close(fd, hs[1]);
	close(fo);
	close(fd);
}

/* free-during-evict */

static void test_free_during_evict(void)
{
	int v = vram_instance(), o = vprime_hang_instance(1u << v);
	int fd = vprime_open(v, VPRIME_NODE_RENDER), fo = vprime_open(o, VPRIME_NODE_RENDER);
	int fb = vprime_open(v, VPRIME_NODE_RENDER);
	uint32_t hs[2], h, other, unrelated;
	int dmabufs[2], fence, status;
	bool before, after;
	uint64_t size;
	pid_t pid;

	/* Every victim is busy: the eviction waits for the hung job. */
	size = fill_vram(fd, v, hs, 2);
	unrelated = vprime_gem_create(fb, 64 * 1024);
	fence = busy_fence_on(fd, fo, hs, 2, dmabufs, &other, true);
	h = vprime_gem_create(fd, size);
	pid = fork();
	vt_assert_lte(0, pid);
	if (!pid)
		_exit(vprime_gem_try_map(fd, h, NULL, NULL, NULL));
	/* Give the child time to start waiting; nothing is asserted on it. */
	usleep(200000);

	/* Freeing another object on the instance does not wait for it. */
	before = sync_file_status(fence) == 0;
	gem_close(fb, unrelated);
	after = sync_file_status(fence) == 0;
	vtest_info("fence pending before the free: %d, after it: %d\n", before, after);
	vt_assert_f(!before || after, "freeing an object waited for another's eviction\n");

	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert(WIFEXITED(status));
	vtest_info("the evicting map: errno %d\n", WEXITSTATUS(status));
	/* In VRAM once the job timed out, or in system memory after map_wait_ms. */
	vt_assert_eq(WEXITSTATUS(status), 0);
	vtest_info("placements: new %u, victims %u %u\n", placement_of(fd, h),
		   placement_of(fd, hs[0]), placement_of(fd, hs[1]));
	check_pattern(fd, hs[0], size, 0x1000, "the first buffer");
	check_pattern(fd, hs[1], size, 0x1001, "the second buffer");

	busy_fence_done(fo, fence, dmabufs, 2, other);
	vprime_gem_unmap(fd, h);
	gem_close(fd, h);
	gem_close(fd, hs[0]);
	gem_close(fd, hs[1]);
	close(fb);
	close(fo);
	close(fd);
}

/* info-abi */

/* struct drm_vprime_gem_info as it was before VRAM: 64 bytes. */
struct old_gem_info {
	uint32_t handle, flags;
	uint64_t size, mmap_offset, num_pages;
	uint32_t state, num_attachments, num_mapped, pad, placement, pin_count;
	uint64_t migrations;
};

#define OLD_IOCTL_GEM_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_GEM_INFO, struct old_gem_info)

static void test_info_abi(void)
{
	int v = vram_instance(), fd = vprime_open(v, VPRIME_NODE_RENDER);
	struct drm_vprime_gem_info info;
	struct {
		struct old_gem_info old;
		uint8_t after[16];
	} buf;
	uint32_t h = create_placed(fd, SZ_1M, NULL);

	vt_assert_eq(sizeof(struct old_gem_info), 64);
	/* A caller built before the new fields gets the old ones, and no more. */
	memset(&buf, 0xa5, sizeof(buf));
	memset(&buf.old, 0, sizeof(buf.old));
	buf.old.handle = h;
	vt_assert_ok(drmIoctl(fd, OLD_IOCTL_GEM_INFO, &buf.old));
	vt_assert_eq(buf.old.placement, VPRIME_PLACEMENT_VRAM);
	vt_assert_eq(buf.old.size, SZ_1M);
	for (size_t i = 0; i < sizeof(buf.after); i++)
		vt_assert_eq(buf.after[i], 0xa5);

	/* The new padding must be 0. */
	info = (struct drm_vprime_gem_info){ .handle = h, .pad2 = 1 };
	vt_assert_errno(drmIoctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), EINVAL);
	info = (struct drm_vprime_gem_info){ .handle = h, .pad = 1 };
	vt_assert_errno(drmIoctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), EINVAL);
	info = (struct drm_vprime_gem_info){ .handle = h + 1000 };
	vt_assert_errno(drmIoctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info), ENOENT);

	/* A private mapping of VRAM is refused as any other's. */
	info = vprime_gem_info(fd, h);
	vt_assert(mmap(NULL, SZ_1M, PROT_READ, MAP_PRIVATE, fd, info.mmap_offset) == MAP_FAILED);
	gem_close(fd, h);
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("vram-placement", "The owner's first use places a buffer in VRAM, zeroed; one "
	      "larger than VRAM goes to system memory; closing it gives the VRAM back.",
	      test_vram_placement),
	VTEST("peer-import", "A peer (p2p) maps VRAM in place: no move, the owner's data, "
	      "counted as a peer mapping.", test_peer_import),
	VTEST("non-peer-import", "A non-peer importer's map moves the buffer to system "
	      "memory with its data; CPU mappings refault onto it; it does not move back.",
	      test_non_peer_import),
	VTEST("evict-lru", "With VRAM full, a new buffer evicts the least recently used "
	      "idle ones, in order, keeping their data and their CPU mappings.",
	      test_evict_lru),
	VTEST("evict-fences", "An exported buffer is evicted only after the fence it "
	      "carries has signalled.", test_evict_fences),
	VTEST("pinned-not-evicted", "A buffer on screen stays in VRAM; the next idle one "
	      "is evicted instead.", test_pinned_not_evicted),
	VTEST("full-fallback", "With VRAM full of mapped buffers a map places the buffer in "
	      "system memory and evicts nothing; once one is unmapped it is evicted for the "
	      "next buffer.", test_full_fallback),
	VTEST("full-other-client", "With VRAM full of one client's mapped buffers, another "
	      "client's buffers still get storage (system memory), by CPU fault and by map.",
	      test_full_other_client),
	VTEST("evict-wait-signal", "A map that evicts a fenced buffer is not failed with EINTR "
	      "by a non-fatal, restartable signal (GEM_MAP is killable only).",
	      test_evict_wait_signal),
	VTEST("evict-idle-first", "An idle buffer is evicted before a less recently used one "
	      "whose fence is pending.", test_evict_idle_first),
	VTEST("free-during-evict", "Freeing an object does not wait for another object's "
	      "eviction, which waits for a pending fence.", test_free_during_evict),
	VTEST("info-abi", "GEM_INFO answers a caller built before the VRAM fields and "
	      "rejects non-zero padding.", test_info_abi),
};

VTEST_MAIN("Device memory (VRAM): placement, peer-to-peer import, eviction.", tests)
