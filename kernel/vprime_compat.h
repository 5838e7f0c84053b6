/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vprime_compat.h - the one place that knows which kernel vprime builds for.
 *
 * The driver is written against the newest kernel it supports (7.2). Every
 * difference with older kernels (6.1, 6.12) is turned here into a feature
 * macro (VPRIME_HAS_*, VPRIME_*), a small inline wrapper (vprime_compat_*()),
 * or the newer kernel's own function where an older one lacks it
 * (faux_device_create(), drm_client_setup()...), so that no other file tests
 * for a kernel. Driver logic stays in the driver's files.
 *
 * Nothing here tests a kernel version: distributions backport features
 * (Debian's 6.1 has 6.15's drm_sched_init_args, its 6.12 the client id), so
 * a version says little. Each feature is found in the target kernel's
 * headers: by the probes of conftest.sh, which Kbuild runs with the kernel's
 * compiler and flags (HAVE_* in the generated vprime_conftest.h; a header
 * that exists is a probe too: sparse does not know __has_include()), or
 * where a macro is the feature, by #ifdef. The comments give the upstream
 * version a feature came with.
 */

#ifndef _VPRIME_COMPAT_H_
#define _VPRIME_COMPAT_H_

#include "vprime_conftest.h"

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/slab.h>

/*
 * 6.14 gave drivers without a bus the faux bus (vgem and vkms use it);
 * before that they registered a platform device without a driver, which
 * stands in for a faux device here.
 */
#if HAVE_LINUX_DEVICE_FAUX_H
#include <linux/device/faux.h>
#else
#include <linux/platform_device.h>
#define faux_device	platform_device

static inline struct faux_device *faux_device_create(const char *name, struct device *parent,
						     const void *faux_ops)
{
	struct platform_device *pdev = platform_device_register_simple(name, -1, NULL, 0);

	return IS_ERR(pdev) ? NULL : pdev;
}

static inline void faux_device_destroy(struct faux_device *fdev)
{
	platform_device_unregister(fdev);
}
#endif

/* 6.14 dropped drm_driver.date. */
#if HAVE_DRM_DRIVER_DATE
#define VPRIME_DRIVER_DATE(d)	.date = (d),
#else
#define VPRIME_DRIVER_DATE(d)
#endif

/* 6.12 moved the unaligned access helpers to <linux/unaligned.h>. */
#if HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* 6.13 made MODULE_IMPORT_NS() take a string literal. */
#if HAVE_MODULE_IMPORT_NS_SYMBOL
#define VPRIME_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#else
#define VPRIME_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#endif

/*
 * 6.6 made PRIME handle/fd conversion the core's job when a driver leaves
 * these hooks NULL; before, every driver pointed them at the core's
 * helpers. The headers do not show the change (the hooks stay, for
 * vmwgfx), so the hooks are set wherever they exist: with the core's own
 * helpers, newer kernels do exactly what they do for NULL.
 */
#if HAVE_DRM_DRIVER_PRIME_FD_HOOKS
#define VPRIME_PRIME_FD_OPS \
	.prime_handle_to_fd = drm_gem_prime_handle_to_fd, \
	.prime_fd_to_handle = drm_gem_prime_fd_to_handle,
#else
#define VPRIME_PRIME_FD_OPS
#endif

/* drm_gem_is_imported(): upstream 6.15, backported to Debian's 6.12. */
#if !HAVE_DRM_GEM_IS_IMPORTED
#include <drm/drm_gem.h>
static inline bool drm_gem_is_imported(const struct drm_gem_object *obj)
{
	return !!obj->import_attach;
}
#endif

/* drm_crtc_vblank_crtc(): upstream 6.11. */
#if !HAVE_DRM_CRTC_VBLANK_CRTC
#include <drm/drm_crtc.h>
#include <drm/drm_device.h>
#include <drm/drm_vblank.h>
static inline struct drm_vblank_crtc *drm_crtc_vblank_crtc(struct drm_crtc *crtc)
{
	return &crtc->dev->vblank[drm_crtc_index(crtc)];
}
#endif

/*
 * Between 6.12 and 7.2 struct drm_atomic_state became struct
 * drm_atomic_commit; the atomic callbacks take whichever this kernel has.
 */
#if HAVE_DRM_ATOMIC_COMMIT
#define vprime_atomic_state	drm_atomic_commit
#else
#define vprime_atomic_state	drm_atomic_state
#endif

