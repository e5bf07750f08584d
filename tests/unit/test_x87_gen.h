/* test_x87_gen.h - operand generators for the x87 tests: a deterministic PRNG and
 * 80-bit values that mix random bit patterns with the edge cases that matter
 * (zeros, infinities, NaN payloads, denormals, pseudo-denormals, unnormals,
 * extreme exponents and halfway-rounding significands).  Header-only, used by
 * test_x87_diff.c and test_x87_unit.c.
 */
#ifndef TRAPEZE_X87_GEN_H
#define TRAPEZE_X87_GEN_H

#include <stdint.h>
#include "cpu/x87_float.h"

static uint64_t gen_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t gen_rnd(void)
{
    uint64_t z = (gen_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline unsigned gen_below(unsigned n) { return (unsigned)(gen_rnd() % n); }

/* Significand with structure: halfway and near-halfway tails for each
 * precision, runs of ones, few bits. */
static inline uint64_t gen_mant(void)
{
    uint64_t m = gen_rnd() | 0x8000000000000000ull;
    static const int cut[] = {40, 11, 1, 63, 32, 20};
    switch (gen_below(10)) {
    case 0: case 1: case 2: {
        int k = cut[gen_below(6)];
        m &= ~0ull << k; /* exact at this precision ... */
        switch (gen_below(4)) {
        case 0: m |= 1ull << (k - 1); break;        /* ... exactly half an ulp */
        case 1: m |= (1ull << (k - 1)) + 1; break;  /* just above half */
        case 2: m |= (1ull << (k - 1)) - 1; break;  /* just below half */
        default: break;
        }
        break;
    }
    case 3: m = ~0ull << gen_below(64); break;
    case 4: m = 0x8000000000000000ull | (1ull << gen_below(63)); break;
    default: break;
    }
    return m;
}

/* A mixed operand.  'nearexp' (biased) centres the common case. */
static inline floatx80 gen_x80_near(int nearexp)
{
    int s = (int)gen_below(2);
    switch (gen_below(32)) {
    case 0: return fx80_make(s, 0, 0);
    case 1: return fx80_make(s, 0x7fff, 0x8000000000000000ull);
    case 2: /* QNaN */
        return fx80_make(s, 0x7fff, 0xc000000000000000ull | (gen_below(2) ? gen_rnd() >> 2 : 0));
    case 3: /* SNaN */
        return fx80_make(s, 0x7fff, 0x8000000000000000ull | ((gen_rnd() >> 2) | 1));
    case 4: case 5: /* denormal */
        return fx80_make(s, 0, gen_rnd() >> gen_below(64));
    case 6: /* pseudo-denormal */
        return fx80_make(s, 0, gen_rnd() | 0x8000000000000000ull);
    case 7: /* unnormal, pseudo-infinity, pseudo-NaN */
        if (gen_below(2)) return fx80_make(s, 1 + (int)gen_below(0x7ffe), gen_rnd() >> 1);
        return fx80_make(s, 0x7fff, gen_below(2) ? 0 : gen_rnd() >> 1);
    case 8: case 9: /* extreme exponents */
        return fx80_make(s, gen_below(2) ? 1 + (int)gen_below(80) : 0x7ffe - (int)gen_below(80),
                         gen_mant());
    case 10: /* smallest/largest normals */
        return fx80_make(s, gen_below(2) ? 1 : 0x7ffe, gen_below(2) ? 0x8000000000000000ull : ~0ull);
    case 11: { /* raw random bits */
        floatx80 r = {gen_rnd(), (uint16_t)gen_rnd()};
        return r;
    }
    case 12: /* anywhere */
        return fx80_make(s, 1 + (int)gen_below(0x7ffe), gen_mant());
    default: {
        int e = nearexp + (int)gen_below(140) - 70;
        if (e < 1) e = 1;
        if (e > 0x7ffe) e = 0x7ffe;
        return fx80_make(s, e, gen_mant());
    }
    }
}

static inline floatx80 gen_x80(void) { return gen_x80_near(0x3fff); }

/* A value next to k * pi/2 for a random k < 2^62: the hard cases of argument
 * reduction, where the precision of the reduction constant shows.  Uses
 * k * (pi/2) with pi/2 to 128 bits, truncated to 64 bits, +-a few ulps. */
static inline floatx80 gen_near_pio2_multiple(void)
{
    unsigned __int128 pio2 = ((unsigned __int128)0xc90fdaa22168c234ull << 64) | 0xc4c6628b80dc1cd1ull;
    uint64_t k = (gen_rnd() >> (2 + gen_below(60))) | 1;
    /* k * pio2: up to 190 bits; keep the top 64 */
    unsigned __int128 lo = (unsigned __int128)(uint64_t)pio2 * k;
    unsigned __int128 hi = (unsigned __int128)(uint64_t)(pio2 >> 64) * k + (lo >> 64);
    int lz = hi >> 64 ? __builtin_clzll((uint64_t)(hi >> 64)) : 64 + __builtin_clzll((uint64_t)hi);
    unsigned __int128 top = lz < 64 ? (hi << lz) | ((unsigned __int128)(uint64_t)lo << lz >> 64)
                                    : hi << lz;
    uint64_t m = (uint64_t)(top >> 64) + gen_below(5) - 2;
    /* value = hi * 2^64 * 2^-127 (pio2 scaled by 2^127) */
    int e = 0x3fff + (127 - lz) - 127 + 64 - 0;
    return fx80_make((int)gen_below(2), e, m | 0x8000000000000000ull);
}

/* A second operand related to the first: same or nearby exponent (carries,
 * cancellation), or one that makes products/quotients over- or underflow. */
static inline floatx80 gen_x80_pair(floatx80 a)
{
    int s = (int)gen_below(2), ea = fx80_exp(a);
    switch (gen_below(8)) {
    case 0: { /* near-cancellation */
        floatx80 b = a;
        b.sign_exp ^= (uint16_t)(gen_below(2) << 15);
        b.mant ^= gen_rnd() >> (gen_below(63) + 1);
        return b;
    }
    case 1: return fx80_make(s, ea, gen_mant());
    case 2: { /* exponent gap around the guard-bit boundary */
        int e = ea - 60 - (int)gen_below(10);
        return fx80_make(s, e < 1 ? 1 : e, gen_mant());
    }
    case 3: { /* product / quotient near overflow or underflow */
        int e = gen_below(2) ? 0x7ffe + 0x3fff - ea + (int)gen_below(5) - 2
                             : 0x3fff - ea + 1 + (int)gen_below(70) - 66;
        if (e < 1 || e > 0x7ffe) e = 0x3fff;
        return fx80_make(s, e, gen_mant());
    }
    case 4: { /* quotient near overflow/underflow */
        int e = gen_below(2) ? ea - 0x3fff - (int)gen_below(3) : ea + 0x3fff - (int)gen_below(70);
        if (e < 1 || e > 0x7ffe) e = 0x3fff;
        return fx80_make(s, e, gen_mant());
    }
    default: return gen_x80_near(ea > 0 && ea < 0x7fff ? ea : 0x3fff);
    }
}

#endif
