/* x87.h - the x87 FPU state machine: register stack, tags, status and control
 * words, and one function per x87 operation.
 *
 * The CPU's D8-DF handlers are meant to be thin wrappers:
 *   - check x87_pending() first for waiting instructions (raise #MF when CR0.NE,
 *     else assert FERR#) -- this module never raises anything itself;
 *   - read the memory operand bytes (little-endian, as in guest memory), call
 *     the x87_* function, and write back the bytes when it returns true;
 *   - call x87_note_last() for every non-control instruction (FIP/FCS/FOP and,
 *     for memory forms, FDP/FDS), as the FSTENV/FSAVE image reports them.
 * Functions never touch guest memory or CPU state; they never fail except by
 * setting status-word bits.  Register arguments are stack-relative (ST(i)).
 */
#ifndef TRAPEZE_X87_H
#define TRAPEZE_X87_H

#include <stdbool.h>
#include <stdint.h>
#include "x87_float.h"

/* Tag values (2 bits per physical register). */
enum { X87_TAG_VALID = 0, X87_TAG_ZERO = 1, X87_TAG_SPECIAL = 2, X87_TAG_EMPTY = 3 };

struct x87 {
    floatx80 st[8]; /* physical registers R0..R7; ST(i) is R[(TOP + i) & 7] */
    uint16_t cw;    /* control word */
    uint16_t sw;    /* status word, TOP in bits 11-13 */
    uint16_t tw;    /* full tag word, always consistent with st[] contents */
    uint16_t fop;   /* last non-control opcode, 11 bits */
    uint32_t fip, fdp;
    uint16_t fcs, fds;
    uint32_t mxcsr; /* only carried through FXSAVE/FXRSTOR */
};

/* Memory operand formats (the byte counts are x87_mem_size()). */
enum x87_mfmt { X87_M32FP, X87_M64FP, X87_M80FP, X87_M16INT, X87_M32INT, X87_M64INT, X87_M80BCD };
int x87_mem_size(enum x87_mfmt f);

/* Arithmetic operations numbered as the ModRM reg field of D8 and of every
 * memory form (2 and 3 are the compares: use x87_fcom_*).  X87_FSUB means
 * dst - src, X87_FSUBR src - dst (likewise DIV/DIVR).  The register forms of
 * DC and DE encode them the other way round: use reg ^ 1 for reg >= 4 there,
 * with dst = i and src = 0.  See docs/x87.md for the full opcode map. */
enum x87_arith { X87_FADD = 0, X87_FMUL = 1, X87_FSUB = 4, X87_FSUBR = 5, X87_FDIV = 6, X87_FDIVR = 7 };

enum x87_const { X87_FLD1, X87_FLDL2T, X87_FLDL2E, X87_FLDPI, X87_FLDLG2, X87_FLDLN2, X87_FLDZ };

/* EFLAGS bits returned by FCOMI/FUCOMI (caller clears OF, SF, AF). */
#define X87_EFL_CF 0x0001
#define X87_EFL_PF 0x0004
#define X87_EFL_ZF 0x0040

/* --- state, control ---------------------------------------------------- */
void x87_reset(struct x87 *x); /* power-on state: as FINIT (MXCSR 0x1f80) */
void x87_finit(struct x87 *x); /* FINIT/FNINIT */
void x87_fldcw(struct x87 *x, uint16_t cw);
uint16_t x87_fstcw(const struct x87 *x);
uint16_t x87_fstsw(const struct x87 *x);
void x87_fclex(struct x87 *x);
/* Unmasked exception pending (SW.ES): the next waiting x87 instruction must
 * signal #MF (CR0.NE=1) or FERR# (CR0.NE=0). */
bool x87_pending(const struct x87 *x);
void x87_note_last(struct x87 *x, uint16_t fop, uint16_t fcs, uint32_t fip, uint16_t fds,
                   uint32_t fdp);
static inline int x87_top(const struct x87 *x) { return (x->sw >> 11) & 7; }
int x87_tag(const struct x87 *x, int i); /* tag of ST(i) */
floatx80 x87_st(const struct x87 *x, int i);

