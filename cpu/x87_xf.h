/* x87_xf.h - internal extra-precision arithmetic for the transcendentals:
 * 128-bit significands, truncating operations (each loses at most a couple
 * of ulps at 2^-126), an unbounded 32-bit exponent.  Only x87_trans.c uses it.
 *
 * value = (-1)^sign * m * 2^(exp - 127); m has bit 127 set, or m == 0 (zero).
 */
#ifndef TRAPEZE_X87_XF_H
#define TRAPEZE_X87_XF_H

#include "x87_float_int.h"

typedef struct {
    int sign;
    int32_t exp;
    u128 m;
} xf;

static inline u128 xf_u128(uint64_t hi, uint64_t lo) { return (u128)hi << 64 | lo; }
static inline xf xf_make(int sign, int32_t exp, u128 m)
{
    xf r = {sign, exp, m};
    if (!m) return r;
    int s = fx_clz128(m);
    r.m = m << s;
    r.exp = exp - s;
    return r;
}
static inline xf xf_zero(void) { return xf_make(0, 0, 0); }
static inline bool xf_is_zero(xf a) { return a.m == 0; }
static inline xf xf_neg(xf a) { a.sign ^= 1; return a; }
static inline xf xf_from_u64(uint64_t v) { return xf_make(0, 127, v); }
/* Finite supported floatx80 (zero allowed). */
static inline xf xf_from_fx(floatx80 a)
{
    if (!a.mant) return xf_make(fx80_sign(a), 0, 0);
    int s;
    int32_t e;
    uint64_t m;
    fx_unpack(a, &s, &e, &m);
    return xf_make(s, e - FX80_BIAS, (u128)m << 64);
}

xf xf_add(xf a, xf b);
static inline xf xf_sub(xf a, xf b) { return xf_add(a, xf_neg(b)); }
xf xf_mul(xf a, xf b);
xf xf_div(xf a, xf b);
xf xf_div_u64(xf a, uint64_t d);
xf xf_sqrt(xf a);
/* a < b in magnitude */
bool xf_mag_less(xf a, xf b);
/* Round to floatx80 with RC at 64 bits; the value is treated as inexact
 * (a sticky bit is added) because it approximates an irrational number. */
floatx80 xf_to_fx_inexact(xf a, struct fx80_env *e);

#endif
