#!/usr/bin/env bash
# test-gdb.sh BUILD -- the GDB stub (--gdb, frontend/gdbstub.c) driven by
# Debian's gdb against tests/guests/gdb/gdb_target.asm, an ELF kernel with
# symbols: break at a function, read registers and memory, single-step, a
# write, an access and a read watchpoint, continue to the guest's exit; Ctrl-C stops a looping
# guest and kill ends it; raw packets (bad checksums, unmapped memory,
# unknown commands) get answers, never a crash; trap and vmm mode show the
# guest's view; gdb= in one --vm spec of two.
# Prints one line per check and "gdb: N passed, M failed".
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
out="$build/gdb"
rm -rf "$out" && mkdir -p "$out"
nasm -f elf32 -o "$out/target.o" "$here/guests/gdb/gdb_target.asm" &&
    ld -m elf_i386 -n -Ttext=0x100000 -e _start -o "$out/target.elf" "$out/target.o" 2>/dev/null ||
    { echo "test-gdb: building the target failed"; exit 1; }
pass=0; fail=0
check() { # NAME GOT WANT [DETAIL]
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
    else fail=$((fail + 1)); echo "FAIL  $1"; echo "      got: $2"; echo "      want: $3"
        [ -n "${4:-}" ] && echo "$4" | sed 's/^/      /'; fi
}
# start NAME: trapeze waiting for gdb on a free port; sets pid and port
start() {
    "$trapeze" run --kernel "$out/target.elf" --gdb tcp::0 --serial none --debugcon none \
        --report "$out/$1.json" </dev/null 2>"$out/$1.err" &
    pid=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*waiting for gdb on 127.0.0.1:\([0-9]*\).*/\1/p' "$out/$1.err" 2>/dev/null | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
}

# 1. A debugging session to the guest's end.
start session
timeout 60 gdb -batch -nx -ex "set confirm off" -ex "file $out/target.elf" -ex "target remote :$port" \
    -ex "break compute" -ex "continue" -ex 'p/x $eax' -ex 'p/x $pc' -ex "stepi" -ex 'p/x $eax' \
    -ex 'p/x $pc' -ex 'p/x $esp' -ex "x/s &message" -ex 'watch *(int *)&counter' -ex "continue" \
    -ex "delete" -ex 'awatch *(int *)&counter' -ex "continue" -ex "delete" \
    -ex 'rwatch *(int *)&spin' -ex "continue" -ex 'info symbol $pc' -ex 'x/i $pc' -ex 'p $st0' -ex 'p $st2' \
    -ex 'p/x ($fstat >> 11) & 7' -ex 'p/x $ftag' -ex "delete" \
    -ex "continue" >"$out/session.out" 2>&1
wait "$pid"
rc=$?
o="$out/session.out"
check "gdb breaks at compute" "$(grep -c '^Breakpoint 1, 0x00100035 in compute ()' "$o")" 1 "$(cat "$o")"
check "registers at the breakpoint: EAX = 0x11111111, EIP = compute" \
    "$(sed -n 's/^\$[12] = //p' "$o" | tr '\n' ' ')" "0x11111111 0x100035 "
check "stepi runs one instruction: EAX = 0x1234abcd, EIP + 5" \
    "$(sed -n 's/^\$[34] = //p' "$o" | tr '\n' ' ')" "0x1234abcd 0x10003a "
check "memory through the guest's view: the string at &message" \
    "$(grep -c '"hello from the guest"' "$o")" 1
check "a write watchpoint stops after the write (0 -> 1, in bump)" \
    "$(grep -A3 '^Old value = 0' "$o" | tr '\n' ' ' | grep -c 'New value = 1 0x[0-9a-f]* in bump ()')" 1 "$(cat "$o")"
check "an access watchpoint (Z4) stops after the next read-modify-write of counter (1 -> 2, in bump)" \
    "$(grep -A4 '^Hardware access (read/write) watchpoint 3' "$o" | tr '\n' ' ' | grep -c 'Old value = 1 New value = 2 0x[0-9a-f]* in bump ()')" 1 "$(cat "$o")"
