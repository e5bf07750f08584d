#!/usr/bin/env bash
# test-multi.sh BUILD -- several VMs in one process (`trapeze run --vm SPEC
# ... --threads N`, `--config FILE`): four bare-metal guests at once on two
# threads in three modes, consoles kept apart (own files; stdout with
# "[name] " prefixes), the report lists every VM, a triple-faulting VM ends
# alone while the others complete, time slicing on one thread, the
# process's exit status, usage errors. Prints "multi: N passed, M failed".
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
out="$build/multi"
rm -rf "$out" && mkdir -p "$out"
sh "$here/guests/build.sh" "$out" || { echo "test-multi: building the guests failed" >&2; exit 1; }
cd "$out" || exit 1
trapeze=$(cd "$OLDPWD" && realpath "$trapeze")

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/      /'; }
check() { # NAME GOT WANT [DETAIL]
    [ "$2" = "$3" ] && ok "$1" || bad "$1" "got: $2
want: $3${4:+
$4}"
}
# json FILE EXPR: a Python expression on the report r.
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# A flat Multiboot kernel from a here-document (as tests/test-cli.sh).
kernel() {
    { printf 'bits 32\norg 0x100000\nhdr: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)\n'
      printf '     dd hdr, hdr, load_end, bss_end, start\nstart:\n'
      cat
      printf '\nload_end:\nalign 16, db 0\nbss_end:\n'; } >"$1.asm"
    nasm -f bin -o "$1.bin" "$1.asm" || bad "assemble $1"
}
kernel triple <<'ASM'
    lidt [idtr]
    ud2                 ; #UD -> no IDT entry -> #GP -> #DF -> shutdown
idtr: dw 0
      dd 0
ASM
kernel loop <<'ASM'
    jmp $
ASM

# --- four guests, two threads, consoles to their own files ------------------
four() { # SINK-SUFFIX for each VM's debugcon: file or stdio
    local a b c d
    if [ "$1" = file ]; then
        a=file:a.log b=file:b.log c=file:c.log d=file:d.log
    else
        a=stdio b=stdio c=stdio d=stdio
    fi
    "$trapeze" run --threads 2 --timeout 60 --report "four-$1.json" \
        --vm "name=a,kernel=smoke.bin,mode=emulate,serial=none,debugcon=$a" \
        --vm "name=b,kernel=timer_irq.bin,mode=vmm,serial=none,debugcon=$b" \
        --vm "name=c,kernel=critical.bin,mode=trap,serial=none,debugcon=$c" \
        --vm "name=d,kernel=paging.bin,mode=emulate,serial=none,debugcon=$d" \
        >"four-$1.out" 2>"four-$1.err" </dev/null
    rc=$?
}
four file
# critical in trap mode shows the known divergences and FAILs (35): the first
# VM whose status is neither 0 nor 33 gives the process's status.
check "four VMs on two threads: status is critical-in-trap's 35" "$rc" 35 "$(cat four-file.err)"
check "files: each console in its own file" \
    "$(grep -h -c 'PASS' a.log b.log d.log | tr '\n' ' ')$(grep -c 'FAIL: critical' c.log)" "1 1 1 1"
check "files: nothing on stdout" "$(wc -c <four-file.out)" 0
check "files: the consoles are not mixed" \
    "$(grep -l 'START: smoke' ./*.log) $(grep -l 'START: critical' ./*.log)" "./a.log ./c.log"
r=$(json four-file.json "r['exit_status'], r['threads'], len(r['vms']), ' '.join('%s:%s:%d:%s' % (v['name'], v['mode'], v['exit_status'], v['end_reason']) for v in r['vms'])")
check "report: every VM with name, mode, status, end reason" "$r" \
    "35 2 4 a:emulate:33:exit_device b:vmm:33:exit_device c:trap:35:exit_device d:emulate:33:exit_device"
r=$(json four-file.json "all(v['instructions_retired'] > 0 and v['wall_time_s'] > 0 and 'mips' in v and 'total' in v['exits'] for v in r['vms']), r['vms'][1]['exits']['total'] > 0")
check "report: instructions, wall time, MIPS, exits per VM" "$r" "True True"

