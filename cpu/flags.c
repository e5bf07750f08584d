/*
 * Lazy flag evaluation (see flags.h).
 */
#include "flags.h"

static inline uint32_t size_mask(int size)
{
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}
static inline uint32_t sign_bit(int size) { return 1u << (8 * size - 1); }

bool flags_zf(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_ZF;
    return c->lf.res == 0;
}

static bool flags_sf(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_SF;
    return c->lf.res & sign_bit(c->lf.size);
}

static bool flags_pf_lazy(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_PF;
    return flags_pf(c->lf.res) != 0;
}

/* Sign, zero and parity of a result of the given size. */
static inline uint32_t szp_of(uint32_t res, int size)
{
    return (res & sign_bit(size) ? F_SF : 0) | (res == 0 ? F_ZF : 0) | flags_pf(res);
}

/* One switch on the operation computes all six flags together (the
 * per-flag functions above each switch again): the shifts, PUSHF and the
 * flag-preserving instructions materialize often. */
void flags_materialize(struct cpu *c)
{
    const struct lazy_flags *l = &c->lf;
    if (l->op == LF_NONE)
        return; /* lf.size is meaningless then (0 after reset) */
    uint32_t sb = sign_bit(l->size), f;
    switch (l->op) {
    case LF_ADD: case LF_ADC: {
        bool cf = l->op == LF_ADC && l->cf_in ? l->res <= l->a : l->res < l->a;
        f = (cf ? F_CF : 0) | (((l->a ^ l->b ^ l->res) & 0x10) ? F_AF : 0) |
            ((((l->a ^ l->res) & (l->b ^ l->res)) & sb) ? F_OF : 0);
        break;
    }
    case LF_SUB: case LF_SBB: {
        bool cf = l->op == LF_SBB && l->cf_in ? l->a <= l->b : l->a < l->b;
        f = (cf ? F_CF : 0) | (((l->a ^ l->b ^ l->res) & 0x10) ? F_AF : 0) |
            ((((l->a ^ l->b) & (l->a ^ l->res)) & sb) ? F_OF : 0);
        break;
    }
    case LF_LOGIC: f = 0; break;
    case LF_INC:
        f = (l->cf_in ? F_CF : 0) | ((l->res & 0xf) == 0 ? F_AF : 0) | (l->res == sb ? F_OF : 0);
        break;
    case LF_DEC:
        f = (l->cf_in ? F_CF : 0) | ((l->res & 0xf) == 0xf ? F_AF : 0) |
            (l->res == sb - 1 ? F_OF : 0);
        break;
    case LF_MUL: f = l->cf_in ? F_CF | F_OF : 0; break;
    case LF_CF_OF: f = (l->a & (F_CF | F_OF)) | lf_af(c); break;
    case LF_SHIFTN: f = (l->a & F_CF) | (lf_of(c) ? F_OF : 0) | lf_af(c); break;
    default: f = 0; break;
    }
    f |= szp_of(l->res, l->size);
    c->eflags = (c->eflags & ~F_ARITH) | f;
    c->lf.op = LF_NONE;
}

uint32_t cpu_get_eflags(struct cpu *c)
{
    flags_materialize(c);
    return c->eflags;
}

void cpu_set_eflags(struct cpu *c, uint32_t val, uint32_t mask)
{
    flags_materialize(c);
    c->eflags = ((c->eflags & ~mask) | (val & mask) | F_RES1) & ~(0x8u | 0x20u | 0x8000u);
}

bool cpu_cond(const struct cpu *c, unsigned cc)
{
    bool r;
    switch ((cc >> 1) & 7) {
    case 0: r = lf_of(c); break;
    case 1: r = flags_cf(c); break;
    case 2: r = flags_zf(c); break;
    case 3: r = flags_cf(c) || flags_zf(c); break;
    case 4: r = flags_sf(c); break;
    case 5: r = flags_pf_lazy(c); break;
    case 6: r = flags_sf(c) != lf_of(c); break;
    default: r = flags_zf(c) || (flags_sf(c) != lf_of(c)); break;
    }
    return (cc & 1) ? !r : r;
}

