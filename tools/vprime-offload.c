// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-offload: render offload as on a laptop with two GPUs, step by
 * step, verifying each step. A "discrete" vprime instance with VRAM
 * renders; an "integrated" one, which cannot reach that VRAM, and a peer,
 * which can (PCIe peer-to-peer), show its frames:
 *
 *   1. the discrete instance allocates frame 1 and a window (nothing yet),
 *   2. its job engine renders them into its VRAM: FILL the background and
 *      the window, COPY the window into the frame, FILL a frame badge,
 *   3. the integrated instance imports frame 1 (attaching moves nothing),
 *   4. and scans it out: the buffer first moves from VRAM to system memory,
 *      since its display cannot reach VRAM (GEM_INFO and debugfs show it),
 *   5. its writeback frame equals frame 1, pixel for pixel, and is written
 *      as a PNG,
 *   6. the discrete instance renders frame 2 into VRAM (frame 1 stays in
 *      system memory: nothing moves back),
 *   7. the peer imports frame 2 and maps it: in place, no move,
 *   8. and scans it out from VRAM; 9. its writeback frame is compared and
 *      written as a PNG,
 *  10. everything is given back: VRAM use and peer mappings as before.
 *
 * It ends with a verdict. Exit status: 0 when every check held, 1 when one
 * failed, 2 on a usage error, 3 when a device or an ioctl failed.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "buffer.h"
#include "display.h"
#include "png.h"
#include "tool.h"

#define W		1024
#define H		768
#define FRAME_SIZE	((uint64_t)W * H * 4)
#define WIN_W		320
#define WIN_H		200
#define WIN_SIZE	(((uint64_t)WIN_W * WIN_H * 4 + 4095) & ~4095ull)
#define TITLE_H		24
#define CELL		20
#define MAX_RECTS	256
#define BADGE		10

/* Where frame 1 and frame 2 show the window. */
static const uint32_t win_x[3] = { 0, 96, 560 }, win_y[3] = { 0, 120, 400 };

/* What --wrong-expectation gets wrong (bits; the option may be repeated). */
enum wrong { WRONG_PIXELS = 1, WRONG_PLACEMENT = 2 };

static struct {
	const char *out_dir;
	const char *discrete, *integrated, *peer;	/* NULL: found by parameters */
	unsigned int wrong;
} opt = { .out_dir = "." };

static unsigned int checks, failures;

