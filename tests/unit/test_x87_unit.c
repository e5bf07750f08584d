/* test_x87_unit.c - hand-written x87 tests for what the host cannot check
 * with masked exceptions: unmasked responses (SDM Vol. 1, 8.5), stack-fault
 * responses with IE unmasked, ES/B, the FSTENV/FSAVE/FXSAVE image layouts,
 * FCMOV, FCOMI, FXAM classes, constants, partial FPREM and BCD.  Runs on any host.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/x87.h"
#include "test_x87_gen.h"

static floatx80 X(int sign, int exp, uint64_t mant) { return fx80_make(sign, exp, mant); }
static const uint64_t J = 0x8000000000000000ull;

static void put80(uint8_t m[10], floatx80 v)
{
    memcpy(m, &v.mant, 8);
    m[8] = (uint8_t)v.sign_exp;
    m[9] = (uint8_t)(v.sign_exp >> 8);
}

static void push(struct x87 *x, floatx80 v)
{
    uint8_t m[10];
    put80(m, v);
    x87_fld_mem(x, X87_M80FP, m);
}

static bool same(floatx80 a, floatx80 b) { return a.mant == b.mant && a.sign_exp == b.sign_exp; }

/* fresh FPU with the given control word */
static void init(struct x87 *x, uint16_t cw)
{
    x87_reset(x);
    x87_fldcw(x, cw);
}

START_TEST(finit_state)
{
    struct x87 x;
    x87_reset(&x);
    ck_assert_uint_eq(x87_fstcw(&x), 0x037f);
    ck_assert_uint_eq(x87_fstsw(&x), 0);
    ck_assert_uint_eq(x.tw, 0xffff);
    ck_assert(!x87_pending(&x));
}
END_TEST

START_TEST(unmasked_overflow_register_biased)
{
    /* max * 4 with OE unmasked: exponent 0x7ffe + 2 - 24576, OE, ES, B */
    struct x87 x;
    init(&x, 0x037f & ~X87_OE);
    push(&x, X(0, 0x4001, J));
    push(&x, X(0, 0x7ffe, 0xc000000000000000ull));
    x87_arith_st(&x, X87_FMUL, 0, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 0x7ffe + 2 - 24576, 0xc000000000000000ull)));
    ck_assert_uint_eq(x.sw & (X87_EXC | X87_ES | X87_B), X87_OE | X87_ES | X87_B);
    ck_assert(x87_pending(&x));
    x87_fclex(&x);
    ck_assert(!x87_pending(&x));
}
END_TEST

START_TEST(unmasked_underflow_register_biased)
{
    /* 2^-16382 * 2^-10, UE unmasked: exact, tiny -> UE with exponent + 24576 */
    struct x87 x;
    init(&x, 0x037f & ~X87_UE);
    push(&x, X(0, 0x3fff - 10, J));
    push(&x, X(0, 1, J));
    x87_arith_st(&x, X87_FMUL, 0, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 1 - 10 + 24576, J)));
    ck_assert_uint_eq(x.sw & X87_EXC, X87_UE);
    ck_assert(x87_pending(&x));
}
END_TEST

START_TEST(masked_underflow_exact_no_ue)
{
    struct x87 x;
    init(&x, 0x037f);
    push(&x, X(0, 0x3fff - 10, J));
    push(&x, X(0, 1, J));
    x87_arith_st(&x, X87_FMUL, 0, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 0, J >> 10)));
    ck_assert_uint_eq(x.sw & X87_EXC, 0);
}
END_TEST

START_TEST(unmasked_overflow_on_store_leaves_memory)
{
    struct x87 x;
    uint8_t m[4] = {1, 2, 3, 4};
    init(&x, 0x037f & ~X87_OE);
    push(&x, X(0, 0x7000, J));
    ck_assert(!x87_fst_mem(&x, X87_M32FP, m, true, false));
    ck_assert_uint_eq(m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24, 0x04030201);
    ck_assert_int_eq(x87_top(&x), 7); /* not popped */
    ck_assert(x.sw & X87_OE);
    ck_assert(x87_pending(&x));
}
END_TEST

