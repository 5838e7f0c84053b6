// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: buffer objects
 *
 * A vprime buffer object owns its backing storage instead of borrowing
 * shmem's, because the storage is chosen late and can move: an object is
 * created with no pages at all, and they are allocated the first time anyone
 * needs them — a CPU page fault, a kernel mapping (vmap), or a device
 * mapping its attachment to the exported dma-buf. The object's reservation
 * lock protects the pages and the kernel mapping.
 *
 * Userspace maps an object through the fake offset (DRM_IOCTL_VPRIME_GEM_INFO
 * or DRM_IOCTL_MODE_MAP_DUMB gives it); pages are inserted one fault at a
 * time. An imported object is mapped through its exporter.
 */

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/vmalloc.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_prime.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "include/uapi/drm/vprime_drm.h"
#include "vprime_gem.h"
#include "vprime_map.h"
#include "vprime_prime.h"
#include "vprime_vmap.h"
#include "vprime_vram.h"

static vm_fault_t vprime_gem_fault(struct vm_fault *vmf)
{
	struct drm_gem_object *obj = vmf->vma->vm_private_data;
	struct vprime_bo *bo = to_vprime_bo(obj);
	pgoff_t index = vmf->pgoff - drm_vma_node_start(&obj->vma_node);
	vm_fault_t ret;
	int err;

	if (index >= vprime_bo_num_pages(bo))
		return VM_FAULT_SIGBUS;

	dma_resv_lock(obj->resv, NULL);
	/*
	 * Storage is allocated without the OOM killer, so VM_FAULT_OOM would
	 * only make the fault retry for ever: out of memory (or past the
	 * limit) is SIGBUS; a fatal signal lets the kill proceed.
	 */
	err = vprime_bo_place_locked(bo, NULL, false);
	if (err == -EINTR)
		ret = VM_FAULT_NOPAGE;
	else if (err)
		ret = VM_FAULT_SIGBUS;
	else
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     page_to_pfn(bo->storage.pages[index]));
	dma_resv_unlock(obj->resv);
	return ret;
}

