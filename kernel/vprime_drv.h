/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_DRV_H_
#define _VPRIME_DRV_H_

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>

#include <drm/drm_device.h>

struct drm_minor;

#define VPRIME_DRIVER_NAME	"vprime"
#define VPRIME_DRIVER_DESC	"Virtual PRIME (dma-buf) device"
#define VPRIME_DRIVER_DATE_STR	"20261122"
#define VPRIME_DRIVER_MAJOR	0
#define VPRIME_DRIVER_MINOR	1

/* The most instances one module load creates (num_devices). */
#define VPRIME_MAX_DEVICES	8

/**
 * struct vprime_stats - counters shown in debugfs
 * @allocations: backing storage allocations (late allocation happening)
 */
struct vprime_stats {
	atomic64_t allocations;
};

/**
 * struct vprime_device - one vprime instance
 * @drm: the DRM device; its card and render nodes are this instance's
 * @index: the instance number, 0 .. num_devices - 1
 * @objects_lock: protects @objects
 * @objects: every &vprime_bo of this device, for debugfs
 * @next_bo_id: the last object id handed out
 * @stats: counters
 */
struct vprime_device {
	struct drm_device drm;
	unsigned int index;
	struct mutex objects_lock; /* protects objects */
	struct list_head objects;
	atomic64_t next_bo_id;
	struct vprime_stats stats;
};

static inline struct vprime_device *to_vprime_device(struct drm_device *drm)
{
	return container_of(drm, struct vprime_device, drm);
}

void vprime_debugfs_init(struct drm_minor *minor);

#endif /* _VPRIME_DRV_H_ */
