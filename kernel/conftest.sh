#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# conftest.sh OUT CC [CFLAGS...]: probe the kernel vprime is being built for
# and write OUT, a header of HAVE_* macros (1 or 0), one per feature the
# driver adapts to. Kbuild runs it with the kernel's own compiler and flags
# (those of a module's C file), so that a probe compiles exactly when the
# driver's use of the feature would: features are found in the headers of
# the target kernel, whatever its version says (distributions backport).
# vprime_compat.h turns these into the shims the driver uses.
#
# A probe is a small translation unit that must compile without error; its
# warnings do not count (W=1 adds many), only what these flags turn into
# errors: a missing function, a wrong pointer type, a missing member.

set -u
out=${1:?usage: conftest.sh OUT CC [CFLAGS...]}
shift
# All warnings stay warnings (CONFIG_WERROR adds -Werror), but for these.
cc=()
for a in "$@"; do
	[ "$a" = -Werror ] || cc+=("$a")
done
cc+=(-Werror=implicit-function-declaration -Werror=incompatible-pointer-types
	-Werror=int-conversion -DKBUILD_MODNAME='"vprime_conftest"'
	-DKBUILD_BASENAME='"vprime_conftest"')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vprime-conftest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
names=()

# p NAME HEADERS BODY: HAVE_NAME is 1 when BODY compiles after HEADERS (one
# #include per word). The probes run in parallel.
p() {
	local h
	names+=("$1")
	# no more probes at once than the make jobs allow for
	while [ "$(jobs -rp | wc -l)" -ge 4 ]; do
		wait -n
	done
	{
		for h in $2; do
			echo "#include <$h>"
		done
		echo "int vprime_conftest(void);"
		echo "$3"
	} > "$tmp/$1.c"
	if "${cc[@]}" -c -o "$tmp/$1.o" "$tmp/$1.c" > "$tmp/$1.log" 2>&1; then
		echo 1 > "$tmp/$1.have"
	else
		echo 0 > "$tmp/$1.have"
	fi &
}