/* Count a check; print "verified: CLAIM" or "FAILED, expected: CLAIM (WHY)". */
__attribute__((format(printf, 3, 4)))
static bool check(bool ok, const char *why, const char *fmt, ...)
{
	char claim[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(claim, sizeof(claim), fmt, ap);
	va_end(ap);
	checks++;
	if (ok) {
		detail("verified: %s", claim);
		return true;
	}
	failures++;
	detail("FAILED, expected: %s (%s)", claim, why);
	return false;
}

/* The window, as the rectangles its FILLs paint in order (the last on top). */
static struct fill_rect win_rects[MAX_RECTS];
static unsigned int num_win_rects;

static void win_add(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t argb)
{
	if (num_win_rects == MAX_RECTS)
		die(EXIT_DEVICE, "too many window rectangles");
	win_rects[num_win_rects++] = (struct fill_rect){ x, y, w, h, argb };
}

/* A dark frame, a blue title bar with three buttons, a checkered body. */
static void window_build(void)
{
	static const uint32_t buttons[] = { 0xffd03030, 0xffd0b030, 0xff30a040 };
	const uint32_t body_y = 2 + TITLE_H, body_h = WIN_H - 2 - body_y;

	win_add(0, 0, WIN_W, WIN_H, 0xff202020);
	win_add(2, 2, WIN_W - 4, TITLE_H, 0xff2060c0);
	for (uint32_t i = 0; i < 3; i++)
		win_add(WIN_W - 2 - 20 * (i + 1), 7, 14, 14, buttons[i]);
	for (uint32_t y = 0; y < body_h; y += CELL)
		for (uint32_t x = 0; x < WIN_W - 4; x += CELL) {
			uint32_t w = WIN_W - 4 - x < CELL ? WIN_W - 4 - x : CELL;
			uint32_t h = body_h - y < CELL ? body_h - y : CELL;

			win_add(2 + x, body_y + y, w, h,
				(x / CELL + y / CELL) % 2 ? 0xffb0c4de : 0xffe8e8e8);
		}
}

static uint32_t window_pixel(uint32_t x, uint32_t y)
{
	for (unsigned int i = num_win_rects; i--;) {
		const struct fill_rect *r = &win_rects[i];

		if (x >= r->x && y >= r->y && x - r->x < r->w && y - r->y < r->h)
			return r->argb;
	}
	return 0;
}

/* Frame @k's badge: @k white squares in the window's title bar. */
static bool in_badge(int k, uint32_t x, uint32_t y)
{
	uint32_t bx = win_x[k] + 8, by = win_y[k] + 2 + (TITLE_H - BADGE) / 2;

	if (y < by || y >= by + BADGE || x < bx)
		return false;
	x -= bx;
	return x < (uint32_t)k * 2 * BADGE && x % (2 * BADGE) < BADGE;
}

/* What frame @k (an int *) has at (@x, @y). */
static uint32_t frame_pixel(uint32_t x, uint32_t y, const void *ctx)
{
	int k = *(const int *)ctx;
	uint32_t p;

	if (in_badge(k, x, y))
		p = 0xffffff;
	else if (x >= win_x[k] && y >= win_y[k] && x - win_x[k] < WIN_W && y - win_y[k] < WIN_H)
		p = window_pixel(x - win_x[k], y - win_y[k]);
	else
		p = pattern_pixel(x, y, W, H);
	if ((opt.wrong & WRONG_PIXELS) && k == 1 && y < H / 2 && x < W / 8)
		p ^= 0x00ff00;
	return p & 0xffffff;
}

/* Queue @n commands on the job engine, at most VPRIME_SUBMIT_MAX_CMDS a job. */
static unsigned int submit(int fd, const struct drm_vprime_submit_bo *bos, uint32_t num_bos,
			   const struct drm_vprime_cmd *cmds, unsigned int n)
{
	unsigned int jobs = 0;

	for (unsigned int done = 0; done < n; jobs++) {
		struct drm_vprime_submit s = {
			.bos_ptr = (uintptr_t)bos, .cmds_ptr = (uintptr_t)(cmds + done),
			.num_bos = num_bos,
			.num_cmds = n - done < VPRIME_SUBMIT_MAX_CMDS ? n - done :
				    VPRIME_SUBMIT_MAX_CMDS,
		};

		check_call(ioctl(fd, DRM_IOCTL_VPRIME_SUBMIT, &s) ? -errno : 0, opt.discrete,
			   "SUBMIT");
		done += s.num_cmds;
	}
	return jobs;
}

static void wait_idle(int fd, uint32_t handle)
{
	struct drm_vprime_wait_idle idle = { .handle = handle, .timeout_ns = 10000000000ll };

	check_call(ioctl(fd, DRM_IOCTL_VPRIME_WAIT_IDLE, &idle) ? -errno : 0, opt.discrete,
		   "WAIT_IDLE");
}

static struct drm_vprime_cmd fill_cmd(uint32_t dst, const struct fill_rect *r)
{
	return (struct drm_vprime_cmd){ .op = VPRIME_CMD_FILL, .dst = dst, .dst_x = r->x,
					.dst_y = r->y, .width = r->w, .height = r->h,
					.value = r->argb };
}

/* The discrete instance's job engine draws the window (ARGB8888). */
static void render_window(int fd, uint32_t win)
{
	const struct drm_vprime_submit_bo bo = {
		.handle = win, .flags = VPRIME_SUBMIT_BO_WRITE, .width = WIN_W, .height = WIN_H,
		.pitch = WIN_W * 4, .format = DRM_FORMAT_ARGB8888,
	};
	struct drm_vprime_cmd cmds[MAX_RECTS];
	unsigned int jobs;

	for (unsigned int i = 0; i < num_win_rects; i++)
		cmds[i] = fill_cmd(0, &win_rects[i]);
	jobs = submit(fd, &bo, 1, cmds, num_win_rects);
	wait_idle(fd, win);
	detail("the window: %u FILL commands in %u job(s)", num_win_rects, jobs);
}

/*
 * Frame @k: FILL the background, COPY the window in (ARGB8888 to XRGB8888),
 * FILL the badge; then wait for the jobs.
 */
static void render_frame(int fd, uint32_t frame, uint32_t win, int k)
{
	const struct drm_vprime_submit_bo bos[2] = {
		{ .handle = frame, .flags = VPRIME_SUBMIT_BO_WRITE, .width = W, .height = H,
		  .pitch = W * 4, .format = DRM_FORMAT_XRGB8888 },
		{ .handle = win, .flags = VPRIME_SUBMIT_BO_READ, .width = WIN_W, .height = WIN_H,
		  .pitch = WIN_W * 4, .format = DRM_FORMAT_ARGB8888 },
	};
	struct fill_rect *bg;
	struct drm_vprime_cmd *cmds;
	unsigned int nbg, n = 0, jobs;

	bg = pattern_rects(W, H, &nbg);
	cmds = calloc(nbg + 1 + k, sizeof(*cmds));
	if (!bg || !cmds)
		die(EXIT_DEVICE, "out of memory");
	for (unsigned int i = 0; i < nbg; i++)
		cmds[n++] = fill_cmd(0, &bg[i]);
	cmds[n++] = (struct drm_vprime_cmd){ .op = VPRIME_CMD_COPY, .src = 1, .dst = 0,
					     .dst_x = win_x[k], .dst_y = win_y[k],
					     .width = WIN_W, .height = WIN_H };
	for (int i = 0; i < k; i++) {
		struct fill_rect r = { win_x[k] + 8 + 2 * BADGE * i,
				       win_y[k] + 2 + (TITLE_H - BADGE) / 2, BADGE, BADGE,
				       0xffffffff };

		cmds[n++] = fill_cmd(0, &r);
	}
	jobs = submit(fd, bos, 2, cmds, n);
	wait_idle(fd, frame);
	detail("frame %d: %u FILL commands (background), 1 COPY (the window at %u,%u), "
	       "%d FILL (the badge), in %u job(s)", k, nbg, win_x[k], win_y[k], k, jobs);
	free(cmds);
	free(bg);
}

static struct drm_vprime_gem_info info_of(int fd, uint32_t handle)
{
	struct drm_vprime_gem_info info;

	check_call(vprime_info(fd, handle, &info), opt.discrete, "GEM_INFO");
	return info;
}

static void show_info(const char *what, const struct drm_vprime_gem_info *i)
{
	detail("%s: %s, %" PRIu64 " pages, %u attachment(s), %u mapped, %u peer-mapped, "
	       "pinned %u, %" PRIu64 " migration(s), %" PRIu64 " eviction(s)", what,
	       placement_name(i->placement), (uint64_t)i->num_pages, i->num_attachments,
	       i->num_mapped, i->num_peer_mapped, i->pin_count, (uint64_t)i->migrations,
	       (uint64_t)i->evictions);
}

/* The discrete instance's debugfs counters, when debugfs can be read. */
static bool have_counters;

static struct vprime_counters counters(void)
{
	struct vprime_counters c = { 0 };

	if (have_counters)
		check_call(vprime_read_counters(opt.discrete, &c), opt.discrete,
			   "debugfs vprime_objects");
	return c;
}

static void show_counters(const char *when, const struct vprime_counters *c)
{
	if (have_counters)
		detail("%s's debugfs %s: VRAM %lld of %lld bytes used, %lld migration(s), "
		       "%lld bytes moved, %lld eviction(s), %lld peer mapping(s)", opt.discrete,
		       when, c->vram_used, c->vram_size, c->migrations, c->bytes_moved,
		       c->evictions, c->peer_mappings);
}

/*
 * Show @fb full screen on @fd and capture it. Pinning for scanout moves the
 * buffer first when the display cannot reach it; WAIT_IDLE after the
 * rendering waited until the jobs let go of it, so nothing else holds it.
 */
static void show(int fd, const char *name, uint32_t fb, struct frame *frame,
		 struct display_shown *shown)
{
	const struct plane_setup plane = { DRM_PLANE_TYPE_PRIMARY, fb, 0, 0, W, H, 0xffff };

	check_call(display_show(fd, &plane, 1, W, H, frame, shown), name,
		   "scanout and writeback");
}

static void write_frame(const struct frame *f, const char *file)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", opt.out_dir, file);
	check_call(write_png(path, f->pixels, f->width, f->height, f->pitch), NULL, path);
	detail("wrote %s", path);
}

