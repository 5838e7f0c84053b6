// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: kernel mappings
 *
 * The engine, the display and the fbdev client read and write objects
 * through a kernel mapping (vmap) of their storage. A vprime object's
 * storage is vmapped at its owner, the exporting instance for an import
 * between instances, under the owner's reservation lock; the mapping is
 * counted, and the storage cannot move while it is held, but for the
 * mappings jobs hold, which a move waits for (vprime_bo_wait_idle()).
 * Another driver's buffer is vmapped through dma_buf_vmap() and must be
 * plain memory.
 */

#include <linux/dma-buf.h>
#include <linux/iosys-map.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include <drm/drm_gem.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_vmap.h"

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

/**
 * vprime_gem_vmap - &drm_gem_object_funcs.vmap, for the display and the
 *	fbdev client
 * @obj: the object, with its reservation lock held where the kernel's
 *	callers take it (VPRIME_VMAP_LOCKED_BY_CALLER)
 * @map: out: the mapping
 *
 * Storage of a vprime instance, this one's or another's behind an import, is
 * mapped at its owner directly (the import shares its reservation lock),
 * as jobs do: the dma-buf core WARNs when an exporter's vmap fails, and
 * this one can fail for want of memory (the storage may be allocated
 * here). Only another driver's buffer goes through dma_buf_vmap().
 *
 * Returns: 0 or a negative errno.
 */
int vprime_gem_vmap(struct drm_gem_object *obj, struct iosys_map *map)
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

/**
 * vprime_gem_vunmap - &drm_gem_object_funcs.vunmap: undo vprime_gem_vmap()
 * @obj: the object, locked as for vprime_gem_vmap()
 * @map: the mapping
 */
void vprime_gem_vunmap(struct drm_gem_object *obj, struct iosys_map *map)
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
