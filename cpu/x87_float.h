/* x87_float.h - software 80-bit extended-precision arithmetic with x87 semantics.
 *
 * Everything here is a pure function of its operands and of a small environment
 * (the control word in, the status-word exception bits out), so the same code
 * runs identically on any host. The x87 state machine (x87.h) is built on it.
 *
 * Conventions shared by every operation:
 * - env->cw is read for the exception masks (bits 0-5), precision control
 *   (bits 8-9) and rounding control (bits 10-11).  PC applies only where the
 *   x87 applies it: add, sub, mul, div, sqrt.
 * - env->flags accumulates SW exception bits (X87_IE..X87_PE) and X87_C1 when
 *   the rounded result's magnitude was increased ("rounded up").
 * - Results are the x87's: masked responses (QNaN indefinite, infinity or the
 *   largest finite on overflow, denormals on underflow) and, for unmasked
 *   overflow/underflow, the rounded result with its exponent biased by
 *   -/+24576.  When an unmasked IE, ZE or DE was raised the returned value is
 *   meaningless and the destination must stay unchanged: test that with
 *   fx80_aborts().
 */
#ifndef TRAPEZE_X87_FLOAT_H
#define TRAPEZE_X87_FLOAT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t mant;     /* explicit integer bit at bit 63 */
    uint16_t sign_exp; /* sign bit 15, biased exponent bits 0-14 (bias 16383) */
} floatx80;

/* Status word bits (also used in fx80_env.flags). */
#define X87_IE  0x0001
#define X87_DE  0x0002
#define X87_ZE  0x0004
#define X87_OE  0x0008
#define X87_UE  0x0010
#define X87_PE  0x0020
#define X87_SF  0x0040
#define X87_ES  0x0080
#define X87_C0  0x0100
#define X87_C1  0x0200
#define X87_C2  0x0400
#define X87_C3  0x4000
#define X87_B   0x8000
#define X87_EXC 0x003f

/* Control word fields. */
#define X87_CW_PC_SHIFT 8
#define X87_CW_RC_SHIFT 10
enum { X87_PC_24 = 0, X87_PC_RESERVED = 1, X87_PC_53 = 2, X87_PC_64 = 3 };
enum { X87_RC_NEAR = 0, X87_RC_DOWN = 1, X87_RC_UP = 2, X87_RC_ZERO = 3 };

struct fx80_env {
    uint16_t cw;    /* in: control word */
    uint16_t flags; /* out: accumulated X87_IE..X87_PE and X87_C1 (rounded up) */
};

/* Operand classes as the P6 sees them. */
enum fx80_class {
    FX_ZERO,
    FX_DENORMAL, /* exponent 0 and non-zero significand; includes pseudo-denormals */
    FX_NORMAL,
    FX_INF,
    FX_QNAN,
    FX_SNAN,
    FX_UNSUPPORTED /* unnormal, pseudo-NaN, pseudo-infinity */
};

#define FX80_BIAS 16383
#define FX80_BIAS_ADJUST 24576 /* exponent bias for unmasked OE/UE results */

static inline floatx80 fx80_make(int sign, int exp, uint64_t mant)
{
    floatx80 r = {mant, (uint16_t)(((unsigned)sign << 15) | (unsigned)exp)};
    return r;
}
static inline int fx80_sign(floatx80 a) { return a.sign_exp >> 15; }
static inline int fx80_exp(floatx80 a) { return a.sign_exp & 0x7fff; }
static inline floatx80 fx80_neg(floatx80 a) { a.sign_exp ^= 0x8000; return a; }
static inline floatx80 fx80_abs(floatx80 a) { a.sign_exp &= 0x7fff; return a; }
static inline bool fx80_is_nan(floatx80 a)
{
    return fx80_exp(a) == 0x7fff && (a.mant >> 63) && (a.mant << 1);
}

/* True when an unmasked IE, ZE or DE was raised: the x87 then leaves the
 * destination (register or memory) unchanged and does not pop. */
static inline bool fx80_aborts(const struct fx80_env *e)
{
    return (e->flags & ~e->cw & (X87_IE | X87_ZE | X87_DE)) != 0;
}
/* True when a store to memory must be suppressed: additionally unmasked OE/UE. */
static inline bool fx80_store_aborts(const struct fx80_env *e)
{
    return (e->flags & ~e->cw & (X87_IE | X87_ZE | X87_DE | X87_OE | X87_UE)) != 0;
}

