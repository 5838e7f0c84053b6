// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display over time: the CRTC's CRCs, page flips and their events,
 * vblank waits (also with vblank turned on and off under preemption), the
 * refused async flip, and two CRTCs driven in the same commits, each frame
 * checked through writeback and by CRC.
 *
 * The display tests' conventions (vprime.0's card node as DRM master, the
 * CRTC the library lights, every subtest turning its CRTCs off) are in
 * lib/vprime_output.h.
 */

#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vprime_test.h"
#include "vtest.h"
#include "vgem_uapi.h"

/* How many page flips flip-events and two-crtcs make. */
#define NUM_FLIPS		30

/* crc */

/*
 * Tell the display @fb changed: DIRTYFB, or where the driver has no dirty
 * hook (ENOSYS), a commit of the same fb.
 */
static void fb_flush(int fd, const struct kms_output *out, const struct fb *fb)
{
	drmModeClip clip = { 0, 0, W, H };
	struct kms_plane_setup s = primary_setup(fb);
	int ret = drmModeDirtyFB(fd, fb->fb_id, &clip, 1);

	if (ret == -ENOSYS)
		kms_output_planes(fd, out, &s, 1);
	else
		vt_assert_f(ret == 0, "DIRTYFB: %s\n", strerror(-ret));
}

static void test_crc(void)
{
	uint32_t before, changed, again, *pixel;
	struct kms_output out;
	char dir[PATH_MAX];
	int fd = open_card();
	struct fb fb;

	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0xc4c, false);
	output_on(fd, &fb, &out);
	crc_dir(out.crtc_index, dir, sizeof(dir));
	before = crc_of_frame(dir, "the first frame");

	/* One pixel changes: so does the CRC. */
	pixel = (uint32_t *)((uint8_t *)fb.map + (size_t)(H / 2) * fb.pitch) + W / 2;
	*pixel ^= 0x00ffffff;
	fb_flush(fd, &out, &fb);
	changed = crc_of_frame(dir, "the frame with one pixel changed");
	vt_assert_f(changed != before, "one pixel changed and the CRC stayed 0x%08x\n", before);

	/* Changed back: the first frame's CRC again. */
	*pixel ^= 0x00ffffff;
	fb_flush(fd, &out, &fb);
	again = crc_of_frame(dir, "the first frame again");
	vt_assert_f(again == before, "the first frame shown again has CRC 0x%08x, "
		    "0x%08x before\n", again, before);
	vtest_info("CRCs: 0x%08x, one pixel changed 0x%08x\n", before, changed);

	kms_output_off(fd, &out);
	fb_release(fd, &fb);
	close(fd);
}

/* Two W x H XRGB8888 framebuffers to flip between, filled from @seed and @seed + 1. */
static void primary_fbs(int fd, struct fb fbs[2], uint32_t seed)
{
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i]);
		fb_fill(&fbs[i], seed + i, false);
	}
}

/* flip-events, enable-event */

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * enable-event: the event of the commit that turns the CRTC on comes at its
 * first vblank, stamped with that vblank's time, after the commit was made
 * (Weston found it stamped with the time the CRTC last went off, or 0).
 */
static void test_enable_event(void)
{
	struct kms_output out;
	struct flip f = {};
	double before, after;
	struct fb fb;
	int fd = open_card();
	struct kms_plane_setup s;

	flip_events_total = 0;
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0xe7e7, false);
	s = primary_setup(&fb);
	for (int round = 0; round < 2; round++) {
		before = monotonic_now();
		kms_output_on_event(fd, &s, 1, W, H, &f, &out);
		wait_events(fd, round + 1);
		after = monotonic_now();
		vtest_info("turned on at %.6f, event at %.6f (sequence %u), read at %.6f\n",
			   before, f.ts, f.seq, after);
		vt_assert_f(f.ts >= before && f.ts <= after, "the enabling commit's event is "
			    "stamped %.6f, outside [%.6f, %.6f]\n", f.ts, before, after);
		kms_output_off(fd, &out);
		usleep(100 * 1000);	/* then on again, from a CRTC that was on */
	}
	fb_release(fd, &fb);
	close(fd);
}

static void test_flip_events(void)
{
	struct flip flips[NUM_FLIPS] = {};
	unsigned int prev_seq, single = 0;
	struct kms_output out;
	double prev_ts, span;
	struct fb fbs[2];
	drmVBlank vbl;
	int fd = open_card();

	flip_events_total = 0;
	primary_fbs(fd, fbs, 0xf11b);
	output_on(fd, &fbs[0], &out);

	/* drmWaitVBlank works, and counts up. */
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	vbl = wait_vblank(fd, out.crtc_index, 1);
	vt_assert_f((int)(vbl.reply.sequence - prev_seq) >= 1, "waiting one vblank from %u "
		    "returned %u\n", prev_seq, vbl.reply.sequence);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);

	for (int i = 0; i < NUM_FLIPS; i++) {
		int ret = drmModePageFlip(fd, out.crtc, fbs[(i + 1) % 2].fb_id,
					  DRM_MODE_PAGE_FLIP_EVENT, &flips[i]);

		vt_assert_f(ret == 0, "page flip %d: %s\n", i, strerror(-ret));
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		single += flips[i].seq - prev_seq == 1;
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");

	/* The vblank counter goes on past the last flip. */
	vbl = wait_vblank(fd, out.crtc_index, 1);
	vt_assert_f((int)(vbl.reply.sequence - prev_seq) > 0, "drmWaitVBlank returned "
		    "sequence %u after flip event %u\n", vbl.reply.sequence, prev_seq);
	vt_assert_f(vblank_ts(&vbl) > prev_ts, "drmWaitVBlank returned time %.6f after "
		    "flip event time %.6f\n", vblank_ts(&vbl), prev_ts);

	span = flips[NUM_FLIPS - 1].ts - flips[0].ts;
	vtest_info("%d flips over %u vblanks in %.3f s: %.1f flips/s, %.1f vblanks/s "
		   "(mode %u Hz); %u flips took one vblank\n", NUM_FLIPS,
		   flips[NUM_FLIPS - 1].seq - flips[0].seq, span, (NUM_FLIPS - 1) / span,
		   (flips[NUM_FLIPS - 1].seq - flips[0].seq) / span, out.mode.vrefresh, single);

	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

/* async-flip-refused */

static void test_async_flip_refused(void)
{
	struct kms_plane_setup s;
	struct kms_output out;
	struct fb fbs[2];
	uint32_t plane;
	int fd = open_card(), ret;

	primary_fbs(fd, fbs, 0xa5);
	output_on(fd, &fbs[0], &out);

	ret = drmModePageFlip(fd, out.crtc, fbs[1].fb_id,
			      DRM_MODE_PAGE_FLIP_ASYNC | DRM_MODE_PAGE_FLIP_EVENT, NULL);
	vt_assert_f(ret == -EINVAL, "an async legacy page flip returned %d (%s)\n", ret,
		    strerror(-ret));

	/* The atomic API refuses it too. */
	s = primary_setup(&fbs[1]);
	ret = kms_output_try_planes(fd, &out, &s, 1, DRM_MODE_PAGE_FLIP_ASYNC |
				    DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT);
	vt_assert_f(ret == -EINVAL, "an async atomic flip returned %d (%s)\n", ret,
		    strerror(-ret));

	/* Neither did anything: no event, the first fb is still on screen. */
	vt_assert_f(!event_pending(fd, 100), "a refused flip sent an event\n");
	plane = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	vt_assert_eq(kms_get_prop(fd, plane, DRM_MODE_OBJECT_PLANE, "FB_ID"), fbs[0].fb_id);

	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

/* two-crtcs, two-crtcs-stress */

#define TWO		2
#define STRESS_FLIPS	500
#define STRESS_HZ	240	/* the fastest refresh vprime takes */

/* The events of one commit that drives TWO CRTCs, by CRTC. */
struct crtc_events {
	uint32_t crtc[TWO];
	int events[TWO];
	unsigned int seq[TWO];
	double ts[TWO];
};

static void crtc_event_handler(int fd, unsigned int seq, unsigned int sec, unsigned int usec,
			       unsigned int crtc_id, void *data)
{
	struct crtc_events *e = data;
	int i = 0;

	vt_assert_f(e, "a page-flip event without its commit's user data\n");
	while (i < TWO && e->crtc[i] != crtc_id)
		i++;
	vt_assert_f(i < TWO, "an event for CRTC %u, which the commit does not drive\n", crtc_id);
	e->events[i]++;
	e->seq[i] = seq;
	e->ts[i] = sec + usec / 1e6;
}

/*
 * Read events until each CRTC of @e has had one; fails after a timeout, or
 * when a CRTC gets two or an event is left over.
 */
static void wait_crtc_events(int fd, struct crtc_events *e, const char *what)
{
	drmEventContext ev = { .version = 3, .page_flip_handler2 = crtc_event_handler };

	for (int i = 0; i < TWO; i++) {
		while (!e->events[i]) {
			vt_assert_f(event_pending(fd, EVENT_TIMEOUT_MS), "%s: no event for CRTC "
				    "%u within %d ms\n", what, e->crtc[i], EVENT_TIMEOUT_MS);
			vt_assert_eq(drmHandleEvent(fd, &ev), 0);
		}
	}
	vt_assert_f(!event_pending(fd, 0), "%s: an event more than one per CRTC\n", what);
	for (int i = 0; i < TWO; i++)
		vt_assert_f(e->events[i] == 1, "%s: CRTC %u got %d events\n", what, e->crtc[i],
			    e->events[i]);
}

/* The linux kernel's crc32_le() (no inversions), which vprime's CRCs use. */
static uint32_t crc32_le(uint32_t crc, const uint8_t *p, size_t len)
{
	static uint32_t table[256];

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0xedb88320u & -(c & 1));
			table[i] = c;
		}
	}
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
	return crc;
}

