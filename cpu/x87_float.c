/* x87_float.c - rounding, special operands and the five basic operations
 * (add, sub, mul, div, sqrt) of the software 80-bit core.
 *
 * Cost: every operation is a handful of 128-bit integer operations; division
 * uses two 128/64 divisions and sqrt a 64-step digit-by-digit root.
 */
#include "x87_float_int.h"

enum fx80_class fx80_classify(floatx80 a)
{
    int e = fx80_exp(a);
    if (e == 0) return a.mant ? FX_DENORMAL : FX_ZERO;
    if (!(a.mant & FX_INT_BIT)) return FX_UNSUPPORTED; /* unnormal, pseudo-inf/NaN */
    if (e != 0x7fff) return FX_NORMAL;
    if (!(a.mant << 1)) return FX_INF;
    return (a.mant & FX_QUIET_BIT) ? FX_QNAN : FX_SNAN;
}

floatx80 fx80_indefinite(void) { return fx80_make(1, 0x7fff, 0xc000000000000000ull); }

/* Round sig to keep its top (128 - drop) bits.  Returns the high 64 bits of
 * the rounded significand; *carry when it overflowed to 2^128 (the result is
 * then 1 << 63 and the caller increments the exponent). */
uint64_t fx_round_sig(int sign, u128 sig, int drop, int rc, bool *inexact, bool *up, bool *carry)
{
    u128 lsb = (u128)1 << drop;
    u128 rem = sig & (lsb - 1), half = lsb >> 1;
    bool inc;
    switch (rc) {
    case X87_RC_NEAR: inc = rem > half || (rem == half && (sig & lsb)); break;
    case X87_RC_DOWN: inc = sign && rem; break;
    case X87_RC_UP: inc = !sign && rem; break;
    default: inc = false; break;
    }
    *inexact = rem != 0;
    *up = inc;
    *carry = false;
    sig -= rem;
    if (inc) {
        u128 s = sig + lsb;
        if (s < sig) {
            *carry = true;
            return FX_INT_BIT;
        }
        sig = s;
    }
    return (uint64_t)(sig >> 64);
}

void fx_note_rounding(bool inexact, bool up, struct fx80_env *e)
{
    if (inexact) e->flags |= X87_PE;
    if (up) e->flags |= X87_C1;
}

floatx80 fx_round_pack(int sign, int32_t exp, u128 sig, int prec, struct fx80_env *e)
{
    int rc = fx_rc(e), drop = 128 - prec;
    bool inexact, up, carry;
    uint64_t m;

    if (exp <= 0) {
        /* Tininess is judged on the result rounded to PC with an unbounded
         * exponent (SDM 8.5.5): only exp == 0 rounding up to 2^-16382 escapes. */
        m = fx_round_sig(sign, sig, drop, rc, &inexact, &up, &carry);
        bool tiny = exp + carry <= 0;
        if (tiny && !(e->cw & X87_UE)) {
            /* Unmasked underflow: keep that rounding, bias the exponent up. */
            e->flags |= X87_UE;
            fx_note_rounding(inexact, up, e);
            exp += carry + FX80_BIAS_ADJUST;
            if (exp <= 0) return fx_zero(sign); /* beyond even the biased range */
            return fx80_make(sign, exp, m);
        }
        /* Masked: denormalize (the rounding position in the significand stays
         * where PC puts it); UE only when tiny and inexact. */
        sig = fx_shr_jam(sig, 1 - exp);
        m = fx_round_sig(sign, sig, drop, rc, &inexact, &up, &carry);
        if (inexact && tiny) e->flags |= X87_UE;
        fx_note_rounding(inexact, up, e);
        return fx80_make(sign, (m & FX_INT_BIT) ? 1 : 0, m);
    }
    m = fx_round_sig(sign, sig, drop, rc, &inexact, &up, &carry);
    exp += carry;
    if (exp >= 0x7fff) {
        if (!(e->cw & X87_OE)) {
            e->flags |= X87_OE;
            fx_note_rounding(inexact, up, e);
            exp -= FX80_BIAS_ADJUST;
            if (exp >= 0x7fff) return fx_inf(sign);
            return fx80_make(sign, exp, m);
        }
        e->flags |= X87_OE | X87_PE;
        if (rc == X87_RC_NEAR || (rc == X87_RC_UP && !sign) || (rc == X87_RC_DOWN && sign)) {
            e->flags |= X87_C1;
            return fx_inf(sign);
        }
        return fx80_make(sign, 0x7ffe, ~0ull << (64 - prec));
    }
    fx_note_rounding(inexact, up, e);
    return fx80_make(sign, exp, m);
}

