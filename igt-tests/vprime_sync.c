// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 *
 * vprime's job engine and its synchronisation. Jobs (DRM_IOCTL_VPRIME_SUBMIT)
 * fill, copy and checksum 2D surfaces asynchronously, ordered by the DRM GPU
 * scheduler after their dependencies: implicit ones from each buffer's
 * reservation object, across devices and with vgem, and explicit ones from
 * sync_files and syncobjs. A hung job is timed out and the engine goes on.
 *
 * Ordering is only visible when a job is slow: the module parameter
 * job_delay_ms makes every job of an instance take that much longer, and
 * the subtests that need it look for such an instance ("slow") and one
 * without ("fast"), skipping with the reason when the module has none. Each
 * of them first shows, as a control, that the slow job has not run yet when
 * the order is checked, so that a wrong order could not go unseen. Every
 * wait is bounded (budget_ms()).
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <drm_fourcc.h>
#include <xf86drm.h>

#include "vprime_bo.h"
#include "vprime_test.h"
#include "vtest.h"

#include "vgem_uapi.h"

#define RD	VPRIME_SUBMIT_BO_READ
#define WR	VPRIME_SUBMIT_BO_WRITE
#define MS	1000000ll	/* nanoseconds */

/* Fill colours (ARGB8888), each with an alpha that an X format must not keep. */
#define V1	0x5a13579bu
#define V2	0xc0a0b0c0u
#define V3	0x00fedcbau
#define V4	0x80112233u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned int ms)
{
	usleep(ms * 1000u);
}

/* Instances */

/* The module has the job engine: it has the parameter job_timeout_ms. */
static void require_engine(void)
{
	char buf[32];

	vt_require_f(vprime_param("job_timeout_ms", 0, buf, sizeof(buf)),
		     "vprime has no job engine (no parameter job_timeout_ms)\n");
}

/* Instance @i's job_delay_ms; an instance the array does not reach has none. */
static unsigned int job_delay_ms(int i)
{
	char buf[32];

	require_engine();
	if (!vprime_param("job_delay_ms", i, buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 0);
}

/* The first instance whose jobs are delayed; skips when none is. */
static int slow_instance(void)
{
	for (int i = 0; i < vprime_num_devices(); i++)
		if (job_delay_ms(i))
			return i;
	vtest_skip("needs an instance with job_delay_ms > 0 (the test VM sets 200 for "
		   "vprime.1): without a slow job, no order can be seen\n");
}

/* The instance other than @exclude (-1: none) with the least delay; skips when none. */
static int fast_instance(int exclude)
{
	int best = -1;

	for (int i = 0; i < vprime_num_devices(); i++)
		if (i != exclude && (best < 0 || job_delay_ms(i) < job_delay_ms(best)))
			best = i;
	vt_require_f(best >= 0, "needs %s vprime instance\n", exclude < 0 ? "a" : "a second");
	return best;
}

/*
 * The instance the subtests that hang jobs or time them out use: the one
 * with the shortest job timeout (the test VM gives the others a generous
 * one, so that a loaded host does not time their jobs out), in *@timeout_ms.
 */
static int hang_instance(unsigned int *timeout_ms)
{
	int idx;

	require_engine();
	idx = vprime_hang_instance(0);
	*timeout_ms = vprime_job_timeout_ms(idx);
	return idx;
}

/* How long a wait for jobs may take: generous for a loaded VM, yet bounded. */
static int budget_ms(void)
{
	unsigned int most = 0;

	for (int i = 0; i < vprime_num_devices(); i++)
		if (job_delay_ms(i) > most)
			most = job_delay_ms(i);
	return 5000 + 4 * most;
}

/* Surfaces and the test's model of the engine */

struct surface {
	int fd;				/* the device file the handle is on */
	uint32_t handle;
	uint32_t width, height, pitch, format;
	uint64_t size;			/* the object's */
	uint8_t *map;			/* the whole object, for the CPU */
};

static unsigned int format_cpp(uint32_t format)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
		return 4;
	case DRM_FORMAT_RGB565:
		return 2;
	}
	vt_fail("format", "no model for format %#x\n", format);
}

static bool format_has_x(uint32_t format)
{
	return format == DRM_FORMAT_XRGB8888 || format == DRM_FORMAT_XBGR8888;
}

static bool format_is_bgr(uint32_t format)
{
	return format == DRM_FORMAT_XBGR8888 || format == DRM_FORMAT_ABGR8888;
}

