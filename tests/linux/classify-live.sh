#!/usr/bin/env bash
# classify-live.sh BUILD -- live classification of a real workload: reads the
# report of Linux booting and running its shell session in vmm mode
# (BUILD/linux-boot-vmm.json, written by the make test-linux boot before this
# runs) with `trapeze classify --report`, and checks the table against the
# run's own exit counters: in vmm mode every critical instruction exits once
# (critical_insn), every CLI/STI once (iopl_insn), every port instruction
# once (io). Prints one line per check and "classify-live: N passed, M failed".
set -u
build=${1:-build}
trapeze="$build/trapeze"
report="$build/linux-boot-vmm.json"
out="$build/classify-live"
mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/      /'; }

if [ ! -s "$report" ]; then
    echo "classify-live: $report is missing (the vmm boot of make test-linux writes it)" >&2
    exit 1
fi
"$trapeze" classify --report "$report" --top 10 >"$out/top.txt" 2>&1 &&
    grep -q '^vm0 (vmm mode): [0-9]* instructions, [0-9]* sensitive' "$out/top.txt" &&
    grep -q '^ *[0-9]* 9C *PUSHF Fv .* yes *behaviour-sensitive' "$out/top.txt" &&
    grep -q '^ *[0-9]* FA *CLI .* no *iopl' "$out/top.txt" &&
    ok "classify --report: Linux's most frequent sensitive forms include PUSHF and CLI" ||
    bad "classify --report: Linux's most frequent sensitive forms include PUSHF and CLI" "$(cat "$out/top.txt")"
"$trapeze" classify --report "$report" --format markdown --top 5 | grep -q '^| 1 | ' &&
    ok "classify --report --format markdown on the Linux run" ||
    bad "classify --report --format markdown on the Linux run"

"$trapeze" classify --report "$report" --format json --top 1000 >"$out/all.json" 2>&1
r=$(python3 - "$out/all.json" <<'PY' 2>&1
import json, sys
v = json.load(open(sys.argv[1]))["vm0"]
top, e = v["top"], v["exits"]
def total(p):
    return sum(f["count"] for f in top if p(f))
print(v["mode"], v["critical"] > 0,
      total(lambda f: f["critical"]) == v["critical"] == e["critical_insn"],
      total(lambda f: f["mnemonic"] in ("CLI", "STI")) == e["iopl_insn"],
      total(lambda f: f["mnemonic"] in ("IN", "OUT", "INS", "OUTS")) == e["io"])
PY
)
[ "$r" = "vmm True True True True" ] &&
    ok "Linux in vmm mode: one critical_insn exit per critical instruction, iopl_insn per CLI/STI, io per port instruction" ||
    bad "Linux in vmm mode: one critical_insn exit per critical instruction, iopl_insn per CLI/STI, io per port instruction" "got: $r"

echo "classify-live: $pass passed, $fail failed"
[ "$fail" = 0 ]
