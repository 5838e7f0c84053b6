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
 * waits for them to unmap, for at most map_wait_ms (killable: a signal
 * does not restart the wait with a new deadline).
 *
 * The DMA addresses are given to CAP_SYS_ADMIN only: with no IOMMU they
 * are the physical addresses of kernel pages. Other callers get the number
 * and lengths of the segments, with addresses of 0.
 *
 * A map belongs to (object, file): it is counted only while the handle
 * still names the object, so that a map racing the handle's close cannot
 * outlive it, and an undo finds the map again rather than trusting that
 * it is still there.
 */

#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_gem.h"
#include "include/uapi/drm/vprime_drm.h"
#include "vprime_map.h"
#include "vprime_prime.h"

/* The most maps one file may hold on one object. */
#define VPRIME_MAX_USER_MAPS	65536u

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

/*
 * Whether a foreign exporter's mapping suits this device: every segment
 * inside its DMA mask, no longer than its longest segment and inside its
 * segment boundary, and in one piece for a contiguous device. vprime's own
 * exports build their mappings for the importer; other exporters may not.
 */
static int check_foreign_mapping(struct device *dev, struct sg_table *sgt)
{
	unsigned long boundary = dma_get_seg_boundary(dev);
	unsigned int max_seg = dma_get_max_seg_size(dev);
	u64 mask = dma_get_mask(dev);
	struct scatterlist *sg;
	unsigned int i;

	if (vprime_device_needs_contiguous(dev) && sgt->nents > 1)
		return -ERANGE;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t start = sg_dma_address(sg);
		dma_addr_t last = start + sg_dma_len(sg) - 1;

		if (sg_dma_len(sg) > max_seg || last < start || last > mask ||
		    (start & ~(dma_addr_t)boundary) != (last & ~(dma_addr_t)boundary))
			return -ERANGE;
	}
	return 0;
}

/*
 * Whether an import's mapping is pinned while it lives: a foreign dynamic
 * exporter may move its buffer under an unpinned mapping (7.2 does not pin
 * dynamic importers), and the segments are handed to userspace. vprime
 * exporters instead wait for the mapping to go before they move
 * (vprime_bo_wait_idle()); static exporters never move.
 */
static bool import_pins(struct dma_buf *dmabuf)
{
	return dma_buf_is_dynamic(dmabuf) && !vprime_bo_is_exported_by_vprime(dmabuf);
}

/*
 * Check a foreign exporter's mapping, or give it IO addresses when this
 * device is behind an IOMMU: the limits then apply to those.
 */
static int map_foreign_locked(struct vprime_bo *bo, struct sg_table *sgt)
{
	struct vprime_iommu *io = vprime_iommu_of(bo->base.dev->dev);
	struct sg_table *view;

	if (!io)
		return check_foreign_mapping(bo->base.dev->dev, sgt);
	view = vprime_iommu_map_import(io, sgt);
	if (IS_ERR(view))
		return PTR_ERR(view);
	bo->iova_sgt = view;
	return 0;
}

/* Map an import for this device. */
static int map_import_locked(struct vprime_bo *bo)
{
	struct dma_buf_attachment *attach = bo->base.import_attach;
	bool pin = import_pins(attach->dmabuf);
	struct sg_table *sgt;
	int ret;

	if (pin) {
		ret = dma_buf_pin(attach);
		if (ret)
			return ret;
	}
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_unpin;
	}
	ret = 0;
	if (!vprime_bo_is_exported_by_vprime(attach->dmabuf))
		ret = map_foreign_locked(bo, sgt);
	if (ret) {
		dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
		goto err_unpin;
	}
	bo->sgt = sgt;
	return 0;

err_unpin:
	if (pin)
		dma_buf_unpin(attach);
	/* A mapping the device cannot use; swiotlb says -EIO for some of them. */
	return ret == -EIO ? -ERANGE : ret;
}

