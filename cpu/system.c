/*
 * System instructions: control and debug registers, descriptor-table
 * registers, LDTR/TR, the machine status word, cache and TLB control, and the
 * descriptor probes LAR/LSL/VERR/VERW/ARPL.
 *
 * Privilege: the C_PRIV forms fault with #GP(0) at CPL > 0; V86 mode runs at
 * CPL 3, so they fault there too (cpl_of() makes that explicit rather than
 * trusting whoever entered V86 to have set c->cpl). Real mode is CPL 0.
 * The whole 0F 00 group and ARPL/LAR/LSL are #UD outside protected mode.
 *
 * Order of checks follows the SDM's exception lists and, where the SDM is
 * silent, what a P6 (and Bochs modelling one) does: an invalid register
 * number (#UD) before privilege (#GP), privilege before DR7.GD (#DB).
 */
#include "descriptor.h"
#include "handlers.h"
#include "operand.h"
#include "protect.h"

/* CPL as the privilege checks see it: V86 is always 3. */
static inline unsigned cpl_of(const struct cpu *c)
{
    return cpu_v86(c) ? 3u : c->cpl;
}

static inline void require_cpl0(struct cpu *c)
{
    if (cpl_of(c) != 0)
        cpu_fault(c, EX_GP, 0);
}

/* Protected mode proper (not real, not V86): else #UD. */
static inline void require_pmode(struct cpu *c)
{
    if (!cpu_pmode(c) || cpu_v86(c))
        cpu_fault(c, EX_UD, 0);
}

/* ------------------------------------------------------------------ */
/* Control registers                                                  */

/* CR0 bits a P6 implements; writes to the others are ignored (they read 0),
 * as on real 32-bit processors: only bad combinations fault. */
#define CR0_IMPL (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
                  CR0_NW | CR0_CD | CR0_PG)

/*
 * CR4 bits this CPU implements. VME/PVI (virtual-8086 extensions), PAE and
 * MCE are not implemented and not advertised in CPUID, so writing 1 to them
 * is #GP(0) like any reserved bit. DE is implemented (DR4/DR5 #UD; I/O
 * breakpoints on IN/OUT, see io.c).
 */
#define CR4_IMPL (CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE)

/* The derived parts of segment caches depend on the mode (real/V86 accesses
 * ignore types), so they are recomputed when PE or VM changes. The selectors
 * and descriptors themselves stay as they were: switching PE reloads
 * nothing, which is what lets real-mode code jump into protected mode. */
static void refresh_seg_caches(struct cpu *c)
{
    for (int s = 0; s < 6; s++)
        seg_update_cache(c, &c->seg[s]);
}

void cpu_write_cr0(struct cpu *c, uint32_t v)
{
    v = (v & CR0_IMPL) | CR0_ET; /* ET is hardwired to 1 on the P6 */
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_fault(c, EX_GP, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_fault(c, EX_GP, 0);
    uint32_t old = c->cr0;
    c->cr0 = v;
    mmu_set_cr0(&c->mmu, v); /* flushes the TLB when PG or WP change */
    if ((old ^ v) & CR0_PE)
        refresh_seg_caches(c);
}

/* CR3: page-directory base plus PCD/PWT; the other bits are ignored on a
 * non-PAE processor (no fault) and read back as 0 here. */
void cpu_write_cr3(struct cpu *c, uint32_t v)
{
    c->cr3 = v & 0xfffff018u;
    mmu_set_cr3(&c->mmu, c->cr3); /* flushes non-global entries */
}

void cpu_write_cr4(struct cpu *c, uint32_t v)
{
    if (v & ~(uint32_t)CR4_IMPL)
        cpu_fault(c, EX_GP, 0);
    c->cr4 = v;
    mmu_set_cr4(&c->mmu, v); /* flushes all when PSE or PGE change */
}

/* MOV r32, CRn (0F 20): the register is always 32 bits; mod is ignored. */
void mov_Rd_Cd(struct cpu *c, const struct insn *i)
{
    uint32_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    default: cpu_fault(c, EX_UD, 0);
    }
    require_cpl0(c);
    c->r[i->rm] = v;
}

