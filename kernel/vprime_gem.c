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
#include "vprime_fault.h"
#include "include/uapi/drm/vprime_drm.h"
#include "vprime_gem.h"
#include "vprime_vram.h"

/* Every device that maps the storage: this one, and each one attached. */
static void vprime_bo_collate_locked(struct vprime_bo *bo, struct vprime_constraints *c)
{
	struct vprime_constraints own;
	struct vprime_attachment *va;

	dma_resv_assert_held(bo->base.resv);
	vprime_constraints_init(c);
	vprime_constraints_of_device(bo->base.dev->dev, &own);
	vprime_constraints_add(c, &own);
	list_for_each_entry(va, &bo->attachments, link)
		vprime_constraints_add(c, &va->constraints);
}

/*
 * Whether the storage may move now, for @requester (an attachment about to
 * map, or NULL for this device): -EBUSY while it is pinned or vmapped other
 * than by jobs, or while @requester itself holds it (waiting would not
 * help); -EAGAIN while other devices have it mapped or jobs have it vmapped
 * (they will let go); 0 when nothing holds it. A pin that comes with a
 * mapping is the core's pin for that mapping, and counts as the mapping;
 * so does the pin the core takes for the map @requester is making.
 */
static int vprime_bo_movable_locked(struct vprime_bo *bo, struct vprime_attachment *requester)
{
	struct vprime_attachment *va;
	bool held = bo->sgt || bo->job_vmaps;

	dma_resv_assert_held(bo->base.resv);
	if (bo->vmap_count > bo->job_vmaps || bo->local_pins)
		return -EBUSY;
	list_for_each_entry(va, &bo->attachments, link) {
		if (va == requester) {
			if (va->map_count ||
			    va->pins > vprime_compat_core_pins_map(va->attach))
				return -EBUSY;
			continue;
		}
		if (va->map_count)
			held = true;
		else if (va->pins)
			return -EBUSY;
	}
	return held ? -EAGAIN : 0;
}

/*
 * Ask dynamic importers holding mappings to let go, where the kernel can.
 * Every attachment hangs off the exported dma-buf, which outlives the
 * exporter's handles (obj->dma_buf does not).
 */
static void vprime_bo_ask_to_unmap_locked(struct vprime_bo *bo)
{
	struct vprime_device *vdev = to_vprime_device(bo->base.dev);
	struct vprime_attachment *va;

	va = list_first_entry_or_null(&bo->attachments, struct vprime_attachment, link);
	if (va && vprime_compat_invalidate_mappings(va->attach->dmabuf))
		atomic64_inc(&vdev->stats.invalidations_sent);
}

/*
 * CPU mappings of the storage. drm_gem_dmabuf_export() points the dma-buf
 * file's mapping at the device's, and a dma-buf mmap carries the object's
 * fake offset, so this covers mappings through the GEM fd, through the
 * dma-buf fd (even once every GEM handle is closed) and through importers
 * that forward their mmap to the dma-buf.
 */
static void vprime_bo_zap_cpu_mappings(struct vprime_bo *bo)
{
	struct drm_gem_object *obj = &bo->base;

	drm_vma_node_unmap(&obj->vma_node, obj->dev->anon_inode->i_mapping);
}

/*
 * VRAM is reserved already: it is not charged to the memory limit, nor
 * counted in storage_bytes (debugfs "storage", what the limit sees).
 */
