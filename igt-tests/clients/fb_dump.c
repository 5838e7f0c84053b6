// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime-fb-dump CARD CRTC FILE: the framebuffer CARD's CRTC (its index)
 * scans out, as raw XRGB8888 rows of the CRTC's mode's size at the CRTC's
 * offset, into FILE; for when a compositor holds master and a frame's CRC
 * does not match. GETFB2 hands an unprivileged fd no handle: run as root.
 * Only the primary plane's buffer (no cursor, no overlay), 32 bits a pixel.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

static int die(const char *what)
{
	fprintf(stderr, "vprime-fb-dump: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct drm_mode_map_dumb map = { 0 };
	drmModeResPtr res;
	drmModeCrtcPtr crtc;
	drmModeFB2Ptr fb;
	unsigned char *p;
	size_t size;
	FILE *f;
	int fd, i;

	if (argc != 4) {
		fprintf(stderr, "usage: vprime-fb-dump CARD CRTC-INDEX FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		return die(argv[1]);
	res = drmModeGetResources(fd);
	if (!res)
		return die("GETRESOURCES");
	i = atoi(argv[2]);
	if (i < 0 || i >= res->count_crtcs) {
		fprintf(stderr, "vprime-fb-dump: no CRTC %d\n", i);
		return 1;
	}
	crtc = drmModeGetCrtc(fd, res->crtcs[i]);
	if (!crtc || !crtc->buffer_id || !crtc->mode_valid) {
		fprintf(stderr, "vprime-fb-dump: CRTC %d shows no framebuffer\n", i);
		return 1;
	}
	fb = drmModeGetFB2(fd, crtc->buffer_id);
	if (!fb)
		return die("GETFB2");
	if (!fb->handles[0]) {
		fprintf(stderr, "vprime-fb-dump: GETFB2 gave no handle (not root?)\n");
		return 1;
	}
	map.handle = fb->handles[0];
	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map))
		return die("MAP_DUMB");
	size = (size_t)fb->pitches[0] * fb->height + fb->offsets[0];
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, map.offset);
	if (p == MAP_FAILED)
		return die("mmap");
	f = fopen(argv[3], "wb");
	if (!f)
		return die(argv[3]);
	fprintf(stderr, "fb %u: %ux%u format %.4s modifier 0x%llx pitch %u; CRTC at %u,%u %ux%u\n",
		fb->fb_id, fb->width, fb->height, (char *)&fb->pixel_format,
		(unsigned long long)fb->modifier, fb->pitches[0], crtc->x, crtc->y,
		crtc->mode.hdisplay, crtc->mode.vdisplay);
	for (unsigned int y = crtc->y; y < crtc->y + crtc->mode.vdisplay && y < fb->height; y++)
		fwrite(p + fb->offsets[0] + (size_t)y * fb->pitches[0] + crtc->x * 4, 4,
		       crtc->mode.hdisplay, f);
	return fclose(f) ? die(argv[3]) : 0;
}
