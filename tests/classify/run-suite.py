#!/usr/bin/env python3
"""The instruction-classification suite and its report, docs/classification.md.

Reads the opcode table's classes (`trapeze classify --format json`), runs the
behavioural guests in every mode with --deterministic, and writes what the
table says and what the guests saw:

  - tests/guests/critical.asm executes the critical instructions at guest
    ring 0 and prints, per check, what it saw against the architectural
    value (OBSERVE lines);
  - tests/guests/critical_forms.asm executes the critical forms critical.asm
    leaves out (OBSERVE lines), SYSEXIT and the other port forms (PRIV lines);
  - tests/guests/privileged.asm executes every privileged and IOPL-sensitive
    instruction at guest ring 0 and checks its effect (PRIV lines);
  - tests/guests/pv/pv_kernel.asm, the paravirtual kernel, does the same
    work through hypercalls (its report counts them by name).

Expectations (a failure of any is a failure of the suite):
  - coverage: every critical form of the table is executed by some OBSERVE
    check, every privileged or IOPL-sensitive form by some PRIV check;
  - emulate: every check architectural;
  - trap: exactly the divergences of TRAP_DIVERGES (one that does not appear
    fails too), and no privileged, IOPL or I/O exit after SYSENTER (it
    entered the real ring 0); every privileged check right, each privileged
    form exited (privileged_insn, iopl_insn or io in --trace-exits);
  - vmm: every check architectural, each critical form checked exited as
    critical_insn; privileged as in trap; the traced exits agree with the
    report's counters;
  - paravirt: the pv kernel passes and made every hypercall of the mapping.

  run-suite.py --trapeze build/trapeze --build build --write docs/classification.md
  run-suite.py --trapeze build/trapeze --build build --check docs/classification.md
(--check regenerates and fails if the file differs: `make test` runs it;
`make classify-report` writes it.) Either way the results, per check and
mode, are also written to BUILD/classify-suite/results.json.
"""
import argparse
import collections
import difflib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Robin & Irvine's sensitive, unprivileged IA-32 instructions, and where each
# form of the table falls. (mnemonic, operands) -> group; forms not listed
# here are named by the function group_of().
RI_GROUPS = [
    "SGDT", "SIDT", "SLDT", "SMSW", "PUSHF", "POPF", "LAR", "LSL", "VERR", "VERW",
    "POP Sreg", "PUSH Sreg", "far CALL", "far JMP", "INT n", "far RET", "STR", "MOV Sreg",
]
SAME_RULE = "same rule as the list (not named by Robin & Irvine)"
P6_ADDITION = "P6 addition (after Robin & Irvine's Pentium)"


def group_of(row):
    m, ops = row["mnemonic"], row["operands"]
    if m in ("SGDT", "SIDT", "SLDT", "SMSW", "PUSHF", "POPF", "LAR", "LSL", "VERR", "VERW", "STR"):
        return m
    if m == "PUSH" and ops in ("ES", "CS", "SS", "DS", "FS", "GS"):
        return "PUSH Sreg"
    if m == "POP" and ops in ("ES", "SS", "DS", "FS", "GS"):
        return "POP Sreg"
    if m == "MOV" and "Sw" in ops:
        return "MOV Sreg"
    if m == "CALL" and ops in ("Ap", "Mp"):
        return "far CALL"
    if m == "JMP" and ops in ("Ap", "Mp"):
        return "far JMP"
    if m == "RETF":
        return "far RET"
    if m == "INT":
        return "INT n"
    if m in ("INT3", "INTO", "IRET", "LDS", "LES", "LFS", "LGS", "LSS"):
        return SAME_RULE
    if m == "ESC" and row["opcode"] in ("D9 /6", "DD /6"):
        return SAME_RULE  # FNSTENV/FNSAVE store FCS (memory forms)
    if m in ("RDTSC", "RDPMC", "CPUID", "SYSENTER"):
        return P6_ADDITION
    return None


