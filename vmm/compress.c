/*
 * Ring compression: the shadow descriptor tables the real CPU uses while a
 * deprivileged guest runs, and the compression of segment state (see
 * vcpu.h for the whole picture).
 *
 * Where the VMM's structures live. The CPU reaches its GDT, IDT, LDT and TSS
 * through linear addresses, so the VMM's copies must be somewhere in the
 * guest's linear space. trapeze uses the historical answer (VMware, Xen):
 * the top 4 MiB of the linear space, VMM_BASE = 0xFFC00000 and up, backed by
 * VMM memory mapped on the VM's bus beyond guest RAM (bus_add_host_mem) and
 * fenced by segment truncation: every guest code/data segment the shadow
 * holds, and every segment register cache, ends at VMM_FENCE = 0xFFBFFFFF,
 * so a guest access there is a #GP. (With paging off linear = physical; with
 * shadow paging the region will be mapped in every shadow address space and
 * never for the guest.) The truncation is observable: LSL on the guest's
 * flat segments answers 0xFFBFFFFF in trap mode.
 *
 *   VMM_BASE + 0x00000  shadow GDT, 64 KiB, real GDTR.limit = 0xFFFF
 *   VMM_BASE + 0x10000  the VMM's IDT (2 KiB of not-present gates): never
 *                       used, every event is intercepted; SIDT shows it
 *   VMM_BASE + 0x11000  the VMM's TSS: no I/O bitmap (map base beyond the
 *                       limit), so every port access at ring 1 faults
 *   VMM_BASE + 0x20000  shadow LDT, 64 KiB
 * The VMM owns the GDT's last two slots: VMM_SEL_LDT (the shadow LDT) and
 * VMM_SEL_TSS; the guest's GDT is copied up to below them.
 *
 * Coherence: the shadow GDT and LDT are rebuilt from the guest's tables each
 * time the VMM hands the CPU back to the guest (vcpu_view_leave): a copy of
 * the guest's table (256 bytes for a 32-entry GDT) per exit, which keeps
 * descriptors the guest wrote since the last exit right without write
 * protection. Between exits a native segment load in trap mode can still see
 * a descriptor older than the guest's last write to its table (a trap-mode
 * divergence; vmm mode loads segments in the guest's view).
 *
 * Compression: a descriptor (or cached segment) with DPL 0 gets DPL 1; code
 * and data segments are truncated at VMM_FENCE. Guest DPL-1 segments stay
 * DPL 1, so guest ring 1 cannot be told from guest ring 0 (the classic
 * limitation of ring compression). Expand-down segments are not truncated.
 */
#include <string.h>

#include "../cpu/descriptor.h"
#include "compress.h"
#include "shadow.h"

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Largest byte limit a segment based at base may keep. */
static uint32_t fence_limit(uint32_t base)
{
    return base <= VMM_FENCE ? VMM_FENCE - base : 0;
}

/* Compresses one raw descriptor in place. */
static void compress_desc(uint8_t *p)
{
    struct desc d = {rd32(p), rd32(p + 4)};
    if (!(d.hi & AR_P))
        return;
    if (desc_dpl(&d) == 0)
        d.hi |= 1u << 13;
    bool expand_down = desc_is_data(&d) && (d.hi & 0x400);
    /* User (DPL 3) segments keep their limits: CPL 3 cannot reach the VMM's
     * pages, which the shadow page tables map supervisor-only, and user code
     * relies on 4 GiB wrap-around (glibc's and busybox's TLS use gs:[-n]). */
    if (desc_s(&d) && !expand_down && desc_dpl(&d) != 3) {
        uint32_t base = desc_base(&d), lim = desc_limit(&d), max = fence_limit(base);
        if (lim > max) {
            uint32_t field = (d.hi & AR_G) ? (max + 1) / 4096 - 1 : max;
            if ((d.hi & AR_G) && max < 4095)
                field = 0; /* cannot express less than a page: keep one */
            d.lo = (d.lo & 0xffff0000u) | (field & 0xffff);
            d.hi = (d.hi & ~0x000f0000u) | (field & 0x000f0000u);
        }
    }
    wr32(p, d.lo);
    wr32(p + 4, d.hi);
}

static void put_desc(uint8_t *p, uint32_t base, uint32_t limit, uint32_t type_ar)
{
    wr32(p, (base << 16) | (limit & 0xffff));
    wr32(p + 4, (base & 0xff000000u) | ((base >> 16) & 0xff) | (limit & 0x000f0000u) | type_ar);
}

/* Copies a guest table (read through the guest's own page tables) into
 * shadow memory and compresses it. *used is the shadow's previous
 * length, whose excess is cleared. */
static void shadow_table(struct vcpu *v, uint8_t *dst, uint32_t base, uint32_t bytes,
                         uint32_t max, uint32_t *used)
{
    if (bytes > max)
        bytes = max;
    shadow_read_guest(v, base, dst, bytes);
    for (uint32_t k = 0; k + 8 <= bytes; k += 8)
        compress_desc(dst + k);
    if (*used > bytes)
        memset(dst + bytes, 0, *used - bytes);
    *used = bytes;
}

