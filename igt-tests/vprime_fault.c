// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * The failure paths of every ioctl path, reached through vprime's named
 * fault-injection points (docs/testing.md, "Fault injection"). For each
 * path the sweep arms /sys/kernel/debug/vprime/fault/nth to fail the N-th
 * injection point this thread hits, for N = 1, 2, ... until the path
 * succeeds: each failure must come back with the errno of the failure it
 * stands for, and once what the path made is closed, the objects,
 * attachments, mappings, jobs, exported dma-bufs and pages of every
 * instance, and the system's dma-bufs, must be back where they were. The
 * first N that does not fail is the retry, whose data is checked. A point
 * a path should reach but did not fails the subtest.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_test.h"
#include "vtest.h"

#define FAULT_DIR	"/sys/kernel/debug/vprime/fault"
#define MAX_SWEEP	32
#define MAX_DEV		8
#define SZ_64K		(64u << 10)
#define FB_W		64
#define FB_H		64
#define MODE_W		1024
#define MODE_H		768
/* A first CPU touch that fails is SIGBUS, not an errno. */
#define ERR_SIGBUS	1000

static const char *const points[] = {
	"storage_alloc", "sgt_build", "dma_map", "migrate_copy", "fence_alloc",
	"job_alloc", "job_exec", "scanout_pin", "attach", "export", "vmap", "vram_alloc",
	"iova_alloc",
};
#define NUM_POINTS	ARRAY_SIZE(points)

/* The sweep */

static int nth_fd = -1;

struct nth_state {
	long hits;
	int failed;			/* index in points[], or -1 */
	long armed;			/* sweeps armed in the system */
	long point_hits[NUM_POINTS];
};

static void nth_open(void)
{
	nth_fd = open(FAULT_DIR "/nth", O_RDWR | O_CLOEXEC);
	vt_require_f(nth_fd >= 0, "no %s (debugfs, or a vprime without fault injection): %m\n",
		     FAULT_DIR "/nth");
}

static void nth_arm(long n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", n);

	vt_assert_f(write(nth_fd, buf, len) == len, "arming the sweep at %ld: %m\n", n);
}

static int point_index(const char *name)
{
	for (size_t i = 0; i < NUM_POINTS; i++)
		if (!strcmp(points[i], name))
			return i;
	return -1;
}

static void nth_read(struct nth_state *st)
{
	char buf[2048], *line, *save = NULL;
	ssize_t len = pread(nth_fd, buf, sizeof(buf) - 1, 0);

	vt_assert_f(len > 0, "reading the sweep: %m\n");
	buf[len] = '\0';
	memset(st, 0, sizeof(*st));
	st->failed = -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], value[64];
		int i;

		if (sscanf(line, "%63[^:]: %63s", name, value) != 2)
			continue;
		if (!strcmp(name, "hits")) {
			st->hits = atol(value);
		} else if (!strcmp(name, "armed")) {
			st->armed = atol(value);
		} else if (!strcmp(name, "failed")) {
			st->failed = point_index(value);
			vt_assert_f(st->failed >= 0 || !strcmp(value, "-"),
				    "the sweep failed an unknown point %s\n", value);
		} else {
			i = point_index(name);
			vt_assert_f(i >= 0, "the kernel has a point this test does not know: %s\n",
				    name);
			st->point_hits[i] = atol(value);
		}
	}
}

/* What every instance holds, and the system's dma-bufs */

static const char *const count_keys[] = {
	"objects", "attachments", "mappings", "jobs", "dmabufs", "pages", "iova_used",
};

struct counts {
	int ndev;
	long v[MAX_DEV][ARRAY_SIZE(count_keys)];
	long dmabufs;
};

static long header_value(const char *line, const char *key)
{
	char k[64];
	const char *at;
	long v;

	snprintf(k, sizeof(k), " %s: ", key);
	at = strstr(line, k);
	if (!at && !strncmp(line, k + 1, strlen(k + 1)))
		at = line - 1;
	vt_assert_f(at && sscanf(at + strlen(k), "%ld", &v) == 1,
		    "vprime_objects has no counter %s: %s", key, line);
	return v;
}

static long system_dmabufs(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[512];
	long n = -1;

	vt_require_f(f, "cannot read dma_buf/bufinfo: %m\n");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %ld objects", &n) == 1)
			break;
	fclose(f);
	vt_assert_f(n >= 0, "dma_buf/bufinfo has no total\n");
	return n;
}

static void counts_read(struct counts *c)
{
	char line[1024];

	memset(c, 0, sizeof(*c));
	c->ndev = vprime_num_devices();
	if (c->ndev > MAX_DEV)
		c->ndev = MAX_DEV;
	for (int d = 0; d < c->ndev; d++) {
		vprime_objects_header(d, line, sizeof(line));
		for (size_t k = 0; k < ARRAY_SIZE(count_keys); k++)
			c->v[d][k] = header_value(line, count_keys[k]);
	}
	c->dmabufs = system_dmabufs();
}

static bool counts_diff(const struct counts *a, const struct counts *b, char *msg, size_t len)
{
	size_t off = 0;

	msg[0] = '\0';
	for (int d = 0; d < a->ndev; d++)
		for (size_t k = 0; k < ARRAY_SIZE(count_keys); k++)
			if (a->v[d][k] != b->v[d][k] && off < len)
				off += snprintf(msg + off, len - off, " vprime.%d %s %ld, was %ld;",
						d, count_keys[k], b->v[d][k], a->v[d][k]);
	if (a->dmabufs != b->dmabufs && off < len)
		off += snprintf(msg + off, len - off, " dma-bufs %ld, was %ld;", b->dmabufs,
				a->dmabufs);
	return off;
}

/*
 * Everything must be back to @base. A finished job releases its buffers on
 * a workqueue after its fence: give that a bounded while (no timing is
 * asserted, only the end state).
 */
static void expect_baseline(const struct counts *base, const char *what, long n)
{
	struct counts now;
	char msg[1024];

	for (int i = 0; i < 1000; i++) {
		counts_read(&now);
		if (!counts_diff(base, &now, msg, sizeof(msg)))
			return;
		usleep(10000);
	}
	vt_fail("leak", "%s, hit %ld: not back to the baseline:%s\n", what, n, msg);
}

/*
 * Whether the kernel has WARNed since boot (taint flag W). A WARN in a
 * failure path is caught by the subtest that caused it, not only by the
 * harness's look at dmesg afterwards.
 */
#define TAINT_WARN	(1ul << 9)

static bool kernel_warned(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long t = 0;

	vt_assert_f(f, "/proc/sys/kernel/tainted: %m\n");
	vt_assert(fscanf(f, "%lu", &t) == 1);
	fclose(f);
	return t & TAINT_WARN;
}

/* Paths */

