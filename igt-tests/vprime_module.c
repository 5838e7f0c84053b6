// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vtest.h"
#include "vprime_test.h"

#define MAX_MINORS 64

/* The DRM minors whose parent device is a vprime instance, sorted. */
struct minors {
	int count;
	char names[MAX_MINORS][32];
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void vprime_minors(struct minors *m)
{
	struct dirent *de;
	DIR *dir = opendir("/sys/class/drm");

	vt_assert(dir);
	m->count = 0;
	while ((de = readdir(dir))) {
		char link[300], target[256];
		ssize_t n;

		snprintf(link, sizeof(link), "/sys/class/drm/%s/device", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0 || strchr(de->d_name, '-'))
			continue;
		target[n] = '\0';
		if (!strstr(target, "/vprime."))
			continue;
		vt_assert(m->count < MAX_MINORS);
		snprintf(m->names[m->count++], sizeof(m->names[0]), "%.31s", de->d_name);
	}
	closedir(dir);
	qsort(m->names, m->count, sizeof(m->names[0]), cmp_names);
}

/* Devices named vprime.* anywhere on the buses a bus-less device lives on. */
static int stale_bus_devices(void)
{
	static const char * const buses[] = {
		"/sys/bus/platform/devices", "/sys/bus/faux/devices",
	};
	int count = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(buses); i++) {
		DIR *dir = opendir(buses[i]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir)))
			if (!strncmp(de->d_name, "vprime.", 7)) {
				vtest_info("stale device %s/%s\n", buses[i], de->d_name);
				count++;
			}
		closedir(dir);
	}
	return count;
}

static const char *module_path(void)
{
	const char *ko = getenv("VM_KO_vprime");

	vt_require_f(ko && access(ko, R_OK) == 0,
		      "VM_KO_vprime does not name vprime.ko (run through ./vprime-test)\n");
	return ko;
}

static void assert_same_minors(const struct minors *a, const struct minors *b)
{
	vt_assert_eq(a->count, b->count);
	for (int i = 0; i < a->count; i++)
		vt_assert_f(!strcmp(a->names[i], b->names[i]),
			     "minor %d was %s, now %s: a device was not freed\n",
			     i, a->names[i], b->names[i]);
}

/*
 * Unload and reload the module a few times. The same minors come back each
 * time: the DRM core hands out the lowest free minor, so a device that was
 * not freed would push the new ones up.
 */
static void reload_cycles(int cycles)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	struct minors before, now;
	char params[512];
	struct stat st;

	vprime_loaded_params(params, sizeof(params));
	vprime_minors(&before);
	vt_assert_eq(before.count, 2 * num_devices);

	for (int c = 0; c < cycles; c++) {
		vt_assert_eq(vprime_unload(), 0);
		vt_assert_f(stat("/sys/module/vprime", &st) && errno == ENOENT,
			     "/sys/module/vprime still exists after unload\n");
		vprime_minors(&now);
		vt_assert_f(now.count == 0, "%d vprime minors left after unload\n", now.count);
		vt_assert_eq(stale_bus_devices(), 0);

		vprime_load(ko, params);
		vprime_minors(&now);
		assert_same_minors(&before, &now);
		vprime_assert_devices_answer(num_devices);
	}
}

static void test_reload(void)
{
	reload_cycles(3);
}

static void test_unload_while_open(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	int fd = vprime_open(num_devices - 1, VPRIME_NODE_CARD);
	char name[32], params[512];

	vprime_loaded_params(params, sizeof(params));
	vt_assert_eq(vprime_unload(), -EAGAIN);
	vprime_driver_name(fd, name, sizeof(name));
	vt_assert_f(!strcmp(name, "vprime"), "answers '%s'\n", name);
	close(fd);
	vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
}

