// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: planes
 *
 * Each CRTC has a primary plane, num_overlays overlays (0-6, default 2:
 * four planes in all) and a cursor. Every plane, the primary included (as
 * 7.2's vkms allows), goes anywhere, even off screen, and is clipped; what
 * no plane covers is black. Nothing scales. Every plane has "alpha",
 * "pixel blend mode", "zpos" (the primary's and the overlays' settable
 * from 0 to the number of overlays, the cursor's one more, immutable: on
 * top), "rotation" (by 0, 90, 180 or 270 degrees, each with reflect-x and
 * reflect-y), "COLOR_ENCODING" and "COLOR_RANGE" (for NV12), and takes
 * every format the composer reads: a cursor with plane alpha is blended
 * like any other plane. Framebuffers are linear only.
 *
 * A framebuffer is prepared for scanout as a display engine would: its
 * objects are pinned (storage vprime owns stops moving; an imported
 * dma-buf is pinned through its attachment) and mapped for the composer,
 * and the commit waits for their implicit write fences.
 */

#include <linux/dma-buf.h>

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_blend.h>
#include <drm/drm_color_mgmt.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_gem_atomic_helper.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_managed.h>

#include "vprime_bo.h"
#include "vprime_compat.h"
#include "vprime_fault.h"
#include "vprime_gem.h"
#include "vprime_kms.h"

static const u64 vprime_modifiers[] = {
	DRM_FORMAT_MOD_LINEAR,
	DRM_FORMAT_MOD_INVALID,
};

static struct drm_plane_state *vprime_plane_duplicate_state(struct drm_plane *plane)
{
	struct vprime_plane_state *state = kzalloc_obj(*state, GFP_KERNEL);

	if (!state)
		return NULL;
	__drm_atomic_helper_plane_duplicate_state(plane, &state->base);
	return &state->base;
}

static void vprime_plane_destroy_state(struct drm_plane *plane, struct drm_plane_state *s)
{
	__drm_atomic_helper_plane_destroy_state(s);
	kfree(to_vprime_plane_state(s));
}

static void vprime_plane_reset(struct drm_plane *plane)
{
	struct vprime_plane_state *state;

	if (plane->state) {
		vprime_plane_destroy_state(plane, plane->state);
		plane->state = NULL;
	}
	state = kzalloc_obj(*state, GFP_KERNEL);
	if (state)
		__drm_atomic_helper_plane_reset(plane, &state->base);
}

static bool vprime_format_mod_supported(struct drm_plane *plane, u32 format, u64 modifier)
{
	return modifier == DRM_FORMAT_MOD_LINEAR;
}

static const struct drm_plane_funcs vprime_plane_funcs = {
	.update_plane = drm_atomic_helper_update_plane,
	.disable_plane = drm_atomic_helper_disable_plane,
	.reset = vprime_plane_reset,
	.atomic_duplicate_state = vprime_plane_duplicate_state,
	.atomic_destroy_state = vprime_plane_destroy_state,
	.format_mod_supported = vprime_format_mod_supported,
};

static int vprime_plane_atomic_check(struct drm_plane *plane, struct vprime_atomic_state *state)
{
	struct drm_plane_state *ps = drm_atomic_get_new_plane_state(state, plane);
	struct drm_crtc_state *crtc_state;

	if (!ps->fb || WARN_ON(!ps->crtc))
		return 0;
	crtc_state = drm_atomic_get_crtc_state(state, ps->crtc);
	if (IS_ERR(crtc_state))
		return PTR_ERR(crtc_state);
	return drm_atomic_helper_check_plane_state(ps, crtc_state, DRM_PLANE_NO_SCALING,
						   DRM_PLANE_NO_SCALING, true, true);
}

/*
 * Pin one object of a framebuffer for scanout: it must not move while shown.
 * vprime storage, this instance's or another's, is pinned at its owner, so
 * that it is first placed for every device attached, this display's
 * included: scanning a buffer out on a 32-bit instance moves it below 4 GiB.
 * Another driver's dma-buf is pinned through this device's attachment
 * when its exporter can move it (a dynamic one, attached dynamically); a
 * static exporter's buffer never moves, and is attached statically.
 */
static int vprime_plane_pin_object(struct drm_gem_object *obj)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));
	int ret;

	if (vprime_should_fail(VPRIME_FAULT_SCANOUT_PIN))
		return -ENOMEM;
	if (owner)
		return vprime_bo_pin_waiting(owner);
	if (!dma_buf_is_dynamic(obj->import_attach->dmabuf))
		return 0;
	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (ret)
		return ret;
	ret = dma_buf_pin(obj->import_attach);
	dma_resv_unlock(obj->resv);
	return ret;
}

