#!/bin/sh
# run-bochs.sh GUEST.bin... -- cross-check guests on Bochs (cpu p2_klamath),
# booted from a floppy through mbboot.asm. Bochs has no exit device, so the
# result is read from the guest's PASS:/FAIL: line on port 0xE9. Needs the
# bochs, bochsbios and vgabios packages (display: rfb with timeout=0). Optional:
# QEMU (run-qemu.sh) is the reference; this is for the guests where QEMU is
# known to deviate (alignment_check, seglimits).
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v bochs >/dev/null 2>&1 || { echo "run-bochs.sh: bochs not installed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -o "$work/boot.bin" "$here/mbboot.asm" || exit 1
pass=0; fail=0
for bin in "$@"; do
    name=$(basename "$bin" .bin)
    img="$work/$name.img"
    dd if=/dev/zero of="$img" bs=512 count=2880 status=none
    dd if="$work/boot.bin" of="$img" conv=notrunc status=none
    dd if="$bin" of="$img" bs=512 seek=1 conv=notrunc status=none
    cat > "$work/bochsrc" <<RC
megs: 32
cpu: model=p2_klamath, ips=20000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
floppya: 1_44=$img, status=inserted
boot: floppy
display_library: rfb, options="timeout=0"
port_e9_hack: enabled=1
speaker: enabled=0
plugin_ctrl: speaker=0, sb16=0, es1370=0
log: $work/bochs.log
RC
    out="$work/$name.out"
    echo c > "$work/cmds"            # Debian's bochs starts in its debugger
    bochs -q -f "$work/bochsrc" >"$out" 2>&1 <"$work/cmds" &
    pid=$!
    i=0
    while [ $i -lt 120 ]; do
        grep -aqE '^(PASS|FAIL):' "$out" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.5; i=$((i + 1))
    done
    sleep 0.2
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    [ "${VERBOSE:-0}" = 1 ] && grep -avE '^[0-9]{11,}[a-z]\[' "$out"
    if grep -aq '^PASS:' "$out"; then
        pass=$((pass + 1)); echo "ok    $name (bochs)"
    else
        fail=$((fail + 1)); echo "FAIL  $name (bochs)"
        grep -a '^FAIL' "$out" | head -3 | sed 's/^/      /'
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
