/* test_x87_diff.c - differential test of the software x87 against the host's
 * real x87 (x86-64 hosts only).
 *
 * Each case loads the same state into both FPUs (FLDENV of a 28-byte image
 * carrying the control word and random C0-C3 bits, then two FLD m80 of the
 * operands, ST(1)=b and ST(0)=a), runs one instruction, and compares the
 * FNSAVE images bit for bit: control word, status word (condition codes,
 * exception flags, SF, ES, TOP), full tag word and every non-empty register,
 * plus any memory operand the instruction wrote and, for FCOMI, EFLAGS.
 * All exceptions are masked on the host.  Cases cycle over the 4 rounding
 * modes x 3 precision controls.
 *
 * Environment: X87_DIFF_N (cases per instruction, default 100000),
 * X87_DIFF_ONLY (run only the instruction with that name), X87_DIFF_SEED
 * (vary the operands).
 * Prints "x87 diff: NAME matched/total" per instruction.
 */
#include <check.h>
#include <cpuid.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/x87.h"
#include "test_x87_gen.h"

#if !defined(__x86_64__)
/* No host x87 to act as the oracle: an empty suite. */
Suite *x87_diff_suite(void);
Suite *x87_diff_suite(void) { return suite_create("x87_diff (skipped: needs an x86-64 host)"); }
#else

typedef void (*host_fn)(const uint8_t *env, const void *a, const void *b, uint8_t *mem,
                        uint8_t *save);
typedef void (*emu_fn)(struct x87 *x, uint8_t *mem);

/* Host side: one asm block per instruction; %3 is the memory operand.
 * LOADS2 is the normal prologue; the stack-fault cases load 0, 1 or 8 values. */
/* Every case first fills the physical registers (a in even, b in odd ones)
 * so that stale contents of empty registers (FXAM's C1) agree. */
#define FILL "fninit\n\tfldt (%2)\n\tfldt (%1)\n\tfldt (%2)\n\tfldt (%1)\n\tfldt (%2)\n\t" \
             "fldt (%1)\n\tfldt (%2)\n\tfldt (%1)\n\t"
#define LOADS0 ""
#define LOADS1 "fldt (%1)\n\t"
#define LOADS2 "fldt (%2)\n\tfldt (%1)\n\t"
#define LOADS8 LOADS2 LOADS2 LOADS2 LOADS2
#define HOSTL(name, loads, insn)                                                                  \
    static void host_##name(const uint8_t *env, const void *a, const void *b, uint8_t *mem,     \
                            uint8_t *save)                                                        \
    {                                                                                             \
        __asm__ volatile(FILL "fldenv (%0)\n\t" loads insn "\n\tfnsave (%4)"                           \
                         :                                                                        \
                         : "r"(env), "r"(a), "r"(b), "r"(mem), "r"(save)                          \
                         : "memory", "cc");                                                       \
    }
#define HOST(name, insn) HOSTL(name, LOADS2, insn)
#define DEF(name, insn, stmt)                                                                     \
    HOST(name, insn)                                                                              \
    static void emu_##name(struct x87 *x, uint8_t *m)                                             \
    {                                                                                             \
        (void)m;                                                                                  \
        stmt;                                                                                     \
    }

/* Register forms are written as bytes (Intel encodings) to sidestep the
 * AT&T fsub/fsubr operand swap. */
