/*
 * SYSENTER and SYSEXIT: the P6's fast system call. Both load CS and SS with
 * fixed flat descriptors derived from IA32_SYSENTER_CS without reading the
 * GDT (the OS must make its GDT agree: CS, CS+8 at ring 0; CS+16, CS+24 at
 * ring 3). Cost: no memory access at all.
 */
#include "handlers.h"
#include "msr.h"

/* A flat 4 GiB segment: base 0, G and D/B set. code: execute/read,
 * accessed; data: read/write, accessed. */
static void load_flat(struct cpu *c, int s, uint16_t sel, unsigned dpl, bool code)
{
    struct seg *g = &c->seg[s];
    g->sel = sel;
    g->base = 0;
    g->limit = 0xffffffffu;
    g->ar = AR_P | AR_S | (code ? 0x0b00u : 0x0300u) | ((uint32_t)dpl << 13) | AR_DB | AR_G;
    g->valid = true;
    seg_update_cache(c, g);
}

/* SYSENTER: #GP(0) in real mode or with a null SYSENTER_CS. Allowed from
 * any ring and from V86 mode (VM is cleared). */
void sysenter(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint16_t cs = (uint16_t)c->msr.sysenter_cs;
    if (!cpu_pmode(c) || (cs & 0xfffc) == 0)
        cpu_fault(c, EX_GP, 0);
    bool was_v86 = cpu_v86(c);
    c->eflags &= ~(uint32_t)(F_VM | F_IF | F_RF);
    cpu_set_cpl(c, 0);
    load_flat(c, S_CS, cs & 0xfffc, 0, true);
    load_flat(c, S_SS, (uint16_t)((cs & 0xfffc) + 8), 0, false);
    if (was_v86) /* the data segment caches change meaning with the mode */
        for (int s = 0; s < 6; s++)
            if (s != S_CS && s != S_SS)
                seg_update_cache(c, &c->seg[s]);
    c->r[R_ESP] = c->msr.sysenter_esp;
    c->eip = c->msr.sysenter_eip;
}

/* SYSEXIT: #GP(0) unless protected mode at CPL 0 with a non-null
 * SYSENTER_CS. Returns to CPL 3 at EDX with the stack at ECX. */
void sysexit(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint16_t cs = (uint16_t)c->msr.sysenter_cs;
    if (!cpu_pmode(c) || cpu_v86(c) || c->cpl != 0 || (cs & 0xfffc) == 0)
        cpu_fault(c, EX_GP, 0);
    cpu_set_cpl(c, 3);
    load_flat(c, S_CS, (uint16_t)((cs + 16) | 3), 3, true);
    load_flat(c, S_SS, (uint16_t)((cs + 24) | 3), 3, false);
    c->r[R_ESP] = c->r[R_ECX];
    c->eip = c->r[R_EDX];
}
