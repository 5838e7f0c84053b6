// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: jobs and fences
 *
 * Each instance has a job engine that behaves like a GPU's: jobs are
 * submitted with DRM_IOCTL_VPRIME_SUBMIT, ordered by the DRM GPU scheduler
 * (one entity per open file), and executed one at a time on an ordered
 * workqueue that stands in for the hardware. Each job has two fences: the
 * scheduler's finished fence, which userspace and other devices see, and
 * the engine's own hardware fence, which the execution signals.
 *
 * Submission does everything that can fail or allocate first: it copies
 * and checks the job, looks its buffers up, maps them for the engine,
 * reserves fence slots, gathers the dependencies — implicit ones from each
 * buffer's reservation object (a write waits for all fences, a read for
 * writers), explicit ones from a sync_file and syncobjs — and prepares the
 * out-fence fd and timeline point. Only then is the job armed, its fence
 * added to every buffer and published, and the job pushed.
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

#include <linux/delay.h>
#include <linux/dma-fence-chain.h>
#include <linux/file.h>
#include <linux/sched.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_job.h"

static struct vprime_job *to_vprime_job(struct drm_sched_job *job)
{
	return container_of(job, struct vprime_job, base);
}

static const char *engine_fence_driver_name(struct dma_fence *fence)
{
	return "vprime";
}

static const char *engine_fence_timeline_name(struct dma_fence *fence)
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
	.get_driver_name = engine_fence_driver_name,
	.get_timeline_name = engine_fence_timeline_name,
};

static_assert(offsetof(struct vprime_job, hw_fence) == 0);

/*
 * Signal the job's hardware fence with @error, once: the execution, run_job
 * and cancel_job may each be the one. The finished fence gets the error
 * first, since 6.1's scheduler does not pass it on; it cannot have signalled
 * yet, as only the hardware fence signals it.
 */
static void engine_fence_complete(struct vprime_job *job, int error)
{
	if (test_and_set_bit(VPRIME_JOB_SIGNALLED, &job->flags))
		return;
	if (error) {
		dma_fence_set_error(&job->base.s_fence->finished, error);
		dma_fence_set_error(&job->hw_fence, error);
	}
	dma_fence_signal(&job->hw_fence);
}

