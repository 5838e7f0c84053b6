// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * What a hostile or unlucky client does to the buffer paths, each one a
 * defect an outside review or the VM found (docs/security.md lists them):
 * copy-on-write mmaps, mappings that outlive a handle across a move, maps
 * racing a close or an UNMAP, DMA addresses for the unprivileged, moves
 * that ignore fences or lose CPU writes, finished jobs that make an import
 * fail, memory nobody is charged for, and foreign memory a constrained
 * device cannot reach. Races are made deterministic: a debugfs counter or
 * userfaultfd says when the other side is inside the window.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#include "vgem_uapi.h"

#define SZ_64K		(64u << 10)
#define SZ_1M		(1u << 20)

static int need_instance(vprime_instance_match want, const char *what)
{
	return vprime_require_instance(want, 0, what);
}

/* Two distinct lenient instances (an exporter and an importer). */
static void two_lenient(int *a, int *b)
{
	*a = need_instance(vprime_is_lenient, "a lenient instance");
	*b = vprime_require_instance(vprime_is_lenient, 1u << *a, "two lenient instances");
}

static void param_write(const char *name, const char *value)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/sys/module/vprime/parameters/%s", name);
	fd = open(path, O_WRONLY);
	vt_assert_f(fd >= 0, "vprime has no writable parameter %s: %m\n", name);
	vt_assert_f(write(fd, value, strlen(value)) == (ssize_t)strlen(value),
		    "writing %s to %s: %m\n", value, name);
	close(fd);
}

static int gem_map_raw(int fd, uint32_t handle, void *segs, uint32_t num,
		       struct drm_vprime_gem_map *out)
{
	struct drm_vprime_gem_map m = {
		.handle = handle, .segments_ptr = (uintptr_t)segs, .num_segments = num,
	};
	int ret = ioctl(fd, DRM_IOCTL_VPRIME_GEM_MAP, &m) ? errno : 0;

	if (out)
		*out = m;
	return ret;
}

static int gem_unmap_raw(int fd, uint32_t handle)
{
	struct drm_vprime_gem_unmap u = { .handle = handle };

	return ioctl(fd, DRM_IOCTL_VPRIME_GEM_UNMAP, &u) ? errno : 0;
}

static uint64_t gem_offset(int fd, uint32_t handle)
{
	return vprime_gem_info(fd, handle).mmap_offset;
}

/* mmap must refuse a private mapping, at every protection. */
static void assert_no_private_mmap(int fd, uint64_t offset, size_t size, const char *what)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		void *p = mmap(NULL, size, prots[i], MAP_PRIVATE, fd, offset);

		/* Touching it on a kernel that took it BUG()s: never touch. */
		if (p != MAP_FAILED)
			munmap(p, size);
		vt_assert_f(p == MAP_FAILED && errno == EINVAL,
			    "MAP_PRIVATE mmap (prot %#x) of %s: %s\n", prots[i], what,
			    p == MAP_FAILED ? strerror(errno) : "accepted");
	}
}

static void test_mmap_private_gem(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_64K);
	uint32_t *p;

	assert_no_private_mmap(fd, gem_offset(fd, h), SZ_64K, "a GEM offset");
	/* A shared mapping still works, and sees its own writes. */
	p = vprime_gem_mmap(fd, h, SZ_64K);
	pattern_fill(p, SZ_64K, 7);
	pattern_check(p, SZ_64K, 7, "shared mapping");
	munmap(p, SZ_64K);
	gem_close(fd, h);
	close(fd);
}

static void test_mmap_private_dumb(void)
{
	int fd = vprime_open(0, VPRIME_NODE_CARD);
	struct drm_mode_create_dumb c = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_mode_map_dumb m = {};

	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	m.handle = c.handle;
	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m));
	assert_no_private_mmap(fd, m.offset, c.size, "a dumb buffer");
	gem_close(fd, c.handle);
	close(fd);
}

static void test_mmap_private_dmabuf(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_64K);
	int dmabuf = prime_export(fd, h, DRM_CLOEXEC | DRM_RDWR);

	assert_no_private_mmap(dmabuf, 0, SZ_64K, "a dma-buf fd");
	/* Nor once the exporter's handle is gone. */
	gem_close(fd, h);
	assert_no_private_mmap(dmabuf, 0, SZ_64K, "a dma-buf fd without handles");
	close(dmabuf);
	close(fd);
}

/* An importer's mmap forwards to the exporter's dma-buf mmap. */
static void test_mmap_private_import(void)
{
	int a, b, fa, fb, dmabuf;
	uint32_t h, imported;

	two_lenient(&a, &b);
	fa = vprime_open(a, VPRIME_NODE_RENDER);
	fb = vprime_open(b, VPRIME_NODE_RENDER);
	h = vprime_gem_create(fa, SZ_64K);
	dmabuf = prime_export(fa, h, DRM_CLOEXEC | DRM_RDWR);
	imported = prime_import(fb, dmabuf);
	assert_no_private_mmap(fb, gem_offset(fb, imported), SZ_64K, "an imported object");
	close(dmabuf);
	close(fa);
	close(fb);
}

/*
 * A dma-buf fd mapping, made after the exporter closed its last handle,
 * follows the storage when a 32-bit importer moves it: writes through the
 * old mapping land in the new pages, which the importer reads.
 */
static void test_dmabuf_mmap_follows_move(void)
{
	int lenient = need_instance(vprime_is_lenient, "a lenient instance");
	int low = need_instance(vprime_is_dma32, "a 32-bit instance");
	int fa = vprime_open(lenient, VPRIME_NODE_RENDER);
	int fl = vprime_open(low, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fa, SZ_64K), imported, placement;
	int dmabuf = prime_export(fa, h, DRM_CLOEXEC | DRM_RDWR);
	void *old, *view;

	/* The first map places the storage for the lenient device alone. */
	free(vprime_gem_map(fa, h, NULL, &placement));
	vt_assert_eq(placement, VPRIME_PLACEMENT_SYSTEM);
	vprime_gem_unmap(fa, h);
	gem_close(fa, h);

	old = mmap(NULL, SZ_64K, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	vt_assert_f(old != MAP_FAILED, "mmap of the dma-buf: %m\n");
	pattern_fill(old, SZ_64K, 1);

	imported = prime_import(fl, dmabuf);
	free(vprime_gem_map(fl, imported, NULL, &placement));
	vt_assert_eq(placement, VPRIME_PLACEMENT_DMA32);
	view = vprime_gem_mmap(fl, imported, SZ_64K);
	pattern_check(view, SZ_64K, 1, "the import after the move");

	pattern_fill(old, SZ_64K, 2);
	pattern_check(view, SZ_64K, 2, "the import, written through the old mapping");
	munmap(view, SZ_64K);
	munmap(old, SZ_64K);
	vprime_gem_unmap(fl, imported);
	close(dmabuf);
	close(fa);
	close(fl);
}

/* Segments of a map as root and, in a child that gave up root, as nobody. */
static void test_map_addresses_privileged(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_64K), n, i;
	struct drm_vprime_segment *segs;
	uint64_t total = 0;
	bool any = false;
	pid_t pid;
	int status;

	vt_require_f(geteuid() == 0, "needs root to compare with an unprivileged client\n");
	segs = vprime_gem_map(fd, h, &n, NULL);
	for (i = 0; i < n; i++)
		any |= segs[i].addr != 0;
	vt_assert_f(any, "root was given no DMA address\n");
	free(segs);
	vprime_gem_unmap(fd, h);

	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		int ok = setgid(65534) == 0 && setuid(65534) == 0;

		if (!ok)
			_exit(2);
		segs = vprime_gem_map(fd, h, &n, NULL);
		for (i = 0; i < n; i++) {
			if (segs[i].addr)
				_exit(3);
			total += segs[i].len;
		}
		_exit(n && total == SZ_64K ? 0 : 4);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "unprivileged map: status %#x (3: it was given DMA addresses)\n", status);
	gem_close(fd, h);
	close(fd);
}

