#!/bin/sh
# build.sh [OUTDIR] -- assemble every guest kernel in tests/guests into OUTDIR
# (default build/guests). Idempotent and quiet; exits non-zero on any error.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/guests}
mkdir -p "$out"
command -v nasm >/dev/null 2>&1 || { echo "build.sh: nasm not found" >&2; exit 1; }
for src in "$here"/*.asm; do
    name=$(basename "$src" .asm)
    nasm -f bin -Werror -I "$here/lib/" -o "$out/$name.bin.tmp" "$src" \
        || { rm -f "$out/$name.bin.tmp"; echo "build.sh: failed to assemble $src" >&2; exit 1; }
    mv -f "$out/$name.bin.tmp" "$out/$name.bin"
done
