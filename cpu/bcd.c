/*
 * Decimal adjustment: DAA DAS AAA AAS AAM AAD, and the undocumented SALC.
 *
 * The defined flags follow the SDM's pseudo-code. The "undefined" ones
 * follow the P6 column of sandpile.org's table of undefined flag behaviour,
 * where "U" is read as "unchanged" (docs/cpu-flags.md has the full list):
 *   DAA/DAS  OF unchanged.
 *   AAA/AAS  OF unchanged; SF = 0; PF from AL +/- 6 before AL is masked (AL
 *            itself when no adjustment is made); ZF from the 16-bit sum
 *            AX +/- 106h (AX when no adjustment): the table's "ZF16".
 *   AAM      OF = AF = CF = 0; SF ZF PF from AL.
 *   AAD      flags of the 8-bit addition AL + AH * imm8 (OF, AF, CF of that
 *            ADD; SF ZF PF of the result).
 */
#include "handlers.h"
#include "operand.h"

#define F_SZP (F_SF | F_ZF | F_PF)

static inline uint32_t szp8(uint32_t v)
{
    v &= 0xff;
    return (v == 0 ? F_ZF : 0) | (v & 0x80 ? F_SF : 0) | flags_pf(v);
}

void daa(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c);
    uint32_t al = c->r[R_EAX] & 0xff, old_al = al;
    bool old_cf = f & F_CF, cf = false, af = false;
    if ((al & 0x0f) > 9 || (f & F_AF)) {
        cf = old_cf || al + 6 > 0xff;
        al = (al + 6) & 0xff;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    } else {
        cf = false;
    }
    cpu_set_reg8(c, R_EAX, (uint8_t)al);
    flags_update(c, F_CF | F_AF | F_SZP, szp8(al) | (cf ? F_CF : 0) | (af ? F_AF : 0));
}

void das(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c);
    uint32_t al = c->r[R_EAX] & 0xff, old_al = al;
    bool old_cf = f & F_CF, cf = false, af = false;
    if ((al & 0x0f) > 9 || (f & F_AF)) {
        cf = old_cf || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al - 0x60) & 0xff;
        cf = true;
    }
    cpu_set_reg8(c, R_EAX, (uint8_t)al);
    flags_update(c, F_CF | F_AF | F_SZP, szp8(al) | (cf ? F_CF : 0) | (af ? F_AF : 0));
}

/* AAA/AAS: AX +/- 106h as the current SDM writes it (a carry or borrow out
 * of AL reaches AH), then AL's high nibble is cleared. */
static void ascii_adjust(struct cpu *c, bool sub)
{
    uint32_t f = cpu_get_eflags(c);
    uint32_t ax = c->r[R_EAX] & 0xffff, tmp = ax;
    bool adj = (ax & 0x0f) > 9 || (f & F_AF);
    if (adj)
        tmp = (sub ? ax - 0x106 : ax + 0x106) & 0xffff;
    uint32_t nf = flags_pf(tmp) | ((tmp & 0xffff) == 0 ? F_ZF : 0) | (adj ? F_AF | F_CF : 0);
    cpu_set_reg16(c, R_EAX, (uint16_t)(tmp & 0xff0f));
    flags_update(c, F_CF | F_AF | F_SZP, nf); /* SF = 0 */
}

void aaa(struct cpu *c, const struct insn *i) { (void)i; ascii_adjust(c, false); }
void aas(struct cpu *c, const struct insn *i) { (void)i; ascii_adjust(c, true); }

/* AAM imm8: AH = AL / imm8, AL = AL % imm8; imm8 = 0 is #DE (a fault). */
void aam_Ib(struct cpu *c, const struct insn *i)
{
    uint32_t base = i->imm & 0xff, al = c->r[R_EAX] & 0xff;
    if (!base)
        cpu_fault(c, EX_DE, 0);
    uint32_t q = al / base, r = al % base;
    cpu_set_reg16(c, R_EAX, (uint16_t)((q << 8) | r));
    flags_set_arith(c, szp8(r));
}

/* AAD imm8: AL = AL + AH * imm8 (8 bits), AH = 0; flags as that ADD. */
void aad_Ib(struct cpu *c, const struct insn *i)
{
    uint32_t base = i->imm & 0xff;
    uint32_t al = c->r[R_EAX] & 0xff, ah = (c->r[R_EAX] >> 8) & 0xff;
    uint32_t prod = (ah * base) & 0xff;
    uint32_t r = (al + prod) & 0xff;
    cpu_set_reg16(c, R_EAX, (uint16_t)r);
    lf_set(c, LF_ADD, 1, r, al, prod);
}

/* SALC (D6, undocumented until recently): AL = CF ? FFh : 00h; no flags. */
void salc(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_set_reg8(c, R_EAX, flags_cf(c) ? 0xff : 0);
}