static uint32_t get_le(const uint8_t *p, unsigned int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void put_le(uint8_t *p, unsigned int n, uint32_t v)
{
	for (unsigned int i = 0; i < n; i++, v >>= 8)
		p[i] = v & 0xff;
}

static uint32_t swap_rb(uint32_t v)
{
	return (v & 0xff00ff00u) | (v & 0xff) << 16 | (v >> 16 & 0xff);
}

/* A pixel as ARGB8888: an X byte reads as opaque, RGB565 widens by bit replication. */
static uint32_t pixel_to_argb(const uint8_t *p, uint32_t format)
{
	uint32_t v = get_le(p, format_cpp(format)), r, g, b;

	if (format == DRM_FORMAT_RGB565) {
		r = v >> 11 & 0x1f;
		g = v >> 5 & 0x3f;
		b = v & 0x1f;
		return 0xff000000u | (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 |
		       (b << 3 | b >> 2);
	}
	if (format_is_bgr(format))
		v = swap_rb(v);
	return format_has_x(format) ? v | 0xff000000u : v;
}

/* Store @argb as @format: an X byte is written 0xff, RGB565 keeps the top bits. */
static void argb_to_pixel(uint8_t *p, uint32_t format, uint32_t argb)
{
	if (format == DRM_FORMAT_RGB565) {
		put_le(p, 2, (argb >> 8 & 0xf800) | (argb >> 5 & 0x07e0) | (argb >> 3 & 0x001f));
		return;
	}
	if (format_has_x(format))
		argb |= 0xff000000u;
	put_le(p, 4, format_is_bgr(format) ? swap_rb(argb) : argb);
}

/* The kernel's crc32_le(): reflected polynomial 0xedb88320, no final xor. */
static uint32_t crc32_le(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (crc & 1 ? 0xedb88320u : 0);
	}
	return crc;
}

/* CHECKSUM's value: crc32_le(0, ...) of the rectangle's rows, top to bottom. */
static uint32_t rect_crc(const uint8_t *base, uint32_t pitch, uint32_t format, uint32_t x,
			 uint32_t y, uint32_t w, uint32_t h)
{
	unsigned int cpp = format_cpp(format);
	uint32_t crc = 0;

	for (uint32_t row = 0; row < h; row++)
		crc = crc32_le(crc, base + (size_t)(y + row) * pitch + (size_t)x * cpp,
			       (size_t)w * cpp);
	return crc;
}

/*
 * The model's known answers, so that a model that agrees with a wrong kernel
 * cannot pass: the standard CRC-32 check value, RGB565 truncation and bit
 * replication, the X byte and the red/blue swap.
 */
static void model_self_check(void)
{
	uint8_t px[4];

	vt_assert_eq(~crc32_le(~0u, (const uint8_t *)"123456789", 9), 0xcbf43926u);
	argb_to_pixel(px, DRM_FORMAT_RGB565, 0xff1f2f3f);
	vt_assert_eq(get_le(px, 2), 0x1967);
	vt_assert_eq(pixel_to_argb(px, DRM_FORMAT_RGB565), 0xff182c39u);
	argb_to_pixel(px, DRM_FORMAT_XRGB8888, 0x12345678);
	vt_assert_eq(get_le(px, 4), 0xff345678u);
	argb_to_pixel(px, DRM_FORMAT_ABGR8888, 0x40102030);
	vt_assert(px[0] == 0x10 && px[1] == 0x20 && px[2] == 0x30 && px[3] == 0x40);
	argb_to_pixel(px, DRM_FORMAT_XBGR8888, 0x40102030);
	vt_assert_eq(get_le(px, 4), 0xff302010u);
}

/* A new object on @fd holding a @width x @height surface of @format, rows @pad bytes apart. */
static struct surface surface_new(int fd, uint32_t width, uint32_t height, uint32_t format,
				  uint32_t pad)
{
	struct surface s = {
		.fd = fd, .width = width, .height = height, .format = format,
		.pitch = width * format_cpp(format) + pad,
	};

	s.handle = vprime_gem_create(fd, (uint64_t)s.pitch * height);
	s.size = vprime_gem_info(fd, s.handle).size;
	s.map = vprime_gem_mmap(fd, s.handle, s.size);
	return s;
}

/* @s imported into @fd's device through PRIME: the same bytes, the same CPU map. */
static struct surface surface_import(const struct surface *s, int fd)
{
	struct surface t = *s;
	int dmabuf = prime_export(s->fd, s->handle, DRM_CLOEXEC | DRM_RDWR);

	t.fd = fd;
	t.handle = prime_import(fd, dmabuf);
	close(dmabuf);
	return t;
}

static void surface_free(struct surface *s)
{
	munmap(s->map, s->size);
	gem_close(s->fd, s->handle);
}

/* Free the first @n of @s. */
static void surfaces_free(struct surface *s, int n)
{
	for (int i = 0; i < n; i++)
		surface_free(&s[i]);
}

/*
 * pattern_fill() the whole object; in an X format the X bytes are then
 * 0xff, so that what a copy makes of them does not depend on whether the
 * engine reads them as opaque or as they are.
 */
static void surface_pattern(struct surface *s, uint32_t seed)
{
	pattern_fill(s->map, s->size, seed);
	if (!format_has_x(s->format))
		return;
	for (uint32_t y = 0; y < s->height; y++)
		for (uint32_t x = 0; x < s->width; x++)
			s->map[(size_t)y * s->pitch + x * 4 + 3] = 0xff;
}

/* Add @s to @job, used as @flags: returns its index. */
static uint32_t job_bo(struct vprime_job *job, const struct surface *s, uint32_t flags)
{
	return vprime_job_add_bo(job, s->handle, flags, s->width, s->height, s->pitch,
				 s->format);
}

/* Every pixel of (@x, @y, @w x @h) of @s is @argb stored in its format. */
static void check_rect(const struct surface *s, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		       uint32_t argb, const char *what)
{
	unsigned int cpp = format_cpp(s->format);
	uint8_t want[4];

	argb_to_pixel(want, s->format, argb);
	for (uint32_t row = y; row < y + h; row++) {
		for (uint32_t col = x; col < x + w; col++) {
			const uint8_t *p = s->map + (size_t)row * s->pitch + (size_t)col * cpp;

			vt_assert_f(!memcmp(p, want, cpp),
				    "%s: pixel (%u, %u) is 0x%0*x, expected 0x%0*x (ARGB 0x%08x)\n",
				    what, col, row, cpp * 2, get_le(p, cpp), cpp * 2,
				    get_le(want, cpp), argb);
		}
	}
}

static void check_fill(const struct surface *s, uint32_t argb, const char *what)
{
	check_rect(s, 0, 0, s->width, s->height, argb, what);
}

/* The bytes the test expects in a surface's object, kept by model_job(). */
struct shadow {
	const struct surface *s;
	uint8_t *bytes;
};

static struct shadow shadow_of(const struct surface *s)
{
	struct shadow sh = { .s = s, .bytes = malloc(s->size) };

	vt_assert(sh.bytes);
	memcpy(sh.bytes, s->map, s->size);
	return sh;
}

static uint8_t *shadow_bytes(struct shadow *sh, unsigned int n, uint32_t handle)
{
	for (unsigned int i = 0; i < n; i++)
		if (sh[i].s->handle == handle)
			return sh[i].bytes;
	vt_fail("model", "handle %u has no shadow\n", handle);
}

static uint8_t *model_px(uint8_t *bytes, const struct drm_vprime_submit_bo *bo, uint32_t x,
			 uint32_t y)
{
	return bytes + (size_t)y * bo->pitch + (size_t)x * format_cpp(bo->format);
}

/*
 * The test's model of the engine: what @job's commands, in order, do to the
 * shadows @sh of its buffers (all on one device, so told apart by handle).
 */
static void model_job(const struct vprime_job *job, struct shadow *sh, unsigned int n)
{
	uint8_t *bytes[VPRIME_JOB_MAX_BOS];

	for (uint32_t i = 0; i < job->num_bos; i++)
		bytes[i] = shadow_bytes(sh, n, job->bos[i].handle);
	for (uint32_t i = 0; i < job->num_cmds; i++) {
		const struct drm_vprime_cmd *c = &job->cmds[i];
		const struct drm_vprime_submit_bo *s = &job->bos[c->src], *d = &job->bos[c->dst];

		for (uint32_t y = 0; c->op != VPRIME_CMD_CHECKSUM && y < c->height; y++) {
			for (uint32_t x = 0; x < c->width; x++) {
				uint32_t argb = c->value;

				if (c->op == VPRIME_CMD_COPY)
					argb = pixel_to_argb(model_px(bytes[c->src], s, c->src_x + x,
								      c->src_y + y), s->format);
				argb_to_pixel(model_px(bytes[c->dst], d, c->dst_x + x, c->dst_y + y),
					      d->format, argb);
			}
		}
		if (c->op == VPRIME_CMD_CHECKSUM)
			put_le(bytes[c->dst] + c->dst_offset, 4,
			       rect_crc(bytes[c->src], s->pitch, s->format, c->src_x, c->src_y,
					c->width, c->height));
	}
}

/* @sh's surface holds the bytes the model expects, padding and the rest included. */
static void check_shadow(const struct shadow *sh, const char *what)
{
	const struct surface *s = sh->s;
	unsigned int cpp = format_cpp(s->format);

	if (!memcmp(s->map, sh->bytes, s->size))
		return;
	for (uint64_t i = 0; i < s->size; i++) {
		uint64_t row = i / s->pitch, col = i % s->pitch;

		if (s->map[i] == sh->bytes[i])
			continue;
		if (row < s->height && col < (uint64_t)s->width * cpp)
			vt_fail("bytes", "%s: byte %llu of pixel (%llu, %llu) is 0x%02x, "
				"expected 0x%02x\n", what, (unsigned long long)(col % cpp),
				(unsigned long long)(col / cpp), (unsigned long long)row,
				s->map[i], sh->bytes[i]);
		vt_fail("bytes", "%s: byte %llu, outside the surface's pixels, is 0x%02x, "
			"expected 0x%02x (untouched)\n", what, (unsigned long long)i,
			s->map[i], sh->bytes[i]);
	}
}

/* Fences and syncobjs */

static bool has_cap(int fd, uint64_t cap)
{
	uint64_t v = 0;

	return drmGetCap(fd, cap, &v) == 0 && v;
}

/*
 * drmSyncobjWait() and drmSyncobjTimelineWait() (@point 0: binary) until
 * @timeout_ms from now, their timeout being absolute: returns 0 or the
 * errno. (libdrm returns -errno here, not -1.)
 */
static int syncobj_wait(int fd, uint32_t handle, uint64_t point, int timeout_ms,
			uint32_t flags)
{
	struct timespec ts;
	int64_t abs;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	abs = ts.tv_sec * 1000 * MS + ts.tv_nsec + timeout_ms * MS;
	errno = 0;
	if (point)
		ret = drmSyncobjTimelineWait(fd, &handle, &point, 1, abs, flags, NULL);
	else
		ret = drmSyncobjWait(fd, &handle, 1, abs, flags, NULL);
	if (!ret)
		return 0;
	return errno ?: -ret;
}

/* The last signalled point of the timeline syncobj @handle. */
static uint64_t syncobj_point(int fd, uint32_t handle)
{
	uint64_t point = 0;

	vt_assert_ok(drmSyncobjQuery(fd, &handle, &point, 1));
	return point;
}

static void timeline_signal(int fd, uint32_t handle, uint64_t point)
{
	vt_assert_ok(drmSyncobjTimelineSignal(fd, &handle, &point, 1));
}

static uint32_t syncobj_create(int fd, uint32_t flags)
{
	uint32_t handle = 0;

	vt_assert_ok(drmSyncobjCreate(fd, flags, &handle));
	return handle;
}

/* A sync_file must signal within @timeout_ms; returns its status then. */
static int fence_wait(int fence, int timeout_ms, const char *what)
{
	vt_assert_f(fd_poll(fence, POLLIN, timeout_ms) == POLLIN,
		    "%s did not signal within %d ms\n", what, timeout_ms);
	return sync_file_status(fence);
}

/* Subtests */

static void test_fill_copy_checksum(void)
{
	int idx = fast_instance(-1), fd = vprime_open(idx, VPRIME_NODE_RENDER);
	enum { X, R, Y, Z, W, V, C, NUM };
	static const char *const names[NUM] = {
		"X (XRGB8888)", "R (RGB565)", "Y (XRGB8888)", "Z (ABGR8888)", "W (ARGB8888)",
		"V (XBGR8888)", "C (checksums)",
	};
	struct surface s[NUM];
	struct shadow sh[NUM];
	struct vprime_job fills, copies, sums;
	uint32_t x, r, y, z, w, v, c;

	model_self_check();
	/* Odd sizes, and padding at the end of rows that no command may touch. */
	s[X] = surface_new(fd, 37, 23, DRM_FORMAT_XRGB8888, 12);
	s[R] = surface_new(fd, 37, 23, DRM_FORMAT_RGB565, 6);
	s[Y] = surface_new(fd, 37, 23, DRM_FORMAT_XRGB8888, 0);
	s[Z] = surface_new(fd, 37, 23, DRM_FORMAT_ABGR8888, 8);
	s[W] = surface_new(fd, 16, 16, DRM_FORMAT_ARGB8888, 0);
	s[V] = surface_new(fd, 16, 8, DRM_FORMAT_XBGR8888, 4);
	s[C] = surface_new(fd, 8, 1, DRM_FORMAT_XRGB8888, 0);
	for (int i = 0; i < NUM; i++) {
		surface_pattern(&s[i], 0xf111 + i);
		sh[i] = shadow_of(&s[i]);
	}

	/* Overlapping fills (in order: the later wins), into each format. */
	vprime_job_init(&fills);
	x = job_bo(&fills, &s[X], WR);
	r = job_bo(&fills, &s[R], WR);
	z = job_bo(&fills, &s[Z], WR);
	v = job_bo(&fills, &s[V], WR);
	vprime_job_fill(&fills, x, 3, 2, 20, 10, 0x12345678);
	vprime_job_fill(&fills, x, 10, 5, 15, 15, 0x80abcdef);
	vprime_job_fill(&fills, r, 0, 0, 37, 4, 0xff1f2f3f);
	vprime_job_fill(&fills, r, 30, 19, 7, 4, 0x00ffffff);
	vprime_job_fill(&fills, z, 30, 20, 7, 3, 0x40102030);
	vprime_job_fill(&fills, v, 0, 0, 16, 8, 0x11223344);

	/* XRGB8888 -> RGB565 -> XRGB8888, and into ABGR8888 from three formats. */
	vprime_job_init(&copies);
	x = job_bo(&copies, &s[X], RD);
	r = job_bo(&copies, &s[R], RD | WR);
	y = job_bo(&copies, &s[Y], WR);
	z = job_bo(&copies, &s[Z], WR);
	w = job_bo(&copies, &s[W], RD);
	vprime_job_copy(&copies, x, 2, 1, r, 5, 2, 30, 20);
	vprime_job_copy(&copies, r, 0, 0, y, 0, 0, 37, 23);
	vprime_job_copy(&copies, x, 4, 4, z, 1, 1, 16, 16);
	vprime_job_copy(&copies, w, 0, 0, z, 20, 5, 16, 16);
	vprime_job_copy(&copies, r, 0, 18, z, 0, 18, 37, 5);

	/* Checksums, the last in the object's last word, outside C's surface. */
	vprime_job_init(&sums);
	y = job_bo(&sums, &s[Y], RD);
	z = job_bo(&sums, &s[Z], RD);
	r = job_bo(&sums, &s[R], RD);
	x = job_bo(&sums, &s[X], RD);
	c = job_bo(&sums, &s[C], WR);
	vprime_job_checksum(&sums, y, 0, 0, 37, 23, c, 0);
	vprime_job_checksum(&sums, z, 3, 3, 10, 7, c, 4);
	vprime_job_checksum(&sums, r, 1, 1, 20, 20, c, 8);
	vprime_job_checksum(&sums, x, 0, 0, 37, 23, c, s[C].size - 4);

	/* Back to back: each job depends on the one before through its buffers. */
	vprime_job_submit(fd, &fills);
	vprime_job_submit(fd, &copies);
	vprime_job_submit(fd, &sums);
	for (int i = 0; i < NUM; i++)
		vprime_wait_idle(fd, s[i].handle, budget_ms() * MS);

	model_job(&fills, sh, NUM);
	model_job(&copies, sh, NUM);
	model_job(&sums, sh, NUM);
	for (int i = 0; i < NUM; i++)
		check_shadow(&sh[i], names[i]);

	/* The checksums again, from the bytes the engine actually left. */
	for (uint32_t i = 0; i < sums.num_cmds; i++) {
		const struct drm_vprime_cmd *cmd = &sums.cmds[i];
		const struct surface *src = NULL;
		uint32_t got = get_le(s[C].map + cmd->dst_offset, 4), want;

		for (int j = 0; j < NUM; j++)
			if (s[j].handle == sums.bos[cmd->src].handle)
				src = &s[j];
		want = rect_crc(src->map, src->pitch, src->format, cmd->src_x, cmd->src_y,
				cmd->width, cmd->height);
		vt_assert_f(got == want, "checksum %u (of %s) at offset %llu is 0x%08x, the "
			    "test's crc32_le(0, rows) 0x%08x\n", i, names[src - s],
			    (unsigned long long)cmd->dst_offset, got, want);
	}

	for (int i = 0; i < NUM; i++) {
		free(sh[i].bytes);
		surface_free(&s[i]);
	}
	close(fd);
}

/*
 * The engine's fast paths (issue 16) against the test's per-pixel model:
 * every byte of every object, padding included, after each job. Sources
 * keep the raw pattern, X bytes too, so that an X byte copied as it is
 * instead of written as 0xff would show.
 */

static const uint32_t job_formats[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ABGR8888,
	DRM_FORMAT_RGB565,
};

static const char *format_name(uint32_t format)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
		return "XRGB8888";
	case DRM_FORMAT_ARGB8888:
		return "ARGB8888";
	case DRM_FORMAT_XBGR8888:
		return "XBGR8888";
	case DRM_FORMAT_ABGR8888:
		return "ABGR8888";
	default:
		return "RGB565";
	}
}

