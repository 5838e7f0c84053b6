/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * Buffer helpers shared by vprime's tests: GEM objects, PRIME, and a data
 * pattern whose checks report the page a mismatch sits in. Every helper
 * fails the subtest on an unexpected error.
 */

#ifndef VPRIME_BO_H
#define VPRIME_BO_H

#include <stddef.h>
#include <stdint.h>

#include "vprime_drm.h"

#define VT_PAGE 4096u

/* VPRIME_GEM_CREATE of @size bytes; asserts the size came back page-rounded. */
uint32_t vprime_gem_create(int fd, uint64_t size);

/* VPRIME_GEM_INFO of @handle. */
struct drm_vprime_gem_info vprime_gem_info(int fd, uint32_t handle);

/* mmap @size bytes of a vprime object through its fake offset, read-write. */
void *vprime_gem_mmap(int fd, uint32_t handle, size_t size);

/* A dumb buffer of @width x @height at 32 bpp, mapped read-write in *@map. */
uint32_t dumb_create_mapped(int fd, uint32_t width, uint32_t height,
			    uint32_t *pitch, uint64_t *size, void **map);

/* DRM_IOCTL_GEM_CLOSE, which any driver's handle accepts. */
void gem_close(int fd, uint32_t handle);

/* PRIME_HANDLE_TO_FD with @flags; returns the dma-buf fd. */
int prime_export(int fd, uint32_t handle, uint32_t flags);

/* PRIME_FD_TO_HANDLE; returns the handle. */
uint32_t prime_import(int fd, int dmabuf);

/* The inode of a file, to tell whether two dma-buf fds are the same buffer. */
unsigned long fd_inode(int fd);

/* Fill @size bytes with a pattern that differs on every word and every seed. */
void pattern_fill(void *p, size_t size, uint32_t seed);

/*
 * Check a buffer filled by pattern_fill(@seed): first the words on each side
 * of every page boundary, then every word. A mismatch names @what, the byte
 * and the page.
 */
void pattern_check(const void *p, size_t size, uint32_t seed, const char *what);

/*
 * DRM_IOCTL_VPRIME_GEM_MAP of @handle for @fd's device, which may fail:
 * returns 0 or the errno. On success the object is mapped once more (drop it
 * with vprime_gem_unmap()), *@segs (when not NULL) is a malloc'd array of
 * every segment, free() it, *@num their count and *@placement the storage's
 * placement (either may be NULL). With @segs NULL no array is passed.
 */
int vprime_gem_try_map(int fd, uint32_t handle, struct drm_vprime_segment **segs,
		       uint32_t *num, uint32_t *placement);

/* vprime_gem_try_map() that must succeed; returns the segments (free() them). */
struct drm_vprime_segment *vprime_gem_map(int fd, uint32_t handle, uint32_t *num,
					  uint32_t *placement);

/* DRM_IOCTL_VPRIME_GEM_UNMAP of @handle: drops one map this file made. */
void vprime_gem_unmap(int fd, uint32_t handle);

/*
 * Jobs: a struct vprime_job is built up step by step and submitted with
 * DRM_IOCTL_VPRIME_SUBMIT. Buffers come first, each seen as a surface;
 * commands then name them by the index vprime_job_add_bo() returned. The
 * arrays are sized for tests, well under the uapi's limits: a test of the
 * limits themselves takes vprime_job_args() and points it elsewhere.
 */
#define VPRIME_JOB_MAX_BOS	8
#define VPRIME_JOB_MAX_CMDS	16
#define VPRIME_JOB_MAX_SYNCOBJS	4

struct vprime_job {
	struct drm_vprime_submit_bo bos[VPRIME_JOB_MAX_BOS];
	struct drm_vprime_cmd cmds[VPRIME_JOB_MAX_CMDS];
	struct drm_vprime_syncobj in_syncobjs[VPRIME_JOB_MAX_SYNCOBJS];
	uint32_t num_bos, num_cmds, num_in_syncobjs;
	uint32_t flags;				/* VPRIME_SUBMIT_* */
	int32_t in_fence_fd;
	struct drm_vprime_syncobj out_syncobj;
};

