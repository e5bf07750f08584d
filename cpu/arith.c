/*
 * Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP in all their
 * forms, TEST, INC, DEC, NOT, NEG.
 *
 * Flags are lazy (cpu/flags.h): each operation records its operands and
 * result, nothing more. Memory destinations use the read-modify-write
 * helpers, which check the segment for writing and translate the page for
 * writing before the read, so a fault leaves memory, registers and flags as
 * they were; the write-back cannot fault after that. LOCK changes nothing
 * here (one CPU per thread, and the access is already atomic with respect to
 * this CPU). CMP and TEST only read their operands: no write check.
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

enum { OP_ADD, OP_OR, OP_ADC, OP_SBB, OP_AND, OP_SUB, OP_XOR, OP_CMP };

/* r/m operand op= src. CMP reads only. form: FORM_* (operand.h). */
static inline __attribute__((always_inline)) void alu_Ef(struct cpu *c, const struct insn *i,
                                                         unsigned op, int size, uint32_t src,
                                                         int form)
{
    if (op == OP_CMP) {
        alu_op(c, op, read_Ef(c, i, size, form), src, size);
        return;
    }
    uint32_t lin;
    uint32_t a = rmw_Ef_begin(c, i, size, &lin, form);
    uint32_t r = alu_op(c, op, a, src, size);
    rmw_Ef_end(c, i, size, lin, r, form);
}
static inline __attribute__((always_inline)) void alu_E(struct cpu *c, const struct insn *i, unsigned op, int size, uint32_t src)
{
    alu_Ef(c, i, op, size, src, FORM_ANY);
}

/* reg operand op= src (src already read: a fault happened before this). */
static inline void alu_G(struct cpu *c, const struct insn *i, unsigned op, int size, uint32_t src)
{
    uint32_t r = alu_op(c, op, read_G(c, i, size), src, size);
    if (op != OP_CMP)
        write_G(c, i, size, r);
}

/* AL / eAX op= src */
static inline void alu_A(struct cpu *c, unsigned op, int size, uint32_t src)
{
    uint32_t r = alu_op(c, op, cpu_reg(c, R_EAX, size), src, size);
    if (op != OP_CMP)
        cpu_set_reg(c, R_EAX, size, r);
}

/*
 * One operation in its nine forms. Immediates: Ib of the 0x80/0x82/0x83
 * groups and of AL,Ib is sign-extended by the decoder; alu_op masks to the
 * operand size, so 0x83's Ev,Ib is sign-extended to 16 or 32 bits as the
 * SDM requires.
 */
#define ALU_FORMS(name, op)                                                                        \
    void name##_Eb_Gb(struct cpu *c, const struct insn *i) { alu_E(c, i, op, 1, read_G(c, i, 1)); } \
    void name##_Ev_Gv(struct cpu *c, const struct insn *i)                                         \
    {                                                                                              \
        alu_E(c, i, op, i->opsize, read_G(c, i, i->opsize));                                       \
    }                                                                                              \
    void name##_Gb_Eb(struct cpu *c, const struct insn *i) { alu_G(c, i, op, 1, read_E(c, i, 1)); } \
    void name##_Gv_Ev(struct cpu *c, const struct insn *i)                                         \
    {                                                                                              \
        alu_G(c, i, op, i->opsize, read_E(c, i, i->opsize));                                       \
    }                                                                                              \
    void name##_AL_Ib(struct cpu *c, const struct insn *i) { alu_A(c, op, 1, i->imm); }            \
    void name##_eAX_Iz(struct cpu *c, const struct insn *i) { alu_A(c, op, i->opsize, i->imm); }   \
    void name##_Eb_Ib(struct cpu *c, const struct insn *i) { alu_E(c, i, op, 1, i->imm); }         \
    void name##_Ev_Iz(struct cpu *c, const struct insn *i) { alu_E(c, i, op, i->opsize, i->imm); } \
    void name##_Ev_Ib(struct cpu *c, const struct insn *i) { alu_E(c, i, op, i->opsize, i->imm); }

/* The specialised forms (cpu/forms.c): 32-bit operand, register r/m
 * (_r32) or memory r/m with a 32-bit address (_m32). */
#define ALU_FORM32(name, op, form, sfx)                                                        \
    void name##_Ev_Gv_##sfx(struct cpu *c, const struct insn *i)                               \
    {                                                                                          \
        alu_Ef(c, i, op, 4, c->r[i->reg], form);                                               \
    }                                                                                          \
    void name##_Gv_Ev_##sfx(struct cpu *c, const struct insn *i)                               \
    {                                                                                          \
        alu_G(c, i, op, 4, read_Ef(c, i, 4, form));                                            \
    }                                                                                          \
    void name##_Ev_Iz_##sfx(struct cpu *c, const struct insn *i)                               \
    {                                                                                          \
        alu_Ef(c, i, op, 4, i->imm, form);                                                     \
    }                                                                                          \
    void name##_Ev_Ib_##sfx(struct cpu *c, const struct insn *i)                               \
    {                                                                                          \
        alu_Ef(c, i, op, 4, i->imm, form);                                                     \
    }
