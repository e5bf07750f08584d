/* x87.c - the x87 register stack, tags, status word and the per-instruction
 * operations built on the software core (x87_float.h).
 *
 * Invariants: tw always equals the tags computed from st[] for non-empty
 * registers (set_st() maintains it); SW.ES and SW.B are set exactly when an
 * exception flag is set whose mask bit is clear (sync_es()).
 * Stack faults: reading an empty register is underflow (IE|SF, C1=0), pushing
 * onto a full one is overflow (IE|SF, C1=1).  Masked, the destination gets
 * the QNaN indefinite; unmasked, nothing but SW changes.
 */
#include "x87.h"
#include "x87_float_int.h"

#define SW_TOP_MASK 0x3800

int x87_mem_size(enum x87_mfmt f)
{
    static const int sz[] = {4, 8, 10, 2, 4, 8, 10};
    return sz[f];
}

static int phys(const struct x87 *x, int i) { return (x87_top(x) + i) & 7; }

int x87_tag_of(floatx80 v)
{
    switch (fx80_classify(v)) {
    case FX_ZERO: return X87_TAG_ZERO;
    case FX_NORMAL: return X87_TAG_VALID;
    default: return X87_TAG_SPECIAL;
    }
}

int x87_tag(const struct x87 *x, int i) { return (x->tw >> (2 * phys(x, i))) & 3; }
static bool empty(const struct x87 *x, int i) { return x87_tag(x, i) == X87_TAG_EMPTY; }
floatx80 x87_st(const struct x87 *x, int i) { return x->st[phys(x, i)]; }

static void set_tag_phys(struct x87 *x, int p, int tag)
{
    x->tw = (uint16_t)((x->tw & ~(3u << (2 * p))) | ((unsigned)tag << (2 * p)));
}

static void set_st(struct x87 *x, int i, floatx80 v)
{
    int p = phys(x, i);
    x->st[p] = v;
    set_tag_phys(x, p, x87_tag_of(v));
}

static void set_top(struct x87 *x, int top)
{
    x->sw = (uint16_t)((x->sw & ~SW_TOP_MASK) | ((top & 7) << 11));
}

static void pop(struct x87 *x)
{
    set_tag_phys(x, phys(x, 0), X87_TAG_EMPTY);
    set_top(x, x87_top(x) + 1);
}

static void sync_es(struct x87 *x)
{
    if (x->sw & ~x->cw & X87_EXC)
        x->sw |= X87_ES | X87_B;
    else
        x->sw &= (uint16_t)~(X87_ES | X87_B);
}

/* Merge an operation's exception flags; C1 becomes its "rounded up" bit. */
static void commit(struct x87 *x, const struct fx80_env *e)
{
    x->sw = (uint16_t)((x->sw & ~X87_C1) | (e->flags & (X87_EXC | X87_C1)));
    sync_es(x);
}

static void stack_fault(struct x87 *x, bool overflow)
{
    x->sw = (uint16_t)((x->sw & ~X87_C1) | X87_IE | X87_SF | (overflow ? X87_C1 : 0));
    sync_es(x);
}

static bool ie_masked(const struct x87 *x) { return x->cw & X87_IE; }

static struct fx80_env env_of(const struct x87 *x)
{
    struct fx80_env e = {x->cw, 0};
    return e;
}

/* Push with overflow check.  Returns false if the push was refused (unmasked). */
static bool push(struct x87 *x, floatx80 v)
{
    if (!empty(x, 7)) {
        stack_fault(x, true);
        if (!ie_masked(x)) return false;
        v = fx80_indefinite();
    }
    set_top(x, x87_top(x) - 1);
    set_st(x, 0, v);
    return true;
}

/* Underflow on reading ST(i) for an operation writing ST(dst): masked, dst
 * gets the indefinite and the caller continues with its pops. */
static bool underflow(struct x87 *x, int dst)
{
    stack_fault(x, false);
    if (!ie_masked(x)) return false;
    if (dst >= 0) set_st(x, dst, fx80_indefinite());
    return true;
}

/* --- state, control ------------------------------------------------------ */

void x87_finit(struct x87 *x)
{
    x->cw = 0x037f;
    x->sw = 0;
    x->tw = 0xffff;
    x->fop = 0;
    x->fip = x->fdp = 0;
    x->fcs = x->fds = 0;
}

