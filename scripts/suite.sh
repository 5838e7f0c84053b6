# SPDX-License-Identifier: MIT
# The steps of ./vprime-test and ./vprime-demo: building, planning, booting
# and counting. Sourced after lib.sh; uses RESULTS, BUILD, filters.

# record FILE VERDICT NAME [DETAIL]: add one result line.
record() { printf '%s\t%s\t%s\n' "$2" "$3" "${4:-}" >> "$1"; }

# build_userspace: our meson tree (tools and tests).
build_userspace() {
	if [ ! -e "$BUILD/build.ninja" ]; then
		log "configuring the userspace build in $BUILD"
		meson setup "$BUILD" "$VPRIME_TOP" --buildtype=debugoptimized >/dev/null ||
			die "meson setup failed"
	fi
	log "building tools and tests"
	ninja -C "$BUILD" >"$BUILD/ninja.log" 2>&1 ||
		{ tail -n 40 "$BUILD/ninja.log" >&2; die "userspace build failed (see $BUILD/ninja.log)"; }
}

# get_igt: upstream IGT's test programs, in a sid chroot (IGT_ROOT).
get_igt() {
	IGT_ROOT=$(VPRIME_STEP=igt "$VPRIME_TOP/scripts/get-igt")
}

# The libdrm sources the libdrm-patches series is tested on: each gives a VM
# test libdrm/SUITE and host results libdrm/SUITE/STEP (scripts/get-libdrm).
# sid's libdrm source is not served by the mirror today: libdrm/sid skips,
# saying so, and trixie's stands in for it (libdrm-patches/README.md).
LIBDRM_SUITES="bookworm trixie sid"
declare -A LIBDRM_CMD=()

