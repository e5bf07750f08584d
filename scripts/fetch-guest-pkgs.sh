#!/usr/bin/env bash
# Fetches the Linux guest material from Debian's archive and unpacks it,
# never installing it (the host cannot run 32-bit binaries anyway):
#   - linux-image-6.1.0-N-686 (i386), the newest N the archive offers;
#   - busybox-static (i386).
# The .deb files go to $TRAPEZE_GUEST_CACHE (default build-guest/pkgs, out of
# git), each unpacked with `dpkg -x` into a directory named after the file.
#
# Idempotent and quiet: when the cache already holds an unpacked kernel and
# busybox it touches nothing, not even the network. Set TRAPEZE_GUEST_REFRESH=1
# to look for a newer kernel again.
#
# Prints two lines on stdout, for scripts:
#   vmlinuz=/abs/path/to/vmlinuz-6.1.0-N-686
#   busybox=/abs/path/to/bin/busybox
# Messages go to stderr. Needs root (or sudo) only for the one-time
# `dpkg --add-architecture i386` and `apt-get update`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${TRAPEZE_GUEST_CACHE:-$ROOT/build-guest/pkgs}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "fetch-guest-pkgs: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Finds an unpacked kernel / busybox in the cache (newest kernel ABI first).
find_vmlinuz() {
  ls -1 "$CACHE"/linux-image-6.1.0-*-686_*_i386/boot/vmlinuz-6.1.0-*-686 2>/dev/null |
    sort -V | tail -n 1 || true
}
find_busybox() {
  ls -1 "$CACHE"/busybox-static_*_i386/bin/busybox 2>/dev/null | sort -V | tail -n 1 || true
}

apt_ready=0
# apt-get update once per run, and only when apt cannot see i386 packages.
# A partly failed update (a mirror in sync) still leaves usable lists, so its
# status is not fatal: the download below says clearly if a package is missing.
prepare_apt() {
  [ "$apt_ready" -eq 1 ] && return 0
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    say "adding the i386 architecture to dpkg"
    $SUDO dpkg --add-architecture i386
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
  elif ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
  fi
  apt_ready=1
}

# Newest linux-image-6.1.0-N-686 in the archive (the signed flavour, the
# one Debian installs; "-686", not "-686-pae": the guest is a P6 without PAE
# requirements).
newest_kernel_pkg() {
  apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-686$' 2>/dev/null |
    awk '{print $1}' | sort -V | tail -n 1 || true
}

# Downloads package $1 (name:i386) into the cache and unpacks it.
fetch() {
  local pkg=$1 deb dir
  (cd "$CACHE" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
    die "apt-get download $pkg failed (is Debian's archive reachable? try: apt-get update)"
  deb=$(ls -1t "$CACHE"/"${pkg%%:*}"_*_i386.deb | head -n 1)
  dir=${deb%.deb}
  if [ ! -d "$dir" ]; then
    rm -rf "$dir.tmp"
    dpkg -x "$deb" "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
}

vmlinuz=$(find_vmlinuz)
if [ -z "$vmlinuz" ] || [ "${TRAPEZE_GUEST_REFRESH:-0}" = 1 ]; then
  prepare_apt
  kpkg=$(newest_kernel_pkg)
  [ -n "$kpkg" ] || die "no linux-image-6.1.0-*-686 package in apt's lists (run apt-get update)"
  if [ -z "$vmlinuz" ] || [ "$(basename "$vmlinuz")" != "vmlinuz-${kpkg#linux-image-}" ]; then
    say "downloading $kpkg:i386"
    fetch "$kpkg:i386"
  fi
  vmlinuz=$(find_vmlinuz)
  [ -n "$vmlinuz" ] || die "$kpkg unpacked without a boot/vmlinuz-* file"
fi

busybox=$(find_busybox)
if [ -z "$busybox" ]; then
  prepare_apt
  say "downloading busybox-static:i386"
  fetch busybox-static:i386
  busybox=$(find_busybox)
  [ -n "$busybox" ] || die "busybox-static unpacked without bin/busybox"
fi

echo "vmlinuz=$vmlinuz"
echo "busybox=$busybox"
