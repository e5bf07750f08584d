/* Smoke test of the run loop: decode, dispatch, HLT, #UD delivery. */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

START_TEST(halts_on_hlt)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x90, 0x90, 0xf4};
    tm_real(tm, 0x7c00, code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.eip, 0x7c03);
    ck_assert_uint_eq(tm->cpu.icount, 3);
    tm_free(tm);
}
END_TEST

START_TEST(invalid_opcode_raises_ud)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x0f, 0xff};
    tm_real(tm, 0x7c00, code, sizeof(code));
    tm_trap_all_vectors(tm);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_int_eq(tm_last_vector(tm), EX_UD);
    /* #UD is a fault: the pushed IP is the faulting instruction's */
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 6, 2), 0x7c00);
    tm_free(tm);
}
END_TEST

START_TEST(budget_exit)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0xf4};
    tm_real(tm, 0x7c00, code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 2), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(tm->cpu.eip, 0x7c02);
    tm_free(tm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smoke");
    TCase *t = tcase_create("core");
    tcase_add_test(t, halts_on_hlt);
    tcase_add_test(t, invalid_opcode_raises_ud);
    tcase_add_test(t, budget_exit);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