START_TEST(unmasked_underflow_on_store_leaves_memory)
{
    struct x87 x;
    uint8_t m[8];
    memset(m, 0x5a, 8);
    init(&x, 0x037f & ~X87_UE);
    push(&x, X(0, 0x3fff - 1030, J));
    ck_assert(!x87_fst_mem(&x, X87_M64FP, m, true, false));
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(m[i], 0x5a);
    ck_assert_int_eq(x87_top(&x), 7);
    ck_assert(x.sw & X87_UE);
}
END_TEST

START_TEST(unmasked_invalid_leaves_destination)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_IE);
    push(&x, X(0, 0x7fff, J | 1)); /* SNaN */
    push(&x, X(0, 0x3fff, J));
    x87_arith_st(&x, X87_FADD, 1, 0, true); /* FADDP ST1, ST0 */
    ck_assert(same(x87_st(&x, 1), X(0, 0x7fff, J | 1)));
    ck_assert_int_eq(x87_top(&x), 6); /* no pop */
    ck_assert_uint_eq(x.sw & (X87_EXC | X87_ES), X87_IE | X87_ES);
}
END_TEST

START_TEST(unmasked_zero_divide_leaves_destination)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_ZE);
    push(&x, X(0, 0, 0));
    push(&x, X(0, 0x3fff, J));
    x87_arith_st(&x, X87_FDIV, 0, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 0x3fff, J)));
    ck_assert_uint_eq(x.sw & X87_EXC, X87_ZE);
    ck_assert(x87_pending(&x));
}
END_TEST

START_TEST(unmasked_denormal_aborts_before_rounding)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_DE);
    push(&x, X(0, 0, 12345));
    push(&x, X(0, 0x3fff, J | 1));
    x87_arith_st(&x, X87_FADD, 0, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 0x3fff, J | 1)));
    ck_assert_uint_eq(x.sw & X87_EXC, X87_DE); /* no PE: the add never ran */
}
END_TEST

START_TEST(unmasked_precision_still_stores)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_PE);
    push(&x, X(0, 0x3fff, J | 1));
    push(&x, X(0, 0x3fff + 70, J));
    x87_arith_st(&x, X87_FADD, 0, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 0x3fff + 70, J)));
    ck_assert_uint_eq(x.sw & X87_EXC, X87_PE);
    ck_assert(x87_pending(&x));
}
END_TEST

START_TEST(stack_overflow_unmasked_changes_nothing)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_IE);
    for (int i = 0; i < 8; i++) push(&x, X(0, 0x3fff, J));
    uint16_t tw = x.tw;
    x87_fld_const(&x, X87_FLDPI);
    ck_assert_int_eq(x87_top(&x), 0);
    ck_assert_uint_eq(x.tw, tw);
    ck_assert_uint_eq(x.sw & (X87_IE | X87_SF | X87_C1 | X87_ES), X87_IE | X87_SF | X87_C1 | X87_ES);
}
END_TEST

START_TEST(stack_overflow_masked_pushes_indefinite)
{
    struct x87 x;
    init(&x, 0x037f);
    for (int i = 0; i < 8; i++) push(&x, X(0, 0x3fff, J));
    x87_fld_const(&x, X87_FLD1);
    ck_assert(same(x87_st(&x, 0), fx80_indefinite()));
    ck_assert_int_eq(x87_top(&x), 7);
    ck_assert_uint_eq(x.sw & (X87_IE | X87_SF | X87_C1 | X87_ES), X87_IE | X87_SF | X87_C1);
}
END_TEST

START_TEST(stack_underflow_unmasked)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_IE);
    push(&x, X(0, 0x3fff, J));
    x87_arith_st(&x, X87_FADD, 1, 0, true); /* ST1 empty */
    ck_assert_int_eq(x87_top(&x), 7);
    ck_assert_int_eq(x87_tag(&x, 1), X87_TAG_EMPTY);
    ck_assert_uint_eq(x.sw & (X87_IE | X87_SF | X87_C1), X87_IE | X87_SF);
}
END_TEST

