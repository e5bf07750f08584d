#!/usr/bin/env bash
# test-snapshot.sh BUILD -- --save-state / --load-state (vmm/snapshot.c):
# a run stopped at --max-instructions N and saved, then resumed from the
# file in a new process, must print the same console output and retire the
# same instructions as an uninterrupted run (--deterministic): bare-metal
# guests (timer and RTC interrupts; the x87 in vmm mode; shadow paging),
# SeaBIOS's POST (VGA, PCI BARs, IDE probing, the screen it draws), and
# Debian's Linux in emulate and in vmm mode. Damaged files are refused with
# a message, never a crash. Prints one line per check and
# "snapshot: N passed, M failed".
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
out="$build/snapshot"
rm -rf "$out" && mkdir -p "$out"
sh "$here/guests/build.sh" "$out/guests" || { echo "test-snapshot: building the guests failed"; exit 1; }
G=$out/guests
pass=0; fail=0
check() { # NAME GOT WANT [DETAIL]
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
    else fail=$((fail + 1)); echo "FAIL  $1"; echo "      got: $2"; echo "      want: $3"
        [ -n "${4:-}" ] && echo "$4" | sed 's/^/      /'; fi
}
icount() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['instructions_retired'])" "$1"; }

# split NAME N CONSOLE-FLAG ARGS...: a full run, and a run saved at N and
# resumed; compares the console (CONSOLE-FLAG is --serial or --debugcon,
# the other goes nowhere) and the instruction counts.
split() {
    local name=$1 n=$2 con=$3; shift 3
    local other=--debugcon
    [ "$con" = --debugcon ] && other=--serial
    "$trapeze" run "$@" --deterministic $other none $con "file:$out/$name-full.log" \
        --report "$out/$name-full.json" </dev/null >/dev/null 2>"$out/$name-full.err"
    local rf=$?
    "$trapeze" run "$@" --deterministic $other none $con "file:$out/$name-a.log" \
        --max-instructions "$n" --save-state "$out/$name.snap" </dev/null >/dev/null 2>"$out/$name-a.err"
    local ra=$?
    "$trapeze" run "$@" --deterministic $other none $con "file:$out/$name-b.log" \
        --load-state "$out/$name.snap" --report "$out/$name-b.json" </dev/null >/dev/null 2>"$out/$name-b.err"
    local rb=$?
    local same=no
    cat "$out/$name-a.log" "$out/$name-b.log" | cmp -s - "$out/$name-full.log" && same=yes
    check "$name: saved at $n (status 10), resumed to the uninterrupted run's end, console and instruction count" \
        "$ra $rb $same $(icount "$out/$name-b.json" 2>/dev/null)" "10 $rf yes $(icount "$out/$name-full.json" 2>/dev/null)" \
        "$(cat "$out/$name-a.err" "$out/$name-b.err")"
}

split timer 1000000 --debugcon --kernel "$G/timer_irq.bin"
split x87-vmm 3000 --debugcon --kernel "$G/x87.bin" --mode vmm
split cr3-trap 4000 --debugcon --kernel "$G/cr3_switch.bin" --mode trap
split paging-vmm 3000 --debugcon --kernel "$G/paging.bin" --mode vmm

# SeaBIOS's POST: VGA BIOS, PCI, IDE probing, the screen it draws, up to
# the reset it asks for after its boot attempt (--no-reboot: status 12).
"$trapeze" run --deterministic --serial none --debugcon none --no-reboot \
    --screen-text "$out/bios-full.txt" --report "$out/bios-full.json" </dev/null >/dev/null 2>&1
"$trapeze" run --deterministic --serial none --debugcon none --no-reboot --max-instructions 3000000 \
    --save-state "$out/bios.snap" </dev/null >/dev/null 2>"$out/bios-a.err"
"$trapeze" run --deterministic --serial none --debugcon none --no-reboot \
    --load-state "$out/bios.snap" --screen-text "$out/bios-b.txt" --report "$out/bios-b.json" \
    </dev/null >/dev/null 2>"$out/bios-b.err"
check "SeaBIOS: saved mid-POST, resumed to its reset: the same screen and instruction count" \
    "$(cmp -s "$out/bios-full.txt" "$out/bios-b.txt" && echo same) $(grep -c 'No bootable device' "$out/bios-b.txt") $(icount "$out/bios-b.json" 2>/dev/null)" \
    "same 1 $(icount "$out/bios-full.json" 2>/dev/null)" "$(cat "$out/bios-a.err" "$out/bios-b.err")"

# Debian's Linux, to its unattended session's power-off, in both modes (the
# two run side by side).
img=$build/images
if [ -f "$img/vmlinuz" ]; then
    L=(--kernel "$img/vmlinuz" --initrd "$img/initramfs.cpio.gz" --append "console=ttyS0,115200 trapeze_auto=1")
    split linux-emulate 2500000000 --serial "${L[@]}" >"$out/linux-emulate.result" &
    split linux-vmm 2500000000 --serial "${L[@]}" --mode vmm >"$out/linux-vmm.result" &
    wait
    for m in emulate vmm; do
        cat "$out/linux-$m.result"
        grep -q '^ok ' "$out/linux-$m.result" && pass=$((pass + 1)) || fail=$((fail + 1))
    done
