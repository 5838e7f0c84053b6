/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _UAPI_VPRIME_DRM_H_
#define _UAPI_VPRIME_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: vprime uapi
 *
 * vprime is a virtual DRM/KMS device that implements the whole dma-buf
 * (PRIME) contract. Its buffers are plain GEM objects: they are exported and
 * imported with the core's %DRM_IOCTL_PRIME_HANDLE_TO_FD and
 * %DRM_IOCTL_PRIME_FD_TO_HANDLE and mapped through the generic fake-offset
 * mmap. The driver-private ioctls below are numbered from
 * %DRM_COMMAND_BASE, as for every DRM driver.
 *
 * Every ioctl rejects unknown flags and non-zero padding with -EINVAL, so
 * that both can be given a meaning later without breaking old userspace;
 * SUBMIT does the same for the fields of a command its op does not use.
 * An ioctl that waits and runs out of time fails with -ETIME, as the core's
 * fence and syncobj waits do.
 */

/**
 * define VPRIME_IOCTL_BASE - the number of the driver's first own ioctl
 *
 * Driver-private ioctl numbers are offsets from %DRM_COMMAND_BASE; the core
 * rejects any number past the last one the driver defines.
 */
#define VPRIME_IOCTL_BASE		DRM_COMMAND_BASE

#define DRM_VPRIME_GEM_CREATE		0x00
#define DRM_VPRIME_GEM_INFO		0x01
#define DRM_VPRIME_GEM_MAP		0x02
#define DRM_VPRIME_GEM_UNMAP		0x03
#define DRM_VPRIME_SUBMIT		0x04
#define DRM_VPRIME_WAIT_IDLE		0x05

/**
 * struct drm_vprime_gem_create - create a buffer object
 *
 * Used by %DRM_IOCTL_VPRIME_GEM_CREATE. The object has no backing storage
 * until it is first used (CPU fault, vmap, or a device mapping its
 * attachment): it is allocated then, to suit every device attached at that
 * moment.
 */
struct drm_vprime_gem_create {
	/**
	 * @size: in: the size in bytes, not 0; out: the size rounded up to a
	 * whole number of pages.
	 */
	__u64 size;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/** @handle: out: the new object's handle. */
	__u32 handle;
};

/* Bits of &drm_vprime_gem_info.state. */
/**
 * define VPRIME_BO_STATE_POPULATED - backing storage has been allocated
 */
#define VPRIME_BO_STATE_POPULATED	0x1u
/**
 * define VPRIME_BO_STATE_IMPORTED - the object was imported
 *
 * It is a dma-buf of another exporter, or of another vprime instance.
 */
#define VPRIME_BO_STATE_IMPORTED	0x2u
/**
 * define VPRIME_BO_STATE_EXPORTED - the object has been exported
 *
 * It has been exported as a dma-buf (PRIME handle to fd).
 */
#define VPRIME_BO_STATE_EXPORTED	0x4u

/**
 * struct drm_vprime_gem_info - what a buffer object is and who uses it
 *
 * Used by %DRM_IOCTL_VPRIME_GEM_INFO.
 */
struct drm_vprime_gem_info {
	/** @handle: in: the object. */
	__u32 handle;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/** @size: out: the object's size in bytes. */
	__u64 size;
	/** @mmap_offset: out: the offset to mmap() the object at on this fd. */
	__u64 mmap_offset;
	/** @num_pages: out: backing pages allocated (0 before first use). */
	__u64 num_pages;
	/** @state: out: VPRIME_BO_STATE_* bits. */
	__u32 state;
	/** @num_attachments: out: devices attached to the exported dma-buf. */
	__u32 num_attachments;
	/** @num_mapped: out: attachments currently mapped for their device. */
	__u32 num_mapped;
	/** @pad: must be 0. */
	__u32 pad;
	/**
	 * @placement: out: where the storage is, a VPRIME_PLACEMENT_* value
	 * (%VPRIME_PLACEMENT_NONE before first use).
	 */
	__u32 placement;
	/** @pin_count: out: pins that keep the storage from moving. */
	__u32 pin_count;
	/** @migrations: out: times the storage has moved. */
	__u64 migrations;
	/*
	 * Added with VRAM. The DRM core zero-extends an older caller's shorter
	 * struct, and copies out only as much as it passed.
	 */
	/** @evictions: out: times the storage was evicted from VRAM. */
	__u64 evictions;
	/**
	 * @num_peer_mapped: out: attachments that map the storage in VRAM in
	 * place (peers of the exporting instance).
	 */
	__u32 num_peer_mapped;
	/** @pad2: must be 0. */
	__u32 pad2;
};

