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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xf86drmMode.h>

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

/* drmModeAddFB2 of a single-plane buffer of @format; returns the fb id. */
uint32_t kms_add_fb(int fd, uint32_t handle, uint32_t width, uint32_t height,
		    uint32_t format, uint32_t pitch);

/* A plane's type, as its "type" property says (DRM_PLANE_TYPE_*). */
enum kms_plane_type {
	KMS_PLANE_OVERLAY = DRM_PLANE_TYPE_OVERLAY,
	KMS_PLANE_PRIMARY = DRM_PLANE_TYPE_PRIMARY,
	KMS_PLANE_CURSOR = DRM_PLANE_TYPE_CURSOR,
};

#define KMS_MAX_PLANE_PROPS	6

/*
 * A plane property to set: @value, or, when @enum_name is set, the value of
 * that entry of an enum property (or that bit of a bitmask property).
 */
struct kms_prop {
	const char *name;	/* NULL: an unused slot */
	uint64_t value;
	const char *enum_name;
};

/*
 * One plane of a frame. Nothing is scaled: the whole fb (@w x @h) is shown
 * at (@x, @y) on the CRTC, which may put part of it off the CRTC; rotated
 * by 90 or 270 degrees (a "rotation" in @props) it covers @h x @w there.
 * The properties "alpha", "pixel blend mode", "rotation", "COLOR_ENCODING"
 * and "COLOR_RANGE" go back to their defaults (opaque, "Pre-multiplied",
 * rotate-0, BT.601, limited range) unless @props sets them, so that no
 * earlier frame's values linger.
 */
struct kms_plane_setup {
	enum kms_plane_type type;
	uint32_t fb_id;
	int32_t x, y;
	uint32_t w, h;
	struct kms_prop props[KMS_MAX_PLANE_PROPS];
};

/*
 * kms_writeback_capture() with several planes: each setup goes to the
 * CRTC's first plane of its type (a second setup of a type to its second
 * plane of that type, and so on), every other plane of the CRTC is turned
 * off. Skips when the device has no writeback
 * connector, no mode of that size or no plane of a type asked for.
 */
void kms_capture_planes(int fd, const struct kms_plane_setup *setups, int n,
			uint32_t width, uint32_t height, struct kms_capture *out);

/*
 * The index of the CRTC kms_capture_planes() shows a @width x @height frame
 * on (its planes and properties are that CRTC's). Sets the atomic and
 * writeback caps; skips as kms_capture_planes() does.
 */
int kms_capture_crtc_index(int fd, uint32_t width, uint32_t height);

/*
 * A CRTC's colour pipeline: blob ids for "DEGAMMA_LUT", "CTM" and
 * "GAMMA_LUT", 0 for a stage that is off. Every frame of this library sets
 * all three (off unless asked), where the CRTC has them.
 */
struct kms_crtc_color {
	uint32_t degamma_lut, ctm, gamma_lut;
};

/* kms_capture_planes() through the colour pipeline @color (NULL: none). */
void kms_capture_planes_color(int fd, const struct kms_plane_setup *setups, int n,
			      const struct kms_crtc_color *color, uint32_t width,
			      uint32_t height, struct kms_capture *out);

/* A CRTC driving a real (not writeback) connector. */
struct kms_output {
	uint32_t crtc, connector;
	int crtc_index;
	drmModeModeInfo mode;
	uint32_t writeback;	/* kms_find_outputs(): a writeback connector of the CRTC, or 0 */
};

/*
 * Light the first non-writeback, not disconnected connector with its (progressive,
 * preferably preferred) @width x @height mode and show @setups on its CRTC,
 * in one blocking atomic modeset. @fd must be a card node that can become
 * DRM master. Skips when there is no such connector or mode.
 */
void kms_output_on(int fd, const struct kms_plane_setup *setups, int n,
		   uint32_t width, uint32_t height, struct kms_output *out);

/*
 * kms_output_on(), with a page-flip event for the modeset: it carries
 * @event_data (not NULL) and arrives on @fd when the CRTC shows the frame.
 */
void kms_output_on_event(int fd, const struct kms_plane_setup *setups, int n,
			 uint32_t width, uint32_t height, void *event_data,
			 struct kms_output *out);

/*
 * A TEST_ONLY modeset of the connector kms_output_on() would light, with
 * @mode (which need not be one it lists, only of a size it does): 0 or
 * -errno.
 */
int kms_try_mode(int fd, const drmModeModeInfo *mode);

/* Show @setups on a lit output without a modeset (blocking commit). */
void kms_output_planes(int fd, const struct kms_output *o,
		       const struct kms_plane_setup *setups, int n);

/*
 * The same commit with the atomic @flags (e.g. DRM_MODE_ATOMIC_NONBLOCK),
 * which may fail: returns 0 or -errno.
 */
int kms_output_try_planes(int fd, const struct kms_output *o,
			  const struct kms_plane_setup *setups, int n, uint32_t flags);

/* Turn every plane of the output's CRTC, its connectors and the CRTC off. */
void kms_output_off(int fd, const struct kms_output *o);

/*
 * Every output of @fd that can be lit at once with a @width x @height mode:
 * each non-writeback, not disconnected connector that has such a mode, with
 * the first CRTC its encoder can use that no earlier output took, and a
 * writeback connector of that CRTC no earlier output took (0 if none).
 * Sets the atomic and writeback caps. Returns how many, at most @max.
 */
int kms_find_outputs(int fd, uint32_t width, uint32_t height, struct kms_output *outs,
		     int max);

/*
 * Parts of one atomic request, for commits that drive several outputs at
 * once. kms_req_modeset(): @o's connector alone on its CRTC (with its
 * writeback connector when @writeback), lit with @o->mode, the colour
 * pipeline off; the mode's blob in *@blob, to destroy after the commit.
 * kms_req_planes(): @setups on @o's CRTC as kms_output_planes() puts them.
 * kms_req_writeback_job(): a writeback job into @fb_id on @o's writeback
 * connector, which the CRTC must have (or get in the same commit); its
 * out-fence in *@fence. kms_req_output_off(): everything of @o's CRTC off.
 */
void kms_req_modeset(drmModeAtomicReq *req, int fd, const struct kms_output *o,
		     bool writeback, uint32_t *blob);
void kms_req_planes(drmModeAtomicReq *req, int fd, const struct kms_output *o,
		    const struct kms_plane_setup *setups, int n);
void kms_req_writeback_job(drmModeAtomicReq *req, int fd, const struct kms_output *o,
			   uint32_t fb_id, int32_t *fence);
void kms_req_output_off(drmModeAtomicReq *req, int fd, const struct kms_output *o);

/* The first plane of @type that can feed CRTC index @crtc_index; 0 if none. */
uint32_t kms_plane_id(int fd, int crtc_index, enum kms_plane_type type);

/* The same, the plane after @nth others of that type (0: the first); 0 if none. */
uint32_t kms_plane_id_nth(int fd, int crtc_index, enum kms_plane_type type, int nth);

/* Whether plane @plane_id lists @format. */
bool kms_plane_has_format(int fd, uint32_t plane_id, uint32_t format);

/* Whether any plane of @fd lists @format. */
bool kms_any_plane_has_format(int fd, uint32_t format);

/* The current value of property @name of a KMS object; fails when it has none. */
uint64_t kms_get_prop(int fd, uint32_t obj, uint32_t type, const char *name);

/* The id of property @name of a KMS object; fails when it has none. */
uint32_t kms_prop_id(int fd, uint32_t obj, uint32_t type, const char *name);

#endif /* VPRIME_KMS_H */
