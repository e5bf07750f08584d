/*
 * Linear-to-physical translation: the IA-32 two-level page walk (4 KiB and
 * 4 MiB PSE pages, global pages, CR0.WP, accessed/dirty bits) and a software
 * TLB that holds host pointers.
 *
 * The CPU owns the control registers and tells the MMU whenever one that
 * matters to translation changes (mmu_set_cr0/cr3/cr4). The MMU never raises
 * exceptions itself: a failed translation returns a page-fault error code and
 * the CPU turns it into #PF with CR2.
 *
 * TLB invariants (what the architecture allows us to cache, and no more):
 *  - An entry is filled only from a successful walk; it records the rights of
 *    the combined PDE/PTE, so a later access with fewer rights hits and one
 *    with more rights misses and re-walks (and may fault).
 *  - Write permission is only cached once the walk has set the dirty bit, so a
 *    write through a clean entry always walks and sets D.
 *  - MOV CR3 flushes non-global entries, MOV CR0/CR4 changes to PG, WP, PSE or
 *    PGE flush all, INVLPG flushes the page's entry (global or not).
 *  - A bus map change (A20, ROM/MMIO registration) flushes all.
 *  - A flush is O(1) (an epoch bump, see struct mmu) unless a non-global
 *    flush must keep global entries.
 *  - host_writable (direct host stores) is never set for a page that holds
 *    cached decoded code (bus_page_has_code): every store to such a page
 *    reaches bus_write and its write tracking. When a page becomes a code
 *    page, mmu_revoke_host_write clears it from entries filled before.
 *  - Cost: a hit is one array index, one OR and two compares (mmu_lookup),
 *    or one compare of a direct-access tag that also checks alignment
 *    (mmu_direct, the CPU's loads and stores), which every change to an
 *    entry recomputes.
 */
#ifndef TRAPEZE_MMU_MMU_H
#define TRAPEZE_MMU_MMU_H

#include "bus.h"

/* Access kinds; combine ACC_USER with one of the others. */
enum {
    ACC_READ = 0,
    ACC_WRITE = 1,
    ACC_EXEC = 2,
    ACC_USER = 4, /* CPL 3 access (not for implicit supervisor accesses) */
};

/* Page-fault error code bits (Intel SDM vol. 3, 4.7). */
enum { PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8 };

#define TLB_ENTRIES 1024

/* perm bits of a TLB entry */
enum {
    TLBP_SUP_R = 1,
    TLBP_SUP_W = 2,
    TLBP_USR_R = 4,
    TLBP_USR_W = 8,
    TLBP_GLOBAL = 16,
};

struct tlb_entry {
    /* Tag: linear address & PAGE_MASK | the mmu's epoch when filled. An
     * entry of an older epoch (or 0: empty) never matches. */
    uint32_t lpage;
    uint32_t ppage; /* physical page address (after A20) */
    uint8_t *host;  /* host pointer to the page, NULL for MMIO/unbacked (slow path) */
    uint16_t slot;  /* its index in mmu.tlb and mmu.direct, TLB_SCRATCH for a scratch entry */
    uint8_t perm;
    uint8_t host_writable; /* host page may be written directly (RAM) */
};
#define TLB_SCRATCH 0xffff

/* The direct-access record of a TLB slot (mmu.direct). */
struct tlb_direct {
    uint32_t tag[4];
    uintptr_t add;
};

/* The epoch advances in steps of 4, so the low two bits of every tag are
 * zero and an access that is not aligned to its size never matches a
 * direct-access tag (mmu_direct): the alignment test is the tag compare. */
#define TLB_EPOCH_STEP 4
_Static_assert(TLB_EPOCH_STEP % 4 == 0 && PAGE_SIZE % TLB_EPOCH_STEP == 0,
               "epoch steps keep tag bits 1:0 zero");

/* The index into tlb_direct.tag of an access kind: ACC_EXEC reads, the
 * user bit selects the user pair. */
static inline unsigned tlb_kind(int acc)
{
    return (((unsigned)acc & ACC_USER) >> 1) | ((unsigned)acc & ACC_WRITE);
}

/* The perm bit each kind needs: the one table of rights per access. */
static const uint8_t tlb_kind_perm[4] = {TLBP_SUP_R, TLBP_SUP_W, TLBP_USR_R, TLBP_USR_W};

