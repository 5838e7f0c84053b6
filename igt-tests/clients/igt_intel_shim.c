// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * LD_PRELOAD for upstream IGT's kms_prime (2.5) on devices that are not
 * Intel's: kms_prime asks is_intel_dgfx() of every exporter but vgem and of
 * every importer, and libigt's is_intel_dgfx() asserts an Intel device
 * (get_intel_driver(): "Device is not handled by Intel driver"). A device
 * that is not Intel's is not an Intel discrete GPU: this answers false for
 * it and hands i915 and xe devices to libigt's own is_intel_dgfx(), so the
 * unmodified test runs its CRC comparison on vprime and vgem.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>

#include <drm.h>

bool is_intel_dgfx(int fd);

bool is_intel_dgfx(int fd)
{
	char name[16] = "";
	struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
	bool (*real)(int);

	if (ioctl(fd, DRM_IOCTL_VERSION, &v) ||
	    (strcmp(name, "i915") && strcmp(name, "xe")))
		return false;
	real = (bool (*)(int))dlsym(RTLD_NEXT, "is_intel_dgfx");
	return real && real(fd);
}
