// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: vprime
 *
 * vprime is a virtual DRM/KMS driver that implements the whole dma-buf
 * (PRIME) contract: its GEM buffers are exported as dma-bufs, and it imports
 * dma-bufs from any exporter. It exists to test the sharing of buffers
 * between devices, as a compositor or a render-offload stack does, on
 * machines without a GPU.
 *
 * One module load creates num_devices instances, each a separate device
 * with its own card and render node, so that vprime can share buffers with
 * itself as well as with vgem, vkms, udmabuf and the dma-heaps.
 *
 * Each instance can be given the DMA constraints of a real device, so that
 * the exporter's placement engine has something to satisfy. The array
 * parameters take one value per instance, in order; a missing value means
 * no constraint:
 *
 * - dma_bits: the width of the DMA address mask (32 to 64, default 64);
 * - max_segment: the longest DMA segment in bytes (0: no limit);
 * - seg_boundary: a power of two no segment may cross (0: none);
 * - contiguous: the instance needs physically contiguous buffers;
 * - vram_mb: device-local memory (VRAM) in MiB, reserved below 4 GiB when
 *   the instance is created (0: none, at most 1024);
 * - p2p: the instances that reach this one's VRAM in place, one bit per
 *   instance index (peer-to-peer); any other importer moves the buffer out;
 * - iommu: the instance is behind an IOMMU: it maps through its own IO
 *   address space, so it takes any memory and its contiguous need and
 *   segment limits apply to IO addresses (vprime_iommu.c);
 * - iova_mb: the size of that space in MiB (0: 1024, at most 2048).
 *
 * The job engine's parameters are arrays too: job_delay_ms, the extra time
 * each job takes (0: none), and job_timeout_ms, the time after which a job
 * is stopped as hung (0: never, and VPRIME_CMD_HANG is refused). A missing
 * job_timeout_ms is the default, 2000; a single value is every instance's.
 *
 * Each instance also offers fbdev emulation (``fbdev``, default on), as the
 * kernel's generic fbdev client: a console and /dev/fbN shown on the
 * instance's outputs while no DRM master has taken the display.
 *
 * For example ``num_devices=4 dma_bits=64,64,32 max_segment=0,0,16384
 * contiguous=0,0,0,1`` gives two unconstrained instances, a 32-bit one with
 * 16 KiB segments, and one that needs contiguous memory.
 */

#include <linux/dma-mapping.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_prime.h>
#include <drm/drm_vma_manager.h>

#include "vprime_compat.h"
#include "vprime_debugfs.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_map.h"
#include "vprime_prime.h"
#include "vprime_sched.h"
#include "include/uapi/drm/vprime_drm.h"

static unsigned int num_devices = 2;
module_param(num_devices, uint, 0444);
MODULE_PARM_DESC(num_devices, "Number of vprime instances to create (1-8, default 2)");

static unsigned int dma_bits[VPRIME_MAX_DEVICES];
module_param_array(dma_bits, uint, NULL, 0444);
MODULE_PARM_DESC(dma_bits, "DMA address bits of each instance (32-64, default 64)");

static unsigned int max_segment[VPRIME_MAX_DEVICES];
module_param_array(max_segment, uint, NULL, 0444);
MODULE_PARM_DESC(max_segment, "Longest DMA segment of each instance in bytes (0: no limit)");

static unsigned int seg_boundary[VPRIME_MAX_DEVICES];
module_param_array(seg_boundary, uint, NULL, 0444);
MODULE_PARM_DESC(seg_boundary, "Power of two no DMA segment of each instance crosses (0: none)");

static bool contiguous[VPRIME_MAX_DEVICES];
module_param_array(contiguous, bool, NULL, 0444);
MODULE_PARM_DESC(contiguous, "Whether each instance needs physically contiguous buffers");

/* The largest VRAM an instance takes, in MiB: it comes from below 4 GiB. */
#define VPRIME_MAX_VRAM_MB	1024u

static unsigned int vram_mb[VPRIME_MAX_DEVICES];
module_param_array(vram_mb, uint, NULL, 0444);
MODULE_PARM_DESC(vram_mb, "Device memory (VRAM) of each instance in MiB (0-1024, default 0)");

static bool iommu[VPRIME_MAX_DEVICES];
module_param_array(iommu, bool, NULL, 0444);
MODULE_PARM_DESC(iommu, "Whether each instance is behind an IOMMU (its own IO address space)");

static unsigned int iova_mb[VPRIME_MAX_DEVICES];
module_param_array(iova_mb, uint, NULL, 0444);
MODULE_PARM_DESC(iova_mb, "IO address space of each instance behind an IOMMU in MiB (0: 1024, at most 2048)");

