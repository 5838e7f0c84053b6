/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_VMAP_H_
#define _VPRIME_VMAP_H_

struct drm_gem_object;
struct iosys_map;
struct vprime_bo;

int vprime_bo_vmap_locked(struct vprime_bo *bo, struct iosys_map *map);
void vprime_bo_vunmap_locked(struct vprime_bo *bo, struct iosys_map *map);

int vprime_gem_vmap(struct drm_gem_object *obj, struct iosys_map *map);
void vprime_gem_vunmap(struct drm_gem_object *obj, struct iosys_map *map);

int vprime_gem_job_vmap(struct drm_gem_object *obj, struct iosys_map *map);
void vprime_gem_job_vunmap(struct drm_gem_object *obj, struct iosys_map *map);
long vprime_gem_wait_jobs_released(struct drm_gem_object *obj, long timeout);

#endif /* _VPRIME_VMAP_H_ */