START_TEST(fldcw_unmasking_pending_flag_sets_es)
{
    struct x87 x;
    init(&x, 0x037f);
    push(&x, X(0, 0, 0));
    push(&x, X(0, 0x3fff, J));
    x87_arith_st(&x, X87_FDIV, 0, 1, false);
    ck_assert(!x87_pending(&x));
    x87_fldcw(&x, 0x037f & ~X87_ZE);
    ck_assert(x87_pending(&x));
    ck_assert_uint_eq(x87_fstcw(&x), 0x037b);
}
END_TEST

START_TEST(fscale_massive_overflow_unmasked_gives_inf)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_OE);
    push(&x, fx80_from_i64(100000));
    push(&x, X(0, 0x3fff, J));
    x87_fscale(&x);
    ck_assert(same(x87_st(&x, 0), X(0, 0x7fff, J)));
    ck_assert(x.sw & X87_OE);
}
END_TEST

START_TEST(fxtract_zero_unmasked_ze)
{
    struct x87 x;
    init(&x, 0x037f & ~X87_ZE);
    push(&x, X(1, 0, 0));
    x87_fxtract(&x);
    ck_assert_int_eq(x87_top(&x), 7);
    ck_assert(same(x87_st(&x, 0), X(1, 0, 0)));
    ck_assert(x.sw & X87_ZE);
}
END_TEST

START_TEST(fxam_classes)
{
    static const struct {
        floatx80 v;
        uint16_t cc;
    } t[] = {
        {{0x4000000000000000ull, 0x3fff}, 0},                     /* unnormal */
        {{0xc000000000000000ull, 0x7fff}, X87_C0},                /* QNaN */
        {{0x8000000000000000ull, 0x3fff}, X87_C2},                /* normal */
        {{0x8000000000000000ull, 0xffff}, X87_C2 | X87_C0 | X87_C1}, /* -inf */
        {{0, 0x8000}, X87_C3 | X87_C1},                           /* -0 */
        {{1, 0}, X87_C3 | X87_C2},                                /* denormal */
        {{0x8000000000000001ull, 0}, X87_C3 | X87_C2},            /* pseudo-denormal */
        {{0, 0x7fff}, 0},                                         /* pseudo-infinity */
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct x87 x;
        init(&x, 0x037f);
        push(&x, t[i].v);
        x87_fxam(&x);
        ck_assert_uint_eq(x.sw & (X87_C0 | X87_C1 | X87_C2 | X87_C3), t[i].cc);
    }
    struct x87 x;
    init(&x, 0x037f);
    x87_fxam(&x); /* empty */
    ck_assert_uint_eq(x.sw & (X87_C0 | X87_C2 | X87_C3), X87_C3 | X87_C0);
}
END_TEST

START_TEST(fcomi_and_fcmov)
{
    struct x87 x;
    init(&x, 0x037f);
    push(&x, X(0, 0x4000, J)); /* 2 */
    push(&x, X(0, 0x3fff, J)); /* 1 */
    ck_assert_uint_eq(x87_fcomi(&x, 1, false, false), X87_EFL_CF);
    x87_fcmov(&x, 1, false);
    ck_assert(same(x87_st(&x, 0), X(0, 0x3fff, J)));
    x87_fcmov(&x, 1, true);
    ck_assert(same(x87_st(&x, 0), X(0, 0x4000, J)));
    ck_assert_uint_eq(x87_fcomi(&x, 1, false, true), X87_EFL_ZF);
    ck_assert_int_eq(x87_top(&x), 7);
    push(&x, X(0, 0x7fff, 0xc000000000000000ull));
    ck_assert_uint_eq(x87_fcomi(&x, 1, true, false), X87_EFL_ZF | X87_EFL_PF | X87_EFL_CF);
    ck_assert_uint_eq(x.sw & X87_IE, 0); /* FUCOMI: quiet NaN is not invalid */
    ck_assert_uint_eq(x87_fcomi(&x, 1, false, false), X87_EFL_ZF | X87_EFL_PF | X87_EFL_CF);
    ck_assert_uint_eq(x.sw & X87_IE, X87_IE);
}
END_TEST

