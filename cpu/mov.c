/*
 * Data movement that is neither stack nor string: MOV, MOVZX/MOVSX, LEA,
 * XCHG, CBW/CWD, XLAT, LAHF/SAHF, CMPXCHG, CMPXCHG8B, XADD, BOUND, the hint
 * NOPs, UD2/UD1 and the single-flag instructions (CLC STC CMC CLD STD).
 *
 * Fault discipline: every memory access that can fault happens before the
 * first register write, because the run loop restores only EIP and ESP.
 * Read-modify-write forms (XCHG, CMPXCHG, XADD) go through rmw_E_begin,
 * which checks the segment and translates the page(s) for writing before
 * reading, so the final store cannot fault.
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

/* --- MOV ------------------------------------------------------------------ */

void mov_Eb_Gb(struct cpu *c, const struct insn *i) { write_E(c, i, 1, read_G(c, i, 1)); }
void mov_Ev_Gv(struct cpu *c, const struct insn *i)
{
    write_E(c, i, i->opsize, read_G(c, i, i->opsize));
}
void mov_Gb_Eb(struct cpu *c, const struct insn *i) { write_G(c, i, 1, read_E(c, i, 1)); }
void mov_Gv_Ev(struct cpu *c, const struct insn *i)
{
    write_G(c, i, i->opsize, read_E(c, i, i->opsize));
}

/* moffs forms: i->disp holds the offset (address-size wide, zero-extended);
 * i->seg is DS or the override. */
void mov_AL_Ob(struct cpu *c, const struct insn *i)
{
    cpu_set_reg8(c, R_EAX, cpu_read8(c, i->seg, i->disp));
}
void mov_eAX_Ov(struct cpu *c, const struct insn *i)
{
    cpu_set_reg(c, R_EAX, i->opsize, cpu_read(c, i->seg, i->disp, i->opsize));
}
void mov_Ob_AL(struct cpu *c, const struct insn *i)
{
    cpu_write8(c, i->seg, i->disp, cpu_reg8(c, R_EAX));
}
void mov_Ov_eAX(struct cpu *c, const struct insn *i)
{
    cpu_write(c, i->seg, i->disp, i->opsize, cpu_reg(c, R_EAX, i->opsize));
}

void mov_Zb_Ib(struct cpu *c, const struct insn *i) { cpu_set_reg8(c, reg_Z(i), (uint8_t)i->imm); }
void mov_Zv_Iv(struct cpu *c, const struct insn *i) { cpu_set_reg(c, reg_Z(i), i->opsize, i->imm); }
void mov_Eb_Ib(struct cpu *c, const struct insn *i) { write_E(c, i, 1, i->imm); }
void mov_Ev_Iz(struct cpu *c, const struct insn *i) { write_E(c, i, i->opsize, i->imm); }

/* --- MOVZX / MOVSX ---------------------------------------------------------- */

void movzx_Gv_Eb(struct cpu *c, const struct insn *i) { write_G(c, i, i->opsize, read_E(c, i, 1)); }
void movzx_Gv_Ew(struct cpu *c, const struct insn *i) { write_G(c, i, i->opsize, read_E(c, i, 2)); }
void movsx_Gv_Eb(struct cpu *c, const struct insn *i)
{
    write_G(c, i, i->opsize, (uint32_t)(int32_t)(int8_t)read_E(c, i, 1));
}
void movsx_Gv_Ew(struct cpu *c, const struct insn *i)
{
    write_G(c, i, i->opsize, (uint32_t)(int32_t)(int16_t)read_E(c, i, 2));
}

/* --- The specialised forms (cpu/forms.c) ----------------------------------
 * _r32: 32-bit operand, register r/m (or no r/m); _m32: memory r/m with a
 * 32-bit address (and a 32-bit operand where the row is v-sized). */
