#!/usr/bin/env bash
# trap-divergence.sh BUILD -- Popek and Goldberg on a real OS: Debian's Linux
# in `--mode trap` (ring compression, privileged instructions trapped and
# emulated, critical ones left to run at ring 1) goes wrong, and this test
# asserts how. The first divergence the kernel itself reports is in
# start_kernel(): it checks that interrupts are still disabled with
#   pushf; pop eax; bt eax, 9        (9c 58 0f ba e0 09)
# PUSHF is critical: at ring 1 it does not trap and pushes the real IF, which
# the VMM keeps at 1, not the guest's virtual IF = 0, so the kernel warns
# "Interrupts were enabled *very* early". In `--mode vmm` the same PUSHF exits
# to the VMM and the warning never appears (the vmm-mode boot test checks
# that no kernel warning is printed at all).
set -u
build=${1:-build}
images="$build/images"
out="$build/trap-divergence"
rm -rf "$out" && mkdir -p "$out"
if [ ! -f "$images/vmlinuz" ]; then
    echo "trap divergence: no guest images (make images)"; exit 1
fi
"$build/trapeze" run --mode trap --deterministic --kernel "$images/vmlinuz" \
    --initrd "$images/initramfs.cpio.gz" --append "console=ttyS0,115200" \
    --serial "file:$out/console.log" --debugcon none --timeout 300 \
    </dev/null >"$out/stderr.log" 2>&1 &
pid=$!
found=0
for _ in $(seq 1 600); do
    if grep -q "Interrupts were enabled \*very\* early" "$out/console.log" 2>/dev/null &&
       grep -q "^\[ *[0-9.]*\] Code: " "$out/console.log"; then
        found=1; break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
done
sleep 0.5
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok    $1"; else fail=$((fail+1)); echo "FAIL  $1"; fi; }
check "trap mode: the kernel sees IF = 1 before it ever enabled interrupts" "[ $found = 1 ]"
check "the divergent instruction is PUSHF in start_kernel (pushf; pop eax; bt eax, 9)" \
      "grep -q 'Code: .*9c 58 0f ba e0 09' '$out/console.log'"
check "the warning comes from start_kernel" \
      "grep -q 'WARNING: CPU: 0 PID: 0 at init/main.c:[0-9]* start_kernel' '$out/console.log'"
echo "trap divergence: $pass passed, $fail failed (console in $out/console.log)"
[ "$fail" -eq 0 ]
