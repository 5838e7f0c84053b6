// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vprime developers
 */

/**
 * DOC: CRTC
 *
 * Each CRTC has a virtual vblank: an hrtimer at the mode's frame duration
 * that signals vblank, sends page-flip events and queues the composer when
 * a CRC or a writeback frame is wanted. Atomic check collects the visible
 * planes in zpos order for the composer; flush arms the commit's event for
 * the next vblank. Asynchronous page flips are not supported: the core
 * refuses them because the CRTC has no async flip path.
 */

#include <linux/math64.h>

#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_vblank.h>

#include "vprime_compat.h"
#include "vprime_fault.h"
#include "vprime_kms.h"

/*
 * Record the vblank a pending CRC stands for and queue @state's composition.
 * The caller holds @out->lock, so @state is still the composer's state.
 */
static void vprime_queue_compose(struct vprime_output *out, struct vprime_crtc_state *state)
{
	u64 frame = drm_crtc_accurate_vblank_count(&out->crtc);

	lockdep_assert_held(&out->lock);
	spin_lock(&out->composer_lock);
	if (!state->crc_pending)
		state->frame_start = frame;
	state->frame_end = frame;
	state->crc_pending = READ_ONCE(out->crc_enabled);
	spin_unlock(&out->composer_lock);
	queue_work(out->compose_wq, &state->compose_work);
}

static enum hrtimer_restart vprime_vblank_timer_fired(struct hrtimer *timer)
{
	struct vprime_output *out = container_of(timer, struct vprime_output, vblank_timer);
	struct vprime_crtc_state *state;
	bool cookie;

	if (!READ_ONCE(out->vblank_on))
		return HRTIMER_NORESTART;
	cookie = dma_fence_begin_signalling();
	vprime_fault_delay(VPRIME_DELAY_VBLANK);
	hrtimer_forward_now(timer, out->period);

	/*
	 * The work is queued under the lock the commit swaps composer_state
	 * under: once a commit has swapped it, the old state's work is either
	 * queued already, for the commit tail's flush_work(), or never, so the
	 * old state is not touched after the tail frees it.
	 */
	spin_lock(&out->lock);
	drm_crtc_handle_vblank(&out->crtc);
	state = out->composer_state;
	if (state && (READ_ONCE(out->crc_enabled) || READ_ONCE(state->wb_pending)))
		vprime_queue_compose(out, state);
	spin_unlock(&out->lock);
	dma_fence_end_signalling(cookie);
	return HRTIMER_RESTART;
}

static int vprime_enable_vblank(struct drm_crtc *crtc)
{
	struct vprime_output *out = crtc_to_output(crtc);
	struct drm_vblank_crtc *vblank = drm_crtc_vblank_crtc(crtc);

	drm_calc_timestamping_constants(crtc, &crtc->mode);
	out->period = ns_to_ktime(vblank->framedur_ns);
	WRITE_ONCE(out->vblank_on, true);
	hrtimer_start(&out->vblank_timer, out->period, HRTIMER_MODE_REL);
	return 0;
}

/*
 * The core calls this with its vblank lock held, which a running timer
 * callback may be waiting for: do not wait for the callback, tell it to
 * stop instead.
 */
static void vprime_disable_vblank(struct drm_crtc *crtc)
{
	struct vprime_output *out = crtc_to_output(crtc);

	WRITE_ONCE(out->vblank_on, false);
	hrtimer_try_to_cancel(&out->vblank_timer);
}

/*
 * The time of the last vblank, as hardware would latch it: the last tick of
 * the timer's schedule (its expiry plus or minus whole periods) at or before
 * now. The timer is moved forward before vblank is handled, as hardware
 * updates its registers before raising the interrupt, so in the callback
 * that is one period before the next expiry. Outside the timer, the timer
 * may be late (under load, or emulation): a vblank whose expiry has passed
 * has happened even though its callback has not run yet. Counting it when
 * an event is armed (drm_crtc_accurate_vblank_count()) makes a flip issued
 * after it complete at the next vblank, not at this one with a time before
 * the flip; the late callback then finds no new vblank to report.
 *
 * The core counts vblanks from samples it takes under its vblank time
 * lock (drm_crtc_next_vblank_start() also asks, unlocked, for a deadline
 * hint), so every counted sample is later than the one before, and so is
 * the tick it returns: the vblank count never goes back. That holds from
 * the moment the timer is started, before the core marks vblank enabled
 * and takes its first sample: the sample is the start (the tick one
 * period before the first expiry), not the time of the sample. On
 * PREEMPT_RT the core enables vblank under sleeping locks; preempted there
 * for longer than a period, a sample of the current time was later than
 * the first tick the callback then reported, and the count jumped by
 * billions: armed events and vblank waits never ended
 * (vprime_kms_flips/vblank-on-off).
 */