/* @params ("name=value ...") with @name's value replaced by @value. */
static void set_param(char *params, size_t len, const char *name, const char *value)
{
	char out[512], key[64];
	char *at, *end;

	snprintf(key, sizeof(key), "%s=", name);
	at = strstr(params, key);
	vt_assert_f(at, "no %s in '%s'\n", name, params);
	end = at + strcspn(at, " ");
	vt_assert((size_t)snprintf(out, sizeof(out), "%.*s%s%s%s", (int)(at - params), params,
				   key, value, end) < sizeof(out));
	vt_assert(strlen(out) < len);
	strcpy(params, out);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Unload the module from a child and wait for it for at most @timeout_ms:
 * returns the unload's result, or fails when it did not return (a child
 * stuck in delete_module cannot be killed; it is left behind).
 */
static int unload_bounded(int timeout_ms)
{
	double end = now() + timeout_ms / 1000.0;
	int status;
	pid_t pid, r;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0)
		_exit(-vprime_unload() & 0xff);
	while (!(r = waitpid(pid, &status, WNOHANG)) && now() < end)
		usleep(10 * 1000);
	vt_assert_f(r == pid, "unloading the module did not return within %d ms\n", timeout_ms);
	vt_assert_f(WIFEXITED(status), "the unloading child ended with status %#x\n", status);
	return -WEXITSTATUS(status);
}

/* A 64 x 32 XRGB8888 buffer on @fd, added to @job for writing: its index. */
static uint32_t small_bo(int fd, struct vprime_job *job)
{
	uint32_t handle = vprime_gem_create(fd, 64 * 32 * 4);

	return vprime_job_add_bo(job, handle, VPRIME_SUBMIT_BO_WRITE, 64, 32, 64 * 4,
				 DRM_FORMAT_XRGB8888);
}

/* A one-rectangle FILL job on @fd completes within @ms and succeeds. */
static void assert_fill_job_runs(int fd, int ms)
{
	struct vprime_job job;
	int fence;

	vprime_job_init(&job);
	vprime_job_fill(&job, small_bo(fd, &job), 0, 0, 64, 32, 0x80808080u);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fd, &job);
	vt_assert_f(fd_poll(fence, POLLIN, ms) == POLLIN, "a job did not complete in %d ms\n",
		    ms);
	vt_assert_eq(sync_file_status(fence), 1);
	close(fence);
}

/*
 * In a child process that then exits without waiting: on instance @hang
 * (vprime_hang_instance()), two hung jobs from one file and, from another,
 * a job of 16 FILLs of a 64 MiB surface; on instance @slow (if any), jobs
 * delayed by job_delay_ms.
 */
static void submit_jobs_and_exit(int hang, int slow)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		int fd = vprime_open(hang, VPRIME_NODE_RENDER);
		int fd2 = vprime_open(hang, VPRIME_NODE_RENDER);
		struct vprime_job job;
		uint32_t big, dst;

		for (int i = 0; i < 2; i++) {
			vprime_job_init(&job);
			small_bo(fd, &job);
			vprime_job_hang(&job);
			vprime_job_submit(fd, &job);
		}
		vprime_job_init(&job);
		big = vprime_gem_create(fd2, 4096ull * 4096 * 4);
		dst = vprime_job_add_bo(&job, big, VPRIME_SUBMIT_BO_WRITE, 4096, 4096, 4096 * 4,
					DRM_FORMAT_XRGB8888);
		for (int i = 0; i < VPRIME_JOB_MAX_CMDS; i++)
			vprime_job_fill(&job, dst, 0, 0, 4096, 4096, 0x10203040u + i);
		vprime_job_submit(fd2, &job);
		if (slow >= 0) {
			int fd3 = vprime_open(slow, VPRIME_NODE_RENDER);

			for (int i = 0; i < 10; i++) {
				vprime_job_init(&job);
				vprime_job_fill(&job, small_bo(fd3, &job), 0, 0, 64, 32, i);
				vprime_job_submit(fd3, &job);
			}
		}
		_exit(0);
	}
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "the submitting child ended with status %#x\n", status);
}

