// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include "vtest.h"
#include "vprime_bo.h"

uint32_t vprime_gem_create(int fd, uint64_t size)
{
	struct drm_vprime_gem_create c = { .size = size };

	vt_assert_ok(ioctl(fd, DRM_IOCTL_VPRIME_GEM_CREATE, &c));
	vt_assert_eq(c.size, (size + VT_PAGE - 1) & ~(uint64_t)(VT_PAGE - 1));
	return c.handle;
}

struct drm_vprime_gem_info vprime_gem_info(int fd, uint32_t handle)
{
	struct drm_vprime_gem_info info = { .handle = handle };

	vt_assert_ok(ioctl(fd, DRM_IOCTL_VPRIME_GEM_INFO, &info));
	return info;
}

void *vprime_gem_mmap(int fd, uint32_t handle, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       vprime_gem_info(fd, handle).mmap_offset);

	vt_assert_f(p != MAP_FAILED, "mmap of handle %u: %m\n", handle);
	return p;
}

uint32_t dumb_create_mapped(int fd, uint32_t width, uint32_t height,
			    uint32_t *pitch, uint64_t *size, void **map)
{
	struct drm_mode_create_dumb c = { .width = width, .height = height, .bpp = 32 };
	struct drm_mode_map_dumb m = {};

	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	m.handle = c.handle;
	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m));
	*map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	vt_assert_f(*map != MAP_FAILED, "mmap of dumb buffer %u: %m\n", c.handle);
	*pitch = c.pitch;
	*size = c.size;
	return c.handle;
}

void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	vt_assert_ok(ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c));
}

int prime_export(int fd, uint32_t handle, uint32_t flags)
{
	int dmabuf = -1;

	vt_assert_f(drmPrimeHandleToFD(fd, handle, flags, &dmabuf) == 0,
		    "export of handle %u: %m\n", handle);
	return dmabuf;
}

uint32_t prime_import(int fd, int dmabuf)
{
	uint32_t handle = 0;

	vt_assert_f(drmPrimeFDToHandle(fd, dmabuf, &handle) == 0,
		    "import of fd %d: %m\n", dmabuf);
	return handle;
}

static int gem_map_ioctl(int fd, uint32_t handle, struct drm_vprime_segment *segs,
			 uint32_t cap, struct drm_vprime_gem_map *m)
{
	*m = (struct drm_vprime_gem_map){
		.handle = handle,
		.segments_ptr = (uintptr_t)segs,
		.num_segments = cap,
	};
	return ioctl(fd, DRM_IOCTL_VPRIME_GEM_MAP, m) ? errno : 0;
}

int vprime_gem_try_map(int fd, uint32_t handle, struct drm_vprime_segment **segs,
		       uint32_t *num, uint32_t *placement)
{
	struct drm_vprime_segment *s = NULL;
	struct drm_vprime_gem_map m;
	uint32_t cap = 0;
	int err;

	if (segs) {
		cap = vprime_gem_info(fd, handle).size / VT_PAGE + 1;
		s = calloc(cap, sizeof(*s));
		vt_assert(s);
	}
	err = gem_map_ioctl(fd, handle, s, cap, &m);
	if (err) {
		free(s);
		return err;
	}
	if (segs && m.num_segments > cap) {
		/* More segments than pages: map once more with room, drop one map. */
		cap = m.num_segments;
		s = realloc(s, cap * sizeof(*s));
		vt_assert(s);
		vt_assert_eq(gem_map_ioctl(fd, handle, s, cap, &m), 0);
		vt_assert_eq(m.num_segments, cap);
		vprime_gem_unmap(fd, handle);
	}
	if (segs)
		*segs = s;
	if (num)
		*num = m.num_segments;
	if (placement)
		*placement = m.placement;
	return 0;
}

struct drm_vprime_segment *vprime_gem_map(int fd, uint32_t handle, uint32_t *num,
					  uint32_t *placement)
{
	struct drm_vprime_segment *segs = NULL;
	int err = vprime_gem_try_map(fd, handle, &segs, num, placement);

	vt_assert_f(!err, "GEM_MAP of handle %u: %s\n", handle, strerror(err));
	return segs;
}

void vprime_gem_unmap(int fd, uint32_t handle)
{
	struct drm_vprime_gem_unmap u = { .handle = handle };

	vt_assert_ok(ioctl(fd, DRM_IOCTL_VPRIME_GEM_UNMAP, &u));
}