/*
 * Placements: where an object's storage is. The placement engine picks the
 * cheapest (lowest) one that every attached device can reach.
 */
/**
 * define VPRIME_PLACEMENT_NONE - no storage yet
 */
#define VPRIME_PLACEMENT_NONE		0
/**
 * define VPRIME_PLACEMENT_SYSTEM - scattered pages anywhere in memory
 */
#define VPRIME_PLACEMENT_SYSTEM		1
/**
 * define VPRIME_PLACEMENT_DMA32 - scattered pages below 4 GiB
 */
#define VPRIME_PLACEMENT_DMA32		2
/**
 * define VPRIME_PLACEMENT_CONTIG - one physically contiguous block
 */
#define VPRIME_PLACEMENT_CONTIG		3
/**
 * define VPRIME_PLACEMENT_CONTIG_DMA32 - one contiguous block below 4 GiB
 */
#define VPRIME_PLACEMENT_CONTIG_DMA32	4
/**
 * define VPRIME_PLACEMENT_IMPORTED - another driver's memory
 *
 * The object is an imported dma-buf; its exporter places the storage.
 */
#define VPRIME_PLACEMENT_IMPORTED	5
/**
 * define VPRIME_PLACEMENT_VRAM - the exporting instance's device memory
 * (module parameter vram_mb), which only it and its peers (p2p) reach
 */
#define VPRIME_PLACEMENT_VRAM		6

/**
 * struct drm_vprime_segment - one DMA segment of a device mapping
 */
struct drm_vprime_segment {
	/** @addr: the DMA address the device uses (0 without CAP_SYS_ADMIN). */
	__u64 addr;
	/** @len: the segment's length in bytes. */
	__u64 len;
};

/**
 * struct drm_vprime_gem_map - map a buffer object for this device
 *
 * Used by %DRM_IOCTL_VPRIME_GEM_MAP. This is what a job or a scanout of this
 * device does before it touches the buffer, made directly callable: for an
 * object of this device, the storage is placed (allocated, or moved if it
 * does not suit every attached device) and mapped for this device; for an
 * imported object, this device's attachment to the dma-buf is mapped, so the
 * exporter places its storage. The mapping stays until
 * %DRM_IOCTL_VPRIME_GEM_UNMAP or until the handle is closed; maps nest.
 */
struct drm_vprime_gem_map {
	/** @handle: in: the object. */
	__u32 handle;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/**
	 * @segments_ptr: in: a user pointer to an array of
	 * &struct drm_vprime_segment of @num_segments entries, or 0.
	 */
	__u64 segments_ptr;
	/**
	 * @num_segments: in: the array's size; out: how many segments the
	 * mapping has (the array receives at most its size of them).
	 */
	__u32 num_segments;
	/** @placement: out: the storage's VPRIME_PLACEMENT_* after the map. */
	__u32 placement;
};

/**
 * struct drm_vprime_gem_unmap - drop a mapping made by %DRM_IOCTL_VPRIME_GEM_MAP
 *
 * Used by %DRM_IOCTL_VPRIME_GEM_UNMAP.
 */
struct drm_vprime_gem_unmap {
	/** @handle: in: the object. */
	__u32 handle;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
};

/**
 * define DRM_IOCTL_VPRIME_GEM_CREATE - create a buffer object
 *
 * Takes a &struct drm_vprime_gem_create. Errors: -EINVAL for a zero size, a
 * size that overflows when rounded, one larger than the module's
 * mem_limit_mb (half of RAM by default), one this device could never place
 * (over one page block or segment on a device that needs contiguous
 * memory), or non-zero flags; -ENOSPC when the device's objects would take
 * more than a quarter of its mmap offset space; -ENOMEM when the object
 * cannot be allocated.
 */
#define DRM_IOCTL_VPRIME_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_GEM_CREATE, struct drm_vprime_gem_create)

