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
 */

#include <linux/dma-mapping.h>
#include <linux/module.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_prime.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_gem.h"
#include "include/uapi/drm/vprime_drm.h"

static unsigned int num_devices = 2;
module_param(num_devices, uint, 0444);
MODULE_PARM_DESC(num_devices, "Number of vprime instances to create (1-8, default 2)");

static struct vprime_device *vprime_devices[VPRIME_MAX_DEVICES];

DEFINE_DRM_GEM_FOPS(vprime_fops);

static const struct drm_ioctl_desc vprime_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VPRIME_GEM_CREATE, vprime_gem_create_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VPRIME_GEM_INFO, vprime_gem_info_ioctl, DRM_RENDER_ALLOW),
};

static const struct drm_driver vprime_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER,
	.fops = &vprime_fops,
	.ioctls = vprime_ioctls,
	.num_ioctls = ARRAY_SIZE(vprime_ioctls),
	.dumb_create = vprime_gem_dumb_create,
	.gem_prime_import = vprime_gem_prime_import,
	.gem_prime_import_sg_table = vprime_gem_prime_import_sg_table,
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
	struct device *dev;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), VPRIME_DRIVER_NAME ".%u", index);
	dev = vprime_compat_device_create(name);
	if (IS_ERR(dev))
		return ERR_CAST(dev);

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

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_devres;

	ret = drm_dev_register(&vdev->drm, 0);
	if (ret)
		goto err_devres;

	return vdev;

err_devres:
	devres_release_group(dev, NULL);
err_device:
	vprime_compat_device_destroy(dev);
	return ERR_PTR(ret);
}

static void vprime_device_destroy(struct vprime_device *vdev)
{
	struct device *dev = vdev->drm.dev;

	drm_dev_unregister(&vdev->drm);
	devres_release_group(dev, NULL);
	vprime_compat_device_destroy(dev);
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

	if (num_devices < 1 || num_devices > VPRIME_MAX_DEVICES) {
		pr_err("vprime: num_devices must be 1-%d, not %u\n",
		       VPRIME_MAX_DEVICES, num_devices);
		return -EINVAL;
	}

	for (i = 0; i < num_devices; i++) {
		struct vprime_device *vdev = vprime_device_create(i);

		if (IS_ERR(vdev)) {
			vprime_destroy_all();
			return PTR_ERR(vdev);
		}
		vprime_devices[i] = vdev;
	}
	return 0;
}

static void __exit vprime_exit(void)
{
	vprime_destroy_all();
}

module_init(vprime_init);
module_exit(vprime_exit);

MODULE_AUTHOR("The vprime developers");
MODULE_DESCRIPTION(VPRIME_DRIVER_DESC);
MODULE_LICENSE("GPL");
VPRIME_IMPORT_NS_DMA_BUF();