void x87_reset(struct x87 *x)
{
    for (int i = 0; i < 8; i++) x->st[i] = fx_zero(0);
    x87_finit(x);
    x->mxcsr = 0x1f80;
}

void x87_fldcw(struct x87 *x, uint16_t cw)
{
    x->cw = (uint16_t)((cw & 0x1f3f) | 0x0040); /* bit 6 reads as 1, bits 13-15 as 0 */
    sync_es(x);
}

uint16_t x87_fstcw(const struct x87 *x) { return x->cw; }
uint16_t x87_fstsw(const struct x87 *x) { return x->sw; }

void x87_fclex(struct x87 *x)
{
    x->sw &= (uint16_t) ~(X87_EXC | X87_SF | X87_ES | X87_B);
}

bool x87_pending(const struct x87 *x) { return (x->sw & X87_ES) != 0; }

void x87_note_last(struct x87 *x, uint16_t fop, uint16_t fcs, uint32_t fip, uint16_t fds,
                   uint32_t fdp)
{
    x->fop = fop & 0x7ff;
    x->fcs = fcs;
    x->fip = fip;
    x->fds = fds;
    x->fdp = fdp;
}

/* --- loads, stores, moves ------------------------------------------------ */

static uint64_t rd_le(const uint8_t *m, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | m[i];
    return v;
}

static void wr_le(uint8_t *m, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8) m[i] = (uint8_t)v;
}

/* Memory operand to floatx80 for arithmetic/compare use: exact, SNaNs kept;
 * *denormal reports a denormal float32/float64 source. */
static floatx80 mem_operand(enum x87_mfmt f, const uint8_t *m, bool *denormal)
{
    *denormal = false;
    switch (f) {
    case X87_M32FP: return fx_from_f32_raw((uint32_t)rd_le(m, 4), denormal);
    case X87_M64FP: return fx_from_f64_raw(rd_le(m, 8), denormal);
    case X87_M80FP: {
        floatx80 v = {rd_le(m, 8), (uint16_t)rd_le(m + 8, 2)};
        return v;
    }
    case X87_M16INT: return fx80_from_i64((int16_t)rd_le(m, 2));
    case X87_M32INT: return fx80_from_i64((int32_t)rd_le(m, 4));
    case X87_M64INT: return fx80_from_i64((int64_t)rd_le(m, 8));
    case X87_M80BCD: return fx80_from_bcd(m);
    }
    return fx80_indefinite();
}

void x87_fld_mem(struct x87 *x, enum x87_mfmt f, const uint8_t *m)
{
    struct fx80_env e = env_of(x);
    bool den;
    floatx80 v = mem_operand(f, m, &den);
    if (f == X87_M32FP || f == X87_M64FP) {
        if (fx80_classify(v) == FX_SNAN)
            v = fx_nan1(v, &e);
        else if (den)
            e.flags |= X87_DE;
    }
    if (!empty(x, 7)) { /* overflow takes precedence over the load's own faults */
        push(x, v);
        return;
    }
    x->sw &= (uint16_t)~X87_C1;
    commit(x, &e);
    if (fx80_aborts(&e)) return;
    push(x, v);
}

void x87_fld_st(struct x87 *x, int i)
{
    floatx80 v = x87_st(x, i);
    if (empty(x, i)) {
        stack_fault(x, false);
        if (!ie_masked(x)) return;
        v = fx80_indefinite();
    } else {
        x->sw &= (uint16_t)~X87_C1;
    }
    push(x, v);
}

