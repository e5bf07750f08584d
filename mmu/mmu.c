/*
 * Two-level IA-32 paging (4 KiB pages, 4 MiB PSE pages, global pages) and the
 * software TLB. See mmu.h for the caching invariants.
 */
#include "mmu.h"

#include <string.h>

enum {
    PTE_P = 1u << 0, PTE_W = 1u << 1, PTE_U = 1u << 2, PTE_A = 1u << 5, PTE_D = 1u << 6,
    PTE_PS = 1u << 7, PTE_G = 1u << 8,
};
/* A 4 MiB PDE without PSE-36 has bits 21:13 reserved (#PF with RSVD set). */
#define PDE4M_RSVD 0x003fe000u

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)

void mmu_flush_all(struct mmu *m)
{
    m->epoch += TLB_EPOCH_STEP;
    if (m->epoch >= PAGE_SIZE) {
        for (int i = 0; i < TLB_ENTRIES; i++)
            tlb_clear(m, &m->tlb[i]);
        m->epoch = TLB_EPOCH_STEP;
    }
    m->has_global = false;
    m->tlb_flushes++;
    m->bus_generation = m->bus->map_generation;
}

void mmu_flush_nonglobal(struct mmu *m)
{
    if (!m->has_global) {
        uint32_t generation = m->bus_generation;
        mmu_flush_all(m);
        m->bus_generation = generation;
        return;
    }
    for (int i = 0; i < TLB_ENTRIES; i++)
        if (!(m->tlb[i].perm & TLBP_GLOBAL))
            tlb_clear(m, &m->tlb[i]);
    m->tlb_flushes++;
}

void mmu_invlpg(struct mmu *m, uint32_t lin)
{
    struct tlb_entry *e = &m->tlb[(lin >> PAGE_SHIFT) & (TLB_ENTRIES - 1)];
    if (e->lpage == ((lin & PAGE_MASK) | m->epoch))
        tlb_clear(m, e);
}

void mmu_revoke_host_write(struct mmu *m, uint32_t ppage)
{
    for (int i = 0; i < TLB_ENTRIES; i++)
        if (m->tlb[i].ppage == ppage) {
            m->tlb[i].host_writable = 0;
            tlb_set_direct(m, &m->tlb[i]);
        }
    for (int i = 0; i < 2; i++) /* scratch entries: never direct, so no tags */
        if (m->scratch[i].ppage == ppage)
            m->scratch[i].host_writable = 0;
}

void mmu_init(struct mmu *m, struct bus *b)
{
    memset(m, 0, sizeof(*m));
    m->bus = b;
    for (int i = 0; i < TLB_ENTRIES; i++)
        m->tlb[i].slot = (uint16_t)i;
    m->scratch[0].slot = m->scratch[1].slot = TLB_SCRATCH;
    mmu_flush_all(m);
}

void mmu_set_cr0(struct mmu *m, uint32_t cr0)
{
    if ((cr0 ^ m->cr0) & (CR0_PG | CR0_WP))
        mmu_flush_all(m);
    m->cr0 = cr0;
}

void mmu_set_cr3(struct mmu *m, uint32_t cr3)
{
    m->cr3 = cr3;
    mmu_flush_nonglobal(m);
}

void mmu_set_cr4(struct mmu *m, uint32_t cr4)
{
    if ((cr4 ^ m->cr4) & (CR4_PSE | CR4_PGE))
        mmu_flush_all(m);
    m->cr4 = cr4;
}

/*
 * The walk proper. With 'commit' it sets accessed/dirty bits; without, it
 * only reports. Returns 0 and fills *pa and *rights (PTE_W|PTE_U combined,
 * PTE_D if the final entry is dirty, PTE_G if global), or the #PF error code
 * with bit 31 set.
 */
