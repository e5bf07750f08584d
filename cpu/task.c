/*
 * Hardware task switch (SDM vol. 3, 7.3): JMP/CALL to a TSS or task gate,
 * interrupts through a task gate, IRET with NT set.
 *
 * Order of work: (1) check the new TSS's limit and read its whole image,
 * (2) save the outgoing state into the current TSS, (3) busy bits and the
 * back link, (4) commit TR, CR0.TS, CR3, EFLAGS, EIP and the general
 * registers, with the segment selectors loaded raw, (5) load LDTR and the
 * segment descriptors with their checks. Faults in (1)-(2) are taken in the
 * old task; from (4) on they are taken in the new one (prev_eip/prev_esp
 * are moved to the new task). Memory writes in (2)-(3) happen before any
 * register changes, so a page fault there restarts cleanly.
 *
 * TSS layouts (offsets in bytes):
 *   32-bit: link 0, ESP0/SS0 4/8 ... , CR3 1C, EIP 20, EFLAGS 24,
 *           EAX..EDI 28..44, ES CS SS DS FS GS 48..5C (dwords), LDT 60,
 *           T bit 64 (bit 0). Minimum limit 67h.
 *   16-bit: link 0, SP0/SS0 2/4 ..., IP E, FLAGS 10, AX..DI 12..20,
 *           ES CS SS DS 22..28, LDT 2A. Minimum limit 2Bh.
 * A 16-bit TSS leaves the upper halves of the general registers unchanged
 * and loads FS and GS null (it has no slots for them).
 */
#include "task.h"

#include "mem.h"

struct tss_image {
    uint32_t cr3, eip, eflags;
    uint32_t r[8];
    uint16_t sreg[6];
    uint16_t ldt;
    bool trap;
};

static void read_tss(struct cpu *c, uint32_t base, bool is32, struct tss_image *t)
{
    if (is32) {
        t->cr3 = sys_read(c, base + 0x1c, 4);
        t->eip = sys_read(c, base + 0x20, 4);
        t->eflags = sys_read(c, base + 0x24, 4);
        for (int k = 0; k < 8; k++)
            t->r[k] = sys_read(c, base + 0x28 + 4 * (uint32_t)k, 4);
        for (int s = 0; s < 6; s++)
            t->sreg[s] = (uint16_t)sys_read(c, base + 0x48 + 4 * (uint32_t)s, 2);
        t->ldt = (uint16_t)sys_read(c, base + 0x60, 2);
        t->trap = sys_read(c, base + 0x64, 2) & 1;
    } else {
        t->cr3 = 0;
        t->eip = sys_read(c, base + 0x0e, 2);
        t->eflags = sys_read(c, base + 0x10, 2);
        for (int k = 0; k < 8; k++)
            t->r[k] = (c->r[k] & 0xffff0000u) | sys_read(c, base + 0x12 + 2 * (uint32_t)k, 2);
        for (int s = 0; s < 4; s++) /* ES CS SS DS */
            t->sreg[s] = (uint16_t)sys_read(c, base + 0x22 + 2 * (uint32_t)s, 2);
        t->sreg[S_FS] = t->sreg[S_GS] = 0;
        t->ldt = (uint16_t)sys_read(c, base + 0x2a, 2);
        t->trap = false;
    }
}

/* Saves the outgoing task's dynamic state (CR3 and LDTR are not saved). */
static void save_tss(struct cpu *c, uint32_t flags)
{
    uint32_t b = c->tr.base;
    if (c->tr.ar & 0x0800) {
        sys_write(c, b + 0x20, 4, c->eip);
        sys_write(c, b + 0x24, 4, flags);
        for (int k = 0; k < 8; k++)
            sys_write(c, b + 0x28 + 4 * (uint32_t)k, 4, c->r[k]);
        for (int s = 0; s < 6; s++)
            sys_write(c, b + 0x48 + 4 * (uint32_t)s, 2, c->seg[s].sel);
    } else {
        sys_write(c, b + 0x0e, 2, c->eip);
        sys_write(c, b + 0x10, 2, flags);
        for (int k = 0; k < 8; k++)
            sys_write(c, b + 0x12 + 2 * (uint32_t)k, 2, c->r[k]);
        for (int s = 0; s < 4; s++)
            sys_write(c, b + 0x22 + 2 * (uint32_t)s, 2, c->seg[s].sel);
    }
}

static void load_ldtr(struct cpu *c, uint16_t sel, uint32_t ext)
{
    struct desc d;
    c->ldtr.sel = sel;
    c->ldtr.valid = false;
    if (sel_is_null(sel))
        return;
    if ((sel & SEL_TI) || !desc_fetch(c, sel, &d) || desc_s(&d) || desc_type(&d) != DT_LDT ||
        !desc_present(&d))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    c->ldtr.base = desc_base(&d);
    c->ldtr.limit = desc_limit(&d);
    c->ldtr.ar = desc_ar(&d);
    c->ldtr.valid = true;
}

