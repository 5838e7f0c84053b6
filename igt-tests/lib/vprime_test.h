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
#include <stdint.h>

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

/* The first line of instance @index's debugfs vprime_objects (its counters), in @line. */
void vprime_objects_header(int index, char *line, size_t len);

/*
 * A counter of the first line of instance @index's vprime_objects
 * ("objects", "allocations", "migrations", "waits", "invalidations", ...).
 */
long vprime_debugfs_counter(int index, const char *name);

/*
 * vprime_object_count() once instance @index is quiet: no job alive and the
 * count the same over three reads 100 ms apart (at most a minute). An
 * earlier subtest's object may still be on its way out (a job's delayed
 * cleanup, a worker's last reference); a baseline must not count it.
 */
long vprime_object_count_settled(int index);

/*
 * A dma-buf of @size bytes from the system dma-heap, writable, close-on-exec;
 * skips the subtest on a kernel without CONFIG_DMABUF_HEAPS_SYSTEM
 * (Debian's 6.1).
 */
int vprime_dma_heap_alloc(size_t size);

/*
 * Element @index of the vprime module parameter @name, a comma-separated
 * array in /sys/module/vprime/parameters/ (a single value is element 0), in
 * @buf; false when the parameter or that element does not exist.
 */
bool vprime_param(const char *name, int index, char *buf, size_t len);

/* vprime_param() as a number; skips the test when it does not exist. */
uint64_t vprime_param_u64(const char *name, int index);

/* vprime_param() as a boolean (Y/N, 1/0); skips the test when it does not exist. */
bool vprime_param_bool(const char *name, int index);

/*
 * Instance @index's job timeout in ms (job_timeout_ms; 0: none): its own
 * element, the only one when the parameter has one value (every
 * instance's), else the default 2000. Skips the test when the module has
 * no job engine.
 */
unsigned int vprime_job_timeout_ms(int index);

/*
 * The instance for the tests that hang jobs or time them out: the one not
 * in the mask @exclude with the shortest job timeout that is not 0 (the
 * first of equals); -1 when there is none (or no job engine).
 */
int vprime_find_hang_instance(unsigned int exclude);

/* vprime_find_hang_instance(), skipping the test when there is none. */
int vprime_hang_instance(unsigned int exclude);

/* What an instance's DMA engine can reach, as its module parameters set it. */
struct vprime_limits {
	unsigned int dma_bits;		/* width of its DMA address mask */
	uint64_t max_segment;		/* largest segment in bytes; 0: unlimited */
	uint64_t seg_boundary;		/* segments never cross a multiple; 0: none */
	bool contiguous;		/* needs the storage in one segment */
	unsigned int vram_mb;		/* its device memory (VRAM); 0: none */
	bool iommu;			/* behind an IOMMU: IO addresses, any memory */
};

/*
 * Instance @index's limits, from the parameters dma_bits, max_segment,
 * seg_boundary and contiguous (and vram_mb and iommu, 0 when the module has
 * no such parameter); skips the test when the module has none.
 */
struct vprime_limits vprime_limits(int index);

/* Instances by what their limits allow. */
bool vprime_is_lenient(const struct vprime_limits *l);	/* 64-bit, no limit, no VRAM, no IOMMU */
bool vprime_is_dma32(const struct vprime_limits *l);	/* a 32-bit DMA mask */
bool vprime_is_contiguous(const struct vprime_limits *l);	/* needs one physical block */

typedef bool (*vprime_instance_match)(const struct vprime_limits *l);

/* The first instance not in the mask @exclude for which @match holds; -1 if none. */
int vprime_find_instance(vprime_instance_match match, unsigned int exclude);

/* vprime_find_instance(), skipping the test when there is none; @what says which. */
int vprime_require_instance(vprime_instance_match match, unsigned int exclude,
			    const char *what);

/* Unload vprime (delete_module, not waiting): 0, or -errno (-EAGAIN while in use). */
int vprime_unload(void);

/*
 * The parameters the loaded vprime was given, as "name=value ..." read back
 * from sysfs, in @params: loaded with them again, every instance gets its
 * constraints back.
 */
void vprime_loaded_params(char *params, size_t len);

/* Load the module file @ko with @params ("name=value ..."); fails the test if it cannot. */
void vprime_load(const char *ko, const char *params);

/* Each of the instances 0 to @num_devices - 1 answers DRM_IOCTL_VERSION as "vprime". */
void vprime_assert_devices_answer(int num_devices);

#endif /* VPRIME_TEST_H */