static unsigned int p2p[VPRIME_MAX_DEVICES];
module_param_array(p2p, uint, NULL, 0444);
MODULE_PARM_DESC(p2p, "Per instance, a mask of the instances that reach its VRAM in place");

static unsigned int num_crtcs = 1;
module_param(num_crtcs, uint, 0444);
MODULE_PARM_DESC(num_crtcs, "Display outputs (CRTCs) of each instance (1-4, default 1)");

static unsigned int num_overlays = 2;
module_param(num_overlays, uint, 0444);
MODULE_PARM_DESC(num_overlays, "Overlay planes of each CRTC (0-6, default 2)");

static unsigned int job_delay_ms[VPRIME_MAX_DEVICES];
module_param_array(job_delay_ms, uint, NULL, 0444);
MODULE_PARM_DESC(job_delay_ms, "Extra time each job of each instance takes, in ms (default 0)");

/*
 * Unlike the other arrays, one value stands for every instance, as the
 * parameter did before it was an array. The count starts at the array's
 * size so that sysfs shows the defaults when the parameter is not given.
 */
static unsigned int job_timeout_ms[VPRIME_MAX_DEVICES] = {
	[0 ... VPRIME_MAX_DEVICES - 1] = 2000
};

static unsigned int job_timeout_count = VPRIME_MAX_DEVICES;
module_param_array(job_timeout_ms, uint, &job_timeout_count, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "Time after which a job of each instance is stopped as hung, in ms; one value: every instance (default 2000, 0: never, and VPRIME_CMD_HANG is refused)");

static unsigned int map_wait_ms = 1000;
module_param(map_wait_ms, uint, 0644);
MODULE_PARM_DESC(map_wait_ms,
		 "How long a map that must move storage waits for other mappings to go (ms)");

static unsigned int mem_limit_mb;
module_param(mem_limit_mb, uint, 0644);
MODULE_PARM_DESC(mem_limit_mb,
		 "Backing storage all instances' objects may hold, in MiB (default 0: half of RAM)");

static bool fbdev = true;
module_param(fbdev, bool, 0444);
MODULE_PARM_DESC(fbdev, "Give each instance fbdev emulation, /dev/fbN (default 1)");

static struct vprime_device *vprime_devices[VPRIME_MAX_DEVICES];

/*
 * Each instance's device carries a devres entry pointing at the instance,
 * found by this release function: it is vprime's own, so a foreign device
 * (whose drvdata is its driver's business) never matches.
 */
static void vprime_instance_release(struct device *dev, void *res)
{
}

/**
 * vprime_device_of - the vprime instance of a device
 * @dev: any device
 *
 * Returns: the instance, or NULL for a foreign device.
 */
struct vprime_device *vprime_device_of(struct device *dev)
{
	struct vprime_device **vdev = devres_find(dev, vprime_instance_release, NULL, NULL);

	return vdev ? *vdev : NULL;
}

/**
 * vprime_device_needs_contiguous - whether @dev is a vprime instance that
 *	needs physically contiguous buffers
 * @dev: any device
 *
 * Returns: false for a foreign device; they say what they need through
 * their DMA mask and dma_parms only. False for an instance behind an
 * IOMMU too: IO addresses make any pages contiguous for it.
 */
bool vprime_device_needs_contiguous(struct device *dev)
{
	struct vprime_device *vdev = vprime_device_of(dev);

	return vdev && vdev->contiguous && !vprime_iommu_of(dev);
}

/**
 * vprime_map_wait_jiffies - how long a map waits for others to unmap
 *
 * Returns: the map_wait_ms parameter, in jiffies.
 */
unsigned long vprime_map_wait_jiffies(void)
{
	return msecs_to_jiffies(READ_ONCE(map_wait_ms));
}

/**
 * vprime_mem_limit_bytes - the backing storage every instance's objects
 *	may hold together
 *
 * Returns: the mem_limit_mb parameter in bytes, or half of RAM when it is 0.
 */
u64 vprime_mem_limit_bytes(void)
{
	unsigned int mb = READ_ONCE(mem_limit_mb);

	return mb ? (u64)mb << 20 : (u64)totalram_pages() << (PAGE_SHIFT - 1);
}

/* The storage held by every instance's objects, against mem_limit_mb. */
static atomic64_t vprime_storage_bytes = ATOMIC64_INIT(0);

/**
 * vprime_storage_charge - count @size more bytes of storage
 * @size: the size of the storage about to be allocated
 *
 * Returns: false, with nothing counted, when that would pass the limit.
 */
