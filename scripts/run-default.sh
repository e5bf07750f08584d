#!/usr/bin/env bash
# run-default.sh BUILD -- `make run`: boots Debian's i686 Linux with the
# project's busybox initramfs (built by `make images` from Debian's i386
# packages), headless, its serial console on this terminal. Ctrl-A x ends the
# run (as QEMU's -nographic); in the guest, `poweroff -f` ends it too.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
images="$build/images"

if ! bash "$here/scripts/build-guest-images.sh" "$images" >/dev/null; then
    echo "make run: could not build the Linux guest images (see above)." >&2
    echo "A bare-metal guest boots without them: $build/trapeze run --kernel build/guests/smoke.bin" >&2
    exit 1
fi
display=none
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    display=auto # the window; trapeze says so when it falls back to the console
    echo "make run: booting Debian's Linux in the window (Ctrl+Alt+Q quits, Ctrl+Alt+H: keys)" >&2
else
    echo "make run: no display (DISPLAY and WAYLAND_DISPLAY unset): booting Debian's Linux" \
         "on the serial console (Ctrl-A x ends the run)" >&2
fi
"$build/trapeze" run --display "$display" --kernel "$images/vmlinuz" --initrd "$images/initramfs.cpio.gz" \
    --append "console=ttyS0,115200" -m 128 --serial stdio --debugcon none
rc=$?
echo "make run: trapeze exited with status $rc (see README.md, Exit statuses)" >&2
# The guest's own ending is not make's failure; only a refused start is.
[ "$rc" != 2 ]
