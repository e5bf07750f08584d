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

/*
 * Operand forms. The generic handlers pass FORM_ANY and test the ModRM
 * mod field and the address size at run time. The specialised handlers of
 * cpu/forms.c pass a constant that states what the decoder's form
 * selection guaranteed, so the compiler removes the other paths:
 *   FORM_REG    the r/m operand is a register (mod = 3);
 *   FORM_MEM32  the r/m operand is in memory with a 32-bit address size.
 */
enum { FORM_ANY, FORM_REG, FORM_MEM32 };

static inline __attribute__((always_inline)) bool form_is_reg(const struct insn *i, int form)
{
    return form == FORM_REG || (form == FORM_ANY && i->mod == 3);
}

/* The ModRM memory operand's offset: insn_ea (decode.c), inline here for
 * the handlers' hot paths. */
static inline __attribute__((always_inline)) uint32_t ea_f(const struct cpu *c,
                                                           const struct insn *i, int form)
{
    uint32_t ea = i->disp + c->r_ea[i->base] + (c->r_ea[i->index] << i->scale);
    return form != FORM_MEM32 && i->addrsize == 2 ? (ea & 0xffff) : ea;
}
static inline uint32_t ea(const struct cpu *c, const struct insn *i)
{
    return ea_f(c, i, FORM_ANY);
}

static inline __attribute__((always_inline)) uint32_t read_Ef(struct cpu *c,
                                                              const struct insn *i, int size,
                                                              int form)
{
    if (form_is_reg(i, form))
        return cpu_reg(c, i->rm, size);
    return cpu_read(c, i->seg, ea_f(c, i, form), size);
}
static inline __attribute__((always_inline)) uint32_t read_E(struct cpu *c, const struct insn *i, int size)
{
    return read_Ef(c, i, size, FORM_ANY);
}

static inline __attribute__((always_inline)) void write_Ef(struct cpu *c, const struct insn *i,
                                                           int size, uint32_t v, int form)
{
    if (form_is_reg(i, form))
        cpu_set_reg(c, i->rm, size, v);
    else
        cpu_write(c, i->seg, ea_f(c, i, form), size, v);
}
static inline __attribute__((always_inline)) void write_E(struct cpu *c, const struct insn *i, int size, uint32_t v)
{
    write_Ef(c, i, size, v, FORM_ANY);
}

/* Read-modify-write of the r/m operand: rmw_E_begin returns the value and
 * records the linear address in *lin for rmw_E_end (unused for registers). */
static inline __attribute__((always_inline)) uint32_t rmw_Ef_begin(struct cpu *c,
                                                                   const struct insn *i,
                                                                   int size, uint32_t *lin,
                                                                   int form)
{
    if (form_is_reg(i, form)) {
        *lin = 0;
        return cpu_reg(c, i->rm, size);
    }
    return cpu_rmw_begin(c, i->seg, ea_f(c, i, form), size, lin);
}
static inline __attribute__((always_inline)) void rmw_Ef_end(struct cpu *c, const struct insn *i,
                                                             int size, uint32_t lin, uint32_t v,
                                                             int form)
{
    if (form_is_reg(i, form))
        cpu_set_reg(c, i->rm, size, v);
    else
        cpu_rmw_end(c, lin, size, v);
}
static inline __attribute__((always_inline)) uint32_t rmw_E_begin(struct cpu *c, const struct insn *i, int size, uint32_t *lin)
{
    return rmw_Ef_begin(c, i, size, lin, FORM_ANY);
}
static inline __attribute__((always_inline)) void rmw_E_end(struct cpu *c, const struct insn *i, int size, uint32_t lin,
                             uint32_t v)
{
    rmw_Ef_end(c, i, size, lin, v, FORM_ANY);
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