static uint32_t walk(struct mmu *m, uint32_t lin, int acc, bool commit, uint32_t *pa,
                     uint32_t *rights)
{
    struct bus *b = m->bus;
    bool user = acc & ACC_USER, write = acc & ACC_WRITE;
    uint32_t err = (write ? PF_W : 0) | (user ? PF_U : 0);
    uint32_t pde_pa = (m->cr3 & PAGE_MASK) | ((lin >> 20) & 0xffc);
    uint32_t pde = bus_read(b, pde_pa, 4);
    if (!(pde & PTE_P))
        return 0x80000000u | err;
    uint32_t r, ent, ent_pa;
    bool big = (pde & PTE_PS) && (m->cr4 & CR4_PSE);
    if (big) {
        if (pde & PDE4M_RSVD)
            return 0x80000000u | err | PF_P | PF_RSVD;
        r = pde & (PTE_W | PTE_U);
        ent = pde;
        ent_pa = pde_pa;
        *pa = (pde & 0xffc00000u) | (lin & 0x003fffffu);
    } else {
        uint32_t pte_pa = (pde & PAGE_MASK) | ((lin >> 10) & 0xffc);
        uint32_t pte = bus_read(b, pte_pa, 4);
        if (!(pte & PTE_P))
            return 0x80000000u | err;
        r = pde & pte & (PTE_W | PTE_U);
        if (commit && !(pde & PTE_A))
            bus_write(b, pde_pa, 4, pde | PTE_A);
        ent = pte;
        ent_pa = pte_pa;
        *pa = (pte & PAGE_MASK) | (lin & ~PAGE_MASK);
    }
    bool ok = user ? (r & PTE_U) && (!write || (r & PTE_W))
                   : (!write || (r & PTE_W) || !(m->cr0 & CR0_WP));
    if (!ok)
        return 0x80000000u | err | PF_P;
    if (commit) {
        uint32_t nent = ent | PTE_A | (write ? PTE_D : 0);
        if (nent != ent)
            bus_write(b, ent_pa, 4, nent);
        ent = nent;
    }
    *rights = r | (ent & PTE_D) | ((ent & PTE_G) && (m->cr4 & CR4_PGE) ? PTE_G : 0);
    return 0;
}

struct tlb_entry *mmu_fill(struct mmu *m, uint32_t lin, int acc, uint32_t *pf_err)
{
    struct bus *b = m->bus;
    if (m->bus_generation != b->map_generation)
        mmu_flush_all(m);
    m->tlb_misses++;
    uint32_t pa;
    uint8_t perm;
    if (!(m->cr0 & CR0_PG)) {
        pa = lin;
        perm = TLBP_SUP_R | TLBP_SUP_W | TLBP_USR_R | TLBP_USR_W;
    } else {
        uint32_t rights;
        m->walks++;
        uint32_t e = walk(m, lin, acc, true, &pa, &rights);
        if (e) {
            *pf_err = e & 0xffff;
            return NULL;
        }
        bool dirty = rights & PTE_D;
        perm = TLBP_SUP_R;
        if (dirty && ((rights & PTE_W) || !(m->cr0 & CR0_WP)))
            perm |= TLBP_SUP_W;
        if (rights & PTE_U) {
            perm |= TLBP_USR_R;
            if (dirty && (rights & PTE_W))
                perm |= TLBP_USR_W;
        }
        if (rights & PTE_G)
            perm |= TLBP_GLOBAL;
    }
    pa &= b->a20_mask;
    struct tlb_entry *t = m->bypass ? &m->scratch[m->scratch_next++ & 1]
                                    : &m->tlb[(lin >> PAGE_SHIFT) & (TLB_ENTRIES - 1)];
    t->lpage = (lin & PAGE_MASK) | m->epoch;
    if (perm & TLBP_GLOBAL)
        m->has_global = true;
    t->ppage = pa & PAGE_MASK;
    t->host = bus_page_ptr(b, pa, false);
    /* Pages holding cached decoded code are never written directly: their
     * writes take the CPU's slow path, which goes through bus_write and
     * its write tracking (see mmu_revoke_host_write). */
    t->host_writable = bus_page_ptr(b, pa, true) != NULL && !bus_page_has_code(b, pa);
    t->perm = perm;
    tlb_set_direct(m, t);
    return t;
}

int mmu_probe(struct mmu *m, uint32_t lin, uint32_t *pa)
{
    if (!(m->cr0 & CR0_PG)) {
        *pa = lin & m->bus->a20_mask;
        return 0;
    }
    uint32_t rights;
    if (walk(m, lin, ACC_READ, false, pa, &rights))
        return -1;
    *pa &= m->bus->a20_mask;
    return 0;
}