/*
 * A storage move that must wait: an object of a lenient instance, mapped
 * there (so placed for it alone, and held), exported and imported into a
 * 32-bit instance, whose map must move the storage.
 */
struct move_setup {
	int exporter, low;		/* instance numbers */
	int fe, fl;			/* their render fds */
	uint32_t h, imported;
	int dmabuf;
};

static void move_setup(struct move_setup *s, uint32_t size)
{
	s->exporter = need_instance(vprime_is_lenient, "a lenient instance");
	s->low = need_instance(vprime_is_dma32, "a 32-bit instance");
	s->fe = vprime_open(s->exporter, VPRIME_NODE_RENDER);
	s->fl = vprime_open(s->low, VPRIME_NODE_RENDER);
	s->h = vprime_gem_create(s->fe, size);
	s->dmabuf = prime_export(s->fe, s->h, DRM_CLOEXEC | DRM_RDWR);
	free(vprime_gem_map(s->fe, s->h, NULL, NULL));	/* held: the move must wait */
	s->imported = prime_import(s->fl, s->dmabuf);
}

struct map_call {
	int fd;
	uint32_t handle;
	void *segs;
	uint32_t num;
	int result;
};

static void *map_thread(void *arg)
{
	struct map_call *c = arg;

	c->result = gem_map_raw(c->fd, c->handle, c->segs, c->num, NULL);
	return NULL;
}

/* Wait until vprime.@index has counted one more waiting map than @before. */
static void wait_for_waiter(int index, long before)
{
	int i;

	for (i = 0; i < 100000 && vprime_debugfs_counter(index, "waits") == before; i++)
		usleep(1000);
	vt_assert_f(vprime_debugfs_counter(index, "waits") > before, "the map never waited\n");
}

/*
 * GEM_MAP sleeps while the storage must move; the handle is closed
 * meanwhile. The map must not be left to a file that has no handle: it
 * fails with ENOENT and nothing stays mapped.
 */
static void test_map_vs_close(void)
{
	struct move_setup s;
	struct map_call c = {};
	pthread_t t;
	long waits, objects;

	move_setup(&s, SZ_64K);
	objects = vprime_object_count_settled(s.low);
	waits = vprime_debugfs_counter(s.exporter, "waits");
	c.fd = s.fl;
	c.handle = s.imported;
	vt_assert_eq(pthread_create(&t, NULL, map_thread, &c), 0);
	wait_for_waiter(s.exporter, waits);
	gem_close(s.fl, s.imported);
	vprime_gem_unmap(s.fe, s.h);		/* the map may go on now */
	vt_assert_eq(pthread_join(t, NULL), 0);
	vt_assert_f(c.result == ENOENT, "a map racing the handle's close: %s\n",
		    c.result ? strerror(c.result) : "succeeded");
	/* The import is gone with its handle: no map kept it. */
	vt_assert_eq(vprime_object_count(s.low), objects - 1);
	close(s.dmabuf);
	close(s.fe);
	close(s.fl);
}

/*
 * GEM_MAP copies the segments out unlocked, and undoes the map when that
 * copy faults. Another thread UNMAPs the map in that window (the copy is
 * held in a userfaultfd fault, which then fails): the undo must find the
 * map gone, not dereference it.
 */
static void test_map_efault_vs_unmap(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fd, SZ_64K);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {};
	struct uffd_msg msg;
	struct map_call c = {};
	struct pollfd pfd;
	pthread_t t;
	void *page;
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	vt_require_f(uffd >= 0, "no userfaultfd: %m\n");
	vt_assert_ok(ioctl(uffd, UFFDIO_API, &api));
	page = mmap(NULL, VT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vt_assert(page != MAP_FAILED);
	reg.range.start = (uintptr_t)page;
	reg.range.len = VT_PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	vt_assert_ok(ioctl(uffd, UFFDIO_REGISTER, &reg));

	c.fd = fd;
	c.handle = h;
	c.segs = page;
	c.num = 1;
	vt_assert_eq(pthread_create(&t, NULL, map_thread, &c), 0);
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	vt_assert_f(poll(&pfd, 1, 600000) == 1, "GEM_MAP never wrote its segments\n");
	vt_assert_eq(read(uffd, &msg, sizeof(msg)), (ssize_t)sizeof(msg));
	vt_assert_eq(msg.event, UFFD_EVENT_PAGEFAULT);

	/* The map is taken and its copy stalled: drop it from here. */
	vt_assert_eq(gem_unmap_raw(fd, h), 0);
	/* No page there any more: the stalled copy fails when woken. */
	vt_assert_ok(munmap(page, VT_PAGE));
	close(uffd);
	vt_assert_eq(pthread_join(t, NULL), 0);
	vt_assert_f(c.result == EFAULT, "GEM_MAP: %s\n", strerror(c.result));
	/* Nothing is left mapped: there is no map to drop. */
	vt_assert_eq(gem_unmap_raw(fd, h), EINVAL);
	gem_close(fd, h);
	close(fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A map that must wait, under a stream of signals with SA_RESTART: every
 * restart must not start a new wait, or it never returns. It must end
 * with ETIME once the other mapping stays. Run in a child, which a
 * watchdog kills if it never returns.
 */
static void test_map_wait_under_signals(void)
{
	struct move_setup s;
	pid_t pid;
	int status;
	double t0;

	move_setup(&s, SZ_64K);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
		struct itimerval it = { { 0, 2000 }, { 0, 2000 } };

		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		_exit(gem_map_raw(s.fl, s.imported, NULL, 0, NULL));
	}
	t0 = now();
	while (waitpid(pid, &status, WNOHANG) == 0 && now() - t0 < 120)
		usleep(10000);
	if (now() - t0 >= 120) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		vt_fail("Map under signals", "GEM_MAP did not return in 120 s\n");
	}
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == ETIME,
		    "GEM_MAP under signals: status %#x\n", status);
	close(s.dmabuf);
	close(s.fe);
	close(s.fl);
}

