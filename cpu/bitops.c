/*
 * Bit instructions: BT BTS BTR BTC, BSF BSR, BSWAP, SETcc, CMOVcc.
 *
 * Flags the SDM leaves undefined are unchanged on the P6 (sandpile.org's P6
 * column; docs/cpu-flags.md): BT* change only CF, BSF/BSR only ZF.
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

enum { BT_TEST = 4, BT_SET = 5, BT_RESET = 6, BT_COMP = 7 }; /* 0F BA /4../7 */

static inline uint32_t bt_apply(unsigned kind, uint32_t v, uint32_t bit)
{
    switch (kind) {
    case BT_SET: return v | bit;
    case BT_RESET: return v & ~bit;
    case BT_COMP: return v ^ bit;
    default: return v;
    }
}

/*
 * The bit at 'off' (already reduced for register operands) of the operand at
 * offset 'addr' (memory) or of the r/m register.
 */
static void bt_common(struct cpu *c, const struct insn *i, unsigned kind, uint32_t addr,
                      unsigned bitno)
{
    int size = i->opsize;
    uint32_t bit = 1u << bitno, v, lin;
    if (i->mod == 3) {
        v = cpu_reg(c, i->rm, size);
        if (kind != BT_TEST)
            cpu_set_reg(c, i->rm, size, bt_apply(kind, v, bit));
    } else if (kind == BT_TEST) {
        v = cpu_read(c, i->seg, addr, size);
    } else {
        v = cpu_rmw_begin(c, i->seg, addr, size, &lin);
        cpu_rmw_end(c, lin, size, bt_apply(kind, v, bit));
    }
    flags_update(c, F_CF, (v & bit) ? F_CF : 0);
}

/*
 * Register bit offset: for a memory operand it is a signed offset into a bit
 * string that starts at the operand, so the access may lie anywhere from
 * EA - 2^28 to EA + 2^28 - 1 (32-bit) or EA - 4096 to EA + 4095 (16-bit),
 * in operand-size units, wrapping at the address size.
 */
static void bt_Gv(struct cpu *c, const struct insn *i, unsigned kind)
{
    int size = i->opsize;
    unsigned bits = 8 * (unsigned)size;
    uint32_t off = read_G(c, i, size);
    uint32_t addr = 0;
    if (i->mod != 3) {
        int32_t soff = size == 2 ? (int16_t)off : (int32_t)off;
        /* arithmetic shift: floor division by the operand width */
        int32_t units = soff >> (size == 2 ? 4 : 5);
        addr = ea(c, i) + (uint32_t)units * (uint32_t)size;
        if (i->addrsize == 2)
            addr &= 0xffff;
    }
    bt_common(c, i, kind, addr, off & (bits - 1));
}

/* Immediate bit offset: taken modulo the operand width, memory or not. */
static void bt_Ib(struct cpu *c, const struct insn *i, unsigned kind)
{
    unsigned bits = 8 * (unsigned)i->opsize;
    bt_common(c, i, kind, i->mod != 3 ? ea(c, i) : 0, i->imm & (bits - 1));
}

void bt_Ev_Gv(struct cpu *c, const struct insn *i) { bt_Gv(c, i, BT_TEST); }
void bts_Ev_Gv(struct cpu *c, const struct insn *i) { bt_Gv(c, i, BT_SET); }
void btr_Ev_Gv(struct cpu *c, const struct insn *i) { bt_Gv(c, i, BT_RESET); }
void btc_Ev_Gv(struct cpu *c, const struct insn *i) { bt_Gv(c, i, BT_COMP); }
void bt_Ev_Ib(struct cpu *c, const struct insn *i) { bt_Ib(c, i, BT_TEST); }
void bts_Ev_Ib(struct cpu *c, const struct insn *i) { bt_Ib(c, i, BT_SET); }
void btr_Ev_Ib(struct cpu *c, const struct insn *i) { bt_Ib(c, i, BT_RESET); }
void btc_Ev_Ib(struct cpu *c, const struct insn *i) { bt_Ib(c, i, BT_COMP); }

/*
 * BSF/BSR: a zero source sets ZF and leaves the destination unchanged (what
 * the P6 does; the SDM says undefined). CF OF SF AF PF unchanged.
 */
void bsf_Gv_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    if (!s) {
        flags_update(c, F_ZF, F_ZF);
        return;
    }
    write_G(c, i, i->opsize, (uint32_t)__builtin_ctz(s));
    flags_update(c, F_ZF, 0);
}

void bsr_Gv_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    if (!s) {
        flags_update(c, F_ZF, F_ZF);
        return;
    }
    write_G(c, i, i->opsize, 31u - (uint32_t)__builtin_clz(s));
    flags_update(c, F_ZF, 0);
}

