/* x87_xf.c - 128-bit-significand helper arithmetic for x87_trans.c.
 * Cost: add/mul are a few 64x64 multiplies; div is a 128-step restoring
 * division; sqrt is one 128-bit Newton step from a 64-bit integer root.
 */
#include "x87_xf.h"

bool xf_mag_less(xf a, xf b)
{
    if (!a.m) return b.m != 0;
    if (!b.m) return false;
    if (a.exp != b.exp) return a.exp < b.exp;
    return a.m < b.m;
}

xf xf_add(xf a, xf b)
{
    if (!a.m) return b;
    if (!b.m) return a;
    if (xf_mag_less(a, b)) {
        xf t = a;
        a = b;
        b = t;
    }
    u128 A = a.m >> 1, B = fx_shr_jam(b.m >> 1, a.exp - b.exp);
    u128 S = a.sign == b.sign ? A + B : A - B;
    return xf_make(a.sign, a.exp + 1, S);
}

xf xf_mul(xf a, xf b)
{
    if (!a.m || !b.m) return xf_make(a.sign ^ b.sign, 0, 0);
    uint64_t ah = (uint64_t)(a.m >> 64), al = (uint64_t)a.m;
    uint64_t bh = (uint64_t)(b.m >> 64), bl = (uint64_t)b.m;
    u128 hh = (u128)ah * bh, hl = (u128)ah * bl, lh = (u128)al * bh, ll = (u128)al * bl;
    u128 mid = (hl & ~0ull) + (lh & ~0ull) + (ll >> 64);
    u128 hi = hh + (hl >> 64) + (lh >> 64) + (mid >> 64);
    /* product = hi * 2^128 + low; value = hi * 2^(ea + eb - 254 + 128) */
    return xf_make(a.sign ^ b.sign, a.exp + b.exp + 1, hi);
}

xf xf_div(xf a, xf b)
{
    if (!a.m) return xf_make(a.sign ^ b.sign, 0, 0);
    u128 r = a.m, d = b.m, q = 0;
    int32_t exp = a.exp - b.exp;
    int n = 127;
    if (r < d) { /* first quotient bit is 0: produce one more instead */
        exp--;
        n = 128;
    } else {
        r -= d;
        q = 1;
    }
    for (int i = 0; i < n; i++) {
        bool top = r >> 127;
        r <<= 1;
        q <<= 1;
        if (top || r >= d) {
            r -= d;
            q |= 1;
        }
    }
    return xf_make(a.sign ^ b.sign, exp, q | (r != 0));
}

xf xf_div_u64(xf a, uint64_t d)
{
    if (!a.m) return a;
    u128 qh = a.m / d, rem = a.m % d;
    u128 ql = (rem << 64) / d;
    /* quotient = qh * 2^64 + ql, scaled by 2^-64 relative to a.m */
    int s = fx_clz128(qh);
    u128 m = (qh << s) | (s ? ql >> (64 - s) : 0);
    xf r = {a.sign, a.exp - s, m}; /* a.m >= 2^127, d < 2^64: qh >= 2^63, s <= 64 */
    return r;
}

xf xf_sqrt(xf a)
{
    if (!a.m) return a;
    /* 64-bit root of the top bits, then one Newton step: y = (y + a/y) / 2 */
    int32_t e = a.exp;
    u128 m = a.m;
    if ((e - 127) & 1) { /* make e - 127 even: value = (m/2) * 2^(e+1-127) */
        m >>= 1;
        e++;
    }
    u128 n = m, res = 0, bit = (u128)1 << 126;
    while (bit > n) bit >>= 2;
    while (bit) {
        if (n >= res + bit) {
            n -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    /* res = floor(sqrt(m)) ~ 2^63..2^64; sqrt(m * 2^(e-127)) = res * 2^((e-127)/2) */
    xf y = xf_make(0, (e - 127) / 2 + 127, res);
    xf ax = {0, a.exp, a.m};
    y = xf_add(y, xf_div(ax, y));
    y.exp -= 1;
    return y;
}

floatx80 xf_to_fx_inexact(xf a, struct fx80_env *e)
{
    if (!a.m) return fx80_make(a.sign, 0, 0);
    return fx_round_pack(a.sign, a.exp + FX80_BIAS, a.m | 1, 64, e);
}
