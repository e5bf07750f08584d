/*
 * Interrupt and exception delivery (cpu_deliver) and the instructions that
 * raise or return from them: INT n, INT3, INTO, INT1 (ICEBP), IRET
 * (SDM vol. 2 INT n / IRET pseudocode; vol. 3 chapter 6 and 20.3).
 *
 * Delivery checks everything and builds the whole frame in memory before it
 * changes any register, so a fault during delivery is taken with the
 * interrupted state intact (the run loop turns it into #DF or a triple
 * fault per its rules).
 */
#include "descriptor.h"
#include "handlers.h"
#include "operand.h"
#include "protect.h"
#include "task.h"

/* Fault-class exceptions: the pushed EFLAGS image has RF set so that the
 * restarted instruction does not re-trigger an instruction breakpoint (P6).
 * #DB is excluded: instruction-breakpoint faults push RF clear, and the
 * other #DB conditions are traps. */
static bool is_fault_class(int v)
{
    switch (v) {
    case EX_DE: case EX_BR: case EX_UD: case EX_NM: case EX_TS: case EX_NP: case EX_SS:
    case EX_GP: case EX_PF: case EX_MF: case EX_AC:
        return true;
    default:
        return false;
    }
}

/* True when the event being delivered is an exception raised by the CPU
 * (not INT n, not an external interrupt or NMI): exec.c marks external and
 * software events with delivering_vector = -2. */
static bool is_exception(const struct cpu *c, int vector, bool is_sw)
{
    return !is_sw && c->in_event_delivery && c->delivering_vector == vector;
}

/* Real mode: the IVT at IDTR.base, 4-byte entries; FLAGS, CS, IP pushed. */
static void deliver_real(struct cpu *c, int vector)
{
    uint32_t off = (uint32_t)vector * 4;
    if (off + 3 > c->idtr.limit)
        cpu_fault(c, EX_GP, 0);
    uint32_t ent = sys_read(c, c->idtr.base + off, 4);
    cpu_push(c, cpu_get_eflags(c) & 0xffff, 2);
    cpu_push(c, c->seg[S_CS].sel, 2);
    cpu_push(c, c->eip, 2);
    c->eflags &= ~(F_IF | F_TF | F_AC | F_RF);
    seg_load_real(c, S_CS, (uint16_t)(ent >> 16));
    c->eip = ent & 0xffff;
}