/*
 * BSWAP: with a 16-bit operand size the SDM says the result is undefined;
 * Intel processors from the 486 on clear the low word (the upper half of
 * the register is untouched), which is what this does.
 */
void bswap_Zd(struct cpu *c, const struct insn *i)
{
    int r = reg_Z(i);
    if (i->opsize == 2)
        cpu_set_reg16(c, r, 0);
    else
        c->r[r] = __builtin_bswap32(c->r[r]);
}

/* SETcc: ModRM.reg is ignored. */
void setcc_Eb(struct cpu *c, const struct insn *i)
{
    write_E(c, i, 1, cpu_cond(c, i->b & 15));
}

/*
 * CMOVcc: the source is read (and may fault) whether or not the condition
 * holds; when it is false nothing is written (in 32-bit code the upper half
 * of the destination is not touched either, unlike 64-bit mode).
 */
void cmovcc_Gv_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t s = read_E(c, i, i->opsize);
    if (cpu_cond(c, i->b & 15))
        write_G(c, i, i->opsize, s);
}

/* cpu/forms.c: per condition, 32-bit operand (CMOVcc) with a register or a
 * 32-bit-address memory r/m; SETcc with either. */
#define CC_FORMS(cc)                                                                           \
    static void cmovcc_r32_cc##cc(struct cpu *c, const struct insn *i)                         \
    {                                                                                          \
        uint32_t s = c->r[i->rm];                                                              \
        if (cpu_cond_inline(c, cc))                                                            \
            c->r[i->reg] = s;                                                                  \
    }                                                                                          \
    static void cmovcc_m32_cc##cc(struct cpu *c, const struct insn *i)                         \
    {                                                                                          \
        uint32_t s = read_Ef(c, i, 4, FORM_MEM32);                                             \
        if (cpu_cond_inline(c, cc))                                                            \
            c->r[i->reg] = s;                                                                  \
    }                                                                                          \
    static void setcc_r_cc##cc(struct cpu *c, const struct insn *i)                            \
    {                                                                                          \
        cpu_set_reg8(c, i->rm, cpu_cond_inline(c, cc));                                        \
    }                                                                                          \
    static void setcc_m32_cc##cc(struct cpu *c, const struct insn *i)                          \
    {                                                                                          \
        write_Ef(c, i, 1, cpu_cond_inline(c, cc), FORM_MEM32);                                 \
    }
CC_FORMS(0) CC_FORMS(1) CC_FORMS(2) CC_FORMS(3) CC_FORMS(4) CC_FORMS(5) CC_FORMS(6) CC_FORMS(7)
CC_FORMS(8) CC_FORMS(9) CC_FORMS(10) CC_FORMS(11) CC_FORMS(12) CC_FORMS(13) CC_FORMS(14) CC_FORMS(15)
#define CC_TABLE(p)                                                                            \
    {p##0, p##1, p##2, p##3, p##4, p##5, p##6, p##7, p##8, p##9, p##10, p##11, p##12, p##13, p##14, p##15}
#define CC_THREADED(cc)                                                                        \
    THREADED_REG(cmovcc_r32_cc##cc) THREADED(cmovcc_m32_cc##cc)                            \
    THREADED_REG(setcc_r_cc##cc)                                                               \
    THREADED_STORE(setcc_m32_cc##cc)
CC_THREADED(0) CC_THREADED(1) CC_THREADED(2) CC_THREADED(3) CC_THREADED(4) CC_THREADED(5)
CC_THREADED(6) CC_THREADED(7) CC_THREADED(8) CC_THREADED(9) CC_THREADED(10) CC_THREADED(11)
CC_THREADED(12) CC_THREADED(13) CC_THREADED(14) CC_THREADED(15)
const insn_fn cmovcc_by_cc_r32[16] = CC_TABLE(cmovcc_r32_cc);
#define CC_TABLE_T(p)                                                                          \
    {p##0_t, p##1_t, p##2_t, p##3_t, p##4_t, p##5_t, p##6_t, p##7_t, p##8_t, p##9_t, p##10_t,   \
     p##11_t, p##12_t, p##13_t, p##14_t, p##15_t}
const insn_fn cmovcc_by_cc_r32_t[16] = CC_TABLE_T(cmovcc_r32_cc);
const insn_fn cmovcc_by_cc_m32_t[16] = CC_TABLE_T(cmovcc_m32_cc);
const insn_fn setcc_by_cc_r_t[16] = CC_TABLE_T(setcc_r_cc);
const insn_fn setcc_by_cc_m32_t[16] = CC_TABLE_T(setcc_m32_cc);
const insn_fn cmovcc_by_cc_m32[16] = CC_TABLE(cmovcc_m32_cc);
const insn_fn setcc_by_cc_r[16] = CC_TABLE(setcc_r_cc);
const insn_fn setcc_by_cc_m32[16] = CC_TABLE(setcc_m32_cc);