/* MOV CRn, r32 (0F 22). */
void mov_Cd_Rd(struct cpu *c, const struct insn *i)
{
    if (i->reg == 1 || i->reg > 4)
        cpu_fault(c, EX_UD, 0);
    require_cpl0(c);
    uint32_t v = c->r[i->rm];
    switch (i->reg) {
    case 0: cpu_write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: cpu_write_cr3(c, v); break;
    case 4: cpu_write_cr4(c, v); break;
    }
}

/* ------------------------------------------------------------------ */
/* Debug registers                                                    */

/* Fixed bits on a P6: DR6 bits 4-11 and 16-31 read 1, bit 12 reads 0;
 * DR7 bit 10 reads 1, bits 11, 12, 14, 15 read 0. */
#define DR6_FIXED1 0xffff0ff0u
#define DR6_WRITABLE 0x0000e00fu
#define DR7_FIXED1 0x00000400u
#define DR7_WRITABLE 0xffff23ffu
#define DR6_BD (1u << 13)
#define DR7_GD (1u << 13)

/* Common checks of MOV DRn; returns the register index actually meant
 * (DR4/DR5 alias DR6/DR7 when CR4.DE is clear). */
static int dr_index(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    int n = i->reg;
    if (n == 4 || n == 5) {
        if (c->cr4 & CR4_DE)
            cpu_fault(c, EX_UD, 0);
        n += 2;
    }
    if (c->dr[7] & DR7_GD) {
        /* General detect: a fault before the access; the handler is entered
         * with GD clear so that it can use the debug registers itself. */
        c->dr[6] |= DR6_BD;
        c->dr[7] &= ~DR7_GD;
        cpu_fault(c, EX_DB, 0);
    }
    return n;
}

void mov_Rd_Dd(struct cpu *c, const struct insn *i)
{
    int n = dr_index(c, i);
    c->r[i->rm] = c->dr[n];
}

void mov_Dd_Rd(struct cpu *c, const struct insn *i)
{
    int n = dr_index(c, i);
    uint32_t v = c->r[i->rm];
    if (n == 6)
        v = (v & DR6_WRITABLE) | DR6_FIXED1;
    else if (n == 7)
        v = (v & DR7_WRITABLE) | DR7_FIXED1;
    c->dr[n] = v;
    cpu_debug_regs_changed(c);
}

/* ------------------------------------------------------------------ */
/* GDTR / IDTR                                                        */

/* LGDT/LIDT m16&32: with a 16-bit operand size only 24 bits of the base
 * are loaded (the high byte becomes 0). Both reads precede the write. */
static void load_dtr(struct cpu *c, const struct insn *i, struct dtr *d)
{
    require_cpl0(c);
    uint32_t off = ea(c, i);
    uint16_t limit = cpu_read16(c, i->seg, off);
    uint32_t base = cpu_read32(c, i->seg, off + 2);
    if (i->opsize == 2)
        base &= 0x00ffffffu;
    d->limit = limit;
    d->base = base;
}

/* SGDT/SIDT m: limit then 32-bit base; with a 16-bit operand size the P6
 * stores the base's high byte as 0 (the 286 stored 0xff). Not privileged. */
static void store_dtr(struct cpu *c, const struct insn *i, const struct dtr *d)
{
    uint32_t off = ea(c, i);
    uint32_t base = d->base;
    if (i->opsize == 2)
        base &= 0x00ffffffu;
    /* Check the whole 6-byte operand against the segment first, so a limit
     * fault leaves memory untouched. */
    seg_lin(c, i->seg, off, 6, true);
    cpu_write16(c, i->seg, off, d->limit);
    cpu_write32(c, i->seg, off + 2, base);
}