probes() {
	# The compiler and flags themselves: an empty unit must compile, or
	# every HAVE_ would read 0 for a reason that is not the kernel's.
	p SANITY "linux/kernel.h" 'int vprime_conftest(void) { return 0; }'

	# Headers that came or moved (tested here, not with __has_include(),
	# which sparse 0.6.4 does not know): the faux bus (6.14), the
	# unaligned helpers' new home (6.12), drm_client_setup() (6.13;
	# Debian's 6.12) and its later home in drm/clients/.
	p LINUX_DEVICE_FAUX_H "linux/device/faux.h" ''
	p LINUX_UNALIGNED_H "linux/unaligned.h" ''
	p DRM_CLIENT_SETUP_H "drm/drm_client_setup.h" ''
	p DRM_CLIENTS_DRM_CLIENT_SETUP_H "drm/clients/drm_client_setup.h" ''

	# Up to 6.12, MODULE_IMPORT_NS() takes a bare symbol; 6.13 made it a
	# string (a bare symbol no longer compiles).
	p MODULE_IMPORT_NS_SYMBOL "linux/module.h" 'MODULE_IMPORT_NS(DMA_BUF);'

	# 6.14 dropped drm_driver.date.
	p DRM_DRIVER_DATE "drm/drm_drv.h" \
		'static const struct drm_driver d __maybe_unused = { .date = "0" };'

	# The PRIME handle/fd hooks, pointed at the core's helpers (up to 6.5
	# every driver did; later only vmwgfx sets them, the core's default).
	p DRM_DRIVER_PRIME_FD_HOOKS "drm/drm_drv.h drm/drm_prime.h" \
		'static const struct drm_driver d __maybe_unused = {
			.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
			.prime_fd_to_handle = drm_gem_prime_fd_to_handle };'

	# drm_gem_is_imported(): upstream 6.15, Debian's 6.12.
	p DRM_GEM_IS_IMPORTED "drm/drm_gem.h" \
		'int vprime_conftest(void) { return drm_gem_is_imported(NULL); }'

	# drm_crtc_vblank_crtc(): upstream 6.11.
	p DRM_CRTC_VBLANK_CRTC "drm/drm_vblank.h" \
		'int vprime_conftest(void) { return !drm_crtc_vblank_crtc(NULL); }'

	# struct drm_atomic_state became struct drm_atomic_commit (7.2).
	p DRM_ATOMIC_COMMIT "drm/drm_atomic.h" \
		'int vprime_conftest(void) { return sizeof(struct drm_atomic_commit); }'

	# ... and its references drm_atomic_commit_get()/_put() (7.2).
	p DRM_ATOMIC_COMMIT_GET "drm/drm_atomic.h" \
		'void vprime_conftest_put(struct drm_atomic_commit *s);
		void vprime_conftest_put(struct drm_atomic_commit *s)
		{ drm_atomic_commit_put(drm_atomic_commit_get(s)); }'

	# drm_atomic_helper_unprepare_planes() (6.8) undoes prepare_planes for
	# a commit that fails before the swap; before, cleanup_planes did.
	p DRM_ATOMIC_HELPER_UNPREPARE_PLANES "drm/drm_atomic_helper.h" \
		'void vprime_conftest_unprepare(struct drm_device *d);
		void vprime_conftest_unprepare(struct drm_device *d)
		{ drm_atomic_helper_unprepare_planes(d, NULL); }'

	# atomic_async_check() gained a flip argument (7.2).
	p ATOMIC_ASYNC_CHECK_FLIP "drm/drm_atomic.h drm/drm_modeset_helper_vtables.h" \
		'static int check(struct drm_plane *plane, struct drm_atomic_state *state, bool flip)
		{ return 0; }
		static const struct drm_plane_helper_funcs f __maybe_unused = {
			.atomic_async_check = check };'
	p ATOMIC_ASYNC_CHECK_FLIP_COMMIT "drm/drm_atomic.h drm/drm_modeset_helper_vtables.h" \
		'struct drm_atomic_commit;
		static int check(struct drm_plane *plane, struct drm_atomic_commit *state, bool flip)
		{ return 0; }
		static const struct drm_plane_helper_funcs f __maybe_unused = {
			.atomic_async_check = check };'

	# fb_create() also takes the format's info (7.2).
	p FB_CREATE_FORMAT_INFO "drm/drm_mode_config.h" \
		'static struct drm_framebuffer *fb(struct drm_device *dev, struct drm_file *file,
			const struct drm_format_info *info, const struct drm_mode_fb_cmd2 *cmd)
		{ return NULL; }
		static const struct drm_mode_config_funcs f __maybe_unused = { .fb_create = fb };'

	# A dma_fence may have a lock of its own (7.2: dma_fence_init() takes
	# NULL for the lock).
	p DMA_FENCE_INLINE_LOCK "linux/dma-fence.h" \
		'int vprime_conftest(void) { return DMA_FENCE_FLAG_INLINE_LOCK_BIT; }'

	# vm_flags_set() (6.3): vma->vm_flags became read-only.
	p VM_FLAGS_SET "linux/mm.h" \
		'void vprime_conftest_vma(struct vm_area_struct *vma);
		void vprime_conftest_vma(struct vm_area_struct *vma) { vm_flags_set(vma, VM_IO); }'

	# vma_is_cow_mapping() (7.3) took the place of is_cow_mapping(flags).
	p VMA_IS_COW_MAPPING "linux/mm.h" \
		'bool vprime_conftest_cow(struct vm_area_struct *vma);
		bool vprime_conftest_cow(struct vm_area_struct *vma) { return vma_is_cow_mapping(vma); }'

	# dma_buf_vmap_unlocked() came (6.2) with the rule that an exporter's
	# vmap, and a GEM driver's, run with the reservation lock held.
	p DMA_BUF_VMAP_UNLOCKED "linux/dma-buf.h" \
		'int vprime_conftest(void) { return dma_buf_vmap_unlocked(NULL, NULL); }'

	# The importer's move_notify became invalidate_mappings (7.2), with
	# dma_buf_invalidate_mappings() always available; since then the core
	# no longer pins (or maps) a dynamic attachment for a static exporter.
	p DMA_BUF_INVALIDATE_MAPPINGS "linux/dma-buf.h" \
		'static void inv(struct dma_buf_attachment *a) { }
		static const struct dma_buf_attach_ops o __maybe_unused = {
			.invalidate_mappings = inv };
		int vprime_conftest(void) { dma_buf_invalidate_mappings(NULL); return 0; }'

	# hrtimer_setup() (6.13) replaced hrtimer_init() and ->function.
	p HRTIMER_SETUP "linux/hrtimer.h" \
		'int vprime_conftest(void)
		{ hrtimer_setup(NULL, NULL, CLOCK_MONOTONIC, HRTIMER_MODE_REL); return 0; }'

	# drm_edid_connector_add_modes() (6.3): drm_edid_connector_update()
	# no longer adds the modes.
	p DRM_EDID_CONNECTOR_ADD_MODES "drm/drm_edid.h" \
		'int vprime_conftest(void) { return drm_edid_connector_add_modes(NULL); }'

	# The GPU scheduler. drm_sched_init() takes a struct of arguments
	# (upstream 6.15; Debian's 6.1 has it without num_rqs); before, a list
	# of them, with a submit workqueue and num_rqs from 6.7.
	p DRM_SCHED_INIT_ARGS "drm/gpu_scheduler.h" \
		'int vprime_conftest(void)
		{ struct drm_sched_init_args a = { };
		  return drm_sched_init(NULL, &a); }'
	p DRM_SCHED_INIT_ARGS_NUM_RQS "drm/gpu_scheduler.h" \
		'int vprime_conftest(void)
		{ struct drm_sched_init_args a = { .num_rqs = 1 };
		  return drm_sched_init(NULL, &a); }'
	p DRM_SCHED_INIT_SUBMIT_WQ "drm/gpu_scheduler.h" \
		'int vprime_conftest(void)
		{ return drm_sched_init(NULL, NULL, NULL, 1, 1, 0, 1, NULL, NULL, "", NULL); }'

	# drm_sched_job_init(): job credits (6.7), the client id (6.15).
	p DRM_SCHED_JOB_INIT_CLIENT_ID "drm/gpu_scheduler.h" \
		'int vprime_conftest(void) { return drm_sched_job_init(NULL, NULL, 1, NULL, 0); }'
	p DRM_SCHED_JOB_INIT_CREDITS "drm/gpu_scheduler.h" \
		'int vprime_conftest(void) { return drm_sched_job_init(NULL, NULL, 1, NULL); }'
	p DRM_FILE_CLIENT_ID "drm/drm_file.h" \
		'int vprime_conftest(void) { return sizeof(((struct drm_file *)NULL)->client_id); }'

	# What a timeout handler returns: RESET (was NOMINAL, 6.17), NO_HANG
	# (6.17); cancel_job (6.17) signals the jobs drm_sched_fini() drops.
	p DRM_GPU_SCHED_STAT_RESET "drm/gpu_scheduler.h" \
		'int vprime_conftest(void) { return DRM_GPU_SCHED_STAT_RESET; }'
	p DRM_GPU_SCHED_STAT_NO_HANG "drm/gpu_scheduler.h" \
		'int vprime_conftest(void) { return DRM_GPU_SCHED_STAT_NO_HANG; }'
	p DRM_SCHED_CANCEL_JOB "drm/gpu_scheduler.h" \
		'static void cancel(struct drm_sched_job *job) { }
		static const struct drm_sched_backend_ops o __maybe_unused = {
			.cancel_job = cancel };'

	# drmm_writeback_connector_init() (6.16): a managed writeback connector.
	p DRMM_WRITEBACK_CONNECTOR_INIT "drm/drm_writeback.h" \
		'int vprime_conftest(void)
		{ return drmm_writeback_connector_init(NULL, NULL, NULL, NULL, NULL, 0); }'

	# fbdev emulation: drm_client_setup() with a driver's fbdev_probe
	# (6.13; Debian's 6.12), drm_fbdev_ttm_setup() (6.11),
	# drm_fbdev_generic_setup() before.
	p DRM_FBDEV_TTM_SETUP "drm/drm_fbdev_ttm.h" \
		'void vprime_conftest_fbdev(struct drm_device *dev);
		void vprime_conftest_fbdev(struct drm_device *dev) { drm_fbdev_ttm_setup(dev, 32); }'
}

probes
wait
if [ "$(cat "$tmp/SANITY.have")" != 1 ]; then
	echo "conftest.sh: the compiler fails on an empty module file:" >&2
	cat "$tmp/SANITY.log" >&2
	exit 1
fi
{
	echo "/* Generated by conftest.sh for the kernel this build is for: do not edit. */"
	echo "#ifndef _VPRIME_CONFTEST_H_"
	echo "#define _VPRIME_CONFTEST_H_"
	for n in "${names[@]}"; do
		[ "$n" = SANITY ] || echo "#define HAVE_$n $(cat "$tmp/$n.have")"
	done
	echo "#endif"
} > "$out.tmp"
mv "$out.tmp" "$out"