static int vprime_bo_alloc_vram(struct vprime_bo *bo, struct vprime_storage *s)
{
	struct vprime_device *vdev = to_vprime_device(bo->base.dev);
	int ret;

	s->pages = kvcalloc(vprime_bo_num_pages(bo), sizeof(*s->pages), GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		return -ENOMEM;
	s->num_pages = vprime_bo_num_pages(bo);
	ret = vprime_vram_alloc(bo, s);
	if (ret) {
		kvfree(s->pages);
		*s = (struct vprime_storage){};
		return ret;
	}
	atomic64_inc(&vdev->stats.allocations);
	return 0;
}

/*
 * Allocate storage for @bo in @placement, charged to the device's memory
 * limit (-ENOSPC past it) and to the caller's memory cgroup; zeroed unless
 * a move copies over all of it (@zero false).
 */
static int vprime_bo_alloc_storage(struct vprime_bo *bo, struct vprime_storage *s,
				   u32 placement, bool zero)
{
	struct vprime_device *vdev = to_vprime_device(bo->base.dev);
	int ret;

	if (vprime_should_fail(VPRIME_FAULT_STORAGE_ALLOC))
		return -ENOMEM;
	if (placement == VPRIME_PLACEMENT_VRAM)
		return vprime_bo_alloc_vram(bo, s);
	if (!vprime_storage_charge(bo->base.size)) {
		ret = -ENOSPC;
		goto err;
	}
	atomic64_add(bo->base.size, &vdev->storage_bytes);
	ret = vprime_storage_alloc(s, placement, vprime_bo_num_pages(bo), zero);
	if (ret)
		goto err_uncharge;
	atomic64_inc(&vdev->stats.allocations);
	return 0;

err_uncharge:
	vprime_storage_uncharge(bo->base.size);
	atomic64_sub(bo->base.size, &vdev->storage_bytes);
err:
	return ret;
}

static void vprime_bo_free_storage(struct vprime_bo *bo, struct vprime_storage *s)
{
	if (!s->pages)
		return;
	if (s->placement == VPRIME_PLACEMENT_VRAM) {
		vprime_vram_free(bo, s);
		kvfree(s->pages);
		*s = (struct vprime_storage){};
		return;
	}
	vprime_storage_free(s);
	vprime_storage_uncharge(bo->base.size);
	atomic64_sub(bo->base.size, &to_vprime_device(bo->base.dev)->storage_bytes);
}

/*
 * Move the storage. Whatever may still access the old pages is fenced in
 * the reservation object (jobs, and dynamic importers that were asked to
 * unmap): while any fence is pending this is -EAGAIN, and the caller waits
 * for them without the lock (vprime_bo_wait_idle()). CPU mappings are
 * zapped before the copy, so that a write through one cannot land in the
 * old pages after they were copied; new faults wait for the lock.
 */
static int vprime_bo_move_locked(struct vprime_bo *bo, u32 placement)
{
	struct vprime_device *vdev = to_vprime_device(bo->base.dev);
	struct vprime_storage moved = {};
	int ret;

	if (!dma_resv_test_signaled(bo->base.resv, DMA_RESV_USAGE_BOOKKEEP))
		return -EAGAIN;
	/* Not zeroed: every page is copied over before the storage is seen. */
	ret = vprime_bo_alloc_storage(bo, &moved, placement, false);
	if (ret)
		return ret;
	/* A copy engine would fail for want of resources. */
	if (vprime_should_fail(VPRIME_FAULT_MIGRATE_COPY)) {
		vprime_bo_free_storage(bo, &moved);
		return -ENOMEM;
	}
	vprime_bo_zap_cpu_mappings(bo);
	vprime_storage_copy(&moved, &bo->storage);
	vprime_bo_free_storage(bo, &bo->storage);
	bo->storage = moved;
	bo->migrations++;
	atomic64_inc(&vdev->stats.migrations);
	atomic64_add(bo->base.size, &vdev->stats.bytes_moved);
	return 0;
}

/*
 * Wait for @bo's fences until @deadline: killable, not interruptible, in
 * slices that look for a fatal signal, so that a harmless signal does not
 * fail the call (a restart would start a new deadline). Returns 0, -ETIME
 * or -EINTR.
 */
static int vprime_bo_wait_fences(struct vprime_bo *bo, unsigned long deadline)
{
	struct dma_resv *resv = bo->base.resv;
	long left;

	while (!dma_resv_test_signaled(resv, DMA_RESV_USAGE_BOOKKEEP)) {
		left = (long)(deadline - jiffies);
		if (left <= 0)
			return -ETIME;
		if (fatal_signal_pending(current))
			return -EINTR;
		dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false, min(left, HZ / 10));
	}
	return 0;
}

/* Whether the storage suits @c: VRAM does while every device reaches it. */
static bool vprime_bo_fits_locked(struct vprime_bo *bo, const struct vprime_constraints *c)
{
	if (bo->storage.placement == VPRIME_PLACEMENT_VRAM)
		return vprime_vram_usable(to_vprime_device(bo->base.dev), c,
					  vprime_bo_num_pages(bo));
	return vprime_storage_fits(bo->base.dev->dev, &bo->storage, c);
}

