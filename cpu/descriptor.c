/*
 * Descriptor tables: fetching, accessed/busy bits, loading segment caches.
 * See cpu/descriptor.h for the contracts.
 */
#include "descriptor.h"

#include "mem.h"

bool desc_addr(struct cpu *c, uint16_t sel, uint32_t *lin)
{
    uint32_t idx = sel & 0xfff8u;
    if (sel & SEL_TI) {
        if (!c->ldtr.valid || sel_is_null(c->ldtr.sel) || idx + 7 > c->ldtr.limit)
            return false;
        *lin = c->ldtr.base + idx;
    } else {
        if (idx + 7 > c->gdtr.limit)
            return false;
        *lin = c->gdtr.base + idx;
    }
    return true;
}

bool desc_fetch(struct cpu *c, uint16_t sel, struct desc *d)
{
    uint32_t lin;
    if (!desc_addr(c, sel, &lin))
        return false;
    d->lo = sys_read(c, lin, 4);
    d->hi = sys_read(c, lin + 4, 4);
    return true;
}

void desc_fetch_or_fault(struct cpu *c, uint16_t sel, struct desc *d, int vector, uint32_t ext)
{
    if (!desc_fetch(c, sel, d))
        cpu_fault(c, vector, SEL_ERR(sel) | ext);
}

void desc_write_hi(struct cpu *c, uint16_t sel, uint32_t hi)
{
    uint32_t lin;
    if (desc_addr(c, sel, &lin))
        sys_write(c, lin + 4, 4, hi);
}

void desc_set_accessed(struct cpu *c, uint16_t sel, struct desc *d)
{
    if (!desc_s(d) || (d->hi & AR_A))
        return;
    d->hi |= AR_A;
    desc_write_hi(c, sel, d->hi);
}

void seg_from_desc(struct cpu *c, struct seg *s, uint16_t sel, const struct desc *d)
{
    s->sel = sel;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->ar = desc_ar(d);
    s->valid = true;
    seg_update_cache(c, s);
}

void seg_set_null(struct cpu *c, struct seg *s, uint16_t sel)
{
    /* The P6 keeps base/limit in the hidden part; only validity matters:
     * any access through a null segment is #GP(0) (rw = 0). */
    s->sel = sel;
    s->valid = false;
    s->ar &= ~AR_P;
    seg_update_cache(c, s);
}

void seg_load_real(struct cpu *c, int s, uint16_t sel)
{
    struct seg *g = &c->seg[s];
    g->sel = sel;
    g->base = (uint32_t)sel << 4;
    g->valid = true;
    if (cpu_v86(c)) {
        g->limit = 0xffff;
        /* present, DPL 3, S, read/write data (exec/read code for CS), accessed */
        g->ar = AR_P | AR_DPL | AR_S | (s == S_CS ? 0x0b00 : 0x0300);
    } else {
        g->ar |= AR_P | AR_S;
    }
    seg_update_cache(c, g);
}

void seg_load_cs(struct cpu *c, uint16_t sel, const struct desc *d, unsigned cpl)
{
    cpu_set_cpl(c, cpl);
    seg_from_desc(c, &c->seg[S_CS], (uint16_t)((sel & 0xfffc) | cpl), d);
}

void seg_null_inaccessible(struct cpu *c)
{
    static const int regs[] = {S_ES, S_DS, S_FS, S_GS};
    for (unsigned k = 0; k < 4; k++) {
        struct seg *s = &c->seg[regs[k]];
        if (!s->valid)
            continue;
        bool conforming_code = (s->ar & 0x0c00) == 0x0c00;
        if ((s->ar & AR_S) && !conforming_code && AR_DPL_OF(s->ar) < c->cpl)
            seg_set_null(c, s, 0);
    }
}

void tss_stack_for(struct cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp, uint32_t ext)
{
    if (c->tr.ar & 0x0800) { /* 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n */
        uint32_t off = 4 + 8 * dpl;
        if (off + 5 > c->tr.limit)
            cpu_fault(c, EX_TS, SEL_ERR(c->tr.sel) | ext);
        *esp = sys_read(c, c->tr.base + off, 4);
        *ss = (uint16_t)sys_read(c, c->tr.base + off + 4, 2);
    } else { /* 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n */
        uint32_t off = 2 + 4 * dpl;
        if (off + 3 > c->tr.limit)
            cpu_fault(c, EX_TS, SEL_ERR(c->tr.sel) | ext);
        *esp = sys_read(c, c->tr.base + off, 2);
        *ss = (uint16_t)sys_read(c, c->tr.base + off + 2, 2);
    }
}

void check_new_ss_ts(struct cpu *c, uint16_t sel, unsigned cpl, struct desc *d, uint32_t ext)
{
    if (sel_is_null(sel))
        cpu_fault(c, EX_TS, ext);
    desc_fetch_or_fault(c, sel, d, EX_TS, ext);
    if (SEL_RPL(sel) != cpl || desc_dpl(d) != cpl || !desc_writable_data(d))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    if (!desc_present(d))
        cpu_fault(c, EX_SS, SEL_ERR(sel) | ext);
    desc_set_accessed(c, sel, d);
}

/* Offsets are masked to 16 bits for a 16-bit stack (B = 0). */
static uint32_t stk_mask(const struct stk *k) { return (k->ss.ar & AR_DB) ? 0xffffffffu : 0xffffu; }

void stk_room(struct cpu *c, const struct stk *k, uint32_t bytes)
{
    uint32_t m = stk_mask(k);
    uint32_t top = (k->esp - 1) & m, bottom = (k->esp - bytes) & m;
    if (!k->ss.valid || bottom > top || bottom < k->ss.lo || top > k->ss.hi)
        cpu_fault(c, EX_SS, k->err);
}

void stk_push(struct cpu *c, struct stk *k, uint32_t v, int size)
{
    uint32_t m = stk_mask(k);
    uint32_t sp = (k->esp - (uint32_t)size) & m;
    if (!k->ss.valid || sp < k->ss.lo || sp + (uint32_t)(size - 1) > k->ss.hi)
        cpu_fault(c, EX_SS, k->err);
    lin_write(c, k->ss.base + sp, size, v, k->acc);
    k->esp = (k->esp & ~m) | sp;
}

void desc_check_return_cs(struct cpu *c, uint16_t cs, struct desc *d)
{
    if (sel_is_null(cs))
        cpu_fault(c, EX_GP, 0);
    desc_fetch_or_fault(c, cs, d, EX_GP, 0);
    unsigned rpl = SEL_RPL(cs);
    if (!desc_is_code(d) || rpl < c->cpl)
        cpu_fault(c, EX_GP, SEL_ERR(cs));
    if (desc_conforming(d) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)
        cpu_fault(c, EX_GP, SEL_ERR(cs));
    if (!desc_present(d))
        cpu_fault(c, EX_NP, SEL_ERR(cs));
}

void desc_check_return_ss(struct cpu *c, uint16_t ss, unsigned rpl, struct desc *d)
{
    if (sel_is_null(ss))
        cpu_fault(c, EX_GP, 0);
    desc_fetch_or_fault(c, ss, d, EX_GP, 0);
    if (SEL_RPL(ss) != rpl || !desc_writable_data(d) || desc_dpl(d) != rpl)
        cpu_fault(c, EX_GP, SEL_ERR(ss));
    if (!desc_present(d))
        cpu_fault(c, EX_SS, SEL_ERR(ss));
}
