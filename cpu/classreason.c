/*
 * The reasons behind the opcode table's class bits (classreason.h).
 *
 * Where the sentences live, and why not in cpu/opcodes.def: an eighth OP()
 * parameter would change the arity of an X-macro that cpu/optable.c,
 * cpu/handlers.h, scripts/list-handlers.sh and the build's weak-handler
 * generator expand, and would repeat one sentence on up to eleven rows (the
 * PUSH/POP Sreg forms). So the table keeps the single source of truth for
 * the class BITS, and this file only explains them:
 *  - C_PRIV, C_IOPL and C_IOPL_V86 sentences are generic, derived from the
 *    bit (the SDM's rule is the same for every such form; the port forms of
 *    C_IOPL get the I/O-bitmap wording);
 *  - C_CTRL and C_BEHV sentences are per instruction, in class_reason_table,
 *    keyed by mnemonic (+ operands where forms of one mnemonic differ).
 * tests/unit/test_classify.c fails if a row's bit has no sentence or a
 * sentence matches no row, so the two cannot drift apart silently.
 */
#include "classreason.h"

#include <stdio.h>
#include <string.h>

#include "decode.h"

const struct class_reason_entry class_reason_table[] = {
    /* x87 environment stores (memory forms; the register forms of D9 /6 are
     * F2XM1 ... FINCSTP, innocuous). */
    {"ESC", "Ex", C_BEHV,
     "in its memory form (D9 /6 FNSTENV, DD /6 FNSAVE) stores FCS, the code selector of the last "
     "x87 instruction, whose RPL shows the real ring"},
    /* Segment registers: selectors carry an RPL, loads check DPL against CPL. */
    {"PUSH", NULL, C_BEHV,
     "stores a segment selector whose RPL shows the real ring (PUSH CS reveals CPL 1, not 0)"},
    {"POP", NULL, C_BEHV,
     "loads a segment register, checking the descriptor's DPL against CPL and RPL, so ring 1 gets "
     "a different result than ring 0"},
    {"MOV", "Ev,Sw", C_BEHV,
     "stores a segment selector whose RPL shows the real ring (CS's RPL is CPL)"},
    {"MOV", "Sw,Ew", C_BEHV,
     "loads a segment register, checking the descriptor's DPL against CPL and RPL, so ring 1 gets "
     "a different result than ring 0"},
    {"LDS", NULL, C_BEHV,
     "loads DS from a far pointer, checking the descriptor's DPL against CPL and RPL as MOV to DS "
     "does"},
    {"LES", NULL, C_BEHV,
     "loads ES from a far pointer, checking the descriptor's DPL against CPL and RPL as MOV to ES "
     "does"},
    {"LFS", NULL, C_BEHV,
     "loads FS from a far pointer, checking the descriptor's DPL against CPL and RPL as MOV to FS "
     "does"},
    {"LGS", NULL, C_BEHV,
     "loads GS from a far pointer, checking the descriptor's DPL against CPL and RPL as MOV to GS "
     "does"},
    {"LSS", NULL, C_BEHV,
     "loads SS from a far pointer, which requires DPL = RPL = CPL, so a ring-0 stack segment "
     "faults at ring 1"},

    /* Far transfers and software interrupts. */
    {"CALL", NULL, C_CTRL,
     "loads CS and can enter a more privileged ring through a call gate or switch tasks"},
    {"CALL", NULL, C_BEHV,
     "checks the target's and the call gate's DPL against CPL, and a gate call picks its stack by "
     "the new CPL from the TSS"},
    {"JMP", NULL, C_CTRL, "loads CS and can switch tasks through a TSS or task gate"},
    {"JMP", NULL, C_BEHV,
     "checks the target code segment's DPL against CPL, so a ring-0 target faults from ring 1"},
    {"RETF", NULL, C_CTRL,
     "loads CS (and SS:ESP on a return to an outer ring, nulling data segments it may not keep)"},
    {"RETF", NULL, C_BEHV,
     "compares the popped CS's RPL with CPL to choose a same- or outer-privilege return, so a "
     "ring-1 kernel cannot return to RPL-0 code"},
    {"INT", NULL, C_CTRL,
     "vectors through the IDT, loading CS and possibly switching to ring 0 and a TSS stack"},
    {"INT", NULL, C_BEHV,
     "faults with #GP when CPL > the gate's DPL and chooses the stack by the target CPL, so "
     "results differ at ring 1"},
    {"INT3", NULL, C_CTRL,
     "vectors through the IDT like INT 3, loading CS and possibly switching rings and stacks"},
    {"INT3", NULL, C_BEHV, "faults with #GP when CPL > the gate's DPL, as INT n does"},
    {"INTO", NULL, C_CTRL,
     "vectors through the IDT like INT 4 when OF is set, loading CS and possibly switching rings "
     "and stacks"},
    {"INTO", NULL, C_BEHV, "faults with #GP when CPL > the gate's DPL, as INT n does"},
    {"IRET", NULL, C_CTRL,
     "restores EFLAGS (IF, IOPL, VM, NT) and CS, and can return to an outer ring, to V86 mode or "
     "to a nested task"},
    {"IRET", NULL, C_BEHV,
     "updates IF only when CPL <= IOPL and IOPL only at CPL 0, and compares the return CS's RPL "
     "with CPL"},

    /* EFLAGS. */
    {"PUSHF", NULL, C_BEHV,
     "stores EFLAGS with the real IF and IOPL, not the values the guest kernel believes it set"},
    {"POPF", NULL, C_CTRL, "writes the system flags of EFLAGS (IF, IOPL, NT)"},
    {"POPF", NULL, C_BEHV,
     "silently keeps IF when CPL > IOPL and IOPL when CPL > 0 instead of faulting"},

    /* Descriptor-table and system registers. */
    {"SGDT", NULL, C_BEHV, "reads GDTR, which a VMM relocates"},
    {"SIDT", NULL, C_BEHV, "reads IDTR, which a VMM relocates"},
    {"SLDT", NULL, C_BEHV, "reads LDTR, which a VMM shadows"},
    {"STR", NULL, C_BEHV, "reads TR, which a VMM shadows"},
    {"SMSW", NULL, C_BEHV, "reads CR0's low word (PE, MP, EM, TS), which a VMM shadows"},
    {"LGDT", NULL, C_CTRL, "loads GDTR, the table every segment load uses"},
    {"LIDT", NULL, C_CTRL, "loads IDTR, the table every interrupt and exception uses"},
    {"LLDT", NULL, C_CTRL, "loads LDTR, the local descriptor table"},
    {"LTR", NULL, C_CTRL, "loads TR, the task state with the ring stacks and the I/O bitmap"},
    {"LMSW", NULL, C_CTRL, "writes CR0's PE, MP, EM and TS"},
    {"CLTS", NULL, C_CTRL, "clears CR0.TS"},
    {"MOV", "Rd,Cd", C_BEHV, "reads a control register, which a VMM shadows"},
    {"MOV", "Cd,Rd", C_CTRL,
     "writes a control register: protection, paging and cache configuration"},
    {"MOV", "Rd,Dd", C_BEHV, "reads a debug register, which a VMM shadows"},
    {"MOV", "Dd,Rd", C_CTRL, "writes a debug register: breakpoints that fire in every ring"},
    {"LAR", NULL, C_BEHV,
     "reports a descriptor's access rights (DPL included) only when DPL >= CPL and RPL, so it "
     "answers differently at ring 1"},
    {"LSL", NULL, C_BEHV,
     "reports a segment limit only when the descriptor's DPL >= CPL and RPL, so it answers "
     "differently at ring 1"},
    {"VERR", NULL, C_BEHV,
     "tests readability against CPL and RPL, so it answers differently at ring 1"},
    {"VERW", NULL, C_BEHV,
     "tests writability against CPL and RPL, so it answers differently at ring 1"},

    /* Caches, TLB, MSRs and the P6 additions. */
    {"INVLPG", NULL, C_CTRL, "invalidates a TLB entry, which shadow page tables must follow"},
    {"INVD", NULL, C_CTRL,
     "discards the caches without writing them back, a resource shared with the host"},
    {"WBINVD", NULL, C_CTRL,
     "writes back and invalidates the caches, a resource shared with the host"},
    {"RDMSR", NULL, C_BEHV,
     "reads model-specific registers (SYSENTER MSRs, TSC, MTRRs), which a VMM virtualizes"},
    {"WRMSR", NULL, C_CTRL, "writes model-specific registers (SYSENTER MSRs, TSC, MTRRs)"},
    {"RDTSC", NULL, C_BEHV,
     "returns the host's time-stamp counter and runs at any CPL unless CR4.TSD is set"},
    {"RDPMC", NULL, C_BEHV,
     "returns the host's performance counters and runs at any CPL once CR4.PCE is set"},
    {"SYSENTER", NULL, C_CTRL,
     "enters ring 0 at SYSENTER_CS/EIP/ESP from the MSRs, from any CPL and without the IDT"},
    {"SYSEXIT", NULL, C_CTRL, "enters ring 3 with CS and SS derived from SYSENTER_CS"},
    {"CPUID", NULL, C_BEHV,
     "reports the host processor's family and features, and a P6 has no way to make it fault"},
};
const int class_reason_table_size = sizeof(class_reason_table) / sizeof(class_reason_table[0]);