/*
 * One ioctl path. prepare() (optional) builds what the path starts from,
 * with the sweep disarmed; run() is the path, returning 0 or the first
 * error (an errno, ERR_SIGBUS, or a fence's error as a positive errno);
 * failed() (optional) checks the state a failure left, verify() the data
 * of the success; undo() closes what prepare() and run() made, however far
 * run() got.
 */
struct path {
	const char *name;
	void (*prepare)(void *ctx);
	int (*run)(void *ctx);
	void (*failed)(void *ctx, const char *point);
	void (*verify)(void *ctx);
	void (*undo)(void *ctx);
	const char *const *expect;	/* NULL-terminated: points it must hit */
	bool sigbus;			/* storage_alloc fails as SIGBUS */
};

static int expected_error(const struct path *p, int point)
{
	if (!strcmp(points[point], "job_exec"))
		return EIO;
	if (p->sigbus && !strcmp(points[point], "storage_alloc"))
		return ERR_SIGBUS;
	/* VRAM full of objects that cannot be evicted: system memory instead. */
	if (!strcmp(points[point], "vram_alloc"))
		return 0;
	return ENOMEM;
}

static const char *err_name(int err)
{
	return err == ERR_SIGBUS ? "SIGBUS" : strerror(err);
}

static void sweep(const struct path *p, void *ctx)
{
	struct counts base;
	struct nth_state st;
	char list[256] = "";
	bool warned = kernel_warned();
	long n;

	if (warned)
		vtest_info("%s: the kernel WARNed before: WARNs are not checked\n", p->name);
	counts_read(&base);
	for (n = 1; n <= MAX_SWEEP; n++) {
		int err;

		if (p->prepare)
			p->prepare(ctx);
		nth_arm(n);
		err = p->run(ctx);
		nth_read(&st);
		nth_arm(-1);
		if (st.failed < 0) {
			vt_assert_f(!err, "%s: no point failed at hit %ld, but the path failed: %s\n",
				    p->name, n, err_name(err));
			break;
		}
		vt_assert_f(err == expected_error(p, st.failed),
			    "%s: hit %ld failed %s, the path returned %s, not %s\n", p->name, n,
			    points[st.failed], err ? err_name(err) : "success",
			    err_name(expected_error(p, st.failed)));
		if (p->failed)
			p->failed(ctx, points[st.failed]);
		p->undo(ctx);
		expect_baseline(&base, p->name, n);
		vt_assert_f(warned || !kernel_warned(), "%s: the kernel WARNed when hit %ld, %s, "
			    "failed (see dmesg)\n", p->name, n, points[st.failed]);
	}
	vt_assert_f(n <= MAX_SWEEP, "%s still failed at hit %d\n", p->name, MAX_SWEEP);
	vt_assert_f(st.hits == n - 1, "%s: the retry hit %ld points, the sweep failed %ld\n",
		    p->name, st.hits, n - 1);
	p->verify(ctx);
	p->undo(ctx);
	expect_baseline(&base, p->name, n);

	for (const char *const *e = p->expect; *e; e++)
		vt_assert_f(st.point_hits[point_index(*e)] > 0, "%s never hit %s\n", p->name, *e);
	for (size_t i = 0; i < NUM_POINTS; i++) {
		size_t off = strlen(list);

		if (st.point_hits[i])
			snprintf(list + off, sizeof(list) - off, "%s%s x%ld", off ? ", " : "",
				 points[i], st.point_hits[i]);
	}
	vtest_info("%s: %ld injection points hit (%s)\n", p->name, st.hits, list);
}

static int ioctl_err(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg) ? errno : 0;
}

static int create(int fd, uint64_t size, uint32_t *handle)
{
	struct drm_vprime_gem_create c = { .size = size };
	int err = ioctl_err(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c);

	*handle = err ? 0 : c.handle;
	return err;
}

static void close_handle(int fd, uint32_t *handle)
{
	if (*handle)
		gem_close(fd, *handle);
	*handle = 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void unmap_mem(void **map, size_t size)
{
	if (*map)
		munmap(*map, size);
	*map = NULL;
}

/* The first CPU touch of a mapping, which may fail with SIGBUS. */

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

static int touch_fill(void *map, size_t size, uint32_t seed)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int err = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		err = ERR_SIGBUS;
	else
		pattern_fill(map, size, seed);
	sigaction(SIGBUS, &old, NULL);
	return err;
}

static void *map_handle(int fd, uint32_t handle, size_t size)
{
	return vprime_gem_mmap(fd, handle, size);
}

/* create: GEM_CREATE and the first CPU write through the mapping */

struct create_ctx {
	int fd;
	uint32_t h;
	void *map;
};

static int create_run(void *arg)
{
	struct create_ctx *c = arg;
	int err = create(c->fd, SZ_64K, &c->h);

	if (err)
		return err;
	c->map = map_handle(c->fd, c->h, SZ_64K);
	return touch_fill(c->map, SZ_64K, 0xc0de);
}

static void create_verify(void *arg)
{
	struct create_ctx *c = arg;

	pattern_check(c->map, SZ_64K, 0xc0de, "the new object");
	vt_assert_eq(vprime_gem_info(c->fd, c->h).num_pages, SZ_64K / VT_PAGE);
}

static void create_failed(void *arg, const char *point)
{
	struct create_ctx *c = arg;

	/* VRAM is preferred, not required: without it, system memory. */
	if (!strcmp(point, "vram_alloc")) {
		vt_assert_eq(vprime_gem_info(c->fd, c->h).placement, VPRIME_PLACEMENT_SYSTEM);
		return;
	}
	vt_assert_eq(vprime_gem_info(c->fd, c->h).num_pages, 0);
}

static void create_undo(void *arg)
{
	struct create_ctx *c = arg;

	unmap_mem(&c->map, SZ_64K);
	close_handle(c->fd, &c->h);
}

static void test_create(void)
{
	static const char *const expect[] = { "storage_alloc", NULL };
	const struct path p = {
		.name = "create", .run = create_run, .failed = create_failed,
		.verify = create_verify, .undo = create_undo, .expect = expect, .sigbus = true,
	};
	struct create_ctx c = { .fd = vprime_open(0, VPRIME_NODE_RENDER) };

	nth_open();
	sweep(&p, &c);
	close(c.fd);
}

/* The same on an instance with VRAM, where the first write places it there. */
static void test_create_vram(void)
{
	static const char *const expect[] = { "storage_alloc", "vram_alloc", NULL };
	const struct path p = {
		.name = "create-vram", .run = create_run, .failed = create_failed,
		.verify = create_verify, .undo = create_undo, .expect = expect, .sigbus = true,
	};
	struct create_ctx c = { .fd = -1 };

	for (int i = 0; i < vprime_num_devices() && c.fd < 0; i++)
		if (vprime_limits(i).vram_mb)
			c.fd = vprime_open(i, VPRIME_NODE_RENDER);
	vt_require_f(c.fd >= 0, "needs an instance with VRAM (the parameter vram_mb)\n");
	nth_open();
	sweep(&p, &c);
	close(c.fd);
}

