/*
 * Lazy arithmetic flags. A flag-setting operation records its operands and
 * result in cpu->lf (cost: four stores); CF, PF, AF, ZF, SF and OF are
 * computed only when something reads them (Jcc, PUSHF, ADC, ...). Handlers
 * never touch eflags' arithmetic bits directly: they call the ALU helpers
 * below or lf_set().
 *
 * Undefined flags follow a real P6 where known (docs/cpu-flags.md lists
 * each choice).
 */
#ifndef TRAPEZE_CPU_FLAGS_H
#define TRAPEZE_CPU_FLAGS_H

#include "cpu.h"

enum lf_op {
    LF_NONE = 0, /* eflags holds the arithmetic flags */
    LF_ADD,   /* res = a + b */
    LF_ADC,   /* res = a + b + cf_in */
    LF_SUB,   /* res = a - b (CMP, NEG as 0 - b) */
    LF_SBB,   /* res = a - b - cf_in */
    LF_LOGIC, /* AND OR XOR TEST: CF = OF = AF = 0 */
    LF_INC,   /* res = a + 1; CF = cf_in (INC preserves CF) */
    LF_DEC,   /* res = a - 1; CF = cf_in */
    LF_MUL,   /* CF = OF = cf_in; SF ZF PF from res; AF = 0 (the P4's MUL flags; the P6
                 model leaves SF ZF AF PF unchanged instead and does not use this op) */
    /* CF and OF given (the F_CF and F_OF bits of a), AF that of
     * cpu.lf_prev, SF ZF PF from res: MUL, IMUL and rotates, which keep
     * the previous record's res and size and so its SF ZF PF, and shifts
     * by one, which record their result. No materialization of the
     * previous operation's flags: they are computed, inline, only when
     * something reads AF. */
    LF_CF_OF,
    /* A shift by more than one (SHL SHR SAR), which on the P6 leaves OF
     * and AF unchanged: SF ZF PF from res, CF the F_CF bit of a, OF and AF
     * those of cpu.lf_prev. */
    LF_SHIFTN,
    LF_OP_COUNT
};

/* Folds the lazy state into eflags (op becomes LF_NONE). */
void flags_materialize(struct cpu *c);

/* Before lf becomes an LF_CF_OF or LF_SHIFTN: makes cpu.lf_prev the record
 * that AF (and OF) come from, the current one, unless it is one of those
 * two already, whose lf_prev still holds them. So lf_prev is never either
 * of them. Cost: one compare and a 16-byte copy. */
static inline void lf_keep_prev(struct cpu *c)
{
    _Static_assert(LF_SHIFTN == LF_CF_OF + 1, "one range compare tells the two apart");
    if ((uint8_t)(c->lf.op - LF_CF_OF) > 1)
        c->lf_prev = c->lf;
}
/* Records CF and OF (bits: F_CF, F_OF) over a lazy record, keeping its res
 * and size (the caller may set others) and, through lf_prev, its AF. */
static inline void lf_record_cf_of(struct cpu *c, uint32_t bits)
{
    lf_keep_prev(c);
    c->lf.a = bits & (F_CF | F_OF);
    c->lf.op = LF_CF_OF;
}

static inline void lf_set(struct cpu *c, enum lf_op op, int size, uint32_t res, uint32_t a,
                          uint32_t b)
{
    c->lf.op = (uint8_t)op;
    c->lf.size = (uint8_t)size;
    c->lf.res = res;
    c->lf.a = a;
    c->lf.b = b;
}
static inline void lf_set_cf(struct cpu *c, enum lf_op op, int size, uint32_t res, uint32_t a,
                             uint32_t b, bool cf_in)
{
    lf_set(c, op, size, res, a, b);
    c->lf.cf_in = cf_in;
}
/* Sets all six arithmetic flags at once (shifts, BCD, ... compute them eagerly). */
static inline void flags_set_arith(struct cpu *c, uint32_t f)
{
    c->lf.op = LF_NONE;
    c->eflags = (c->eflags & ~F_ARITH) | (f & F_ARITH);
}
/*
 * Replaces the arithmetic flags selected by mask with those in f and keeps
 * the others as they are: for instructions that leave some flags unchanged
 * (MUL, BT, BSF, rotates, shifts on the P6). Costs one materialization.
 */
static inline void flags_update(struct cpu *c, uint32_t mask, uint32_t f)
{
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (f & mask);
}
/* Sets CF and OF from bits (F_CF, F_OF) and keeps SF ZF AF PF, with no
 * materialization: after a lazy operation the record becomes LF_CF_OF with
 * the previous res and size (so SF ZF PF stay) and AF from lf_prev (MUL,
 * IMUL, rotates). Defined below. */
static inline void flags_set_cf_of(struct cpu *c, uint32_t bits);

/* Parity flag of the low byte of v (PF = 1 when the count of ones is even). */
static inline uint32_t flags_pf(uint32_t v)
{
    return (__builtin_popcount(v & 0xff) & 1) ? 0 : F_PF;
}

/* Individual flags, computed from the lazy state without materializing.
 * CF is inline: ADC, SBB, INC and DEC read it on every execution. */
static inline bool flags_cf(const struct cpu *c)
{
    const struct lazy_flags *l = &c->lf;
    switch (l->op) {
    case LF_NONE: return c->eflags & F_CF;
    case LF_ADD: return l->res < l->a;
    case LF_ADC: return l->cf_in ? l->res <= l->a : l->res < l->a;
    case LF_SUB: return l->a < l->b;
    case LF_SBB: return l->cf_in ? l->a <= l->b : l->a < l->b;
    case LF_INC: case LF_DEC: case LF_MUL: return l->cf_in;
    case LF_CF_OF: case LF_SHIFTN: return l->a & F_CF;
    default: return false; /* LF_LOGIC */
    }
}
bool flags_zf(const struct cpu *c);
/* Condition code cc (0-15, the low nibble of Jcc/SETcc/CMOVcc). */
bool cpu_cond(const struct cpu *c, unsigned cc);