/* Submit a FILL of a @w x @h XRGB8888 buffer on @fd; returns its out-fence. */
static int fill_job(int fd, uint32_t h, uint32_t w, uint32_t height, uint32_t argb)
{
	struct vprime_job job;
	uint32_t bo;

	vprime_job_init(&job);
	bo = vprime_job_add_bo(&job, h, VPRIME_SUBMIT_BO_WRITE, w, height, w * 4,
			       DRM_FORMAT_XRGB8888);
	vprime_job_fill(&job, bo, 0, 0, w, height, argb);
	vprime_job_out_fence(&job);
	return vprime_job_submit(fd, &job);
}

static void wait_fence(int fence)
{
	vt_assert_f(fd_poll(fence, POLLIN, 600000) == POLLIN, "the job never completed\n");
	vt_assert_eq(sync_file_status(fence), 1);
}

/*
 * A job has finished (its fence signalled) but has not released its
 * buffers yet (job_cleanup_delay_ms holds that window open). Importing the
 * buffer into a 32-bit instance, and mapping it there, which moves the
 * storage, must succeed: a finished job never makes attach or map fail.
 */
static void test_import_after_finished_job(void)
{
	int lenient = need_instance(vprime_is_lenient, "a lenient instance");
	int low = need_instance(vprime_is_dma32, "a 32-bit instance");
	int fe = vprime_open(lenient, VPRIME_NODE_RENDER);
	int fl = vprime_open(low, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fe, 256 * 256 * 4), imported, placement, i;
	int fence, dmabuf, err;
	uint32_t *view;

	param_write("job_cleanup_delay_ms", "300");
	fence = fill_job(fe, h, 256, 256, 0xff336699);
	wait_fence(fence);
	dmabuf = prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
	err = drmPrimeFDToHandle(fl, dmabuf, &imported) ? errno : 0;
	if (!err)
		err = vprime_gem_try_map(fl, imported, NULL, NULL, &placement);
	param_write("job_cleanup_delay_ms", "0");
	vt_assert_f(!err, "import and map right after the job: %s\n", strerror(err));
	vt_assert_eq(placement, VPRIME_PLACEMENT_DMA32);
	view = vprime_gem_mmap(fl, imported, 256 * 256 * 4);
	for (i = 0; i < 256 * 256; i++)
		vt_assert_f(view[i] == 0xff336699, "pixel %u is %#x\n", i, view[i]);
	munmap(view, 256 * 256 * 4);
	close(fence);
	close(dmabuf);
	close(fe);
	close(fl);
}

/*
 * The vmaps of vprime.@index's objects of @size bytes, in debugfs (the
 * fbdev buffer, for one, stays vmapped).
 */
static long debugfs_vmaps_of_size(int index, uint64_t size)
{
	char devname[32], node[64], path[128], line[512];
	unsigned long long bo_size;
	long total = 0, n;
	FILE *f;

	snprintf(devname, sizeof(devname), "vprime.%d", index);
	vt_assert(vprime_node_path(devname, VPRIME_NODE_CARD, node, sizeof(node)));
	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%s/vprime_objects",
		 node + strlen("/dev/dri/card"));
	f = fopen(path, "r");
	vt_require_f(f, "cannot read %s (debugfs): %m\n", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "bo %*u size %llu", &bo_size) != 1 || bo_size != size)
			continue;
		vt_assert_f(strstr(line, " vmaps ") &&
			    sscanf(strstr(line, " vmaps "), " vmaps %ld", &n) == 1,
			    "no vmaps in %s", line);
		if (n)
			vtest_info("%s", line);
		total += n;
	}
	fclose(f);
	return total;
}

/*
 * WAIT_IDLE means no job uses the buffer any more, including the kernel
 * mapping a finished job keeps until its cleanup (job_cleanup_delay_ms
 * holds that window open far longer than the steps below take). Right
 * after it, nothing of the job may be left (no vmap in debugfs) and a
 * static importer that maps at import (vgem on 6.1 and 6.12), whose map
 * moves the storage below 4 GiB, must not get EBUSY.
 */
static void test_wait_idle_after_cleanup(void)
{
	int lenient = need_instance(vprime_is_lenient, "a lenient instance");
	int fe = vprime_open(lenient, VPRIME_NODE_RENDER);
	int vgem = vprime_open_other("vgem");
	/* 67 pages: a size no other object of this program has */
	uint32_t h = vprime_gem_create(fe, 67 * 4096), imported;
	int fence, dmabuf, err;

	param_write("job_cleanup_delay_ms", "3000");
	fence = fill_job(fe, h, 256, 256, 0xff336699);
	err = vprime_try_wait_idle(fe, h, 60ll * 1000 * 1000 * 1000);
	if (!err)
		vt_assert_f(debugfs_vmaps_of_size(lenient, 67 * 4096) == 0,
			    "a finished job still has its buffer vmapped after WAIT_IDLE\n");
	dmabuf = prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
	err = err ?: (drmPrimeFDToHandle(vgem, dmabuf, &imported) ? errno : 0);
	param_write("job_cleanup_delay_ms", "0");
	vt_assert_f(!err, "WAIT_IDLE, then vgem's import: %s\n", strerror(err));
	vt_assert_eq(sync_file_status(fence), 1);
	gem_close(vgem, imported);
	close(fence);
	close(dmabuf);
	close(vgem);
	close(fe);
}

/*
 * A poll (WAIT_IDLE with a zero timeout) looks at the fences only: once a
 * job's fence has signalled, the buffer is idle to it even while the job's
 * cleanup (held open by job_cleanup_delay_ms) is still to run.
 */
static void test_wait_idle_poll_after_fence(void)
{
	int lenient = need_instance(vprime_is_lenient, "a lenient instance");
	int fe = vprime_open(lenient, VPRIME_NODE_RENDER);
	uint32_t h = vprime_gem_create(fe, 256 * 256 * 4);
	int fence, err;

	param_write("job_cleanup_delay_ms", "3000");
	fence = fill_job(fe, h, 256, 256, 0xff336699);
	wait_fence(fence);
	err = vprime_try_wait_idle(fe, h, 0);
	param_write("job_cleanup_delay_ms", "0");
	vt_assert_f(!err, "WAIT_IDLE polled after the fence signalled: %s\n", strerror(err));
	close(fence);
	close(fe);
}

/* The first instance with VRAM; skips when there is none. */
static int vram_instance(void)
{
	for (int i = 0; i < vprime_num_devices(); i++)
		if (vprime_limits(i).vram_mb)
			return i;
	vtest_skip("needs an instance with VRAM (the parameter vram_mb)\n");
}

/*
 * A job fills a buffer in VRAM, and the client waits for the job's fence
 * only (not WAIT_IDLE): the job's cleanup, which drops its kernel mapping
 * of the buffer, is still to run (job_cleanup_delay_ms holds that window
 * open). vgem, a static importer that cannot reach VRAM, imports it: its
 * attach needs the storage moved out, which that mapping holds. The attach
 * waits for the cleanup (map_wait_ms is raised far beyond it for the test,
 * so that a loaded host cannot make the wait time out) and vgem's view is
 * the job's fill. Where the core maps a static attachment at attach (6.1,
 * 6.12), the import used to fail with EBUSY.
 */
