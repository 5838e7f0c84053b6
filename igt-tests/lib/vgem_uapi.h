/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 */
/*
 * vgem's uapi for its fences (VGEM_FENCE_ATTACH/SIGNAL): the tests use vgem
 * as a second exporter whose fences they control, and its header is not
 * installed everywhere.
 */
#ifndef VPRIME_TEST_VGEM_H
#define VPRIME_TEST_VGEM_H

#include <drm.h>

#if __has_include(<drm/vgem_drm.h>)
#include <drm/vgem_drm.h>
#elif __has_include(<vgem_drm.h>)
#include <vgem_drm.h>
#else
struct drm_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
#define VGEM_FENCE_WRITE	0x1
	__u32 out_fence;
	__u32 pad;
};

struct drm_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define DRM_VGEM_FENCE_ATTACH	0x1
#define DRM_VGEM_FENCE_SIGNAL	0x2
#define DRM_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, struct drm_vgem_fence_signal)
#endif

#endif