# --- the same on stdout, each line prefixed ----------------------------------
four stdio
check "stdout: status 35 again" "$rc" 35 "$(cat four-stdio.err)"
check "stdout: every line carries a VM's prefix" "$(grep -vc '^\[[abcd]\] ' four-stdio.out)" 0
same=yes
for v in a b c d; do
    sed -n "s/^\[$v\] //p" four-stdio.out | cmp -s - "$v.log" || same="no ($v differs)"
done
check "stdout: each VM's lines, unprefixed, are its console (no mixing)" "$same" yes

# --- a triple fault ends one VM; the others run on ---------------------------
"$trapeze" run --threads 2 --timeout 60 --report tf.json \
    --vm "name=tf,kernel=triple.bin,serial=none,debugcon=none" \
    --vm "name=timer,kernel=timer_irq.bin,mode=vmm,serial=none,debugcon=file:timer.log" \
    --vm "name=smoke,kernel=smoke.bin,serial=none,debugcon=file:smoke.log" \
    >tf.out 2>tf.err </dev/null
rc=$?
check "triple fault: process status is the faulting VM's 6" "$rc" 6 "$(cat tf.err)"
r=$(json tf.json "' '.join('%s:%s' % (v['name'], v['end_reason']) for v in r['vms'])")
check "triple fault: ends alone, the others complete" "$r" \
    "tf:triple_fault timer:exit_device smoke:exit_device"
grep -q "trapeze: tf: triple fault" tf.err && grep -q PASS timer.log \
    && ok "triple fault: reported for its VM; the timer guest still passes" \
    || bad "triple fault: reported for its VM; the timer guest still passes" "$(cat tf.err)"
r=$(json tf.json "r['vms'][0]['wall_time_s'] < r['vms'][1]['wall_time_s']")
check "triple fault: the faulting VM ended first" "$r" True

# --- time slices: a guest that never stops does not starve another -----------
"$trapeze" run --threads 1 --timeout 1.5 --report slice.json \
    --vm "name=spin,kernel=loop.bin,serial=none,debugcon=none" \
    --vm "name=smoke,kernel=smoke.bin,serial=none,debugcon=file:slice.log" \
    >/dev/null 2>slice.err </dev/null
rc=$?
check "one thread: the spinning VM times out (status 8)" "$rc" 8 "$(cat slice.err)"
r=$(json slice.json "r['threads'], r['vms'][0]['end_reason'], r['vms'][1]['exit_status'], r['vms'][1]['wall_time_s'] < 1.0")
check "one thread: the other VM still ran to its end, within its slices" "$r" "1 timeout 33 True"

# --- exit statuses -----------------------------------------------------------
"$trapeze" run --vm kernel=smoke.bin,debugcon=none --vm kernel=paging.bin,debugcon=none \
    --threads 2 >/dev/null 2>&1 </dev/null
check "all VMs PASS: status 0" "$?" 0
"$trapeze" run --vm kernel=critical.bin,mode=trap,debugcon=none >/dev/null 2>&1 </dev/null
check "one --vm: its own status (35)" "$?" 35
"$trapeze" run --vm kernel=smoke.bin,debugcon=none >/dev/null 2>&1 </dev/null
check "one --vm: its own status (33)" "$?" 33

# --- --config --------------------------------------------------------------
cat >vms.conf <<'CONF'
# two guests
name=one,kernel=smoke.bin,serial=none,debugcon=file:one.log

  name=two,kernel=paging.bin,mode=emulate,serial=none,debugcon=file:two.log
CONF
"$trapeze" run --config vms.conf --report conf.json >/dev/null 2>conf.err </dev/null
rc=$?
r=$(json conf.json "' '.join(v['name'] for v in r['vms'])")
check "--config: both VMs ran (status 0)" "$rc $r $(grep -c PASS one.log two.log | tr '\n' ' ')" \
    "0 one two one.log:1 two.log:1 "