bool vprime_storage_charge(u64 size)
{
	u64 limit = vprime_mem_limit_bytes();
	s64 old = atomic64_read(&vprime_storage_bytes);

	do {
		if (old + size > limit)
			return false;
	} while (!atomic64_try_cmpxchg(&vprime_storage_bytes, &old, old + size));
	return true;
}

/**
 * vprime_storage_uncharge - undo vprime_storage_charge()
 * @size: the size charged
 */
void vprime_storage_uncharge(u64 size)
{
	atomic64_sub(size, &vprime_storage_bytes);
}

/**
 * vprime_object_space_bytes - how large one instance's objects may be in
 *	all, imports included
 *
 * Objects are created without storage, but each takes a range of the
 * device's mmap offset space at once. A quarter of that space keeps one
 * client's empty objects from taking it all.
 *
 * Returns: a size in bytes.
 */
u64 vprime_object_space_bytes(void)
{
	return (u64)DRM_FILE_PAGE_OFFSET_SIZE << (PAGE_SHIFT - 2);
}

/* Instance @index's job timeout in jiffies (job_timeout_ms; 0: none). */
static long vprime_job_timeout(unsigned int index)
{
	unsigned int ms = job_timeout_ms[job_timeout_count == 1 ? 0 : index];

	return ms ? msecs_to_jiffies(ms) : MAX_SCHEDULE_TIMEOUT;
}

static int vprime_check_params(void)
{
	unsigned int i;

	for (i = 0; i < VPRIME_MAX_DEVICES; i++) {
		if (dma_bits[i] && (dma_bits[i] < 32 || dma_bits[i] > 64))
			return -EINVAL;
		if (max_segment[i] && max_segment[i] < PAGE_SIZE)
			return -EINVAL;
		if (seg_boundary[i] &&
		    (!is_power_of_2(seg_boundary[i]) || seg_boundary[i] < PAGE_SIZE))
			return -EINVAL;
		if (vram_mb[i] > VPRIME_MAX_VRAM_MB)
			return -EINVAL;
		if (iova_mb[i] > VPRIME_MAX_IOVA_MB)
			return -EINVAL;
	}
	return 0;
}

/* Give instance @index's device the DMA constraints its parameters ask for. */
static int vprime_device_set_constraints(struct vprime_device *vdev, struct device *dev)
{
	unsigned int i = vdev->index;
	struct vprime_device **self;
	int ret;

	/*
	 * A faux device has no dma_parms of its own. The setters return an
	 * int up to 6.10 and nothing since: their value is not used (they
	 * fail only without dma_parms).
	 */
	dev->dma_parms = &vdev->dma_parms;
	dma_set_max_seg_size(dev, max_segment[i] ?: UINT_MAX);
	dma_set_seg_boundary(dev, seg_boundary[i] ? seg_boundary[i] - 1 : ULONG_MAX);
	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(dma_bits[i] ?: 64));
	if (ret)
		return ret;
	vdev->contiguous = contiguous[i];
	self = devres_alloc(vprime_instance_release, sizeof(*self), GFP_KERNEL);
	if (!self)
		return -ENOMEM;
	*self = vdev;
	devres_add(dev, self);
	return 0;
}

DEFINE_DRM_GEM_FOPS(vprime_fops);

static const struct drm_ioctl_desc vprime_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VPRIME_GEM_CREATE, vprime_gem_create_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VPRIME_GEM_INFO, vprime_gem_info_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VPRIME_GEM_MAP, vprime_gem_map_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VPRIME_GEM_UNMAP, vprime_gem_unmap_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VPRIME_SUBMIT, vprime_submit_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VPRIME_WAIT_IDLE, vprime_wait_idle_ioctl, DRM_RENDER_ALLOW),
};

static const struct drm_driver vprime_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_MODESET | DRIVER_ATOMIC |
			   DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE,
	.open = vprime_file_open,
	.postclose = vprime_file_postclose,
	.fops = &vprime_fops,
	.ioctls = vprime_ioctls,
	.num_ioctls = ARRAY_SIZE(vprime_ioctls),
	.dumb_create = vprime_gem_dumb_create,
	.dumb_map_offset = vprime_gem_dumb_map_offset,
	VPRIME_FBDEV_DRIVER_OPS
	.gem_prime_import = vprime_gem_prime_import,
	VPRIME_PRIME_FD_OPS
	.debugfs_init = vprime_debugfs_init,
	.name = VPRIME_DRIVER_NAME,
	.desc = VPRIME_DRIVER_DESC,
	VPRIME_DRIVER_DATE(VPRIME_DRIVER_DATE_STR)
	.major = VPRIME_DRIVER_MAJOR,
	.minor = VPRIME_DRIVER_MINOR,
};

