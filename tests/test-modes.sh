#!/usr/bin/env bash
# test-modes.sh BUILD -- the execution modes (--mode emulate|trap|vmm) on the
# bare-metal guests: emulate is the baseline; trap mode shows exactly the
# critical-instruction divergences of classic trap-and-emulate on x86; vmm
# mode runs the same guests correctly and counts its exits in the report.
# Prints one line per check and "modes: N passed, M failed".
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
out="$build/modes"
mkdir -p "$out"
sh "$here/guests/build.sh" "$out" || { echo "test-modes: building the guests failed" >&2; exit 1; }

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/      /'; }

# run GUEST MODE: runs one guest, leaves NAME-MODE.{log,json,stderr}; sets rc.
run() {
    local g=$1 m=$2
    "$trapeze" run --kernel "$out/$g.bin" --mode "$m" --debugcon "file:$out/$g-$m.log" \
        --serial none --report "$out/$g-$m.json" --timeout 60 --max-instructions 50000000 \
        </dev/null 2>"$out/$g-$m.stderr"
    rc=$?
}
# json FILE EXPR: evaluates a Python expression on the first VM's report object.
json() {
    python3 -c "import json,sys; v=json.load(open(sys.argv[1]))['vms'][0]; print($2)" "$1"
}

# --- the flag ---------------------------------------------------------------
"$trapeze" run --kernel "$out/smoke.bin" --mode bogus >/dev/null 2>"$out/err"
[ $? = 2 ] && grep -q "expected emulate, trap, vmm" "$out/err" && ok "--mode bogus is a usage error" \
    || bad "--mode bogus is a usage error" "$(cat "$out/err")"
"$trapeze" run --mode trap --debugcon none --serial none >/dev/null 2>"$out/err"
[ $? = 2 ] && grep -q "needs --kernel" "$out/err" && ok "--mode trap without --kernel is refused" \
    || bad "--mode trap without --kernel is refused" "$(cat "$out/err")"
"$trapeze" run --mode paravirt --debugcon none --serial none >/dev/null 2>"$out/err"
[ $? = 2 ] && grep -q "needs --kernel" "$out/err" && ok "--mode paravirt without --kernel is refused" \
    || bad "--mode paravirt without --kernel is refused" "$(cat "$out/err")"

# --- emulate: the architectural values, statistics in the report -----------
run critical emulate
if [ "$rc" = 33 ] && ! grep -q DIVERGES "$out/critical-emulate.log"; then
    ok "emulate: critical sees every architectural value"
else
    bad "emulate: critical sees every architectural value" "$(grep -a DIVERGES "$out/critical-emulate.log"; echo "exit $rc")"
fi
r=$(json "$out/critical-emulate.json" "v['mode'], v['exits']['total'], v['instructions_by_class']['critical'] > 10, v['instructions_by_mnemonic']['SGDT'], sum(v['instructions_by_mnemonic'].values()) >= v['instructions_retired']")
[ "$r" = "emulate 0 True 1 True" ] && ok "emulate: report has mode, classes, mnemonics, no exits" \
    || bad "emulate: report has mode, classes, mnemonics, no exits" "got: $r"

# --- trap: exactly the expected divergences --------------------------------
# Ring compression shows through every critical instruction but VERR/VERW
# (a DPL-0 segment compressed to DPL 1 stays accessible from ring 1) and the
# SIDT limit (the VMM's IDT has 256 gates too).
expected="LAR KDATA
LSL KDATA
MOV r,CS
MOV r,SS
PUSH CS
PUSHF IF after CLI
PUSHF IF after POPF cleared it
PUSHF IOPL after POPF set 3
SGDT base
SGDT limit
SIDT base
SLDT
SMSW
STR
far CALL pushed CS"
run critical trap
seen=$(sed -n 's/^OBSERVE \(.*\): got .* -- DIVERGES$/\1/p' "$out/critical-trap.log" | sort)
if [ "$rc" = 35 ] && [ "$seen" = "$expected" ]; then
    ok "trap: critical shows exactly the 15 expected divergences"