/* The cheapest placement for @c: the owner's VRAM when it suits, else memory. */
static int vprime_bo_choose(struct vprime_bo *bo, const struct vprime_constraints *c,
			    u32 *placement)
{
	if (vprime_vram_usable(to_vprime_device(bo->base.dev), c, vprime_bo_num_pages(bo))) {
		*placement = VPRIME_PLACEMENT_VRAM;
		return 0;
	}
	return vprime_placement_choose(bo->base.dev->dev, c, vprime_bo_num_pages(bo), placement);
}

/**
 * vprime_bo_evict_locked - move an object out of VRAM to make room
 * @bo: the object, with its reservation lock held
 * @wait: whether to wait for its fences; without, it is -EBUSY while one
 *	is pending
 *
 * Only an object nothing holds goes: dynamic importers that have it mapped
 * are asked to unmap first (where the kernel can), and it is not evicted
 * while they keep it. With @wait its fences are waited for, for at most
 * map_wait_ms, with the lock held, as TTM does. It goes to the placement its devices
 * would get without VRAM. The wait is killable, not interruptible, as
 * GEM_MAP's are (vprime_bo_wait_fences()).
 *
 * Returns: 0; -EBUSY when it is not in VRAM, or pinned, vmapped or mapped;
 * -ETIME when its fences stayed; -EINTR on a fatal signal; the move's error.
 */
int vprime_bo_evict_locked(struct vprime_bo *bo, bool wait)
{
	struct vprime_device *vdev = to_vprime_device(bo->base.dev);
	struct vprime_constraints c;
	u32 placement;
	int ret;

	dma_resv_assert_held(bo->base.resv);
	if (bo->storage.placement != VPRIME_PLACEMENT_VRAM)
		return -EBUSY;
	ret = vprime_bo_movable_locked(bo, NULL);
	if (ret == -EAGAIN) {
		vprime_bo_ask_to_unmap_locked(bo);
		ret = vprime_bo_movable_locked(bo, NULL);
	}
	if (ret)
		return -EBUSY;
	if (!wait && !dma_resv_test_signaled(bo->base.resv, DMA_RESV_USAGE_BOOKKEEP))
		return -EBUSY;
	ret = vprime_bo_wait_fences(bo, jiffies + vprime_map_wait_jiffies());
	if (ret)
		return ret;
	vprime_bo_collate_locked(bo, &c);
	c.no_vram = true;
	if (vprime_placement_choose(bo->base.dev->dev, &c, vprime_bo_num_pages(bo), &placement))
		return -EBUSY;
	ret = vprime_bo_move_locked(bo, placement);
	if (ret)
		return ret;
	bo->evictions++;
	atomic64_inc(&vdev->vram.evictions);
	atomic64_add(bo->base.size, &vdev->vram.evicted_bytes);
	return 0;
}

/* Allocate the storage in @placement, or move it there. */
static int vprime_bo_place_in_locked(struct vprime_bo *bo, struct vprime_attachment *requester,
				     u32 placement)
{
	int ret;

	if (!bo->storage.pages)
		return vprime_bo_alloc_storage(bo, &bo->storage, placement, true);
	ret = vprime_bo_movable_locked(bo, requester);
	if (ret == -EAGAIN)
		vprime_bo_ask_to_unmap_locked(bo);
	return ret ?: vprime_bo_move_locked(bo, placement);
}

/**
 * vprime_bo_place_locked - give an object storage that suits its devices
 * @bo: the object, with its reservation lock held
 * @requester: the attachment about to map it, or NULL for this device or
 *	the CPU
 * @may_move: whether existing storage that does not suit every device may
 *	move (a device map); the CPU takes the storage where it is
 *
 * This is where late allocation happens: the first user of the storage
 * allocates it, placed for every device attached at that moment. Later, a
 * device map moves it, contents and all, when a stricter device has
 * attached since, provided nothing else holds it.
 *
 * Returns: 0; -EINVAL when no placement suits every device; -EBUSY when
 * the storage must move but is pinned or vmapped; -EAGAIN when it must move
 * but other devices have it mapped, jobs have it vmapped or fences on it
 * are pending; -ENOSPC past the memory limit (VRAM full of objects that
 * cannot be evicted is not an error: the next placement is taken); -ENOMEM;
 * -EINTR on a fatal signal. On error nothing has changed.
 */