# libdrm_header_check FILE: the series' include/drm/vprime_drm.h is the
# kernel's uapi header, byte for byte.
libdrm_header_check() {
	local tmp kheader=$VPRIME_TOP/kernel/include/uapi/drm/vprime_drm.h
	tmp=$(mktemp -d)
	if (cd "$tmp" && git apply --include=include/drm/vprime_drm.h \
		"$VPRIME_TOP"/libdrm-patches/*.patch) >/dev/null 2>&1 &&
	   cmp -s "$tmp/include/drm/vprime_drm.h" "$kheader"; then
		record "$1" pass libdrm-patches/uapi-header
	else
		record "$1" fail libdrm-patches/uapi-header \
			"the series' include/drm/vprime_drm.h is not kernel/include/uapi/drm/vprime_drm.h"
	fi
	rm -rf "$tmp"
}

# get_libdrm: for every selected libdrm/SUITE test, Debian's libdrm of SUITE
# with the series applied, built and installed (cached); sets LIBDRM_CMD.
get_libdrm() {
	local s prefix rc out=$RESULTS/host any=0
	for s in $LIBDRM_SUITES; do
		selected "libdrm/$s" || continue
		any=1
		rc=0
		prefix=$(VPRIME_STEP=libdrm "$VPRIME_TOP/scripts/get-libdrm" \
			-r "$out/results.txt" "$s" 2>"$out/libdrm-$s.log") || rc=$?
		case $rc in
		0)
			LIBDRM_CMD[$s]=$(printf '%q %q' "$VPRIME_TOP/scripts/libdrm-run" "$prefix") ;;
		3)
			log "libdrm/$s will skip: $(tail -n 1 "$out/libdrm-$s.log")"
			LIBDRM_CMD[$s]=$(printf '%q --skip %q' "$VPRIME_TOP/scripts/libdrm-run" \
				"$(tail -n 1 "$out/libdrm-$s.log")") ;;
		*)
			tail -n 5 "$out/libdrm-$s.log" >&2
			LIBDRM_CMD[$s]=$(printf '%q --fail %q' "$VPRIME_TOP/scripts/libdrm-run" \
				"the series did not apply, build or install, see $out/libdrm-$s.log") ;;
		esac
	done
	[ $any = 0 ] || libdrm_header_check "$out/results.txt"
}

# get_weston: sid's Weston in a sid chroot (WESTON_ROOT), if the weston test
# is selected. Without it the test fails and says so; the rest still runs.
get_weston() {
	WESTON_ROOT=""
	selected weston || return 0
	WESTON_ROOT=$(VPRIME_STEP=weston "$VPRIME_TOP/scripts/get-weston") ||
		{ log "no Weston chroot: the weston test will fail"; WESTON_ROOT=""; }
}

# get_clients: sid's compositors and clients in a sid chroot (CLIENTS_ROOT),
# if a clients/* test is selected (docs/clients.md). Without it those tests
# fail and say so; the rest still runs.
get_clients() {
	CLIENTS_ROOT=""
	test_plan | cut -f1 | grep -q '^clients/' || return 0
	CLIENTS_ROOT=$(VPRIME_STEP=clients "$VPRIME_TOP/scripts/get-clients") ||
		{ log "no clients chroot: the clients/* tests will fail"; CLIENTS_ROOT=""; }
}

# in_tree TAG NAME: whether kernel TAG ships NAME.ko itself, as the debug
# kernels do vkms; then the VM loads it with -m instead of a build of ours.
in_tree() {
	grep -qE "(^|/)$2\.ko(\.[a-z]+)?:" "$VPRIME_CACHE/kernel/$1/modules/modules.dep" 2>/dev/null
}

# build_modules TAG: vprime.ko (W=1, warnings are test failures) and vkms.ko
# (unless TAG has it).
build_modules() {
	local tag=$1 out
	out=$RESULTS/host/build-$tag.log
	log "building vprime.ko for $tag"
	if ! "$VPRIME_TOP/scripts/kbuild" "$tag" "$VPRIME_TOP/kernel" vprime W=1 >/dev/null 2>"$out"; then
		record "$RESULTS/host/results.txt" fail "build/$tag" "see $out"
		grep -E 'error|warning' "$out" | head -n 20 >&2
		return 0
	fi
	record_findings "build/$tag/W=1" "$out" '(warning|error):' warnings
	sparse_check "$tag"
	in_tree "$tag" vkms && return 0
	VPRIME_STEP=vkms "$VPRIME_TOP/scripts/build-vkms" "$tag" >/dev/null \
		2>"$RESULTS/host/vkms-$tag.log" ||
		{ tail -n 20 "$RESULTS/host/vkms-$tag.log" >&2; die "building vkms for $tag failed"; }
}

# record_findings NAME LOG PATTERN WHAT: host result NAME, a pass when no line
# of LOG matches PATTERN, else a fail counting them as WHAT (the first 20
# lines go to stderr).
record_findings() {
	local name=$1 out=$2 pat=$3 what=$4 n
	n=$(grep -cE "$pat" "$out" || true)
	if [ "$n" = 0 ]; then
		record "$RESULTS/host/results.txt" pass "$name"
	else
		record "$RESULTS/host/results.txt" fail "$name" "$n $what, see $out"
		grep -E "$pat" "$out" | head -n 20 >&2
	fi
}

# sparse_check TAG: sparse (C=2) over every vprime source for TAG, in the
# tree W=1 just built (nothing is compiled again): host result sparse/TAG. From
# 7.x the kernel's Makefile asks scripts/checker-valid.sh whether the checker
# works and turns C=2 off when it cannot run it, which Debian's headers lack;
# KBUILD_CHECKSRC=2 on the command line outranks the Makefile's own
# assignment, so sparse runs there too (with a warning from the Makefile,
# which is not a finding). The CHECK lines prove it ran.
sparse_check() {
	local tag=$1 out=$RESULTS/host/sparse-$1.log
	if ! "$VPRIME_TOP/scripts/kbuild" "$tag" "$VPRIME_TOP/kernel" vprime W=1 C=2 \
		KBUILD_CHECKSRC=2 >/dev/null 2>"$out"; then
		record "$RESULTS/host/results.txt" fail "sparse/$tag" "the C=2 build failed, see $out"
	elif ! grep -q '^ *CHECK ' "$out"; then
		record "$RESULTS/host/results.txt" fail "sparse/$tag" "sparse checked no file, see $out"
	else
		record_findings "sparse/$tag" "$out" ': (warning|error):' findings
	fi
}

# module_path TAG NAME: where kbuild left NAME.ko for TAG.
module_path() {
	case $2 in
	vprime) echo "$(kbuild_dir "$1" "$VPRIME_TOP/kernel" vprime)/vprime.ko" ;;
	vkms) echo "$(kbuild_dir "$1" "$VPRIME_CACHE/vkms-src/$1" vkms)/vkms.ko" ;;
	esac
}

# checkpatch FILE...: checkpatch.pl --strict from 7.2's source on FILEs.
checkpatch() {
	perl "$CHECKPATCH" --no-tree --strict --terse --show-types \
		--ignore FILE_PATH_CHANGES "$@"
}

# host_checks FILE: checks that need no VM.
host_checks() {
	local out=$RESULTS/host/checkpatch.log files=()
	CHECKPATCH=$("$VPRIME_TOP/scripts/get-linux-source" 7.2)/scripts/checkpatch.pl
	mapfile -t files < <(cd "$VPRIME_TOP" && git ls-files -- 'kernel/*.[ch]' |
		sed "s|^|$VPRIME_TOP/|")
	# No waiver: vprime_compat.h tests features, not LINUX_VERSION_CODE.
	if checkpatch -f "${files[@]}" > "$out" 2>&1; then
		record "$1" pass checkpatch
	else
		record "$1" fail checkpatch "$(grep -cE ': (ERROR|WARNING|CHECK):' "$out") findings, see $out"
		grep -E ': (ERROR|WARNING|CHECK):' "$out" | head -n 20 >&2
	fi
	# docs/uapi.md is generated from the uapi header's kernel-doc.
	if "$VPRIME_TOP/scripts/gen-uapi-doc" --check > "$RESULTS/host/uapi-doc.log" 2>&1; then
		record "$1" pass uapi-doc
	else
		record "$1" fail uapi-doc "$(tail -n 1 "$RESULTS/host/uapi-doc.log")"
	fi
}

# selected NAME: whether -t asked for this test (or nothing was asked).
# A filter is TEST or TEST/SUBTEST, where an upstream TEST is itself
# "upstream/NAME": filter_test FILTER NAME says whether FILTER selects NAME,
# and prints the SUBTEST part, if any.
filter_test() {
	local f=$1 name=$2 n
	n=${name//[^\/]/}
	n=${#n}				# slashes in the test's own name
	local test_part=$f rest=
	while [ "$(tr -cd / <<<"$test_part" | wc -c)" -gt "$n" ]; do
		rest=${test_part##*/}${rest:+/$rest}
		test_part=${test_part%/*}
	done
	# shellcheck disable=SC2053
	[[ $name == $test_part ]] || return 1
	printf '%s' "$rest"
}

selected() {
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		filter_test "$f" "$1" >/dev/null && return 0
	done
	return 1
}

# subtest_args NAME: --run-subtest for a -t TEST/SUBTEST filter of NAME.
subtest_args() {
	local f sub
	for f in "${filters[@]}"; do
		sub=$(filter_test "$f" "$1") || continue
		[ -n "$sub" ] && { printf ' --run-subtest %q' "$sub"; return; }
	done
}

# dkms_check TAG: if the dkms test is selected, vprime installed with DKMS
# for TAG (scripts/dkms-check, in TAG's build chroot with dkms): its lines
# dkms/TAG/{build,vermagic,remove} go to the host results, and the VM's dkms
# test loads the module it installed (DKMS_KO[TAG]), or fails saying why
# (DKMS_WHY[TAG]).
# A kernel built here (6.12-debug) has no headers package: the host lines
# and the VM's test skip (DKMS_SKIP[TAG]).
declare -A DKMS_KO=() DKMS_WHY=() DKMS_SKIP=()
dkms_check() {
	local tag=$1 dir=$RESULTS/host/dkms-$1 rc=0
	selected dkms || return 0
	log "installing vprime with DKMS for $tag"
	timed "dkms on $tag" "$VPRIME_TOP/scripts/dkms-check" "$tag" "$dir" || rc=$?
	if [ -s "$dir/results" ]; then
		cat "$dir/results" >> "$RESULTS/host/results.txt"
	else
		record "$RESULTS/host/results.txt" fail "dkms/$tag/build" \
			"dkms-check stopped (status $rc), see $dir/log"
	fi
	if [ $rc = 0 ] && [ -e "$dir/vprime.ko" ]; then
		DKMS_KO[$tag]=$dir/vprime.ko
	elif [ $rc = 3 ]; then
		DKMS_SKIP[$tag]=$(head -n 1 "$dir/log")
	else
		DKMS_WHY[$tag]="dkms-check failed on the host (dkms/$tag/* in results/host), see $dir/log"
	fi
}

# test_plan [TAG]: "NAME<TAB>COMMAND" for every selected test, in run order:
# our IGT tests (meson's registered tests), the libdrm series' test on each
# libdrm (get_libdrm), then upstream IGT's on vprime. TAG: the kernel the
# plan is for (the dkms test's module is that kernel's).
test_plan() {
	local name cmd tag=${1:-}
	while IFS=$'\t' read -r name cmd; do
		# The clients/* tests take minutes per kernel (Weston's GL renderer
		# under emulation): only when asked for, by -t or VPRIME_CLIENTS=1.
		[[ $name != clients/* ]] || [ ${#filters[@]} -gt 0 ] || [ -n "${VPRIME_CLIENTS:-}" ] ||
			continue
		if selected "$name"; then
			# The weston test runs Weston from its chroot (get_weston).
			[ "$name" != weston ] || cmd="WESTON_ROOT=$(printf %q "${WESTON_ROOT:-}") $cmd"
			# The clients/* tests run theirs from the clients chroot (get_clients).
			[[ $name != clients/* ]] || cmd="CLIENTS_ROOT=$(printf %q "${CLIENTS_ROOT:-}") $cmd"
			# The dkms test loads what dkms_check installed.
			if [ "$name" = dkms ] && [ -n "$tag" ]; then
				cmd="VPRIME_DKMS_KO=$(printf %q "${DKMS_KO[$tag]:-}") $cmd"
				cmd="VPRIME_DKMS_WHY=$(printf %q "${DKMS_WHY[$tag]:-dkms-check did not run}") $cmd"
				cmd="VPRIME_DKMS_SKIP=$(printf %q "${DKMS_SKIP[$tag]:-}") $cmd"
			fi
			# clients/kms-prime runs upstream IGT's kms_prime (get_igt).
			[ "$name" != clients/kms-prime ] || cmd="IGT_ROOT=$(printf %q "${IGT_ROOT:-}") $cmd"
			printf '%s\t%s%s\n' "$name" "$cmd" "$(subtest_args "$name")"
		fi
	done < <(python3 - "$BUILD" <<-'PY'
	import json, shlex, subprocess, sys
	tests = json.loads(subprocess.check_output(["meson", "introspect", "--tests", sys.argv[1]]))
	for t in sorted(tests, key=lambda t: (t.get("priority", 0) * -1, t["name"])):
	    if "vm" in t["suite"] or any(s.endswith(":vm") for s in t["suite"]):
	        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(t["env"].items()))
	        print(t["name"] + "\t" + (env + " " if env else "") + shlex.join(t["cmd"]))
	PY
	)
	for name in $LIBDRM_SUITES; do
		if selected "libdrm/$name"; then
			printf 'libdrm/%s\t%s\n' "$name" "${LIBDRM_CMD[$name]:-false}"
		fi
	done
	while read -r name; do
		name=${name%%#*}
		[ -n "${name// /}" ] || continue
		[ -x "$IGT_ROOT/usr/libexec/igt-gpu-tools/$name" ] ||
			{ log "upstream IGT has no test $name"; continue; }
		if selected "upstream/$name"; then
			printf 'upstream/%s\tIGT_ROOT=%q %q %s%s\n' "$name" "$IGT_ROOT" \
				"$VPRIME_TOP/scripts/igt-run" "$name" "$(subtest_args "upstream/$name")"
		fi
	done < "$VPRIME_TOP/igt-tests/upstream-vprime.txt"
}

# The instances the tests run against: vprime.0 and .1 take any memory,
# vprime.2 is a 32-bit device with 16 KiB segments inside 64 KiB boundaries,
# vprime.3 needs physically contiguous buffers; vprime.1's jobs take 200 ms
# longer, so that ordering bugs show. vprime.4 has 16 MiB of VRAM, which
# vprime.0 reaches in place (p2p bit 0); the tests that want a lenient
# instance skip it (vprime_is_lenient()), vprime_devmem uses it. vprime.5 is
# behind an IOMMU (iommu=1, 128 MiB of IO space) and contiguous, with 64 MiB
# segments and boundary: vprime_iommu uses it, and vprime_is_lenient() and
# vprime_is_contiguous() skip it. Every instance has two outputs, so that
# commits over several CRTCs (fbdev's first one, the shutdown at unload)
# run everywhere. The VM has more than 4 GiB so that "below 4 GiB" means
# something. Jobs time out after 20 s, so that a loaded host (TCG, other
# VMs) never times out a job that is merely slow, but on vprime.2: the
# tests that hang jobs or time them out take the instance with the
# shortest job_timeout_ms (vprime_hang_instance()), and 1 s keeps them short.
VPRIME_TEST_PARAMS="num_devices=6 dma_bits=64,64,32,64,64,64"
VPRIME_TEST_PARAMS+=" max_segment=0,0,16384,0,0,67108864"
VPRIME_TEST_PARAMS+=" seg_boundary=0,0,65536,0,0,67108864 contiguous=0,0,0,1,0,1"
VPRIME_TEST_PARAMS+=" iommu=0,0,0,0,0,1 iova_mb=0,0,0,0,0,128 map_wait_ms=1000"
VPRIME_TEST_PARAMS+=" job_delay_ms=0,200,0,0,0,0 job_timeout_ms=20000,20000,1000,20000,20000,20000"
VPRIME_TEST_PARAMS+=" num_crtcs=2"
VPRIME_TEST_PARAMS+=" vram_mb=0,0,0,0,16,0 p2p=0,0,0,0,0x1,0"
VPRIME_TEST_MEM=5120

# boot_vm TAG OUTDIR [vm-run options] -- COMMAND: the VM with every module
# loaded; OUTDIR is its /mnt. A debug kernel runs the whole suite in about a
# quarter of an hour here; its VM is given two hours (a later -T overrides).
# Debian's kernels are given 40 minutes: with two other VMs on the two
# cores (load 7 to 10) the whole suite's VM of 7.2-rt ran past vm-run's
# default 20 (upstream IGT's programs alone took 11).
boot_vm() {
	local tag=$1 out=$2
	shift 2
	local vkms=(-i "$(module_path "$tag" vkms)")
	in_tree "$tag" vkms && vkms=(-m vkms)
	local args=(-k "$tag" -o "$out" -m vgem -M "$VPRIME_TEST_MEM" "${vkms[@]}"
		-i "$(module_path "$tag" vprime):$VPRIME_TEST_PARAMS")
	case $tag in
	*-debug) args+=(-T 7200) ;;
	*) args+=(-T 2400) ;;
	esac
	"$VPRIME_TOP/scripts/vm-run" "${args[@]}" "$@"
}

# run_suite TAG: the test plan in a VM of kernel TAG.
run_suite() {
	local tag=$1 dir=$RESULTS/$1 rc=0
	rm -rf "$dir"
	mkdir -p "$dir"
	if grep -qP "^fail\tbuild/$tag\t" "$RESULTS/host/results.txt" 2>/dev/null; then
		record "$dir/results.txt" fail "$tag/boot" "vprime.ko did not build"
		return 0
	fi
	dkms_check "$tag"
	test_plan "$tag" > "$dir/plan"
	log "running $(wc -l < "$dir/plan") test programs on $tag"
	# The VM sees the results folder as /mnt, the rest of this machine read-only.
	boot_vm "$tag" "$dir" -- "$VPRIME_TOP/scripts/guest-tests" /mnt/plan /mnt/results.txt || rc=$?
	if ! grep -qE '^(pass|fail|skip)' "$dir/results.txt" 2>/dev/null; then
		record "$dir/results.txt" fail "$tag/tests-ran" "the VM reported no test result"
	fi
	case $rc in
	0) record "$dir/results.txt" pass "$tag/dmesg-clean" ;;
	124) record "$dir/results.txt" fail "$tag/dmesg-clean" "kernel splat, see $dir/dmesg.txt" ;;
	*) record "$dir/results.txt" fail "$tag/vm" "the VM or the runner failed (status $rc), see $dir/console.log" ;;
	esac
}

# count FILE...: "N passed, N failed, N skipped" over result files.
count() {
	cat "$@" 2>/dev/null | awk -F'\t' '
		$1 == "pass" { p++ } $1 == "fail" { f++ } $1 == "skip" { s++ }
		END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
}

# summarize DIR...: failures, then a line per kernel, then the total.
summarize() {
	local d files=() failed
	for d in "$@"; do
		[ -e "$d/results.txt" ] && files+=("$d/results.txt")
	done
	echo
	failed=$(cat "${files[@]}" 2>/dev/null | awk -F'\t' '$1 == "fail" { print "  FAIL " $2 "  (" $3 ")" }')
	[ -z "$failed" ] || { echo "Failures:"; echo "$failed"; echo; }
	for d in "$@"; do
		[ -e "$d/results.txt" ] && printf '%-7s %s\n' "$(basename "$d"):" "$(count "$d/results.txt")"
	done
	log "total time $((SECONDS - t_start))s"
	count "${files[@]}"
	[ -z "$failed" ] && [ ${#files[@]} -gt 0 ]
}
