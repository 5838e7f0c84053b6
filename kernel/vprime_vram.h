/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_VRAM_H_
#define _VPRIME_VRAM_H_

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct device;
struct sg_table;
struct vprime_bo;
struct vprime_constraints;
struct vprime_device;
struct vprime_storage;

/**
 * struct vprime_vram - an instance's device-local memory
 * @lock: protects @free, @used, @lru and each object's &vprime_bo.vram_link
 *	and &vprime_bo.vram_tried
 * @pages: the pool, reserved when the instance is created
 * @free: one bit per page of @pages, set while it is free
 * @num_pages: the pool's size
 * @top: the highest address in the pool, which a device's DMA mask must
 *	reach
 * @used: its pages that objects hold
 * @lru: the objects with storage here, least recently used first
 * @evict_seq: counts evictions, to mark the objects one pass has tried
 * @peers: the instances (a bit per index) that reach this memory in place
 * @evictions: objects moved out to make room
 * @evicted_bytes: their bytes
 * @peer_mappings: mappings that peers hold now
 */
struct vprime_vram {
	spinlock_t lock; /* protects free, used, lru, vram_link, vram_tried */
	struct page **pages;
	unsigned long *free;
	unsigned long num_pages;
	phys_addr_t top;
	unsigned long used;
	struct list_head lru;
	u64 evict_seq;
	u32 peers;
	atomic64_t evictions;
	atomic64_t evicted_bytes;
	atomic_t peer_mappings;
};

int vprime_vram_init(struct vprime_device *vdev, unsigned int mb, u32 peers);
bool vprime_vram_usable(struct vprime_device *vdev, const struct vprime_constraints *c,
			unsigned long num_pages);
bool vprime_vram_is_peer(struct vprime_device *owner, struct vprime_device *importer);
int vprime_vram_alloc(struct vprime_bo *bo, struct vprime_storage *s);
void vprime_vram_free(struct vprime_bo *bo, struct vprime_storage *s);
void vprime_vram_touch(struct vprime_bo *bo);
void vprime_vram_bo_init(struct vprime_bo *bo);
void vprime_vram_bo_gone(struct vprime_bo *bo);
int vprime_vram_module_init(void);
void vprime_vram_module_exit(void);
struct sg_table *vprime_vram_map_peer(struct vprime_bo *bo, struct device *dev,
				      const struct vprime_constraints *c,
				      enum dma_data_direction dir);
bool vprime_vram_unmap_peer(struct vprime_bo *bo, struct sg_table *sgt, struct device *dev,
			    enum dma_data_direction dir);

#endif /* _VPRIME_VRAM_H_ */