static void vprime_plane_unpin_object(struct drm_gem_object *obj)
{
	struct vprime_bo *owner = vprime_bo_storage_owner(to_vprime_bo(obj));

	if (!owner && !dma_buf_is_dynamic(obj->import_attach->dmabuf))
		return;
	dma_resv_lock(obj->resv, NULL);
	if (owner)
		vprime_bo_unpin_locked(owner);
	else
		dma_buf_unpin(obj->import_attach);
	dma_resv_unlock(obj->resv);
}

static void vprime_plane_unpin_fb(struct drm_framebuffer *fb, unsigned int count)
{
	while (count--)
		vprime_plane_unpin_object(fb->obj[count]);
}

static int vprime_plane_prepare_fb(struct drm_plane *plane, struct drm_plane_state *s)
{
	struct vprime_plane_state *state = to_vprime_plane_state(s);
	struct drm_framebuffer *fb = s->fb;
	unsigned int i;
	int ret;

	if (!fb)
		return 0;
	for (i = 0; i < fb->format->num_planes; i++) {
		ret = vprime_plane_pin_object(fb->obj[i]);
		if (ret)
			goto err_unpin;
	}
	ret = drm_gem_fb_vmap(fb, state->map, NULL);
	if (ret)
		goto err_unpin;
	ret = drm_gem_plane_helper_prepare_fb(plane, s);
	if (ret) {
		drm_gem_fb_vunmap(fb, state->map);
		goto err_unpin;
	}
	return 0;

err_unpin:
	vprime_plane_unpin_fb(fb, i);
	return ret;
}

static void vprime_plane_cleanup_fb(struct drm_plane *plane, struct drm_plane_state *s)
{
	struct vprime_plane_state *state = to_vprime_plane_state(s);
	struct drm_framebuffer *fb = s->fb;

	if (!fb)
		return;
	drm_gem_fb_vunmap(fb, state->map);
	vprime_plane_unpin_fb(fb, fb->format->num_planes);
}

/* The composer reads the mapped framebuffer at each frame it composes. */
static void vprime_plane_atomic_update(struct drm_plane *plane, struct vprime_atomic_state *state)
{
}

/*
 * A legacy cursor update that only moves a visible cursor is applied at
 * once, without a commit tail or a vblank: the composer reads the cursor's
 * place at the start of each frame. Anything else (another framebuffer,
 * size, rotation or blending, or a cursor going on or off the screen) takes
 * the ordinary commit.
 */
static int vprime_plane_atomic_async_check(VPRIME_ASYNC_CHECK_ARGS)
{
	struct drm_plane_state *old = drm_atomic_get_old_plane_state(state, plane);
	struct drm_plane_state *new = drm_atomic_get_new_plane_state(state, plane);

	if (plane->type != DRM_PLANE_TYPE_CURSOR || VPRIME_ASYNC_CHECK_FLIP)
		return -EINVAL;
	if (!old->visible || !new->visible || !new->fb || new->fb != old->fb)
		return -EINVAL;
	if (new->crtc != old->crtc || new->rotation != old->rotation ||
	    new->alpha != old->alpha || new->pixel_blend_mode != old->pixel_blend_mode ||
	    new->normalized_zpos != old->normalized_zpos)
		return -EINVAL;
	/* The clipped rectangles may change size at the screen's edges. */
	if (new->crtc_w != old->crtc_w || new->crtc_h != old->crtc_h ||
	    new->src_w != old->src_w || new->src_h != old->src_h)
		return -EINVAL;
	return 0;
}