int vprime_bo_place_locked(struct vprime_bo *bo, struct vprime_attachment *requester,
			   bool may_move)
{
	struct vprime_constraints c;
	u32 placement;
	int ret;

	dma_resv_assert_held(bo->base.resv);
	if (WARN_ON(drm_gem_is_imported(&bo->base)))
		return -EINVAL;
	if (bo->storage.pages && !may_move)
		return 0;

	vprime_bo_collate_locked(bo, &c);
	if (bo->storage.pages && vprime_bo_fits_locked(bo, &c)) {
		vprime_vram_touch(bo);
		return 0;
	}
	ret = vprime_bo_choose(bo, &c, &placement);
	if (ret)
		return ret;
	ret = vprime_bo_place_in_locked(bo, requester, placement);
	if (ret != -ENOSPC || placement != VPRIME_PLACEMENT_VRAM)
		return ret;
	/*
	 * VRAM is preferred, not required: when it is full of objects that
	 * cannot be evicted, the next placement is taken, as TTM walks its
	 * placement list. -ENOSPC stays for the memory limit.
	 */
	c.no_vram = true;
	ret = vprime_placement_choose(bo->base.dev->dev, &c, vprime_bo_num_pages(bo), &placement);
	return ret ?: vprime_bo_place_in_locked(bo, requester, placement);
}

/**
 * vprime_bo_check_attach_locked - whether a device may attach to an object
 * @bo: the exported object, with its reservation lock held
 * @c: the new device's constraints
 *
 * Returns: 0; -EINVAL when no placement would suit the new device and every
 * other; -EBUSY when the storage would have to move for it but is pinned.
 */
int vprime_bo_check_attach_locked(struct vprime_bo *bo, const struct vprime_constraints *c)
{
	struct vprime_constraints all;
	u32 placement;
	int ret;

	vprime_bo_collate_locked(bo, &all);
	vprime_constraints_add(&all, c);
	ret = vprime_bo_choose(bo, &all, &placement);
	if (ret || !bo->storage.pages || vprime_bo_fits_locked(bo, &all))
		return ret;
	ret = vprime_bo_movable_locked(bo, NULL);
	return ret == -EBUSY ? ret : 0;
}

/**
 * vprime_bo_wait_idle - wait until an object's storage may move: no device
 *	has it mapped, no job has it vmapped, and its fences have signalled
 * @bo: the owner of the storage, unlocked
 * @deadline: in jiffies
 *
 * The wait is bounded and killable rather than interruptible: a restarted
 * call would start a new deadline, so a caller under a stream of signals
 * would never time out.
 *
 * Returns: 0, -ETIME at @deadline, or -EINTR on a fatal signal.
 */
int vprime_bo_wait_idle(struct vprime_bo *bo, unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	if (left <= 0)
		return -ETIME;
	left = wait_event_killable_timeout(bo->unmap_wq, !atomic_read(&bo->dev_mappings), left);
	if (left < 0)
		return -EINTR;
	return vprime_bo_wait_fences(bo, deadline);
}

/**
 * vprime_bo_mapping_dropped - account a device mapping of the storage gone
 * @bo: the object
 *
 * Wakes the maps that wait to move the storage.
 */
void vprime_bo_mapping_dropped(struct vprime_bo *bo)
{
	if (atomic_dec_and_test(&bo->dev_mappings))
		wake_up_all(&bo->unmap_wq);
}

/**
 * vprime_bo_storage_owner - the object that owns the storage behind @bo
 * @bo: an object of this device, or an import
 *
 * Returns: @bo itself, or for an import of another vprime instance's
 * object that object (it shares @bo's reservation lock), or NULL for an
 * import from another driver.
 */
struct vprime_bo *vprime_bo_storage_owner(struct vprime_bo *bo)
{
	struct dma_buf *dmabuf;

	if (!drm_gem_is_imported(&bo->base))
		return bo;
	dmabuf = bo->base.import_attach->dmabuf;
	return vprime_bo_is_exported_by_vprime(dmabuf) ? to_vprime_bo(dmabuf->priv) : NULL;
}

