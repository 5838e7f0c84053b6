// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: device mappings from userspace
 *
 * A real device maps a buffer when its jobs or its scanout use it. vprime
 * lets userspace do that directly (DRM_IOCTL_VPRIME_GEM_MAP and _UNMAP), so
 * that tests can drive late allocation and migration and see the DMA
 * segments this device was given.
 *
 * Each object keeps one mapping for this device, made by its first map and
 * dropped with its last, and counts the maps of each file so that closing a
 * handle or the file drops that file's maps. Mapping an object of this
 * device places its storage (allocating or moving it); mapping an imported
 * one maps this device's attachment, so the exporter places its storage.
 *
 * When the storage has to move and other devices have it mapped, a map
 * waits for them to unmap, interruptibly, for at most map_wait_ms.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_gem.h"
#include "include/uapi/drm/vprime_drm.h"

/**
 * struct vprime_user_map - the maps one file holds on one object
 * @link: the entry in &vprime_bo.user_maps
 * @file: the file
 * @count: its maps
 */
struct vprime_user_map {
	struct list_head link;
	struct drm_file *file;
	unsigned int count;
};

static struct vprime_user_map *find_user_map(struct vprime_bo *bo, struct drm_file *file)
{
	struct vprime_user_map *um;

	list_for_each_entry(um, &bo->user_maps, link)
		if (um->file == file)
			return um;
	return NULL;
}

/* This device's mapping of @bo, made on its first map. */
static int map_for_device_locked(struct vprime_bo *bo)
{
	struct device *dev = bo->base.dev->dev;
	struct vprime_constraints c;
	struct sg_table *sgt;
	int ret;

	if (bo->sgt)
		return 0;
	if (drm_gem_is_imported(&bo->base)) {
		sgt = dma_buf_map_attachment(bo->base.import_attach, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
	} else {
		ret = vprime_bo_place_locked(bo, NULL, true);
		if (ret)
			return ret;
		vprime_constraints_of_device(dev, &c);
		sgt = vprime_storage_map(&bo->storage, dev, &c, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		atomic_inc(&bo->dev_mappings);
	}
	bo->sgt = sgt;
	return 0;
}

static void unmap_for_device_locked(struct vprime_bo *bo)
{
	if (drm_gem_is_imported(&bo->base)) {
		dma_buf_unmap_attachment(bo->base.import_attach, bo->sgt, DMA_BIDIRECTIONAL);
	} else {
		vprime_storage_unmap(bo->sgt, bo->base.dev->dev, DMA_BIDIRECTIONAL);
		vprime_bo_mapping_dropped(bo);
	}
	bo->sgt = NULL;
}

/*
 * Map @bo for this device, waiting while the storage must move and other
 * devices hold it. Returns with the reservation lock held on success.
 */
static int map_waiting(struct vprime_bo *bo)
{
	unsigned long deadline = jiffies + vprime_map_wait_jiffies();
	struct vprime_bo *owner = vprime_bo_storage_owner(bo);
	bool waited = false;
	int ret;

	for (;;) {
		ret = dma_resv_lock_interruptible(bo->base.resv, NULL);
		if (ret)
			return ret;
		ret = map_for_device_locked(bo);
		if (!ret)
			return 0;
		dma_resv_unlock(bo->base.resv);
		if (ret != -EAGAIN || !owner)
			return ret;
		if (!waited) {
			atomic64_inc(&to_vprime_device(owner->base.dev)->stats.waits);
			waited = true;
		}
		ret = vprime_bo_wait_unmapped(owner, deadline);
		if (ret)
			return ret;
	}
}

/* Drop @n of @um's maps, and this device's mapping with the last map. */
static void drop_user_maps_locked(struct vprime_bo *bo, struct vprime_user_map *um,
				  unsigned int n)
{
	um->count -= n;
	bo->map_count -= n;
	if (!um->count) {
		list_del(&um->link);
		kfree(um);
	}
	if (!bo->map_count)
		unmap_for_device_locked(bo);
}

/* The mapping's DMA segments, in a new array of *@count entries. */
static struct drm_vprime_segment *collect_segments(struct sg_table *sgt, unsigned int *count)
{
	struct drm_vprime_segment *segs;
	struct scatterlist *sg;
	unsigned int i;

	segs = kvmalloc_array(sgt->nents, sizeof(*segs), GFP_KERNEL);
	if (!segs)
		return NULL;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		segs[i].addr = sg_dma_address(sg);
		segs[i].len = sg_dma_len(sg);
	}
	*count = sgt->nents;
	return segs;
}

static u32 placement_seen_locked(struct vprime_bo *bo)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(bo);

	return owner ? owner->storage.placement : VPRIME_PLACEMENT_IMPORTED;
}