/* evict-victim-enomem: a victim whose move fails is skipped, not fatal */

static uint32_t map_placed(int fd, uint32_t h)
{
	uint32_t placement = 0;

	vt_assert_eq(vprime_gem_try_map(fd, h, NULL, NULL, &placement), 0);
	vprime_gem_unmap(fd, h);
	return placement;
}

static void test_evict_victim_enomem(void)
{
	const int storage_alloc = point_index("storage_alloc");
	const int migrate_copy = point_index("migrate_copy");
	const int vram_alloc = point_index("vram_alloc");
	int v = -1, fd, checked = 0;
	struct nth_state st;
	long n;

	for (int i = 0; i < vprime_num_devices() && v < 0; i++)
		if (vprime_limits(i).vram_mb)
			v = i;
	vt_require_f(v >= 0, "needs an instance with VRAM (the parameter vram_mb)\n");
	fd = vprime_open(v, VPRIME_NODE_RENDER);
	nth_open();
	for (n = 1; n <= MAX_SWEEP; n++) {
		long room = vprime_debugfs_counter(v, "vram_size") -
			    vprime_debugfs_counter(v, "vram_used");
		uint64_t size = ((uint64_t)room / 2) & ~(uint64_t)(VT_PAGE - 1);
		uint32_t hs[2], h, placement = 0, p0, p1;
		bool in_victim;
		int err;

		/* VRAM full of two idle buffers, the first the least recently used. */
		vt_require_f(size >= 16 * VT_PAGE, "vprime.%d has only %ld bytes of VRAM free\n",
			     v, room);
		for (int i = 0; i < 2; i++) {
			hs[i] = vprime_gem_create(fd, size);
			vt_assert_eq(map_placed(fd, hs[i]), VPRIME_PLACEMENT_VRAM);
		}
		h = vprime_gem_create(fd, size);
		nth_arm(n);
		err = vprime_gem_try_map(fd, h, NULL, NULL, &placement);
		nth_read(&st);
		nth_arm(-1);
		/* The object's own storage comes before vram_alloc, a victim's after. */
		in_victim = (st.failed == storage_alloc || st.failed == migrate_copy) &&
			    st.point_hits[vram_alloc] > 0;
		if (in_victim) {
			vtest_info("hit %ld: %s failed in a victim's move: errno %d, placement %u\n",
				   n, points[st.failed], err, placement);
			vt_assert_f(!err, "a victim's failed move failed the map: %s\n",
				    strerror(err));
			vt_assert_eq(placement, VPRIME_PLACEMENT_VRAM);
			/* The other victim went instead. */
			p0 = vprime_gem_info(fd, hs[0]).placement;
			p1 = vprime_gem_info(fd, hs[1]).placement;
			vt_assert_f((p0 == VPRIME_PLACEMENT_VRAM && p1 == VPRIME_PLACEMENT_SYSTEM) ||
				    (p0 == VPRIME_PLACEMENT_SYSTEM && p1 == VPRIME_PLACEMENT_VRAM),
				    "victims in placements %u and %u\n", p0, p1);
			checked++;
		}
		if (!err)
			vprime_gem_unmap(fd, h);
		gem_close(fd, h);
		gem_close(fd, hs[0]);
		gem_close(fd, hs[1]);
		if (st.failed < 0)
			break;
	}
	vt_assert_f(checked > 0, "no hit failed in a victim's move\n");
	close(fd);
}

/* export: PRIME_HANDLE_TO_FD and a first CPU access through the dma-buf */

struct export_ctx {
	int fd, dmabuf;
	uint32_t h;
	void *map;
};

static int dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl_err(dmabuf, DMA_BUF_IOCTL_SYNC, &s);
}