void x87_fld_const(struct x87 *x, enum x87_const c)
{
    /* 66-bit internal constants: significand, two extra bits, exponent.  The
     * P6 rounds them to 64 bits with RC (FLDPI etc. differ in the last bit
     * between RC_NEAR/UP and DOWN/ZERO); no PE is raised. */
    static const struct { uint64_t m; unsigned extra; int exp; } k[] = {
        [X87_FLD1] = {0x8000000000000000ull, 0, 0x3fff},
        [X87_FLDL2T] = {0xd49a784bcd1b8afeull, 1, 0x4000}, /* log2(10) ...fe 01... */
        [X87_FLDL2E] = {0xb8aa3b295c17f0bbull, 3, 0x3fff}, /* log2(e) ...bb be... */
        [X87_FLDPI] = {0xc90fdaa22168c234ull, 3, 0x4000},  /* pi ...34 c4c6... */
        [X87_FLDLG2] = {0x9a209a84fbcff798ull, 3, 0x3ffd}, /* log10(2) ...98 8f... */
        [X87_FLDLN2] = {0xb17217f7d1cf79abull, 3, 0x3ffe}, /* ln(2) ...ab c9... */
        [X87_FLDZ] = {0, 0, 0},
    };
    uint64_t m = k[c].m;
    int rc = (x->cw >> X87_CW_RC_SHIFT) & 3;
    /* extra = the two bits after the 64th: 2 = exactly half, 3/1 = above/below half;
     * these constants are all positive so RC_UP rounds up whenever extra != 0. */
    if ((rc == X87_RC_NEAR && k[c].extra >= 2 && (k[c].extra > 2 || (m & 1))) ||
        (rc == X87_RC_UP && k[c].extra))
        m++;
    floatx80 v = fx80_make(0, k[c].exp, m);
    if (empty(x, 7)) x->sw &= (uint16_t)~X87_C1;
    push(x, v);
}

bool x87_fst_mem(struct x87 *x, enum x87_mfmt f, uint8_t *out, bool pop_, bool truncate)
{
    int n = x87_mem_size(f);
    uint8_t m[10]; /* out is written only when the store completes */
    struct fx80_env e = env_of(x);
    floatx80 v = x87_st(x, 0);
    if (empty(x, 0)) {
        stack_fault(x, false);
        if (!ie_masked(x)) return false;
        e.flags |= X87_IE;
        v = fx80_indefinite(); /* stores the indefinite of the destination format */
    }
    switch (f) {
    case X87_M32FP: wr_le(m, fx80_to_f32(v, &e), 4); break;
    case X87_M64FP: wr_le(m, fx80_to_f64(v, &e), 8); break;
    case X87_M80FP:
        wr_le(m, v.mant, 8);
        wr_le(m + 8, v.sign_exp, 2);
        break;
    case X87_M16INT:
    case X87_M32INT:
    case X87_M64INT: wr_le(m, (uint64_t)fx80_to_int(v, n * 8, truncate, &e), n); break;
    case X87_M80BCD: fx80_to_bcd(v, m, &e); break;
    }
    commit(x, &e);
    if (fx80_store_aborts(&e)) return false;
    for (int i = 0; i < n; i++) out[i] = m[i];
    if (pop_) pop(x);
    return true;
}

void x87_fst_st(struct x87 *x, int i, bool pop_)
{
    if (empty(x, 0)) {
        if (!underflow(x, i)) return;
    } else {
        x->sw &= (uint16_t)~X87_C1;
        set_st(x, i, x87_st(x, 0));
    }
    if (pop_) pop(x);
}

void x87_fxch(struct x87 *x, int i)
{
    bool e0 = empty(x, 0), ei = empty(x, i);
    if (e0 || ei) {
        stack_fault(x, false);
        if (!ie_masked(x)) return;
        if (e0) set_st(x, 0, fx80_indefinite());
        if (ei) set_st(x, i, fx80_indefinite());
    } else {
        x->sw &= (uint16_t)~X87_C1;
    }
    floatx80 a = x87_st(x, 0), b = x87_st(x, i);
    set_st(x, 0, b);
    set_st(x, i, a);
}

void x87_ffree(struct x87 *x, int i, bool pop_)
{
    set_tag_phys(x, phys(x, i), X87_TAG_EMPTY);
    if (pop_) set_top(x, x87_top(x) + 1);
}

void x87_fincstp(struct x87 *x)
{
    x->sw &= (uint16_t)~X87_C1;
    set_top(x, x87_top(x) + 1);
}

void x87_fdecstp(struct x87 *x)
{
    x->sw &= (uint16_t)~X87_C1;
    set_top(x, x87_top(x) - 1);
}

void x87_fcmov(struct x87 *x, int i, bool cond)
{
    if (empty(x, 0) || empty(x, i)) {
        underflow(x, 0);
        return;
    }
    x->sw &= (uint16_t)~X87_C1;
    if (cond) set_st(x, 0, x87_st(x, i));
}

