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

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VPRIME_DRM_H_ */