static const struct vm_operations_struct vprime_gem_vm_ops = {
	.fault = vprime_gem_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

/*
 * An imported object is mapped by its exporter (dma_buf_mmap()), with no
 * more rights than the dma-buf's own file gives: the VFS checked the DRM
 * file's mode, not the dma-buf's, so a shared mapping of a read-only
 * dma-buf must not be writable (-EACCES) nor become so (VM_MAYWRITE
 * cleared), as through the dma-buf's own fd. An exporter without mmap gets
 * -ENODEV, mmap(2)'s word for a file that cannot be mapped. MAP_PRIVATE is
 * -EINVAL, as for vprime's own objects, whatever the exporter would allow.
 */
static int vprime_gem_mmap_imported(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct dma_buf *dmabuf = obj->import_attach->dmabuf;
	int ret;

	if (!dmabuf->ops->mmap)
		return -ENODEV;
	if (vma_is_cow_mapping(vma))
		return -EINVAL;
	if ((vma->vm_flags & VM_MAYSHARE) && !(dmabuf->file->f_mode & FMODE_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vprime_compat_vm_flags_clear(vma, VM_MAYWRITE);
	}
	/*
	 * The exporter maps its own memory; drop our vm_ops and the reference
	 * drm_gem_mmap_obj() took for them. The GEM core wants VM_DONTEXPAND
	 * on every mapping, whatever the exporter sets.
	 */
	vma->vm_private_data = NULL;
	vma->vm_ops = NULL;
	vprime_compat_vm_flags_set(vma, VM_DONTEXPAND);
	ret = dma_buf_mmap(dmabuf, vma, 0);
	if (!ret)
		drm_gem_object_put(obj);
	return ret;
}

static int vprime_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	if (drm_gem_is_imported(obj))
		return vprime_gem_mmap_imported(obj, vma);

	/*
	 * Pages are inserted by PFN, which a private (copy-on-write) mapping
	 * cannot take: vmf_insert_pfn() BUG()s on one. MAP_PRIVATE is refused,
	 * through the GEM fd and the dma-buf fd alike, as shmem and udmabuf do.
	 */
	if (vma_is_cow_mapping(vma))
		return -EINVAL;
	vprime_compat_vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
	return 0;
}

static void vprime_gem_free(struct drm_gem_object *obj)
{
	struct vprime_bo *bo = to_vprime_bo(obj);
	struct vprime_device *vdev = to_vprime_device(obj->dev);

	vprime_vram_bo_gone(bo);
	mutex_lock(&vdev->objects_lock);
	list_del(&bo->link);
	mutex_unlock(&vdev->objects_lock);

	/* Handles are gone, and with them every userspace map. */
	WARN_ON(bo->sgt || bo->map_count || !list_empty(&bo->user_maps));
	if (drm_gem_is_imported(obj)) {
		drm_prime_gem_destroy(obj, NULL);
	} else {
		WARN_ON(bo->vmap_count || bo->local_pins);
		if (bo->vaddr)
			vunmap(bo->vaddr);
		vprime_bo_free_storage(bo, &bo->storage);
	}
	WARN_ON(!list_empty(&bo->attachments));
	atomic64_sub(obj->size, &vdev->object_bytes);
	drm_gem_object_release(obj);
	kfree(bo);
}

static void vprime_gem_close(struct drm_gem_object *obj, struct drm_file *file)
{
	vprime_gem_close_user_maps(to_vprime_bo(obj), file);
}

static const struct drm_gem_object_funcs vprime_gem_funcs = {
	.free = vprime_gem_free,
	.close = vprime_gem_close,
	.vmap = vprime_gem_vmap,
	.vunmap = vprime_gem_vunmap,
	.export = vprime_gem_prime_export,
	.mmap = vprime_gem_mmap,
	.vm_ops = &vprime_gem_vm_ops,
};

/**
 * vprime_bo_create - create an object without backing storage
 * @drm: the device
 * @size: its size in bytes, a whole number of pages
 *
 * The object is not yet on the device's list: vprime_bo_publish() puts it
 * there once it is whole.
 *
 * Returns: the object, or an ERR_PTR(): -EINVAL for a size of 0, -ENOSPC
 * when the device's objects would take more than their share of the mmap
 * offset space (vprime_object_space_bytes()), -ENOMEM.
 */
struct vprime_bo *vprime_bo_create(struct drm_device *drm, size_t size)
{
	struct vprime_device *vdev = to_vprime_device(drm);
	struct vprime_bo *bo;
	int ret;

	if (!size || !PAGE_ALIGNED(size))
		return ERR_PTR(-EINVAL);
	if (atomic64_add_return(size, &vdev->object_bytes) > vprime_object_space_bytes()) {
		ret = -ENOSPC;
		goto err_space;
	}
	bo = kzalloc_obj(*bo, GFP_KERNEL_ACCOUNT);
	if (!bo) {
		ret = -ENOMEM;
		goto err_space;
	}
	bo->base.funcs = &vprime_gem_funcs;
	drm_gem_private_object_init(drm, &bo->base, size);
	INIT_LIST_HEAD(&bo->attachments);
	INIT_LIST_HEAD(&bo->user_maps);
	INIT_LIST_HEAD(&bo->link);
	vprime_vram_bo_init(bo);
	init_waitqueue_head(&bo->unmap_wq);

	/* From here vprime_gem_free() gives the space back. */
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (ret) {
		drm_gem_object_put(&bo->base);
		return ERR_PTR(ret);
	}
	bo->id = atomic64_inc_return(&vdev->next_bo_id);
	return bo;

err_space:
	atomic64_sub(size, &vdev->object_bytes);
	return ERR_PTR(ret);
}

/**
 * vprime_bo_publish - show a fully built object in debugfs
 * @bo: the object
 */
void vprime_bo_publish(struct vprime_bo *bo)
{
	struct vprime_device *vdev = to_vprime_device(bo->base.dev);

	mutex_lock(&vdev->objects_lock);
	list_add_tail(&bo->link, &vdev->objects);
	mutex_unlock(&vdev->objects_lock);
}

/*
 * Whether this device could ever place an object of @size on its own: a
 * contiguous instance cannot hold more than one page block or one segment,
 * one behind an IOMMU more than its IO space (or, contiguous, one IO
 * segment), and no instance more than its memory limit.
 */
static int vprime_bo_check_size(struct drm_device *drm, u64 size)
{
	struct vprime_constraints c;
	u32 placement;

	if (size > vprime_mem_limit_bytes() || vprime_iommu_check_size(drm->dev, size))
		return -EINVAL;
	vprime_constraints_init(&c);
	vprime_constraints_of_device(drm->dev, &c);
	return vprime_placement_choose(drm->dev, &c, size >> PAGE_SHIFT, &placement);
}

/* Create an object and a handle to it; the handle holds the only reference. */
static int vprime_bo_create_with_handle(struct drm_file *file, struct drm_device *drm,
					size_t size, u32 *handle)
{
	struct vprime_bo *bo;
	int ret;

	ret = vprime_bo_check_size(drm, size);
	if (ret)
		return ret;
	bo = vprime_bo_create(drm, size);
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	vprime_bo_publish(bo);
	ret = drm_gem_handle_create(file, &bo->base, handle);
	drm_gem_object_put(&bo->base);
	return ret;
}

/**
 * vprime_gem_dumb_create - &drm_driver.dumb_create: a linear buffer for KMS
 * @file: the client
 * @drm: the device
 * @args: width, height and bpp in; pitch, size and handle out
 *
 * Returns: 0, -EINVAL for a size that overflows or that this device could
 * never place, -ENOSPC when the device's objects take too much room,
 * -ENOMEM.
 */
int vprime_gem_dumb_create(struct drm_file *file, struct drm_device *drm,
			   struct drm_mode_create_dumb *args)
{
	u64 pitch, size;

	pitch = DIV_ROUND_UP((u64)args->width * args->bpp, 8);
	if (check_mul_overflow(pitch, (u64)args->height, &size) || pitch > U32_MAX)
		return -EINVAL;
	size = PAGE_ALIGN(size);
	if (!size || size > SIZE_MAX)
		return -EINVAL;
	args->pitch = pitch;
	args->size = size;
	return vprime_bo_create_with_handle(file, drm, size, &args->handle);
}

/**
 * vprime_gem_dumb_map_offset - &drm_driver.dumb_map_offset: MODE_MAP_DUMB
 * @file: the client
 * @drm: the device
 * @handle: one of @file's handles
 * @offset: the object's fake mmap offset, out
 *
 * Unlike drm_gem_dumb_map_offset(), which refuses imported objects with
 * -EINVAL (6.1 to 7.2), this gives an imported object's offset too: its
 * mmap goes to the exporter (vprime_gem_mmap_imported()). Mesa's kms_swrast
 * reads and writes the buffers it imports that way. Every object has its
 * offset from creation on, so nothing is allocated here.
 *
 * Returns: 0, -ENOENT for an unknown handle, -ENODEV for an imported object
 * whose exporter cannot mmap.
 */
int vprime_gem_dumb_map_offset(struct drm_file *file, struct drm_device *drm, u32 handle,
			       u64 *offset)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);
	int ret = 0;

	if (!obj)
		return -ENOENT;
	if (drm_gem_is_imported(obj) && !obj->import_attach->dmabuf->ops->mmap)
		ret = -ENODEV;
	else
		*offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}

