// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: placement
 *
 * The placement engine decides where an object's storage goes, from the
 * constraints of every device that will map it: the exporting vprime
 * instance and each device attached to the exported dma-buf. Constraints are
 * collated by taking the strictest of each (the smallest address mask,
 * segment size and boundary; contiguity if anyone needs it), and the
 * cheapest placement that satisfies the result is chosen:
 *
 * ======================  =============================================
 * SYSTEM                  single pages from anywhere (any 64-bit device)
 * DMA32                   single pages below 4 GiB (a 32-bit device)
 * CONTIG                  one naturally aligned high-order block
 * CONTIG_DMA32            one such block below 4 GiB
 * ======================  =============================================
 *
 * Contiguous blocks come from the page allocator, so they are at most
 * 2^max-order pages (4 MiB on x86-64); CMA is not used, although Debian's
 * 7.2 kernel has it (6.1 and 6.12 do not). Each device's mapping is then
 * built for that device: pages are merged into segments while they are
 * physically adjacent, no longer than its maximum segment and inside its
 * segment boundary.
 */

#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_iommu.h"
#include "vprime_placement.h"
#include "include/uapi/drm/vprime_drm.h"

/**
 * vprime_constraints_init - the constraints of a device that takes anything
 * @c: out: the constraints
 */
void vprime_constraints_init(struct vprime_constraints *c)
{
	c->dma_mask = DMA_BIT_MASK(64);
	c->max_segment = UINT_MAX & PAGE_MASK;
	c->seg_boundary = ULONG_MAX;
	c->contiguous = false;
	c->no_vram = false;
}

/**
 * vprime_constraints_of_device - what @dev needs of the memory it maps
 * @dev: any device: a vprime instance's, or a foreign importer's
 * @c: out: its DMA mask and dma_parms, and for a vprime instance whether it
 *	needs contiguous memory
 */
void vprime_constraints_of_device(struct device *dev, struct vprime_constraints *c)
{
	c->dma_mask = dma_get_mask(dev);
	c->max_segment = max_t(unsigned int, dma_get_max_seg_size(dev), PAGE_SIZE) & PAGE_MASK;
	c->seg_boundary = dma_get_seg_boundary(dev) | ~PAGE_MASK;
	c->contiguous = vprime_device_needs_contiguous(dev);
	c->no_vram = false;
}

/**
 * vprime_constraints_add - collate @c into @acc
 * @acc: the constraints collated so far, from vprime_constraints_init()
 * @c: one more device's
 *
 * The mask is the smallest. The segment limits that storage must respect
 * are those of the devices that need it in one piece: any other device
 * takes it in as many segments as its own limits need, when its mapping is
 * built. So a collated max_segment and seg_boundary are the strictest of the
 * contiguous devices only.
 */
void vprime_constraints_add(struct vprime_constraints *acc, const struct vprime_constraints *c)
{
	acc->dma_mask = min(acc->dma_mask, c->dma_mask);
	acc->no_vram |= c->no_vram;
	if (!c->contiguous)
		return;
	acc->max_segment = min(acc->max_segment, c->max_segment);
	acc->seg_boundary = min(acc->seg_boundary, c->seg_boundary);
	acc->contiguous = true;
}

static bool placement_is_contiguous(u32 placement)
{
	return placement == VPRIME_PLACEMENT_CONTIG || placement == VPRIME_PLACEMENT_CONTIG_DMA32;
}

/**
 * vprime_placement_choose - the cheapest placement that satisfies @c
 * @owner: the exporting device, whose required mask says what "any memory" is
 * @c: the collated constraints
 * @num_pages: the object's size
 * @placement: out: a VPRIME_PLACEMENT_* value
 *
 * Returns: 0, or -EINVAL when no placement satisfies @c: a mask below 32
 * bits, or contiguity for more than one page block or segment holds.
 */
int vprime_placement_choose(struct device *owner, const struct vprime_constraints *c,
			    unsigned long num_pages, u32 *placement)
{
	bool anywhere = c->dma_mask >= dma_get_required_mask(owner);
	u64 size = (u64)num_pages << PAGE_SHIFT;

	if (!anywhere && c->dma_mask < DMA_BIT_MASK(32))
		return -EINVAL;
	if (!c->contiguous) {
		*placement = anywhere ? VPRIME_PLACEMENT_SYSTEM : VPRIME_PLACEMENT_DMA32;
		return 0;
	}
	/* A block of 2^order pages is aligned to its size. */
	if (get_order(size) > VPRIME_MAX_PAGE_ORDER || size > c->max_segment ||
	    (PAGE_SIZE << get_order(size)) - 1 > c->seg_boundary)
		return -EINVAL;
	*placement = anywhere ? VPRIME_PLACEMENT_CONTIG : VPRIME_PLACEMENT_CONTIG_DMA32;
	return 0;
}

