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
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/vmalloc.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_prime.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "include/uapi/drm/vprime_drm.h"
#include "vprime_gem.h"

static void vprime_bo_free_pages(struct vprime_bo *bo)
{
	unsigned long i;

	if (!bo->pages)
		return;
	for (i = 0; i < vprime_bo_num_pages(bo); i++)
		if (bo->pages[i])
			__free_page(bo->pages[i]);
	kvfree(bo->pages);
	bo->pages = NULL;
}

/**
 * vprime_bo_populate_locked - give an object its backing storage
 * @bo: the object, with its reservation lock held
 *
 * Does nothing when the object has its pages already. This is where late
 * allocation happens: the first user of the storage calls it.
 *
 * Returns: 0, or -ENOMEM with nothing allocated.
 */
int vprime_bo_populate_locked(struct vprime_bo *bo)
{
	unsigned long i, n = vprime_bo_num_pages(bo);

	dma_resv_assert_held(bo->base.resv);
	if (bo->pages)
		return 0;
	if (WARN_ON(drm_gem_is_imported(&bo->base)))
		return -EINVAL;

	bo->pages = kvcalloc(n, sizeof(*bo->pages), GFP_KERNEL);
	if (!bo->pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		bo->pages[i] = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_NOWARN);
		if (!bo->pages[i]) {
			vprime_bo_free_pages(bo);
			return -ENOMEM;
		}
	}
	atomic64_inc(&to_vprime_device(bo->base.dev)->stats.allocations);
	return 0;
}

/**
 * vprime_bo_vmap_locked - map an object into the kernel's address space
 * @bo: the object, with its reservation lock held
 * @map: out: where it is mapped
 *
 * Returns: 0, -ENOMEM, or the exporter's error for an imported object.
 */
int vprime_bo_vmap_locked(struct vprime_bo *bo, struct iosys_map *map)
{
	int ret;

	dma_resv_assert_held(bo->base.resv);
	if (drm_gem_is_imported(&bo->base))
		return -EOPNOTSUPP;
	if (!bo->vaddr) {
		ret = vprime_bo_populate_locked(bo);
		if (ret)
			return ret;
		bo->vaddr = vmap(bo->pages, vprime_bo_num_pages(bo), VM_MAP, PAGE_KERNEL);
		if (!bo->vaddr)
			return -ENOMEM;
	}
	bo->vmap_count++;
	iosys_map_set_vaddr(map, bo->vaddr);
	return 0;
}

/**
 * vprime_bo_vunmap_locked - drop a kernel mapping made by
 *	vprime_bo_vmap_locked()
 * @bo: the object, with its reservation lock held
 * @map: the mapping
 */
void vprime_bo_vunmap_locked(struct vprime_bo *bo, struct iosys_map *map)
{
	dma_resv_assert_held(bo->base.resv);
	if (WARN_ON(!bo->vmap_count || map->vaddr != bo->vaddr))
		return;
	if (--bo->vmap_count)
		return;
	vunmap(bo->vaddr);
	bo->vaddr = NULL;
}

static vm_fault_t vprime_gem_fault(struct vm_fault *vmf)
{
	struct drm_gem_object *obj = vmf->vma->vm_private_data;
	struct vprime_bo *bo = to_vprime_bo(obj);
	pgoff_t index = vmf->pgoff - drm_vma_node_start(&obj->vma_node);
	vm_fault_t ret;

	if (index >= vprime_bo_num_pages(bo))
		return VM_FAULT_SIGBUS;

	dma_resv_lock(obj->resv, NULL);
	if (vprime_bo_populate_locked(bo))
		ret = VM_FAULT_OOM;
	else
		ret = vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(bo->pages[index]));
	dma_resv_unlock(obj->resv);
	return ret;
}

static const struct vm_operations_struct vprime_gem_vm_ops = {
	.fault = vprime_gem_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static int vprime_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	int ret;

	if (drm_gem_is_imported(obj)) {
		/* The exporter maps its own memory; drop our vm_ops and the
		 * reference drm_gem_mmap_obj() took for them.
		 */
		vma->vm_private_data = NULL;
		vma->vm_ops = NULL;
		ret = dma_buf_mmap(obj->import_attach->dmabuf, vma, 0);
		if (!ret)
			drm_gem_object_put(obj);
		return ret;
	}

	vprime_compat_vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
	return 0;
}

