/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_GEM_H_
#define _VPRIME_GEM_H_

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_gem.h>

#include "vprime_placement.h"

struct dma_buf_attachment;
struct drm_mode_create_dumb;
struct sg_table;
struct vprime_device;

/**
 * struct vprime_bo - a vprime buffer object
 * @base: the GEM object; its reservation lock protects every field below
 *	but @dev_mappings, @unmap_wq, @vram_link, @vram_tried, @id and @link
 * @storage: the backing pages, none until the object is first used
 * @vaddr: the kernel mapping of the storage, or NULL
 * @vmap_count: the users of @vaddr; they pin the storage, but for
 *	@job_vmaps
 * @job_vmaps: those of @vmap_count that jobs hold: a move waits for them
 * @sgt: the mapping made for userspace maps (DRM_IOCTL_VPRIME_GEM_MAP): of
 *	the storage for this device, or of the attachment for an import
 * @iova_sgt: for an import by an instance behind an IOMMU from a foreign
 *	exporter, the IO addresses of @sgt (vprime_iommu_map_import())
 * @map_count: the userspace maps that hold @sgt
 * @user_maps: the &vprime_user_map of each file that holds some
 * @attachments: the &vprime_attachment of each device attached to the
 *	exported dma-buf
 * @local_pins: the pins by this device's scanout (importers' pins are
 *	counted in their &vprime_attachment)
 * @migrations: times the storage moved
 * @dev_mappings: device mappings of the storage, by attachments and @sgt,
 *	and jobs' vmaps
 * @unmap_wq: woken when @dev_mappings drops, for maps waiting to move
 * @evictions: times the storage was evicted from VRAM
 * @vram_link: the entry in &vprime_vram.lru while the storage is in VRAM
 *	(under &vprime_vram.lock)
 * @vram_tried: the eviction pass that last tried this object (under
 *	&vprime_vram.lock)
 * @vram_put_work: drops an eviction's reference when it was the last
 * @id: a number that names the object in debugfs
 * @link: the entry in &vprime_device.objects
 */
struct vprime_bo {
	struct drm_gem_object base;
	struct vprime_storage storage;
	void *vaddr;
	unsigned int vmap_count;
	unsigned int job_vmaps;
	struct sg_table *sgt;
	struct sg_table *iova_sgt;
	unsigned int map_count;
	struct list_head user_maps;
	struct list_head attachments;
	unsigned int local_pins;
	u64 migrations;
	u64 evictions;
	struct list_head vram_link;
	u64 vram_tried;
	struct work_struct vram_put_work;
	atomic_t dev_mappings;
	wait_queue_head_t unmap_wq;
	u64 id;
	struct list_head link;
};

/**
 * struct vprime_attachment - one device attached to an exported vprime bo
 * @link: the entry in &vprime_bo.attachments
 * @attach: the dma-buf core's attachment
 * @constraints: what the device needs, read when it attached
 * @sgt: its newest mapping, or NULL
 * @map_count: its mappings
 * @pins: its pins
 */
struct vprime_attachment {
	struct list_head link;
	struct dma_buf_attachment *attach;
	struct vprime_constraints constraints;
	struct sg_table *sgt;
	unsigned int map_count;
	unsigned int pins;
};

static inline struct vprime_bo *to_vprime_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct vprime_bo, base);
}

static inline unsigned long vprime_bo_num_pages(const struct vprime_bo *bo)
{
	return bo->base.size >> PAGE_SHIFT;
}

struct vprime_bo *vprime_bo_create(struct drm_device *drm, size_t size);
void vprime_bo_publish(struct vprime_bo *bo);

int vprime_gem_dumb_create(struct drm_file *file, struct drm_device *drm,
			   struct drm_mode_create_dumb *args);
int vprime_gem_dumb_map_offset(struct drm_file *file, struct drm_device *drm, u32 handle,
			       u64 *offset);
int vprime_gem_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int vprime_gem_info_ioctl(struct drm_device *drm, void *data, struct drm_file *file);

#endif /* _VPRIME_GEM_H_ */
