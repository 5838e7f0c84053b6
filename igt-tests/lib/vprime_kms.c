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

/* The id of the property @name of a KMS object, or 0 when it has none. */
static uint32_t find_prop(int fd, uint32_t obj, uint32_t type, const char *name)
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
	return id;
}

/* The id of the property @name of a KMS object; fails when it has none. */
static uint32_t prop_id(int fd, uint32_t obj, uint32_t type, const char *name)
{
	uint32_t id = find_prop(fd, obj, type, name);

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

uint64_t kms_get_prop(int fd, uint32_t obj, uint32_t type, const char *name)
{
	return prop_value(fd, obj, type, name);
}

uint32_t kms_prop_id(int fd, uint32_t obj, uint32_t type, const char *name)
{
	return prop_id(fd, obj, type, name);
}

static void add_prop(drmModeAtomicReq *req, int fd, uint32_t obj, uint32_t type,
		     const char *name, uint64_t value)
{
	vt_assert_f(drmModeAtomicAddProperty(req, obj, prop_id(fd, obj, type, name), value) >= 0,
		    "adding %s to the atomic request\n", name);
}

/*
 * The value of the entry @enum_name of the enum or bitmask property @prop:
 * an enum's value is the entry's, a bitmask's is the entry's bit.
 */
static uint64_t prop_enum_value(int fd, uint32_t prop, const char *enum_name)
{
	drmModePropertyRes *p = drmModeGetProperty(fd, prop);
	uint64_t value = 0;
	bool found = false;

	vt_assert_f(p, "property %u: %m\n", prop);
	for (int i = 0; i < p->count_enums && !found; i++) {
		if (strcmp(p->enums[i].name, enum_name))
			continue;
		value = p->enums[i].value;
		if (drm_property_type_is(p, DRM_MODE_PROP_BITMASK))
			value = 1ull << value;
		found = true;
	}
	vt_assert_f(found, "property %s has no entry \"%s\"\n", p->name, enum_name);
	drmModeFreeProperty(p);
	return value;
}

/* The writeback connector, the index of a CRTC it can use, and its mode. */
struct wb_route {
	uint32_t connector, crtc, plane;
	int crtc_index;
	drmModeModeInfo mode;
};

/*
 * A @w x @h mode of @conn: the preferred one if it has that size, else the
 * first (the kernel sorts them by refresh rate) that is not interlaced.
 */
static bool find_mode(drmModeConnector *conn, uint32_t w, uint32_t h, drmModeModeInfo *mode)
{
	bool found = false;

	for (int i = 0; i < conn->count_modes; i++) {
		const drmModeModeInfo *m = &conn->modes[i];

		if (m->hdisplay != w || m->vdisplay != h || (m->flags & DRM_MODE_FLAG_INTERLACE))
			continue;
		if (!found || (m->type & DRM_MODE_TYPE_PREFERRED))
			*mode = *m;
		found = true;
	}
	return found;
}

uint32_t kms_plane_id_nth(int fd, int crtc_index, enum kms_plane_type type, int nth)
{
	drmModePlaneRes *planes = drmModeGetPlaneResources(fd);
	uint32_t found = 0;

	vt_assert_f(planes, "plane resources: %m\n");
	for (uint32_t i = 0; i < planes->count_planes && !found; i++) {
		drmModePlane *p = drmModeGetPlane(fd, planes->planes[i]);

		if (p && (p->possible_crtcs & (1u << crtc_index)) &&
		    prop_value(fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type") == type &&
		    nth-- == 0)
			found = p->plane_id;
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(planes);
	return found;
}

uint32_t kms_plane_id(int fd, int crtc_index, enum kms_plane_type type)
{
	return kms_plane_id_nth(fd, crtc_index, type, 0);
}

static uint32_t primary_plane_for(int fd, int crtc_index)
{
	uint32_t found = kms_plane_id(fd, crtc_index, KMS_PLANE_PRIMARY);

	vt_assert_f(found, "no primary plane for CRTC index %d\n", crtc_index);
	return found;
}

bool kms_plane_has_format(int fd, uint32_t plane_id, uint32_t format)
{
	drmModePlane *p = drmModeGetPlane(fd, plane_id);
	bool found = false;

	vt_assert_f(p, "plane %u: %m\n", plane_id);
	for (uint32_t i = 0; i < p->count_formats && !found; i++)
		found = p->formats[i] == format;
	drmModeFreePlane(p);
	return found;
}

bool kms_any_plane_has_format(int fd, uint32_t format)
{
	drmModePlaneRes *planes;
	bool found = false;

	/* Without universal planes the primary and cursor planes are hidden. */
	vt_assert_ok(drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1));
	planes = drmModeGetPlaneResources(fd);
	vt_assert_f(planes, "plane resources: %m\n");
	for (uint32_t i = 0; i < planes->count_planes && !found; i++)
		found = kms_plane_has_format(fd, planes->planes[i], format);
	drmModeFreePlaneResources(planes);
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
	r->crtc_index = crtc_index;
	r->plane = primary_plane_for(fd, crtc_index);
	drmModeFreeEncoder(enc);
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
}

uint32_t kms_add_fb(int fd, uint32_t handle, uint32_t width, uint32_t height,
		    uint32_t format, uint32_t pitch)
{
	uint32_t handles[4] = { handle }, pitches[4] = { pitch }, offsets[4] = { 0 };
	uint32_t fb = 0;

	vt_assert_f(drmModeAddFB2(fd, width, height, format, handles, pitches,
				  offsets, &fb, 0) == 0, "ADDFB2 of handle %u: %m\n", handle);
	return fb;
}

uint32_t kms_add_fb_xrgb8888(int fd, uint32_t handle, uint32_t width, uint32_t height,
			     uint32_t pitch)
{
	return kms_add_fb(fd, handle, width, height, DRM_FORMAT_XRGB8888, pitch);
}

/*
 * Detach every connector but @keep and @keep2 (0: none) from @crtc. fbdev
 * emulation leaves its connector on the CRTC, and a writeback encoder need
 * not be a clone of it (6.1's vkms fails such a commit in its clone check).
 */
static void add_connectors_off2(drmModeAtomicReq *req, int fd, uint32_t crtc, uint32_t keep,
				uint32_t keep2)
{
	drmModeRes *res = drmModeGetResources(fd);

	vt_assert_f(res, "KMS resources: %m\n");
	for (int i = 0; i < res->count_connectors; i++) {
		uint32_t id = res->connectors[i];

		if (id != keep && id != keep2 &&
		    prop_value(fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID") == crtc)
			add_prop(req, fd, id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", 0);
	}
	drmModeFreeResources(res);
}

static void add_connectors_off(drmModeAtomicReq *req, int fd, uint32_t crtc, uint32_t keep)
{
	add_connectors_off2(req, fd, crtc, keep, 0);
}

/* Whether @s sets the property @name itself. */
static bool setup_sets(const struct kms_plane_setup *s, const char *name)
{
	for (int i = 0; i < KMS_MAX_PLANE_PROPS; i++)
		if (s->props[i].name && !strcmp(s->props[i].name, name))
			return true;
	return false;
}

/* Property @name of @plane back to @value, if the plane has it and @s does not set it. */
static void add_plane_default(drmModeAtomicReq *req, int fd, uint32_t plane,
			      const struct kms_plane_setup *s, const char *name,
			      uint64_t value, const char *enum_name)
{
	uint32_t id = find_prop(fd, plane, DRM_MODE_OBJECT_PLANE, name);

	if (!id || setup_sets(s, name))
		return;
	if (enum_name)
		value = prop_enum_value(fd, id, enum_name);
	vt_assert_f(drmModeAtomicAddProperty(req, plane, id, value) >= 0,
		    "adding %s to the atomic request\n", name);
}

/* The "rotation" @s sets, rotate-0 if none. */
static uint64_t setup_rotation(const struct kms_plane_setup *s)
{
	for (int i = 0; i < KMS_MAX_PLANE_PROPS; i++)
		if (s->props[i].name && !strcmp(s->props[i].name, "rotation"))
			return s->props[i].value;
	return DRM_MODE_ROTATE_0;
}

static void add_plane_setup(drmModeAtomicReq *req, int fd, uint32_t crtc, uint32_t plane,
			    const struct kms_plane_setup *s)
{
	const uint32_t type = DRM_MODE_OBJECT_PLANE;
	/* A quarter turn shows the fb's columns as rows: the screen rectangle is h x w. */
	bool quarter = setup_rotation(s) & (DRM_MODE_ROTATE_90 | DRM_MODE_ROTATE_270);

	add_prop(req, fd, plane, type, "FB_ID", s->fb_id);
	add_prop(req, fd, plane, type, "CRTC_ID", crtc);
	add_prop(req, fd, plane, type, "SRC_X", 0);
	add_prop(req, fd, plane, type, "SRC_Y", 0);
	add_prop(req, fd, plane, type, "SRC_W", (uint64_t)s->w << 16);
	add_prop(req, fd, plane, type, "SRC_H", (uint64_t)s->h << 16);
	/* CRTC_X and CRTC_Y are signed: a negative one sign-extends. */
	add_prop(req, fd, plane, type, "CRTC_X", (uint64_t)(int64_t)s->x);
	add_prop(req, fd, plane, type, "CRTC_Y", (uint64_t)(int64_t)s->y);
	add_prop(req, fd, plane, type, "CRTC_W", quarter ? s->h : s->w);
	add_prop(req, fd, plane, type, "CRTC_H", quarter ? s->w : s->h);

	/* Plane properties stay from one commit to the next: reset them. */
	add_plane_default(req, fd, plane, s, "alpha", 0xffff, NULL);
	add_plane_default(req, fd, plane, s, "pixel blend mode", 0, "Pre-multiplied");
	add_plane_default(req, fd, plane, s, "rotation", DRM_MODE_ROTATE_0, NULL);
	add_plane_default(req, fd, plane, s, "COLOR_ENCODING", 0, "ITU-R BT.601 YCbCr");
	add_plane_default(req, fd, plane, s, "COLOR_RANGE", 0, "YCbCr limited range");

	for (int i = 0; i < KMS_MAX_PLANE_PROPS; i++) {
		const struct kms_prop *p = &s->props[i];
		uint64_t value = p->value;

		if (!p->name)
			continue;
		if (p->enum_name)
			value = prop_enum_value(fd, prop_id(fd, plane, type, p->name),
						p->enum_name);
		add_prop(req, fd, plane, type, p->name, value);
	}
}

static void add_plane_off(drmModeAtomicReq *req, int fd, uint32_t plane)
{
	add_prop(req, fd, plane, DRM_MODE_OBJECT_PLANE, "FB_ID", 0);
	add_prop(req, fd, plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID", 0);
}

static bool id_in(uint32_t id, const uint32_t *ids, int n)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Turn off every plane on @crtc but the @n in @keep. */
static void add_other_planes_off(drmModeAtomicReq *req, int fd, uint32_t crtc,
				 const uint32_t *keep, int n)
{
	drmModePlaneRes *planes = drmModeGetPlaneResources(fd);

	vt_assert_f(planes, "plane resources: %m\n");
	for (uint32_t i = 0; i < planes->count_planes; i++) {
		uint32_t id = planes->planes[i];

		if (!id_in(id, keep, n) &&
		    prop_value(fd, id, DRM_MODE_OBJECT_PLANE, "CRTC_ID") == crtc)
			add_plane_off(req, fd, id);
	}
	drmModeFreePlaneResources(planes);
}

#define KMS_MAX_SETUPS	8

/*
 * Each setup on the CRTC's plane of its type (the second setup of a type on
 * the second plane of that type, and so on); the CRTC's other planes off.
 */
static void add_planes(drmModeAtomicReq *req, int fd, uint32_t crtc, int crtc_index,
		       const struct kms_plane_setup *setups, int n)
{
	static const char *const names[] = {
		[KMS_PLANE_OVERLAY] = "overlay",
		[KMS_PLANE_PRIMARY] = "primary",
		[KMS_PLANE_CURSOR] = "cursor",
	};
	uint32_t used[KMS_MAX_SETUPS];

	vt_assert(n >= 0 && n <= KMS_MAX_SETUPS);
	for (int i = 0; i < n; i++) {
		int nth = 0;

		for (int j = 0; j < i; j++)
			nth += setups[j].type == setups[i].type;
		used[i] = kms_plane_id_nth(fd, crtc_index, setups[i].type, nth);
		vt_require_f(used[i], "the CRTC has no %s plane number %d\n",
			     names[setups[i].type], nth + 1);
		add_plane_setup(req, fd, crtc, used[i], &setups[i]);
	}
	add_other_planes_off(req, fd, crtc, used, n);
}

/* CRTC property @name to @value if the CRTC has it; a must when @value is set. */
static void add_crtc_blob(drmModeAtomicReq *req, int fd, uint32_t crtc, const char *name,
			  uint32_t value)
{
	if (value || find_prop(fd, crtc, DRM_MODE_OBJECT_CRTC, name))
		add_prop(req, fd, crtc, DRM_MODE_OBJECT_CRTC, name, value);
}

/* The colour pipeline of @color on @crtc; NULL: every stage off. */
static void add_crtc_color(drmModeAtomicReq *req, int fd, uint32_t crtc,
			   const struct kms_crtc_color *color)
{
	const struct kms_crtc_color off = { 0 };

	if (!color)
		color = &off;
	add_crtc_blob(req, fd, crtc, "DEGAMMA_LUT", color->degamma_lut);
	add_crtc_blob(req, fd, crtc, "CTM", color->ctm);
	add_crtc_blob(req, fd, crtc, "GAMMA_LUT", color->gamma_lut);
}

/* @connector alone on @crtc, lit with @mode; the mode's blob in *@blob. */
static void add_modeset(drmModeAtomicReq *req, int fd, uint32_t crtc, uint32_t connector,
			const drmModeModeInfo *mode, uint32_t *blob)
{
	vt_assert_eq(drmModeCreatePropertyBlob(fd, mode, sizeof(*mode), blob), 0);
	add_connectors_off(req, fd, crtc, connector);
	add_prop(req, fd, crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", *blob);
	add_prop(req, fd, crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
	add_prop(req, fd, connector, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", crtc);
}

static void commit_frame(int fd, const struct wb_route *r,
			 const struct kms_plane_setup *setups, int n,
			 const struct kms_crtc_color *color, uint32_t out_fb, int32_t *out_fence)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t blob = 0;
	int ret;

	vt_assert(req);
	add_modeset(req, fd, r->crtc, r->connector, &r->mode, &blob);
	add_crtc_color(req, fd, r->crtc, color);
	add_prop(req, fd, r->connector, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_FB_ID", out_fb);
	add_prop(req, fd, r->connector, DRM_MODE_OBJECT_CONNECTOR, "WRITEBACK_OUT_FENCE_PTR",
		 (uint64_t)(uintptr_t)out_fence);
	add_planes(req, fd, r->crtc, r->crtc_index, setups, n);
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
	vt_assert_f(ret == 0, "atomic commit of the frame: %s\n", strerror(-ret));
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);
}

/* Every plane of @crtc, every connector on it, its colour pipeline and the CRTC itself off. */
static void add_crtc_off(drmModeAtomicReq *req, int fd, uint32_t crtc)
{
	add_connectors_off(req, fd, crtc, 0);
	add_other_planes_off(req, fd, crtc, NULL, 0);
	add_crtc_color(req, fd, crtc, NULL);
	add_prop(req, fd, crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 0);
	add_prop(req, fd, crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", 0);
}

static void commit_off(int fd, uint32_t crtc)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret;

	vt_assert(req);
	add_crtc_off(req, fd, crtc);
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
	vt_assert_f(ret == 0, "atomic commit turning the CRTC off: %s\n", strerror(-ret));
	drmModeAtomicFree(req);
}

void kms_capture_planes_color(int fd, const struct kms_plane_setup *setups, int n,
			      const struct kms_crtc_color *color, uint32_t width,
			      uint32_t height, struct kms_capture *out)
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

	commit_frame(fd, &route, setups, n, color, out_fb, &fence);
	vt_assert_f(fence >= 0, "the writeback job returned no out-fence\n");
	pfd.fd = fence;
	vt_assert_f(poll(&pfd, 1, WRITEBACK_TIMEOUT_MS) == 1,
		    "the writeback fence did not signal within %d ms\n", WRITEBACK_TIMEOUT_MS);
	close(fence);
	commit_off(fd, route.crtc);

	/* The fb may go: the capture's handle and mapping keep the buffer. */
	vt_assert_ok(drmModeRmFB(fd, out_fb));
	out->handle = handle;
}

int kms_capture_crtc_index(int fd, uint32_t width, uint32_t height)
{
	struct wb_route route;

	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1) == 0,
		     "no writeback connectors: %m\n");
	find_writeback_route(fd, width, height, &route);
	return route.crtc_index;
}

void kms_capture_planes(int fd, const struct kms_plane_setup *setups, int n,
			uint32_t width, uint32_t height, struct kms_capture *out)
{
	kms_capture_planes_color(fd, setups, n, NULL, width, height, out);
}

void kms_writeback_capture(int fd, uint32_t fb_id, uint32_t width, uint32_t height,
			   struct kms_capture *out)
{
	const struct kms_plane_setup primary = {
		.type = KMS_PLANE_PRIMARY, .fb_id = fb_id, .w = width, .h = height,
	};

	kms_capture_planes(fd, &primary, 1, width, height, out);
}

/* The first connector that is neither writeback nor disconnected, and its CRTC. */
static void find_output(int fd, uint32_t w, uint32_t h, struct kms_output *o)
{
	drmModeRes *res = drmModeGetResources(fd);
	drmModeConnector *conn = NULL;
	drmModeEncoder *enc;

	vt_assert_f(res, "KMS resources: %m\n");
	for (int i = 0; i < res->count_connectors && !conn; i++) {
		conn = drmModeGetConnector(fd, res->connectors[i]);
		if (conn && (conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK ||
			     conn->connection == DRM_MODE_DISCONNECTED)) {
			drmModeFreeConnector(conn);
			conn = NULL;
		}
	}
	vt_require_f(conn, "the device has no connector to light\n");
	vt_require_f(find_mode(conn, w, h, &o->mode), "connector %u has no %ux%u mode\n",
		     conn->connector_id, w, h);
	vt_assert_f(conn->count_encoders > 0, "connector %u has no encoder\n",
		    conn->connector_id);
	enc = drmModeGetEncoder(fd, conn->encoders[0]);
	vt_assert(enc);
	o->crtc_index = -1;
	for (int i = 0; i < res->count_crtcs && o->crtc_index < 0; i++)
		if (enc->possible_crtcs & (1u << i))
			o->crtc_index = i;
	vt_assert_f(o->crtc_index >= 0, "encoder %u can use no CRTC\n", enc->encoder_id);
	o->crtc = res->crtcs[o->crtc_index];
	o->connector = conn->connector_id;
	drmModeFreeEncoder(enc);
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
}

/*
 * Atomic modesetting on @fd, and the output to light with a @w x @h mode.
 * The writeback cap is there so that a writeback connector an earlier test
 * left on can be detached.
 */
static void prepare_output(int fd, uint32_t w, uint32_t h, struct kms_output *o)
{
	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1);
	memset(o, 0, sizeof(*o));
	find_output(fd, w, h, o);
}

int kms_try_mode(int fd, const drmModeModeInfo *mode)
{
	struct kms_output o;
	drmModeAtomicReq *req;
	uint32_t blob = 0;
	int ret;

	prepare_output(fd, mode->hdisplay, mode->vdisplay, &o);
	req = drmModeAtomicAlloc();
	vt_assert(req);
	add_modeset(req, fd, o.crtc, o.connector, mode, &blob);
	ret = drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_TEST_ONLY |
				  DRM_MODE_ATOMIC_ALLOW_MODESET, NULL);
	ret = ret ? -errno : 0;
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);
	return ret;
}

void kms_output_on(int fd, const struct kms_plane_setup *setups, int n,
		   uint32_t width, uint32_t height, struct kms_output *out)
{
	kms_output_on_event(fd, setups, n, width, height, NULL, out);
}

void kms_output_on_event(int fd, const struct kms_plane_setup *setups, int n,
			 uint32_t width, uint32_t height, void *event_data,
			 struct kms_output *out)
{
	uint32_t flags = DRM_MODE_ATOMIC_ALLOW_MODESET;
	drmModeAtomicReq *req;
	uint32_t blob = 0;
	int ret;

	prepare_output(fd, width, height, out);

	req = drmModeAtomicAlloc();
	vt_assert(req);
	add_modeset(req, fd, out->crtc, out->connector, &out->mode, &blob);
	add_crtc_color(req, fd, out->crtc, NULL);
	add_planes(req, fd, out->crtc, out->crtc_index, setups, n);
	if (event_data)
		flags |= DRM_MODE_PAGE_FLIP_EVENT;
	ret = drmModeAtomicCommit(fd, req, flags, event_data);
	vt_assert_f(ret == 0, "atomic modeset of %ux%u on connector %u: %s\n", width, height,
		    out->connector, strerror(-ret));
	drmModeAtomicFree(req);
	drmModeDestroyPropertyBlob(fd, blob);
}

int kms_output_try_planes(int fd, const struct kms_output *o,
			  const struct kms_plane_setup *setups, int n, uint32_t flags)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	int ret;

	vt_assert(req);
	add_planes(req, fd, o->crtc, o->crtc_index, setups, n);
	ret = drmModeAtomicCommit(fd, req, flags, NULL);
	drmModeAtomicFree(req);
	return ret;
}

void kms_output_planes(int fd, const struct kms_output *o,
		       const struct kms_plane_setup *setups, int n)
{
	int ret = kms_output_try_planes(fd, o, setups, n, 0);

	vt_assert_f(ret == 0, "atomic plane update: %s\n", strerror(-ret));
}

void kms_output_off(int fd, const struct kms_output *o)
{
	commit_off(fd, o->crtc);
}

/* The first writeback connector that can use CRTC @crtc_index and is not in @taken; 0 if none. */
static uint32_t writeback_for(int fd, const drmModeRes *res, int crtc_index,
			      const struct kms_output *taken, int n)
{
	uint32_t found = 0;

	for (int i = 0; i < res->count_connectors && !found; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);
		drmModeEncoder *e = NULL;
		bool used = false;

		for (int k = 0; k < n; k++)
			used |= c && taken[k].writeback == c->connector_id;
		if (c && !used && c->connector_type == DRM_MODE_CONNECTOR_WRITEBACK &&
		    c->count_encoders > 0)
			e = drmModeGetEncoder(fd, c->encoders[0]);
		if (e && (e->possible_crtcs & (1u << crtc_index)))
			found = c->connector_id;
		drmModeFreeEncoder(e);
		drmModeFreeConnector(c);
	}
	return found;
}

