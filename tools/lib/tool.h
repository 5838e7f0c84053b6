/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * What vprime's command-line tools share: finding devices, vprime's ioctls,
 * and error reporting that names the device and the errno. Functions return
 * a negative errno or 0 (or a value) and never exit, except die().
 */

#ifndef VPRIME_TOOL_H
#define VPRIME_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vprime_drm.h"

/* Exit statuses every tool uses. */
enum tool_exit {
	EXIT_CHECK = 1,		/* a verification failed */
	EXIT_USAGE = 2,		/* bad arguments */
	EXIT_DEVICE = 3,	/* a device, an ioctl or a file failed */
};

/* The program's name, for messages; set by the tool's main(). */
extern const char *tool_name;

/* Print "NAME: message" on stderr and exit with @status. */
__attribute__((noreturn, format(printf, 2, 3)))
void die(int status, const char *fmt, ...);

/*
 * When @ret is a negative errno, die with EXIT_DEVICE and
 * "DEVICE: WHAT: error" (or "WHAT: error" when @device is NULL).
 */
void check_call(int ret, const char *device, const char *what);

/* Print @usage and exit: on stdout with 0 for --help, else on stderr with 2. */
__attribute__((noreturn)) void usage_exit(void (*usage)(FILE *out), bool help);

/* Print a step heading ("== ...") and a detail line ("   ..."). */
__attribute__((format(printf, 1, 2))) void step(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void detail(const char *fmt, ...);

/*
 * Open the card (or render) node of the DRM device named @devname
 * ("vprime.1", "vgem", "vkms"). Returns the fd, or -ENODEV / -errno.
 */
int open_device(const char *devname, bool card);

/* How many vprime instances there are, or a negative errno. */
int vprime_instances(void);

/* Instance @index's value of the array parameter @name (0 when unset). */
long vprime_param(const char *name, int index);

/* N of the name "vprime.N" of an existing instance, or -1. */
int vprime_instance_index(const char *devname);

/*
 * Instance @index's peers: the bits of the instances its p2p parameter
 * names, which map its VRAM in place (never @index itself).
 */
unsigned long vprime_peers(int index);
/* The same as "vprime.0,vprime.2", or "-" for none, in @buf; whether there are any. */
int vprime_peers_text(int index, char *buf, size_t len);

/* The path of @devname's debugfs file vprime_objects: 0 or -ENODEV. */
int vprime_debugfs_path(const char *devname, char *path, size_t len);

/* Counters of the first line of an instance's debugfs vprime_objects. */
struct vprime_counters {
	long long objects, migrations, bytes_moved;
	long long vram_size, vram_used, evictions, evicted_bytes, peer_mappings;
};

/*
 * Read @devname's counters (as root: debugfs): 0, -ENODEV, -EPROTO when
 * one is missing, or the errno of opening the file (-EACCES, -ENOENT when
 * debugfs is not mounted).
 */
int vprime_read_counters(const char *devname, struct vprime_counters *c);

/* The first instance whose dma_bits is @bits, other than @not; -1 if none. */
int vprime_instance_with_dma_bits(unsigned int bits, int not);

/* vprime's ioctls; 0 or a negative errno. */
int vprime_create(int fd, uint64_t size, uint32_t *handle);
int vprime_info(int fd, uint32_t handle, struct drm_vprime_gem_info *info);
int vprime_mmap(int fd, uint32_t handle, size_t size, void **map);

/* One rectangle of a fill job, in pixels, and its ARGB8888 colour. */
struct fill_rect {
	uint32_t x, y, w, h, argb;
};

/*
 * Fill @n rectangles of an XRGB8888 surface of object @handle on the
 * device's job engine, in order (as many jobs as the commands need), and
 * wait until they are done. 0 or a negative errno.
 */
int vprime_fill_rects(int fd, uint32_t handle, uint32_t width, uint32_t height,
		      uint32_t pitch, const struct fill_rect *rects, unsigned int n);

/* Whether the DRM device on @fd is a vprime instance. */
bool device_is_vprime(int fd);

/*
 * The VPRIME_PLACEMENT_* value of a placement keyword (none, system, dma32,
 * contig, contig-dma32, imported, vram), or -1.
 */
int placement_from_key(const char *key);

/* A VPRIME_PLACEMENT_* value's name. */
const char *placement_name(uint32_t placement);

#endif /* VPRIME_TOOL_H */