void cpu_deliver(struct cpu *c, int vector, bool is_sw, bool has_err, uint32_t err)
{
    if (!cpu_pmode(c)) {
        deliver_real(c, vector);
        return;
    }
    uint32_t ext = is_sw ? 0 : 1;
    uint32_t idt_err = (uint32_t)vector * 8 + 2 + ext;
    bool v86 = cpu_v86(c);

    if ((uint32_t)vector * 8 + 7 > c->idtr.limit)
        cpu_fault(c, EX_GP, idt_err);
    struct desc g;
    g.lo = sys_read(c, c->idtr.base + (uint32_t)vector * 8, 4);
    g.hi = sys_read(c, c->idtr.base + (uint32_t)vector * 8 + 4, 4);
    unsigned t = desc_type(&g);
    if (desc_s(&g) || !(t == DT_TASKGATE || t == DT_INTGATE16 || t == DT_TRAPGATE16 ||
                        t == DT_INTGATE32 || t == DT_TRAPGATE32))
        cpu_fault(c, EX_GP, idt_err);
    if (is_sw && desc_dpl(&g) < c->cpl)
        cpu_fault(c, EX_GP, (uint32_t)vector * 8 + 2);
    if (!desc_present(&g))
        cpu_fault(c, EX_NP, idt_err);

    if (t == DT_TASKGATE) {
        uint16_t ts = gate_sel(&g);
        struct desc td;
        if ((ts & SEL_TI) || !desc_fetch(c, ts, &td))
            cpu_fault(c, EX_TS, SEL_ERR(ts) | ext);
        if (desc_s(&td) || (desc_type(&td) != DT_TSS16_AVAIL && desc_type(&td) != DT_TSS32_AVAIL))
            cpu_fault(c, EX_TS, SEL_ERR(ts) | ext);
        if (!desc_present(&td))
            cpu_fault(c, EX_NP, SEL_ERR(ts) | ext);
        task_switch(c, ts, &td, TS_INT, has_err, err, ext);
        return;
    }

    /* Interrupt or trap gate: the target code segment. */
    uint16_t tsel = gate_sel(&g);
    struct desc td;
    if (sel_is_null(tsel))
        cpu_fault(c, EX_GP, ext);
    desc_fetch_or_fault(c, tsel, &td, EX_GP, ext);
    if (!desc_is_code(&td) || desc_dpl(&td) > c->cpl)
        cpu_fault(c, EX_GP, SEL_ERR(tsel) | ext);
    if (!desc_present(&td))
        cpu_fault(c, EX_NP, SEL_ERR(tsel) | ext);

    bool inner = !desc_conforming(&td) && desc_dpl(&td) < c->cpl;
    if (v86 && !(inner && desc_dpl(&td) == 0))
        cpu_fault(c, EX_GP, SEL_ERR(tsel) | ext);
    unsigned ncpl = inner ? desc_dpl(&td) : c->cpl;
    int gs = desc_sys32(&g) ? 4 : 2;
    uint32_t off = gate_offset(&g);

    uint32_t flags = cpu_get_eflags(c);
    if (is_exception(c, vector, is_sw) && is_fault_class(vector))
        flags |= F_RF;

    struct stk k;
    struct desc sd;
    uint16_t nss = 0;
    if (inner) {
        uint32_t nesp;
        tss_stack_for(c, ncpl, &nss, &nesp, ext);
        check_new_ss_ts(c, nss, ncpl, &sd, ext);
        k.esp = nesp;
        k.acc = 0;
        k.err = SEL_ERR(nss) | ext;
        /* The new stack's cache must be computed for protected mode
         * (expand-down limits) even when leaving V86 mode. */
        uint32_t vm = c->eflags & F_VM;
        c->eflags &= ~F_VM;
        seg_from_desc(c, &k.ss, nss, &sd);
        c->eflags |= vm;
    } else {
        k.ss = c->seg[S_SS];
        k.esp = c->r[R_ESP];
        k.acc = ncpl == 3 ? ACC_USER : 0;
        k.err = ext;
    }
    uint32_t words = 3 + (inner ? 2 : 0) + (v86 ? 4 : 0) + (has_err ? 1 : 0);
    stk_room(c, &k, words * (uint32_t)gs);
    if (off > desc_limit(&td))
        cpu_fault(c, EX_GP, ext);

    if (v86) {
        stk_push(c, &k, c->seg[S_GS].sel, gs);
        stk_push(c, &k, c->seg[S_FS].sel, gs);
        stk_push(c, &k, c->seg[S_DS].sel, gs);
        stk_push(c, &k, c->seg[S_ES].sel, gs);
    }
    if (inner) {
        stk_push(c, &k, c->seg[S_SS].sel, gs);
        stk_push(c, &k, c->r[R_ESP], gs);
    }
    stk_push(c, &k, flags, gs);
    stk_push(c, &k, c->seg[S_CS].sel, gs);
    stk_push(c, &k, c->eip, gs);
    if (has_err)
        stk_push(c, &k, err, gs);

    /* Commit. Leaving V86 first so that the segment caches below are
     * computed for protected mode. */
    desc_set_accessed(c, tsel, &td);
    uint32_t clear = F_TF | F_NT | F_RF | F_VM;
    if (t == DT_INTGATE16 || t == DT_INTGATE32)
        clear |= F_IF;
    c->eflags &= ~clear;
    if (v86) {
        seg_set_null(c, &c->seg[S_GS], 0);
        seg_set_null(c, &c->seg[S_FS], 0);
        seg_set_null(c, &c->seg[S_DS], 0);
        seg_set_null(c, &c->seg[S_ES], 0);
    }
    if (inner) {
        c->seg[S_SS] = k.ss;
        seg_update_cache(c, &c->seg[S_SS]);
    }
    c->r[R_ESP] = k.esp;
    seg_load_cs(c, tsel, &td, ncpl);
    c->eip = off;
}

/* INT n: in V86 mode with IOPL < 3, #GP(0) (no VME on this model). */
void int_Ib(struct cpu *c, const struct insn *i)
{
    if (cpu_v86(c) && cpu_iopl(c) < 3)
        cpu_fault(c, EX_GP, 0);
    cpu_soft_event(c, i->imm & 0xff, true);
}

/* INT3 and INTO are software interrupts (gate DPL checked) but not IOPL-
 * sensitive in V86 mode. */
void int3(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_soft_event(c, EX_BP, true);
}

void into(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (cpu_cond(c, 0))
        cpu_soft_event(c, EX_OF, true);
}

/* INT1 (ICEBP, F1): a #DB trap delivered as a hardware event: no gate DPL
 * check, EXT set in error codes, DR6 unchanged. */
void int1(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_soft_event(c, EX_DB, false);
}

/* EFLAGS bits IRET may write, before the CPL/IOPL rules (VM handled apart). */
#define IRET_MASK (F_ARITH | F_TF | F_DF | F_NT | F_RF | F_AC | F_ID)

