/*
 * The protection core: segment loads, far transfers, interrupt delivery,
 * IRET, task switches, double and triple faults. Each test builds GDT, IDT
 * and TSS images in RAM and runs only the instruction under test (plus
 * HLT), or calls the functions directly.
 *
 * Memory map: GDT 0x10000, IDT 0x11000, TSS A 0x12000, TSS B 0x13000,
 * handler for vector v at 0x20000 + 16 v (a HLT), test code at 0x30000,
 * ring-0 stack top 0x50000, ring-3 stack top 0x60000.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>

#include "cpu/descriptor.h"
#include "cpu/protect.h"
#include "harness.h"

enum {
    GDT = 0x10000, IDT = 0x11000, TSS_A = 0x12000, TSS_B = 0x13000, HANDLERS = 0x20000,
    CODE = 0x30000, STACK0 = 0x50000, STACK3 = 0x60000, CALLEE = 0x31000,
};
/* Selectors */
enum {
    CODE0 = 0x08, DATA0 = 0x10, CODE3 = 0x1b, DATA3 = 0x23, TSSA = 0x28, TSSB = 0x30,
    NOTP = 0x38, EXPDN = 0x40, CGATE = 0x4b, XONLY = 0x50,
};

/* Access bytes (high dword bits 8..15) and flags (bits 20..23). */
#define ACC(p, dpl, s, type) (((p) << 15) | ((dpl) << 13) | ((s) << 12) | ((type) << 8))
#define FL_G (1u << 23)
#define FL_D (1u << 22)

static void put_desc(struct tmachine *tm, uint32_t at, uint32_t base, uint32_t limit,
                     uint32_t acc_flags)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (base & 0xff000000u) | (limit & 0xf0000) | acc_flags;
    tm_poke(tm, at, &lo, 4);
    tm_poke(tm, at + 4, &hi, 4);
}
static void gdt(struct tmachine *tm, uint16_t sel, uint32_t base, uint32_t limit, uint32_t af)
{
    put_desc(tm, GDT + (sel & ~7u), base, limit, af);
}
static void put_gate(struct tmachine *tm, uint32_t at, uint16_t sel, uint32_t off, unsigned type,
                     unsigned dpl, unsigned params)
{
    uint32_t lo = (off & 0xffff) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xffff0000u) | ACC(1u, dpl, 0u, type) | params;
    tm_poke(tm, at, &lo, 4);
    tm_poke(tm, at + 4, &hi, 4);
}
static void idt_gate(struct tmachine *tm, int v, unsigned type, unsigned dpl)
{
    put_gate(tm, IDT + 8 * (uint32_t)v, CODE0, HANDLERS + 16 * (uint32_t)v, type, dpl, 0);
}
static uint32_t rd(struct tmachine *tm, uint32_t a) { return tm_peek(tm, a, 4); }
static void wr(struct tmachine *tm, uint32_t a, uint32_t v) { tm_poke(tm, a, &v, 4); }

/* Loads a segment register straight from its GDT descriptor, no checks. */
static void force_seg(struct cpu *c, int s, uint16_t sel)
{
    struct desc d;
    ck_assert(desc_fetch(c, sel, &d));
    if (s == S_CS)
        seg_load_cs(c, sel, &d, SEL_RPL(sel));
    else
        seg_from_desc(c, &c->seg[s], sel, &d);
}

static void set_cpl(struct cpu *c, unsigned cpl)
{
    force_seg(c, S_CS, cpl ? CODE3 : CODE0);
    uint16_t ds = cpl ? DATA3 : DATA0;
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            force_seg(c, s, ds);
    c->r[R_ESP] = cpl ? STACK3 : STACK0;
}

