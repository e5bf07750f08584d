/*
 * NOP and HLT: the two instructions the run loop itself depends on.
 */
#include "handlers.h"
#include "cpu.h"

/* NOP (90). With an F3 prefix it is PAUSE, the spin-wait hint that later
 * CPUs define and a P6 executes as a NOP. PAUSE stalls the pipeline on CPUs
 * that know it (about a hundred cycles on recent cores); trapeze charges it
 * PAUSE_CYCLES of virtual time, so spin loops that poll the TSC (Linux's
 * udelay, for one) take fewer emulated instructions for the same delay. */
#define PAUSE_CYCLES 200
void nop(struct cpu *c, const struct insn *i)
{
    if (i->rep == 0xf3)
        c->idle_cycles += PAUSE_CYCLES;
}

/* HLT: privileged (#GP(0) at CPL > 0, and in V86 mode where CPL is 3). The
 * CPU stops until an interrupt or NMI; cpu_run returns CPU_EXIT_HLT. */
void hlt(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->cpl != 0)
        cpu_fault(c, EX_GP, 0);
    c->halted = true;
}