/* The first CRTC index @enc can use that no output in @taken has; -1 if none. */
static int free_crtc_for(const drmModeEncoder *enc, const drmModeRes *res,
			 const struct kms_output *taken, int n)
{
	for (int i = 0; i < res->count_crtcs; i++) {
		bool used = false;

		for (int k = 0; k < n; k++)
			used |= taken[k].crtc_index == i;
		if (!used && (enc->possible_crtcs & (1u << i)))
			return i;
	}
	return -1;
}

int kms_find_outputs(int fd, uint32_t w, uint32_t h, struct kms_output *outs, int max)
{
	drmModeRes *res;
	int n = 0;

	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) == 0,
		     "no atomic modesetting: %m\n");
	vt_require_f(drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1) == 0,
		     "no writeback connectors: %m\n");
	res = drmModeGetResources(fd);
	vt_assert_f(res, "KMS resources: %m\n");
	for (int i = 0; i < res->count_connectors && n < max; i++) {
		drmModeConnector *c = drmModeGetConnector(fd, res->connectors[i]);
		struct kms_output *o = &outs[n];
		drmModeEncoder *enc = NULL;

		vt_assert_f(c, "connector %u: %m\n", res->connectors[i]);
		memset(o, 0, sizeof(*o));
		if (c->connector_type != DRM_MODE_CONNECTOR_WRITEBACK &&
		    c->connection != DRM_MODE_DISCONNECTED && c->count_encoders > 0 &&
		    find_mode(c, w, h, &o->mode))
			enc = drmModeGetEncoder(fd, c->encoders[0]);
		o->crtc_index = enc ? free_crtc_for(enc, res, outs, n) : -1;
		if (o->crtc_index >= 0) {
			o->crtc = res->crtcs[o->crtc_index];
			o->connector = c->connector_id;
			o->writeback = writeback_for(fd, res, o->crtc_index, outs, n);
			n++;
		}
		drmModeFreeEncoder(enc);
		drmModeFreeConnector(c);
	}
	drmModeFreeResources(res);
	return n;
}

