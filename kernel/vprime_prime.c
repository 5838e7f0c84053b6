// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: dma-buf export and import
 *
 * vprime exports its objects with its own &dma_buf_ops rather than the DRM
 * core's, because the exporter must see every attachment: each attaching
 * device is recorded (&vprime_attachment), and each map builds an sg_table
 * for that device from the object's pages, allocating them if this is the
 * object's first use. The dma-buf's reservation object is the GEM object's,
 * so the two share one lock.
 *
 * Importing a dma-buf that one of this device's own objects backs returns
 * that object (self-import). Any other dma-buf, from another vprime instance
 * or another driver, is attached and mapped for this device through the DRM
 * core's helpers.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/scatterlist.h>

#include <drm/drm_drv.h>
#include <drm/drm_prime.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_gem.h"

static struct vprime_bo *dmabuf_to_bo(struct dma_buf *dmabuf)
{
	return to_vprime_bo(dmabuf->priv);
}

static int attach_vprime(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct vprime_bo *bo = dmabuf_to_bo(dmabuf);
	struct vprime_attachment *va;

	va = kzalloc_obj(*va, GFP_KERNEL);
	if (!va)
		return -ENOMEM;
	va->attach = attach;
	attach->priv = va;
	mutex_lock(&bo->lock);
	list_add_tail(&va->link, &bo->attachments);
	mutex_unlock(&bo->lock);
	return 0;
}

static void detach_vprime(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct vprime_bo *bo = dmabuf_to_bo(dmabuf);
	struct vprime_attachment *va = attach->priv;

	mutex_lock(&bo->lock);
	list_del(&va->link);
	mutex_unlock(&bo->lock);
	WARN_ON(va->sgt);
	kfree(va);
}

/* An sg_table of the object's pages, mapped for @dev. */
static struct sg_table *map_pages(struct vprime_bo *bo, struct device *dev,
				  enum dma_data_direction dir)
{
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc_obj(*sgt, GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, bo->pages, vprime_bo_num_pages(bo), 0,
					bo->base.size, GFP_KERNEL);
	if (ret)
		goto err_free;
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

static struct sg_table *map_vprime(struct dma_buf_attachment *attach,
				   enum dma_data_direction dir)
{
	struct vprime_bo *bo = dmabuf_to_bo(attach->dmabuf);
	struct vprime_attachment *va = attach->priv;
	struct sg_table *sgt;
	int ret;

	vprime_compat_dmabuf_map_lock(attach->dmabuf);
	ret = vprime_bo_populate_locked(bo);
	sgt = ret ? ERR_PTR(ret) : map_pages(bo, attach->dev, dir);
	if (!IS_ERR(sgt)) {
		mutex_lock(&bo->lock);
		va->sgt = sgt;
		va->dir = dir;
		mutex_unlock(&bo->lock);
	}
	vprime_compat_dmabuf_map_unlock(attach->dmabuf);
	return sgt;
}

static void unmap_vprime(struct dma_buf_attachment *attach, struct sg_table *sgt,
			 enum dma_data_direction dir)
{
	struct vprime_bo *bo = dmabuf_to_bo(attach->dmabuf);
	struct vprime_attachment *va = attach->priv;