/* --- loads, stores, register moves ------------------------------------ */
void x87_fld_mem(struct x87 *x, enum x87_mfmt f, const uint8_t *m); /* FLD/FILD/FBLD */
void x87_fld_st(struct x87 *x, int i);
void x87_fld_const(struct x87 *x, enum x87_const c);
/* FST/FSTP/FIST/FISTP/FISTTP-style/FBSTP to memory: returns true when the
 * bytes in m were produced and must be written (false: unmasked exception,
 * memory and stack unchanged).  truncate: round toward zero (FISTTP, SSE3). */
bool x87_fst_mem(struct x87 *x, enum x87_mfmt f, uint8_t *m, bool pop, bool truncate);
void x87_fst_st(struct x87 *x, int i, bool pop);
void x87_fxch(struct x87 *x, int i);
void x87_ffree(struct x87 *x, int i, bool pop); /* pop=true: FFREEP */
void x87_fincstp(struct x87 *x);
void x87_fdecstp(struct x87 *x);
/* FCMOVcc: moves ST(i) to ST(0) when cond (the caller evaluates EFLAGS). */
void x87_fcmov(struct x87 *x, int i, bool cond);

/* --- arithmetic ---------------------------------------------------------- */
/* ST(dst) <- ST(dst) op ST(src); pops once when pop (FADDP ...). */
void x87_arith_st(struct x87 *x, enum x87_arith op, int dst, int src, bool pop);
/* ST(0) <- ST(0) op mem; f is one of M32FP, M64FP, M16INT, M32INT. */
void x87_arith_mem(struct x87 *x, enum x87_arith op, enum x87_mfmt f, const uint8_t *m);
void x87_fchs(struct x87 *x);
void x87_fabs(struct x87 *x);
void x87_fsqrt(struct x87 *x);
void x87_frndint(struct x87 *x);
void x87_fscale(struct x87 *x);
void x87_fxtract(struct x87 *x);
void x87_fprem(struct x87 *x, bool ieee); /* ieee=true: FPREM1 */
void x87_fsin(struct x87 *x);
void x87_fcos(struct x87 *x);
void x87_fsincos(struct x87 *x);
void x87_fptan(struct x87 *x);
void x87_fpatan(struct x87 *x);
void x87_f2xm1(struct x87 *x);
void x87_fyl2x(struct x87 *x);
void x87_fyl2xp1(struct x87 *x);

/* --- compares and classification ------------------------------------------ */
/* FCOM/FCOMP/FCOMPP (quiet=false), FUCOM/FUCOMP/FUCOMPP (quiet=true). */
void x87_fcom_st(struct x87 *x, int i, bool quiet, int pops);
void x87_fcom_mem(struct x87 *x, enum x87_mfmt f, const uint8_t *m, int pops); /* FCOM/FICOM */
/* FCOMI/FCOMIP/FUCOMI/FUCOMIP: returns ZF|PF|CF bits for EFLAGS. */
uint32_t x87_fcomi(struct x87 *x, int i, bool quiet, bool pop);
void x87_ftst(struct x87 *x);
void x87_fxam(struct x87 *x);

/* --- environment and state images (x87_env.c) ------------------------------ */
/* op32: 32-bit operand size; pmode: protected-mode layout (else real/V86).
 * Sizes: env 14/28 bytes, save 94/108 bytes, FXSAVE 512 bytes. */
int x87_fstenv(struct x87 *x, uint8_t *buf, bool op32, bool pmode); /* masks all exceptions */
void x87_fldenv(struct x87 *x, const uint8_t *buf, bool op32, bool pmode);
int x87_fsave(struct x87 *x, uint8_t *buf, bool op32, bool pmode); /* then FINIT */
void x87_frstor(struct x87 *x, const uint8_t *buf, bool op32, bool pmode);
void x87_fxsave(const struct x87 *x, uint8_t buf[512]);
/* Returns false (and changes nothing) when the MXCSR image has reserved bits
 * set: the caller raises #GP(0). */
bool x87_fxrstor(struct x87 *x, const uint8_t buf[512]);

/* Tag computed from register contents, as FSTENV/FSAVE report it. */
int x87_tag_of(floatx80 v);

#endif