void mov_Ev_Gv_r32(struct cpu *c, const struct insn *i) { c->r[i->rm] = c->r[i->reg]; }
void mov_Ev_Gv_m32(struct cpu *c, const struct insn *i)
{
    write_Ef(c, i, 4, c->r[i->reg], FORM_MEM32);
}
void mov_Gv_Ev_r32(struct cpu *c, const struct insn *i) { c->r[i->reg] = c->r[i->rm]; }
void mov_Gv_Ev_m32(struct cpu *c, const struct insn *i)
{
    cpu_load(c, i->seg, ea_f(c, i, FORM_MEM32), 4, &c->r[i->reg]);
}
/* m16: a 16-bit operand (66 prefix) in memory with a 32-bit address. */
void mov_Ev_Gv_m16(struct cpu *c, const struct insn *i)
{
    write_Ef(c, i, 2, c->r[i->reg], FORM_MEM32);
}
void mov_Gv_Ev_m16(struct cpu *c, const struct insn *i)
{
    cpu_set_reg16(c, i->reg, (uint16_t)read_Ef(c, i, 2, FORM_MEM32));
}
void mov_Eb_Gb_m32(struct cpu *c, const struct insn *i)
{
    write_Ef(c, i, 1, cpu_reg8(c, i->reg), FORM_MEM32);
}
void mov_Gb_Eb_m32(struct cpu *c, const struct insn *i)
{
    cpu_set_reg8(c, i->reg, (uint8_t)read_Ef(c, i, 1, FORM_MEM32));
}
void mov_Zv_Iv_r32(struct cpu *c, const struct insn *i) { c->r[reg_Z(i)] = i->imm; }
void mov_Ev_Iz_r32(struct cpu *c, const struct insn *i) { c->r[i->rm] = i->imm; }
void mov_Ev_Iz_m32(struct cpu *c, const struct insn *i) { write_Ef(c, i, 4, i->imm, FORM_MEM32); }
void movzx_Gv_Eb_r32(struct cpu *c, const struct insn *i) { c->r[i->reg] = cpu_reg8(c, i->rm); }
void movzx_Gv_Eb_m32(struct cpu *c, const struct insn *i)
{
    cpu_load(c, i->seg, ea_f(c, i, FORM_MEM32), 1, &c->r[i->reg]);
}
void movzx_Gv_Ew_r32(struct cpu *c, const struct insn *i) { c->r[i->reg] = (uint16_t)c->r[i->rm]; }
void movzx_Gv_Ew_m32(struct cpu *c, const struct insn *i)
{
    cpu_load(c, i->seg, ea_f(c, i, FORM_MEM32), 2, &c->r[i->reg]);
}
void movsx_Gv_Eb_m32(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint32_t)(int32_t)(int8_t)read_Ef(c, i, 1, FORM_MEM32);
}
void movsx_Gv_Ew_m32(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint32_t)(int32_t)(int16_t)read_Ef(c, i, 2, FORM_MEM32);
}
void lea_Gv_M_m32(struct cpu *c, const struct insn *i) { c->r[i->reg] = ea_f(c, i, FORM_MEM32); }
THREADED_REG(mov_Ev_Gv_r32) THREADED_STORE_OF(mov_Ev_Gv_m32, 4, c->r[i->reg]) THREADED_REG(mov_Gv_Ev_r32)
THREADED_LOAD_ZX(mov_Gv_Ev_m32, 4) THREADED_STORE_OF(mov_Ev_Gv_m16, 2, c->r[i->reg])
THREADED(mov_Gv_Ev_m16) THREADED_STORE_OF(mov_Eb_Gb_m32, 1, cpu_reg8(c, i->reg)) THREADED(mov_Gb_Eb_m32) THREADED_REG(mov_Zv_Iv_r32) THREADED_REG(mov_Ev_Iz_r32)
THREADED_STORE_OF(mov_Ev_Iz_m32, 4, i->imm) THREADED_REG(movzx_Gv_Eb_r32) THREADED_LOAD_ZX(movzx_Gv_Eb_m32, 1)
THREADED_REG(movzx_Gv_Ew_r32) THREADED_LOAD_ZX(movzx_Gv_Ew_m32, 2)
THREADED(movsx_Gv_Eb_m32) THREADED(movsx_Gv_Ew_m32) THREADED_REG(lea_Gv_M_m32)
/* LEA with a base and no index: one add (it cannot fault). */
void lea_Gv_M_m32_bd_t(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = EA_BD(c, i);
    quiet_next(c, i, false);
}