START_TEST(constants_follow_rc)
{
    struct x87 x;
    init(&x, 0x037f);
    x87_fld_const(&x, X87_FLDPI);
    ck_assert(same(x87_st(&x, 0), X(0, 0x4000, 0xc90fdaa22168c235ull)));
    init(&x, 0x037f | X87_RC_DOWN << X87_CW_RC_SHIFT);
    x87_fld_const(&x, X87_FLDPI);
    ck_assert(same(x87_st(&x, 0), X(0, 0x4000, 0xc90fdaa22168c234ull)));
    ck_assert_uint_eq(x.sw & X87_EXC, 0);
}
END_TEST

START_TEST(fprem_partial_then_complete)
{
    /* 2^200 rem 3: C2 set until the exponent difference is below 64 */
    struct x87 x;
    init(&x, 0x037f);
    push(&x, fx80_from_i64(3));
    push(&x, X(0, 0x3fff + 200, J));
    int rounds = 0;
    do {
        x87_fprem(&x, false);
        rounds++;
    } while ((x.sw & X87_C2) && rounds < 10);
    ck_assert_int_gt(rounds, 1);
    ck_assert(!(x.sw & X87_C2));
    /* 2^200 mod 3 = 1 (2^even = 1 mod 3) */
    ck_assert(same(x87_st(&x, 0), X(0, 0x3fff, J)));
}
END_TEST

START_TEST(bcd_roundtrip_and_range)
{
    static const uint8_t in[10] = {0x89, 0x67, 0x45, 0x23, 0x01, 0x99, 0, 0, 0, 0x80};
    uint8_t out[10];
    struct x87 x;
    init(&x, 0x037f);
    x87_fld_mem(&x, X87_M80BCD, in);
    ck_assert(same(x87_st(&x, 0), fx80_from_i64(-990123456789ll)));
    ck_assert(x87_fst_mem(&x, X87_M80BCD, out, true, false));
    ck_assert_mem_eq(in, out, 10);
    push(&x, fx80_from_i64(1000000000000000000ll));
    ck_assert(x87_fst_mem(&x, X87_M80BCD, out, true, false));
    static const uint8_t indef[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff};
    ck_assert_mem_eq(out, indef, 10);
    ck_assert(x.sw & X87_IE);
}
END_TEST

START_TEST(env_images_roundtrip)
{
    for (int op32 = 0; op32 < 2; op32++) {
        for (int pm = 0; pm < 2; pm++) {
            struct x87 x, y;
            uint8_t buf[108];
            init(&x, 0x0b7f);
            push(&x, X(0, 0x3fff, J));
            push(&x, X(1, 0, 0));
            push(&x, X(0, 0x7fff, J));
            x87_note_last(&x, 0x5d9, 0x1234, pm ? 0x89abcdef : 0x000abcde, 0x4321,
                          pm ? 0x76543210 : 0x000f1234);
            if (!op32 && pm) { /* 16-bit protected images keep 16-bit offsets */
                x.fip &= 0xffff;
                x.fdp &= 0xffff;
            }
            x.sw |= X87_C3 | X87_PE;
            struct x87 before = x;
            int n = x87_fsave(&x, buf, op32, pm);
            ck_assert_int_eq(n, op32 ? 108 : 94);
            ck_assert_uint_eq(x.tw, 0xffff); /* FSAVE reinitializes */
            x87_reset(&y);
            x87_frstor(&y, buf, op32, pm);
            ck_assert_uint_eq(y.cw, before.cw);
            ck_assert_uint_eq(y.sw, before.sw);
            ck_assert_uint_eq(y.tw, before.tw);
            ck_assert_uint_eq(y.fip, before.fip);
            ck_assert_uint_eq(y.fdp, before.fdp);
            if (pm) {
                ck_assert_uint_eq(y.fcs, before.fcs);
                ck_assert_uint_eq(y.fds, before.fds);
            }
            if (!pm || op32) ck_assert_uint_eq(y.fop, before.fop);
            for (int i = 0; i < 3; i++) ck_assert(same(x87_st(&y, i), x87_st(&before, i)));
        }
    }
}
END_TEST

