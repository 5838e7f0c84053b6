// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: debugfs
 *
 * vprime_objects, in each of the device's DRM debugfs directories, shows who
 * is using what. Its first line counts the device's objects and bytes, and
 * the storage allocations, migrations, bytes moved and waits so far, so that
 * a test can compare them before and after, and what the device holds now:
 * attachments to its exports, device mappings of its storage, jobs, exported
 * dma-bufs and pages of storage. The second gives the device's
 * own DMA constraints. Then each object: its placement, pages, physically
 * contiguous segments, pins, vmaps, userspace maps and migrations, where an
 * import comes from, and every device attached to it with its maps, pins,
 * the segments of its newest mapping and its constraints.
 *
 * vprime_display has a line per CRTC: how many cursor moves were applied
 * as async updates, without a commit.
 */

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/seq_file.h>
#include <linux/dma-resv.h>

#include <drm/drm_file.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_debugfs.h"
#include "vprime_drv.h"
#include "vprime_gem.h"
#include "vprime_kms.h"
#include "include/uapi/drm/vprime_drm.h"

static void vprime_debugfs_show_constraints(struct seq_file *m, const struct vprime_constraints *c)
{
	seq_printf(m, "mask %#llx max_segment %u boundary %#lx%s", c->dma_mask, c->max_segment,
		   c->seg_boundary, c->contiguous ? " contiguous" : "");
}

static void vprime_debugfs_show_attachments_locked(struct seq_file *m, struct vprime_bo *bo)
{
	struct vprime_attachment *va;

	dma_resv_assert_held(bo->base.resv);
	list_for_each_entry(va, &bo->attachments, link) {
		seq_printf(m, "  attached %s maps %u pins %u segments %u ",
			   dev_name(va->attach->dev), va->map_count, va->pins,
			   va->sgt ? va->sgt->nents : 0);
		vprime_debugfs_show_constraints(m, &va->constraints);
		seq_putc(m, '\n');
	}
}

static void vprime_debugfs_show_object(struct seq_file *m, struct vprime_bo *bo)
{
	bool imported = drm_gem_is_imported(&bo->base);

	dma_resv_lock(bo->base.resv, NULL);
	seq_printf(m, "bo %llu size %zu placement %s pages %lu segments %u pins %u vmaps %u maps %u migrations %llu%s%s\n",
		   bo->id, bo->base.size,
		   vprime_placement_name(imported ? VPRIME_PLACEMENT_IMPORTED :
					 bo->storage.placement),
		   bo->storage.num_pages, vprime_storage_segments(&bo->storage),
		   vprime_bo_pin_count_locked(bo), bo->vmap_count, bo->map_count, bo->migrations,
		   imported ? " imported" : "", bo->base.dma_buf ? " exported" : "");
	if (imported)
		seq_printf(m, "  from %s\n", bo->base.import_attach->dmabuf->exp_name);
	vprime_debugfs_show_attachments_locked(m, bo);
	dma_resv_unlock(bo->base.resv);
}

/* The rest of the header line: VRAM size and use, evictions, peer mappings. */
static void vprime_debugfs_show_vram(struct seq_file *m, struct vprime_vram *v)
{
	unsigned long used;

	spin_lock(&v->lock);
	used = v->used;
	spin_unlock(&v->lock);
	seq_printf(m, " vram_size: %lu vram_used: %lu evictions: %lld evicted_bytes: %lld peer_mappings: %d\n",
		   v->num_pages << PAGE_SHIFT, used << PAGE_SHIFT,
		   (long long)atomic64_read(&v->evictions),
		   (long long)atomic64_read(&v->evicted_bytes),
		   atomic_read(&v->peer_mappings));
}

static int vprime_debugfs_objects_show(struct seq_file *m, void *unused)
{
	struct vprime_device *vdev = m->private;
	struct vprime_constraints c;
	struct vprime_bo *bo;
	size_t count = 0, bytes = 0;

	mutex_lock(&vdev->objects_lock);
	list_for_each_entry(bo, &vdev->objects, link) {
		count++;
		bytes += bo->base.size;
	}
	seq_printf(m, "objects: %zu bytes: %zu storage: %lld allocations: %lld migrations: %lld bytes_moved: %lld waits: %lld invalidations_sent: %lld invalidations: %lld attachments: %d mappings: %d jobs: %d dmabufs: %d pages: %lld",
		   count, bytes, (long long)atomic64_read(&vdev->storage_bytes),
		   (long long)atomic64_read(&vdev->stats.allocations),
		   (long long)atomic64_read(&vdev->stats.migrations),
		   (long long)atomic64_read(&vdev->stats.bytes_moved),
		   (long long)atomic64_read(&vdev->stats.waits),
		   (long long)atomic64_read(&vdev->stats.invalidations_sent),
		   (long long)atomic64_read(&vdev->stats.invalidations),
		   atomic_read(&vdev->live.attachments), atomic_read(&vdev->live.mappings),
		   atomic_read(&vdev->live.jobs), atomic_read(&vdev->live.dmabufs),
		   (long long)atomic64_read(&vdev->storage_bytes) >> PAGE_SHIFT);
	vprime_iommu_show_counters(m, &vdev->iommu);
	vprime_debugfs_show_vram(m, &vdev->vram);
	vprime_constraints_of_device(vdev->drm.dev, &c);
	seq_printf(m, "device %s ", dev_name(vdev->drm.dev));
	vprime_debugfs_show_constraints(m, &c);
	seq_puts(m, vdev->iommu.bitmap ? " iommu\n" : "\n");
	vprime_iommu_show_ranges(m, &vdev->iommu);
	list_for_each_entry(bo, &vdev->objects, link)
		vprime_debugfs_show_object(m, bo);
	mutex_unlock(&vdev->objects_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vprime_debugfs_objects);

static int vprime_debugfs_display_show(struct seq_file *m, void *unused)
{
	struct vprime_device *vdev = m->private;
	unsigned int i;

	for (i = 0; i < vdev->num_outputs; i++) {
		seq_printf(m, "crtc %u: async_updates: %lld\n", i,
			   (long long)atomic64_read(&vdev->outputs[i].async_updates));
		seq_printf(m, "crtc %u: ioctl_flips: %lld\n", i,
			   (long long)atomic64_read(&vdev->outputs[i].ioctl_flips));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vprime_debugfs_display);

/**
 * vprime_debugfs_init - &drm_driver.debugfs_init
 * @minor: the DRM minor whose debugfs directory gets the files
 */
void vprime_debugfs_init(struct drm_minor *minor)
{
	debugfs_create_file("vprime_objects", 0444, minor->debugfs_root,
			    to_vprime_device(minor->dev), &vprime_debugfs_objects_fops);
	debugfs_create_file("vprime_display", 0444, minor->debugfs_root,
			    to_vprime_device(minor->dev), &vprime_debugfs_display_fops);
}