unsigned long fd_inode(int fd)
{
	struct stat st;

	vt_assert_ok(fstat(fd, &st));
	return st.st_ino;
}

static uint32_t pattern_word(size_t i, uint32_t seed)
{
	return seed ^ (uint32_t)(i * 2654435761u);
}

void pattern_fill(void *p, size_t size, uint32_t seed)
{
	uint32_t *w = p;

	for (size_t i = 0; i < size / 4; i++)
		w[i] = pattern_word(i, seed);
}

static void check_word(const uint32_t *w, size_t i, uint32_t seed, const char *what)
{
	vt_assert_f(w[i] == pattern_word(i, seed),
		    "%s: word %zu (byte %zu, page %zu) is 0x%08x, expected 0x%08x\n",
		    what, i, i * 4, i * 4 / VT_PAGE, w[i], pattern_word(i, seed));
}

void pattern_check(const void *p, size_t size, uint32_t seed, const char *what)
{
	const size_t per_page = VT_PAGE / 4, n = size / 4;
	const uint32_t *w = p;

	for (size_t i = per_page; i < n; i += per_page) {
		check_word(w, i - 1, seed, what);
		check_word(w, i, seed, what);
	}
	if (n)
		check_word(w, n - 1, seed, what);
	for (size_t i = 0; i < n; i++)
		check_word(w, i, seed, what);
}

void vprime_job_init(struct vprime_job *job)
{
	*job = (struct vprime_job){ .in_fence_fd = -1 };
}

uint32_t vprime_job_add_bo(struct vprime_job *job, uint32_t handle, uint32_t flags,
			   uint32_t width, uint32_t height, uint32_t pitch, uint32_t format)
{
	struct drm_vprime_submit_bo *bo;

	for (uint32_t i = 0; i < job->num_bos; i++) {
		bo = &job->bos[i];
		if (bo->handle != handle)
			continue;
		vt_assert_f(bo->width == width && bo->height == height && bo->pitch == pitch &&
			    bo->format == format,
			    "handle %u added to a job twice as different surfaces\n", handle);
		bo->flags |= flags;
		return i;
	}
	vt_assert_lt(job->num_bos, VPRIME_JOB_MAX_BOS);
	job->bos[job->num_bos] = (struct drm_vprime_submit_bo){
		.handle = handle, .flags = flags, .width = width, .height = height,
		.pitch = pitch, .format = format,
	};
	return job->num_bos++;
}

struct drm_vprime_cmd *vprime_job_add_cmd(struct vprime_job *job, uint32_t op)
{
	struct drm_vprime_cmd *cmd;

	vt_assert_lt(job->num_cmds, VPRIME_JOB_MAX_CMDS);
	cmd = &job->cmds[job->num_cmds++];
	*cmd = (struct drm_vprime_cmd){ .op = op };
	return cmd;
}

void vprime_job_fill(struct vprime_job *job, uint32_t dst, uint32_t x, uint32_t y,
		     uint32_t w, uint32_t h, uint32_t argb)
{
	struct drm_vprime_cmd *cmd = vprime_job_add_cmd(job, VPRIME_CMD_FILL);

	cmd->dst = dst;
	cmd->dst_x = x;
	cmd->dst_y = y;
	cmd->width = w;
	cmd->height = h;
	cmd->value = argb;
}

void vprime_job_copy(struct vprime_job *job, uint32_t src, uint32_t sx, uint32_t sy,
		     uint32_t dst, uint32_t dx, uint32_t dy, uint32_t w, uint32_t h)
{
	struct drm_vprime_cmd *cmd = vprime_job_add_cmd(job, VPRIME_CMD_COPY);

	cmd->src = src;
	cmd->src_x = sx;
	cmd->src_y = sy;
	cmd->dst = dst;
	cmd->dst_x = dx;
	cmd->dst_y = dy;
	cmd->width = w;
	cmd->height = h;
}

void vprime_job_checksum(struct vprime_job *job, uint32_t src, uint32_t x, uint32_t y,
			 uint32_t w, uint32_t h, uint32_t dst, uint64_t offset)
{
	struct drm_vprime_cmd *cmd = vprime_job_add_cmd(job, VPRIME_CMD_CHECKSUM);

	cmd->src = src;
	cmd->src_x = x;
	cmd->src_y = y;
	cmd->width = w;
	cmd->height = h;
	cmd->dst = dst;
	cmd->dst_offset = offset;
}

