#!/usr/bin/env bash
# trap-divergence.sh BUILD -- Popek and Goldberg on a real OS: Debian's Linux
# in `--mode trap` (ring compression, privileged instructions trapped and
# emulated, critical ones left to run at ring 1) goes wrong, and this test
# asserts how. The first divergence the kernel itself reports is in
# start_kernel(): it checks that interrupts are still disabled with
#   pushf; pop eax; bt eax, 9        (9c 58 0f ba e0 09)
# PUSHF is critical: at ring 1 it does not trap and pushes the real IF, which
# the VMM keeps at 1, not the guest's virtual IF, so the kernel warns
# "Interrupts were enabled *very* early" (how the wrong IF got there is the
# exit trace's story, below). In `--mode vmm` every PUSHF exits
# to the VMM and the warning never appears (the vmm-mode boot test checks
# that no kernel warning is printed at all).
#
# The VMM sees it too: with --trace-exits, trap mode observes every critical
# instruction (runs it in the guest's view on a copy, then natively, and
# logs what differed; vmm/exit_trace.h). From that trace the test names the
# first critical instruction whose result differed from the guest's view
# (a PUSHF in the decompressor's EFLAGS probe, harmless), the first in the
# kernel proper (a PUSHF of local_irq_save: it saved IF = 1 while the
# virtual IF was 0), then the kernel's first STI: local_irq_restore enabling
# the interrupts that the wrong flags said were on. start_kernel's own
# PUSHF (found by its code, which the oops prints) diverges no more: the
# virtual IF really is 1 by then. The divergence happened earlier, and the
# kernel only noticed its consequence.
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
    --trace-exits "$out/exits.txt" \
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
check "the warning's check is PUSHF in start_kernel (pushf; pop eax; bt eax, 9)" \
      "grep -q 'Code: .*9c 58 0f ba e0 09' '$out/console.log'"
check "the warning comes from start_kernel" \
      "grep -q 'WARNING: CPU: 0 PID: 0 at init/main.c:[0-9]* start_kernel' '$out/console.log'"

# The exit trace: what diverged first, and where.
python3 - "$out/exits.txt" "$out/console.log" >"$out/analysis.txt" 2>&1 <<'PY'
import re, sys
rec = [l.split() for l in open(sys.argv[1])]
obs = [l for l in rec if l[2] == "critical_native"]
div = [l for l in obs if l[-1] not in ("diverges=none", "diverges=event")]
def show(tag, l):
    what = l[-1].split("=")[1] if l[2] == "critical_native" else l[2]
    print("%s %s %s %s seq=%s" % (tag, l[5], l[3], what, l[0]))
if div:
    show("first", div[0])
kern = [l for l in div if l[3].startswith("0060:")]
if kern:
    show("kernel", kern[0])
    sti = [l for l in rec if l[2] == "iopl_insn" and l[5] == "STI" and l[3].startswith("0060:")]
    if sti:
        show("sti", sti[0])
# The warning's Code: line: its PUSHF's bytes up to the faulting ud2 (<0f> 0b),
# and the EIP (start_kernel+offset of the ud2).
con = open(sys.argv[2], errors="replace").read()
i = con.find("Interrupts were enabled *very* early")
m = re.search(r"Code: ([0-9a-f <>]+)", con[i:]) if i >= 0 else None
e = re.search(r"EIP: (start_kernel)\+0x([0-9a-f]+)/0x[0-9a-f]+", con[i:]) if i >= 0 else None
if m and e:
    b = m.group(1).split()
    u = b.index("<0f>")
    p = max(k for k in range(u) if b[k:k + 6] == ["9c", "58", "0f", "ba", "e0", "09"])
    want = "".join(x.strip("<>") for x in b[p:u + 2])
    hits = [l for l in obs if l[5] == "PUSHF" and l[-2].startswith("code=" + want)]
    if hits:
        show("warning", hits[0])
        print("symbol %s+0x%x" % (e.group(1), int(e.group(2), 16) - (u - p)))
PY
field() { sed -n "s/^$1 //p" "$out/analysis.txt"; }
first=$(field first); kernel=$(field kernel); sti=$(field sti); warning=$(field warning); symbol=$(field symbol)
seq() { echo "${1##*seq=}"; }
check "exit trace: the first critical instruction whose result differed from the guest's view: ${first:-none}" \
      "[ '${first%% *}' = PUSHF ]"
check "exit trace: the first in the kernel proper (CS 0x60): ${kernel:-none} (it pushed IF = 1, the virtual IF being 0)" \
      "[ '${kernel%% *}' = PUSHF ] && case '$kernel' in *' stack '*) true;; *) false;; esac"
check "exit trace: the kernel's first STI (${sti:-none}) comes after it: it restored the wrongly saved IF" \
      "[ -n '$sti' ] && [ -n '$kernel' ] && [ $(seq "${sti:-seq=0}") -gt $(seq "${kernel:-seq=0}") ]"
check "exit trace: the PUSHF the warning reports (${warning:-none} = ${symbol:-?}) saw a virtual IF already 1 (no divergence of its own), after that STI" \
      "case '$warning' in PUSHF*' none '*) true;; *) false;; esac && case '$symbol' in start_kernel+0x*) true;; *) false;; esac && [ $(seq "${warning:-seq=0}") -gt $(seq "${sti:-seq=0}") ]"
echo "trap divergence: $pass passed, $fail failed (console in $out/console.log)"
[ "$fail" -eq 0 ]
