/* x87_trans.c - FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1.
 *
 * Host-independent: every function is evaluated in 128-bit-significand
 * arithmetic (x87_xf.c) with series whose truncation error is below 2^-120
 * relative, then rounded once to 64 bits with RC (PC does not apply).  The
 * result is therefore the correctly rounded value except within ~2^-120 of a
 * rounding boundary.  PE is raised for every result that is not exact.
 *
 * FSIN/FCOS/FSINCOS/FPTAN reduce their argument modulo pi/2 with an exact
 * multi-word product, using pi rounded to 66 bits as Intel documents for the
 * P6 and later (SDM Vol. 1, 8.3.10), unless X87_EXACT_PI is defined.
 * Cost: a few microseconds per call (series of 20-60 terms).
 */
#include "x87_xf.h"

/* 128-bit constants (truncated). */
static const xf XF_PI = {0, 1, ((u128)0xc90fdaa22168c234ull << 64) | 0xc4c6628b80dc1cd1ull};
static const xf XF_PIO2 = {0, 0, ((u128)0xc90fdaa22168c234ull << 64) | 0xc4c6628b80dc1cd1ull};
static const xf XF_LN2 = {0, -1, ((u128)0xb17217f7d1cf79abull << 64) | 0xc9e3b39803f2f6afull};
static const xf XF_LOG2E = {0, 0, ((u128)0xb8aa3b295c17f0bbull << 64) | 0xbe87fed0691d3e88ull};
static const xf XF_SQRT2 = {0, 0, ((u128)0xb504f333f9de6484ull << 64) | 0x597d89b3754abe9full};
static const xf XF_ONE = {0, 0, (u128)1 << 127};

/* pi/2 * 2^382 as six little-endian 64-bit words. */
#define NW 7
static const uint64_t PIO2_EXACT[6] = {0xf7ca8cd9e69d218dull, 0x28a5043cc71a026eull,
                                       0x0105df531d89cd91ull, 0x948127044533e63aull,
                                       0x62633145c06e0e68ull, 0x6487ed5110b4611aull};

static void pio2_words(uint64_t w[6])
{
#ifdef X87_EXACT_PI
    for (int i = 0; i < 6; i++) w[i] = PIO2_EXACT[i];
#else
    /* pi rounded to 66 bits = 0x3243f6a8885a308d3 * 2^-64; pi/2 * 2^382 = that << 317 */
    for (int i = 0; i < 6; i++) w[i] = 0;
    uint64_t lo = 0x243f6a8885a308d3ull, hi = 0x3; /* 66-bit integer hi:lo */
    /* shift by 317 = 4*64 + 61 */
    w[4] = lo << 61;
    w[5] = (lo >> 3) | (hi << 61);
    (void)PIO2_EXACT;
#endif
}

/* |a| (|a| < 2^63, finite, non-zero) mod pi/2: returns r with |r| <~ pi/4 and
 * the quadrant k mod 4. */