static void test_static_import_after_fence(void)
{
	const uint32_t width = 256, height = 68, size = width * height * 4;	/* 17 pages */
	int idx = vram_instance();
	int fe = vprime_open(idx, VPRIME_NODE_RENDER);
	int vgem = vprime_open_other("vgem");
	uint32_t h = vprime_gem_create(fe, size), i;
	struct drm_prime_handle args = { .flags = 0 };
	struct drm_vprime_gem_info info;
	char wait_ms[32];
	int fence, dmabuf, err;
	uint32_t *view;
	long held;

	vt_assert(vprime_param("map_wait_ms", 0, wait_ms, sizeof(wait_ms)));
	param_write("map_wait_ms", "60000");
	param_write("job_cleanup_delay_ms", "2000");
	fence = fill_job(fe, h, width, height, 0xff336699);
	wait_fence(fence);
	held = debugfs_vmaps_of_size(idx, size);
	dmabuf = prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
	args.fd = dmabuf;
	err = ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args) ? errno : 0;
	param_write("job_cleanup_delay_ms", "0");
	param_write("map_wait_ms", wait_ms);
	vtest_info("%s\n", held ? "the import came while the job's cleanup was to run" :
		   "the job's cleanup had run before the import (a slow host): no wait");
	vt_assert_f(!err, "vgem's import after the job's fence: %s\n", strerror(err));
	info = vprime_gem_info(fe, h);
	vt_assert_eq(info.num_attachments, 1);
	/* vgem maps at import where the core does (6.1, 6.12): out of VRAM then. */
	if (info.num_mapped)
		vt_assert_f(info.placement != VPRIME_PLACEMENT_VRAM,
			    "vgem has the buffer mapped, in VRAM it cannot reach\n");
	vtest_info("vgem %s the buffer at import; placement %u\n",
		   info.num_mapped ? "mapped" : "did not map", info.placement);
	view = mmap(NULL, size, PROT_READ, MAP_SHARED, dmabuf, 0);
	vt_assert_f(view != MAP_FAILED, "mmap of the dma-buf: %m\n");
	for (i = 0; i < width * height; i++)
		vt_assert_f(view[i] == 0xff336699, "pixel %u is %#x\n", i, view[i]);
	munmap(view, size);
	gem_close(vgem, args.handle);
	close(fence);
	close(dmabuf);
	close(vgem);
	close(fe);
}

/* A write fence of vgem's that stays pending until vgem_fence_signal() (or 10 s). */
struct vgem_fence {
	int vgem;
	uint32_t handle, fence;
	int sync_file;
};

/* Put a pending vgem write fence on @dmabuf, as another device writing it. */
static void vgem_fence_on(struct vgem_fence *f, int vgem, int dmabuf)
{
	struct drm_mode_create_dumb c = { .width = 64, .height = 1, .bpp = 32 };
	struct drm_vgem_fence_attach a = { .flags = VGEM_FENCE_WRITE };
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	int vdmabuf;

	vt_assert_ok(ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	a.handle = c.handle;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &a));
	vdmabuf = prime_export(vgem, c.handle, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_eq(dmabuf_try_export_sync_file(vdmabuf, DMA_BUF_SYNC_WRITE, &f->sync_file), 0);
	close(vdmabuf);
	imp.fd = f->sync_file;
	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	f->vgem = vgem;
	f->handle = c.handle;
	f->fence = a.out_fence;
}

/* Skip when vgem's own timeout (10 s) signalled the fence: a host too slow for the test. */
static void vgem_fence_require_pending(const struct vgem_fence *f)
{
	if (sync_file_status(f->sync_file) < 0)
		vtest_skip("vgem's fence timed out (10 s) before the test was done with it\n");
}

static void vgem_fence_signal(struct vgem_fence *f)
{
	struct drm_vgem_fence_signal sig = { .fence = f->fence };

	if (ioctl(f->vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig))
		vgem_fence_require_pending(f);
	vt_assert_eq(sync_file_status(f->sync_file), 1);
	close(f->sync_file);
	gem_close(f->vgem, f->handle);
}

struct import_call {
	int fd, dmabuf;
	uint32_t handle;
	int result;
	atomic_bool done;
};

static void *import_thread(void *arg)
{
	struct import_call *c = arg;
	struct drm_prime_handle args = { .fd = c->dmabuf };

	c->result = ioctl(c->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args) ? errno : 0;
	c->handle = args.handle;
	atomic_store(&c->done, true);
	return NULL;
}

/*
 * Wait until vprime.@index has counted a waiter more than @before, or @c is
 * done; the import must have waited, unless @f timed out.
 */
static void wait_for_import_waiter(int index, long before, struct import_call *c,
				   const struct vgem_fence *f)
{
	while (vprime_debugfs_counter(index, "waits") == before && !atomic_load(&c->done))
		usleep(1000);
	if (vprime_debugfs_counter(index, "waits") == before)
		vgem_fence_require_pending(f);
	vt_assert_f(vprime_debugfs_counter(index, "waits") > before,
		    "the import never waited: it returned %s\n", strerror(c->result));
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * vgem's import of a buffer in VRAM waits while a fence (here vgem's own,
 * which only the test signals) keeps the storage from moving out. A signal
 * during that wait: without SA_RESTART the import fails with EINTR and
 * leaves no attachment behind; with SA_RESTART it restarts, waits again,
 * and succeeds once the fence signals, with the buffer's contents.
 */