/*
 * The CRC vprime gives a full-screen XRGB8888 @fb: crc32 of the rows as
 * ARGB8888, which over black is the fb made opaque.
 */
static uint32_t expected_crc(const struct fb *fb)
{
	uint32_t *row = malloc(fb->w * 4), crc = 0;

	vt_assert(row);
	for (uint32_t y = 0; y < fb->h; y++) {
		const uint32_t *src = (const uint32_t *)((const uint8_t *)fb->map +
							 (size_t)y * fb->pitch);

		for (uint32_t x = 0; x < fb->w; x++)
			row[x] = htole32(src[x] | 0xff000000u);
		crc = crc32_le(crc, (const uint8_t *)row, fb->w * 4);
	}
	free(row);
	return crc;
}

/* Commit @req with @flags and a page-flip event for each of its CRTCs; wait for them. */
static void commit_both(int fd, drmModeAtomicReq *req, uint32_t flags,
			const struct kms_output *outs, struct crtc_events *e, const char *what)
{
	int ret;

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < TWO; i++)
		e->crtc[i] = outs[i].crtc;
	ret = drmModeAtomicCommit(fd, req, flags | DRM_MODE_PAGE_FLIP_EVENT, e);
	vt_assert_f(ret == 0, "%s: atomic commit: %s\n", what, strerror(-ret));
	wait_crtc_events(fd, e, what);
}

/*
 * Each CRTC's frame, written back in the same commit, is its own fb, and its
 * CRCs are that fb's.
 */
static void check_frames(int fd, const struct kms_output *outs, struct kms_capture *caps,
			 const int32_t *fences, struct fb *const *shown)
{
	struct pollfd pfd = { .events = POLLIN };
	char dir[PATH_MAX], what[64];

	for (int i = 0; i < TWO; i++) {
		struct ref_plane p = plane_at(KMS_PLANE_PRIMARY, shown[i], 0, 0);
		uint32_t crc, want = expected_crc(shown[i]);

		snprintf(what, sizeof(what), "CRTC index %d", outs[i].crtc_index);
		vt_assert_f(fences[i] >= 0, "%s: the writeback job returned no out-fence\n", what);
		pfd.fd = fences[i];
		vt_assert_f(poll(&pfd, 1, WRITEBACK_TIMEOUT_MS) == 1, "%s: the writeback fence "
			    "did not signal within %d ms\n", what, WRITEBACK_TIMEOUT_MS);
		close(fences[i]);
		compare_capture_color(&caps[i], &p, 1, NULL, 0, what);
		crc_dir(outs[i].crtc_index, dir, sizeof(dir));
		crc = crc_of_frame(dir, what);
		vt_assert_f(crc == want, "%s: CRC 0x%08x, its frame's is 0x%08x\n", what, crc,
			    want);
	}
}

/*
 * Both CRTCs in every commit: one modeset lights both (with writeback
 * jobs on both), @flips commits flip both with an event each, a last flip
 * writes both back again, one commit turns both off. The frames written
 * back and the CRCs are each CRTC's own; every commit sends one event per
 * CRTC, with sequences that increase per CRTC. @mode_hz 0: the connector's
 * mode; else the 1024x768 timings at that refresh rate. @one_cpu keeps the
 * test, and so the blocking commits and the vblank timers they start, on
 * the CPU it runs on.
 */