static void compare_frame(int fd, struct frame *f, int k, const char *name, const char *file)
{
	char what[64];
	unsigned long bad;

	snprintf(what, sizeof(what), "%s's frame", name);
	bad = frame_compare(f, frame_pixel, &k, 0, what);
	if (bad)
		check(false, "see the MISMATCH lines", "all %u pixels of %s match frame %d",
		      W * H, what, k);
	else
		checks++;	/* frame_compare() said "verified" */
	write_frame(f, file);
	frame_release(fd, f);
}

static int open_or_die(const char *name, bool card)
{
	int fd = open_device(name, card);

	check_call(fd, name, "open");
	return fd;
}

/*
 * Export @bo of the discrete instance as a dma-buf (*@dmabuf) and import it
 * into the card node of @to (*@to_fd, which can also show it): its handle.
 */
static uint32_t share(int dfd, uint32_t bo, const char *to, int *to_fd, int *dmabuf)
{
	uint32_t handle;

	check_call(drmPrimeHandleToFD(dfd, bo, DRM_CLOEXEC | DRM_RDWR, dmabuf) ? -errno : 0,
		   opt.discrete, "PRIME_HANDLE_TO_FD");
	*to_fd = open_or_die(to, true);
	check_call(drmPrimeFDToHandle(*to_fd, *dmabuf, &handle) ? -errno : 0, to,
		   "PRIME_FD_TO_HANDLE");
	return handle;
}

