// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display, its cursor: legacy cursor moves applied as async updates,
 * cursor moves racing page flips, and a new cursor image while a frame that
 * shows the old one is held in the compose queue, each frame checked through
 * writeback.
 *
 * The display tests' conventions (vprime.0's card node as DRM master, the
 * CRTC the library lights, every subtest turning its CRTCs off) are in
 * lib/vprime_output.h.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vprime_test.h"
#include "vtest.h"

/* cursor-async */

/* Light @o with its writeback connector and @planes, in one blocking modeset. */
static void light_with_writeback(int fd, const struct kms_output *o, const struct ref_plane *planes,
				 int n)
{
	struct kms_plane_setup setups[MAX_PLANES];
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t blob;

	vt_assert(req && n <= MAX_PLANES);
	for (int i = 0; i < n; i++)
		setups[i] = setup_of(&planes[i]);
	kms_req_modeset(req, fd, o, true, &blob);
	kms_req_planes(req, fd, o, setups, n);
	vt_assert_eq(drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL), 0);
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);
}


#define CURSOR_MOVES	40

/* How many cursor moves CRTC index @crtc_index of vprime.0 applied without a commit. */
static long async_updates(int crtc_index)
{
	return display_count("vprime.0", crtc_index, "async_updates");
}

/* Write the next frame of @o back into @cap_fb (a commit of nothing else) and wait. */
static void capture_next_frame(int fd, const struct kms_output *o, uint32_t cap_fb)
{
	struct pollfd pfd = { .events = POLLIN };
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int32_t fence = -1;
	int ret;

	vt_assert(req);
	kms_req_writeback_job(req, fd, o, cap_fb, &fence);
	ret = drmModeAtomicCommit(fd, req, 0, NULL);
	vt_assert_f(ret == 0, "the writeback commit: %s\n", strerror(-ret));
	drmModeAtomicFree(req);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	pfd.fd = fence;
	vt_assert_f(poll(&pfd, 1, WRITEBACK_TIMEOUT_MS) == 1,
		    "the writeback fence did not signal within %d ms\n", WRITEBACK_TIMEOUT_MS);
	close(fence);
}

static void move_cursor(int fd, const struct kms_output *o, struct ref_plane *cursor,
			int32_t x, int32_t y)
{
	int ret = drmModeMoveCursor(fd, o->crtc, x, y);

	vt_assert_f(ret == 0, "moving the cursor to (%d, %d): %s\n", x, y, strerror(-ret));
	cursor->x = x;
	cursor->y = y;
}

/*
 * Legacy cursor moves of a visible cursor are async updates: each is
 * applied at once, without a commit (the debugfs count says so), and the
 * next frame shows the cursor where the last move put it. A move off the
 * screen and back takes ordinary commits, and shows right too.
 */
static void test_cursor_async(void)
{
	struct ref_plane planes[2];
	struct kms_capture cap;
	struct kms_output out;
	struct fb primary, cursor;
	uint32_t cap_fb;
	int fd = open_card();
	long before;

	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "vprime.0 has no output with writeback at %dx%d\n", W, H);
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary);
	fb_fill(&primary, 0x3a0, false);
	fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor);
	fb_fill(&cursor, 0x3a1, true);
	cap_fb = capture_buffer(fd, &cap);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary, 0, 0);
	planes[1] = plane_at(KMS_PLANE_CURSOR, &cursor, 100, 100);
	light_with_writeback(fd, &out, planes, 2);

	before = async_updates(out.crtc_index);
	for (int i = 1; i <= CURSOR_MOVES; i++)
		move_cursor(fd, &out, &planes[1], 100 + 7 * i, 100 + 5 * i);
	vt_assert_eq(async_updates(out.crtc_index) - before, CURSOR_MOVES);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "after the async moves");

	/* Partly off the top left corner: still on screen, still async. */
	move_cursor(fd, &out, &planes[1], -20, -30);
	vt_assert_eq(async_updates(out.crtc_index) - before, CURSOR_MOVES + 1);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "the cursor across the corner");

	/* Wholly off the screen and back: ordinary commits. */
	move_cursor(fd, &out, &planes[1], W + 10, 10);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 1, NULL, 0, "the cursor off the screen");
	move_cursor(fd, &out, &planes[1], W - 32, H - 32);
	vt_assert_eq(async_updates(out.crtc_index) - before, CURSOR_MOVES + 1);
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "the cursor back on the screen");

	kms_output_off(fd, &out);
	vt_assert_eq(drmModeRmFB(fd, cap_fb), 0);
	kms_capture_release(fd, &cap);
	fb_release(fd, &cursor);
	fb_release(fd, &primary);
	close(fd);
}

/* cursor-vs-flips */

#define CURSOR_VS_FLIPS	60