static void two_crtcs(int flips, int mode_hz, bool one_cpu)
{
	struct kms_output outs[TWO];
	struct kms_capture caps[TWO];
	struct fb fbs[TWO][2], *shown[TWO];
	unsigned int prev_seq[TWO];
	uint32_t cap_fb[TWO], blobs[TWO];
	int32_t fences[TWO] = { -1, -1 };
	struct crtc_events e;
	drmModeAtomicReq *req;
	int fd = open_card(), n;

	if (one_cpu) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sched_getcpu(), &set);
		vt_assert_f(sched_setaffinity(0, sizeof(set), &set) == 0, "affinity: %m\n");
	}
	n = kms_find_outputs(fd, W, H, outs, TWO);
	if (vprime_param_u64("num_crtcs", 0) >= TWO)
		vt_assert_f(n == TWO, "vprime.0 has %d outputs to light, not %d\n", n, TWO);
	vt_require_f(n == TWO, "vprime.0 has one output (num_crtcs=1)\n");
	for (int i = 0; i < TWO; i++) {
		vt_assert_f(outs[i].writeback, "CRTC %u has no writeback connector\n",
			    outs[i].crtc);
		if (mode_hz) {
			outs[i].mode = dmt_1024x768();
			outs[i].mode.clock = 65000 * mode_hz / 60;
			outs[i].mode.vrefresh = mode_hz;
		}
		for (int k = 0; k < 2; k++) {
			fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i][k]);
			fb_fill(&fbs[i][k], 0x2c0 + i * 2 + k, false);
		}
		cap_fb[i] = capture_buffer(fd, &caps[i]);
	}

	/* Both lit in one commit, each written back. */
	req = drmModeAtomicAlloc();
	vt_assert(req);
	for (int i = 0; i < TWO; i++) {
		struct kms_plane_setup s = primary_setup(&fbs[i][0]);

		kms_req_modeset(req, fd, &outs[i], true, &blobs[i]);
		kms_req_planes(req, fd, &outs[i], &s, 1);
		kms_req_writeback_job(req, fd, &outs[i], cap_fb[i], &fences[i]);
		shown[i] = &fbs[i][0];
	}
	commit_both(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, outs, &e, "the modeset of both");
	drmModeAtomicFree(req);
	for (int i = 0; i < TWO; i++) {
		drmModeDestroyPropertyBlob(fd, blobs[i]);
		prev_seq[i] = e.seq[i];
	}
	check_frames(fd, outs, caps, fences, shown);

	/* Flips of both in one commit, the last one written back. */
	for (int f = 1; f <= flips; f++) {
		bool last = f == flips;
		char what[64];

		snprintf(what, sizeof(what), "flip %d of both", f);
		req = drmModeAtomicAlloc();
		vt_assert(req);
		for (int i = 0; i < TWO; i++) {
			struct kms_plane_setup s = primary_setup(&fbs[i][f % 2]);

			kms_req_planes(req, fd, &outs[i], &s, 1);
			if (last)
				kms_req_writeback_job(req, fd, &outs[i], cap_fb[i], &fences[i]);
			shown[i] = &fbs[i][f % 2];
		}
		commit_both(fd, req, 0, outs, &e, what);
		drmModeAtomicFree(req);
		for (int i = 0; i < TWO; i++) {
			vt_assert_f((int)(e.seq[i] - prev_seq[i]) > 0, "%s: CRTC %u's event has "
				    "sequence %u, the one before %u\n", what, outs[i].crtc,
				    e.seq[i], prev_seq[i]);
			prev_seq[i] = e.seq[i];
		}
	}
	check_frames(fd, outs, caps, fences, shown);

	/* Both off in one commit: each CRTC's event still comes, and both are off. */
	req = drmModeAtomicAlloc();
	vt_assert(req);
	for (int i = 0; i < TWO; i++)
		kms_req_output_off(req, fd, &outs[i]);
	commit_both(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, outs, &e, "turning both off");
	drmModeAtomicFree(req);
	for (int i = 0; i < TWO; i++) {
		vt_assert_eq(kms_get_prop(fd, outs[i].crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 0);
		vt_assert_ok(drmModeRmFB(fd, cap_fb[i]));
		kms_capture_release(fd, &caps[i]);
		fb_release(fd, &fbs[i][1]);
		fb_release(fd, &fbs[i][0]);
	}
	vtest_info("%d commits drove both CRTCs\n", flips + 2);
	close(fd);
}

static void test_two_crtcs(void)
{
	two_crtcs(NUM_FLIPS, 0, false);
}

static void test_two_crtcs_stress(void)
{
	two_crtcs(STRESS_FLIPS, STRESS_HZ, true);
}

/*
 * vblank-on-off: every vblank wait turns the CRTC's vblank on and, with the
 * core's vblankoffdelay at -1, off again, while a SCHED_FIFO process on the
 * same CPU, woken as the wait starts, preempts it after a delay that sweeps
 * the time turning vblank on takes, and holds the CPU for longer than a
 * frame. On PREEMPT_RT the core enables vblank under sleeping locks: the
 * waiter is preempted there, after the timer started and before the core
 * sampled the vblank time. The timestamps must still increase, or the count
 * jumps by billions and the wait (and any armed event) never ends: the core
 * gives up on a vblank wait after 3 s with -EBUSY.
 */
#define ON_OFF_WAITS	1000
#define ON_OFF_SECONDS	90
#define ON_OFF_HOLD	0.012	/* s: longer than a frame at 240 Hz, or at 85 */
#define ON_OFF_OFFDELAY	"/sys/module/drm/parameters/vblankoffdelay"

/* For each delay read from @rfd: sleep that long, then spin ON_OFF_HOLD s. */
static void fifo_preemptor(int rfd)
{
	struct sched_param sp = { .sched_priority = 10 };
	long ns;

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(1);
	while (read(rfd, &ns, sizeof(ns)) == sizeof(ns)) {
		struct timespec nap = { ns / 1000000000, ns % 1000000000 };
		double until;

		nanosleep(&nap, NULL);
		until = monotonic_now() + ON_OFF_HOLD;
		while (monotonic_now() < until)
			;
	}
	_exit(0);
}

static void test_vblank_on_off(void)
{
	char saved[32] = "";
	struct kms_output out;
	struct kms_plane_setup s;
	drmModeAtomicReq *req;
	unsigned int prev, waits = 0, seed = 1;
	double start, span = 0;
	struct fb fb;
	cpu_set_t set;
	uint32_t blob;
	FILE *f;
	pid_t pid;
	int fd = open_card(), status, pipefd[2];

	f = fopen(ON_OFF_OFFDELAY, "r");
	vt_require_f(f, "no %s: %m\n", ON_OFF_OFFDELAY);
	vt_assert(fgets(saved, sizeof(saved), f));
	fclose(f);
	f = fopen(ON_OFF_OFFDELAY, "w");
	vt_require_f(f, "%s is not writable: %m\n", ON_OFF_OFFDELAY);
	vt_assert(fputs("-1", f) >= 0 && fclose(f) == 0);

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	vt_assert_f(sched_setaffinity(0, sizeof(set), &set) == 0, "affinity: %m\n");
	vt_assert_eq(kms_find_outputs(fd, W, H, &out, 1), 1);
	out.mode = dmt_1024x768();
	out.mode.clock = 65000 * STRESS_HZ / 60;
	out.mode.vrefresh = STRESS_HZ;
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fb);
	fb_fill(&fb, 0x0ff0, false);
	s = primary_setup(&fb);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	kms_req_modeset(req, fd, &out, false, &blob);
	kms_req_planes(req, fd, &out, &s, 1);
	vt_assert_ok(drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL));
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);

	/* How long turning vblank on and off takes: the span the delays sweep. */
	for (int i = 0; i < 10; i++) {
		double t0 = monotonic_now();

		prev = wait_vblank(fd, out.crtc_index, 0).reply.sequence;
		span += (monotonic_now() - t0) / 10;
	}
	vt_assert(pipe(pipefd) == 0);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[1]);
		fifo_preemptor(pipefd[0]);
	}
	close(pipefd[0]);
	start = monotonic_now();
	while (waits < ON_OFF_WAITS && monotonic_now() - start < ON_OFF_SECONDS) {
		drmVBlank vbl = {
			.request = {
				.type = DRM_VBLANK_RELATIVE | vblank_crtc(out.crtc_index),
				.sequence = 1,
			},
		};
		long ns = (long)(span * 1e9 * (rand_r(&seed) % 1000) / 1000);
		int ret;

		vt_assert(write(pipefd[1], &ns, sizeof(ns)) == sizeof(ns));
		ret = drmWaitVBlank(fd, &vbl);
		vt_assert_f(ret == 0, "vblank wait %u (after sequence %u): %m\n", waits, prev);
		vt_assert_f(vbl.reply.sequence - prev >= 1 && vbl.reply.sequence - prev < 1u << 23,
			    "vblank wait %u: sequence %u after %u\n", waits, vbl.reply.sequence,
			    prev);
		prev = vbl.reply.sequence;
		waits++;
	}
	close(pipefd[1]);
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "the SCHED_FIFO process failed (status 0x%x)\n", status);
	vtest_info("%u vblank waits, each turning vblank on and off; preempted up to "
		   "%.0f us into each\n", waits, span * 1e6);

	f = fopen(ON_OFF_OFFDELAY, "w");
	vt_assert(f && fputs(saved, f) >= 0 && fclose(f) == 0);
	kms_output_off(fd, &out);
	fb_release(fd, &fb);
	close(fd);
}

