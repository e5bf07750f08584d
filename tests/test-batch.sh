#!/usr/bin/env bash
# test-batch.sh BUILD -- `trapeze batch`: jobs over a thread pool, JSON lines,
# expectations (markers, status, limits), the summary and exit status,
# --slice partitions, job-file errors, and the Slurm array script run by
# hand (task variables set as Slurm sets them) with the collector.
# Prints one line per check and "batch: N passed, M failed".
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
trapeze="$build/trapeze"
out="$build/batch"
rm -rf "$out" && mkdir -p "$out"
sh "$here/guests/build.sh" "$out/guests" || { echo "test-batch: building the guests failed" >&2; exit 1; }
cd "$out" || exit 1
G=$out/guests

pass=0; fail=0
check() { # NAME GOT WANT [DETAIL]
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
    else fail=$((fail + 1)); echo "FAIL  $1"; echo "      got: $2"; echo "      want: $3"
        [ -n "${4:-}" ] && echo "$4" | sed 's/^/      /'; fi
}
py() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print($2)" "$1"; }

cat >jobs.txt <<JOBS
# eight jobs: six meet their expectations, two do not; two keys spelt with
# a hyphen (max-instructions, expect-status) as the flags are
name=smoke,kernel=$G/smoke.bin,timeout=60,expect=PASS: smoke
name=paging-vmm,kernel=$G/paging.bin,mode=vmm,timeout=60,expect=PASS: paging
name=cr3-trap,kernel=$G/cr3_switch.bin,mode=trap,timeout=60,expect=PASS: cr3_switch
name=critical-trap,kernel=$G/critical.bin,mode=trap,timeout=60,expect-status=35,expect=SGDT base: got FFC00000
name=timer,kernel=$G/timer_irq.bin,mode=vmm,max_instructions=100000000,deterministic=on,expect=PASS: timer_irq

name=tasks,kernel=$G/tasks.bin,memory=16,timeout=60,expect=PASS: tasks
name=wrong-marker,kernel=$G/smoke.bin,timeout=60,expect=no such line
name=too-short,kernel=$G/timer_irq.bin,max-instructions=1000,expect=PASS: timer_irq
JOBS
"$trapeze" batch jobs.txt --threads 2 --results all.jsonl --output-dir consoles >stdout.txt 2>stderr.txt
rc=$?
check "status 1: two jobs missed their expectations" "$rc" 1 "$(cat stderr.txt)"
check "one JSON line per job, in any order" "$(py all.jsonl "sorted(x['job'] for x in r)")" "[0, 1, 2, 3, 4, 5, 6, 7]"
check "pass per job" "$(py all.jsonl "' '.join('%s:%s' % (x['name'], x['pass']) for x in sorted(r, key=lambda x: x['job']))")" \
    "smoke:True paging-vmm:True cr3-trap:True critical-trap:True timer:True tasks:True wrong-marker:False too-short:False"
check "why they failed: the missing marker; the instruction limit" \
    "$(py all.jsonl "[(x['missing'], x['end_reason'], x['status']) for x in sorted(r, key=lambda x: x['job'])][6:]")" \
    "[(['no such line'], 'exit_device', 33), (['PASS: timer_irq'], 'instruction_limit', 10)]"
check "fields: mode, instructions, virtual and host time, found markers" \
    "$(py all.jsonl "all(x['instructions'] > 0 and x['virtual_time_s'] > 0 and x['host_time_s'] >= 0 for x in r), [x['mode'] for x in r if x['name'] == 'critical-trap'], [x['found'] for x in r if x['name'] == 'smoke']")" \
    "True ['trap'] [['PASS: smoke']]"
check "summary on stderr" "$(grep -c 'trapeze batch: 8 jobs (slice 0/1 of 8), 6 passed, 2 failed' stderr.txt)" 1 "$(cat stderr.txt)"
check "consoles in the output directory, one pair per job" "$(ls consoles | wc -l) $(grep -c 'PASS: tasks' consoles/tasks.debugcon)" "16 1"
check "nothing on stdout with --results" "$(wc -c <stdout.txt)" 0