START_TEST(fstenv_layout_32bit_protected)
{
    struct x87 x;
    uint8_t b[28];
    init(&x, 0x037f);
    push(&x, X(0, 0x3fff, J)); /* R7 valid */
    push(&x, X(0, 0, 0));      /* R6 zero */
    x87_note_last(&x, 0x1e8, 0x0008, 0x00401000, 0x0010, 0x00402000);
    ck_assert_int_eq(x87_fstenv(&x, b, true, true), 28);
    ck_assert_uint_eq(b[0] | b[1] << 8, 0x037f);
    ck_assert_uint_eq(b[4] | b[5] << 8, 0x3000); /* TOP = 6 */
    ck_assert_uint_eq(b[8] | b[9] << 8, 0x1fff); /* R7=00 R6=01 */
    ck_assert_uint_eq(b[12] | b[13] << 8 | b[14] << 16 | (uint32_t)b[15] << 24, 0x00401000);
    ck_assert_uint_eq(b[16] | b[17] << 8, 0x0008);
    ck_assert_uint_eq(b[18] | b[19] << 8, 0x1e8);
    ck_assert_uint_eq(b[24] | b[25] << 8, 0x0010);
    ck_assert_uint_eq(x87_fstcw(&x), 0x037f); /* already all masked */
}
END_TEST

START_TEST(fstenv_layout_16bit_real)
{
    struct x87 x;
    uint8_t b[14];
    init(&x, 0x037f);
    x87_note_last(&x, 0x123, 0, 0x000abcde, 0, 0x00054321);
    ck_assert_int_eq(x87_fstenv(&x, b, false, false), 14);
    ck_assert_uint_eq(b[6] | b[7] << 8, 0xbcde);
    ck_assert_uint_eq(b[8] | b[9] << 8, 0xa000 | 0x123);
    ck_assert_uint_eq(b[10] | b[11] << 8, 0x4321);
    ck_assert_uint_eq(b[12] | b[13] << 8, 0x5000);
}
END_TEST

START_TEST(fxsave_roundtrip)
{
    struct x87 x, y;
    uint8_t b[512];
    init(&x, 0x027f);
    push(&x, X(0, 0x3fff, J));
    push(&x, X(1, 0x4000, J));
    x87_note_last(&x, 0x7ff, 0x23, 0x1000, 0x2b, 0x2000);
    x.mxcsr = 0x1fa0;
    memset(b, 0xee, sizeof b);
    x87_fxsave(&x, b);
    ck_assert_uint_eq(b[4], 0xc0); /* abridged tags: R6, R7 */
    ck_assert_uint_eq(b[24] | b[25] << 8, 0x1fa0);
    ck_assert_uint_eq(b[160], 0xee); /* XMM area untouched */
    x87_reset(&y);
    ck_assert(x87_fxrstor(&y, b));
    ck_assert_uint_eq(y.tw, x.tw);
    ck_assert_uint_eq(y.sw, x.sw);
    ck_assert_uint_eq(y.cw, x.cw);
    ck_assert_uint_eq(y.mxcsr, 0x1fa0);
    ck_assert(same(x87_st(&y, 0), x87_st(&x, 0)));
    b[26] = 0x01; /* reserved MXCSR bit 16 */
    ck_assert(!x87_fxrstor(&y, b));
}
END_TEST