/* flip-in-ioctl, flip-waits-for-fence, flip-in-ioctl-interleaved */

/* The CRC of frame @frame or the first one after it; earlier ones are skipped. */
static uint32_t crc_from_frame(int crc_fd, unsigned int frame, const char *what)
{
	for (;;) {
		struct crc c = crc_read(crc_fd);

		vt_assert_f(c.has_frame, "%s: a CRC without its frame number\n", what);
		if ((int32_t)(c.frame - frame) >= 0)
			return c.value;
	}
}

/* A nonblocking atomic flip of @o's primary plane to @fb, with an event for @f. */
static void flip_nonblocking(int fd, const struct kms_output *o, const struct fb *fb,
			     struct flip *f, const char *what)
{
	struct kms_plane_setup s = primary_setup(fb);
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret;

	vt_assert(req);
	kms_req_planes(req, fd, o, &s, 1);
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT,
				  f);
	drmModeAtomicFree(req);
	vt_assert_f(ret == 0, "%s: %s\n", what, strerror(-ret));
}

#define IOCTL_FLIPS		6
#define COMMIT_WORK_DELAY_MS	300

/*
 * A nonblocking flip that needs nothing to happen first is applied in its
 * ioctl, its event armed there: with the commit worker held up
 * (delay/commit_work_ms), each flip still has exactly one event, with
 * increasing sequence and time; debugfs counts every flip as applied in its
 * ioctl; and the frame composed at the flip's vblank (its CRC) is the new
 * fb, pixel for pixel as the test computes it. No time is measured.
 */
static void test_flip_in_ioctl(void)
{
	struct flip flips[IOCTL_FLIPS] = {};
	unsigned int prev_seq;
	struct kms_output out;
	char dir[PATH_MAX], what[64];
	uint32_t want[2];
	struct fb fbs[2];
	double prev_ts;
	drmVBlank vbl;
	long before;
	int fd = open_card(), crc_fd;

	flip_events_total = 0;
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i]);
		fb_fill(&fbs[i], 0x10c + i, false);
		want[i] = expected_crc(&fbs[i]);
	}
	vt_assert(want[0] != want[1]);
	output_on(fd, &fbs[0], &out);
	crc_dir(out.crtc_index, dir, sizeof(dir));
	crc_fd = crc_start(dir);
	vt_assert_f(crc_from_frame(crc_fd, 0, "the first frame") == want[0],
		    "the first frame's CRC is not its fb's\n");
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");

	delay_set("commit_work_ms", COMMIT_WORK_DELAY_MS);
	for (int i = 0; i < IOCTL_FLIPS; i++) {
		const struct fb *fb = &fbs[(i + 1) % 2];

		snprintf(what, sizeof(what), "flip %d", i);
		flip_nonblocking(fd, &out, fb, &flips[i], what);
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") - before ==
			    i + 1, "%s was not applied in its ioctl (%ld of %d were)\n", what,
			    display_count("vprime.0", out.crtc_index, "ioctl_flips") - before,
			    i + 1);
		vt_assert_f(crc_from_frame(crc_fd, flips[i].seq, what) == want[(i + 1) % 2],
			    "%s: the frame of its vblank %u is not its fb's\n", what,
			    flips[i].seq);
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	delay_set("commit_work_ms", 0);
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");

	close(crc_fd);
	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

#define FENCED_FLIPS	3

/*
 * A flip of a buffer a job is still writing waits for the job: on vprime.1,
 * whose jobs run 200 ms late, a FILL job into the next fb is submitted
 * right before a nonblocking flip to it. The flip's event comes after the
 * job's fence has signalled, and the frame composed at the flip's vblank
 * (its CRC) is the filled fb, never the one before the fill. Such a flip
 * is not one its ioctl can apply (flip-in-ioctl).
 */
static void test_flip_waits_for_fence(void)
{
	struct pollfd pfd = { .events = POLLIN };
	struct flip flips[FENCED_FLIPS] = {};
	unsigned int prev_seq;
	struct kms_output out;
	char dir[PATH_MAX], what[64];
	struct fb fbs[2];
	struct vprime_job job;
	double prev_ts;
	drmVBlank vbl;
	int fd = vprime_open(1, VPRIME_NODE_CARD), crc_fd;

	flip_events_total = 0;
	primary_fbs(fd, fbs, 0x20f);
	output_on(fd, &fbs[0], &out);
	crc_dir_of("vprime.1", out.crtc_index, dir, sizeof(dir));
	crc_fd = crc_start(dir);
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);

	for (int i = 0; i < FENCED_FLIPS; i++) {
		struct fb *fb = &fbs[(i + 1) % 2];
		uint32_t color = 0xff000000u | (0x305090u + 0x402010u * (uint32_t)i);
		uint32_t bo, want;
		int fence;

		snprintf(what, sizeof(what), "fenced flip %d", i);
		/* What the fill will make of the fb, computed before it runs. */
		for (uint32_t y = 0; y < fb->h; y++)
			for (uint32_t x = 0; x < fb->w; x++)
				((uint32_t *)((uint8_t *)fb->map + (size_t)y * fb->pitch))[x] =
					color;
		want = expected_crc(fb);
		fb_fill(fb, 0x21f + i, false);	/* not the fill's colour until it runs */
		vt_assert(expected_crc(fb) != want);

		vprime_job_init(&job);
		bo = vprime_job_add_bo(&job, fb->handle, VPRIME_SUBMIT_BO_WRITE, fb->w, fb->h,
				       fb->pitch, DRM_FORMAT_XRGB8888);
		vprime_job_fill(&job, bo, 0, 0, fb->w, fb->h, color);
		vprime_job_out_fence(&job);
		fence = vprime_job_submit(fd, &job);
		vt_assert_f(fence >= 0, "%s: the job has no out-fence\n", what);
		flip_nonblocking(fd, &out, fb, &flips[i], what);
		wait_events(fd, i + 1);
		pfd.fd = fence;
		vt_assert_f(poll(&pfd, 1, 0) == 1, "%s: the flip's event came before the fill "
			    "job's fence signalled\n", what);
		close(fence);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		vt_assert_f(crc_from_frame(crc_fd, flips[i].seq, what) == want,
			    "%s: the frame of its vblank %u is not the filled fb\n", what,
			    flips[i].seq);
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}

	close(crc_fd);
	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

#define INTERLEAVED_FLIPS	60
#define CURSOR_SZ		64
#define OVERLAY_SZ		128

/*
 * An atomic commit of plane @plane alone: @fb_id (0: off) at (@x, @y) on
 * @crtc, unscaled @w x @h, waiting for the sync_file @in_fence (-1: none),
 * with atomic @flags and event data @data: 0 or -errno. Unlike
 * kms_req_planes() it leaves the CRTC's other planes out of the commit, as
 * a compositor's flip or overlay update does.
 */
