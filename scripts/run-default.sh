#!/usr/bin/env bash
# run-default.sh BUILD -- `make run`: boots the default guest on the console.
# Today that is the "hello" Multiboot kernel from tests/guests (or, until it
# exists, the "smoke" guest), with its debug console and COM1 on this
# terminal. Later: Debian's Linux kernel with a busybox initramfs.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
out="$build/guests"

if [ ! -f "$here/tests/guests/build.sh" ]; then
    echo "make run: no guest kernels in this tree yet (tests/guests/build.sh is missing)." >&2
    echo "Boot any Multiboot kernel with: $build/trapeze run --kernel FILE" >&2
    exit 1
fi
sh "$here/tests/guests/build.sh" "$out" || exit 1
for name in hello smoke; do
    if [ -f "$out/$name.bin" ]; then
        echo "make run: booting $out/$name.bin (debug console and COM1 below)" >&2
        "$build/trapeze" run --kernel "$out/$name.bin" --timeout 60
        rc=$?
        echo "make run: trapeze exited with status $rc (33 = the guest passed; see README.md)" >&2
        # The guest's own verdict is not make's: only a refused start fails.
        [ "$rc" != 2 ]
        exit

    fi
done
echo "make run: no default guest (hello or smoke) was built in $out." >&2
echo "Boot any Multiboot kernel with: $build/trapeze run --kernel FILE" >&2
exit 1
