/*
 * RDMSR, WRMSR, RDTSC, RDPMC: the model-specific registers of a Pentium II
 * that this emulator implements, and nothing else.
 *
 * Every MSR not listed here is #GP(0), which is what Linux's rdmsr_safe()
 * probes expect from a CPU lacking a feature. Linux 6.1 on a family 6
 * model 3 CPU reads with plain (non-safe) RDMSR only BIOS_SIGN_ID (the
 * microcode revision: WRMSR 0, CPUID, RDMSR), so that one must work; it
 * reads PLATFORM_ID only for model >= 5. APIC_BASE is #GP: no local APIC is
 * advertised. MTRRs and PAT are not advertised, so not implemented.
 *
 * The P6 performance counters (PERFCTR0/1 at 0xC1/0xC2, EVNTSEL0/1 at
 * 0x186/0x187; family 6 has them without a CPUID bit) count two events:
 * 0xC0 INST_RETIRED (retired instructions) and 0x79 CPU_CLK_UNHALTED
 * (cycles not halted: the same count here, since an instruction is a
 * cycle). Every other event counts nothing. EVNTSEL0's EN bit (22) starts
 * and stops both counters, as on the P6; the USR/OS filters are not
 * modelled (both rings count), and an overflow raises no interrupt (there is
 * no local APIC).
 *
 * The TSC counts retired instructions (plus an offset set by WRMSR), so it
 * is deterministic and monotonic between writes; guests calibrate it
 * against the PIT like any TSC of unknown frequency. RESET zeroes icount,
 * so after a reset the TSC restarts from the preserved offset, as a real
 * RESET restarts it (from 0).
 */
#include "handlers.h"
#include "msr.h"

#define PMC_MASK ((1ull << 40) - 1)
#define EVNTSEL_EN (1u << 22)

/* What counter n's event has counted up to now (absolute count). */
static uint64_t pmc_events(const struct cpu *c, int n)
{
    if (!(c->msr.evntsel[0] & EVNTSEL_EN))
        return 0;
    unsigned ev = c->msr.evntsel[n] & 0xff;
    return (ev == 0xc0 || ev == 0x79) ? c->icount : 0;
}

uint64_t cpu_pmc_read(const struct cpu *c, int n)
{
    return (c->msr.perfctr[n] + pmc_events(c, n) - c->msr.pmc_mark[n]) & PMC_MASK;
}

/* Folds what the counters counted into perfctr[] (before EVNTSEL changes). */
static void pmc_settle(struct cpu *c)
{
    for (int n = 0; n < 2; n++) {
        c->msr.perfctr[n] = cpu_pmc_read(c, n);
        c->msr.pmc_mark[n] = 0;
    }
}

static void pmc_restart(struct cpu *c)
{
    for (int n = 0; n < 2; n++)
        c->msr.pmc_mark[n] = pmc_events(c, n);
}

static inline unsigned cpl_of(const struct cpu *c)
{
    return cpu_v86(c) ? 3u : c->cpl;
}

bool cpu_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v)
{
    switch (msr) {
    case MSR_TSC: *v = cpu_tsc(c); return true;
    /* Bits 52:50 platform ID; 0 on this model (Linux does not read it). */
    case MSR_PLATFORM_ID: *v = 0; return true;
    /* Microcode revision in the high dword: 0, no update loaded. */
    case MSR_BIOS_SIGN_ID: *v = c->msr.bios_sign_id; return true;
    case MSR_PERFCTR0: case MSR_PERFCTR1: *v = cpu_pmc_read(c, (int)(msr - MSR_PERFCTR0)); return true;
    case MSR_EVNTSEL0: case MSR_EVNTSEL1: *v = c->msr.evntsel[msr - MSR_EVNTSEL0]; return true;
    case MSR_SYSENTER_CS: *v = c->msr.sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *v = c->msr.sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *v = c->msr.sysenter_eip; return true;
    default: return false;
    }
}

bool cpu_wrmsr(struct cpu *c, uint32_t msr, uint64_t v)
{
    switch (msr) {
    case MSR_TSC:
        /* P6: only the low 32 bits are written; the high half is cleared. */
        c->tsc = (uint64_t)(uint32_t)v - c->icount - c->idle_cycles;
        return true;
    case MSR_BIOS_UPDT_TRIG:
        /* A microcode update: there is no microcode to update; ignored. */
        return true;
    case MSR_BIOS_SIGN_ID:
        /* Software writes 0 before CPUID to read the revision; the CPUID
         * then loads the (zero) revision, so storing nothing is exact. */
        c->msr.bios_sign_id = 0;
        return true;
    case MSR_PERFCTR0:
    case MSR_PERFCTR1: {
        /* P6: bits 31:0 are written and sign-extended to the counter's 40 bits. */
        int n = (int)(msr - MSR_PERFCTR0);
        c->msr.perfctr[n] = (uint64_t)(int64_t)(int32_t)(uint32_t)v & PMC_MASK;
        c->msr.pmc_mark[n] = pmc_events(c, n);
        return true;
    }
    case MSR_EVNTSEL0:
    case MSR_EVNTSEL1:
        if (v >> 32)
            return false; /* reserved high dword */
        pmc_settle(c);
        c->msr.evntsel[msr - MSR_EVNTSEL0] = (uint32_t)v;
        pmc_restart(c);
        return true;
    /* The SYSENTER MSRs are 32 bits wide on IA-32: the high dword is
     * ignored, as a P6 does. */
    case MSR_SYSENTER_CS: c->msr.sysenter_cs = (uint32_t)v & 0xffff; return true;
    case MSR_SYSENTER_ESP: c->msr.sysenter_esp = (uint32_t)v; return true;
    case MSR_SYSENTER_EIP: c->msr.sysenter_eip = (uint32_t)v; return true;
    default: return false; /* PLATFORM_ID is read-only; the rest unimplemented */
    }
}

void rdmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (cpl_of(c) != 0)
        cpu_fault(c, EX_GP, 0);
    uint64_t v;
    if (!cpu_rdmsr(c, c->r[R_ECX], &v))
        cpu_fault(c, EX_GP, 0);
    c->r[R_EAX] = (uint32_t)v;
    c->r[R_EDX] = (uint32_t)(v >> 32);
}

void wrmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (cpl_of(c) != 0)
        cpu_fault(c, EX_GP, 0);
    uint64_t v = ((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX];
    if (!cpu_wrmsr(c, c->r[R_ECX], v))
        cpu_fault(c, EX_GP, 0);
}

/* RDTSC: CR4.TSD restricts it to CPL 0 (real mode is CPL 0). */
void rdtsc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr4 & CR4_TSD) && cpu_pmode(c) && cpl_of(c) != 0)
        cpu_fault(c, EX_GP, 0);
    uint64_t t = cpu_tsc(c);
    c->r[R_EAX] = (uint32_t)t;
    c->r[R_EDX] = (uint32_t)(t >> 32);
}

/* RDPMC: the P6 has counters 0 and 1 (ECX selects); CR4.PCE allows them
 * outside ring 0. No events are counted here: both read 0 (40 bits). */
void rdpmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(c->cr4 & CR4_PCE) && cpu_pmode(c) && cpl_of(c) != 0)
        cpu_fault(c, EX_GP, 0);
    if (c->r[R_ECX] > 1)
        cpu_fault(c, EX_GP, 0);
    uint64_t v = cpu_pmc_read(c, (int)c->r[R_ECX]);
    c->r[R_EAX] = (uint32_t)v;
    c->r[R_EDX] = (uint32_t)(v >> 32) & 0xff;
}