/* Flat 32-bit protected mode with the tables above, CPL 0, TR = TSS A. */
static struct tmachine *pm_new(void)
{
    struct tmachine *tm = tm_new(1024);
    struct cpu *c = &tm->cpu;
    cpu_reset(c);
    c->cr0 = CR0_PE | CR0_ET;
    mmu_set_cr0(&c->mmu, c->cr0);
    gdt(tm, CODE0, 0, 0xfffff, ACC(1u, 0u, 1u, 0xa) | FL_G | FL_D);
    gdt(tm, DATA0, 0, 0xfffff, ACC(1u, 0u, 1u, 0x2) | FL_G | FL_D);
    gdt(tm, CODE3, 0, 0xfffff, ACC(1u, 3u, 1u, 0xa) | FL_G | FL_D);
    gdt(tm, DATA3, 0, 0xfffff, ACC(1u, 3u, 1u, 0x2) | FL_G | FL_D);
    gdt(tm, TSSA, TSS_A, 0x67, ACC(1u, 0u, 0u, DT_TSS32_BUSY));
    gdt(tm, TSSB, TSS_B, 0x67, ACC(1u, 0u, 0u, DT_TSS32_AVAIL));
    gdt(tm, NOTP, 0, 0xfffff, ACC(0u, 0u, 1u, 0x2) | FL_G | FL_D);
    gdt(tm, EXPDN, 0x40000, 0x0fff, ACC(1u, 0u, 1u, 0x6));
    put_gate(tm, GDT + (CGATE & ~7u), CODE0, CALLEE, DT_CALLGATE32, 3, 2);
    gdt(tm, XONLY, 0, 0xfffff, ACC(1u, 0u, 1u, 0x8) | FL_G | FL_D);
    c->gdtr.base = GDT;
    c->gdtr.limit = 0x57;
    c->idtr.base = IDT;
    c->idtr.limit = 256 * 8 - 1;
    for (int v = 0; v < 256; v++) {
        idt_gate(tm, v, DT_INTGATE32, 0);
        tm_poke(tm, HANDLERS + 16 * (uint32_t)v, "\xf4", 1);
    }
    idt_gate(tm, 0x80, DT_INTGATE32, 3);
    idt_gate(tm, 0x81, DT_TRAPGATE32, 3);
    /* TSS A: ring-0 stack */
    wr(tm, TSS_A + 4, STACK0);
    wr(tm, TSS_A + 8, DATA0);
    struct desc d;
    ck_assert(desc_fetch(c, TSSA, &d));
    c->tr.sel = TSSA;
    c->tr.base = desc_base(&d);
    c->tr.limit = desc_limit(&d);
    c->tr.ar = desc_ar(&d);
    c->tr.valid = true;
    c->ldtr.sel = 0;
    c->ldtr.valid = false;
    c->eflags = F_RES1;
    set_cpl(c, 0);
    c->eip = CODE;
    return tm;
}

static void code(struct tmachine *tm, const void *bytes, size_t n) { tm_poke(tm, CODE, bytes, n); }

/* Vector of the handler the CPU halted in, -1 if none. */
static int halted_vector(struct tmachine *tm)
{
    uint32_t e = tm->cpu.eip - 1;
    if (tm->cpu.seg[S_CS].sel != CODE0 || e < HANDLERS || e >= HANDLERS + 256 * 16 || (e & 15))
        return -1;
    return (int)((e - HANDLERS) / 16);
}

/* Runs until HLT; returns the vector of the handler reached. */
static int run_to_handler(struct tmachine *tm)
{
    tm->cpu.halted = false;
    ck_assert_int_eq(tm_run(tm, 20), CPU_EXIT_HLT);
    return halted_vector(tm);
}

/* Calls cpu_load_seg, catching a fault: returns the vector or -1. */
static int try_load(struct cpu *c, int s, uint16_t sel, uint32_t *err)
{
    if (setjmp(c->fault_jmp)) {
        *err = c->fault_err;
        return c->fault_vector;
    }
    cpu_load_seg(c, s, sel);
    return -1;
}

static int try_read(struct cpu *c, int s, uint32_t off, int size)
{
    if (setjmp(c->fault_jmp))
        return c->fault_vector;
    (void)cpu_read(c, s, off, size);
    return -1;
}

/* ---- segment loads ---- */

