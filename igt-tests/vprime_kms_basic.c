// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's display, the parts that show no frame of their own: the modes a
 * CRTC takes, the framebuffers ADDFB2 refuses, the connectors' EDID, and the
 * fbdev emulation (whose frames are checked by CRC against the same frames
 * shown through KMS).
 *
 * The display tests' conventions (vprime.0's card node as DRM master, the
 * CRTC the library lights, every subtest turning its CRTCs off) are in
 * lib/vprime_output.h.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/fb.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vprime_bo.h"
#include "vprime_kms.h"
#include "vprime_output.h"
#include "vprime_ref.h"
#include "vprime_test.h"
#include "vtest.h"

/* mode-invalid */

static void test_mode_invalid(void)
{
	int fd = open_card();
	drmModeModeInfo m = dmt_1024x768();

	/* The mode itself, and at 240 Hz, pass. */
	vt_assert_eq(kms_try_mode(fd, &m), 0);
	m.clock = 65000 * 4;
	vt_assert_eq(kms_try_mode(fd, &m), 0);

	/* Past 600 MHz, past 240 Hz, below 1 Hz: -EINVAL. */
	m = dmt_1024x768();
	m.clock = 600001;
	m.htotal = 8192;	/* 91 Hz: only the clock is wrong */
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	m = dmt_1024x768();
	m.clock = INT32_MAX;
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	m = dmt_1024x768();
	m.clock = 65000 * 5;	/* 300 Hz */
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	m = dmt_1024x768();
	m.clock = 500;		/* 0.46 Hz */
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);

	/* htotal * vtotal * vscan = 2^32: the refresh rate overflows. */
	m = dmt_1024x768();
	m.htotal = 32768;
	m.vtotal = 32768;
	m.vscan = 4;
	vt_assert_eq(kms_try_mode(fd, &m), -EINVAL);
	close(fd);
}

/* addfb-invalid */

struct addfb_case {
	const char *name;
	int err;
	void (*spoil)(struct drm_mode_fb_cmd2 *f, int fd);
};

/* A handle this file had and closed. */
static void spoil_handle(struct drm_mode_fb_cmd2 *f, int fd)
{
	uint32_t h = vprime_gem_create(fd, VT_PAGE);

	gem_close(fd, h);
	f->handles[0] = h;
}

static void spoil_pitch(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->pitches[0] = f->width * 4 - 4;
}

static void spoil_format(struct drm_mode_fb_cmd2 *f, int fd)
{
	vt_require_f(!kms_any_plane_has_format(fd, DRM_FORMAT_C8),
		     "a plane lists C8: no unsupported format to try\n");
	f->pixel_format = DRM_FORMAT_C8;
}

static void spoil_modifier(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->flags |= DRM_MODE_FB_MODIFIERS;
	f->modifier[0] = I915_FORMAT_MOD_X_TILED;
}

/* One row more than the object holds. */
static void spoil_height(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->height++;
}

/* The same size, starting a page into the object. */
static void spoil_offset(struct drm_mode_fb_cmd2 *f, int fd)
{
	f->offsets[0] = VT_PAGE;
}

static const struct addfb_case addfb_cases[] = {
	{ "bad-handle", ENOENT, spoil_handle },
	{ "pitch-too-small", EINVAL, spoil_pitch },
	{ "unsupported-format", EINVAL, spoil_format },
	{ "non-linear-modifier", EINVAL, spoil_modifier },
	{ "larger-than-object", EINVAL, spoil_height },
	{ "offset-past-object", EINVAL, spoil_offset },
};