static void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

/* Choose the instances: by option, else by their parameters. */
static void find_instances(void)
{
	static char names[3][32];
	int n = vprime_instances(), d = -1, p = -1, g = -1;

	if (n <= 0)
		die(EXIT_DEVICE, "no vprime instance (is vprime.ko loaded?)");
	for (int i = 0; i < n && d < 0; i++)
		if (vprime_param("vram_mb", i))
			d = i;
	if (opt.discrete)
		d = vprime_instance_index(opt.discrete);
	if (d < 0)
		die(EXIT_DEVICE, "no instance with VRAM (load vprime with e.g. num_devices=3 "
		    "vram_mb=0,0,16 p2p=0,0,0x1)");
	for (int i = 0; i < n; i++) {
		bool peer = vprime_peers(d) & (1ul << i);
		bool lenient = (vprime_param("dma_bits", i) == 0 ||
				vprime_param("dma_bits", i) == 64) &&
			       !vprime_param("max_segment", i) && !vprime_param("seg_boundary", i) &&
			       !vprime_param("contiguous", i) && !vprime_param("vram_mb", i);

		if (peer && p < 0)
			p = i;
		if (!peer && i != d && lenient && g < 0)
			g = i;
	}
	if (opt.peer)
		p = vprime_instance_index(opt.peer);
	if (opt.integrated)
		g = vprime_instance_index(opt.integrated);
	if (p < 0 || g < 0)
		die(EXIT_DEVICE, "vprime.%d needs a peer (its p2p parameter) and an instance "
		    "without limits that is not its peer", d);
	snprintf(names[0], sizeof(names[0]), "vprime.%d", d);
	snprintf(names[1], sizeof(names[1]), "vprime.%d", g);
	snprintf(names[2], sizeof(names[2]), "vprime.%d", p);
	opt.discrete = names[0];
	opt.integrated = names[1];
	opt.peer = names[2];
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--out-dir DIR] [--discrete vprime.N] [--integrated vprime.N]\n"
		"       [--peer vprime.N] [--wrong-expectation[=pixels|placement]]\n"
		"  --out-dir DIR          where offload-integrated.png and offload-peer.png go\n"
		"                         (default .)\n"
		"  --discrete vprime.N    the instance with VRAM that renders (default: the\n"
		"                         first with vram_mb)\n"
		"  --integrated vprime.N  the one that is not its peer (default: the first\n"
		"                         64-bit instance without limits or VRAM, not a peer)\n"
		"  --peer vprime.N        the one that reaches its VRAM (default: the first in\n"
		"                         its p2p mask)\n"
		"  --wrong-expectation    expect a wrong colour (pixels) or frame 1 to stay in\n"
		"                         VRAM (placement), to see verification fail; may be\n"
		"                         given twice, for both\n",
		tool_name);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out-dir", required_argument, NULL, 'o' },
		{ "discrete", required_argument, NULL, 'd' },
		{ "integrated", required_argument, NULL, 'i' },
		{ "peer", required_argument, NULL, 'p' },
		{ "wrong-expectation", optional_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opt.out_dir = optarg;
			break;
		case 'd':
		case 'i':
		case 'p':
			if (vprime_instance_index(optarg) < 0)
				die(EXIT_USAGE, "%s: not a vprime instance", optarg);
			*(c == 'd' ? &opt.discrete : c == 'i' ? &opt.integrated : &opt.peer) =
				optarg;
			break;
		case 'w':
			if (!optarg || !strcmp(optarg, "pixels"))
				opt.wrong |= WRONG_PIXELS;
			else if (!strcmp(optarg, "placement"))
				opt.wrong |= WRONG_PLACEMENT;
			else
				usage_exit(usage, false);
			break;
		case 'h':
			usage_exit(usage, true);
		default:
			usage_exit(usage, false);
		}
	}
	if (optind != argc)
		usage_exit(usage, false);
}

