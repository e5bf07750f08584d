#!/usr/bin/env python3
"""Boots Debian's i686 Linux kernel with the busybox initramfs through the
Linux boot protocol, headless, and drives its serial console.

    tests/linux/boot-test.py [--emulator trapeze|qemu] [--trapeze PATH]
                             --kernel VMLINUZ --initrd INITRD [options]

It waits for the init's marker ("trapeze-guest: ready") and the shell
prompt, then runs, one at a time, each command waiting for its own end
marker:
  uname -a                      Linux 6.1, i686
  cat /proc/cpuinfo             one processor with an FPU
  an integer loop in the shell  exact result
  awk floating point            Newton's sqrt(2), e by its series, 355/113
  dmesg | grep -i -E 'error|warn|bug'
                                every line matched by the allowlist
                                (tests/linux/dmesg-allowlist.txt)
  device checks                 PIT timer ticking on IRQ 0, 16550A at 0x3f8,
                                rtc_cmos registered and readable, i8042
                                ports found, the PS/2 keyboard identified
and finally `poweroff -f`. The whole console transcript must be free of
kernel warnings, oopses, panics and "clocksource ... unstable".

With --emulator qemu it runs qemu-system-i386 -cpu pentium2 instead, to
validate the images and this script against a reference machine.

Exit status 0 when every check passed; 1 with a list of failures otherwise.
The console transcript goes to --log (default build/linux-boot.log).
Standard library only.
"""
import argparse
import functools
import os
import re
import select
import signal
import subprocess
import sys
import time

# Progress lines appear as they happen, also when stdout is a file or pipe.
print = functools.partial(print, flush=True)  # noqa: A001

READY = b"trapeze-guest: ready"
PROMPT = b"# "
DEFAULT_APPEND = "console=ttyS0,115200"

# Anywhere in the console transcript: each of these fails the run.
FATAL_PATTERNS = [
    (rb"Kernel panic", "kernel panic"),
    (rb"\bOops\b|Oops:", "kernel oops"),
    (rb"\bBUG:", "kernel BUG"),
    (rb"WARNING: CPU:|------------\[ cut here \]", "kernel warning (WARN_ON)"),
    (rb"clocksource.*unstable|Marking TSC unstable", "unstable clocksource"),
    (rb"Unable to handle kernel", "kernel fault"),
    (rb"general protection fault", "general protection fault in the kernel"),
    (rb"invalid opcode:", "invalid opcode in the kernel"),
    (rb"segfault at", "a user process crashed"),
    (rb"Illegal instruction", "a user process hit an illegal instruction"),
]

# Devices the kernel must find as real ones: (what, command, regex on its output).
DEVICE_CHECKS = [
    ("PIT timer interrupts on IRQ 0", "cat /proc/interrupts",
     r"(?m)^\s*0:\s+([1-9]\d*)\s+.*\btimer\b"),
    ("16550A UART at 0x3f8", "dmesg | grep ttyS0",
     r"ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A"),
    ("second 16550A UART at 0x2f8", "dmesg | grep ttyS1",
     r"ttyS1 at I/O 0x2f8 \(irq = 3, base_baud = 115200\) is a 16550A"),
    ("RTC (rtc_cmos) registered", "dmesg | grep -i rtc",
     r"rtc_cmos .*registered as rtc0"),
    ("RTC readable", "cat /sys/class/rtc/rtc0/date /sys/class/rtc/rtc0/time",
     r"\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d"),
    ("i8042 keyboard controller", "dmesg | grep -i i8042",
     r"serio: i8042 KBD port at 0x60,0x64 irq 1"),
    ("PS/2 keyboard behind the i8042 (atkbd)", "dmesg | grep -i input",
     r"input: AT Translated Set 2 keyboard"),
    ("system clock set from the RTC", "dmesg | grep -i -E 'rtc|clock'",
     r"setting system clock to \d{4}-"),
    ("ACPI PM timer as a clocksource", "cat /sys/devices/system/clocksource/clocksource0/available_clocksource",
     r"\bacpi_pm\b"),
]


