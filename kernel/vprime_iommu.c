// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: instances behind an IOMMU
 *
 * An instance loaded with ``iommu=1`` reaches memory through its own IO
 * address space, as a device behind an IOMMU does: every mapping made for
 * it (its own GEM_MAP, an exporter's map for it, the map of a foreign
 * dma-buf it imported) gets one range of IO virtual addresses (IOVA), and
 * its sg_table carries those addresses. The allocator is the one of the
 * ARM dma-mapping IOMMU mapper (seed 003, ``arm_iommu_map_sg()`` upstream):
 * a bitmap of IO pages, first fit, one range per scatterlist, merged into
 * as few DMA segments as the device's limits allow.
 *
 * So a device behind an IOMMU needs no physically contiguous memory: its
 * contiguous need (``contiguous=1``) is met by one IOVA segment over
 * scattered pages, and the page allocator's 4 MiB limit on contiguous
 * blocks does not apply. ``max_segment`` and ``seg_boundary`` shape the
 * IOVA segments instead of physical runs; a contiguous instance's range
 * lies inside one boundary window. The placement engine therefore sees an
 * IOMMU instance as a device that takes any memory
 * (vprime_device_needs_contiguous() is false for it).
 *
 * The space starts at %VPRIME_IOVA_BASE and holds ``iova_mb`` MiB (default
 * %VPRIME_DEFAULT_IOVA_MB), below 4 GiB so that any DMA mask reaches it.
 * When it has no room, the map fails with -ENOSPC and nothing is left
 * behind. There is no IOMMU in the VM: the IO page table is the list of
 * ranges (debugfs), and the CPU's view of the pages is the sg_table's; on
 * x86 no cache maintenance is needed.
 */

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <drm/drm_managed.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_iommu.h"
#include "vprime_placement.h"

/**
 * struct vprime_iova_range - one mapping's IO addresses
 * @link: the entry in &vprime_iommu.ranges
 * @start: the first IO address; the first DMA segment of the mapping
 * @num_pages: its length in pages
 */
struct vprime_iova_range {
	struct list_head link;
	dma_addr_t start;
	unsigned long num_pages;
};

static void vprime_iommu_fini(struct drm_device *drm, void *data)
{
	struct vprime_iommu *io = data;
	struct vprime_iova_range *r, *next;

	/* Every mapping went with its object; free what a bug would leave. */
	list_for_each_entry_safe(r, next, &io->ranges, link)
		kfree(r);
	bitmap_free(io->bitmap);
	io->bitmap = NULL;
}

/**
 * vprime_iommu_init - give an instance its IO address space
 * @vdev: the instance
 * @enabled: the iommu parameter: whether it has one
 * @iova_mb: the space's size in MiB (0: the default)
 * @contiguous: the contiguous parameter: one IO segment per buffer
 *
 * Returns: 0, or -ENOMEM.
 */
int vprime_iommu_init(struct vprime_device *vdev, bool enabled, unsigned int iova_mb,
		      bool contiguous)
{
	struct vprime_iommu *io = &vdev->iommu;

	spin_lock_init(&io->lock);
	INIT_LIST_HEAD(&io->ranges);
	io->dev = vdev->drm.dev;
	io->contiguous = contiguous;
	if (!enabled)
		return 0;
	io->base = VPRIME_IOVA_BASE;
	io->bits = ((unsigned long)(iova_mb ?: VPRIME_DEFAULT_IOVA_MB) << 20) >> PAGE_SHIFT;
	io->bitmap = bitmap_zalloc(io->bits, GFP_KERNEL);
	if (!io->bitmap)
		return -ENOMEM;
	return drmm_add_action_or_reset(&vdev->drm, vprime_iommu_fini, io);
}

/**
 * vprime_iommu_of - the IO address space of a device behind an IOMMU
 * @dev: any device
 *
 * Returns: the space of a vprime instance loaded with iommu=1, or NULL.
 */
struct vprime_iommu *vprime_iommu_of(struct device *dev)
{
	struct vprime_device *vdev = vprime_device_of(dev);

	return vdev && vdev->iommu.bitmap ? &vdev->iommu : NULL;
}

/* The device's segment limits, in bytes and as a boundary mask. */
static void iommu_limits(struct vprime_iommu *io, unsigned int *max_seg,
			 unsigned long *boundary)
{
	*max_seg = max_t(unsigned int, dma_get_max_seg_size(io->dev), PAGE_SIZE) & PAGE_MASK;
	*boundary = dma_get_seg_boundary(io->dev) | ~PAGE_MASK;
}

/**
 * vprime_iommu_check_size - whether a device could ever map @size bytes
 * @dev: the device that would map it
 * @size: a buffer's size
 *
 * Returns: 0 when @dev is not behind an IOMMU or has room for @size,
 * -EINVAL when its IO space is smaller, or when it needs the buffer in one
 * IO segment and @size is over its max_segment or its boundary window.
 */