static bool vprime_get_vblank_timestamp(struct drm_crtc *crtc, int *max_error,
					ktime_t *vblank_time, bool in_vblank_irq)
{
	struct vprime_output *out = crtc_to_output(crtc);
	s64 period = ktime_to_ns(out->period);
	ktime_t now = ktime_get();
	ktime_t expires;
	s64 since, ticks;

	if (!READ_ONCE(out->vblank_on) || period <= 0) {
		*vblank_time = now;
		return true;
	}
	expires = READ_ONCE(out->vblank_timer.node.expires);
	since = ktime_to_ns(ktime_sub(now, expires));
	ticks = div64_s64(since, period);
	if (ticks * period > since)
		ticks--;	/* rounded toward zero: take the tick before */
	*vblank_time = ktime_add(expires, ns_to_ktime(ticks * period));
	return true;
}

static void vprime_init_crtc_state(struct vprime_crtc_state *state)
{
	INIT_WORK(&state->compose_work, vprime_compose_worker);
}

static struct drm_crtc_state *vprime_crtc_duplicate_state(struct drm_crtc *crtc)
{
	struct vprime_crtc_state *state;

	if (WARN_ON(!crtc->state))
		return NULL;
	state = kzalloc_obj(*state, GFP_KERNEL);
	if (!state)
		return NULL;
	__drm_atomic_helper_crtc_duplicate_state(crtc, &state->base);
	vprime_init_crtc_state(state);
	return &state->base;
}

static void vprime_crtc_destroy_state(struct drm_crtc *crtc, struct drm_crtc_state *s)
{
	struct vprime_crtc_state *state = to_vprime_crtc_state(s);

	__drm_atomic_helper_crtc_destroy_state(s);
	WARN_ON(work_pending(&state->compose_work));
	kfree(state);
}

static void vprime_crtc_reset(struct drm_crtc *crtc)
{
	struct vprime_crtc_state *state = kzalloc_obj(*state, GFP_KERNEL);

	if (crtc->state)
		vprime_crtc_destroy_state(crtc, crtc->state);
	__drm_atomic_helper_crtc_reset(crtc, state ? &state->base : NULL);
	if (state)
		vprime_init_crtc_state(state);
}

static const struct drm_crtc_funcs vprime_crtc_funcs = {
	.set_config = drm_atomic_helper_set_config,
	.page_flip = drm_atomic_helper_page_flip,
	.reset = vprime_crtc_reset,
	.atomic_duplicate_state = vprime_crtc_duplicate_state,
	.atomic_destroy_state = vprime_crtc_destroy_state,
	.enable_vblank = vprime_enable_vblank,
	.disable_vblank = vprime_disable_vblank,
	.get_vblank_timestamp = vprime_get_vblank_timestamp,
	.get_crc_sources = vprime_get_crc_sources,
	.set_crc_source = vprime_set_crc_source,
	.verify_crc_source = vprime_verify_crc_source,
};

/* The visible planes of the new state, bottom (lowest normalized zpos) first. */
static int vprime_crtc_atomic_check(struct drm_crtc *crtc, struct vprime_atomic_state *state)
{
	struct drm_crtc_state *crtc_state = drm_atomic_get_new_crtc_state(state, crtc);
	struct vprime_crtc_state *vstate = to_vprime_crtc_state(crtc_state);
	struct drm_plane_state *ps;
	struct drm_plane *plane;
	unsigned int i, j;
	int ret;

	/* The composer's rows are VPRIME_MAX_WIDTH pixels long. */
	if (crtc_state->enable && crtc_state->mode.hdisplay > VPRIME_MAX_WIDTH)
		return -EINVAL;
	ret = vprime_color_atomic_check(crtc_state);
	if (ret)
		return ret;
	/*
	 * A plane the commit leaves alone is shown in its current state: the
	 * CRTC's lock, held here, keeps it. Not adding every plane keeps a
	 * legacy cursor move a one-plane commit, which can be async.
	 */
	vstate->num_planes = 0;
	drm_for_each_plane_mask(plane, crtc->dev, crtc_state->plane_mask) {
		ps = drm_atomic_get_new_plane_state(state, plane);
		if (!ps)
			ps = plane->state;
		if (!ps->visible)
			continue;
		if (WARN_ON(vstate->num_planes == VPRIME_MAX_PLANES_PER_CRTC))
			return -EINVAL;
		i = vstate->num_planes++;
		for (j = i; j > 0 && vstate->planes[j - 1]->base.normalized_zpos >
		     ps->normalized_zpos; j--)
			vstate->planes[j] = vstate->planes[j - 1];
		vstate->planes[j] = to_vprime_plane_state(ps);
	}
	return 0;
}

static void vprime_crtc_atomic_enable(struct drm_crtc *crtc, struct vprime_atomic_state *state)
{
	drm_crtc_vblank_on(crtc);
}