/**
 * vprime_bo_pin_waiting - pin vprime storage, waiting for a move if need be
 * @bo: the owner of the storage (vprime_bo_storage_owner()), unlocked
 *
 * Like a map, pinning places the storage for every attached device first;
 * when it must move while other devices have it mapped, this waits for
 * them for at most map_wait_ms.
 *
 * Returns: 0, -ETIME, -EINTR, or vprime_bo_pin_locked()'s error.
 */
int vprime_bo_pin_waiting(struct vprime_bo *bo)
{
	unsigned long deadline = jiffies + vprime_map_wait_jiffies();
	int ret;

	for (;;) {
		ret = dma_resv_lock_interruptible(bo->base.resv, NULL);
		if (ret)
			return ret;
		ret = vprime_bo_pin_locked(bo);
		dma_resv_unlock(bo->base.resv);
		if (ret != -EAGAIN)
			return ret;
		ret = vprime_bo_wait_idle(bo, deadline);
		if (ret)
			return ret;
	}
}

/**
 * vprime_bo_pin_count_locked - every pin of an object's storage
 * @bo: the object, with its reservation lock held
 *
 * Returns: this device's scanout pins plus each attachment's pins.
 */
unsigned int vprime_bo_pin_count_locked(struct vprime_bo *bo)
{
	struct vprime_attachment *va;
	unsigned int pins = bo->local_pins;

	dma_resv_assert_held(bo->base.resv);
	list_for_each_entry(va, &bo->attachments, link)
		pins += va->pins;
	return pins;
}

/**
 * vprime_bo_pin_locked - keep an object's storage where it is, for scanout
 * @bo: the object, with its reservation lock held
 *
 * Places the storage for every attached device first, as a display engine
 * maps it for itself.
 *
 * Returns: 0, or vprime_bo_place_locked()'s error.
 */
int vprime_bo_pin_locked(struct vprime_bo *bo)
{
	int ret = vprime_bo_place_locked(bo, NULL, true);

	if (ret)
		return ret;
	bo->local_pins++;
	return 0;
}

/**
 * vprime_bo_unpin_locked - drop a pin taken by vprime_bo_pin_locked()
 * @bo: the object, with its reservation lock held
 */
void vprime_bo_unpin_locked(struct vprime_bo *bo)
{
	if (WARN_ON(!bo->local_pins))
		return;
	bo->local_pins--;
}

/**
 * vprime_bo_vmap_locked - map an object into the kernel's address space
 * @bo: the object, with its reservation lock held
 * @map: out: where it is mapped
 *
 * The storage cannot move while it is vmapped.
 *
 * Returns: 0, -ENOMEM, -EINVAL when no placement suits every device, or
 * -EOPNOTSUPP for an imported object.
 */
int vprime_bo_vmap_locked(struct vprime_bo *bo, struct iosys_map *map)
{
	int ret;

	dma_resv_assert_held(bo->base.resv);
	if (drm_gem_is_imported(&bo->base))
		return -EOPNOTSUPP;
	if (!bo->vaddr) {
		ret = vprime_bo_place_locked(bo, NULL, false);
		if (ret)
			return ret;
		if (!vprime_should_fail(VPRIME_FAULT_VMAP))
			bo->vaddr = vmap(bo->storage.pages, vprime_bo_num_pages(bo), VM_MAP,
					 PAGE_KERNEL);
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

/*
 * vmap a foreign import through its exporter, with the lock the kernel's
 * dma_buf_vmap() wants: vprime's engine and composer read it as memory, so
 * I/O memory is refused (-EOPNOTSUPP).
 */
static int vprime_gem_vmap_foreign_locked(struct dma_buf *dmabuf, struct iosys_map *map)
{
	int ret = dma_buf_vmap(dmabuf, map);

	if (!ret && map->is_iomem) {
		dma_buf_vunmap(dmabuf, map);
		iosys_map_clear(map);
		ret = -EOPNOTSUPP;
	}
	return ret;
}

static int vprime_gem_vmap_foreign(struct drm_gem_object *obj, struct iosys_map *map)
{
	struct dma_buf *dmabuf = obj->import_attach->dmabuf;
	int ret;

	vprime_compat_vmap_outer_lock(dmabuf->resv);
	ret = vprime_gem_vmap_foreign_locked(dmabuf, map);
	vprime_compat_vmap_outer_unlock(dmabuf->resv);
	return ret;
}

/*
 * &drm_gem_object_funcs.vmap, for the display and the fbdev client. Storage
 * of a vprime instance, this one's or another's behind an import, is
 * mapped at its owner directly (the import shares its reservation lock),
 * as jobs do: the dma-buf core WARNs when an exporter's vmap fails, and
 * this one can fail for want of memory (the storage may be allocated
 * here). Only another driver's buffer goes through dma_buf_vmap().
 */
static int vprime_gem_vmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));
	int ret;

	if (!owner)
		return vprime_gem_vmap_foreign_locked(obj->import_attach->dmabuf, map);
	vprime_compat_vmap_lock(obj->resv);
	ret = vprime_bo_vmap_locked(owner, map);
	vprime_compat_vmap_unlock(obj->resv);
	return ret;
}