/*
 * VPRIME_GEM_CREATE: create an object of args->size bytes, rounded up to
 * whole pages, with no backing storage yet.
 *   -EINVAL  flags set, size 0, overflowing when rounded, larger than the
 *            device's memory limit, or a size this device can never place
 *            (more than one page block or segment on a contiguous device)
 *   -ENOSPC  the device's objects would take too much of the mmap space
 *   -ENOMEM  out of memory for the object itself
 */
int vprime_gem_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_gem_create *args = data;
	u64 size = args->size;
	int ret;

	if (args->flags)
		return -EINVAL;
	if (!size || size > SIZE_MAX - PAGE_SIZE + 1)
		return -EINVAL;
	size = PAGE_ALIGN(size);

	ret = vprime_bo_create_with_handle(file, drm, size, &args->handle);
	if (ret)
		return ret;
	args->size = size;
	return 0;
}

static u32 vprime_bo_state(struct vprime_bo *bo)
{
	u32 state = 0;

	if (bo->storage.pages || drm_gem_is_imported(&bo->base))
		state |= VPRIME_BO_STATE_POPULATED;
	if (drm_gem_is_imported(&bo->base))
		state |= VPRIME_BO_STATE_IMPORTED;
	if (bo->base.dma_buf)
		state |= VPRIME_BO_STATE_EXPORTED;
	return state;
}

static void vprime_bo_fill_info_locked(struct vprime_bo *bo, struct drm_vprime_gem_info *args)
{
	bool imported = drm_gem_is_imported(&bo->base);
	struct vprime_attachment *va;

	args->size = bo->base.size;
	args->mmap_offset = drm_vma_node_offset_addr(&bo->base.vma_node);
	args->num_pages = imported ? vprime_bo_num_pages(bo) : bo->storage.num_pages;
	args->state = vprime_bo_state(bo);
	args->placement = imported ? VPRIME_PLACEMENT_IMPORTED : bo->storage.placement;
	args->pin_count = vprime_bo_pin_count_locked(bo);
	args->migrations = bo->migrations;
	args->num_attachments = 0;
	args->num_mapped = 0;
	args->evictions = bo->evictions;
	args->num_peer_mapped = 0;
	list_for_each_entry(va, &bo->attachments, link) {
		args->num_attachments++;
		args->num_mapped += !!va->map_count;
		/* Only peers map storage in VRAM: the others move it. */
		if (bo->storage.placement == VPRIME_PLACEMENT_VRAM)
			args->num_peer_mapped += !!va->map_count;
	}
}

/*
 * VPRIME_GEM_INFO: an object's size, mmap offset, storage and placement, and
 * the devices attached to it. The fields from @evictions on are new: an
 * older caller's shorter struct is zero-extended by the DRM core.
 *   -EINVAL  flags or padding set
 *   -ENOENT  no such handle
 */
int vprime_gem_info_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_gem_info *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->flags || args->pad || args->pad2)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (!ret) {
		vprime_bo_fill_info_locked(to_vprime_bo(obj), args);
		dma_resv_unlock(obj->resv);
	}
	drm_gem_object_put(obj);
	return ret;
}
