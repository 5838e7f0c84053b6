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

/* The most planes display_show() takes. */
#define DISPLAY_MAX_PLANES	8

/* A frame on screen, for display_off(). */
struct display_shown {
	struct display_route route;
	struct plane_setup planes[DISPLAY_MAX_PLANES];
	int n;
	uint32_t out_fb;
};

/*
 * Show @planes (at most DISPLAY_MAX_PLANES) on the first CRTC of @fd that
 * feeds a writeback connector, in a @width x @height mode, and capture one
 * frame into @out; the planes stay on screen (and their buffers pinned)
 * until display_off(). @fd must be a card node that is (or can become)
 * master. On an error nothing is left on screen, but @out may hold a
 * buffer to frame_release().
 */
int display_show(int fd, const struct plane_setup *planes, int n, uint32_t width,
		 uint32_t height, struct frame *out, struct display_shown *shown);
/* Turn off what display_show() showed. */
int display_off(int fd, struct display_shown *shown);

/* display_show() then display_off(): capture one frame of @planes. */
int display_capture(int fd, const struct plane_setup *planes, int n, uint32_t width,
		    uint32_t height, struct frame *out);
void frame_release(int fd, struct frame *f);

/* The pixel a frame should have at (@x, @y) (24 colour bits count). */
typedef uint32_t (*frame_expect_fn)(uint32_t x, uint32_t y, const void *ctx);

/*
 * Compare every pixel of @f with @expect, each colour channel within
 * @tolerance; print the first mismatches ("MISMATCH in WHAT at ...") and a
 * summary ("verified: all N pixels of WHAT match ..." when none). Returns
 * the number of pixels that differ.
 */
unsigned long frame_compare(const struct frame *f, frame_expect_fn expect, const void *ctx,
			    uint32_t tolerance, const char *what);

#endif /* VPRIME_DISPLAY_H */