# --- SIGINT ends every VM --------------------------------------------------
"$trapeze" run --threads 2 --vm kernel=loop.bin,debugcon=none --vm kernel=loop.bin,debugcon=none \
    --vm kernel=loop.bin,debugcon=none --timeout 30 >/dev/null 2>sigint.err </dev/null &
pid=$!
sleep 0.4
kill -INT $pid
wait $pid
rc=$?
check "SIGINT: every VM interrupted, status 130" "$rc $(grep -c 'interrupted by a signal' sigint.err)" "130 3"

# --- usage errors ----------------------------------------------------------
usage() { # NAME PATTERN ARGS...
    local name=$1 pat=$2; shift 2
    "$trapeze" run "$@" >/dev/null 2>u.err </dev/null
    local rc=$?
    [ "$rc" = 2 ] && grep -qF -- "$pat" u.err && ok "usage: $name" \
        || bad "usage: $name" "status $rc: $(cat u.err)"
}
usage "unknown key" "--vm #2: unknown key 'colour'" --vm kernel=smoke.bin --vm kernel=smoke.bin,colour=red
usage "bad memory" "--vm #1: memory 'lots'" --vm kernel=smoke.bin,memory=lots
usage "duplicate names" "two VMs are called 'x'" --vm name=x,kernel=smoke.bin --vm name=x,kernel=paging.bin
usage "one file for two VMs" "name the same file 'same.log'" \
    --vm kernel=smoke.bin,debugcon=file:same.log --vm kernel=paging.bin,serial=file:same.log
usage "single-VM flag with --vm" "--kernel describes the single VM" --kernel smoke.bin --vm kernel=smoke.bin
usage "--threads 0" "--threads '0'" --threads 0 --vm kernel=smoke.bin
usage "--threads without VMs" "--threads needs VMs" --threads 2 --kernel smoke.bin
usage "--config missing" "--config: cannot open 'nope.conf'" --config nope.conf
printf 'kernel=smoke.bin\nkernel=smoke.bin,mode=fast\n' >vms.bad
usage "--config bad line" "vms.bad:2: mode 'fast'" --config vms.bad
"$trapeze" run --vm kernel=missing.bin >/dev/null 2>u.err </dev/null
rc=$?
[ "$rc" = 2 ] && grep -q "trapeze: vm0:.*missing.bin" u.err && ok "a VM that cannot be created: status 2, named" \
    || bad "a VM that cannot be created: status 2, named" "status $rc: $(cat u.err)"

# --- memory isolation: three VMs write their marker on every page they can
# reach and scan everything for another's (tests/guests/isolation.asm) -------
"$trapeze" run --threads 2 --timeout 120 --report iso.json \
    --vm "name=iso-vmm,kernel=isolation.bin,mode=vmm,memory=16,append=a1,serial=none,debugcon=file:iso-a.log" \
    --vm "name=iso-trap,kernel=isolation.bin,mode=trap,memory=16,append=b1,serial=none,debugcon=file:iso-b.log" \
    --vm "name=iso-emulate,kernel=isolation.bin,mode=emulate,memory=16,append=c0,serial=none,debugcon=file:iso-c.log" \
    >/dev/null 2>iso.err </dev/null
check "isolation: three VMs side by side, each finds only its own markers (all PASS: status 0)" "$?" 0 "$(cat iso.err iso-?.log)"
check "isolation: the report has the three, each PASSed" \
    "$(json iso.json "' '.join('%s:%s:%d' % (v['name'], v['mode'], v['exit_status']) for v in r['vms'])")" \
    "iso-vmm:vmm:33 iso-trap:trap:33 iso-emulate:emulate:33"
check "isolation: each scanned all it could reach and saw its own id" \
    "$(for v in a b c; do grep -c -e "^id $v\$" -e "another VM's: none\$" -e "^PASS: isolation" "iso-$v.log"; done | tr '\n' ' ')" "3 3 3 "
check "isolation: the deprivileged VMs cannot write the VMM's region (#GP)" \
    "$(cat iso-a.log iso-b.log | grep -c '^VMM region: #GP$') $(grep -c 'VMM region' iso-c.log)" "2 0"

echo "multi: $pass passed, $fail failed"
[ "$fail" = 0 ]
