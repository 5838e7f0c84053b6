/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * KMS helpers for the tests: show a framebuffer on a CRTC through the atomic
 * API and read back what the CRTC composed through a writeback connector,
 * which is what a display driver's "view" of a buffer is.
 */

#ifndef VPRIME_KMS_H
#define VPRIME_KMS_H

#include <stddef.h>
#include <stdint.h>

/* A frame read back from a writeback connector, in a dumb buffer. */
struct kms_capture {
	uint32_t handle;	/* a dumb buffer on the capturing device */
	uint32_t width, height, pitch;
	uint64_t size;
	void *map;		/* XRGB8888, @pitch bytes per row */
};

/*
 * Show @fb_id (@width x @height) full screen on the first CRTC of @fd that
 * can feed a writeback connector, capture one frame, and turn the CRTC off
 * again. @fd must be a card node that can become DRM master. Skips when the
 * device has no writeback connector or no mode of that size.
 */
void kms_writeback_capture(int fd, uint32_t fb_id, uint32_t width, uint32_t height,
			   struct kms_capture *out);

/* Unmap and destroy a capture's buffer. */
void kms_capture_release(int fd, struct kms_capture *cap);

/* drmModeAddFB2 of a single-plane XRGB8888 buffer; returns the fb id. */
uint32_t kms_add_fb_xrgb8888(int fd, uint32_t handle, uint32_t width, uint32_t height,
			     uint32_t pitch);

#endif /* VPRIME_KMS_H */
