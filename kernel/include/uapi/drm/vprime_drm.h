/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _UAPI_VPRIME_DRM_H_
#define _UAPI_VPRIME_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: vprime uapi
 *
 * vprime is a virtual DRM/KMS device that implements the whole dma-buf
 * (PRIME) contract. Its buffers are plain GEM objects: they are exported and
 * imported with the core's %DRM_IOCTL_PRIME_HANDLE_TO_FD and
 * %DRM_IOCTL_PRIME_FD_TO_HANDLE and mapped through the generic fake-offset
 * mmap. The driver-private ioctls below are numbered from
 * %DRM_COMMAND_BASE, as for every DRM driver.
 *
 * Every ioctl rejects unknown flags and non-zero padding with -EINVAL, so
 * that both can be given a meaning later without breaking old userspace.
 */

/**
 * define VPRIME_IOCTL_BASE - first driver-private ioctl number
 *
 * Driver-private ioctl numbers are offsets from %DRM_COMMAND_BASE; the core
 * rejects any number past the last one the driver defines.
 */
#define VPRIME_IOCTL_BASE		DRM_COMMAND_BASE

#define DRM_VPRIME_GEM_CREATE		0x00
#define DRM_VPRIME_GEM_INFO		0x01

/**
 * struct drm_vprime_gem_create - create a buffer object
 *
 * Used by %DRM_IOCTL_VPRIME_GEM_CREATE. The object has no backing storage
 * until it is first used (CPU fault, vmap, or a device mapping its
 * attachment): it is allocated then, to suit every device attached at that
 * moment.
 */
struct drm_vprime_gem_create {
	/**
	 * @size: in: the size in bytes, not 0; out: the size rounded up to a
	 * whole number of pages.
	 */
	__u64 size;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/** @handle: out: the new object's handle. */
	__u32 handle;
};

/* Bits of &drm_vprime_gem_info.state. */
/** define VPRIME_BO_STATE_POPULATED - backing storage has been allocated */
#define VPRIME_BO_STATE_POPULATED	0x1u
/** define VPRIME_BO_STATE_IMPORTED - the object is a dma-buf from elsewhere */
#define VPRIME_BO_STATE_IMPORTED	0x2u
/** define VPRIME_BO_STATE_EXPORTED - the object has been exported as a dma-buf */
#define VPRIME_BO_STATE_EXPORTED	0x4u

/**
 * struct drm_vprime_gem_info - what a buffer object is and who uses it
 *
 * Used by %DRM_IOCTL_VPRIME_GEM_INFO.
 */
struct drm_vprime_gem_info {
	/** @handle: in: the object. */
	__u32 handle;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/** @size: out: the object's size in bytes. */
	__u64 size;
	/** @mmap_offset: out: the offset to mmap() the object at on this fd. */
	__u64 mmap_offset;
	/** @num_pages: out: backing pages allocated (0 before first use). */
	__u64 num_pages;
	/** @state: out: VPRIME_BO_STATE_* bits. */
	__u32 state;
	/** @num_attachments: out: devices attached to the exported dma-buf. */
	__u32 num_attachments;
	/** @num_mapped: out: attachments currently mapped for their device. */
	__u32 num_mapped;
	/** @pad: must be 0. */
	__u32 pad;
};

/**
 * define DRM_IOCTL_VPRIME_GEM_CREATE - create a buffer object
 *
 * Takes a &struct drm_vprime_gem_create. Errors: -EINVAL for a zero size, a
 * size larger than the machine's memory or one that overflows when rounded,
 * or non-zero flags; -ENOMEM when the object cannot be allocated.
 */
#define DRM_IOCTL_VPRIME_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_GEM_CREATE, struct drm_vprime_gem_create)

/**
 * define DRM_IOCTL_VPRIME_GEM_INFO - query a buffer object
 *
 * Takes a &struct drm_vprime_gem_info. Errors: -EINVAL for non-zero flags or
 * padding; -ENOENT for an unknown handle.
 */
#define DRM_IOCTL_VPRIME_GEM_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_GEM_INFO, struct drm_vprime_gem_info)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VPRIME_DRM_H_ */