check "a read watchpoint (Z3) stops after the cmp that reads spin (at the jne)" \
    "$(grep -A3 '^Hardware read watchpoint 4' "$o" | tr '\n' ' ' | grep -c 'Value = 0 0x[0-9a-f]* in _start.again ()') $(grep -c '^=> 0x[0-9a-f]* <_start.again+[0-9]*>:.*jne' "$o")" "1 1" "$(cat "$o")"
check "x87 registers: three 1.0s pushed by bump (st0, st2), TOP 5, three tags valid" \
    "$(sed -n 's/^\$\([6-9]\) = //p' "$o" | tr '\n' ' ')" "1 1 0x5 0x3ff " "$(cat "$o")"
check "continue to the end: gdb sees the exit code, trapeze exits 33" \
    "$(grep -c 'exited with code 041' "$o") $rc" "1 33"

# 2. Ctrl-C stops a looping guest; kill ends it.
start interrupt
gdb -batch -nx -ex "set confirm off" -ex "file $out/target.elf" -ex "target remote :$port" \
    -ex 'set var *(int *)&spin = 1' -ex "continue" -ex 'info symbol $pc' -ex "kill" \
    >"$out/interrupt.out" 2>&1 &
gpid=$!
sleep 1.5
kill -INT "$gpid"
wait "$gpid"
wait "$pid"
rc=$?
o="$out/interrupt.out"
check "Ctrl-C (SIGINT to gdb) stops the running guest where it loops" \
    "$(grep -c 'Program received signal SIGINT' "$o") $(grep -c '^spin_loop in section .text' "$o")" "1 1" "$(cat "$o")"
check "kill ends the VM (status 130)" "$(grep -c 'killed' "$o") $rc" "1 130"

# 3. Raw packets: answers for bad input, no crash.
start raw
python3 - "$port" >"$out/raw.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
def pkt(body):
    return b"$" + body + b"#" + ("%02x" % (sum(body) & 0xff)).encode()
def ask(raw):
    s.sendall(raw)
    data = b""
    while not data.endswith(b"#") or True:
        data += s.recv(4096)
        if b"#" in data and len(data.split(b"#", 1)[1]) >= 2:
            break
    return data
print("badsum", s.sendall(b"$g#00") or s.recv(1))
print("beyond", ask(pkt(b"m10000000,4")).decode())
print("unknown", ask(pkt(b"Qbogus")).decode())
print("malformed", ask(pkt(b"mzz")).decode())
print("regs", len(ask(pkt(b"g")).decode().split("$")[-1].split("#")[0]))
print("bigread", ask(pkt(b"m100000,ffffffff")).decode())
print("xwrite", ask(pkt(b"X200000,3:}\x5d}\x03A")).decode())
print("xread", ask(pkt(b"m200000,3")).decode())
print("xbad", ask(pkt(b"X200000,4:AB")).decode())
print("xml", ask(pkt(b"qXfer:features:read:target.xml:0,60")).decode())
print("xmlend", ask(pkt(b"qXfer:features:read:target.xml:ffff,10")).decode())
print("xmlbad", ask(pkt(b"qXfer:features:read:target.xml:zz")).decode())
s.sendall(b"+" + pkt(b"k"))
time.sleep(0.3)
PY
wait "$pid"
rc=$?
o="$out/raw.out"
check "raw: a bad checksum is NAKed (-)" "$(grep -c "^badsum b'-'" "$o")" 1 "$(cat "$o")"
check "raw: beyond RAM (paging off) reads as the bus's all ones, unknown packet empty, malformed E01, 32 registers (core and x87)" \
    "$(grep -c -e 'beyond +\$ffffffff#' -e 'unknown +\$#00' -e 'malformed +\$E01#' -e '^regs 352' "$o")" 4 "$(cat "$o")"
check "raw: an oversized read is refused; the stub survives it all (kill: 130)" \
    "$(grep -c 'bigread +\$E01#' "$o") $rc" "1 130"

check "raw: X writes binary data ('}' escapes undone: 7d 23 41 read back), a short X is E01" \
    "$(grep -c -e '^xwrite +\$OK#' -e '^xread +\$7d2341#' -e '^xbad +\$E01#' "$o")" 3 "$(cat "$o")"
