/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_JOB_H_
#define _VPRIME_JOB_H_

#include <linux/dma-fence.h>
#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/gpu_scheduler.h>

#include "include/uapi/drm/vprime_drm.h"

struct drm_file;
struct vprime_device;

/**
 * struct vprime_engine - a device's job engine
 * @sched: the DRM GPU scheduler that orders its jobs
 * @exec_wq: the ordered workqueue jobs execute on, one at a time
 * @cleanup_wq: releases finished jobs' buffers, away from the scheduler
 * @fence_lock: the lock of the engine's hardware fences, before 7.2 (whose
 *	fences have their own: vprime_fence_lock())
 * @fence_context: their fence context
 * @seqno: the last hardware fence's number
 * @delay_ms: extra time each job takes, to let ordering bugs show
 * @has_timeout: jobs time out (job_timeout_ms is not 0): only then is
 *	%VPRIME_CMD_HANG accepted
 * @dying: the engine is being torn down: executions stop, new runs cancel
 * @wq: woken when a job must stop (its timeout, @dying) and when the last
 *	job is freed
 * @live_jobs: jobs armed and not yet freed
 */
struct vprime_engine {
	struct drm_gpu_scheduler sched;
	struct workqueue_struct *exec_wq;
	struct workqueue_struct *cleanup_wq;
	spinlock_t fence_lock; /* protects the hardware fences */
	u64 fence_context;
	atomic64_t seqno;
	unsigned int delay_ms;
	bool has_timeout;
	bool dying;
	wait_queue_head_t wq;
	atomic_t live_jobs;
};

/*
 * Bits of &vprime_job.flags: the hardware fence has been signalled (or is
 * being); the job must stop (its timeout).
 */
#define VPRIME_JOB_SIGNALLED	0
#define VPRIME_JOB_STOP		1

/* A file whose jobs timed out this many times is banned: SUBMIT fails with -EIO. */
#define VPRIME_BAN_TIMEOUTS	3

/**
 * struct vprime_job_bo - a buffer of a job, mapped for the engine
 * @obj: the object, referenced
 * @desc: how the job sees it
 * @map: its kernel mapping, made at submission
 */
struct vprime_job_bo {
	struct drm_gem_object *obj;
	struct drm_vprime_submit_bo desc;
	struct iosys_map map;
};

/**
 * struct vprime_job - one submitted job
 * @hw_fence: signalled when the engine has executed it. Its ops have no
 *	release: the core frees it with kfree_rcu(), and so the job, which
 *	starts with it. On 7.2 the core detaches a signalled fence from
 *	vprime, and its lock is its own, so it may outlive the module; 6.1's
 *	and 6.12's cores read its ops on every release.
 * @base: the scheduler's job
 * @engine: the engine it runs on
 * @file: the file that submitted it, referenced
 * @hw_fence_live: @hw_fence was initialised (the job ran)
 * @flags: VPRIME_JOB_* bits
 * @exec_work: executes the job on &vprime_engine.exec_wq
 * @cleanup_work: releases the job's buffers on &vprime_engine.cleanup_wq
 * @bos: the buffers
 * @num_bos: their number
 * @cmds: the commands
 * @num_cmds: their number
 * @fault_tag: the submitting task's fault-injection sweep, if it has one
 *	(vprime_fault_tag()): the execution's injection point counts for it
 */
struct vprime_job {
	struct dma_fence hw_fence;	/* first: the core frees it */
	struct drm_sched_job base;
	struct vprime_engine *engine;
	struct vprime_file *file;
	bool hw_fence_live;
	unsigned long flags;
	struct work_struct exec_work;
	struct work_struct cleanup_work;
	struct vprime_job_bo *bos;
	unsigned int num_bos;
	struct drm_vprime_cmd *cmds;
	unsigned int num_cmds;
	u64 fault_tag;
};

/**
 * struct vprime_file - what vprime keeps per open file
 * @ref: the file and each of its jobs hold one: a job may outlive the file
 * @entity: the file's scheduler entity: its jobs run in submission order
 * @timeouts: how many of its jobs timed out; at %VPRIME_BAN_TIMEOUTS the
 *	file is banned
 */
struct vprime_file {
	struct kref ref;
	struct drm_sched_entity entity;
	atomic_t timeouts;
};

int vprime_submit_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int vprime_wait_idle_ioctl(struct drm_device *drm, void *data, struct drm_file *file);

#endif /* _VPRIME_JOB_H_ */
