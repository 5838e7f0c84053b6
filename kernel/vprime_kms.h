/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vprime developers
 */

#ifndef _VPRIME_KMS_H_
#define _VPRIME_KMS_H_

#include <linux/hrtimer.h>
#include <linux/iosys-map.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <drm/drm_color_mgmt.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_encoder.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_plane.h>
#include <drm/drm_rect.h>
#include <drm/drm_writeback.h>

struct vprime_device;

/*
 * The most CRTCs an instance has (num_crtcs), overlay planes per CRTC
 * (num_overlays), and planes per CRTC: a primary, the overlays, a cursor.
 */
#define VPRIME_MAX_CRTCS	4
#define VPRIME_MAX_OVERLAYS	6
#define VPRIME_MAX_PLANES_PER_CRTC	(VPRIME_MAX_OVERLAYS + 2)
/* A device has at most 32 planes (a u32 mask in the core). */
static_assert(VPRIME_MAX_CRTCS * VPRIME_MAX_PLANES_PER_CRTC <= 32);
#define VPRIME_MAX_WIDTH	8192
#define VPRIME_MAX_HEIGHT	8192
#define VPRIME_CURSOR_MAX	512
/*
 * The fastest pixel clock a CRTC takes, in kHz (the EDID's range limits
 * say the same), and the refresh rates its vblank timer serves.
 */
#define VPRIME_MAX_DOTCLOCK	600000
#define VPRIME_MAX_REFRESH	240
/* Entries of the degamma and gamma LUTs. */
#define VPRIME_LUT_SIZE		256

/**
 * struct vprime_plane_state - a plane's state, with its framebuffer mapped
 * @base: the DRM plane state
 * @map: the kernel mapping of each framebuffer plane, while it is scanned out
 */
struct vprime_plane_state {
	struct drm_plane_state base;
	struct iosys_map map[DRM_FORMAT_MAX_PLANES];
};

/**
 * struct vprime_wb_job - a writeback job's target, mapped
 * @fb: the framebuffer the composed frame goes into
 * @map: its kernel mapping
 * @vblank_crtc: the CRTC whose vblank the job holds on, or NULL
 */
struct vprime_wb_job {
	struct drm_framebuffer *fb;
	struct iosys_map map[DRM_FORMAT_MAX_PLANES];
	struct drm_crtc *vblank_crtc;
};

/**
 * struct vprime_crtc_state - a CRTC's state and what its composer needs
 * @base: the DRM CRTC state
 * @compose_work: composes a frame for CRC and writeback
 * @planes: the visible planes, bottom first
 * @num_planes: the number of entries of @planes
 * @wb: the writeback target of this state, or NULL
 * @wb_pending: @wb waits for the next composed frame
 * @crc_pending: a CRC is to be computed
 * @frame_start: the first vblank the pending CRC stands for
 * @frame_end: the last one
 */
struct vprime_crtc_state {
	struct drm_crtc_state base;
	struct work_struct compose_work;
	struct vprime_plane_state *planes[VPRIME_MAX_PLANES_PER_CRTC];
	unsigned int num_planes;
	struct vprime_wb_job *wb;
	bool wb_pending;
	bool crc_pending;
	u64 frame_start;
	u64 frame_end;
};

/**
 * struct vprime_color - a frame's colour pipeline, as the composer applies it
 * @active: some stage is set: the rows go through the pipeline
 * @lut_only: there is no CTM: @lut8 is the whole pipeline
 * @lut8: per channel (R, G, B), 8-bit input to 8-bit output through both LUTs
 * @degamma: per channel, 8-bit input through the degamma LUT, 16 bits
 * @ctm: the CTM's coefficients, row-major, signed 16.16
 * @gamma: the gamma LUT's entries (of the state being composed), or NULL
 */
struct vprime_color {
	bool active;
	bool lut_only;
	u8 lut8[3][VPRIME_LUT_SIZE];
	u16 degamma[3][VPRIME_LUT_SIZE];
	s64 ctm[9];
	const struct drm_color_lut *gamma;
};

/**
 * struct vprime_output - one CRTC and everything that hangs off it
 * @crtc: the CRTC
 * @encoder: the encoder of @connector
 * @connector: the virtual display connector
 * @wb: the writeback connector
 * @wb_encoder: the encoder of @wb
 * @vblank_timer: simulates vblank at the mode's refresh rate
 * @vblank_on: the timer should run (it stops itself when this is false)
 * @period: the frame duration
 * @lock: protects @composer_state against the vblank timer, and the place
 *	of its planes (src and dst) against async cursor updates
 * @async_updates: cursor moves applied without a commit
 * @ioctl_flips: nonblocking commits applied in their ioctl
 * @composer_lock: protects the CRC fields of the composer's state
 * @composer_state: the state the vblank timer composes
 * @crc_enabled: a CRC source is set
 * @compose_wq: the ordered workqueue frames are composed on
 * @compose_row: the row being composed, VPRIME_MAX_WIDTH pixels
 * @compose_line: a plane's pixels for that row
 * @color: the colour pipeline's tables for the frame being composed
 */