# The behavioural checks: guest line name -> (guest, the table forms it
# executes, as "MNEMONIC OPERANDS" in `trapeze classify --format json`).
# Every critical form of the table must be in some CRITICAL_CHECKS entry and
# every privileged or IOPL-sensitive form in some PRIV_CHECKS entry (the
# suite fails otherwise), so a form added to cpu/opcodes.def needs a check.
CRITICAL_CHECKS = collections.OrderedDict([
    ("SGDT base", ("critical", ["SGDT Ms"])), ("SGDT limit", ("critical", ["SGDT Ms"])),
    ("SIDT base", ("critical", ["SIDT Ms"])), ("SIDT limit", ("critical", ["SIDT Ms"])),
    ("SLDT", ("critical", ["SLDT Ew"])), ("STR", ("critical", ["STR Ew"])),
    ("SMSW", ("critical", ["SMSW Ew"])), ("PUSHF IF after CLI", ("critical", ["PUSHF Fv"])),
    ("PUSHF IOPL after POPF set 3", ("critical", ["POPF Fv", "PUSHF Fv"])),
    ("PUSHF IF after POPF cleared it", ("critical", ["POPF Fv", "PUSHF Fv"])),
    ("PUSH CS", ("critical", ["PUSH CS"])), ("MOV r,CS", ("critical", ["MOV Ev,Sw"])),
    ("MOV r,SS", ("critical", ["MOV Ev,Sw"])), ("LAR KDATA", ("critical", ["LAR Gv,Ew"])),
    ("LSL KDATA", ("critical", ["LSL Gv,Ew"])), ("VERR KDATA", ("critical", ["VERR Ew"])),
    ("VERW KDATA", ("critical", ["VERW Ew"])),
    ("far CALL pushed CS", ("critical", ["CALL Ap", "RETF"])),
    ("INT n pushed CS", ("critical", ["INT Ib"])), ("POP DS", ("critical", ["POP DS"])),
    ("MOV ES,r", ("critical", ["MOV Sw,Ew"])), ("LSS loads ESP", ("critical", ["LSS Gz,Mp"])),
    ("CPUID vendor", ("critical", ["CPUID"])), ("RDTSC advances", ("critical", ["RDTSC"])),
    ("far JMP ptr16:32: CS", ("critical_forms", ["JMP Ap"])),
    ("far JMP m16:32: CS", ("critical_forms", ["JMP Mp"])),
    ("far CALL m16:32 pushed CS", ("critical_forms", ["CALL Mp", "RETF"])),
    ("RETF 8 releases its parameters", ("critical_forms", ["CALL Ap", "RETF Iw"])),
    ("IRET restores IF 0", ("critical_forms", ["IRET", "PUSHF Fv"])),
    ("INT3 pushed CS", ("critical_forms", ["INT3"])), ("INTO pushed CS", ("critical_forms", ["INTO"])),
    ("PUSH ES", ("critical_forms", ["PUSH ES"])), ("PUSH SS", ("critical_forms", ["PUSH SS"])),
    ("PUSH DS", ("critical_forms", ["PUSH DS"])), ("PUSH FS", ("critical_forms", ["PUSH FS"])),
    ("PUSH GS", ("critical_forms", ["PUSH GS"])), ("POP ES", ("critical_forms", ["POP ES"])),
    ("POP SS", ("critical_forms", ["POP SS"])), ("POP FS", ("critical_forms", ["POP FS"])),
    ("POP GS", ("critical_forms", ["POP GS"])),
    ("LDS: selector, offset", ("critical_forms", ["LDS Gz,Mp"])),
    ("LES: selector, offset", ("critical_forms", ["LES Gz,Mp"])),
    ("LFS: selector, offset", ("critical_forms", ["LFS Gz,Mp"])),
    ("LGS: selector, offset", ("critical_forms", ["LGS Gz,Mp"])),
    ("RDPMC at CPL 0, CR4.PCE clear, runs", ("critical_forms", ["RDPMC"])),
    ("FNSAVE stores FCS", ("critical_forms", ["ESC DD /6"])),
    ("FNSTENV stores FCS", ("critical_forms", ["ESC D9 /6"])),
    ("SYSENTER from ring 3: CS", ("critical_forms", ["SYSENTER"])),
    ("SYSENTER from ring 3: SS", ("critical_forms", ["SYSENTER"])),
])
TRAP_DIVERGES = {
    "SGDT base", "SGDT limit", "SIDT base", "SLDT", "STR", "SMSW", "PUSHF IF after CLI",
    "PUSHF IOPL after POPF set 3", "PUSHF IF after POPF cleared it", "PUSH CS", "MOV r,CS",
    "MOV r,SS", "LAR KDATA", "LSL KDATA", "far CALL pushed CS",
    "far JMP ptr16:32: CS", "far JMP m16:32: CS", "far CALL m16:32 pushed CS",
    "IRET restores IF 0", "PUSH SS", "POP SS", "FNSAVE stores FCS", "FNSTENV stores FCS",
}
PRIV_CHECKS = collections.OrderedDict([
    ("LGDT limit takes effect", ("privileged", ["LGDT Ms"])),
    ("LIDT limit takes effect", ("privileged", ["LIDT Ms"])),
    ("LLDT: an LDT selector loads", ("privileged", ["LLDT Ew"])),
    ("LTR marks its TSS busy", ("privileged", ["LTR Ew"])),
    ("MOV CR0 sets TS", ("privileged", ["MOV Cd,Rd", "MOV Rd,Cd"])),
    ("CLTS clears TS", ("privileged", ["CLTS"])), ("LMSW sets TS", ("privileged", ["LMSW Ew"])),
    ("MOV CR2 round trip", ("privileged", ["MOV Cd,Rd", "MOV Rd,Cd"])),
    ("MOV CR4 sets PSE", ("privileged", ["MOV Cd,Rd", "MOV Rd,Cd"])),
    ("MOV CR3 round trip", ("privileged", ["MOV Cd,Rd", "MOV Rd,Cd"])),
    ("MOV DR0 round trip", ("privileged", ["MOV Dd,Rd", "MOV Rd,Dd"])),
    ("INVD, WBINVD, INVLPG complete", ("privileged", ["INVD", "WBINVD", "INVLPG Mb"])),
    ("WRMSR/RDMSR SYSENTER_ESP", ("privileged", ["WRMSR", "RDMSR"])),
    ("OUT/IN the PIC mask", ("privileged", ["OUT Ib,AL", "IN AL,Ib"])),
    ("OUTSB/INSB the PIC mask", ("privileged", ["OUTS DX,Xb", "INS Yb,DX"])),
    ("CLI holds the timer interrupt", ("privileged", ["CLI"])),
    ("STI lets it in", ("privileged", ["STI"])), ("HLT waits for an interrupt", ("privileged", ["HLT"])),
    ("OUT/IN DX,AL the PIC mask", ("critical_forms", ["OUT DX,AL", "IN AL,DX"])),
    ("OUT/IN DX,eAX the PIC mask", ("critical_forms", ["OUT DX,eAX", "IN eAX,DX"])),
    ("OUT/IN Ib,eAX the PIC mask", ("critical_forms", ["OUT Ib,eAX", "IN eAX,Ib"])),
    ("OUTSW/INSW the PIC mask", ("critical_forms", ["OUTS DX,Xz", "INS Yz,DX"])),
    ("SYSEXIT enters ring 3: CS", ("critical_forms", ["SYSEXIT"])),
])
GUESTS = ("critical", "privileged", "critical_forms")