floatx80 fx_norm_round_pack(int sign, int32_t exp, u128 sig, int prec, struct fx80_env *e)
{
    if (!sig) return fx_zero(sign);
    int s = fx_clz128(sig);
    return fx_round_pack(sign, exp - s, sig << s, prec, e);
}

floatx80 fx_nan1(floatx80 a, struct fx80_env *e)
{
    if (!(a.mant & FX_QUIET_BIT)) e->flags |= X87_IE;
    a.mant |= FX_QUIET_BIT;
    return a;
}

floatx80 fx_nan2(floatx80 a, floatx80 b, struct fx80_env *e)
{
    bool an = fx80_is_nan(a), bn = fx80_is_nan(b);
    if ((an && !(a.mant & FX_QUIET_BIT)) || (bn && !(b.mant & FX_QUIET_BIT))) e->flags |= X87_IE;
    if (an && bn) {
        /* Both NaNs: a QNaN beats an SNaN, else the larger significand wins,
         * ties go to the positive one. */
        uint64_t ma = a.mant, mb = b.mant;
        if ((ma ^ mb) & FX_QUIET_BIT) {
            if (mb & FX_QUIET_BIT) a = b;
        } else if (ma < mb || (ma == mb && fx80_sign(a) && !fx80_sign(b))) {
            a = b;
        }
    } else if (!an) {
        a = b;
    }
    a.mant |= FX_QUIET_BIT;
    return a;
}

bool fx_prologue2(floatx80 a, floatx80 b, floatx80 *r, struct fx80_env *e)
{
    enum fx80_class ca = fx80_classify(a), cb = fx80_classify(b);
    if (ca == FX_UNSUPPORTED || cb == FX_UNSUPPORTED) {
        *r = fx_invalid(e);
        return true;
    }
    if (ca == FX_QNAN || ca == FX_SNAN || cb == FX_QNAN || cb == FX_SNAN) {
        *r = fx_nan2(a, b, e);
        return true;
    }
    return false;
}

bool fx_denormal(floatx80 a, floatx80 b, struct fx80_env *e)
{
    if (fx80_classify(a) != FX_DENORMAL && fx80_classify(b) != FX_DENORMAL) return false;
    e->flags |= X87_DE;
    return !(e->cw & X87_DE);
}

bool fx_prologue1(floatx80 a, floatx80 *r, struct fx80_env *e)
{
    enum fx80_class ca = fx80_classify(a);
    if (ca == FX_UNSUPPORTED) {
        *r = fx_invalid(e);
        return true;
    }
    if (ca == FX_QNAN || ca == FX_SNAN) {
        *r = fx_nan1(a, e);
        return true;
    }
    return false;
}

static bool is_zero(floatx80 a) { return fx80_exp(a) == 0 && a.mant == 0; }
static bool is_inf(floatx80 a) { return fx80_classify(a) == FX_INF; }

static floatx80 addsub(floatx80 a, floatx80 b, int negb, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(a, b, &r, e)) return r;
    if (fx_denormal(a, b, e)) return a;
    b.sign_exp ^= (uint16_t)(negb << 15);
    int sa = fx80_sign(a), sb = fx80_sign(b);
    if (is_inf(a)) {
        if (is_inf(b) && sa != sb) return fx_invalid(e);
        return a;
    }
    if (is_inf(b)) return b;
    int prec = fx_prec(e);
    if (is_zero(a) && is_zero(b)) {
        if (sa == sb) return a;
        return fx_zero(fx_rc(e) == X87_RC_DOWN);
    }
    int32_t ea, eb;
    uint64_t ma, mb;
    if (is_zero(a)) {
        fx_unpack(b, &sb, &eb, &mb);
        return fx_round_pack(sb, eb, (u128)mb << 64, prec, e);
    }
    if (is_zero(b)) {
        fx_unpack(a, &sa, &ea, &ma);
        return fx_round_pack(sa, ea, (u128)ma << 64, prec, e);
    }
    fx_unpack(a, &sa, &ea, &ma);
    fx_unpack(b, &sb, &eb, &mb);
    if (ea < eb || (ea == eb && ma < mb)) {
        int ts = sa; sa = sb; sb = ts;
        int32_t te = ea; ea = eb; eb = te;
        uint64_t tm = ma; ma = mb; mb = tm;
    }
    u128 A = (u128)ma << 63; /* leading one at bit 126: room for a carry */
    u128 B = fx_shr_jam((u128)mb << 63, ea - eb);
    u128 S = sa == sb ? A + B : A - B;
    if (!S) return fx_zero(fx_rc(e) == X87_RC_DOWN);
    return fx_norm_round_pack(sa, ea + 1, S, prec, e);
}