void kms_req_modeset(drmModeAtomicReq *req, int fd, const struct kms_output *o,
		     bool writeback, uint32_t *blob)
{
	vt_assert_f(!writeback || o->writeback, "CRTC %u has no writeback connector\n", o->crtc);
	vt_assert_eq(drmModeCreatePropertyBlob(fd, &o->mode, sizeof(o->mode), blob), 0);
	add_connectors_off2(req, fd, o->crtc, o->connector, writeback ? o->writeback : 0);
	add_prop(req, fd, o->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID", *blob);
	add_prop(req, fd, o->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
	add_crtc_color(req, fd, o->crtc, NULL);
	add_prop(req, fd, o->connector, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", o->crtc);
	if (writeback)
		add_prop(req, fd, o->writeback, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", o->crtc);
}

void kms_req_planes(drmModeAtomicReq *req, int fd, const struct kms_output *o,
		    const struct kms_plane_setup *setups, int n)
{
	add_planes(req, fd, o->crtc, o->crtc_index, setups, n);
}

void kms_req_writeback_job(drmModeAtomicReq *req, int fd, const struct kms_output *o,
			   uint32_t fb_id, int32_t *fence)
{
	const uint32_t type = DRM_MODE_OBJECT_CONNECTOR;

	vt_assert_f(o->writeback, "CRTC %u has no writeback connector\n", o->crtc);
	add_prop(req, fd, o->writeback, type, "WRITEBACK_FB_ID", fb_id);
	add_prop(req, fd, o->writeback, type, "WRITEBACK_OUT_FENCE_PTR",
		 (uint64_t)(uintptr_t)fence);
}

void kms_req_output_off(drmModeAtomicReq *req, int fd, const struct kms_output *o)
{
	add_crtc_off(req, fd, o->crtc);
}

void kms_capture_release(int fd, struct kms_capture *cap)
{
	munmap(cap->map, cap->size);
	gem_close(fd, cap->handle);
	memset(cap, 0, sizeof(*cap));
}
