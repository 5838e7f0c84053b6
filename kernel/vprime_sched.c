// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: the job engine
 *
 * Each instance has a job engine that behaves like a GPU's: jobs are
 * ordered by the DRM GPU scheduler (one entity per open file), and executed
 * one at a time on an ordered workqueue that stands in for the hardware.
 * Each job has two fences: the scheduler's finished fence, which userspace
 * and other devices see, and the engine's own hardware fence, which the
 * execution signals. This file is the scheduler's backend (run_job,
 * timedout_job, free_job), the execution, and the engine's and each open
 * file's lifetime; vprime_job.c submits, vprime_cmd.c holds the commands.
 *
 * The signalling path — the scheduler's run_job and the execution — is
 * annotated with dma_fence_begin_signalling() and takes no reservation lock
 * and allocates nothing; finished jobs release their buffers on a
 * workqueue of their own.
 *
 * A job that does not complete within job_timeout_ms (VPRIME_CMD_HANG, or
 * too much work) is stopped: the execution checks between rows whether it
 * must stop, so the timeout handler only has to ask and wait a little. Its
 * fences carry -ETIMEDOUT and later jobs run; the engine needs no reset. A
 * file whose jobs time out %VPRIME_BAN_TIMEOUTS times is banned, as GPU
 * drivers ban guilty contexts: its later submissions fail with -EIO and its
 * jobs not yet executed are cancelled. Without a timeout (job_timeout_ms=0)
 * VPRIME_CMD_HANG is refused.
 *
 * Teardown (vprime_engine_fini()) runs once every file is closed: it marks
 * the engine dying, which stops executions and cancels jobs not yet run,
 * waits until every job has been freed, and only then stops the scheduler.
 */

#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "vprime_cmd.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_sched.h"
#include "vprime_vmap.h"

static struct vprime_job *to_vprime_job(struct drm_sched_job *job)
{
	return container_of(job, struct vprime_job, base);
}

static const char *vprime_engine_fence_driver_name(struct dma_fence *fence)
{
	return "vprime";
}

static const char *vprime_engine_fence_timeline_name(struct dma_fence *fence)
{
	return "vprime-engine";
}

/*
 * No release: dma_fence_free() frees the job, which starts with its
 * hardware fence, after an RCU grace period. A fence may outlive the module
 * (in a sync_file, or in a foreign buffer's reservation object) and its
 * last put must not call into it.
 */
static const struct dma_fence_ops engine_fence_ops = {
	.get_driver_name = vprime_engine_fence_driver_name,
	.get_timeline_name = vprime_engine_fence_timeline_name,
};

static_assert(offsetof(struct vprime_job, hw_fence) == 0);

/*
 * Signal the job's hardware fence with @error, once: the execution, run_job
 * and cancel_job may each be the one. The finished fence gets the error
 * first, since 6.1's scheduler does not pass it on; it cannot have signalled
 * yet, as only the hardware fence signals it.
 */
static void vprime_engine_fence_complete(struct vprime_job *job, int error)
{
	if (test_and_set_bit(VPRIME_JOB_SIGNALLED, &job->flags))
		return;
	if (error) {
		dma_fence_set_error(&job->base.s_fence->finished, error);
		dma_fence_set_error(&job->hw_fence, error);
	}
	dma_fence_signal(&job->hw_fence);
}

/**
 * vprime_file_banned - whether a file's jobs timed out too often
 * @vfile: the file
 *
 * Returns: true once %VPRIME_BAN_TIMEOUTS of its jobs timed out.
 */
bool vprime_file_banned(struct vprime_file *vfile)
{
	return atomic_read(&vfile->timeouts) >= VPRIME_BAN_TIMEOUTS;
}

/**
 * vprime_job_stopped - whether a job's execution must stop now
 * @job: the job
 *
 * Returns: true when the job timed out or the engine is being torn down.
 */
bool vprime_job_stopped(const struct vprime_job *job)
{
	return test_bit(VPRIME_JOB_STOP, &job->flags) || READ_ONCE(job->engine->dying);
}

/*
 * Execute the commands until one is stopped: 0, or the error the job's
 * fences carry, -ETIMEDOUT after its timeout, -ECANCELED at teardown. A
 * hung command waits for that, as a hung GPU ring would, so the engine's
 * fences still signal in order.
 */
static int vprime_job_run_cmds(struct vprime_job *job)
{
	struct vprime_engine *engine = job->engine;
	unsigned int i;
	int ret = 0;

	if (vprime_file_banned(job->file))
		return -ECANCELED;
	/* As a GPU fault would: the job's fences carry the error. */
	if (vprime_should_fail_tagged(VPRIME_FAULT_JOB_EXEC, job->fault_tag))
		return -EIO;
	if (engine->delay_ms)
		wait_event_timeout(engine->wq, vprime_job_stopped(job),
				   msecs_to_jiffies(engine->delay_ms));
	for (i = 0; i < job->num_cmds && !ret; i++) {
		if (job->cmds[i].op == VPRIME_CMD_HANG) {
			wait_event(engine->wq, vprime_job_stopped(job));
			ret = -ECANCELED;
		} else {
			ret = vprime_cmd_execute(&job->cmds[i], job);
		}
	}
	if (!ret)
		return 0;
	if (!test_bit(VPRIME_JOB_STOP, &job->flags))
		return -ECANCELED;
	/*
	 * Stopped by its timeout: one more for its file, counted before the
	 * fence signals, so that whoever sees the fence sees the ban too.
	 */
	atomic_inc(&job->file->timeouts);
	return -ETIMEDOUT;
}