static int export_run(void *arg)
{
	struct export_ctx *c = arg;
	struct drm_prime_handle ph = { .flags = DRM_CLOEXEC | DRM_RDWR };
	int err = create(c->fd, SZ_64K, &c->h);

	if (err)
		return err;
	ph.handle = c->h;
	err = ioctl_err(c->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph);
	if (err)
		return err;
	c->dmabuf = ph.fd;
	err = dmabuf_sync(c->dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	if (err)
		return err;
	c->map = mmap(NULL, SZ_64K, PROT_READ | PROT_WRITE, MAP_SHARED, c->dmabuf, 0);
	vt_assert_f(c->map != MAP_FAILED, "mmap of the dma-buf: %m\n");
	pattern_fill(c->map, SZ_64K, 0xe4);
	return dmabuf_sync(c->dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
}

static void export_failed(void *arg, const char *point)
{
	struct export_ctx *c = arg;
	struct drm_vprime_gem_info info = vprime_gem_info(c->fd, c->h);

	if (!strcmp(point, "export"))
		vt_assert_f(!(info.state & VPRIME_BO_STATE_EXPORTED),
			    "a failed export left the object exported\n");
	vt_assert_eq(info.num_pages, 0);
}

static void export_verify(void *arg)
{
	struct export_ctx *c = arg;
	void *view = map_handle(c->fd, c->h, SZ_64K);

	pattern_check(view, SZ_64K, 0xe4, "the object written through its dma-buf");
	munmap(view, SZ_64K);
}

static void export_undo(void *arg)
{
	struct export_ctx *c = arg;

	unmap_mem(&c->map, SZ_64K);
	close_fd(&c->dmabuf);
	close_handle(c->fd, &c->h);
}

static void test_export(void)
{
	static const char *const expect[] = { "export", "storage_alloc", NULL };
	const struct path p = {
		.name = "export", .run = export_run, .failed = export_failed,
		.verify = export_verify, .undo = export_undo, .expect = expect,
	};
	struct export_ctx c = { .fd = vprime_open(0, VPRIME_NODE_RENDER), .dmabuf = -1 };

	nth_open();
	sweep(&p, &c);
	close(c.fd);
}

/* import: PRIME_FD_TO_HANDLE of another instance's or vgem's buffer, and its map */

struct import_ctx {
	int fd, dmabuf;
	uint32_t h;
	bool mapped;
	size_t size;
	uint32_t seed;
};

static int import_run(void *arg)
{
	struct import_ctx *c = arg;
	struct drm_prime_handle ph = { .fd = c->dmabuf };
	int err = ioctl_err(c->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph);

	if (err)
		return err;
	c->h = ph.handle;
	err = vprime_gem_try_map(c->fd, c->h, NULL, NULL, NULL);
	c->mapped = !err;
	return err;
}

static void import_verify(void *arg)
{
	struct import_ctx *c = arg;
	void *view = map_handle(c->fd, c->h, c->size);

	vt_assert(vprime_gem_info(c->fd, c->h).state & VPRIME_BO_STATE_IMPORTED);
	pattern_check(view, c->size, c->seed, "the import");
	munmap(view, c->size);
}

static void import_undo(void *arg)
{
	struct import_ctx *c = arg;

	if (c->mapped)
		vprime_gem_unmap(c->fd, c->h);
	c->mapped = false;
	close_handle(c->fd, &c->h);
}

/* The instance behind an IOMMU, or -1 (the dynamic subtest then skips). */
static int iommu_index(void)
{
	for (int i = 0; i < vprime_num_devices(); i++)
		if (vprime_limits(i).iommu)
			return i;
	vtest_skip("needs an instance behind an IOMMU (the parameter iommu)\n");
}

/* @arg: NULL to import into vprime.0, else into the instance behind an IOMMU. */
static void import_from_vprime(void *arg)
{
	static const char *const expect[] = { "attach", "sgt_build", "dma_map", NULL };
	static const char *const expect_iommu[] = { "attach", "sgt_build", "iova_alloc", NULL };
	const struct path p = {
		.name = arg ? "import-vprime-iommu" : "import-vprime", .run = import_run,
		.verify = import_verify, .undo = import_undo,
		.expect = arg ? expect_iommu : expect,
	};
	int exp_fd = vprime_open(1, VPRIME_NODE_RENDER);
	struct import_ctx c = {
		.fd = vprime_open(arg ? iommu_index() : 0, VPRIME_NODE_RENDER),
		.size = SZ_64K, .seed = 0x1b,
	};
	uint32_t eh = vprime_gem_create(exp_fd, SZ_64K);
	void *map = map_handle(exp_fd, eh, SZ_64K);

	(void)arg;
	pattern_fill(map, SZ_64K, c.seed);
	c.dmabuf = prime_export(exp_fd, eh, DRM_CLOEXEC | DRM_RDWR);
	sweep(&p, &c);
	vt_assert_eq(vprime_gem_info(exp_fd, eh).num_attachments, 0);
	close(c.dmabuf);
	munmap(map, SZ_64K);
	gem_close(exp_fd, eh);
	close(exp_fd);
	close(c.fd);
}

static void import_from_vgem(void *arg)
{
	static const char *const expect[] = { "attach", NULL };
	static const char *const expect_iommu[] = { "attach", "iova_alloc", NULL };
	const struct path p = {
		.name = arg ? "import-vgem-iommu" : "import-vgem", .run = import_run,
		.verify = import_verify, .undo = import_undo,
		.expect = arg ? expect_iommu : expect,
	};
	int vgem = vprime_open_other("vgem");
	struct import_ctx c = {
		.fd = vprime_open(arg ? iommu_index() : 0, VPRIME_NODE_RENDER), .seed = 0x9e,
	};
	uint32_t pitch, vh;
	uint64_t size;
	void *map;

	(void)arg;
	vh = dumb_create_mapped(vgem, 128, 64, &pitch, &size, &map);
	c.size = size;
	pattern_fill(map, size, c.seed);
	c.dmabuf = prime_export(vgem, vh, DRM_CLOEXEC | DRM_RDWR);
	sweep(&p, &c);
	close(c.dmabuf);
	munmap(map, size);
	gem_close(vgem, vh);
	close(vgem);
	close(c.fd);
}

static void test_import(void)
{
	static int iommu = 1;

	nth_open();
	vtest_dynamic("vprime", import_from_vprime, NULL);
	vtest_dynamic("vgem", import_from_vgem, NULL);
	vtest_dynamic("vprime-iommu", import_from_vprime, &iommu);
	vtest_dynamic("vgem-iommu", import_from_vgem, &iommu);
}

/* map: DRM_IOCTL_VPRIME_GEM_MAP of a new object, and of one that must move */

struct map_ctx {
	int fd, dev_fd, dmabuf;
	uint32_t h, ih;
	void *map;
	bool mapped;
};

static int map_own_run(void *arg)
{
	struct map_ctx *c = arg;
	int err = create(c->fd, SZ_64K, &c->h);

	if (err)
		return err;
	err = vprime_gem_try_map(c->fd, c->h, NULL, NULL, NULL);
	c->mapped = !err;
	return err;
}

static void map_own_verify(void *arg)
{
	struct map_ctx *c = arg;
	struct drm_vprime_gem_info info = vprime_gem_info(c->fd, c->h);
	uint32_t *view = map_handle(c->fd, c->h, SZ_64K);

	vt_assert_eq(info.num_pages, SZ_64K / VT_PAGE);
	for (size_t i = 0; i < SZ_64K / 4; i++)
		vt_assert_f(!view[i], "word %zu of a new object is %#x\n", i, view[i]);
	munmap(view, SZ_64K);
}

static void map_undo(void *arg)
{
	struct map_ctx *c = arg;

	if (c->mapped)
		vprime_gem_unmap(c->ih ? c->dev_fd : c->fd, c->ih ?: c->h);
	c->mapped = false;
	if (c->ih)
		close_handle(c->dev_fd, &c->ih);
	close_fd(&c->dmabuf);
	unmap_mem(&c->map, 4 * VT_PAGE);
	close_handle(c->fd, &c->h);
}

static void map_own(void *arg)
{
	static const char *const expect[] = { "storage_alloc", "sgt_build", "dma_map", NULL };
	const struct path p = {
		.name = "map", .run = map_own_run, .verify = map_own_verify, .undo = map_undo,
		.expect = expect,
	};
	struct map_ctx c = { .fd = vprime_open(0, VPRIME_NODE_RENDER), .dmabuf = -1 };

	(void)arg;
	sweep(&p, &c);
	close(c.fd);
}

/* The same on a contiguous instance behind an IOMMU: IO addresses fail too. */
static void map_iommu(void *arg)
{
	static const char *const expect[] = { "storage_alloc", "sgt_build", "iova_alloc", NULL };
	const struct path p = {
		.name = "map-iommu", .run = map_own_run, .verify = map_own_verify,
		.undo = map_undo, .expect = expect,
	};
	struct map_ctx c = { .fd = -1, .dmabuf = -1 };

	(void)arg;
	for (int i = 0; i < vprime_num_devices() && c.fd < 0; i++)
		if (vprime_limits(i).iommu)
			c.fd = vprime_open(i, VPRIME_NODE_RENDER);
	vt_require_f(c.fd >= 0, "needs an instance behind an IOMMU (the parameter iommu)\n");
	sweep(&p, &c);
	close(c.fd);
}

/*
 * A lenient instance's object, written by the CPU, mapped by a contiguous
 * instance: the map moves it into one block, contents and all.
 */
static void map_move_prepare(void *arg)
{
	struct map_ctx *c = arg;

	c->h = vprime_gem_create(c->fd, 4 * VT_PAGE);
	c->map = map_handle(c->fd, c->h, 4 * VT_PAGE);
	pattern_fill(c->map, 4 * VT_PAGE, 0x3a);
	c->dmabuf = prime_export(c->fd, c->h, DRM_CLOEXEC | DRM_RDWR);
	c->ih = prime_import(c->dev_fd, c->dmabuf);
}

static int map_move_run(void *arg)
{
	struct map_ctx *c = arg;
	int err = vprime_gem_try_map(c->dev_fd, c->ih, NULL, NULL, NULL);

	c->mapped = !err;
	return err;
}

static void map_move_failed(void *arg, const char *point)
{
	struct map_ctx *c = arg;

	if (strcmp(point, "sgt_build") && strcmp(point, "dma_map"))
		vt_assert_eq(vprime_gem_info(c->fd, c->h).migrations, 0);
	pattern_check(c->map, 4 * VT_PAGE, 0x3a, "the object after a failed map");
}

static void map_move_verify(void *arg)
{
	struct map_ctx *c = arg;
	struct drm_vprime_gem_info info = vprime_gem_info(c->fd, c->h);

	vt_assert_eq(info.migrations, 1);
	vt_assert_f(info.placement == VPRIME_PLACEMENT_CONTIG ||
		    info.placement == VPRIME_PLACEMENT_CONTIG_DMA32,
		    "the moved object's placement is %u\n", info.placement);
	pattern_check(c->map, 4 * VT_PAGE, 0x3a, "the moved object");
}

static void map_move(void *arg)
{
	static const char *const expect[] = {
		"storage_alloc", "migrate_copy", "sgt_build", "dma_map", NULL,
	};
	const struct path p = {
		.name = "map-move", .prepare = map_move_prepare, .run = map_move_run,
		.failed = map_move_failed, .verify = map_move_verify, .undo = map_undo,
		.expect = expect,
	};
	int contig = vprime_require_instance(vprime_is_contiguous, 1u << 0,
					     "a contiguous instance");
	struct map_ctx c = {
		.fd = vprime_open(0, VPRIME_NODE_RENDER),
		.dev_fd = vprime_open(contig, VPRIME_NODE_RENDER), .dmabuf = -1,
	};

	(void)arg;
	sweep(&p, &c);
	close(c.dev_fd);
	close(c.fd);
}

static void test_map(void)
{
	nth_open();
	vtest_dynamic("own", map_own, NULL);
	vtest_dynamic("move", map_move, NULL);
	vtest_dynamic("iommu", map_iommu, NULL);
}

/* submit: a job with an in-syncobj, an out timeline point and a sync_file */

#define JOB_COLOR	0xff2a5c17u

struct submit_ctx {
	int fd, fence;
	uint32_t src, h, in, out;
	uint32_t *src_map;
};

/* A source the CPU wrote; the destination is new, allocated by the job. */
static void submit_prepare(void *arg)
{
	struct submit_ctx *c = arg;

	c->src = vprime_gem_create(c->fd, FB_W * FB_H * 4);
	c->src_map = map_handle(c->fd, c->src, FB_W * FB_H * 4);
	pattern_fill(c->src_map, FB_W * FB_H * 4, 0x5eb);
	vt_assert_eq(drmSyncobjCreate(c->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &c->in), 0);
	vt_assert_eq(drmSyncobjCreate(c->fd, 0, &c->out), 0);
}

static int submit_run(void *arg)
{
	struct submit_ctx *c = arg;
	struct drm_vprime_submit args;
	struct vprime_job job;
	uint32_t s, d;
	int err = create(c->fd, FB_W * FB_H * 4, &c->h);

	if (err)
		return err;
	vprime_job_init(&job);
	s = vprime_job_add_bo(&job, c->src, VPRIME_SUBMIT_BO_READ, FB_W, FB_H, FB_W * 4,
			      DRM_FORMAT_XRGB8888);
	d = vprime_job_add_bo(&job, c->h, VPRIME_SUBMIT_BO_WRITE, FB_W, FB_H, FB_W * 4,
			      DRM_FORMAT_XRGB8888);
	vprime_job_copy(&job, s, 0, 0, d, 0, 0, FB_W, FB_H / 2);
	vprime_job_fill(&job, d, 0, FB_H / 2, FB_W, FB_H / 2, JOB_COLOR);
	vprime_job_in_syncobj(&job, c->in, 0);
	vprime_job_out_syncobj(&job, c->out, 1);
	vprime_job_out_fence(&job);
	args = vprime_job_args(&job);
	err = vprime_try_submit(c->fd, &args);
	if (err)
		return err;
	c->fence = args.out_fence_fd;
	vt_assert_f(fd_poll(c->fence, POLLIN, 600000) == POLLIN, "the job never completed\n");
	err = sync_file_status(c->fence);
	return err < 0 ? -err : 0;
}

static void submit_failed(void *arg, const char *point)
{
	struct submit_ctx *c = arg;
	uint64_t value = 0;
	uint32_t *view;

	if (strcmp(point, "job_exec")) {
		/* Refused: no fence went anywhere. */
		vt_assert_eq(c->fence, -1);
		vt_assert_eq(drmSyncobjQuery(c->fd, &c->out, &value, 1), 0);
		vt_assert_eq(value, 0);
		return;
	}
	/* Executed with an error: nothing written. */
	view = map_handle(c->fd, c->h, FB_W * FB_H * 4);
	for (int i = 0; i < FB_W * FB_H; i++)
		vt_assert_f(!view[i], "pixel %d of a failed job is %#x\n", i, view[i]);
	munmap(view, FB_W * FB_H * 4);
}

static void submit_verify(void *arg)
{
	struct submit_ctx *c = arg;
	uint64_t value = 0;
	uint32_t *view = map_handle(c->fd, c->h, FB_W * FB_H * 4);

	for (int i = 0; i < FB_W * FB_H; i++) {
		uint32_t want = i < FB_W * FB_H / 2 ? c->src_map[i] : JOB_COLOR;

		vt_assert_f((view[i] & 0xffffff) == (want & 0xffffff),
			    "pixel %d is %#x, not %#x\n", i, view[i], want);
	}
	munmap(view, FB_W * FB_H * 4);
	vt_assert_eq(drmSyncobjQuery(c->fd, &c->out, &value, 1), 0);
	vt_assert_eq(value, 1);
}

static void submit_undo(void *arg)
{
	struct submit_ctx *c = arg;

	close_fd(&c->fence);
	if (c->in)
		drmSyncobjDestroy(c->fd, c->in);
	if (c->out)
		drmSyncobjDestroy(c->fd, c->out);
	c->in = c->out = 0;
	close_handle(c->fd, &c->h);
	unmap_mem((void **)&c->src_map, FB_W * FB_H * 4);
	close_handle(c->fd, &c->src);
}

static void test_submit(void)
{
	static const char *const expect[] = {
		"job_alloc", "storage_alloc", "vmap", "fence_alloc", "job_exec", NULL,
	};
	const struct path p = {
		.name = "submit", .prepare = submit_prepare, .run = submit_run,
		.failed = submit_failed, .verify = submit_verify, .undo = submit_undo,
		.expect = expect,
	};
	struct submit_ctx c = { .fd = vprime_open(0, VPRIME_NODE_RENDER), .fence = -1 };

	nth_open();
	sweep(&p, &c);
	close(c.fd);
}

/* atomic commits: an imported framebuffer on a plane; a writeback job */

struct kms_ctx {
	int card, exp_fd, dmabuf;
	struct kms_output out;
	uint32_t local_fb, local_h;
	void *local_map;
	uint64_t local_size;
	/* the imported framebuffer */
	uint32_t eh, ih, fb;
	void *emap;
	bool shown;
	/* the writeback target */
	uint32_t wb_h, wb_fb, wb_pitch;
	uint64_t wb_size;
	int wb_fence;
};

static struct kms_plane_setup plane_setup(uint32_t fb)
{
	struct kms_plane_setup s = {
		.type = KMS_PLANE_PRIMARY, .fb_id = fb, .x = 0, .y = 0, .w = FB_W, .h = FB_H,
	};

	return s;
}

/* Light an output (and its writeback connector) with a local framebuffer. */
static void kms_setup(struct kms_ctx *c)
{
	struct kms_plane_setup s;
	drmModeAtomicReq *req;
	uint32_t pitch, blob;
	int ret;

	c->card = vprime_open(0, VPRIME_NODE_CARD);
	c->exp_fd = vprime_open(1, VPRIME_NODE_RENDER);
	c->dmabuf = c->wb_fence = -1;
	vt_require_f(kms_find_outputs(c->card, MODE_W, MODE_H, &c->out, 1) == 1,
		     "no output with a %ux%u mode\n", MODE_W, MODE_H);
	vt_require_f(c->out.writeback, "no writeback connector\n");
	c->local_h = dumb_create_mapped(c->card, FB_W, FB_H, &pitch, &c->local_size,
					&c->local_map);
	memset(c->local_map, 0x40, c->local_size);
	c->local_fb = kms_add_fb_xrgb8888(c->card, c->local_h, FB_W, FB_H, pitch);
	s = plane_setup(c->local_fb);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	kms_req_modeset(req, c->card, &c->out, true, &blob);
	kms_req_planes(req, c->card, &c->out, &s, 1);
	ret = drmModeAtomicCommit(c->card, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
	vt_assert_f(!ret, "lighting the output: %s\n", strerror(-ret));
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(c->card, blob);
}

static void kms_teardown(struct kms_ctx *c)
{
	kms_output_off(c->card, &c->out);
	vt_assert_eq(drmModeRmFB(c->card, c->local_fb), 0);
	munmap(c->local_map, c->local_size);
	gem_close(c->card, c->local_h);
	close(c->exp_fd);
	close(c->card);
}

/* Sweep @p over a KMS context of its own, set up and torn down around it. */
static void kms_sweep(const struct path *p)
{
	struct kms_ctx c = {};

	nth_open();
	kms_setup(&c);
	sweep(p, &c);
	kms_teardown(&c);
}

/* Another instance's buffer, with a pattern, as a framebuffer of this one. */
static void import_fb_prepare(void *arg)
{
	struct kms_ctx *c = arg;

	c->eh = vprime_gem_create(c->exp_fd, FB_W * FB_H * 4);
	c->emap = map_handle(c->exp_fd, c->eh, FB_W * FB_H * 4);
	pattern_fill(c->emap, FB_W * FB_H * 4, 0x5ca1);
	c->dmabuf = prime_export(c->exp_fd, c->eh, DRM_CLOEXEC | DRM_RDWR);
	c->ih = prime_import(c->card, c->dmabuf);
	c->fb = kms_add_fb_xrgb8888(c->card, c->ih, FB_W, FB_H, FB_W * 4);
}

static void import_fb_undo(void *arg)
{
	struct kms_ctx *c = arg;
	struct kms_plane_setup s = plane_setup(c->local_fb);

	if (c->shown)
		kms_output_planes(c->card, &c->out, &s, 1);
	c->shown = false;
	vt_assert_eq(drmModeRmFB(c->card, c->fb), 0);
	close_handle(c->card, &c->ih);
	close_fd(&c->dmabuf);
	unmap_mem(&c->emap, FB_W * FB_H * 4);
	close_handle(c->exp_fd, &c->eh);
}

static int atomic_run(void *arg)
{
	struct kms_ctx *c = arg;
	struct kms_plane_setup s = plane_setup(c->fb);
	int ret = kms_output_try_planes(c->card, &c->out, &s, 1, 0);

	c->shown = !ret;
	return -ret;
}

static void atomic_failed(void *arg, const char *point)
{
	struct kms_ctx *c = arg;

	(void)point;
	vt_assert_eq(vprime_gem_info(c->exp_fd, c->eh).pin_count, 0);
}

static void atomic_verify(void *arg)
{
	struct kms_ctx *c = arg;

	vt_assert_eq(vprime_gem_info(c->exp_fd, c->eh).pin_count, 1);
	pattern_check(c->emap, FB_W * FB_H * 4, 0x5ca1, "the shown framebuffer");
}

static void test_atomic_import(void)
{
	static const char *const expect[] = { "scanout_pin", "vmap", NULL };
	const struct path p = {
		.name = "atomic-import", .prepare = import_fb_prepare, .run = atomic_run,
		.failed = atomic_failed, .verify = atomic_verify, .undo = import_fb_undo,
		.expect = expect,
	};

	kms_sweep(&p);
}

/*
 * Whether one page-flip event came on @fd within @ms; more than one at once,
 * or another kind, fails.
 */
static bool flip_event(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[1024];
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return false;
	n = read(fd, buf, sizeof(buf));
	vt_assert_f(n == (ssize_t)sizeof(struct drm_event_vblank),
		    "read %zd bytes of events, not one page-flip event\n", n);
	vt_assert_eq(((struct drm_event *)buf)->type, DRM_EVENT_FLIP_COMPLETE);
	return true;
}

/* A nonblocking flip with an event: applied in its ioctl, nothing being on the way. */
static int flip_run(void *arg)
{
	struct kms_ctx *c = arg;
	struct kms_plane_setup s = plane_setup(c->fb);
	int ret = kms_output_try_planes(c->card, &c->out, &s, 1,
					DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT);

	c->shown = !ret;
	if (!ret)
		vt_assert_f(flip_event(c->card, 10000), "the flip's event did not come\n");
	return -ret;
}

static void flip_failed(void *arg, const char *point)
{
	struct kms_ctx *c = arg;

	atomic_failed(arg, point);
	vt_assert_f(!flip_event(c->card, 100), "a flip that failed at %s sent its event\n",
		    point);
}

static void flip_verify(void *arg)
{
	struct kms_ctx *c = arg;

	atomic_verify(arg);
	vt_assert_f(!flip_event(c->card, 100), "the flip sent a second event\n");
}

/*
 * flip-import: atomic-import as a nonblocking flip with an event, the kind
 * its ioctl applies: a failed one sends no event and pins nothing, the one
 * that goes through sends exactly one.
 */
static void test_flip_import(void)
{
	static const char *const expect[] = { "scanout_pin", "vmap", NULL };
	const struct path p = {
		.name = "flip-import", .prepare = import_fb_prepare, .run = flip_run,
		.failed = flip_failed, .verify = flip_verify, .undo = import_fb_undo,
		.expect = expect,
	};

	kms_sweep(&p);
}

/* The imported framebuffer shown; a new buffer as the writeback target. */
static void writeback_prepare(void *arg)
{
	struct kms_ctx *c = arg;
	struct drm_mode_create_dumb d = { .width = MODE_W, .height = MODE_H, .bpp = 32 };
	struct kms_plane_setup s;

	import_fb_prepare(c);
	s = plane_setup(c->fb);
	kms_output_planes(c->card, &c->out, &s, 1);
	c->shown = true;
	vt_assert_ok(ioctl(c->card, DRM_IOCTL_MODE_CREATE_DUMB, &d));
	c->wb_h = d.handle;
	c->wb_pitch = d.pitch;
	c->wb_size = d.size;
	c->wb_fb = kms_add_fb_xrgb8888(c->card, c->wb_h, MODE_W, MODE_H, d.pitch);
}

static int writeback_run(void *arg)
{
	struct kms_ctx *c = arg;
	struct kms_plane_setup s = plane_setup(c->fb);
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int32_t fence = -1;
	int ret;

	vt_assert(req);
	kms_req_planes(req, c->card, &c->out, &s, 1);
	kms_req_writeback_job(req, c->card, &c->out, c->wb_fb, &fence);
	ret = drmModeAtomicCommit(c->card, req, 0, NULL);
	drmModeAtomicFree(req);
	if (ret)
		return -ret;
	c->wb_fence = fence;
	vt_assert_f(fence >= 0, "no writeback out-fence\n");
	vt_assert_f(fd_poll(fence, POLLIN, 600000) == POLLIN, "the writeback never completed\n");
	ret = sync_file_status(fence);
	return ret < 0 ? -ret : 0;
}

static void writeback_failed(void *arg, const char *point)
{
	struct kms_ctx *c = arg;

	(void)point;
	vt_assert_eq(c->wb_fence, -1);
	/* The frame before stays: the buffer is still shown, pinned once. */
	vt_assert_eq(vprime_gem_info(c->exp_fd, c->eh).pin_count, 1);
}

static void writeback_verify(void *arg)
{
	struct kms_ctx *c = arg;
	struct drm_mode_map_dumb m = { .handle = c->wb_h };
	const uint32_t *src = c->emap;
	uint32_t *cap;

	vt_assert_ok(ioctl(c->card, DRM_IOCTL_MODE_MAP_DUMB, &m));
	cap = mmap(NULL, c->wb_size, PROT_READ, MAP_SHARED, c->card, m.offset);
	vt_assert(cap != MAP_FAILED);
	for (int y = 0; y < FB_H; y++)
		for (int x = 0; x < FB_W; x++) {
			uint32_t got = cap[y * c->wb_pitch / 4 + x], want = src[y * FB_W + x];

			vt_assert_f((got & 0xffffff) == (want & 0xffffff),
				    "written back (%d, %d) is %#x, shown %#x\n", x, y, got, want);
		}
	munmap(cap, c->wb_size);
}

static void writeback_undo(void *arg)
{
	struct kms_ctx *c = arg;

	close_fd(&c->wb_fence);
	import_fb_undo(c);
	if (c->wb_fb)
		vt_assert_eq(drmModeRmFB(c->card, c->wb_fb), 0);
	c->wb_fb = 0;
	close_handle(c->card, &c->wb_h);
}

static void test_writeback(void)
{
	static const char *const expect[] = { "scanout_pin", "storage_alloc", "vmap", NULL };
	const struct path p = {
		.name = "writeback", .prepare = writeback_prepare, .run = writeback_run,
		.failed = writeback_failed, .verify = writeback_verify, .undo = writeback_undo,
		.expect = expect,
	};

	kms_sweep(&p);
}

/* A random burst through the fault_attr files */

static const char *const burst_points[] = {
	"storage_alloc", "sgt_build", "dma_map", "fence_alloc", "job_alloc", "job_exec",
	"attach", "export", "vmap",
};
#define BURST_TIMES	8

static void attr_write(const char *point, const char *file, long value)
{
	char path[256], buf[32];
	int fd, len;

	snprintf(path, sizeof(path), FAULT_DIR "/%s/%s", point, file);
	fd = open(path, O_WRONLY);
	vt_require_f(fd >= 0, "no %s: %m\n", path);
	len = snprintf(buf, sizeof(buf), "%ld\n", value);
	vt_assert_f(write(fd, buf, len) == len, "writing %ld to %s: %m\n", value, path);
	close(fd);
}

static long attr_read(const char *point, const char *file)
{
	char path[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), FAULT_DIR "/%s/%s", point, file);
	f = fopen(path, "r");
	vt_assert_f(f, "no %s: %m\n", path);
	vt_assert_f(fscanf(f, "%ld", &v) == 1, "%s unreadable\n", path);
	fclose(f);
	return v;
}

static void burst_set(long probability)
{
	for (size_t i = 0; i < ARRAY_SIZE(burst_points); i++) {
		attr_write(burst_points[i], "probability", 0);
		attr_write(burst_points[i], "interval", 1);
		attr_write(burst_points[i], "verbose", 1);
		attr_write(burst_points[i], "times", BURST_TIMES);
		attr_write(burst_points[i], "probability", probability);
	}
}

/* Every step may fail; everything is closed again. */
static void burst_round(int fd, int other)
{
	struct drm_prime_handle ph = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_vprime_submit args;
	struct vprime_job job;
	uint32_t h = 0, ih = 0;
	int fence = -1;

	if (create(fd, SZ_64K, &h))
		return;
	vprime_job_init(&job);
	vprime_job_fill(&job, vprime_job_add_bo(&job, h, VPRIME_SUBMIT_BO_WRITE, 64, 64, 256,
						DRM_FORMAT_XRGB8888), 0, 0, 64, 64, 0xff0000ff);
	vprime_job_out_fence(&job);
	args = vprime_job_args(&job);
	if (!vprime_try_submit(fd, &args)) {
		fence = args.out_fence_fd;
		vt_assert(fd_poll(fence, POLLIN, 600000) == POLLIN);
		close(fence);
	}
	if (!vprime_gem_try_map(fd, h, NULL, NULL, NULL))
		vprime_gem_unmap(fd, h);
	ph.handle = h;
	if (!ioctl_err(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph)) {
		struct drm_prime_handle imp = { .fd = ph.fd };

		if (!ioctl_err(other, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp)) {
			ih = imp.handle;
			if (!vprime_gem_try_map(other, ih, NULL, NULL, NULL))
				vprime_gem_unmap(other, ih);
			gem_close(other, ih);
		}
		close(ph.fd);
	}
	gem_close(fd, h);
}

static void test_random_burst(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER), other = vprime_open(1, VPRIME_NODE_RENDER);
	struct counts base;
	long fired = 0;
	pid_t pid;
	int status;

	counts_read(&base);
	burst_set(0);
	burst_set(25);
	pid = fork();
	vt_assert(pid >= 0);
	if (!pid) {
		for (int i = 0; i < 40; i++)
			burst_round(fd, other);
		_exit(0);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	for (size_t i = 0; i < ARRAY_SIZE(burst_points); i++) {
		attr_write(burst_points[i], "probability", 0);
		fired += BURST_TIMES - attr_read(burst_points[i], "times");
		attr_write(burst_points[i], "times", 1);
	}
	vt_assert_f(WIFEXITED(status) && !WEXITSTATUS(status),
		    "the burst's process ended with status %#x\n", status);
	expect_baseline(&base, "random-burst", 0);
	vtest_info("random-burst: %ld injected failures\n", fired);
	vt_assert_f(fired > 0, "no point failed in the burst\n");
	close(other);
	close(fd);
}

/* The sweep is the arming thread's alone */

/* A new object mapped for the device: storage_alloc, sgt_build, dma_map. */
static int map_new(int fd)
{
	uint32_t h;
	int err = create(fd, SZ_64K, &h);

	if (err)
		return err;
	err = vprime_gem_try_map(fd, h, NULL, NULL, NULL);
	if (!err)
		vprime_gem_unmap(fd, h);
	gem_close(fd, h);
	return err;
}

static void *map_new_thread(void *arg)
{
	return (void *)(intptr_t)map_new(*(int *)arg);
}

static void test_nth_isolation(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	struct nth_state st;
	pthread_t thread;
	void *ret;
	pid_t pid;
	int status;

	nth_open();
	nth_arm(1);
	/* Another thread of this process, and another process, do not fail. */
	vt_assert_eq(pthread_create(&thread, NULL, map_new_thread, &fd), 0);
	vt_assert_eq(pthread_join(thread, &ret), 0);
	vt_assert_f(!ret, "another thread's map failed: %s\n", strerror((intptr_t)ret));
	pid = fork();
	vt_assert(pid >= 0);
	if (!pid)
		_exit(map_new(fd));
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && !WEXITSTATUS(status),
		    "another process's map failed: status %#x\n", status);
	nth_read(&st);
	vt_assert_eq(st.hits, 0);
	vt_assert_eq(st.armed, 1);
	/* This thread does. */
	vt_assert_eq(map_new(fd), ENOMEM);
	nth_read(&st);
	vt_assert_eq(st.hits, 1);
	vt_assert_f(st.failed == point_index("storage_alloc"), "failed point %d\n", st.failed);
	nth_arm(-1);
	vt_assert_eq(map_new(fd), 0);

	/* A process that armed a sweep and exited leaves nothing armed. */
	pid = fork();
	vt_assert(pid >= 0);
	if (!pid) {
		close(nth_fd);
		nth_open();
		nth_arm(1);
		_exit(map_new(fd) == ENOMEM ? 0 : 1);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && !WEXITSTATUS(status), "the child's sweep: %#x\n",
		    status);
	nth_read(&st);
	vt_assert_eq(st.armed, 0);
	for (int i = 0; i < 4; i++)
		vt_assert_eq(map_new(fd), 0);
	close(fd);
}

/* The delays: set through debugfs, a frame still comes out right */

static void delay_write(const char *name, unsigned int value)
{
	char path[128], buf[32];
	int fd, len;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vprime/delay/%s", name);
	fd = open(path, O_WRONLY);
	vt_require_f(fd >= 0, "no %s: %m\n", path);
	len = snprintf(buf, sizeof(buf), "%u\n", value);
	vt_assert_f(write(fd, buf, len) == len, "writing %s: %m\n", path);
	close(fd);
}

static void test_delays(void)
{
	struct kms_ctx c = {};
	char param[32];
	pid_t pid;
	int status;

	/* job_cleanup_ms is the module parameter job_cleanup_delay_ms. */
	delay_write("job_cleanup_ms", 7);
	vt_assert(vprime_param("job_cleanup_delay_ms", 0, param, sizeof(param)));
	delay_write("job_cleanup_ms", 0);
	vt_assert_f(!strcmp(param, "7"), "job_cleanup_delay_ms is %s\n", param);

	kms_setup(&c);
	pid = fork();
	vt_assert(pid >= 0);
	if (!pid) {
		delay_write("compose_ms", 30);
		delay_write("vblank_us", 2000);
		writeback_prepare(&c);
		vt_assert_eq(writeback_run(&c), 0);
		writeback_verify(&c);
		writeback_undo(&c);
		_exit(0);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	delay_write("compose_ms", 0);
	delay_write("vblank_us", 0);
	vt_assert_f(WIFEXITED(status) && !WEXITSTATUS(status),
		    "a writeback with compose and vblank delays: status %#x\n", status);
	kms_teardown(&c);
}

static const struct vtest tests[] = {
	VTEST("create", "GEM_CREATE and the first write: each failure is SIGBUS, nothing leaks",
	      test_create),
	VTEST("create-vram", "GEM_CREATE and the first write on an instance with VRAM: each "
	      "failure is SIGBUS, nothing leaks", test_create_vram),
	VTEST("evict-victim-enomem", "A victim whose move fails for want of memory is "
	      "skipped: the next one is evicted and the map succeeds in VRAM.",
	      test_evict_victim_enomem),
	VTEST("export", "PRIME export and the first CPU access through the dma-buf", test_export),
	VTEST("import", "PRIME import from another instance and from vgem, and its map",
	      test_import),
	VTEST("map", "GEM_MAP of a new object, and of one a contiguous instance moves",
	      test_map),
	VTEST("submit", "SUBMIT with an in-syncobj, an out timeline point and a sync_file",
	      test_submit),
	VTEST("atomic-import", "An atomic commit that shows another instance's buffer",
	      test_atomic_import),
	VTEST("flip-import", "A nonblocking flip with an event to another instance's buffer "
	      "(applied in its ioctl): no event when it fails, exactly one when it does not",
	      test_flip_import),
	VTEST("writeback", "An atomic commit with a writeback job of an imported framebuffer",
	      test_writeback),
	VTEST("random-burst", "Random failures through the fault_attr files: nothing leaks",
	      test_random_burst),
	VTEST("nth-isolation", "A sweep fails only the thread that armed it, and ends with it",
	      test_nth_isolation),
	VTEST("delays", "The compose and vblank delays slow a writeback but keep it right; "
	      "job_cleanup_ms is the module parameter", test_delays),
};

VTEST_MAIN("vprime's failure paths, through its fault-injection points", tests)