/* --- LEA --------------------------------------------------------------------
 * The offset is computed at the address size (insn_ea wraps 16-bit forms at
 * 64 KiB) and then truncated or zero-extended to the operand size. No memory
 * is touched and no segment applies. The register form is #UD (decoder: M). */
void lea_Gv_M(struct cpu *c, const struct insn *i) { write_G(c, i, i->opsize, ea(c, i)); }

/* --- XCHG -------------------------------------------------------------------
 * With a memory operand XCHG is always locked on the bus; here that means a
 * write-checked read-modify-write, so the store after the read cannot fault. */
static void xchg_E_G(struct cpu *c, const struct insn *i, int size)
{
    uint32_t lin;
    uint32_t g = read_G(c, i, size);
    uint32_t e = rmw_E_begin(c, i, size, &lin);
    rmw_E_end(c, i, size, lin, g);
    write_G(c, i, size, e);
}
void xchg_Eb_Gb(struct cpu *c, const struct insn *i) { xchg_E_G(c, i, 1); }
void xchg_Ev_Gv(struct cpu *c, const struct insn *i) { xchg_E_G(c, i, i->opsize); }

/* 91-97 (90 is NOP and owns its row). */
void xchg_Zv_eAX(struct cpu *c, const struct insn *i)
{
    int r = reg_Z(i), s = i->opsize;
    uint32_t a = cpu_reg(c, R_EAX, s), b = cpu_reg(c, r, s);
    cpu_set_reg(c, R_EAX, s, b);
    cpu_set_reg(c, r, s, a);
}

/* --- CBW/CWDE, CWD/CDQ ------------------------------------------------------ */

void cbw(struct cpu *c, const struct insn *i)
{
    if (i->opsize == 2)
        cpu_set_reg16(c, R_EAX, (uint16_t)(int16_t)(int8_t)c->r[R_EAX]);
    else
        c->r[R_EAX] = (uint32_t)(int32_t)(int16_t)c->r[R_EAX];
}

void cwd(struct cpu *c, const struct insn *i)
{
    if (i->opsize == 2)
        cpu_set_reg16(c, R_EDX, (c->r[R_EAX] & 0x8000) ? 0xffff : 0);
    else
        c->r[R_EDX] = (c->r[R_EAX] & 0x80000000u) ? 0xffffffffu : 0;
}

/* --- XLAT: AL = [seg:(E)BX + AL], offset at the address size ---------------- */

void xlat(struct cpu *c, const struct insn *i)
{
    uint32_t off = c->r[R_EBX] + (c->r[R_EAX] & 0xff);
    if (i->addrsize == 2)
        off &= 0xffff;
    cpu_set_reg8(c, R_EAX, cpu_read8(c, i->seg, off));
}

/* --- LAHF / SAHF --------------------------------------------------------------
 * AH <-> SF ZF 0 AF 0 PF 1 CF (bits 7..0 of EFLAGS). SAHF leaves OF alone. */
#define SAHF_MASK (F_SF | F_ZF | F_AF | F_PF | F_CF)

void lahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c);
    cpu_set_reg8(c, 4 /* AH */, (uint8_t)((f & SAHF_MASK) | F_RES1));
}

void sahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_set_eflags(c, (c->r[R_EAX] >> 8) & 0xff, SAHF_MASK);
}

/* --- CMPXCHG ----------------------------------------------------------------
 * Compares the accumulator with the destination (flags as CMP acc, dest).
 * Equal: dest = src. Not equal: acc = dest. A P6 performs the write cycle
 * in both cases (it writes the old value back when the compare fails), so
 * a read-only destination faults even on a failing compare: the rmw
 * translation for writing gives exactly that. */
static void cmpxchg(struct cpu *c, const struct insn *i, int size)
{
    uint32_t lin;
    uint32_t acc = cpu_reg(c, R_EAX, size);
    uint32_t src = read_G(c, i, size);
    uint32_t dst = rmw_E_begin(c, i, size, &lin);
    alu_op(c, 7, acc, dst, size);
    if (acc == dst) {
        rmw_E_end(c, i, size, lin, src);
    } else {
        if (i->mod != 3)
            cpu_rmw_end(c, lin, size, dst);
        cpu_set_reg(c, R_EAX, size, dst);
    }
}
void cmpxchg_Eb_Gb(struct cpu *c, const struct insn *i) { cmpxchg(c, i, 1); }
void cmpxchg_Ev_Gv(struct cpu *c, const struct insn *i) { cmpxchg(c, i, i->opsize); }

