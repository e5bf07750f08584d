#!/usr/bin/env bash
# test-slurm.sh BUILD -- trapeze batch across a Slurm job array on a
# single-node cluster on this machine: a private munged, slurmctld and slurmd
# (their own socket, ports, state and logs under BUILD/slurm), the array
# script scripts/slurm/trapeze-array.sbatch submitted with `sbatch --wait`,
# and scripts/slurm/collect.py merging the tasks' results. The daemons are
# stopped at the end, whatever happens. Needs root (slurmd) and Debian's
# slurm-wlm (scripts/install-slurm.sh).
# Prints one line per check and "slurm: N passed, M failed".
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
trapeze="$build/trapeze"
dir="$build/slurm"
pass=0; fail=0
check() { # NAME GOT WANT [DETAIL]
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok    $1"
    else fail=$((fail + 1)); echo "FAIL  $1"; echo "      got: $2"; echo "      want: $3"
        [ -n "${4:-}" ] && echo "$4" | sed 's/^/      /'; fi
}
for c in munged slurmctld slurmd sbatch sinfo; do
    command -v "$c" >/dev/null || { echo "slurm: $c not found (scripts/install-slurm.sh)"; echo "slurm: 0 passed, 1 failed"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "slurm: slurmd must run as root here"; echo "slurm: 0 passed, 1 failed"; exit 1; }

rm -rf "$dir" && mkdir -p "$dir"/{state,spool,log,munge,results}
chmod 700 "$dir/munge"
pids=()
stop() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
}
trap stop EXIT

# munge with its own socket and key (never the system's daemon).
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$dir/munge/munge.key"
munged --foreground --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
    >/dev/null 2>&1 &
pids+=($!)
port=$((20000 + RANDOM % 20000))
cat >"$dir/slurm.conf" <<CONF
ClusterName=trapeze-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
sleep 1
slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 1 60); do
    state=$(sinfo -h -o '%T' 2>/dev/null | head -1)
    [ "$state" = idle ] && break
    sleep 0.5
done
check "a single-node cluster: the node is idle" "$state" idle \
    "$(tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" "$dir/log/slurmctld.out" "$dir/log/slurmd.out" 2>&1)"

# The jobs: the bare-metal guests across modes, one failing on purpose.
sh "$here/guests/build.sh" "$dir/guests" || { echo "slurm: building the guests failed"; exit 1; }
G=$dir/guests
cat >"$dir/jobs.txt" <<JOBS
name=smoke,kernel=$G/smoke.bin,timeout=60,expect=PASS: smoke
name=paging-vmm,kernel=$G/paging.bin,mode=vmm,timeout=60,expect=PASS: paging
name=critical-trap,kernel=$G/critical.bin,mode=trap,timeout=60,expect_status=35,expect=DIVERGES
name=cr3-vmm,kernel=$G/cr3_switch.bin,mode=vmm,timeout=60,expect=PASS: cr3_switch
name=isolation,kernel=$G/isolation.bin,mode=trap,memory=16,append=z1,timeout=60,expect=another VM's: none
name=fails,kernel=$G/smoke.bin,timeout=60,expect=never printed
JOBS
if [ "$state" = idle ]; then
    (cd "$dir" && timeout 180 sbatch --wait --array=0-2 --cpus-per-task=1 --output="$dir/log/task-%a.out" \
        "$root/scripts/slurm/trapeze-array.sbatch" "$dir/jobs.txt" "$dir/results" "$trapeze") \
        >"$dir/sbatch.out" 2>&1
    rc=$?
    # One task holds the failing job: sbatch --wait reports the array failed.
    check "sbatch --wait: the array ran (one task has the failing job: status 1)" "$rc" 1 "$(cat "$dir/sbatch.out")"
    check "each of the 3 tasks wrote its results" "$(ls "$dir/results"/results-*.jsonl 2>/dev/null | wc -l)" 3 \
        "$(cat "$dir"/log/task-*.out 2>/dev/null | tail -20)"
    python3 "$root/scripts/slurm/collect.py" "$dir/results" --jobs "$dir/jobs.txt" --out "$dir/merged.jsonl" >"$dir/collect.txt"
    r=$?
    check "collector: 6 jobs, 5 passed, the failing one named (status 1)" \
        "$r $(tail -1 "$dir/collect.txt") $(grep -c '^FAIL job 5 fails' "$dir/collect.txt")" \
        "1 collect: 6 jobs from 3 tasks, 5 passed, 1 failed 1" "$(cat "$dir/collect.txt")"
    check "every job ran once, in the task its index names" \
        "$(python3 -c "import json,glob,re; print(sorted((json.loads(l)['job'], int(re.search(r'results-(\d+)', f).group(1))) for f in glob.glob('$dir/results/results-*.jsonl') for l in open(f)))")" \
        "[(0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 2)]"
fi
echo "slurm: $pass passed, $fail failed"
[ "$fail" = 0 ]
