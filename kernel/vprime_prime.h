/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_PRIME_H_
#define _VPRIME_PRIME_H_

#include <linux/types.h>

struct dma_buf;
struct drm_device;
struct drm_gem_object;

struct dma_buf *vprime_gem_prime_export(struct drm_gem_object *obj, int flags);
struct drm_gem_object *vprime_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dma_buf);
bool vprime_bo_is_exported_by_vprime(struct dma_buf *dma_buf);

#endif /* _VPRIME_PRIME_H_ */