static void addfb_run(void *arg)
{
	const struct addfb_case *c = arg;
	const uint32_t pitch = W * 4;
	int fd = open_card();
	uint32_t bo = vprime_gem_create(fd, (uint64_t)pitch * H);	/* exactly W x H */
	struct drm_mode_fb_cmd2 good = {
		.width = W, .height = H, .pixel_format = DRM_FORMAT_XRGB8888,
		.handles = { bo }, .pitches = { pitch },
	}, bad = good;

	/* The request is valid before it is spoilt. */
	vt_assert_ok(ioctl(fd, DRM_IOCTL_MODE_ADDFB2, &good));
	vt_assert_eq(drmModeRmFB(fd, good.fb_id), 0);

	c->spoil(&bad, fd);
	vt_assert_errno(ioctl(fd, DRM_IOCTL_MODE_ADDFB2, &bad), c->err);
	gem_close(fd, bo);
	close(fd);
}

static void test_addfb_invalid(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(addfb_cases); i++)
		vtest_dynamic(addfb_cases[i].name, addfb_run, (void *)&addfb_cases[i]);
}

/* edid */

#define EDID_LEN	128

/* The EDID blob of connector @conn, in @edid; false when it has none. */
static bool connector_edid(int fd, uint32_t conn, uint8_t *edid)
{
	uint64_t blob_id = kms_get_prop(fd, conn, DRM_MODE_OBJECT_CONNECTOR, "EDID");
	drmModePropertyBlobPtr blob;

	if (!blob_id)
		return false;
	blob = drmModeGetPropertyBlob(fd, blob_id);
	vt_assert_f(blob, "EDID blob %" PRIu64 ": %m\n", blob_id);
	vt_assert_f(blob->length == EDID_LEN, "the EDID is %u bytes, not one block\n",
		    blob->length);
	memcpy(edid, blob->data, EDID_LEN);
	drmModeFreePropertyBlob(blob);
	return true;
}

/* The text of the display descriptor tagged @tag, "" when there is none. */
static void edid_descriptor_text(const uint8_t *edid, uint8_t tag, char *text)
{
	text[0] = '\0';
	for (int d = 54; d < 126; d += 18) {
		const uint8_t *desc = edid + d;
		int n;

		if (desc[0] || desc[1] || desc[3] != tag)
			continue;
		for (n = 0; n < 13 && desc[5 + n] != '\n'; n++)
			text[n] = desc[5 + n];
		text[n] = '\0';
		return;
	}
}

/* Connector @conn's mode @w x @h at 60 Hz, if listed, in @mode. */
static bool find_mode(const drmModeConnector *c, int w, int h, drmModeModeInfo *mode)
{
	for (int i = 0; i < c->count_modes; i++) {
		if (c->modes[i].hdisplay == w && c->modes[i].vdisplay == h &&
		    c->modes[i].vrefresh == 60) {
			*mode = c->modes[i];
			return true;
		}
	}
	return false;
}

/* The virtual (not writeback) connector of the card @fd. */
static drmModeConnector *virtual_connector(int fd)
{
	drmModeRes *res = drmModeGetResources(fd);
	drmModeConnector *found = NULL;

	vt_assert_f(res, "GETRESOURCES: %m\n");
	for (int i = 0; i < res->count_connectors && !found; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);

		vt_assert_f(c, "GETCONNECTOR %u: %m\n", res->connectors[i]);
		if (c->connector_type == DRM_MODE_CONNECTOR_VIRTUAL)
			found = c;
		else
			drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	vt_assert_f(found, "no virtual connector\n");
	return found;
}

