/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * Helpers shared by vprime's IGT tests: finding the vprime instances and
 * opening their nodes, whatever order the DRM minors were created in.
 */

#ifndef VPRIME_TEST_H
#define VPRIME_TEST_H

#include <stdbool.h>
#include <stddef.h>

enum vprime_node {
	VPRIME_NODE_CARD,
	VPRIME_NODE_RENDER,
};

/* How many instances the loaded module created (its num_devices). */
int vprime_num_devices(void);

/*
 * The path of a node of the device named @devname (e.g. "vprime.1", "vgem",
 * "vkms"), or false when there is none.
 */
bool vprime_node_path(const char *devname, enum vprime_node node,
		      char *path, size_t len);

/* Open instance @index's node; skips the test when it does not exist. */
int vprime_open(int index, enum vprime_node node);

/* Open the card node of another driver's device ("vgem", "vkms"); skips. */
int vprime_open_other(const char *devname);

/* The DRM driver name behind @fd, in @name (DRM_IOCTL_VERSION). */
void vprime_driver_name(int fd, char *name, size_t len);

/*
 * The number of objects instance @index holds now, from its debugfs file
 * vprime_objects (first line "objects: N ...").
 */
long vprime_object_count(int index);

#endif /* VPRIME_TEST_H */