static bool file_banned(struct vprime_file *vfile)
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
static int job_run_cmds(struct vprime_job *job)
{
	struct vprime_engine *engine = job->engine;
	unsigned int i;
	int ret = 0;

	if (file_banned(job->file))
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
static void job_execute(struct work_struct *work)
{
	struct vprime_job *job = container_of(work, struct vprime_job, exec_work);
	bool cookie = dma_fence_begin_signalling();

	engine_fence_complete(job, job_run_cmds(job));
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
		engine_fence_complete(job, error);
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
	engine_fence_complete(to_vprime_job(sched_job), -ECANCELED);
}

static void file_release(struct kref *ref)
{
	kfree(container_of(ref, struct vprime_file, ref));
}

static void job_release_bos(struct vprime_job *job)
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

static void job_free(struct vprime_job *job)
{
	atomic_dec(&container_of(job->engine, struct vprime_device, engine)->live.jobs);
	job_release_bos(job);
	kref_put(&job->file->ref, file_release);
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
static void job_cleanup_work(struct work_struct *work)
{
	vprime_fault_delay(VPRIME_DELAY_JOB_CLEANUP);
	job_free(container_of(work, struct vprime_job, cleanup_work));
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
	kref_put(&vfile->ref, file_release);
}

/* Copy an array of @n elements of @size from userspace; NULL on failure, in *@err. */
static void *copy_array(u64 uptr, u32 n, size_t size, int *err)
{
	void *p = kvmalloc_array(n, size, GFP_KERNEL_ACCOUNT);

	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	if (copy_from_user(p, u64_to_user_ptr(uptr), array_size(n, size))) {
		kvfree(p);
		*err = -EFAULT;
		return NULL;
	}
	return p;
}

static int submit_check_args(const struct drm_vprime_submit *args)
{
	const u32 known = VPRIME_SUBMIT_IN_FENCE_FD | VPRIME_SUBMIT_OUT_FENCE_FD |
			  VPRIME_SUBMIT_OUT_SYNCOBJ;

	if (args->flags & ~known || args->out_syncobj.pad ||
	    !args->num_bos || args->num_bos > VPRIME_SUBMIT_MAX_BOS ||
	    !args->num_cmds || args->num_cmds > VPRIME_SUBMIT_MAX_CMDS ||
	    args->num_in_syncobjs > VPRIME_SUBMIT_MAX_SYNCOBJS)
		return -EINVAL;
	if (!(args->flags & VPRIME_SUBMIT_OUT_SYNCOBJ) &&
	    (args->out_syncobj.handle || args->out_syncobj.point))
		return -EINVAL;
	return 0;
}

/* Look the buffers up, check their surfaces, and map them for the engine. */
static int job_get_bos(struct vprime_job *job, struct drm_file *file,
		       const struct drm_vprime_submit *args)
{
	const u32 rw = VPRIME_SUBMIT_BO_READ | VPRIME_SUBMIT_BO_WRITE;
	struct drm_vprime_submit_bo *descs;
	unsigned int i, j;
	int ret = 0;

	descs = copy_array(args->bos_ptr, args->num_bos, sizeof(*descs), &ret);
	if (!descs)
		return ret;
	job->bos = kvcalloc(args->num_bos, sizeof(*job->bos), GFP_KERNEL_ACCOUNT);
	if (!job->bos) {
		ret = -ENOMEM;
		goto out;
	}
	job->num_bos = args->num_bos;
	for (i = 0; i < job->num_bos && !ret; i++) {
		struct vprime_job_bo *bo = &job->bos[i];

		bo->desc = descs[i];
		if (!(bo->desc.flags & rw) || bo->desc.flags & ~rw) {
			ret = -EINVAL;
			break;
		}
		bo->obj = drm_gem_object_lookup(file, bo->desc.handle);
		if (!bo->obj) {
			ret = -ENOENT;
			break;
		}
		/* One object twice, by one handle or two, would deadlock the locking. */
		for (j = 0; j < i && !ret; j++)
			if (job->bos[j].obj == bo->obj)
				ret = -EINVAL;
		if (!ret)
			ret = vprime_surface_check(&bo->desc, bo->obj->size);
	}
	for (i = 0; i < job->num_bos && !ret; i++)
		ret = vprime_gem_job_vmap(job->bos[i].obj, &job->bos[i].map);
out:
	kvfree(descs);
	return ret;
}

static int job_get_cmds(struct vprime_job *job, const struct drm_vprime_submit *args)
{
	unsigned int i;
	int ret = 0;

	job->cmds = copy_array(args->cmds_ptr, args->num_cmds, sizeof(*job->cmds), &ret);
	if (!job->cmds)
		return ret;
	job->num_cmds = args->num_cmds;
	for (i = 0; i < job->num_cmds && !ret; i++)
		ret = vprime_cmd_check(&job->cmds[i], job->bos, job->num_bos);
	/* Without a timeout nothing would end a hung command. */
	for (i = 0; i < job->num_cmds && !ret; i++)
		if (job->cmds[i].op == VPRIME_CMD_HANG && !job->engine->has_timeout)
			ret = -EOPNOTSUPP;
	return ret;
}

/* A sync_file's fence: -EBADF for no open file, -EINVAL for another kind. */
static int sync_file_fence(int fd, struct dma_fence **fence)
{
	struct file *f = fget(fd);

	if (!f)
		return -EBADF;
	fput(f);
	*fence = sync_file_get_fence(fd);
	return *fence ? 0 : -EINVAL;
}

static int job_add_explicit_deps(struct vprime_job *job, struct drm_file *file,
				 const struct drm_vprime_submit *args)
{
	struct drm_vprime_syncobj *in;
	struct dma_fence *fence;
	unsigned int i;
	int ret = 0;

	if (args->flags & VPRIME_SUBMIT_IN_FENCE_FD) {
		ret = sync_file_fence(args->in_fence_fd, &fence);
		if (ret)
			return ret;
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			return ret;
	}
	if (!args->num_in_syncobjs)
		return 0;
	in = copy_array(args->in_syncobjs_ptr, args->num_in_syncobjs, sizeof(*in), &ret);
	if (!in)
		return ret;
	for (i = 0; i < args->num_in_syncobjs && !ret; i++) {
		if (in[i].pad) {
			ret = -EINVAL;
			break;
		}
		ret = drm_syncobj_find_fence(file, in[i].handle, in[i].point,
					     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &fence);
		if (!ret)
			ret = drm_sched_job_add_dependency(&job->base, fence);
	}
	kvfree(in);
	return ret;
}

/* Implicit sync: wait for the buffers' fences; room for this job's own. */
static int job_add_implicit_deps_locked(struct vprime_job *job)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < job->num_bos && !ret; i++) {
		struct drm_gem_object *obj = job->bos[i].obj;
		bool write = job->bos[i].desc.flags & VPRIME_SUBMIT_BO_WRITE;

		ret = dma_resv_reserve_fences(obj->resv, 1);
		if (!ret)
			ret = drm_sched_job_add_implicit_dependencies(&job->base, obj, write);
	}
	return ret;
}

