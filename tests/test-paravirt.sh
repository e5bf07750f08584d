#!/usr/bin/env bash
# test-paravirt.sh BUILD -- --mode paravirt (docs/hypercalls.md) with the
# project's paravirtual kernel, tests/guests/pv/pv_kernel.asm: it does all its
# privileged work through hypercalls and checks each result itself (exit
# status 33 = PASS). This script checks what the VMM saw: the report's
# hypercall counts and exits, that nothing was emulated, determinism, and
# that a bare-metal kernel is refused with a message in this mode.
# Prints one line per check and "paravirt: N passed, M failed".
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
out="$build/paravirt"
mkdir -p "$out"
nasm -f bin -Werror -I "$here/guests/lib/" -o "$out/pv_kernel.bin" "$here/guests/pv/pv_kernel.asm" ||
    { echo "test-paravirt: assembling pv_kernel.asm failed" >&2; exit 1; }
sh "$here/guests/build.sh" "$out" || { echo "test-paravirt: building the guests failed" >&2; exit 1; }

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/      /'; }
check() { # check NAME CONDITION-EXIT-STATUS [DETAIL]
    if [ "$2" = 0 ]; then ok "$1"; else bad "$1" "${3:-}"; fi
}
json() {
    python3 -c "import json,sys; v=json.load(open(sys.argv[1]))['vms'][0]; print($2)" "$1"
}

# run NAME MODE KERNEL [ARGS]: leaves NAME.{log,json,stderr}, sets rc
run() {
    local n=$1 m=$2 k=$3; shift 3
    "$trapeze" run --kernel "$k" --mode "$m" --debugcon "file:$out/$n.log" --serial none \
        --report "$out/$n.json" --timeout 60 "$@" </dev/null 2>"$out/$n.stderr"
    rc=$?
}

run pv paravirt "$out/pv_kernel.bin"
[ "$rc" = 33 ] && grep -q '^PASS: pv_kernel' "$out/pv.log"
check "paravirt: the pv kernel passes every check of its own" $? "$(cat "$out/pv.log" "$out/pv.stderr"; echo "exit $rc")"

r=$(json "$out/pv.json" "v['mode'], v['exits']['privileged_insn'], v['exits']['critical_insn'], v['exits']['iopl_insn'], v['exits']['io']")
[ "$r" = "paravirt 0 0 0 0" ]
check "paravirt: the report shows the mode and no instruction emulated (privileged, critical, IOPL, I/O)" $? "$r"

r=$(json "$out/pv.json" "sorted(k for k, n in v['hypercalls'].items() if n == 0 and k != 'unknown')")
[ "$r" = "[]" ]
check "paravirt: every hypercall of the interface was made and counted by name" $? "never made: $r"

r=$(json "$out/pv.json" "v['hypercalls']['unknown'], v['hypercalls']['iret'] >= 10, v['exits']['hypercall'] == sum(v['hypercalls'].values())")
[ "$r" = "1 True True" ]
check "paravirt: hypercall exits = the sum by name, the unknown number counted" $? "$r"

r=$(json "$out/pv.json" "v['exits']['guest_page_fault'], v['exits']['external_interrupt'], v['exits']['software_interrupt'], v['exits']['shadow_page_fault'] > 0")
[ "$r" = "2 6 2 True" ]
check "paravirt: 2 guest page faults, 6 timer events, 2 system calls reflected; shadow fills" $? "$r"

# Deterministic: two runs, the same console and instruction count.
run d1 paravirt "$out/pv_kernel.bin" --deterministic
rc1=$rc
run d2 paravirt "$out/pv_kernel.bin" --deterministic
n1=$(json "$out/d1.json" "v['instructions_retired']")
n2=$(json "$out/d2.json" "v['instructions_retired']")
[ "$rc1" = 33 ] && [ "$rc" = 33 ] && cmp -s "$out/d1.log" "$out/d2.log" && [ "$n1" = "$n2" ]
check "paravirt: --deterministic runs agree (console, $n1 instructions)" $? "$rc1 $rc $n1 $n2"

# The pv kernel is not a bare-metal kernel, and a bare-metal kernel is not a
# paravirtual one: each fails in the other's mode, with a message.
run pv-emulate emulate "$out/pv_kernel.bin"
[ "$rc" != 33 ]
check "emulate: the pv kernel does not pass (its INT 0x82 has no IDT)" $? "exit $rc"
run smoke-pv paravirt "$out/smoke.bin"
[ "$rc" = 14 ] && grep -q "no handler for it in the trap table" "$out/smoke-pv.stderr"
check "paravirt: a bare-metal kernel is stopped: its privileged instruction's #GP has no handler" $? "$(cat "$out/smoke-pv.stderr"; echo "exit $rc")"

echo "paravirt: $pass passed, $fail failed"
[ "$fail" = 0 ]