/*
 * Unload while jobs are in flight, hung ones included: the unload returns
 * (it used to wait forever for a hung job), every device is freed (the same
 * minors come back: a leaked job would keep its buffers and so its device),
 * and the reloaded module runs jobs.
 */
static void test_unload_jobs_in_flight(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	int hang = vprime_hang_instance(0);
	unsigned int timeout = vprime_job_timeout_ms(hang);
	int slow = -1, fd;
	struct minors before, now_minors;
	char params[512];

	for (int i = 0; i < num_devices && slow < 0; i++)
		if (i != hang && vprime_param_u64("job_delay_ms", i))
			slow = i;
	vprime_loaded_params(params, sizeof(params));
	vprime_minors(&before);

	submit_jobs_and_exit(hang, slow);
	vt_assert_eq(unload_bounded(5000 + 4 * timeout), 0);
	vprime_minors(&now_minors);
	vt_assert_f(now_minors.count == 0, "%d vprime minors left after unload\n",
		    now_minors.count);
	vt_assert_eq(stale_bus_devices(), 0);

	vprime_load(ko, params);
	vprime_minors(&now_minors);
	assert_same_minors(&before, &now_minors);
	vprime_assert_devices_answer(num_devices);
	fd = vprime_open(0, VPRIME_NODE_RENDER);
	assert_fill_job_runs(fd, 5000 + 4 * timeout);
	close(fd);
}

/*
 * SUBMIT a HANG job on vprime.@index from a file closed right after:
 * SUBMIT's errno. An accepted one hangs until its timeout or the unload.
 */
static int try_hang(int index)
{
	int fd = vprime_open(index, VPRIME_NODE_RENDER);
	struct drm_vprime_submit args;
	struct vprime_job job;
	int err;

	vprime_job_init(&job);
	small_bo(fd, &job);
	vprime_job_hang(&job);
	args = vprime_job_args(&job);
	err = vprime_try_submit(fd, &args);
	close(fd);
	return err;
}

/*
 * With job_timeout_ms=0 nothing would ever end a hung job: VPRIME_CMD_HANG
 * is refused with EOPNOTSUPP, on every instance when 0 is the only value,
 * and other jobs run.
 */
static void test_hang_without_timeout(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	char params[512], no_timeout[512];
	int fd, err;

	vprime_loaded_params(params, sizeof(params));
	strcpy(no_timeout, params);
	set_param(no_timeout, sizeof(no_timeout), "job_timeout_ms", "0");
	vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, no_timeout);
	vt_assert_eq(vprime_param_u64("job_timeout_ms", 0), 0);

	/* One value is every instance's. */
	for (int i = 0; i < num_devices; i++) {
		err = try_hang(i);
		vt_assert_f(err == EOPNOTSUPP, "SUBMIT of a HANG on vprime.%d without a timeout "
			    "returned %d (%s), not EOPNOTSUPP\n", i, err, strerror(err));
	}

	fd = vprime_open(0, VPRIME_NODE_RENDER);
	assert_fill_job_runs(fd, 10000);
	close(fd);

	vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
}

/*
 * job_timeout_ms per instance: loaded with "0,1000", vprime.0 has no
 * timeout (it refuses a HANG), vprime.1's HANG is stopped with -ETIMEDOUT,
 * and an instance past the values given has the default (2000 ms), so it
 * takes a HANG too (the unload stops that one).
 */
