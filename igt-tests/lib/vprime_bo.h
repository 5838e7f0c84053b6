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

#endif /* VPRIME_BO_H */
