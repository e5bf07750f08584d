/*
 * TEMPORARY weak fallbacks for functions whose real versions are being
 * written in other files (interrupt.c, system.c). A strong definition
 * elsewhere always wins. This file is deleted once they land.
 */
#include "flags.h"
#include "mem.h"

__attribute__((weak)) void cpu_deliver(struct cpu *c, int vector, bool is_sw, bool has_err,
                                       uint32_t err)
{
    (void)is_sw;
    (void)has_err;
    (void)err;
    /* Real mode only: IVT at IDTR.base, push FLAGS, CS, IP. */
    uint32_t off = (uint32_t)vector * 4;
    if (off + 3 > c->idtr.limit)
        cpu_fault(c, EX_GP, 0);
    uint32_t ent = sys_read(c, c->idtr.base + off, 4);
    cpu_push(c, cpu_get_eflags(c), 2);
    cpu_push(c, c->seg[S_CS].sel, 2);
    cpu_push(c, c->eip, 2);
    c->eflags &= ~(F_IF | F_TF | F_AC | F_RF);
    c->seg[S_CS].sel = (uint16_t)(ent >> 16);
    c->seg[S_CS].base = (ent >> 16) << 4;
    c->eip = ent & 0xffff;
}

__attribute__((weak)) void cpu_write_cr0(struct cpu *c, uint32_t v)
{
    c->cr0 = v | CR0_ET;
    mmu_set_cr0(&c->mmu, c->cr0);
}
__attribute__((weak)) void cpu_write_cr3(struct cpu *c, uint32_t v)
{
    c->cr3 = v;
    mmu_set_cr3(&c->mmu, v);
}
__attribute__((weak)) void cpu_write_cr4(struct cpu *c, uint32_t v)
{
    c->cr4 = v;
    mmu_set_cr4(&c->mmu, v);
}

#include "protect.h"

__attribute__((weak)) void cpu_load_seg(struct cpu *c, int s, uint16_t sel)
{
    c->seg[s].sel = sel;
    c->seg[s].base = (uint32_t)sel << 4;
    seg_update_cache(c, &c->seg[s]);
}
__attribute__((weak)) void cpu_io_check(struct cpu *c, uint16_t port, int size)
{
    (void)c;
    (void)port;
    (void)size;
}
__attribute__((weak)) uint32_t cpu_port_in(struct cpu *c, uint16_t port, int size)
{
    return bus_port_read(c->bus, port, size);
}
__attribute__((weak)) void cpu_port_out(struct cpu *c, uint16_t port, int size, uint32_t v)
{
    bus_port_write(c->bus, port, size, v);
}