static struct vprime_device *vprime_device_create(unsigned int index)
{
	struct vprime_device *vdev;
	struct faux_device *fdev;
	struct device *dev;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), VPRIME_DRIVER_NAME ".%u", index);
	fdev = faux_device_create(name, NULL, NULL);
	if (!fdev)
		return ERR_PTR(-ENODEV);
	dev = &fdev->dev;

	/* The DRM device's managed resources go with this group. */
	if (!devres_open_group(dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err_device;
	}

	vdev = devm_drm_dev_alloc(dev, &vprime_driver, struct vprime_device, drm);
	if (IS_ERR(vdev)) {
		ret = PTR_ERR(vdev);
		goto err_devres;
	}
	vdev->index = index;
	INIT_LIST_HEAD(&vdev->objects);
	ret = drmm_mutex_init(&vdev->drm, &vdev->objects_lock);
	if (ret)
		goto err_devres;

	ret = vprime_device_set_constraints(vdev, dev);
	if (ret)
		goto err_devres;
	ret = vprime_vram_init(vdev, vram_mb[index], p2p[index]);
	if (ret)
		goto err_devres;
	ret = vprime_iommu_init(vdev, iommu[index], iova_mb[index], contiguous[index]);
	if (ret)
		goto err_devres;

	ret = vprime_kms_init(vdev, num_crtcs, num_overlays);
	if (ret)
		goto err_devres;
	ret = vprime_engine_init(vdev, job_delay_ms[index], vprime_job_timeout(index));
	if (ret)
		goto err_devres;

	ret = drm_dev_register(&vdev->drm, 0);
	if (ret)
		goto err_engine;
	if (fbdev)
		drm_client_setup(&vdev->drm, NULL);

	return vdev;

err_engine:
	vprime_engine_fini(vdev);
err_devres:
	dev->dma_parms = NULL;
	devres_release_group(dev, NULL);
err_device:
	faux_device_destroy(fdev);
	return ERR_PTR(ret);
}

static void vprime_device_destroy(struct vprime_device *vdev)
{
	struct device *dev = vdev->drm.dev;

	drm_dev_unregister(&vdev->drm);
	vprime_kms_fini(vdev);
	vprime_engine_fini(vdev);
	devres_release_group(dev, NULL);
	dev->dma_parms = NULL;
	faux_device_destroy(container_of(dev, struct faux_device, dev));
}

static void vprime_destroy_all(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vprime_devices); i++) {
		if (vprime_devices[i])
			vprime_device_destroy(vprime_devices[i]);
		vprime_devices[i] = NULL;
	}
}

static int __init vprime_init(void)
{
	unsigned int i;
	int ret;

	if (num_devices < 1 || num_devices > VPRIME_MAX_DEVICES) {
		pr_err("vprime: num_devices must be 1-%d, not %u\n",
		       VPRIME_MAX_DEVICES, num_devices);
		return -EINVAL;
	}
	if (num_crtcs < 1 || num_crtcs > VPRIME_MAX_CRTCS) {
		pr_err("vprime: num_crtcs must be 1-%d, not %u\n", VPRIME_MAX_CRTCS, num_crtcs);
		return -EINVAL;
	}
	if (num_overlays > VPRIME_MAX_OVERLAYS) {
		pr_err("vprime: num_overlays must be 0-%d, not %u\n", VPRIME_MAX_OVERLAYS,
		       num_overlays);
		return -EINVAL;
	}
	if (vprime_check_params()) {
		pr_err("vprime: dma_bits must be 32-64, max_segment at least a page, seg_boundary a power of two of at least a page, vram_mb at most %u, iova_mb at most %u\n",
		       VPRIME_MAX_VRAM_MB, VPRIME_MAX_IOVA_MB);
		return -EINVAL;
	}

	ret = vprime_vram_module_init();
	if (ret)
		return ret;
	vprime_fault_init();
	for (i = 0; i < num_devices; i++) {
		struct vprime_device *vdev = vprime_device_create(i);

		if (IS_ERR(vdev)) {
			vprime_vram_module_exit();
			vprime_destroy_all();
			vprime_fault_fini();
			return PTR_ERR(vdev);
		}
		vprime_devices[i] = vdev;
	}
	return 0;
}

static void __exit vprime_exit(void)
{
	/* Its work may hold the last references on objects and devices. */
	vprime_vram_module_exit();
	vprime_destroy_all();
	vprime_fault_fini();
}

module_init(vprime_init);
module_exit(vprime_exit);

MODULE_AUTHOR("The vprime developers");
MODULE_DESCRIPTION(VPRIME_DRIVER_DESC);
MODULE_LICENSE("GPL");
VPRIME_IMPORT_NS_DMA_BUF();