/*
 * Big enough that a whole-surface command crosses the engine's 256 KiB
 * step in every format, rows without padding (one run of pixels), odd sizes.
 */
#define BIG_W	301
#define BIG_H	500

/* Submit @job on @fd, wait, and check @n surfaces against the model. */
static void run_and_check(int fd, const struct vprime_job *job, struct surface *s, unsigned int n,
			  const char *const *names)
{
	struct shadow sh[VPRIME_JOB_MAX_BOS];
	char what[96];

	vt_assert(n <= VPRIME_JOB_MAX_BOS);
	for (unsigned int i = 0; i < n; i++)
		sh[i] = shadow_of(&s[i]);
	vprime_job_submit(fd, job);
	for (unsigned int i = 0; i < n; i++)
		vprime_wait_idle(fd, s[i].handle, budget_ms() * MS);
	model_job(job, sh, n);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "%s (%s, %ux%u, pitch %u)", names[i],
			 format_name(s[i].format), s[i].width, s[i].height, s[i].pitch);
		check_shadow(&sh[i], what);
		free(sh[i].bytes);
	}
}

/* Colours whose bytes are all equal in some format (a memset) and colours whose are not. */
static const uint32_t fill_values[] = {
	0x00000000, 0xffffffff, 0x7f7f7f7f, 0x00ffffff, V1, V2, V3, V4,
};

static void run_fill_paths(void *arg)
{
	uint32_t format = *(const uint32_t *)arg;
	int fd = vprime_open(fast_instance(-1), VPRIME_NODE_RENDER);
	static const char *const names[] = { "contiguous", "padded", "odd pitch" };
	struct surface s[3];
	struct vprime_job job;
	uint32_t b, p, o;

	s[0] = surface_new(fd, BIG_W, BIG_H, format, 0);
	s[1] = surface_new(fd, 37, 23, format, 12);
	/* Rows 3 bytes longer than their pixels: no row but the first is aligned. */
	s[2] = surface_new(fd, 37, 23, format, 3);
	for (int i = 0; i < 3; i++)
		pattern_fill(s[i].map, s[i].size, 0xf1f0 + i);

	/* The whole of each surface, then rectangles at offsets over it. */
	vprime_job_init(&job);
	b = job_bo(&job, &s[0], WR);
	p = job_bo(&job, &s[1], WR);
	o = job_bo(&job, &s[2], WR);
	vprime_job_fill(&job, b, 0, 0, BIG_W, BIG_H, V1);
	vprime_job_fill(&job, p, 0, 0, 37, 23, V2);
	vprime_job_fill(&job, o, 0, 0, 37, 23, V3);
	run_and_check(fd, &job, s, 3, names);

	for (size_t v = 0; v < ARRAY_SIZE(fill_values); v++) {
		uint32_t val = fill_values[v];

		vprime_job_init(&job);
		b = job_bo(&job, &s[0], WR);
		p = job_bo(&job, &s[1], WR);
		o = job_bo(&job, &s[2], WR);
		/* Full-width bands: one run of pixels from a row inside the surface. */
		vprime_job_fill(&job, b, 0, 7 + v, BIG_W, 250 + v, val);
		/* Odd widths at odd and even columns: heads and tails of 8-byte stores. */
		vprime_job_fill(&job, b, 1 + v, 3, 33, 9, val);
		vprime_job_fill(&job, b, 2, 300, 1, 40, val);
		vprime_job_fill(&job, b, 5, 301, 2, 3, val ^ 0x01010101);
		vprime_job_fill(&job, b, 4, 320, 3, 2, val);
		/* Single pixels: the first and the last of the surface. */
		vprime_job_fill(&job, b, 0, 0, 1, 1, val ^ 0x00102030);
		vprime_job_fill(&job, b, BIG_W - 1, BIG_H - 1, 1, 1, val);
		vprime_job_fill(&job, p, 1, 1, 35, 21, val);
		vprime_job_fill(&job, p, 36, 22, 1, 1, ~val);
		vprime_job_fill(&job, p, 0, 5, 37, 1, val ^ 0x80808080);
		vprime_job_fill(&job, o, 0, 0, 37, 23, val);
		vprime_job_fill(&job, o, 3, 2, 31, 19, ~val);
		vprime_job_fill(&job, o, 1, 4, 1, 1, val);
		vprime_job_fill(&job, o, 36, 22, 1, 1, val ^ 0x00ff00ff);
		run_and_check(fd, &job, s, 3, names);
	}
	surfaces_free(s, 3);
	close(fd);
}

static void test_fill_fast_paths(void)
{
	char name[32];

	require_engine();
	for (size_t i = 0; i < ARRAY_SIZE(job_formats); i++) {
		snprintf(name, sizeof(name), "%s", format_name(job_formats[i]));
		vtest_dynamic(name, run_fill_paths, (void *)&job_formats[i]);
	}
}

struct format_pair {
	uint32_t src, dst;
};

static void run_copy_paths(void *arg)
{
	const struct format_pair *fp = arg;
	int fd = vprime_open(fast_instance(-1), VPRIME_NODE_RENDER);
	static const char *const names[] = {
		"big source", "big destination", "padded source", "odd-pitch destination",
	};
	struct surface s[4];
	struct vprime_job job;
	uint32_t bs, bd, ps, od;

	s[0] = surface_new(fd, BIG_W, BIG_H, fp->src, 0);
	s[1] = surface_new(fd, BIG_W, BIG_H, fp->dst, 0);
	s[2] = surface_new(fd, 37, 23, fp->src, 12);
	s[3] = surface_new(fd, 41, 29, fp->dst, 3);
	for (int i = 0; i < 4; i++)
		pattern_fill(s[i].map, s[i].size, 0xc0c0 + 16 * i + fp->src % 7 + fp->dst % 5);

	vprime_job_init(&job);
	bs = job_bo(&job, &s[0], RD);
	bd = job_bo(&job, &s[1], WR);
	ps = job_bo(&job, &s[2], RD);
	od = job_bo(&job, &s[3], WR);
	/* Whole surfaces whose pitches match: one run of pixels, in steps. */
	vprime_job_copy(&job, bs, 0, 0, bd, 0, 0, BIG_W, BIG_H);
	run_and_check(fd, &job, s, 4, names);

	vprime_job_init(&job);
	bs = job_bo(&job, &s[0], RD);
	bd = job_bo(&job, &s[1], WR);
	ps = job_bo(&job, &s[2], RD);
	od = job_bo(&job, &s[3], WR);
	/* Full-width bands, from a row inside the surface, to another row. */
	vprime_job_copy(&job, bs, 0, 10, bd, 0, 300, BIG_W, 51);
	vprime_job_copy(&job, bs, 0, 0, bd, 0, 1, BIG_W, 1);
	/* Pitches that differ; odd widths at odd columns; the odd pitch. */
	vprime_job_copy(&job, bs, 1, 1, od, 2, 3, 35, 20);
	vprime_job_copy(&job, ps, 3, 2, od, 7, 5, 29, 17);
	vprime_job_copy(&job, ps, 0, 0, bd, 1, 401, 37, 23);
	vprime_job_copy(&job, ps, 1, 3, bd, 2, 430, 2, 5);
	vprime_job_copy(&job, ps, 4, 4, bd, 7, 440, 3, 3);
	/* Single pixels, first and last of their surfaces. */
	vprime_job_copy(&job, ps, 36, 22, od, 0, 0, 1, 1);
	vprime_job_copy(&job, ps, 0, 0, od, 40, 28, 1, 1);
	vprime_job_copy(&job, bs, BIG_W - 1, BIG_H - 1, bd, 0, 0, 1, 1);
	vprime_job_copy(&job, bs, 0, 0, bd, BIG_W - 1, BIG_H - 1, 1, 1);
	vprime_job_copy(&job, ps, 5, 5, od, 1, 27, 1, 1);
	run_and_check(fd, &job, s, 4, names);
	surfaces_free(s, 4);
	close(fd);
}

static void test_copy_fast_paths(void)
{
	struct format_pair pairs[ARRAY_SIZE(job_formats) * ARRAY_SIZE(job_formats)];
	char name[40];
	size_t n = 0;

	require_engine();
	for (size_t i = 0; i < ARRAY_SIZE(job_formats); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(job_formats); j++) {
			pairs[n] = (struct format_pair){ job_formats[i], job_formats[j] };
			snprintf(name, sizeof(name), "%s-to-%s", format_name(job_formats[i]),
				 format_name(job_formats[j]));
			vtest_dynamic(name, run_copy_paths, &pairs[n++]);
		}
	}
}

/*
 * Copies within one surface whose rectangles overlap: pixels in order, rows
 * in order, each pixel read before it is written (the per-pixel path).
 */
static void run_copy_overlap(void *arg)
{
	uint32_t format = *(const uint32_t *)arg;
	int fd = vprime_open(fast_instance(-1), VPRIME_NODE_RENDER);
	static const char *const names[] = { "contiguous", "padded" };
	struct surface s[2];
	struct vprime_job job;
	uint32_t c, p;

	s[0] = surface_new(fd, 64, 40, format, 0);
	s[1] = surface_new(fd, 37, 23, format, 12);
	for (int i = 0; i < 2; i++)
		pattern_fill(s[i].map, s[i].size, 0x0e0e + i);

	vprime_job_init(&job);
	c = job_bo(&job, &s[0], RD | WR);
	p = job_bo(&job, &s[1], RD | WR);
	/* One pixel to the right, and to the left, within rows. */
	vprime_job_copy(&job, p, 2, 1, p, 3, 1, 30, 4);
	vprime_job_copy(&job, p, 5, 6, p, 4, 6, 30, 4);
	/* A row down, and up; and onto itself. */
	vprime_job_copy(&job, p, 0, 10, p, 0, 11, 37, 5);
	vprime_job_copy(&job, p, 1, 18, p, 2, 17, 33, 5);
	vprime_job_copy(&job, p, 9, 0, p, 9, 0, 11, 23);
	/* Full-width bands of the contiguous surface, shifted down by a row and up by two. */
	vprime_job_copy(&job, c, 0, 0, c, 0, 1, 64, 20);
	vprime_job_copy(&job, c, 0, 25, c, 0, 23, 64, 15);
	/* Two pixels to the right across rows that follow each other. */
	vprime_job_copy(&job, c, 0, 30, c, 2, 30, 62, 5);
	/* Apart in the same surface: no overlap. */
	vprime_job_copy(&job, c, 0, 0, c, 32, 36, 32, 4);
	run_and_check(fd, &job, s, 2, names);
	surfaces_free(s, 2);
	close(fd);
}

