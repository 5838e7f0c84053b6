/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_FAULT_H_
#define _VPRIME_FAULT_H_

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/types.h>

#include "vprime_compat.h"

struct dentry;

/**
 * enum vprime_fault_id - the named fault-injection points
 * @VPRIME_FAULT_STORAGE_ALLOC: backing storage allocation (-ENOMEM)
 * @VPRIME_FAULT_SGT_BUILD: building a device's sg_table (-ENOMEM)
 * @VPRIME_FAULT_DMA_MAP: DMA-mapping that sg_table (-ENOMEM)
 * @VPRIME_FAULT_MIGRATE_COPY: copying storage that moves (-ENOMEM)
 * @VPRIME_FAULT_FENCE_ALLOC: a job's scheduler fence or timeline point
 *	(-ENOMEM)
 * @VPRIME_FAULT_JOB_ALLOC: a job (-ENOMEM)
 * @VPRIME_FAULT_JOB_EXEC: a job's execution: its fences signal with -EIO
 * @VPRIME_FAULT_SCANOUT_PIN: pinning a framebuffer for scanout (-ENOMEM)
 * @VPRIME_FAULT_ATTACH: a device attaching to a vprime dma-buf, or vprime
 *	attaching to one it imports (-ENOMEM)
 * @VPRIME_FAULT_EXPORT: exporting an object as a dma-buf (-ENOMEM)
 * @VPRIME_FAULT_VMAP: mapping storage into the kernel, for a job, the
 *	display or an importer's vmap (-ENOMEM)
 * @VPRIME_FAULT_VRAM_ALLOC: VRAM for an object, as if it were full of
 *	objects that cannot be evicted (-ENOSPC)
 * @VPRIME_FAULT_IOVA_ALLOC: IO addresses for a mapping by an instance behind
 *	an IOMMU (-ENOMEM, as its page tables would)
 * @VPRIME_FAULT_COUNT: the number of points
 */
enum vprime_fault_id {
	VPRIME_FAULT_STORAGE_ALLOC,
	VPRIME_FAULT_SGT_BUILD,
	VPRIME_FAULT_DMA_MAP,
	VPRIME_FAULT_MIGRATE_COPY,
	VPRIME_FAULT_FENCE_ALLOC,
	VPRIME_FAULT_JOB_ALLOC,
	VPRIME_FAULT_JOB_EXEC,
	VPRIME_FAULT_SCANOUT_PIN,
	VPRIME_FAULT_ATTACH,
	VPRIME_FAULT_EXPORT,
	VPRIME_FAULT_VMAP,
	VPRIME_FAULT_VRAM_ALLOC,
	VPRIME_FAULT_IOVA_ALLOC,
	VPRIME_FAULT_COUNT
};

/**
 * enum vprime_delay_id - the injectable delays
 * @VPRIME_DELAY_JOB_CLEANUP: before a finished job releases its buffers (ms)
 * @VPRIME_DELAY_COMPOSE: before the composer composes a frame (ms)
 * @VPRIME_DELAY_VBLANK: in the vblank timer, before the vblank is handled
 *	(us, busy-waiting: the timer runs in interrupt context)
 * @VPRIME_DELAY_COMMIT_WORK: before a nonblocking commit's worker does
 *	its part (ms)
 * @VPRIME_DELAY_COUNT: the number of delays
 */
enum vprime_delay_id {
	VPRIME_DELAY_JOB_CLEANUP,
	VPRIME_DELAY_COMPOSE,
	VPRIME_DELAY_VBLANK,
	VPRIME_DELAY_COMMIT_WORK,
	VPRIME_DELAY_COUNT
};

/**
 * struct vprime_fault_attr_fallback - &struct fault_attr's knobs, for kernels
 *	without CONFIG_FAULT_INJECTION_DEBUG_FS
 * @probability: the chance of a failure, in percent
 * @interval: only every @interval-th hit may fail
 * @times: how many failures are left; -1: no limit
 * @space: hits that pass before any may fail
 * @verbose: 0 quiet, 1 a line per failure, 2 a line and a stack dump
 * @count: the hits, for @interval
 */
struct vprime_fault_attr_fallback {
	unsigned long probability;
	unsigned long interval;
	atomic_t times;
	atomic_t space;
	unsigned long verbose;
	atomic_t count;
};

#define VPRIME_FAULT_ATTR_FALLBACK_INITIALIZER {	\
	.interval = 1,					\
	.times = ATOMIC_INIT(1),			\
}

void vprime_fault_fallback_debugfs(const char *name, struct dentry *parent,
				   struct vprime_fault_attr_fallback *attr);
bool vprime_fault_fallback_should_fail(struct vprime_fault_attr_fallback *attr);

/**
 * struct vprime_fault_point - a named fault-injection point
 * @name: its name, and that of its debugfs directory
 * @attr: its probability, interval, times... (the kernel's &struct
 *	fault_attr where it exists)
 */
struct vprime_fault_point {
	const char *name;
	struct vprime_fault_attr attr;
};

extern struct vprime_fault_point vprime_fault_points[VPRIME_FAULT_COUNT];
extern atomic_t vprime_fault_nth_armed;
extern unsigned int vprime_delays[VPRIME_DELAY_COUNT];

bool vprime_fault_hit(enum vprime_fault_id id, u64 tag);
u64 vprime_fault_tag(void);
void __vprime_fault_delay(enum vprime_delay_id id, unsigned int value);
void vprime_fault_init(void);
void vprime_fault_fini(void);

/**
 * vprime_should_fail_tagged - whether a point fails, for work done on
 *	behalf of a task
 * @id: the point
 * @tag: what vprime_fault_tag() gave the task that caused the work
 *
 * Costs two reads while no sweep is armed and the point's probability is 0.
 *
 * Returns: true when the caller must fail as the point says.
 */
static inline bool vprime_should_fail_tagged(enum vprime_fault_id id, u64 tag)
{
	if (likely(!atomic_read(&vprime_fault_nth_armed) &&
		   !READ_ONCE(vprime_fault_points[id].attr.probability)))
		return false;
	return vprime_fault_hit(id, tag);
}

/**
 * vprime_should_fail - whether a point fails, for the current task
 * @id: the point
 *
 * Returns: true when the caller must fail as the point says.
 */
static inline bool vprime_should_fail(enum vprime_fault_id id)
{
	return vprime_should_fail_tagged(id, 0);
}

/**
 * vprime_fault_delay - wait as long as a delay is set to, if it is
 * @id: the delay
 */
static inline void vprime_fault_delay(enum vprime_delay_id id)
{
	unsigned int value = READ_ONCE(vprime_delays[id]);

	if (unlikely(value))
		__vprime_fault_delay(id, value);
}

#endif /* _VPRIME_FAULT_H_ */
