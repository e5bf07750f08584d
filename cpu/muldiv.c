/*
 * MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV.
 *
 * Flags: MUL/IMUL set CF = OF = "the product does not fit the destination"
 * and, on the P6, leave SF ZF AF PF unchanged (sandpile.org's P6 column; the
 * SDM calls them undefined). DIV/IDIV leave every flag unchanged (likewise).
 * See docs/cpu-flags.md.
 *
 * #DE (divide by zero or a quotient that does not fit) is a fault raised
 * before any register is written, so the instruction can be restarted.
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

static inline void mul_flags(struct cpu *c, bool overflow)
{
    flags_set_cf_of(c, overflow ? F_CF | F_OF : 0);
}

static inline int32_t sext(uint32_t v, int size)
{
    return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

void mul_Eb(struct cpu *c, const struct insn *i)
{
    uint32_t p = (c->r[R_EAX] & 0xff) * read_E(c, i, 1);
    cpu_set_reg16(c, R_EAX, (uint16_t)p);
    mul_flags(c, p > 0xff);
}

void imul_Eb(struct cpu *c, const struct insn *i)
{
    int32_t p = (int8_t)c->r[R_EAX] * (int8_t)read_E(c, i, 1);
    cpu_set_reg16(c, R_EAX, (uint16_t)p);
    mul_flags(c, p != (int8_t)p);
}

void mul_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    if (i->opsize == 2) {
        uint32_t p = (c->r[R_EAX] & 0xffff) * s;
        cpu_set_reg16(c, R_EAX, (uint16_t)p);
        cpu_set_reg16(c, R_EDX, (uint16_t)(p >> 16));
        mul_flags(c, p > 0xffff);
    } else {
        uint64_t p = (uint64_t)c->r[R_EAX] * s;
        c->r[R_EAX] = (uint32_t)p;
        c->r[R_EDX] = (uint32_t)(p >> 32);
        mul_flags(c, (p >> 32) != 0);
    }
}

void imul_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    if (i->opsize == 2) {
        int32_t p = (int16_t)c->r[R_EAX] * (int16_t)s;
        cpu_set_reg16(c, R_EAX, (uint16_t)p);
        cpu_set_reg16(c, R_EDX, (uint16_t)((uint32_t)p >> 16));
        mul_flags(c, p != (int16_t)p);
    } else {
        int64_t p = (int64_t)(int32_t)c->r[R_EAX] * (int32_t)s;
        c->r[R_EAX] = (uint32_t)p;
        c->r[R_EDX] = (uint32_t)((uint64_t)p >> 32);
        mul_flags(c, p != (int32_t)p);
    }
}

/* Two- and three-operand IMUL: the product truncated to the operand size. */
static inline void imul_G(struct cpu *c, const struct insn *i, uint32_t a, uint32_t b)
{
    int size = i->opsize;
    int64_t p = (int64_t)sext(a, size) * sext(b, size);
    write_G(c, i, size, (uint32_t)p);
    mul_flags(c, p != sext((uint32_t)p, size));
}

void imul_Gv_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    imul_G(c, i, read_G(c, i, i->opsize), s);
}
/* cpu/forms.c: 32-bit operand, register or 32-bit-address memory r/m. */
void imul_Gv_Ev_r32(struct cpu *c, const struct insn *i)
{
    int64_t p = (int64_t)(int32_t)c->r[i->reg] * (int32_t)c->r[i->rm];
    c->r[i->reg] = (uint32_t)p;
    mul_flags(c, p != (int32_t)p);
}
void imul_Gv_Ev_m32(struct cpu *c, const struct insn *i)
{
    int32_t s = (int32_t)read_Ef(c, i, 4, FORM_MEM32);
    int64_t p = (int64_t)(int32_t)c->r[i->reg] * s;
    c->r[i->reg] = (uint32_t)p;
    mul_flags(c, p != (int32_t)p);
}
THREADED_REG(imul_Gv_Ev_r32) THREADED(imul_Gv_Ev_m32)
void mul_Ev_r32(struct cpu *c, const struct insn *i)
{
    uint64_t p = (uint64_t)c->r[R_EAX] * c->r[i->rm];
    c->r[R_EAX] = (uint32_t)p;
    c->r[R_EDX] = (uint32_t)(p >> 32);
    mul_flags(c, (p >> 32) != 0);
}
void mul_Ev_m32(struct cpu *c, const struct insn *i)
{
    uint64_t p = (uint64_t)c->r[R_EAX] * read_Ef(c, i, 4, FORM_MEM32);
    c->r[R_EAX] = (uint32_t)p;
    c->r[R_EDX] = (uint32_t)(p >> 32);
    mul_flags(c, (p >> 32) != 0);
}