else
    bad "trap: critical shows exactly the 15 expected divergences" \
        "exit $rc; diff expected/seen:
$(diff <(echo "$expected") <(echo "$seen"))"
fi
r=$(json "$out/critical-trap.json" "v['mode'], v['exits']['critical_insn'], v['exits']['privileged_insn'] > 0, v['exits']['iopl_insn'] > 0, v['exits']['io'] > 0, v['exits']['ring_compression_fault'] > 0")
[ "$r" = "trap 0 True True True True" ] && ok "trap: privileged, IOPL, I/O and compression exits counted; no critical exits" \
    || bad "trap: privileged, IOPL, I/O and compression exits counted; no critical exits" "got: $r"
grep -q "SGDT base: got FFC00000" "$out/critical-trap.log" && ok "trap: SGDT reveals the VMM's GDT at 0xFFC00000" \
    || bad "trap: SGDT reveals the VMM's GDT at 0xFFC00000"

# --- --trace-exits: every exit, and trap mode's critical instructions observed
"$trapeze" run --kernel "$out/critical.bin" --mode trap --debugcon "file:$out/critical-trapx.log" \
    --serial none --trace-exits "$out/critical-trap.exits" </dev/null 2>/dev/null
rc=$?
if [ "$rc" = 35 ] && cmp -s "$out/critical-trap.log" "$out/critical-trapx.log"; then
    ok "trap --trace-exits: observing critical instructions changes nothing the guest sees"
else
    bad "trap --trace-exits: observing critical instructions changes nothing the guest sees" "exit $rc"
fi
r=$(for m in SGDT SIDT SLDT STR SMSW PUSHF POPF LAR LSL; do
        grep " critical_native [0-9a-f:]* cpl=0 $m bytes=" "$out/critical-trap.exits" |
            grep -q -v -e "diverges=none" -e "diverges=event" || echo "$m"
    done | tr '\n' ' ')
[ -z "$r" ] && ok "trap --trace-exits: SGDT SIDT SLDT STR SMSW PUSHF POPF LAR LSL are logged as diverging" \
    || bad "trap --trace-exits: SGDT SIDT SLDT STR SMSW PUSHF POPF LAR LSL are logged as diverging" "not diverging: $r"
r=$(grep -c " privileged_insn [0-9a-f:]* cpl=0 [A-Z]* bytes=[0-9a-f]* vector=13 err=0$" "$out/critical-trap.exits")
[ "$r" -gt 0 ] && ok "trap --trace-exits: privileged instructions' exits logged with their #GP" \
    || bad "trap --trace-exits: privileged instructions' exits logged with their #GP" "$r lines"

# --- vmm: the same guest correct, critical exits counted -------------------
run critical vmm
if [ "$rc" = 33 ] && ! grep -q DIVERGES "$out/critical-vmm.log"; then
    ok "vmm: critical sees every architectural value"
else
    bad "vmm: critical sees every architectural value" "$(grep -a DIVERGES "$out/critical-vmm.log"; echo "exit $rc")"
fi
r=$(json "$out/critical-vmm.json" "v['mode'], v['exits']['critical_insn'] >= 20, v['exits']['critical_insn'] <= v['instructions_by_class']['critical']")
[ "$r" = "vmm True True" ] && ok "vmm: critical instructions exit and are counted" \
    || bad "vmm: critical instructions exit and are counted" "got: $r"

# Guests that run at ring 0 (and ring 3) without paging, real mode or V86
# pass unmodified in vmm mode; the simplest of them in trap mode too.
for g in smoke alignment_check gates_priv iobitmap misc_insns seglimits sysenter tasks reset x87; do
    run "$g" vmm
    [ "$rc" = 33 ] && ok "vmm: $g passes" || bad "vmm: $g passes" "exit $rc; $(grep -a FAIL "$out/$g-vmm.log" | head -2)"
