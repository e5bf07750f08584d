#!/usr/bin/env bash
# Installs what trapeze needs to build and test, from Debian's archive.
# Idempotent and quiet: does nothing when everything is present.
# Guest material (Debian's i386 kernel and busybox) is fetched with
# `apt-get download` and unpacked under build/guest-pkgs, never installed.
set -euo pipefail

PKGS=(build-essential pkg-config libsdl2-dev zlib1g-dev check nasm gcc-multilib
      libzydis-dev seabios libcjson-dev gdb
      # the window (frontend/display_sdl.c) and its test under Xvfb
      libpng-dev libfreetype-dev fonts-dejavu-core xvfb xdotool
      # the Linux guest images (scripts/build-guest-images.sh)
      cpio xorriso isolinux syslinux syslinux-common mtools dosfstools fdisk python3
      # make test-slurm's single-node cluster (also scripts/install-slurm.sh)
      slurm-wlm munge)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A partly failed update (a mirror in sync) still leaves usable lists.
  $SUDO apt-get update -qq >/dev/null 2>&1 || echo "install-deps: apt-get update failed in part; installing from the lists it left" >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
