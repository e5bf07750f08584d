/*
 * Shifts and rotates: ROL ROR RCL RCR SHL SHR SAR (forms Eb/Ev by 1, CL,
 * Ib) and the double shifts SHLD/SHRD (Ib, CL).
 *
 * The count is masked to five bits. A masked count of 0 changes no flag;
 * the operand is still read and written back, as the hardware's
 * read-modify-write cycle does (a write-protected page faults even then).
 *
 * Flags are computed eagerly: the P6 leaves several of the "undefined" ones
 * unchanged, which the lazy record cannot express without the old flags.
 * Choices for flags the SDM leaves undefined (docs/cpu-flags.md; the P6
 * column of sandpile.org's "undefined integer FLAGS behavior" table):
 *   SHL/SHR/SAR   AF unchanged for every count; OF unchanged for count > 1;
 *                 CF for SHL/SHR with count >= width (8/16-bit only): the
 *                 last bit shifted out of an infinitely wide operand
 *                 (unknown on the P6; bit 0/bit n-1 at count == width, else 0).
 *   ROL/ROR       OF unchanged for count > 1.
 *   RCL/RCR       OF for count > 1 unknown on the P6: computed with the
 *                 count-1 formula on the result.
 *   SHLD/SHRD     AF unchanged; OF unchanged for count > 1; a 16-bit count
 *                 of 17..31 shifts the 48-bit pattern dest:src:dest, the
 *                 P6's observed result (the SDM calls it undefined).
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

#define F_SZP (F_SF | F_ZF | F_PF)

static inline uint32_t szp(uint32_t r, int size)
{
    return (r == 0 ? F_ZF : 0) | ((r >> (8 * size - 1)) & 1 ? F_SF : 0) | flags_pf(r);
}

/*
 * Computes op(v, count) for a masked count 1..31; sets *mask to the flags
 * that change and *f to the new CF and OF (a shift's new SF ZF PF are not
 * computed here: shift_flags records r, from which they are derived).
 */
static inline __attribute__((always_inline)) uint32_t
shift_calc(struct cpu *c, unsigned op, uint32_t v, unsigned count, int size, uint32_t *mask,
           uint32_t *f)
{
    unsigned n = 8 * (unsigned)size;
    uint32_t m = size_mask(size);
    uint32_t r, cf, of = 0;
    *f = 0;
    switch (op) {
    case SH_ROL: case SH_ROR: {
        unsigned k = count % n;
        if (op == SH_ROL) {
            r = k ? ((v << k) | (v >> (n - k))) & m : v;
            cf = r & 1;
            of = ((r >> (n - 1)) ^ cf) & 1;
        } else {
            r = k ? ((v >> k) | (v << (n - k))) & m : v;
            cf = (r >> (n - 1)) & 1;
            of = ((r >> (n - 1)) ^ (r >> (n - 2))) & 1;
        }
        *mask = F_CF | (count == 1 ? F_OF : 0);
        break;
    }
    case SH_RCL: case SH_RCR: {
        /* Rotate the n+1-bit value CF:v; n = 32 fits in 64 bits. */
        unsigned k = n == 32 ? count : count % (n + 1);
        uint64_t w = ((uint64_t)flags_cf(c) << n) | v;
        uint64_t wm = ((uint64_t)1 << (n + 1)) - 1;
        if (k)
            w = op == SH_RCL ? ((w << k) | (w >> (n + 1 - k))) & wm
                             : ((w >> k) | (w << (n + 1 - k))) & wm;
        r = (uint32_t)w & m;
        cf = (uint32_t)(w >> n) & 1;
        if (op == SH_RCL)
            of = ((r >> (n - 1)) ^ cf) & 1;
        else
            of = ((r >> (n - 1)) ^ (r >> (n - 2))) & 1;
        *mask = F_CF | F_OF;
        break;
    }
    case SH_SHL: case SH_SAL:
        r = (v << count) & m;
        cf = count <= n ? (v >> (n - count)) & 1 : 0;
        of = ((r >> (n - 1)) ^ cf) & 1;
        *mask = F_CF | F_SZP | (count == 1 ? F_OF : 0);
        break;
    case SH_SHR:
        r = v >> count;
        cf = count <= n ? (v >> (count - 1)) & 1 : 0;
        of = (v >> (n - 1)) & 1;
        *mask = F_CF | F_SZP | (count == 1 ? F_OF : 0);
        break;
    default: { /* SAR: sign-extend to 32 bits, then every count < 32 is exact */
        int32_t sv = (int32_t)(v << (32 - n)) >> (32 - n);
        r = (uint32_t)(sv >> count) & m;
        cf = (uint32_t)(sv >> (count - 1)) & 1;
        of = 0;
        *mask = F_CF | F_SZP | (count == 1 ? F_OF : 0);
        break;
    }
    }
    *f |= (cf ? F_CF : 0) | (of ? F_OF : 0);
    return r;
}