# --slice: three slices cover every job exactly once
for i in 0 1 2; do "$trapeze" batch jobs.txt --slice $i/3 --threads 1 --output-dir s$i >s$i.jsonl 2>/dev/null; done
check "--slice I/3: every job exactly once, job k in slice k mod 3" \
    "$(cat s0.jsonl s1.jsonl s2.jsonl | python3 -c "import json,sys; r=[json.loads(l) for l in sys.stdin]; print(sorted(x['job'] for x in r), all(x['job'] % 3 == int(n) for n, f in enumerate(['s0','s1','s2']) for x in map(json.loads, open(f + '.jsonl'))))")" \
    "[0, 1, 2, 3, 4, 5, 6, 7] True"
head -6 jobs.txt >ok.txt
"$trapeze" batch ok.txt --threads 2 --output-dir okc >/dev/null 2>&1
check "every job passing: status 0" "$?" 0

# Bad job files: file:line and the problem, status 2, nothing runs.
bad() { # NAME TEXT WANT-IN-MESSAGE
    printf '%s\n' "$2" >bad.txt
    "$trapeze" batch bad.txt --output-dir badc >bad.out 2>bad.err
    local r=$?
    check "bad job file: $1" "$r $(grep -c -F -- "$3" bad.err) $(wc -c <bad.out)" "2 1 0" "$(cat bad.err)"
}
bad "unknown key" "kernel=$G/smoke.bin,timeout=5,colour=red" "bad.txt:1: unknown key 'colour'"
bad "no limit" "kernel=$G/smoke.bin" "bad.txt:1: a job needs a limit"
bad "bad timeout" "kernel=$G/smoke.bin,timeout=soon" "bad.txt:1: timeout 'soon'"
bad "bad expect_status" "kernel=$G/smoke.bin,timeout=5,expect_status=300" "expect_status '300'"
bad "console on stdio" "kernel=$G/smoke.bin,timeout=5,serial=stdio" "a batch job's console goes to a file"
bad "two jobs, one name" "name=a,kernel=$G/smoke.bin,timeout=5
name=a,kernel=$G/smoke.bin,timeout=5" "bad.txt"
bad "no jobs" "# only a comment" "no jobs"
"$trapeze" batch missing.txt >/dev/null 2>bad.err
check "missing job file: status 2, named" "$? $(grep -c 'missing.txt: cannot open' bad.err)" "2 1"
"$trapeze" batch jobs.txt --slice 3/3 >/dev/null 2>bad.err
check "--slice 3/3 is a usage error" "$? $(grep -c 'expected I/N' bad.err)" "2 1"
echo "name=gone,kernel=$G/nonexistent.bin,timeout=5" >gone.txt
"$trapeze" batch gone.txt --output-dir gonec >gone.jsonl 2>/dev/null
check "a job whose VM cannot be created fails with its error" \
    "$? $(py gone.jsonl "r[0]['pass'], 'nonexistent.bin' in r[0].get('error', '')")" "1 False True"

# The Slurm array script, run by hand as Slurm would run task k of 3.
for k in 0 1 2; do
    SLURM_ARRAY_TASK_ID=$((k + 5)) SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=3 \
        bash "$root/scripts/slurm/trapeze-array.sbatch" "$out/jobs.txt" "$out/array" "$trapeze" >/dev/null 2>&1
done
python3 "$root/scripts/slurm/collect.py" "$out/array" --jobs jobs.txt --out merged.jsonl >collect.txt
check "array script + collector: 8 jobs from 3 tasks, the 2 failures named, status 1" \
    "$? $(tail -1 collect.txt) $(grep -c '^FAIL job' collect.txt)" \
    "1 collect: 8 jobs from 3 tasks, 6 passed, 2 failed 2"
rm -f "$out/array/results-1.jsonl"
python3 "$root/scripts/slurm/collect.py" "$out/array" --jobs jobs.txt >collect.txt
check "collector: a lost task's jobs are reported missing" "$? $(grep -c 'ran 0 times' collect.txt)" "1 3"

echo "batch: $pass passed, $fail failed"
[ "$fail" = 0 ]
