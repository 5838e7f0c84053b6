/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_JOB_H_
#define _VPRIME_JOB_H_

#include <linux/completion.h>
#include <linux/dma-fence.h>
#include <linux/iosys-map.h>
#include <linux/spinlock.h>
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
 * @fence_lock: the lock of the engine's hardware fences
 * @fence_context: their fence context
 * @seqno: the last hardware fence's number
 * @delay_ms: extra time each job takes, to let ordering bugs show
 */
struct vprime_engine {
	struct drm_gpu_scheduler sched;
	struct workqueue_struct *exec_wq;
	struct workqueue_struct *cleanup_wq;
	spinlock_t fence_lock; /* protects the hardware fences */
	u64 fence_context;
	atomic64_t seqno;
	unsigned int delay_ms;
};

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
 * @base: the scheduler's job
 * @engine: the engine it runs on
 * @hw_fence: signalled when the engine has executed it; its release frees
 *	the job
 * @hw_fence_live: @hw_fence was initialised (the job ran)
 * @completed: bit 0: @hw_fence has been signalled (or is being)
 * @rcu: frees the job after fence readers are done
 * @exec_work: executes the job on &vprime_engine.exec_wq
 * @cleanup_work: releases the job's buffers on &vprime_engine.cleanup_wq
 * @timed_out: completed by the timeout handler; a hung job waits for it
 * @bos: the buffers
 * @num_bos: their number
 * @cmds: the commands
 * @num_cmds: their number
 */
struct vprime_job {
	struct drm_sched_job base;
	struct vprime_engine *engine;
	struct dma_fence hw_fence;
	bool hw_fence_live;
	unsigned long completed;
	struct rcu_head rcu;
	struct work_struct exec_work;
	struct work_struct cleanup_work;
	struct completion timed_out;
	struct vprime_job_bo *bos;
	unsigned int num_bos;
	struct drm_vprime_cmd *cmds;
	unsigned int num_cmds;
};

/**
 * struct vprime_file - what vprime keeps per open file
 * @entity: the file's scheduler entity: its jobs run in submission order
 */
struct vprime_file {
	struct drm_sched_entity entity;
};

int vprime_engine_init(struct vprime_device *vdev, unsigned int delay_ms, long timeout);
void vprime_engine_fini(struct vprime_device *vdev);
int vprime_file_open(struct drm_device *drm, struct drm_file *file);
void vprime_file_postclose(struct drm_device *drm, struct drm_file *file);
int vprime_submit_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int vprime_wait_idle_ioctl(struct drm_device *drm, void *data, struct drm_file *file);

/* vprime_engine.c */
int vprime_cmd_check(const struct drm_vprime_cmd *cmd, const struct vprime_job_bo *bos,
		     unsigned int num_bos);
int vprime_surface_check(const struct drm_vprime_submit_bo *desc, size_t size);
void vprime_cmd_execute(const struct drm_vprime_cmd *cmd, const struct vprime_job_bo *bos);

#endif /* _VPRIME_JOB_H_ */
