// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-x-pattern: make the root window's background pattern.h's picture
 * at the root's size (xsetroot's way: a pixmap of the root's depth as its
 * background, then the whole root cleared), and print "WIDTH HEIGHT".
 * The picture goes up with PutImage (ZPixmap, 24 bits deep, 32 per pixel)
 * in as many requests as the server's request size needs. The X server is
 * $DISPLAY's (on Linux libxcb reaches it through its abstract socket, so
 * this runs outside the chroot the server runs in).
 */

#include <stdio.h>
#include <stdlib.h>
#include <xcb/xcb.h>

#include "../weston/pattern.h"

static void check(xcb_connection_t *c, xcb_void_cookie_t ck, const char *what)
{
	xcb_generic_error_t *e = xcb_request_check(c, ck);

	if (e) {
		fprintf(stderr, "vprime-x-pattern: %s: X error %u\n", what, e->error_code);
		exit(1);
	}
}

int main(void)
{
	xcb_connection_t *c = xcb_connect(NULL, NULL);
	const xcb_setup_t *setup;
	xcb_screen_t *s;
	xcb_pixmap_t pix;
	xcb_gcontext_t gc;
	uint32_t w, h, rows, *buf, max;

	if (xcb_connection_has_error(c)) {
		fprintf(stderr, "vprime-x-pattern: cannot connect to the X server\n");
		return 1;
	}
	setup = xcb_get_setup(c);
	s = xcb_setup_roots_iterator(setup).data;
	w = s->width_in_pixels;
	h = s->height_in_pixels;
	if (s->root_depth != 24) {
		fprintf(stderr, "vprime-x-pattern: the root is %u bits deep, not 24\n", s->root_depth);
		return 1;
	}
	pix = xcb_generate_id(c);
	check(c, xcb_create_pixmap_checked(c, 24, pix, s->root, w, h), "CreatePixmap");
	gc = xcb_generate_id(c);
	check(c, xcb_create_gc_checked(c, gc, pix, 0, NULL), "CreateGC");
	max = xcb_get_maximum_request_length(c) * 4;
	rows = (max - 64) / (w * 4);
	if (!rows) {
		fprintf(stderr, "vprime-x-pattern: a row of %u pixels does not fit a request\n", w);
		return 1;
	}
	buf = malloc((size_t)w * 4 * rows);
	if (!buf)
		return 1;
	for (uint32_t y0 = 0; y0 < h; y0 += rows) {
		uint32_t n = h - y0 < rows ? h - y0 : rows;

		for (uint32_t y = 0; y < n; y++)
			for (uint32_t x = 0; x < w; x++)
				buf[(size_t)y * w + x] = pattern_pixel(x, y0 + y, w, h);
		check(c, xcb_put_image_checked(c, XCB_IMAGE_FORMAT_Z_PIXMAP, pix, gc, w, n, 0, y0,
					       0, 24, w * 4 * n, (const uint8_t *)buf), "PutImage");
	}
	free(buf);
	check(c, xcb_change_window_attributes_checked(c, s->root, XCB_CW_BACK_PIXMAP, &pix),
	      "ChangeWindowAttributes");
	check(c, xcb_clear_area_checked(c, 0, s->root, 0, 0, 0, 0), "ClearArea");
	check(c, xcb_free_pixmap_checked(c, pix), "FreePixmap");
	printf("%u %u\n", w, h);
	xcb_disconnect(c);
	return 0;
}