int vprime_iommu_check_size(struct device *dev, u64 size)
{
	struct vprime_iommu *io = vprime_iommu_of(dev);
	unsigned long boundary;
	unsigned int max_seg;

	if (!io)
		return 0;
	if (size > (u64)io->bits << PAGE_SHIFT)
		return -EINVAL;
	iommu_limits(io, &max_seg, &boundary);
	if (io->contiguous && (size > max_seg || size - 1 > boundary))
		return -EINVAL;
	return 0;
}

/*
 * First fit of @n pages; with @win (pages, a power of two; 0: none) the
 * range does not cross a multiple of @win in IO addresses. Under the lock.
 */
static long iova_find_locked(struct vprime_iommu *io, unsigned long n, unsigned long win)
{
	unsigned long base_pfn = io->base >> PAGE_SHIFT, start = 0, pos;

	lockdep_assert_held(&io->lock);
	for (;;) {
		pos = bitmap_find_next_zero_area(io->bitmap, io->bits, start, n, 0);
		if (pos >= io->bits || pos + n > io->bits)
			return -ENOSPC;
		if (!win || (base_pfn + pos) / win == (base_pfn + pos + n - 1) / win)
			return pos;
		start = round_up(base_pfn + pos + 1, win) - base_pfn;
	}
}

/*
 * Take @n IO pages for one mapping: -ENOSPC when the space has no room,
 * -ENOMEM (as an IOMMU out of page-table memory) from the fault point.
 */
static int iova_alloc(struct vprime_iommu *io, unsigned long n, dma_addr_t *start)
{
	struct vprime_iova_range *r;
	unsigned long boundary, win = 0;
	unsigned int max_seg;
	long pos;

	if (vprime_should_fail(VPRIME_FAULT_IOVA_ALLOC))
		return -ENOMEM;
	r = kzalloc_obj(*r, GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	iommu_limits(io, &max_seg, &boundary);
	if (io->contiguous && boundary != ULONG_MAX)
		win = (boundary >> PAGE_SHIFT) + 1;

	spin_lock(&io->lock);
	pos = iova_find_locked(io, n, win);
	if (pos < 0) {
		spin_unlock(&io->lock);
		kfree(r);
		return pos;
	}
	bitmap_set(io->bitmap, pos, n);
	io->used += n;
	r->start = io->base + ((dma_addr_t)pos << PAGE_SHIFT);
	r->num_pages = n;
	list_add_tail(&r->link, &io->ranges);
	io->num_ranges++;
	spin_unlock(&io->lock);
	*start = r->start;
	return 0;
}

static void iova_free(struct vprime_iommu *io, dma_addr_t start)
{
	struct vprime_iova_range *r, *found = NULL;

	spin_lock(&io->lock);
	list_for_each_entry(r, &io->ranges, link) {
		if (r->start == start) {
			found = r;
			break;
		}
	}
	if (found) {
		bitmap_clear(io->bitmap, (found->start - io->base) >> PAGE_SHIFT,
			     found->num_pages);
		io->used -= found->num_pages;
		list_del(&found->link);
		io->num_ranges--;
	}
	spin_unlock(&io->lock);
	kfree(found);
}

/* The length of the IO segment at @addr with @left bytes to go. */
static u64 iova_seg_len(dma_addr_t addr, u64 left, unsigned int max_seg,
			unsigned long boundary)
{
	u64 len = min_t(u64, left, max_seg);
	u64 to_boundary = ((u64)addr | boundary) - addr + 1;

	/* 0: the boundary is all ones and @addr 0, no boundary at all */
	return to_boundary ? min(len, to_boundary) : len;
}

/* Give the first entries of @sgt the IO segments of [@start, @start + @size). */
static unsigned int iova_fill_segments(struct vprime_iommu *io, struct sg_table *sgt,
				       dma_addr_t start, u64 size)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	unsigned long boundary;
	unsigned int max_seg, n = 0;
	u64 off = 0;

	iommu_limits(io, &max_seg, &boundary);
	while (off < size) {
		u64 len = iova_seg_len(start + off, size - off, max_seg, boundary);

		if (sg) {
			sg_dma_address(sg) = start + off;
			sg_dma_len(sg) = len;
			sg = sg_next(sg);
		}
		off += len;
		n++;
	}
	return n;
}

/*
 * The CPU entries of @s: physically adjacent pages merged, and a new entry
 * wherever an IO segment starts, so that there are at least as many
 * entries as segments. Fills @sgt when it is given; returns their number.
 */
