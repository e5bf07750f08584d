#!/usr/bin/env bash
# test-cli.sh BUILD -- end-to-end tests of `trapeze run`: bad input gives the
# documented status and a message naming the file or option; tiny Multiboot
# kernels assembled here with nasm exercise the exit device, the debug
# console, COM1, --append, --report, --trace, the limits and each way a run
# can end. Prints "N passed, M failed"; fails if any failed.
set -u
build=${1:-build}
trapeze="$build/trapeze"
tmp="$build/cli-test"
rm -rf "$tmp" && mkdir -p "$tmp"
pass=0; fail=0

ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; shift; for l in "$@"; do echo "      $l"; done; }

# expect NAME STATUS PATTERN -- trapeze ARGS...: the exit status must be
# STATUS and stderr must contain PATTERN (a fixed string; "" for any).
expect() {
    local name=$1 want=$2 pat=$3; shift 3
    "$trapeze" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$?
    if [ "$rc" != "$want" ]; then
        bad "$name" "exit status $rc, expected $want" "stderr: $(head -c 300 "$tmp/err")"
    elif [ -n "$pat" ] && ! grep -qF -- "$pat" "$tmp/err"; then
        bad "$name" "stderr lacks '$pat'" "stderr: $(head -c 300 "$tmp/err")"
    else
        ok "$name"
    fi
}

# kernel NAME [ORG] <<ASM -- assembles a flat Multiboot kernel (a.out kludge,
# loaded and entered at ORG, default 1 MiB) whose code is the here-document.
kernel() {
    {
        cat <<HDR
bits 32
org ${2:-0x100000}
hdr: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
     dd hdr, hdr, load_end, bss_end, start
start:
HDR
        cat
        printf '\nload_end:\nalign 16, db 0\nbss_end:\n'
    } >"$tmp/$1.asm"
    nasm -f bin -o "$tmp/$1.bin" "$tmp/$1.asm" || { bad "assemble $1"; return 1; }
}

# --- usage and bad input -------------------------------------------------
expect "--help exits 0" 0 "" --help
"$trapeze" --version | grep -q '^trapeze [0-9]' && ok "--version" || bad "--version"
"$trapeze" run --help | grep -q -- '--max-instructions' && ok "run --help lists the flags" \
    || bad "run --help lists the flags"
expect "no command" 2 "usage"
expect "unknown command" 2 "unknown command 'fly'" fly
expect "--bios missing file" 2 "--bios '$tmp/nonexistent.bin': cannot open" run --bios "$tmp/nonexistent.bin"
head -c 100000 /dev/zero >"$tmp/odd.rom"
expect "--bios wrong size" 2 "--bios '$tmp/odd.rom': 100000 bytes is not a whole number of 64 KiB" \
    run --bios "$tmp/odd.rom"
head -c 65536 /dev/zero >"$tmp/zero64k.rom"
expect "--vga-bios no signature" 2 "--vga-bios '$tmp/zero64k.rom': no option ROM signature" \
    run --bios "$tmp/zero64k.rom" --vga-bios "$tmp/zero64k.rom"
expect "--vga-bios wrong size" 2 "--vga-bios '$tmp/odd.rom': 100000 bytes is not a whole number of 512-byte blocks" \
    run --bios "$tmp/zero64k.rom" --vga-bios "$tmp/odd.rom"
expect "missing kernel file" 2 "$tmp/nonexistent.bin: cannot open" run --kernel "$tmp/nonexistent.bin"
: >"$tmp/empty.bin"
expect "empty kernel file" 2 "$tmp/empty.bin: file is empty" run --kernel "$tmp/empty.bin"
head -c 10000 /dev/zero | tr '\0' 'x' >"$tmp/text.bin"
expect "not a bootable kernel" 2 "$tmp/text.bin: not a Multiboot kernel or a Linux bzImage" run --kernel "$tmp/text.bin"
expect "kernel is a directory" 2 "$tmp: not a regular file" run --kernel "$tmp"
# Disk and CD images: refused before the machine starts, naming the file.
: >"$tmp/empty.img"
expect "--hda empty image" 2 "$tmp/empty.img: empty disk image" run --hda "$tmp/empty.img"
head -c 1000 /dev/zero >"$tmp/short.img"
expect "--hda truncated image" 2 "$tmp/short.img: disk image size 1000 is not a multiple of 512" \
    run --hda "$tmp/short.img"