/**
 * define DRM_IOCTL_VPRIME_GEM_INFO - query a buffer object
 *
 * Takes a &struct drm_vprime_gem_info. Errors: -EINVAL for non-zero flags or
 * padding (@pad, @pad2); -ENOENT for an unknown handle.
 */
#define DRM_IOCTL_VPRIME_GEM_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_GEM_INFO, struct drm_vprime_gem_info)

/**
 * define DRM_IOCTL_VPRIME_GEM_MAP - map a buffer object for this device
 *
 * Takes a &struct drm_vprime_gem_map. When the storage must move for this
 * device and other devices or jobs hold it, the call waits for them to let
 * go, and for the fences of the buffer, for at most the module's
 * map_wait_ms; the wait is killable, not interruptible. On an instance
 * with VRAM, VRAM full of buffers that cannot be evicted is not an error:
 * the buffer is placed in system memory instead. The segments'
 * addresses are given to CAP_SYS_ADMIN only; other callers get 0 there,
 * and the lengths. Errors: -EINVAL for non-zero flags; -ENOENT for an
 * unknown handle, or one closed while the call waited; -EFAULT for a bad
 * &drm_vprime_gem_map.segments_ptr; -ETIME when the other mappings or fences stayed; -EBUSY
 * when the storage is pinned where this device cannot reach it; -ERANGE
 * for another driver's buffer whose mapping this device cannot address
 * (its DMA mask, largest segment or segment boundary); -ENOSPC past the
 * module's mem_limit_mb, or when this file holds 65536 maps of the object;
 * -EINTR on a fatal signal; -ENOMEM.
 */
#define DRM_IOCTL_VPRIME_GEM_MAP \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_GEM_MAP, struct drm_vprime_gem_map)

/**
 * define DRM_IOCTL_VPRIME_GEM_UNMAP - drop this file's newest mapping
 *
 * Takes a &struct drm_vprime_gem_unmap. Errors: -EINVAL for non-zero flags
 * or an object this file has not mapped; -ENOENT for an unknown handle.
 */
#define DRM_IOCTL_VPRIME_GEM_UNMAP \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VPRIME_GEM_UNMAP, struct drm_vprime_gem_unmap)

/* Bits of &drm_vprime_submit_bo.flags. */
/**
 * define VPRIME_SUBMIT_BO_READ - the job reads the buffer
 */
#define VPRIME_SUBMIT_BO_READ		0x1u
/**
 * define VPRIME_SUBMIT_BO_WRITE - the job writes the buffer
 */
#define VPRIME_SUBMIT_BO_WRITE		0x2u

/**
 * struct drm_vprime_submit_bo - a buffer a job uses, seen as a 2D surface
 *
 * Any GEM object of the device, its own or imported. A surface of @height
 * rows of @pitch bytes must fit in the object.
 */
struct drm_vprime_submit_bo {
	/** @handle: the object. */
	__u32 handle;
	/** @flags: VPRIME_SUBMIT_BO_READ and/or VPRIME_SUBMIT_BO_WRITE. */
	__u32 flags;
	/** @width: the surface's width in pixels. */
	__u32 width;
	/** @height: its height in rows. */
	__u32 height;
	/** @pitch: bytes from one row to the next. */
	__u32 pitch;
	/**
	 * @format: the pixel format, a DRM fourcc: XRGB8888, ARGB8888,
	 * XBGR8888, ABGR8888 or RGB565.
	 */
	__u32 format;
};

/* Values of &drm_vprime_cmd.op. */
/**
 * define VPRIME_CMD_FILL - fill a rectangle with a colour
 *
 * Fills a rectangle of &drm_vprime_cmd.dst with &drm_vprime_cmd.value
 * (ARGB8888, converted to the surface's format).
 */
#define VPRIME_CMD_FILL			1
/**
 * define VPRIME_CMD_COPY - copy a rectangle, converting the format
 *
 * Copies a rectangle of &drm_vprime_cmd.src to &drm_vprime_cmd.dst.
 */
#define VPRIME_CMD_COPY			2
/**
 * define VPRIME_CMD_CHECKSUM - the crc32 of a rectangle
 *
 * The crc32 of a rectangle of &drm_vprime_cmd.src (its rows' bytes, in
 * order), written as a little endian u32 at &drm_vprime_cmd.dst_offset of
 * &drm_vprime_cmd.dst.
 */