/* Its references: drm_atomic_commit_get()/_put() where the struct is renamed. */
#if HAVE_DRM_ATOMIC_COMMIT_GET
#define vprime_atomic_state_get	drm_atomic_commit_get
#define vprime_atomic_state_put	drm_atomic_commit_put
#else
#define vprime_atomic_state_get	drm_atomic_state_get
#define vprime_atomic_state_put	drm_atomic_state_put
#endif

/*
 * Undo prepare_planes for a commit that failed before its swap:
 * drm_atomic_helper_unprepare_planes() (6.8); before it,
 * drm_atomic_helper_cleanup_planes() told a state not swapped yet by its
 * planes' current states, and cleaned its new ones up.
 */
#if HAVE_DRM_ATOMIC_HELPER_UNPREPARE_PLANES
#define vprime_compat_unprepare_planes	drm_atomic_helper_unprepare_planes
#else
#define vprime_compat_unprepare_planes	drm_atomic_helper_cleanup_planes
#endif

/*
 * &drm_plane_helper_funcs.atomic_async_check gained a @flip argument by 7.2
 * (an async page flip, which vprime refuses, rather than a legacy cursor
 * update): the callback is declared with VPRIME_ASYNC_CHECK_ARGS and tests
 * VPRIME_ASYNC_CHECK_FLIP.
 */
#if HAVE_ATOMIC_ASYNC_CHECK_FLIP || HAVE_ATOMIC_ASYNC_CHECK_FLIP_COMMIT
#define VPRIME_ASYNC_CHECK_ARGS	\
	struct drm_plane *plane, struct vprime_atomic_state *state, bool flip
#define VPRIME_ASYNC_CHECK_FLIP	flip
#else
#define VPRIME_ASYNC_CHECK_ARGS	struct drm_plane *plane, struct vprime_atomic_state *state
#define VPRIME_ASYNC_CHECK_FLIP	false
#endif

/*
 * 7.2's fences take NULL for a lock of their own, which lives as long as
 * the fence; a job's fence may outlive its engine (and the module).
 * Before, every fence locks a spinlock of its driver's.
 */
#if HAVE_DMA_FENCE_INLINE_LOCK
#define vprime_fence_lock(lock)	((void)(lock), NULL)
#else
#define vprime_fence_lock(lock)	(lock)
#endif

/* By 7.2 &drm_mode_config_funcs.fb_create also takes the format's info. */
#if HAVE_FB_CREATE_FORMAT_INFO
#define VPRIME_FB_CREATE_INFO_PARAM	const struct drm_format_info *info,
#define VPRIME_FB_CREATE_INFO_ARG	info,
#else
#define VPRIME_FB_CREATE_INFO_PARAM
#define VPRIME_FB_CREATE_INFO_ARG
#endif

/* 6.3 made vma->vm_flags read-only outside vm_flags_set(). */
static inline void vprime_compat_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
#if HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void vprime_compat_vm_flags_clear(struct vm_area_struct *vma, unsigned long flags)
{
#if HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* vma_is_cow_mapping() replaced is_cow_mapping() of the VMA's flags (7.3). */
#if !HAVE_VMA_IS_COW_MAPPING
static inline bool vma_is_cow_mapping(struct vm_area_struct *vma)
{
	return is_cow_mapping(vma->vm_flags);
}
#endif

/*
 * Since 6.2 the dma-buf core calls an exporter's vmap, and the GEM core a
 * driver's vmap, with the buffer's reservation lock held; before, vmap came
 * unlocked and the driver took the lock itself. (map_dma_buf is always
 * locked for a dynamic exporter.) The same series added
 * dma_buf_vmap_unlocked(): that is the feature tested.
 */
#define VPRIME_VMAP_LOCKED_BY_CALLER	HAVE_DMA_BUF_VMAP_UNLOCKED

/*
 * The reservation lock for a driver's vmap: held on return (taken here where
 * the caller does not hold it), until vprime_compat_vmap_unlock(). The
 * __acquire()/__release() tell sparse, which does not see ww_mutexes.
 */
static inline void vprime_compat_vmap_lock(struct dma_resv *resv) __acquires(resv)
{
#if VPRIME_VMAP_LOCKED_BY_CALLER
	dma_resv_assert_held(resv);
#else
	dma_resv_lock(resv, NULL);
#endif
	__acquire(resv);
}

static inline void vprime_compat_vmap_unlock(struct dma_resv *resv) __releases(resv)
{
#if !VPRIME_VMAP_LOCKED_BY_CALLER
	dma_resv_unlock(resv);
#endif
	__release(resv);
}

/* 6.8 renamed MAX_ORDER, which 6.4 had made inclusive, to MAX_PAGE_ORDER. */
#ifdef MAX_PAGE_ORDER
#define VPRIME_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#else
#define VPRIME_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

/*
 * A dynamic importer's callback for an exporter that moves the buffer:
 * move_notify up to 6.12 (mandatory there), invalidate_mappings in 7.2.
 */
#if HAVE_DMA_BUF_INVALIDATE_MAPPINGS
#define VPRIME_IMPORTER_INVALIDATE(fn)	.invalidate_mappings = (fn),
#else
#define VPRIME_IMPORTER_INVALIDATE(fn)	.move_notify = (fn),
#endif

/*
 * Tell dynamic importers that the exporter wants to move the buffer, so that
 * they unmap when they can. Up to 6.12 this is only valid with
 * CONFIG_DMABUF_MOVE_NOTIFY (Debian leaves it off); 7.2 always has it.
 * Returns whether the importers were told.
 */
static inline bool vprime_compat_invalidate_mappings(struct dma_buf *dmabuf)
{
#if HAVE_DMA_BUF_INVALIDATE_MAPPINGS
	dma_buf_invalidate_mappings(dmabuf);
	return true;
#else
	if (!IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY))
		return false;
	dma_buf_move_notify(dmabuf);
	return true;
#endif
}