START_TEST(load_seg_rules)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    uint32_t err = 0;

    /* clear the accessed bit, then load: it is set in memory */
    ck_assert_int_eq(try_load(c, S_DS, DATA0, &err), -1);
    ck_assert(rd(tm, GDT + DATA0 + 4) & 0x100);
    ck_assert_uint_eq(c->seg[S_DS].limit, 0xffffffffu);

    /* RPL 3 selector for a DPL 0 segment */
    ck_assert_int_eq(try_load(c, S_DS, DATA0 | 3, &err), EX_GP);
    ck_assert_uint_eq(err, DATA0);
    /* execute-only code */
    ck_assert_int_eq(try_load(c, S_ES, XONLY, &err), EX_GP);
    ck_assert_uint_eq(err, XONLY);
    /* beyond the GDT limit */
    ck_assert_int_eq(try_load(c, S_FS, 0x58, &err), EX_GP);
    ck_assert_uint_eq(err, 0x58);
    /* LDT selector with a null LDTR */
    ck_assert_int_eq(try_load(c, S_FS, 0x0c, &err), EX_GP);
    ck_assert_uint_eq(err, 0x0c);
    /* not present: #NP for data registers, #SS for SS */
    ck_assert_int_eq(try_load(c, S_GS, NOTP, &err), EX_NP);
    ck_assert_uint_eq(err, NOTP);
    ck_assert_int_eq(try_load(c, S_SS, NOTP, &err), EX_SS);
    ck_assert_uint_eq(err, NOTP);
    /* null: fine for DS, then any access is #GP(0); #GP(0) for SS */
    ck_assert_int_eq(try_load(c, S_DS, 3, &err), -1);
    ck_assert(!c->seg[S_DS].valid);
    ck_assert_int_eq(try_read(c, S_DS, 0, 1), EX_GP);
    ck_assert_int_eq(try_load(c, S_SS, 0, &err), EX_GP);
    ck_assert_uint_eq(err, 0);
    /* SS: RPL must equal CPL */
    ck_assert_int_eq(try_load(c, S_SS, DATA3, &err), EX_GP);
    ck_assert_uint_eq(err, DATA3 & ~3u);

    /* at CPL 3, DPL 0 data is out of reach */
    set_cpl(c, 3);
    ck_assert_int_eq(try_load(c, S_DS, DATA0, &err), EX_GP);
    ck_assert_uint_eq(err, DATA0);
    ck_assert_int_eq(try_load(c, S_DS, DATA3, &err), -1);
    tm_free(tm);
}
END_TEST

START_TEST(expand_down_limits)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    uint32_t err;
    ck_assert_int_eq(try_load(c, S_ES, EXPDN, &err), -1);
    /* limit 0xfff, B = 0: valid offsets 0x1000 .. 0xffff */
    ck_assert_int_eq(try_read(c, S_ES, 0x0fff, 1), EX_GP);
    ck_assert_int_eq(try_read(c, S_ES, 0x0000, 1), EX_GP);
    ck_assert_int_eq(try_read(c, S_ES, 0x1000, 4), -1);
    ck_assert_int_eq(try_read(c, S_ES, 0xfffc, 4), -1);
    ck_assert_int_eq(try_read(c, S_ES, 0xfffe, 4), EX_GP);
    tm_free(tm);
}
END_TEST

/* MOV DS, AX at CPL 3 with a DPL 0 selector: #GP(sel) through the IDT,
 * frame on the ring-0 stack, RF set in the pushed EFLAGS (a fault). */
START_TEST(mov_sreg_fault_from_ring3)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0x8e, 0xd8}; /* mov ds, ax */
    code(tm, insn, sizeof(insn));
    set_cpl(c, 3);
    c->r[R_EAX] = DATA0;
    ck_assert_int_eq(run_to_handler(tm), EX_GP);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 24);
    ck_assert_uint_eq(rd(tm, STACK0 - 24), DATA0); /* error code */
    ck_assert_uint_eq(rd(tm, STACK0 - 20), CODE);  /* faulting EIP */
    ck_assert_uint_eq(rd(tm, STACK0 - 16), CODE3);
    ck_assert_uint_eq(rd(tm, STACK0 - 12), F_RES1 | F_RF);
    ck_assert_uint_eq(rd(tm, STACK0 - 8), STACK3);
    ck_assert_uint_eq(rd(tm, STACK0 - 4), DATA3);
    ck_assert_uint_eq(c->seg[S_DS].sel, DATA3); /* unchanged */
    tm_free(tm);
}
END_TEST