def native_cell(r, forms):
    """What --trace-exits saw differ between each form's native run and its
    run in the guest's view (trap mode), over every execution: e.g. "eax",
    "stack", "if", "event" (one of the two raised an exception), "none"."""
    seen = collections.Counter()
    for f in forms:
        seen.update(r["native"].get(f, {}))
    return ", ".join("%s %d" % (k, n) for k, n in sorted(seen.items())) or "not run"


def checks_of(row, checks, diverged):
    """The names of the checks that execute a form, those in `diverged` bold."""
    names = [n for n, (_, forms) in checks.items() if form_key(row) in forms]
    return "; ".join("**%s**" % n if n in diverged else n for n in names)


def mnems_of(forms):
    return list(dict.fromkeys(f.split()[0] for f in forms))


def form_key(row):
    # The x87 escapes share one mnemonic and operand notation: their opcode
    # names the form.
    if row["mnemonic"] == "ESC":
        return "ESC " + row["opcode"]
    return (row["mnemonic"] + " " + row["operands"]).strip()


# What replaces an instruction in a paravirtual kernel (docs/hypercalls.md).
# The one place this mapping is written.
PARAVIRT = {
    "ESC": "runs natively (FCS with RPL 1: the kernel knows its ring)",
    "CLI": "HC_SET_IF(0)", "STI": "HC_SET_IF(1)", "PUSHF": "HC_SET_IF returns the previous IF",
    "POPF": "HC_SET_IF / HC_IRET", "IRET": "HC_IRET", "LIDT": "HC_SET_TRAP_TABLE",
    "SIDT": "not needed: HC_SET_TRAP_TABLE", "LGDT": "not needed: the VMM's fixed GDT",
    "SGDT": "not needed: the VMM's fixed GDT", "LLDT": "not offered (no LDT)",
    "SLDT": "not needed (no LDT)", "LTR": "HC_STACK_SWITCH", "STR": "not needed: HC_STACK_SWITCH",
    "MOV CR3": "HC_LOAD_CR3", "MOV CR2": "HC_GET_FAULT_ADDR", "MOV CR0": "not offered",
    "MOV CR4": "not offered", "MOV DR": "not offered", "INVLPG": "HC_MMU_UPDATE",
    "HLT": "HC_YIELD", "RDTSC": "HC_GET_TIME", "OUT": "HC_CONSOLE_WRITE / HC_SHUTDOWN",
    "IN": "not offered (no devices)", "INT": "INT n through the trap table (natively)",
    "SMSW": "not needed", "LMSW": "not offered", "CLTS": "not offered",
    "RDMSR": "not offered", "WRMSR": "not offered", "OUTS": "HC_CONSOLE_WRITE",
    "INS": "not offered (no devices)", "INVD": "not offered (the caches are the host's)",
    "WBINVD": "not offered (the caches are the host's)",
    "CPUID": "runs natively (shows the CPU)", "PUSH": "runs natively (RPL 1: the kernel knows)",
    "MOV": "runs natively (RPL 1: the kernel knows)", "CALL": "runs natively at ring 1",
    "RETF": "runs natively at ring 1", "POP": "runs natively", "LSS": "runs natively",
    "LAR": "runs natively (DPL 1: the kernel knows)", "LSL": "runs natively",
    "VERR": "runs natively", "VERW": "runs natively", "JMP": "runs natively at ring 1",
    "INT3": "through the trap table (natively)", "INTO": "through the trap table (natively)",
    "LDS": "runs natively", "LES": "runs natively", "LFS": "runs natively", "LGS": "runs natively",
    "RDPMC": "not offered", "SYSENTER": "not offered (system calls: INT n through the trap table)",
    "SYSEXIT": "HC_IRET (a frame to ring 3)",
}


