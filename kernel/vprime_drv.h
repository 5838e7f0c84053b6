/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_DRV_H_
#define _VPRIME_DRV_H_

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>

#include <drm/drm_device.h>

#include "vprime_iommu.h"
#include "vprime_job.h"
#include "vprime_kms.h"
#include "vprime_vram.h"

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
 * @migrations: times an object's storage moved for a stricter device
 * @bytes_moved: bytes copied by those moves
 * @waits: maps that waited for other devices to unmap before a move
 * @invalidations_sent: times this device, as exporter, told dynamic
 *	importers it wants to move a buffer
 * @invalidations: times this device, as importer, was told so
 */
struct vprime_stats {
	atomic64_t allocations;
	atomic64_t migrations;
	atomic64_t bytes_moved;
	atomic64_t waits;
	atomic64_t invalidations_sent;
	atomic64_t invalidations;
};

/**
 * struct vprime_live - what a device holds now, shown in debugfs so that a
 *	test can check that a failed call left nothing behind
 * @attachments: devices attached to this device's exported objects
 * @mappings: device mappings (sg_tables) of this device's storage
 * @jobs: jobs allocated and not yet freed
 * @dmabufs: dma-bufs this device exported and that are not yet released
 */
struct vprime_live {
	atomic_t attachments;
	atomic_t mappings;
	atomic_t jobs;
	atomic_t dmabufs;
};

/**
 * struct vprime_device - one vprime instance
 * @drm: the DRM device; its card and render nodes are this instance's
 * @index: the instance number, 0 .. num_devices - 1
 * @objects_lock: protects @objects
 * @objects: every &vprime_bo of this device, for debugfs
 * @next_bo_id: the last object id handed out
 * @object_bytes: the size of every live object, own and imported
 * @storage_bytes: the backing storage in memory this device's objects hold,
 *	charged to mem_limit_mb (VRAM is counted in @vram)
 * @stats: counters
 * @live: what it holds now
 * @dma_parms: the device's segment limits, from the module parameters
 * @contiguous: the device needs physically contiguous buffers
 * @vram: its device memory, if it has any
 * @iommu: its IO address space, when it is behind an IOMMU
 * @outputs: the display's CRTCs and what hangs off them
 * @num_outputs: the number of @outputs in use
 * @commit_wq: the workers of nonblocking commits (vprime_kms.c), flushed
 *	when the display goes
 * @engine: the job engine
 */
struct vprime_device {
	struct drm_device drm;
	unsigned int index;
	struct mutex objects_lock; /* protects objects */
	struct list_head objects;
	atomic64_t next_bo_id;
	atomic64_t object_bytes;
	atomic64_t storage_bytes;
	struct vprime_stats stats;
	struct vprime_live live;
	struct device_dma_parameters dma_parms;
	bool contiguous;
	struct vprime_vram vram;
	struct vprime_iommu iommu;
	struct vprime_output outputs[VPRIME_MAX_CRTCS];
	unsigned int num_outputs;
	struct workqueue_struct *commit_wq;
	struct vprime_engine engine;
};

static inline struct vprime_device *to_vprime_device(struct drm_device *drm)
{
	return container_of(drm, struct vprime_device, drm);
}

struct vprime_device *vprime_device_of(struct device *dev);
bool vprime_device_needs_contiguous(struct device *dev);
unsigned long vprime_map_wait_jiffies(void);
u64 vprime_mem_limit_bytes(void);
bool vprime_storage_charge(u64 size);
void vprime_storage_uncharge(u64 size);
u64 vprime_object_space_bytes(void);

#endif /* _VPRIME_DRV_H_ */
