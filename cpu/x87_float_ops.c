/* x87_float_ops.c - the exact (or RC-only) operations of the 80-bit core:
 * FPREM/FPREM1, FRNDINT, FSCALE, FXTRACT and the comparisons.  None of them
 * is affected by precision control.
 */
#include "x87_float_int.h"

static bool is_zero(floatx80 a) { return fx80_exp(a) == 0 && a.mant == 0; }
static bool is_inf(floatx80 a) { return fx80_classify(a) == FX_INF; }

/* Partial remainder.  The x87 reduces at most 63 quotient bits per
 * execution: when the exponent difference D >= 64 it subtracts b * QQ *
 * 2^(D-N) with N = 32 + (D mod 32) (AMD's documented choice, matching Intel
 * hardware), sets C2 and leaves the quotient bits unchanged. */
floatx80 fx80_rem(floatx80 a, floatx80 b, bool ieee, uint16_t *cc, struct fx80_env *e)
{
    floatx80 r;
    *cc = FX80_CC_KEEP;
    if (fx_prologue2(a, b, &r, e)) return r;
    if (is_inf(a) || is_zero(b)) return fx_invalid(e);
    if (fx_denormal(a, b, e)) return a;
    *cc = 0;
    if (is_zero(a)) return a;
    int sa, sb;
    int32_t ea, eb;
    uint64_t ma, mb;
    fx_unpack(a, &sa, &ea, &ma);
    if (is_inf(b)) return fx_round_pack(sa, ea, (u128)ma << 64, 64, e);
    fx_unpack(b, &sb, &eb, &mb);
    int32_t d = ea - eb;
    bool partial = d >= 64;
    if (partial) {
        int32_t n = 32 + d % 32;
        eb += d - n; /* divide by b * 2^(d-n) */
        d = n;
    }
    uint64_t q = 0;
    u128 rm; /* remainder magnitude, scaled so that b is mb * 2^eb */
    int rsign = sa;
    if (d < 0) {
        /* quotient 0 (a is the remainder) unless FPREM1 with |b|/2 < |a| < |b| */
        if (!(ieee && d == -1 && ma > mb)) return fx_round_pack(sa, ea, (u128)ma << 64, 64, e);
        q = 1;
        rm = ((u128)mb << 1) - ma; /* at scale eb - 1 */
        rsign ^= 1;
        eb -= 1;
    } else {
        u128 n = (u128)ma << d;
        u128 qq = n / mb;
        rm = n % mb;
        q = (uint64_t)qq;
        if (ieee && !partial) {
            u128 twice = rm << 1;
            if (twice > mb || (twice == mb && (q & 1))) {
                q++;
                rm = mb - rm;
                rsign ^= 1;
            }
        }
    }
    if (partial) {
        *cc = X87_C2;
    } else {
        *cc = (uint16_t)(((q & 1) ? X87_C1 : 0) | ((q & 2) ? X87_C3 : 0) | ((q & 4) ? X87_C0 : 0));
    }
    if (!rm) return fx_zero(sa);
    /* value = rm * 2^(eb - bias - 63) */
    return fx_norm_round_pack(rsign, eb + 64, rm, 64, e);
}

floatx80 fx80_round_to_int(floatx80 a, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue1(a, &r, e)) return r;
    if (fx_denormal(a, a, e)) return a;
    if (is_zero(a) || is_inf(a)) return a;
    int sign;
    int32_t E;
    uint64_t m;
    fx_unpack(a, &sign, &E, &m);
    int32_t u = E - FX80_BIAS;
    if (u >= 63) return a;
    bool inexact, up, carry;
    u128 sig = fx_shr_jam((u128)m << 64, 63 - u);
    uint64_t v = fx_round_sig(sign, sig, 64, fx_rc(e), &inexact, &up, &carry);
    fx_note_rounding(inexact, up, e);
    if (!v) return fx_zero(sign);
    int s = __builtin_clzll(v);
    return fx80_make(sign, FX80_BIAS + 63 - s, v << s);
}

floatx80 fx80_scale(floatx80 a, floatx80 b, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(a, b, &r, e)) return r;
    if (is_inf(b) && (fx80_sign(b) ? is_inf(a) : is_zero(a))) return fx_invalid(e);
    if (fx_denormal(a, b, e)) return a;
    if (is_inf(b)) return fx80_sign(b) ? fx_zero(fx80_sign(a)) : fx_inf(fx80_sign(a));
    if (is_inf(a) || is_zero(a)) return a;
    int32_t n = 0;
    if (!is_zero(b)) {
        int sb;
        int32_t eb;
        uint64_t mb;
        fx_unpack(b, &sb, &eb, &mb);
        int32_t u = eb - FX80_BIAS;
        if (u >= 0) {
            /* clamp: any |n| beyond 2^17 already over/underflows everything */
            n = u > 17 ? (1 << 17) : (int32_t)(mb >> (63 - u));
            if (sb) n = -n;
        }
    }
    int sa;
    int32_t ea;
    uint64_t ma;
    fx_unpack(a, &sa, &ea, &ma);
    return fx_round_pack(sa, ea + n, (u128)ma << 64, 64, e);
}

void fx80_xtract(floatx80 a, floatx80 *sig, floatx80 *exp, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue1(a, &r, e)) {
        *sig = *exp = r;
        return;
    }
    if (!is_zero(a) && fx_denormal(a, a, e)) {
        *sig = *exp = a;
        return;
    }
    if (is_zero(a)) {
        e->flags |= X87_ZE;
        *sig = a;
        *exp = fx_inf(1);
        return;
    }
    if (is_inf(a)) {
        *sig = a;
        *exp = fx_inf(0);
        return;
    }
    int s;
    int32_t E;
    uint64_t m;
    fx_unpack(a, &s, &E, &m);
    *sig = fx80_make(s, FX80_BIAS, m);
    *exp = fx80_from_i64(E - FX80_BIAS);
}

/* Order key for non-NaN supported values: compares like the numbers. */
static int cmp_mag(floatx80 a, floatx80 b)
{
    if (is_zero(a)) return is_zero(b) ? 0 : -1;
    if (is_zero(b)) return 1;
    if (is_inf(a)) return is_inf(b) ? 0 : 1;
    if (is_inf(b)) return -1;
    int s;
    int32_t ea, eb;
    uint64_t ma, mb;
    fx_unpack(a, &s, &ea, &ma);
    fx_unpack(b, &s, &eb, &mb);
    if (ea != eb) return ea < eb ? -1 : 1;
    return ma < mb ? -1 : ma > mb;
}

int fx80_compare(floatx80 a, floatx80 b, bool quiet, struct fx80_env *e)
{
    enum fx80_class ca = fx80_classify(a), cb = fx80_classify(b);
    if (ca == FX_UNSUPPORTED || cb == FX_UNSUPPORTED) {
        e->flags |= X87_IE;
        return FX_UN;
    }
    if (ca == FX_QNAN || ca == FX_SNAN || cb == FX_QNAN || cb == FX_SNAN) {
        if (!quiet || ca == FX_SNAN || cb == FX_SNAN) e->flags |= X87_IE;
        return FX_UN;
    }
    if (ca == FX_DENORMAL || cb == FX_DENORMAL) e->flags |= X87_DE;
    int sa = fx80_sign(a) && !is_zero(a), sb = fx80_sign(b) && !is_zero(b);
    if (sa != sb) return sa ? FX_LT : FX_GT;
    int c = cmp_mag(a, b);
    if (sa) c = -c;
    return c < 0 ? FX_LT : c > 0 ? FX_GT : FX_EQ;
}
