#!/usr/bin/env bash
# Builds the Linux guest images from Debian's i386 packages (fetched by
# scripts/fetch-guest-pkgs.sh, never installed):
#   build/images/vmlinuz            the kernel (a copy, for a stable path)
#   build/images/System.map         its symbol table
#   build/images/initramfs.cpio.gz  busybox-static, /init gives a root shell
#                                   on ttyS0 after printing "trapeze-guest: ready"
#   build/images/linux.iso          El Torito (no emulation) ISO, ISOLINUX
#   build/images/linux-hd.img       hard disk: MBR (syslinux mbr.bin), one
#                                   active FAT16 partition, SYSLINUX
# The firmware images (ISO, disk) boot with console=ttyS0,115200 and the same
# initramfs; direct boot passes its own command line.
#
# Usage: scripts/build-guest-images.sh [OUTDIR]   (default build/images)
# Idempotent: an output newer than everything it is made from is kept.
# Quiet: prints the output paths (KEY=PATH lines) and nothing else on success.
# Host tools: cpio, gzip, xorriso, isolinux, syslinux, syslinux-common,
# mtools, dosfstools, fdisk (scripts/install-deps.sh installs them).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/images}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { echo "build-guest-images: $*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in cpio gzip xorriso mcopy mformat mkfs.fat sfdisk syslinux; do
  command -v "$tool" >/dev/null || die "$tool is missing (run scripts/install-deps.sh)"
done
ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
SYSLINUX_MODS=/usr/lib/syslinux/modules/bios
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
for f in "$ISOLINUX_BIN" "$SYSLINUX_MODS/ldlinux.c32" "$MBR_BIN"; do
  [ -f "$f" ] || die "$f is missing (packages isolinux, syslinux-common)"
done

eval "$(bash "$ROOT/scripts/fetch-guest-pkgs.sh")"
[ -f "${vmlinuz:-}" ] && [ -f "${busybox:-}" ] || die "fetch-guest-pkgs.sh gave no kernel or busybox"