static int plane_commit_fenced(int fd, uint32_t plane, uint32_t crtc, uint32_t fb_id, int x,
			       int y, uint32_t w, uint32_t h, int in_fence, uint32_t flags,
			       void *data)
{
	const uint32_t t = DRM_MODE_OBJECT_PLANE;
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret = 0;

	vt_assert(req);
	if (in_fence >= 0)
		ret |= drmModeAtomicAddProperty(req, plane,
						kms_prop_id(fd, plane, t, "IN_FENCE_FD"),
						(uint64_t)in_fence);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "FB_ID"), fb_id);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "CRTC_ID"),
					fb_id ? crtc : 0);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "SRC_X"), 0);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "SRC_Y"), 0);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "SRC_W"),
					fb_id ? (uint64_t)w << 16 : 0);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "SRC_H"),
					fb_id ? (uint64_t)h << 16 : 0);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "CRTC_X"),
					(uint64_t)(int64_t)x);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "CRTC_Y"),
					(uint64_t)(int64_t)y);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "CRTC_W"),
					fb_id ? w : 0);
	ret |= drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane, t, "CRTC_H"),
					fb_id ? h : 0);
	vt_assert(ret >= 0);
	ret = drmModeAtomicCommit(fd, req, flags, data) ? -errno : 0;
	drmModeAtomicFree(req);
	return ret;
}

/* plane_commit_fenced() without an in-fence. */
static int plane_commit(int fd, uint32_t plane, uint32_t crtc, uint32_t fb_id, int x, int y,
			uint32_t w, uint32_t h, uint32_t flags, void *data)
{
	return plane_commit_fenced(fd, plane, crtc, fb_id, x, y, w, h, -1, flags, data);
}

/*
 * The other process of flip-in-ioctl-interleaved, on the same DRM file (so
 * the same master): until @rfd is closed, in turn, a legacy cursor move
 * (an async update), a legacy cursor change to the other image (a
 * blocking commit that syncs nothing), a blocking commit of the overlay
 * alone (on and moved, or off), a nonblocking one without an event
 * (-EBUSY allowed: a flip may be on the way), and a blocking commit of the
 * primary plane alone. Exits 0, or 1 with the failed step on stderr.
 */
static void interleaver(int fd, int rfd, const struct kms_output *o, uint32_t primary,
			uint32_t cursor, uint32_t overlay, const uint32_t *cur_fb,
			uint32_t ovl_fb, uint32_t prim_fb)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	unsigned int i;

	for (i = 0; poll(&pfd, 1, 0) == 0; i++) {
		int x = (int)(i * 7 % (W - CURSOR_SZ)), y = (int)(i * 5 % (H - CURSOR_SZ));
		int ret, step = i % 5;

		switch (step) {
		case 0:
		case 1:
			ret = drmModeSetPlane(fd, cursor, o->crtc,
					      cur_fb[step == 1 ? (i / 5) % 2 : 0], 0, x, y,
					      CURSOR_SZ, CURSOR_SZ, 0, 0, CURSOR_SZ << 16,
					      CURSOR_SZ << 16) ? -errno : 0;
			break;
		case 2:
			ret = plane_commit(fd, overlay, o->crtc, (i / 5) % 3 ? ovl_fb : 0, x / 2,
					   y / 2, OVERLAY_SZ, OVERLAY_SZ, 0, NULL);
			break;
		case 3:
			ret = plane_commit(fd, overlay, o->crtc, ovl_fb, y / 2, x / 4, OVERLAY_SZ,
					   OVERLAY_SZ, DRM_MODE_ATOMIC_NONBLOCK, NULL);
			if (ret == -EBUSY)
				ret = 0;
			break;
		default:
			ret = plane_commit(fd, primary, o->crtc, prim_fb, 0, 0, W, H, 0, NULL);
			break;
		}
		if (ret) {
			fprintf(stderr, "interleaver: step %u (%d): %s\n", i, step, strerror(-ret));
			_exit(1);
		}
	}
	_exit(0);
}

/* /dev/kmsg, positioned after the records logged so far (-1 without it). */
static int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Fail if a record logged since kmsg_open_end() contains @needle; closes @fd. */
static void kmsg_assert_none(int fd, const char *needle)
{
	char rec[8192];
	ssize_t n;

	if (fd < 0)
		return;
	/* One record a read; EPIPE: records were overwritten, go on. */
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		vt_assert_f(!strstr(rec, needle), "the kernel logged: %s", rec);
	}
	close(fd);
}

/*
 * Nonblocking flips, applied in their ioctl when nothing is on the way,
 * while another process on the same DRM file moves and changes the cursor
 * (async updates and legacy cursor commits), turns an overlay on, off and
 * around in blocking and nonblocking plane-only commits, and commits the
 * primary plane blocking. Every flip gets its one event within the
 * generous EVENT_TIMEOUT_MS, in order, no commit of either process fails
 * but with -EBUSY where a nonblocking commit may, and the kernel logs no
 * commit timeout (/dev/kmsg: the core's waits for hw_done, flip_done and
 * cleanup_done give up after 10 s and say "timed out"). Half the flips
 * run with the commit worker held up (delay/commit_work_ms), so that
 * flips land while the earlier ones' workers have not run.
 */
static void test_flip_in_ioctl_interleaved(void)
{
	struct flip flips[INTERLEAVED_FLIPS] = {};
	struct fb fbs[2], cur[2], ovl;
	uint32_t primary, cursor, overlay, cur_fb[2];
	unsigned int prev_seq, busy = 0;
	struct kms_output out;
	long before;
	double prev_ts;
	drmVBlank vbl;
	pid_t pid;
	int fd = open_card(), status, pipefd[2], kmsg = kmsg_open_end();

	flip_events_total = 0;
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &fbs[i]);
		fb_fill(&fbs[i], 0x1e0 + i, false);
		fb_create(fd, DRM_FORMAT_ARGB8888, CURSOR_SZ, CURSOR_SZ, &cur[i]);
		fb_fill(&cur[i], 0x1e4 + i, true);
		cur_fb[i] = cur[i].fb_id;
	}
	fb_create(fd, DRM_FORMAT_ARGB8888, OVERLAY_SZ, OVERLAY_SZ, &ovl);
	fb_fill(&ovl, 0x1e8, true);
	output_on(fd, &fbs[0], &out);
	primary = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	cursor = kms_plane_id(fd, out.crtc_index, KMS_PLANE_CURSOR);
	overlay = kms_plane_id(fd, out.crtc_index, KMS_PLANE_OVERLAY);
	vt_require_f(cursor && overlay, "the CRTC has no cursor or no overlay plane\n");
	vt_assert_ok(drmModeSetPlane(fd, cursor, out.crtc, cur_fb[0], 0, 0, 0, CURSOR_SZ,
				     CURSOR_SZ, 0, 0, CURSOR_SZ << 16, CURSOR_SZ << 16));
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");

	vt_assert(pipe(pipefd) == 0);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[1]);
		interleaver(fd, pipefd[0], &out, primary, cursor, overlay, cur_fb, ovl.fb_id,
			    fbs[0].fb_id);
	}
	close(pipefd[0]);
	for (int i = 0; i < INTERLEAVED_FLIPS; i++) {
		double give_up = monotonic_now() + EVENT_TIMEOUT_MS / 1000.0;
		char what[64];
		int ret;

		if (i == INTERLEAVED_FLIPS / 2)
			delay_set("commit_work_ms", 20);
		snprintf(what, sizeof(what), "interleaved flip %d", i);
		/* A flip may find the other process's commit on the way. */
		while ((ret = plane_commit(fd, primary, out.crtc, fbs[(i + 1) % 2].fb_id, 0, 0,
					   W, H, DRM_MODE_ATOMIC_NONBLOCK |
					   DRM_MODE_PAGE_FLIP_EVENT, &flips[i])) == -EBUSY &&
		       monotonic_now() < give_up) {
			busy++;
			usleep(1000);
		}
		vt_assert_f(ret == 0, "%s: %s\n", what, strerror(-ret));
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	delay_set("commit_work_ms", 0);
	close(pipefd[1]);
	vt_assert_eq(waitpid(pid, &status, 0), pid);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "the interleaving process failed (status 0x%x)\n", status);
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");
	/* The core's "[CRTC:...] flip_done timed out", "hw_done timed out", ... */
	kmsg_assert_none(kmsg, "timed out");
	vtest_info("%d flips (%u retried on -EBUSY); %ld nonblocking commits of both "
		   "processes applied in their ioctl\n", INTERLEAVED_FLIPS, busy,
		   display_count("vprime.0", out.crtc_index, "ioctl_flips") - before);

	kms_output_off(fd, &out);
	fb_release(fd, &ovl);
	for (int i = 1; i >= 0; i--) {
		fb_release(fd, &cur[i]);
		fb_release(fd, &fbs[i]);
	}
	close(fd);
}

