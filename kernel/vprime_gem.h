/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_GEM_H_
#define _VPRIME_GEM_H_

#include <linux/list.h>
#include <linux/mutex.h>

#include <drm/drm_gem.h>

struct dma_buf;
struct dma_buf_attachment;
struct drm_mode_create_dumb;
struct iosys_map;
struct sg_table;
struct vprime_device;

/**
 * struct vprime_bo - a vprime buffer object
 * @base: the GEM object; its reservation lock protects @pages and @vaddr
 * @pages: the backing pages, NULL until the object is first used
 * @vaddr: the kernel mapping of @pages, or NULL
 * @vmap_count: the users of @vaddr
 * @sgt: for an imported object, the exporter's mapping for this device
 * @id: a number that names the object in debugfs
 * @link: the entry in &vprime_device.objects
 * @lock: protects @attachments
 * @attachments: the &vprime_attachment of each device attached to the
 *	exported dma-buf
 */
struct vprime_bo {
	struct drm_gem_object base;
	struct page **pages;
	void *vaddr;
	unsigned int vmap_count;
	struct sg_table *sgt;
	u64 id;
	struct list_head link;
	struct mutex lock; /* protects attachments */
	struct list_head attachments;
};

/**
 * struct vprime_attachment - one device attached to an exported vprime bo
 * @link: the entry in &vprime_bo.attachments
 * @attach: the dma-buf core's attachment
 * @sgt: the attachment's current mapping, or NULL
 * @dir: the direction @sgt was mapped for
 */
struct vprime_attachment {
	struct list_head link;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

static inline struct vprime_bo *to_vprime_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct vprime_bo, base);
}

static inline unsigned long vprime_bo_num_pages(const struct vprime_bo *bo)
{
	return bo->base.size >> PAGE_SHIFT;
}

struct vprime_bo *vprime_bo_create(struct drm_device *drm, size_t size);
int vprime_bo_populate_locked(struct vprime_bo *bo);
int vprime_bo_vmap_locked(struct vprime_bo *bo, struct iosys_map *map);
void vprime_bo_vunmap_locked(struct vprime_bo *bo, struct iosys_map *map);

int vprime_gem_dumb_create(struct drm_file *file, struct drm_device *drm,
			   struct drm_mode_create_dumb *args);
int vprime_gem_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int vprime_gem_info_ioctl(struct drm_device *drm, void *data, struct drm_file *file);

struct dma_buf *vprime_gem_prime_export(struct drm_gem_object *obj, int flags);
struct drm_gem_object *vprime_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dma_buf);
struct drm_gem_object *vprime_gem_prime_import_sg_table(struct drm_device *drm,
							struct dma_buf_attachment *attach,
							struct sg_table *sgt);
bool vprime_bo_is_exported_by_vprime(struct dma_buf *dma_buf);

#endif /* _VPRIME_GEM_H_ */
