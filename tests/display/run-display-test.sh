#!/usr/bin/env bash
# run-display-test.sh BUILD -- the window's test (`make test-display`), under
# Xvfb: one trapeze process with two VMs in the window, a Linux guest on its
# serial console (a terminal tile) and the vga_pattern guest (VGA tile).
# Through the X server (xdotool) it switches focus, takes screenshots with
# the window's Ctrl+Alt+S, advances the VGA guest with the space bar and
# types a shell command into Linux; then checks the pictures pixel by pixel
# (check_png.py) and the command's output in Linux's serial log. The window
# with both guests is kept as BUILD/display/window.png (docs/screenshot.png).
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out="$build/display"
images="$build/images"
fail() { echo "test-display: FAIL: $*" >&2; exit 1; }
for tool in Xvfb xdotool nasm; do
    command -v $tool >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done
[ -f "$images/vmlinuz" ] || fail "$images/vmlinuz is missing (make images)"
rm -rf "$out" && mkdir -p "$out" && cd "$out" || exit 1
nasm -f bin -Werror -I "$here/../guests/lib/" -o vga_pattern.bin "$here/vga_pattern.asm" ||
    fail "cannot assemble vga_pattern.asm"

exec 3<> <(:)
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp >xvfb.log 2>&1 &
xvfb=$!
read -r -t 10 num <&3 || fail "Xvfb did not start (see $out/xvfb.log)"
export DISPLAY=":$num"
cleanup() { kill "$tp" "$xvfb" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

"$build/trapeze" run --display sdl --threads 2 --timeout 400 \
    --vm "name=linux,kernel=$images/vmlinuz,initrd=$images/initramfs.cpio.gz,append=console=ttyS0,,115200,serial=file:linux.log,debugcon=none" \
    --vm "name=vga,kernel=vga_pattern.bin,serial=none,debugcon=file:vga.log" \
    >trapeze.out 2>trapeze.err &
tp=$!

# wait_for FILE TEXT SECONDS
wait_for() {
    for ((i = 0; i < $3 * 2; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 $tp 2>/dev/null || fail "trapeze ended early (see $out/trapeze.err)"
        sleep 0.5
    done
    fail "no '$2' in $1 after $3 s"
}
key() { xdotool key "$@"; sleep 0.5; }
# click X Y: a click in the window (focuses the tile there)
click() { xdotool mousemove --window "$win" "$1" "$2" click 1; sleep 0.5; }
wait_shot() { wait_for trapeze.err "saved to $1" 10; }

for ((i = 0; i < 20; i++)); do xdotool search --name trapeze >/dev/null 2>&1 && break; sleep 0.5; done
win=$(xdotool search --name trapeze | head -1)
[ -n "$win" ] || fail "no trapeze window"
sleep 1
click 990 200                                    # focus: the vga tile (right half)
wait_for vga.log "text ready" 60
sleep 0.5
key ctrl+alt+s && wait_shot trapeze-vga-0.png
key space
wait_for vga.log "mode 13h ready" 60
sleep 0.5
key ctrl+alt+s && wait_shot trapeze-vga-1.png
python3 "$here/check_png.py" text trapeze-vga-0.png || fail "the text screen"
python3 "$here/check_png.py" 13h trapeze-vga-1.png || fail "the mode 13h picture"

click 330 200                                    # focus: the Linux tile (left half)
wait_for linux.log "trapeze-guest: ready" 240
sleep 2
xdotool type --delay 60 'echo win$((6*7))dow'
key Return
wait_for linux.log "win42dow" 30
sleep 1
key ctrl+alt+s && wait_shot trapeze-linux-2.png
cp trapeze-screen-2.png window.png
key ctrl+alt+q
for ((i = 0; i < 20; i++)); do kill -0 $tp 2>/dev/null || break; sleep 0.5; done
kill -0 $tp 2>/dev/null && fail "Ctrl+Alt+Q did not end the run"
echo "test-display: PASS (text and 13h pixels, typed command echoed; window in $out/window.png)"