/* Instance @index's EDID: well formed and saying what vprime puts in it. */
static void check_edid(int index, uint32_t *serial)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	int fd = vprime_open(index, VPRIME_NODE_CARD);
	drmModeConnector *c = virtual_connector(fd);
	char text[16], want[16];
	drmModeModeInfo mode;
	uint8_t edid[EDID_LEN], sum = 0;

	vt_assert_f(connector_edid(fd, c->connector_id, edid), "vprime.%d's connector has no "
		    "EDID\n", index);
	vt_assert_f(!memcmp(edid, header, sizeof(header)), "bad EDID header\n");
	for (int i = 0; i < EDID_LEN; i++)
		sum += edid[i];
	vt_assert_f(sum == 0, "EDID checksum: the bytes add up to 0x%02x\n", sum);
	vt_assert_eq(edid[18], 1);				/* EDID 1.4 */
	vt_assert_eq(edid[19], 4);
	vt_assert_eq(edid[8] << 8 | edid[9],			/* "VPR" */
		     ('V' - '@') << 10 | ('P' - '@') << 5 | ('R' - '@'));
	*serial = edid[12] | edid[13] << 8 | edid[14] << 16 | (uint32_t)edid[15] << 24;
	edid_descriptor_text(edid, 0xfc, text);
	snprintf(want, sizeof(want), "vprime-%d.0", index);
	vt_assert_f(!strcmp(text, want), "monitor name \"%s\", not \"%s\"\n", text, want);

	/* The core parsed it: size, preferred mode, standard timings. */
	vt_assert_eq(c->mmWidth, 400);
	vt_assert_eq(c->mmHeight, 300);
	vt_assert_f(find_mode(c, 1024, 768, &mode), "no 1024x768@60\n");
	vt_assert_f(mode.type & DRM_MODE_TYPE_PREFERRED, "1024x768 is not preferred\n");
	vt_assert_eq(mode.clock, 65000);
	vt_assert_eq(mode.htotal, 1344);
	vt_assert_eq(mode.vtotal, 806);
	vt_assert_f(find_mode(c, 1920, 1080, &mode), "no 1920x1080@60\n");
	vt_assert_f(find_mode(c, 640, 480, &mode), "no 640x480@60\n");
	vtest_info("vprime.%d: \"%s\", serial %u, %d modes\n", index, text, *serial,
		   c->count_modes);
	drmModeFreeConnector(c);
	close(fd);
}

static void test_edid(void)
{
	uint32_t serial0, serial1;

	check_edid(0, &serial0);
	check_edid(1, &serial1);
	vt_assert_f(serial0 != serial1, "vprime.0 and vprime.1 have the same serial %u\n",
		    serial0);
}

/* fbdev */

#define FBDEV_WAIT_MS	3000

/* The fbdev of instance vprime.0: its /dev/fbN path, or false. */
static bool vprime_fbdev(char *path, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];

	for (int i = 0; i < 32; i++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/sys/class/graphics/fb%d/device", i);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(strrchr(target, '/') ? strrchr(target, '/') + 1 : target,
			   "vprime.0"))
			continue;
		snprintf(path, len, "/dev/fb%d", i);
		return true;
	}
	return false;
}

/*
 * Wait until the frame's CRC is (@equal) or is not @crc: the fbdev helper
 * copies what was written to the framebuffer a little later.
 */
static uint32_t wait_crc(const char *dir, uint32_t crc, bool equal, const char *what)
{
	int fd = crc_start(dir);
	struct crc c = {};

	for (int waited = 0; waited < FBDEV_WAIT_MS; waited += 1000 / 60) {
		c = crc_read(fd);
		if ((c.value == crc) == equal)
			break;
	}
	close(fd);
	vt_assert_f((c.value == crc) == equal, "%s: CRC 0x%08x, %s 0x%08x\n", what, c.value,
		    equal ? "wanted" : "as before,", crc);
	return c.value;
}

/*
 * The CRC of @fb shown full screen through KMS, as DRM master; the index of
 * the CRTC that showed it in *@crtc_index.
 */
static uint32_t kms_crc_of(int fd, const struct fb *fb, const char *what, int *crtc_index)
{
	struct kms_output out;
	char dir[PATH_MAX];
	uint32_t crc;

	output_on(fd, fb, &out);
	crc_dir(out.crtc_index, dir, sizeof(dir));
	crc = crc_of_frame(dir, what);
	kms_output_off(fd, &out);
	*crtc_index = out.crtc_index;
	return crc;
}