/* Take one map of @bo for @file; returns with the lock held on success. */
static int take_user_map(struct vprime_bo *bo, struct drm_file *file)
{
	struct vprime_user_map *um, *fresh;
	int ret;

	fresh = kzalloc_obj(*fresh, GFP_KERNEL);
	if (!fresh)
		return -ENOMEM;
	ret = map_waiting(bo);
	if (ret) {
		kfree(fresh);
		return ret;
	}
	um = find_user_map(bo, file);
	if (!um) {
		um = fresh;
		um->file = file;
		list_add_tail(&um->link, &bo->user_maps);
	} else {
		kfree(fresh);
	}
	um->count++;
	bo->map_count++;
	return 0;
}

static void put_user_map(struct vprime_bo *bo, struct drm_file *file)
{
	dma_resv_lock(bo->base.resv, NULL);
	drop_user_maps_locked(bo, find_user_map(bo, file), 1);
	dma_resv_unlock(bo->base.resv);
}

/*
 * VPRIME_GEM_MAP: map an object for this device and return its segments.
 *   -EINVAL     flags set
 *   -ENOENT     no such handle
 *   -EFAULT     segments_ptr not writable (the map is undone)
 *   -ETIMEDOUT  the storage must move and other mappings stayed
 *   -EBUSY      the storage must move and is pinned
 */
int vprime_gem_map_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_gem_map *args = data;
	struct drm_vprime_segment *segs;
	struct drm_gem_object *obj;
	struct vprime_bo *bo;
	unsigned int count;
	int ret;

	if (args->flags)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_vprime_bo(obj);

	ret = take_user_map(bo, file);
	if (ret)
		goto out;
	segs = collect_segments(bo->sgt, &count);
	args->placement = placement_seen_locked(bo);
	dma_resv_unlock(obj->resv);

	/* Copied unlocked: the array may be a mapping of this very object. */
	if (!segs)
		ret = -ENOMEM;
	else if (args->segments_ptr &&
		 copy_to_user(u64_to_user_ptr(args->segments_ptr), segs,
			      array_size(min(count, args->num_segments), sizeof(*segs))))
		ret = -EFAULT;
	kvfree(segs);
	if (ret)
		put_user_map(bo, file);
	else
		args->num_segments = count;
out:
	drm_gem_object_put(obj);
	return ret;
}

/*
 * VPRIME_GEM_UNMAP: drop one map this file holds.
 *   -EINVAL  flags set, or this file holds no map of the object
 *   -ENOENT  no such handle
 */
int vprime_gem_unmap_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_gem_unmap *args = data;
	struct vprime_user_map *um;
	struct drm_gem_object *obj;
	struct vprime_bo *bo;
	int ret;

	if (args->flags)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_vprime_bo(obj);
	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (ret)
		goto out;
	um = find_user_map(bo, file);
	if (um)
		drop_user_maps_locked(bo, um, 1);
	else
		ret = -EINVAL;
	dma_resv_unlock(obj->resv);
out:
	drm_gem_object_put(obj);
	return ret;
}

/**
 * vprime_gem_close_user_maps - drop every map a file holds on an object
 * @bo: the object
 * @file: the file closing its handle
 */
void vprime_gem_close_user_maps(struct vprime_bo *bo, struct drm_file *file)
{
	struct vprime_user_map *um;

	dma_resv_lock(bo->base.resv, NULL);
	um = find_user_map(bo, file);
	if (um)
		drop_user_maps_locked(bo, um, um->count);
	dma_resv_unlock(bo->base.resv);
}