expect "--hda missing image" 2 "$tmp/nonexistent.img: cannot open disk image" run --hda "$tmp/nonexistent.img"
expect "--hda directory" 2 "$tmp: disk image is not a regular file or block device" run --hda "$tmp"
: >"$tmp/empty.iso"
expect "--cdrom empty image" 2 "$tmp/empty.iso: empty CD-ROM image" run --cdrom "$tmp/empty.iso"
head -c 4096 /dev/zero >"$tmp/short.iso"
head -c 512 /dev/zero >>"$tmp/short.iso"
expect "--cdrom truncated ISO" 2 "$tmp/short.iso: CD-ROM image size 4608 is not a multiple of 2048" \
    run --cdrom "$tmp/short.iso"
expect "--cdrom missing image" 2 "$tmp/nonexistent.iso: cannot open CD-ROM image" run --cdrom "$tmp/nonexistent.iso"

kernel ok <<'ASM'
    mov al, 'o'
    out 0xe9, al
    mov al, 'k'
    out 0xe9, al
    mov al, 0x10
    out 0xf4, al
    hlt
ASM
k="$tmp/ok.bin"
expect "unknown option" 2 "unknown option '--frobnicate'" run --kernel "$k" --frobnicate
expect "unknown short option" 2 "unknown option '-z'" run --kernel "$k" -z
expect "option without value" 2 "option '--memory' needs a value" run --kernel "$k" --memory
expect "--memory not a number" 2 "--memory 'lots'" run --kernel "$k" --memory lots
expect "--display bad value" 2 "--display 'bogus': expected sdl, none or auto" \
    run --kernel "$k" --display bogus
DISPLAY= WAYLAND_DISPLAY= expect "--display sdl without a display" 2 "--display sdl: no display" \
    run --kernel "$k" --display sdl
expect "--memory too small" 2 "--memory '1'" run --kernel "$k" -m 1
expect "--memory too large" 2 "--memory '99999'" run --kernel "$k" -m 99999
expect "--memory negative" 2 "--memory '-4'" run --kernel "$k" -m -4
expect "--timeout not a number" 2 "--timeout 'soon'" run --kernel "$k" --timeout soon
expect "--timeout zero" 2 "--timeout '0'" run --kernel "$k" --timeout 0
expect "--max-instructions zero" 2 "--max-instructions '0'" run --kernel "$k" --max-instructions 0
expect "--max-instructions junk" 2 "--max-instructions '12x'" run --kernel "$k" --max-instructions 12x
expect "stray argument" 2 "unexpected argument 'extra'" run --kernel "$k" extra
expect "--serial bad spec" 2 "--serial: 'tty' is not" run --kernel "$k" --serial tty
expect "--debugcon unwritable" 2 "/nonexistent/dir/log" run --kernel "$k" --debugcon file:/nonexistent/dir/log
expect "--serial and --debugcon same file" 2 "same file" run --kernel "$k" --serial "file:$tmp/x" --debugcon "file:$tmp/x"
expect "--report unwritable" 2 "--report: cannot open '/nonexistent/r.json'" run --kernel "$k" --report /nonexistent/r.json
expect "--trace unwritable" 2 "--trace: cannot open '/nonexistent/t.txt'" run --kernel "$k" --trace /nonexistent/t.txt
kernel toohigh 0x1ff000 <<'ASM'
    hlt
    times 8192 db 0
ASM
expect "image beyond RAM" 2 "beyond the end of RAM" run --kernel "$tmp/toohigh.bin" -m 2

# --- runs ------------------------------------------------------------------
expect "exit device: status 33" 33 "" run --kernel "$k" --debugcon "file:$tmp/ok.log" \
    --report "$tmp/ok.json" --trace "$tmp/ok.trace" --serial none
[ "$(cat "$tmp/ok.log" 2>/dev/null)" = "ok" ] && ok "debugcon output" \
    || bad "debugcon output" "got '$(head -c 100 "$tmp/ok.log" 2>/dev/null)'"
if python3 -m json.tool "$tmp/ok.json" >/dev/null 2>&1; then
    ok "--report is valid JSON"
    if python3 - "$tmp/ok.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_status"] == 33 and r["end_reason"] == "exit_device", r
assert r["instructions_retired"] == 6, r["instructions_retired"]
assert r["wall_time_s"] >= 0 and "mips" in r
v = r["vms"][0]
assert v["exit_value"] == 16 and v["exit_status"] == 33 and v["debugcon_bytes"] == 2, v
PY
    then ok "--report fields"; else bad "--report fields"; fi
else
    bad "--report is valid JSON" "$(head -c 300 "$tmp/ok.json" 2>/dev/null)"
