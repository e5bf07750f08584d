#!/usr/bin/env python3
"""Merges the JSON lines of a trapeze batch job array (scripts/slurm/
trapeze-array.sbatch) and says whether every job met its expectation.

  collect.py RESULTS [--jobs JOBFILE] [--out merged.jsonl]

Reads RESULTS/results-*.jsonl; with --jobs, also checks that every job of
the job file ran exactly once (a task that died leaves a hole). Prints one
line per failed or missing job and a summary; exit status 0 when all
passed, 1 otherwise, 2 on unreadable input.
"""
import argparse
import glob
import json
import os
import sys


def count_jobs(path):
    n = 0
    for line in open(path):
        s = line.strip()
        if s and not s.startswith("#"):
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--jobs")
    ap.add_argument("--out")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.results, "results-*.jsonl")))
    if not files:
        print("collect: no results-*.jsonl in %s" % a.results, file=sys.stderr)
        return 2
    rows = []
    for f in files:
        for k, line in enumerate(open(f), 1):
            try:
                rows.append(json.loads(line))
            except ValueError:
                print("collect: %s:%d: not a JSON line" % (f, k), file=sys.stderr)
                return 2
    rows.sort(key=lambda r: r["job"])
    if a.out:
        with open(a.out, "w") as o:
            for r in rows:
                o.write(json.dumps(r) + "\n")
    bad = 0
    seen = {}
    for r in rows:
        seen[r["job"]] = seen.get(r["job"], 0) + 1
        if not r["pass"]:
            bad += 1
            print("FAIL job %d %s: status %d (%s), missing %s%s" % (
                r["job"], r["name"], r["status"], r["end_reason"], r["missing"],
                ", " + r["error"] if "error" in r else ""))
    holes = []
    if a.jobs:
        total = count_jobs(a.jobs)
        holes = [k for k in range(total) if seen.get(k, 0) != 1]
        for k in holes:
            print("FAIL job %d: ran %d times" % (k, seen.get(k, 0)))
    print("collect: %d jobs from %d tasks, %d passed, %d failed%s" % (
        len(rows), len(files), len(rows) - bad, bad,
        ", %d missing or repeated" % len(holes) if holes else ""))
    return 1 if bad or holes else 0


if __name__ == "__main__":
    sys.exit(main())