static void test_copy_overlap(void)
{
	require_engine();
	for (size_t i = 0; i < ARRAY_SIZE(job_formats); i++)
		vtest_dynamic(format_name(job_formats[i]), run_copy_overlap,
			      (void *)&job_formats[i]);
}

static void test_implicit_order_cross_device(void)
{
	int slow = slow_instance(), fast = fast_instance(slow);
	int fs = vprime_open(slow, VPRIME_NODE_RENDER), ff = vprime_open(fast, VPRIME_NODE_RENDER);
	struct surface x = surface_new(fs, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface xf = surface_import(&x, ff);
	struct surface y = surface_new(ff, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface z = surface_new(fs, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct vprime_job a, b;

	vtest_info("slow vprime.%d (job_delay_ms %u), fast vprime.%d\n", slow,
		   job_delay_ms(slow), fast);

	/* Read after write: A on the slow device fills X, then B on the fast one copies it. */
	pattern_fill(x.map, x.size, 0x0a0a);
	vprime_job_init(&a);
	vprime_job_fill(&a, job_bo(&a, &x, WR), 0, 0, 64, 32, V1);
	vprime_job_submit(fs, &a);
	/*
	 * The control: A is still in its delay, so X has its old bytes. Had A
	 * run at once, a B that ignored A's fence would still copy A's bytes,
	 * and the check below could not fail.
	 */
	pattern_check(x.map, x.size, 0x0a0a,
		      "X right after the slow job's submission (it should still be delayed)");
	vprime_job_init(&b);
	vprime_job_copy(&b, job_bo(&b, &xf, RD), 0, 0, job_bo(&b, &y, WR), 0, 0, 64, 32);
	vprime_job_submit(ff, &b);
	vt_assert_eq(vprime_try_wait_idle(ff, y.handle, 0), ETIME);	/* B waits for A */
	vprime_wait_idle(ff, y.handle, budget_ms() * MS);
	check_fill(&y, V1, "Y, copied by the fast device from X after the slow one filled it");
	check_fill(&x, V1, "X");

	/* Write after read: A reads X into Z, then B refills X; A must see the old X. */
	pattern_fill(z.map, z.size, 0x0b0b);
	vprime_job_init(&a);
	vprime_job_copy(&a, job_bo(&a, &x, RD), 0, 0, job_bo(&a, &z, WR), 0, 0, 64, 32);
	vprime_job_submit(fs, &a);
	pattern_check(z.map, z.size, 0x0b0b,
		      "Z right after the slow job's submission (it should still be delayed)");
	vprime_job_init(&b);
	vprime_job_fill(&b, job_bo(&b, &xf, WR), 0, 0, 64, 32, V2);
	vprime_job_submit(ff, &b);
	vt_assert_eq(vprime_try_wait_idle(ff, xf.handle, 0), ETIME);	/* B waits for A's read */
	vprime_wait_idle(ff, xf.handle, budget_ms() * MS);
	vprime_wait_idle(fs, z.handle, budget_ms() * MS);
	check_fill(&z, V1, "Z, read from X by the slow device before the fast one refilled X");
	check_fill(&x, V2, "X, refilled by the fast device");

	gem_close(ff, xf.handle);
	surface_free(&x);
	surface_free(&y);
	surface_free(&z);
	close(fs);
	close(ff);
}

static void test_implicit_vgem_fence(void)
{
	int vgem = vprime_open_other("vgem");
	int fd = vprime_open(fast_instance(-1), VPRIME_NODE_RENDER);
	struct drm_mode_create_dumb c = { .width = 64, .height = 32, .bpp = 32 };
	struct drm_mode_map_dumb m = {};
	struct drm_vgem_fence_attach attach = { .flags = VGEM_FENCE_WRITE };
	struct drm_vgem_fence_signal sig = {};
	struct surface src, dst;
	struct shadow sh[2];
	struct vprime_job job;
	int dmabuf;

	vt_assert_ok(ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	m.handle = c.handle;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &m));
	src = (struct surface){
		.fd = fd, .width = 64, .height = 32, .pitch = c.pitch,
		.format = DRM_FORMAT_XRGB8888, .size = c.size,
	};
	src.map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, m.offset);
	vt_assert(src.map != MAP_FAILED);
	pattern_fill(src.map, src.size, 0x7e01);
	dmabuf = prime_export(vgem, c.handle, DRM_CLOEXEC | DRM_RDWR);
	src.handle = prime_import(fd, dmabuf);
	dst = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	pattern_fill(dst.map, dst.size, 0x7e02);

	/* vgem's "device" is writing the buffer: a write fence, not signalled. */
	attach.handle = c.handle;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &attach));
	vprime_job_init(&job);
	vprime_job_copy(&job, job_bo(&job, &src, RD), 0, 0, job_bo(&job, &dst, WR), 0, 0,
			64, 32);
	vprime_job_submit(fd, &job);
	vt_assert_eq(vprime_try_wait_idle(fd, dst.handle, 0), ETIME);
	sleep_ms(100);		/* well short of vgem's own 10 s fence timeout */
	vt_assert_eq(vprime_try_wait_idle(fd, dst.handle, 0), ETIME);
	pattern_check(dst.map, dst.size, 0x7e02, "the copy's destination before vgem's fence");

	/* vgem's write lands, then its fence signals: only now may the copy read. */
	pattern_fill(src.map, src.size, 0x7e03);
	sh[0] = shadow_of(&src);
	sh[1] = shadow_of(&dst);
	sig.fence = attach.out_fence;
	vt_assert_ok(ioctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig));
	vprime_wait_idle(fd, dst.handle, budget_ms() * MS);
	model_job(&job, sh, 2);
	check_shadow(&sh[1], "the copy of vgem's buffer, made after its fence");

	free(sh[0].bytes);
	free(sh[1].bytes);
	munmap(src.map, src.size);
	gem_close(fd, src.handle);
	surface_free(&dst);
	close(dmabuf);
	close(fd);
	close(vgem);
}

static void test_poll_busy(void)
{
	int fd = vprime_open(slow_instance(), VPRIME_NODE_RENDER);
	struct surface x = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface z = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	int dmabuf = prime_export(fd, x.handle, DRM_CLOEXEC | DRM_RDWR);
	int fr, fw, err;
	struct vprime_job job;

	err = dmabuf_try_export_sync_file(dmabuf, DMA_BUF_SYNC_READ, &fr);
	vt_require_f(err != EINVAL && err != ENOTTY,
		     "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE in this kernel: %s\n", strerror(err));
	vt_assert_f(!err, "EXPORT_SYNC_FILE of an idle buffer: %s\n", strerror(err));
	vt_assert_eq(sync_file_status(fr), 1);		/* nothing to wait for */
	close(fr);
	vt_assert_eq(fd_poll(dmabuf, POLLIN | POLLOUT, 0), POLLIN | POLLOUT);

	/* A pending write: neither readers nor writers may go. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &x, WR), 0, 0, 64, 32, V1);
	vprime_job_submit(fd, &job);
	vt_assert_eq(fd_poll(dmabuf, POLLIN | POLLOUT, 0), 0);
	vt_assert_eq(dmabuf_try_export_sync_file(dmabuf, DMA_BUF_SYNC_READ, &fr), 0);
	vt_assert_eq(sync_file_status(fr), 0);
	vt_assert_eq(fd_poll(fr, POLLIN, 0), 0);
	vt_assert_eq(fd_poll(dmabuf, POLLOUT, budget_ms()), POLLOUT);
	/*
	 * The write is done, so readers may go too; but the dma-buf's poll
	 * says so only once the fence has also run the callback the first
	 * poll left for POLLIN, which comes after the POLLOUT one that woke
	 * us: wait for it rather than poll once (6.1 failed that once).
	 */
	vt_assert_eq(fd_poll(dmabuf, POLLIN, budget_ms()), POLLIN);
	vt_assert_eq(sync_file_status(fr), 1);
	vt_assert_eq(fd_poll(fr, POLLIN, 0), POLLIN);
	check_fill(&x, V1, "X once poll said the write was done");
	close(fr);

	/* A pending read: readers may go, writers may not. */
	vprime_job_init(&job);
	vprime_job_copy(&job, job_bo(&job, &x, RD), 0, 0, job_bo(&job, &z, WR), 0, 0, 64, 32);
	vprime_job_submit(fd, &job);
	vt_assert_eq(fd_poll(dmabuf, POLLIN, 0), POLLIN);
	vt_assert_eq(fd_poll(dmabuf, POLLOUT, 0), 0);
	vt_assert_eq(dmabuf_try_export_sync_file(dmabuf, DMA_BUF_SYNC_READ, &fr), 0);
	vt_assert_eq(sync_file_status(fr), 1);		/* no writer */
	vt_assert_eq(dmabuf_try_export_sync_file(dmabuf, DMA_BUF_SYNC_WRITE, &fw), 0);
	vt_assert_eq(sync_file_status(fw), 0);		/* the reader */
	vt_assert_eq(fence_wait(fw, budget_ms(), "the exported read fence"), 1);
	vt_assert_eq(fd_poll(dmabuf, POLLOUT, 0), POLLOUT);
	check_fill(&z, V1, "Z once the exported fence said the read was done");
	close(fr);
	close(fw);

	close(dmabuf);
	surface_free(&x);
	surface_free(&z);
	close(fd);
}

