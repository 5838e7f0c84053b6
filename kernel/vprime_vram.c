// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: device memory (VRAM)
 *
 * An instance given ``vram_mb`` has device-local memory of that size,
 * reserved from the page allocator when the instance is created and handed
 * out page by page: a discrete GPU's VRAM. It sits below 4 GiB, as a BAR
 * window would. VRAM is the cheapest placement for the owner while every
 * device attached to the buffer can reach it, which only peers can: vprime
 * instances named in the owner's ``p2p`` mask, attached dynamically with
 * peer-to-peer allowed. A peer's mapping carries DMA addresses and no
 * struct pages, as amdgpu's mappings of VRAM do (it maps its BAR with
 * dma_map_resource(); vprime maps the pages behind its "BAR", since the DMA
 * API refuses dma_map_resource() of RAM on some kernels). Any other
 * importer makes the buffer move to system memory when it maps it, under
 * the usual rules of a move.
 *
 * When VRAM is full, an allocation evicts the least recently used objects
 * that nothing holds (TTM's ttm_mem_evict_first()): not pinned, not vmapped,
 * not mapped by a device; exported ones' dynamic importers are asked to
 * unmap first. Idle victims are tried first; then the victims' fences are
 * waited for (at most map_wait_ms each). A victim is held by a reference
 * while it is evicted, so that releasing an object never waits.
 * When nothing can be evicted the allocation fails with -ENOSPC, and the
 * caller takes the next placement, system memory (TTM walks its placement
 * list the same way): VRAM is preferred, not required.
 */

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_vram.h"
#include "include/uapi/drm/vprime_drm.h"

static void vprime_vram_release(struct drm_device *drm, void *data)
{
	struct vprime_vram *v = data;
	unsigned long i;

	for (i = 0; i < v->num_pages; i++)
		if (v->pages[i])
			__free_page(v->pages[i]);
	kvfree(v->pages);
	bitmap_free(v->free);
}

/* Reserve the pool in blocks as large as the allocator gives. */
static int vprime_vram_reserve(struct vprime_vram *v)
{
	const gfp_t gfp = GFP_KERNEL | GFP_DMA32 | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	unsigned int order = VPRIME_MAX_PAGE_ORDER;
	unsigned long i = 0, j;
	struct page *block;

	while (i < v->num_pages) {
		while (order && (1UL << order) > v->num_pages - i)
			order--;
		block = alloc_pages(gfp, order);
		if (!block) {
			if (!order)
				return -ENOMEM;
			order--;
			continue;
		}
		split_page(block, order);
		v->top = max(v->top, page_to_phys(block) + (PAGE_SIZE << order) - 1);
		for (j = 0; j < (1UL << order); j++, i++) {
			v->pages[i] = block + j;
			set_page_private(v->pages[i], i);
		}
	}
	return 0;
}

/**
 * vprime_vram_init - give an instance its device memory
 * @vdev: the instance
 * @mb: the size in MiB, 0 for none
 * @peers: the instances that reach it in place, a bit per index
 *
 * The memory is given back when the DRM device is released.
 *
 * Returns: 0 or -ENOMEM.
 */
int vprime_vram_init(struct vprime_device *vdev, unsigned int mb, u32 peers)
{
	struct vprime_vram *v = &vdev->vram;
	int ret;

	spin_lock_init(&v->lock);
	INIT_LIST_HEAD(&v->lru);
	v->peers = peers;
	if (!mb)
		return 0;
	v->num_pages = (unsigned long)mb << (20 - PAGE_SHIFT);
	v->pages = kvcalloc(v->num_pages, sizeof(*v->pages), GFP_KERNEL);
	v->free = bitmap_zalloc(v->num_pages, GFP_KERNEL);
	if (!v->pages || !v->free) {
		kvfree(v->pages);
		bitmap_free(v->free);
		return -ENOMEM;
	}
	ret = drmm_add_action_or_reset(&vdev->drm, vprime_vram_release, v);
	if (ret)
		return ret;
	bitmap_fill(v->free, v->num_pages);
	return vprime_vram_reserve(v);
}

/**
 * vprime_vram_usable - whether VRAM suits an object
 * @vdev: the owning instance
 * @c: the collated constraints of every device that maps the object
 * @num_pages: its size
 *
 * Returns: true when the instance has VRAM at least that large, and no
 * device needs the object contiguous, cannot reach VRAM, or has a DMA mask
 * below the pool's highest address (the pool is taken below 4 GiB, but
 * GFP_DMA32 means nothing where there is no ZONE_DMA32).
 */
bool vprime_vram_usable(struct vprime_device *vdev, const struct vprime_constraints *c,
			unsigned long num_pages)
{
	const struct vprime_vram *v = &vdev->vram;

	return v->num_pages >= num_pages && !c->contiguous && !c->no_vram &&
	       c->dma_mask >= v->top;
}

/**
 * vprime_vram_is_peer - whether an instance reaches another's VRAM in place
 * @owner: the instance that has the VRAM
 * @importer: another instance
 *
 * Returns: true when @owner's p2p mask names @importer.
 */
bool vprime_vram_is_peer(struct vprime_device *owner, struct vprime_device *importer)
{
	return owner != importer && importer->index < 32 &&
	       (owner->vram.peers & BIT(importer->index));
}

/* Take @n free pages for @s; false, with nothing taken, when there are fewer. */
static bool vprime_vram_take_locked(struct vprime_vram *v, struct vprime_bo *bo,
				    struct vprime_storage *s, unsigned long n)
{
	unsigned long i, bit = 0;

	lockdep_assert_held(&v->lock);
	if (v->num_pages - v->used < n)
		return false;
	for (i = 0; i < n; i++) {
		bit = find_next_bit(v->free, v->num_pages, bit);
		__clear_bit(bit, v->free);
		s->pages[i] = v->pages[bit];
	}
	v->used += n;
	list_move_tail(&bo->vram_link, &v->lru);
	return true;
}

/* Drops the reference an eviction took, with no lock held (see below). */
static struct workqueue_struct *vprime_vram_wq;

static void vprime_vram_put_worker(struct work_struct *work)
{
	struct vprime_bo *bo = container_of(work, struct vprime_bo, vram_put_work);
	struct drm_device *drm = bo->base.dev;

	drm_gem_object_put(&bo->base);
	drm_dev_put(drm);
}

/*
 * Drop the reference an eviction took on @victim. The caller holds the
 * allocating object's reservation lock, under which the victim's release
 * must not run (it takes objects_lock, which debugfs takes outside
 * reservation locks): the last reference goes to a worker instead, as TTM
 * defers an object's destruction.
 */
static void vprime_vram_put_victim(struct vprime_bo *victim)
{
	if (refcount_dec_not_one(&victim->base.refcount.refcount))
		return;
	drm_dev_get(victim->base.dev);
	queue_work(vprime_vram_wq, &victim->vram_put_work);
}

/*
 * Take a reference on the least recently used object, other than @bo, that
 * this pass has not tried yet; with @idle_only, only one whose fences have
 * all signalled. NULL when there is none.
 */
static struct vprime_bo *vprime_vram_next_victim(struct vprime_vram *v, struct vprime_bo *bo,
						 u64 seq, bool idle_only)
{
	struct vprime_bo *victim;

	lockdep_assert_held(&v->lock);
	list_for_each_entry(victim, &v->lru, vram_link) {
		if (victim == bo || victim->vram_tried == seq)
			continue;
		victim->vram_tried = seq;
		if (idle_only && !dma_resv_test_signaled(victim->base.resv,
							 DMA_RESV_USAGE_BOOKKEEP))
			continue;
		/* On the LRU it is not freed yet; it may be on its way. */
		if (kref_get_unless_zero(&victim->base.refcount))
			return victim;
	}
	return NULL;
}

/*
 * Evict the least recently used object that can go, other than @bo: the
 * victim is held by a reference, not by a lock, while it is evicted, and
 * its reservation lock is taken with a trylock, as TTM does, so that no
 * lock order is needed between objects and an object's release never waits
 * for an eviction. With @idle_only only victims whose fences have signalled
 * are tried, so that nothing waits while an idle one can go. Returns 0 when
 * one went, -ENOSPC when none could, -EINTR on a fatal signal.
 */
static int vprime_vram_evict_one(struct vprime_vram *v, struct vprime_bo *bo, bool idle_only)
{
	unsigned long tries = 0;
	struct vprime_bo *victim;
	int ret;
	u64 seq;

	spin_lock(&v->lock);
	seq = ++v->evict_seq;
	/*
	 * Another pass may mark objects meanwhile, so that this one meets
	 * them again: no more tries than there are objects on the LRU.
	 */
	list_for_each_entry(victim, &v->lru, vram_link)
		tries++;
	for (; tries; tries--) {
		victim = vprime_vram_next_victim(v, bo, seq, idle_only);
		spin_unlock(&v->lock);
		if (!victim)
			return -ENOSPC;
		ret = -EBUSY;
		if (dma_resv_trylock(victim->base.resv)) {
			ret = vprime_bo_evict_locked(victim, !idle_only);
			dma_resv_unlock(victim->base.resv);
		}
		vprime_vram_put_victim(victim);
		/*
		 * A victim that cannot go, whatever the reason (busy, fences
		 * that stayed, no memory for its move), is skipped: the next
		 * one may go, and when none can the caller places the object
		 * elsewhere. Only a fatal signal stops the walk.
		 */
		if (!ret || ret == -EINTR)
			return ret;
		spin_lock(&v->lock);
	}
	spin_unlock(&v->lock);
	return -ENOSPC;
}

/**
 * vprime_vram_alloc - allocate zeroed VRAM for an object, evicting others
 * @bo: the object, with its reservation lock held
 * @s: out: the storage, its @pages array and size already set
 *
 * Returns: 0; -ENOSPC when VRAM is full of objects that cannot be evicted
 * (the caller then places the object elsewhere); -EINTR on a fatal signal.
 */
int vprime_vram_alloc(struct vprime_bo *bo, struct vprime_storage *s)
{
	struct vprime_vram *v = &to_vprime_device(bo->base.dev)->vram;
	unsigned long i;
	bool taken;
	int ret;

	dma_resv_assert_held(bo->base.resv);
	/* As a pool without room and with nothing to evict. */
	if (vprime_should_fail(VPRIME_FAULT_VRAM_ALLOC))
		return -ENOSPC;
	for (;;) {
		spin_lock(&v->lock);
		taken = vprime_vram_take_locked(v, bo, s, s->num_pages);
		spin_unlock(&v->lock);
		if (taken)
			break;
		/* Idle victims first: their eviction waits for nothing. */
		ret = vprime_vram_evict_one(v, bo, true);
		if (ret == -ENOSPC)
			ret = vprime_vram_evict_one(v, bo, false);
		if (ret)
			return ret;
	}
	/* Someone else's data may have been there. */
	for (i = 0; i < s->num_pages; i++) {
		clear_highpage(s->pages[i]);
		cond_resched();
	}
	s->placement = VPRIME_PLACEMENT_VRAM;
	return 0;
}

/**
 * vprime_vram_free - give an object's VRAM back
 * @bo: the object
 * @s: its VRAM storage, empty afterwards (but for its @pages array)
 */
void vprime_vram_free(struct vprime_bo *bo, struct vprime_storage *s)
{
	struct vprime_vram *v = &to_vprime_device(bo->base.dev)->vram;
	unsigned long i;

	spin_lock(&v->lock);
	for (i = 0; i < s->num_pages; i++) {
		if (!s->pages[i])
			continue;
		__set_bit(page_private(s->pages[i]), v->free);
		v->used--;
		s->pages[i] = NULL;
	}
	list_del_init(&bo->vram_link);
	spin_unlock(&v->lock);
}

/**
 * vprime_vram_touch - note that a device used an object, for eviction
 * @bo: the object, with its reservation lock held
 */
void vprime_vram_touch(struct vprime_bo *bo)
{
	struct vprime_vram *v = &to_vprime_device(bo->base.dev)->vram;

	dma_resv_assert_held(bo->base.resv);
	if (bo->storage.placement != VPRIME_PLACEMENT_VRAM)
		return;
	spin_lock(&v->lock);
	if (!list_empty(&bo->vram_link))
		list_move_tail(&bo->vram_link, &v->lru);
	spin_unlock(&v->lock);
}

/**
 * vprime_vram_bo_init - initialise an object's VRAM fields
 * @bo: a new object
 */
void vprime_vram_bo_init(struct vprime_bo *bo)
{
	INIT_LIST_HEAD(&bo->vram_link);
	INIT_WORK(&bo->vram_put_work, vprime_vram_put_worker);
}

/**
 * vprime_vram_bo_gone - take an object being released off the LRU
 * @bo: the object, with no references left
 *
 * No eviction works on it: an eviction holds a reference on its victim,
 * taken with kref_get_unless_zero() under &vprime_vram.lock, so nothing is
 * waited for here.
 */
void vprime_vram_bo_gone(struct vprime_bo *bo)
{
	struct vprime_vram *v = &to_vprime_device(bo->base.dev)->vram;

	if (!v->num_pages)
		return;
	spin_lock(&v->lock);
	list_del_init(&bo->vram_link);
	spin_unlock(&v->lock);
}

/**
 * vprime_vram_module_init - create the workqueue evictions drop references on
 *
 * Returns: 0 or -ENOMEM.
 */
int vprime_vram_module_init(void)
{
	vprime_vram_wq = alloc_workqueue("vprime_vram", WQ_UNBOUND, 0);
	return vprime_vram_wq ? 0 : -ENOMEM;
}

/**
 * vprime_vram_module_exit - drop the references evictions left to the
 *	workqueue, and destroy it
 */
void vprime_vram_module_exit(void)
{
	destroy_workqueue(vprime_vram_wq);
}

/* Whether page @i extends [start, start + len) within @c's segment limits. */
static bool vprime_vram_extends(const struct vprime_storage *s, unsigned long i, phys_addr_t start,
				unsigned int len, const struct vprime_constraints *c)
{
	phys_addr_t p = page_to_phys(s->pages[i]);

	return p == start + len && len + PAGE_SIZE <= c->max_segment &&
	       (start & ~(phys_addr_t)c->seg_boundary) ==
	       ((p + PAGE_SIZE - 1) & ~(phys_addr_t)c->seg_boundary);
}

/* The segments of @s for @c; map each into @sgt for @dev when it is given. */
static int vprime_vram_walk(const struct vprime_storage *s, const struct vprime_constraints *c,
			    struct sg_table *sgt, struct device *dev, enum dma_data_direction dir)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	unsigned int n = 0, len = 0;
	phys_addr_t start = 0;
	dma_addr_t addr;
	unsigned long i;

	for (i = 0; i <= s->num_pages; i++) {
		if (i < s->num_pages && len && vprime_vram_extends(s, i, start, len, c)) {
			len += PAGE_SIZE;
			continue;
		}
		if (len && sg) {
			addr = dma_map_page_attrs(dev, pfn_to_page(PHYS_PFN(start)), 0, len,
						  dir, 0);
			if (dma_mapping_error(dev, addr))
				return -EIO;
			sg_dma_address(sg) = addr;
			sg_dma_len(sg) = len;
			sgt->nents = n + 1;
			sg = sg_next(sg);
		}
		n += !!len;
		if (i < s->num_pages) {
			start = page_to_phys(s->pages[i]);
			len = PAGE_SIZE;
		}
	}
	return n;
}

