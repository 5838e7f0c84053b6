/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_IOMMU_H_
#define _VPRIME_IOMMU_H_

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct device;
struct seq_file;
struct sg_table;
struct vprime_device;
struct vprime_storage;

/* Where every instance's IO address space starts, and its largest size. */
#define VPRIME_IOVA_BASE	0x40000000ULL
#define VPRIME_MAX_IOVA_MB	2048u
#define VPRIME_DEFAULT_IOVA_MB	1024u

/**
 * struct vprime_iommu - an instance's IO address space, when it is behind
 *	an IOMMU (the iommu parameter)
 * @lock: protects @bitmap, @used and @ranges
 * @bitmap: one bit per IO page, set while a mapping holds it; NULL when the
 *	instance has no IOMMU
 * @bits: the number of IO pages, from @base
 * @base: the first IO address
 * @used: the IO pages that mappings hold
 * @ranges: a &vprime_iova_range per mapping, in the order they were made
 * @num_ranges: the entries of @ranges
 * @dev: the instance's device
 * @contiguous: the instance needs each buffer in one IO segment
 */
struct vprime_iommu {
	spinlock_t lock; /* protects bitmap, used, ranges, num_ranges */
	unsigned long *bitmap;
	unsigned long bits;
	dma_addr_t base;
	unsigned long used;
	struct list_head ranges;
	unsigned int num_ranges;
	struct device *dev;
	bool contiguous;
};

int vprime_iommu_init(struct vprime_device *vdev, bool enabled, unsigned int iova_mb,
		      bool contiguous);
struct vprime_iommu *vprime_iommu_of(struct device *dev);
int vprime_iommu_check_size(struct device *dev, u64 size);
struct sg_table *vprime_iommu_map_storage(struct vprime_iommu *io,
					  const struct vprime_storage *s);
struct sg_table *vprime_iommu_map_import(struct vprime_iommu *io, struct sg_table *src);
void vprime_iommu_unmap(struct vprime_iommu *io, struct sg_table *sgt);
void vprime_iommu_show_counters(struct seq_file *m, struct vprime_iommu *io);
void vprime_iommu_show_ranges(struct seq_file *m, struct vprime_iommu *io);

#endif /* _VPRIME_IOMMU_H_ */