static xf reduce(floatx80 a, int *quadrant)
{
    xf x = xf_from_fx(a);
    x.sign = 0;
    *quadrant = 0;
    if (x.exp < -1) return x; /* |x| < 0.5 */
    uint64_t P[6];
    pio2_words(P);
    /* k = nearest integer to x / (pi/2) (an error of one is harmless) */
    xf t = xf_div(x, XF_PIO2);
    uint64_t k = 0;
    if (t.exp >= -1) {
        u128 fixed = t.m >> (126 - t.exp); /* integer part with one fraction bit */
        k = (uint64_t)((fixed + 1) >> 1);
    }
    if (!k) return x;
    *quadrant = (int)(k & 3);
    /* X = x * 2^318 as NW words: mantissa m (64 bits) << (E + 255), E = x.exp */
    uint64_t X[NW] = {0}, KP[NW + 1] = {0}, R[NW];
    uint64_t m = (uint64_t)(x.m >> 64);
    int sh = x.exp - 63 + 318; /* m * 2^(x.exp - 63) * 2^318 */
    int wi = sh / 64, bi = sh % 64;
    X[wi] = m << bi;
    if (bi && wi + 1 < NW) X[wi + 1] = m >> (64 - bi);
    /* KP = k * P (scale 2^-382), then >> 64 to scale 2^-318 */
    u128 carry = 0;
    for (int i = 0; i < 6; i++) {
        u128 p = (u128)P[i] * k + carry;
        KP[i] = (uint64_t)p;
        carry = p >> 64;
    }
    KP[6] = (uint64_t)carry;
    /* R = X - KP[1..7] */
    uint64_t borrow = 0;
    for (int i = 0; i < NW; i++) {
        uint64_t s = KP[i + 1];
        uint64_t d = X[i] - s - borrow;
        borrow = (X[i] < s) || (X[i] - s < borrow);
        R[i] = d;
    }
    int sign = 0;
    if (borrow) { /* negative: two's complement negate */
        sign = 1;
        uint64_t c = 1;
        for (int i = 0; i < NW; i++) {
            R[i] = ~R[i] + c;
            c = c && R[i] == 0;
        }
    }
    int top = NW - 1;
    while (top >= 0 && !R[top]) top--;
    if (top < 0) return xf_zero();
    int lz = __builtin_clzll(R[top]);
    /* gather 128 bits starting at the leading one */
    u128 hi = (u128)R[top] << 64 | (top >= 1 ? R[top - 1] : 0);
    uint64_t next = top >= 2 ? R[top - 2] : 0;
    u128 mm = lz ? (hi << lz) | (next >> (64 - lz)) : hi;
    /* value = mm * 2^(64*top + 64 - lz - 128) * 2^-318 */
    xf r = {sign, 64 * top + 64 - lz - 1 - 318, mm | 1};
    return r;
}

/* sin (want_cos=0) or cos (1) of |r| <~ pi/4 by Taylor series. */
static xf series_sincos(xf r, int want_cos)
{
    xf r2 = xf_mul(r, r);
    xf term = want_cos ? XF_ONE : r, sum = term;
    for (uint64_t n = want_cos ? 1 : 2; n < 80; n += 2) {
        term = xf_div_u64(xf_mul(term, r2), n * (n + 1));
        term.sign ^= 1;
        sum = xf_add(sum, term); /* the first negligible term still sets the sticky side */
        if (!term.m || term.exp < sum.exp - 132) break;
    }
    return sum;
}

/* sin and cos of a (finite, non-zero, |a| < 2^63). */
static void sincos_xf(floatx80 a, xf *s, xf *c)
{
    int q;
    xf r = reduce(a, &q);
    xf sr = series_sincos(r, 0), cr = series_sincos(r, 1);
    switch (q) {
    case 0: *s = sr; *c = cr; break;
    case 1: *s = cr; *c = xf_neg(sr); break;
    case 2: *s = xf_neg(sr); *c = xf_neg(cr); break;
    default: *s = xf_neg(cr); *c = sr; break;
    }
    if (fx80_sign(a)) *s = xf_neg(*s);
}

static bool is_zero(floatx80 a) { return fx80_exp(a) == 0 && a.mant == 0; }

/*
 * Below 2^-68 (biased exponent < 0x3fbb, denormals included) the P6-family
 * x87 does not round sin(x) and tan(x) = x(1 +- x^2/3) and cos(x) = 1 - x^2/2
 * by RC: it returns x and 1.0 as they are, with PE set and C1 clear, in every
 * rounding mode (measured on an Intel host: at 0x3fba RZ still gives x, at
 * 0x3fbb the correctly rounded value). *x becomes what sin and tan return: a
 * pseudo-denormal normalized (exponent 1), a denormal as it is, with UE
 * (tiny and inexact); cos's 1.0 raises no UE.
 */
#define TRIG_TINY_EXP 0x3fbb
static bool trig_tiny(floatx80 *x, bool want_sin, struct fx80_env *e)
{
    if (fx80_exp(*x) >= TRIG_TINY_EXP)
        return false;
    e->flags |= X87_PE;
    if (fx80_exp(*x) == 0) {
        if (x->mant & FX_INT_BIT)
            *x = fx80_make(fx80_sign(*x), 1, x->mant);
        else if (want_sin)
            e->flags |= X87_UE;
    }
    return true;
}