void lgdt_Ms(struct cpu *c, const struct insn *i) { load_dtr(c, i, &c->gdtr); }
void lidt_Ms(struct cpu *c, const struct insn *i) { load_dtr(c, i, &c->idtr); }
void sgdt_Ms(struct cpu *c, const struct insn *i) { store_dtr(c, i, &c->gdtr); }
void sidt_Ms(struct cpu *c, const struct insn *i) { store_dtr(c, i, &c->idtr); }

/* ------------------------------------------------------------------ */
/* LDTR / TR                                                          */

void lldt_Ew(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    require_cpl0(c);
    uint16_t sel = (uint16_t)read_E(c, i, 2);
    if (sel_is_null(sel)) {
        /* Null: LDTR becomes invalid; any later LDT reference faults. */
        seg_set_null(c, &c->ldtr, sel);
        return;
    }
    struct desc d;
    if ((sel & SEL_TI) || !desc_fetch(c, sel, &d))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (desc_s(&d) || desc_type(&d) != DT_LDT)
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(&d))
        cpu_fault(c, EX_NP, SEL_ERR(sel));
    seg_from_desc(c, &c->ldtr, sel, &d);
}

void ltr_Ew(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    require_cpl0(c);
    uint16_t sel = (uint16_t)read_E(c, i, 2);
    if (sel_is_null(sel))
        cpu_fault(c, EX_GP, 0);
    struct desc d;
    if ((sel & SEL_TI) || !desc_fetch(c, sel, &d))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    unsigned type = desc_type(&d);
    if (desc_s(&d) || (type != DT_TSS16_AVAIL && type != DT_TSS32_AVAIL))
        cpu_fault(c, EX_GP, SEL_ERR(sel));
    if (!desc_present(&d))
        cpu_fault(c, EX_NP, SEL_ERR(sel));
    d.hi |= 2u << 8; /* busy: written before TR changes, as it may page fault */
    desc_write_hi(c, sel, d.hi);
    seg_from_desc(c, &c->tr, sel, &d);
}

/* SLDT/STR: a register destination with a 32-bit operand size receives the
 * selector zero-extended (P6); a memory destination is always 16 bits. */
static void store_sel(struct cpu *c, const struct insn *i, uint16_t sel)
{
    if (i->mod == 3 && i->opsize == 4)
        c->r[i->rm] = sel;
    else
        write_E(c, i, 2, sel);
}

void sldt_Ew(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    store_sel(c, i, c->ldtr.sel);
}

void str_Ew(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    store_sel(c, i, c->tr.sel);
}

/* ------------------------------------------------------------------ */
/* MSW, CLTS, caches, TLB                                             */

/* LMSW: loads CR0 bits 0-3 (PE MP EM TS); it can set PE but never clear it. */
void lmsw_Ew(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    uint32_t msw = read_E(c, i, 2) & 0xf;
    cpu_write_cr0(c, (c->cr0 & ~0xeu) | msw);
}

/* SMSW: a register destination with a 32-bit operand size receives all of
 * CR0 on a P6 (the SDM calls the high bits undefined); memory gets 16 bits. */
void smsw_Ew(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3 && i->opsize == 4)
        c->r[i->rm] = c->cr0;
    else
        write_E(c, i, 2, (uint16_t)c->cr0);
}

void clts(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    c->cr0 &= ~(uint32_t)CR0_TS;
    mmu_set_cr0(&c->mmu, c->cr0);
}

/* No caches are modelled: INVD and WBINVD only check privilege. */
void invd(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
}

void wbinvd(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
}

/* INVLPG m: invalidates the TLB entry of the operand's linear address (no
 * segment-limit check: the operand is not accessed). */
void invlpg_Mb(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    mmu_invlpg(&c->mmu, c->seg[i->seg].base + ea(c, i));
}

/* ------------------------------------------------------------------ */
/* LAR, LSL, VERR, VERW, ARPL                                         */

static void set_zf(struct cpu *c, bool z)
{
    cpu_set_eflags(c, z ? F_ZF : 0, F_ZF);
}