/*
 * The flags of a shift or rotate (mask: the flags it changes, f: their
 * values), with no materialization of the previous operation's flags
 * (flags.h): a rotate sets CF and OF and keeps the previous record's res
 * and size, so its SF ZF PF (flags_set_cf_of); a shift by one records an
 * LF_CF_OF with its CF and OF and the previous AF; a shift by more, which
 * keeps OF and AF, an LF_SHIFTN (after an LF_CF_OF, whose OF is in its
 * record, an LF_CF_OF again). A shift's SF ZF PF come from its result.
 */
static inline __attribute__((always_inline)) void shift_flags(struct cpu *c, unsigned op, int size,
                                                              uint32_t r, uint32_t mask,
                                                              uint32_t f)
{
    bool rotate = op == SH_ROL || op == SH_ROR || op == SH_RCL || op == SH_RCR;
    if (rotate) {
        uint32_t of = (mask & F_OF) ? (f & F_OF) : (lf_of(c) ? F_OF : 0);
        flags_set_cf_of(c, (f & F_CF) | of);
        return;
    }
    if (mask & F_OF) {
        lf_record_cf_of(c, f);
    } else if (c->lf.op == LF_CF_OF) {
        c->lf.a = (f & F_CF) | (c->lf.a & F_OF);
    } else {
        lf_keep_prev(c);
        c->lf.a = f & F_CF;
        c->lf.op = LF_SHIFTN;
    }
    c->lf.res = r;
    c->lf.size = (uint8_t)size;
}

/* op is a constant in every handler (the row's operation; SAL's row uses
 * SHL's handler), so each handler compiles to its one case. A register
 * operand skips the read-modify-write helpers. */
static inline __attribute__((always_inline)) void shift_Ef(struct cpu *c, const struct insn *i,
                                                           unsigned op, int size, unsigned count,
                                                           int form)
{
    uint32_t lin = 0, mask, f;
    bool reg = form_is_reg(i, form);
    uint32_t v = reg ? cpu_reg(c, i->rm, size) : rmw_Ef_begin(c, i, size, &lin, form);
    count &= 31;
    if (!count) {
        if (!reg)
            rmw_Ef_end(c, i, size, lin, v, form);
        return;
    }
    uint32_t r = shift_calc(c, op, v, count, size, &mask, &f);
    if (reg)
        cpu_set_reg(c, i->rm, size, r);
    else
        rmw_Ef_end(c, i, size, lin, r, form);
    shift_flags(c, op, size, r, mask, f);
}
static inline __attribute__((always_inline)) void shift_E(struct cpu *c, const struct insn *i,
                                                          unsigned op, int size, unsigned count)
{
    shift_Ef(c, i, op, size, count, FORM_ANY);
}