START_TEST(fst_st_and_fxch_and_ffree)
{
    struct x87 x;
    init(&x, 0x037f);
    push(&x, X(0, 0x4000, J));
    push(&x, X(0, 0x3fff, J));
    x87_fxch(&x, 1);
    ck_assert(same(x87_st(&x, 0), X(0, 0x4000, J)));
    x87_fst_st(&x, 1, true);
    ck_assert_int_eq(x87_top(&x), 7);
    ck_assert(same(x87_st(&x, 0), X(0, 0x4000, J)));
    x87_ffree(&x, 0, false);
    ck_assert_int_eq(x87_tag(&x, 0), X87_TAG_EMPTY);
    x87_fchs(&x); /* empty: masked underflow writes the indefinite */
    ck_assert(same(x87_st(&x, 0), fx80_indefinite()));
}
END_TEST

START_TEST(fisttp_truncates)
{
    struct x87 x;
    uint8_t m[4];
    init(&x, 0x037f);
    push(&x, X(1, 0x4000, 0xf000000000000000ull)); /* -3.75 */
    ck_assert(x87_fst_mem(&x, X87_M32INT, m, true, true));
    ck_assert_int_eq((int32_t)(m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24), -3);
    ck_assert(x.sw & X87_PE);
}
END_TEST

/* Random instruction streams with random control words (exceptions unmasked
 * too) and random images: the state invariants must hold after every step,
 * and the sanitizers must stay quiet. */
static void check_invariants(const struct x87 *x)
{
    for (int p = 0; p < 8; p++) {
        int t = (x->tw >> (2 * p)) & 3;
        if (t != X87_TAG_EMPTY) ck_assert_int_eq(t, x87_tag_of(x->st[p]));
    }
    /* ES/B track unmasked flags, except that FSTENV masks everything while
     * leaving SW (and so a pending ES) alone */
    bool unmasked = (x->sw & ~x->cw & X87_EXC) != 0;
    if (unmasked) ck_assert(x->sw & X87_ES);
    if (x->sw & X87_ES) ck_assert(x->sw & X87_EXC);
    ck_assert_int_eq(!!(x->sw & X87_B), !!(x->sw & X87_ES));
    ck_assert_uint_eq(x->cw & 0xe0c0, 0x0040);
}

START_TEST(random_streams_keep_invariants)
{
    struct x87 x;
    uint8_t m[512];
    x87_reset(&x);
    for (int step = 0; step < 200000; step++) {
        floatx80 v = gen_x80();
        put80(m, v);
        for (int k = 10; k < 16; k++) m[k] = (uint8_t)gen_rnd();
        int i = (int)gen_below(8);
        enum x87_mfmt f = (enum x87_mfmt)gen_below(7);
        static const enum x87_arith ops[] = {X87_FADD, X87_FMUL, X87_FSUB, X87_FSUBR, X87_FDIV, X87_FDIVR};
        switch (gen_below(40)) {
        case 0: x87_fldcw(&x, (uint16_t)gen_rnd()); break;
        case 1: x87_fclex(&x); break;
        case 2: case 3: case 4: x87_fld_mem(&x, f, m); break;
        case 5: case 6: x87_fst_mem(&x, f, m, gen_below(2), gen_below(2)); break;
        case 7: x87_arith_st(&x, ops[gen_below(6)], (int)gen_below(2) ? i : 0, i, gen_below(2)); break;
        case 8: if (f != X87_M80FP && f != X87_M64INT && f != X87_M80BCD)
                    x87_arith_mem(&x, ops[gen_below(6)], f, m);
                break;
        case 9: x87_fsqrt(&x); break;
        case 10: x87_fprem(&x, gen_below(2)); break;
        case 11: x87_frndint(&x); break;
        case 12: x87_fscale(&x); break;
        case 13: x87_fxtract(&x); break;
        case 14: x87_fsin(&x); break;
        case 15: x87_fcos(&x); break;
        case 16: x87_fsincos(&x); break;
        case 17: x87_fptan(&x); break;
        case 18: x87_fpatan(&x); break;
        case 19: x87_f2xm1(&x); break;
        case 20: x87_fyl2x(&x); break;
        case 21: x87_fyl2xp1(&x); break;
        case 22: x87_fcom_st(&x, i, gen_below(2), (int)gen_below(3)); break;
        case 23: x87_fcomi(&x, i, gen_below(2), gen_below(2)); break;
        case 24: x87_ftst(&x); x87_fxam(&x); break;
        case 25: x87_fxch(&x, i); break;
        case 26: x87_ffree(&x, i, gen_below(2)); break;
        case 27: x87_fincstp(&x); break;
        case 28: x87_fdecstp(&x); break;
        case 29: x87_fcmov(&x, i, gen_below(2)); break;
        case 30: x87_fld_const(&x, (enum x87_const)gen_below(7)); break;
        case 31: x87_fld_st(&x, i); break;
        case 32: x87_fst_st(&x, i, gen_below(2)); break;
        case 33: x87_fchs(&x); x87_fabs(&x); break;
        case 34: { /* random environment / save images */
            for (int k = 0; k < 512; k++) m[k] = (uint8_t)gen_rnd();
            bool op32 = gen_below(2), pm = gen_below(2);
            switch (gen_below(3)) {
            case 0: x87_fldenv(&x, m, op32, pm); break;
            case 1: x87_frstor(&x, m, op32, pm); break;
            default: m[26] = m[27] = 0; m[25] &= 0xff; x87_fxrstor(&x, m); break;
            }
            break;
        }
        case 35: x87_fsave(&x, m, gen_below(2), gen_below(2)); break;
        case 36: x87_fstenv(&x, m, gen_below(2), gen_below(2)); break;
        case 37: x87_fxsave(&x, m); break;
        case 38: x87_fcom_mem(&x, f == X87_M80FP ? X87_M64FP : f, m, (int)gen_below(2)); break;
        default: x87_finit(&x); break;
        }
        check_invariants(&x);
    }
}
END_TEST

