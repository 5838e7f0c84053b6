// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vprime_test.h"
#include "vtest.h"

/*
 * How long a CRC may take before a subtest gives up (a CRC once took over
 * 1 s in the emulated guest), and how many of a frame crc_of_frame() reads.
 */
#define CRC_TIMEOUT_MS		10000
#define NUM_CRCS		5

/* vprime.0's card node */
int open_card(void)
{
	return vprime_open(0, VPRIME_NODE_CARD);
}

/* vprime's 1024x768@60 (DMT): the mode the others are made from. */
drmModeModeInfo dmt_1024x768(void)
{
	drmModeModeInfo m = {
		.clock = 65000, .hdisplay = 1024, .hsync_start = 1048, .hsync_end = 1184,
		.htotal = 1344, .vdisplay = 768, .vsync_start = 771, .vsync_end = 777,
		.vtotal = 806, .vrefresh = 60,
		.flags = DRM_MODE_FLAG_NHSYNC | DRM_MODE_FLAG_NVSYNC,
		.type = DRM_MODE_TYPE_USERDEF, .name = "1024x768",
	};

	return m;
}

/* Showing frames on the real connector */

struct kms_plane_setup primary_setup(const struct fb *fb)
{
	struct ref_plane p = plane_at(KMS_PLANE_PRIMARY, fb, 0, 0);

	return setup_of(&p);
}

void output_on(int fd, const struct fb *fb, struct kms_output *out)
{
	struct kms_plane_setup s = primary_setup(fb);

	kms_output_on(fd, &s, 1, W, H, out);
}

/* Whether a DRM event is waiting on @fd within @ms. */
bool event_pending(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret = poll(&pfd, 1, ms);

	vt_assert_f(ret >= 0, "poll: %m\n");
	return ret == 1;
}

/* A dumb buffer to write a frame back into, and its fb. */
uint32_t capture_buffer(int fd, struct kms_capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->width = W;
	cap->height = H;
	cap->handle = dumb_create_mapped(fd, W, H, &cap->pitch, &cap->size, &cap->map);
	memset(cap->map, 0x5a, cap->size);	/* not what any test draws */
	return kms_add_fb_xrgb8888(fd, cap->handle, W, H, cap->pitch);
}

/* CRCs */

void crc_dir_of(const char *devname, int crtc_index, char *dir, size_t len)
{
	char node[64], dri[128];

	vt_assert(vprime_node_path(devname, VPRIME_NODE_CARD, node, sizeof(node)));
	snprintf(dri, sizeof(dri), "/sys/kernel/debug/dri/%s", node + strlen("/dev/dri/card"));
	vt_require_f(access(dri, F_OK) == 0, "no %s (debugfs): %m\n", dri);
	snprintf(dir, len, "%s/crtc-%d/crc", dri, crtc_index);
}

void crc_dir(int crtc_index, char *dir, size_t len)
{
	crc_dir_of("vprime.0", crtc_index, dir, len);
}

