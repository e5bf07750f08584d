#!/usr/bin/env bash
# run-guests.sh BUILD -- builds the bare-metal guest kernels (tests/guests,
# assembled by tests/guests/build.sh into BUILD/guests) and boots each on
# BUILD/trapeze. A guest passes when trapeze exits with status 33: the guest
# wrote 0x10 to the exit device (port 0xF4). Each guest's debug console,
# serial output and JSON report are kept in BUILD/guests/NAME.{log,serial,json}.
# Prints one line per guest and "N passed, M failed"; fails if any failed.
# GUESTS="a b" runs only those; VERBOSE=1 shows every guest's console.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
trapeze="$build/trapeze"
out="$build/guests"

if [ ! -f "$here/guests/build.sh" ]; then
    echo "no guests yet (tests/guests/build.sh is missing)"
    exit 0
fi
sh "$here/guests/build.sh" "$out" || { echo "run-guests: building the guests failed" >&2; exit 1; }

# What a non-33 status means (README.md, "Exit statuses").
meaning() {
    case "$1" in
        35) echo "the guest reported FAIL" ;;
        2) echo "trapeze refused the input" ;;
        4) echo "halted" ;;
        6) echo "triple fault" ;;
        8) echo "timeout" ;;
        10) echo "instruction limit" ;;
        *) if [ $(($1 % 2)) = 1 ]; then echo "exit device value $(($1 >> 1))"; else echo "?"; fi ;;
    esac
}

pass=0; fail=0; failed=()
for bin in "$out"/*.bin; do
    [ -e "$bin" ] || continue
    name=$(basename "$bin" .bin)
    if [ -n "${GUESTS:-}" ] && ! [[ " $GUESTS " == *" $name "* ]]; then
        continue
    fi
    "$trapeze" run --kernel "$bin" --debugcon "file:$out/$name.log" \
        --serial "file:$out/$name.serial" --report "$out/$name.json" \
        --timeout 60 --max-instructions 200000000 </dev/null 2>"$out/$name.stderr"
    rc=$?
    [ "${VERBOSE:-0}" = 1 ] && cat "$out/$name.log"
    if [ "$rc" = 33 ]; then
        pass=$((pass + 1)); echo "ok    $name"
    else
        fail=$((fail + 1)); failed+=("$name")
        echo "FAIL  $name: exit $rc ($(meaning "$rc"))"
        { grep -a 'FAIL' "$out/$name.log" | head -3; tail -c 300 "$out/$name.stderr"; } | sed 's/^/      /'
    fi
done
[ "$fail" = 0 ] || echo "failed guests: ${failed[*]} (logs in $out/NAME.log)"
echo "guests: $pass passed, $fail failed"
[ "$fail" = 0 ]