/* A copy of @fb's pixels, @fb->w * 4 bytes a row. */
static uint32_t *fb_pixels(const struct fb *fb)
{
	uint32_t *pixels = malloc((size_t)fb->w * fb->h * 4);

	vt_assert(pixels);
	for (uint32_t y = 0; y < fb->h; y++)
		memcpy(pixels + (size_t)y * fb->w, (uint8_t *)fb->map + (size_t)y * fb->pitch,
		       fb->w * 4);
	return pixels;
}

/*
 * The framebuffer the primary plane of vprime.0's CRTC @crtc_index scans out holds
 * @frame: what the fbdev wrote reached the GEM object (GETFB2 gives root
 * its handle). Closing the card afterwards gives the display back to fbdev.
 * (Debian's 6.1 and 6.12 lose a write() of exactly one whole line: it
 * damages an empty rectangle, fixed in later kernels. Whole frames are
 * written here.)
 */
static void check_fbdev_object(int crtc_index, const uint32_t *frame, const char *what)
{
	int fd = open_card();
	uint32_t plane_id;
	drmModePlanePtr plane;
	drmModeFB2Ptr fb;
	uint8_t *map;
	size_t size;
	int bad = 0;

	vt_assert_ok(drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1));
	plane_id = kms_plane_id(fd, crtc_index, KMS_PLANE_PRIMARY);
	plane = drmModeGetPlane(fd, plane_id);
	vt_assert_f(plane && plane->fb_id, "the primary plane shows no framebuffer\n");
	fb = drmModeGetFB2(fd, plane->fb_id);
	vt_assert_f(fb && fb->handles[0], "GETFB2 %u: %m\n", plane->fb_id);
	vt_assert_eq(fb->width, W);
	vt_assert_eq(fb->height, H);
	size = (size_t)fb->pitches[0] * H;
	map = vprime_gem_mmap(fd, fb->handles[0], size);
	for (int y = 0; y < H; y++)
		bad += !!memcmp(map + (size_t)y * fb->pitches[0], frame + (size_t)y * W, W * 4);
	vt_assert_f(bad == 0, "%s: %d of %d rows of the fbdev's framebuffer differ\n", what, bad,
		    H);
	munmap(map, size);
	gem_close(fd, fb->handles[0]);
	drmModeFreeFB2(fb);
	drmModeFreePlane(plane);
	close(fd);
}

