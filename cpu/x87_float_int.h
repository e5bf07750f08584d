/* x87_float_int.h - helpers shared by the x87_float*.c / x87_conv.c / x87_trans.c
 * implementation files.  Not part of the public interface.
 *
 * Internal significands are 128-bit (GNU unsigned __int128), normalized with
 * the leading one at bit 127: value = sig / 2^127 * 2^(exp - 16383).  64 bits
 * of result plus 64 guard bits (the last one "sticky") make one final
 * rounding exact for every basic operation.
 */
#ifndef TRAPEZE_X87_FLOAT_INT_H
#define TRAPEZE_X87_FLOAT_INT_H

#include "x87_float.h"

__extension__ typedef unsigned __int128 u128; /* GNU C: gcc and clang on 64-bit hosts */

#define FX_QUIET_BIT 0x4000000000000000ull
#define FX_INT_BIT   0x8000000000000000ull

static inline int fx_clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)x);
}

/* Shift right, OR-ing every bit shifted out into bit 0 (the sticky bit). */
static inline u128 fx_shr_jam(u128 x, int32_t n)
{
    if (n <= 0) return x;
    if (n >= 128) return x != 0;
    return (x >> n) | ((x & (((u128)1 << n) - 1)) != 0);
}

static inline int fx_rc(const struct fx80_env *e) { return (e->cw >> X87_CW_RC_SHIFT) & 3; }

/* Significand bits kept for PC-controlled operations. Reserved PC acts as 64. */
static inline int fx_prec(const struct fx80_env *e)
{
    switch ((e->cw >> X87_CW_PC_SHIFT) & 3) {
    case X87_PC_24: return 24;
    case X87_PC_53: return 53;
    default: return 64;
    }
}

/* Finite non-zero supported operand (normal, denormal, pseudo-denormal) to a
 * normalized sign/exponent/significand; the exponent may go below 1. */
static inline void fx_unpack(floatx80 a, int *sign, int32_t *exp, uint64_t *mant)
{
    int32_t e = fx80_exp(a);
    uint64_t m = a.mant;
    int s = __builtin_clzll(m);
    if (e == 0) e = 1;
    *sign = fx80_sign(a);
    *exp = e - s;
    *mant = m << s;
}

/* Round sig keeping its top 128-drop bits (drop >= 64).  Returns the high 64
 * bits of the result; *carry: it overflowed to 2^128 (result 1 << 63, the
 * caller increments the exponent); *up: magnitude increased. */
uint64_t fx_round_sig(int sign, u128 sig, int drop, int rc, bool *inexact, bool *up, bool *carry);
/* PE on inexact, C1 on rounded up. */
void fx_note_rounding(bool inexact, bool up, struct fx80_env *e);

/* Exact conversions of memory formats keeping signalling NaNs as they are;
 * *denormal is set for a denormal source (the caller decides about DE). */
floatx80 fx_from_f32_raw(uint32_t v, bool *denormal);
floatx80 fx_from_f64_raw(uint64_t v, bool *denormal);

/* Round a normalized 128-bit significand to prec bits with x87 overflow and
 * underflow handling (tininess detected before rounding). */
floatx80 fx_round_pack(int sign, int32_t exp, u128 sig, int prec, struct fx80_env *e);
/* Normalizes sig first (may be zero: exact signed zero). */
floatx80 fx_norm_round_pack(int sign, int32_t exp, u128 sig, int prec, struct fx80_env *e);

/* x87 NaN propagation for two operands (at least one a NaN); raises IE for an SNaN. */
floatx80 fx_nan2(floatx80 a, floatx80 b, struct fx80_env *e);
/* One NaN operand: IE if signalling, returns it quieted. */
floatx80 fx_nan1(floatx80 a, struct fx80_env *e);

/* Common prologue for two-operand operations: unsupported formats and NaNs
 * decide the result.  Returns true when *r holds the final result. */
bool fx_prologue2(floatx80 a, floatx80 b, floatx80 *r, struct fx80_env *e);
/* Same for one operand. */
bool fx_prologue1(floatx80 a, floatx80 *r, struct fx80_env *e);
/* DE for a denormal a or b (called after the operation's own IE/ZE checks,
 * which take precedence).  True when DE is unmasked: abort. */
bool fx_denormal(floatx80 a, floatx80 b, struct fx80_env *e);

static inline floatx80 fx_inf(int sign) { return fx80_make(sign, 0x7fff, FX_INT_BIT); }
static inline floatx80 fx_zero(int sign) { return fx80_make(sign, 0, 0); }

/* Raise IE and return the QNaN indefinite. */
static inline floatx80 fx_invalid(struct fx80_env *e)
{
    e->flags |= X87_IE;
    return fx80_indefinite();
}

#endif
