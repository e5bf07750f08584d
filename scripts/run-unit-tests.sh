#!/usr/bin/env bash
# Runs each libcheck test program given as an argument; prints a summary
# line "N passed, M failed" (programs) and exits non-zero if any failed.
set -u
pass=0; fail=0; failed=()
# libcheck kills a test after 4 s by default; under sanitizers on a loaded
# 2-core machine some take longer, so give each one minutes, not seconds.
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-300}
for t in "$@"; do
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
[ ${#failed[@]} -eq 0 ] || echo "failed test programs: ${failed[*]}"
echo "unit test programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