START_TEST(mov_ss_pop_ss_push_sreg)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    /* mov ss, ax ; push ds (32-bit: 16-bit store) ; pop es ; mov eax, ds (8C D8) */
    static const uint8_t insn[] = {0x8e, 0xd0, 0x1e, 0x07, 0x8c, 0xd8};
    code(tm, insn, sizeof(insn));
    c->r[R_EAX] = DATA0;
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert(c->inhibit_intr);
    wr(tm, STACK0 - 4, 0xaaaaaaaau);
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 4);
    ck_assert_uint_eq(rd(tm, STACK0 - 4), 0xaaaa0000u | DATA0);
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->r[R_ESP], STACK0);
    ck_assert_uint_eq(c->seg[S_ES].sel, DATA0);
    c->r[R_EAX] = 0xffffffffu;
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->r[R_EAX], DATA0); /* zero-extended */
    tm_free(tm);
}
END_TEST

/* ---- far transfers ---- */

START_TEST(call_gate_to_ring0_copies_params)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0x9a, 0, 0, 0, 0, CGATE, 0}; /* call CGATE:0 */
    code(tm, insn, sizeof(insn));
    tm_poke(tm, CALLEE, "\xf4", 1);
    set_cpl(c, 3);
    c->r[R_ESP] = STACK3 - 8;
    wr(tm, STACK3 - 8, 0x11111111u); /* pushed last */
    wr(tm, STACK3 - 4, 0x22222222u);
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->cpl, 0);
    ck_assert_uint_eq(c->seg[S_CS].sel, CODE0);
    ck_assert_uint_eq(c->seg[S_SS].sel, DATA0);
    ck_assert_uint_eq(c->eip, CALLEE + 1);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 24);
    ck_assert_uint_eq(rd(tm, STACK0 - 4), DATA3);
    ck_assert_uint_eq(rd(tm, STACK0 - 8), STACK3 - 8);
    ck_assert_uint_eq(rd(tm, STACK0 - 12), 0x22222222u);
    ck_assert_uint_eq(rd(tm, STACK0 - 16), 0x11111111u);
    ck_assert_uint_eq(rd(tm, STACK0 - 20), CODE3);
    ck_assert_uint_eq(rd(tm, STACK0 - 24), CODE + sizeof(insn));
    tm_free(tm);
}
END_TEST

START_TEST(retf_to_ring3_nulls_segments)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xca, 8, 0}; /* retf 8 */
    code(tm, insn, sizeof(insn));
    force_seg(c, S_ES, DATA3);
    uint32_t sp = STACK0 - 24;
    c->r[R_ESP] = sp;
    wr(tm, sp, 0x40000);
    wr(tm, sp + 4, CODE3);
    wr(tm, sp + 16, STACK3 - 100); /* after the 8 bytes of parameters */
    wr(tm, sp + 20, DATA3);
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->cpl, 3);
    ck_assert_uint_eq(c->seg[S_CS].sel, CODE3);
    ck_assert_uint_eq(c->eip, 0x40000);
    ck_assert_uint_eq(c->seg[S_SS].sel, DATA3);
    ck_assert_uint_eq(c->r[R_ESP], STACK3 - 100 + 8);
    ck_assert(!c->seg[S_DS].valid); /* DPL 0 data: nulled */
    ck_assert_uint_eq(c->seg[S_DS].sel, 0);
    ck_assert(c->seg[S_ES].valid); /* DPL 3: kept */
    ck_assert_uint_eq(c->seg[S_ES].sel, DATA3);
    tm_free(tm);
}
END_TEST

START_TEST(far_jmp_real_and_direct)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t rm[] = {0xea, 0x34, 0x12, 0x00, 0x20}; /* jmp 2000:1234 */
    tm_real(tm, 0x7c00, rm, sizeof(rm));
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(tm->cpu.seg[S_CS].base, 0x20000);
    ck_assert_uint_eq(tm->cpu.eip, 0x1234);
    tm_free(tm);

    tm = pm_new();
    struct cpu *c = &tm->cpu;
    /* jmp 0x1b:x at CPL 0 to non-conforming DPL 3 code: #GP(0x18) */
    static const uint8_t pm[] = {0xea, 0, 0, 4, 0, CODE3, 0};
    code(tm, pm, sizeof(pm));
    ck_assert_int_eq(run_to_handler(tm), EX_GP);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), CODE3 & ~3u);
    tm_free(tm);
}
END_TEST

/* ---- interrupts ---- */

