/*
 * Instructions on the flags register as a whole: PUSHF, POPF, CLI, STI.
 *
 * The IOPL rules (SDM vol. 2, POPF/CLI/STI; no VME on this CPU, so VIF/VIP
 * do not exist and CR4.VME/PVI cannot be set):
 *  - V86 mode: PUSHF/POPF/CLI/STI fault with #GP(0) unless IOPL = 3; with
 *    IOPL = 3 POPF may change every writable flag except IOPL (and VM, RF).
 *  - protected mode, CPL 0: POPF may change every writable flag except VM;
 *    RF is cleared. Real mode counts as CPL 0.
 *  - CPL > 0: POPF leaves IOPL unchanged, and IF too unless CPL <= IOPL;
 *    unchanged bits are silently kept, never a fault.
 *  - CLI/STI at CPL > IOPL: #GP(0).
 * A 16-bit POPF changes only the low word (AC, ID, RF, VM untouched).
 */
#include "handlers.h"
#include "mem.h"

static inline unsigned cpl_of(const struct cpu *c)
{
    return cpu_v86(c) ? 3u : c->cpl;
}

/* V86 mode with IOPL < 3: the IOPL-sensitive-in-V86 forms fault. */
static inline void v86_iopl_check(struct cpu *c)
{
    if (cpu_v86(c) && cpu_iopl(c) < 3)
        cpu_fault(c, EX_GP, 0);
}

/* PUSHF/PUSHFD: the image has VM and RF clear (SDM PUSHF). */
void pushf(struct cpu *c, const struct insn *i)
{
    v86_iopl_check(c);
    uint32_t f = cpu_get_eflags(c) & ~(uint32_t)(F_VM | F_RF);
    cpu_push(c, i->opsize == 4 ? f : (f & 0xffff), i->opsize);
}

void popf(struct cpu *c, const struct insn *i)
{
    v86_iopl_check(c);
    uint32_t v = cpu_pop(c, i->opsize);
    /* Bits POPF can ever write; VM never, RF only to clear it. */
    uint32_t mask = F_WRITABLE & ~(uint32_t)(F_VM | F_RF);
    unsigned cpl = cpu_pmode(c) ? cpl_of(c) : 0;
    if (cpl > 0)
        mask &= ~(uint32_t)F_IOPL;
    if (cpl > cpu_iopl(c))
        mask &= ~(uint32_t)F_IF;
    if (i->opsize == 2) {
        mask &= 0xffff;
    } else {
        mask |= F_RF;  /* a 32-bit POPF clears RF */
        v &= ~(uint32_t)F_RF;
    }
    cpu_set_eflags(c, v, mask);
    /* Not A_SERIAL: it ends its block only when single-stepping starts
     * (the next instruction traps; only the slow path does that). A change
     * of IF is seen by the block loop's event test. */
    if (c->eflags & F_TF)
        c->end_run = true;
}

/* CLI/STI: CPL > IOPL faults; in V86 mode that is IOPL < 3. */
static inline void iopl_check(struct cpu *c)
{
    if (cpu_pmode(c) && cpl_of(c) > cpu_iopl(c))
        cpu_fault(c, EX_GP, 0);
}

void cli(struct cpu *c, const struct insn *i)
{
    (void)i;
    iopl_check(c);
    c->eflags &= ~(uint32_t)F_IF;
}

/* STI: when it sets IF from 0, interrupts stay blocked until after the next
 * instruction (the interrupt shadow that makes STI; HLT and STI; RET safe). */
void sti(struct cpu *c, const struct insn *i)
{
    (void)i;
    iopl_check(c);
    if (!(c->eflags & F_IF)) {
        c->eflags |= F_IF;
        c->inhibit_intr = true;
    }
}