DEF(fadd, ".byte 0xd8,0xc1", x87_arith_st(x, X87_FADD, 0, 1, false))
DEF(fsub, ".byte 0xd8,0xe1", x87_arith_st(x, X87_FSUB, 0, 1, false))
DEF(fsubr, ".byte 0xd8,0xe9", x87_arith_st(x, X87_FSUBR, 0, 1, false))
DEF(fmul, ".byte 0xd8,0xc9", x87_arith_st(x, X87_FMUL, 0, 1, false))
DEF(fdiv, ".byte 0xd8,0xf1", x87_arith_st(x, X87_FDIV, 0, 1, false))
DEF(fdivr, ".byte 0xd8,0xf9", x87_arith_st(x, X87_FDIVR, 0, 1, false))
DEF(fsubp, ".byte 0xde,0xe9", x87_arith_st(x, X87_FSUB, 1, 0, true))   /* ST1 = ST1 - ST0 */
DEF(fdivrp, ".byte 0xde,0xf1", x87_arith_st(x, X87_FDIVR, 1, 0, true)) /* ST1 = ST0 / ST1 */
/* Memory forms: every operation with m32fp, m64fp, m16int and m32int. */
#define DEFM(op, OP)                                                                               \
    DEF(f##op##_m32, "f" #op "s (%3)", x87_arith_mem(x, X87_##OP, X87_M32FP, m))                   \
    DEF(f##op##_m64, "f" #op "l (%3)", x87_arith_mem(x, X87_##OP, X87_M64FP, m))                   \
    DEF(fi##op##_m16, "fi" #op "s (%3)", x87_arith_mem(x, X87_##OP, X87_M16INT, m))                \
    DEF(fi##op##_m32, "fi" #op "l (%3)", x87_arith_mem(x, X87_##OP, X87_M32INT, m))
DEFM(add, FADD)
DEFM(sub, FSUB)
DEFM(subr, FSUBR)
DEFM(mul, FMUL)
DEFM(div, FDIV)
DEFM(divr, FDIVR)
DEF(fsqrt, "fsqrt", x87_fsqrt(x))
DEF(fprem, "fprem", x87_fprem(x, false))
DEF(fprem1, "fprem1", x87_fprem(x, true))
DEF(frndint, "frndint", x87_frndint(x))
DEF(fscale, "fscale", x87_fscale(x))
DEF(fxtract, "fxtract", x87_fxtract(x))
DEF(fcom, ".byte 0xd8,0xd1", x87_fcom_st(x, 1, false, 0))
DEF(fcompp, ".byte 0xde,0xd9", x87_fcom_st(x, 1, false, 2))
DEF(fucomp, ".byte 0xdd,0xe9", x87_fcom_st(x, 1, true, 1))
DEF(fcom_m32, "fcoms (%3)", x87_fcom_mem(x, X87_M32FP, m, 0))
DEF(fcomp_m64, "fcompl (%3)", x87_fcom_mem(x, X87_M64FP, m, 1))
DEF(ficom_m16, "ficoms (%3)", x87_fcom_mem(x, X87_M16INT, m, 0))
DEF(ftst, "ftst", x87_ftst(x))
DEF(fxam, "fxam", x87_fxam(x))
DEF(fchs, "fchs", x87_fchs(x))
DEF(fabs, "fabs", x87_fabs(x))
DEF(fxch, ".byte 0xd9,0xc9", x87_fxch(x, 1))
DEF(fild_m16, "filds (%3)", x87_fld_mem(x, X87_M16INT, m))
DEF(fild_m32, "fildl (%3)", x87_fld_mem(x, X87_M32INT, m))
DEF(fild_m64, "fildll (%3)", x87_fld_mem(x, X87_M64INT, m))
DEF(fist_m16, "fists (%3)", x87_fst_mem(x, X87_M16INT, m, false, false))
DEF(fistp_m32, "fistpl (%3)", x87_fst_mem(x, X87_M32INT, m, true, false))
DEF(fistp_m64, "fistpll (%3)", x87_fst_mem(x, X87_M64INT, m, true, false))
DEF(fld_m32, "flds (%3)", x87_fld_mem(x, X87_M32FP, m))
DEF(fld_m64, "fldl (%3)", x87_fld_mem(x, X87_M64FP, m))
DEF(fld_m80, "fldt (%3)", x87_fld_mem(x, X87_M80FP, m))
DEF(fst_m32, "fsts (%3)", x87_fst_mem(x, X87_M32FP, m, false, false))
DEF(fstp_m64, "fstpl (%3)", x87_fst_mem(x, X87_M64FP, m, true, false))
DEF(fstp_m80, "fstpt (%3)", x87_fst_mem(x, X87_M80FP, m, true, false))
DEF(fbld, "fbld (%3)", x87_fld_mem(x, X87_M80BCD, m))
DEF(fbstp, "fbstp (%3)", x87_fst_mem(x, X87_M80BCD, m, true, false))
DEF(fld1, "fld1", x87_fld_const(x, X87_FLD1))
DEF(fldl2t, "fldl2t", x87_fld_const(x, X87_FLDL2T))
DEF(fldl2e, "fldl2e", x87_fld_const(x, X87_FLDL2E))
DEF(fldpi, "fldpi", x87_fld_const(x, X87_FLDPI))
DEF(fldlg2, "fldlg2", x87_fld_const(x, X87_FLDLG2))
DEF(fldln2, "fldln2", x87_fld_const(x, X87_FLDLN2))
DEF(fldz, "fldz", x87_fld_const(x, X87_FLDZ))
DEF(fsin, "fsin", x87_fsin(x))
DEF(fcos, "fcos", x87_fcos(x))
DEF(fsincos, "fsincos", x87_fsincos(x))
DEF(fptan, "fptan", x87_fptan(x))
DEF(fpatan, "fpatan", x87_fpatan(x))
DEF(f2xm1, "f2xm1", x87_f2xm1(x))
DEF(fyl2x, "fyl2x", x87_fyl2x(x))
DEF(fyl2xp1, "fyl2xp1", x87_fyl2xp1(x))

/* Stack faults: the name's suffix gives the depth loaded before the instruction. */
#define DEFL(name, loads, insn, stmt)                                                             \
    HOSTL(name, loads, insn)                                                                      \
    static void emu_##name(struct x87 *x, uint8_t *m)                                             \
    {                                                                                             \
        (void)m;                                                                                  \
        stmt;                                                                                     \
    }
DEFL(fadd_d1, LOADS1, ".byte 0xd8,0xc1", x87_arith_st(x, X87_FADD, 0, 1, false))
DEFL(fsubp_d1, LOADS1, ".byte 0xde,0xe9", x87_arith_st(x, X87_FSUB, 1, 0, true))
DEFL(fmul_m64_d0, LOADS0, "fmull (%3)", x87_arith_mem(x, X87_FMUL, X87_M64FP, m))
DEFL(fsqrt_d0, LOADS0, "fsqrt", x87_fsqrt(x))
DEFL(fchs_d0, LOADS0, "fchs", x87_fchs(x))
DEFL(fxam_d0, LOADS0, "fxam", x87_fxam(x))
DEFL(fst_m32_d0, LOADS0, "fsts (%3)", x87_fst_mem(x, X87_M32FP, m, false, false))
DEFL(fstp_m64_d0, LOADS0, "fstpl (%3)", x87_fst_mem(x, X87_M64FP, m, true, false))
DEFL(fstp_m80_d0, LOADS0, "fstpt (%3)", x87_fst_mem(x, X87_M80FP, m, true, false))
DEFL(fistp_m16_d0, LOADS0, "fistps (%3)", x87_fst_mem(x, X87_M16INT, m, true, false))
DEFL(fistp_m64_d0, LOADS0, "fistpll (%3)", x87_fst_mem(x, X87_M64INT, m, true, false))
DEFL(fbstp_d0, LOADS0, "fbstp (%3)", x87_fst_mem(x, X87_M80BCD, m, true, false))
DEFL(fcom_d1, LOADS1, ".byte 0xd8,0xd1", x87_fcom_st(x, 1, false, 0))
DEFL(fcompp_d1, LOADS1, ".byte 0xde,0xd9", x87_fcom_st(x, 1, false, 2))
DEFL(ftst_d0, LOADS0, "ftst", x87_ftst(x))
DEFL(fxch_d1, LOADS1, ".byte 0xd9,0xc9", x87_fxch(x, 1))
DEFL(fprem_d1, LOADS1, "fprem", x87_fprem(x, false))
DEFL(fscale_d1, LOADS1, "fscale", x87_fscale(x))
DEFL(fpatan_d1, LOADS1, "fpatan", x87_fpatan(x))
DEFL(fyl2x_d1, LOADS1, "fyl2x", x87_fyl2x(x))
DEFL(fsin_d0, LOADS0, "fsin", x87_fsin(x))
DEFL(fptan_d0, LOADS0, "fptan", x87_fptan(x))
DEFL(fsincos_d0, LOADS0, "fsincos", x87_fsincos(x))
DEFL(fxtract_d0, LOADS0, "fxtract", x87_fxtract(x))
DEFL(fld_st1_d1, LOADS1, ".byte 0xd9,0xc1", x87_fld_st(x, 1))
DEFL(fst_st1_d1, LOADS1, ".byte 0xdd,0xd1", x87_fst_st(x, 1, false))
DEFL(fld_m32_d8, LOADS8, "flds (%3)", x87_fld_mem(x, X87_M32FP, m))
DEFL(fild_m16_d8, LOADS8, "filds (%3)", x87_fld_mem(x, X87_M16INT, m))
DEFL(fld_m80_d8, LOADS8, "fldt (%3)", x87_fld_mem(x, X87_M80FP, m))
DEFL(fldpi_d8, LOADS8, "fldpi", x87_fld_const(x, X87_FLDPI))
DEFL(fld_st3_d8, LOADS8, ".byte 0xd9,0xc3", x87_fld_st(x, 3))
DEFL(fxtract_d8, LOADS8, "fxtract", x87_fxtract(x))
DEFL(fptan_d8, LOADS8, "fptan", x87_fptan(x))
DEFL(fsincos_d8, LOADS8, "fsincos", x87_fsincos(x))
DEFL(fdecstp_d8, LOADS8, "fdecstp", x87_fdecstp(x))
DEFL(fincstp_d1, LOADS1, "fincstp", x87_fincstp(x))
DEFL(ffree_d2, LOADS2, ".byte 0xdd,0xc1", x87_ffree(x, 1, false))
DEFL(ffreep_d2, LOADS2, ".byte 0xdf,0xc0", x87_ffree(x, 0, true))

/* Control and environment: random control words (FLDCW keeps reserved bits
 * as the P6 does), the 16- and 32-bit FSTENV headers (FIP/FDP differ: only
 * FCW/FSW/FTW are compared) and the FXSAVE image. */
DEF(fldcw, "fldcw (%3)", x87_fldcw(x, (uint16_t)(m[0] | m[1] << 8)))
DEF(fnstenv16, ".byte 0x66\n\tfnstenv (%3)", x87_fstenv(x, m, false, true))
DEF(fnstenv32, "fnstenv (%3)", x87_fstenv(x, m, true, true))
DEF(fxsave, "fxsave (%3)", x87_fxsave(x, m))
/* Loading images: tags and ES are recomputed from the loaded contents. */
DEF(frstor, "frstor (%3)", x87_frstor(x, m, true, true))
DEF(fldenv, "fldenv (%3)", x87_fldenv(x, m, true, true))
DEF(fxrstor, "fxrstor (%3)", x87_fxrstor(x, m))
/* FISTTP (SSE3, not a P6 instruction, offered for the CPU's later use). */
DEF(fisttp_m16, "fisttps (%3)", x87_fst_mem(x, X87_M16INT, m, true, true))
DEF(fisttp_m64, "fisttpll (%3)", x87_fst_mem(x, X87_M64INT, m, true, true))
/* FCMOVB/FCMOVNE with CF/ZF from comparing the first memory byte with 0x80 */
DEF(fcmovb, "cmpb $0x80, (%3)\n\t.byte 0xda,0xc1", x87_fcmov(x, 1, m[0] < 0x80))
DEF(fcmovne, "cmpb $0x80, (%3)\n\t.byte 0xdb,0xc9", x87_fcmov(x, 1, m[0] != 0x80))
DEFL(fcmovb_d1, LOADS1, "cmpb $0x80, (%3)\n\t.byte 0xda,0xc1", x87_fcmov(x, 1, m[0] < 0x80))
DEF(fstp_st1, ".byte 0xdd,0xd9", x87_fst_st(x, 1, true))
DEF(fld_st1, ".byte 0xd9,0xc1", x87_fld_st(x, 1))
DEF(fxch_st3, ".byte 0xd9,0xcb", x87_fxch(x, 3))

/* FCOMI/FUCOMI also report ZF, PF, CF (in mem[0..2]). */
#define DEF_COMI(name, loads, bytes, quiet, pop_)                                                 \
    HOSTL(name, loads, ".byte " bytes "\n\tsetz (%3)\n\tsetp 1(%3)\n\tsetc 2(%3)")                  \
    static void emu_##name(struct x87 *x, uint8_t *m)                                             \
    {                                                                                             \
        uint32_t f = x87_fcomi(x, 1, quiet, pop_);                                                \
        m[0] = !!(f & X87_EFL_ZF);                                                                \
        m[1] = !!(f & X87_EFL_PF);                                                                \
        m[2] = !!(f & X87_EFL_CF);                                                                \
    }
DEF_COMI(fcomi, LOADS2, "0xdb,0xf1", false, false)
DEF_COMI(fucomip, LOADS2, "0xdf,0xe9", true, true)
DEF_COMI(fcomip_d1, LOADS1, "0xdf,0xf1", false, true)

/* --- operand generators ------------------------------------------------------ */

#define MEMBUF 512 /* room for an FXSAVE image */
#define OUT_FXSAVE (-1) /* compare FCW, FSW, FTW byte and the eight register slots */

enum memkind { M_NONE, M_F32, M_F64, M_I16, M_I32, M_I64, M_X80, M_BCD, M_SAVE, M_FXSAVE };

static void gen_mem(enum memkind k, uint8_t *m)
{
    uint64_t r = gen_rnd();
    memset(m, 0xa5, MEMBUF);
    switch (k) {
    case M_F32: {
        uint32_t v = (uint32_t)r;
        switch (gen_below(8)) {
        case 0: v &= 0x807fffff; break;                                  /* denormal / zero */
        case 1: v |= 0x7f800000; if (gen_below(3) == 0) v &= 0xff800000; break; /* NaN/inf */
        case 2: v = (v & 0x80ffffff) | 0x3f000000; break;                /* near 1 */
        default: break;
        }
        memcpy(m, &v, 4);
        break;
    }
    case M_F64: {
        switch (gen_below(8)) {
        case 0: r &= 0x800fffffffffffffull; break;
        case 1: r |= 0x7ff0000000000000ull; if (gen_below(3) == 0) r &= 0xfff0000000000000ull; break;
        case 2: r = (r & 0x800fffffffffffffull) | 0x3fe0000000000000ull; break;
        default: break;
        }
        memcpy(m, &r, 8);
        break;
    }
    case M_I16:
    case M_I32:
    case M_I64:
        if (gen_below(4) == 0) r = (uint64_t)(int64_t)(int8_t)r;
        if (gen_below(8) == 0) r = gen_below(2) ? 0 : 1ull << 63 >> (k == M_I16 ? 48 : k == M_I32 ? 32 : 0);
        memcpy(m, &r, 8);
        break;
    case M_X80: {
        floatx80 v = gen_x80();
        memcpy(m, &v.mant, 8);
        memcpy(m + 8, &v.sign_exp, 2);
        break;
    }
    case M_SAVE: /* FSAVE/FSTENV image (32-bit protected): random words, real registers */
    case M_FXSAVE:
        for (int i = 0; i < (k == M_SAVE ? 108 : 512); i++) m[i] = (uint8_t)gen_rnd();
        for (int i = 0; i < 8; i++) {
            floatx80 v = gen_x80();
            uint8_t *r = m + (k == M_SAVE ? 28 + 10 * i : 32 + 16 * i);
            memcpy(r, &v.mant, 8);
            memcpy(r + 8, &v.sign_exp, 2);
        }
        if (k == M_FXSAVE) { /* MXCSR must stay the process default */
            m[24] = 0x80;
            m[25] = 0x1f;
            m[26] = m[27] = 0;
        }
        break;
    case M_BCD: {
        int digits = (int)gen_below(19);
        memset(m, 0, 10);
        for (int i = 0; i < digits; i++) {
            unsigned d = gen_below(10);
            m[i / 2] |= (uint8_t)(d << (4 * (i & 1)));
        }
        m[9] = gen_below(2) ? 0x80 : 0;
        break;
    }
    default: break;
    }
}

enum opkind { O_PAIR, O_INT, O_SMALL, O_TRIG, O_F2XM1, O_LOG, O_LOGP1, O_REM };

/* Values near integers (FRNDINT/FIST/FBSTP): exponents from 2^-3 to 2^66. */
static floatx80 gen_intish(void)
{
    if (gen_below(8) == 0) return gen_x80();
    int e = 0x3fff - 3 + (int)gen_below(70);
    return fx80_make((int)gen_below(2), e, gen_mant());
}

static void gen_ops(enum opkind k, floatx80 *a, floatx80 *b)
{
    int s = (int)gen_below(2);
    switch (k) {
    case O_PAIR:
        *a = gen_x80();
        *b = gen_x80_pair(*a);
        if (gen_below(2)) { floatx80 t = *a; *a = *b; *b = t; }
        return;
    case O_INT: *a = gen_intish(); *b = gen_x80(); return;
    case O_SMALL: /* FSCALE: ST1 a small scale factor most of the time */
        *a = gen_x80();
        *b = gen_below(4) ? fx80_from_i64((int64_t)gen_below(40000) - 20000) : gen_x80();
        if (gen_below(4) == 0) b->mant |= gen_rnd() >> 20; /* fractional part */
        return;
    case O_REM:
        *a = gen_x80();
        *b = gen_x80_near(fx80_exp(*a) > 0 ? fx80_exp(*a) - (int)gen_below(130) : 0x3fff);
        return;
    case O_TRIG: /* mostly |x| < 2^8, some huge, some tiny */
        *b = gen_x80();
        switch (gen_below(8)) {
        case 0: *a = gen_x80(); return;
        case 7: *a = gen_near_pio2_multiple(); return;
        case 1: *a = fx80_make(s, 0x3fff + 20 + (int)gen_below(50), gen_mant()); return;
        default: *a = fx80_make(s, 0x3fff - 40 + (int)gen_below(48), gen_mant()); return;
        }
    case O_F2XM1: /* |x| <= 1 */
        *b = gen_x80();
        *a = gen_below(8) ? fx80_make(s, 0x3fff - 1 - (int)gen_below(70), gen_mant())
                          : gen_x80();
        return;
    case O_LOG:
        *a = gen_below(8) ? fx80_make(0, 0x3fff - 100 + (int)gen_below(200), gen_mant())
                          : gen_x80();
        *b = gen_below(8) ? fx80_make(s, 0x3fff - 10 + (int)gen_below(20), gen_mant()) : gen_x80();
        return;
    case O_LOGP1: /* |x| < 1 - sqrt(2)/2 */
        *a = gen_below(8) ? fx80_make(s, 0x3fff - 3 - (int)gen_below(70), gen_mant())
                          : gen_x80();
        *b = gen_below(8) ? fx80_make(s, 0x3fff - 10 + (int)gen_below(20), gen_mant()) : gen_x80();
        return;
    }
}

/* --- the comparison engine ------------------------------------------------------ */

struct dcase {
    const char *name;
    host_fn host;
    emu_fn emu;
    enum opkind ops;
    enum memkind mem; /* generated input operand kind */
    int outmem;       /* bytes of memory to compare after the instruction */
    int ulps;         /* 0: bit-exact; 1: transcendental tolerance (see docs/x87.md) */
    int depth;        /* values loaded before the instruction (2 normally) */
};

static void make_env(uint8_t env[28], uint16_t cw, uint16_t sw)
{
    memset(env, 0, 28);
    env[0] = (uint8_t)cw;
    env[1] = (uint8_t)(cw >> 8);
    env[4] = (uint8_t)sw;
    env[5] = (uint8_t)(sw >> 8);
    env[8] = env[9] = 0xff;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Distance in ulps between two 80-bit values of the same sign (huge if not). */
static uint64_t ulp_dist(const uint8_t *a, const uint8_t *b)
{
    uint64_t ma, mb;
    memcpy(&ma, a, 8);
    memcpy(&mb, b, 8);
    uint16_t ea = rd16(a + 8), eb = rd16(b + 8);
    if ((ea ^ eb) & 0x8000) return UINT64_MAX;
    /* order-preserving integer key for normals: exponent then significand */
    unsigned __int128 ka = ((unsigned __int128)(ea & 0x7fff) << 63) | (ma & 0x7fffffffffffffffull);
    unsigned __int128 kb = ((unsigned __int128)(eb & 0x7fff) << 63) | (mb & 0x7fffffffffffffffull);
    if ((ma >> 63) != (mb >> 63)) return UINT64_MAX;
    unsigned __int128 d = ka > kb ? ka - kb : kb - ka;
    return d > 1000 ? UINT64_MAX : (uint64_t)d;
}

static void dump80(const char *tag, const uint8_t *p)
{
    uint64_t m;
    memcpy(&m, p, 8);
    printf(" %s=%04x:%016" PRIx64, tag, rd16(p + 8), m);
}

/* Returns 0 on exact match, 1 on a tolerated (<= ulps) match, 2 on mismatch. */
static int compare(const struct dcase *c, const uint8_t *hs, const uint8_t *es, const uint8_t *hm,
                   const uint8_t *em)
{
    int tolerated = 0;
    uint16_t htw = rd16(hs + 8);
    if (rd16(hs) != rd16(es) || htw != rd16(es + 8)) return 2;
    if (c->outmem == OUT_FXSAVE) {
        if (memcmp(hm, em, 6)) return 2;
        for (int i = 0; i < 8; i++)
            if (memcmp(hm + 32 + 16 * i, em + 32 + 16 * i, 10)) return 2;
    } else if (c->outmem && memcmp(hm, em, (size_t)c->outmem)) {
        return 2;
    }
    for (int i = 0; i < 8; i++) {
        int top = (rd16(hs + 4) >> 11) & 7, p = (top + i) & 7;
        if (((htw >> (2 * p)) & 3) == 3) continue;
        const uint8_t *h = hs + 28 + 10 * i, *e = es + 28 + 10 * i;
        if (!memcmp(h, e, 10)) continue;
        if (!c->ulps || ulp_dist(h, e) > (uint64_t)c->ulps) return 2;
        tolerated = 1;
    }
    uint16_t hsw = rd16(hs + 4), esw = rd16(es + 4);
    if (hsw != esw) {
        /* transcendentals: C1 ("rounded up") follows the last bit */
        if (!c->ulps || (hsw ^ esw) != X87_C1) return 2;
        tolerated = 1;
    }
    return tolerated;
}

/* The host's vendor: the software x87 follows Intel's P6, whose FSIN, FCOS,
 * FSINCOS and FPTAN return x (and 1.0) unrounded below 2^-68; an AMD x87
 * rounds there by RC. Those operands are compared on an Intel host only. */
static bool host_is_intel(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(0, &a, &b, &c, &d) && b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;
}

static bool tiny_trig_operand(const struct dcase *c, floatx80 a)
{
    static const char *trig[] = {"fsin", "fcos", "fsincos", "fptan"};
    for (size_t k = 0; k < sizeof(trig) / sizeof(trig[0]); k++)
        if (!strcmp(c->name, trig[k]))
            return fx80_exp(a) < 0x3fbb;
    return false;
}

static long cases_per_insn(void)
{
    const char *s = getenv("X87_DIFF_N");
    return s ? atol(s) : 100000;
}

static void run_case(const struct dcase *c)
{
    const char *only = getenv("X87_DIFF_ONLY");
    if (only && strcmp(only, c->name)) return;
    long n = c->depth == 2 ? cases_per_insn() : cases_per_insn() / 20 + 1, exact = 0, tol = 0, bad = 0, skipped = 0;
    uint64_t maxdist = 0;
    const char *seed = getenv("X87_DIFF_SEED");
    gen_state = (seed ? strtoull(seed, NULL, 0) : 0) ^ 0x243f6a8885a308d3ull ^ (uint64_t)(uintptr_t)c->name[0] * 0x100000001b3ull ^
                (uint64_t)strlen(c->name) << 40;
    for (long i = 0; i < n; i++) {
        static const uint16_t pcs[3] = {X87_PC_24, X87_PC_53, X87_PC_64};
        uint16_t cw = (uint16_t)(0x007f | pcs[i % 3] << 8 | (i / 3 % 4) << 10);
        uint16_t sw0 = (uint16_t)(gen_rnd() & (X87_C0 | X87_C1 | X87_C2 | X87_C3));
        uint8_t env[28], hs[108], es[108];
        static uint8_t hm[MEMBUF] __attribute__((aligned(16))), em[MEMBUF] __attribute__((aligned(16)));
        floatx80 ab[2];
        memset(ab, 0, sizeof ab);
        gen_ops(c->ops, &ab[0], &ab[1]);
        gen_mem(c->mem, hm);
        memcpy(em, hm, MEMBUF);
        make_env(env, cw, sw0);

        c->host(env, &ab[0], &ab[1], hm, hs);

        struct x87 x;
        uint8_t m80[10];
        x87_reset(&x);
        for (int p = 0; p < 8; p++) x.st[p] = ab[(p & 1) ? 1 : 0];
        x87_fldenv(&x, env, true, true);
        for (int k = 0; k < c->depth; k++) {
            const floatx80 *v = &ab[(c->depth - k) & 1 ? 0 : 1]; /* ... b, a: a on top */
            if (c->depth == 1) v = &ab[0];
            memcpy(m80, &v->mant, 8);
            memcpy(m80 + 8, &v->sign_exp, 2);
            x87_fld_mem(&x, X87_M80FP, m80);
        }
        c->emu(&x, em);
        x87_fsave(&x, es, true, true);

        /* FYL2XP1 is undefined outside |x| < 1 - sqrt(2)/2: not compared */
        if (c->emu == emu_fyl2xp1 && fx80_classify(ab[0]) == FX_NORMAL &&
            (fx80_exp(ab[0]) > 0x3ffd ||
             (fx80_exp(ab[0]) == 0x3ffd && ab[0].mant > 0x95f619980c4336f7ull))) {
            skipped++;
            continue;
        }
        if (!host_is_intel() && tiny_trig_operand(c, ab[0])) {
            skipped++;
            continue;
        }
        int r = compare(c, hs, es, hm, em);
        if (r == 0) {
            exact++;
        } else if (r == 1) {
            tol++;
            for (int k = 0; k < 8; k++) {
                uint64_t d = ulp_dist(hs + 28 + 10 * k, es + 28 + 10 * k);
                if (d != UINT64_MAX && d > maxdist) maxdist = d;
            }
        } else {
            if (bad++ < 8) {
                printf("MISMATCH %s cw=%04x sw0=%04x", c->name, cw, sw0);
                dump80("a", (const uint8_t *)&ab[0]);
                dump80("b", (const uint8_t *)&ab[1]);
                printf(" mem=");
                for (int k = 0; k < 10; k++) printf("%02x", em[k] == hm[k] ? hm[k] : hm[k]);
                printf("\n   host sw=%04x tw=%04x", rd16(hs + 4), rd16(hs + 8));
                dump80("st0", hs + 28);
                dump80("st1", hs + 38);
                printf(" memout=");
                for (int k = 0; k < (c->outmem > 0 ? c->outmem : 6); k++) printf("%02x", hm[k]);
                printf("\n   emu  sw=%04x tw=%04x", rd16(es + 4), rd16(es + 8));
                dump80("st0", es + 28);
                dump80("st1", es + 38);
                printf(" memout=");
                for (int k = 0; k < (c->outmem > 0 ? c->outmem : 6); k++) printf("%02x", em[k]);
                printf("\n");
            }
        }
    }
    if (c->ulps)
        printf("x87 diff: %s %ld/%ld bit-exact, %ld within %d ulp (max %" PRIu64 ")%s%s\n",
               c->name, exact, n - skipped, tol, c->ulps, maxdist, bad ? " FAIL" : "",
               skipped ? " (out-of-domain or vendor-specific operands skipped)" : "");
    else
        printf("x87 diff: %s %ld/%ld%s\n", c->name, exact, n, bad ? " FAIL" : "");
    fflush(stdout);
    ck_assert_msg(bad == 0, "%s: %ld of %ld cases differ from the host x87", c->name, bad, n);
}

#define C(nm, ops, mem, out, ulps) {#nm, host_##nm, emu_##nm, ops, mem, out, ulps, 2}
#define D(nm, depth, mem, out) {#nm, host_##nm, emu_##nm, O_PAIR, mem, out, 0, depth}
static const struct dcase cases[] = {
    C(fadd, O_PAIR, M_NONE, 0, 0),        C(fsub, O_PAIR, M_NONE, 0, 0),
    C(fsubr, O_PAIR, M_NONE, 0, 0),       C(fmul, O_PAIR, M_NONE, 0, 0),
    C(fdiv, O_PAIR, M_NONE, 0, 0),        C(fdivr, O_PAIR, M_NONE, 0, 0),
    C(fsubp, O_PAIR, M_NONE, 0, 0),       C(fdivrp, O_PAIR, M_NONE, 0, 0),
#define CM(op)                                                                                     \
    C(f##op##_m32, O_PAIR, M_F32, 4, 0), C(f##op##_m64, O_PAIR, M_F64, 8, 0),                      \
        C(fi##op##_m16, O_PAIR, M_I16, 2, 0), C(fi##op##_m32, O_PAIR, M_I32, 4, 0)
    CM(add), CM(sub), CM(subr), CM(mul), CM(div), CM(divr),
    C(fsqrt, O_PAIR, M_NONE, 0, 0),       C(fprem, O_REM, M_NONE, 0, 0),
    C(fprem1, O_REM, M_NONE, 0, 0),       C(frndint, O_INT, M_NONE, 0, 0),
    C(fscale, O_SMALL, M_NONE, 0, 0),     C(fxtract, O_PAIR, M_NONE, 0, 0),
    C(fcom, O_PAIR, M_NONE, 0, 0),        C(fcompp, O_PAIR, M_NONE, 0, 0),
    C(fucomp, O_PAIR, M_NONE, 0, 0),      C(fcom_m32, O_PAIR, M_F32, 4, 0),
    C(fcomp_m64, O_PAIR, M_F64, 8, 0),    C(ficom_m16, O_PAIR, M_I16, 2, 0),
    C(fcomi, O_PAIR, M_NONE, 3, 0),       C(fucomip, O_PAIR, M_NONE, 3, 0),
    C(ftst, O_PAIR, M_NONE, 0, 0),        C(fxam, O_PAIR, M_NONE, 0, 0),
    C(fchs, O_PAIR, M_NONE, 0, 0),        C(fabs, O_PAIR, M_NONE, 0, 0),
    C(fxch, O_PAIR, M_NONE, 0, 0),        C(fild_m16, O_PAIR, M_I16, 2, 0),
    C(fild_m32, O_PAIR, M_I32, 4, 0),     C(fild_m64, O_PAIR, M_I64, 8, 0),
    C(fist_m16, O_INT, M_NONE, 2, 0),     C(fistp_m32, O_INT, M_NONE, 4, 0),
    C(fistp_m64, O_INT, M_NONE, 8, 0),    C(fld_m32, O_PAIR, M_F32, 4, 0),
    C(fld_m64, O_PAIR, M_F64, 8, 0),      C(fld_m80, O_PAIR, M_X80, 10, 0),
    C(fst_m32, O_PAIR, M_NONE, 4, 0),     C(fstp_m64, O_PAIR, M_NONE, 8, 0),
    C(fstp_m80, O_PAIR, M_NONE, 10, 0),   C(fbld, O_PAIR, M_BCD, 10, 0),
    C(fbstp, O_INT, M_NONE, 10, 0),       C(fld1, O_PAIR, M_NONE, 0, 0),
    C(fldl2t, O_PAIR, M_NONE, 0, 0),      C(fldl2e, O_PAIR, M_NONE, 0, 0),
    C(fldpi, O_PAIR, M_NONE, 0, 0),       C(fldlg2, O_PAIR, M_NONE, 0, 0),
    C(fldln2, O_PAIR, M_NONE, 0, 0),      C(fldz, O_PAIR, M_NONE, 0, 0),
    C(fsin, O_TRIG, M_NONE, 0, 1),        C(fcos, O_TRIG, M_NONE, 0, 1),
    C(fsincos, O_TRIG, M_NONE, 0, 1),     C(fptan, O_TRIG, M_NONE, 0, 1),
    C(fpatan, O_PAIR, M_NONE, 0, 1),      C(f2xm1, O_F2XM1, M_NONE, 0, 1),
    C(fyl2x, O_LOG, M_NONE, 0, 1),        C(fyl2xp1, O_LOGP1, M_NONE, 0, 1),
    D(fadd_d1, 1, M_NONE, 0),            D(fsubp_d1, 1, M_NONE, 0),
    D(fmul_m64_d0, 0, M_F64, 8),         D(fsqrt_d0, 0, M_NONE, 0),
    D(fchs_d0, 0, M_NONE, 0),            D(fxam_d0, 0, M_NONE, 0),
    D(fst_m32_d0, 0, M_NONE, 4),         D(fstp_m64_d0, 0, M_NONE, 8),
    D(fstp_m80_d0, 0, M_NONE, 10),       D(fistp_m16_d0, 0, M_NONE, 2),
    D(fistp_m64_d0, 0, M_NONE, 8),       D(fbstp_d0, 0, M_NONE, 10),
    D(fcom_d1, 1, M_NONE, 0),            D(fcompp_d1, 1, M_NONE, 0),
    D(ftst_d0, 0, M_NONE, 0),            D(fxch_d1, 1, M_NONE, 0),
    D(fprem_d1, 1, M_NONE, 0),           D(fscale_d1, 1, M_NONE, 0),
    D(fpatan_d1, 1, M_NONE, 0),          D(fyl2x_d1, 1, M_NONE, 0),
    D(fsin_d0, 0, M_NONE, 0),            D(fptan_d0, 0, M_NONE, 0),
    D(fsincos_d0, 0, M_NONE, 0),         D(fxtract_d0, 0, M_NONE, 0),
    D(fld_st1_d1, 1, M_NONE, 0),         D(fst_st1_d1, 1, M_NONE, 0),
    D(fld_m32_d8, 8, M_F32, 4),          D(fild_m16_d8, 8, M_I16, 2),
    D(fld_m80_d8, 8, M_X80, 10),         D(fldpi_d8, 8, M_NONE, 0),
    D(fld_st3_d8, 8, M_NONE, 0),         D(fxtract_d8, 8, M_NONE, 0),
    D(fptan_d8, 8, M_NONE, 0),           D(fsincos_d8, 8, M_NONE, 0),
    D(fdecstp_d8, 8, M_NONE, 0),         D(fincstp_d1, 1, M_NONE, 0),
    D(ffree_d2, 2, M_NONE, 0),           D(ffreep_d2, 2, M_NONE, 0),
    D(fcomip_d1, 1, M_NONE, 3),
    C(fldcw, O_PAIR, M_I16, 0, 0),        C(fnstenv16, O_PAIR, M_NONE, 6, 0),
    C(fnstenv32, O_PAIR, M_NONE, 12, 0),  C(fxsave, O_PAIR, M_NONE, OUT_FXSAVE, 0),
    C(fisttp_m16, O_INT, M_NONE, 2, 0),   C(fisttp_m64, O_INT, M_NONE, 8, 0),
    C(fcmovb, O_PAIR, M_I16, 0, 0),       C(fcmovne, O_PAIR, M_I16, 0, 0),
    D(fcmovb_d1, 1, M_I16, 0),            C(fstp_st1, O_PAIR, M_NONE, 0, 0),
    C(fld_st1, O_PAIR, M_NONE, 0, 0),     C(fxch_st3, O_PAIR, M_NONE, 0, 0),
    C(frstor, O_PAIR, M_SAVE, 0, 0),      C(fldenv, O_PAIR, M_SAVE, 0, 0),
    C(fxrstor, O_PAIR, M_FXSAVE, 0, 0),
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

START_TEST(test_diff) { run_case(&cases[_i]); }
END_TEST

Suite *x87_diff_suite(void);
Suite *x87_diff_suite(void)
{
    Suite *s = suite_create("x87_diff");
    TCase *tc = tcase_create("host_x87");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_diff, 0, NCASES);
    suite_add_tcase(s, tc);
    return s;
}
#endif /* __x86_64__ */

/* Each test file is its own runner unless the build links several suites
 * into one binary (then define TRAPEZE_TEST_NO_MAIN and call the suite). */
#ifndef TRAPEZE_TEST_NO_MAIN
int main(void)
{
    SRunner *sr = srunner_create(x87_diff_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
