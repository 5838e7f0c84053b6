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
 * vprime is a dynamic exporter (it has pin/unpin): storage may move while
 * nobody maps it, and the reservation lock is held around every map and
 * unmap.
 *
 * Importing a dma-buf that one of this device's own objects backs returns
 * that object (self-import). Any other dma-buf, from another vprime instance
 * or another driver, is attached dynamically and mapped only when this
 * device uses it.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/scatterlist.h>

#include <drm/drm_drv.h>
#include <drm/drm_prime.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_prime.h"
#include "vprime_vmap.h"
#include "vprime_vram.h"

static const struct dma_buf_attach_ops vprime_importer_ops;

static struct vprime_bo *vprime_dmabuf_to_bo(struct dma_buf *dmabuf)
{
	return to_vprime_bo(dmabuf->priv);
}

static struct vprime_device *vprime_dmabuf_to_vdev(struct dma_buf *dmabuf)
{
	return to_vprime_device(vprime_dmabuf_to_bo(dmabuf)->base.dev);
}

/*
 * Whether the attaching device reaches the exporter's VRAM in place: a
 * vprime instance that the exporter's p2p mask names, attached dynamically
 * with peer-to-peer allowed (the importer promises not to touch the pages
 * of its mapping, which has none). Foreign importers never do.
 */
static bool vprime_dmabuf_reaches_vram(struct vprime_bo *bo, struct dma_buf_attachment *attach)
{
	struct vprime_bo *importer;

	if (!attach->peer2peer || attach->importer_ops != &vprime_importer_ops)
		return false;
	importer = attach->importer_priv;
	return vprime_vram_is_peer(to_vprime_device(bo->base.dev),
				   to_vprime_device(importer->base.dev));
}

/*
 * Record an attachment once vprime_bo_check_attach_locked() allows it. A
 * static attachment is mapped right after attach, with the reservation
 * lock held by the core (on 6.1 and 6.12 by dma_buf_attach() itself, on
 * 7.x by drm_gem_prime_import() and its like), so its map cannot wait for
 * the jobs that keep the storage from moving: their cleanup takes that
 * lock. It waits for them here, where the core holds nothing of the
 * exporter's, for at most map_wait_ms. A dynamic one (a vprime importer)
 * is not mapped before it is used, and its map waits then.
 */
static int vprime_dmabuf_add_attachment(struct dma_buf *dmabuf, struct dma_buf_attachment *attach,
					struct vprime_attachment *va)
{
	unsigned long deadline = jiffies + vprime_map_wait_jiffies();
	struct vprime_bo *bo = vprime_dmabuf_to_bo(dmabuf);
	bool waited = false;
	int ret;

	for (;;) {
		ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
		if (ret)
			return ret;
		ret = vprime_bo_check_attach_locked(bo, &va->constraints);
		/*
		 * A dynamic attachment (importer_ops) maps later. Past the
		 * deadline a static one's map gets -EBUSY, as it would have.
		 */
		if (ret == -EAGAIN && (attach->importer_ops || time_after_eq(jiffies, deadline)))
			ret = 0;
		if (!ret)
			list_add_tail(&va->link, &bo->attachments);
		dma_resv_unlock(dmabuf->resv);
		if (ret != -EAGAIN)
			return ret;
		if (!waited) {
			atomic64_inc(&vprime_dmabuf_to_vdev(dmabuf)->stats.waits);
			waited = true;
		}
		ret = vprime_bo_wait_jobs(bo, deadline);
		if (ret && ret != -ETIME)
			return ret;
	}
}

/*
 * A device attaches: record what it needs, and refuse it when no placement
 * can suit it and every device already attached (-EINVAL), or when the
 * storage would have to move for it but is pinned (-EBUSY). Nothing is
 * allocated or mapped here. A static importer may wait for jobs first
 * (-ERESTARTSYS on a signal).
 */
static int vprime_dmabuf_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct vprime_attachment *va;
	int ret;

	if (vprime_should_fail(VPRIME_FAULT_ATTACH))
		return -ENOMEM;
	va = kzalloc_obj(*va, GFP_KERNEL);
	if (!va)
		return -ENOMEM;
	va->attach = attach;
	vprime_constraints_of_device(attach->dev, &va->constraints);
	va->constraints.no_vram = !vprime_dmabuf_reaches_vram(vprime_dmabuf_to_bo(dmabuf), attach);

	ret = vprime_dmabuf_add_attachment(dmabuf, attach, va);
	if (ret) {
		kfree(va);
		return ret;
	}
	attach->priv = va;
	atomic_inc(&vprime_dmabuf_to_vdev(dmabuf)->live.attachments);
	return 0;
}

static void vprime_dmabuf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct vprime_attachment *va = attach->priv;

	dma_resv_lock(dmabuf->resv, NULL);
	list_del(&va->link);
	dma_resv_unlock(dmabuf->resv);
	WARN_ON(va->map_count || va->pins);
	kfree(va);
	atomic_dec(&vprime_dmabuf_to_vdev(dmabuf)->live.attachments);
}