static void load_cs_new_task(struct cpu *c, uint16_t sel, uint32_t ext)
{
    struct desc d;
    if (sel_is_null(sel))
        cpu_fault(c, EX_TS, ext);
    desc_fetch_or_fault(c, sel, &d, EX_TS, ext);
    unsigned rpl = SEL_RPL(sel);
    if (!desc_is_code(&d) || (desc_conforming(&d) ? desc_dpl(&d) > rpl : desc_dpl(&d) != rpl))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    if (!desc_present(&d))
        cpu_fault(c, EX_NP, SEL_ERR(sel) | ext);
    desc_set_accessed(c, sel, &d);
    seg_load_cs(c, sel, &d, rpl);
}

static void load_ss_new_task(struct cpu *c, uint16_t sel, uint32_t ext)
{
    struct desc d;
    if (sel_is_null(sel))
        cpu_fault(c, EX_TS, ext);
    desc_fetch_or_fault(c, sel, &d, EX_TS, ext);
    if (SEL_RPL(sel) != c->cpl || desc_dpl(&d) != c->cpl || !desc_writable_data(&d))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    if (!desc_present(&d))
        cpu_fault(c, EX_SS, SEL_ERR(sel) | ext);
    desc_set_accessed(c, sel, &d);
    seg_from_desc(c, &c->seg[S_SS], sel, &d);
}

static void load_data_new_task(struct cpu *c, int s, uint16_t sel, uint32_t ext)
{
    struct desc d;
    if (sel_is_null(sel)) {
        seg_set_null(c, &c->seg[s], sel);
        return;
    }
    desc_fetch_or_fault(c, sel, &d, EX_TS, ext);
    if (!desc_readable(&d))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    if (!desc_conforming(&d) && (desc_dpl(&d) < c->cpl || desc_dpl(&d) < SEL_RPL(sel)))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    if (!desc_present(&d))
        cpu_fault(c, EX_NP, SEL_ERR(sel) | ext);
    desc_set_accessed(c, sel, &d);
    seg_from_desc(c, &c->seg[s], sel, &d);
}

void task_switch(struct cpu *c, uint16_t sel, struct desc *d, enum task_reason why,
                 bool has_err, uint32_t err, uint32_t ext)
{
    bool new32 = desc_sys32(d);
    uint32_t nbase = desc_base(d);
    uint32_t nlimit = desc_limit(d);
    if (nlimit < (new32 ? 0x67u : 0x2bu))
        cpu_fault(c, EX_TS, SEL_ERR(sel) | ext);
    bool old32 = (c->tr.ar & 0x0800) != 0;
    if (!c->tr.valid || c->tr.limit < (old32 ? 0x5fu : 0x29u))
        cpu_fault(c, EX_TS, SEL_ERR(c->tr.sel) | ext);

    /* (1) the incoming image; (2) the outgoing state */
    struct tss_image t;
    read_tss(c, nbase, new32, &t);
    uint32_t oflags = cpu_get_eflags(c);
    if (why == TS_JMP || why == TS_IRET)
        oflags &= ~F_NT;
    save_tss(c, oflags);

    /* (3) busy bits, back link */
    if (why == TS_JMP || why == TS_IRET) {
        struct desc od;
        if (desc_fetch(c, c->tr.sel, &od))
            desc_write_hi(c, c->tr.sel, od.hi & ~0x200u);
    }
    if (why != TS_IRET) {
        d->hi |= 0x200u;
        desc_write_hi(c, sel, d->hi);
    }
    if (why == TS_CALL || why == TS_INT) {
        sys_write(c, nbase, 2, c->tr.sel);
        t.eflags |= F_NT;
    }

    /* (4) commit the new task's registers */
    c->tr.sel = sel;
    c->tr.base = nbase;
    c->tr.limit = nlimit;
    c->tr.ar = desc_ar(d) | 0x200u;
    c->tr.valid = true;
    c->cr0 |= CR0_TS;
    if (new32 && (c->cr0 & CR0_PG))
        cpu_write_cr3(c, t.cr3);
    cpu_set_eflags(c, t.eflags, F_WRITABLE);
    for (int k = 0; k < 8; k++)
        c->r[k] = t.r[k];
    c->eip = t.eip;
    for (int s = 0; s < 6; s++) {
        c->seg[s].sel = t.sreg[s];
        c->seg[s].valid = false;
        seg_update_cache(c, &c->seg[s]);
    }
    c->ldtr.sel = t.ldt;
    c->ldtr.valid = false;
    c->prev_eip = c->eip;
    c->prev_esp = c->r[R_ESP];

    /* (5) descriptors, checked in the new task */
    load_ldtr(c, t.ldt, ext);
    if (cpu_v86(c)) {
        cpu_set_cpl(c, 3);
        for (int s = 0; s < 6; s++)
            seg_load_real(c, s, t.sreg[s]);
    } else {
        load_cs_new_task(c, t.sreg[S_CS], ext);
        load_ss_new_task(c, t.sreg[S_SS], ext);
        load_data_new_task(c, S_ES, t.sreg[S_ES], ext);
        load_data_new_task(c, S_DS, t.sreg[S_DS], ext);
        load_data_new_task(c, S_FS, t.sreg[S_FS], ext);
        load_data_new_task(c, S_GS, t.sreg[S_GS], ext);
    }

    if (has_err)
        cpu_push(c, err, new32 ? 4 : 2);
    if (c->eip > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    if (t.trap) { /* debug trap on entry: BT in DR6 */
        c->dr[6] |= 1u << 15;
        cpu_fault(c, EX_DB, 0);
    }
}