static void test_static_import_wait_signals(void)
{
	int idx = vram_instance();
	int fe = vprime_open(idx, VPRIME_NODE_RENDER);
	int vgem = vprime_open_other("vgem");
	uint32_t h = vprime_gem_create(fe, SZ_64K);
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	struct import_call call = { .fd = vgem };
	struct vgem_fence f;
	long waits, attachments;
	int dmabuf;
	pthread_t t;
	void *p;

	p = vprime_gem_mmap(fe, h, SZ_64K);		/* the first touch places it in VRAM */
	pattern_fill(p, SZ_64K, 0x51a1);
	munmap(p, SZ_64K);
	vt_assert_eq(vprime_gem_info(fe, h).placement, VPRIME_PLACEMENT_VRAM);
	dmabuf = prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
	call.dmabuf = dmabuf;
	attachments = vprime_debugfs_counter(idx, "attachments");
	vt_assert_ok(sigaction(SIGUSR1, &sa, &old));

	/* No SA_RESTART: EINTR, and nothing attached. */
	vgem_fence_on(&f, vgem, dmabuf);
	waits = vprime_debugfs_counter(idx, "waits");
	vt_assert_eq(pthread_create(&t, NULL, import_thread, &call), 0);
	wait_for_import_waiter(idx, waits, &call, &f);
	vt_assert_eq(pthread_kill(t, SIGUSR1), 0);
	vt_assert_eq(pthread_join(t, NULL), 0);
	if (call.result != EINTR)
		vgem_fence_require_pending(&f);
	vt_assert_f(call.result == EINTR, "the interrupted import: %s\n",
		    call.result ? strerror(call.result) : "succeeded");
	vt_assert_eq(vprime_gem_info(fe, h).num_attachments, 0);
	vt_assert_eq(vprime_debugfs_counter(idx, "attachments"), attachments);
	vt_assert_eq(vprime_gem_info(fe, h).placement, VPRIME_PLACEMENT_VRAM);
	vgem_fence_signal(&f);

	/* SA_RESTART: the import restarts, waits again, and goes on after the fence. */
	sa.sa_flags = SA_RESTART;
	vt_assert_ok(sigaction(SIGUSR1, &sa, NULL));
	vgem_fence_on(&f, vgem, dmabuf);
	atomic_store(&call.done, false);
	waits = vprime_debugfs_counter(idx, "waits");
	vt_assert_eq(pthread_create(&t, NULL, import_thread, &call), 0);
	wait_for_import_waiter(idx, waits, &call, &f);
	waits = vprime_debugfs_counter(idx, "waits");
	vt_assert_eq(pthread_kill(t, SIGUSR1), 0);
	wait_for_import_waiter(idx, waits, &call, &f);
	if (atomic_load(&call.done))
		vgem_fence_require_pending(&f);
	vt_assert_f(!atomic_load(&call.done), "the restarted import did not wait: %s\n",
		    strerror(call.result));
	vgem_fence_signal(&f);
	vt_assert_eq(pthread_join(t, NULL), 0);
	vt_assert_f(call.result == 0, "the restarted import: %s\n", strerror(call.result));
	vt_assert_eq(vprime_gem_info(fe, h).num_attachments, 1);
	p = mmap(NULL, SZ_64K, PROT_READ, MAP_SHARED, dmabuf, 0);
	vt_assert_f(p != MAP_FAILED, "mmap of the dma-buf: %m\n");
	pattern_check(p, SZ_64K, 0x51a1, "the buffer vgem imported");
	munmap(p, SZ_64K);
	gem_close(vgem, call.handle);
	vt_assert_ok(sigaction(SIGUSR1, &old, NULL));
	close(dmabuf);
	close(vgem);
	close(fe);
	vt_assert_eq(vprime_debugfs_counter(idx, "attachments"), attachments);
}

/*
 * A buffer in VRAM, filled through the CPU with pattern @seed, exported: the
 * start of static-import-wait-gone and static-import-wait-deadline.
 */
static int vram_export(int fe, uint32_t seed, uint32_t *handle)
{
	uint32_t h = vprime_gem_create(fe, SZ_64K);
	void *p = vprime_gem_mmap(fe, h, SZ_64K);	/* the first touch places it in VRAM */

	pattern_fill(p, SZ_64K, seed);
	munmap(p, SZ_64K);
	vt_assert_eq(vprime_gem_info(fe, h).placement, VPRIME_PLACEMENT_VRAM);
	*handle = h;
	return prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
}

/* The contents of vgem's import @handle, through the dma-buf vgem exports again. */
static void vgem_import_check(int vgem, uint32_t handle, uint32_t seed, const char *what)
{
	int dmabuf = prime_export(vgem, handle, DRM_CLOEXEC | DRM_RDWR);
	void *p = mmap(NULL, SZ_64K, PROT_READ, MAP_SHARED, dmabuf, 0);

	vt_assert_f(p != MAP_FAILED, "mmap of the dma-buf: %m\n");
	pattern_check(p, SZ_64K, seed, what);
	munmap(p, SZ_64K);
	close(dmabuf);
}

/*
 * While vgem's import waits (a pending vgem fence keeps the buffer in
 * VRAM), the exporter lets go of everything: its DRM file, and so its
 * handle, and the dma-buf fd the import was given. The import holds the
 * dma-buf: it goes on waiting, succeeds once the fence signals, and sees
 * the buffer's contents; when vgem lets go, the attachment and the object
 * are gone (the instance's counts are back where they were).
 */
static void test_static_import_wait_gone(void)
{
	int idx = vram_instance();
	long objects = vprime_object_count_settled(idx);
	long attachments = vprime_debugfs_counter(idx, "attachments"), waits;
	int fe = vprime_open(idx, VPRIME_NODE_RENDER);
	int vgem = vprime_open_other("vgem");
	uint32_t h;
	int dmabuf = vram_export(fe, 0x90e5, &h);
	struct import_call call = { .fd = vgem, .dmabuf = dmabuf };
	struct vgem_fence f;
	pthread_t t;

	vgem_fence_on(&f, vgem, dmabuf);
	waits = vprime_debugfs_counter(idx, "waits");
	vt_assert_eq(pthread_create(&t, NULL, import_thread, &call), 0);
	wait_for_import_waiter(idx, waits, &call, &f);
	close(dmabuf);
	close(fe);
	vgem_fence_require_pending(&f);
	vt_assert_f(!atomic_load(&call.done), "the import returned while the fence was pending: "
		    "%s\n", strerror(call.result));
	vgem_fence_signal(&f);
	vt_assert_eq(pthread_join(t, NULL), 0);
	vt_assert_f(call.result == 0, "the import, its exporter gone: %s\n",
		    strerror(call.result));
	vt_assert_eq(vprime_debugfs_counter(idx, "attachments"), attachments + 1);
	vgem_import_check(vgem, call.handle, 0x90e5, "vgem's import, its exporter gone");
	gem_close(vgem, call.handle);
	close(vgem);
	vt_assert_eq(vprime_debugfs_counter(idx, "attachments"), attachments);
	vt_assert_eq(vprime_object_count_settled(idx), objects);
}

/*
 * A static importer's wait is bounded by map_wait_ms (lowered to 200 ms
 * here): a vgem fence that stays pending past it ends the wait. Where the
 * core maps at import (6.1, 6.12) the import then fails with EBUSY, not
 * EAGAIN (which libdrm retries in a busy loop), and leaves no attachment,
 * the buffer in VRAM with its contents; where it does not, the import
 * succeeds without a mapping. Once the fence signals, an import succeeds
 * and sees the contents. The waits are counted either way.
 */