/*
 * vprime is a dynamic exporter: its storage moves, so importers that need it
 * to stay put pin it. The core pins for every static importer's mapping
 * (and, without CONFIG_DMABUF_MOVE_NOTIFY, every dynamic one's).
 */
static int vprime_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct vprime_attachment *va = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	va->pins++;
	return 0;
}

static void vprime_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct vprime_attachment *va = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (WARN_ON(!va->pins))
		return;
	va->pins--;
}

/*
 * Map for one device: place the storage for every attached device (the
 * first map allocates it; a stricter newcomer's map moves it) and build an
 * sg_table shaped by this device's own segment limits. The core calls this
 * with the reservation lock held, for a dynamic exporter on every kernel.
 * When the storage must move but other devices have it mapped, a vprime
 * importer gets -EAGAIN and waits for them (vprime_bo_wait_idle());
 * any other gets -EBUSY, which userspace sees as is (libdrm retries
 * -EAGAIN in a busy loop).
 */
static struct sg_table *vprime_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct vprime_bo *bo = vprime_dmabuf_to_bo(attach->dmabuf);
	struct vprime_attachment *va = attach->priv;
	struct sg_table *sgt;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	ret = vprime_bo_place_locked(bo, va, true);
	if (ret == -EAGAIN && attach->importer_ops != &vprime_importer_ops)
		ret = -EBUSY;
	if (ret)
		return ERR_PTR(ret);
	/* Storage in VRAM that suits every attachment: this one is a peer. */
	if (bo->storage.placement == VPRIME_PLACEMENT_VRAM)
		sgt = vprime_vram_map_peer(bo, attach->dev, &va->constraints, dir);
	else
		sgt = vprime_storage_map(&bo->storage, attach->dev, &va->constraints, dir);
	if (IS_ERR(sgt))
		return sgt;
	va->sgt = sgt;
	va->map_count++;
	atomic_inc(&bo->dev_mappings);
	atomic_inc(&vprime_dmabuf_to_vdev(attach->dmabuf)->live.mappings);
	return sgt;
}

static void vprime_dmabuf_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct vprime_bo *bo = vprime_dmabuf_to_bo(attach->dmabuf);
	struct vprime_attachment *va = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (va->sgt == sgt)
		va->sgt = NULL;
	if (!WARN_ON(!va->map_count))
		va->map_count--;
	if (!vprime_vram_unmap_peer(bo, sgt, attach->dev, dir))
		vprime_storage_unmap(sgt, attach->dev, dir);
	atomic_dec(&vprime_dmabuf_to_vdev(attach->dmabuf)->live.mappings);
	vprime_bo_mapping_dropped(bo);
}

/*
 * CPU access brackets (DMA_BUF_IOCTL_SYNC): make the CPU's view coherent
 * with every device that has the buffer mapped, and back. The first CPU
 * access allocates the storage.
 */
static int vprime_dmabuf_sync(struct dma_buf *dmabuf, enum dma_data_direction dir, bool for_cpu)
{
	struct vprime_bo *bo = vprime_dmabuf_to_bo(dmabuf);
	struct vprime_attachment *va;
	int ret;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	ret = vprime_bo_place_locked(bo, NULL, false);
	list_for_each_entry(va, &bo->attachments, link) {
		if (ret || !va->sgt)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(va->attach->dev, va->sgt, dir);
		else
			dma_sync_sgtable_for_device(va->attach->dev, va->sgt, dir);
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static int vprime_dmabuf_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return vprime_dmabuf_sync(dmabuf, dir, true);
}

static int vprime_dmabuf_end_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return vprime_dmabuf_sync(dmabuf, dir, false);
}

static int vprime_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	return drm_gem_prime_mmap(dmabuf->priv, vma);
}

static int vprime_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	int ret;

	vprime_compat_vmap_lock(dmabuf->resv);
	ret = vprime_bo_vmap_locked(vprime_dmabuf_to_bo(dmabuf), map);
	vprime_compat_vmap_unlock(dmabuf->resv);
	return ret;
}

static void vprime_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	vprime_compat_vmap_lock(dmabuf->resv);
	vprime_bo_vunmap_locked(vprime_dmabuf_to_bo(dmabuf), map);
	vprime_compat_vmap_unlock(dmabuf->resv);
}

/* The last reference to the dma-buf is gone: so may be the object's and device's. */
static void vprime_dmabuf_release(struct dma_buf *dmabuf)
{
	atomic_dec(&vprime_dmabuf_to_vdev(dmabuf)->live.dmabufs);
	drm_gem_dmabuf_release(dmabuf);
}

