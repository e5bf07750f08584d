/*
 * Lazy flag evaluation (see flags.h).
 */
#include "flags.h"

static inline uint32_t size_mask(int size)
{
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}
static inline uint32_t sign_bit(int size) { return 1u << (8 * size - 1); }

bool flags_cf(const struct cpu *c)
{
    const struct lazy_flags *l = &c->lf;
    switch (l->op) {
    case LF_NONE: return c->eflags & F_CF;
    case LF_ADD: return l->res < l->a;
    case LF_ADC: return l->cf_in ? l->res <= l->a : l->res < l->a;
    case LF_SUB: return l->a < l->b;
    case LF_SBB: return l->cf_in ? l->a <= l->b : l->a < l->b;
    case LF_LOGIC: return false;
    case LF_INC: case LF_DEC: case LF_MUL: return l->cf_in;
    default: return false;
    }
}

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

static bool flags_of(const struct cpu *c)
{
    const struct lazy_flags *l = &c->lf;
    if (l->op == LF_NONE)
        return c->eflags & F_OF;
    uint32_t sb = sign_bit(l->size);
    switch (l->op) {
    case LF_ADD: case LF_ADC: return ((l->a ^ l->res) & (l->b ^ l->res)) & sb;
    case LF_SUB: case LF_SBB: return ((l->a ^ l->b) & (l->a ^ l->res)) & sb;
    case LF_INC: return l->res == sb;
    case LF_DEC: return l->res == sb - 1;
    case LF_MUL: return l->cf_in;
    default: return false;
    }
}

static bool flags_pf_lazy(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->eflags & F_PF;
    return flags_pf(c->lf.res) != 0;
}

static bool flags_af(const struct cpu *c)
{
    const struct lazy_flags *l = &c->lf;
    switch (l->op) {
    case LF_NONE: return c->eflags & F_AF;
    case LF_ADD: case LF_ADC: case LF_SUB: case LF_SBB: return (l->a ^ l->b ^ l->res) & 0x10;
    case LF_INC: return (l->res & 0xf) == 0;
    case LF_DEC: return (l->res & 0xf) == 0xf;
    default: return false;
    }
}

void flags_materialize(struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return;
    uint32_t f = (flags_cf(c) ? F_CF : 0) | (flags_pf_lazy(c) ? F_PF : 0) |
                 (flags_af(c) ? F_AF : 0) | (flags_zf(c) ? F_ZF : 0) | (flags_sf(c) ? F_SF : 0) |
                 (flags_of(c) ? F_OF : 0);
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
    case 0: r = flags_of(c); break;
    case 1: r = flags_cf(c); break;
    case 2: r = flags_zf(c); break;
    case 3: r = flags_cf(c) || flags_zf(c); break;
    case 4: r = flags_sf(c); break;
    case 5: r = flags_pf_lazy(c); break;
    case 6: r = flags_sf(c) != flags_of(c); break;
    default: r = flags_zf(c) || (flags_sf(c) != flags_of(c)); break;
    }
    return (cc & 1) ? !r : r;
}

