// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-wl-pattern: the Weston test's client. One xdg_toplevel, drawn once
 * with the picture of pattern.h in a wl_shm buffer: --size WxH, or else the
 * size the shell configures (kiosk-shell: the output's), or 640x480 when it
 * leaves the size to the client. Once the compositor says the frame was
 * presented (wp_presentation), it writes "WIDTH HEIGHT" to --ready FILE and
 * stays, redrawing if it is configured anew, until SIGTERM or SIGINT.
 *
 * With --dmabuf CARD the buffer is a dma-buf instead: a dumb buffer of the
 * DRM device CARD (a card node: it may be another device than the
 * compositor's), drawn through its mapping and exported with
 * PRIME_HANDLE_TO_FD, sent through zwp_linux_dmabuf_v1 as XRGB8888 with the
 * LINEAR modifier; --direct-display marks it with Weston's
 * weston_direct_display_v1, so that Weston never imports it into its
 * renderer: only its KMS device may (on a plane), else it shows a placeholder.
 *
 * usage: vprime-wl-pattern --ready FILE [--size WxH] [--timeout SECONDS]
 *                          [--dmabuf CARD [--direct-display]]
 * Exit status 0 after a signal, 1 on any error (said on stderr).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <wayland-client.h>
#include <xf86drm.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "pattern.h"
#include "presentation-time-client-protocol.h"
#include "weston-direct-display-client-protocol.h"
#include "xdg-shell-client-protocol.h"

struct buffer {
	struct wl_buffer *wl;
	uint32_t *pixels;
	size_t size;
	int32_t width, height;
	uint32_t handle;	/* the dumb buffer's (--dmabuf), or 0 */
};

struct client {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wp_presentation *presentation;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct buffer buffer;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	struct weston_direct_display_v1 *direct_display;
	int drm_fd;				/* --dmabuf's card, or -1 */
	bool want_direct;			/* --direct-display */

	int32_t conf_width, conf_height;	/* from the last toplevel configure */
	int32_t want_width, want_height;	/* --size, or 0 */
	bool configured;			/* an xdg_surface configure to act on */
	/* What became of the last commit; earlier ones' feedback is ignored. */
	enum { FRAME_NONE, FRAME_PENDING, FRAME_PRESENTED, FRAME_DISCARDED } frame;
	struct wp_presentation_feedback *latest;
	const char *ready_path;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vprime-wl-pattern: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_ping,
};

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
			    const char *interface, uint32_t version)
{
	struct client *c = data;

	if (!strcmp(interface, wl_compositor_interface.name))
		c->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	else if (!strcmp(interface, wl_shm_interface.name))
		c->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	else if (!strcmp(interface, xdg_wm_base_interface.name))
		c->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	else if (!strcmp(interface, wp_presentation_interface.name))
		c->presentation = wl_registry_bind(registry, name, &wp_presentation_interface, 1);
	/* Version 3: before it, Weston takes every buffer's modifier as INVALID. */
	else if (!strcmp(interface, zwp_linux_dmabuf_v1_interface.name) && version >= 3)
		c->dmabuf = wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3);
	else if (!strcmp(interface, weston_direct_display_v1_interface.name))
		c->direct_display = wl_registry_bind(registry, name,
						     &weston_direct_display_v1_interface, 1);
}

static void registry_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	struct client *c = data;

	xdg_surface_ack_configure(xdg_surface, serial);
	c->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

static void toplevel_configure(void *data, struct xdg_toplevel *toplevel,
			       int32_t width, int32_t height, struct wl_array *states)
{
	struct client *c = data;

	c->conf_width = width;
	c->conf_height = height;
}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	stop = 1;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void feedback_sync_output(void *data, struct wp_presentation_feedback *fb,
				 struct wl_output *output)
{
}

static void feedback_presented(void *data, struct wp_presentation_feedback *fb,
			       uint32_t tv_sec_hi, uint32_t tv_sec_lo, uint32_t tv_nsec,
			       uint32_t refresh, uint32_t seq_hi, uint32_t seq_lo, uint32_t flags)
{
	struct client *c = data;

	fprintf(stderr, "vprime-wl-pattern: %sframe presented (msc %llu, flags 0x%x)\n",
		fb == c->latest ? "" : "an earlier ", (unsigned long long)seq_hi << 32 | seq_lo,
		flags);
	if (fb == c->latest) {
		c->frame = FRAME_PRESENTED;
		c->latest = NULL;
	}
	wp_presentation_feedback_destroy(fb);
}

static void feedback_discarded(void *data, struct wp_presentation_feedback *fb)
{
	struct client *c = data;

	fprintf(stderr, "vprime-wl-pattern: %sframe discarded\n",
		fb == c->latest ? "" : "an earlier ");
	if (fb == c->latest) {
		c->frame = FRAME_DISCARDED;
		c->latest = NULL;
	}
	wp_presentation_feedback_destroy(fb);
}

