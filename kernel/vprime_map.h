/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_MAP_H_
#define _VPRIME_MAP_H_

#include <linux/types.h>

struct drm_device;
struct drm_file;
struct vprime_bo;

int vprime_gem_map_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int vprime_gem_unmap_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
void vprime_gem_close_user_maps(struct vprime_bo *bo, struct drm_file *file);

#endif /* _VPRIME_MAP_H_ */
