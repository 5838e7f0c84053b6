// SPDX-License-Identifier: MIT
/*
 * Copyright (C) 2026 The vprime developers
 */

#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "vtest.h"
#include "vprime_bo.h"
#include "vprime_kms.h"

#define WRITEBACK_TIMEOUT_MS	10000

/* The id of the property @name of a KMS object; fails when it has none. */
static uint32_t prop_id(int fd, uint32_t obj, uint32_t type, const char *name)
{
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, obj, type);
	uint32_t id = 0;

	vt_assert_f(props, "properties of object %u: %m\n", obj);
	for (uint32_t i = 0; i < props->count_props && !id; i++) {
		drmModePropertyRes *p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, name))
			id = p->prop_id;
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	vt_assert_f(id, "object %u has no property %s\n", obj, name);
	return id;
}

static uint64_t prop_value(int fd, uint32_t obj, uint32_t type, const char *name)
{
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, obj, type);
	uint32_t id = prop_id(fd, obj, type, name);
	uint64_t value = 0;

	for (uint32_t i = 0; i < props->count_props; i++)
		if (props->props[i] == id)
			value = props->prop_values[i];
	drmModeFreeObjectProperties(props);
	return value;
}

static void add_prop(drmModeAtomicReq *req, int fd, uint32_t obj, uint32_t type,
		     const char *name, uint64_t value)
{
	vt_assert_f(drmModeAtomicAddProperty(req, obj, prop_id(fd, obj, type, name), value) >= 0,
		    "adding %s to the atomic request\n", name);
}

/* The writeback connector, the index of a CRTC it can use, and its mode. */
struct wb_route {
	uint32_t connector, crtc, plane;
	drmModeModeInfo mode;
};

static bool find_mode(drmModeConnector *conn, uint32_t w, uint32_t h, drmModeModeInfo *mode)
{
	for (int i = 0; i < conn->count_modes; i++) {
		if (conn->modes[i].hdisplay == w && conn->modes[i].vdisplay == h) {
			*mode = conn->modes[i];
			return true;
		}
	}
	return false;
}