#define SHIFT_FORMS(name, op)                                                                  \
    void name##_Eb_1(struct cpu *c, const struct insn *i) { shift_E(c, i, op, 1, 1); }         \
    void name##_Ev_1(struct cpu *c, const struct insn *i) { shift_E(c, i, op, i->opsize, 1); } \
    void name##_Eb_CL(struct cpu *c, const struct insn *i)                                     \
    {                                                                                          \
        shift_E(c, i, op, 1, c->r[R_ECX]);                                                     \
    }                                                                                          \
    void name##_Ev_CL(struct cpu *c, const struct insn *i)                                     \
    {                                                                                          \
        shift_E(c, i, op, i->opsize, c->r[R_ECX]);                                             \
    }                                                                                          \
    void name##_Eb_Ib(struct cpu *c, const struct insn *i) { shift_E(c, i, op, 1, i->imm); }   \
    void name##_Ev_Ib(struct cpu *c, const struct insn *i)                                     \
    {                                                                                          \
        shift_E(c, i, op, i->opsize, i->imm);                                                  \
    }                                                                                          \
    /* cpu/forms.c: 32-bit register operand */                                                 \
    void name##_Ev_1_r32(struct cpu *c, const struct insn *i)                                  \
    {                                                                                          \
        shift_Ef(c, i, op, 4, 1, FORM_REG);                                                    \
    }                                                                                          \
    void name##_Ev_CL_r32(struct cpu *c, const struct insn *i)                                 \
    {                                                                                          \
        shift_Ef(c, i, op, 4, c->r[R_ECX], FORM_REG);                                          \
    }                                                                                          \
    void name##_Ev_Ib_r32(struct cpu *c, const struct insn *i)                                 \
    {                                                                                          \
        shift_Ef(c, i, op, 4, i->imm, FORM_REG);                                               \
    }                                                                                          \
    THREADED_REG(name##_Ev_1_r32) THREADED_REG(name##_Ev_CL_r32) THREADED_REG(name##_Ev_Ib_r32)

SHIFT_FORMS(rol, SH_ROL)
SHIFT_FORMS(ror, SH_ROR)
SHIFT_FORMS(rcl, SH_RCL)
SHIFT_FORMS(rcr, SH_RCR)
SHIFT_FORMS(shl, SH_SHL)
SHIFT_FORMS(shr, SH_SHR)
SHIFT_FORMS(sar, SH_SAR)

/*
 * SHLD/SHRD. For a 16-bit operand the bits come from the 48-bit pattern
 * dest:src:dest (SHLD, most significant first) or src:dest below another
 * dest (SHRD), which gives the P6's results for counts 17..31 too; for 32
 * bits the count never exceeds the width.
 */
static void dshift(struct cpu *c, const struct insn *i, unsigned count, bool left)
{
    int size = i->opsize;
    unsigned n = 8 * (unsigned)size;
    uint32_t lin;
    uint32_t d = rmw_E_begin(c, i, size, &lin);
    uint32_t s = read_G(c, i, size);
    count &= 31;
    if (!count) {
        rmw_E_end(c, i, size, lin, d);
        return;
    }
    uint64_t w;
    uint32_t r, cf, of;
    if (left) {
        w = n == 32 ? ((uint64_t)d << 32) | s : ((uint64_t)d << 32) | (s << 16) | d;
        unsigned top = n == 32 ? 64 : 48; /* width of w; the result is its top n bits */
        r = (uint32_t)((w << count) >> 32) & size_mask(size);
        cf = (uint32_t)(w >> (top - count)) & 1;
        of = ((r >> (n - 1)) ^ cf) & 1;
    } else {
        w = n == 32 ? ((uint64_t)s << 32) | d : ((uint64_t)d << 32) | (s << 16) | d;
        r = (uint32_t)(w >> count) & size_mask(size);
        cf = (uint32_t)(w >> (count - 1)) & 1;
        of = ((r ^ d) >> (n - 1)) & 1;
    }
    rmw_E_end(c, i, size, lin, r);
    flags_update(c, F_CF | F_SZP | (count == 1 ? F_OF : 0),
                 szp(r, size) | (cf ? F_CF : 0) | (of ? F_OF : 0));
}

void shld_Ev_Gv_Ib(struct cpu *c, const struct insn *i) { dshift(c, i, i->imm, true); }
void shld_Ev_Gv_CL(struct cpu *c, const struct insn *i) { dshift(c, i, c->r[R_ECX], true); }
void shrd_Ev_Gv_Ib(struct cpu *c, const struct insn *i) { dshift(c, i, i->imm, false); }
void shrd_Ev_Gv_CL(struct cpu *c, const struct insn *i) { dshift(c, i, c->r[R_ECX], false); }
