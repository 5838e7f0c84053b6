# SPDX-License-Identifier: MIT
# Sourced by xorg-test and wlroots-test: the chroot, vprime's cards, and
# frames checked through a CRTC's CRC (debugfs crtc-N/crc, source "auto":
# vprime's composer's crc32 of the frame's rows as ARGB8888, alpha 0xff),
# for compositors that hold DRM master on every card they show on, so that
# no writeback can be had beside them. The caller sets tname (its name in
# messages), root (CLIENTS_ROOT) and out (its log directory).

exec {nap_fd}<> <(:)
nap() { read -rt "$1" -u "$nap_fd" || :; }
t0=${EPOCHREALTIME/./}
say() {
	local d=$((${EPOCHREALTIME/./} - t0))
	printf '[%s %3d.%02ds] %s\n' "$tname" $((d / 1000000)) $((d / 10000 % 100)) "$*" >&2
}

running() {
	local stat
	read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
	[[ $stat != *") Z "* ]]
}

# stop PID: SIGTERM, then SIGKILL after 10 s.
stop() {
	local i
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		running "$1" || break
		nap 0.1
	done
	running "$1" && { kill -KILL "$1"; say "pid $1 did not end on SIGTERM; killed"; }
	wait "$1" 2>/dev/null
}

# card_of DEVICE: the card node (cardN) of the platform/faux device DEVICE.
card_of() {
	local c d
	for c in /sys/class/drm/card[0-9]*; do
		for d in /sys/bus/*/devices/"$1"; do
			[ "$c/device" -ef "$d" ] && { echo "${c##*/}"; return 0; }
		done
	done
	return 1
}

# sysdev_of DEVICE: DEVICE's directory under /sys/devices (platform or faux).
sysdev_of() {
	local d
	for d in /sys/bus/*/devices/"$1"; do
		[ -e "$d" ] && { readlink -f "$d"; return 0; }
	done
	return 1
}

# dbg_of CARD: CARD's DRM debugfs directory.
dbg_of() {
	echo "/sys/kernel/debug/dri/${1#card}"
}

# heads CARD: CARD's connectors' numbers (Virtual-N: N counts over every
# device), in order.
heads() {
	local c
	for c in /sys/class/drm/"$1"-Virtual-*; do
		[ -e "$c" ] && echo "${c##*-Virtual-}"
	done | sort -n
}

# active_crtcs DBG: "crtc-N WIDTH HEIGHT" for every active CRTC of the
# device whose debugfs directory is DBG (its atomic state).
active_crtcs() {
	awk '/^crtc\[[0-9]+\]: / { name = $2; active = 0; next }
	     name && /^\tactive=1/ { active = 1 }
	     name && active && /^\tmode: "/ {
		# "NAME": vrefresh clock hdisplay ... htotal vdisplay ...
		m = $0; sub(/.*": /, "", m); split(m, v, " ")
		print name, v[3], v[7]; name = "" }
	     /^[a-z]/ && !/^crtc/ { name = "" }' "$1/state"
}

mounted() {
	local id parent dev r mp rest
	while read -r id parent dev r mp rest; do
		[ "$mp" = "$1" ] && return 0
	done < /proc/self/mountinfo
	return 1
}

# chroot_setup DIR...: /dev, /sys and /proc bound into the chroot, a fresh
# tmpfs on each DIR (tmp, run, ...: the chroot is read-only over 9p).
chroot_setup() {
	local d
	if ! mounted "$root/dev"; then
		mount --rbind /dev "$root/dev" && mount --rbind /sys "$root/sys" &&
			mount --rbind /proc "$root/proc" || return 1
	fi
	for d in "$@"; do
		mounted "$root/$d" && umount "$root/$d"
		mount -t tmpfs "clients-${d//\//-}" "$root/$d" || return 1
	done
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	return 0
}

in_chroot() {
	exec chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 "$@"
}

# ref_crc ARGS...: the CRC of the frame vprime-ref-frame ARGS writes (kept
# in $out/ref.raw until the next one; the VM has no /dev/stdin).
ref_crc() {
	"${VPRIME_REF_FRAME:?VPRIME_REF_FRAME names no program (run through ./vprime-test)}" "$@" \
		> "$out/ref.raw" &&
		"${VPRIME_FRAME_CRC:?VPRIME_FRAME_CRC names no program}" "$out/ref.raw"
}

# crc_match DBG CRTC LOG SECS WANT...: read CRTC's CRCs into LOG until one
# equals one of WANT (8 hex digits), then five more frames; every frame
# after the first match must be that one. Prints the matched CRC; false
# (why on stderr) if none matched within SECS seconds or a later frame
# differed.
crc_match() {
	local dbg=$1 crtc=$2 log=$3 secs=$4 fd rfd dd_pid frame crc got="" hit="" n=0 frames=0
	local deadline=$((SECONDS + secs)) w
	shift 4
	echo auto > "$dbg/$crtc/crc/control" || { echo "cannot set $crtc's CRC source" >&2; return 1; }
	until { exec {fd}< "$dbg/$crtc/crc/data"; } 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "$crtc gave no CRCs within ${secs}s" >&2; return 1; }
		nap 0.2
	done
	# An entry is read whole or not at all: dd reads them, one read each,
	# into a file on the chroot's tmpfs (9p's results directory gives
	# ENODATA to a reader at the end of a growing file); LOG at the end.
	local live=$root/tmp/${log##*/}
	: > "$live"
	dd bs=4096 status=none <&"$fd" >> "$live" &
	dd_pid=$!
	exec {fd}<&-
	exec {rfd}< "$live"
	while [ $SECONDS -lt $deadline ]; do
		if ! read -r -u "$rfd" frame crc; then
			nap 0.2
			continue
		fi
		frames=$((frames + 1))
		printf -v crc '%08x' "$crc" 2>/dev/null || { got="(\"$frame $crc\")"; break; }
		if [ -z "$hit" ]; then
			for w in "$@"; do
				[ "$crc" = "$w" ] && hit=$crc
			done
		elif [ "$crc" != "$hit" ]; then
			echo "$crtc's frame $frame has CRC 0x$crc after $n frames of 0x$hit" >&2
			hit="" got=$crc
			break
		fi
		[ -n "$hit" ] && n=$((n + 1))
		[ $n -ge 6 ] && break
		got=$crc
	done
	kill "$dd_pid" 2>/dev/null
	wait "$dd_pid" 2>/dev/null
	exec {rfd}<&-
	cp "$live" "$log"
	if [ $n -ge 6 ] && [ -n "$hit" ]; then
		echo "$hit"
		return 0
	fi
	echo "$crtc: no frame with CRC ${*/#/0x} in $frames frames within ${secs}s (last 0x$got)" >&2
	# What it shows: its framebuffer, beside the log (LOG's name, .fb.raw).
	"${VPRIME_FB_DUMP:-false}" "/dev/dri/card${dbg##*/}" "${crtc#crtc-}" "${log%.txt}.fb.raw" >&2
	return 1
}