SELF=$ROOT/scripts/build-guest-images.sh
# Is $1 missing or older than any of the rest?
stale() {
  local out=$1; shift
  [ -f "$out" ] || return 0
  for src in "$@"; do [ "$src" -nt "$out" ] && return 0; done
  return 1
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# --- the kernel ---
KERNEL=$OUT/vmlinuz
if stale "$KERNEL" "$vmlinuz"; then
  cp "$vmlinuz" "$KERNEL.tmp" && mv "$KERNEL.tmp" "$KERNEL"
fi
# Its symbol table, for tests that name the kernel function at an address
# (tests/linux/trap-divergence.sh): boot/System.map-V beside boot/vmlinuz-V.
SYSMAP=$OUT/System.map
sysmap_src=$(dirname "$vmlinuz")/System.map-${vmlinuz##*/vmlinuz-}
if [ -f "$sysmap_src" ] && stale "$SYSMAP" "$sysmap_src"; then
  cp "$sysmap_src" "$SYSMAP.tmp" && mv "$SYSMAP.tmp" "$SYSMAP"
fi

# --- the initramfs ---
INITRD=$OUT/initramfs.cpio.gz
if stale "$INITRD" "$busybox" "$SELF"; then
  R=$TMP/root
  mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
  cp "$busybox" "$R/bin/busybox"
  chmod 755 "$R/bin/busybox"
  # /bin/sh for the #! of /init; /init itself links the other applets
  # (busybox --install -s), since the host cannot run the i386 binary to
  # list them.
  ln -s busybox "$R/bin/sh"
  cat > "$R/init" <<'INIT'
#!/bin/sh
# trapeze guest init: mount the kernel filesystems, announce readiness on the
# serial console, run a shell there. `poweroff -f` ends the machine.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100 PS1='# '
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs tmpfs /dev
[ -c /dev/ttyS0 ] || mknod /dev/ttyS0 c 4 64
cd /root
echo "trapeze-guest: ready"
# trapeze_auto=1 on the kernel command line (the kernel passes it to init's
# environment): a short scripted session without a terminal, then power off;
# for runs nobody types into (tests/test-four-vms.sh).
if [ -n "${trapeze_auto:-}" ]; then
  echo "trapeze-guest: auto session"
  uname -sr
  echo "sum=$((6 * 7))"
  awk 'BEGIN { s = 0; for (i = 1; i <= 1000; i++) s += 1 / (i * i); printf "awk=%.6f\n", s }'
  grep -c ^processor /proc/cpuinfo
  echo "trapeze-guest: auto done"
  poweroff -f
fi
# A session with ttyS0 as the controlling terminal (cttyhack opens the
# console named by the kernel), so job control and ^C work; respawn.
while true; do
  setsid cttyhack sh -l </dev/ttyS0 >/dev/ttyS0 2>&1
  echo "trapeze-guest: shell exited, restarting"
done
INIT
  chmod 755 "$R/init"
  echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
  echo "root:x:0:" > "$R/etc/group"
  echo "trapeze" > "$R/etc/hostname"
  (cd "$R" && find . -print0 | LC_ALL=C sort -z |
     cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
fi

CMDLINE="console=ttyS0,115200"

# --- the ISO: ISOLINUX, El Torito no-emulation boot ---
ISO=$OUT/linux.iso
if stale "$ISO" "$KERNEL" "$INITRD" "$SELF"; then
  I=$TMP/iso
  mkdir -p "$I/isolinux"
  cp "$ISOLINUX_BIN" "$SYSLINUX_MODS/ldlinux.c32" "$I/isolinux/"
  cp "$KERNEL" "$I/vmlinuz"
  cp "$INITRD" "$I/initrd.gz"
  cat > "$I/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND $CMDLINE
CFG
  xorriso -as mkisofs -quiet -o "$ISO.tmp" -V TRAPEZE_LINUX -J -R \
    -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$I" 2>"$TMP/xorriso.log" ||
    { cat "$TMP/xorriso.log" >&2; die "xorriso failed"; }
  mv "$ISO.tmp" "$ISO"
fi

# --- the hard disk: MBR + one active FAT16 partition with SYSLINUX ---
HD=$OUT/linux-hd.img
if stale "$HD" "$KERNEL" "$INITRD" "$SELF"; then
  kib=$(( ( $(stat -c %s "$KERNEL") + $(stat -c %s "$INITRD") ) / 1024 ))
  part_mib=$(( kib / 1024 + 8 ))       # the files plus room for the FS
  start=2048                            # first partition at 1 MiB
  sectors=$(( part_mib * 2048 ))
  FS=$TMP/part.img
  truncate -s $(( sectors * 512 )) "$FS"
  mkfs.fat -F 16 -n TRAPEZE -h $start "$FS" >/dev/null
  export MTOOLS_SKIP_CHECK=1
  mcopy -i "$FS" "$KERNEL" ::vmlinuz
  mcopy -i "$FS" "$INITRD" ::initrd.gz
  cat > "$TMP/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND $CMDLINE
CFG
  mcopy -i "$FS" "$TMP/syslinux.cfg" ::syslinux.cfg
  syslinux --install "$FS"               # ldlinux.sys + ldlinux.c32 + boot sector
  truncate -s $(( (start + sectors) * 512 )) "$HD.tmp"
  echo "$start,$sectors,6,*" | sfdisk -q "$HD.tmp" >/dev/null
  dd if="$MBR_BIN" of="$HD.tmp" bs=440 count=1 conv=notrunc status=none
  dd if="$FS" of="$HD.tmp" bs=512 seek=$start conv=notrunc status=none
  mv "$HD.tmp" "$HD"
fi

echo "kernel=$KERNEL"
echo "initrd=$INITRD"
echo "iso=$ISO"
echo "hd=$HD"
