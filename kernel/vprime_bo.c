// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: buffer placement
 *
 * Where an object's storage lives, and when it may move: the storage is
 * allocated by its first user, placed for every device attached at that
 * moment, and moved (contents and all) when a stricter device has attached
 * since and nothing else holds it. Evictions from VRAM, pins and the waits
 * for devices to let go of the storage are here too. The object's
 * reservation lock protects all of it.
 */

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include <drm/drm_gem.h>
#include <drm/drm_vma_manager.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "include/uapi/drm/vprime_drm.h"
#include "vprime_gem.h"
#include "vprime_placement.h"
#include "vprime_prime.h"
#include "vprime_vmap.h"
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

/**
 * vprime_bo_free_storage - free storage allocated for an object
 * @bo: the object
 * @s: its storage, or storage allocated for a move; may have no pages
 */
void vprime_bo_free_storage(struct vprime_bo *bo, struct vprime_storage *s)
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

/*
 * Whether nothing but jobs holds the storage: no device has it mapped, so
 * that once the jobs' fences have signalled and their cleanup has dropped
 * their vmaps (vprime_gem_job_vunmap()), it may move.
 */
static bool vprime_bo_only_jobs_hold_locked(struct vprime_bo *bo)
{
	struct vprime_attachment *va;

	dma_resv_assert_held(bo->base.resv);
	if (bo->sgt)
		return false;
	list_for_each_entry(va, &bo->attachments, link)
		if (va->map_count)
			return false;
	return true;
}

/**
 * vprime_bo_check_attach_locked - whether a device may attach to an object
 * @bo: the exported object, with its reservation lock held
 * @c: the new device's constraints
 *
 * Returns: 0; -EINVAL when no placement would suit the new device and every
 * other; -EBUSY when the storage would have to move for it but is pinned;
 * -EAGAIN when it would have to move and only jobs keep it from moving now
 * (fences pending, or finished jobs whose cleanup still has it vmapped):
 * a device that maps at attach may wait for them
 * (vprime_bo_wait_jobs()). When other devices have it mapped,
 * this is 0: the device may attach, its map will wait or fail.
 */
int vprime_bo_check_attach_locked(struct vprime_bo *bo, const struct vprime_constraints *c)
{
	struct vprime_constraints all;
	u32 placement;
	int ret;

	dma_resv_assert_held(bo->base.resv);
	vprime_bo_collate_locked(bo, &all);
	vprime_constraints_add(&all, c);
	ret = vprime_bo_choose(bo, &all, &placement);
	if (ret || !bo->storage.pages || vprime_bo_fits_locked(bo, &all))
		return ret;
	ret = vprime_bo_movable_locked(bo, NULL);
	if (ret == -EBUSY)
		return ret;
	if (ret == -EAGAIN)
		return vprime_bo_only_jobs_hold_locked(bo) ? -EAGAIN : 0;
	return dma_resv_test_signaled(bo->base.resv, DMA_RESV_USAGE_BOOKKEEP) ? 0 : -EAGAIN;
}

/**
 * vprime_bo_wait_jobs - wait until no job holds an object's storage
 * @bo: the owner of the storage, unlocked
 * @deadline: in jiffies
 *
 * Waits for every fence of the reservation object, then for the finished
 * jobs' cleanup to drop their vmaps, as WAIT_IDLE does. Interruptible, as
 * WAIT_IDLE is: what it waits for ends by itself (a job ends by its
 * timeout at the latest, its cleanup follows), so a call restarted after
 * a signal does not wait for ever, unlike a wait for another client's
 * mapping (vprime_bo_wait_idle()).
 *
 * Returns: 0, -ETIME at @deadline, or -ERESTARTSYS on a signal.
 */
int vprime_bo_wait_jobs(struct vprime_bo *bo, unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	if (left <= 0)
		return -ETIME;
	left = dma_resv_wait_timeout(bo->base.resv, DMA_RESV_USAGE_BOOKKEEP, true, left);
	if (left > 0)
		left = vprime_gem_wait_jobs_released(&bo->base, left);
	if (left < 0)
		return left;
	return left ? 0 : -ETIME;
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
	int ret;

	dma_resv_assert_held(bo->base.resv);
	ret = vprime_bo_place_locked(bo, NULL, true);
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
	dma_resv_assert_held(bo->base.resv);
	if (WARN_ON(!bo->local_pins))
		return;
	bo->local_pins--;
}
