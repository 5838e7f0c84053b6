# SPDX-License-Identifier: MIT
# Common helpers for the vprime harness. Sourced, never run.
#
# Everything heavy lives in $VPRIME_CACHE (default ~/.cache/vprime), keyed by
# kernel tag and package version, so a warm run only redoes what changed.

VPRIME_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VPRIME_CACHE=${VPRIME_CACHE:-$HOME/.cache/vprime}
# The default run: Debian's releases' kernels, 6.12-bpo (bookworm-backports:
# 6.12 with bookworm's userspace and gcc), 7.2-rt (Debian's PREEMPT_RT
# flavour of 7.2, linux-image-rt-amd64) and 7.3 (trixie-backports).
VPRIME_TAGS="6.1 6.12 6.12-bpo 7.2 7.2-rt 7.3"
VPRIME_EXTRA_TAGS=""
# Kernels built here with lockdep, KASAN, kmemleak... (get-debug-kernel):
# about an hour to build, so never part of a default run.
VPRIME_DEBUG_TAGS="6.12-debug"
JOBS=${JOBS:-$(nproc)}

log()  { printf '[%s] %s\n' "${VPRIME_STEP:-vprime}" "$*" >&2; }
die()  { log "error: $*"; exit 1; }

# suite_of TAG: the Debian suite whose kernel TAG is (a release, or a
# release's backports).
suite_of() {
	case $1 in
	6.1) echo bookworm ;;
	6.12-bpo) echo bookworm-backports ;;
	6.12 | 6.12-debug) echo trixie ;;
	7.3) echo trixie-backports ;;
	7.2 | 7.2-rt) echo sid ;;
	*) die "unknown kernel tag '$1' (known: $VPRIME_TAGS $VPRIME_EXTRA_TAGS $VPRIME_DEBUG_TAGS)" ;;
	esac
}

# release_of TAG: the Debian release whose userspace (gcc, dkms) builds for
# TAG: the suite, without -backports.
release_of() {
	local s
	s=$(suite_of "$1") || return
	echo "${s%-backports}"
}

# flavour_of TAG: the Debian kernel flavour of TAG (the X of linux-image-X,
# its metapackage): rt-amd64 for TAG-rt, PREEMPT_RT; amd64 otherwise.
flavour_of() {
	case $1 in
	*-rt) echo rt-amd64 ;;
	*) echo amd64 ;;
	esac
}

# base_of TAG: the kernel version of TAG without its flavour or build (7.2
# for 7.2-rt, 6.12 for 6.12-debug): the linux-source-X.Y it comes from.
base_of() { echo "${1%%-*}"; }

# apt_mirror [SUFFIX]: the first Debian archive URI in this machine's apt
# configuration (one-line and deb822 formats) whose path ends in /debian$SUFFIX.
apt_mirror() {
	{
		grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list \
			/etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; break } }'
		grep -hiE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk '{ for (i = 2; i <= NF; i++) print $i }'
	} | grep -E "/debian${1:-}/?\$" | head -n 1
}

# suite_sources SUITE: the one-line apt sources of Debian suite SUITE (main,
# and its security updates but for sid; for RELEASE-backports, RELEASE's and
# the backports), from this machine's configuration, as mkchroot gives them
# to a chroot.
suite_sources() {
	local m sm r=${1%-backports}
	m=${MIRROR:-$(apt_mirror)}
	[ -n "$m" ] || die "no Debian mirror in this machine's apt configuration; set MIRROR="
	sm=${SECMIRROR:-$(apt_mirror -security)}
	sm=${sm:-${m%/debian*}/debian-security}
	echo "deb $m $r main"
	[ "$r" = sid ] || echo "deb $sm $r-security main"
	[ "$r" = "$1" ] || echo "deb $m $1 main"
}

# A private apt state that knows bookworm, trixie and sid (binaries and
# sources) and the backports of bookworm and trixie (binaries), without
# touching the machine's own apt configuration. (apt/ held the set without
# backports: a checkout of either kind keeps its own lists, rather than
# fetching them again each time the other one ran.)
APT_DIR=$VPRIME_CACHE/apt-bpo
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::Cache=$APT_DIR/cache"
	-o "Acquire::Check-Valid-Until=false"
	-o "APT::Sandbox::User=root")