fi
if [ "$(wc -l <"$tmp/ok.trace")" = 6 ] &&
   grep -q '^0008:00100022  e6 e9  *out 0xE9, al  *EAX=2badb06f EBX=00009000 ' "$tmp/ok.trace" &&
   grep -q 'EFLAGS=00000002$' "$tmp/ok.trace"; then
    ok "--trace: one line per instruction with disassembly and registers"
else
    bad "--trace" "$(head -3 "$tmp/ok.trace" 2>/dev/null)"
fi
expect "debugcon to stdout by default" 33 "" run --kernel "$k"
[ "$(cat "$tmp/out")" = "ok" ] && ok "debugcon stdout content" \
    || bad "debugcon stdout content" "got '$(head -c 100 "$tmp/out")'"

kernel serial <<'ASM'
    mov dx, 0x3fd          ; LSR: THRE must be set for polled output
.w: in al, dx
    test al, 0x20
    jz .w
    mov dx, 0x3f8
    mov al, 'S'
    out dx, al
    mov al, 10
    out dx, al
    mov al, 0x10
    out 0xf4, al
ASM
expect "serial kernel" 33 "" run --kernel "$tmp/serial.bin" --serial "file:$tmp/serial.out"
[ "$(cat "$tmp/serial.out" 2>/dev/null)" = "S" ] && ok "COM1 output" \
    || bad "COM1 output" "got '$(cat "$tmp/serial.out" 2>/dev/null)'"

kernel cmdline <<'ASM'
    cmp eax, 0x2BADB002
    jne .bad
    test dword [ebx], 1 << 2     ; cmdline present
    jz .bad
    mov esi, [ebx + 16]
.l: lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp .l
.done:
    mov al, 0x10
    out 0xf4, al
.bad:
    mov al, 0x11
    out 0xf4, al
ASM
expect "--append reaches the command line" 33 "" run --kernel "$tmp/cmdline.bin" \
    --append "hello world" --debugcon "file:$tmp/cmdline.log"
[ "$(cat "$tmp/cmdline.log" 2>/dev/null)" = "$tmp/cmdline.bin hello world" ] && ok "command line = path + append" \
    || bad "command line = path + append" "got '$(cat "$tmp/cmdline.log" 2>/dev/null)'"

kernel exitval <<'ASM'
    mov eax, 0x7f
    out 0xf4, eax
ASM
expect "exit device value 0x7f: status 255" 255 "" run --kernel "$tmp/exitval.bin"

kernel halt <<'ASM'
    cli
    hlt
ASM
expect "halt with interrupts off: status 4" 4 "halted with interrupts disabled" run --kernel "$tmp/halt.bin"
kernel idle <<'ASM'
    sti
    hlt
ASM
expect "halt with interrupts on: status 4" 4 "halted with interrupts enabled" run --kernel "$tmp/idle.bin"

kernel loop <<'ASM'
.l: jmp .l
ASM
expect "instruction limit: status 10" 10 "instruction limit" run --kernel "$tmp/loop.bin" \
    --max-instructions 1000 --report "$tmp/loop.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["instructions_retired"]==1000 and r["end_reason"]=="instruction_limit", r' \
    "$tmp/loop.json" 2>/dev/null && ok "instruction limit is exact" || bad "instruction limit is exact"
expect "timeout: status 8" 8 "time limit" run --kernel "$tmp/loop.bin" --timeout 0.2
"$trapeze" run --kernel "$tmp/loop.bin" --timeout 30 2>"$tmp/sigint.err" &
pid=$!
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] && grep -q "interrupted by a signal" "$tmp/sigint.err" && ok "SIGINT: status 130" \
    || bad "SIGINT: status 130" "exit status $rc: $(cat "$tmp/sigint.err")"

"$trapeze" run --kernel "$tmp/loop.bin" --trace-exits "$tmp/x.txt" >/dev/null 2>"$tmp/xe.err"
rc=$?
[ "$rc" = 2 ] && grep -q "there are no exits in emulate mode" "$tmp/xe.err" && ok "--trace-exits in emulate mode: status 2" \
    || bad "--trace-exits in emulate mode: status 2" "exit $rc: $(cat "$tmp/xe.err")"

# Live statistics: SIGUSR1 (every VM) and Ctrl-A s (the serial console's VM)
# print a block on stderr; the run goes on to its own end.
"$trapeze" run --kernel "$tmp/loop.bin" --mode vmm --timeout 30 --serial none 2>"$tmp/usr1.err" &
pid=$!
sleep 0.3
kill -USR1 "$pid"
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] && grep -q "^trapeze: vm0: statistics (vmm mode, [0-9]* instructions" "$tmp/usr1.err" &&
    grep -q "^  top mnemonics: JMP [1-9]" "$tmp/usr1.err" && grep -q "^  exits: total" "$tmp/usr1.err" &&
    ok "SIGUSR1: statistics on stderr, the run goes on" \
    || bad "SIGUSR1: statistics on stderr, the run goes on" "exit status $rc: $(cat "$tmp/usr1.err")"