static void vprime_vram_unmap_segments(struct sg_table *sgt, struct device *dev,
				       enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i)
		dma_unmap_page_attrs(dev, sg_dma_address(sg), sg_dma_len(sg), dir, 0);
}

/**
 * vprime_vram_map_peer - map an object's VRAM for a peer, in place
 * @bo: the object, with its reservation lock held, its storage in VRAM
 * @dev: the peer
 * @c: the peer's constraints: they shape the segments
 * @dir: the direction of the transfer
 *
 * The table has DMA addresses and lengths only, no struct pages: importers
 * must not use sg_page() (the dma-buf core's DMABUF_DEBUG checks that).
 *
 * Returns: the table, or an ERR_PTR(): -ENOMEM, or -EIO when the peer
 * cannot address it.
 */
struct sg_table *vprime_vram_map_peer(struct vprime_bo *bo, struct device *dev,
				      const struct vprime_constraints *c,
				      enum dma_data_direction dir)
{
	struct vprime_vram *v = &to_vprime_device(bo->base.dev)->vram;
	struct sg_table *sgt;
	int ret;

	dma_resv_assert_held(bo->base.resv);
	if (vprime_should_fail(VPRIME_FAULT_SGT_BUILD))
		return ERR_PTR(-ENOMEM);
	sgt = kzalloc_obj(*sgt, GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, vprime_vram_walk(&bo->storage, c, NULL, dev, dir), GFP_KERNEL);
	if (ret)
		goto err_free;
	sgt->nents = 0;
	if (vprime_should_fail(VPRIME_FAULT_DMA_MAP))
		ret = -ENOMEM;
	else
		ret = vprime_vram_walk(&bo->storage, c, sgt, dev, dir);
	if (ret < 0)
		goto err_unmap;
	atomic_inc(&v->peer_mappings);
	return sgt;

err_unmap:
	vprime_vram_unmap_segments(sgt, dev, dir);
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

/**
 * vprime_vram_unmap_peer - undo vprime_vram_map_peer()
 * @bo: the object, with its reservation lock held
 * @sgt: a mapping of it
 * @dev: the device it was made for
 * @dir: the direction it was made with
 *
 * Returns: false, having done nothing, when @sgt is not a peer mapping
 * (it has struct pages).
 */
bool vprime_vram_unmap_peer(struct vprime_bo *bo, struct sg_table *sgt, struct device *dev,
			    enum dma_data_direction dir)
{
	struct vprime_vram *v = &to_vprime_device(bo->base.dev)->vram;

	dma_resv_assert_held(bo->base.resv);
	if (sg_page(sgt->sgl))
		return false;
	vprime_vram_unmap_segments(sgt, dev, dir);
	sg_free_table(sgt);
	kfree(sgt);
	atomic_dec(&v->peer_mappings);
	return true;
}