static void test_job_timeout_per_instance(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	char params[512], mixed[512];
	struct vprime_job job;
	int fd, fence, err;

	vt_require_f(num_devices >= 2, "needs two vprime instances\n");
	vprime_loaded_params(params, sizeof(params));
	strcpy(mixed, params);
	set_param(mixed, sizeof(mixed), "job_timeout_ms", "0,1000");
	vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, mixed);
	vt_assert_eq(vprime_job_timeout_ms(0), 0);
	vt_assert_eq(vprime_job_timeout_ms(1), 1000);
	vt_assert_eq(vprime_hang_instance(0), 1);

	err = try_hang(0);
	vt_assert_f(err == EOPNOTSUPP, "a HANG on vprime.0 (job_timeout_ms 0): %d (%s), not "
		    "EOPNOTSUPP\n", err, strerror(err));
	fd = vprime_open(1, VPRIME_NODE_RENDER);
	vprime_job_init(&job);
	small_bo(fd, &job);
	vprime_job_hang(&job);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fd, &job);
	vt_assert_f(fd_poll(fence, POLLIN, 60000) == POLLIN, "vprime.1's hung job never ended\n");
	vt_assert_f(sync_file_status(fence) == -ETIMEDOUT, "vprime.1's hung job ended with %d\n",
		    sync_file_status(fence));
	close(fence);
	close(fd);
	if (num_devices > 2) {
		vt_assert_eq(vprime_job_timeout_ms(2), 2000);
		err = try_hang(2);
		vt_assert_f(!err, "a HANG on vprime.2 (the default timeout): %s\n", strerror(err));
	}

	vt_assert_eq(unload_bounded(60000), 0);
	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
}

/*
 * job_timeout_ms goes through the kernel's array parser: more values than
 * instances can have (VPRIME_MAX_DEVICES, 8), a value past 32 bits, a
 * negative one or an empty one refuse the load (EINVAL, ERANGE) and leave
 * no device behind. The largest value, alone, is every instance's timeout
 * (msecs_to_jiffies() clamps it), and jobs run under it.
 */
static void test_job_timeout_bad_values(void)
{
	static const struct {
		const char *value;
		int err;
	} bad[] = {
		{ "1,2,3,4,5,6,7,8,9", EINVAL },
		{ "4294967296", ERANGE },
		{ "-1", EINVAL },
		{ "1000,,1000", EINVAL },
		{ "", EINVAL },
	};
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	char params[512], changed[512];
	struct minors now;
	struct stat st;
	int fd;

	vprime_loaded_params(params, sizeof(params));
	vt_assert_eq(vprime_unload(), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ko_fd = open(ko, O_RDONLY | O_CLOEXEC), err;

		vt_assert_f(ko_fd >= 0, "open %s: %m\n", ko);
		strcpy(changed, params);
		set_param(changed, sizeof(changed), "job_timeout_ms", bad[i].value);
		err = syscall(SYS_finit_module, ko_fd, changed, 0) ? errno : 0;
		close(ko_fd);
		vt_assert_f(err == bad[i].err, "job_timeout_ms=%s: %s, not %s\n", bad[i].value,
			    err ? strerror(err) : "loaded", strerror(bad[i].err));
		vt_assert_f(stat("/sys/module/vprime", &st) && errno == ENOENT,
			    "/sys/module/vprime exists after job_timeout_ms=%s\n", bad[i].value);
		vprime_minors(&now);
		vt_assert_eq(now.count, 0);
	}

	strcpy(changed, params);
	set_param(changed, sizeof(changed), "job_timeout_ms", "4294967295");
	vprime_load(ko, changed);
	for (int i = 0; i < num_devices; i++)
		vt_assert_eq(vprime_job_timeout_ms(i), 4294967295u);
	fd = vprime_open(num_devices - 1, VPRIME_NODE_RENDER);
	assert_fill_job_runs(fd, 20000);
	close(fd);

	vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
}

/*
 * Unloading right after a nonblocking commit applied in its ioctl whose
 * worker has not run to its end (held up by commit_work_ms): it turns the
 * CRTC's only plane off, so that closing the file commits nothing more,
 * and the module is loaded with fbdev=0, so that no fbdev restore commits
 * either. The unload's shutdown waits for that commit to be applied and
 * flipped, not for its worker's cleanup, which runs vprime's code and
 * frees the framebuffer the commit replaced (the closed file's). The
 * unload must wait for it: the worker must not run after the module is
 * gone (an oops in freed module memory on the old code, a second after).
 */
