/*
 * The CPU's hooks for the VMM (cpu/cpu.h): the derived C_CRITICAL class,
 * class routing (CPU_EXIT_INSN before execution), event interception
 * (CPU_EXIT_EVENT for faults, INT n and external interrupts), per-row
 * counts, and re-entry with cpu_step_insn.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "harness.h"

/* A flat GDT at 0x4000 (the harness's flat32 state has none) so that
 * exceptions can be delivered through tm_trap_all_vectors' IDT. */
static void flat_gdt(struct tmachine *tm)
{
    static const uint64_t gdt[3] = {0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull};
    tm_poke(tm, 0x4000, gdt, sizeof(gdt));
    tm->cpu.gdtr.base = 0x4000;
    tm->cpu.gdtr.limit = sizeof(gdt) - 1;
}

static uint16_t cls_of(unsigned opcode, int reg) { return decode_row_class(decode_lookup(opcode, reg)); }

/* Robin & Irvine's sensitive-unprivileged protected-mode instructions are
 * critical; privileged and IOPL-sensitive ones and innocuous ones are not. */
START_TEST(critical_is_derived)
{
    ck_assert(cls_of(0x101, 0) & C_CRITICAL); /* SGDT */
    ck_assert(cls_of(0x101, 1) & C_CRITICAL); /* SIDT */
    ck_assert(cls_of(0x100, 0) & C_CRITICAL); /* SLDT */
    ck_assert(cls_of(0x100, 1) & C_CRITICAL); /* STR */
    ck_assert(cls_of(0x101, 4) & C_CRITICAL); /* SMSW */
    ck_assert(cls_of(0x09c, -1) & C_CRITICAL); /* PUSHF */
    ck_assert(cls_of(0x09d, -1) & C_CRITICAL); /* POPF */
    ck_assert(cls_of(0x00e, -1) & C_CRITICAL); /* PUSH CS */
    ck_assert(cls_of(0x08c, -1) & C_CRITICAL); /* MOV r/m,Sreg */
    ck_assert(cls_of(0x102, -1) & C_CRITICAL); /* LAR */
    ck_assert(cls_of(0x103, -1) & C_CRITICAL); /* LSL */
    ck_assert(cls_of(0x100, 4) & C_CRITICAL); /* VERR */
    ck_assert(cls_of(0x0cf, -1) & C_CRITICAL); /* IRET */
    ck_assert(cls_of(0x0ea, -1) & C_CRITICAL); /* JMP far */
    ck_assert(!(cls_of(0x101, 2) & C_CRITICAL)); /* LGDT: privileged */
    ck_assert(!(cls_of(0x0fa, -1) & C_CRITICAL)); /* CLI: IOPL */
    ck_assert(!(cls_of(0x0f4, -1) & C_CRITICAL)); /* HLT */
    ck_assert(!(cls_of(0x120, -1) & C_CRITICAL)); /* MOV r,CRn: privileged though BEHV */
    ck_assert_uint_eq(cls_of(0x000, -1), 0);      /* ADD: innocuous */
}
END_TEST

/* nop; sgdt [0x2000]; hlt -- with exit_on_class = C_CRITICAL the SGDT exits
 * before it executes, EIP at it; cpu_step_insn then executes it. */
START_TEST(class_routing_exits_before_execution)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x90, 0x0f, 0x01, 0x05, 0x00, 0x20, 0x00, 0x00, 0xf4};
    tm_flat32(tm, 0x1000, code, sizeof(code), 0x8000);
    struct cpu *c = &tm->cpu;
    uint64_t counts[2048] = {0};
    ck_assert_int_lt(op_table_size, 2048);
    c->row_counts = counts;
    c->exit_on_class = C_CRITICAL;
    c->gdtr.base = 0x12345678;
    c->gdtr.limit = 0x1ff;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_INSN);
    ck_assert_uint_eq(c->eip, 0x1001);
    ck_assert_str_eq(c->exit_insn.op->mnemonic, "SGDT");
    ck_assert_uint_eq(tm_peek(tm, 0x2000, 2), 0); /* not executed */
    ck_assert_uint_eq(c->icount, 1);

    int faulted;
    struct insn i = c->exit_insn;
    ck_assert_int_eq(cpu_step_insn(c, &i, &faulted), CPU_EXIT_NONE);
    ck_assert_int_eq(faulted, -1);
    ck_assert_uint_eq(c->eip, 0x1008);
    ck_assert_uint_eq(tm_peek(tm, 0x2000, 2), 0x1ff);
    ck_assert_uint_eq(tm_peek(tm, 0x2002, 4), 0x12345678);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);

    /* Counts: NOP, SGDT (decoded once: exits are not re-counted), HLT. */
    uint64_t total = 0;
    for (int r = 0; r < op_table_size; r++) {
        total += counts[r];
        if (counts[r])
            ck_assert_uint_eq(counts[r], 1);
    }
    ck_assert_uint_eq(total, 3);
    tm_free(tm);
}
END_TEST

/* ud2 with intercept_events: no delivery, EIP/ESP at the instruction. */
START_TEST(fault_is_intercepted)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x0f, 0x0b};
    tm_flat32(tm, 0x1000, code, sizeof(code), 0x8000);
    flat_gdt(tm);
    tm_trap_all_vectors(tm);
    struct cpu *c = &tm->cpu;
    c->intercept_events = true;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, EX_UD);
    ck_assert_int_eq(c->exit_event.kind, EV_FAULT);
    ck_assert_uint_eq(c->eip, 0x1000);
    ck_assert_uint_eq(c->r[R_ESP], 0x8000);
    ck_assert_int_eq(tm_last_vector(tm), -1);
    /* Delivered on request, as the run loop would. */
    c->intercept_events = false;
    struct cpu_event e = c->exit_event;
    ck_assert_int_eq(cpu_raise_event(c, &e), CPU_EXIT_NONE);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_int_eq(tm_last_vector(tm), EX_UD);
    tm_free(tm);
}
END_TEST

/* int 0x40 with intercept_events: a software event, EIP after it. */
START_TEST(soft_int_is_intercepted)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x90, 0xcd, 0x40, 0xf4};
    tm_flat32(tm, 0x1000, code, sizeof(code), 0x8000);
    tm_trap_all_vectors(tm);
    struct cpu *c = &tm->cpu;
    c->intercept_events = true;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, 0x40);
    ck_assert_int_eq(c->exit_event.kind, EV_SOFT);
    ck_assert_uint_eq(c->eip, 0x1003);
    ck_assert_uint_eq(c->r[R_ESP], 0x8000);
    ck_assert_int_eq(tm_last_vector(tm), -1);
    tm_free(tm);
}
END_TEST

static int ack(void *ctx) { (void)ctx; return 0x31; }

/* An external interrupt is acknowledged, then intercepted. */
START_TEST(external_is_intercepted)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x90, 0x90, 0xf4};
    tm_flat32(tm, 0x1000, code, sizeof(code), 0x8000);
    struct cpu *c = &tm->cpu;
    tm->env.intr_ack = ack;
    c->eflags |= F_IF;
    c->intr_line = true;
    c->intercept_events = true;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, 0x31);
    ck_assert_int_eq(c->exit_event.kind, EV_EXTERNAL);
    ck_assert_uint_eq(c->eip, 0x1000);
    tm_free(tm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmm_hooks");
    TCase *t = tcase_create("core");
    tcase_add_test(t, critical_is_derived);
    tcase_add_test(t, class_routing_exits_before_execution);
    tcase_add_test(t, fault_is_intercepted);
    tcase_add_test(t, soft_int_is_intercepted);
    tcase_add_test(t, external_is_intercepted);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