void vprime_job_hang(struct vprime_job *job)
{
	/* Every field but the op must be 0. */
	vprime_job_add_cmd(job, VPRIME_CMD_HANG);
}

void vprime_job_in_fence(struct vprime_job *job, int fence)
{
	job->flags |= VPRIME_SUBMIT_IN_FENCE_FD;
	job->in_fence_fd = fence;
}

void vprime_job_out_fence(struct vprime_job *job)
{
	job->flags |= VPRIME_SUBMIT_OUT_FENCE_FD;
}

void vprime_job_in_syncobj(struct vprime_job *job, uint32_t handle, uint64_t point)
{
	vt_assert_lt(job->num_in_syncobjs, VPRIME_JOB_MAX_SYNCOBJS);
	job->in_syncobjs[job->num_in_syncobjs++] =
		(struct drm_vprime_syncobj){ .handle = handle, .point = point };
}

void vprime_job_out_syncobj(struct vprime_job *job, uint32_t handle, uint64_t point)
{
	job->flags |= VPRIME_SUBMIT_OUT_SYNCOBJ;
	job->out_syncobj = (struct drm_vprime_syncobj){ .handle = handle, .point = point };
}

struct drm_vprime_submit vprime_job_args(const struct vprime_job *job)
{
	return (struct drm_vprime_submit){
		.bos_ptr = (uintptr_t)job->bos,
		.cmds_ptr = (uintptr_t)job->cmds,
		.in_syncobjs_ptr = job->num_in_syncobjs ? (uintptr_t)job->in_syncobjs : 0,
		.num_bos = job->num_bos,
		.num_cmds = job->num_cmds,
		.num_in_syncobjs = job->num_in_syncobjs,
		.flags = job->flags,
		.in_fence_fd = job->in_fence_fd,
		.out_fence_fd = -1,
		.out_syncobj = job->out_syncobj,
	};
}

int vprime_try_submit(int fd, struct drm_vprime_submit *args)
{
	return drmIoctl(fd, DRM_IOCTL_VPRIME_SUBMIT, args) ? errno : 0;
}

int vprime_job_submit(int fd, const struct vprime_job *job)
{
	struct drm_vprime_submit args = vprime_job_args(job);
	int err = vprime_try_submit(fd, &args);

	vt_assert_f(!err, "SUBMIT of %u commands on %u buffers: %s\n", job->num_cmds,
		    job->num_bos, strerror(err));
	if (!(job->flags & VPRIME_SUBMIT_OUT_FENCE_FD))
		return -1;
	vt_assert_f(args.out_fence_fd >= 0, "SUBMIT returned out fence fd %d\n",
		    args.out_fence_fd);
	return args.out_fence_fd;
}

int vprime_try_wait_idle(int fd, uint32_t handle, int64_t timeout_ns)
{
	struct drm_vprime_wait_idle w = { .handle = handle, .timeout_ns = timeout_ns };

	return drmIoctl(fd, DRM_IOCTL_VPRIME_WAIT_IDLE, &w) ? errno : 0;
}

void vprime_wait_idle(int fd, uint32_t handle, int64_t timeout_ns)
{
	int err = vprime_try_wait_idle(fd, handle, timeout_ns);

	vt_assert_f(!err, "WAIT_IDLE of handle %u for %lld ns: %s\n", handle,
		    (long long)timeout_ns, strerror(err));
}

short fd_poll(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	/* A signal restarts the whole timeout: still bounded, as tests send none. */
	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	vt_assert_f(n >= 0, "poll of fd %d: %m\n", fd);
	return n ? p.revents & events : 0;
}

int sync_file_status(int fence)
{
	struct sync_file_info info = {};

	vt_assert_f(ioctl(fence, SYNC_IOC_FILE_INFO, &info) == 0,
		    "SYNC_IOC_FILE_INFO of fd %d: %m\n", fence);
	return info.status;
}

int dmabuf_try_export_sync_file(int dmabuf, uint32_t flags, int *fence)
{
	struct dma_buf_export_sync_file arg = { .flags = flags, .fd = -1 };

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg))
		return errno;
	*fence = arg.fd;
	return 0;
}
