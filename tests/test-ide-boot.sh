#!/usr/bin/env bash
# test-ide-boot.sh BUILD [IMAGES] -- boots Debian's SeaBIOS from the guest
# images over IDE: the El Torito CD (--cdrom linux.iso --boot d) and the hard
# disk (--hda linux-hd.img --boot c), each until the boot loader (ISOLINUX /
# SYSLINUX) has read the kernel and the initrd through the BIOS disk services.
# The disk runs on a copy (writes go to the image file). Skips (exit 0) when
# the seabios package or the images (make images) are missing.
# Prints "N passed, M failed"; fails if any failed.
set -u
build=${1:-build}
images=${2:-$build/images}
trapeze="$build/trapeze"
tmp="$build/ide-boot-test"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; shift; for l in "$@"; do echo "      $l"; done; }

if [ ! -r /usr/share/seabios/bios.bin ]; then
    echo "skipped: Debian's seabios package is not installed (make deps)"; exit 0
fi
if [ ! -r "$images/linux.iso" ] || [ ! -r "$images/linux-hd.img" ]; then
    echo "skipped: no guest images in $images (make images)"; exit 0
fi

# boot NAME WHAT BOOTED ARGS... -- runs SeaBIOS; the debug port must show WHAT
# was found and BOOTED, the serial console the loader reading both files.
boot() {
    local name=$1 found=$2 booted=$3; shift 3
    "$trapeze" run --deterministic --no-reboot -m 128 --timeout 300 \
        --max-instructions 600000000 --serial "file:$tmp/$name.serial" \
        --debugcon "file:$tmp/$name.debug" "$@" >"$tmp/$name.out" 2>&1
    if grep -qF -- "$found" "$tmp/$name.debug"; then ok "$name: SeaBIOS found '$found'"
    else bad "$name: SeaBIOS found '$found'" "$(grep -v VBE "$tmp/$name.debug" | tail -5)"; fi
    if grep -qF -- "$booted" "$tmp/$name.debug"; then ok "$name: $booted"
    else bad "$name: $booted" "$(grep Booting "$tmp/$name.debug")"; fi
    if grep -qF "Loading /initrd.gz...ok" "$tmp/$name.serial" ||
       grep -qF "Loading /initrd.gz... ok" "$tmp/$name.serial"; then
        ok "$name: the boot loader read the kernel and the initrd"
    else
        bad "$name: the boot loader read the kernel and the initrd" \
            "$(tail -c 300 "$tmp/$name.serial")" "$(tail -2 "$tmp/$name.out")"
    fi
}

boot cdrom "DVD/CD [ata1-0: TRAPEZE CD-ROM ATAPI-6 DVD/CD]" "Booting from DVD/CD" --cdrom "$images/linux.iso" --boot d
cp "$images/linux-hd.img" "$tmp/hd.img"
boot hda "ata0-0: TRAPEZE HARDDISK ATA-6 Hard-Disk" "Booting from Hard Disk" --hda "$tmp/hd.img" --cdrom "$images/linux.iso" --boot c

echo "ide boot tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