/*
 * One nonblocking atomic page flip of @o's primary plane to @fb_id with an
 * event carrying @data, made again while the core says the previous one is
 * still busy (-EBUSY), as IGT's flip_nonblocking() does.
 */
static void flip_primary_nonblocking(int fd, const struct kms_output *o, uint32_t plane,
				     uint32_t fb_id, void *data)
{
	int ret;

	do {
		drmModeAtomicReq *req = drmModeAtomicAlloc();

		vt_assert(req);
		vt_assert(drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane,
						   DRM_MODE_OBJECT_PLANE, "FB_ID"), fb_id) > 0);
		vt_assert(drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane,
						   DRM_MODE_OBJECT_PLANE, "CRTC_ID"), o->crtc) > 0);
		ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK |
					  DRM_MODE_PAGE_FLIP_EVENT, data) ? -errno : 0;
		drmModeAtomicFree(req);
	} while (ret == -EBUSY);
	vt_assert_f(ret == 0, "nonblocking flip: %s\n", strerror(-ret));
}

/*
 * kms_cursor_legacy's cursorA-vs-flipA-atomic, bounded: a child moves the
 * visible cursor back and forth without pause (async updates, on the same
 * file) while the parent makes 60 nonblocking atomic flips of the primary
 * with events, each after the previous one's event. Every flip gets exactly
 * one event, in order; every move was an async update (debugfs); the frame
 * written back afterwards shows the last fb and the cursor where the last
 * move put it.
 */
static void test_cursor_vs_flips(void)
{
	struct flip flips[CURSOR_VS_FLIPS] = {};
	volatile long *shared;	/* [0]: stop; [1]: moves made; [2]: the last x = y */
	struct ref_plane planes[2];
	struct fb primary[2], cursor;
	struct kms_capture cap;
	struct kms_output out;
	unsigned int prev_seq;
	uint32_t cap_fb, plane;
	int fd = open_card(), status;
	double prev_ts;
	drmVBlank vbl;
	long before;
	pid_t child;

	flip_events_total = 0;
	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "vprime.0 has no output with writeback at %dx%d\n", W, H);
	plane = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary[i]);
		fb_fill(&primary[i], 0xcf0 + i, false);
	}
	fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor);
	fb_fill(&cursor, 0xcf2, true);
	cap_fb = capture_buffer(fd, &cap);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary[0], 0, 0);
	planes[1] = plane_at(KMS_PLANE_CURSOR, &cursor, 128, 128);
	light_with_writeback(fd, &out, planes, 2);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	vt_assert(shared != MAP_FAILED);
	shared[0] = shared[1] = 0;
	shared[2] = 128;

	before = async_updates(out.crtc_index);
	child = fork();
	vt_assert(child >= 0);
	if (child == 0) {
		long n = 0;

		while (!shared[0]) {
			int32_t at = n & 64 ? 192 : 128;

			if (drmModeMoveCursor(fd, out.crtc, at, at))
				_exit(1);
			shared[2] = at;
			shared[1] = ++n;
		}
		_exit(0);
	}
	vbl = wait_vblank(fd, out.crtc_index, 0);
	prev_seq = vbl.reply.sequence;
	prev_ts = vblank_ts(&vbl);
	for (int i = 0; i < CURSOR_VS_FLIPS; i++) {
		flip_primary_nonblocking(fd, &out, plane, primary[(i + 1) % 2].fb_id, &flips[i]);
		wait_events(fd, i + 1);
		check_flip(&flips[i], i, prev_seq, prev_ts);
		prev_seq = flips[i].seq;
		prev_ts = flips[i].ts;
	}
	shared[0] = 1;
	vt_assert_eq(waitpid(child, &status, 0), child);
	vt_assert_f(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "a cursor move failed in the child (status 0x%x)\n", status);
	vt_assert_f(!event_pending(fd, 100), "an event arrived after the last flip's\n");
	vtest_info("%ld cursor moves during %d flips over %u vblanks\n", shared[1],
		   CURSOR_VS_FLIPS, flips[CURSOR_VS_FLIPS - 1].seq - vbl.reply.sequence);
	vt_assert_eq(async_updates(out.crtc_index) - before, shared[1]);

	/* The last flip showed primary[0] (60 flips, from primary[0]). */
	planes[0].fb = &primary[CURSOR_VS_FLIPS % 2];
	planes[1].x = planes[1].y = shared[2];
	capture_next_frame(fd, &out, cap_fb);
	compare_capture_color(&cap, planes, 2, NULL, 0, "after the flips and moves");

	munmap((void *)shared, 4096);
	kms_output_off(fd, &out);
	vt_assert_eq(drmModeRmFB(fd, cap_fb), 0);
	kms_capture_release(fd, &cap);
	fb_release(fd, &cursor);
	fb_release(fd, &primary[1]);
	fb_release(fd, &primary[0]);
	close(fd);
}

