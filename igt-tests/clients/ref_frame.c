// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-ref-frame PW PH X Y W H: the W x H region at (X, Y) of pattern.h's
 * picture of PW x PH (the window vprime-wl-pattern draws, the root window
 * vprime-x-pattern makes), as a raw XRGB8888 frame on stdout, for
 * vprime-frame-crc: the reference the Xorg and wlroots client tests
 * (xorg-test, wlroots-test) compare a CRTC's CRC with. Pixels outside the
 * picture are black.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../weston/pattern.h"

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end || v > UINT32_MAX) {
		fprintf(stderr, "vprime-ref-frame: %s is not a number\n", s);
		exit(2);
	}
	return v;
}

static void put(uint32_t px)
{
	unsigned char b[4] = { px & 0xff, px >> 8 & 0xff, px >> 16 & 0xff, 0xff };

	fwrite(b, 1, 4, stdout);
}

int main(int argc, char **argv)
{
	uint32_t pw, ph, x0, y0, w, h;

	if (argc != 7) {
		fprintf(stderr, "usage: vprime-ref-frame PW PH X Y W H\n");
		return 2;
	}
	pw = num(argv[1]);
	ph = num(argv[2]);
	x0 = num(argv[3]);
	y0 = num(argv[4]);
	w = num(argv[5]);
	h = num(argv[6]);
	for (uint32_t y = y0; y < y0 + h; y++)
		for (uint32_t x = x0; x < x0 + w; x++)
			put(x < pw && y < ph ? pattern_pixel(x, y, pw, ph) : 0);
	return fflush(stdout) ? 1 : 0;
}