static int is_port_form(const struct opdesc *d)
{
    return !strcmp(d->mnemonic, "IN") || !strcmp(d->mnemonic, "OUT") ||
           !strcmp(d->mnemonic, "INS") || !strcmp(d->mnemonic, "OUTS");
}

const char *class_reason(const struct opdesc *d, unsigned bit)
{
    if (!(d->cls & bit & CLASS_REASON_BITS)) return NULL;
    switch (bit) {
    case C_PRIV:
        return !strcmp(d->mnemonic, "SYSEXIT") ? "faults with #GP(0) when CPL is not 0"
                                               : "faults with #GP(0) when CPL > 0";
    case C_IOPL:
        return is_port_form(d) ? "when CPL > IOPL, faults with #GP(0) unless the TSS I/O "
                                 "permission bitmap allows every port accessed"
                               : "faults with #GP(0) when CPL > IOPL";
    case C_IOPL_V86: return "in virtual-8086 mode, faults with #GP(0) when IOPL < 3";
    }
    for (int k = 0; k < class_reason_table_size; k++) {
        const struct class_reason_entry *e = &class_reason_table[k];
        if (e->bit == bit && !strcmp(e->mnemonic, d->mnemonic) &&
            (!e->operands || !strcmp(e->operands, d->operands)))
            return e->text;
    }
    return NULL;
}

