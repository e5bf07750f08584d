/*
 * Far control transfers: JMP ptr16:16/32 and m16:16/32, CALL likewise, RETF
 * and RETF imm16, in real, V86 and protected mode (SDM vol. 2 JMP, CALL,
 * RET pseudocode; vol. 3 5.8 privilege checks for control transfers).
 *
 * Every check and every memory access (stack pushes, parameter copies,
 * accessed bits) happens before CS, SS, ESP, EIP or CPL change, so a fault
 * leaves the caller's state as it was (the run loop restores EIP and ESP).
 */
#include "descriptor.h"
#include "handlers.h"
#include "operand.h"
#include "protect.h"
#include "task.h"

/* Real mode and V86: CS = sel, base = sel << 4; the offset is checked
 * against the current CS limit (0xffff unless "unreal"). */
static void far_real(struct cpu *c, const struct insn *i, uint16_t sel, uint32_t off, bool call)
{
    if (i->opsize == 2)
        off &= 0xffff;
    if (off > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    if (call) {
        cpu_push(c, c->seg[S_CS].sel, i->opsize);
        cpu_push(c, c->eip, i->opsize);
    }
    seg_load_real(c, S_CS, sel);
    c->eip = off;
}

/* Direct JMP/CALL to a code segment: conforming needs DPL <= CPL,
 * non-conforming RPL <= CPL and DPL = CPL; CPL does not change. */
static void far_direct(struct cpu *c, const struct insn *i, uint16_t sel, struct desc *d,
                       uint32_t off, bool call)
{
    if (!desc_is_code(d))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (desc_conforming(d) ? desc_dpl(d) > c->cpl
                           : (SEL_RPL(sel) > c->cpl || desc_dpl(d) != c->cpl))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(d))
        cpu_fault(c, EX_NP, SEL_ERR(sel));
    if (i->opsize == 2)
        off &= 0xffff;
    if (off > desc_limit(d))
        cpu_fault(c, EX_GP, 0);
    if (call) {
        cpu_push(c, c->seg[S_CS].sel, i->opsize);
        cpu_push(c, c->eip, i->opsize);
    }
    desc_set_accessed(c, sel, d);
    seg_load_cs(c, sel, d, c->cpl);
    c->eip = off;
}

/* Copies the call gate's parameters from the caller's stack (read at the
 * caller's privilege) onto the new stack, in the same order. */
static void copy_params(struct cpu *c, struct stk *k, unsigned n, int gs)
{
    uint32_t mask = cpu_stack32(c) ? 0xffffffffu : 0xffffu;
    uint32_t sp = cpu_sp(c);
    for (unsigned j = n; j-- > 0;) {
        uint32_t v = cpu_read(c, S_SS, (sp + j * (uint32_t)gs) & mask, gs);
        stk_push(c, k, v, gs);
    }
}

/* JMP/CALL through a call gate (SDM CALL, "CALL-GATE"). */
static void far_callgate(struct cpu *c, uint16_t sel, struct desc *g, bool call)
{
    if (desc_dpl(g) < c->cpl || desc_dpl(g) < SEL_RPL(sel))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(g))
        cpu_fault(c, EX_NP, SEL_ERR(sel));
    uint16_t tsel = gate_sel(g);
    struct desc td;
    if (sel_is_null(tsel))
        cpu_fault(c, EX_GP, 0);
    desc_fetch_or_fault(c, tsel, &td, EX_GP, 0);
    if (!desc_is_code(&td) || desc_dpl(&td) > c->cpl)
        cpu_fault(c, EX_GP, SEL_ERR(tsel));
    if (!call && !desc_conforming(&td) && desc_dpl(&td) != c->cpl)
        cpu_fault(c, EX_GP, SEL_ERR(tsel));
    if (!desc_present(&td))
        cpu_fault(c, EX_NP, SEL_ERR(tsel));
    uint32_t off = gate_offset(g);
    int gs = desc_sys32(g) ? 4 : 2;

    if (call && !desc_conforming(&td) && desc_dpl(&td) < c->cpl) {
        /* More privileged: stack from the TSS, then SS, ESP, parameters,
         * CS, EIP on it. */
        unsigned ncpl = desc_dpl(&td);
        uint16_t nss;
        uint32_t nesp;
        struct desc sd;
        tss_stack_for(c, ncpl, &nss, &nesp, 0);
        check_new_ss_ts(c, nss, ncpl, &sd, 0);
        struct stk k = {.esp = nesp, .acc = 0, .err = SEL_ERR(nss)};
        seg_from_desc(c, &k.ss, nss, &sd);
        unsigned n = gate_param_count(g);
        stk_room(c, &k, (uint32_t)gs * (4 + n));
        if (off > desc_limit(&td))
            cpu_fault(c, EX_GP, 0);
        stk_push(c, &k, c->seg[S_SS].sel, gs);
        stk_push(c, &k, c->r[R_ESP], gs);
        copy_params(c, &k, n, gs);
        stk_push(c, &k, c->seg[S_CS].sel, gs);
        stk_push(c, &k, c->eip, gs);
        desc_set_accessed(c, tsel, &td);
        c->seg[S_SS] = k.ss;
        c->r[R_ESP] = k.esp;
        seg_load_cs(c, tsel, &td, ncpl);
        c->eip = off;
        return;
    }
    /* Same privilege (conforming target, or DPL = CPL). */
    if (off > desc_limit(&td))
        cpu_fault(c, EX_GP, 0);
    if (call) {
        cpu_push(c, c->seg[S_CS].sel, gs);
        cpu_push(c, c->eip, gs);
    }
    desc_set_accessed(c, tsel, &td);
    seg_load_cs(c, tsel, &td, c->cpl);
    c->eip = off;
}