	mutex_lock(&bo->lock);
	if (va->sgt == sgt)
		va->sgt = NULL;
	mutex_unlock(&bo->lock);
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * CPU access brackets (DMA_BUF_IOCTL_SYNC): make the CPU's view coherent
 * with every device that has the buffer mapped, and back.
 */
static int sync_vprime(struct dma_buf *dmabuf, enum dma_data_direction dir, bool for_cpu)
{
	struct vprime_bo *bo = dmabuf_to_bo(dmabuf);
	struct vprime_attachment *va;
	int ret;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	ret = vprime_bo_populate_locked(bo);
	dma_resv_unlock(dmabuf->resv);
	if (ret)
		return ret;

	mutex_lock(&bo->lock);
	list_for_each_entry(va, &bo->attachments, link) {
		if (!va->sgt)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(va->attach->dev, va->sgt, dir);
		else
			dma_sync_sgtable_for_device(va->attach->dev, va->sgt, dir);
	}
	mutex_unlock(&bo->lock);
	return 0;
}

static int begin_cpu_vprime(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return sync_vprime(dmabuf, dir, true);
}

static int end_cpu_vprime(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return sync_vprime(dmabuf, dir, false);
}

static int mmap_vprime(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	return drm_gem_prime_mmap(dmabuf->priv, vma);
}

static int vmap_vprime(struct dma_buf *dmabuf, struct iosys_map *map)
{
	int ret;

	vprime_compat_dmabuf_map_lock(dmabuf);
	ret = vprime_bo_vmap_locked(dmabuf_to_bo(dmabuf), map);
	vprime_compat_dmabuf_map_unlock(dmabuf);
	return ret;
}

static void vunmap_vprime(struct dma_buf *dmabuf, struct iosys_map *map)
{
	vprime_compat_dmabuf_map_lock(dmabuf);
	vprime_bo_vunmap_locked(dmabuf_to_bo(dmabuf), map);
	vprime_compat_dmabuf_map_unlock(dmabuf);
}

static const struct dma_buf_ops vprime_dmabuf_ops = {
	.attach = attach_vprime,
	.detach = detach_vprime,
	.map_dma_buf = map_vprime,
	.unmap_dma_buf = unmap_vprime,
	.release = drm_gem_dmabuf_release,
	.begin_cpu_access = begin_cpu_vprime,
	.end_cpu_access = end_cpu_vprime,
	.mmap = mmap_vprime,
	.vmap = vmap_vprime,
	.vunmap = vunmap_vprime,
};

/**
 * vprime_bo_is_exported_by_vprime - whether a dma-buf is a vprime object's
 * @dma_buf: the dma-buf
 *
 * Returns: true when one of vprime's devices exported @dma_buf.
 */
bool vprime_bo_is_exported_by_vprime(struct dma_buf *dma_buf)
{
	return dma_buf->ops == &vprime_dmabuf_ops;
}

/**
 * vprime_gem_prime_export - &drm_gem_object_funcs.export
 * @obj: the object
 * @flags: the file flags of the dma-buf (O_CLOEXEC, O_RDWR)
 *
 * The DRM core calls this once per object and caches the dma-buf, so
 * exporting an object again returns the same dma-buf.
 *
 * Returns: the new dma-buf, or an ERR_PTR().
 */
struct dma_buf *vprime_gem_prime_export(struct drm_gem_object *obj, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);

	exp_info.ops = &vprime_dmabuf_ops;
	exp_info.size = obj->size;
	exp_info.flags = flags;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;
	return drm_gem_dmabuf_export(obj->dev, &exp_info);
}

/**
 * vprime_gem_prime_import - &drm_driver.gem_prime_import
 * @drm: the importing device
 * @dma_buf: the dma-buf
 *
 * Returns: this device's own object for a dma-buf it exported, else a new
 * object that wraps @dma_buf, or an ERR_PTR().
 */
struct drm_gem_object *vprime_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dma_buf)
{
	struct drm_gem_object *obj = dma_buf->priv;

	if (vprime_bo_is_exported_by_vprime(dma_buf) && obj->dev == drm) {
		drm_gem_object_get(obj);
		return obj;
	}
	return drm_gem_prime_import_dev(drm, dma_buf, drm->dev);
}

/**
 * vprime_gem_prime_import_sg_table - &drm_driver.gem_prime_import_sg_table
 * @drm: the importing device
 * @attach: this device's attachment to the dma-buf
 * @sgt: the exporter's mapping for this device
 *
 * Returns: a new object over the imported memory, or an ERR_PTR().
 */
struct drm_gem_object *vprime_gem_prime_import_sg_table(struct drm_device *drm,
							struct dma_buf_attachment *attach,
							struct sg_table *sgt)
{
	struct vprime_bo *bo = vprime_bo_create(drm, PAGE_ALIGN(attach->dmabuf->size));

	if (IS_ERR(bo))
		return ERR_CAST(bo);
	bo->sgt = sgt;
	return &bo->base;
}
