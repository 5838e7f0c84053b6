/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_DRV_H_
#define _VPRIME_DRV_H_

#include <drm/drm_device.h>

#define VPRIME_DRIVER_NAME	"vprime"
#define VPRIME_DRIVER_DESC	"Virtual PRIME (dma-buf) device"
#define VPRIME_DRIVER_DATE_STR	"20261122"
#define VPRIME_DRIVER_MAJOR	0
#define VPRIME_DRIVER_MINOR	1

/* The most instances one module load creates (num_devices). */
#define VPRIME_MAX_DEVICES	8

/**
 * struct vprime_device - one vprime instance
 * @drm: the DRM device; its card and render nodes are this instance's
 * @index: the instance number, 0 .. num_devices - 1
 */
struct vprime_device {
	struct drm_device drm;
	unsigned int index;
};

static inline struct vprime_device *to_vprime_device(struct drm_device *drm)
{
	return container_of(drm, struct vprime_device, drm);
}

#endif /* _VPRIME_DRV_H_ */
