#!/usr/bin/env bash
# Runs each libcheck test program given as an argument; prints a summary
# line "N passed, M failed" (programs) and exits non-zero if any failed.
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
[ ${#failed[@]} -eq 0 ] || echo "failed test programs: ${failed[*]}"
echo "unit test programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