START_TEST(int_gate_from_ring3_switches_stack)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xcd, 0x80};
    code(tm, insn, sizeof(insn));
    set_cpl(c, 3);
    c->eflags = F_RES1 | F_IF | F_NT;
    ck_assert_int_eq(run_to_handler(tm), 0x80);
    ck_assert_uint_eq(c->cpl, 0);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 20);
    ck_assert_uint_eq(rd(tm, STACK0 - 20), CODE + 2);
    ck_assert_uint_eq(rd(tm, STACK0 - 16), CODE3);
    ck_assert_uint_eq(rd(tm, STACK0 - 12), F_RES1 | F_IF | F_NT);
    ck_assert_uint_eq(rd(tm, STACK0 - 8), STACK3);
    ck_assert_uint_eq(rd(tm, STACK0 - 4), DATA3);
    ck_assert(!(c->eflags & (F_IF | F_NT)));
    ck_assert_uint_eq(c->seg[S_SS].sel, DATA0);

    /* IRET back to ring 3, DS (DPL 0 after the test sets it) nulled */
    static const uint8_t ir[] = {0xcf};
    tm_poke(tm, HANDLERS + 16 * 0x80 + 1, ir, 1);
    force_seg(c, S_DS, DATA0);
    c->eflags |= F_IOPL; /* CPL 0 may change IOPL: the popped value (0) wins */
    c->halted = false;
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->cpl, 3);
    ck_assert_uint_eq(c->eip, CODE + 2);
    ck_assert_uint_eq(c->r[R_ESP], STACK3);
    ck_assert_uint_eq(c->eflags & (F_IF | F_NT | F_IOPL), F_IF | F_NT);
    ck_assert(!c->seg[S_DS].valid);
    tm_free(tm);
}
END_TEST

START_TEST(trap_gate_keeps_if)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xcd, 0x81};
    code(tm, insn, sizeof(insn));
    c->eflags = F_RES1 | F_IF;
    ck_assert_int_eq(run_to_handler(tm), 0x81);
    ck_assert(c->eflags & F_IF);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 12); /* same privilege: no SS:ESP */
    tm_free(tm);
}
END_TEST

START_TEST(int_dpl_and_idt_limit)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xcd, 0x30};
    code(tm, insn, sizeof(insn));
    set_cpl(c, 3);
    ck_assert_int_eq(run_to_handler(tm), EX_GP);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), 0x30 * 8 + 2);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP] + 4), CODE); /* the INT itself */
    tm_free(tm);

    tm = pm_new();
    c = &tm->cpu;
    static const uint8_t i2[] = {0xcd, 0x50};
    code(tm, i2, sizeof(i2));
    c->idtr.limit = 0x40 * 8 - 1;
    ck_assert_int_eq(run_to_handler(tm), EX_GP);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), 0x50 * 8 + 2);
    tm_free(tm);
}
END_TEST

START_TEST(v86_interrupt_frame)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xcd, 0x80};
    tm_poke(tm, 0x1000 * 16 + 0x100, insn, sizeof(insn));
    c->eflags = F_RES1 | F_VM | F_IF | F_IOPL;
    c->cpl = 3;
    seg_load_real(c, S_CS, 0x1000);
    seg_load_real(c, S_SS, 0x2000);
    seg_load_real(c, S_DS, 0x3000);
    seg_load_real(c, S_ES, 0x4000);
    seg_load_real(c, S_FS, 0x5000);
    seg_load_real(c, S_GS, 0x6000);
    c->eip = 0x100;
    c->r[R_ESP] = 0xfff0;
    ck_assert_int_eq(run_to_handler(tm), 0x80);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 36);
    static const uint32_t want[9] = {0x102, 0x1000, F_RES1 | F_VM | F_IF | F_IOPL, 0xfff0,
                                     0x2000, 0x4000, 0x3000, 0x5000, 0x6000};
    for (unsigned k = 0; k < 9; k++)
        ck_assert_uint_eq(rd(tm, STACK0 - 36 + 4 * k), want[k]);
    ck_assert(!(c->eflags & F_VM));
    ck_assert_uint_eq(c->cpl, 0);
    ck_assert_uint_eq(c->seg[S_DS].sel, 0);
    ck_assert(!c->seg[S_GS].valid);

    /* IRET back to V86 */
    tm_poke(tm, HANDLERS + 16 * 0x80 + 1, "\xcf", 1);
    c->halted = false;
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert(c->eflags & F_VM);
    ck_assert_uint_eq(c->cpl, 3);
    ck_assert_uint_eq(c->seg[S_DS].base, 0x30000);
    ck_assert_uint_eq(c->seg[S_CS].base, 0x10000);
    ck_assert_uint_eq(c->eip, 0x102);
    ck_assert_uint_eq(c->r[R_ESP], 0xfff0);

    /* INT n with IOPL < 3 in V86: #GP(0) */
    c->eflags &= ~F_IOPL;
    c->eip = 0x100;
    ck_assert_int_eq(run_to_handler(tm), EX_GP);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), 0);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP] + 4), 0x100);
    tm_free(tm);
}
END_TEST

