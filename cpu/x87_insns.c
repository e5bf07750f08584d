/*
 * The x87 opcodes D8-DF and WAIT: decoding of the escape's ModRM into x87
 * operations, the CR0.EM/TS/MP/NE rules, pending-exception signalling (#MF
 * or FERR#), operand memory access and the FPU instruction/operand pointers.
 * The arithmetic and the register stack are cpu/x87.c's; this file touches
 * guest memory and CPU state, x87.c never does.
 *
 * Memory stores check the whole destination for writing before the x87
 * state changes, so a #PF or #GP on the store restarts the instruction with
 * the stack as it was.
 */
#include "flags.h"
#include "handlers.h"
#include "operand.h"

/* Non-waiting control instructions do not check for pending exceptions and
 * do not update FIP/FDP/FOP. */
enum { X87_WAITING = 1, X87_CONTROL = 2 };

/*
 * Legacy error reporting (CR0.NE = 0), as the P6 does it with the PC's
 * wiring: FERR# rises when an x87 instruction completes with an unmasked
 * exception pending (the PC routes it to IRQ 13) and falls when the
 * exception is cleared (FNCLEX, FNINIT, a clean FRSTOR/FLDENV). A later
 * waiting instruction freezes while FERR# is up, until the interrupt handler
 * runs, unless IGNNE# is asserted (the PC asserts it when software writes
 * port 0xF0).
 */
static void update_ferr(struct cpu *c)
{
    bool want = x87_pending(&c->fpu) && !(c->cr0 & CR0_NE);
    if (want == c->ferr)
        return;
    c->ferr = want;
    if (want)
        c->ignne = false;
    if (c->env && c->env->ferr)
        c->env->ferr(c->env->ctx, want);
}

static void raise_pending(struct cpu *c)
{
    if (c->cr0 & CR0_NE)
        cpu_fault(c, EX_MF, 0);
    update_ferr(c);
    if (c->ignne)
        return; /* IGNNE#: the instruction runs, ignoring the error */
    /* Freeze: the instruction waits for the error interrupt. The CPU sleeps
     * as with HLT and retries the instruction after the handler returns. */
    c->halted = true;
    cpu_abort_insn(c);
}

/* #NM and pending-exception checks that precede every escape. */
static void x87_prologue(struct cpu *c, int kind)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_fault(c, EX_NM, 0);
    if ((kind & X87_WAITING) && x87_pending(&c->fpu))
        raise_pending(c);
}

/* WAIT/FWAIT: #NM only when both TS and MP are set. */
void fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
        cpu_fault(c, EX_NM, 0);
    if (x87_pending(&c->fpu))
        raise_pending(c);
}

static void read_bytes(struct cpu *c, int seg, uint32_t off, uint8_t *buf, int n)
{
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        uint32_t v = cpu_read32(c, seg, off + (uint32_t)k);
        memcpy(buf + k, &v, 4);
    }
    for (; k < n; k++)
        buf[k] = cpu_read8(c, seg, off + (uint32_t)k);
}

/* Checks that n bytes at seg:off can be written (segment and pages) without
 * writing them. */
static void check_write(struct cpu *c, int seg, uint32_t off, int n)
{
    uint32_t lin = seg_lin(c, seg, off, n, true);
    for (int k = 0; k < n; k += (int)(PAGE_SIZE - ((lin + (uint32_t)k) & ~PAGE_MASK))) {
        int chunk = n - k < 4 ? n - k : 4;
        lin_prepare_write(c, lin + (uint32_t)k, chunk, cpu_acc_user(c));
    }
    lin_prepare_write(c, lin + (uint32_t)n - 1, 1, cpu_acc_user(c));
}

static void write_bytes(struct cpu *c, int seg, uint32_t off, const uint8_t *buf, int n)
{
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        uint32_t v;
        memcpy(&v, buf + k, 4);
        cpu_write32(c, seg, off + (uint32_t)k, v);
    }
    for (; k < n; k++)
        cpu_write8(c, seg, off + (uint32_t)k, buf[k]);
}

