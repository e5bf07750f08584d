#!/usr/bin/env python3
"""make bench: trapeze against QEMU (TCG) and Bochs on the same guests.

    scripts/bench.py [--runs N] [--emulators LIST] [--linux] [--json FILE]

Guests:
  nanobench   tests/guests/bench/nanobench.asm, a Multiboot kernel whose
              phases (Adams & Agesen, ASPLOS 2006) are bracketed by marker
              lines "PHASE name N" on COM1. The harness reads COM1 from a
              pipe, timestamps each line with time.monotonic() on arrival,
              subtracts the "null" phase (two markers, nothing between: the
              cost of one marker line) and reports ns per iteration.
  linux       (--linux) build/images/vmlinuz + initramfs.cpio.gz booted
              directly (trapeze emulate and vmm, QEMU; Bochs has no direct
              Linux boot): time from process start to the shell, then a
              scripted shell workload, each command timed by its end marker.

Emulators (each run alternates them, rotating the order every round):
  trapeze     build/trapeze run --mode emulate
  vmm         build/trapeze run --mode vmm (a build without shadow paging
              stops a guest that enables paging, exit status 14: the phases
              after it are then reported n/a)
  qemu        qemu-system-i386 -accel tcg (one vCPU: single-threaded TCG)
  bochs       Debian's bochs 2.7, cpu p2_klamath, booted from a floppy
              through tests/guests/bochs/mbboot.asm, COM1 to a FIFO

Prints per-phase medians over the runs and the time ratios trapeze/QEMU
and trapeze/Bochs (> 1: trapeze is slower), vmm/emulate with the extra time
per iteration that vmm mode's exits cost, and then, for trapeze alone:
  scaling     nanobench in one VM on one host thread, then in two VMs of one
              process on two threads (--threads 2): aggregate guest
              instructions per second of two over one, from the JSON report
  memory      the isolation guest (it writes every page of its RAM) with
              -m 64 and -m 256: peak resident size against guest RAM, and
              the fixed overhead (peak RSS minus RAM)
Standard library only.
"""
import argparse
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
OUT = os.path.join(BUILD, "bench")

PHASE_RE = re.compile(rb"^PHASE (\S+) (\d+)\s*$")

# Guest instructions per iteration (a REP MOVSD of 1024 dwords counted as
# 1024: one per element moved), for the MIPS-like rate. Mirrors nanobench.asm.
INSNS_PER_ITER = {
    "alu": 10, "movsd": 1024 + 5, "bytecopy": 4096 * 6 + 5, "callret": 4,
    "syscall": 4, "clisti": 6, "portin": 3, "divzero": 6, "pagefault": 4,
    "ptewrite": 9, "cr3": 5,
}
PAGING_PHASES = ("pagefault", "ptewrite", "cr3")
ALL_EMUS = ("trapeze", "vmm", "qemu", "bochs")


def build_guest():
    os.makedirs(OUT, exist_ok=True)
    lib = os.path.join(ROOT, "tests", "guests", "lib") + "/"
    kern = os.path.join(OUT, "nanobench.bin")
    subprocess.run(["nasm", "-f", "bin", "-Werror", "-I", lib, "-o", kern,
                    os.path.join(ROOT, "tests", "guests", "bench", "nanobench.asm")], check=True)
    boot = os.path.join(OUT, "mbboot.bin")
    subprocess.run(["nasm", "-f", "bin", "-o", boot,
                    os.path.join(ROOT, "tests", "guests", "bochs", "mbboot.asm")], check=True)
    # Floppy for Bochs: boot sector, then the kernel from sector 2 (mbboot
    # loads at most 64 sectors).
    data = open(kern, "rb").read()
    if len(data) > 64 * 512:
        sys.exit("bench: nanobench.bin is larger than mbboot.asm loads (64 sectors)")
    img = bytearray(1474560)
    b = open(boot, "rb").read()
    img[:len(b)] = b
    img[512:512 + len(data)] = data
    fimg = os.path.join(OUT, "nanobench.img")
    with open(fimg, "wb") as f:
        f.write(img)
    return kern, fimg


def bochsrc(path, img, fifo, log):
    # Fastest honest settings of the Debian build: no GUI work (rfb, no
    # client), no logging, no sound; ips only scales virtual time.
    with open(path, "w") as f:
        f.write("""megs: 32
cpu: model=p2_klamath, ips=200000000
clock: sync=none
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
floppya: 1_44=%s, status=inserted
boot: floppy
display_library: rfb, options="timeout=0"
com1: enabled=1, mode=file, dev=%s
speaker: enabled=0
plugin_ctrl: speaker=0, sb16=0, es1370=0
log: %s
panic: action=fatal
error: action=ignore
info: action=ignore
debug: action=ignore
""" % (img, fifo, log))


