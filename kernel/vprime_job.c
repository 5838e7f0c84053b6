// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: job submission
 *
 * Jobs are submitted with DRM_IOCTL_VPRIME_SUBMIT to the instance's job
 * engine (vprime_sched.c). Submission does everything that can fail or
 * allocate first: it copies and checks the job, looks its buffers up, maps
 * them for the engine, reserves fence slots, gathers the dependencies —
 * implicit ones from each buffer's reservation object (a write waits for
 * all fences, a read for writers), explicit ones from a sync_file and
 * syncobjs — and prepares the out-fence fd and timeline point. Only then is
 * the job armed, its fence added to every buffer and published, and the job
 * pushed.
 */

#include <linux/dma-fence-chain.h>
#include <linux/file.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include "vprime_cmd.h"
#include "vprime_compat.h"
#include "vprime_drv.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_job.h"
#include "vprime_sched.h"
#include "vprime_vmap.h"

/* Copy an array of @n elements of @size from userspace; NULL on failure, in *@err. */
static void *vprime_copy_array(u64 uptr, u32 n, size_t size, int *err)
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

static int vprime_submit_check_args(const struct drm_vprime_submit *args)
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
static int vprime_job_get_bos(struct vprime_job *job, struct drm_file *file,
			      const struct drm_vprime_submit *args)
{
	const u32 rw = VPRIME_SUBMIT_BO_READ | VPRIME_SUBMIT_BO_WRITE;
	struct drm_vprime_submit_bo *descs;
	unsigned int i, j;
	int ret = 0;

	descs = vprime_copy_array(args->bos_ptr, args->num_bos, sizeof(*descs), &ret);
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
		/*
		 * One object twice, by one handle or two, is refused here: its
		 * reservation lock would give -EALREADY the second time.
		 */
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

static int vprime_job_get_cmds(struct vprime_job *job, const struct drm_vprime_submit *args)
{
	unsigned int i;
	int ret = 0;

	job->cmds = vprime_copy_array(args->cmds_ptr, args->num_cmds, sizeof(*job->cmds), &ret);
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
static int vprime_sync_file_fence(int fd, struct dma_fence **fence)
{
	struct file *f = fget(fd);

	if (!f)
		return -EBADF;
	fput(f);
	*fence = sync_file_get_fence(fd);
	return *fence ? 0 : -EINVAL;
}

static int vprime_job_add_explicit_deps(struct vprime_job *job, struct drm_file *file,
					const struct drm_vprime_submit *args)
{
	struct drm_vprime_syncobj *in;
	struct dma_fence *fence;
	unsigned int i;
	int ret = 0;

	if (args->flags & VPRIME_SUBMIT_IN_FENCE_FD) {
		ret = vprime_sync_file_fence(args->in_fence_fd, &fence);
		if (ret)
			return ret;
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			return ret;
	}
	if (!args->num_in_syncobjs)
		return 0;
	in = vprime_copy_array(args->in_syncobjs_ptr, args->num_in_syncobjs, sizeof(*in), &ret);
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
static int vprime_job_add_implicit_deps_locked(struct vprime_job *job)
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

static void vprime_job_publish_fence_locked(struct vprime_job *job, struct dma_fence *fence)
{
	unsigned int i;

	for (i = 0; i < job->num_bos; i++)
		dma_resv_add_fence(job->bos[i].obj->resv, fence,
				   job->bos[i].desc.flags & VPRIME_SUBMIT_BO_WRITE ?
				   DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
}

/**
 * struct vprime_job_outputs - where a job's fence goes, prepared before arming
 * @fd: the reserved out-fence fd, or -1
 * @sync_file: the sync_file for @fd
 * @syncobj: the out-syncobj, referenced, or NULL
 * @chain: the timeline point's chain node, or NULL for a binary syncobj
 */
struct vprime_job_outputs {
	int fd;
	struct sync_file *sync_file;
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
};

static int vprime_job_outputs_prepare(struct vprime_job_outputs *out, struct drm_file *file,
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

/* Undo vprime_job_outputs_prepare() for a job that was not armed. */
static void vprime_job_outputs_abort(struct vprime_job_outputs *out)
{
	if (out->fd >= 0)
		put_unused_fd(out->fd);
	dma_fence_chain_free(out->chain);
	if (out->syncobj)
		drm_syncobj_put(out->syncobj);
}

static void vprime_job_outputs_publish(struct vprime_job_outputs *out, struct dma_fence *fence,
				       u64 point)
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

static struct drm_gem_object **vprime_job_objects(struct vprime_job *job)
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
static int vprime_job_commit(struct vprime_job *job, struct vprime_job_outputs *out, u64 point,
			     s32 *out_fence_fd, bool *armed)
{
	struct drm_gem_object **objs = vprime_job_objects(job);
	struct ww_acquire_ctx ctx;
	struct dma_fence *done;
	int ret;

	*armed = false;
	if (!objs)
		return -ENOMEM;
	ret = drm_gem_lock_reservations(objs, job->num_bos, &ctx);
	if (ret)
		goto out;
	ret = vprime_job_add_implicit_deps_locked(job);
	if (ret) {
		drm_gem_unlock_reservations(objs, job->num_bos, &ctx);
		goto out;
	}
	drm_sched_job_arm(&job->base);
	*armed = true;
	atomic_inc(&job->engine->live_jobs);	/* until vprime_free_job() */
	done = dma_fence_get(&job->base.s_fence->finished);
	vprime_job_publish_fence_locked(job, done);
	vprime_job_outputs_publish(out, done, point);
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
	struct vprime_job_outputs out = { .fd = -1 };
	struct vprime_job *job;
	bool armed;
	int ret;

	ret = vprime_submit_check_args(args);
	if (ret)
		return ret;
	if (vprime_file_banned(vfile))
		return -EIO;
	/* Queued jobs are the client's memory: charge them to its cgroup. */
	if (vprime_should_fail(VPRIME_FAULT_JOB_ALLOC))
		return -ENOMEM;
	job = kzalloc_obj(*job, GFP_KERNEL_ACCOUNT);
	if (!job)
		return -ENOMEM;
	vprime_job_init(job, to_vprime_device(drm), vfile);

	ret = vprime_job_get_bos(job, file, args);
	if (!ret)
		ret = vprime_job_get_cmds(job, args);
	/* drm_sched_job_init() allocates the job's scheduler fences. */
	if (!ret && vprime_should_fail(VPRIME_FAULT_FENCE_ALLOC))
		ret = -ENOMEM;
	if (!ret)
		ret = vprime_compat_sched_job_init(&job->base, &vfile->entity, file,
						   vprime_compat_client_id(file));
	if (ret)
		goto err_free;
	ret = vprime_job_add_explicit_deps(job, file, args);
	if (!ret)
		ret = vprime_job_outputs_prepare(&out, file, args);
	if (ret)
		goto err_cleanup;
	ret = vprime_job_commit(job, &out, args->out_syncobj.point, &args->out_fence_fd, &armed);
	if (armed || !ret)
		return ret;

err_cleanup:
	vprime_job_outputs_abort(&out);
	drm_sched_job_cleanup(&job->base);
err_free:
	vprime_job_free(job);
	return ret;
}

/*
 * VPRIME_WAIT_IDLE: wait until no job uses a buffer: every fence of its
 * reservation object has signalled and the finished jobs have released it
 * (their kernel mappings, which keep a static importer from moving it).
 * A zero timeout polls the fences only: a buffer whose fences have all
 * signalled is idle to a poll, even while a finished job's cleanup is
 * still to run.
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
	if (ret > 0 && timeout)
		ret = vprime_gem_wait_jobs_released(obj, ret);
	drm_gem_object_put(obj);
	if (ret < 0)
		return ret;
	return ret ? 0 : -ETIME;
}