const char *class_critical_reason(const struct opdesc *d)
{
    if (!(decode_row_class(d) & C_CRITICAL)) return NULL;
    return "sensitive yet neither privileged nor IOPL-sensitive, so it runs without a trap "
           "in a protected-mode kernel deprivileged to ring 1";
}

static const unsigned bit_order[] = {C_PRIV, C_IOPL, C_IOPL_V86, C_CTRL, C_BEHV};

size_t class_reason_text(const struct opdesc *d, char *buf, size_t n)
{
    size_t len = 0;
    if (n) buf[0] = 0;
    const char *parts[6];
    int np = 0;
    for (size_t k = 0; k < sizeof(bit_order) / sizeof(bit_order[0]); k++) {
        const char *r = class_reason(d, bit_order[k]);
        if (r) parts[np++] = r;
    }
    const char *cr = class_critical_reason(d);
    if (cr) parts[np++] = cr;
    for (int k = 0; k < np; k++) {
        int w = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s%s", k ? "; " : "",
                         parts[k]);
        len += (size_t)w;
    }
    return len;
}

const char *class_bit_name(unsigned bit)
{
    switch (bit) {
    case C_PRIV: return "privileged";
    case C_IOPL: return "iopl";
    case C_IOPL_V86: return "iopl-v86";
    case C_CTRL: return "control-sensitive";
    case C_BEHV: return "behaviour-sensitive";
    case C_CRITICAL: return "critical";
    }
    return "?";
}