static void test_static_import_wait_deadline(void)
{
	int idx = vram_instance();
	long attachments = vprime_debugfs_counter(idx, "attachments"), waits;
	int fe = vprime_open(idx, VPRIME_NODE_RENDER);
	int vgem = vprime_open_other("vgem");
	uint32_t h;
	int dmabuf = vram_export(fe, 0xdead1, &h);
	struct drm_prime_handle args = { .fd = dmabuf };
	struct vgem_fence f;
	char wait_ms[32];
	int err;

	vt_assert(vprime_param("map_wait_ms", 0, wait_ms, sizeof(wait_ms)));
	vgem_fence_on(&f, vgem, dmabuf);
	waits = vprime_debugfs_counter(idx, "waits");
	param_write("map_wait_ms", "200");
	err = ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args) ? errno : 0;
	param_write("map_wait_ms", wait_ms);
	vgem_fence_require_pending(&f);
	vt_assert_f(vprime_debugfs_counter(idx, "waits") > waits, "the import did not wait\n");
	vt_assert_f(err == 0 || err == EBUSY, "the import past map_wait_ms: %s\n", strerror(err));
	if (err) {
		struct drm_vprime_gem_info info;

		vt_assert_eq(vprime_debugfs_counter(idx, "attachments"), attachments);
		info = vprime_gem_info(fe, h);
		vt_assert_eq(info.num_attachments, 0);
		vt_assert_eq(info.placement, VPRIME_PLACEMENT_VRAM);
	} else {
		vtest_info("vgem imports without mapping here: the import went on unmapped\n");
		gem_close(vgem, args.handle);
	}
	vgem_fence_signal(&f);
	args.handle = 0;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args));
	vgem_import_check(vgem, args.handle, 0xdead1, "vgem's import after the fence");
	gem_close(vgem, args.handle);
	vt_assert_eq(vprime_debugfs_counter(idx, "attachments"), attachments);
	close(dmabuf);
	close(vgem);
	close(fe);
}

/*
 * A fence in the reservation object (here a job of another instance,
 * added with DMA_BUF_IOCTL_IMPORT_SYNC_FILE) may still be using the pages:
 * a move waits for it before it copies and frees them.
 */
static void test_move_waits_for_fences(void)
{
	int lenient = need_instance(vprime_is_lenient, "a lenient instance");
	int low = need_instance(vprime_is_dma32, "a 32-bit instance");
	int fe = vprime_open(lenient, VPRIME_NODE_RENDER);
	int fl = vprime_open(low, VPRIME_NODE_RENDER);
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	uint32_t h = vprime_gem_create(fe, SZ_64K), other, imported;
	int slow = -1, i, n = vprime_num_devices(), fs, fence, dmabuf;

	for (i = 0; i < n && slow < 0; i++)
		if (vprime_param_u64("job_delay_ms", i) >= 100)
			slow = i;
	vt_require_f(slow >= 0, "no vprime instance whose jobs are delayed (job_delay_ms)\n");
	fs = vprime_open(slow, VPRIME_NODE_RENDER);
	other = vprime_gem_create(fs, 64 * 64 * 4);

	free(vprime_gem_map(fe, h, NULL, NULL));	/* allocate the storage */
	vprime_gem_unmap(fe, h);
	dmabuf = prime_export(fe, h, DRM_CLOEXEC | DRM_RDWR);
	fence = fill_job(fs, other, 64, 64, 0xffffffff);
	imp.fd = fence;
	vt_assert_ok(ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	imported = prime_import(fl, dmabuf);
	free(vprime_gem_map(fl, imported, NULL, NULL));
	vt_assert_f(sync_file_status(fence) == 1,
		    "the storage moved while a fence on it was still pending\n");
	vprime_gem_unmap(fl, imported);
	close(fence);
	close(dmabuf);
	close(fs);
	close(fe);
	close(fl);
}

struct writer {
	uint32_t *map;
	uint32_t pages;
	uint32_t *last;		/* the last value written to each page */
	atomic_bool stop;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	uint32_t v = 0;

	while (!atomic_load(&w->stop)) {
		uint32_t page = v % w->pages;

		w->map[page * (VT_PAGE / 4)] = ++v;
		w->last[page] = v;
	}
	return NULL;
}

/*
 * A thread writes through a CPU mapping while the storage moves under it:
 * no write may be lost (a write after the copy and before the zap would
 * land in the old pages).
 */
static void test_move_keeps_cpu_writes(void)
{
	struct move_setup s;
	const uint32_t size = 16 * SZ_1M;
	struct writer w = { .pages = size / VT_PAGE };
	uint32_t *view, i;
	pthread_t t;

	move_setup(&s, size);
	vprime_gem_unmap(s.fe, s.h);
	w.map = vprime_gem_mmap(s.fe, s.h, size);
	w.last = calloc(w.pages, sizeof(*w.last));
	vt_assert(w.last);
	vt_assert_eq(pthread_create(&t, NULL, writer_thread, &w), 0);
	usleep(100000);
	/* The 32-bit side's map moves the storage to low memory. */
	free(vprime_gem_map(s.fl, s.imported, NULL, NULL));
	vprime_gem_unmap(s.fl, s.imported);
	atomic_store(&w.stop, true);
	vt_assert_eq(pthread_join(t, NULL), 0);
	view = vprime_gem_mmap(s.fl, s.imported, size);
	for (i = 0; i < w.pages; i++)
		vt_assert_f(view[i * (VT_PAGE / 4)] == w.last[i],
			    "page %u holds %u, the last write was %u\n", i,
			    view[i * (VT_PAGE / 4)], w.last[i]);
	vt_assert_lte(1, vprime_gem_info(s.fe, s.h).migrations);
	munmap(view, size);
	munmap(w.map, size);
	free(w.last);
	close(s.dmabuf);
	close(s.fe);
	close(s.fl);
}

/*
 * A static importer (vgem) whose import maps at once (6.1, 6.12; 7.2's
 * shmem helpers import without mapping), while the storage must move and
 * another device maps it, gets EBUSY, not EAGAIN, which libdrm's
 * drmIoctl() would retry in a busy loop.
 */
static void test_static_import_ebusy(void)
{
	struct move_setup s;
	struct drm_prime_handle args = { .flags = 0 };
	int vgem = vprime_open_other("vgem");
	int err;

	move_setup(&s, SZ_64K);
	args.fd = s.dmabuf;
	err = ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args) ? errno : 0;
	vt_assert_f(err == 0 || err == EBUSY, "vgem's import: %s\n", strerror(err));
	if (!err) {
		vtest_info("vgem imports without mapping here: no map to refuse\n");
		gem_close(vgem, args.handle);
	}
	vprime_gem_unmap(s.fe, s.h);
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args));
	close(vgem);
	close(s.dmabuf);
	close(s.fe);
	close(s.fl);
}

/* Sizes the contiguous instance can never place are refused at create. */
static void test_create_unplaceable(void)
{
	int idx = need_instance(vprime_is_contiguous, "a contiguous instance");
	int fd = vprime_open(idx, VPRIME_NODE_RENDER);
	int card = vprime_open(idx, VPRIME_NODE_CARD);
	struct drm_vprime_gem_create c = { .size = 64ull << 20 };
	struct drm_mode_create_dumb d = { .width = 8192, .height = 8192, .bpp = 32 };
	uint32_t h, placement;

	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c), EINVAL);
	vt_assert_errno(ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &d), EINVAL);
	/* What fits one block is still taken, and placed contiguously. */
	h = vprime_gem_create(fd, SZ_1M);
	free(vprime_gem_map(fd, h, NULL, &placement));
	vt_assert(placement == VPRIME_PLACEMENT_CONTIG ||
		  placement == VPRIME_PLACEMENT_CONTIG_DMA32);
	close(card);
	close(fd);
}