/* The "hardware": execute the job, then signal its hardware fence. */
static void vprime_job_execute(struct work_struct *work)
{
	struct vprime_job *job = container_of(work, struct vprime_job, exec_work);
	bool cookie = dma_fence_begin_signalling();

	vprime_engine_fence_complete(job, vprime_job_run_cmds(job));
	dma_fence_end_signalling(cookie);
}

static struct dma_fence *vprime_run_job(struct drm_sched_job *sched_job)
{
	struct vprime_job *job = to_vprime_job(sched_job);
	struct vprime_engine *engine = job->engine;
	int error = sched_job->s_fence->finished.error;
	bool cookie = dma_fence_begin_signalling();

	dma_fence_init(&job->hw_fence, &engine_fence_ops, vprime_fence_lock(&engine->fence_lock),
		       engine->fence_context, atomic64_inc_return(&engine->seqno));
	job->hw_fence_live = true;
	if (!error && READ_ONCE(engine->dying))
		error = -ECANCELED;
	if (error)	/* a dependency failed, the job was killed, or teardown */
		vprime_engine_fence_complete(job, error);
	else
		queue_work(engine->exec_wq, &job->exec_work);
	dma_fence_end_signalling(cookie);
	return dma_fence_get(&job->hw_fence);
}

static void vprime_free_job(struct drm_sched_job *sched_job);

/*
 * A job that does not complete in time: ask its execution to stop and wait
 * for it, which takes at most a row of pixels (a hung command gives up at
 * once). Unless the job completed in the meantime, its fences carry
 * -ETIMEDOUT and its file is one timeout closer to a ban (the execution
 * counts it). Either way its
 * hardware fence has signalled, the scheduler has completed it and runs
 * later jobs, and the engine needs no reset: on kernels that have it, the
 * status says so and the scheduler frees the job as any other; before, the
 * job the scheduler handed over is this handler's to free (see
 * vprime_compat.h).
 */
static enum drm_gpu_sched_stat vprime_timedout_job(struct drm_sched_job *sched_job)
{
	struct vprime_job *job = to_vprime_job(sched_job);

	set_bit(VPRIME_JOB_STOP, &job->flags);
	wake_up_all(&job->engine->wq);
	flush_work(&job->exec_work);
	if (VPRIME_SCHED_HAS_NO_HANG)
		return VPRIME_SCHED_STAT_NO_HANG;
	vprime_free_job(sched_job);
	return VPRIME_SCHED_STAT_RESET;
}

/* Teardown on kernels whose drm_sched_fini() cancels pending jobs. */
static void __maybe_unused vprime_cancel_job(struct drm_sched_job *sched_job)
{
	vprime_engine_fence_complete(to_vprime_job(sched_job), -ECANCELED);
}

static void vprime_file_release(struct kref *ref)
{
	kfree(container_of(ref, struct vprime_file, ref));
}

static void vprime_job_release_bos(struct vprime_job *job)
{
	unsigned int i;

	for (i = 0; i < job->num_bos; i++) {
		struct vprime_job_bo *bo = &job->bos[i];

		if (!bo->obj)
			continue;
		if (!iosys_map_is_null(&bo->map))
			vprime_gem_job_vunmap(bo->obj, &bo->map);
		drm_gem_object_put(bo->obj);
	}
	kvfree(job->bos);
	kvfree(job->cmds);
}

/**
 * vprime_job_free - free a job that the scheduler no longer holds
 * @job: the job, from vprime_job_init()
 *
 * Releases its buffers and its file; the job itself goes with its hardware
 * fence once that was initialised.
 */
void vprime_job_free(struct vprime_job *job)
{
	atomic_dec(&container_of(job->engine, struct vprime_device, engine)->live.jobs);
	vprime_job_release_bos(job);
	kref_put(&job->file->ref, vprime_file_release);
	if (job->hw_fence_live)
		dma_fence_put(&job->hw_fence);
	else
		kfree(job);
}

/*
 * Tests open the window between a job's fence and the release of its
 * buffers on purpose (VPRIME_DELAY_JOB_CLEANUP, the parameter
 * job_cleanup_delay_ms): nothing may fail because a finished job still
 * holds them.
 */
static void vprime_job_cleanup_work(struct work_struct *work)
{
	vprime_fault_delay(VPRIME_DELAY_JOB_CLEANUP);
	vprime_job_free(container_of(work, struct vprime_job, cleanup_work));
}

/*
 * The scheduler's worker also runs jobs: releasing the buffers (which takes
 * their reservation locks) is left to another workqueue.
 */