check "raw: the target description (i386) in chunks ('m' more, 'l' past the end), malformed E01" \
    "$(grep -c -e '^xml +\$m<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0"><ar' \
        -e '^xmlend +\$l#' -e '^xmlbad +\$E01#' "$o")" 3 "$(cat "$o")"

"$trapeze" run --kernel "$out/target.elf" --gdb tcp:bogus --serial none --debugcon none 2>"$out/bad.err"
check "--gdb tcp:bogus: status 2, a message" "$? $(grep -c 'expected tcp::PORT' "$out/bad.err")" "2 1"

# 3b. trap and vmm mode: registers in the guest's view (CS, SS with its RPL 0
# although the VMM runs it at ring 1), a read watchpoint, the end.
for mode in trap vmm; do
    "$trapeze" run --kernel "$out/target.elf" --mode $mode --gdb tcp::0 --serial none --debugcon none \
        </dev/null 2>"$out/$mode.err" &
    pid=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*waiting for gdb on 127.0.0.1:\([0-9]*\).*/\1/p' "$out/$mode.err" 2>/dev/null | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    timeout 60 gdb -batch -nx -ex "set confirm off" -ex "file $out/target.elf" -ex "target remote :$port" \
        -ex "break compute" -ex "continue" -ex 'p/x $eax' -ex 'p/x $cs' -ex 'p/x $ss' -ex "stepi" -ex 'p/x $pc' \
        -ex "delete" -ex 'rwatch *(int *)&spin' -ex "continue" -ex "delete" -ex "continue" >"$out/$mode.out" 2>&1
    wait "$pid"
    rc=$?
    o="$out/$mode.out"
    check "$mode mode: EAX, CS 0x8 and SS 0x10 as the guest sees them (RPL 0), stepi, a read watchpoint, exit 33" \
        "$(sed -n 's/^\$[1-4] = //p' "$o" | tr '\n' ' ')$(grep -c 'Value = 0' "$o") $rc" \
        "0x11111111 0x8 0x10 0x10003a 1 33" "$(cat "$o")"
done

# 4. Per VM: gdb=tcp::0 in one --vm spec; the other VM runs on the scheduler meanwhile.
"$trapeze" run --vm "name=dbg,kernel=$out/target.elf,gdb=tcp::0,serial=none,debugcon=none" \
    --vm "name=free,kernel=$out/target.elf,serial=none,debugcon=none" \
    --report "$out/multi.json" </dev/null 2>"$out/multi.err" &
pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*dbg: waiting for gdb on 127.0.0.1:\([0-9]*\).*/\1/p' "$out/multi.err" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.05
done
timeout 60 gdb -batch -nx -ex "set confirm off" -ex "file $out/target.elf" -ex "target remote :$port" \
    -ex "break compute" -ex "continue" -ex 'p/x $eax' -ex "delete" -ex "continue" >"$out/multi.out" 2>&1
wait "$pid"
rc=$?
o="$out/multi.out"
check "--vm gdb=tcp::0: gdb breaks in that VM (EAX 0x11111111) and runs it to its exit" \
    "$(grep -c '^Breakpoint 1, 0x00100035 in compute ()' "$o") $(grep -c '^\$1 = 0x11111111' "$o") $(grep -c 'exited with code 041' "$o")" \
    "1 1 1" "$(cat "$o" "$out/multi.err")"
check "--vm gdb=: the other VM ran to its exit too (both exit 33, run status 0)" \
    "$(grep -o '"exit_status": *33' "$out/multi.json" | wc -l) $rc" "2 0" "$(cat "$out/multi.json" 2>/dev/null)"
"$trapeze" run --vm "kernel=$out/target.elf,gdb=udp:1" 2>"$out/badspec.err"
check "--vm gdb=udp:1: status 2, a message naming the key" "$? $(grep -c "gdb 'udp:1': expected tcp::PORT" "$out/badspec.err")" "2 1"

printf 'kernel=%s,gdb=tcp::0,timeout=5\n' "$out/target.elf" >"$out/jobs"
"$trapeze" batch "$out/jobs" >/dev/null 2>"$out/batch.err"
check "trapeze batch: a job with gdb= is refused (status 2, a message)" "$? $(grep -c 'gdb does not apply to a batch job' "$out/batch.err")" "2 1"

echo "gdb: $pass passed, $fail failed"
[ "$fail" = 0 ]