static void test_sync_file_in_out(void)
{
	int slow = slow_instance(), fast = fast_instance(slow);
	int fs = vprime_open(slow, VPRIME_NODE_RENDER), ff = vprime_open(fast, VPRIME_NODE_RENDER);
	struct surface a = surface_new(fs, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface b = surface_new(ff, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface c = surface_new(ff, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct vprime_job job;
	int fa, fb, fc, fe;

	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &a, WR), 0, 0, 64, 32, V1);
	vprime_job_out_fence(&job);
	fa = vprime_job_submit(fs, &job);
	vt_assert_eq(sync_file_status(fa), 0);

	/* The control: the fast device finishes a free job while A is delayed. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &c, WR), 0, 0, 64, 32, V3);
	vprime_job_out_fence(&job);
	fc = vprime_job_submit(ff, &job);
	vt_assert_eq(fence_wait(fc, budget_ms(), "the fast device's free job"), 1);
	/* A machine this slow (a debug kernel) cannot show the order: skip. */
	vt_require_f(sync_file_status(fa) == 0, "vprime.%d's free job took longer than "
		     "vprime.%d's delay of %u ms: the order below could not be seen\n", fast,
		     slow, job_delay_ms(slow));

	/* B waits for A's out fence only: their buffers are unrelated. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &b, WR), 0, 0, 64, 32, V2);
	vprime_job_in_fence(&job, fa);
	vprime_job_out_fence(&job);
	fb = vprime_job_submit(ff, &job);
	vt_assert_eq(sync_file_status(fb), 0);
	vt_assert_eq(fence_wait(fb, budget_ms(), "B's out fence"), 1);
	vt_assert_f(sync_file_status(fa) == 1, "B's fence signalled while its in fence, A's, "
		    "had status %d\n", sync_file_status(fa));
	check_fill(&a, V1, "A's buffer");
	check_fill(&b, V2, "B's buffer");
	check_fill(&c, V3, "the free job's buffer");

	/* An in fence signalled already holds nothing back. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &c, WR), 0, 0, 64, 32, V4);
	vprime_job_in_fence(&job, fa);
	vprime_job_out_fence(&job);
	fe = vprime_job_submit(ff, &job);
	vt_assert_eq(fence_wait(fe, budget_ms(), "a job's fence after a signalled in fence"), 1);
	check_fill(&c, V4, "the buffer of the job after a signalled in fence");

	close(fa);
	close(fb);
	close(fc);
	close(fe);
	surface_free(&a);
	surface_free(&b);
	surface_free(&c);
	close(fs);
	close(ff);
}

static void test_syncobj_binary(void)
{
	int slow = slow_instance(), fast = fast_instance(slow);
	int fs = vprime_open(slow, VPRIME_NODE_RENDER), ff = vprime_open(fast, VPRIME_NODE_RENDER);
	struct surface a = surface_new(fs, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface b = surface_new(ff, 64, 32, DRM_FORMAT_XRGB8888, 0);
	uint32_t gs, gf, df;
	struct vprime_job job;
	int shared;

	vt_require_f(has_cap(fs, DRM_CAP_SYNCOBJ) && has_cap(ff, DRM_CAP_SYNCOBJ),
		     "vprime does not report DRM_CAP_SYNCOBJ\n");
	/* G: A's out syncobj on the slow device, shared with the fast one as B's in. */
	gs = syncobj_create(fs, 0);
	vt_assert_eq(syncobj_wait(fs, gs, 0, 20, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), ETIME);
	vt_assert_ok(drmSyncobjHandleToFD(fs, gs, &shared));
	vt_assert_ok(drmSyncobjFDToHandle(ff, shared, &gf));
	close(shared);
	df = syncobj_create(ff, 0);
	pattern_fill(b.map, b.size, 0x5b01);

	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &a, WR), 0, 0, 64, 32, V1);
	vprime_job_out_syncobj(&job, gs, 0);
	vprime_job_submit(fs, &job);
	vt_assert_eq(syncobj_wait(fs, gs, 0, 0, 0), ETIME);	/* A's fence, pending */

	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &b, WR), 0, 0, 64, 32, V2);
	vprime_job_in_syncobj(&job, gf, 0);
	vprime_job_out_syncobj(&job, df, 0);
	vprime_job_submit(ff, &job);
	/* The fast device would be done by now, but for G. */
	vt_assert_eq(syncobj_wait(ff, df, 0, job_delay_ms(slow) / 4, 0), ETIME);
	pattern_check(b.map, b.size, 0x5b01, "B's buffer while A's syncobj is pending");
	vt_assert_eq(syncobj_wait(ff, df, 0, budget_ms(), 0), 0);
	vt_assert_f(syncobj_wait(fs, gs, 0, 0, 0) == 0,
		    "B's out syncobj signalled before its in syncobj, A's\n");
	check_fill(&a, V1, "A's buffer");
	check_fill(&b, V2, "B's buffer");

	/* Point 0 replaces the fence: G is pending again while a new job runs. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &a, WR), 0, 0, 64, 32, V3);
	vprime_job_out_syncobj(&job, gs, 0);
	vprime_job_submit(fs, &job);
	vt_assert_eq(syncobj_wait(fs, gs, 0, 0, 0), ETIME);
	vt_assert_eq(syncobj_wait(fs, gs, 0, budget_ms(), 0), 0);
	check_fill(&a, V3, "A's buffer after the second job");

	drmSyncobjDestroy(fs, gs);
	drmSyncobjDestroy(ff, gf);
	drmSyncobjDestroy(ff, df);
	surface_free(&a);
	surface_free(&b);
	close(fs);
	close(ff);
}

/*
 * Submit @job on @fd from a child, which exits with SUBMIT's errno: a job
 * waiting for a timeline point not submitted yet may block in the ioctl
 * until it is, and the parent is the one to submit it.
 */
static pid_t submit_in_child(int fd, const struct vprime_job *job)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	vt_assert(pid >= 0);
	if (pid == 0) {
		struct drm_vprime_submit args = vprime_job_args(job);

		_exit(vprime_try_submit(fd, &args) & 0xff);
	}
	return pid;
}

/* Child @pid's exit status; it must end within @timeout_ms, or it is killed. */
static int child_status(pid_t pid, int timeout_ms)
{
	double end = now() + timeout_ms / 1000.0;
	int status;
	pid_t r;

	while (!(r = waitpid(pid, &status, WNOHANG)) && now() < end)
		sleep_ms(5);
	if (!r) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		vt_fail("child", "the submitting child was still in SUBMIT after %d ms\n",
			timeout_ms);
	}
	vt_assert_eq(r, pid);
	vt_assert_f(WIFEXITED(status), "the submitting child ended with status %#x\n", status);
	return WEXITSTATUS(status);
}

static void test_syncobj_timeline(void)
{
	int fd = vprime_open(fast_instance(-1), VPRIME_NODE_RENDER);
	struct surface y1 = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface y2 = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct vprime_job job1, job2;
	uint32_t t, d;
	pid_t child;
	int err;

	vt_require_f(has_cap(fd, DRM_CAP_SYNCOBJ_TIMELINE),
		     "vprime does not report DRM_CAP_SYNCOBJ_TIMELINE\n");
	t = syncobj_create(fd, 0);	/* the gate */
	d = syncobj_create(fd, 0);	/* the jobs' out points */
	pattern_fill(y2.map, y2.size, 0x7102);

	/* Nothing at point 1 yet: a wait for its submission times out. */
	vt_assert_eq(syncobj_wait(fd, t, 1, 20, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), ETIME);
	vt_assert_eq(syncobj_point(fd, t), 0);

	/* A point signalled already: the job runs at once and signals d's point 1. */
	timeline_signal(fd, t, 1);
	vt_assert_eq(syncobj_point(fd, t), 1);
	vprime_job_init(&job1);
	vprime_job_fill(&job1, job_bo(&job1, &y1, WR), 0, 0, 64, 32, V1);
	vprime_job_in_syncobj(&job1, t, 1);
	vprime_job_out_syncobj(&job1, d, 1);
	vprime_job_submit(fd, &job1);
	vt_assert_eq(syncobj_wait(fd, d, 1, budget_ms(),
				  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), 0);
	vt_assert_eq(syncobj_point(fd, d), 1);
	check_fill(&y1, V1, "the first job's buffer");

	/* Point 3, not submitted: the job waits for it, and point 2 is not enough. */
	vprime_job_init(&job2);
	vprime_job_fill(&job2, job_bo(&job2, &y2, WR), 0, 0, 64, 32, V2);
	vprime_job_in_syncobj(&job2, t, 3);
	vprime_job_out_syncobj(&job2, d, 2);
	child = submit_in_child(fd, &job2);
	sleep_ms(100);
	vt_assert_eq(syncobj_wait(fd, d, 2, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), ETIME);
	pattern_check(y2.map, y2.size, 0x7102, "the gated job's buffer before point 3");
	timeline_signal(fd, t, 2);
	sleep_ms(50);
	vt_assert_eq(syncobj_wait(fd, d, 2, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), ETIME);
	pattern_check(y2.map, y2.size, 0x7102, "the gated job's buffer after point 2 of 3");
	vt_assert_eq(syncobj_point(fd, d), 1);

	timeline_signal(fd, t, 3);
	err = child_status(child, budget_ms());
	vt_assert_f(!err, "SUBMIT waiting for an unsubmitted timeline point failed: %s\n",
		    strerror(err));
	vt_assert_eq(syncobj_wait(fd, d, 2, budget_ms(),
				  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), 0);
	check_fill(&y2, V2, "the gated job's buffer after point 3");
	vt_assert_eq(syncobj_point(fd, d), 2);
	vt_assert_eq(syncobj_point(fd, t), 3);
	/* And a point of d that no job signals is never reached. */
	vt_assert_eq(syncobj_wait(fd, d, 3, 20, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT), ETIME);

	drmSyncobjDestroy(fd, t);
	drmSyncobjDestroy(fd, d);
	surface_free(&y1);
	surface_free(&y2);
	close(fd);
}

/*
 * Wait (boundedly) for instance @idx's object count to come back to @base:
 * finished jobs drop their buffers on a workqueue, a little after their fences.
 */
static void assert_objects_back(int idx, long base, const char *what)
{
	long now_count = vprime_object_count(idx);

	for (int i = 0; i < 100 && now_count != base; i++) {
		usleep(20 * 1000);
		now_count = vprime_object_count(idx);
	}
	vt_assert_f(now_count == base, "%s: vprime.%d holds %ld objects, %ld before\n", what, idx,
		    now_count, base);
}