struct vprime_output {
	struct drm_crtc crtc;
	struct drm_encoder encoder;
	struct drm_connector connector;
	struct drm_writeback_connector wb;
	struct drm_encoder wb_encoder;
	struct hrtimer vblank_timer;
	bool vblank_on;
	ktime_t period;
	spinlock_t lock; /* protects composer_state, its planes' src and dst */
	atomic64_t async_updates;
	atomic64_t ioctl_flips;
	spinlock_t composer_lock; /* protects the CRC fields of the state */
	struct vprime_crtc_state *composer_state;
	bool crc_enabled;
	struct workqueue_struct *compose_wq;
	/* The composer's own: it composes one frame at a time. */
	u32 *compose_row, *compose_line;
	struct vprime_color color;
};

static inline struct vprime_output *crtc_to_output(struct drm_crtc *crtc)
{
	return container_of(crtc, struct vprime_output, crtc);
}

static inline struct vprime_crtc_state *to_vprime_crtc_state(struct drm_crtc_state *s)
{
	return container_of(s, struct vprime_crtc_state, base);
}

static inline struct vprime_plane_state *to_vprime_plane_state(struct drm_plane_state *s)
{
	return container_of(s, struct vprime_plane_state, base);
}

/* vprime_kms.c */
int vprime_kms_init(struct vprime_device *vdev, unsigned int num_crtcs,
		    unsigned int num_overlays);
void vprime_kms_fini(struct vprime_device *vdev);

/* vprime_crtc.c */
int vprime_crtc_init(struct drm_device *drm, struct vprime_output *out,
		     struct drm_plane *primary, struct drm_plane *cursor);

/* vprime_plane.c */
struct drm_plane *vprime_plane_create(struct drm_device *drm, enum drm_plane_type type,
				      unsigned int crtc_mask, unsigned int zpos,
				      unsigned int max_zpos);

/* vprime_connector.c */
int vprime_connector_init(struct drm_device *drm, struct vprime_output *out);

/* vprime_writeback.c */
int vprime_writeback_init(struct drm_device *drm, struct vprime_output *out);

/* vprime_color.c */
int vprime_color_init(struct drm_crtc *crtc);
int vprime_color_atomic_check(const struct drm_crtc_state *state);
void vprime_color_prepare(struct vprime_color *t, const struct drm_crtc_state *state);
void vprime_color_apply(const struct vprime_color *t, u32 *row, unsigned int count);

/* vprime_composer.c */
void vprime_compose_worker(struct work_struct *work);
const char *const *vprime_get_crc_sources(struct drm_crtc *crtc, size_t *count);
int vprime_set_crc_source(struct drm_crtc *crtc, const char *src_name);
int vprime_verify_crc_source(struct drm_crtc *crtc, const char *src_name, size_t *values_cnt);

/* vprime_formats.c */
extern const u32 vprime_plane_formats[];
extern const unsigned int vprime_num_plane_formats;
extern const u32 vprime_wb_formats[];
extern const unsigned int vprime_num_wb_formats;
bool vprime_format_supported(u32 format);
bool vprime_wb_format_supported(u32 format);
u32 vprime_packed_to_argb(const u8 *p, u32 format);

/* ARGB8888 <-> ABGR8888: the same swap both ways. */
static inline u32 vprime_swap_red_blue(u32 p)
{
	return (p & 0xff00ff00) | ((p & 0xff) << 16) | ((p >> 16) & 0xff);
}

/* RGB565 to opaque ARGB8888, each channel's top bits repeated below. */
static inline u32 vprime_rgb565_to_argb(u16 p)
{
	u32 r = (p >> 11) & 0x1f, g = (p >> 5) & 0x3f, b = p & 0x1f;

	r = (r << 3) | (r >> 2);
	g = (g << 2) | (g >> 4);
	b = (b << 3) | (b >> 2);
	return 0xff000000 | r << 16 | g << 8 | b;
}

/* ARGB8888 to RGB565: the top bits of each channel. */
static inline u16 vprime_argb_to_rgb565(u32 argb)
{
	return ((argb >> 8) & 0xf800) | ((argb >> 5) & 0x07e0) | ((argb >> 3) & 0x001f);
}

void vprime_argb_to_packed(u8 *p, u32 format, u32 argb);
void vprime_read_line(const struct vprime_plane_state *ps, int sx, int sy, int dx, int dy,
		      int count, u32 *argb);
void vprime_write_line(const struct vprime_wb_job *wb, int y, const u32 *argb,
		       unsigned int count);

#endif /* _VPRIME_KMS_H_ */