static sigjmp_buf touch_env;

static void on_sigbus(int sig)
{
	siglongjmp(touch_env, sig);
}

/* Whether touching @p raises SIGBUS. */
static bool touch_faults(volatile uint32_t *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool faulted;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(touch_env, 1)) {
		faulted = true;
	} else {
		*p = 1;
		faulted = false;
	}
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/*
 * mem_limit_mb bounds the storage of every instance's objects together:
 * set it to what they hold now (their fbdev buffers) plus 4 to 5 MiB.
 */
static void test_mem_limit(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	long held = 0;
	int i;
	struct drm_vprime_gem_create big = {};
	unsigned long limit_mb;
	char value[32];
	uint32_t a, b;
	uint32_t *pb;

	for (i = 0; i < vprime_num_devices(); i++)
		held += vprime_debugfs_counter(i, "storage");
	limit_mb = (held + SZ_1M - 1) / SZ_1M + 4;
	big.size = (limit_mb + 1) << 20;
	snprintf(value, sizeof(value), "%lu", limit_mb);
	param_write("mem_limit_mb", value);
	/* Larger than the limit: it could never be placed. */
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &big), EINVAL);
	a = vprime_gem_create(fd, 3u << 20);
	b = vprime_gem_create(fd, 3u << 20);
	free(vprime_gem_map(fd, a, NULL, NULL));
	vt_assert_eq(vprime_gem_try_map(fd, b, NULL, NULL, NULL), ENOSPC);
	pb = vprime_gem_mmap(fd, b, 3u << 20);
	vt_assert_f(touch_faults(pb), "a CPU fault past the limit got storage\n");
	gem_close(fd, a);
	vt_assert_eq(vprime_gem_try_map(fd, b, NULL, NULL, NULL), 0);
	vt_assert(!touch_faults(pb));
	param_write("mem_limit_mb", "0");
	munmap(pb, 3u << 20);
	close(fd);
}

/*
 * Empty objects cost little but each takes mmap offset space: one client
 * cannot take it all. Creating objects as large as allowed ends with
 * ENOSPC at the object-space cap (a quarter of the 1 TiB offset space),
 * and closing them gives the room back.
 */
static void test_object_space(void)
{
	int fd = vprime_open(0, VPRIME_NODE_RENDER);
	struct drm_vprime_gem_create c;
	const uint64_t cap = 256ull << 30;
	uint64_t size = 1ull << 30;
	long objects = vprime_object_count_settled(0);
	uint32_t *handles = calloc(4096, sizeof(*handles));
	unsigned int n = 0, i;
	int err = 0;

	vt_assert(handles);
	while (n < 4096) {
		c = (struct drm_vprime_gem_create){ .size = size };
		if (ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c)) {
			err = errno;
			break;
		}
		handles[n++] = c.handle;
	}
	vt_assert_f(err == ENOSPC, "after %u objects of 1 GiB: %s\n", n, strerror(err));
	vt_assert_f(n * size <= cap, "%u GiB of objects, past the %llu GiB cap\n", n,
		    (unsigned long long)(cap >> 30));
	for (i = 0; i < n; i++)
		gem_close(fd, handles[i]);
	vt_assert_eq(vprime_object_count(0), objects);
	gem_close(fd, vprime_gem_create(fd, size));
	free(handles);
	close(fd);
}

/* The cgroup v2 hierarchy, mounted when it is not; NULL without memcg. */
static const char *cgroup_root(void)
{
	static const char *root = "/sys/fs/cgroup";
	char path[256], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (access(path, R_OK))
		mount("cgroup2", root, "cgroup2", 0, NULL);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	line[0] = '\0';
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return strstr(line, "memory") ? root : NULL;
}

static void write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	vt_assert_f(fd >= 0, "open %s: %m\n", path);
	vt_assert_f(write(fd, value, strlen(value)) == (ssize_t)strlen(value),
		    "write %s to %s: %m\n", value, path);
	close(fd);
}

/* Make a memory cgroup limited to @bytes (no swap) in @group; skips without one. */
static void memcg_create(char *group, size_t len, const char *name, unsigned long bytes)
{
	const char *root = cgroup_root();
	char path[320], value[32];

	vt_require_f(root, "no cgroup v2 memory controller\n");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	write_file(path, "+memory");
	snprintf(group, len, "%s/vprime-%s-%d", root, name, getpid());
	vt_assert_f(!mkdir(group, 0755) || errno == EEXIST, "mkdir %s: %m\n", group);
	snprintf(path, sizeof(path), "%s/memory.max", group);
	snprintf(value, sizeof(value), "%lu", bytes);
	write_file(path, value);
	snprintf(path, sizeof(path), "%s/memory.swap.max", group);
	if (!access(path, W_OK))
		write_file(path, "0");
}

