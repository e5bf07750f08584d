/*
 * NOP and HLT: the two instructions the run loop itself depends on.
 */
#include "handlers.h"
#include "cpu.h"

void nop(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
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