/* CMPXCHG8B m64: EDX:EAX == m64 ? (ZF=1, m64 = ECX:EBX) : (ZF=0, EDX:EAX = m64).
 * Only ZF changes. Both halves are checked and translated for writing first,
 * and the P6 writes the old value back on a failed compare. */
void cmpxchg8b_Mq(struct cpu *c, const struct insn *i)
{
    uint32_t lin = seg_lin(c, i->seg, ea(c, i), 8, true);
    int acc = cpu_acc_user(c);
    lin_prepare_write(c, lin, 8, acc);
    uint32_t lo = lin_read(c, lin, 4, acc), hi = lin_read(c, lin + 4, 4, acc);
    flags_materialize(c);
    if (lo == c->r[R_EAX] && hi == c->r[R_EDX]) {
        lin_write(c, lin, 4, c->r[R_EBX], acc);
        lin_write(c, lin + 4, 4, c->r[R_ECX], acc);
        c->eflags |= F_ZF;
    } else {
        lin_write(c, lin, 4, lo, acc);
        lin_write(c, lin + 4, 4, hi, acc);
        c->r[R_EAX] = lo;
        c->r[R_EDX] = hi;
        c->eflags &= ~F_ZF;
    }
}

/* --- XADD: tmp = dest + src; src = dest; dest = tmp (flags as ADD) ---------
 * With both operands the same register the sum wins (dest is written last). */
static void xadd(struct cpu *c, const struct insn *i, int size)
{
    uint32_t lin;
    uint32_t src = read_G(c, i, size);
    uint32_t dst = rmw_E_begin(c, i, size, &lin);
    uint32_t sum = alu_op(c, 0, dst, src, size);
    write_G(c, i, size, dst);
    rmw_E_end(c, i, size, lin, sum);
}
void xadd_Eb_Gb(struct cpu *c, const struct insn *i) { xadd(c, i, 1); }
void xadd_Ev_Gv(struct cpu *c, const struct insn *i) { xadd(c, i, i->opsize); }

/* --- BOUND Gv, Ma -------------------------------------------------------------
 * Signed bounds [lower, upper] at ea and ea + opsize (the second offset wraps
 * at the address size). Out of range: #BR, a fault (EIP at BOUND). */
void bound_Gv_Ma(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t off = ea(c, i);
    uint32_t off2 = off + (uint32_t)s;
    if (i->addrsize == 2)
        off2 &= 0xffff;
    uint32_t lo = cpu_read(c, i->seg, off, s), hi = cpu_read(c, i->seg, off2, s);
    int32_t idx, l, h;
    if (s == 2) {
        idx = (int16_t)read_G(c, i, 2);
        l = (int16_t)lo;
        h = (int16_t)hi;
    } else {
        idx = (int32_t)read_G(c, i, 4);
        l = (int32_t)lo;
        h = (int32_t)hi;
    }
    if (idx < l || idx > h)
        cpu_fault(c, EX_BR, 0);
}

/* --- hint NOPs (0F 19-1F /r): decode a ModRM operand, never access it ---- */
void nop_Ev(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
}

/* --- UD2 (0F 0B) and UD1 (0F B9): always #UD ------------------------------- */
void ud2(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_fault(c, EX_UD, 0);
}

/* --- flag instructions --------------------------------------------------------
 * CF changes need the lazy flags folded first (cost: one materialization). */
void clc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_materialize(c);
    c->eflags &= ~F_CF;
}
void stc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_materialize(c);
    c->eflags |= F_CF;
}
void cmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    flags_materialize(c);
    c->eflags ^= F_CF;
}
void cld(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->eflags &= ~F_DF;
}
void std(struct cpu *c, const struct insn *i)
{
    (void)i;
    c->eflags |= F_DF;
}