Suite *x87_unit_suite(void);
Suite *x87_unit_suite(void)
{
    Suite *s = suite_create("x87_unit");
    TCase *tc = tcase_create("x87");
    tcase_add_test(tc, finit_state);
    tcase_add_test(tc, unmasked_overflow_register_biased);
    tcase_add_test(tc, unmasked_underflow_register_biased);
    tcase_add_test(tc, masked_underflow_exact_no_ue);
    tcase_add_test(tc, unmasked_overflow_on_store_leaves_memory);
    tcase_add_test(tc, unmasked_underflow_on_store_leaves_memory);
    tcase_add_test(tc, unmasked_invalid_leaves_destination);
    tcase_add_test(tc, unmasked_zero_divide_leaves_destination);
    tcase_add_test(tc, unmasked_denormal_aborts_before_rounding);
    tcase_add_test(tc, unmasked_precision_still_stores);
    tcase_add_test(tc, stack_overflow_unmasked_changes_nothing);
    tcase_add_test(tc, stack_overflow_masked_pushes_indefinite);
    tcase_add_test(tc, stack_underflow_unmasked);
    tcase_add_test(tc, fldcw_unmasking_pending_flag_sets_es);
    tcase_add_test(tc, fscale_massive_overflow_unmasked_gives_inf);
    tcase_add_test(tc, fxtract_zero_unmasked_ze);
    tcase_add_test(tc, fxam_classes);
    tcase_add_test(tc, fcomi_and_fcmov);
    tcase_add_test(tc, constants_follow_rc);
    tcase_add_test(tc, fprem_partial_then_complete);
    tcase_add_test(tc, bcd_roundtrip_and_range);
    tcase_add_test(tc, env_images_roundtrip);
    tcase_add_test(tc, fstenv_layout_32bit_protected);
    tcase_add_test(tc, fstenv_layout_16bit_real);
    tcase_add_test(tc, fxsave_roundtrip);
    tcase_add_test(tc, fst_st_and_fxch_and_ffree);
    tcase_add_test(tc, fisttp_truncates);
    tcase_add_test(tc, random_streams_keep_invariants);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

/* Each test file is its own runner unless the build links several suites
 * into one binary (then define TRAPEZE_TEST_NO_MAIN and call the suite). */
#ifndef TRAPEZE_TEST_NO_MAIN
int main(void)
{
    SRunner *sr = srunner_create(x87_unit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