else
    check "Linux images present (make images)" missing present
fi

# Damaged and mismatched files: a message naming the file, status 2, no crash.
snap=$out/timer.snap
bad() { # NAME FILE WANT-IN-MESSAGE [ARGS]
    local name=$1 f=$2 want=$3; shift 3
    "$trapeze" run --kernel "$G/timer_irq.bin" --deterministic --serial none --debugcon none \
        --load-state "$f" "$@" </dev/null >/dev/null 2>"$out/bad.err"
    local r=$?
    check "refused: $name" "$r $(grep -c -F -- "--load-state $f: $want" "$out/bad.err")" "2 1" "$(cat "$out/bad.err")"
}
bad "a missing file" "$out/none.snap" "cannot open"
head -c 20 "$snap" >"$out/short.snap"; bad "shorter than the header" "$out/short.snap" "not a trapeze snapshot"
cp "$snap" "$out/magic.snap"
printf 'XXXXXXXX' | dd of="$out/magic.snap" bs=1 conv=notrunc 2>/dev/null
bad "bad magic" "$out/magic.snap" "not a trapeze snapshot (bad magic)"
python3 - "$snap" "$out/version.snap" <<'PY'
import sys, struct, zlib
d = bytearray(open(sys.argv[1], "rb").read())
d[8:12] = struct.pack("<I", 3)
d[44:48] = struct.pack("<I", zlib.crc32(bytes(d[:44])))
open(sys.argv[2], "wb").write(d)
PY
bad "a newer format version" "$out/version.snap" "format version 3"
head -c -100 "$snap" >"$out/trunc.snap"; bad "truncated data" "$out/trunc.snap" "truncated"
bad "another memory size" "$snap" "taken with another memory size" -m 64
"$trapeze" run --kernel "$G/smoke.bin" --deterministic --serial none --debugcon none \
    --load-state "$snap" </dev/null >/dev/null 2>"$out/bad.err"
check "refused: another kernel" "$? $(grep -c 'taken with another kernel' "$out/bad.err")" "2 1"

# Fuzzing: random damage to a real snapshot never crashes and is reported.
python3 - "$snap" "$out/fuzz" <<'PY'
import os, random, sys
random.seed(1234)
d = open(sys.argv[1], "rb").read()
os.makedirs(sys.argv[2], exist_ok=True)
for k in range(60):
    b = bytearray(d)
    kind = k % 4
    if kind == 0:    # flipped bits anywhere
        for _ in range(random.randint(1, 8)):
            i = random.randrange(len(b)); b[i] ^= 1 << random.randrange(8)
    elif kind == 1:  # the header
        i = random.randrange(48); b[i] = random.randrange(256)
    elif kind == 2:  # cut short
        b = b[:random.randrange(len(b))]
    else:            # garbage appended, or a run of bytes overwritten
        if random.random() < 0.5:
            b += random.randbytes(random.randint(1, 64))
        else:
            i = random.randrange(48, len(b)); b[i:i + 16] = random.randbytes(16)
    open(os.path.join(sys.argv[2], "f%02d.snap" % k), "wb").write(b)
PY
crashes=0; silent=0
for f in "$out"/fuzz/*.snap; do
    "$trapeze" run --kernel "$G/timer_irq.bin" --deterministic --serial none --debugcon none \
        --load-state "$f" </dev/null >/dev/null 2>"$out/fuzz.err"
    r=$?
    [ $r -ge 128 ] && crashes=$((crashes + 1))
    { [ $r != 2 ] || ! grep -q -- "--load-state $f: " "$out/fuzz.err"; } && silent=$((silent + 1))
done
check "fuzzing: 60 damaged snapshots, no crash, every one refused with a message" "$crashes $silent" "0 0"

# Ctrl-A w on the serial console saves while the run goes on (a kernel that
# loops; Ctrl-A x then ends the run, which saves again).
cat >"$out/loop.asm" <<'ASM'
bits 32
org 0x100000
hdr: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
     dd hdr, hdr, load_end, bss_end, start
start: inc eax
       jmp start
load_end:
bss_end:
ASM
nasm -f bin -o "$out/loop.bin" "$out/loop.asm"
(sleep 0.5; printf '\001w'; sleep 0.5; printf '\001x') |
    "$trapeze" run --kernel "$out/loop.bin" --serial stdio --debugcon none --timeout 20 \
        --save-state "$out/key.snap" >/dev/null 2>"$out/key.err"
"$trapeze" run --kernel "$out/loop.bin" --serial none --debugcon none --max-instructions 1 \
    --load-state "$out/key.snap" </dev/null >/dev/null 2>"$out/key2.err"
r=$?
check "Ctrl-A w saves during the run (and Ctrl-A x at its end); the file loads" \
    "$(grep -c 'state saved to' "$out/key.err") $r" "2 10" "$(cat "$out/key.err" "$out/key2.err")"

echo "snapshot: $pass passed, $fail failed"
[ "$fail" = 0 ]