static void vprime_crtc_atomic_disable(struct drm_crtc *crtc, struct vprime_atomic_state *state)
{
	drm_crtc_vblank_off(crtc);
}

/*
 * Hand the vblank timer the new state and arm the commit's event for the
 * next vblank, both under @out->lock, so that no vblank sends the event
 * while the timer still composes the old state. The lock is taken here
 * only: the helpers call every CRTC's atomic_begin before any atomic_flush,
 * and a lock held from one to the other would nest the outputs' locks. The
 * old state needs no lock until then: the tail's flush_work() waits for a
 * composition the timer queued before the swap.
 */
static void vprime_crtc_atomic_flush(struct drm_crtc *crtc, struct vprime_atomic_state *state)
{
	struct vprime_output *out = crtc_to_output(crtc);
	unsigned long flags;

	spin_lock_irqsave(&out->lock, flags);
	if (crtc->state->event) {
		spin_lock(&crtc->dev->event_lock);
		if (drm_crtc_vblank_get(crtc))
			drm_crtc_send_vblank_event(crtc, crtc->state->event);
		else
			drm_crtc_arm_vblank_event(crtc, crtc->state->event);
		spin_unlock(&crtc->dev->event_lock);
		crtc->state->event = NULL;
	}
	out->composer_state = to_vprime_crtc_state(crtc->state);
	spin_unlock_irqrestore(&out->lock, flags);
}

/*
 * A mode the vblank timer can serve: a pixel clock up to 600 MHz and 1 to
 * 240 frames a second. drm_mode_vrefresh() is 0 when htotal * vtotal *
 * vscan overflows, as kms_invalid_mode's overflow-vrefresh makes it.
 */
static enum drm_mode_status vprime_crtc_mode_valid(struct drm_crtc *crtc,
						   const struct drm_display_mode *mode)
{
	int refresh = drm_mode_vrefresh(mode);

	if (mode->clock > VPRIME_MAX_DOTCLOCK)
		return MODE_CLOCK_HIGH;
	if (refresh < 1 || refresh > VPRIME_MAX_REFRESH)
		return MODE_VSYNC;
	return MODE_OK;
}

static const struct drm_crtc_helper_funcs vprime_crtc_helper_funcs = {
	.mode_valid = vprime_crtc_mode_valid,
	.atomic_check = vprime_crtc_atomic_check,
	.atomic_flush = vprime_crtc_atomic_flush,
	.atomic_enable = vprime_crtc_atomic_enable,
	.atomic_disable = vprime_crtc_atomic_disable,
};

static void vprime_destroy_compose_wq(struct drm_device *drm, void *wq)
{
	destroy_workqueue(wq);
}

/*
 * Turning vblank off only tells the timer to stop (vprime_disable_vblank()):
 * a callback already running re-arms it once more. Wait for it to be gone
 * before the output's memory and the module are.
 */
static void vprime_cancel_vblank_timer(struct drm_device *drm, void *timer)
{
	hrtimer_cancel(timer);
}

/**
 * vprime_crtc_init - set up the CRTC of an output
 * @drm: the device
 * @out: the output
 * @primary: its primary plane
 * @cursor: its cursor plane
 *
 * Returns: 0 or a negative errno.
 */
int vprime_crtc_init(struct drm_device *drm, struct vprime_output *out,
		     struct drm_plane *primary, struct drm_plane *cursor)
{
	int ret;

	ret = drmm_crtc_init_with_planes(drm, &out->crtc, primary, cursor, &vprime_crtc_funcs,
					 NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&out->crtc, &vprime_crtc_helper_funcs);
	ret = vprime_color_init(&out->crtc);
	if (ret)
		return ret;
	spin_lock_init(&out->lock);
	spin_lock_init(&out->composer_lock);
	vprime_compat_hrtimer_setup(&out->vblank_timer, vprime_vblank_timer_fired);
	/* The composer's rows, allocated once: composing allocates nothing. */
	out->compose_row = drmm_kmalloc_array(drm, VPRIME_MAX_WIDTH, sizeof(u32), GFP_KERNEL);
	out->compose_line = drmm_kmalloc_array(drm, VPRIME_MAX_WIDTH, sizeof(u32), GFP_KERNEL);
	if (!out->compose_row || !out->compose_line)
		return -ENOMEM;
	/* It signals writeback out-fences: it must make progress under reclaim. */
	out->compose_wq = alloc_ordered_workqueue("vprime_compose", WQ_MEM_RECLAIM);
	if (!out->compose_wq)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(drm, vprime_destroy_compose_wq, out->compose_wq);
	if (ret)
		return ret;
	/* Released before the workqueue the timer queues compositions on. */
	return drmm_add_action_or_reset(drm, vprime_cancel_vblank_timer, &out->vblank_timer);
}