static void note_last(struct cpu *c, const struct insn *i, bool mem, uint32_t off)
{
    uint16_t fop = (uint16_t)(((i->b & 7) << 8) | i->modrm);
    x87_note_last(&c->fpu, fop, c->seg[S_CS].sel, c->prev_eip, mem ? c->seg[i->seg].sel : 0,
                  mem ? off : 0);
}

static bool pmode_layout(const struct cpu *c) { return cpu_pmode(c) && !cpu_v86(c); }

/* Arithmetic forms of the reg field: the x87 enum order is ADD MUL - - SUB SUBR DIV DIVR. */
static enum x87_arith arith_of(int reg) { return (enum x87_arith)reg; }
/* DC and DE register forms swap SUB/SUBR and DIV/DIVR (ST(i) is the destination). */
static enum x87_arith arith_rev(int reg) { return (enum x87_arith)(reg >= 4 ? reg ^ 1 : reg); }

static void set_fcomi_flags(struct cpu *c, uint32_t bits)
{
    flags_set_arith(c, bits & (F_ZF | F_PF | F_CF));
}

static const enum x87_mfmt arith_fmt[4] = {X87_M32FP, X87_M32INT, X87_M64FP, X87_M16INT};

/* Memory forms: one case per (escape, reg). */
static void esc_mem(struct cpu *c, const struct insn *i)
{
    int esc = i->b & 7, reg = i->reg;
    uint32_t off = insn_ea(c, i);
    int seg = i->seg;
    uint8_t buf[108];
    struct x87 *x = &c->fpu;

    /* D8 DA DC DE: arithmetic and compares with a memory operand. */
    if (!(esc & 1)) {
        enum x87_mfmt f = arith_fmt[esc >> 1];
        x87_prologue(c, X87_WAITING);
        read_bytes(c, seg, off, buf, x87_mem_size(f));
        note_last(c, i, true, off);
        if (reg == 2 || reg == 3)
            x87_fcom_mem(x, f, buf, reg == 3 ? 1 : 0);
        else
            x87_arith_mem(x, arith_of(reg), f, buf);
        return;
    }

    /* Loads, stores and control: (format, operation) by escape and reg. */
    enum { LD, ST, STP, LDENV, LDCW, STENV, STCW, RSTOR, SAVE, STSW, BAD } op = BAD;
    enum x87_mfmt f = X87_M32FP;
    switch (esc) {
    case 1: /* D9 */
        switch (reg) {
        case 0: op = LD, f = X87_M32FP; break;
        case 2: op = ST, f = X87_M32FP; break;
        case 3: op = STP, f = X87_M32FP; break;
        case 4: op = LDENV; break;
        case 5: op = LDCW; break;
        case 6: op = STENV; break;
        case 7: op = STCW; break;
        }
        break;
    case 3: /* DB */
        switch (reg) {
        case 0: op = LD, f = X87_M32INT; break;
        case 2: op = ST, f = X87_M32INT; break;
        case 3: op = STP, f = X87_M32INT; break;
        case 5: op = LD, f = X87_M80FP; break;
        case 7: op = STP, f = X87_M80FP; break;
        }
        break;
    case 5: /* DD */
        switch (reg) {
        case 0: op = LD, f = X87_M64FP; break;
        case 2: op = ST, f = X87_M64FP; break;
        case 3: op = STP, f = X87_M64FP; break;
        case 4: op = RSTOR; break;
        case 6: op = SAVE; break;
        case 7: op = STSW; break;
        }
        break;
    default: /* DF */
        switch (reg) {
        case 0: op = LD, f = X87_M16INT; break;
        case 2: op = ST, f = X87_M16INT; break;
        case 3: op = STP, f = X87_M16INT; break;
        case 4: op = LD, f = X87_M80BCD; break;
        case 5: op = LD, f = X87_M64INT; break;
        case 6: op = STP, f = X87_M80BCD; break;
        case 7: op = STP, f = X87_M64INT; break;
        }
        break;
    }

    bool op32 = i->opsize == 4, pm = pmode_layout(c);
    switch (op) {
    case BAD: cpu_fault(c, EX_UD, 0); /* FISTTP (SSE3) and reserved forms */
    case LD: {
        x87_prologue(c, X87_WAITING);
        int n = x87_mem_size(f);
        read_bytes(c, seg, off, buf, n);
        note_last(c, i, true, off);
        x87_fld_mem(x, f, buf);
        return;
    }
    case ST:
    case STP: {
        x87_prologue(c, X87_WAITING);
        int n = x87_mem_size(f);
        check_write(c, seg, off, n);
        note_last(c, i, true, off);
        if (x87_fst_mem(x, f, buf, op == STP, false))
            write_bytes(c, seg, off, buf, n);
        return;
    }
    /* FLDCW, FLDENV and FRSTOR are waiting instructions: a pending unmasked
     * exception is signalled before they run (only FNINIT, FNCLEX, FNSTSW,
     * FNSTCW, FNSTENV and FNSAVE do not wait). They leave FIP/FDP alone. */
    case LDCW: {
        x87_prologue(c, X87_WAITING);
        uint16_t cw = cpu_read16(c, seg, off);
        x87_fldcw(x, cw);
        return;
    }
    case STCW:
        x87_prologue(c, X87_CONTROL);
        cpu_write16(c, seg, off, x87_fstcw(x));
        return;
    case STSW:
        x87_prologue(c, X87_CONTROL);
        cpu_write16(c, seg, off, x87_fstsw(x));
        return;
    case LDENV: {
        x87_prologue(c, X87_WAITING);
        int n = op32 ? 28 : 14;
        read_bytes(c, seg, off, buf, n);
        x87_fldenv(x, buf, op32, pm);
        return;
    }
    case STENV: {
        x87_prologue(c, X87_CONTROL);
        int n = op32 ? 28 : 14;
        check_write(c, seg, off, n);
        int len = x87_fstenv(x, buf, op32, pm);
        write_bytes(c, seg, off, buf, len);
        return;
    }
    case RSTOR: {
        x87_prologue(c, X87_WAITING);
        int n = op32 ? 108 : 94;
        read_bytes(c, seg, off, buf, n);
        x87_frstor(x, buf, op32, pm);
        return;
    }
    case SAVE: {
        x87_prologue(c, X87_CONTROL);
        int n = op32 ? 108 : 94;
        check_write(c, seg, off, n);
        int len = x87_fsave(x, buf, op32, pm);
        write_bytes(c, seg, off, buf, len);
        return;
    }
    }
}