#define VPRIME_CMD_CHECKSUM		3
/**
 * define VPRIME_CMD_HANG - a command that never completes
 *
 * As a faulty shader would: the job times out and its fence carries
 * -ETIMEDOUT. It uses no field; the job still needs a buffer. Refused with
 * -EOPNOTSUPP when the device's jobs have no timeout (module parameter
 * job_timeout_ms=0).
 */
#define VPRIME_CMD_HANG			4

/**
 * struct drm_vprime_cmd - one command of a job
 *
 * Buffers are named by their index in &drm_vprime_submit.bos_ptr; a
 * rectangle must lie inside its surface. A field the op does not use (the
 * ops that use it are listed with it) must be 0.
 */
struct drm_vprime_cmd {
	/** @op: a VPRIME_CMD_* value. */
	__u32 op;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/** @src: the source buffer (COPY, CHECKSUM). */
	__u32 src;
	/** @dst: the destination buffer (FILL, COPY, CHECKSUM). */
	__u32 dst;
	/** @src_x: the source rectangle's left column (COPY, CHECKSUM). */
	__u32 src_x;
	/** @src_y: its top row. */
	__u32 src_y;
	/** @dst_x: the destination rectangle's left column (FILL, COPY). */
	__u32 dst_x;
	/** @dst_y: its top row. */
	__u32 dst_y;
	/** @width: the rectangle's width in pixels (FILL, COPY, CHECKSUM). */
	__u32 width;
	/** @height: its height in rows. */
	__u32 height;
	/** @value: FILL's colour, ARGB8888, converted to @dst's format (FILL). */
	__u32 value;
	/** @pad: must be 0. */
	__u32 pad;
	/** @dst_offset: CHECKSUM: where in @dst the u32 goes, 4-byte aligned. */
	__u64 dst_offset;
};

/**
 * struct drm_vprime_syncobj - a syncobj and, for a timeline, a point
 */
struct drm_vprime_syncobj {
	/** @handle: the syncobj. */
	__u32 handle;
	/** @pad: must be 0. */
	__u32 pad;
	/** @point: a timeline point, or 0 for a binary syncobj. */
	__u64 point;
};

/* Bits of &drm_vprime_submit.flags. */
/**
 * define VPRIME_SUBMIT_IN_FENCE_FD - wait for an input sync_file
 *
 * The job waits for &drm_vprime_submit.in_fence_fd.
 */
#define VPRIME_SUBMIT_IN_FENCE_FD	0x1u
/**
 * define VPRIME_SUBMIT_OUT_FENCE_FD - return the job's fence as a sync_file
 */
#define VPRIME_SUBMIT_OUT_FENCE_FD	0x2u
/**
 * define VPRIME_SUBMIT_OUT_SYNCOBJ - put the job's fence into a syncobj
 *
 * The syncobj (and point) of &drm_vprime_submit.out_syncobj.
 */
#define VPRIME_SUBMIT_OUT_SYNCOBJ	0x4u

/**
 * define VPRIME_SUBMIT_MAX_BOS - the most buffers one job uses
 */
#define VPRIME_SUBMIT_MAX_BOS		64
/**
 * define VPRIME_SUBMIT_MAX_CMDS - the most commands in one job
 */
#define VPRIME_SUBMIT_MAX_CMDS		256
/**
 * define VPRIME_SUBMIT_MAX_SYNCOBJS - the most input syncobjs of one job
 */
#define VPRIME_SUBMIT_MAX_SYNCOBJS	64

/**
 * struct drm_vprime_submit - queue a job on the device
 *
 * Used by %DRM_IOCTL_VPRIME_SUBMIT. The job runs asynchronously, after the
 * fences it depends on: implicitly, those already in each buffer's
 * reservation object (a write waits for every fence, a read for writers);
 * explicitly, @in_fence_fd and each of @in_syncobjs_ptr. Its own fence is
 * added to every buffer's reservation object (as a write or a read) and,
 * as asked, returned as a sync_file and put in a syncobj.
 *
 * The fence signals with an error when the job did not complete: that of a
 * failed dependency; -ETIMEDOUT when the job was stopped after the module's
 * job_timeout_ms (a job is stopped part way: its buffers may be partly
 * written); -ECANCELED when it was not executed because its file was
 * banned, or stopped because the module was unloading; -EIO when its
 * execution failed (only the job_exec fault-injection point does that, as
 * a GPU fault would).
 */