/* --- arithmetic ----------------------------------------------------------- */

static floatx80 arith(enum x87_arith op, floatx80 a, floatx80 b, struct fx80_env *e)
{
    switch (op) {
    case X87_FADD: return fx80_add(a, b, e);
    case X87_FMUL: return fx80_mul(a, b, e);
    case X87_FSUB: return fx80_sub(a, b, e);
    case X87_FSUBR: return fx80_sub(b, a, e);
    case X87_FDIV: return fx80_div(a, b, e);
    case X87_FDIVR: return fx80_div(b, a, e);
    }
    return fx_invalid(e);
}

void x87_arith_st(struct x87 *x, enum x87_arith op, int dst, int src, bool pop_)
{
    if (empty(x, dst) || empty(x, src)) {
        if (!underflow(x, dst)) return;
    } else {
        struct fx80_env e = env_of(x);
        floatx80 r = arith(op, x87_st(x, dst), x87_st(x, src), &e);
        commit(x, &e);
        if (fx80_aborts(&e)) return;
        set_st(x, dst, r);
    }
    if (pop_) pop(x);
}

/* A denormal float32/64 memory operand raises DE unless a NaN or unsupported
 * ST(0) decides the result first. */
static bool mem_denormal(enum x87_arith op, floatx80 st0, bool den, struct fx80_env *e)
{
    if (!den) return false;
    enum fx80_class c = fx80_classify(st0);
    if (c == FX_QNAN || c == FX_SNAN || c == FX_UNSUPPORTED) return false;
    if (op == X87_FDIVR && c == FX_ZERO) return false; /* ZE wins over DE */
    e->flags |= X87_DE;
    return fx80_aborts(e);
}

void x87_arith_mem(struct x87 *x, enum x87_arith op, enum x87_mfmt f, const uint8_t *m)
{
    if (empty(x, 0)) {
        underflow(x, 0);
        return;
    }
    struct fx80_env e = env_of(x);
    bool den;
    floatx80 b = mem_operand(f, m, &den), a = x87_st(x, 0);
    if (mem_denormal(op, a, den, &e)) {
        commit(x, &e);
        return;
    }
    floatx80 r = arith(op, a, b, &e);
    commit(x, &e);
    if (fx80_aborts(&e)) return;
    set_st(x, 0, r);
}

/* One-operand ST(0) operation skeleton: underflow check, commit, store. */
#define UNARY(name, expr)                                                                         \
    void name(struct x87 *x)                                                                      \
    {                                                                                             \
        if (empty(x, 0)) {                                                                        \
            underflow(x, 0);                                                                      \
            return;                                                                               \
        }                                                                                         \
        struct fx80_env e = env_of(x);                                                            \
        floatx80 a = x87_st(x, 0);                                                                \
        floatx80 r = expr;                                                                        \
        commit(x, &e);                                                                            \
        if (fx80_aborts(&e)) return;                                                              \
        set_st(x, 0, r);                                                                          \
    }

UNARY(x87_fsqrt, fx80_sqrt(a, &e))
UNARY(x87_frndint, fx80_round_to_int(a, &e))
UNARY(x87_f2xm1, fx80_f2xm1(a, &e))

void x87_fchs(struct x87 *x)
{
    if (empty(x, 0)) {
        underflow(x, 0);
        return;
    }
    x->sw &= (uint16_t)~X87_C1;
    set_st(x, 0, fx80_neg(x87_st(x, 0)));
}

void x87_fabs(struct x87 *x)
{
    if (empty(x, 0)) {
        underflow(x, 0);
        return;
    }
    x->sw &= (uint16_t)~X87_C1;
    set_st(x, 0, fx80_abs(x87_st(x, 0)));
}

void x87_fscale(struct x87 *x)
{
    if (empty(x, 0) || empty(x, 1)) {
        underflow(x, 0);
        return;
    }
    struct fx80_env e = env_of(x);
    floatx80 r = fx80_scale(x87_st(x, 0), x87_st(x, 1), &e);
    commit(x, &e);
    if (!fx80_aborts(&e)) set_st(x, 0, r);
}