class Run:
    """One emulator process whose COM1 output arrives on a file descriptor;
    each complete line is kept with the monotonic time it arrived."""

    def __init__(self, argv, fd=None, stdin=None):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=stdin or subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if fd is None else subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.fd = self.proc.stdout.fileno() if fd is None else fd
        self.partial = b""
        self.buf = bytearray()
        self.lines = []          # (time, bytes)

    def pump(self, timeout):
        """Reads what arrives within timeout. False at EOF."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        now = time.monotonic()
        try:
            d = os.read(self.fd, 65536)
        except BlockingIOError:
            return True
        if not d:
            return False
        self.buf += d
        self.partial += d
        while b"\n" in self.partial:
            ln, self.partial = self.partial.split(b"\n", 1)
            self.lines.append((now, ln.rstrip(b"\r")))
        return True

    def wait_line(self, pred, timeout):
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for t, ln in self.lines[seen:]:
                if pred(ln):
                    return t
            seen = len(self.lines)
            if time.monotonic() >= deadline:
                return None
            if not self.pump(min(0.2, deadline - time.monotonic())) and self.proc.poll() is not None:
                return None

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def nano_argv(emu, kern, a):
    if emu in ("trapeze", "vmm"):
        return [a.trapeze, "run", "--kernel", kern, "--serial", "stdio", "--debugcon", "none",
                "--mode", "emulate" if emu == "trapeze" else "vmm", "--timeout", str(a.timeout)]
    if emu == "qemu":
        return ["qemu-system-i386", "-accel", "tcg", "-cpu", "pentium2", "-m", "32",
                "-display", "none", "-no-reboot", "-kernel", kern, "-serial", "stdio",
                "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    raise ValueError(emu)


def run_nano(emu, kern, img, a):
    """One nanobench run: {phase: seconds} (marker cost not yet removed),
    {phase: N}, and the status line."""
    tmp = None
    if emu == "bochs":
        tmp = tempfile.mkdtemp(prefix="bench-bochs-")
        fifo = os.path.join(tmp, "com1")
        os.mkfifo(fifo)
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        wfd = os.open(fifo, os.O_WRONLY)      # ours: no EOF before Bochs opens it
        rc = os.path.join(tmp, "bochsrc")
        bochsrc(rc, img, fifo, os.path.join(tmp, "bochs.log"))
        r = Run(["bochs", "-q", "-f", rc], fd=rfd, stdin=subprocess.PIPE)
        r.proc.stdin.write(b"c\n")            # Debian's bochs starts in its debugger
        r.proc.stdin.flush()
    else:
        r = Run(nano_argv(emu, kern, a))
    try:
        r.wait_line(lambda ln: ln == b"DONE", a.timeout)
    finally:
        r.kill()
        if tmp:
            os.close(rfd)
            os.close(wfd)
            for n in os.listdir(tmp):
                os.unlink(os.path.join(tmp, n))
            os.rmdir(tmp)
    open_ = {}
    dur, count = {}, {}
    for t, ln in r.lines:
        m = PHASE_RE.match(ln)
        if not m:
            continue
        name, n = m.group(1).decode(), int(m.group(2))
        if name in open_:
            dur[name] = t - open_.pop(name)
            count[name] = n
        else:
            open_[name] = t
    status = "done" if any(ln == b"DONE" for _, ln in r.lines) else \
        "stopped (exit status %s)" % r.proc.returncode
    return dur, count, status


LINUX_WORKLOAD = [
    # (name, command): each timed from typing it to its end marker.
    ("sh-loop", "i=0; s=0; while [ $i -lt 20000 ]; do s=$((s+i)); i=$((i+1)); done; echo $s"),
    ("awk-float", "awk 'BEGIN{s=0; for(i=1;i<=200000;i++) s+=1/(i*i); printf \"%.6f\\n\", s}'"),
    ("fork-exec", "for i in $(seq 200); do /bin/true; done"),
]


def run_linux(emu, a):
    kernel = os.path.join(a.images, "vmlinuz")
    initrd = os.path.join(a.images, "initramfs.cpio.gz")
    append = "console=ttyS0,115200"
    if emu in ("trapeze", "vmm"):
        argv = [a.trapeze, "run", "--mode", "emulate" if emu == "trapeze" else "vmm",
                "--kernel", kernel, "--initrd", initrd, "--append", append,
                "--memory", "128", "--serial", "stdio", "--debugcon", "none",
                "--timeout", str(a.linux_timeout)]
    elif emu == "qemu":
        argv = ["qemu-system-i386", "-accel", "tcg", "-cpu", "pentium2", "-m", "128",
                "-kernel", kernel, "-initrd", initrd, "-append", append, "-display", "none",
                "-serial", "stdio", "-monitor", "none", "-no-reboot"]
    else:
        return {}
    r = Run(argv, stdin=subprocess.PIPE)
    res = {}
    try:
        t = r.wait_line(lambda ln: b"trapeze-guest: ready" in ln, a.linux_timeout)
        if t is None:
            return res
        # The prompt "# " has no newline: look for it in the raw output
        # after the ready line (kernel messages may follow it).
        since = r.buf.find(b"trapeze-guest: ready")
        deadline = time.monotonic() + 60
        while r.buf.find(b"# ", since) < 0:
            if time.monotonic() >= deadline or not r.pump(0.05):
                return res
        res["boot-to-shell"] = time.monotonic() - r.t0
        for k, (name, cmd) in enumerate(LINUX_WORKLOAD):
            mark = "@@bench%d:" % k
            t0 = time.monotonic()
            r.proc.stdin.write(("%s; echo \"%s$?@@\"\n" % (cmd, mark)).encode())
            r.proc.stdin.flush()
            want = re.compile((re.escape(mark) + r"\d+@@").encode())
            t = r.wait_line(lambda ln: want.search(ln) is not None, a.linux_timeout)
            if t is None:
                break
            res[name] = t - t0
        r.proc.stdin.write(b"poweroff -f\n")
        r.proc.stdin.flush()
    finally:
        r.kill()
    return res


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if v >= 1000:
        return "%.0f%s" % (v, unit)
    if v >= 10:
        return "%.1f%s" % (v, unit)
    return "%.2f%s" % (v, unit)


def run_scaling(a, kern):
    """Aggregate instructions/s of two VMs on two threads over one VM."""
    def once(nvm):
        rep = os.path.join(OUT, "scaling-%d.json" % nvm)
        argv = [a.trapeze, "run", "--threads", str(nvm), "--report", rep]
        for k in range(nvm):
            argv += ["--vm", "name=vm%d,kernel=%s,serial=none,debugcon=none" % (k, kern)]
        t0 = time.monotonic()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=a.timeout)
        wall = time.monotonic() - t0
        r = json.load(open(rep))
        return sum(v["instructions_retired"] for v in r["vms"]) / wall
    # A nanobench run lasts a fraction of a second, so the host's scheduling
    # noise is a large part of one; at least five runs each, alternating.
    one, two = [], []
    for _ in range(max(a.runs, 5)):
        one.append(once(1))
        two.append(once(2))
    return statistics.median(one), statistics.median(two)


def run_memory(a):
    """Peak RSS (KiB) of the isolation guest, which touches all of its RAM."""
    lib = os.path.join(ROOT, "tests", "guests", "lib") + "/"
    iso = os.path.join(OUT, "isolation.bin")
    subprocess.run(["nasm", "-f", "bin", "-Werror", "-I", lib, "-o", iso,
                    os.path.join(ROOT, "tests", "guests", "isolation.asm")], check=True)
    res = {}
    for mib in (64, 256):
        p = subprocess.run(["/usr/bin/time", "-f", "maxrss %M", a.trapeze, "run", "--kernel",
                            iso, "-m", str(mib), "--append", "a0", "--serial", "none",
                            "--debugcon", "none"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=a.timeout)
        m = re.search(r"maxrss (\d+)", p.stderr)
        res[mib] = (int(m.group(1)) if m else None, p.returncode)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--emulators", default=",".join(ALL_EMUS),
                    help="comma-separated subset of %s" % ",".join(ALL_EMUS))
    ap.add_argument("--trapeze", default=os.path.join(BUILD, "trapeze"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--linux", action="store_true", help="also time the Linux guest")
    ap.add_argument("--images", default=os.path.join(BUILD, "images"))
    ap.add_argument("--linux-timeout", type=float, default=600)
    ap.add_argument("--json", help="write the raw per-run figures here")
    a = ap.parse_args()
    emus = [e for e in a.emulators.split(",") if e]
    for e in emus:
        if e not in ALL_EMUS:
            sys.exit("bench: unknown emulator %s" % e)
    need = {"trapeze": a.trapeze, "vmm": a.trapeze, "qemu": "qemu-system-i386", "bochs": "bochs"}
    for e in emus:
        if not shutil.which(need[e]):
            sys.exit("bench: %s needs %s, which is not installed or not built "
                     "(make bench installs qemu-system-x86 and bochs; or pass "
                     "--emulators without it)" % (e, need[e]))
    kern, img = build_guest()

    raw = {e: [] for e in emus}          # per run: {phase: ns/iter}
    counts = {}
    linux = {e: [] for e in emus}
    for rnd in range(a.runs):
        order = emus[rnd % len(emus):] + emus[:rnd % len(emus)]
        for e in order:
            dur, cnt, status = run_nano(e, kern, img, a)
            null = dur.get("null", 0.0)
            ns = {}
            for p, d in dur.items():
                if p == "null":
                    continue
                ns[p] = max(d - null, 0.0) / cnt[p] * 1e9
                counts[p] = cnt[p]
            total = sum(dur.values())
            print("run %d %-8s %-28s phases %2d, marker %.2f ms, phases total %.2f s"
                  % (rnd + 1, e, status, len(ns), null * 1e3, total), flush=True)
            raw[e].append(ns)
            if a.linux and e in ("trapeze", "vmm", "qemu"):
                res = run_linux(e, a)
                print("run %d %-8s linux: %s" % (rnd + 1, e, ", ".join(
                    "%s %.2f s" % kv for kv in res.items()) or "failed"), flush=True)
                linux[e].append(res)

    phases = [p for p in INSNS_PER_ITER if p in counts]

    def med(e, p):
        v = [r[p] for r in raw.get(e, []) if p in r]
        return statistics.median(v) if v else None

    print()
    print("nanobench: median ns per iteration over %d runs (lower is better)" % a.runs)
    hdr = "%-10s %9s" % ("phase", "N") + "".join("%10s" % e for e in emus)
    ratio_cols = []
    for t in ("trapeze", "vmm"):
        for ref in ("qemu", "bochs"):
            if t in emus and ref in emus:
                ratio_cols.append((t, ref))
    if "trapeze" in emus and "vmm" in emus:
        ratio_cols.append(("vmm", "trapeze"))
    hdr += "".join("%15s" % ("%s/%s" % (t, ref)) for t, ref in ratio_cols)
    if ("vmm", "trapeze") in ratio_cols:
        hdr += "%14s" % "vmm-emu ns"
    print(hdr)
    for p in phases:
        row = "%-10s %9d" % (p, counts[p]) + "".join("%10s" % fmt(med(e, p)) for e in emus)
        for t, ref in ratio_cols:
            x, y = med(t, p), med(ref, p)
            row += "%15s" % (fmt(x / y) if x is not None and y else "n/a")
        if ("vmm", "trapeze") in ratio_cols:
            x, y = med("vmm", p), med("trapeze", p)
            row += "%14s" % (fmt(x - y) if x is not None and y is not None else "n/a")
        print(row)
    print()
    print("MIPS-like rates (guest instructions per microsecond; REP MOVSD elements counted)")
    print("%-10s" % "phase" + "".join("%10s" % e for e in emus))
    for p in phases:
        print("%-10s" % p + "".join(
            "%10s" % (fmt(INSNS_PER_ITER[p] * 1e3 / med(e, p)) if med(e, p) else "n/a")
            for e in emus))
    if a.linux:
        print()
        lemus = [e for e in ("trapeze", "vmm", "qemu") if e in emus]
        print("linux: median seconds (Bochs n/a)")
        names = ["boot-to-shell"] + [n for n, _ in LINUX_WORKLOAD]
        lcols = [(t, "qemu") for t in ("trapeze", "vmm") if t in emus and "qemu" in emus]
        print("%-14s" % "step" + "".join("%10s" % e for e in lemus)
              + "".join("%15s" % ("%s/%s" % c) for c in lcols))

        def lmed(e, n):
            v = [r[n] for r in linux.get(e, []) if n in r]
            return statistics.median(v) if v else None
        for n in names:
            row = "%-14s" % n + "".join("%10s" % fmt(lmed(e, n)) for e in lemus)
            for t, ref in lcols:
                x, y = lmed(t, n), lmed(ref, n)
                row += "%15s" % (fmt(x / y) if x is not None and y else "n/a")
            print(row)
    scaling = memory = None
    if "trapeze" in emus:
        one, two = run_scaling(a, kern)
        scaling = {"one_vm_ips": one, "two_vms_ips": two}
        print()
        print("scaling: nanobench, aggregate guest MIPS: one VM on one thread %.1f, "
              "two VMs on two threads %.1f: %.2fx" % (one / 1e6, two / 1e6, two / one))
        memory = run_memory(a)
        print("memory: isolation guest (writes all its RAM), peak resident size:")
        for mib, (kib, rc) in sorted(memory.items()):
            if kib is None:
                print("  -m %d: n/a (exit status %d)" % (mib, rc))
                continue
            print("  -m %-4d %7.1f MiB = %.3f x RAM, fixed overhead %.1f MiB (exit status %d)"
                  % (mib, kib / 1024, kib / 1024 / mib, kib / 1024 - mib, rc))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": a.runs, "counts": counts, "ns_per_iter": raw,
                       "linux": linux, "scaling": scaling,
                       "memory": {str(k): v[0] for k, v in (memory or {}).items()}}, f, indent=1)


if __name__ == "__main__":
    main()