/**
 * vprime_storage_fits - whether existing storage satisfies @c
 * @owner: the exporting device
 * @s: the storage
 * @c: the collated constraints of every device that maps it
 *
 * Placements are classes: storage fits when its class is one that
 * vprime_placement_choose() could have picked for @c — below 4 GiB when
 * some device cannot reach all memory, one block (that is one acceptable
 * segment) when some device needs contiguity. SYSTEM pages that happen to
 * lie low still move for a 32-bit device, so where storage is never
 * depends on luck.
 *
 * Returns: true when the storage can stay where it is.
 */
bool vprime_storage_fits(struct device *owner, const struct vprime_storage *s,
			 const struct vprime_constraints *c)
{
	bool low = s->placement == VPRIME_PLACEMENT_DMA32 ||
		   s->placement == VPRIME_PLACEMENT_CONTIG_DMA32;
	u64 size = (u64)s->num_pages << PAGE_SHIFT;
	phys_addr_t start;

	if (!low && c->dma_mask < dma_get_required_mask(owner))
		return false;
	if (!c->contiguous)
		return true;
	if (!placement_is_contiguous(s->placement) || size > c->max_segment)
		return false;
	start = page_to_phys(s->pages[0]);
	return (start & ~(phys_addr_t)c->seg_boundary) ==
	       ((start + size - 1) & ~(phys_addr_t)c->seg_boundary);
}

/*
 * Storage is charged to the memory cgroup of the task that makes it be
 * allocated, and fails rather than calling the OOM killer: a client that
 * asks for too much gets -ENOMEM, nobody else is killed for it.
 */
static gfp_t placement_gfp(u32 placement)
{
	const gfp_t common = __GFP_NOWARN | __GFP_ACCOUNT | __GFP_RETRY_MAYFAIL;

	switch (placement) {
	case VPRIME_PLACEMENT_DMA32:
	case VPRIME_PLACEMENT_CONTIG_DMA32:
		return GFP_USER | GFP_DMA32 | common;
	default:
		return GFP_HIGHUSER | common;
	}
}

/* Page by page; a fatal signal stops it (-EINTR). */
static int alloc_scattered(struct vprime_storage *s, gfp_t gfp)
{
	unsigned long i;

	for (i = 0; i < s->num_pages; i++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		s->pages[i] = alloc_page(gfp);
		if (!s->pages[i])
			return -ENOMEM;
		cond_resched();
	}
	return 0;
}

/* One block of 2^order pages, split into single pages; the excess is freed. */
static int alloc_contiguous(struct vprime_storage *s, gfp_t gfp)
{
	unsigned int order = get_order(s->num_pages << PAGE_SHIFT);
	struct page *block = alloc_pages(gfp, order);
	unsigned long i;

	if (!block)
		return -ENOMEM;
	split_page(block, order);
	for (i = 0; i < (1UL << order); i++) {
		if (i < s->num_pages)
			s->pages[i] = block + i;
		else
			__free_page(block + i);
	}
	return 0;
}

/**
 * vprime_storage_alloc - allocate storage in @placement
 * @s: out: the storage
 * @placement: from vprime_placement_choose()
 * @num_pages: its size
 * @zero: zero the pages; only storage that vprime_storage_copy() fills
 *	whole before anyone can see it may go without (a kernel booted with
 *	init_on_alloc zeroes every page anyway)
 *
 * The pages are charged to the caller's memory cgroup.
 *
 * Returns: 0, or -ENOMEM or -EINTR (a fatal signal) with nothing allocated.
 */