struct drm_vprime_submit {
	/** @bos_ptr: a user pointer to @num_bos &struct drm_vprime_submit_bo. */
	__u64 bos_ptr;
	/** @cmds_ptr: a user pointer to @num_cmds &struct drm_vprime_cmd. */
	__u64 cmds_ptr;
	/** @in_syncobjs_ptr: a user pointer to @num_in_syncobjs &struct drm_vprime_syncobj. */
	__u64 in_syncobjs_ptr;
	/** @num_bos: 1 to %VPRIME_SUBMIT_MAX_BOS. */
	__u32 num_bos;
	/** @num_cmds: 1 to %VPRIME_SUBMIT_MAX_CMDS. */
	__u32 num_cmds;
	/** @num_in_syncobjs: 0 to %VPRIME_SUBMIT_MAX_SYNCOBJS. */
	__u32 num_in_syncobjs;
	/** @flags: VPRIME_SUBMIT_* bits. */
	__u32 flags;
	/** @in_fence_fd: with %VPRIME_SUBMIT_IN_FENCE_FD, a sync_file to wait for. */
	__s32 in_fence_fd;
	/** @out_fence_fd: out, with %VPRIME_SUBMIT_OUT_FENCE_FD: the job's sync_file. */
	__s32 out_fence_fd;
	/** @out_syncobj: with %VPRIME_SUBMIT_OUT_SYNCOBJ, the syncobj and point to signal. */
	struct drm_vprime_syncobj out_syncobj;
};

/**
 * struct drm_vprime_wait_idle - wait until no job uses a buffer
 *
 * Used by %DRM_IOCTL_VPRIME_WAIT_IDLE.
 */
struct drm_vprime_wait_idle {
	/** @handle: the object. */
	__u32 handle;
	/** @flags: none defined yet; must be 0. */
	__u32 flags;
	/** @timeout_ns: how long to wait, relative; 0 (or less) only checks. */
	__s64 timeout_ns;
};

/**
 * define DRM_IOCTL_VPRIME_SUBMIT - queue a job
 *
 * Takes a &struct drm_vprime_submit. Errors: -EINVAL for unknown flags or
 * commands, non-zero padding, a count out of range, a buffer listed twice
 * or without READ/WRITE, a bad surface or a rectangle outside it, a
 * command using a buffer against its flags; -ENOENT for an unknown buffer
 * or syncobj handle; -EBADF or -EINVAL for a bad sync_file fd; -EFAULT for a
 * bad pointer; -ETIME when an in-syncobj's timeline point was not submitted
 * within the core's wait for it; -EINTR or a restart when interrupted;
 * -ENOMEM. -EINVAL also for a field a command does not use set (see
 * &struct drm_vprime_cmd); -EOPNOTSUPP for %VPRIME_CMD_HANG when jobs have
 * no timeout; -EIO when the file is banned: 3 of its jobs timed out, as GPU
 * drivers ban a context that keeps hanging the GPU (other files are not
 * affected; open the device again to submit). A rejected job leaves nothing
 * queued or referenced, with one
 * exception: -ENOMEM for the out-fence's sync_file comes after the job was
 * queued (its fence is in the buffers and the out-syncobj).
 */
#define DRM_IOCTL_VPRIME_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VPRIME_SUBMIT, struct drm_vprime_submit)

/**
 * define DRM_IOCTL_VPRIME_WAIT_IDLE - wait for a buffer's jobs
 *
 * Returns once every fence of the buffer's reservation object has
 * signalled and the finished jobs have released the buffer, so that
 * another device may then import and move it at once. With a zero timeout
 * it only polls the fences: 0 when all have signalled.
 *
 * Takes a &struct drm_vprime_wait_idle. Errors: -EINVAL for flags;
 * -ENOENT for an unknown handle; -ETIME when jobs still use it at the
 * timeout; -EINTR (or a restart) when interrupted.
 */
#define DRM_IOCTL_VPRIME_WAIT_IDLE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VPRIME_WAIT_IDLE, struct drm_vprime_wait_idle)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VPRIME_DRM_H_ */