static uint32_t primary_plane_for(int fd, int crtc_index)
{
	drmModePlaneRes *planes = drmModeGetPlaneResources(fd);
	uint32_t found = 0;

	vt_assert_f(planes, "plane resources: %m\n");
	for (uint32_t i = 0; i < planes->count_planes && !found; i++) {
		drmModePlane *p = drmModeGetPlane(fd, planes->planes[i]);

		if (p && (p->possible_crtcs & (1u << crtc_index)) &&
		    prop_value(fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type") ==
		    DRM_PLANE_TYPE_PRIMARY)
			found = p->plane_id;
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(planes);
	vt_assert_f(found, "no primary plane for CRTC index %d\n", crtc_index);
	return found;
}

static void find_writeback_route(int fd, uint32_t w, uint32_t h, struct wb_route *r)
{
	drmModeRes *res = drmModeGetResources(fd);
	drmModeConnector *conn = NULL;
	drmModeEncoder *enc;
	int crtc_index = -1;

	vt_assert_f(res, "KMS resources: %m\n");
	for (int i = 0; i < res->count_connectors && !conn; i++) {
		conn = drmModeGetConnector(fd, res->connectors[i]);
		if (conn && conn->connector_type != DRM_MODE_CONNECTOR_WRITEBACK) {
			drmModeFreeConnector(conn);
			conn = NULL;
		}
	}
	vt_require_f(conn, "the device has no writeback connector\n");
	vt_require_f(find_mode(conn, w, h, &r->mode),
		     "the writeback connector has no %ux%u mode\n", w, h);
	vt_assert(conn->count_encoders > 0);
	enc = drmModeGetEncoder(fd, conn->encoders[0]);
	vt_assert(enc);
	for (int i = 0; i < res->count_crtcs && crtc_index < 0; i++)
		if (enc->possible_crtcs & (1u << i))
			crtc_index = i;
	vt_assert(crtc_index >= 0);
	r->connector = conn->connector_id;
	r->crtc = res->crtcs[crtc_index];
	r->plane = primary_plane_for(fd, crtc_index);
	drmModeFreeEncoder(enc);
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
}

uint32_t kms_add_fb_xrgb8888(int fd, uint32_t handle, uint32_t width, uint32_t height,
			     uint32_t pitch)
{
	uint32_t handles[4] = { handle }, pitches[4] = { pitch }, offsets[4] = { 0 };
	uint32_t fb = 0;

	vt_assert_f(drmModeAddFB2(fd, width, height, DRM_FORMAT_XRGB8888, handles, pitches,
				  offsets, &fb, 0) == 0, "ADDFB2 of handle %u: %m\n", handle);
	return fb;
}

/*
 * Detach every connector but @keep from @crtc. fbdev emulation leaves its
 * connector on the CRTC, and a writeback encoder need not be a clone of it
 * (6.1's vkms fails such a commit in its clone check).
 */
static void add_connectors_off(drmModeAtomicReq *req, int fd, uint32_t crtc, uint32_t keep)
{
	drmModeRes *res = drmModeGetResources(fd);

	vt_assert_f(res, "KMS resources: %m\n");
	for (int i = 0; i < res->count_connectors; i++) {
		uint32_t id = res->connectors[i];

		if (id != keep &&
		    prop_value(fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID") == crtc)
			add_prop(req, fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", 0);
	}
	drmModeFreeResources(res);
}

static void commit_frame(int fd, const struct wb_route *r, uint32_t fb_id, uint32_t out_fb,
			 uint32_t w, uint32_t h, int32_t *out_fence)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t blob = 0;
	int ret;

	vt_assert_ok(drmModeCreatePropertyBlob(fd, &r->mode, sizeof(r->mode), &blob));
	add_connectors_off(req, fd, r->crtc, r->connector);
	add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", blob);
	add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
	add_prop(req, fd, r->connector, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", r->crtc);
	add_prop(req, fd, r->connector, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_FB_ID", out_fb);
	add_prop(req, fd, r->connector, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_OUT_FENCE_PTR",
		 (uint64_t)(uintptr_t)out_fence);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "FB_ID", fb_id);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID", r->crtc);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "SRC_X", 0);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "SRC_Y", 0);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "SRC_W", (uint64_t)w << 16);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "SRC_H", (uint64_t)h << 16);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "CRTC_X", 0);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "CRTC_Y", 0);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "CRTC_W", w);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "CRTC_H", h);
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
	vt_assert_f(ret == 0, "atomic commit of the frame: %m\n");
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);
}

static void commit_off(int fd, const struct wb_route *r)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();

	add_connectors_off(req, fd, r->crtc, 0);

	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "FB_ID", 0);
	add_prop(req, fd, r->plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID", 0);
	add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 0);
	add_prop(req, fd, r->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", 0);
	vt_assert_f(drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL) == 0,
		    "atomic commit turning the CRTC off: %m\n");
	drmModeAtomicFree(req);
}

void kms_writeback_capture(int fd, uint32_t fb_id, uint32_t width, uint32_t height,
			   struct kms_capture *out)
{
	struct pollfd pfd = { .events = POLLIN };
	struct wb_route route;
	int32_t fence = -1;
	uint32_t handle, out_fb;

	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1) == 0,
		     "no writeback connectors: %m\n");
	find_writeback_route(fd, width, height, &route);

	memset(out, 0, sizeof(*out));
	out->width = width;
	out->height = height;
	handle = dumb_create_mapped(fd, width, height, &out->pitch, &out->size, &out->map);
	memset(out->map, 0x5a, out->size);	/* not what any test draws */
	out_fb = kms_add_fb_xrgb8888(fd, handle, width, height, out->pitch);

	commit_frame(fd, &route, fb_id, out_fb, width, height, &fence);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	pfd.fd = fence;
	vt_assert_f(poll(&pfd, 1, WRITEBACK_TIMEOUT_MS) == 1,
		    "the writeback fence did not signal within %d ms\n", WRITEBACK_TIMEOUT_MS);
	close(fence);
	commit_off(fd, &route);

	/* The fb may go: the capture's handle and mapping keep the buffer. */
	vt_assert_ok(drmModeRmFB(fd, out_fb));
	out->handle = handle;
}

void kms_capture_release(int fd, struct kms_capture *cap)
{
	munmap(cap->map, cap->size);
	gem_close(fd, cap->handle);
	memset(cap, 0, sizeof(*cap));
}