/* This device's mapping of @bo, made on its first map. */
static int map_for_device_locked(struct vprime_bo *bo)
{
	struct device *dev = bo->base.dev->dev;
	struct vprime_constraints c;
	struct sg_table *sgt;
	int ret;

	dma_resv_assert_held(bo->base.resv);
	if (bo->sgt)
		return 0;
	if (drm_gem_is_imported(&bo->base))
		return map_import_locked(bo);
	ret = vprime_bo_place_locked(bo, NULL, true);
	if (ret)
		return ret;
	vprime_constraints_of_device(dev, &c);
	sgt = vprime_storage_map(&bo->storage, dev, &c, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	atomic_inc(&to_vprime_device(bo->base.dev)->live.mappings);
	atomic_inc(&bo->dev_mappings);
	bo->sgt = sgt;
	return 0;
}

static void unmap_for_device_locked(struct vprime_bo *bo)
{
	struct dma_buf_attachment *attach = bo->base.import_attach;

	dma_resv_assert_held(bo->base.resv);
	if (attach) {
		if (bo->iova_sgt)
			vprime_iommu_unmap(vprime_iommu_of(bo->base.dev->dev), bo->iova_sgt);
		bo->iova_sgt = NULL;
		dma_buf_unmap_attachment(attach, bo->sgt, DMA_BIDIRECTIONAL);
		if (import_pins(attach->dmabuf))
			dma_buf_unpin(attach);
	} else {
		vprime_storage_unmap(bo->sgt, bo->base.dev->dev, DMA_BIDIRECTIONAL);
		atomic_dec(&to_vprime_device(bo->base.dev)->live.mappings);
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
		ret = vprime_bo_wait_idle(owner, deadline);
		if (ret)
			return ret;
	}
}

/* Drop @n of @um's maps, and this device's mapping with the last map. */
static void drop_user_maps_locked(struct vprime_bo *bo, struct vprime_user_map *um,
				  unsigned int n)
{
	dma_resv_assert_held(bo->base.resv);
	um->count -= n;
	bo->map_count -= n;
	if (!um->count) {
		list_del(&um->link);
		kfree(um);
	}
	if (!bo->map_count)
		unmap_for_device_locked(bo);
}

/*
 * The mapping's DMA segments, in a new array of *@count entries; their
 * addresses only for @with_addr.
 */
static struct drm_vprime_segment *collect_segments(struct sg_table *sgt, bool with_addr,
						   unsigned int *count)
{
	struct drm_vprime_segment *segs;
	struct scatterlist *sg;
	unsigned int i;

	segs = kvmalloc_array(sgt->nents, sizeof(*segs), GFP_KERNEL);
	if (!segs)
		return NULL;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		segs[i].addr = with_addr ? sg_dma_address(sg) : 0;
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

/*
 * Take one map of @bo, which @handle names, for @file; returns with the
 * lock held on success. The handle is checked again under the lock: a
 * close that ran while this map waited has already dropped the file's
 * maps, and one that runs later will find this one.
 */
static int take_user_map(struct vprime_bo *bo, struct drm_file *file, u32 handle)
{
	struct vprime_user_map *um, *fresh;
	struct drm_gem_object *found;
	int ret;

	fresh = kzalloc_obj(*fresh, GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;
	ret = map_waiting(bo);
	if (ret)
		goto out_free;
	dma_resv_assert_held(bo->base.resv);
	um = find_user_map(bo, file);
	found = drm_gem_object_lookup(file, handle);
	if (found != &bo->base)
		ret = -ENOENT;
	else if ((um && um->count >= VPRIME_MAX_USER_MAPS) || bo->map_count == UINT_MAX)
		ret = -ENOSPC;
	if (ret) {
		if (!bo->map_count)
			unmap_for_device_locked(bo);
		dma_resv_unlock(bo->base.resv);
		/* Unlocked: it may be the last reference to another object. */
		if (found)
			drm_gem_object_put(found);
		goto out_free;
	}
	drm_gem_object_put(found);	/* @bo: the caller holds another reference */
	if (!um) {
		um = fresh;
		fresh = NULL;
		um->file = file;
		list_add_tail(&um->link, &bo->user_maps);
	}
	um->count++;
	bo->map_count++;
out_free:
	kfree(fresh);
	return ret;
}

/* Undo one map taken by take_user_map(), if a close or UNMAP did not already. */
static void put_user_map(struct vprime_bo *bo, struct drm_file *file)
{
	struct vprime_user_map *um;

	dma_resv_lock(bo->base.resv, NULL);
	um = find_user_map(bo, file);
	if (um)
		drop_user_maps_locked(bo, um, 1);
	dma_resv_unlock(bo->base.resv);
}

/*
 * VPRIME_GEM_MAP: map an object for this device and return its segments.
 *   -EINVAL     flags set
 *   -ENOENT     no such handle, or it was closed meanwhile
 *   -EFAULT     segments_ptr not writable (the map is undone)
 *   -ETIME      the storage must move and other mappings or fences stayed
 *   -EBUSY      the storage must move and is pinned
 *   -ERANGE     a foreign buffer whose mapping this device cannot address
 *   -ENOSPC     past the device's memory limit, too many maps held, or
 *               the IO space of a device behind an IOMMU is full
 *   -EINTR      a fatal signal
 *   -ENOMEM     out of memory: for the storage, its move or its mapping
 */
int vprime_gem_map_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_gem_map *args = data;
	struct drm_vprime_segment *segs;
	struct drm_gem_object *obj;
	struct vprime_bo *bo;
	unsigned int count;
	bool with_addr;
	int ret;

	if (args->flags)
		return -EINVAL;
	/* Not audited: a denial is the common case, not an event. */
	with_addr = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_vprime_bo(obj);

	ret = take_user_map(bo, file, args->handle);
	if (ret)
		goto out;
	dma_resv_assert_held(obj->resv);
	segs = collect_segments(bo->iova_sgt ?: bo->sgt, with_addr, &count);
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