/* Real mode, and V86 with IOPL = 3 (IOPL unchanged there). */
static void iret_real(struct cpu *c, const struct insn *i)
{
    uint32_t n = i->opsize;
    uint32_t eip = cpu_peek(c, 0, (int)n);
    uint16_t cs = (uint16_t)cpu_peek(c, n, (int)n);
    uint32_t fl = cpu_peek(c, 2 * n, (int)n);
    if (n == 2)
        eip &= 0xffff;
    if (eip > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    uint32_t mask = IRET_MASK | F_IF | (cpu_v86(c) ? 0 : F_IOPL);
    if (n == 2)
        mask &= 0xffff;
    seg_load_real(c, S_CS, cs);
    c->eip = eip;
    cpu_set_sp(c, cpu_sp(c) + 3 * n);
    cpu_set_eflags(c, fl, mask);
}

/* IRET from CPL 0 to a V86 task (VM set in the popped EFLAGS): the frame
 * holds EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS as dwords. */
static void iret_to_v86(struct cpu *c)
{
    uint32_t v[9];
    for (unsigned k = 0; k < 9; k++)
        v[k] = cpu_peek(c, 4 * k, 4);
    if ((v[0] & 0xffff0000u) != 0)
        cpu_fault(c, EX_GP, 0);
    cpu_set_eflags(c, v[2], F_WRITABLE);
    cpu_set_cpl(c, 3);
    seg_load_real(c, S_CS, (uint16_t)v[1]);
    seg_load_real(c, S_SS, (uint16_t)v[4]);
    seg_load_real(c, S_ES, (uint16_t)v[5]);
    seg_load_real(c, S_DS, (uint16_t)v[6]);
    seg_load_real(c, S_FS, (uint16_t)v[7]);
    seg_load_real(c, S_GS, (uint16_t)v[8]);
    c->eip = v[0];
    c->r[R_ESP] = v[3];
}

/* IRET with NT set: return to the task in the current TSS's back link. */
static void iret_task(struct cpu *c)
{
    uint16_t link = (uint16_t)sys_read(c, c->tr.base, 2);
    struct desc d;
    if ((link & SEL_TI) || !desc_fetch(c, link, &d))
        cpu_fault(c, EX_TS, SEL_ERR(link));
    if (desc_s(&d) || (desc_type(&d) != DT_TSS16_BUSY && desc_type(&d) != DT_TSS32_BUSY))
        cpu_fault(c, EX_TS, SEL_ERR(link));
    if (!desc_present(&d))
        cpu_fault(c, EX_NP, SEL_ERR(link));
    task_switch(c, link, &d, TS_IRET, false, 0, 0);
}

static void iret_prot(struct cpu *c, const struct insn *i)
{
    if (c->eflags & F_NT) {
        iret_task(c);
        return;
    }
    uint32_t n = i->opsize;
    uint32_t eip = cpu_peek(c, 0, (int)n);
    uint16_t cs = (uint16_t)cpu_peek(c, n, (int)n);
    uint32_t fl = cpu_peek(c, 2 * n, (int)n);
    if (n == 2)
        eip &= 0xffff;
    if (n == 4 && (fl & F_VM) && c->cpl == 0) {
        iret_to_v86(c);
        return;
    }

    struct desc d;
    desc_check_return_cs(c, cs, &d);
    unsigned rpl = SEL_RPL(cs);

    /* EFLAGS rules use the CPL before the return. */
    uint32_t mask = IRET_MASK;
    if (c->cpl <= cpu_iopl(c))
        mask |= F_IF;
    if (c->cpl == 0)
        mask |= F_IOPL;
    if (n == 2)
        mask &= 0xffff;

    if (rpl == c->cpl) {
        if (eip > desc_limit(&d))
            cpu_fault(c, EX_GP, 0);
        desc_set_accessed(c, cs, &d);
        seg_load_cs(c, cs, &d, rpl);
        c->eip = eip;
        cpu_set_sp(c, cpu_sp(c) + 3 * n);
        cpu_set_eflags(c, fl, mask);
        return;
    }

    uint32_t nesp = cpu_peek(c, 3 * n, (int)n);
    uint16_t nss = (uint16_t)cpu_peek(c, 4 * n, (int)n);
    struct desc sd;
    desc_check_return_ss(c, nss, rpl, &sd);
    if (eip > desc_limit(&d))
        cpu_fault(c, EX_GP, 0);
    desc_set_accessed(c, cs, &d);
    desc_set_accessed(c, nss, &sd);
    cpu_set_eflags(c, fl, mask);
    seg_load_cs(c, cs, &d, rpl);
    c->eip = eip;
    seg_from_desc(c, &c->seg[S_SS], nss, &sd);
    if (n == 2)
        cpu_set_sp(c, nesp & 0xffff);
    else
        c->r[R_ESP] = nesp;
    seg_null_inaccessible(c);
}

void iret(struct cpu *c, const struct insn *i)
{
    if (!cpu_pmode(c)) {
        iret_real(c, i);
        return;
    }
    if (cpu_v86(c)) {
        if (cpu_iopl(c) < 3)
            cpu_fault(c, EX_GP, 0);
        iret_real(c, i);
        return;
    }
    iret_prot(c, i);
}