"$trapeze" run --threads 2 --timeout 30 --vm "name=one,kernel=$tmp/loop.bin,serial=none" \
    --vm "name=two,kernel=$tmp/loop.bin,mode=trap,serial=none" 2>"$tmp/usr1m.err" &
pid=$!
sleep 0.3
kill -USR1 "$pid"
sleep 0.3
kill -INT "$pid"
wait "$pid"
[ "$(grep -c -e '^trapeze: one: statistics (emulate mode' -e '^trapeze: two: statistics (trap mode' "$tmp/usr1m.err")" = 2 ] &&
    ok "SIGUSR1 with two VMs: each prints its statistics" \
    || bad "SIGUSR1 with two VMs: each prints its statistics" "$(cat "$tmp/usr1m.err")"
(printf 'ab\001s'; sleep 0.5; printf '\001x') |
    "$trapeze" run --kernel "$tmp/loop.bin" --timeout 30 --serial stdio >/dev/null 2>"$tmp/ctrlas.err"
rc=$?
[ "$rc" = 0 ] && grep -q "^trapeze: vm0: statistics (emulate mode" "$tmp/ctrlas.err" &&
    ok "Ctrl-A s: statistics on stderr, then Ctrl-A x ends the run" \
    || bad "Ctrl-A s: statistics on stderr, then Ctrl-A x ends the run" "exit $rc: $(cat "$tmp/ctrlas.err")"

kernel triple <<'ASM'
    lidt [idtr]
    ud2                 ; #UD -> no IDT entry -> #GP -> #DF -> shutdown
idtr: dw 0
      dd 0
ASM
expect "triple fault: status 6" 6 "triple fault" run --kernel "$tmp/triple.bin"

# An ELF kernel linked high (0xC0100000) and loaded at 1 MiB through p_paddr.
if command -v ld >/dev/null; then
    cat >"$tmp/elf.asm" <<'ASM'
bits 32
section .mbhdr progbits alloc
align 4
    dd 0x1BADB002, 0, -0x1BADB002
section .text
global start
start:
    mov al, 'E'
    out 0xe9, al
    mov al, 0x10
    out 0xf4, al
ASM
    cat >"$tmp/elf.ld" <<'LD'
ENTRY(start)
SECTIONS {
  . = 0xC0100000;
  .text : AT(0x100000) { *(.mbhdr) *(.text) }
}
LD
    if nasm -f elf32 -o "$tmp/elf.o" "$tmp/elf.asm" &&
       ld -m elf_i386 -T "$tmp/elf.ld" -o "$tmp/elf.elf" "$tmp/elf.o"; then
        expect "ELF kernel linked high, loaded low" 33 "" run --kernel "$tmp/elf.elf" --debugcon "file:$tmp/elf.log"
        [ "$(cat "$tmp/elf.log" 2>/dev/null)" = "E" ] && ok "ELF kernel output" || bad "ELF kernel output"
    else
        bad "building the ELF kernel"
    fi
fi

# --- trapeze classify --------------------------------------------------
"$trapeze" --help | grep -q 'trapeze classify' && ok "--help mentions classify" || bad "--help mentions classify"
if "$trapeze" classify --format json >"$tmp/classify.json" 2>"$tmp/err" &&
   python3 -m json.tool "$tmp/classify.json" >/dev/null; then
    ok "classify --format json parses"
else
    bad "classify --format json parses" "$(head -c 300 "$tmp/err")"
fi
if python3 - "$tmp/classify.json" >"$tmp/out" 2>&1 <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) > 400, "one object per form"
names = {"privileged", "iopl", "control-sensitive", "behaviour-sensitive"}
for r in rows:
    for k in ("mnemonic", "opcode", "operands", "classes", "critical", "reason"):
        assert k in r, "%r lacks %s" % (r, k)
    assert r["mnemonic"] == r["mnemonic"].upper()
    assert set(r["classes"]) <= names, r
    assert isinstance(r["critical"], bool)
    assert bool(r["classes"] or r["iopl_v86"]) == bool(r["reason"]), r