/*
 * Whether the dma-buf core pinned @attach for the map it is making, before
 * calling the exporter's map_dma_buf: 7.2 pins static attachments only;
 * before, it pinned static attachments (at attach, which maps at once) and
 * without CONFIG_DMABUF_MOVE_NOTIFY dynamic ones too. (The attach-time
 * mapping went with move_notify; invalidate_mappings marks the change.)
 */
static inline unsigned int vprime_compat_core_pins_map(struct dma_buf_attachment *attach)
{
#if HAVE_DMA_BUF_INVALIDATE_MAPPINGS
	return !attach->importer_ops;
#else
	return !attach->importer_ops || !IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY);
#endif
}

/* 6.13 replaced hrtimer_init() and setting ->function with hrtimer_setup(). */
static inline void vprime_compat_hrtimer_setup(struct hrtimer *timer,
					       enum hrtimer_restart (*fn)(struct hrtimer *))
{
#if HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
#else
	hrtimer_init(timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	timer->function = fn;
#endif
}

/*
 * The DRM GPU scheduler, which changed a lot: run-queue counts and a
 * submit workqueue (upstream 6.7), job credits (6.7/6.8), the arguments in
 * a struct (6.15, backported to Debian's 6.1 without num_rqs), owners'
 * client ids (6.15, backported to Debian's 6.12), and a handled timeout is
 * "RESET", not "NOMINAL" (6.17).
 */
#include <drm/drm_file.h>
#include <drm/gpu_scheduler.h>

#if !HAVE_DRM_SCHED_INIT_ARGS
/* The arguments of drm_sched_init() as upstream 6.15 gathers them. */
struct drm_sched_init_args {
	const struct drm_sched_backend_ops *ops;
	struct workqueue_struct *submit_wq;
	struct workqueue_struct *timeout_wq;
	u32 num_rqs;
	u32 credit_limit;
	unsigned int hang_limit;
	long timeout;
	atomic_t *score;
	const char *name;
	struct device *dev;
};
#endif

#if HAVE_DRM_SCHED_INIT_ARGS_NUM_RQS || !HAVE_DRM_SCHED_INIT_ARGS
#define VPRIME_SCHED_NUM_RQS	.num_rqs = DRM_SCHED_PRIORITY_COUNT,
#else
#define VPRIME_SCHED_NUM_RQS
#endif

static inline int vprime_compat_sched_init(struct drm_gpu_scheduler *sched,
					   const struct drm_sched_init_args *args)
{
#if HAVE_DRM_SCHED_INIT_ARGS
	return drm_sched_init(sched, args);
#elif HAVE_DRM_SCHED_INIT_SUBMIT_WQ
	return drm_sched_init(sched, args->ops, args->submit_wq, args->num_rqs,
			      args->credit_limit, args->hang_limit, args->timeout,
			      args->timeout_wq, args->score, args->name, args->dev);
#else
	return drm_sched_init(sched, args->ops, args->credit_limit, args->hang_limit,
			      args->timeout, args->timeout_wq, args->score, args->name,
			      args->dev);
#endif
}

#if HAVE_DRM_GPU_SCHED_STAT_RESET
#define VPRIME_SCHED_STAT_RESET	DRM_GPU_SCHED_STAT_RESET
#else
#define VPRIME_SCHED_STAT_RESET	DRM_GPU_SCHED_STAT_NOMINAL
#endif

/*
 * A timeout handled without a reset of the engine (the driver stopped the
 * job and signalled its hardware fence, and the engine runs on). Upstream
 * 6.17 added DRM_GPU_SCHED_STAT_NO_HANG for this: the scheduler puts the job
 * back on its pending list and frees it through free_job like any other.
 * Before, the scheduler forgets the job it handed to the timeout handler
 * (only drm_sched_stop(), a reset of every job the hardware holds, gives it
 * back), so the handler frees it itself once its fences have signalled.
 */
#if HAVE_DRM_GPU_SCHED_STAT_NO_HANG
#define VPRIME_SCHED_HAS_NO_HANG	1
#define VPRIME_SCHED_STAT_NO_HANG	DRM_GPU_SCHED_STAT_NO_HANG
#else
#define VPRIME_SCHED_HAS_NO_HANG	0
#define VPRIME_SCHED_STAT_NO_HANG	VPRIME_SCHED_STAT_RESET
#endif

/*
 * Upstream 6.17 added &drm_sched_backend_ops.cancel_job: drm_sched_fini()
 * signals (through it) and frees the jobs still pending. Before, it leaks
 * them: the driver must let every job finish before drm_sched_fini().
 */
#if HAVE_DRM_SCHED_CANCEL_JOB
#define VPRIME_SCHED_CANCEL_JOB(fn)	.cancel_job = (fn),
#else
#define VPRIME_SCHED_CANCEL_JOB(fn)
#endif

static inline int vprime_compat_sched_job_init(struct drm_sched_job *job,
					       struct drm_sched_entity *entity,
					       void *owner, u64 client_id)
{
#if HAVE_DRM_SCHED_JOB_INIT_CLIENT_ID
	return drm_sched_job_init(job, entity, 1, owner, client_id);
#elif HAVE_DRM_SCHED_JOB_INIT_CREDITS
	return drm_sched_job_init(job, entity, 1, owner);
#else
	return drm_sched_job_init(job, entity, owner);
#endif
}

/* The file's id for the scheduler's fdinfo (0 where there is none). */
static inline u64 vprime_compat_client_id(struct drm_file *file)
{
#if HAVE_DRM_FILE_CLIENT_ID
	return file->client_id;
#else
	return 0;
#endif
}

/*
 * vmap of a GEM object by a caller that holds no lock: since 6.2 the
 * driver's vmap expects the reservation lock held, before it took it.
 */
static inline void vprime_compat_vmap_outer_lock(struct dma_resv *resv) __acquires(resv)
{
#if VPRIME_VMAP_LOCKED_BY_CALLER
	dma_resv_lock(resv, NULL);
#endif
	__acquire(resv);
}

static inline void vprime_compat_vmap_outer_unlock(struct dma_resv *resv) __releases(resv)
{
#if VPRIME_VMAP_LOCKED_BY_CALLER
	dma_resv_unlock(resv);
#endif
	__release(resv);
}

/* 7.0 added the typed allocators kzalloc_obj() and friends. */
#ifndef kzalloc_obj
#define kzalloc_obj(P, ...)	kzalloc(sizeof(P), ##__VA_ARGS__)
#endif

/*
 * Before 6.3, drm_edid_connector_update() also added the EDID's modes;
 * since, drm_edid_connector_add_modes() does that part.
 */
#include <drm/drm_edid.h>

/**
 * vprime_compat_edid_connector_update - set a connector's EDID and modes
 * @connector: the connector, probed
 * @drm_edid: its EDID
 *
 * Returns: the number of modes the EDID added.
 */
static inline int vprime_compat_edid_connector_update(struct drm_connector *connector,
						      const struct drm_edid *drm_edid)
{
#if HAVE_DRM_EDID_CONNECTOR_ADD_MODES
	drm_edid_connector_update(connector, drm_edid);
	return drm_edid_connector_add_modes(connector);
#else
	return drm_edid_connector_update(connector, drm_edid);
#endif
}

/*
 * fbdev emulation. From upstream 6.13 (Debian's 6.12) drm_client_setup()
 * starts the client the kernel was configured with, which asks the driver
 * for its fbdev buffer through &drm_driver.fbdev_probe: the TTM helper's
 * probe is the generic one (a shadow buffer copied into the GEM object's
 * vmap), the only one that does not need shmem, DMA or TTM objects; the
 * driver sets it with VPRIME_FBDEV_DRIVER_OPS. Newer kernels (7.2) keep the
 * client headers in drm/clients/. Before, drm_client_setup() stands in for
 * the same generic client, started with drm_fbdev_ttm_setup() (6.11, 6.12)
 * or drm_fbdev_generic_setup(), which asks for a shadow buffer through
 * prefer_shadow_fbdev.
 */
#if HAVE_DRM_CLIENTS_DRM_CLIENT_SETUP_H || HAVE_DRM_CLIENT_SETUP_H
#if HAVE_DRM_CLIENTS_DRM_CLIENT_SETUP_H
#include <drm/clients/drm_client_setup.h>
#else
#include <drm/drm_client_setup.h>
#endif
#include <drm/drm_fbdev_ttm.h>
#define VPRIME_FBDEV_DRIVER_OPS	DRM_FBDEV_TTM_DRIVER_OPS,
#else
#if HAVE_DRM_FBDEV_TTM_SETUP
#include <drm/drm_fbdev_ttm.h>
#else
#include <drm/drm_fb_helper.h>
#endif
#include <drm/drm_mode_config.h>
#define VPRIME_FBDEV_DRIVER_OPS

struct drm_format_info;

static inline void drm_client_setup(struct drm_device *drm, const struct drm_format_info *format)
{
	drm->mode_config.prefer_shadow_fbdev = true;
#if HAVE_DRM_FBDEV_TTM_SETUP
	drm_fbdev_ttm_setup(drm, 32);
#else
	drm_fbdev_generic_setup(drm, 32);
#endif
}
#endif

/*
 * 6.16 added drmm_writeback_connector_init(), whose connector the DRM
 * device's release cleans up (its funcs must have no .destroy). Before,
 * the connector is initialised unmanaged and cleaned up through .destroy.
 */
#include <drm/drm_writeback.h>

#if HAVE_DRMM_WRITEBACK_CONNECTOR_INIT
#define VPRIME_WRITEBACK_CONNECTOR_DESTROY
#else
#define VPRIME_WRITEBACK_CONNECTOR_DESTROY	.destroy = drm_connector_cleanup,
#endif

/**
 * vprime_compat_drmm_writeback_connector_init - drmm_writeback_connector_init()
 * @drm: the device
 * @wb: the connector
 * @funcs: its funcs, with VPRIME_WRITEBACK_CONNECTOR_DESTROY for .destroy
 * @enc: its encoder, initialised
 * @formats: the formats it writes
 * @n_formats: their number
 *
 * Returns: 0 or a negative errno.
 */
static inline int
vprime_compat_drmm_writeback_connector_init(struct drm_device *drm,
					    struct drm_writeback_connector *wb,
					    const struct drm_connector_funcs *funcs,
					    struct drm_encoder *enc, const u32 *formats,
					    int n_formats)
{
#if HAVE_DRMM_WRITEBACK_CONNECTOR_INIT
	return drmm_writeback_connector_init(drm, wb, funcs, enc, formats, n_formats);
#else
	return drm_writeback_connector_init_with_encoder(drm, wb, enc, funcs, formats,
							 n_formats);
#endif
}

/*
 * Fault injection. Where the kernel has CONFIG_FAULT_INJECTION_DEBUG_FS (the
 * debug kernel), each vprime point is a &struct fault_attr, decided by
 * should_fail() and configured through fault_create_debugfs_attr()'s files;
 * elsewhere (Debian's kernels) by vprime_fault.c's small stand-in with the
 * same files and semantics (probability, interval, times, space, verbose).
 */
#if IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)
#include <linux/fault-inject.h>
#define VPRIME_HAS_FAULT_ATTR			1
#define vprime_fault_attr			fault_attr
#define VPRIME_FAULT_ATTR_INITIALIZER		FAULT_ATTR_INITIALIZER
#define vprime_compat_should_fail(attr)		should_fail((attr), 1)
#define vprime_compat_fault_debugfs(name, parent, attr) \
	((void)fault_create_debugfs_attr((name), (parent), (attr)))
#else
#define VPRIME_HAS_FAULT_ATTR			0
#define vprime_fault_attr			vprime_fault_attr_fallback
#define VPRIME_FAULT_ATTR_INITIALIZER		VPRIME_FAULT_ATTR_FALLBACK_INITIALIZER
#define vprime_compat_should_fail(attr)		vprime_fault_fallback_should_fail(attr)
#define vprime_compat_fault_debugfs(name, parent, attr) \
	vprime_fault_fallback_debugfs((name), (parent), (attr))
#endif

#endif /* _VPRIME_COMPAT_H_ */
