#!/usr/bin/env bash
# test-four-vms.sh BUILD -- four VMs at once in one process, headless, on two
# host threads, one per execution mode that runs unmodified or paravirtual
# guests: Debian's Linux in vmm mode and in emulate mode (each runs the
# initramfs's unattended session, trapeze_auto=1, and powers off), the
# paravirtual kernel in paravirt mode and the critical-instruction guest in
# trap mode. Each must reach its own expected end, the consoles stay apart,
# and the report has all four. Needs the guest images (make images).
# Prints one line per check and "four-vms: N passed, M failed".
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
img="$build/images"
out="$build/four-vms"
rm -rf "$out"
mkdir -p "$out"
for f in vmlinuz initramfs.cpio.gz; do
    [ -f "$img/$f" ] || { echo "test-four-vms: $img/$f missing (make images)" >&2; exit 1; }
done
sh "$here/guests/build.sh" "$out" >/dev/null || { echo "test-four-vms: building the guests failed" >&2; exit 1; }
nasm -f bin -Werror -I "$here/guests/lib/" -o "$out/pv_kernel.bin" "$here/guests/pv/pv_kernel.asm" ||
    { echo "test-four-vms: assembling pv_kernel.asm failed" >&2; exit 1; }

pass=0; fail=0
check() { # check NAME GOT EXPECTED [DETAIL]
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
    else fail=$((fail + 1)); echo "FAIL  $1"; echo "      got: $2"; echo "      expected: $3"
        [ -n "${4:-}" ] && echo "$4" | sed 's/^/      /'; fi
}
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# A comma inside a value is written twice (--vm's convention).
linux="kernel=$img/vmlinuz,initrd=$img/initramfs.cpio.gz,append=console=ttyS0,,115200 trapeze_auto=1"
cd "$out"
"$trapeze" run --threads 2 --timeout 900 --report four.json \
    --vm "name=linux-vmm,mode=vmm,$linux,serial=file:linux-vmm.log,debugcon=none" \
    --vm "name=linux-emulate,mode=emulate,$linux,serial=file:linux-emulate.log,debugcon=none" \
    --vm "name=pv,mode=paravirt,kernel=pv_kernel.bin,serial=none,debugcon=file:pv.log" \
    --vm "name=trap,mode=trap,kernel=critical.bin,serial=none,debugcon=file:trap.log" \
    >stdout.txt 2>stderr.txt </dev/null
rc=$?

# critical.bin in trap mode sees the VMM and FAILs (35): the first VM whose
# status is neither 0 nor 33 gives the process's status.
check "process status: the trap-mode guest's 35" "$rc" 35 "$(cat stderr.txt)"
check "report: four VMs, their modes, statuses and ends" \
    "$(json four.json "r['threads'], ' '.join('%s:%s:%d:%s' % (v['name'], v['mode'], v['exit_status'], v['end_reason']) for v in r['vms'])")" \
    "2 linux-vmm:vmm:0:powered_off linux-emulate:emulate:0:powered_off pv:paravirt:33:exit_device trap:trap:35:exit_device"

# Linux: the unattended session ran to its end in both modes, with the same results.
session() { sed -n '/^trapeze-guest: auto session/,/^trapeze-guest: auto done/p' "$1" | tr -d '\r'; }
check "linux-vmm: the session ran to its end" \
    "$(session linux-vmm.log | grep -c -e '^sum=42$' -e '^awk=1.643935$' -e '^trapeze-guest: auto done$')" 3 \
    "$(tail -5 linux-vmm.log)"
check "linux-emulate: the session ran to its end" \
    "$(session linux-emulate.log | grep -c -e '^sum=42$' -e '^awk=1.643935$' -e '^trapeze-guest: auto done$')" 3 \
    "$(tail -5 linux-emulate.log)"
check "linux: vmm and emulate sessions print the same" "$(session linux-vmm.log | md5sum)" \
    "$(session linux-emulate.log | md5sum)"

# The consoles are kept apart.
check "pv: its console has its PASS and nothing else's" \
    "$(grep -c '^PASS: pv_kernel' pv.log) $(grep -c -e Linux -e critical pv.log)" "1 0"
check "trap: its console shows the divergences and nothing else's" \
    "$(grep -c 'DIVERGES' trap.log) $(grep -c -e Linux -e pv_kernel trap.log)" "15 0"
check "linux: neither Linux console has the test kernels' output" \
    "$(cat linux-vmm.log linux-emulate.log | grep -c -e pv_kernel -e 'START: critical')" 0
check "nothing on stdout (every console went to its file)" "$(wc -c <stdout.txt)" 0

# What the VMM did for each, from the report.
check "report: linux-vmm exited for critical instructions, linux-emulate never exited" \
    "$(json four.json "r['vms'][0]['exits']['critical_insn'] > 0, r['vms'][0]['exits']['shadow_page_fault'] > 0, r['vms'][1]['exits']['total']")" \
    "True True 0"
check "report: pv made hypercalls and had nothing emulated; trap had no critical exits" \
    "$(json four.json "r['vms'][2]['exits']['hypercall'] > 0, r['vms'][2]['exits']['privileged_insn'], r['vms'][3]['exits']['critical_insn'], r['vms'][3]['exits']['privileged_insn'] > 0")" \
    "True 0 0 True"

echo "four-vms: $pass passed, $fail failed"
[ "$fail" = 0 ]