static void test_unload_commit_in_flight(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	char params[512], nofbdev[600];
	struct kms_plane_setup s = { .type = KMS_PLANE_PRIMARY, .w = W, .h = H };
	struct kms_output out;
	uint32_t pitch, handle;
	uint64_t size;
	void *map;
	long before;
	int fd, ret;

	vprime_loaded_params(params, sizeof(params));
	snprintf(nofbdev, sizeof(nofbdev), "%s fbdev=0", params);
	vt_assert_eq(vprime_unload(), 0);
	vprime_load(ko, nofbdev);

	fd = vprime_open(0, VPRIME_NODE_CARD);
	handle = dumb_create_mapped(fd, W, H, &pitch, &size, &map);
	memset(map, 0x33, size);
	s.fb_id = kms_add_fb_xrgb8888(fd, handle, W, H, pitch);
	kms_output_on(fd, &s, 1, W, H, &out);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
	delay_set("commit_work_ms", 1000);
	ret = kms_output_try_planes(fd, &out, NULL, 0, DRM_MODE_ATOMIC_NONBLOCK);
	vt_assert_f(ret == 0, "turning the plane off, nonblocking: %s\n", strerror(-ret));
	vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") - before == 1,
		    "the commit was not applied in its ioctl\n");
	munmap(map, size);
	close(fd);

	vt_assert_eq(unload_bounded(60000), 0);
	/* The old code's worker woke in freed memory about now. */
	usleep(2000 * 1000);
	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
	delay_set("commit_work_ms", 0);
}

/* Whether the running kernel is at least @major.@minor. */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	vt_assert_ok(uname(&u));
	vt_assert(sscanf(u.release, "%d.%d", &ma, &mi) == 2);
	return ma > major || (ma == major && mi >= minor);
}

/*
 * A job's fence may outlive the module: in a sync_file, and in the
 * reservation object of a foreign buffer the job wrote. Their last puts,
 * and questions about their names, come after the unload and must not
 * reach the module: its fence release did, and 7.2 oopsed in freed module
 * memory. Only a core that detaches signalled fences from their driver
 * (7.2 here) makes that possible; before, the core reads the ops of every
 * fence, of every driver, on release (docs/security.md).
 */
static void test_fence_outlives_module(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices();
	uint32_t vgem_handle, pitch, dst;
	int fd, vgem, dmabuf, fence;
	struct vprime_job job;
	char params[512];
	uint64_t size;
	void *map;

	vt_require_f(kernel_at_least(7, 2),
		     "this kernel's dma-fence core reads a signalled fence's ops on release\n");
	vprime_loaded_params(params, sizeof(params));
	vgem = vprime_open_other("vgem");
	vgem_handle = dumb_create_mapped(vgem, 64, 32, &pitch, &size, &map);
	dmabuf = prime_export(vgem, vgem_handle, DRM_CLOEXEC | DRM_RDWR);

	fd = vprime_open(0, VPRIME_NODE_RENDER);
	vprime_job_init(&job);
	dst = vprime_job_add_bo(&job, prime_import(fd, dmabuf), VPRIME_SUBMIT_BO_WRITE,
				64, 32, pitch, DRM_FORMAT_XRGB8888);
	vprime_job_fill(&job, dst, 0, 0, 64, 32, 0xff223344u);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fd, &job);
	vt_assert_f(fd_poll(fence, POLLIN, 20000) == POLLIN, "the job did not complete\n");
	vt_assert_eq(sync_file_status(fence), 1);
	vt_assert_eq(((uint32_t *)map)[0], 0xff223344u);
	close(fd);

	vt_assert_eq(vprime_unload(), 0);
	vt_assert_eq(sync_file_status(fence), 1);	/* asks the fence its name */
	close(fence);
	munmap(map, size);
	close(dmabuf);
	gem_close(vgem, vgem_handle);	/* the last reference: the buffer's fences go */
	close(vgem);

	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
}

/*
 * Unloading after a client that held IO mappings of an instance behind an
 * IOMMU (its own buffer and a vgem import) closed: the module cannot go
 * while the file is open; once it is closed, every IO range went with its
 * object, the unload is clean and the reloaded instance's IO space is empty.
 */