static void job_publish_fence_locked(struct vprime_job *job, struct dma_fence *fence)
{
	unsigned int i;

	for (i = 0; i < job->num_bos; i++)
		dma_resv_add_fence(job->bos[i].obj->resv, fence,
				   job->bos[i].desc.flags & VPRIME_SUBMIT_BO_WRITE ?
				   DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
}

/**
 * struct job_outputs - where a job's fence goes, prepared before arming
 * @fd: the reserved out-fence fd, or -1
 * @sync_file: the sync_file for @fd
 * @syncobj: the out-syncobj, referenced, or NULL
 * @chain: the timeline point's chain node, or NULL for a binary syncobj
 */
struct job_outputs {
	int fd;
	struct sync_file *sync_file;
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
};

static int outputs_prepare(struct job_outputs *out, struct drm_file *file,
			   const struct drm_vprime_submit *args)
{
	if (args->flags & VPRIME_SUBMIT_OUT_SYNCOBJ) {
		out->syncobj = drm_syncobj_find(file, args->out_syncobj.handle);
		if (!out->syncobj)
			return -ENOENT;
		if (args->out_syncobj.point) {
			if (vprime_should_fail(VPRIME_FAULT_FENCE_ALLOC))
				return -ENOMEM;
			out->chain = dma_fence_chain_alloc();
			if (!out->chain)
				return -ENOMEM;
		}
	}
	if (args->flags & VPRIME_SUBMIT_OUT_FENCE_FD) {
		out->fd = get_unused_fd_flags(O_CLOEXEC);
		if (out->fd < 0)
			return out->fd;
	}
	return 0;
}

/* Undo outputs_prepare() for a job that was not armed. */
static void outputs_abort(struct job_outputs *out)
{
	if (out->fd >= 0)
		put_unused_fd(out->fd);
	dma_fence_chain_free(out->chain);
	if (out->syncobj)
		drm_syncobj_put(out->syncobj);
}

static void outputs_publish(struct job_outputs *out, struct dma_fence *fence, u64 point)
{
	if (!out->syncobj)
		return;
	if (out->chain)
		drm_syncobj_add_point(out->syncobj, out->chain, fence, point);
	else
		drm_syncobj_replace_fence(out->syncobj, fence);
	out->chain = NULL;
	drm_syncobj_put(out->syncobj);
	out->syncobj = NULL;
}

static struct drm_gem_object **job_objects(struct vprime_job *job)
{
	struct drm_gem_object **objs = kvmalloc_array(job->num_bos, sizeof(*objs), GFP_KERNEL);
	unsigned int i;

	for (i = 0; objs && i < job->num_bos; i++)
		objs[i] = job->bos[i].obj;
	return objs;
}

/*
 * Arm the job and make its fence everyone's: buffers, out-fences. Once armed
 * the job is pushed whatever happens; only the out-fence fd can still fail.
 */
static int job_commit(struct vprime_job *job, struct job_outputs *out, u64 point,
		      s32 *out_fence_fd, bool *armed)
{
	struct drm_gem_object **objs = job_objects(job);
	struct ww_acquire_ctx ctx;
	struct dma_fence *done;
	int ret;

	*armed = false;
	if (!objs)
		return -ENOMEM;
	ret = drm_gem_lock_reservations(objs, job->num_bos, &ctx);
	if (ret)
		goto out;
	ret = job_add_implicit_deps_locked(job);
	if (ret) {
		drm_gem_unlock_reservations(objs, job->num_bos, &ctx);
		goto out;
	}
	drm_sched_job_arm(&job->base);
	*armed = true;
	atomic_inc(&job->engine->live_jobs);	/* until vprime_free_job() */
	done = dma_fence_get(&job->base.s_fence->finished);
	job_publish_fence_locked(job, done);
	outputs_publish(out, done, point);
	drm_sched_entity_push_job(&job->base);
	drm_gem_unlock_reservations(objs, job->num_bos, &ctx);

	if (out->fd >= 0) {
		out->sync_file = sync_file_create(done);
		if (out->sync_file) {
			fd_install(out->fd, out->sync_file->file);
			*out_fence_fd = out->fd;
		} else {
			put_unused_fd(out->fd);
			ret = -ENOMEM;	/* the job runs; only its fd is missing */
		}
		out->fd = -1;
	}
	dma_fence_put(done);
out:
	kvfree(objs);
	return ret;
}

/*
 * VPRIME_SUBMIT: check and queue a job (see the uapi for the errors). A job
 * refused before it is armed leaves nothing behind.
 */
int vprime_submit_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct vprime_file *vfile = file->driver_priv;
	struct drm_vprime_submit *args = data;
	struct job_outputs out = { .fd = -1 };
	struct vprime_job *job;
	bool armed;
	int ret;

	ret = submit_check_args(args);
	if (ret)
		return ret;
	if (file_banned(vfile))
		return -EIO;
	/* Queued jobs are the client's memory: charge them to its cgroup. */
	if (vprime_should_fail(VPRIME_FAULT_JOB_ALLOC))
		return -ENOMEM;
	job = kzalloc_obj(*job, GFP_KERNEL_ACCOUNT);
	if (!job)
		return -ENOMEM;
	atomic_inc(&to_vprime_device(drm)->live.jobs);
	job->engine = &to_vprime_device(drm)->engine;
	job->file = vfile;
	job->fault_tag = vprime_fault_tag();
	kref_get(&vfile->ref);
	INIT_WORK(&job->exec_work, job_execute);
	INIT_WORK(&job->cleanup_work, job_cleanup_work);

	ret = job_get_bos(job, file, args);
	if (!ret)
		ret = job_get_cmds(job, args);
	/* drm_sched_job_init() allocates the job's scheduler fences. */
	if (!ret && vprime_should_fail(VPRIME_FAULT_FENCE_ALLOC))
		ret = -ENOMEM;
	if (!ret)
		ret = vprime_compat_sched_job_init(&job->base, &vfile->entity, file,
						   vprime_compat_client_id(file));
	if (ret)
		goto err_free;
	ret = job_add_explicit_deps(job, file, args);
	if (!ret)
		ret = outputs_prepare(&out, file, args);
	if (ret)
		goto err_cleanup;
	ret = job_commit(job, &out, args->out_syncobj.point, &args->out_fence_fd, &armed);
	if (armed || !ret)
		return ret;

err_cleanup:
	outputs_abort(&out);
	drm_sched_job_cleanup(&job->base);
err_free:
	job_free(job);
	return ret;
}

/*
 * VPRIME_WAIT_IDLE: wait until no job uses a buffer.
 *   -EINVAL  flags set
 *   -ENOENT  no such handle
 *   -ETIME   still busy at the timeout
 */
int vprime_wait_idle_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_vprime_wait_idle *args = data;
	struct drm_gem_object *obj;
	long timeout, ret;

	if (args->flags)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	timeout = args->timeout_ns <= 0 ? 0 : nsecs_to_jiffies(args->timeout_ns) + 1;
	ret = dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_BOOKKEEP, true, timeout);
	drm_gem_object_put(obj);
	if (ret < 0)
		return ret;
	return ret ? 0 : -ETIME;
}