static unsigned int cpu_entries(struct vprime_iommu *io, const struct vprime_storage *s,
				dma_addr_t start, struct sg_table *sgt)
{
	struct scatterlist *sg = sgt ? sgt->sgl : NULL;
	unsigned long i, first = 0, boundary;
	unsigned int max_seg, n = 0, len = 0;
	u64 size = (u64)s->num_pages << PAGE_SHIFT, next_seg = 0;

	iommu_limits(io, &max_seg, &boundary);
	for (i = 0; i <= s->num_pages; i++) {
		u64 off = (u64)i << PAGE_SHIFT;
		bool seg_start = i < s->num_pages && off == next_seg;

		if (seg_start)
			next_seg += iova_seg_len(start + off, size - off, max_seg, boundary);
		if (i < s->num_pages && len && !seg_start &&
		    page_to_phys(s->pages[i]) == page_to_phys(s->pages[first]) + len) {
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
		first = i;
		len = PAGE_SIZE;
		cond_resched();
	}
	return n;
}

/*
 * A mapping of @size bytes to a new IO range: its DMA side holds the range's
 * segments; with storage @s its CPU side holds the storage's pages, split
 * where a segment starts (cpu_entries()), else it is left empty. Returns
 * the sg_table or an ERR_PTR(), with nothing held then.
 */
static struct sg_table *iova_table_alloc(struct vprime_iommu *io, u64 size,
					 const struct vprime_storage *s)
{
	struct sg_table *sgt;
	unsigned int nents;
	dma_addr_t start;
	int ret;

	ret = vprime_iommu_check_size(io->dev, size);
	if (ret)
		return ERR_PTR(ret);
	sgt = kzalloc_obj(*sgt, GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = iova_alloc(io, size >> PAGE_SHIFT, &start);
	if (ret)
		goto err_free;
	nents = s ? cpu_entries(io, s, start, NULL) : iova_fill_segments(io, NULL, start, size);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		goto err_iova;
	if (s)
		cpu_entries(io, s, start, sgt);
	sgt->nents = iova_fill_segments(io, sgt, start, size);
	return sgt;

err_iova:
	iova_free(io, start);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

/**
 * vprime_iommu_map_storage - map storage through an instance's IOMMU
 * @io: the instance's IO space, from vprime_iommu_of()
 * @s: the storage, of any placement
 *
 * One IO range over the whole storage, split into segments only by the
 * instance's max_segment and seg_boundary; the CPU entries are the pages'.
 *
 * Returns: the sg_table, or an ERR_PTR(): -ENOSPC when the IO space has no
 * room, -ENOMEM; nothing is held then.
 */
struct sg_table *vprime_iommu_map_storage(struct vprime_iommu *io,
					  const struct vprime_storage *s)
{
	return iova_table_alloc(io, (u64)s->num_pages << PAGE_SHIFT, s);
}

/**
 * vprime_iommu_map_import - the IO view of a foreign exporter's mapping
 * @io: the importing instance's IO space
 * @src: the exporter's mapping for the instance's device: bus addresses,
 *	which the IOMMU translates to
 *
 * A foreign exporter maps with the DMA API, which knows nothing of vprime's
 * IOMMU; its segments become one IO range, as iommu-dma would have made.
 * The view holds the DMA segments only; the CPU side stays @src's.
 *
 * Returns: the view, or an ERR_PTR(): -ERANGE for a segment that is not
 * whole pages, -ENOSPC, -ENOMEM, -EINVAL (too large for the device).
 */
struct sg_table *vprime_iommu_map_import(struct vprime_iommu *io, struct sg_table *src)
{
	struct scatterlist *sg;
	u64 size = 0;
	unsigned int i;

	for_each_sgtable_dma_sg(src, sg, i) {
		if (!PAGE_ALIGNED(sg_dma_address(sg)) || !PAGE_ALIGNED(sg_dma_len(sg)))
			return ERR_PTR(-ERANGE);
		size += sg_dma_len(sg);
	}
	if (!size)
		return ERR_PTR(-ERANGE);
	return iova_table_alloc(io, size, NULL);
}

/**
 * vprime_iommu_unmap - undo vprime_iommu_map_storage() or _map_import()
 * @io: the IO space it was made in
 * @sgt: the mapping, freed
 */
void vprime_iommu_unmap(struct vprime_iommu *io, struct sg_table *sgt)
{
	iova_free(io, sg_dma_address(sgt->sgl));
	sg_free_table(sgt);
	kfree(sgt);
}

/**
 * vprime_iommu_show_counters - debugfs: the header's IO space counters
 * @m: the file
 * @io: the instance's IO space; all 0 without an IOMMU
 */
void vprime_iommu_show_counters(struct seq_file *m, struct vprime_iommu *io)
{
	unsigned long used;
	unsigned int ranges;

	spin_lock(&io->lock);
	used = io->used;
	ranges = io->num_ranges;
	spin_unlock(&io->lock);
	seq_printf(m, " iova_size: %llu iova_used: %llu iova_ranges: %u",
		   (u64)io->bits << PAGE_SHIFT, (u64)used << PAGE_SHIFT, ranges);
}

/**
 * vprime_iommu_show_ranges - debugfs: one line per IO range
 * @m: the file
 * @io: the instance's IO space
 */
void vprime_iommu_show_ranges(struct seq_file *m, struct vprime_iommu *io)
{
	struct vprime_iova_range *r;

	if (!io->bitmap)
		return;
	spin_lock(&io->lock);
	seq_printf(m, "iommu base %#llx size %llu\n", (u64)io->base,
		   (u64)io->bits << PAGE_SHIFT);
	list_for_each_entry(r, &io->ranges, link)
		seq_printf(m, "  iova %#llx-%#llx size %llu\n", (u64)r->start,
			   (u64)r->start + ((u64)r->num_pages << PAGE_SHIFT) - 1,
			   (u64)r->num_pages << PAGE_SHIFT);
	spin_unlock(&io->lock);
}