/*
 * Move the cursor in the state the composer reads. The framebuffer is the
 * same (vprime_plane_atomic_async_check()), so the new state keeps its own
 * mapping for cleanup_fb to drop.
 */
static void vprime_plane_atomic_async_update(struct drm_plane *plane,
					     struct vprime_atomic_state *state)
{
	struct drm_plane_state *new = drm_atomic_get_new_plane_state(state, plane);
	struct drm_plane_state *cur = plane->state;
	struct vprime_output *out = crtc_to_output(cur->crtc);

	spin_lock_irq(&out->lock);
	cur->crtc_x = new->crtc_x;
	cur->crtc_y = new->crtc_y;
	cur->src_x = new->src_x;
	cur->src_y = new->src_y;
	cur->src = new->src;
	cur->dst = new->dst;
	spin_unlock_irq(&out->lock);
	atomic64_inc(&out->async_updates);
}

static const struct drm_plane_helper_funcs vprime_plane_helper_funcs = {
	.atomic_check = vprime_plane_atomic_check,
	.atomic_update = vprime_plane_atomic_update,
	.atomic_async_check = vprime_plane_atomic_async_check,
	.atomic_async_update = vprime_plane_atomic_async_update,
	.prepare_fb = vprime_plane_prepare_fb,
	.cleanup_fb = vprime_plane_cleanup_fb,
};

static int vprime_plane_add_properties(struct drm_plane *plane, unsigned int zpos,
				       unsigned int max_zpos)
{
	int ret;

	ret = drm_plane_create_alpha_property(plane);
	if (!ret)
		ret = drm_plane_create_blend_mode_property(plane,
							   BIT(DRM_MODE_BLEND_PIXEL_NONE) |
							   BIT(DRM_MODE_BLEND_PREMULTI) |
							   BIT(DRM_MODE_BLEND_COVERAGE));
	if (!ret)
		ret = drm_plane_create_rotation_property(plane, DRM_MODE_ROTATE_0,
							 DRM_MODE_ROTATE_MASK |
							 DRM_MODE_REFLECT_MASK);
	if (!ret)
		ret = drm_plane_create_color_properties(plane,
							BIT(DRM_COLOR_YCBCR_BT601) |
							BIT(DRM_COLOR_YCBCR_BT709) |
							BIT(DRM_COLOR_YCBCR_BT2020),
							BIT(DRM_COLOR_YCBCR_LIMITED_RANGE) |
							BIT(DRM_COLOR_YCBCR_FULL_RANGE),
							DRM_COLOR_YCBCR_BT601,
							DRM_COLOR_YCBCR_LIMITED_RANGE);
	if (ret)
		return ret;
	if (plane->type == DRM_PLANE_TYPE_CURSOR)
		return drm_plane_create_zpos_immutable_property(plane, zpos);
	return drm_plane_create_zpos_property(plane, zpos, 0, max_zpos);
}

/**
 * vprime_plane_create - create a plane for the CRTCs of @crtc_mask
 * @drm: the device
 * @type: primary, overlay or cursor
 * @crtc_mask: the CRTCs it can feed
 * @zpos: its default zpos (the cursor's, immutable)
 * @max_zpos: the highest zpos a primary or overlay plane may be given
 *
 * Returns: the plane, or an ERR_PTR().
 */
struct drm_plane *vprime_plane_create(struct drm_device *drm, enum drm_plane_type type,
				      unsigned int crtc_mask, unsigned int zpos,
				      unsigned int max_zpos)
{
	struct drm_plane *plane;
	int ret;

	plane = __drmm_universal_plane_alloc(drm, sizeof(*plane), 0, crtc_mask,
					     &vprime_plane_funcs,
					     vprime_plane_formats, vprime_num_plane_formats,
					     vprime_modifiers, type, NULL);
	if (IS_ERR(plane))
		return plane;
	drm_plane_helper_add(plane, &vprime_plane_helper_funcs);
	ret = vprime_plane_add_properties(plane, zpos, max_zpos);
	return ret ? ERR_PTR(ret) : plane;
}