/* Common checks of the range-limited group; returns 1 when *r is decided,
 * 2 when out of range (C2), 0 to compute. */
static int trig_prologue(floatx80 a, floatx80 *r, struct fx80_env *e)
{
    if (fx_prologue1(a, r, e)) return 1;
    if (fx80_classify(a) == FX_INF) {
        *r = fx_invalid(e);
        return 1;
    }
    if (fx_denormal(a, a, e)) {
        *r = a;
        return 1;
    }
    if (fx80_exp(a) >= FX80_BIAS + 63) return 2;
    return 0;
}

bool fx80_sincos(floatx80 a, floatx80 *s, floatx80 *c, struct fx80_env *e)
{
    int k = trig_prologue(a, s, e);
    if (k == 2) return false;
    if (k == 1) {
        *c = *s;
        return true;
    }
    if (is_zero(a)) {
        *s = a;
        *c = fx80_make(0, FX80_BIAS, FX_INT_BIT);
        return true;
    }
    if (trig_tiny(&a, true, e)) {
        *s = a;
        *c = fx80_make(0, FX80_BIAS, FX_INT_BIT);
        return true;
    }
    xf xs, xc;
    sincos_xf(a, &xs, &xc);
    *s = xf_to_fx_inexact(xs, e);
    *c = xf_to_fx_inexact(xc, e);
    return true;
}

bool fx80_sin(floatx80 a, floatx80 *r, struct fx80_env *e)
{
    int k = trig_prologue(a, r, e);
    if (k) return k == 1;
    if (is_zero(a)) {
        *r = a;
        return true;
    }
    if (trig_tiny(&a, true, e)) {
        *r = a;
        return true;
    }
    xf xs, xc;
    sincos_xf(a, &xs, &xc);
    *r = xf_to_fx_inexact(xs, e);
    return true;
}

bool fx80_cos(floatx80 a, floatx80 *r, struct fx80_env *e)
{
    int k = trig_prologue(a, r, e);
    if (k) return k == 1;
    if (is_zero(a)) {
        *r = fx80_make(0, FX80_BIAS, FX_INT_BIT);
        return true;
    }
    if (trig_tiny(&a, false, e)) {
        *r = fx80_make(0, FX80_BIAS, FX_INT_BIT);
        return true;
    }
    xf xs, xc;
    sincos_xf(a, &xs, &xc);
    *r = xf_to_fx_inexact(xc, e);
    return true;
}

bool fx80_tan(floatx80 a, floatx80 *r, struct fx80_env *e)
{
    int k = trig_prologue(a, r, e);
    if (k) return k == 1;
    if (is_zero(a)) {
        *r = a;
        return true;
    }
    if (trig_tiny(&a, true, e)) {
        *r = a;
        return true;
    }
    xf xs, xc;
    sincos_xf(a, &xs, &xc);
    *r = xf_to_fx_inexact(xf_div(xs, xc), e);
    return true;
}

/* atan(t) for 0 <= t <= 1: two argument halvings t' = t / (1 + sqrt(1 + t^2))
 * bring t below tan(pi/16), then the alternating series. */
static xf atan_xf(xf t)
{
    int halvings = 0;
    for (; halvings < 2 && t.exp > -8; halvings++)
        t = xf_div(t, xf_add(XF_ONE, xf_sqrt(xf_add(XF_ONE, xf_mul(t, t)))));
    xf t2 = xf_mul(t, t), p = t, sum = t;
    for (uint64_t n = 3; n < 200; n += 2) {
        p = xf_mul(p, t2);
        p.sign ^= 1;
        xf term = xf_div_u64(p, n);
        sum = xf_add(sum, term);
        if (!term.m || term.exp < sum.exp - 132) break;
    }
    sum.exp += halvings;
    return sum;
}