floatx80 fx80_add(floatx80 a, floatx80 b, struct fx80_env *e) { return addsub(a, b, 0, e); }
floatx80 fx80_sub(floatx80 a, floatx80 b, struct fx80_env *e) { return addsub(a, b, 1, e); }

floatx80 fx80_mul(floatx80 a, floatx80 b, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(a, b, &r, e)) return r;
    if (fx_denormal(a, b, e)) return a;
    int s = fx80_sign(a) ^ fx80_sign(b);
    if (is_inf(a) || is_inf(b)) {
        if (is_zero(a) || is_zero(b)) return fx_invalid(e);
        return fx_inf(s);
    }
    if (is_zero(a) || is_zero(b)) return fx_zero(s);
    int sa, sb;
    int32_t ea, eb;
    uint64_t ma, mb;
    fx_unpack(a, &sa, &ea, &ma);
    fx_unpack(b, &sb, &eb, &mb);
    return fx_norm_round_pack(s, ea + eb - FX80_BIAS + 1, (u128)ma * mb, fx_prec(e), e);
}

floatx80 fx80_div(floatx80 a, floatx80 b, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(a, b, &r, e)) return r;
    int s = fx80_sign(a) ^ fx80_sign(b);
    if (is_zero(b) && !is_inf(a)) { /* ZE and 0/0 take precedence over DE */
        if (is_zero(a)) return fx_invalid(e);
        e->flags |= X87_ZE;
        return fx_inf(s);
    }
    if (fx_denormal(a, b, e)) return a;
    if (is_inf(a)) {
        if (is_inf(b)) return fx_invalid(e);
        return fx_inf(s);
    }
    if (is_inf(b)) return fx_zero(s);
    if (is_zero(a)) return fx_zero(s);
    int sa, sb;
    int32_t ea, eb;
    uint64_t ma, mb;
    fx_unpack(a, &sa, &ea, &ma);
    fx_unpack(b, &sb, &eb, &mb);
    /* 128 quotient bits: q (64-65 bits) then 64 more, remainder as sticky. */
    u128 n = (u128)ma << 64;
    u128 q = n / mb, rem = n % mb;
    u128 n2 = rem << 64;
    u128 q2 = n2 / mb, rem2 = n2 % mb;
    u128 Q = (q << 63) | (q2 >> 1) | ((q2 & 1) | (rem2 != 0));
    return fx_norm_round_pack(s, ea - eb + FX80_BIAS, Q, fx_prec(e), e);
}

/* floor(sqrt(n)), *rem = n - root^2.  64 iterations. */
static uint64_t isqrt128(u128 n, u128 *rem)
{
    u128 res = 0, bit = (u128)1 << 126;
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
    *rem = n;
    return (uint64_t)res;
}

floatx80 fx80_sqrt(floatx80 a, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue1(a, &r, e)) return r;
    if (is_zero(a)) return a;
    if (fx80_sign(a)) return fx_invalid(e); /* before DE */
    if (fx_denormal(a, a, e)) return a;
    if (is_inf(a)) return a;
    int s;
    int32_t ea;
    uint64_t ma;
    fx_unpack(a, &s, &ea, &ma);
    int32_t E = ea - FX80_BIAS;
    u128 rem;
    uint64_t root;
    if (E & 1) {
        root = isqrt128((u128)ma << 64, &rem);
        E -= 1;
    } else {
        root = isqrt128((u128)ma << 63, &rem);
    }
    /* The exact root is never r + 1/2, so guard = rem > root and sticky = rem != 0. */
    u128 sig = ((u128)root << 64) | ((u128)(rem > root) << 63) | (rem != 0);
    return fx_round_pack(0, E / 2 + FX80_BIAS, sig, fx_prec(e), e);
}