/* Move the calling process into @group. */
static void memcg_enter(const char *group)
{
	char path[320], pid_s[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", group);
	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	write_file(path, pid_s);
}

/*
 * Storage is charged to the memory cgroup of the client that makes it be
 * allocated: a client limited to 32 MiB cannot get 128 MiB of it, and gets
 * ENOMEM instead of the machine's memory.
 */
static void test_memcg_charged(void)
{
	char group[256];
	pid_t pid;
	int status;

	memcg_create(group, sizeof(group), "storage", 32u << 20);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		int fd = vprime_open(0, VPRIME_NODE_RENDER);
		uint32_t h = vprime_gem_create(fd, 128u << 20);

		memcg_enter(group);
		_exit(vprime_gem_try_map(fd, h, NULL, NULL, NULL));
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	rmdir(group);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == ENOMEM,
		    "128 MiB mapped in a 32 MiB cgroup: status %#x (exit %d)\n", status,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * Queued jobs are the client's memory too: a client in a 16 MiB cgroup
 * that queues jobs of 256 whole-surface fills faster than the engine runs
 * them gets ENOMEM from SUBMIT, or is killed by its cgroup's OOM killer,
 * before it has queued 48 MiB of them; nobody outside the cgroup pays.
 * The jobs it left queued are cancelled when it exits. (An instance with
 * no job delay: the few jobs already handed to its engine finish at once,
 * and the next test finds it idle.)
 */
static void test_jobs_charged(void)
{
	int idx = need_instance(vprime_is_lenient, "a lenient instance");
	char group[256];
	pid_t pid;
	int status;

	memcg_create(group, sizeof(group), "jobs", 16u << 20);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		int fd = vprime_open(idx, VPRIME_NODE_RENDER);
		uint32_t h = vprime_gem_create(fd, 64 * 64 * 4);
		static struct drm_vprime_cmd cmds[VPRIME_SUBMIT_MAX_CMDS];
		struct drm_vprime_submit_bo bo = {
			.handle = h, .flags = VPRIME_SUBMIT_BO_WRITE, .width = 64,
			.height = 64, .pitch = 256, .format = DRM_FORMAT_XRGB8888,
		};
		struct drm_vprime_submit args = {
			.bos_ptr = (uintptr_t)&bo, .num_bos = 1,
			.cmds_ptr = (uintptr_t)cmds, .num_cmds = VPRIME_SUBMIT_MAX_CMDS,
		};
		unsigned int k;
		int err = 0;

		for (k = 0; k < VPRIME_SUBMIT_MAX_CMDS; k++)
			cmds[k] = (struct drm_vprime_cmd){
				.op = VPRIME_CMD_FILL, .width = 64, .height = 64, .value = k,
			};
		memcg_enter(group);
		for (k = 0; k < 4096 && !err; k++)
			err = ioctl(fd, DRM_IOCTL_VPRIME_SUBMIT, &args) ? errno : 0;
		_exit(err == ENOMEM ? 0 : err ? err : 1);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	rmdir(group);
	/* Either SUBMIT failed, or the cgroup's OOM killer took the client. */
	vt_assert_f((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
		    "4096 jobs queued in a 16 MiB cgroup: status %#x (exit %d; 1: no ENOMEM)\n",
		    status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * A foreign buffer (vgem) imported into the 32-bit instance: the import
 * succeeds on every kernel, and a map either gives segments that respect
 * the device's limits or fails with ERANGE.
 */
static void test_foreign_import_limits(void)
{
	int low = need_instance(vprime_is_dma32, "a 32-bit instance");
	struct vprime_limits l = vprime_limits(low);
	int vgem = vprime_open_other("vgem");
	int fl = vprime_open(low, VPRIME_NODE_RENDER);
	struct drm_vprime_segment *segs;
	uint32_t pitch, h, imported, n, i;
	uint64_t size, total = 0;
	int dmabuf, err;
	void *map;

	h = dumb_create_mapped(vgem, 512, 512, &pitch, &size, &map);
	pattern_fill(map, size, 5);
	dmabuf = prime_export(vgem, h, DRM_CLOEXEC | DRM_RDWR);
	imported = prime_import(fl, dmabuf);
	err = vprime_gem_try_map(fl, imported, &segs, &n, NULL);
	vt_assert_f(!err || err == ERANGE, "GEM_MAP of a vgem buffer: %s\n", strerror(err));
	if (err) {
		vtest_info("the mapping did not suit the 32-bit device: ERANGE\n");
	} else {
		for (i = 0; i < n; i++) {
			uint64_t last = segs[i].addr + segs[i].len - 1;

			total += segs[i].len;
			vt_assert_f(last < (1ull << l.dma_bits), "segment %u ends at %#llx\n", i,
				    (unsigned long long)last);
			if (l.max_segment)
				vt_assert_lte(segs[i].len, l.max_segment);
			if (l.seg_boundary)
				vt_assert_eq(segs[i].addr / l.seg_boundary,
					     last / l.seg_boundary);
		}
		vt_assert_eq(total, size);
		free(segs);
		vprime_gem_unmap(fl, imported);
	}
	munmap(map, size);
	close(dmabuf);
	close(fl);
	close(vgem);
}

static const struct vtest tests[] = {
	VTEST("mmap-private-gem", "MAP_PRIVATE of a GEM offset is refused (EINVAL)",
	      test_mmap_private_gem),
	VTEST("mmap-private-dumb", "MAP_PRIVATE of a dumb buffer is refused (EINVAL)",
	      test_mmap_private_dumb),
	VTEST("mmap-private-dmabuf", "MAP_PRIVATE of a dma-buf fd is refused, with or without handles",
	      test_mmap_private_dmabuf),
	VTEST("mmap-private-import", "MAP_PRIVATE of an imported object is refused",
	      test_mmap_private_import),
	VTEST("dmabuf-mmap-follows-move",
	      "a dma-buf mapping made after the last handle closed follows a move",
	      test_dmabuf_mmap_follows_move),
	VTEST("map-addresses-privileged", "GEM_MAP gives DMA addresses to root only",
	      test_map_addresses_privileged),
	VTEST("map-vs-close", "a map racing its handle's close fails with ENOENT and leaves nothing",
	      test_map_vs_close),
	VTEST("map-efault-vs-unmap", "a map whose copy-out faults while it is unmapped elsewhere",
	      test_map_efault_vs_unmap),
	VTEST("map-wait-under-signals", "a waiting map times out under a stream of signals",
	      test_map_wait_under_signals),
	VTEST("import-after-finished-job", "a finished job never makes import or map fail",
	      test_import_after_finished_job),
	VTEST("wait-idle-after-cleanup", "WAIT_IDLE returns once finished jobs let go of the buffer",
	      test_wait_idle_after_cleanup),
	VTEST("wait-idle-poll-after-fence", "a WAIT_IDLE poll after the fence signalled is 0",
	      test_wait_idle_poll_after_fence),
	VTEST("static-import-after-fence",
	      "a static importer that moves the buffer, right after the job's fence, waits for "
	      "the job's cleanup and sees the job's data", test_static_import_after_fence),
	VTEST("static-import-wait-signals",
	      "a signal in a static importer's wait for fences: EINTR and nothing attached, "
	      "or a restart", test_static_import_wait_signals),
	VTEST("static-import-wait-gone",
	      "the exporter closes its file and dma-buf fd while vgem's import waits: the "
	      "import succeeds with the contents, and nothing is left once vgem lets go",
	      test_static_import_wait_gone),
	VTEST("static-import-wait-deadline",
	      "a static importer's wait ends at map_wait_ms: EBUSY and nothing attached, or "
	      "an unmapped import; after the fence, an import with the contents",
	      test_static_import_wait_deadline),
	VTEST("move-waits-for-fences", "a move waits for the fences of the reservation object",
	      test_move_waits_for_fences),
	VTEST("move-keeps-cpu-writes", "no CPU write is lost while the storage moves",
	      test_move_keeps_cpu_writes),
	VTEST("static-import-ebusy", "a static importer that cannot map now gets EBUSY, not EAGAIN",
	      test_static_import_ebusy),
	VTEST("create-unplaceable", "sizes a contiguous instance can never place are refused",
	      test_create_unplaceable),
	VTEST("mem-limit", "mem_limit_mb bounds an instance's storage (ENOSPC, SIGBUS)",
	      test_mem_limit),
	VTEST("object-space", "empty objects cannot exhaust the mmap offset space",
	      test_object_space),
	VTEST("memcg-charged", "storage is charged to the client's memory cgroup",
	      test_memcg_charged),
	VTEST("jobs-charged", "queued jobs are charged to the client's memory cgroup",
	      test_jobs_charged),
	VTEST("foreign-import-limits", "a foreign buffer in a 32-bit instance: limits or ERANGE",
	      test_foreign_import_limits),
};

VTEST_MAIN("vprime robustness against hostile and unlucky clients", tests)
