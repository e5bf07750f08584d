/* x87_conv.c - conversions between floatx80 and the memory formats the x87
 * loads and stores: int16/32/64, float32/64 and 18-digit packed BCD.
 *
 * Loads are exact.  Stores round with RC (never PC) and use the narrow
 * format's own exponent range; tininess is detected before rounding.
 */
#include "x87_float_int.h"

floatx80 fx80_from_i64(int64_t v)
{
    if (!v) return fx_zero(0);
    int sign = v < 0;
    uint64_t m = sign ? 0 - (uint64_t)v : (uint64_t)v;
    int s = __builtin_clzll(m);
    return fx80_make(sign, FX80_BIAS + 63 - s, m << s);
}

/* Shared by both binary formats: p significand bits (with the hidden one),
 * ebits exponent bits. */
static floatx80 from_binary_raw(uint64_t v, int p, int ebits, bool *denormal)
{
    int fbits = p - 1, bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
    int sign = (int)(v >> (fbits + ebits)) & 1;
    int exp = (int)(v >> fbits) & emax;
    uint64_t frac = v & ((1ull << fbits) - 1);
    *denormal = false;
    if (exp == emax) return fx80_make(sign, 0x7fff, FX_INT_BIT | (frac << (64 - p)));
    if (exp == 0) {
        if (!frac) return fx_zero(sign);
        *denormal = true;
        int s = __builtin_clzll(frac);
        /* value = frac * 2^(1 - bias - fbits) */
        return fx80_make(sign, 1 - bias - fbits + FX80_BIAS + 63 - s, frac << s);
    }
    return fx80_make(sign, exp - bias + FX80_BIAS, FX_INT_BIT | (frac << (64 - p)));
}

floatx80 fx_from_f32_raw(uint32_t v, bool *denormal) { return from_binary_raw(v, 24, 8, denormal); }
floatx80 fx_from_f64_raw(uint64_t v, bool *denormal) { return from_binary_raw(v, 53, 11, denormal); }

static floatx80 load_binary(floatx80 r, bool denormal, struct fx80_env *e)
{
    if (fx80_classify(r) == FX_SNAN) return fx_nan1(r, e);
    if (denormal) e->flags |= X87_DE;
    return r;
}

floatx80 fx80_from_f32(uint32_t v, struct fx80_env *e)
{
    bool d;
    floatx80 r = fx_from_f32_raw(v, &d);
    return load_binary(r, d, e);
}

floatx80 fx80_from_f64(uint64_t v, struct fx80_env *e)
{
    bool d;
    floatx80 r = fx_from_f64_raw(v, &d);
    return load_binary(r, d, e);
}

/* floatx80 -> binary format with p significand bits and ebits exponent bits. */
static uint64_t to_binary(floatx80 a, int p, int ebits, struct fx80_env *e)
{
    int fbits = p - 1, bias = (1 << (ebits - 1)) - 1, emax = (1 << ebits) - 1;
    uint64_t sbit = 1ull << (fbits + ebits), fmask = (1ull << fbits) - 1;
    uint64_t inf = (uint64_t)emax << fbits, qbit = 1ull << (fbits - 1);
    enum fx80_class c = fx80_classify(a);
    int sign = fx80_sign(a);
    uint64_t s = sign ? sbit : 0;

    switch (c) {
    case FX_UNSUPPORTED: e->flags |= X87_IE; return sbit | inf | qbit;
    case FX_SNAN: e->flags |= X87_IE; /* fall through */
    case FX_QNAN: return s | inf | qbit | ((a.mant >> (64 - p)) & fmask);
    case FX_INF: return s | inf;
    case FX_ZERO: return s;
    default: break; /* no DE on stores: the host x87 raises none (docs/x87.md) */
    }
    int32_t E;
    uint64_t m;
    fx_unpack(a, &sign, &E, &m);
    int32_t exp = E - FX80_BIAS + bias;
    u128 sig = (u128)m << 64;
    int rc = fx_rc(e), drop = 128 - p;
    bool inexact, up, carry;
    uint64_t r;
    if (exp <= 0) {
        /* tiny: below the smallest normal after rounding with unbounded exponent */
        fx_round_sig(sign, sig, drop, rc, &inexact, &up, &carry);
        bool tiny = exp + carry <= 0;
        if (tiny && !(e->cw & X87_UE)) {
            e->flags |= X87_UE; /* no store: the caller checks fx80_store_aborts */
            fx_note_rounding(inexact, up, e);
            return 0;
        }
        sig = fx_shr_jam(sig, 1 - exp);
        r = fx_round_sig(sign, sig, drop, rc, &inexact, &up, &carry) >> (64 - p);
        if (inexact && tiny) e->flags |= X87_UE;
        fx_note_rounding(inexact, up, e);
        return s | r; /* a carry into the hidden bit yields exponent field 1 */
    }
    r = fx_round_sig(sign, sig, drop, rc, &inexact, &up, &carry) >> (64 - p);
    if (carry) {
        exp++;
        r = 1ull << fbits;
    }
    if (exp >= emax) {
        if (!(e->cw & X87_OE)) {
            e->flags |= X87_OE;
            fx_note_rounding(inexact, up, e);
            return 0;
        }
        e->flags |= X87_OE | X87_PE;
        if (rc == X87_RC_NEAR || (rc == X87_RC_UP && !sign) || (rc == X87_RC_DOWN && sign)) {
            e->flags |= X87_C1;
            return s | inf;
        }
        return s | (inf - 1);
    }
    fx_note_rounding(inexact, up, e);
    return s | ((uint64_t)exp << fbits) | (r & fmask);
}