void compress_init(struct vcpu *v)
{
    uint8_t *tss = v->mem + VMM_TSS_OFF;
    memset(v->mem, 0, VMM_MEM_SIZE);
    /* I/O map base beyond the limit: no bitmap, every port faults at CPL > IOPL. */
    tss[102] = 0x68;
    put_desc(v->mem + VMM_GDT_OFF + VMM_SEL_TSS, VMM_BASE + VMM_TSS_OFF, 0x67,
             AR_P | (DT_TSS32_BUSY << 8));
    v->shadow_gdt_used = v->shadow_ldt_used = 0;
}

void compress_install(struct vcpu *v)
{
    struct cpu *c = v->cpu;
    uint32_t gdt_bytes = (uint32_t)v->gdtr.limit + 1;
    if (v->mode != VM_MODE_PARAVIRT) /* paravirt: the VMM's own GDT (paravirt.c) */
        shadow_table(v, v->mem + VMM_GDT_OFF, v->gdtr.base, gdt_bytes, VMM_SEL_LDT,
                     &v->shadow_gdt_used);

    c->gdtr.base = VMM_BASE + VMM_GDT_OFF;
    c->gdtr.limit = 0xffff;
    c->idtr.base = VMM_BASE + VMM_IDT_OFF;
    c->idtr.limit = 0x7ff;

    c->tr.sel = VMM_SEL_TSS;
    c->tr.base = VMM_BASE + VMM_TSS_OFF;
    c->tr.limit = 0x67;
    c->tr.ar = AR_P | (DT_TSS32_BUSY << 8);
    c->tr.valid = true;

    uint8_t *ldt_desc = v->mem + VMM_GDT_OFF + VMM_SEL_LDT;
    if (v->ldtr.valid && !sel_is_null(v->ldtr.sel)) {
        uint32_t bytes = v->ldtr.limit + 1 > VMM_LDT_MAX ? VMM_LDT_MAX : v->ldtr.limit + 1;
        shadow_table(v, v->mem + VMM_LDT_OFF, v->ldtr.base, bytes, VMM_LDT_MAX,
                     &v->shadow_ldt_used);
        put_desc(ldt_desc, VMM_BASE + VMM_LDT_OFF, bytes - 1, AR_P | (DT_LDT << 8));
        c->ldtr.sel = VMM_SEL_LDT;
        c->ldtr.base = VMM_BASE + VMM_LDT_OFF;
        c->ldtr.limit = bytes - 1;
        c->ldtr.ar = AR_P | (DT_LDT << 8);
        c->ldtr.valid = true;
    } else {
        memset(ldt_desc, 0, 8);
        c->ldtr = v->ldtr; /* null: nothing to shadow */
    }
}

/*
 * vmm mode, guest at CPL 3: a user segment keeps its full limit. Ring 3 is
 * fenced from the VMM's region by paging (the region is supervisor-only in
 * every shadow), and user code relies on full limits: i386 TLS reaches
 * below the thread pointer with %gs:negative offsets that wrap around 4 GiB.
 * The limit is taken again from the guest's descriptor (it was truncated
 * while the guest kernel held the segment), provided the descriptor still
 * describes the cached segment. Every segment load at ring 1 exits in vmm
 * mode and every way back to the kernel passes the view, which truncates
 * again. In trap mode ring 1 loads segments natively: always truncated.
 */
static bool user_full_limit(struct vcpu *v, struct seg *g)
{
    if (v->mode != VM_MODE_VMM || v->cpl != 3 || AR_DPL_OF(g->ar) != 3 || sel_is_null(g->sel))
        return false;
    const struct dtr *t = &v->gdtr;
    struct dtr ldt = {v->ldtr.base, (uint16_t)v->ldtr.limit};
    if (g->sel & 4) {
        if (!v->ldtr.valid)
            return false;
        t = &ldt;
    }
    uint32_t off = g->sel & ~7u;
    if (off + 7 > t->limit)
        return false;
    uint8_t raw[8];
    shadow_read_guest(v, t->base + off, raw, 8);
    struct desc d = {rd32(raw), rd32(raw + 4)};
    if (desc_base(&d) != g->base || ((desc_ar(&d) ^ g->ar) & ~(uint32_t)AR_A))
        return false;
    g->limit = desc_limit(&d);
    return true;
}

void compress_seg(struct vcpu *v, int s)
{
    struct cpu *c = v->cpu;
    struct seg *g = &c->seg[s];
    if (!g->valid || !(g->ar & AR_S))
        return;
    if (user_full_limit(v, g)) {
        seg_update_cache(c, g);
        return;
    }
    if (AR_DPL_OF(g->ar) == 0)
        g->ar |= 1u << 13;
    if ((s == S_CS || s == S_SS) && v->cpl == 0 && (g->sel & 3) == 0)
        g->sel |= 1;
    bool expand_down = !(g->ar & 0x800) && (g->ar & 0x400);
    if (!expand_down && AR_DPL_OF(g->ar) != 3 && g->limit > fence_limit(g->base))
        g->limit = fence_limit(g->base);
    seg_update_cache(c, g);
}

void decompress_seg(struct vcpu *v, int s)
{
    struct cpu *c = v->cpu;
    struct seg *g = &c->seg[s];
    if (v->cpl != 0 || !g->valid || !(g->ar & AR_S))
        return;
    if (AR_DPL_OF(g->ar) == 1)
        g->ar &= ~(3u << 13);
    if ((s == S_CS || s == S_SS) && (g->sel & 3) == 1)
        g->sel &= ~3u;
    seg_update_cache(c, g);
}