void imul_Gv_Ev_Iz(struct cpu *c, const struct insn *i)
{
    imul_G(c, i, read_E(c, i, i->opsize), i->imm);
}
void imul_Gv_Ev_Ib(struct cpu *c, const struct insn *i)
{
    imul_G(c, i, read_E(c, i, i->opsize), i->imm); /* imm already sign-extended */
}

void div_Eb(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, 1);
    uint32_t a = c->r[R_EAX] & 0xffff;
    if (s == 0 || a / s > 0xff)
        cpu_fault(c, EX_DE, 0);
    cpu_set_reg16(c, R_EAX, (uint16_t)(((a % s) << 8) | (a / s)));
}

void idiv_Eb(struct cpu *c, const struct insn *i)
{
    int32_t s = (int8_t)read_E(c, i, 1);
    int32_t a = (int16_t)c->r[R_EAX];
    if (s == 0)
        cpu_fault(c, EX_DE, 0);
    int32_t q = a / s, r = a % s; /* no overflow: |a| <= 32768 */
    if (q != (int8_t)q)
        cpu_fault(c, EX_DE, 0);
    cpu_set_reg16(c, R_EAX, (uint16_t)(((uint32_t)(uint8_t)r << 8) | (uint8_t)q));
}

void div_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    if (s == 0)
        cpu_fault(c, EX_DE, 0);
    if (i->opsize == 2) {
        uint32_t a = ((c->r[R_EDX] & 0xffff) << 16) | (c->r[R_EAX] & 0xffff);
        if (a / s > 0xffff)
            cpu_fault(c, EX_DE, 0);
        cpu_set_reg16(c, R_EAX, (uint16_t)(a / s));
        cpu_set_reg16(c, R_EDX, (uint16_t)(a % s));
    } else {
        uint64_t a = ((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX];
        if (a / s > 0xffffffffu)
            cpu_fault(c, EX_DE, 0);
        c->r[R_EAX] = (uint32_t)(a / s);
        c->r[R_EDX] = (uint32_t)(a % s);
    }
}

void idiv_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t su = read_E(c, i, i->opsize);
    if (su == 0)
        cpu_fault(c, EX_DE, 0);
    if (i->opsize == 2) {
        int32_t s = (int16_t)su;
        int32_t a = (int32_t)(((c->r[R_EDX] & 0xffff) << 16) | (c->r[R_EAX] & 0xffff));
        /* INT32_MIN / -1 overflows in C; its quotient does not fit 16 bits anyway. */
        if (s == -1 && a == INT32_MIN)
            cpu_fault(c, EX_DE, 0);
        int32_t q = a / s, r = a % s;
        if (q != (int16_t)q)
            cpu_fault(c, EX_DE, 0);
        cpu_set_reg16(c, R_EAX, (uint16_t)q);
        cpu_set_reg16(c, R_EDX, (uint16_t)r);
    } else {
        int64_t s = (int32_t)su;
        int64_t a = (int64_t)(((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX]);
        if (s == -1 && a == INT64_MIN)
            cpu_fault(c, EX_DE, 0);
        int64_t q = a / s, r = a % s;
        if (q != (int32_t)q)
            cpu_fault(c, EX_DE, 0);
        c->r[R_EAX] = (uint32_t)q;
        c->r[R_EDX] = (uint32_t)r;
    }
}
