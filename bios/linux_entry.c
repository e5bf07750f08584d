/*
 * The CPU state of the Linux 32-bit boot entry (Documentation/x86/boot.rst,
 * "32-bit boot protocol"). The segment registers hold selectors of real
 * descriptors in the loader's GDT (bios/linux_boot.c writes it), and their
 * hidden parts are exactly what loading those descriptors would give, so a
 * kernel that reloads them, or reads them back, sees a consistent machine.
 */
#include "direct_boot.h"

#include <string.h>

/* The hidden part for a flat, 4 GiB, 32-bit, DPL 0, accessed segment of
 * type 'type' (0xb: execute/read code, 0x3: read/write data). */
static void flat(struct cpu *c, int s, uint16_t sel, uint32_t type)
{
    struct seg *g = &c->seg[s];
    g->sel = sel;
    g->base = 0;
    g->limit = 0xffffffffu;
    g->ar = AR_P | AR_S | (type << 8) | AR_DB | AR_G;
    g->valid = true;
    seg_update_cache(c, g);
}

void linux_boot_enter(struct cpu *c, const struct linux_boot *lb)
{
    c->cr0 = (c->cr0 | CR0_PE) & ~CR0_PG;
    mmu_set_cr0(&c->mmu, c->cr0);
    c->cpl = 0;
    c->gdtr.base = lb->gdt_base;
    c->gdtr.limit = lb->gdt_limit;
    /* No IDT: interrupts are off and the kernel loads its own before it
     * enables them. A limit of 0 makes any stray exception a clean triple
     * fault rather than a walk through whatever lies at address 0. */
    c->idtr.base = 0;
    c->idtr.limit = 0;
    cpu_set_eflags(c, F_RES1, 0xffffffffu); /* IF = 0, DF = 0, IOPL = 0 */
    flat(c, S_CS, LB_BOOT_CS, 0xb);
    flat(c, S_DS, LB_BOOT_DS, 0x3);
    flat(c, S_ES, LB_BOOT_DS, 0x3);
    flat(c, S_SS, LB_BOOT_DS, 0x3);
    flat(c, S_FS, LB_BOOT_DS, 0x3);
    flat(c, S_GS, LB_BOOT_DS, 0x3);
    memset(c->r, 0, sizeof(c->r));
    c->r[R_ESI] = lb->params;
    c->eip = lb->entry;
}