enum fx80_class fx80_classify(floatx80 a);
floatx80 fx80_indefinite(void);

/* Arithmetic (PC and RC honoured). */
floatx80 fx80_add(floatx80 a, floatx80 b, struct fx80_env *e);
floatx80 fx80_sub(floatx80 a, floatx80 b, struct fx80_env *e);
floatx80 fx80_mul(floatx80 a, floatx80 b, struct fx80_env *e);
floatx80 fx80_div(floatx80 a, floatx80 b, struct fx80_env *e);
floatx80 fx80_sqrt(floatx80 a, struct fx80_env *e);

/* FPREM (ieee=false) / FPREM1 (ieee=true): partial remainder a rem b.
 * *cc receives the condition bits C0/C1/C2/C3 to merge into SW (mask
 * X87_C0|X87_C1|X87_C2|X87_C3); C2 set means "incomplete, run again".
 * FX80_CC_KEEP: invalid/NaN operands, C0/C3 stay as they were, C1/C2 clear. */
#define FX80_CC_KEEP 0xffff
floatx80 fx80_rem(floatx80 a, floatx80 b, bool ieee, uint16_t *cc, struct fx80_env *e);
floatx80 fx80_round_to_int(floatx80 a, struct fx80_env *e); /* FRNDINT */
floatx80 fx80_scale(floatx80 a, floatx80 b, struct fx80_env *e); /* FSCALE: a*2^trunc(b) */
/* FXTRACT: *sig and *exp as the instruction leaves them in ST(0) and ST(1). */
void fx80_xtract(floatx80 a, floatx80 *sig, floatx80 *exp, struct fx80_env *e);

/* Comparison: returns FX_LT, FX_EQ, FX_GT or FX_UN. quiet=true is FUCOM
 * (IE only for SNaN and unsupported), false is FCOM (IE for any NaN). */
enum { FX_LT = 0, FX_EQ = 1, FX_GT = 2, FX_UN = 3 };
int fx80_compare(floatx80 a, floatx80 b, bool quiet, struct fx80_env *e);

/* Conversions (x87_conv.c).  Loads from memory formats are exact. */
floatx80 fx80_from_i64(int64_t v);
floatx80 fx80_from_f32(uint32_t v, struct fx80_env *e);
floatx80 fx80_from_f64(uint64_t v, struct fx80_env *e);
/* Stores: rounding per RC; IE yields the integer indefinite of that width. */
int64_t fx80_to_int(floatx80 a, int bits, bool truncate, struct fx80_env *e);
uint32_t fx80_to_f32(floatx80 a, struct fx80_env *e);
uint64_t fx80_to_f64(floatx80 a, struct fx80_env *e);
/* Packed BCD, 10 bytes little-endian: 18 digits then the sign byte. */
floatx80 fx80_from_bcd(const uint8_t bcd[10]);
void fx80_to_bcd(floatx80 a, uint8_t bcd[10], struct fx80_env *e);

/* Transcendentals (x87_trans.c).  RC honoured, PC ignored as on the x87.
 * Functions with a range limit return false (C2 to be set, operand kept)
 * when |x| >= 2^63. */
bool fx80_sin(floatx80 a, floatx80 *r, struct fx80_env *e);
bool fx80_cos(floatx80 a, floatx80 *r, struct fx80_env *e);
bool fx80_sincos(floatx80 a, floatx80 *s, floatx80 *c, struct fx80_env *e);
bool fx80_tan(floatx80 a, floatx80 *r, struct fx80_env *e);
floatx80 fx80_atan2(floatx80 y, floatx80 x, struct fx80_env *e); /* FPATAN: atan(y/x) */
floatx80 fx80_f2xm1(floatx80 a, struct fx80_env *e);
floatx80 fx80_yl2x(floatx80 x, floatx80 y, struct fx80_env *e);   /* y*log2(x) */
floatx80 fx80_yl2xp1(floatx80 x, floatx80 y, struct fx80_env *e); /* y*log2(x+1) */

#endif
