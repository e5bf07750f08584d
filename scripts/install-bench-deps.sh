#!/bin/bash
# install-bench-deps.sh -- what `make bench` needs beyond `make deps`: QEMU
# (qemu-system-i386, TCG), Bochs with its BIOS and VGA BIOS, and nasm. Installs
# the missing Debian packages with apt-get; does nothing when all are there.
# Kept apart from install-deps.sh: `make test` never needs Bochs.
set -eu
need=()
command -v qemu-system-i386 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v bochs >/dev/null 2>&1 || need+=(bochs)
[ -f /usr/share/bochs/BIOS-bochs-latest ] || need+=(bochsbios)
[ -f /usr/share/vgabios/vgabios.bin ] || need+=(vgabios)
command -v nasm >/dev/null 2>&1 || need+=(nasm)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-bench-deps: installing ${need[*]}"
$sudo apt-get update -qq || echo "install-bench-deps: apt-get update failed in part; installing from the lists it left" >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