/* The statements of the written-out threaded m32 forms (THREADED_MEM: p
 * is the operand's host address): reg op= [p], and [p] op= src. */
#define ALU_G_P(op)                                                                            \
    {                                                                                          \
        uint32_t r_ = alu_op(c, op, c->r[i->reg], host_load(p, 4), 4);                         \
        if (op != OP_CMP)                                                                      \
            c->r[i->reg] = r_;                                                                 \
    }
#define ALU_E_P(op, src)                                                                       \
    {                                                                                          \
        uint32_t r_ = alu_op(c, op, host_load(p, 4), (src), 4);                                \
        if (op != OP_CMP)                                                                      \
            host_store(p, 4, r_);                                                              \
    }
#define ALU_FORMS_ALL(name, op)                                                                \
    ALU_FORMS(name, op)                                                                        \
    ALU_FORM32(name, op, FORM_REG, r32)                                                        \
    ALU_FORM32(name, op, FORM_MEM32, m32)                                                      \
    void name##_eAX_Iz_r32(struct cpu *c, const struct insn *i) { alu_A(c, op, 4, i->imm); }     \
    THREADED_REG(name##_Ev_Gv_r32) THREADED_REG(name##_Gv_Ev_r32)                            \
    THREADED_REG(name##_Ev_Iz_r32) THREADED_REG(name##_Ev_Ib_r32)                              \
    THREADED_REG(name##_eAX_Iz_r32) THREADED_MEM(name##_Gv_Ev_m32, false, ALU_G_P(op))          \
    THREADED_MEM(name##_Ev_Gv_m32, op != OP_CMP, ALU_E_P(op, c->r[i->reg]))                    \
    THREADED_MEM(name##_Ev_Iz_m32, op != OP_CMP, ALU_E_P(op, i->imm))                          \
    THREADED_MEM(name##_Ev_Ib_m32, op != OP_CMP, ALU_E_P(op, i->imm))

ALU_FORMS_ALL(add, OP_ADD)
ALU_FORMS_ALL(or, OP_OR)
ALU_FORMS_ALL(adc, OP_ADC)
ALU_FORMS_ALL(sbb, OP_SBB)
ALU_FORMS_ALL(and, OP_AND)
ALU_FORMS_ALL(sub, OP_SUB)
ALU_FORMS_ALL(xor, OP_XOR)
ALU_FORMS_ALL(cmp, OP_CMP)

/* TEST: AND without the store. AF = 0 as on the Pentium II and later (the
 * Pentium Pro alone left it unchanged, per sandpile.org). */
void test_Eb_Gb(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, read_E(c, i, 1), read_G(c, i, 1), 1);
}
void test_Ev_Gv(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, read_E(c, i, i->opsize), read_G(c, i, i->opsize), i->opsize);
}
void test_Ev_Gv_r32(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, c->r[i->rm], c->r[i->reg], 4);
}
void test_Ev_Gv_m32(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, read_Ef(c, i, 4, FORM_MEM32), c->r[i->reg], 4);
}
void test_Ev_Iz_r32(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, c->r[i->rm], i->imm, 4);
}
void test_Ev_Iz_m32(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, read_Ef(c, i, 4, FORM_MEM32), i->imm, 4);
}
THREADED_REG(test_Ev_Gv_r32) THREADED_REG(test_Ev_Iz_r32)
THREADED_MEM(test_Ev_Gv_m32, false, alu_op(c, OP_AND, host_load(p, 4), c->r[i->reg], 4))
THREADED_MEM(test_Ev_Iz_m32, false, alu_op(c, OP_AND, host_load(p, 4), i->imm, 4))
void test_AL_Ib(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, cpu_reg(c, R_EAX, 1), i->imm, 1);
}
void test_eAX_Iz(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, cpu_reg(c, R_EAX, i->opsize), i->imm, i->opsize);
}
void test_Eb_Ib(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, read_E(c, i, 1), i->imm, 1);
}
void test_Ev_Iz(struct cpu *c, const struct insn *i)
{
    alu_op(c, OP_AND, read_E(c, i, i->opsize), i->imm, i->opsize);
}