/* flip-in-ioctl-close, flip-in-ioctl-then-off, flip-after-writeback, flip-in-fence */

/* A primary-plane flip of @o to @fb (nonblocking, with @f's event): 0 or -errno. */
static int try_flip(int fd, const struct kms_output *o, const struct fb *fb, int in_fence,
		    struct flip *f)
{
	uint32_t primary = kms_plane_id(fd, o->crtc_index, KMS_PLANE_PRIMARY);

	return plane_commit_fenced(fd, primary, o->crtc, fb->fb_id, 0, 0, fb->w, fb->h, in_fence,
				   DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT, f);
}

/* try_flip() until the core stops refusing it for a flip on the way (-EBUSY). */
static int flip_when_free(int fd, const struct kms_output *o, const struct fb *fb,
			  struct flip *f)
{
	double give_up = monotonic_now() + EVENT_TIMEOUT_MS / 1000.0;
	int ret;

	while ((ret = try_flip(fd, o, fb, -1, f)) == -EBUSY && monotonic_now() < give_up)
		usleep(1000);
	return ret;
}

#define CLOSE_ROUNDS	5

/*
 * A DRM file closed right after a flip applied in its ioctl: the flip's
 * event is armed for the next vblank and its worker held up
 * (commit_work_ms). The close drops the event, removes the file's
 * framebuffers, which are on screen (a commit behind the flip turns them
 * off), and gives the display back to fbdev. CLOSE_ROUNDS times; then a new
 * master lights the output and flips: one event per flip, in order, none of
 * the closed files' delivered to it, and no commit wait timed out. The
 * debug kernel's kmemleak checks that the dropped events were freed.
 */
static void test_flip_in_ioctl_close(void)
{
	int kmsg = kmsg_open_end(), fd;
	unsigned int prev_seq;
	struct kms_output out;
	struct flip flips[3];
	struct fb fbs[2];
	double prev_ts;
	drmVBlank vbl;
	long before;

	for (int round = 0; round < CLOSE_ROUNDS; round++) {
		struct flip f = {};

		fd = open_card();
		primary_fbs(fd, fbs, 0x230);
		output_on(fd, &fbs[0], &out);
		before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
		delay_set("commit_work_ms", COMMIT_WORK_DELAY_MS);
		flip_nonblocking(fd, &out, &fbs[1], &f, "the flip before the close");
		vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") - before == 1,
			    "round %d: the flip was not applied in its ioctl\n", round);
		close(fd);
		delay_set("commit_work_ms", 0);
		for (int i = 0; i < 2; i++)
			munmap(fbs[i].map, fbs[i].size);
	}

	fd = open_card();
	flip_events_total = 0;
	primary_fbs(fd, fbs, 0x234);
	output_on(fd, &fbs[0], &out);
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);
	memset(flips, 0, sizeof(flips));
	for (int i = 0; i < 3; i++) {
		flip_nonblocking(fd, &out, &fbs[(i + 1) % 2], &flips[i], "a new master's flip");
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");
	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
	kmsg_assert_none(kmsg, "timed out");
}

/*
 * A flip applied in its ioctl, its worker held up (commit_work_ms), then at
 * once the CRTC turned off: by a blocking commit, then by a nonblocking one
 * (which the core may refuse with EBUSY while the flip is on the way),
 * with an event. The flip and the off commit each get exactly one event;
 * the CRTC is off; a vblank wait on it and an atomic flip to it with an
 * event are refused (EINVAL) and send nothing.
 */
static void test_flip_in_ioctl_then_off(void)
{
	uint32_t primary;
	struct kms_output out;
	struct fb fbs[2];
	int fd = open_card();

	flip_events_total = 0;
	primary_fbs(fd, fbs, 0x238);
	for (int round = 0; round < 2; round++) {
		bool nonblock = round == 1;
		struct flip f = {}, off = {}, refused = {};
		drmVBlank vbl = {};
		long before;
		int ret;

		output_on(fd, &fbs[0], &out);
		primary = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
		before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
		delay_set("commit_work_ms", COMMIT_WORK_DELAY_MS);
		flip_nonblocking(fd, &out, &fbs[1], &f, "the flip before turning off");
		vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") - before == 1,
			    "the flip was not applied in its ioctl\n");
		if (nonblock) {
			double give_up = monotonic_now() + EVENT_TIMEOUT_MS / 1000.0;
			drmModeAtomicReq *req = drmModeAtomicAlloc();

			vt_assert(req);
			kms_req_output_off(req, fd, &out);
			while ((ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK |
							  DRM_MODE_ATOMIC_ALLOW_MODESET |
							  DRM_MODE_PAGE_FLIP_EVENT, &off)) ==
			       -EBUSY && monotonic_now() < give_up)
				usleep(1000);
			drmModeAtomicFree(req);
			vt_assert_f(ret == 0, "the nonblocking off commit: %s\n", strerror(-ret));
			while (!f.events || !off.events)
				wait_events(fd, flip_events_total + 1);
			vt_assert_eq(off.events, 1);
		} else {
			kms_output_off(fd, &out);
			if (!f.events)
				wait_events(fd, flip_events_total + 1);
		}
		delay_set("commit_work_ms", 0);
		vt_assert_f(f.events == 1, "%s off: the flip got %d events\n",
			    nonblock ? "nonblocking" : "blocking", f.events);
		vt_assert_eq(kms_get_prop(fd, out.crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 0);
		vbl.request.type = DRM_VBLANK_RELATIVE | vblank_crtc(out.crtc_index);
		vbl.request.sequence = 1;
		vt_assert_f(drmWaitVBlank(fd, &vbl) == -1 && errno == EINVAL,
			    "a vblank wait on the CRTC turned off: %s\n", strerror(errno));
		ret = plane_commit(fd, primary, out.crtc, fbs[0].fb_id, 0, 0, W, H,
				   DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT, &refused);
		vt_assert_f(ret == -EINVAL, "a flip with an event to the CRTC turned off: %s\n",
			    strerror(-ret));
		vt_assert_f(!event_pending(fd, 100), "an event after the CRTC went off\n");
		vt_assert_eq(refused.events, 0);
	}
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

/*
 * A nonblocking commit with a writeback job (not applied in its ioctl: it
 * has a connector), the composer held up (compose_ms) so that its frame is
 * composed late, then a flip to another fb as soon as the core takes it,
 * most often applied in its ioctl. The flip must not change or free what
 * the held-up composition reads: the frame written back is the writeback
 * commit's fb, pixel for pixel; each commit has one event; the CRC of the
 * frame on screen afterwards is the flip's fb.
 */