static void test_hang_recovery(void)
{
	unsigned int timeout;
	int idx = hang_instance(&timeout);
	long base = vprime_object_count(idx);
	int fd = vprime_open(idx, VPRIME_NODE_RENDER), fd2 = vprime_open(idx, VPRIME_NODE_RENDER);
	int budget = budget_ms() + 3 * timeout;
	struct surface h = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface n = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface m = surface_new(fd2, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct vprime_job job;
	int fh, fn, fm, status;
	double t0, took;

	vprime_job_init(&job);
	job_bo(&job, &h, WR);
	vprime_job_hang(&job);
	vprime_job_out_fence(&job);
	t0 = now();
	fh = vprime_job_submit(fd, &job);

	/* After it: one in the same file's queue, one from another file. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &n, WR), 0, 0, 64, 32, V1);
	vprime_job_out_fence(&job);
	fn = vprime_job_submit(fd, &job);
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &m, WR), 0, 0, 64, 32, V2);
	vprime_job_out_fence(&job);
	fm = vprime_job_submit(fd2, &job);
	vt_assert_eq(sync_file_status(fh), 0);

	status = fence_wait(fh, budget, "the hung job's fence");
	took = now() - t0;
	vtest_info("the hung job ended after %.0f ms (job_timeout_ms %u), status %d (%s)\n",
		   took * 1000, timeout, status, strerror(-status));
	vt_assert_f(status < 0, "the hung job's fence ended with status %d, not an error\n",
		    status);
	vt_assert_f(took * 1000 >= timeout / 2, "the hung job ended after %.0f ms, before "
		    "job_timeout_ms %u\n", took * 1000, timeout);
	vt_assert_eq(fence_wait(fn, budget, "the next job's fence"), 1);
	vt_assert_eq(fence_wait(fm, budget, "the other file's job's fence"), 1);
	check_fill(&n, V1, "the buffer of the job after the hang");
	check_fill(&m, V2, "the buffer of the other file's job");
	vt_assert_eq(vprime_try_wait_idle(fd, h.handle, 0), 0);

	/* And the engine takes new work as before. */
	close(fn);
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &n, WR), 0, 0, 64, 32, V3);
	vprime_job_out_fence(&job);
	fn = vprime_job_submit(fd, &job);
	vt_assert_eq(fence_wait(fn, budget_ms(), "a new job's fence"), 1);
	check_fill(&n, V3, "the buffer of a job submitted after the recovery");

	close(fh);
	close(fn);
	close(fm);
	surface_free(&h);
	surface_free(&n);
	surface_free(&m);
	close(fd);
	close(fd2);
	/* The hung job, too, was freed with its references. */
	assert_objects_back(idx, base, "after the hang and the jobs behind it");
}


#define LONG_W	4096
#define LONG_H	4096

/*
 * A job far longer than the timeout: 256 FILLs of a 64 MiB surface. Its
 * timeout must stop it (its fence fails with -ETIMEDOUT, long before it
 * could have completed), and another file's job behind it must then run.
 */
static void test_timeout_stops_work(void)
{
	static struct drm_vprime_cmd cmds[VPRIME_SUBMIT_MAX_CMDS];
	unsigned int timeout;
	int idx = hang_instance(&timeout);
	long base = vprime_object_count(idx);
	int fd = vprime_open(idx, VPRIME_NODE_RENDER), fd2 = vprime_open(idx, VPRIME_NODE_RENDER);
	int budget = budget_ms() + 3 * timeout;
	uint32_t big = vprime_gem_create(fd, (uint64_t)LONG_W * 4 * LONG_H);
	struct surface m = surface_new(fd2, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct drm_vprime_submit args;
	struct vprime_job job;
	int fl, fm, status;
	uint32_t dst;

	vprime_job_init(&job);
	dst = vprime_job_add_bo(&job, big, WR, LONG_W, LONG_H, LONG_W * 4, DRM_FORMAT_XRGB8888);
	vprime_job_out_fence(&job);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		cmds[i] = (struct drm_vprime_cmd){
			.op = VPRIME_CMD_FILL, .dst = dst, .width = LONG_W, .height = LONG_H,
			.value = V1 + i,
		};
	args = vprime_job_args(&job);
	args.cmds_ptr = (uintptr_t)cmds;
	args.num_cmds = ARRAY_SIZE(cmds);
	vt_assert_eq(vprime_try_submit(fd, &args), 0);
	fl = args.out_fence_fd;

	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &m, WR), 0, 0, 64, 32, V2);
	vprime_job_out_fence(&job);
	fm = vprime_job_submit(fd2, &job);

	status = fence_wait(fl, budget, "the long job's fence");
	vt_assert_f(status == -ETIMEDOUT, "the long job's fence ended with %d (%s), not "
		    "-ETIMEDOUT: its timeout did not stop it\n", status, strerror(-status));
	vt_assert_eq(fence_wait(fm, budget, "the other file's job's fence"), 1);
	check_fill(&m, V2, "the buffer of the other file's job");

	close(fl);
	close(fm);
	gem_close(fd, big);
	surface_free(&m);
	close(fd);
	close(fd2);
	assert_objects_back(idx, base, "after the stopped job");
}

/*
 * A file whose jobs time out VPRIME_BAN_TIMEOUTS (3) times is banned: its
 * SUBMITs fail with EIO. Another file of the same device is not affected.
 */
static void test_ban_after_timeouts(void)
{
	unsigned int timeout;
	int idx = hang_instance(&timeout);
	long base = vprime_object_count(idx);
	int fd = vprime_open(idx, VPRIME_NODE_RENDER), fd2 = vprime_open(idx, VPRIME_NODE_RENDER);
	int budget = budget_ms() + 3 * timeout;
	struct surface h = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface n = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface m = surface_new(fd2, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct drm_vprime_submit args;
	struct vprime_job job;
	int fence, status;

	surface_pattern(&n, 0xba4);
	for (int i = 0; i < 3; i++) {
		vprime_job_init(&job);
		job_bo(&job, &h, WR);
		vprime_job_hang(&job);
		vprime_job_out_fence(&job);
		fence = vprime_job_submit(fd, &job);
		status = fence_wait(fence, budget, "a hung job's fence");
		vt_assert_f(status == -ETIMEDOUT, "hung job %d ended with %d, not -ETIMEDOUT\n",
			    i, status);
		close(fence);
	}

	/* Banned: a valid job is refused, and touches nothing. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &n, WR), 0, 0, 64, 32, V1);
	args = vprime_job_args(&job);
	status = vprime_try_submit(fd, &args);
	vt_assert_f(status == EIO, "a banned file's SUBMIT returned %d (%s), not EIO\n", status,
		    strerror(status));
	vt_assert_eq(vprime_try_wait_idle(fd, n.handle, 0), 0);

	/* Another file is not. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &m, WR), 0, 0, 64, 32, V2);
	vprime_job_out_fence(&job);
	fence = vprime_job_submit(fd2, &job);
	vt_assert_eq(fence_wait(fence, budget, "the other file's job's fence"), 1);
	check_fill(&m, V2, "the buffer of the other file's job");
	close(fence);

	/* The banned file's buffer kept its bytes: still the pattern. */
	{
		struct surface ref = n;
		uint8_t *want = malloc(n.size);

		vt_assert(want);
		ref.map = want;
		surface_pattern(&ref, 0xba4);
		vt_assert_f(!memcmp(n.map, want, n.size), "a banned file's job wrote its buffer\n");
		free(want);
	}

	surface_free(&h);
	surface_free(&n);
	surface_free(&m);
	close(fd);
	close(fd2);
	assert_objects_back(idx, base, "after the ban");
}

static void test_wait_idle(void)
{
	int fd = vprime_open(slow_instance(), VPRIME_NODE_RENDER);
	struct surface b = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct surface c = surface_new(fd, 64, 32, DRM_FORMAT_XRGB8888, 0);
	struct drm_vprime_wait_idle w = { .handle = b.handle, .flags = 1 };
	struct vprime_job job;
	uint32_t closed;
	double t0;

	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, 0), 0);	/* never used */
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_WAIT_IDLE, &w), EINVAL);
	w.flags = 1u << 31;
	vt_assert_errno(ioctl(fd, DRM_IOCTL_VPRIME_WAIT_IDLE, &w), EINVAL);
	vt_assert_eq(vprime_try_wait_idle(fd, 0x7fffffff, 0), ENOENT);
	closed = vprime_gem_create(fd, VT_PAGE);
	gem_close(fd, closed);
	vt_assert_eq(vprime_try_wait_idle(fd, closed, 0), ENOENT);

	/* A writer. */
	vprime_job_init(&job);
	vprime_job_fill(&job, job_bo(&job, &b, WR), 0, 0, 64, 32, V1);
	vprime_job_submit(fd, &job);
	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, 0), ETIME);
	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, 10 * MS), ETIME);	/* 10 ms < delay */
	t0 = now();
	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, budget_ms() * MS), 0);
	vtest_info("WAIT_IDLE returned after %.0f ms\n", (now() - t0) * 1000);
	check_fill(&b, V1, "the buffer once WAIT_IDLE returned");
	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, 0), 0);

	/* A reader uses the buffer too. */
	vprime_job_init(&job);
	vprime_job_copy(&job, job_bo(&job, &b, RD), 0, 0, job_bo(&job, &c, WR), 0, 0, 64, 32);
	vprime_job_submit(fd, &job);
	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, 0), ETIME);
	vt_assert_eq(vprime_try_wait_idle(fd, c.handle, 0), ETIME);
	vt_assert_eq(vprime_try_wait_idle(fd, c.handle, budget_ms() * MS), 0);
	vt_assert_eq(vprime_try_wait_idle(fd, b.handle, 0), 0);
	check_fill(&c, V1, "the copy once WAIT_IDLE returned");

	surface_free(&b);
	surface_free(&c);
	close(fd);
}

/* Bad submissions */

#define BAD_W	64
#define BAD_H	16	/* 64 x 16 XRGB8888, 256 bytes a row: exactly one page */

/*
 * A valid job (COPY of a whole surface to another, asking for an out fence)
 * that each case spoils in one way, in the job or in the ioctl's arguments.
 */
struct bad_ctx {
	int fd, idx;
	struct surface src, dst;
	int src_dmabuf, dst_dmabuf;	/* to poll whether a fence was left */
	struct vprime_job job;
	struct drm_vprime_submit args;	/* points into job */
	uint8_t *fault;			/* a PROT_NONE page, after a readable one */
};

struct bad_case {
	const char *name;
	int err;
	void (*spoil)(struct bad_ctx *c);
};

static void require_syncobj(struct bad_ctx *c)
{
	vt_require_f(has_cap(c->fd, DRM_CAP_SYNCOBJ), "vprime does not report DRM_CAP_SYNCOBJ\n");
}

static void set_in_syncobj(struct bad_ctx *c, uint32_t handle, uint32_t pad)
{
	c->job.in_syncobjs[0] = (struct drm_vprime_syncobj){ .handle = handle, .pad = pad };
	c->args.in_syncobjs_ptr = (uintptr_t)c->job.in_syncobjs;
	c->args.num_in_syncobjs = 1;
}

static void set_checksum(struct bad_ctx *c, uint64_t offset)
{
	c->job.cmds[0] = (struct drm_vprime_cmd){
		.op = VPRIME_CMD_CHECKSUM, .src = 0, .dst = 1,
		.width = BAD_W, .height = BAD_H, .dst_offset = offset,
	};
}