static const struct wp_presentation_feedback_listener feedback_listener = {
	.sync_output = feedback_sync_output,
	.presented = feedback_presented,
	.discarded = feedback_discarded,
};

static void buffer_free(struct client *c, struct buffer *b)
{
	if (!b->wl)
		return;
	wl_buffer_destroy(b->wl);
	munmap(b->pixels, b->size);
	if (b->handle) {
		struct drm_mode_destroy_dumb destroy = { .handle = b->handle };

		drmIoctl(c->drm_fd, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
	}
	*b = (struct buffer){ 0 };
}

static void fill(struct buffer *b, uint32_t pitch)
{
	for (int32_t y = 0; y < b->height; y++)
		for (int32_t x = 0; x < b->width; x++)
			b->pixels[(size_t)y * (pitch / 4) + x] =
				pattern_pixel(x, y, b->width, b->height);
}

/*
 * A dumb buffer of --dmabuf's device holding the pattern, exported and sent
 * as a linux-dmabuf buffer (marked for direct display with
 * --direct-display). Weston creates it or ends the connection.
 */
static void buffer_draw_dmabuf(struct client *c, int32_t w, int32_t h)
{
	struct buffer *b = &c->buffer;
	struct drm_mode_create_dumb create = { .width = w, .height = h, .bpp = 32 };
	struct drm_mode_map_dumb map = { 0 };
	struct zwp_linux_buffer_params_v1 *params;
	int fd;

	if (drmIoctl(c->drm_fd, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		die("CREATE_DUMB %dx%d: %s", w, h, strerror(errno));
	b->handle = create.handle;
	b->size = create.size;
	map.handle = create.handle;
	if (drmIoctl(c->drm_fd, DRM_IOCTL_MODE_MAP_DUMB, &map))
		die("MAP_DUMB: %s", strerror(errno));
	b->pixels = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->drm_fd,
			 map.offset);
	if (b->pixels == MAP_FAILED)
		die("mmap of the dumb buffer: %s", strerror(errno));
	fill(b, create.pitch);
	if (drmPrimeHandleToFD(c->drm_fd, create.handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		die("PRIME_HANDLE_TO_FD: %s", strerror(errno));
	params = zwp_linux_dmabuf_v1_create_params(c->dmabuf);
	if (c->want_direct)
		weston_direct_display_v1_enable(c->direct_display, params);
	zwp_linux_buffer_params_v1_add(params, fd, 0, 0, create.pitch,
				       DRM_FORMAT_MOD_LINEAR >> 32,
				       DRM_FORMAT_MOD_LINEAR & 0xffffffff);
	b->wl = zwp_linux_buffer_params_v1_create_immed(params, w, h, DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	close(fd);
	fprintf(stderr, "vprime-wl-pattern: a %dx%d dumb buffer (pitch %u), exported%s\n",
		w, h, create.pitch, c->want_direct ? ", for direct display" : "");
}

/* A wl_shm XRGB8888 buffer of @w x @h holding the pattern. */
static void buffer_draw(struct client *c, int32_t w, int32_t h)
{
	struct buffer *b = &c->buffer;
	struct wl_shm_pool *pool;
	int fd;

	buffer_free(c, b);
	b->width = w;
	b->height = h;
	if (c->drm_fd >= 0) {
		buffer_draw_dmabuf(c, w, h);
		return;
	}
	b->size = (size_t)w * h * 4;
	fd = memfd_create("vprime-wl-pattern", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, b->size) < 0)
		die("memfd of %zu bytes: %s", b->size, strerror(errno));
	b->pixels = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b->pixels == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	fill(b, w * 4);
	pool = wl_shm_create_pool(c->shm, fd, b->size);
	b->wl = wl_shm_pool_create_buffer(pool, 0, w, h, w * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
}

/* Show the pattern at the configured size and ask when it is presented. */
static void show(struct client *c)
{
	int32_t w = c->want_width ? c->want_width : c->conf_width > 0 ? c->conf_width : 640;
	int32_t h = c->want_height ? c->want_height : c->conf_height > 0 ? c->conf_height : 480;
	struct wp_presentation_feedback *fb;

	if (!c->buffer.wl || c->buffer.width != w || c->buffer.height != h)
		buffer_draw(c, w, h);
	wl_surface_attach(c->surface, c->buffer.wl, 0, 0);
	wl_surface_damage_buffer(c->surface, 0, 0, w, h);
	fb = wp_presentation_feedback(c->presentation, c->surface);
	wp_presentation_feedback_add_listener(fb, &feedback_listener, c);
	c->latest = fb;
	wl_surface_commit(c->surface);
	c->frame = FRAME_PENDING;
	fprintf(stderr, "vprime-wl-pattern: committed a %dx%d frame\n", w, h);
}

static void write_ready(struct client *c)
{
	FILE *f = fopen(c->ready_path, "w");

	if (!f || fprintf(f, "%d %d\n", c->buffer.width, c->buffer.height) < 0 || fclose(f))
		die("%s: %s", c->ready_path, strerror(errno));
}

/*
 * Dispatch events for up to @ms milliseconds (forever when negative);
 * false on a timeout. A signal only ends the wait early.
 */
static bool dispatch(struct client *c, int ms)
{
	struct pollfd pfd = { .fd = wl_display_get_fd(c->display), .events = POLLIN };
	int ret;

	while (wl_display_prepare_read(c->display) != 0)
		wl_display_dispatch_pending(c->display);
	if (wl_display_flush(c->display) < 0 && errno != EAGAIN)
		die("lost the compositor: %s", strerror(errno));
	ret = poll(&pfd, 1, ms);
	if (ret <= 0) {
		wl_display_cancel_read(c->display);
		if (ret < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		return ret < 0;
	}
	if (wl_display_read_events(c->display) < 0 ||
	    wl_display_dispatch_pending(c->display) < 0)
		die("lost the compositor: %s", strerror(errno));
	return true;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ready", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dmabuf", required_argument, NULL, 'd' },
		{ "direct-display", no_argument, NULL, 'g' },
		{ 0 }
	};
	struct client c = { .drm_fd = -1 };
	struct wl_registry *registry;
	double deadline, timeout = 30;
	bool ready = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			c.ready_path = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%dx%d", &c.want_width, &c.want_height) != 2 ||
			    c.want_width <= 0 || c.want_height <= 0)
				die("--size %s: not WIDTHxHEIGHT", optarg);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'd':
			c.drm_fd = open(optarg, O_RDWR | O_CLOEXEC);
			if (c.drm_fd < 0)
				die("%s: %s", optarg, strerror(errno));
			break;
		case 'g':
			c.want_direct = true;
			break;
		default:
			fprintf(stderr, "usage: %s --ready FILE [--size WxH] [--timeout SECONDS] "
				"[--dmabuf CARD [--direct-display]]\n", argv[0]);
			return 2;
		}
	}
	if (!c.ready_path) {
		fprintf(stderr, "usage: %s --ready FILE [--size WxH] [--timeout SECONDS]\n",
			argv[0]);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	c.display = wl_display_connect(NULL);
	if (!c.display)
		die("cannot connect to the compositor (WAYLAND_DISPLAY=%s): %s",
		    getenv("WAYLAND_DISPLAY") ? getenv("WAYLAND_DISPLAY") : "(unset)",
		    strerror(errno));
	registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(registry, &registry_listener, &c);
	wl_display_roundtrip(c.display);
	if (!c.compositor || !c.shm || !c.wm_base || !c.presentation)
		die("the compositor lacks%s%s%s%s", c.compositor ? "" : " wl_compositor",
		    c.shm ? "" : " wl_shm", c.wm_base ? "" : " xdg_wm_base",
		    c.presentation ? "" : " wp_presentation");
	if (c.drm_fd >= 0 && !c.dmabuf)
		die("the compositor lacks zwp_linux_dmabuf_v1 (version 3 or later)");
	if (c.want_direct && !c.direct_display)
		die("the compositor lacks weston_direct_display_v1");
	xdg_wm_base_add_listener(c.wm_base, &wm_base_listener, &c);

	c.surface = wl_compositor_create_surface(c.compositor);
	c.xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(c.xdg_surface, &xdg_surface_listener, &c);
	c.toplevel = xdg_surface_get_toplevel(c.xdg_surface);
	xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, &c);
	xdg_toplevel_set_title(c.toplevel, "vprime pattern");
	xdg_toplevel_set_app_id(c.toplevel, "vprime-wl-pattern");
	wl_surface_commit(c.surface);

	deadline = now() + timeout;
	while (!stop) {
		if (c.configured) {
			c.configured = false;
			show(&c);
		} else if (c.frame == FRAME_DISCARDED) {
			show(&c);
		} else if (c.frame == FRAME_PRESENTED && !ready) {
			write_ready(&c);
			ready = true;
			fprintf(stderr, "vprime-wl-pattern: on screen, %dx%d\n",
				c.buffer.width, c.buffer.height);
		}
		if (ready) {
			dispatch(&c, -1);
		} else {
			double left = deadline - now();

			if (left <= 0)
				die("no frame presented within %g s (%s)", timeout,
				    c.frame == FRAME_NONE ? "never configured" : "committed");
			dispatch(&c, (int)(left * 1000) + 1);
		}
	}
	buffer_free(&c, &c.buffer);
	xdg_toplevel_destroy(c.toplevel);
	xdg_surface_destroy(c.xdg_surface);
	wl_surface_destroy(c.surface);
	wl_display_disconnect(c.display);
	return 0;
}
