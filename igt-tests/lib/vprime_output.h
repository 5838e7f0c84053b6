/* SPDX-License-Identifier: MIT */
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime.0's display as the display tests (vprime_kms_*) drive it: its card
 * node, an output lit with a frame, the CRTC's CRCs, vblank waits and
 * page-flip events.
 *
 * Every subtest drives vprime.0's card node, which becomes DRM master as the
 * only opener; dynamic subtests open it in their own process for that
 * reason. vprime.0 may have several outputs (the suite loads num_crtcs=2):
 * a subtest uses the CRTC the library lights or captures on, and asks for
 * that CRTC's planes and properties; vprime_kms_flips' two-crtcs* drive
 * two at once. Every subtest turns its CRTCs off before it ends; the
 * helpers also turn off planes an earlier failed subtest left on.
 */

#ifndef VPRIME_OUTPUT_H
#define VPRIME_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_kms.h"
#include "vprime_ref.h"

/*
 * How long an event or a written-back frame may take before a subtest gives
 * up. They bound waits and assert no timing: the vblank timer and the
 * composer run in an emulated guest on a loaded host.
 */
#define EVENT_TIMEOUT_MS	10000
#define WRITEBACK_TIMEOUT_MS	10000

/* vprime.0's card node. */
int open_card(void);

/* vprime's 1024x768@60 (DMT): the mode the others are made from. */
drmModeModeInfo dmt_1024x768(void);

/* Showing frames on the real connector */

/* @fb full screen on the primary plane. */
struct kms_plane_setup primary_setup(const struct fb *fb);

/* Light the output with @fb full screen on its primary plane (kms_output_on()). */
void output_on(int fd, const struct fb *fb, struct kms_output *out);

/* Whether a DRM event is waiting on @fd within @ms. */
bool event_pending(int fd, int ms);

/* A dumb buffer to write a frame back into, and its fb. */
uint32_t capture_buffer(int fd, struct kms_capture *cap);

/* CRCs */

/* One line of crc/data: its frame number, when it has one, and its CRC. */
struct crc {
	bool has_frame;
	uint32_t frame, value;
};

/*
 * The debugfs CRC directory of instance @devname's CRTC @crtc_index
 * (dri/<card minor>/crtc-N/crc). Skips without debugfs; the core creates
 * crc/ only for a driver that implements CRCs, so its absence is vprime's.
 */
void crc_dir_of(const char *devname, int crtc_index, char *dir, size_t len);

/* crc_dir_of() for vprime.0. */
void crc_dir(int crtc_index, char *dir, size_t len);

/* Select the source "auto" and open crc/data, which starts the CRCs. */
int crc_start(const char *dir);

/* One line of crc/data: "0x%08x 0x%08x" (frame, crc); the frame may be X's. */
struct crc crc_read(int fd);

/*
 * NUM_CRCS CRCs of the frame on screen, taken from a fresh start of the CRC
 * source (so none predates the frame): all equal, frames increasing.
 */
uint32_t crc_of_frame(const char *dir, const char *what);

/* The driver's debugfs */

/*
 * A count of debugfs vprime_display for CRTC index @crtc_index of instance
 * @devname: its line "crtc N: @key: value" (async_updates, ioctl_flips).
 */
long display_count(const char *devname, int crtc_index, const char *key);

/* Set the driver's injectable delay @name (docs/testing.md), in its unit. */
void delay_set(const char *name, unsigned int value);

/* Vblanks and page-flip events */

/* What the page-flip event of one flip said; @events counts its events. */
struct flip {
	int events;
	unsigned int seq;
	double ts;
};

/* The page-flip events wait_events() has read, over every flip. */
extern int flip_events_total;

/* Read the events of @fd until @total have arrived; fails after a timeout. */
void wait_events(int fd, int total);

/* The drmWaitVBlank type bits of CRTC index @crtc_index. */
drmVBlankSeqType vblank_crtc(int crtc_index);

/* drmWaitVBlank for @count vblanks from now (0: the current count). */
drmVBlank wait_vblank(int fd, int crtc_index, unsigned int count);

/* The time of the vblank @vbl returned, in seconds. */
double vblank_ts(const drmVBlank *vbl);

/* Each flip's event: exactly one, sequence and time past the previous one's. */
void check_flip(const struct flip *f, int i, unsigned int prev_seq, double prev_ts);

#endif /* VPRIME_OUTPUT_H */