floatx80 fx80_atan2(floatx80 y, floatx80 x, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(y, x, &r, e)) return r;
    if (fx_denormal(y, x, e)) return x;
    int sy = fx80_sign(y), sx = fx80_sign(x);
    bool yinf = fx80_classify(y) == FX_INF, xinf = fx80_classify(x) == FX_INF;
    xf res;
    if (is_zero(y)) {
        if (!sx) return y;                         /* +-0 */
        res = XF_PI;                               /* +-pi */
    } else if (yinf && xinf) {
        res = xf_div_u64(XF_PI, 4);                /* +-pi/4 or +-3pi/4 */
        if (sx) res = xf_sub(XF_PI, res);
    } else if (yinf || is_zero(x)) {
        res = XF_PIO2;
    } else if (xinf) {
        if (!sx) return fx80_make(sy, 0, 0);
        res = XF_PI;
    } else {
        xf ay = xf_from_fx(y), ax = xf_from_fx(x);
        ay.sign = ax.sign = 0;
        if (xf_mag_less(ax, ay))
            res = xf_sub(XF_PIO2, atan_xf(xf_div(ax, ay)));
        else
            res = atan_xf(xf_div(ay, ax));
        if (sx) res = xf_sub(XF_PI, res);
    }
    res.sign = sy;
    return xf_to_fx_inexact(res, e);
}

floatx80 fx80_f2xm1(floatx80 a, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue1(a, &r, e)) return r;
    if (fx_denormal(a, a, e)) return a;
    enum fx80_class c = fx80_classify(a);
    if (c == FX_ZERO) return a;
    if (c == FX_INF) return fx80_sign(a) ? fx80_make(1, FX80_BIAS, FX_INT_BIT) : a;
    /* |x| > 1 is undefined on Intel; the AMD host returns x and raises PE: so do we */
    if (fx80_exp(a) > FX80_BIAS || (fx80_exp(a) == FX80_BIAS && a.mant != FX_INT_BIT)) {
        e->flags |= X87_PE;
        return a;
    }
    /* exact cases 2^1 - 1 = 1, 2^-1 - 1 = -1/2: the host x87 still reports PE */
    if (fx80_exp(a) == FX80_BIAS && a.mant == FX_INT_BIT) {
        e->flags |= X87_PE;
        return fx80_sign(a) ? fx80_make(1, FX80_BIAS - 1, FX_INT_BIT) : a;
    }
    /* 2^x - 1 = expm1(x ln2): series y + y^2/2! + ... (the x87 defines |x| <= 1) */
    xf y = xf_mul(xf_from_fx(a), XF_LN2), term = y, sum = y;
    for (uint64_t n = 2; n < 200; n++) {
        term = xf_div_u64(xf_mul(term, y), n);
        sum = xf_add(sum, term);
        if (!term.m || term.exp < sum.exp - 132) break;
    }
    return xf_to_fx_inexact(sum, e);
}

/* ln(v) for v in [sqrt(1/2), sqrt(2)] given as u = (v-1)/(v+1): 2*atanh(u). */
static xf ln_from_u(xf u)
{
    xf u2 = xf_mul(u, u), p = u, sum = u;
    for (uint64_t n = 3; n < 400; n += 2) {
        p = xf_mul(p, u2);
        xf term = xf_div_u64(p, n);
        sum = xf_add(sum, term);
        if (!term.m || term.exp < sum.exp - 132) break;
    }
    sum.exp += 1;
    return sum;
}

/* log2 of a positive finite non-zero value. */
static xf log2_xf(xf v)
{
    int32_t E = v.exp;
    v.exp = 0; /* v in [1, 2) */
    if (!xf_mag_less(v, XF_SQRT2)) {
        v.exp = -1;
        E++;
    }
    xf u = xf_div(xf_sub(v, XF_ONE), xf_add(v, XF_ONE));
    xf l = xf_mul(ln_from_u(u), XF_LOG2E);
    xf ex = xf_make(E < 0, 127, (u128)(E < 0 ? -(int64_t)E : E));
    return xf_add(ex, l);
}