/* Select the source "auto" and open crc/data, which starts the CRCs. */
int crc_start(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/control", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	vt_assert_f(fd >= 0, "cannot open %s: %m (does the CRTC implement CRCs?)\n", path);
	vt_assert_f(write(fd, "auto", 4) == 4, "writing \"auto\" to %s: %m\n", path);
	close(fd);
	snprintf(path, sizeof(path), "%s/data", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	vt_assert_f(fd >= 0, "opening %s: %m (no CRC source \"auto\"?)\n", path);
	return fd;
}

/* One line of crc/data: "0x%08x 0x%08x" (frame, crc); the frame may be X's. */
struct crc crc_read(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char line[256], frame[16];
	struct crc c = {};
	ssize_t n;

	vt_assert_f(poll(&pfd, 1, CRC_TIMEOUT_MS) == 1, "no CRC within %d ms\n",
		    CRC_TIMEOUT_MS);
	n = read(fd, line, sizeof(line) - 1);
	vt_assert_f(n > 0, "reading a CRC: %m\n");
	line[n] = '\0';
	vt_assert_f(sscanf(line, "%15s %" SCNx32, frame, &c.value) == 2,
		    "a CRC line reads \"%s\"\n", line);
	c.has_frame = strcmp(frame, "XXXXXXXXXX") != 0;
	if (c.has_frame)
		vt_assert_f(sscanf(frame, "%" SCNx32, &c.frame) == 1,
			    "a CRC line reads \"%s\"\n", line);
	return c;
}

/*
 * NUM_CRCS CRCs of the frame on screen, taken from a fresh start of the CRC
 * source (so none predates the frame): all equal, frames increasing.
 */
uint32_t crc_of_frame(const char *dir, const char *what)
{
	int fd = crc_start(dir);
	struct crc first = crc_read(fd), c = first;

	for (int i = 1; i < NUM_CRCS; i++) {
		struct crc prev = c;

		c = crc_read(fd);
		vt_assert_f(c.value == first.value, "%s: CRC %d is 0x%08x, the first 0x%08x\n",
			    what, i, c.value, first.value);
		if (c.has_frame && prev.has_frame)
			vt_assert_f((int32_t)(c.frame - prev.frame) > 0,
				    "%s: CRC frame %u follows frame %u\n", what, c.frame,
				    prev.frame);
	}
	close(fd);
	return first.value;
}

/* The driver's debugfs */

long display_count(const char *devname, int crtc_index, const char *key)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], line[128], name[64];
	long value = -1;
	FILE *f;

	crc_dir_of(devname, crtc_index, dir, sizeof(dir));
	*strstr(dir, "/crtc-") = '\0';
	snprintf(path, sizeof(path), "%s/vprime_display", dir);
	f = fopen(path, "r");
	vt_assert_f(f, "%s: %m\n", path);
	while (fgets(line, sizeof(line), f)) {
		int crtc;
		long n;

		if (sscanf(line, "crtc %d: %63[^:]: %ld", &crtc, name, &n) == 3 &&
		    crtc == crtc_index && !strcmp(name, key))
			value = n;
	}
	fclose(f);
	vt_assert_f(value >= 0, "%s has no %s for CRTC index %d\n", path, key, crtc_index);
	return value;
}

void delay_set(const char *name, unsigned int value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vprime/delay/%s", name);
	f = fopen(path, "w");
	vt_require_f(f, "%s: %m\n", path);
	vt_assert_f(fprintf(f, "%u\n", value) > 0 && fclose(f) == 0, "writing %s: %m\n", path);
}

/* Vblanks and page-flip events */

int flip_events_total;

static void flip_handler(int fd, unsigned int seq, unsigned int sec, unsigned int usec,
			 void *data)
{
	struct flip *f = data;

	vt_assert_f(f, "a page-flip event without its flip's user data\n");
	f->events++;
	f->seq = seq;
	f->ts = sec + usec / 1e6;
	flip_events_total++;
}

/* Read the events of @fd until @total have arrived; fails after a timeout. */
void wait_events(int fd, int total)
{
	drmEventContext ev = { .version = 2, .page_flip_handler = flip_handler };

	while (flip_events_total < total) {
		vt_assert_f(event_pending(fd, EVENT_TIMEOUT_MS),
			    "page-flip event %d did not arrive within %d ms\n", total,
			    EVENT_TIMEOUT_MS);
		vt_assert_eq(drmHandleEvent(fd, &ev), 0);
	}
	vt_assert_eq(flip_events_total, total);
}

drmVBlankSeqType vblank_crtc(int crtc_index)
{
	if (crtc_index == 0)
		return 0;
	if (crtc_index == 1)
		return DRM_VBLANK_SECONDARY;
	return (crtc_index << DRM_VBLANK_HIGH_CRTC_SHIFT) & DRM_VBLANK_HIGH_CRTC_MASK;
}

/* drmWaitVBlank for @count vblanks from now (0: the current count). */
drmVBlank wait_vblank(int fd, int crtc_index, unsigned int count)
{
	drmVBlank vbl = {
		.request = {
			.type = DRM_VBLANK_RELATIVE | vblank_crtc(crtc_index),
			.sequence = count,
		},
	};

	vt_assert_f(drmWaitVBlank(fd, &vbl) == 0, "drmWaitVBlank: %m\n");
	return vbl;
}

double vblank_ts(const drmVBlank *vbl)
{
	return vbl->reply.tval_sec + vbl->reply.tval_usec / 1e6;
}

/* Each flip's event: exactly one, sequence and time past the previous one's. */
void check_flip(const struct flip *f, int i, unsigned int prev_seq, double prev_ts)
{
	vt_assert_f(f->events == 1, "flip %d got %d events\n", i, f->events);
	vt_assert_f((int)(f->seq - prev_seq) > 0, "flip %d's event has sequence %u, "
		    "the one before %u\n", i, f->seq, prev_seq);
	vt_assert_f(f->ts > prev_ts, "flip %d's event has time %.6f, the one before "
		    "%.6f\n", i, f->ts, prev_ts);
}