done
for g in smoke reset; do
    run "$g" trap
    [ "$rc" = 33 ] && ok "trap: $g passes" || bad "trap: $g passes" "exit $rc"
done

# x87 in trap mode: FNSAVE runs natively and stores the real CS (RPL 1) as FCS.
run x87 trap
[ "$rc" = 35 ] && grep -q "FAIL: FSAVE image: FCS: got 00000009, expected 00000008" "$out/x87-trap.log" &&
    ok "trap: x87's FNSAVE shows FCS with RPL 1 (the memory form of DD /6 is critical)" \
    || bad "trap: x87's FNSAVE shows FCS with RPL 1 (the memory form of DD /6 is critical)" "exit $rc; $(grep -a FAIL "$out/x87-trap.log" | head -2)"

# --- interrupts and the timer, virtualized ----------------------------------
for m in trap vmm; do
    run timer_irq $m
    r=$(json "$out/timer_irq-$m.json" "v['exits']['external_interrupt'] > 0")
    [ "$rc" = 33 ] && [ "$r" = True ] && ok "$m: timer_irq passes with virtual interrupts injected" \
        || bad "$m: timer_irq passes with virtual interrupts injected" "exit $rc, external_interrupt exits > 0: $r"
done

# --- shadow paging ----------------------------------------------------------
# Paging guests run on the VMM's shadow page tables in both deprivileged
# modes; the report counts shadow page faults (fills, emulated page-table
# writes) apart from the guest's own page faults (reflected).
for m in trap vmm; do
    for g in paging string_pf cr3_switch; do
        run "$g" $m
        [ "$rc" = 33 ] && ok "$m: $g passes on shadow paging" \
            || bad "$m: $g passes on shadow paging" "exit $rc; $(grep -a FAIL "$out/$g-$m.log" | head -2; head -2 "$out/$g-$m.stderr")"
    done
    r=$(json "$out/paging-$m.json" "v['exits']['guest_page_fault'], v['exits']['shadow_page_fault'] > 0, v['exits']['shadow_emulation'] > 0")
    [ "$r" = "13 True True" ] && ok "$m: paging: 13 guest page faults reflected, shadow faults counted apart" \
        || bad "$m: paging: 13 guest page faults reflected, shadow faults counted apart" "got: $r"
    r=$(json "$out/cr3_switch-$m.json" "v['exits']['guest_page_fault'], v['exits']['shadow_page_fault'] > 0")
    [ "$r" = "5 True" ] && ok "$m: cr3_switch: 5 guest page faults reflected across two address spaces" \
        || bad "$m: cr3_switch: 5 guest page faults reflected across two address spaces" "got: $r"
done
r=$(json "$out/smoke-vmm.json" "v['exits']['shadow_page_fault'], v['exits']['guest_page_fault']")
[ "$r" = "0 0" ] && ok "vmm: a guest without paging runs on the identity shadow without page faults" \
    || bad "vmm: a guest without paging runs on the identity shadow without page faults" "got: $r"

# --- what is not virtualized stops the guest by name -----------------------
run realmode_switch vmm
[ "$rc" = 14 ] && grep -q "real mode is not virtualized" "$out/realmode_switch-vmm.stderr" \
    && ok "vmm: a guest clearing CR0.PE is stopped with a message (exit 14)" \
    || bad "vmm: a guest clearing CR0.PE is stopped with a message (exit 14)" "exit $rc"
run v86 vmm
[ "$rc" = 14 ] && grep -q "virtual-8086 mode: not virtualized" "$out/v86-vmm.stderr" \
    && ok "vmm: a guest entering V86 mode is stopped with a message (exit 14)" \
    || bad "vmm: a guest entering V86 mode is stopped with a message (exit 14)" "exit $rc"

echo "modes: $pass passed, $fail failed"
[ "$fail" = 0 ]