static void test_flip_after_writeback(void)
{
	struct flip lit = {}, wb = {}, f = {};
	struct kms_capture cap;
	struct kms_output out;
	struct ref_plane p;
	struct fb fbs[2];
	int32_t fence = -1;
	drmModeAtomicReq *req;
	char dir[PATH_MAX];
	uint32_t cap_fb, blob, crc;
	long before;
	int fd = open_card(), ret;

	flip_events_total = 0;
	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "no output with a writeback connector\n");
	primary_fbs(fd, fbs, 0x23c);
	cap_fb = capture_buffer(fd, &cap);

	/* Lit with its writeback connector attached, fbs[0] shown. */
	req = drmModeAtomicAlloc();
	vt_assert(req);
	kms_req_modeset(req, fd, &out, true, &blob);
	{
		struct kms_plane_setup s = primary_setup(&fbs[0]);

		kms_req_planes(req, fd, &out, &s, 1);
	}
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET |
				  DRM_MODE_PAGE_FLIP_EVENT, &lit);
	drmModeAtomicFree(req);
	vt_assert_f(ret == 0, "lighting the output: %s\n", strerror(-ret));
	drmModeDestroyPropertyBlob(fd, blob);
	wait_events(fd, 1);

	/* fbs[1] with a writeback job, composed late; then a flip to fbs[0]. */
	delay_set("compose_ms", 300);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	{
		struct kms_plane_setup s = primary_setup(&fbs[1]);

		kms_req_planes(req, fd, &out, &s, 1);
	}
	kms_req_writeback_job(req, fd, &out, cap_fb, &fence);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT,
				  &wb);
	drmModeAtomicFree(req);
	vt_assert_f(ret == 0, "the commit with a writeback job: %s\n", strerror(-ret));
	vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") == before,
		    "a commit with a writeback job was applied in its ioctl\n");
	ret = flip_when_free(fd, &out, &fbs[0], &f);
	vt_assert_f(ret == 0, "the flip after the writeback commit: %s\n", strerror(-ret));
	vtest_info("the flip %s applied in its ioctl\n",
		   display_count("vprime.0", out.crtc_index, "ioctl_flips") > before ? "was" :
		   "was not");
	wait_events(fd, 3);
	vt_assert_eq(wb.events, 1);
	vt_assert_eq(f.events, 1);
	vt_assert_f((int)(f.seq - wb.seq) > 0, "the flip's event has sequence %u, the writeback "
		    "commit's %u\n", f.seq, wb.seq);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	vt_assert_f(fd_poll(fence, POLLIN, WRITEBACK_TIMEOUT_MS) == POLLIN,
		    "the writeback fence did not signal within %d ms\n", WRITEBACK_TIMEOUT_MS);
	vt_assert_eq(sync_file_status(fence), 1);
	close(fence);
	delay_set("compose_ms", 0);
	p = plane_at(KMS_PLANE_PRIMARY, &fbs[1], 0, 0);
	compare_capture_color(&cap, &p, 1, NULL, 0, "the frame written back before the flip");
	crc_dir(out.crtc_index, dir, sizeof(dir));
	crc = crc_of_frame(dir, "the frame after the flip");
	vt_assert_f(crc == expected_crc(&fbs[0]), "the CRC after the flip is not its fb's\n");

	kms_output_off(fd, &out);
	vt_assert_ok(drmModeRmFB(fd, cap_fb));
	kms_capture_release(fd, &cap);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);
}

/* A sync_file of a pending vgem write fence (vgem signals it by itself after 10 s). */
struct vgem_sync {
	int vgem;
	uint32_t handle, fence;
	int sync_file;
};

static void vgem_sync_create(int vgem, struct vgem_sync *v)
{
	struct drm_mode_create_dumb c = { .width = 64, .height = 1, .bpp = 32 };
	struct drm_vgem_fence_attach a = { .flags = VGEM_FENCE_WRITE };
	int dmabuf;

	vt_assert_ok(ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	a.handle = c.handle;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &a));
	dmabuf = prime_export(vgem, c.handle, DRM_CLOEXEC | DRM_RDWR);
	vt_assert_eq(dmabuf_try_export_sync_file(dmabuf, DMA_BUF_SYNC_WRITE, &v->sync_file), 0);
	close(dmabuf);
	v->vgem = vgem;
	v->handle = c.handle;
	v->fence = a.out_fence;
}

/* Skip when vgem's own timeout signalled the fence: a host too slow for the test. */
static void vgem_sync_require_pending(const struct vgem_sync *v)
{
	if (sync_file_status(v->sync_file) != 0)
		vtest_skip("vgem's fence signalled by its 10 s timeout before the test did\n");
}

static void vgem_sync_signal(struct vgem_sync *v)
{
	struct drm_vgem_fence_signal sig = { .fence = v->fence };

	if (ioctl(v->vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig))
		vgem_sync_require_pending(v);
	vt_assert_eq(sync_file_status(v->sync_file), 1);
}

static void vgem_sync_release(struct vgem_sync *v)
{
	close(v->sync_file);
	gem_close(v->vgem, v->handle);
}

/*
 * Flips with an explicit in-fence (the plane's IN_FENCE_FD), a vgem fence
 * the test signals: one already signalled is applied in its ioctl and
 * shows its fb at its vblank (CRC); one still pending goes to the worker,
 * gets no event while the fence pends (the next flip meanwhile is refused
 * with EBUSY), and its event and fb come once the test signals the fence.
 */
static void test_flip_in_fence(void)
{
	int fd = open_card(), vgem = vprime_open_other("vgem"), crc_fd, ret;
	struct flip f[3] = {};
	struct kms_output out;
	struct vgem_sync v;
	char dir[PATH_MAX];
	struct fb fbs[2];
	long before;

	flip_events_total = 0;
	primary_fbs(fd, fbs, 0x240);
	output_on(fd, &fbs[0], &out);
	crc_dir(out.crtc_index, dir, sizeof(dir));
	crc_fd = crc_start(dir);

	/* Signalled: nothing to wait for. */
	vgem_sync_create(vgem, &v);
	vgem_sync_signal(&v);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
	ret = try_flip(fd, &out, &fbs[1], v.sync_file, &f[0]);
	vt_assert_f(ret == 0, "a flip with a signalled in-fence: %s\n", strerror(-ret));
	vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") - before == 1,
		    "a flip whose in-fence had signalled was not applied in its ioctl\n");
	vgem_sync_release(&v);
	wait_events(fd, 1);
	vt_assert_eq(f[0].events, 1);
	vt_assert_f(crc_from_frame(crc_fd, f[0].seq, "the flip") == expected_crc(&fbs[1]),
		    "the frame of the flip's vblank is not its fb\n");

	/* Pending: the worker waits for it. */
	vgem_sync_create(vgem, &v);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
	ret = try_flip(fd, &out, &fbs[0], v.sync_file, &f[1]);
	vt_assert_f(ret == 0, "a flip with a pending in-fence: %s\n", strerror(-ret));
	vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") == before,
		    "a flip whose in-fence was pending was applied in its ioctl\n");
	ret = try_flip(fd, &out, &fbs[1], -1, &f[2]);
	vgem_sync_require_pending(&v);
	vt_assert_f(ret == -EBUSY, "a flip behind one waiting for its fence: %s\n",
		    ret ? strerror(-ret) : "taken");
	vt_assert_f(!event_pending(fd, 200) || sync_file_status(v.sync_file) != 0,
		    "the flip's event came while its in-fence was pending\n");
	vgem_sync_require_pending(&v);
	vgem_sync_signal(&v);
	wait_events(fd, 2);
	vt_assert_eq(f[1].events, 1);
	vt_assert_eq(f[2].events, 0);
	vt_assert_f(crc_from_frame(crc_fd, f[1].seq, "the fenced flip") == expected_crc(&fbs[0]),
		    "the frame of the fenced flip's vblank is not its fb\n");
	vgem_sync_release(&v);
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");

	close(crc_fd);
	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(vgem);
	close(fd);
}