sgdt = [r for r in rows if r["mnemonic"] == "SGDT"]
assert len(sgdt) == 1 and sgdt[0]["opcode"] == "0F 01 /0" and sgdt[0]["operands"] == "Ms", sgdt
assert sgdt[0]["classes"] == ["behaviour-sensitive"] and sgdt[0]["critical"] is True, sgdt
assert "GDTR" in sgdt[0]["reason"], sgdt
lgdt = [r for r in rows if r["mnemonic"] == "LGDT"][0]
assert "privileged" in lgdt["classes"] and not lgdt["critical"], lgdt
PY
then ok "classify json: keys, classes, SGDT and LGDT rows"; else bad "classify json: keys, classes, SGDT and LGDT rows" "$(tail -3 "$tmp/out")"; fi
"$trapeze" classify --format markdown | grep -q '^| 0F 01 /0 | SGDT | Ms |' && ok "classify --format markdown" \
    || bad "classify --format markdown"
"$trapeze" classify | grep -q '^0F 01 /0 *SGDT' && ok "classify text table" || bad "classify text table"
"$trapeze" classify --bytes "0f 01 06 00 10" --mode pm16 --cpl 1 >"$tmp/out" 2>&1 &&
    grep -q 'SGDT' "$tmp/out" && grep -q 'critical here' "$tmp/out" && ok "classify --bytes SGDT at CPL 1" \
    || bad "classify --bytes SGDT at CPL 1" "$(cat "$tmp/out")"
"$trapeze" classify --bytes "0f 01 15 00 10 00 00" --mode pm32 --cpl 1 --format json >"$tmp/out" 2>&1 &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mnemonic"]=="LGDT" and d["outcome"]=="#GP(0)", d' "$tmp/out" \
    && ok "classify --bytes LGDT json: #GP(0)" || bad "classify --bytes LGDT json: #GP(0)" "$(cat "$tmp/out")"
expect "classify bad --mode" 2 "--mode: expected real, pm16, pm32 or v86" classify --bytes fa --mode long
expect "classify bad --bytes" 2 "--bytes: expected" classify --bytes "0g"
expect "classify truncated --bytes" 2 "continues past the bytes given" classify --bytes "0f 01"
expect "classify real mode at CPL 3" 2 "real-address mode runs at CPL 0" classify --bytes fa --mode real --cpl 3

# classify --report: the sensitive instructions of a real run, from its report
kernel sens <<'ASM'
    mov esp, 0x90000
    mov ecx, 100
.l: pushf
    popf
    loop .l
    sgdt [gdtr]
    sidt [gdtr]
    mov al, 0x10
    out 0xf4, al
gdtr: dd 0, 0
ASM
"$trapeze" run --kernel "$tmp/sens.bin" --mode vmm --serial none --debugcon none \
    --report "$tmp/sens.json" >/dev/null 2>&1
"$trapeze" classify --report "$tmp/sens.json" --top 5 >"$tmp/out" 2>&1 &&
    grep -q '^vm0 (vmm mode): [0-9]* instructions, 203 sensitive' "$tmp/out" &&
    grep -q '^ *1 9C *PUSHF Fv *100 .* yes *behaviour-sensitive' "$tmp/out" &&
    grep -q "^ *[345] 0F 01 /0 *SGDT Ms *1 " "$tmp/out" && grep -q 'exits: total 203, critical_insn 202, io 1' "$tmp/out" &&
    ok "classify --report: top sensitive forms of a run, with classes and exits" \
    || bad "classify --report: top sensitive forms of a run, with classes and exits" "$(cat "$tmp/out")"
"$trapeze" classify --report "$tmp/sens.json" --format json >"$tmp/out" 2>&1 &&
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["vm0"]; assert v["mode"]=="vmm" and v["critical"]==202 and v["top"][0]["mnemonic"]=="PUSHF" and v["top"][0]["critical"], v' "$tmp/out" &&
    ok "classify --report --format json" || bad "classify --report --format json" "$(head -20 "$tmp/out")"
"$trapeze" classify --report "$tmp/sens.json" --format markdown | grep -q '^| 1 | 9C | PUSHF Fv | 100 |' &&
    ok "classify --report --format markdown" || bad "classify --report --format markdown"
echo '{"vms": 3}' >"$tmp/notreport.json"
expect "classify --report: not a run report" 1 "not a trapeze run report" classify --report "$tmp/notreport.json"
echo '{"vms": [' >"$tmp/broken.json"
expect "classify --report: broken JSON" 1 "not valid JSON" classify --report "$tmp/broken.json"
expect "classify --report: missing file" 1 "cannot open" classify --report "$tmp/missing.json"
expect "classify --report with --bytes" 2 "do not mix" classify --report "$tmp/sens.json" --bytes fa

echo "cli tests: $pass passed, $fail failed"
[ "$fail" = 0 ]
