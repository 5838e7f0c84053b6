// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: debugfs
 *
 * vprime_objects, in each of the device's DRM debugfs directories, lists the
 * device's objects — size, backing pages, whether imported or exported — and,
 * for an exported one, every device attached to it and whether it holds a
 * mapping: who is using what. Its first line counts objects and bytes, so a
 * test can check that closing everything brings the count back to where it
 * was.
 */

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/seq_file.h>

#include <drm/drm_file.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_gem.h"

static void show_attachments(struct seq_file *m, struct vprime_bo *bo)
{
	struct vprime_attachment *va;

	mutex_lock(&bo->lock);
	list_for_each_entry(va, &bo->attachments, link)
		seq_printf(m, " %s%s", dev_name(va->attach->dev), va->sgt ? "(mapped)" : "");
	mutex_unlock(&bo->lock);
}

static int objects_show(struct seq_file *m, void *unused)
{
	struct vprime_device *vdev = m->private;
	struct vprime_bo *bo;
	size_t count = 0, bytes = 0;

	mutex_lock(&vdev->objects_lock);
	list_for_each_entry(bo, &vdev->objects, link) {
		count++;
		bytes += bo->base.size;
	}
	seq_printf(m, "objects: %zu bytes: %zu allocations: %lld\n", count, bytes,
		   (long long)atomic64_read(&vdev->stats.allocations));
	list_for_each_entry(bo, &vdev->objects, link) {
		seq_printf(m, "bo %llu size %zu pages %lu%s%s attached:", bo->id, bo->base.size,
			   bo->pages ? vprime_bo_num_pages(bo) : 0,
			   drm_gem_is_imported(&bo->base) ? " imported" : "",
			   bo->base.dma_buf ? " exported" : "");
		show_attachments(m, bo);
		seq_putc(m, '\n');
	}
	mutex_unlock(&vdev->objects_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(objects);

/**
 * vprime_debugfs_init - &drm_driver.debugfs_init
 * @minor: the DRM minor whose debugfs directory gets the files
 */
void vprime_debugfs_init(struct drm_minor *minor)
{
	debugfs_create_file("vprime_objects", 0444, minor->debugfs_root,
			    to_vprime_device(minor->dev), &objects_fops);
}