/* ---- task switches ---- */

static void setup_tss_b(struct tmachine *tm, uint32_t eip)
{
    wr(tm, TSS_B + 0x20, eip);
    wr(tm, TSS_B + 0x24, F_RES1);
    for (unsigned k = 0; k < 8; k++)
        wr(tm, TSS_B + 0x28 + 4 * k, 0xb0b00000u + k);
    wr(tm, TSS_B + 0x28 + 4 * R_ESP, STACK0 - 0x800);
    static const uint16_t sregs[6] = {DATA0, CODE0, DATA0, DATA0, 0, DATA0};
    for (unsigned s = 0; s < 6; s++)
        wr(tm, TSS_B + 0x48 + 4 * s, sregs[s]);
    wr(tm, TSS_B + 0x60, 0);
}

static unsigned gdt_type(struct tmachine *tm, uint16_t sel)
{
    return (rd(tm, GDT + (sel & ~7u) + 4) >> 8) & 0xf;
}

START_TEST(task_switch_jmp)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xea, 0, 0, 0, 0, TSSB, 0}; /* jmp TSSB:0 */
    code(tm, insn, sizeof(insn));
    tm_poke(tm, CALLEE, "\xf4", 1);
    setup_tss_b(tm, CALLEE);
    c->r[R_EAX] = 0xa0a0a0a0u;
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, CALLEE + 1);
    ck_assert_uint_eq(c->tr.sel, TSSB);
    ck_assert_uint_eq(c->r[R_EAX], 0xb0b00000u);
    ck_assert_uint_eq(c->r[R_EDI], 0xb0b00007u);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 0x800);
    ck_assert(!c->seg[S_FS].valid);
    ck_assert(c->cr0 & CR0_TS);
    ck_assert_uint_eq(gdt_type(tm, TSSA), DT_TSS32_AVAIL);
    ck_assert_uint_eq(gdt_type(tm, TSSB), DT_TSS32_BUSY);
    /* outgoing state saved */
    ck_assert_uint_eq(rd(tm, TSS_A + 0x20), CODE + sizeof(insn));
    ck_assert_uint_eq(rd(tm, TSS_A + 0x28), 0xa0a0a0a0u);
    ck_assert_uint_eq(rd(tm, TSS_A + 0x48 + 4 * S_CS), CODE0);
    ck_assert(!(c->eflags & F_NT));

    /* a busy TSS cannot be jumped to */
    code(tm, insn, sizeof(insn));
    c->eip = CODE;
    c->idtr.base = IDT;
    ck_assert_int_eq(run_to_handler(tm), EX_GP);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), TSSB);
    tm_free(tm);
}
END_TEST

START_TEST(task_switch_call_and_iret)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0x9a, 0, 0, 0, 0, TSSB, 0, 0xf4}; /* call TSSB:0 ; hlt */
    code(tm, insn, sizeof(insn));
    tm_poke(tm, CALLEE, "\xcf", 1); /* iret */
    setup_tss_b(tm, CALLEE);
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->tr.sel, TSSB);
    ck_assert(c->eflags & F_NT);
    ck_assert_uint_eq(tm_peek(tm, TSS_B, 2), TSSA);
    ck_assert_uint_eq(gdt_type(tm, TSSA), DT_TSS32_BUSY);
    ck_assert_uint_eq(gdt_type(tm, TSSB), DT_TSS32_BUSY);
    c->r[R_EAX] = 0x5555u;
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->tr.sel, TSSA);
    ck_assert_uint_eq(c->eip, CODE + 8);
    ck_assert_uint_eq(gdt_type(tm, TSSB), DT_TSS32_AVAIL);
    ck_assert_uint_eq(gdt_type(tm, TSSA), DT_TSS32_BUSY);
    ck_assert(!(c->eflags & F_NT));
    ck_assert_uint_eq(c->r[R_ESP], STACK0);
    /* the returning task's state was saved with NT clear */
    ck_assert_uint_eq(rd(tm, TSS_B + 0x28), 0x5555u);
    ck_assert(!(rd(tm, TSS_B + 0x24) & F_NT));
    ck_assert_uint_eq(rd(tm, TSS_B + 0x20), CALLEE + 1);
    tm_free(tm);
}
END_TEST

