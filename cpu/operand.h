/*
 * Operand access for handlers: the ModRM r/m operand (register or memory),
 * the reg operand, immediates. Sizes are in bytes: 1, 2 or 4; "v" forms use
 * i->opsize.
 */
#ifndef TRAPEZE_CPU_OPERAND_H
#define TRAPEZE_CPU_OPERAND_H

#include "decode.h"
#include "flags.h"
#include "insn.h"
#include "mem.h"

static inline uint32_t size_mask(int size)
{
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* The ModRM memory operand's offset: insn_ea (decode.c), inline here for
 * the handlers' hot paths. */
static inline uint32_t ea(const struct cpu *c, const struct insn *i)
{
    uint32_t ea = i->disp;
    if (i->base != 8)
        ea += c->r[i->base];
    if (i->index != 8)
        ea += c->r[i->index] << i->scale;
    return i->addrsize == 2 ? (ea & 0xffff) : ea;
}

static inline __attribute__((always_inline)) uint32_t read_E(struct cpu *c, const struct insn *i, int size)
{
    if (i->mod == 3)
        return cpu_reg(c, i->rm, size);
    return cpu_read(c, i->seg, ea(c, i), size);
}

static inline __attribute__((always_inline)) void write_E(struct cpu *c, const struct insn *i, int size, uint32_t v)
{
    if (i->mod == 3)
        cpu_set_reg(c, i->rm, size, v);
    else
        cpu_write(c, i->seg, ea(c, i), size, v);
}

/* Read-modify-write of the r/m operand: rmw_E_begin returns the value and
 * records the linear address in *lin for rmw_E_end (unused for registers). */
static inline __attribute__((always_inline)) uint32_t rmw_E_begin(struct cpu *c, const struct insn *i, int size, uint32_t *lin)
{
    if (i->mod == 3) {
        *lin = 0;
        return cpu_reg(c, i->rm, size);
    }
    return cpu_rmw_begin(c, i->seg, ea(c, i), size, lin);
}
static inline __attribute__((always_inline)) void rmw_E_end(struct cpu *c, const struct insn *i, int size, uint32_t lin,
                             uint32_t v)
{
    if (i->mod == 3)
        cpu_set_reg(c, i->rm, size, v);
    else
        cpu_rmw_end(c, lin, size, v);
}

static inline uint32_t read_G(const struct cpu *c, const struct insn *i, int size)
{
    return cpu_reg(c, i->reg, size);
}
static inline void write_G(struct cpu *c, const struct insn *i, int size, uint32_t v)
{
    cpu_set_reg(c, i->reg, size, v);
}

/* Register encoded in the opcode's low three bits (Zb/Zv/Zd forms). */
static inline int reg_Z(const struct insn *i) { return i->b & 7; }

/* Near branch target: EIP already points past the instruction. */
static inline void branch_rel(struct cpu *c, const struct insn *i, uint32_t rel)
{
    uint32_t t = c->eip + rel;
    if (i->opsize == 2)
        t &= 0xffff;
    /* The target must lie within CS's limit (#GP(0) otherwise). */
    if (t > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    c->eip = t;
}
static inline void branch_abs(struct cpu *c, const struct insn *i, uint32_t t)
{
    if (i->opsize == 2)
        t &= 0xffff;
    if (t > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    c->eip = t;
}

#endif
