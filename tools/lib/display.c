// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

#include "display.h"
#include "tool.h"

#define FENCE_TIMEOUT_MS	10000

int dumb_create(int fd, uint32_t width, uint32_t height, uint32_t *handle,
		uint32_t *pitch, uint64_t *size, void **map)
{
	struct drm_mode_create_dumb c = { .width = width, .height = height, .bpp = 32 };
	struct drm_mode_map_dumb m = {};

	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		return -errno;
	m.handle = c.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		return -errno;
	*map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	if (*map == MAP_FAILED)
		return -errno;
	*handle = c.handle;
	*pitch = c.pitch;
	*size = c.size;
	return 0;
}

int add_fb(int fd, uint32_t handle, uint32_t width, uint32_t height, uint32_t format,
	   uint32_t pitch, uint32_t *fb_id)
{
	uint32_t handles[4] = { handle }, pitches[4] = { pitch }, offsets[4] = { 0 };

	return drmModeAddFB2(fd, width, height, format, handles, pitches, offsets, fb_id, 0) ?
	       -errno : 0;
}

uint32_t display_prop_id(int fd, uint32_t obj, uint32_t type, const char *name,
			 uint64_t *value)
{
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, obj, type);
	uint32_t id = 0;

	for (uint32_t i = 0; props && i < props->count_props && !id; i++) {
		drmModePropertyRes *p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, name)) {
			id = p->prop_id;
			if (value)
				*value = props->prop_values[i];
		}
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return id;
}

int display_add_prop(drmModeAtomicReq *req, int fd, uint32_t obj, uint32_t type,
		     const char *name, uint64_t value)
{
	uint32_t id = display_prop_id(fd, obj, type, name, NULL);

	if (!id)
		return -ENOENT;
	return drmModeAtomicAddProperty(req, obj, id, value) < 0 ? -ENOMEM : 0;
}

int display_find_route(int fd, uint32_t width, uint32_t height, struct display_route *r)
{
	drmModeRes *res = drmModeGetResources(fd);
	int ret = -ENODEV;

	if (!res)
		return -errno;
	for (int i = 0; i < res->count_connectors && ret; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);
		drmModeEncoder *e;

		if (!c || c->connector_type != DRM_MODE_CONNECTOR_WRITEBACK || !c->count_encoders) {
			drmModeFreeConnector(c);
			continue;
		}
		for (int m = 0; m < c->count_modes && ret; m++)
			if (c->modes[m].hdisplay == width && c->modes[m].vdisplay == height &&
			    !(c->modes[m].flags & DRM_MODE_FLAG_INTERLACE)) {
				r->mode = c->modes[m];
				ret = 0;
			}
		e = drmModeGetEncoder(fd, c->encoders[0]);
		for (int k = 0; e && !ret && k < res->count_crtcs; k++)
			if (e->possible_crtcs & (1u << k)) {
				r->crtc = res->crtcs[k];
				r->crtc_index = k;
				break;
			}
		r->writeback = c->connector_id;
		drmModeFreeEncoder(e);
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	return ret;
}

/* The plane of @type that can feed CRTC @index, or 0. */
static uint32_t find_plane(int fd, int index, uint32_t type)
{
	drmModePlaneRes *res = drmModeGetPlaneResources(fd);
	uint32_t found = 0;
	uint64_t t;

	for (uint32_t i = 0; res && i < res->count_planes && !found; i++) {
		drmModePlane *p = drmModeGetPlane(fd, res->planes[i]);

		if (p && (p->possible_crtcs & (1u << index)) &&
		    display_prop_id(fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type", &t) && t == type)
			found = p->plane_id;
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(res);
	return found;
}

static int add_plane(drmModeAtomicReq *req, int fd, const struct display_route *r,
		     const struct plane_setup *s)
{
	uint32_t plane = find_plane(fd, r->crtc_index, s->type);
	const uint32_t P = DRM_MODE_OBJECT_PLANE;
	int ret;

	if (!plane)
		return -ENODEV;
	ret = display_add_prop(req, fd, plane, P, "FB_ID", s->fb);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_ID", s->fb ? r->crtc : 0);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_X", 0);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_Y", 0);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_W", (uint64_t)s->w << 16);
	ret = ret ?: display_add_prop(req, fd, plane, P, "SRC_H", (uint64_t)s->h << 16);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_X", (uint64_t)(int64_t)s->x);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_Y", (uint64_t)(int64_t)s->y);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_W", s->w);
	ret = ret ?: display_add_prop(req, fd, plane, P, "CRTC_H", s->h);
	if (!ret && display_prop_id(fd, plane, P, "alpha", NULL))
		ret = display_add_prop(req, fd, plane, P, "alpha", s->alpha ? s->alpha : 0xffff);
	return ret;
}