/* An empty job: no buffer, no command, no fence. */
void vprime_job_init(struct vprime_job *job);

/*
 * Add the buffer @handle, used as @flags (VPRIME_SUBMIT_BO_*), seen as a
 * surface of @width x @height pixels of DRM fourcc @format, @pitch bytes a
 * row. A handle already in the job is listed once, with the flags of both
 * uses (the surfaces must match). Returns its index.
 */
uint32_t vprime_job_add_bo(struct vprime_job *job, uint32_t handle, uint32_t flags,
			   uint32_t width, uint32_t height, uint32_t pitch, uint32_t format);

/* Add a command of @op, all else 0, for the caller to complete. */
struct drm_vprime_cmd *vprime_job_add_cmd(struct vprime_job *job, uint32_t op);

/* FILL the rectangle (@x, @y, @w x @h) of buffer @dst with @argb. */
void vprime_job_fill(struct vprime_job *job, uint32_t dst, uint32_t x, uint32_t y,
		     uint32_t w, uint32_t h, uint32_t argb);

/* COPY (@sx, @sy, @w x @h) of buffer @src to (@dx, @dy) of buffer @dst. */
void vprime_job_copy(struct vprime_job *job, uint32_t src, uint32_t sx, uint32_t sy,
		     uint32_t dst, uint32_t dx, uint32_t dy, uint32_t w, uint32_t h);

/* CHECKSUM (@x, @y, @w x @h) of buffer @src into @dst at byte @offset. */
void vprime_job_checksum(struct vprime_job *job, uint32_t src, uint32_t x, uint32_t y,
			 uint32_t w, uint32_t h, uint32_t dst, uint64_t offset);

/*
 * HANG: the job never completes and is timed out (it still needs a buffer).
 * Refused with EOPNOTSUPP when the module has no timeout (job_timeout_ms=0).
 */
void vprime_job_hang(struct vprime_job *job);

/* Wait for the sync_file @fence first (VPRIME_SUBMIT_IN_FENCE_FD). */
void vprime_job_in_fence(struct vprime_job *job, int fence);

/* Ask for the job's fence as a sync_file (VPRIME_SUBMIT_OUT_FENCE_FD). */
void vprime_job_out_fence(struct vprime_job *job);

/* Wait for the syncobj @handle at @point (0: binary) first. */
void vprime_job_in_syncobj(struct vprime_job *job, uint32_t handle, uint64_t point);

/* Put the job's fence into syncobj @handle at @point (0: binary, replaced). */
void vprime_job_out_syncobj(struct vprime_job *job, uint32_t handle, uint64_t point);

/* The ioctl's arguments for @job, pointing into it (valid while @job is). */
struct drm_vprime_submit vprime_job_args(const struct vprime_job *job);

/* DRM_IOCTL_VPRIME_SUBMIT of @args as they are: returns 0 or the errno. */
int vprime_try_submit(int fd, struct drm_vprime_submit *args);

/* Submit @job, which must be accepted; returns its out fence fd, or -1 when not asked. */
int vprime_job_submit(int fd, const struct vprime_job *job);

/* DRM_IOCTL_VPRIME_WAIT_IDLE for at most @timeout_ns: returns 0 or the errno. */
int vprime_try_wait_idle(int fd, uint32_t handle, int64_t timeout_ns);

/* vprime_try_wait_idle() that must succeed. */
void vprime_wait_idle(int fd, uint32_t handle, int64_t timeout_ns);

/*
 * poll() @fd for @events for at most @timeout_ms (0: only check): returns
 * the events of @events that are ready, 0 when none is in time.
 */
short fd_poll(int fd, short events, int timeout_ms);

/* SYNC_IOC_FILE_INFO's status of the sync_file @fence: 1 signalled, 0 not, <0 error. */
int sync_file_status(int fence);

/*
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE of @dmabuf with @flags (DMA_BUF_SYNC_*):
 * returns 0 and the sync_file in *@fence, or the errno.
 */
int dmabuf_try_export_sync_file(int dmabuf, uint32_t flags, int *fence);

#endif /* VPRIME_BO_H */