def pv_for(check, mnems, hc=None):
    """What replaces the check's instructions in a paravirtual kernel; with
    hc (the pv kernel's report counts), each hypercall named with the
    number of times the pv kernel made it."""
    if check.startswith("MOV CR"):
        text = PARAVIRT.get(check[:7], "not offered")
    elif check.startswith("MOV DR"):
        text = PARAVIRT["MOV DR"]
    else:
        text = "; ".join(dict.fromkeys(PARAVIRT.get(m, "?") for m in mnems))
    if hc is None:
        return text
    def count(m):
        n = hc.get(m.group(1).lower(), 0)
        return "%s (%d call%s)" % (m.group(0), n, "" if n == 1 else "s")
    return re.sub(r"HC_([A-Z_0-9]+)(?:\(\d\))?", count, text)


_forms = {}


def decoded_form(trapeze, hexbytes):
    """The table form ("MNEMONIC OPERANDS") of an instruction's bytes, as
    `trapeze classify --bytes` decodes it: exits are counted per form."""
    if hexbytes not in _forms:
        p = subprocess.run([trapeze, "classify", "--bytes", hexbytes, "--format", "json"],
                           capture_output=True, text=True)
        d = json.loads(p.stdout) if p.returncode == 0 else {}
        _forms[hexbytes] = form_key(d) if d.get("valid") else "?" + hexbytes
    return _forms[hexbytes]


def run(trapeze, kernel, mode, out, name, exits=True):
    log = os.path.join(out, "%s-%s.log" % (name, mode))
    rep = os.path.join(out, "%s-%s.json" % (name, mode))
    xt = os.path.join(out, "%s-%s.exits" % (name, mode))
    cmd = [trapeze, "run", "--kernel", kernel, "--mode", mode, "--deterministic",
           "--serial", "none", "--debugcon", "file:" + log, "--report", rep,
           "--timeout", "120", "--max-instructions", "200000000"]
    if exits and mode in ("trap", "vmm", "paravirt"):
        cmd += ["--trace-exits", xt]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    vm = json.load(open(rep))["vms"][0] if os.path.exists(rep) else {}
    per = collections.Counter()
    native = collections.defaultdict(collections.Counter)
    after_sysenter = None  # exits by reason after the first SYSENTER (see escape_note)
    if os.path.exists(xt):
        for line in open(xt):
            f = line.split()
            if after_sysenter is not None and len(f) > 2:
                after_sysenter[f[2]] += 1
            if len(f) > 5 and f[5] == "SYSENTER" and after_sysenter is None:
                after_sysenter = collections.Counter()
            if len(f) > 6 and f[2] == "critical_native" and f[6].startswith("bytes="):
                # trap mode: the instruction run natively and in the view
                native[decoded_form(trapeze, f[6][6:])].update(
                    x[9:] for x in f if x.startswith("diverges="))
            elif len(f) > 6 and f[6].startswith("bytes="):
                per[(decoded_form(trapeze, f[6][6:]), f[2])] += 1
    return {"rc": p.returncode, "log": text, "report": vm, "exits": per, "stderr": p.stderr,
            "after_sysenter": after_sysenter or collections.Counter(), "native": native}