uint32_t fx80_to_f32(floatx80 a, struct fx80_env *e) { return (uint32_t)to_binary(a, 24, 8, e); }
uint64_t fx80_to_f64(floatx80 a, struct fx80_env *e) { return to_binary(a, 53, 11, e); }

/* Rounds |a| to an integer magnitude per rc; false if it does not fit in 64 bits. */
static bool round_to_u64(floatx80 a, int rc, uint64_t *mag, struct fx80_env *e)
{
    int sign;
    int32_t E;
    uint64_t m;
    fx_unpack(a, &sign, &E, &m);
    E -= FX80_BIAS;
    if (E >= 64) return false;
    if (E == 63) {
        *mag = m;
        return true;
    }
    bool inexact, up, carry;
    u128 sig = fx_shr_jam((u128)m << 64, 63 - E);
    /* integer part in bits 64..127 after the shift: round at bit 64 */
    uint64_t r = fx_round_sig(sign, sig << 0, 64, rc, &inexact, &up, &carry);
    *mag = r; /* E < 63 so no carry out of 64 bits */
    fx_note_rounding(inexact, up, e);
    return true;
}

int64_t fx80_to_int(floatx80 a, int bits, bool truncate, struct fx80_env *e)
{
    int64_t indefinite = (int64_t)(~0ull << (bits - 1));
    enum fx80_class c = fx80_classify(a);
    if (c == FX_ZERO) return 0;
    if (c == FX_UNSUPPORTED || c == FX_QNAN || c == FX_SNAN || c == FX_INF) {
        e->flags |= X87_IE;
        return indefinite;
    }
    struct fx80_env t = *e;
    uint64_t mag;
    int sign = fx80_sign(a);
    uint64_t limit = (1ull << (bits - 1)) - (sign ? 0 : 1);
    if (!round_to_u64(a, truncate ? X87_RC_ZERO : fx_rc(e), &mag, &t) || mag > limit) {
        e->flags |= X87_IE;
        return indefinite;
    }
    *e = t;
    return sign ? (int64_t)(0 - mag) : (int64_t)mag;
}

floatx80 fx80_from_bcd(const uint8_t bcd[10])
{
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--) v = v * 100 + (bcd[i] >> 4) * 10 + (bcd[i] & 15);
    int sign = bcd[9] >> 7;
    if (!v) return fx_zero(sign);
    floatx80 r = fx80_from_i64((int64_t)v);
    r.sign_exp |= (uint16_t)(sign << 15);
    return r;
}

void fx80_to_bcd(floatx80 a, uint8_t bcd[10], struct fx80_env *e)
{
    static const uint8_t indefinite[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff};
    enum fx80_class c = fx80_classify(a);
    uint64_t mag = 0;
    for (int i = 0; i < 10; i++) bcd[i] = indefinite[i];
    if (c == FX_UNSUPPORTED || c == FX_QNAN || c == FX_SNAN || c == FX_INF) {
        e->flags |= X87_IE;
        return;
    }
    if (c != FX_ZERO) {
        struct fx80_env t = *e;
        if (!round_to_u64(a, fx_rc(e), &mag, &t) || mag > 999999999999999999ull) {
            e->flags |= X87_IE;
            return;
        }
        *e = t;
    }
    for (int i = 0; i < 9; i++) {
        unsigned lo = (unsigned)(mag % 10), hi = (unsigned)(mag / 10 % 10);
        bcd[i] = (uint8_t)(hi << 4 | lo);
        mag /= 100;
    }
    bcd[9] = (uint8_t)(fx80_sign(a) << 7);
}