/* Register forms. */
static void esc_reg(struct cpu *c, const struct insn *i)
{
    int esc = i->b & 7, reg = i->reg, rm = i->rm;
    struct x87 *x = &c->fpu;

    /* Non-waiting control forms first: FNCLEX, FNINIT, FNSTSW AX, and the
     * 8087/287 leftovers that a P6 executes as FNOP. */
    if (esc == 3 && reg == 4) {
        x87_prologue(c, X87_CONTROL);
        switch (rm) {
        case 2: x87_fclex(x); break;
        case 3: x87_finit(x); break;
        case 0: case 1: case 4: break; /* FENI, FDISI, FSETPM: no-ops */
        default: cpu_fault(c, EX_UD, 0);
        }
        return;
    }
    if (esc == 7 && reg == 4) {
        if (rm != 0)
            cpu_fault(c, EX_UD, 0);
        x87_prologue(c, X87_CONTROL);
        cpu_set_reg16(c, R_EAX, x87_fstsw(x));
        return;
    }

    /* Everything else is a waiting instruction: validate the form, then run. */
    bool valid = true;
    switch (esc) {
    case 1:
        if ((reg == 2 && rm != 0) || (reg == 4 && (rm == 2 || rm == 3 || rm >= 6)) ||
            (reg == 5 && rm == 7))
            valid = false;
        break;
    case 2: valid = reg < 4 || (reg == 5 && rm == 1); break;
    case 3: valid = reg != 7; break;
    case 5: valid = reg < 6; break;
    case 6: valid = reg != 3 || rm == 1; break;
    case 7: valid = reg <= 3 || reg == 5 || reg == 6; break;
    default: break;
    }
    if (!valid)
        cpu_fault(c, EX_UD, 0);
    x87_prologue(c, X87_WAITING);
    note_last(c, i, false, 0);

    switch (esc) {
    case 0: /* D8: ST(0) op ST(i); FCOM/FCOMP ST(i) */
        if (reg == 2 || reg == 3)
            x87_fcom_st(x, rm, false, reg == 3 ? 1 : 0);
        else
            x87_arith_st(x, arith_of(reg), 0, rm, false);
        return;
    case 1: /* D9 */
        switch (reg) {
        case 0: x87_fld_st(x, rm); return;
        case 1: x87_fxch(x, rm); return;
        case 2: return; /* FNOP */
        case 3: x87_fst_st(x, rm, true); return; /* FSTP1 alias */
        case 4:
            switch (rm) {
            case 0: x87_fchs(x); return;
            case 1: x87_fabs(x); return;
            case 4: x87_ftst(x); return;
            default: x87_fxam(x); return;
            }
        case 5: x87_fld_const(x, (enum x87_const)rm); return;
        case 6:
            switch (rm) {
            case 0: x87_f2xm1(x); return;
            case 1: x87_fyl2x(x); return;
            case 2: x87_fptan(x); return;
            case 3: x87_fpatan(x); return;
            case 4: x87_fxtract(x); return;
            case 5: x87_fprem(x, true); return;
            case 6: x87_fdecstp(x); return;
            default: x87_fincstp(x); return;
            }
        default:
            switch (rm) {
            case 0: x87_fprem(x, false); return;
            case 1: x87_fyl2xp1(x); return;
            case 2: x87_fsqrt(x); return;
            case 3: x87_fsincos(x); return;
            case 4: x87_frndint(x); return;
            case 5: x87_fscale(x); return;
            case 6: x87_fsin(x); return;
            default: x87_fcos(x); return;
            }
        }
    case 2: /* DA: FCMOVB/E/BE/U, FUCOMPP */
        if (reg == 5) {
            x87_fcom_st(x, 1, true, 2);
            return;
        }
        {
            static const uint8_t cc[4] = {0x2, 0x4, 0x6, 0xa}; /* B E BE P */
            x87_fcmov(x, rm, cpu_cond(c, cc[reg]));
        }
        return;
    case 3: /* DB: FCMOVNB/NE/NBE/NU, FUCOMI, FCOMI */
        if (reg < 4) {
            static const uint8_t cc[4] = {0x3, 0x5, 0x7, 0xb};
            x87_fcmov(x, rm, cpu_cond(c, cc[reg]));
        } else {
            set_fcomi_flags(c, x87_fcomi(x, rm, reg == 5, false));
        }
        return;
    case 4: /* DC: ST(i) op ST(0) (SUB/SUBR and DIV/DIVR swapped); FCOM2/FCOMP3 aliases */
        if (reg == 2 || reg == 3)
            x87_fcom_st(x, rm, false, reg == 3 ? 1 : 0);
        else
            x87_arith_st(x, arith_rev(reg), rm, 0, false);
        return;
    case 5: /* DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP */
        switch (reg) {
        case 0: x87_ffree(x, rm, false); return;
        case 1: x87_fxch(x, rm); return;
        case 2: x87_fst_st(x, rm, false); return;
        case 3: x87_fst_st(x, rm, true); return;
        case 4: x87_fcom_st(x, rm, true, 0); return;
        default: x87_fcom_st(x, rm, true, 1); return;
        }
    case 6: /* DE: ...P forms, FCOMP5 alias, FCOMPP */
        if (reg == 2)
            x87_fcom_st(x, rm, false, 1);
        else if (reg == 3)
            x87_fcom_st(x, 1, false, 2);
        else
            x87_arith_st(x, arith_rev(reg), rm, 0, true);
        return;
    default: /* DF: FFREEP, FXCH7, FSTP8/9 aliases, FUCOMIP, FCOMIP */
        switch (reg) {
        case 0: x87_ffree(x, rm, true); return;
        case 1: x87_fxch(x, rm); return;
        case 2: case 3: x87_fst_st(x, rm, true); return;
        default: set_fcomi_flags(c, x87_fcomi(x, rm, reg == 5, true)); return;
        }
    }
}

void x87_esc(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        esc_reg(c, i);
    else
        esc_mem(c, i);
    update_ferr(c);
}