static const struct dma_buf_ops vprime_dmabuf_ops = {
	.attach = vprime_dmabuf_attach,
	.detach = vprime_dmabuf_detach,
	.pin = vprime_dmabuf_pin,
	.unpin = vprime_dmabuf_unpin,
	.map_dma_buf = vprime_dmabuf_map,
	.unmap_dma_buf = vprime_dmabuf_unmap,
	.release = vprime_dmabuf_release,
	.begin_cpu_access = vprime_dmabuf_begin_cpu_access,
	.end_cpu_access = vprime_dmabuf_end_cpu_access,
	.mmap = vprime_dmabuf_mmap,
	.vmap = vprime_dmabuf_vmap,
	.vunmap = vprime_dmabuf_vunmap,
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
	struct dma_buf *dmabuf;

	exp_info.ops = &vprime_dmabuf_ops;
	exp_info.size = obj->size;
	exp_info.flags = flags;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;
	if (vprime_should_fail(VPRIME_FAULT_EXPORT))
		return ERR_PTR(-ENOMEM);
	dmabuf = drm_gem_dmabuf_export(obj->dev, &exp_info);
	if (!IS_ERR(dmabuf))
		atomic_inc(&to_vprime_device(obj->dev)->live.dmabufs);
	return dmabuf;
}

/*
 * The exporter wants to move the buffer. vprime maps an import only while
 * a userspace map holds it (DRM_IOCTL_VPRIME_GEM_MAP, standing for a job or
 * a scanout in flight), and such a mapping of a foreign buffer is pinned,
 * so there is nothing to drop here: a vprime exporter waits for the
 * mapping to go, any other cannot move the buffer until it is unpinned.
 * The notice is counted, for debugfs and the tests.
 */
static void vprime_import_invalidate(struct dma_buf_attachment *attach)
{
	struct vprime_bo *bo = attach->importer_priv;

	atomic64_inc(&to_vprime_device(bo->base.dev)->stats.invalidations);
}

static const struct dma_buf_attach_ops vprime_importer_ops = {
	/*
	 * Peer-to-peer mappings (no struct pages) are accepted: vprime reads
	 * only the DMA addresses and lengths of an import's mapping (GEM_MAP's
	 * segments, check_foreign_mapping()), never sg_page(); its jobs reach
	 * an import through dma_buf_vmap(), not through the mapping. This is
	 * what lets a vprime exporter map its VRAM in place for a peer
	 * (vprime_dmabuf_reaches_vram() also wants the exporter's p2p mask to name
	 * the importer). A foreign exporter decides by its own rules (amdgpu
	 * by pci_p2pdma_distance()), which a platform device like vprime's
	 * does not pass, so it maps system memory for vprime as before.
	 */
	.allow_peer2peer = true,
	VPRIME_IMPORTER_INVALIDATE(vprime_import_invalidate)
};

/*
 * Attach to a foreign or other-instance dma-buf without mapping it. The
 * attachment is dynamic when the exporter is, and static when it is not:
 * on 6.1 and 6.12 the core maps an attachment at once when importer and
 * exporter differ in that, which would allocate a vprime export's storage
 * too early, and make a foreign buffer fail at import, not at map, for a
 * device that cannot reach it.
 */
static struct drm_gem_object *vprime_import_attach(struct drm_device *drm,
						   struct dma_buf *dma_buf)
{
	struct dma_buf_attachment *attach;
	struct vprime_bo *bo;

	if (!PAGE_ALIGNED(dma_buf->size))
		return ERR_PTR(-EINVAL);
	bo = vprime_bo_create(drm, dma_buf->size);
	if (IS_ERR(bo))
		return ERR_CAST(bo);
	if (vprime_should_fail(VPRIME_FAULT_ATTACH))
		attach = ERR_PTR(-ENOMEM);
	else if (dma_buf_is_dynamic(dma_buf))
		attach = dma_buf_dynamic_attach(dma_buf, drm->dev, &vprime_importer_ops, bo);
	else
		attach = dma_buf_attach(dma_buf, drm->dev);
	if (IS_ERR(attach)) {
		drm_gem_object_put(&bo->base);
		return ERR_CAST(attach);
	}
	get_dma_buf(dma_buf);
	bo->base.import_attach = attach;
	bo->base.resv = dma_buf->resv;
	vprime_bo_publish(bo);
	return &bo->base;
}

/**
 * vprime_gem_prime_import - &drm_driver.gem_prime_import
 * @drm: the importing device
 * @dma_buf: the dma-buf
 *
 * Returns: this device's own object for a dma-buf it exported, else a new
 * object attached to @dma_buf, or an ERR_PTR(): the exporter's refusal of
 * the attachment (vprime's: -EINVAL when no placement suits this device and
 * the others, -EBUSY when the storage is pinned where this device cannot
 * reach it), -ENOMEM.
 */
struct drm_gem_object *vprime_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dma_buf)
{
	struct drm_gem_object *obj = dma_buf->priv;

	if (vprime_bo_is_exported_by_vprime(dma_buf) && obj->dev == drm) {
		drm_gem_object_get(obj);
		return obj;
	}
	return vprime_import_attach(drm, dma_buf);
}