static void bad_op_zero(struct bad_ctx *c) { c->job.cmds[0].op = 0; }
static void bad_op_unknown(struct bad_ctx *c) { c->job.cmds[0].op = VPRIME_CMD_HANG + 1; }
static void bad_op_huge(struct bad_ctx *c) { c->job.cmds[0].op = UINT32_MAX; }
static void bad_cmd_flags(struct bad_ctx *c) { c->job.cmds[0].flags = 1; }
static void bad_cmd_pad(struct bad_ctx *c) { c->job.cmds[0].pad = 1; }
static void bad_flags_next(struct bad_ctx *c) { c->args.flags |= VPRIME_SUBMIT_OUT_SYNCOBJ << 1; }
static void bad_flags_top(struct bad_ctx *c) { c->args.flags |= 1u << 31; }
static void bad_rect_dst(struct bad_ctx *c) { c->job.cmds[0].dst_x = 1; }
static void bad_rect_src(struct bad_ctx *c) { c->job.cmds[0].src_y = 1; }
/* x + width wraps round to inside the surface. */
static void bad_rect_wrap_x(struct bad_ctx *c) { c->job.cmds[0].dst_x = UINT32_MAX; }
static void bad_rect_wrap_width(struct bad_ctx *c)
{
	c->job.cmds[0].src_x = 1;
	c->job.cmds[0].dst_x = 1;
	c->job.cmds[0].width = UINT32_MAX;
}
static void bad_surface_height(struct bad_ctx *c) { c->job.bos[1].height++; }
static void bad_surface_width(struct bad_ctx *c) { c->job.bos[1].width++; }
static void bad_surface_pitch(struct bad_ctx *c) { c->job.bos[0].pitch -= 4; }
/* pitch * (height - 1) wraps round in 32 bits. */
static void bad_surface_wrap(struct bad_ctx *c)
{
	c->job.bos[0].pitch = 0x80000000u;
	c->job.bos[0].height = 3;
	c->job.cmds[0].height = 3;
}
static void bad_surface_format(struct bad_ctx *c) { c->job.bos[0].format = DRM_FORMAT_NV12; }
static void bad_bo_flags_zero(struct bad_ctx *c) { c->job.bos[0].flags = 0; }
static void bad_bo_flags_unknown(struct bad_ctx *c) { c->job.bos[0].flags |= WR << 1; }
static void bad_bo_twice(struct bad_ctx *c) { c->job.bos[1].handle = c->job.bos[0].handle; }
static void bad_write_read_only(struct bad_ctx *c) { c->job.bos[1].flags = RD; }
static void bad_read_write_only(struct bad_ctx *c) { c->job.bos[0].flags = WR; }
static void bad_src_index(struct bad_ctx *c) { c->job.cmds[0].src = 2; }
static void bad_dst_index(struct bad_ctx *c) { c->job.cmds[0].dst = 2; }
static void bad_dst_index_huge(struct bad_ctx *c) { c->job.cmds[0].dst = UINT32_MAX; }
static void bad_fill_index(struct bad_ctx *c)
{
	c->job.cmds[0] = (struct drm_vprime_cmd){
		.op = VPRIME_CMD_FILL, .dst = 2, .width = BAD_W, .height = BAD_H,
	};
}
/* A FILL of the destination (buffer 1), the fields it does not use still 0. */
static void set_fill(struct bad_ctx *c)
{
	c->job.cmds[0] = (struct drm_vprime_cmd){
		.op = VPRIME_CMD_FILL, .dst = 1, .width = BAD_W, .height = BAD_H, .value = V1,
	};
}
static void bad_fill_src(struct bad_ctx *c) { set_fill(c); c->job.cmds[0].src = 1; }
static void bad_fill_src_x(struct bad_ctx *c) { set_fill(c); c->job.cmds[0].src_x = 1; }
static void bad_fill_src_y(struct bad_ctx *c) { set_fill(c); c->job.cmds[0].src_y = 1; }
static void bad_fill_dst_offset(struct bad_ctx *c) { set_fill(c); c->job.cmds[0].dst_offset = 4; }
static void bad_copy_value(struct bad_ctx *c) { c->job.cmds[0].value = V1; }
static void bad_copy_dst_offset(struct bad_ctx *c) { c->job.cmds[0].dst_offset = 4; }
static void set_hang(struct bad_ctx *c) { c->job.cmds[0] = (struct drm_vprime_cmd){ .op = VPRIME_CMD_HANG }; }
static void bad_hang_dst(struct bad_ctx *c) { set_hang(c); c->job.cmds[0].dst = 1; }
static void bad_hang_rect(struct bad_ctx *c) { set_hang(c); c->job.cmds[0].width = 1; c->job.cmds[0].height = 1; }
static void bad_hang_value(struct bad_ctx *c) { set_hang(c); c->job.cmds[0].value = 1; }
static void bad_hang_dst_offset(struct bad_ctx *c) { set_hang(c); c->job.cmds[0].dst_offset = 4; }
static void bad_handle(struct bad_ctx *c) { c->job.bos[0].handle = 0x7fffffff; }
static void bad_handle_closed(struct bad_ctx *c)
{
	uint32_t h = vprime_gem_create(c->fd, VT_PAGE);

	gem_close(c->fd, h);
	c->job.bos[1].handle = h;
}
static void bad_num_bos_zero(struct bad_ctx *c) { c->args.num_bos = 0; }
static void bad_num_bos_many(struct bad_ctx *c)
{
	static struct drm_vprime_submit_bo bos[VPRIME_SUBMIT_MAX_BOS + 1];

	memcpy(bos, c->job.bos, 2 * sizeof(*bos));
	c->args.bos_ptr = (uintptr_t)bos;
	c->args.num_bos = ARRAY_SIZE(bos);
}
static void bad_num_bos_huge(struct bad_ctx *c) { c->args.num_bos = UINT32_MAX; }
static void bad_num_cmds_zero(struct bad_ctx *c) { c->args.num_cmds = 0; }
static void bad_num_cmds_many(struct bad_ctx *c)
{
	static struct drm_vprime_cmd cmds[VPRIME_SUBMIT_MAX_CMDS + 1];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		cmds[i] = c->job.cmds[0];	/* each valid on its own */
	c->args.cmds_ptr = (uintptr_t)cmds;
	c->args.num_cmds = ARRAY_SIZE(cmds);
}
static void bad_num_cmds_huge(struct bad_ctx *c) { c->args.num_cmds = UINT32_MAX; }
static void bad_num_syncobjs_many(struct bad_ctx *c)
{
	static struct drm_vprime_syncobj syncobjs[VPRIME_SUBMIT_MAX_SYNCOBJS + 1];
	uint32_t h;

	require_syncobj(c);
	h = syncobj_create(c->fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	for (size_t i = 0; i < ARRAY_SIZE(syncobjs); i++)
		syncobjs[i] = (struct drm_vprime_syncobj){ .handle = h };
	c->args.in_syncobjs_ptr = (uintptr_t)syncobjs;
	c->args.num_in_syncobjs = ARRAY_SIZE(syncobjs);
}
static void bad_in_fence_closed(struct bad_ctx *c)
{
	int f = open("/dev/null", O_RDONLY | O_CLOEXEC);

	vt_assert(f >= 0);
	close(f);
	c->args.flags |= VPRIME_SUBMIT_IN_FENCE_FD;
	c->args.in_fence_fd = f;
}
static void bad_in_fence_not_sync_file(struct bad_ctx *c)
{
	c->args.flags |= VPRIME_SUBMIT_IN_FENCE_FD;
	c->args.in_fence_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* closed at exit */
	vt_assert(c->args.in_fence_fd >= 0);
}
static void bad_in_syncobj_unknown(struct bad_ctx *c) { set_in_syncobj(c, 0x7fffffff, 0); }
static void bad_in_syncobj_pad(struct bad_ctx *c)
{
	require_syncobj(c);
	set_in_syncobj(c, syncobj_create(c->fd, DRM_SYNCOBJ_CREATE_SIGNALED), 1);
}
static void bad_out_syncobj_unknown(struct bad_ctx *c)
{
	c->args.flags |= VPRIME_SUBMIT_OUT_SYNCOBJ;
	c->args.out_syncobj = (struct drm_vprime_syncobj){ .handle = 0x7fffffff };
}
static void bad_out_syncobj_pad(struct bad_ctx *c)
{
	require_syncobj(c);
	c->args.flags |= VPRIME_SUBMIT_OUT_SYNCOBJ;
	c->args.out_syncobj = (struct drm_vprime_syncobj){
		.handle = syncobj_create(c->fd, 0), .pad = 1,
	};
}
static void bad_bos_fault(struct bad_ctx *c) { c->args.bos_ptr = (uintptr_t)c->fault; }
static void bad_cmds_fault(struct bad_ctx *c) { c->args.cmds_ptr = (uintptr_t)c->fault; }
/* The first command readable, the second in the PROT_NONE page. */
static void bad_cmds_partial_fault(struct bad_ctx *c)
{
	struct drm_vprime_cmd *cmds = (struct drm_vprime_cmd *)c->fault - 1;

	cmds[0] = c->job.cmds[0];
	c->args.cmds_ptr = (uintptr_t)cmds;
	c->args.num_cmds = 2;
}
static void bad_syncobjs_fault(struct bad_ctx *c)
{
	c->args.in_syncobjs_ptr = (uintptr_t)c->fault;
	c->args.num_in_syncobjs = 1;
}
static void bad_checksum_unaligned(struct bad_ctx *c) { set_checksum(c, 2); }
static void bad_checksum_past_end(struct bad_ctx *c) { set_checksum(c, c->dst.size); }
/* dst_offset + 4 wraps round to 0. */
static void bad_checksum_wrap(struct bad_ctx *c) { set_checksum(c, UINT64_MAX - 3); }
static void bad_checksum_value(struct bad_ctx *c) { set_checksum(c, 0); c->job.cmds[0].value = 1; }
static void bad_checksum_dst_x(struct bad_ctx *c) { set_checksum(c, 0); c->job.cmds[0].dst_x = 1; }
static void bad_checksum_dst_y(struct bad_ctx *c) { set_checksum(c, 0); c->job.cmds[0].dst_y = 1; }

static const struct bad_case bad_cases[] = {
	{ "op-zero", EINVAL, bad_op_zero },
	{ "op-unknown", EINVAL, bad_op_unknown },
	{ "op-huge", EINVAL, bad_op_huge },
	{ "cmd-flags", EINVAL, bad_cmd_flags },
	{ "cmd-pad", EINVAL, bad_cmd_pad },
	{ "submit-flags-next", EINVAL, bad_flags_next },
	{ "submit-flags-top", EINVAL, bad_flags_top },
	{ "rect-outside-dst", EINVAL, bad_rect_dst },
	{ "rect-outside-src", EINVAL, bad_rect_src },
	{ "rect-wrap-x", EINVAL, bad_rect_wrap_x },
	{ "rect-wrap-width", EINVAL, bad_rect_wrap_width },
	{ "surface-too-high", EINVAL, bad_surface_height },
	{ "surface-too-wide", EINVAL, bad_surface_width },
	{ "surface-pitch-short", EINVAL, bad_surface_pitch },
	{ "surface-wrap", EINVAL, bad_surface_wrap },
	{ "surface-format", EINVAL, bad_surface_format },
	{ "bo-flags-zero", EINVAL, bad_bo_flags_zero },
	{ "bo-flags-unknown", EINVAL, bad_bo_flags_unknown },
	{ "bo-twice", EINVAL, bad_bo_twice },
	{ "write-read-only-bo", EINVAL, bad_write_read_only },
	{ "read-write-only-bo", EINVAL, bad_read_write_only },
	{ "src-index", EINVAL, bad_src_index },
	{ "dst-index", EINVAL, bad_dst_index },
	{ "dst-index-huge", EINVAL, bad_dst_index_huge },
	{ "fill-dst-index", EINVAL, bad_fill_index },
	{ "bo-handle-unknown", ENOENT, bad_handle },
	{ "bo-handle-closed", ENOENT, bad_handle_closed },
	{ "num-bos-zero", EINVAL, bad_num_bos_zero },
	{ "num-bos-over-max", EINVAL, bad_num_bos_many },
	{ "num-bos-huge", EINVAL, bad_num_bos_huge },
	{ "num-cmds-zero", EINVAL, bad_num_cmds_zero },
	{ "num-cmds-over-max", EINVAL, bad_num_cmds_many },
	{ "num-cmds-huge", EINVAL, bad_num_cmds_huge },
	{ "num-syncobjs-over-max", EINVAL, bad_num_syncobjs_many },
	{ "in-fence-closed", EBADF, bad_in_fence_closed },
	{ "in-fence-not-sync-file", EINVAL, bad_in_fence_not_sync_file },
	{ "in-syncobj-unknown", ENOENT, bad_in_syncobj_unknown },
	{ "in-syncobj-pad", EINVAL, bad_in_syncobj_pad },
	{ "out-syncobj-unknown", ENOENT, bad_out_syncobj_unknown },
	{ "out-syncobj-pad", EINVAL, bad_out_syncobj_pad },
	{ "bos-fault", EFAULT, bad_bos_fault },
	{ "cmds-fault", EFAULT, bad_cmds_fault },
	{ "cmds-partial-fault", EFAULT, bad_cmds_partial_fault },
	{ "syncobjs-fault", EFAULT, bad_syncobjs_fault },
	{ "checksum-unaligned", EINVAL, bad_checksum_unaligned },
	{ "checksum-past-end", EINVAL, bad_checksum_past_end },
	{ "checksum-wrap", EINVAL, bad_checksum_wrap },
	{ "checksum-value", EINVAL, bad_checksum_value },
	{ "checksum-dst-x", EINVAL, bad_checksum_dst_x },
	{ "checksum-dst-y", EINVAL, bad_checksum_dst_y },
	{ "fill-src", EINVAL, bad_fill_src },
	{ "fill-src-x", EINVAL, bad_fill_src_x },
	{ "fill-src-y", EINVAL, bad_fill_src_y },
	{ "fill-dst-offset", EINVAL, bad_fill_dst_offset },
	{ "copy-value", EINVAL, bad_copy_value },
	{ "copy-dst-offset", EINVAL, bad_copy_dst_offset },
	{ "hang-dst", EINVAL, bad_hang_dst },
	{ "hang-rect", EINVAL, bad_hang_rect },
	{ "hang-value", EINVAL, bad_hang_value },
	{ "hang-dst-offset", EINVAL, bad_hang_dst_offset },
};

/* The lowest free fd number: a rejected SUBMIT must not have installed one. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	vt_assert(fd >= 0);
	close(fd);
	return fd;
}

/* The buffer behind @dmabuf carries no unsignalled fence. */
static void check_no_fence(int dmabuf, const char *what)
{
	vt_assert_f(fd_poll(dmabuf, POLLIN | POLLOUT, 0) == (POLLIN | POLLOUT),
		    "%s is busy after a rejected SUBMIT\n", what);
}

static void bad_setup(struct bad_ctx *c)
{
	uint32_t src, dst;
	int fence;

	c->idx = fast_instance(-1);
	c->fd = vprime_open(c->idx, VPRIME_NODE_RENDER);
	c->src = surface_new(c->fd, BAD_W, BAD_H, DRM_FORMAT_XRGB8888, 0);
	c->dst = surface_new(c->fd, BAD_W, BAD_H, DRM_FORMAT_XRGB8888, 0);
	vt_assert_eq(c->src.size, VT_PAGE);
	c->src_dmabuf = prime_export(c->fd, c->src.handle, DRM_CLOEXEC | DRM_RDWR);
	c->dst_dmabuf = prime_export(c->fd, c->dst.handle, DRM_CLOEXEC | DRM_RDWR);
	c->fault = mmap(NULL, 2 * VT_PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vt_assert(c->fault != MAP_FAILED);
	c->fault += VT_PAGE;
	vt_assert_ok(mprotect(c->fault, VT_PAGE, PROT_NONE));

	vprime_job_init(&c->job);
	/* In this order, in statements of their own: the cases spoil bos[0] and bos[1]. */
	src = job_bo(&c->job, &c->src, RD);
	dst = job_bo(&c->job, &c->dst, WR);
	vt_assert(src == 0 && dst == 1);
	vprime_job_copy(&c->job, src, 0, 0, dst, 0, 0, BAD_W, BAD_H);
	vprime_job_out_fence(&c->job);

	/* The job as it is must be accepted, so that each case's error is its own. */
	pattern_fill(c->src.map, c->src.size, 0xbad0);
	fence = vprime_job_submit(c->fd, &c->job);
	vt_assert_eq(fence_wait(fence, budget_ms(), "the valid job's fence"), 1);
	close(fence);
}

static void run_bad_case(void *arg)
{
	const struct bad_case *bc = arg;
	struct bad_ctx c;
	long objects;
	int free_fd, err;

	bad_setup(&c);
	c.args = vprime_job_args(&c.job);
	bc->spoil(&c);
	objects = vprime_object_count(c.idx);
	free_fd = lowest_free_fd();

	err = vprime_try_submit(c.fd, &c.args);
	vt_assert_f(err == bc->err, "SUBMIT returned %d (%s), expected %d (%s)\n", err,
		    strerror(err), bc->err, strerror(bc->err));
	vt_assert_eq(vprime_object_count(c.idx), objects);
	vt_assert_f(lowest_free_fd() == free_fd, "a rejected SUBMIT installed fd %d\n", free_fd);
	check_no_fence(c.src_dmabuf, "the source");
	check_no_fence(c.dst_dmabuf, "the destination");
	vt_assert_eq(vprime_try_wait_idle(c.fd, c.dst.handle, 0), 0);
}

static void test_bad_submit(void)
{
	require_engine();
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++)
		vtest_dynamic(bad_cases[i].name, run_bad_case, (void *)&bad_cases[i]);
}

static const struct vtest tests[] = {
	VTEST("fill-copy-checksum", "FILL, COPY between XRGB8888, RGB565, ARGB8888, ABGR8888 "
	      "and XBGR8888, and CHECKSUM (crc32_le(0, rows)), in three back-to-back jobs: "
	      "every byte of every object matches the test's model after WAIT_IDLE.",
	      test_fill_copy_checksum),
	VTEST("fill-fast-paths", "FILL in each format, of whole surfaces (rows without "
	      "padding, past 256 KiB), bands, odd widths at odd columns, single pixels, rows "
	      "longer than their pixels and an odd pitch, with colours whose bytes are equal "
	      "and not: every byte matches the per-pixel model.", test_fill_fast_paths),
	VTEST("copy-fast-paths", "COPY for each of the 25 format pairs: whole surfaces, "
	      "bands, differing and odd pitches, odd widths at odd columns, single pixels, "
	      "sources' X bytes as they are: every byte matches the per-pixel model.",
	      test_copy_fast_paths),
	VTEST("copy-overlap", "COPY within one surface whose rectangles overlap (a pixel "
	      "or a row apart, onto itself, bands of rows without padding), in each format: "
	      "pixels and rows in order, each read before it is written.", test_copy_overlap),
	VTEST("implicit-order-cross-device", "A slow device's job writes (then reads) a "
	      "shared buffer; a fast device's job reading (then writing) it right after "
	      "runs after it through the reservation object alone.",
	      test_implicit_order_cross_device),
	VTEST("implicit-vgem-fence", "A job reading a vgem buffer waits for vgem's "
	      "unsignalled write fence, and copies what vgem wrote before signalling it.",
	      test_implicit_vgem_fence),
	VTEST("poll-busy", "poll() on the dma-buf and DMA_BUF_IOCTL_EXPORT_SYNC_FILE see a "
	      "pending write (busy for readers and writers) and a pending read (busy for "
	      "writers) until the job is done.", test_poll_busy),
	VTEST("sync-file-in-out", "A job's out sync_file, given as another device's in "
	      "fence, holds that job back until it signals.", test_sync_file_in_out),
	VTEST("syncobj-binary", "A job's binary out syncobj, shared with another device, "
	      "gates that device's job; point 0 replaces the fence; unsignalled waits time "
	      "out with -ETIME.", test_syncobj_binary),
	VTEST("syncobj-timeline", "A job gated by a timeline point not yet submitted waits "
	      "until drmSyncobjTimelineSignal() reaches that point (an earlier one is not "
	      "enough), then signals its own out point.", test_syncobj_timeline),
	VTEST("hang-recovery", "A job that hangs is timed out after job_timeout_ms with an "
	      "error in its fence; the jobs after it run and write the right bytes.",
	      test_hang_recovery),
	VTEST("timeout-stops-work", "A job far longer than job_timeout_ms (256 FILLs of a "
	      "64 MiB surface) is stopped by its timeout: its fence fails with -ETIMEDOUT, and "
	      "another file's job behind it runs.", test_timeout_stops_work),
	VTEST("ban-after-timeouts", "A file whose jobs timed out 3 times is banned: its "
	      "SUBMIT fails with EIO and writes nothing; another file's jobs still run.",
	      test_ban_after_timeouts),
	VTEST("wait-idle", "WAIT_IDLE: 0 when idle, -ETIME while a writer or a reader is "
	      "pending, 0 after it within a timeout; -EINVAL for flags, -ENOENT for a bad "
	      "handle.", test_wait_idle),
	VTEST("bad-submit", "Each malformed SUBMIT fails with its errno and leaves no "
	      "object, fd or fence behind.", test_bad_submit),
};

VTEST_MAIN("vprime's job engine: FILL, COPY and CHECKSUM jobs, implicit and explicit "
	   "synchronisation across devices, hang recovery, and bad submissions.", tests)
