/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_PLACEMENT_H_
#define _VPRIME_PLACEMENT_H_

#include <linux/dma-direction.h>
#include <linux/types.h>

struct device;
struct page;
struct sg_table;

/**
 * struct vprime_constraints - what a device needs of the memory it maps
 * @dma_mask: the highest address it can reach
 * @max_segment: the longest DMA segment it takes, in bytes
 * @seg_boundary: segments must not cross a multiple of this mask + 1
 * @contiguous: it needs the whole buffer in one physically contiguous block
 * @no_vram: it cannot reach the exporting instance's VRAM (it is not a peer)
 */
struct vprime_constraints {
	u64 dma_mask;
	unsigned int max_segment;
	unsigned long seg_boundary;
	bool contiguous;
	bool no_vram;
};

/**
 * struct vprime_storage - the backing pages of an object and where they are
 * @pages: one entry per page, NULL when there is no storage
 * @num_pages: the number of entries of @pages
 * @placement: a VPRIME_PLACEMENT_* value
 */
struct vprime_storage {
	struct page **pages;
	unsigned long num_pages;
	u32 placement;
};

void vprime_constraints_init(struct vprime_constraints *c);
void vprime_constraints_of_device(struct device *dev, struct vprime_constraints *c);
void vprime_constraints_add(struct vprime_constraints *acc,
			    const struct vprime_constraints *c);

int vprime_placement_choose(struct device *owner, const struct vprime_constraints *c,
			    unsigned long num_pages, u32 *placement);
bool vprime_storage_fits(struct device *owner, const struct vprime_storage *s,
			 const struct vprime_constraints *c);
int vprime_storage_alloc(struct vprime_storage *s, u32 placement, unsigned long num_pages,
			 bool zero);
void vprime_storage_free(struct vprime_storage *s);
void vprime_storage_copy(const struct vprime_storage *dst, const struct vprime_storage *src);
struct sg_table *vprime_storage_map(const struct vprime_storage *s, struct device *dev,
				    const struct vprime_constraints *c,
				    enum dma_data_direction dir);
void vprime_storage_unmap(struct sg_table *sgt, struct device *dev,
			  enum dma_data_direction dir);
unsigned int vprime_storage_segments(const struct vprime_storage *s);
const char *vprime_placement_name(u32 placement);

#endif /* _VPRIME_PLACEMENT_H_ */