/* cursor-change-held-frame */

#define HELD_FRAME_MS	3000

/* Commit @req nonblocking with a page-flip event, and wait for the event. */
static void commit_and_wait_event(int fd, drmModeAtomicReq *req, const char *what)
{
	drmEventContext ev = { .version = 2, .page_flip_handler = NULL };
	int ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT,
				      NULL);

	vt_assert_f(ret == 0, "%s: %s\n", what, strerror(-ret));
	vt_assert_f(event_pending(fd, WRITEBACK_TIMEOUT_MS), "%s: no event\n", what);
	vt_assert_eq(drmHandleEvent(fd, &ev), 0);
}

/*
 * A frame held in the compose queue while later commits free what it shows.
 * A writeback job's frame is held back (the compose delay); a flip of the
 * primary plane alone waits for it in its commit tail; meanwhile a new
 * cursor image (an ordinary commit) frees the cursor state the held frame
 * still shows. That commit must wait for the held frame too: the frame
 * then shows the old cursor (and the kernel reads no freed or unmapped
 * memory, which KASAN or an oops would show).
 */
static void test_cursor_change_held_frame(void)
{
	struct pollfd pfd = { .events = POLLIN };
	struct fb primary[2], cursor[2];
	struct ref_plane planes[2];
	struct kms_capture cap;
	struct kms_output out;
	drmModeAtomicReq *req;
	uint32_t cap_fb, plane;
	int32_t fence = -1;
	int fd = open_card();

	vt_require_f(kms_find_outputs(fd, W, H, &out, 1) == 1 && out.writeback,
		     "vprime.0 has no output with writeback at %dx%d\n", W, H);
	for (int i = 0; i < 2; i++) {
		fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &primary[i]);
		fb_fill(&primary[i], 0x3b0 + i, false);
		fb_create(fd, DRM_FORMAT_ARGB8888, 64, 64, &cursor[i]);
		fb_fill(&cursor[i], 0x3b2 + i, true);
	}
	cap_fb = capture_buffer(fd, &cap);
	planes[0] = plane_at(KMS_PLANE_PRIMARY, &primary[0], 0, 0);
	planes[1] = plane_at(KMS_PLANE_CURSOR, &cursor[0], 200, 150);
	light_with_writeback(fd, &out, planes, 2);

	delay_set("compose_ms", HELD_FRAME_MS);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	kms_req_writeback_job(req, fd, &out, cap_fb, &fence);
	commit_and_wait_event(fd, req, "the writeback commit");
	drmModeAtomicFree(req);

	plane = kms_plane_id(fd, out.crtc_index, KMS_PLANE_PRIMARY);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	vt_assert(drmModeAtomicAddProperty(req, plane, kms_prop_id(fd, plane,
		  DRM_MODE_OBJECT_PLANE, "FB_ID"), primary[1].fb_id) > 0);
	commit_and_wait_event(fd, req, "the flip of the primary plane");
	drmModeAtomicFree(req);

	vt_assert_eq(drmModeSetCursor(fd, out.crtc, cursor[1].handle, 64, 64), 0);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	pfd.fd = fence;
	vt_assert_f(poll(&pfd, 1, HELD_FRAME_MS + WRITEBACK_TIMEOUT_MS) == 1,
		    "the held writeback frame did not come\n");
	close(fence);
	delay_set("compose_ms", 0);
	compare_capture_color(&cap, planes, 2, NULL, 0, "the held frame");

	kms_output_off(fd, &out);
	vt_assert_eq(drmModeRmFB(fd, cap_fb), 0);
	kms_capture_release(fd, &cap);
	for (int i = 0; i < 2; i++) {
		fb_release(fd, &cursor[i]);
		fb_release(fd, &primary[i]);
	}
	close(fd);
}

static const struct vtest tests[] = {
	VTEST("cursor-async", "Legacy moves of a visible cursor are applied without a "
	      "commit (async updates, counted in debugfs) and the next frame written back "
	      "shows the cursor where the last one put it; moves off the screen and back "
	      "take ordinary commits.", test_cursor_async),
	VTEST("cursor-vs-flips", "A child moves the visible cursor without pause (async "
	      "updates) while 60 nonblocking atomic flips with events are made one after "
	      "the other: one event per flip, in order, every move async, and the frame "
	      "written back afterwards shows the last fb and the cursor's last place.",
	      test_cursor_vs_flips),
	VTEST("cursor-change-held-frame", "A writeback frame held in the compose queue "
	      "(compose delay) while a flip and a new cursor image free the plane states it "
	      "shows: the frame comes, right, and nothing freed is read.",
	      test_cursor_change_held_frame),
};

VTEST_MAIN("vprime's display: the cursor's async updates, against flips "
	   "and with a frame held.", tests)