/* Visible at max(CPL, RPL)? Conforming code is visible at any privilege. */
static bool desc_visible(struct cpu *c, uint16_t sel, const struct desc *d)
{
    if (desc_conforming(d))
        return true;
    unsigned dpl = desc_dpl(d);
    return dpl >= cpl_of(c) && dpl >= SEL_RPL(sel);
}

/* Fetches a descriptor for the probes; false (ZF = 0) for a null selector or
 * one beyond its table's limit. Page faults on the table are raised. */
static bool probe_desc(struct cpu *c, uint16_t sel, struct desc *d)
{
    return !sel_is_null(sel) && desc_fetch(c, sel, d);
}

/* System types LAR accepts: TSSs, LDT, call and task gates (not the
 * interrupt/trap gates or reserved types). LSL accepts those with a limit. */
static const uint16_t LAR_SYS_TYPES =
    (1u << DT_TSS16_AVAIL) | (1u << DT_LDT) | (1u << DT_TSS16_BUSY) | (1u << DT_CALLGATE16) |
    (1u << DT_TASKGATE) | (1u << DT_TSS32_AVAIL) | (1u << DT_TSS32_BUSY) | (1u << DT_CALLGATE32);
static const uint16_t LSL_SYS_TYPES = (1u << DT_TSS16_AVAIL) | (1u << DT_LDT) |
                                      (1u << DT_TSS16_BUSY) | (1u << DT_TSS32_AVAIL) |
                                      (1u << DT_TSS32_BUSY);

void lar_Gv_Ew(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    uint16_t sel = (uint16_t)read_E(c, i, 2);
    struct desc d;
    bool ok = probe_desc(c, sel, &d) && (desc_s(&d) || (LAR_SYS_TYPES >> desc_type(&d)) & 1) &&
              desc_visible(c, sel, &d);
    if (ok) /* 32-bit: 0x00FxFF00 with the limit nibble 19:16 as read (P6) */
        write_G(c, i, i->opsize, i->opsize == 4 ? (d.hi & 0x00ffff00u) : (d.hi & 0xff00u));
    set_zf(c, ok);
}

void lsl_Gv_Ew(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    uint16_t sel = (uint16_t)read_E(c, i, 2);
    struct desc d;
    bool ok = probe_desc(c, sel, &d) && (desc_s(&d) || (LSL_SYS_TYPES >> desc_type(&d)) & 1) &&
              desc_visible(c, sel, &d);
    if (ok)
        write_G(c, i, i->opsize, desc_limit(&d)); /* 16-bit: low word of the limit */
    set_zf(c, ok);
}

/* VERR/VERW: the segment must be a code/data segment visible at
 * max(CPL, RPL); VERR wants it readable (data, or code with R), VERW
 * writable data. The P bit is not examined. */
static void verify(struct cpu *c, const struct insn *i, bool write)
{
    require_pmode(c);
    uint16_t sel = (uint16_t)read_E(c, i, 2);
    struct desc d;
    bool ok = probe_desc(c, sel, &d) && desc_s(&d) &&
              (write ? desc_writable_data(&d) : desc_readable(&d)) && desc_visible(c, sel, &d);
    set_zf(c, ok);
}

void verr_Ew(struct cpu *c, const struct insn *i) { verify(c, i, false); }
void verw_Ew(struct cpu *c, const struct insn *i) { verify(c, i, true); }

/* ARPL r/m16, r16: raises the destination selector's RPL to the source's.
 * The destination is written only when it changes (as a P6 does; the
 * write-permission check still happens first). Only ZF is affected. */
void arpl_Ew_Gw(struct cpu *c, const struct insn *i)
{
    require_pmode(c);
    uint32_t lin;
    uint16_t dst = (uint16_t)rmw_E_begin(c, i, 2, &lin);
    uint16_t src = (uint16_t)read_G(c, i, 2);
    bool adjust = (dst & 3) < (src & 3);
    if (adjust)
        rmw_E_end(c, i, 2, lin, (uint16_t)((dst & ~3u) | (src & 3u)));
    set_zf(c, adjust);
}