int main(int argc, char **argv)
{
	struct vprime_counters start, c, c2;
	struct drm_vprime_gem_info info, info2;
	uint32_t frame1, frame2, win, imp1, imp2, fb1, fb2;
	int dfd, gfd, pfd, dmabuf1, dmabuf2, k, ret;
	struct drm_vprime_gem_map map = { 0 };
	struct display_shown shown;
	struct frame frame;
	char peers[128];
	bool moved;

	tool_name = "vprime-offload";
	parse_args(argc, argv);
	find_instances();
	window_build();

	step("0. the instances");
	vprime_peers_text(vprime_instance_index(opt.discrete), peers, sizeof(peers));
	detail("discrete: %s, %ld MiB of VRAM, reached in place by %s", opt.discrete,
	       vprime_param("vram_mb", vprime_instance_index(opt.discrete)), peers);
	detail("integrated: %s, not a peer: its display cannot reach that VRAM", opt.integrated);
	detail("peer: %s, maps that VRAM in place (PCIe peer-to-peer)", opt.peer);
	ret = vprime_read_counters(opt.discrete, &start);
	have_counters = !ret;
	if (ret)
		detail("debugfs cannot be read (%s): VRAM use not shown", strerror(-ret));
	show_counters("at the start", &start);

	step("1. %s allocates frame 1 (%ux%u XRGB8888) and a %ux%u ARGB8888 window",
	     opt.discrete, W, H, WIN_W, WIN_H);
	dfd = open_or_die(opt.discrete, false);
	check_call(vprime_create(dfd, FRAME_SIZE, &frame1), opt.discrete, "GEM_CREATE");
	check_call(vprime_create(dfd, WIN_SIZE, &win), opt.discrete, "GEM_CREATE");
	info = info_of(dfd, frame1);
	info2 = info_of(dfd, win);
	show_info("frame 1", &info);
	check(!info.num_pages && !info2.num_pages && info.placement == VPRIME_PLACEMENT_NONE,
	      "storage was allocated", "nothing is allocated before the engine uses them");

	step("2. %s's job engine renders the window and frame 1", opt.discrete);
	render_window(dfd, win);
	render_frame(dfd, frame1, win, 1);
	info = info_of(dfd, frame1);
	show_info("frame 1", &info);
	c = counters();
	show_counters("now", &c);
	check(info.placement == VPRIME_PLACEMENT_VRAM, placement_name(info.placement),
	      "frame 1 is in %s's VRAM, where its first user, the engine, placed it",
	      opt.discrete);
	if (have_counters)
		check(c.vram_used >= start.vram_used + (long long)(FRAME_SIZE + WIN_SIZE),
		      "debugfs counts less", "debugfs counts frame 1 and the window in VRAM "
		      "(%lld more bytes used)", c.vram_used - start.vram_used);

	step("3. export frame 1; %s (integrated, not a peer) imports it", opt.integrated);
	imp1 = share(dfd, frame1, opt.integrated, &gfd, &dmabuf1);
	check_call(add_fb(gfd, imp1, W, H, DRM_FORMAT_XRGB8888, W * 4, &fb1), opt.integrated,
		   "ADDFB2");
	info = info_of(dfd, frame1);
	show_info("frame 1 after the import and ADDFB2", &info);
	check(info.placement == VPRIME_PLACEMENT_VRAM && !info.migrations &&
	      info.num_attachments == 1, placement_name(info.placement),
	      "importing moved nothing: frame 1 is still in VRAM, with 1 attachment");

	step("4. %s scans frame 1 out, reading it back through writeback", opt.integrated);
	c = counters();
	show(gfd, opt.integrated, fb1, &frame, &shown);
	info = info_of(dfd, frame1);
	c2 = counters();
	show_info("frame 1 on screen", &info);
	show_counters("now", &c2);
	moved = !(opt.wrong & WRONG_PLACEMENT);
	{
		char why[64];

		snprintf(why, sizeof(why), "it is in %s", placement_name(info.placement));
		if (moved)
			check(info.placement == VPRIME_PLACEMENT_SYSTEM && info.migrations == 1 &&
			      info.pin_count, why, "frame 1 moved from VRAM to system memory "
			      "before %s's display read it (1 migration, pinned)", opt.integrated);
		else
			check(info.placement == VPRIME_PLACEMENT_VRAM, why, "frame 1 stayed in VRAM "
			      "while %s's display read it", opt.integrated);
	}
	check(!info.evictions && !info.num_peer_mapped, "an eviction or a peer mapping",
	      "it moved for the importer: no eviction, no peer mapping");
	if (have_counters)
		check(c2.vram_used == c.vram_used - (long long)FRAME_SIZE &&
		      c2.bytes_moved == c.bytes_moved + (long long)FRAME_SIZE &&
		      c2.migrations == c.migrations + 1, "debugfs counts otherwise",
		      "debugfs: %" PRIu64 " bytes moved, and VRAM gave them back", FRAME_SIZE);
	check_call(display_off(gfd, &shown), opt.integrated, "display off");
	info = info_of(dfd, frame1);
	show_info("frame 1 off screen", &info);

	step("5. compare %s's frame with frame 1, pixel by pixel", opt.integrated);
	k = 1;
	compare_frame(gfd, &frame, k, opt.integrated, "offload-integrated.png");

	step("6. %s renders frame 2, the window moved, into VRAM", opt.discrete);
	check_call(vprime_create(dfd, FRAME_SIZE, &frame2), opt.discrete, "GEM_CREATE");
	render_frame(dfd, frame2, win, 2);
	info = info_of(dfd, frame2);
	show_info("frame 2", &info);
	check(info.placement == VPRIME_PLACEMENT_VRAM, placement_name(info.placement),
	      "frame 2 is in %s's VRAM", opt.discrete);
	info = info_of(dfd, frame1);
	detail("frame 1 stays in %s: nothing moves back to VRAM", placement_name(info.placement));

	step("7. export frame 2; %s (a peer) imports it and maps it for DMA", opt.peer);
	imp2 = share(dfd, frame2, opt.peer, &pfd, &dmabuf2);
	c = counters();
	map.handle = imp2;
	check_call(ioctl(pfd, DRM_IOCTL_VPRIME_GEM_MAP, &map) ? -errno : 0, opt.peer, "GEM_MAP");
	info = info_of(dfd, frame2);
	c2 = counters();
	detail("%s's map: %u segment(s), placement %s", opt.peer, map.num_segments,
	       placement_name(map.placement));
	show_info("frame 2 mapped by the peer", &info);
	show_counters("now", &c2);
	check(map.placement == VPRIME_PLACEMENT_VRAM && info.placement == VPRIME_PLACEMENT_VRAM &&
	      !info.migrations && info.num_peer_mapped == 1, placement_name(info.placement),
	      "%s maps frame 2 in place: still in VRAM, no migration, 1 peer-mapped", opt.peer);
	if (have_counters)
		check(c2.peer_mappings == c.peer_mappings + 1 && c2.vram_used == c.vram_used &&
		      c2.migrations == c.migrations, "debugfs counts otherwise",
		      "debugfs: one more peer mapping, nothing moved");

	step("8. %s scans frame 2 out from VRAM, reading it back through writeback", opt.peer);
	check_call(add_fb(pfd, imp2, W, H, DRM_FORMAT_XRGB8888, W * 4, &fb2), opt.peer, "ADDFB2");
	show(pfd, opt.peer, fb2, &frame, &shown);
	info = info_of(dfd, frame2);
	show_info("frame 2 on screen", &info);
	check(info.placement == VPRIME_PLACEMENT_VRAM && !info.migrations && info.pin_count,
	      placement_name(info.placement), "frame 2 stayed in VRAM while %s's display read "
	      "it (no migration, pinned)", opt.peer);
	check_call(display_off(pfd, &shown), opt.peer, "display off");

	step("9. compare %s's frame with frame 2, pixel by pixel", opt.peer);
	k = 2;
	compare_frame(pfd, &frame, k, opt.peer, "offload-peer.png");

	step("10. give everything back");
	check_call(ioctl(pfd, DRM_IOCTL_VPRIME_GEM_UNMAP,
			 &(struct drm_vprime_gem_unmap){ .handle = imp2 }) ? -errno : 0, opt.peer,
		   "GEM_UNMAP");
	info = info_of(dfd, frame2);
	check(!info.num_peer_mapped, "still peer-mapped",
	      "unmapped: frame 2 is peer-mapped by none");
	drmModeRmFB(pfd, fb2);
	drmModeRmFB(gfd, fb1);
	gem_close(pfd, imp2);
	gem_close(gfd, imp1);
	close(dmabuf2);
	close(dmabuf1);
	gem_close(dfd, frame2);
	gem_close(dfd, frame1);
	gem_close(dfd, win);
	if (have_counters) {
		/* Finished jobs drop their buffers on a workqueue: give them 5 s. */
		for (int i = 0; i < 50; i++) {
			c = counters();
			if (c.vram_used == start.vram_used && c.peer_mappings == start.peer_mappings)
				break;
			usleep(100 * 1000);
		}
		show_counters("at the end", &c);
		check(c.vram_used == start.vram_used && c.peer_mappings == start.peer_mappings,
		      "debugfs counts otherwise", "VRAM use and peer mappings are back to where "
		      "they started");
	}
	close(pfd);
	close(gfd);
	close(dfd);

	if (failures) {
		step("verdict: FAILED: %u of %u checks failed (the FAILED lines above)", failures,
		     checks);
		return EXIT_CHECK;
	}
	step("verdict: all verified (%u checks): %s rendered both frames in VRAM; frame 1 "
	     "moved to system memory for %s, frame 2 stayed in VRAM for its peer %s, and both "
	     "reached the screen pixel for pixel", checks, opt.discrete, opt.integrated, opt.peer);
	return 0;
}