static void test_fbdev(void)
{
	uint32_t crc_a, crc_b, *frame_a, *frame_b;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	char path[64], dir[PATH_MAX];
	struct fb a, b;
	int fd, fbfd, crtc_index;
	uint8_t *map, *buf;

	vt_require_f(vprime_param_bool("fbdev", 0), "vprime was loaded with fbdev=0\n");
	vt_require_f(access("/sys/class/graphics/fb0", F_OK) == 0, "this kernel gives no "
		     "driver an fbdev (no /sys/class/graphics/fb0)\n");
	vt_assert_f(vprime_fbdev(path, sizeof(path)), "vprime.0 has no /dev/fbN "
		    "(/sys/class/graphics/fb*/device)\n");

	/* Two frames shown through KMS first, for their CRCs. */
	fd = open_card();
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &a);
	fb_fill(&a, 0xfbde, false);
	fb_create(fd, DRM_FORMAT_XRGB8888, W, H, &b);
	fb_fill(&b, 0xfbdf, false);
	crc_a = kms_crc_of(fd, &a, "frame A through KMS", &crtc_index);
	crc_b = kms_crc_of(fd, &b, "frame B through KMS", &crtc_index);
	vt_assert_neq(crc_a, crc_b);
	frame_a = fb_pixels(&a);
	frame_b = fb_pixels(&b);
	/* fbdev lights every output: that CRTC shows its frames too. */
	crc_dir(crtc_index, dir, sizeof(dir));
	/* Unmapped and closed, so that the master goes away. */
	fb_release(fd, &a);
	fb_release(fd, &b);
	close(fd);

	/*
	 * With no master left, an fbdev client (fbcon, a splash screen) sets
	 * its mode, which turns the display on with the fbdev's buffer.
	 */
	fbfd = open(path, O_RDWR | O_CLOEXEC);
	vt_assert_f(fbfd >= 0, "open %s: %m\n", path);
	vt_assert_ok(ioctl(fbfd, FBIOGET_VSCREENINFO, &var));
	vt_assert_ok(ioctl(fbfd, FBIOGET_FSCREENINFO, &fix));
	var.activate = FB_ACTIVATE_NOW | FB_ACTIVATE_FORCE;
	vt_assert_ok(ioctl(fbfd, FBIOPUT_VSCREENINFO, &var));
	vtest_info("%s: \"%.16s\" %ux%u, %u bpp, pitch %u, %u bytes\n", path, fix.id, var.xres,
		   var.yres, var.bits_per_pixel, fix.line_length, fix.smem_len);
	vt_assert_f(strstr(fix.id, "vprime"), "fb id \"%.16s\"\n", fix.id);
	vt_assert_eq(var.xres, W);
	vt_assert_eq(var.yres, H);
	vt_assert_eq(var.bits_per_pixel, 32);
	vt_assert_lte((size_t)fix.line_length * H, fix.smem_len);

	/*
	 * Frame A written with one write(), as `cat frame > /dev/fbN` does:
	 * the display shows it, and the fbdev's GEM object holds it.
	 */
	buf = calloc(fix.line_length, H);
	vt_assert(buf);
	for (int y = 0; y < H; y++)
		memcpy(buf + (size_t)y * fix.line_length, frame_a + (size_t)y * W, W * 4);
	vt_assert_eq(pwrite(fbfd, buf, (size_t)fix.line_length * H, 0),
		     (ssize_t)fix.line_length * H);
	free(buf);
	wait_crc(dir, crc_a, true, "frame A written to the fbdev");
	check_fbdev_object(crtc_index, frame_a, "frame A written to the fbdev");

	/* Frame B stored through a mapping: the display follows. */
	map = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fbfd, 0);
	vt_assert_f(map != MAP_FAILED, "mmap %s: %m\n", path);
	for (int y = 0; y < H; y++)
		memcpy(map + (size_t)y * fix.line_length, frame_b + (size_t)y * W, W * 4);
	wait_crc(dir, crc_b, true, "frame B stored in the fbdev's mapping");
	vt_assert_ok(munmap(map, fix.smem_len));
	close(fbfd);
	free(frame_a);
	free(frame_b);
}

static const struct vtest tests[] = {
	VTEST("mode-invalid", "A mode past 600 MHz, past 240 Hz, below 1 Hz or whose "
	      "refresh rate overflows fails a TEST_ONLY modeset with -EINVAL; the "
	      "same timings at 60 and 240 Hz pass.", test_mode_invalid),
	VTEST("addfb-invalid", "ADDFB2 refuses a bad handle (-ENOENT), a short pitch, an "
	      "unsupported format, a non-linear modifier and a buffer larger than its "
	      "object (-EINVAL).", test_addfb_invalid),
	VTEST("edid", "Each instance's connector has a valid EDID 1.4 block (header, "
	      "checksum, \"VPR\", its own name and serial) that the core parsed: "
	      "400x300 mm, 1024x768@60 preferred, 1920x1080 and 640x480 listed.", test_edid),
	VTEST("fbdev", "vprime.0's fbdev shows what is written to /dev/fbN, through "
	      "write() and through a mapping, once no master holds the display: the CRCs "
	      "equal those of the same frames shown through KMS.", test_fbdev),
};

VTEST_MAIN("vprime's display: modes, framebuffers ADDFB2 refuses, EDID "
	   "and fbdev.", tests)