/*
 * The in-fence of a flip applied in its ioctl is not kept past the commit:
 * the helpers drop a plane's fence once they have waited for it, and so
 * must the ioctl, or the plane's state (the screen's, for as long as the
 * plane does not change) holds a reference on another driver's fence.
 * Here vgem's: a signalled vgem fence is a flip's in-fence, then every
 * vgem file and buffer is closed and vgem unloaded (fences do not hold
 * their module), then the plane flips again, which frees the state the
 * first flip made. On 6.1 and 6.12 the core calls the fence's release in
 * vgem on the last put, and its timer is vgem's: kept by the plane, they
 * ran in a module that was gone. vgem is loaded again at the end.
 */
static void test_flip_in_fence_vgem_gone(void)
{
	const char *modroot = getenv("VPRIME_MODROOT");
	int fd = open_card(), vgem = vprime_open_other("vgem"), ret;
	struct flip f[4] = {};
	struct kms_output out;
	struct vgem_sync v;
	struct fb fbs[2];
	char cmd[PATH_MAX + 64];
	long before;

	vt_require_f(modroot, "VPRIME_MODROOT is not set (run through ./vprime-test)\n");
	flip_events_total = 0;
	primary_fbs(fd, fbs, 0x244);
	output_on(fd, &fbs[0], &out);
	vgem_sync_create(vgem, &v);
	vgem_sync_signal(&v);
	before = display_count("vprime.0", out.crtc_index, "ioctl_flips");
	ret = try_flip(fd, &out, &fbs[1], v.sync_file, &f[0]);
	vt_assert_f(ret == 0, "a flip with a signalled in-fence: %s\n", strerror(-ret));
	vt_assert_f(display_count("vprime.0", out.crtc_index, "ioctl_flips") - before == 1,
		    "a flip whose in-fence had signalled was not applied in its ioctl\n");
	wait_events(fd, 1);
	vgem_sync_release(&v);
	close(vgem);

	ret = syscall(SYS_delete_module, "vgem", O_NONBLOCK) ? -errno : 0;
	if (ret) {
		kms_output_off(fd, &out);
		fb_release(fd, &fbs[1]);
		fb_release(fd, &fbs[0]);
		close(fd);
		vtest_skip("vgem cannot be unloaded here: %s\n", strerror(-ret));
	}
	/* The state of the first flip goes with these flips' cleanup. */
	for (int i = 1; i < 4; i++) {
		ret = flip_when_free(fd, &out, &fbs[(i + 1) % 2], &f[i]);
		vt_assert_f(ret == 0, "flip %d after vgem's unload: %s\n", i, strerror(-ret));
		wait_events(fd, i + 1);
		vt_assert_eq(f[i].events, 1);
	}
	kms_output_off(fd, &out);
	fb_release(fd, &fbs[1]);
	fb_release(fd, &fbs[0]);
	close(fd);

	snprintf(cmd, sizeof(cmd), "modprobe -d '%s' vgem", modroot);
	vt_assert_f(system(cmd) == 0, "%s failed\n", cmd);
	close(vprime_open_other("vgem"));
}

static const struct vtest tests[] = {
	VTEST("crc", "The CRTC's CRC is the same every vblank for an unchanged frame, "
	      "changes when one pixel does, and comes back when it does.", test_crc),
	VTEST("flip-events", "30 page flips each deliver one event, with sequence numbers "
	      "and timestamps that increase; drmWaitVBlank counts on.", test_flip_events),
	VTEST("enable-event", "The event of a commit that turns the CRTC on comes at its "
	      "first vblank, stamped with a time after the commit, twice.", test_enable_event),
	VTEST("async-flip-refused", "An async page flip, legacy or atomic, fails with "
	      "-EINVAL and changes nothing.", test_async_flip_refused),
	VTEST("two-crtcs", "Both CRTCs in every commit: one modeset lights both, 30 "
	      "commits flip both, one turns both off. Every commit sends each CRTC one "
	      "event, sequences increase per CRTC, and the frames written back in the "
	      "same commits and the CRCs are each CRTC's own.", test_two_crtcs),
	VTEST("two-crtcs-stress", "two-crtcs at 240 Hz with 500 flips of both, the test "
	      "and the vblank timers on one CPU (two CRTCs' locks once nested there).",
	      test_two_crtcs_stress),
	VTEST("vblank-on-off", "1000 vblank waits at 240 Hz, each turning vblank on and "
	      "off (vblankoffdelay -1), preempted at a swept delay by a SCHED_FIFO process "
	      "on the same CPU: every wait ends, one or more vblanks on.",
	      test_vblank_on_off),
	VTEST("flip-in-ioctl", "Nonblocking flips that wait for nothing, with the commit "
	      "worker held up (commit_work_ms): each is applied in its ioctl (debugfs "
	      "ioctl_flips), has one event in order, and the frame of its vblank (CRC) is "
	      "its fb.", test_flip_in_ioctl),
	VTEST("flip-waits-for-fence", "On vprime.1 (jobs 200 ms late), a nonblocking flip "
	      "to a buffer a FILL job is still writing: its event comes after the job's "
	      "fence, and the frame of its vblank (CRC) is the filled buffer.",
	      test_flip_waits_for_fence),
	VTEST("flip-in-ioctl-interleaved", "60 nonblocking flips while another process on "
	      "the same file moves and changes the cursor, commits an overlay blocking and "
	      "nonblocking and the primary blocking: every flip's event arrives, in order, "
	      "and no commit fails or times out.", test_flip_in_ioctl_interleaved),
	VTEST("flip-in-ioctl-close", "A file closed right after a flip applied in its ioctl "
	      "(event armed, worker held up), five times: a new master's flips each get one "
	      "event, nothing of the closed files' arrives, no commit wait times out.",
	      test_flip_in_ioctl_close),
	VTEST("flip-in-ioctl-then-off", "A flip applied in its ioctl, then at once the CRTC "
	      "off, blocking and nonblocking: one event each, the CRTC off, a vblank wait and "
	      "a flip with an event to it refused (EINVAL) with no event.",
	      test_flip_in_ioctl_then_off),
	VTEST("flip-after-writeback", "A flip as soon as the core takes it after a commit "
	      "with a writeback job whose composition is held up: the frame written back is "
	      "the writeback commit's fb, one event each, the CRC then the flip's fb.",
	      test_flip_after_writeback),
	VTEST("flip-in-fence", "Flips with an explicit in-fence (vgem's): signalled, applied "
	      "in the ioctl with its fb shown (CRC); pending, no event and the next flip EBUSY "
	      "until the fence signals, then one event and its fb.", test_flip_in_fence),
	VTEST("flip-in-fence-vgem-gone", "The signalled in-fence of a flip applied in its ioctl "
	      "is not kept by the plane: vgem, whose fence it is, unloaded, the plane flips "
	      "on without calling into it; vgem is reloaded.", test_flip_in_fence_vgem_gone),
};

VTEST_MAIN("vprime's display: CRCs, page flips, vblanks and their events, "
	   "two CRTCs at once.", tests)