/* INC/DEC: CF is preserved, so the lazy record carries the old CF. */
static inline uint32_t inc_dec(struct cpu *c, uint32_t a, int size, bool dec)
{
    bool cf = flags_cf(c);
    uint32_t r = (dec ? a - 1 : a + 1) & size_mask(size);
    lf_set_cf(c, dec ? LF_DEC : LF_INC, size, r, a, 1, cf);
    return r;
}

static inline void inc_dec_E(struct cpu *c, const struct insn *i, int size, bool dec)
{
    uint32_t lin;
    uint32_t a = rmw_E_begin(c, i, size, &lin);
    uint32_t r = inc_dec(c, a, size, dec);
    rmw_E_end(c, i, size, lin, r);
}

void inc_Zv(struct cpu *c, const struct insn *i)
{
    int r = reg_Z(i);
    cpu_set_reg(c, r, i->opsize, inc_dec(c, cpu_reg(c, r, i->opsize), i->opsize, false));
}
void dec_Zv(struct cpu *c, const struct insn *i)
{
    int r = reg_Z(i);
    cpu_set_reg(c, r, i->opsize, inc_dec(c, cpu_reg(c, r, i->opsize), i->opsize, true));
}
void inc_Zv_r32(struct cpu *c, const struct insn *i)
{
    int r = reg_Z(i);
    c->r[r] = inc_dec(c, c->r[r], 4, false);
}
void dec_Zv_r32(struct cpu *c, const struct insn *i)
{
    int r = reg_Z(i);
    c->r[r] = inc_dec(c, c->r[r], 4, true);
}
/* cpu/forms.c: 32-bit operand in memory with a 32-bit address. */
void inc_Ev_m32(struct cpu *c, const struct insn *i)
{
    uint32_t lin;
    uint32_t a = rmw_Ef_begin(c, i, 4, &lin, FORM_MEM32);
    rmw_Ef_end(c, i, 4, lin, inc_dec(c, a, 4, false), FORM_MEM32);
}
void dec_Ev_m32(struct cpu *c, const struct insn *i)
{
    uint32_t lin;
    uint32_t a = rmw_Ef_begin(c, i, 4, &lin, FORM_MEM32);
    rmw_Ef_end(c, i, 4, lin, inc_dec(c, a, 4, true), FORM_MEM32);
}
THREADED_REG(inc_Zv_r32) THREADED_REG(dec_Zv_r32)
THREADED_MEM(inc_Ev_m32, true, host_store(p, 4, inc_dec(c, host_load(p, 4), 4, false)))
THREADED_MEM(dec_Ev_m32, true, host_store(p, 4, inc_dec(c, host_load(p, 4), 4, true)))
void inc_Eb(struct cpu *c, const struct insn *i) { inc_dec_E(c, i, 1, false); }
void dec_Eb(struct cpu *c, const struct insn *i) { inc_dec_E(c, i, 1, true); }
void inc_Ev(struct cpu *c, const struct insn *i) { inc_dec_E(c, i, i->opsize, false); }
void dec_Ev(struct cpu *c, const struct insn *i) { inc_dec_E(c, i, i->opsize, true); }

/* NOT: no flags. */
static inline void not_E(struct cpu *c, const struct insn *i, int size)
{
    uint32_t lin;
    uint32_t a = rmw_E_begin(c, i, size, &lin);
    rmw_E_end(c, i, size, lin, ~a & size_mask(size));
}
void not_Eb(struct cpu *c, const struct insn *i) { not_E(c, i, 1); }
void not_Ev(struct cpu *c, const struct insn *i) { not_E(c, i, i->opsize); }
void not_Ev_r32(struct cpu *c, const struct insn *i) { c->r[i->rm] = ~c->r[i->rm]; }
void not_Ev_m32(struct cpu *c, const struct insn *i)
{
    uint32_t lin;
    uint32_t a = rmw_Ef_begin(c, i, 4, &lin, FORM_MEM32);
    rmw_Ef_end(c, i, 4, lin, ~a, FORM_MEM32);
}
THREADED_REG(not_Ev_r32) THREADED_MEM(not_Ev_m32, true, host_store(p, 4, ~host_load(p, 4)))

/* NEG: 0 - x with SUB's flags (CF = x != 0). */
static inline void neg_E(struct cpu *c, const struct insn *i, int size)
{
    uint32_t lin;
    uint32_t a = rmw_E_begin(c, i, size, &lin);
    uint32_t r = alu_op(c, OP_SUB, 0, a, size);
    rmw_E_end(c, i, size, lin, r);
}
void neg_Eb(struct cpu *c, const struct insn *i) { neg_E(c, i, 1); }
void neg_Ev(struct cpu *c, const struct insn *i) { neg_E(c, i, i->opsize); }