struct mmu {
    struct bus *bus;
    uint32_t cr0, cr3, cr4; /* copies, kept current by the CPU */
    uint32_t bus_generation;
    /* Flush epoch, 1..PAGE_SIZE-1, in every live tag's low bits: a flush
     * bumps it (O(1); the VMM flushes twice per exit) and clears the array
     * only when it wraps. has_global: a global entry was filled since the
     * last full flush (a non-global flush must then keep it: a loop). */
    uint32_t epoch;
    bool has_global;
    /* direct[k]: what the CPU's common access reads of tlb[k]. tag[kind]
     * (per tlb_kind: supervisor read, write; user read, write) is
     * tlb[k].lpage when that kind of access may use the host page directly
     * (the rights allow it, host is set, and for writes host_writable),
     * else 0, which never matches; add is the host address minus the
     * linear page address. The common access is then one compare and one
     * add in one 24-byte record (mmu_direct); recomputed by
     * tlb_set_direct whenever an entry changes. (Separate 4 KiB tag
     * arrays per kind measured slower: they alias other hot data modulo
     * 4 KiB.) */
    struct tlb_direct direct[TLB_ENTRIES];
    struct tlb_entry tlb[TLB_ENTRIES];
    /* bypass: translations are not cached (data breakpoints armed), so every
     * access takes the CPU's slow path; fills go to these scratch entries. */
    bool bypass;
    uint8_t scratch_next;
    struct tlb_entry scratch[2];
    uint64_t tlb_misses, tlb_flushes, walks;
};

/* Recomputes the direct-access tags of e from lpage, perm, host and
 * host_writable (nothing for a scratch entry: those are never direct). */
static inline void tlb_set_direct(struct mmu *m, const struct tlb_entry *e)
{
    if (e->slot == TLB_SCRATCH)
        return;
    uint32_t tag = e->host ? e->lpage : 0;
    for (int k = 0; k < 4; k++)
        m->direct[e->slot].tag[k] =
            (e->perm & tlb_kind_perm[k]) && ((k & ACC_WRITE) ? e->host_writable : 1) ? tag : 0;
    m->direct[e->slot].add = (uintptr_t)e->host - (e->lpage & PAGE_MASK);
}
/* Invalidates e (no access matches it). */
static inline void tlb_clear(struct mmu *m, struct tlb_entry *e)
{
    e->lpage = 0;
    if (e->slot != TLB_SCRATCH)
        for (int k = 0; k < 4; k++)
            m->direct[e->slot].tag[k] = 0;
}

void mmu_init(struct mmu *m, struct bus *b);
void mmu_set_cr0(struct mmu *m, uint32_t cr0);
void mmu_set_cr3(struct mmu *m, uint32_t cr3);
void mmu_set_cr4(struct mmu *m, uint32_t cr4);
void mmu_flush_all(struct mmu *m);
void mmu_flush_nonglobal(struct mmu *m);
void mmu_invlpg(struct mmu *m, uint32_t lin);
/* Clears host_writable in every entry for physical page ppage (it just
 * became a code page). Cost: one pass over the TLB, once per such event. */
void mmu_revoke_host_write(struct mmu *m, uint32_t ppage);

static inline bool mmu_paging(const struct mmu *m) { return (m->cr0 & 0x80000000u) != 0; }

/*
 * Translates lin for an access of kind acc (ACC_*). On success fills the TLB
 * and returns a pointer to that entry; on a page fault returns NULL and stores
 * the #PF error code in *pf_err. With paging off the translation is the
 * identity (after A20).
 */
struct tlb_entry *mmu_fill(struct mmu *m, uint32_t lin, int acc, uint32_t *pf_err);

/* Inline TLB lookup: the entry for lin if it grants acc, else NULL. */
static inline struct tlb_entry *mmu_lookup(struct mmu *m, uint32_t lin, int acc)
{
    struct tlb_entry *e = &m->tlb[(lin >> PAGE_SHIFT) & (TLB_ENTRIES - 1)];
    if (e->lpage != ((lin & PAGE_MASK) | m->epoch))
        return NULL;
    return (e->perm & tlb_kind_perm[tlb_kind(acc)]) ? e : NULL;
}

/* Whether the TLB holds a translation of lin that grants an access of kind
 * 'kind' (tlb_kind) and size bytes (1, 2 or 4) directly (aligned to its size;
 * RAM or ROM for reads, RAM without cached code for writes); if so *host
 * is its host address, else the caller takes its slow path. Cost: one
 * index, one AND, one OR, one compare, one add, and the caller branches on
 * that compare alone. */
static inline bool mmu_direct_kind(const struct mmu *m, uint32_t lin, unsigned kind, int size,
                                   uint8_t **host)
{
    uint32_t k = (lin >> PAGE_SHIFT) & (TLB_ENTRIES - 1);
    /* through uintptr_t: the addend is meaningless when the tag does not match */
    *host = (uint8_t *)(m->direct[k].add + lin);
    return m->direct[k].tag[kind] == ((lin & (PAGE_MASK | (uint32_t)(size - 1))) | m->epoch);
}
/* The same for an access of kind acc (ACC_*). */
static inline bool mmu_direct(const struct mmu *m, uint32_t lin, int acc, int size, uint8_t **host)
{
    return mmu_direct_kind(m, lin, tlb_kind(acc), size, host);
}

/* Walks without filling the TLB or setting A/D bits (debuggers, traces).
 * Returns 0 and the physical address, or -1 when not mapped. */
int mmu_probe(struct mmu *m, uint32_t lin, uint32_t *pa);

#endif