/* ---- double and triple faults ---- */

START_TEST(double_and_triple_fault)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0x8e, 0xd8}; /* mov ds, ax: #NP(NOTP) */
    code(tm, insn, sizeof(insn));
    c->r[R_EAX] = NOTP;
    /* #NP's own gate not present: #NP during #NP delivery -> #DF */
    uint32_t hi = rd(tm, IDT + 8 * EX_NP + 4) & ~0x8000u;
    wr(tm, IDT + 8 * EX_NP + 4, hi);
    ck_assert_int_eq(run_to_handler(tm), EX_DF);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), 0);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP] + 4), CODE);
    tm_free(tm);

    tm = pm_new();
    c = &tm->cpu;
    code(tm, insn, sizeof(insn));
    c->r[R_EAX] = NOTP;
    wr(tm, IDT + 8 * EX_NP + 4, rd(tm, IDT + 8 * EX_NP + 4) & ~0x8000u);
    wr(tm, IDT + 8 * EX_DF + 4, rd(tm, IDT + 8 * EX_DF + 4) & ~0x8000u);
    ck_assert_int_eq(tm_run(tm, 20), CPU_EXIT_SHUTDOWN);
    tm_free(tm);
}
END_TEST

START_TEST(int3_into_icebp)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xcc};
    code(tm, insn, sizeof(insn));
    set_cpl(c, 3);
    ck_assert_int_eq(run_to_handler(tm), EX_GP); /* gate 3 has DPL 0 */
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), 3 * 8 + 2);
    tm_free(tm);

    tm = pm_new();
    c = &tm->cpu;
    static const uint8_t i2[] = {0xf1}; /* ICEBP: no DPL check */
    code(tm, i2, sizeof(i2));
    set_cpl(c, 3);
    ck_assert_int_eq(run_to_handler(tm), EX_DB);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), CODE + 1);
    tm_free(tm);

    tm = pm_new();
    c = &tm->cpu;
    static const uint8_t i3[] = {0xce, 0xf4}; /* into ; hlt */
    code(tm, i3, sizeof(i3));
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, CODE + 2); /* OF clear: no trap */
    tm_free(tm);
}
END_TEST

/* Linux's i386 pattern: #DF through a task gate to a dedicated TSS. */
START_TEST(double_fault_task_gate)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0x8e, 0xd8}; /* mov ds, ax: #NP(NOTP) */
    code(tm, insn, sizeof(insn));
    tm_poke(tm, CALLEE, "\xf4", 1);
    setup_tss_b(tm, CALLEE);
    c->r[R_EAX] = NOTP;
    wr(tm, IDT + 8 * EX_NP + 4, rd(tm, IDT + 8 * EX_NP + 4) & ~0x8000u);
    put_gate(tm, IDT + 8 * EX_DF, TSSB, 0, DT_TASKGATE, 0, 0);
    ck_assert_int_eq(tm_run(tm, 20), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->tr.sel, TSSB);
    ck_assert_uint_eq(c->eip, CALLEE + 1);
    ck_assert(c->eflags & F_NT);
    ck_assert_uint_eq(tm_peek(tm, TSS_B, 2), TSSA);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 0x800 - 4);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP]), 0); /* #DF error code on the new stack */
    ck_assert_uint_eq(rd(tm, TSS_A + 0x20), CODE); /* the faulting instruction */
    tm_free(tm);
}
END_TEST

/* LDS/LSS in protected mode: the register changes only if the load works. */
START_TEST(load_far_pointer)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xc5, 0x03, 0xc5, 0x0e}; /* lds eax,[ebx] ; lds ecx,[esi] */
    code(tm, insn, sizeof(insn));
    c->r[R_EBX] = 0x40000;
    wr(tm, 0x40000, 0x12345678u);
    wr(tm, 0x40004, DATA3);
    c->r[R_ESI] = 0x40010;
    wr(tm, 0x40010, 0x9abcdef0u);
    wr(tm, 0x40014, NOTP);
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->r[R_EAX], 0x12345678u);
    ck_assert_uint_eq(c->seg[S_DS].sel, DATA3);
    c->r[R_ECX] = 7;
    ck_assert_int_eq(run_to_handler(tm), EX_NP);
    ck_assert_uint_eq(c->r[R_ECX], 7);
    ck_assert_uint_eq(c->seg[S_DS].sel, DATA3);
    tm_free(tm);
}
END_TEST