static void vprime_free_job(struct drm_sched_job *sched_job)
{
	struct vprime_job *job = to_vprime_job(sched_job);
	struct vprime_engine *engine = job->engine;

	drm_sched_job_cleanup(sched_job);
	queue_work(engine->cleanup_wq, &job->cleanup_work);
	if (atomic_dec_and_test(&engine->live_jobs))
		wake_up_all(&engine->wq);
}

/**
 * vprime_job_init - set up a new job of a file for the engine
 * @job: the zeroed job
 * @vdev: the instance
 * @vfile: the submitting file, referenced until vprime_job_free()
 */
void vprime_job_init(struct vprime_job *job, struct vprime_device *vdev, struct vprime_file *vfile)
{
	atomic_inc(&vdev->live.jobs);
	job->engine = &vdev->engine;
	job->file = vfile;
	job->fault_tag = vprime_fault_tag();
	kref_get(&vfile->ref);
	INIT_WORK(&job->exec_work, vprime_job_execute);
	INIT_WORK(&job->cleanup_work, vprime_job_cleanup_work);
}

static const struct drm_sched_backend_ops vprime_sched_ops = {
	.run_job = vprime_run_job,
	.timedout_job = vprime_timedout_job,
	.free_job = vprime_free_job,
	VPRIME_SCHED_CANCEL_JOB(vprime_cancel_job)
};

/**
 * vprime_engine_init - start an instance's job engine
 * @vdev: the instance
 * @delay_ms: extra time each job takes
 * @timeout: the job timeout, in jiffies
 *
 * Returns: 0 or a negative errno.
 */
int vprime_engine_init(struct vprime_device *vdev, unsigned int delay_ms, long timeout)
{
	struct vprime_engine *engine = &vdev->engine;
	const struct drm_sched_init_args args = {
		.ops = &vprime_sched_ops,
		VPRIME_SCHED_NUM_RQS
		.credit_limit = 64,
		.timeout = timeout,
		.name = dev_name(vdev->drm.dev),
		.dev = vdev->drm.dev,
	};
	int ret;

	engine->delay_ms = delay_ms;
	engine->has_timeout = timeout != MAX_SCHEDULE_TIMEOUT;
	init_waitqueue_head(&engine->wq);
	spin_lock_init(&engine->fence_lock);
	engine->fence_context = dma_fence_context_alloc(1);
	engine->exec_wq = alloc_ordered_workqueue("vprime_exec", WQ_MEM_RECLAIM);
	if (!engine->exec_wq)
		return -ENOMEM;
	engine->cleanup_wq = alloc_workqueue("vprime_cleanup", WQ_UNBOUND, 0);
	if (!engine->cleanup_wq) {
		ret = -ENOMEM;
		goto err_exec;
	}
	ret = vprime_compat_sched_init(&engine->sched, &args);
	if (ret)
		goto err_cleanup;
	return 0;

err_cleanup:
	destroy_workqueue(engine->cleanup_wq);
err_exec:
	destroy_workqueue(engine->exec_wq);
	return ret;
}

/**
 * vprime_engine_fini - stop an instance's job engine, once no file is open
 * @vdev: the instance
 *
 * Jobs may still be queued or executing, hung ones too: the engine is marked
 * dying, which stops every execution at its next row (a hung command at
 * once) and cancels the jobs run after, with -ECANCELED. Once every job has
 * been freed — the scheduler does it as their fences signal, while it still
 * runs — the scheduler is stopped, and the buffers released.
 */
void vprime_engine_fini(struct vprime_device *vdev)
{
	struct vprime_engine *engine = &vdev->engine;

	WRITE_ONCE(engine->dying, true);
	wake_up_all(&engine->wq);
	wait_event(engine->wq, !atomic_read(&engine->live_jobs));
	flush_workqueue(engine->exec_wq);
	drm_sched_fini(&engine->sched);
	destroy_workqueue(engine->exec_wq);
	destroy_workqueue(engine->cleanup_wq);	/* drains it */
}

/**
 * vprime_file_open - &drm_driver.open: give the file its scheduler entity
 * @drm: the device
 * @file: the new file
 *
 * Returns: 0 or a negative errno.
 */
int vprime_file_open(struct drm_device *drm, struct drm_file *file)
{
	struct drm_gpu_scheduler *sched = &to_vprime_device(drm)->engine.sched;
	struct vprime_file *vfile = kzalloc_obj(*vfile, GFP_KERNEL);
	int ret;

	if (!vfile)
		return -ENOMEM;
	kref_init(&vfile->ref);
	ret = drm_sched_entity_init(&vfile->entity, DRM_SCHED_PRIORITY_NORMAL, &sched, 1, NULL);
	if (ret) {
		kfree(vfile);
		return ret;
	}
	file->driver_priv = vfile;
	return 0;
}

/**
 * vprime_file_postclose - &drm_driver.postclose: let the file's jobs finish
 * @drm: the device
 * @file: the closing file
 */
void vprime_file_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct vprime_file *vfile = file->driver_priv;

	drm_sched_entity_destroy(&vfile->entity);
	kref_put(&vfile->ref, vprime_file_release);
}