class Console:
    """The emulator's serial console: output collected, input typed."""

    def __init__(self, argv, log_path, verbose):
        self.buf = bytearray()
        self.log = open(log_path, "wb")
        self.verbose = verbose
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.stderr = bytearray()
        self.fatal = None

    def pump(self, timeout):
        """Reads whatever arrives within timeout seconds. False at EOF."""
        fds = [f for f in (self.proc.stdout, self.proc.stderr) if f and not f.closed]
        if not fds:
            time.sleep(timeout)
            return False
        r, _, _ = select.select(fds, [], [], timeout)
        alive = True
        for f in r:
            d = os.read(f.fileno(), 65536)
            if not d:
                f.close()
                if f is self.proc.stdout:
                    alive = False
                continue
            if f is self.proc.stderr:
                self.stderr += d
                continue
            self.buf += d
            self.log.write(d)
            self.log.flush()
            if self.verbose:
                sys.stdout.buffer.write(d)
                sys.stdout.flush()
        if self.fatal is None:
            for pat, what in FATAL_PATTERNS:
                m = re.search(pat, self.buf)
                if m:
                    start = self.buf.rfind(b"\n", 0, m.start()) + 1
                    end = self.buf.find(b"\n", m.end())
                    line = self.buf[start:end if end >= 0 else len(self.buf)]
                    self.fatal = "%s: %s" % (what, line.decode(errors="replace").strip())
                    break
        return alive

    def wait_for(self, pattern, timeout, since=0):
        """Waits for regex pattern (bytes) in the output from offset since.
        Returns the match, or None on timeout, EOF or a fatal kernel message."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf, since)
            if m:
                return m
            if self.fatal or time.monotonic() >= deadline:
                return None
            if not self.pump(min(0.2, max(0.0, deadline - time.monotonic()))):
                if self.proc.stdout.closed:
                    m = rx.search(self.buf, since)
                    return m
        return None

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def finish(self, timeout):
        """Waits for the emulator to exit; kills it after timeout. Returns its status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.2)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return None
        while self.pump(0.05):
            pass
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Session:
    def __init__(self, con, cmd_timeout):
        self.con = con
        self.cmd_timeout = cmd_timeout
        self.n = 0

    def run(self, cmd):
        """Types cmd, returns (output, status) or (None, None) on timeout.
        The end marker is printed by an echo whose text, as echoed by the
        terminal, differs from its output ($? expands), so the marker cannot
        be mistaken for the command line."""
        self.n += 1
        since = len(self.con.buf)
        self.con.type("%s; echo \"@@end%d:$?@@\"\n" % (cmd, self.n))
        m = self.con.wait_for(rb"@@end%d:(\d+)@@" % self.n, self.cmd_timeout, since)
        if not m:
            return None, None
        out = bytes(self.con.buf[since:m.start()])
        # Drop the echoed command line, which the line editor may have
        # wrapped: it ends with the marker's unexpanded text.
        echo_end = out.find(b'$?@@"')
        nl = out.find(b"\n", echo_end) if echo_end >= 0 else -1
        out = out[nl + 1:] if nl >= 0 else b""
        text = out.decode(errors="replace").replace("\r", "")
        # Wait for the next prompt so typed input never races the shell.
        self.con.wait_for(re.escape(PROMPT), self.cmd_timeout, m.end())
        return text, int(m.group(1))


def load_allowlist(path):
    pats = []
    with open(path, encoding="utf-8") as f:
        for ln in f:
            ln = ln.rstrip("\n")
            if not ln.strip() or ln.lstrip().startswith("#"):
                continue
            pats.append(re.compile(ln))
    return pats