floatx80 fx80_yl2x(floatx80 x, floatx80 y, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(x, y, &r, e)) return r;
    enum fx80_class cx = fx80_classify(x), cy = fx80_classify(y);
    int sx = fx80_sign(x), sy = fx80_sign(y);
    bool one = fx80_exp(x) == FX80_BIAS && x.mant == FX_INT_BIT && !sx;
    /* invalid: x < 0, 0 * inf patterns */
    if (sx && cx != FX_ZERO) return fx_invalid(e);
    if (cx == FX_ZERO && cy == FX_ZERO) return fx_invalid(e);
    if (one && cy == FX_INF) return fx_invalid(e);
    if (cx == FX_INF && cy == FX_ZERO) return fx_invalid(e);
    if (cx == FX_ZERO && cy != FX_INF) {
        e->flags |= X87_ZE;
        return fx_inf(!sy);
    }
    if (fx_denormal(x, y, e)) return y;
    if (cx == FX_ZERO) return fx_inf(!sy);
    if (cx == FX_INF) return fx_inf(sy);
    /* 0 < x < inf: the sign of log2(x) decides */
    bool below_one = fx80_exp(x) < FX80_BIAS || (cx == FX_DENORMAL);
    if (cy == FX_INF) {
        if (one) return fx_invalid(e);
        return fx_inf(sy ^ below_one);
    }
    if (one) return fx80_make(sy, 0, 0);
    if (cy == FX_ZERO) return fx80_make(sy ^ below_one, 0, 0);
    /* exact when x is a power of two: log2(x) = E, result = E * y rounded */
    int s;
    int32_t E;
    uint64_t m;
    fx_unpack(x, &s, &E, &m);
    if (m == FX_INT_BIT) { /* the host x87 still reports PE here */
        struct fx80_env t = {(uint16_t)(e->cw | (X87_PC_64 << X87_CW_PC_SHIFT)), 0};
        floatx80 p = fx80_mul(fx80_from_i64(E - FX80_BIAS), y, &t);
        e->flags |= t.flags | X87_PE;
        if (fx80_exp(p) == 0 && p.mant) e->flags |= X87_UE; /* tiny and "inexact" */
        return p;
    }
    return xf_to_fx_inexact(xf_mul(log2_xf(xf_from_fx(x)), xf_from_fx(y)), e);
}

floatx80 fx80_yl2xp1(floatx80 x, floatx80 y, struct fx80_env *e)
{
    floatx80 r;
    if (fx_prologue2(x, y, &r, e)) return r;
    enum fx80_class cx = fx80_classify(x), cy = fx80_classify(y);
    int sx = fx80_sign(x), sy = fx80_sign(y);
    /* the x87 defines |x| < 1 - sqrt(2)/2; outside, log2(1+x) is used as is */
    if (cx == FX_INF && (sx || cy == FX_ZERO)) return fx_invalid(e);
    if (cx == FX_ZERO && cy == FX_INF) return fx_invalid(e);
    if (fx_denormal(x, y, e)) return y;
    if (cx == FX_INF) return fx_inf(sy);
    if (cx == FX_ZERO || cy == FX_ZERO) {
        if (cy == FX_INF) return fx_invalid(e);
        return fx80_make(sx ^ sy, 0, 0);
    }
    xf vx = xf_from_fx(x);
    /* x <= -1 is outside the domain */
    if (sx && !xf_mag_less(vx, XF_ONE)) return fx_invalid(e);
    if (cy == FX_INF) return fx_inf(sx ^ sy);
    xf l;
    if (vx.exp < -2) { /* |x| < 1/4: 2*atanh(x/(2+x)) keeps full relative precision */
        xf u = xf_div(vx, xf_add(vx, xf_from_u64(2)));
        l = xf_mul(ln_from_u(u), XF_LOG2E);
    } else {
        l = log2_xf(xf_add(XF_ONE, vx));
    }
    return xf_to_fx_inexact(xf_mul(l, xf_from_fx(y)), e);
}