void x87_fprem(struct x87 *x, bool ieee)
{
    if (empty(x, 0) || empty(x, 1)) {
        x->sw &= (uint16_t)~X87_C2;
        underflow(x, 0);
        return;
    }
    struct fx80_env e = env_of(x);
    uint16_t cc;
    floatx80 r = fx80_rem(x87_st(x, 0), x87_st(x, 1), ieee, &cc, &e);
    commit(x, &e);
    if (fx80_aborts(&e)) return;
    if (cc == FX80_CC_KEEP) /* invalid operands: C0 and C3 survive */
        x->sw &= (uint16_t) ~(X87_C1 | X87_C2);
    else
        x->sw = (uint16_t)((x->sw & ~(X87_C0 | X87_C1 | X87_C2 | X87_C3)) | cc);
    set_st(x, 0, r);
}

void x87_fxtract(struct x87 *x)
{
    if (empty(x, 0)) {
        if (!underflow(x, 0)) return;
        push(x, fx80_indefinite());
        return;
    }
    if (!empty(x, 7)) {
        stack_fault(x, true);
        if (!ie_masked(x)) return;
        set_st(x, 0, fx80_indefinite());
        push(x, fx80_indefinite());
        return;
    }
    struct fx80_env e = env_of(x);
    floatx80 sig, ex;
    fx80_xtract(x87_st(x, 0), &sig, &ex, &e);
    commit(x, &e);
    if (fx80_aborts(&e)) return;
    set_st(x, 0, ex);
    push(x, sig);
}

/* --- transcendentals ---------------------------------------------------------- */

/* FSIN/FCOS/FPTAN family: C2 set and operand unchanged when out of range. */
static void range_op(struct x87 *x, int which)
{
    x->sw &= (uint16_t)~X87_C2; /* also on stack faults */
    if (empty(x, 0)) {
        if (!underflow(x, 0)) return;
        if (which >= 2) push(x, fx80_indefinite());
        return;
    }
    if (which >= 2 && !empty(x, 7)) {
        stack_fault(x, true);
        if (!ie_masked(x)) return;
        set_st(x, 0, fx80_indefinite());
        push(x, fx80_indefinite());
        return;
    }
    struct fx80_env e = env_of(x);
    floatx80 a = x87_st(x, 0), r, r2 = fx80_make(0, FX80_BIAS, FX_INT_BIT);
    bool ok;
    switch (which) {
    case 0: ok = fx80_sin(a, &r, &e); break;
    case 1: ok = fx80_cos(a, &r, &e); break;
    case 2: ok = fx80_sincos(a, &r2, &r, &e); break; /* ST1 = sin, ST0 = cos */
    default: ok = fx80_tan(a, &r2, &e); r = fx80_make(0, FX80_BIAS, FX_INT_BIT); break;
    }
    if (!ok) {
        x->sw = (uint16_t)((x->sw & ~X87_C1) | X87_C2);
        return;
    }
    commit(x, &e);
    x->sw &= (uint16_t)~X87_C2;
    if (fx80_aborts(&e)) return;
    if (which < 2) {
        set_st(x, 0, r);
        return;
    }
    /* FSINCOS/FPTAN: NaN and invalid results go to both registers */
    if (fx80_is_nan(r2) || fx80_classify(r2) == FX_UNSUPPORTED) r = r2;
    set_st(x, 0, r2);
    push(x, r);
}

void x87_fsin(struct x87 *x) { range_op(x, 0); }
void x87_fcos(struct x87 *x) { range_op(x, 1); }
void x87_fsincos(struct x87 *x) { range_op(x, 2); }
void x87_fptan(struct x87 *x) { range_op(x, 3); }

/* ST(1) <- f(ST(0), ST(1)); pop. */
static void binary_pop(struct x87 *x, floatx80 (*f)(floatx80, floatx80, struct fx80_env *),
                       bool st1_first)
{
    if (empty(x, 0) || empty(x, 1)) {
        if (!underflow(x, 1)) return;
        pop(x);
        return;
    }
    struct fx80_env e = env_of(x);
    floatx80 a = x87_st(x, 0), b = x87_st(x, 1);
    floatx80 r = st1_first ? f(b, a, &e) : f(a, b, &e);
    commit(x, &e);
    if (fx80_aborts(&e)) return;
    set_st(x, 1, r);
    pop(x);
}