def parse(log, tag):
    pat = re.compile(r"^%s (.*): got ([0-9A-F]{8}), (?:architectural|expected) ([0-9A-F]{8}) -- (\w+)$" % tag)
    res = collections.OrderedDict()
    for line in log.splitlines():
        m = pat.match(line.strip())
        if m:
            res[m.group(1)] = (m.group(2), m.group(3), m.group(4) == "ok")
    return res


def exits_of(r, forms, reasons):
    return sum(n for (f, why), n in r["exits"].items() if f in forms and why in reasons)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trapeze", default="build/trapeze")
    ap.add_argument("--build", default="build")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write")
    g.add_argument("--check")
    a = ap.parse_args()
    out = os.path.join(a.build, "classify-suite")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["sh", os.path.join(ROOT, "tests/guests/build.sh"), out], check=True)
    pv_bin = os.path.join(out, "pv_kernel.bin")
    subprocess.run(["nasm", "-f", "bin", "-Werror", "-I", os.path.join(ROOT, "tests/guests/lib/"),
                    "-o", pv_bin, os.path.join(ROOT, "tests/guests/pv/pv_kernel.asm")], check=True)
    rows = json.loads(subprocess.run([a.trapeze, "classify", "--format", "json"], check=True,
                                     capture_output=True, text=True).stdout)

    failures = []
    runs = {g: {} for g in GUESTS}
    obs, chk = {}, {}
    for mode in ("emulate", "trap", "vmm"):
        obs[mode], chk[mode] = collections.OrderedDict(), collections.OrderedDict()
        for g in GUESTS:
            runs[g][mode] = run(a.trapeze, os.path.join(out, g + ".bin"), mode, out, g)
            obs[mode].update(parse(runs[g][mode]["log"], "OBSERVE"))
            chk[mode].update(parse(runs[g][mode]["log"], "PRIV"))
    pv = run(a.trapeze, pv_bin, "paravirt", out, "pv")

    # --- coverage: every critical, privileged and IOPL-sensitive form -------
    table = {form_key(r): r for r in rows}
    for checks in (CRITICAL_CHECKS, PRIV_CHECKS):
        for name, (_, forms) in checks.items():
            for f in forms:
                if f not in table:
                    failures.append("check '%s' names %s, which is not a form of the table" % (name, f))
                for m in mnems_of([f]):
                    if m not in PARAVIRT:
                        failures.append("no paravirt replacement written for %s" % m)
    covered_crit = {f for _, forms in CRITICAL_CHECKS.values() for f in forms}
    covered_priv = {f for _, forms in PRIV_CHECKS.values() for f in forms}
    for k, r in table.items():
        if r["critical"] and k not in covered_crit:
            failures.append("critical form %s (%s) is executed by no check" % (k, r["opcode"]))
        if ("privileged" in r["classes"] or "iopl" in r["classes"]) and k not in covered_priv:
            failures.append("%s form %s (%s) is executed by no check"
                            % ("/".join(r["classes"]), k, r["opcode"]))

    # --- expectations ---------------------------------------------------------
    for mode in ("emulate", "trap", "vmm"):
        if list(obs[mode]) != list(CRITICAL_CHECKS):
            failures.append("%s: the guests printed critical checks %s, expected %s"
                            % (mode, list(obs[mode]), list(CRITICAL_CHECKS)))
        if list(chk[mode]) != list(PRIV_CHECKS):
            failures.append("%s: the guests printed privileged checks %s, expected %s"
                            % (mode, list(chk[mode]), list(PRIV_CHECKS)))
        for name, (_, _, ok) in chk[mode].items():
            if not ok:
                failures.append("%s: privileged check '%s' wrong" % (mode, name))
        if runs["privileged"][mode]["rc"] != 33:
            failures.append("%s: privileged guest exit status %d" % (mode, runs["privileged"][mode]["rc"]))
        for g in ("critical", "critical_forms"):
            want = 35 if mode == "trap" else 33  # trap: the guest sees divergences and FAILs
            if runs[g][mode]["rc"] != want:
                failures.append("%s: %s guest exit status %d, expected %d" % (mode, g, runs[g][mode]["rc"], want))
    for name, (_, _, ok) in obs["emulate"].items():
        if not ok:
            failures.append("emulate: '%s' diverged" % name)
    for name, (_, _, ok) in obs["vmm"].items():
        if not ok:
            failures.append("vmm: '%s' diverged" % name)
    seen = {n for n, (_, _, ok) in obs["trap"].items() if not ok}
    for n in sorted(TRAP_DIVERGES - seen):
        failures.append("trap: expected divergence '%s' did not appear" % n)
    for n in sorted(seen - TRAP_DIVERGES):
        failures.append("trap: unexpected divergence '%s'" % n)
    for name, (g, forms) in CRITICAL_CHECKS.items():
        if not exits_of(runs[g]["vmm"], forms, {"critical_insn"}):
            failures.append("vmm: no critical_insn exit for %s (%s)" % ("/".join(forms), name))
    # The --trace-exits lines and the report's exit counters agree.
    for g in GUESTS:
        for mode in ("trap", "vmm"):
            r = runs[g][mode]
            for why in ("critical_insn", "privileged_insn", "iopl_insn", "io"):
                traced = sum(n for (_, w), n in r["exits"].items() if w == why)
                counted = r["report"].get("exits", {}).get(why)
                if traced != counted:
                    failures.append("%s %s: %d %s exits traced, the report counts %s"
                                    % (g, mode, traced, why, counted))
    for mode in ("trap", "vmm"):
        for name, (g, forms) in PRIV_CHECKS.items():
            if not exits_of(runs[g][mode], forms, {"privileged_insn", "iopl_insn", "io"}):
                failures.append("%s: no exit for %s (%s)" % (mode, "/".join(forms), name))
    hc = pv["report"].get("hypercalls", {})
    if pv["rc"] != 33:
        failures.append("paravirt: the pv kernel's exit status %d" % pv["rc"])
    for m, h in PARAVIRT.items():
        for name in re.findall(r"HC_[A-Z_0-9]+", h):
            if not hc.get(name[3:].lower()):
                failures.append("paravirt: %s (replacing %s) never made by the pv kernel" % (name, m))

    # SYSENTER's divergence in trap mode is not a value: it enters the real
    # ring 0, so the port accesses after it no longer exit (they do in vmm).
    trapping = ("io", "iopl_insn", "privileged_insn")
    esc = {m: sum(runs["critical_forms"][m]["after_sysenter"][k] for k in trapping) for m in ("trap", "vmm")}
    if esc["trap"] != 0:
        failures.append("trap: %d privileged/IOPL/I/O exits after SYSENTER: it did not reach the real ring 0" % esc["trap"])
    if esc["vmm"] == 0:
        failures.append("vmm: no privileged/IOPL/I/O exits after SYSENTER: the guest left deprivileged execution")

    # --- the document ------------------------------------------------------------
    md = []
    w = md.append
    w("# Instruction classification: the table, the theorem, the suite")
    w("")
    w("Generated by `make classify-report` (`tests/classify/run-suite.py`) from the opcode")
    w("table (`cpu/opcodes.def`, through `trapeze classify --format json`) and from")
    w("deterministic runs of the behavioural guests in every execution mode. `make test`")
    w("regenerates it and fails when it differs from this file, so what is written here is")
    w("what the tests saw. Do not edit it by hand.")
    w("")
    w("## 1. The critical set against Robin & Irvine")
    w("")
    w("Critical = sensitive (control- or behaviour-sensitive) and neither privileged nor")
    w("IOPL-sensitive: such an instruction runs without a trap in a protected-mode kernel")
    w("deprivileged to ring 1, which is why IA-32 fails Popek and Goldberg's condition.")
    w("Robin & Irvine (USENIX Security 2000) list seventeen such instructions for the")
    w("Pentium; every form the table derives as critical falls under one of them, under")
    w("the same rule for forms they did not name, or is an addition of the P6:")
    w("")
    w("| Robin & Irvine | Opcode | Form | Classes | Why | Checks (section 3; trap: **diverged**) |")
    w("|---|---|---|---|---|---|")
    crit_rows = [r for r in rows if r["critical"]]
    order = {g: k for k, g in enumerate(RI_GROUPS + [SAME_RULE, P6_ADDITION])}
    unplaced = [r for r in crit_rows if group_of(r) is None]
    for r in unplaced:
        failures.append("critical form %s %s %s falls under no group" % (r["opcode"], r["mnemonic"], r["operands"]))
    groups_seen = set()
    for r in sorted((r for r in crit_rows if group_of(r)), key=lambda r: (order[group_of(r)], r["opcode"])):
        g = group_of(r)
        groups_seen.add(g)
        why = "; ".join(v for k, v in r["reasons"].items() if k != "critical")
        w("| %s | %s | %s %s | %s | %s | %s |" % (g, r["opcode"], r["mnemonic"], r["operands"],
                                                ", ".join(r["classes"]), why, checks_of(r, CRITICAL_CHECKS, seen)))
    for g in RI_GROUPS:
        if g not in groups_seen:
            failures.append("Robin & Irvine's %s has no critical form in the table" % g)
    w("")
    w("Every one of Robin & Irvine's seventeen entries (PUSH and POP of segment registers")
    w("counted apart: eighteen rows) has its forms here; `tests/unit/test_classify.c`")
    w("asserts the same set. The P6 adds RDTSC and RDPMC (counters readable at any CPL")
    w("unless CR4.TSD / without CR4.PCE they fault, so under a VMM they read the host's),")
    w("CPUID (the host's identity, and no P6 can make it fault) and SYSENTER (enters ring")
    w("0 through MSRs at any CPL, not through the IDT); SYSEXIT, also new, is privileged.")
    w("")
    w("## 2. Privileged and IOPL-sensitive forms")
    w("")
    w("These trap at ring 1 (#GP), so trap-and-emulate works for them.")
    w("")
    w("| Opcode | Form | Classes | Why | Checks (section 4) |")
    w("|---|---|---|---|---|")
    for r in rows:
        if ("privileged" in r["classes"] or "iopl" in r["classes"]):
            why = "; ".join(v for k, v in r["reasons"].items() if k != "critical")
            w("| %s | %s %s | %s | %s | %s |" % (r["opcode"], r["mnemonic"], r["operands"],
                                               ", ".join(r["classes"]), why, checks_of(r, PRIV_CHECKS, set())))
    w("")
    w("In virtual-8086 mode (CR4.VME = 0) these also fault with #GP(0) when IOPL < 3,")
    w("so a V86 monitor sees them: %s. (trapeze's `trap` and `vmm` modes stop a guest"
      % ", ".join("%s %s" % (r["opcode"], form_key(r)) for r in rows if r.get("iopl_v86")))
    w("that enters V86 mode; `tests/guests/v86.asm` checks these faults in `emulate` mode.)")
    w("")
    w("## 3. Critical instructions at guest ring 0, per mode")
    w("")
    w("`tests/guests/critical.asm` and `tests/guests/critical_forms.asm`: each check")
    w("executes critical instructions at the guest kernel's ring 0 and compares what the")
    w("guest saw with the architectural value; together they execute every critical form")
    w("of the table (the suite fails if a form has no check). *emulate*: the guest runs at")
    w("its own ring 0. *trap*: deprivileged to ring 1, critical instructions run natively,")
    w("so the guest may see the VMM (the value it saw instead). *vmm*: the same, but every")
    w("critical instruction exits to the VMM first and runs in the guest's view (the exits")
    w("of the listed forms in that guest's whole run, from `--trace-exits`, each exit's")
    w("bytes decoded by `trapeze classify --bytes`). *trap: native vs view*: trap mode")
    w("with `--trace-exits` also runs each critical instruction on a copy of the guest's")
    w("view and says what differed from its native execution, over every execution of the")
    w("listed forms in that guest's run (`diverges=` in `vmm/exit_trace.h`: a register,")
    w("`stack`, `memory`, `if`, `event` when one of the two raised an exception, `none`).")
    w("*paravirt*: what a paravirtual kernel")
    w("does instead (docs/hypercalls.md), with the number of times the pv kernel")
    w("`tests/guests/pv/pv_kernel.asm` made each hypercall in `--mode paravirt` (the")
    w("suite fails if one named here was never made).")
    w("")
    w("| Check | Instruction | emulate | trap | trap: native vs view | vmm: value, exits | paravirt |")
    w("|---|---|---|---|---|---|---|")
    for name, (g, forms) in CRITICAL_CHECKS.items():
        mnems = mnems_of(forms)

        def cell(mode):
            if name not in obs[mode]:
                return "not run"
            got, arch, ok = obs[mode][name]
            return ("%s (architectural)" % got) if ok else ("**%s** instead of %s" % (got, arch))
        nex = exits_of(runs[g]["vmm"], forms, {"critical_insn"})
        w("| %s | %s | %s | %s | %s | %s, %d critical_insn exits | %s |" % (
            name, "<br>".join(forms), cell("emulate"), cell("trap"), native_cell(runs[g]["trap"], forms),
            cell("vmm").replace(" (architectural)", ""), nex, pv_for(name, mnems, hc)))
    w("")
    quiet = [n for n in CRITICAL_CHECKS if n not in seen]
    w("In trap mode %d of the %d checks diverge, as expected (the suite fails if one of"
      % (len(seen & TRAP_DIVERGES), len(CRITICAL_CHECKS)))
    w("the expected divergences does not appear, or another does). The other %d show the"
      % len(quiet))
    w("guest nothing it can tell apart, though the instructions are sensitive: %s." % "; ".join(quiet))
    w("Ring compression keeps a DPL-0 segment usable at ring 1 (VERR/VERW, loads of data")
    w("selectors), the VMM reflects INT n/INT3/INTO with the guest's CS, CPUID and RDTSC")
    w("answer as the host does, and SYSENTER enters the *real* ring 0 at the guest's")
    w("SYSENTER_CS: its values are right because the guest has left deprivileged")
    w("execution, which no value shows but the exits do: after SYSENTER the guest's")
    w("privileged, IOPL-sensitive and port instructions caused %d exits in trap mode"
      % esc["trap"])
    w("(they ran at the real ring 0) and %d in vmm mode (the suite fails otherwise)." % esc["vmm"])
    w("")
    w("## 4. Privileged and IOPL-sensitive instructions at guest ring 0, per mode")
    w("")
    w("`tests/guests/privileged.asm` (and, for SYSEXIT and the remaining port forms,")
    w("`tests/guests/critical_forms.asm`) checks each through an effect the guest can see")
    w("without a critical instruction. In trap and vmm mode each one faults at ring 1 and")
    w("exits (`privileged_insn`, `iopl_insn` or `io`), and the VMM emulates it against the")
    w("vCPU and the VM's devices.")
    w("")
    w("| Check | Instruction | emulate | trap: exits | vmm: exits | paravirt |")
    w("|---|---|---|---|---|---|")
    reasons = {"privileged_insn", "iopl_insn", "io"}
    for name, (g, forms) in PRIV_CHECKS.items():
        mnems = mnems_of(forms)

        def pc(mode):
            if name not in chk[mode]:
                return "not run"
            got, exp, ok = chk[mode][name]
            return "right" if ok else "**wrong** (%s, expected %s)" % (got, exp)
        w("| %s | %s | %s | %s, %d | %s, %d | %s |" % (
            name, "<br>".join(forms), pc("emulate"), pc("trap"), exits_of(runs[g]["trap"], forms, reasons),
            pc("vmm"), exits_of(runs[g]["vmm"], forms, reasons), pv_for(name, mnems, hc)))
    w("")
    w("## 5. The paravirtual kernel")
    w("")
    w("`tests/guests/pv/pv_kernel.asm` in `--mode paravirt` (exit status %d) does its" % pv["rc"])
    w("privileged work with hypercalls only; its report counts them:")
    w("")
    w("| Hypercall | Calls |")
    w("|---|---:|")
    for k, n in hc.items():
        w("| %s | %d |" % (k, n))
    ex = pv["report"].get("exits", {})
    w("")
    w("Exits: %s." % ", ".join("%s %d" % (k, v) for k, v in ex.items() if v and k != "total"))
    w("")
    text = "\n".join(md) + "\n"

    # The machine-readable results: per check and mode what the guest saw,
    # the right value, and the exits of its forms.
    def entries(checks, seen_by, reasons):
        res = []
        for name, (g, forms) in checks.items():
            per_mode = {}
            for mode in ("emulate", "trap", "vmm"):
                got, want, ok = seen_by[mode].get(name, (None, None, False))
                per_mode[mode] = {"got": got, "right": want, "ok": ok,
                                  "exits": exits_of(runs[g][mode], forms, reasons)}
            res.append({"check": name, "guest": g, "forms": forms, "modes": per_mode,
                        "trap_diverges": name in TRAP_DIVERGES,
                        "paravirt": pv_for(name, mnems_of(forms))})
        return res
    results = {
        "critical": entries(CRITICAL_CHECKS, obs, {"critical_insn"}),
        "privileged": entries(PRIV_CHECKS, chk, {"privileged_insn", "iopl_insn", "io"}),
        "trap_exits_after_sysenter": esc["trap"], "vmm_exits_after_sysenter": esc["vmm"],
        "paravirt": {"exit_status": pv["rc"], "hypercalls": hc},
        "failures": failures,
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    for f in failures:
        print("FAIL  " + f)
    if a.write:
        with open(a.write, "w") as f:
            f.write(text)
        print("classify-report: wrote %s" % a.write)
    else:
        old = open(a.check).read() if os.path.exists(a.check) else ""
        if old != text:
            failures.append("%s differs from what the suite saw (make classify-report):" % a.check)
            print("FAIL  %s is out of date; the difference:" % a.check)
            sys.stdout.writelines(list(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                            a.check, "regenerated"))[:60])
    n = len(CRITICAL_CHECKS) * 3 + len(PRIV_CHECKS) * 3 + 1
    print("classify suite: %d checks in 3 modes + paravirt, %d failed" % (n, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