static void vprime_gem_free(struct drm_gem_object *obj)
{
	struct vprime_bo *bo = to_vprime_bo(obj);
	struct vprime_device *vdev = to_vprime_device(obj->dev);

	mutex_lock(&vdev->objects_lock);
	list_del(&bo->link);
	mutex_unlock(&vdev->objects_lock);

	if (drm_gem_is_imported(obj)) {
		drm_prime_gem_destroy(obj, bo->sgt);
	} else {
		WARN_ON(bo->vmap_count);
		if (bo->vaddr)
			vunmap(bo->vaddr);
		vprime_bo_free_pages(bo);
	}
	WARN_ON(!list_empty(&bo->attachments));
	mutex_destroy(&bo->lock);
	drm_gem_object_release(obj);
	kfree(bo);
}

static const struct drm_gem_object_funcs vprime_gem_funcs = {
	.free = vprime_gem_free,
	.export = vprime_gem_prime_export,
	.mmap = vprime_gem_mmap,
	.vm_ops = &vprime_gem_vm_ops,
};

/**
 * vprime_bo_create - create an object without backing storage
 * @drm: the device
 * @size: its size in bytes, a whole number of pages
 *
 * Returns: the object, or an ERR_PTR(): -EINVAL for a size of 0 or larger
 * than the machine's memory, -ENOMEM.
 */
struct vprime_bo *vprime_bo_create(struct drm_device *drm, size_t size)
{
	struct vprime_device *vdev = to_vprime_device(drm);
	struct vprime_bo *bo;
	int ret;

	if (!size || !PAGE_ALIGNED(size) || size >> PAGE_SHIFT > totalram_pages())
		return ERR_PTR(-EINVAL);

	bo = kzalloc_obj(*bo, GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->base.funcs = &vprime_gem_funcs;
	drm_gem_private_object_init(drm, &bo->base, size);
	mutex_init(&bo->lock);
	INIT_LIST_HEAD(&bo->attachments);

	ret = drm_gem_create_mmap_offset(&bo->base);
	if (ret) {
		mutex_destroy(&bo->lock);
		drm_gem_object_release(&bo->base);
		kfree(bo);
		return ERR_PTR(ret);
	}

	bo->id = atomic64_inc_return(&vdev->next_bo_id);
	mutex_lock(&vdev->objects_lock);
	list_add_tail(&bo->link, &vdev->objects);
	mutex_unlock(&vdev->objects_lock);
	return bo;
}

/* Create an object and a handle to it; the handle holds the only reference. */
static int vprime_bo_create_with_handle(struct drm_file *file, struct drm_device *drm,
					size_t size, u32 *handle)
{
	struct vprime_bo *bo = vprime_bo_create(drm, size);
	int ret;

	if (IS_ERR(bo))
		return PTR_ERR(bo);
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
 * Returns: 0, -EINVAL for a size that overflows, -ENOMEM.
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

/*
 * VPRIME_GEM_CREATE: create an object of args->size bytes, rounded up to
 * whole pages, with no backing storage yet.
 *   -EINVAL  flags set, size 0, larger than memory, or overflowing when rounded
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

	if (bo->pages || drm_gem_is_imported(&bo->base))
		state |= VPRIME_BO_STATE_POPULATED;
	if (drm_gem_is_imported(&bo->base))
		state |= VPRIME_BO_STATE_IMPORTED;
	if (bo->base.dma_buf)
		state |= VPRIME_BO_STATE_EXPORTED;
	return state;
}

/*
 * VPRIME_GEM_INFO: an object's size, mmap offset, backing storage and the
 * devices attached to it.
 *   -EINVAL  flags or padding set
 *   -ENOENT  no such handle
 */
int vprime_gem_info_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_gem_info *args = data;
	struct vprime_attachment *va;
	struct drm_gem_object *obj;
	struct vprime_bo *bo;
	int ret;

	if (args->flags || args->pad)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_vprime_bo(obj);

	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (ret)
		goto out;
	args->size = obj->size;
	args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
	args->num_pages = bo->pages || drm_gem_is_imported(obj) ? vprime_bo_num_pages(bo) : 0;
	args->state = vprime_bo_state(bo);
	dma_resv_unlock(obj->resv);

	args->num_attachments = 0;
	args->num_mapped = 0;
	mutex_lock(&bo->lock);
	list_for_each_entry(va, &bo->attachments, link) {
		args->num_attachments++;
		args->num_mapped += !!va->sgt;
	}
	mutex_unlock(&bo->lock);
out:
	drm_gem_object_put(obj);
	return ret;
}