/* JMP/CALL to a task gate or directly to an available TSS. */
static void far_task(struct cpu *c, uint16_t sel, struct desc *d, bool call)
{
    /* TSS descriptors live only in the GDT (task gates may be in the LDT). */
    bool is_gate = desc_type(d) == DT_TASKGATE;
    if (desc_dpl(d) < c->cpl || desc_dpl(d) < SEL_RPL(sel) || (!is_gate && (sel & SEL_TI)))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(d))
        cpu_fault(c, EX_NP, SEL_ERR(sel));
    uint16_t tss_sel = sel;
    struct desc td = *d;
    if (is_gate) {
        tss_sel = gate_sel(d);
        if ((tss_sel & SEL_TI) || !desc_fetch(c, tss_sel, &td))
            cpu_fault(c, EX_GP, SEL_ERR(tss_sel));
        unsigned t = desc_type(&td);
        if (desc_s(&td) || (t != DT_TSS16_AVAIL && t != DT_TSS32_AVAIL))
            cpu_fault(c, EX_GP, SEL_ERR(tss_sel));
        if (!desc_present(&td))
            cpu_fault(c, EX_NP, SEL_ERR(tss_sel));
    }
    task_switch(c, tss_sel, &td, call ? TS_CALL : TS_JMP, false, 0, 0);
}

static void far_xfer(struct cpu *c, const struct insn *i, uint16_t sel, uint32_t off, bool call)
{
    if (!cpu_pmode(c) || cpu_v86(c)) {
        far_real(c, i, sel, off, call);
        return;
    }
    struct desc d;
    if (sel_is_null(sel))
        cpu_fault(c, EX_GP, 0);
    desc_fetch_or_fault(c, sel, &d, EX_GP, 0);
    if (desc_s(&d)) {
        far_direct(c, i, sel, &d, off, call);
        return;
    }
    switch (desc_type(&d)) {
    case DT_CALLGATE16:
    case DT_CALLGATE32: far_callgate(c, sel, &d, call); return;
    case DT_TASKGATE:
    case DT_TSS16_AVAIL:
    case DT_TSS32_AVAIL: far_task(c, sel, &d, call); return;
    default: cpu_fault(c, EX_GP, SEL_ERR(sel)); /* busy TSS, LDT, interrupt gates, ... */
    }
}

/* Far pointer operand in memory: offset (opsize) then selector. */
static void read_mp(struct cpu *c, const struct insn *i, uint16_t *sel, uint32_t *off)
{
    uint32_t a = ea(c, i);
    uint32_t amask = i->addrsize == 2 ? 0xffffu : 0xffffffffu;
    *off = cpu_read(c, i->seg, a, i->opsize);
    *sel = (uint16_t)cpu_read(c, i->seg, (a + i->opsize) & amask, 2);
}

void jmp_Ap(struct cpu *c, const struct insn *i) { far_xfer(c, i, (uint16_t)i->imm2, i->imm, false); }
void call_Ap(struct cpu *c, const struct insn *i) { far_xfer(c, i, (uint16_t)i->imm2, i->imm, true); }

void jmp_Mp(struct cpu *c, const struct insn *i)
{
    uint16_t sel;
    uint32_t off;
    read_mp(c, i, &sel, &off);
    far_xfer(c, i, sel, off, false);
}

void call_Mp(struct cpu *c, const struct insn *i)
{
    uint16_t sel;
    uint32_t off;
    read_mp(c, i, &sel, &off);
    far_xfer(c, i, sel, off, true);
}

/* RETF [imm16] (SDM RET, far return). */
static void retf_common(struct cpu *c, const struct insn *i, uint32_t imm)
{
    uint32_t n = i->opsize;
    uint32_t eip = cpu_peek(c, 0, (int)n);
    uint16_t cs = (uint16_t)cpu_peek(c, n, (int)n);
    if (n == 2)
        eip &= 0xffff;

    if (!cpu_pmode(c) || cpu_v86(c)) {
        if (eip > c->seg[S_CS].limit)
            cpu_fault(c, EX_GP, 0);
        seg_load_real(c, S_CS, cs);
        c->eip = eip;
        cpu_set_sp(c, cpu_sp(c) + 2 * n + imm);
        return;
    }

    struct desc d;
    desc_check_return_cs(c, cs, &d);
    unsigned rpl = SEL_RPL(cs);

    if (rpl == c->cpl) {
        if (eip > desc_limit(&d))
            cpu_fault(c, EX_GP, 0);
        desc_set_accessed(c, cs, &d);
        seg_load_cs(c, cs, &d, rpl);
        c->eip = eip;
        cpu_set_sp(c, cpu_sp(c) + 2 * n + imm);
        return;
    }

    /* Return to an outer level: the caller's ESP and SS follow the
     * parameters that imm16 releases. */
    uint32_t nesp = cpu_peek(c, 2 * n + imm, (int)n);
    uint16_t nss = (uint16_t)cpu_peek(c, 3 * n + imm, (int)n);
    struct desc sd;
    desc_check_return_ss(c, nss, rpl, &sd);
    if (eip > desc_limit(&d))
        cpu_fault(c, EX_GP, 0);
    desc_set_accessed(c, cs, &d);
    desc_set_accessed(c, nss, &sd);
    seg_load_cs(c, cs, &d, rpl);
    c->eip = eip;
    seg_from_desc(c, &c->seg[S_SS], nss, &sd);
    if (n == 2)
        nesp &= 0xffff;
    cpu_set_sp(c, nesp + imm);
    seg_null_inaccessible(c);
}

void retf(struct cpu *c, const struct insn *i) { retf_common(c, i, 0); }
void retf_Iw(struct cpu *c, const struct insn *i) { retf_common(c, i, i->imm & 0xffff); }
