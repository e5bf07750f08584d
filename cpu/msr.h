/*
 * Model-specific registers and the time-stamp counter (cpu/msr.c). The VMM
 * reuses these to virtualize RDMSR/WRMSR/RDTSC for a guest.
 */
#ifndef TRAPEZE_CPU_MSR_H
#define TRAPEZE_CPU_MSR_H

#include "cpu.h"

enum {
    MSR_TSC = 0x10,
    MSR_PLATFORM_ID = 0x17,
    MSR_APIC_BASE = 0x1b,
    MSR_BIOS_UPDT_TRIG = 0x79,
    MSR_BIOS_SIGN_ID = 0x8b,
    MSR_PERFCTR0 = 0xc1,
    MSR_PERFCTR1 = 0xc2,
    MSR_EVNTSEL0 = 0x186,
    MSR_EVNTSEL1 = 0x187,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
};

/* The TSC: one tick per retired instruction, plus the cycles the machine
 * skipped while the CPU was halted (so it keeps pace with the virtual clock
 * that drives the PIT and RTC), plus an offset (c->tsc) set by WRMSR. It is
 * monotonic between writes and deterministic for a given run. */
static inline uint64_t cpu_tsc(const struct cpu *c)
{
    return c->icount + c->idle_cycles + c->tsc;
}

/* RDMSR/WRMSR without the privilege check: false when the access is #GP
 * (unimplemented MSR, read-only MSR, reserved bits). */
/* Performance counter n (0 or 1), 40 bits. */
uint64_t cpu_pmc_read(const struct cpu *c, int n);

bool cpu_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v);
bool cpu_wrmsr(struct cpu *c, uint32_t msr, uint64_t v);

#endif
