/*
 * Data and stack segment register loads (MOV Sreg, POP Sreg, LDS/LES/LFS/
 * LGS/LSS) and the instructions that store segment registers (MOV r/m,Sreg,
 * PUSH Sreg). The checks are the SDM's MOV/POP pseudocode (vol. 2).
 */
#include "descriptor.h"
#include "handlers.h"
#include "operand.h"
#include "protect.h"

/* Protected-mode SS load: null is #GP(0); the selector must be RPL = DPL =
 * CPL writable data, else #GP(sel); not present is #SS(sel). */
static void load_ss_prot(struct cpu *c, uint16_t sel)
{
    struct desc d;
    if (sel_is_null(sel))
        cpu_fault(c, EX_GP, 0);
    desc_fetch_or_fault(c, sel, &d, EX_GP, 0);
    if (SEL_RPL(sel) != c->cpl || !desc_writable_data(&d) || desc_dpl(&d) != c->cpl)
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(&d))
        cpu_fault(c, EX_SS, SEL_ERR(sel));
    desc_set_accessed(c, sel, &d);
    seg_from_desc(c, &c->seg[S_SS], sel, &d);
}

/* DS/ES/FS/GS: null is allowed (the register becomes unusable); data or
 * readable code; for data and non-conforming code max(CPL, RPL) <= DPL;
 * not present is #NP(sel). */
static void load_data_prot(struct cpu *c, int s, uint16_t sel)
{
    struct desc d;
    if (sel_is_null(sel)) {
        seg_set_null(c, &c->seg[s], sel);
        return;
    }
    desc_fetch_or_fault(c, sel, &d, EX_GP, 0);
    if (!desc_readable(&d))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_conforming(&d) && (SEL_RPL(sel) > desc_dpl(&d) || c->cpl > desc_dpl(&d)))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(&d))
        cpu_fault(c, EX_NP, SEL_ERR(sel));
    desc_set_accessed(c, sel, &d);
    seg_from_desc(c, &c->seg[s], sel, &d);
}

void cpu_load_seg(struct cpu *c, int s, uint16_t sel)
{
    if (!cpu_pmode(c) || cpu_v86(c)) {
        seg_load_real(c, s, sel);
        return;
    }
    if (s == S_SS)
        load_ss_prot(c, sel);
    else
        load_data_prot(c, s, sel);
}

/* MOV Sreg, r/m16: MOV CS and Sreg 6/7 are #UD. MOV SS inhibits interrupts
 * (and debug traps) until after the next instruction. */
void mov_Sw_Ew(struct cpu *c, const struct insn *i)
{
    if (i->reg == S_CS || i->reg > S_GS)
        cpu_fault(c, EX_UD, 0);
    uint16_t sel = (uint16_t)read_E(c, i, 2);
    cpu_load_seg(c, i->reg, sel);
    if (i->reg == S_SS)
        c->inhibit_intr = true;
}

/* MOV r/m, Sreg: a register destination with a 32-bit operand size gets the
 * selector zero-extended (P6 and later); a memory destination is always
 * written as 16 bits whatever the operand size. */
void mov_Ev_Sw(struct cpu *c, const struct insn *i)
{
    if (i->reg > S_GS)
        cpu_fault(c, EX_UD, 0);
    uint16_t sel = c->seg[i->reg].sel;
    if (i->mod == 3)
        cpu_set_reg(c, i->rm, i->opsize, sel);
    else
        cpu_write(c, i->seg, ea(c, i), 2, sel);
}

/* The segment register of PUSH/POP Sreg: opcode bits 3..5 give ES CS SS DS
 * for 06/0E/16/1E (07/17/1F) and FS GS for 0F A0/A8 (A1/A9). */
static int sreg_of(const struct insn *i) { return (i->b >> 3) & 7; }

/* PUSH Sreg. With a 32-bit operand size the P6 decrements ESP by 4 and
 * writes only the low 16 bits (a 16-bit move): the upper word of the stack
 * slot keeps its old contents. The limit and page checks cover all four
 * bytes of the slot, which the P6 checks as a dword push. */
void push_Sw(struct cpu *c, const struct insn *i)
{
    uint16_t sel = c->seg[sreg_of(i)].sel;
    if (i->opsize == 2) {
        cpu_push(c, sel, 2);
        return;
    }
    uint32_t sp = cpu_sp(c) - 4;
    if (!cpu_stack32(c))
        sp &= 0xffff;
    uint32_t lin = seg_lin(c, S_SS, sp, 4, true);
    lin_prepare_write(c, lin, 4, cpu_acc_user(c));
    lin_write(c, lin, 2, sel, cpu_acc_user(c));
    cpu_set_sp(c, sp);
}

/* POP Sreg: the slot is read with the old SS; ESP advances by the operand
 * size using the old SS's B bit (relevant to POP SS). POP CS has no row. */
void pop_Sw(struct cpu *c, const struct insn *i)
{
    int s = sreg_of(i);
    bool b32 = cpu_stack32(c);
    uint32_t sp = cpu_sp(c);
    uint16_t sel = (uint16_t)cpu_read(c, S_SS, sp, 2);
    if (i->opsize == 4) /* the whole dword must be within the limit */
        (void)seg_lin(c, S_SS, sp, 4, false);
    cpu_load_seg(c, s, sel);
    sp += i->opsize;
    if (b32)
        c->r[R_ESP] = sp;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xffff0000u) | (sp & 0xffff);
    if (s == S_SS)
        c->inhibit_intr = true;
}

/* Far pointer m16:16 / m16:32: offset first, selector after it. The
 * segment register is loaded before the general register is written, so a
 * failed load leaves both unchanged. */
static void load_far_ptr(struct cpu *c, const struct insn *i, int s)
{
    uint32_t off = ea(c, i);
    uint32_t amask = i->addrsize == 2 ? 0xffffu : 0xffffffffu;
    uint32_t val = cpu_read(c, i->seg, off, i->opsize);
    uint16_t sel = (uint16_t)cpu_read(c, i->seg, (off + i->opsize) & amask, 2);
    cpu_load_seg(c, s, sel);
    write_G(c, i, i->opsize, val);
}

void les_Gz_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, S_ES); }
void lds_Gz_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, S_DS); }
void lfs_Gz_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, S_FS); }
void lgs_Gz_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, S_GS); }
/* LSS does not create an interrupt shadow (only MOV SS / POP SS do). */
void lss_Gz_Mp(struct cpu *c, const struct insn *i) { load_far_ptr(c, i, S_SS); }