/* Whether the row has a ModRM byte: the rule of decode.c's derive() (an
 * addressing-method letter E G M R S C D followed by a lower-case operand
 * type, or a group row). Used for the "/r" of the notation only. */
static int has_modrm(const struct opdesc *d)
{
    if (d->ext >= 0) return 1;
    const char *p = d->operands;
    while (*p) {
        if (strchr("EGMRSCD", p[0]) && p[1] >= 'a' && p[1] <= 'z') return 1;
        p = strchr(p, ',');
        if (!p) break;
        p++;
    }
    return 0;
}

void class_opcode_text(const struct opdesc *d, char *buf, size_t n)
{
    char ext[8] = "";
    if (d->ext >= 0)
        snprintf(ext, sizeof(ext), " /%d", d->ext & 7);
    else if (has_modrm(d))
        snprintf(ext, sizeof(ext), " /r");
    if (d->opcode >= 0x100)
        snprintf(buf, n, "0F %02X%s", d->opcode & 0xff, ext);
    else
        snprintf(buf, n, "%02X%s", d->opcode, ext);
}

/* Recognized only in protected mode: #UD in real-address and V86 mode
 * (SDM vol. 2, each instruction's "Real-Address Mode Exceptions"). */
static int pm_only(const struct opdesc *d)
{
    static const char *const names[] = {"SLDT", "STR", "LLDT", "LTR", "VERR",
                                        "VERW", "LAR", "LSL",  "ARPL"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (!strcmp(d->mnemonic, names[k])) return 1;
    return 0;
}

struct class_verdict class_in_mode(const struct opdesc *d, enum class_mode m, int cpl, int iopl)
{
    struct class_verdict v = {CO_EXECUTES, 0, NULL};
    int sensitive = (d->cls & C_SENSITIVE) != 0;
    if (m == CM_REAL) cpl = 0;
    if (m == CM_V86) cpl = 3;

    if (!strcmp(d->mnemonic, "UD2") || !strcmp(d->mnemonic, "UD1")) {
        v.outcome = CO_UD;
        v.why = "raises #UD in every mode, by definition";
    } else if ((m == CM_REAL || m == CM_V86) && pm_only(d)) {
        v.outcome = CO_UD;
        v.why = "not recognized in real-address or virtual-8086 mode: #UD";
    } else if (m == CM_REAL &&
               (!strcmp(d->mnemonic, "SYSENTER") || !strcmp(d->mnemonic, "SYSEXIT"))) {
        v.outcome = CO_GP;
        v.why = "faults with #GP(0) when CR0.PE = 0";
    } else if (m == CM_REAL) {
        v.why = "real-address mode has no privilege checks: it runs";
    } else if ((d->cls & C_PRIV) && cpl > 0) {
        v.outcome = CO_GP;
        v.why = class_reason(d, C_PRIV);
    } else if (!strcmp(d->mnemonic, "RDPMC") && cpl > 0) {
        v.outcome = CO_GP;
        v.why = "faults with #GP(0) when CPL > 0 and CR4.PCE = 0 (its reset value)";
    } else if ((d->cls & C_IOPL) && is_port_form(d) && m == CM_V86) {
        v.outcome = CO_IO_BITMAP;
        v.why =
            "in virtual-8086 mode the TSS I/O permission bitmap alone decides (IOPL is ignored)";
    } else if ((d->cls & C_IOPL) && cpl > iopl) {
        v.outcome = is_port_form(d) ? CO_IO_BITMAP : CO_GP;
        v.why = class_reason(d, C_IOPL);
    } else if ((d->cls & C_IOPL_V86) && m == CM_V86 && iopl < 3) {
        v.outcome = CO_GP;
        v.why = class_reason(d, C_IOPL_V86);
    } else {
        v.why = sensitive ? "no privilege or IOPL check applies to it here"
                          : "it has no privilege or IOPL check";
    }
    /* Critical only where a deprivileged guest runs: at CPL 0 nothing is
     * deprivileged, and real mode has no rings (a VMM runs it in V86). */
    v.critical = v.outcome == CO_EXECUTES && sensitive && m != CM_REAL && cpl > 0;
    return v;
}