static void vprime_gem_vunmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));

	if (!owner) {
		dma_buf_vunmap(obj->import_attach->dmabuf, map);
		return;
	}
	vprime_compat_vmap_lock(obj->resv);
	vprime_bo_vunmap_locked(owner, map);
	vprime_compat_vmap_unlock(obj->resv);
}

/**
 * vprime_gem_job_vmap - map a job's buffer, own or imported, into the kernel
 * @obj: the object, unlocked
 * @map: out: the mapping
 *
 * Storage of a vprime instance (this one's, or another's behind an import)
 * is vmapped as a job's: until the job's buffers are released a move waits
 * for it (vprime_bo_wait_idle()) instead of failing, since a finished
 * job lets go shortly after its fence signals.
 *
 * Returns: 0 or a negative errno: -EOPNOTSUPP for a foreign buffer that is
 * not plain memory.
 */
int vprime_gem_job_vmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));
	int ret;

	if (!owner)
		return vprime_gem_vmap_foreign(obj, map);
	ret = dma_resv_lock_interruptible(owner->base.resv, NULL);
	if (ret)
		return ret;
	ret = vprime_bo_vmap_locked(owner, map);
	if (!ret) {
		WRITE_ONCE(owner->job_vmaps, owner->job_vmaps + 1);
		atomic_inc(&owner->dev_mappings);
	}
	dma_resv_unlock(owner->base.resv);
	return ret;
}

/**
 * vprime_gem_job_vunmap - undo vprime_gem_job_vmap()
 * @obj: the object, unlocked
 * @map: the mapping
 */
void vprime_gem_job_vunmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));
	struct dma_buf *dmabuf;

	if (!owner) {
		dmabuf = obj->import_attach->dmabuf;
		vprime_compat_vmap_outer_lock(dmabuf->resv);
		dma_buf_vunmap(dmabuf, map);
		vprime_compat_vmap_outer_unlock(dmabuf->resv);
		return;
	}
	dma_resv_lock(owner->base.resv, NULL);
	vprime_bo_vunmap_locked(owner, map);
	WRITE_ONCE(owner->job_vmaps, owner->job_vmaps - 1);
	dma_resv_unlock(owner->base.resv);
	vprime_bo_mapping_dropped(owner);
	/* WAIT_IDLE waits for the last job to let go. */
	if (!READ_ONCE(owner->job_vmaps))
		wake_up_all(&owner->unmap_wq);
}

/**
 * vprime_gem_wait_jobs_released - wait until no job holds an object's storage
 * @obj: the object, own or imported, unlocked
 * @timeout: in jiffies
 *
 * A job keeps its buffers vmapped from submit until its cleanup, which runs
 * shortly after its fence signals; until then the storage cannot move for
 * a static importer. For a foreign import there is nothing to wait for.
 *
 * Returns: the jiffies left (at least 1), 0 at the timeout, or
 * -ERESTARTSYS on a signal.
 */
long vprime_gem_wait_jobs_released(struct drm_gem_object *obj, long timeout)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));

	if (!owner || !READ_ONCE(owner->job_vmaps))
		return max(timeout, 1L);
	return wait_event_interruptible_timeout(owner->unmap_wq, !READ_ONCE(owner->job_vmaps),
						timeout);
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