/* Detach from @crtc every connector but @keep (fbdev may have left one). */
static int add_connectors_off(drmModeAtomicReq *req, int fd, uint32_t crtc, uint32_t keep)
{
	drmModeRes *res = drmModeGetResources(fd);
	int ret = 0;

	for (int i = 0; res && i < res->count_connectors && !ret; i++) {
		uint32_t id = res->connectors[i];
		uint64_t on = 0;

		if (id != keep && display_prop_id(fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", &on) &&
		    on == crtc)
			ret = display_add_prop(req, fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", 0);
	}
	drmModeFreeResources(res);
	return ret;
}

static int commit(int fd, drmModeAtomicReq *req)
{
	int ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL) ? -errno : 0;

	drmModeAtomicFree(req);
	return ret;
}

static int commit_frame(int fd, const struct display_route *r, const struct plane_setup *planes,
			int n, uint32_t out_fb, int32_t *fence)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	const uint32_t C = DRM_MODE_OBJECT_CONNECTOR;
	uint32_t blob;
	int ret;

	if (!req)
		return -ENOMEM;
	ret = drmModeCreatePropertyBlob(fd, &r->mode, sizeof(r->mode), &blob) ? -errno : 0;
	ret = ret ?: add_connectors_off(req, fd, r->crtc, r->writeback);
	ret = ret ?: display_add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", blob);
	ret = ret ?: display_add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
	ret = ret ?: display_add_prop(req, fd, r->writeback, C, "CRTC_ID", r->crtc);
	ret = ret ?: display_add_prop(req, fd, r->writeback, C, "WRITEBACK_FB_ID", out_fb);
	ret = ret ?: display_add_prop(req, fd, r->writeback, C, "WRITEBACK_OUT_FENCE_PTR",
			 (uint64_t)(uintptr_t)fence);
	for (int i = 0; i < n && !ret; i++)
		ret = add_plane(req, fd, r, &planes[i]);
	if (ret) {
		drmModeAtomicFree(req);
		return ret;
	}
	ret = commit(fd, req);
	drmModeDestroyPropertyBlob(fd, blob);
	return ret;
}

static int commit_off(int fd, const struct display_route *r, const struct plane_setup *planes,
		      int n)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret = req ? 0 : -ENOMEM;

	for (int i = 0; i < n && !ret; i++) {
		struct plane_setup off = planes[i];

		off.fb = 0;
		ret = add_plane(req, fd, r, &off);
	}
	ret = ret ?: add_connectors_off(req, fd, r->crtc, 0);
	ret = ret ?: display_add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 0);
	ret = ret ?: display_add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", 0);
	if (ret) {
		drmModeAtomicFree(req);
		return ret;
	}
	return commit(fd, req);
}

static int wait_fence(int fence)
{
	struct pollfd pfd = { .fd = fence, .events = POLLIN };
	int n = poll(&pfd, 1, FENCE_TIMEOUT_MS);

	close(fence);
	return n == 1 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

int display_show(int fd, const struct plane_setup *planes, int n, uint32_t width,
		 uint32_t height, struct frame *out, struct display_shown *shown)
{
	int32_t fence = -1;
	void *map;
	int ret;

	if (n > DISPLAY_MAX_PLANES)
		return -EINVAL;
	memset(shown, 0, sizeof(*shown));
	memset(out, 0, sizeof(*out));
	if (drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) ||
	    drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1))
		return -errno;
	ret = display_find_route(fd, width, height, &shown->route);
	if (ret)
		return ret;
	ret = dumb_create(fd, width, height, &out->handle, &out->pitch, &out->size, &map);
	if (ret)
		return ret;
	out->pixels = map;
	out->width = width;
	out->height = height;
	ret = add_fb(fd, out->handle, width, height, DRM_FORMAT_XRGB8888, out->pitch,
		     &shown->out_fb);
	if (ret)
		return ret;
	memcpy(shown->planes, planes, n * sizeof(*planes));
	shown->n = n;
	ret = commit_frame(fd, &shown->route, planes, n, shown->out_fb, &fence);
	if (!ret)
		ret = fence >= 0 ? wait_fence(fence) : -EIO;
	if (ret) {
		drmModeRmFB(fd, shown->out_fb);
		shown->out_fb = 0;
	}
	return ret;
}

int display_off(int fd, struct display_shown *shown)
{
	int ret = commit_off(fd, &shown->route, shown->planes, shown->n);

	drmModeRmFB(fd, shown->out_fb);
	shown->out_fb = 0;
	return ret;
}

int display_capture(int fd, const struct plane_setup *planes, int n, uint32_t width,
		    uint32_t height, struct frame *out)
{
	struct display_shown shown;
	int ret = display_show(fd, planes, n, width, height, out, &shown);

	return ret ? ret : display_off(fd, &shown);
}

static bool close_enough(uint32_t a, uint32_t b, uint32_t tolerance)
{
	for (int shift = 0; shift < 24; shift += 8) {
		int d = (int)((a >> shift) & 0xff) - (int)((b >> shift) & 0xff);

		if (d > (int)tolerance || d < -(int)tolerance)
			return false;
	}
	return true;
}

unsigned long frame_compare(const struct frame *f, frame_expect_fn expect, const void *ctx,
			    uint32_t tolerance, const char *what)
{
	unsigned long bad = 0;

	for (uint32_t y = 0; y < f->height; y++) {
		const uint32_t *row = (const uint32_t *)((const char *)f->pixels +
							 (size_t)y * f->pitch);

		for (uint32_t x = 0; x < f->width; x++) {
			uint32_t got = row[x] & 0xffffff, want = expect(x, y, ctx) & 0xffffff;

			if (close_enough(got, want, tolerance))
				continue;
			if (bad++ < 3)
				detail("MISMATCH in %s at (%u,%u): 0x%06x, expected 0x%06x",
				       what, x, y, got, want);
		}
	}
	if (bad)
		detail("%s: %lu of %u pixels differ", what, bad, f->width * f->height);
	else
		detail("verified: all %u pixels of %s match (tolerance %u)", f->width * f->height,
		       what, tolerance);
	return bad;
}

void frame_release(int fd, struct frame *f)
{
	struct drm_mode_destroy_dumb d = { .handle = f->handle };

	if (f->pixels)
		munmap(f->pixels, f->size);
	if (f->handle)
		ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
	memset(f, 0, sizeof(*f));
}