void x87_fpatan(struct x87 *x) { binary_pop(x, fx80_atan2, true); }
void x87_fyl2x(struct x87 *x) { binary_pop(x, fx80_yl2x, false); }
void x87_fyl2xp1(struct x87 *x) { binary_pop(x, fx80_yl2xp1, false); }

/* --- compares ------------------------------------------------------------------- */

static void set_cc(struct x87 *x, int rel)
{
    static const uint16_t cc[] = {
        [FX_LT] = X87_C0, [FX_EQ] = X87_C3, [FX_GT] = 0, [FX_UN] = X87_C0 | X87_C2 | X87_C3};
    x->sw = (uint16_t)((x->sw & ~(X87_C0 | X87_C1 | X87_C2 | X87_C3)) | cc[rel]);
}

static void do_compare(struct x87 *x, floatx80 a, floatx80 b, bool quiet, bool den, int pops)
{
    struct fx80_env e = env_of(x);
    if (den && !fx80_is_nan(a) && fx80_classify(a) != FX_UNSUPPORTED && !fx80_is_nan(b))
        e.flags |= X87_DE;
    int rel = fx80_compare(a, b, quiet, &e);
    commit(x, &e);
    if (fx80_aborts(&e)) return;
    set_cc(x, rel);
    while (pops--) pop(x);
}

static void compare_underflow(struct x87 *x, int pops)
{
    stack_fault(x, false);
    if (!ie_masked(x)) return;
    set_cc(x, FX_UN);
    while (pops--) pop(x);
}

void x87_fcom_st(struct x87 *x, int i, bool quiet, int pops)
{
    if (empty(x, 0) || empty(x, i)) {
        compare_underflow(x, pops);
        return;
    }
    do_compare(x, x87_st(x, 0), x87_st(x, i), quiet, false, pops);
}

void x87_fcom_mem(struct x87 *x, enum x87_mfmt f, const uint8_t *m, int pops)
{
    if (empty(x, 0)) {
        compare_underflow(x, pops);
        return;
    }
    bool den;
    floatx80 b = mem_operand(f, m, &den);
    do_compare(x, x87_st(x, 0), b, false, den, pops);
}

uint32_t x87_fcomi(struct x87 *x, int i, bool quiet, bool pop_)
{
    static const uint32_t fl[] = {[FX_LT] = X87_EFL_CF, [FX_EQ] = X87_EFL_ZF, [FX_GT] = 0,
                                  [FX_UN] = X87_EFL_ZF | X87_EFL_PF | X87_EFL_CF};
    int rel = FX_UN;
    if (empty(x, 0) || empty(x, i)) {
        stack_fault(x, false);
        if (!ie_masked(x)) return fl[FX_UN];
    } else {
        struct fx80_env e = env_of(x);
        rel = fx80_compare(x87_st(x, 0), x87_st(x, i), quiet, &e);
        commit(x, &e);
        if (fx80_aborts(&e)) return fl[FX_UN];
    }
    if (pop_) pop(x);
    return fl[rel];
}

void x87_ftst(struct x87 *x)
{
    if (empty(x, 0)) {
        compare_underflow(x, 0);
        return;
    }
    do_compare(x, x87_st(x, 0), fx_zero(0), false, false, 0);
}

void x87_fxam(struct x87 *x)
{
    floatx80 v = x87_st(x, 0);
    uint16_t cc;
    if (empty(x, 0)) {
        cc = X87_C3 | X87_C0;
    } else {
        switch (fx80_classify(v)) {
        case FX_UNSUPPORTED: cc = 0; break;
        case FX_QNAN:
        case FX_SNAN: cc = X87_C0; break;
        case FX_NORMAL: cc = X87_C2; break;
        case FX_INF: cc = X87_C2 | X87_C0; break;
        case FX_ZERO: cc = X87_C3; break;
        default: cc = X87_C3 | X87_C2; break;
        }
    }
    if (fx80_sign(v)) cc |= X87_C1;
    x->sw = (uint16_t)((x->sw & ~(X87_C0 | X87_C1 | X87_C2 | X87_C3)) | cc);
}