/* The same, inline: with a constant cc (the per-condition handlers of
 * cpu/forms.c) only the flags the condition reads are computed, straight
 * from the lazy record. */
static inline __attribute__((always_inline)) bool lf_zf(const struct cpu *c)
{
    return c->lf.op == LF_NONE ? (c->eflags & F_ZF) != 0 : c->lf.res == 0;
}
static inline __attribute__((always_inline)) bool lf_sf(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return (c->eflags & F_SF) != 0;
    return (c->lf.res >> (8 * c->lf.size - 1)) & 1;
}
/* OF and AF of the record l, eflags holding them when l->op is LF_NONE; l
 * is never an LF_SHIFTN (lf_of and lf_af resolve that one, and AF of an
 * LF_CF_OF, through cpu.lf_prev). Inline, with no call: a handler that
 * reads OF or AF needs no stack frame. */
static inline __attribute__((always_inline)) bool lf_rec_of(const struct lazy_flags *l,
                                                            uint32_t eflags)
{
    if (l->op == LF_NONE)
        return (eflags & F_OF) != 0;
    uint32_t sb = 1u << (8 * l->size - 1);
    switch (l->op) {
    case LF_ADD: case LF_ADC: return (((l->a ^ l->res) & (l->b ^ l->res)) & sb) != 0;
    case LF_SUB: case LF_SBB: return (((l->a ^ l->b) & (l->a ^ l->res)) & sb) != 0;
    case LF_INC: return l->res == sb;
    case LF_DEC: return l->res == sb - 1;
    case LF_MUL: return l->cf_in;
    case LF_CF_OF: return (l->a & F_OF) != 0;
    default: return false;
    }
}
static inline __attribute__((always_inline)) uint32_t lf_rec_af(const struct lazy_flags *l,
                                                                uint32_t eflags)
{
    switch (l->op) {
    case LF_NONE: return eflags & F_AF;
    case LF_ADD: case LF_ADC: case LF_SUB: case LF_SBB: return (l->a ^ l->b ^ l->res) & F_AF;
    case LF_INC: return (l->res & 0xf) == 0 ? F_AF : 0;
    case LF_DEC: return (l->res & 0xf) == 0xf ? F_AF : 0;
    default: return 0; /* LF_LOGIC, LF_MUL */
    }
}
/* OF and AF of the lazy state. */
static inline __attribute__((always_inline)) bool lf_of(const struct cpu *c)
{
    return lf_rec_of(c->lf.op == LF_SHIFTN ? &c->lf_prev : &c->lf, c->eflags);
}
static inline __attribute__((always_inline)) uint32_t lf_af(const struct cpu *c)
{
    bool prev = c->lf.op == LF_SHIFTN || c->lf.op == LF_CF_OF;
    return lf_rec_af(prev ? &c->lf_prev : &c->lf, c->eflags);
}
static inline void flags_set_cf_of(struct cpu *c, uint32_t bits)
{
    if (c->lf.op == LF_NONE) {
        c->eflags = (c->eflags & ~(F_CF | F_OF)) | (bits & (F_CF | F_OF));
        return;
    }
    lf_record_cf_of(c, bits);
}
static inline __attribute__((always_inline)) bool lf_pf(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return (c->eflags & F_PF) != 0;
    return !(__builtin_popcount(c->lf.res & 0xff) & 1);
}
static inline __attribute__((always_inline)) bool cpu_cond_inline(const struct cpu *c, unsigned cc)
{
    bool r;
    switch ((cc >> 1) & 7) {
    case 0: r = lf_of(c); break;
    case 1: r = flags_cf(c); break;
    case 2: r = lf_zf(c); break;
    case 3: r = flags_cf(c) || lf_zf(c); break;
    case 4: r = lf_sf(c); break;
    case 5: r = lf_pf(c); break;
    case 6: r = lf_sf(c) != lf_of(c); break;
    default: r = lf_zf(c) || (lf_sf(c) != lf_of(c)); break;
    }
    return (cc & 1) ? !r : r;
}

/* The eight ALU operations of opcodes 00-3F and group 1, in encoding order:
 * ADD OR ADC SBB AND SUB XOR CMP. Sets the flags, returns the result (CMP
 * returns the difference; the caller does not store it). Inline: the
 * handlers pass a constant op, so each compiles to its one case. */
static inline __attribute__((always_inline)) uint32_t alu_op(struct cpu *c, unsigned op, uint32_t a,
                                                             uint32_t b, int size)
{
    uint32_t m = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1, r;
    a &= m;
    b &= m;
    switch (op & 7) {
    case 0: r = (a + b) & m; lf_set(c, LF_ADD, size, r, a, b); return r;
    case 1: r = a | b; lf_set(c, LF_LOGIC, size, r, a, b); return r;
    case 2: {
        bool cf = flags_cf(c);
        r = (a + b + cf) & m;
        lf_set_cf(c, LF_ADC, size, r, a, b, cf);
        return r;
    }
    case 3: {
        bool cf = flags_cf(c);
        r = (a - b - cf) & m;
        lf_set_cf(c, LF_SBB, size, r, a, b, cf);
        return r;
    }
    case 4: r = a & b; lf_set(c, LF_LOGIC, size, r, a, b); return r;
    case 5: case 7: r = (a - b) & m; lf_set(c, LF_SUB, size, r, a, b); return r;
    default: r = a ^ b; lf_set(c, LF_LOGIC, size, r, a, b); return r;
    }
}

#endif