int vprime_storage_alloc(struct vprime_storage *s, u32 placement, unsigned long num_pages,
			 bool zero)
{
	gfp_t gfp = placement_gfp(placement) | (zero ? __GFP_ZERO : 0);
	int ret;

	s->pages = kvcalloc(num_pages, sizeof(*s->pages), GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		return -ENOMEM;
	s->num_pages = num_pages;
	s->placement = placement;
	if (placement_is_contiguous(placement))
		ret = alloc_contiguous(s, gfp);
	else
		ret = alloc_scattered(s, gfp);
	if (ret)
		vprime_storage_free(s);
	return ret;
}

/**
 * vprime_storage_free - free storage; it may be partly allocated, or empty
 * @s: the storage, empty afterwards
 */
void vprime_storage_free(struct vprime_storage *s)
{
	unsigned long i;

	if (!s->pages)
		return;
	for (i = 0; i < s->num_pages; i++) {
		if (s->pages[i])
			__free_page(s->pages[i]);
		cond_resched();
	}
	kvfree(s->pages);
	s->pages = NULL;
	s->num_pages = 0;
	s->placement = VPRIME_PLACEMENT_NONE;
}

/**
 * vprime_storage_copy - copy the contents of @src into @dst, of the same size
 * @dst: the new storage, every page of which is written
 * @src: the old storage
 */
void vprime_storage_copy(const struct vprime_storage *dst, const struct vprime_storage *src)
{
	unsigned long i;

	for (i = 0; i < src->num_pages; i++) {
		copy_highpage(dst->pages[i], src->pages[i]);
		cond_resched();
	}
}

/* Whether page @i can extend the segment [start, start + len). */
static bool extends_segment(const struct vprime_storage *s, unsigned long i,
			    phys_addr_t start, unsigned int len,
			    const struct vprime_constraints *c)
{
	phys_addr_t p = page_to_phys(s->pages[i]);

	return p == start + len && len + PAGE_SIZE <= c->max_segment &&
	       (start & ~(phys_addr_t)c->seg_boundary) ==
	       ((p + PAGE_SIZE - 1) & ~(phys_addr_t)c->seg_boundary);
}

/* Walk the segments of @s for @c; fill @sgt when it is given. Returns their number. */
static unsigned int walk_segments(const struct vprime_storage *s,
				  const struct vprime_constraints *c, struct sg_table *sgt)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	unsigned long i, first = 0;
	unsigned int n = 0, len = 0;
	phys_addr_t start = 0;

	for (i = 0; i <= s->num_pages; i++) {
		cond_resched();
		if (i < s->num_pages && len && extends_segment(s, i, start, len, c)) {
			len += PAGE_SIZE;
			continue;
		}
		if (len) {
			if (sg) {
				sg_set_page(sg, s->pages[first], len, 0);
				sg = sg_next(sg);
			}
			n++;
		}
		if (i < s->num_pages) {
			first = i;
			start = page_to_phys(s->pages[i]);
			len = PAGE_SIZE;
		}
	}
	return n;
}

/**
 * vprime_storage_segments - the physically contiguous runs of storage
 * @s: the storage
 *
 * Returns: their number, 0 when there is no storage.
 */
unsigned int vprime_storage_segments(const struct vprime_storage *s)
{
	struct vprime_constraints any;

	vprime_constraints_init(&any);
	return walk_segments(s, &any, NULL);
}

/**
 * vprime_storage_map - map storage for one device
 * @s: the storage
 * @dev: the device
 * @c: @dev's own constraints: they shape the segments
 * @dir: the direction of the transfer
 *
 * A device behind an IOMMU gets IO addresses instead (vprime_iommu.c).
 *
 * Returns: an sg_table mapped for @dev, or an ERR_PTR(): -ENOMEM, or
 * dma_map_sgtable()'s error; -ENOSPC when an IOMMU's space is full.
 */
struct sg_table *vprime_storage_map(const struct vprime_storage *s, struct device *dev,
				    const struct vprime_constraints *c,
				    enum dma_data_direction dir)
{
	struct sg_table *sgt;
	int ret;

	if (vprime_should_fail(VPRIME_FAULT_SGT_BUILD))
		return ERR_PTR(-ENOMEM);
	if (vprime_iommu_of(dev))
		return vprime_iommu_map_storage(vprime_iommu_of(dev), s);
	sgt = kzalloc_obj(*sgt, GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, walk_segments(s, c, NULL), GFP_KERNEL);
	if (ret)
		goto err_free;
	walk_segments(s, c, sgt);
	/* As an IOMMU or swiotlb out of space would. */
	if (vprime_should_fail(VPRIME_FAULT_DMA_MAP))
		ret = -ENOMEM;
	else
		ret = dma_map_sgtable(dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

/**
 * vprime_storage_unmap - undo vprime_storage_map()
 * @sgt: the mapping
 * @dev: the device it was mapped for
 * @dir: the direction it was mapped with
 */
void vprime_storage_unmap(struct sg_table *sgt, struct device *dev, enum dma_data_direction dir)
{
	if (vprime_iommu_of(dev)) {
		vprime_iommu_unmap(vprime_iommu_of(dev), sgt);
		return;
	}
	dma_unmap_sgtable(dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

/**
 * vprime_placement_name - a placement's name, for debugfs
 * @placement: a VPRIME_PLACEMENT_* value
 *
 * Returns: a static string.
 */
const char *vprime_placement_name(u32 placement)
{
	static const char * const names[] = {
		[VPRIME_PLACEMENT_NONE] = "none",
		[VPRIME_PLACEMENT_SYSTEM] = "system",
		[VPRIME_PLACEMENT_DMA32] = "dma32",
		[VPRIME_PLACEMENT_CONTIG] = "contig",
		[VPRIME_PLACEMENT_CONTIG_DMA32] = "contig-dma32",
		[VPRIME_PLACEMENT_IMPORTED] = "imported",
		[VPRIME_PLACEMENT_VRAM] = "vram",
	};

	return placement < ARRAY_SIZE(names) ? names[placement] : "?";
}