def emulator_argv(a):
    if a.emulator == "qemu":
        return ["qemu-system-i386", "-cpu", "pentium2", "-m", str(a.memory),
                "-kernel", a.kernel, "-initrd", a.initrd, "-append", a.append,
                "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot"]
    if a.cdrom:
        boot = ["--cdrom", a.cdrom, "--boot", "d"]   # SeaBIOS, El Torito, ISOLINUX
    elif a.hda:
        boot = ["--hda", a.hda, "--boot", "c"]       # SeaBIOS, MBR, SYSLINUX
    else:
        boot = ["--kernel", a.kernel, "--initrd", a.initrd, "--append", a.append]
    argv = [a.trapeze, "run"] + boot + ["--memory", str(a.memory), "--serial", "stdio",
                                        "--debugcon", "none", "--timeout", str(a.timeout)]
    if a.report:
        argv += ["--report", a.report]
    if a.deterministic:
        argv += ["--deterministic"]
    if a.mode:
        argv += ["--mode", a.mode]
    return argv


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emulator", choices=["trapeze", "qemu"], default="trapeze")
    ap.add_argument("--trapeze", default=os.path.join(root, "build", "trapeze"))
    ap.add_argument("--kernel")
    ap.add_argument("--initrd")
    ap.add_argument("--cdrom", help="boot this ISO through the firmware instead of --kernel")
    ap.add_argument("--hda", help="boot this disk image through the firmware instead")
    ap.add_argument("--append", default=DEFAULT_APPEND)
    ap.add_argument("--memory", type=int, default=128, help="MiB (default 128)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds for the whole run (default 900)")
    ap.add_argument("--boot-timeout", type=float, default=None,
                    help="seconds until the shell is ready (default: --timeout)")
    ap.add_argument("--cmd-timeout", type=float, default=120)
    ap.add_argument("--realtime", dest="deterministic", action="store_false",
                    help="pace idle time to the host clock instead of trapeze's "
                         "--deterministic virtual time (the default: the guest's timing "
                         "then depends only on what it executes, not on the host's load)")
    ap.add_argument("--allowlist", default=os.path.join(root, "tests", "linux",
                                                        "dmesg-allowlist.txt"))
    ap.add_argument("--log", default=os.path.join(root, "build", "linux-boot.log"))
    ap.add_argument("--report", default=None, help="trapeze --report FILE")
    ap.add_argument("--mode", default=None, help="trapeze --mode (emulate, trap, vmm)")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the console")
    a = ap.parse_args()

    if a.cdrom or a.hda:
        if a.emulator != "trapeze":
            print("boot-test: --cdrom/--hda are for trapeze", file=sys.stderr)
            return 2
        files = [a.cdrom or a.hda]
    elif not (a.kernel and a.initrd):
        print("boot-test: give --kernel and --initrd, or --cdrom, or --hda", file=sys.stderr)
        return 2
    else:
        files = [a.kernel, a.initrd]
    for f in files:
        if not os.path.isfile(f):
            print("boot-test: %s: no such file (run scripts/build-guest-images.sh)" % f,
                  file=sys.stderr)
            return 2
    allow = load_allowlist(a.allowlist)
    if a.cdrom or a.hda:  # the firmware's own known messages (see that file)
        allow += load_allowlist(os.path.join(os.path.dirname(a.allowlist),
                                             "dmesg-allowlist-firmware.txt"))
    os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)

    failures = []
    passed = []

    def check(ok, what, detail=""):
        (passed if ok else failures).append(what + (": " + detail if detail and not ok else ""))
        print("boot-test: %s %s%s" % ("ok  " if ok else "FAIL", what,
                                      "" if ok or not detail else " -- " + detail))
        return ok

    t0 = time.monotonic()
    con = Console(emulator_argv(a), a.log, a.verbose)
    try:
        boot_to = a.boot_timeout or a.timeout
        m = con.wait_for(re.escape(READY), boot_to)
        if not check(m is not None, "boot to the init's ready marker",
                     con.fatal or ("emulator exited" if con.proc.poll() is not None
                                   else "no marker within %gs" % boot_to)):
            raise StopIteration
        print("boot-test: shell ready after %.1fs" % (time.monotonic() - t0))
        if not check(con.wait_for(re.escape(PROMPT), a.cmd_timeout, m.end()) is not None,
                     "shell prompt"):
            raise StopIteration
        s = Session(con, a.cmd_timeout)

        out, rc = s.run("uname -a")
        check(out is not None and rc == 0 and re.search(r"Linux \S+ 6\.1\.\S+-686 .* i686", out),
              "uname -a", repr(out))
        if out:
            print("boot-test:   " + out.strip())

        out, rc = s.run("cat /proc/cpuinfo")
        ok = out is not None and rc == 0 and re.search(r"processor\s*: 0", out) \
            and re.search(r"(?m)^fpu\s*: yes", out) and not re.search(r"processor\s*: 1", out)
        check(ok, "/proc/cpuinfo: one processor with an FPU", repr(out))
        if out:
            mm = re.search(r"model name\s*: (.*)", out)
            fl = re.search(r"flags\s*: (.*)", out)
            print("boot-test:   model name: %s" % (mm.group(1) if mm else "?"))
            print("boot-test:   flags: %s" % (fl.group(1) if fl else "?"))

        out, rc = s.run("i=0; s=0; while [ $i -lt 2000 ]; do s=$((s + i * i % 7919)); "
                        "i=$((i + 1)); done; echo int=$s")
        expect = sum(i * i % 7919 for i in range(2000))
        check(out is not None and ("int=%d" % expect) in out, "integer loop in the shell",
              "want int=%d, got %r" % (expect, out))

        out, rc = s.run("awk 'BEGIN{x=1; for(i=0;i<30;i++) x=(x+2/x)/2; printf \"sqrt2=%.6f\\n\", x;"
                        " e=0; f=1; for(k=1;k<=15;k++){e+=1/f; f*=k}; printf \"e=%.6f\\n\", e;"
                        " printf \"pi=%.6f\\n\", 355/113; p=1; for(i=0;i<60;i++) p*=2; printf \"big=%.3e\\n\", p * 1.5 }'")
        ok = out is not None and "sqrt2=1.414214" in out and "e=2.718282" in out \
            and "pi=3.141593" in out and "big=1.729e+18" in out
        check(ok, "awk floating point (sqrt(2) by Newton, e, 355/113, 2^60)", repr(out))

        out, rc = s.run("awk 'BEGIN{print sqrt(2)}' 2>&1")
        if out is not None and "not compiled in" in out:
            print("boot-test:   note: Debian's busybox-static awk has no libm (sqrt); "
                  "the Newton iteration above stands in for it")
        else:
            check(out is not None and "1.41421" in out, "awk sqrt(2)", repr(out))

        for what, cmd, rx in DEVICE_CHECKS:
            out, rc = s.run(cmd)
            check(out is not None and re.search(rx, out), "device: " + what,
                  "`%s` gave %r" % (cmd, out))

        out, rc = s.run("dmesg | grep -i -E 'error|warn|bug'")
        if check(out is not None, "dmesg | grep -i -E 'error|warn|bug'", "no answer"):
            bad = []
            for ln in out.splitlines():
                body = re.sub(r"^\[\s*\d+\.\d+\]\s*", "", ln).strip()
                if body and not any(p.search(body) for p in allow):
                    bad.append(body)
            check(not bad, "dmesg lines all in the allowlist (%s)" % os.path.relpath(a.allowlist),
                  "not allowed: " + " | ".join(bad))

        since = len(con.buf)
        con.type("poweroff -f\n")
        m = con.wait_for(rb"reboot: (System halted|Power down)", a.cmd_timeout, since)
        check(m is not None, "poweroff -f: the kernel halts", con.fatal or "")
        if a.emulator == "qemu":
            con.kill()  # QEMU idles on a halted CPU; -no-reboot does not end that
        else:
            status = con.finish(a.cmd_timeout)
            # The ACPI tables (trapeze's for a direct boot, SeaBIOS's through
            # the firmware) describe the PIIX4 PM block; S5 powers the
            # machine off and trapeze ends the run with status 0.
            want, what = 0, "powered off through ACPI S5, exit status 0"
            check(status == want, "trapeze ends the run cleanly (%s)" % what,
                  "exit status %r; stderr: %s" % (status, con.stderr.decode(errors="replace")
                                                  .strip()))
    except StopIteration:
        pass
    finally:
        con.kill()
        while con.pump(0.05):
            pass
    check(con.fatal is None, "no kernel warning, oops, panic or unstable clocksource",
          con.fatal or "")
    if con.stderr.strip():
        print("boot-test: emulator stderr: " + con.stderr.decode(errors="replace").strip())
    print("boot-test: console transcript in %s (%.1fs)" % (a.log, time.monotonic() - t0))
    print("boot-test: %d passed, %d failed" % (len(passed), len(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
