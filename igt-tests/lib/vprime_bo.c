// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

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
