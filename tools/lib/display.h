/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * Scan buffers out on a DRM device through the atomic API and read the
 * composed frame back through its writeback connector, as a compositor's
 * screenshot or a conformance checker does. Functions return 0 or a
 * negative errno.
 */

#ifndef VPRIME_DISPLAY_H
#define VPRIME_DISPLAY_H

#include <stdint.h>

#include <xf86drmMode.h>

/* One plane of a frame: which plane, what it shows and where. */
struct plane_setup {
	uint32_t type;		/* DRM_PLANE_TYPE_* */
	uint32_t fb;
	int32_t x, y;
	uint32_t w, h;
	uint16_t alpha;		/* 0xffff: opaque */
};

/* A frame read back from writeback: XRGB8888 in a dumb buffer. */
struct frame {
	uint32_t handle, width, height, pitch;
	uint64_t size;
	uint32_t *pixels;
};

int dumb_create(int fd, uint32_t width, uint32_t height, uint32_t *handle,
		uint32_t *pitch, uint64_t *size, void **map);
int add_fb(int fd, uint32_t handle, uint32_t width, uint32_t height, uint32_t format,
	   uint32_t pitch, uint32_t *fb_id);

/*
 * Show @planes on the first CRTC of @fd that feeds a writeback connector,
 * in a @width x @height mode, capture one frame into @out, and turn the
 * CRTC off again. @fd must be a card node that is (or can become) master.
 */
/* What a capture drives: a CRTC, its writeback connector, a mode. */
struct display_route {
	uint32_t crtc, writeback;
	int crtc_index;
	drmModeModeInfo mode;
};

/*
 * The first writeback connector of @fd with a progressive @width x @height
 * mode, and a CRTC it can take: 0, -ENODEV or another negative errno.
 */
int display_find_route(int fd, uint32_t width, uint32_t height, struct display_route *r);

/* The id of property @name of KMS object @obj (of @type), its value in *@value; 0 if none. */
uint32_t display_prop_id(int fd, uint32_t obj, uint32_t type, const char *name,
			 uint64_t *value);
/* Add property @name of @obj to @req: 0, -ENOENT (no such property) or -ENOMEM. */
int display_add_prop(drmModeAtomicReq *req, int fd, uint32_t obj, uint32_t type,
		     const char *name, uint64_t value);

int display_capture(int fd, const struct plane_setup *planes, int n, uint32_t width,
		    uint32_t height, struct frame *out);
void frame_release(int fd, struct frame *f);

#endif /* VPRIME_DISPLAY_H */
