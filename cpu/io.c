/*
 * Port I/O: the permission check (IOPL and the TSS I/O permission bitmap),
 * bus dispatch with I/O breakpoints, and the IN/OUT instructions.
 *
 * Cost: with CPL <= IOPL outside V86 mode (every ring-0 kernel) the check is
 * two compares; the bitmap is read only for a less privileged access.
 */
#include "handlers.h"
#include "mem.h"
#include "protect.h"

/* The TSS field holding the I/O map base (32-bit TSS only). */
#define TSS_IOMAP_BASE 0x66

/*
 * The SDM's algorithm (vol. 1, 18.5.2): the processor reads the two bitmap
 * bytes at iomap_base + port/8 (two, so that an access straddling a byte
 * boundary is covered), and both must lie within the TSS limit, else #GP(0).
 * This is why a bitmap must be followed by a byte of 0xff: the last real
 * byte is only usable if the one after it is inside the limit. Every bit
 * covering the access must be 0. A 16-bit TSS has no bitmap: #GP(0).
 */
void cpu_io_check(struct cpu *c, uint16_t port, int size)
{
    if (!cpu_pmode(c))
        return;
    if (!cpu_v86(c) && c->cpl <= cpu_iopl(c))
        return;
    const struct seg *tr = &c->tr;
    unsigned type = (tr->ar >> 8) & 0xf;
    if (!tr->valid || (type & ~2u) != 9 || tr->limit < TSS_IOMAP_BASE + 1)
        cpu_fault(c, EX_GP, 0);
    uint32_t base = sys_read(c, tr->base + TSS_IOMAP_BASE, 2);
    uint32_t off = base + (port >> 3);
    if (off + 1 > tr->limit)
        cpu_fault(c, EX_GP, 0);
    uint32_t bits = sys_read(c, tr->base + off, 2);
    uint32_t need = ((1u << size) - 1) << (port & 7);
    if (bits & need)
        cpu_fault(c, EX_GP, 0);
}

/*
 * I/O breakpoints (CR4.DE = 1, DR7 R/W = 10): a trap after the instruction
 * that touched a matching port. Like a data breakpoint it sets DR6.Bn and
 * raises c->data_bp_hit; the run loop delivers one #DB after the instruction
 * (merged with a single-step trap). Because the check sits in the port
 * access itself, INS/OUTS are covered too (the trap comes after the whole
 * REP instruction rather than after the matching iteration).
 */
static void io_breakpoint(struct cpu *c, uint16_t port, int size)
{
    uint32_t dr7 = c->dr[7];
    for (int n = 0; n < 4; n++) {
        if (!((dr7 >> (2 * n)) & 3) || ((dr7 >> (16 + 4 * n)) & 3) != 2)
            continue;
        unsigned len = (dr7 >> (18 + 4 * n)) & 3; /* 00 1, 01 2, 11 4 bytes; 10 undefined */
        uint32_t blen = len == 3 ? 4 : len + 1u;
        uint32_t lo = c->dr[n] & ~(blen - 1);
        if ((uint32_t)port < lo + blen && lo < (uint32_t)port + (uint32_t)size) {
            c->dr[6] |= 1u << n;
            c->data_bp_hit = true;
        }
    }
}

uint32_t cpu_port_in(struct cpu *c, uint16_t port, int size)
{
    uint32_t v = bus_port_read(c->bus, port, size);
    if (__builtin_expect((c->cr4 & CR4_DE) && (c->dr[7] & 0xff), 0))
        io_breakpoint(c, port, size);
    return v;
}

/* An OUT may remap the bus (A20 gate, PCI BARs): the run loop compares the
 * bus map generation before the next instruction and flushes the TLB. */
void cpu_port_out(struct cpu *c, uint16_t port, int size, uint32_t v)
{
    bus_port_write(c->bus, port, size, v);
    if (__builtin_expect((c->cr4 & CR4_DE) && (c->dr[7] & 0xff), 0))
        io_breakpoint(c, port, size);
}

static void do_in(struct cpu *c, uint16_t port, int size)
{
    cpu_io_check(c, port, size);
    uint32_t v = cpu_port_in(c, port, size);
    cpu_set_reg(c, R_EAX, size, v);
}

static void do_out(struct cpu *c, uint16_t port, int size)
{
    cpu_io_check(c, port, size);
    cpu_port_out(c, port, size, cpu_reg(c, R_EAX, size));
}

void in_AL_Ib(struct cpu *c, const struct insn *i) { do_in(c, (uint8_t)i->imm, 1); }
void in_eAX_Ib(struct cpu *c, const struct insn *i) { do_in(c, (uint8_t)i->imm, i->opsize); }
void out_Ib_AL(struct cpu *c, const struct insn *i) { do_out(c, (uint8_t)i->imm, 1); }
void out_Ib_eAX(struct cpu *c, const struct insn *i) { do_out(c, (uint8_t)i->imm, i->opsize); }
void in_AL_DX(struct cpu *c, const struct insn *i)
{
    (void)i;
    do_in(c, (uint16_t)c->r[R_EDX], 1);
}
void in_eAX_DX(struct cpu *c, const struct insn *i) { do_in(c, (uint16_t)c->r[R_EDX], i->opsize); }
void out_DX_AL(struct cpu *c, const struct insn *i)
{
    (void)i;
    do_out(c, (uint16_t)c->r[R_EDX], 1);
}
void out_DX_eAX(struct cpu *c, const struct insn *i) { do_out(c, (uint16_t)c->r[R_EDX], i->opsize); }