apt_private_init() {
	local m sm stamp new
	m=${MIRROR:-$(apt_mirror)}
	[ -n "$m" ] || die "no Debian mirror in this machine's apt configuration; set MIRROR="
	sm=${SECMIRROR:-$(apt_mirror -security)}
	sm=${sm:-${m%/debian*}/debian-security}
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	# (a file of its own: several scripts may run this at once)
	new=$(mktemp "$APT_DIR/sources.list.XXXXXX")
	cat > "$new" <<-SRC
	deb $m bookworm main
	deb $m bookworm-updates main
	deb $sm bookworm-security main
	deb $m bookworm-backports main
	deb $m trixie main
	deb $sm trixie-security main
	deb $m trixie-backports main
	deb $m sid main
	deb-src $m bookworm main
	deb-src $m trixie main
	deb-src $m sid main
	SRC
	if ! cmp -s "$new" "$APT_DIR/sources.list"; then
		chmod 644 "$new"
		mv "$new" "$APT_DIR/sources.list"
		rm -f "$APT_DIR/.updated"
	else
		rm -f "$new"
	fi
	# Refresh the lists once a day at most; a stale list only means an
	# older (still cached) kernel is used.
	stamp=$APT_DIR/.updated
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		log "updating the private apt lists (bookworm, trixie, their backports, sid)"
		apt-get "${APT_OPTS[@]}" -q update >/dev/null || die "apt-get update failed"
		touch "$stamp"
	fi
}

apt_priv() { apt-get "${APT_OPTS[@]}" "$@"; }
apt_cache_priv() { apt-cache "${APT_OPTS[@]}" "$@"; }

# need_pkgs PKG...: install the host packages that are missing.
need_pkgs() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	if [ ! -e /var/lib/apt/lists/.vprime-updated ]; then
		apt-get -q update >/dev/null && touch /var/lib/apt/lists/.vprime-updated
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# get_sparse: sid's sparse (newer kernels refuse bookworm's 0.6.4 as "not up
# to date"), unpacked in $VPRIME_CACHE/sparse/VERSION; prints the binary's
# path. It needs glibc 2.38: it runs in the trixie and sid chroots only.
get_sparse() {
	local v d
	apt_private_init
	v=$(apt_cache_priv madison sparse | awk -F'|' '$3 ~ / sid\// { gsub(/ /, "", $2); print $2; exit }')
	[ -n "$v" ] || return 1
	d=$VPRIME_CACHE/sparse/$v
	mkdir -p "$VPRIME_CACHE/locks"
	if [ ! -x "$d/sparse" ] && (
		flock 8
		[ ! -x "$d/sparse" ] || exit 0
		rm -rf "$d.tmp"
		mkdir -p "$d.tmp"
		(cd "$d.tmp" && apt_priv -q download "sparse=$v" >/dev/null &&
			dpkg-deb --fsys-tarfile sparse_*.deb | tar -xO ./usr/bin/sparse > sparse &&
			chmod 755 sparse && rm -f sparse_*.deb) || { rm -rf "$d.tmp"; exit 1; }
		rm -rf "$d"
		mv "$d.tmp" "$d"
	) 8>"$VPRIME_CACHE/locks/sparse.lock"; then
		:
	fi
	[ -x "$d/sparse" ] && echo "$d/sparse"
}

# timed LABEL CMD...: run CMD, then log how long it took.
timed() {
	local label=$1 t0=$SECONDS
	shift
	"$@" || return
	log "$label: done in $((SECONDS - t0))s"
}

# kbuild_dir TAG SRC NAME: where scripts/kbuild builds module directory SRC
# for kernel TAG: one tree per kernel and per checkout.
kbuild_dir() {
	local id
	id=$(readlink -f "$2" | sha1sum | cut -c1-8)
	echo "$VPRIME_CACHE/build/$1/$3-$id"
}