/* Real mode: INT n through the IVT, IRET back; a vector beyond IDTR.limit
 * is #GP. */
START_TEST(real_mode_int_iret)
{
    struct tmachine *tm = tm_new(1024);
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0xcd, 0x21, 0xf4};
    tm_real(tm, 0x7c00, insn, sizeof(insn));
    uint32_t vec = (0x0800u << 16) | 0x0010; /* 0800:0010 = 0x8010 */
    tm_poke(tm, 0x21 * 4, &vec, 4);
    tm_poke(tm, 0x8010, "\xcf", 1);
    c->eflags = F_RES1 | F_IF;
    ck_assert_int_eq(tm_run(tm, 1), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->seg[S_CS].sel, 0x0800);
    ck_assert_uint_eq(c->eip, 0x10);
    ck_assert(!(c->eflags & F_IF));
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 2, 2), F_RES1 | F_IF); /* FLAGS */
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 4, 2), 0);      /* CS */
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 6, 2), 0x7c02); /* IP */
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, 0x7c03);
    ck_assert(c->eflags & F_IF);
    ck_assert_uint_eq(c->r[R_ESP], 0xfffe);
    tm_free(tm);
}
END_TEST

/* A 16-bit interrupt gate pushes a 6-byte frame (FLAGS, CS, IP) plus a
 * word error code; the handler offset is the gate's low word. */
START_TEST(int_gate16_frame)
{
    struct tmachine *tm = pm_new();
    struct cpu *c = &tm->cpu;
    static const uint8_t insn[] = {0x8e, 0xd8}; /* mov ds, ax: #GP(XONLY) */
    code(tm, insn, sizeof(insn));
    /* handler at 0x8000 in a 16-bit gate */
    put_gate(tm, IDT + 8 * EX_GP, CODE0, 0x8000, DT_INTGATE16, 0, 0);
    tm_poke(tm, 0x8000, "\xf4", 1);
    c->r[R_EAX] = XONLY;
    c->eflags = F_RES1 | F_IF;
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, 0x8001);
    ck_assert_uint_eq(c->r[R_ESP], STACK0 - 8);
    ck_assert_uint_eq(tm_peek(tm, STACK0 - 8, 2), XONLY);
    ck_assert_uint_eq(tm_peek(tm, STACK0 - 6, 2), CODE & 0xffff);
    ck_assert_uint_eq(tm_peek(tm, STACK0 - 4, 2), CODE0);
    ck_assert_uint_eq(tm_peek(tm, STACK0 - 2, 2), F_RES1 | F_IF);
    ck_assert(!(c->eflags & F_IF));
    tm_free(tm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("protect");
    TCase *t = tcase_create("core");
    tcase_add_test(t, load_seg_rules);
    tcase_add_test(t, expand_down_limits);
    tcase_add_test(t, mov_sreg_fault_from_ring3);
    tcase_add_test(t, mov_ss_pop_ss_push_sreg);
    tcase_add_test(t, call_gate_to_ring0_copies_params);
    tcase_add_test(t, retf_to_ring3_nulls_segments);
    tcase_add_test(t, far_jmp_real_and_direct);
    tcase_add_test(t, int_gate_from_ring3_switches_stack);
    tcase_add_test(t, trap_gate_keeps_if);
    tcase_add_test(t, int_dpl_and_idt_limit);
    tcase_add_test(t, v86_interrupt_frame);
    tcase_add_test(t, task_switch_jmp);
    tcase_add_test(t, task_switch_call_and_iret);
    tcase_add_test(t, double_and_triple_fault);
    tcase_add_test(t, int3_into_icebp);
    tcase_add_test(t, double_fault_task_gate);
    tcase_add_test(t, load_far_pointer);
    tcase_add_test(t, real_mode_int_iret);
    tcase_add_test(t, int_gate16_frame);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
