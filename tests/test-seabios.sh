#!/usr/bin/env bash
# test-seabios.sh BUILD -- boots Debian's SeaBIOS (bios.bin + vgabios-stdvga.bin,
# the defaults) headless with no disk and checks that it gets through POST,
# the VGA BIOS and the boot attempt: its debug port (0x402) shows the banner,
# the VGA BIOS's banner and "No bootable device", and the VGA text screen
# shows "SeaBIOS" and "No bootable device". --deterministic skips SeaBIOS's
# idle waits (boot menu, retry delay); --no-reboot ends the run when SeaBIOS
# reboots after "No bootable device" (exit status 12).
# Skips (exit 0) when the seabios package is not installed.
set -u
build=${1:-build}
trapeze="$build/trapeze"
tmp="$build/seabios-test"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; shift; for l in "$@"; do echo "      $l"; done; }

if [ ! -r /usr/share/seabios/bios.bin ] || [ ! -r /usr/share/seabios/vgabios-stdvga.bin ]; then
    echo "skipped: Debian's seabios package is not installed (make deps)"
    exit 0
fi

"$trapeze" run --deterministic --no-reboot --timeout 120 --serial none \
    --debugcon "file:$tmp/debug.log" --screen-text "$tmp/screen.txt" \
    --report "$tmp/report.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 12 ] && ok "SeaBIOS runs to its reboot after the boot attempt (status 12)" \
    || bad "SeaBIOS runs to its reboot (status $rc, expected 12)" "$(tail -3 "$tmp/err")"

# has FILE NAME PATTERN -- FILE contains the fixed string PATTERN
has() {
    if grep -qF -- "$3" "$1"; then ok "$2"; else bad "$2" "'$3' not in $1" "$(tail -5 "$1")"; fi
}
has "$tmp/debug.log" "debug port: SeaBIOS banner" "SeaBIOS (version"
has "$tmp/debug.log" "debug port: RAM size from CMOS" "RamSize: 0x08000000 [cmos]"
has "$tmp/debug.log" "debug port: VGA device found on PCI" "PCI: Using 00:02.0 for primary VGA"
has "$tmp/debug.log" "debug port: VGA BIOS ran" "Start SeaVGABIOS"
has "$tmp/debug.log" "debug port: VBE found" "VBE DISPI: lfb_addr="
has "$tmp/debug.log" "debug port: boot attempt" "No bootable device."
has "$tmp/screen.txt" "VGA text screen: banner" "SeaBIOS (version"
has "$tmp/screen.txt" "VGA text screen: no bootable device" "No bootable device."
has "$tmp/report.json" "report: POST codes field" '"post_codes":'

echo "seabios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