static void test_unload_iommu_mapped(void)
{
	const char *ko = module_path();
	int num_devices = vprime_num_devices(), io = -1, vgem, fd, dmabuf;
	struct drm_vprime_segment *segs;
	uint32_t pitch, vh, h, ih, n;
	char params[512];
	uint64_t size;
	void *map;

	for (int i = 0; i < num_devices && io < 0; i++)
		if (vprime_limits(i).iommu)
			io = i;
	vt_require_f(io >= 0, "needs an instance behind an IOMMU (the parameter iommu)\n");
	vprime_loaded_params(params, sizeof(params));
	vgem = vprime_open_other("vgem");
	vh = dumb_create_mapped(vgem, 256, 256, &pitch, &size, &map);
	dmabuf = prime_export(vgem, vh, DRM_CLOEXEC | DRM_RDWR);
	fd = vprime_open(io, VPRIME_NODE_RENDER);
	ih = prime_import(fd, dmabuf);
	free(vprime_gem_map(fd, ih, &n, NULL));
	h = vprime_gem_create(fd, 1 << 20);
	segs = vprime_gem_map(fd, h, &n, NULL);
	free(segs);
	vt_assert_eq(vprime_debugfs_counter(io, "iova_ranges"), 2);

	vt_assert_eq(vprime_unload(), -EAGAIN);
	close(fd);	/* the maps, the objects and their IO ranges go */
	vt_assert_eq(vprime_unload(), 0);
	close(dmabuf);
	munmap(map, size);
	gem_close(vgem, vh);
	close(vgem);

	vprime_load(ko, params);
	vprime_assert_devices_answer(num_devices);
	vt_assert_eq(vprime_limits(io).iommu, 1);
	vt_assert_eq(vprime_debugfs_counter(io, "iova_used"), 0);
}

static const struct vtest tests[] = {
	VTEST("reload", "Unloading removes every vprime device and node; reloading brings "
	      "back the same minors, three times in a row.", test_reload),
	VTEST("unload-while-open", "A module with an open file cannot be unloaded "
	      "(-EAGAIN); the device keeps working and unloads once the file is closed.",
	      test_unload_while_open),
	VTEST("unload-jobs-in-flight", "Unloading with jobs in flight (two hung, a long one, "
	      "delayed ones) returns, frees every device, and the reloaded module runs jobs.",
	      test_unload_jobs_in_flight),
	VTEST("hang-without-timeout", "Loaded with job_timeout_ms=0, SUBMIT refuses "
	      "VPRIME_CMD_HANG with EOPNOTSUPP; other jobs run.", test_hang_without_timeout),
	VTEST("job-timeout-per-instance", "job_timeout_ms=0,1000: vprime.0 refuses a HANG, "
	      "vprime.1's times out, an instance past the values has the default.",
	      test_job_timeout_per_instance),
	VTEST("job-timeout-bad-values", "job_timeout_ms with 9 values, past 32 bits, "
	      "negative, or empty refuses the load (EINVAL, ERANGE) and leaves no device; "
	      "4294967295 loads as every instance's and jobs run.",
	      test_job_timeout_bad_values),
	VTEST("unload-commit-in-flight", "Unloading (fbdev=0) right after a nonblocking "
	      "commit applied in its ioctl, its worker held up: the unload waits for the "
	      "worker, which must not run in a module that is gone.",
	      test_unload_commit_in_flight),
	VTEST("fence-outlives-module", "A job's fences in a sync_file and in a foreign "
	      "buffer's reservation object are released after the unload without calling "
	      "into the module.", test_fence_outlives_module),
	VTEST("unload-iommu-mapped", "A client's IO mappings on an instance behind an IOMMU "
	      "keep the module loaded until its file closes; then the unload is clean and "
	      "the reloaded IO space is empty.", test_unload_iommu_mapped),
};

VTEST_MAIN("Unloading and reloading vprime.ko: every device goes away with the "
	   "module and nothing is left behind.", tests)
