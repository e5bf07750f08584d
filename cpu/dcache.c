/*
 * The decoded-instruction cache (see dcache.h).
 */
#include "dcache.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "forms.h"
#include "handlers.h"

void dc_alloc(struct cpu *c)
{
    /* calloc: the host commits the pages as blocks are filled. */
    c->dc = calloc(1, sizeof(*c->dc));
    if (!c->dc)
        abort(); /* a few MiB at start-up: nothing sensible to do without it */
    c->dc_map_generation = c->bus->map_generation;
}

void dc_release(struct cpu *c)
{
    free(c->dc);
    c->dc = NULL;
}

void dc_flush(struct cpu *c)
{
    dc_fold_counts(c);
    c->dc_map_generation = c->bus->map_generation;
    struct dcache *dc = c->dc;
    for (uint32_t w = 0; w < DC_BLOCKS / 64; w++) {
        for (uint64_t m = dc->used[w]; m; m &= m - 1)
            dc->b[w * 64 + (uint32_t)__builtin_ctzll(m)].key = 0;
        dc->used[w] = 0;
    }
}

void dc_fold_block(struct cpu *c, struct dc_block *d)
{
    /* instruction k-1 ran in every run that went at least k far */
    uint64_t ran = 0;
    for (int k = d->n; k > 0; k--) {
        ran += d->ran_to[k];
        d->ran_to[k] = 0;
        if (c->row_counts && ran)
            c->row_counts[d->i[k - 1].stat_row] += ran;
    }
}

void dc_fold_counts(struct cpu *c)
{
    struct dcache *dc = c->dc;
    if (!dc)
        return;
    for (uint32_t k = 0; k < dc->n_pending; k++) {
        dc_fold_block(c, dc->pending[k]);
        dc->pending[k]->listed = 0;
    }
    dc->n_pending = 0;
}

/* A near Jcc (Jb or Jz): a branch that changes nothing but EIP, so the
 * block goes on along its fall-through path. */
static bool falls_through(const struct insn *i)
{
    return (i->op->fn == jcc_Jb || i->op->fn == jcc_Jz) && !(i->op->attr & A_SERIAL) && !i->cls;
}

_Static_assert(DC_BLOCK_MAX < 32, "insn.idx holds 0..DC_BLOCK_MAX");

struct dc_block *dc_fill_block(struct cpu *c, uint32_t pa, const uint8_t *host, bool code32)
{
    struct bus *b = c->bus;
    struct dc_block *d = &c->dc->b[dc_index(pa)];
    dc_fold_block(c, d); /* its runs were of the instructions it holds now */
    uint32_t off = pa & ~PAGE_MASK, bytes = 0;
    int n = 0;
    uint16_t cls_any = 0;
    insn_fn prev = NULL; /* the form of the instruction before, as decoded */
    while (n < DC_BLOCK_MAX && off + bytes < PAGE_SIZE) {
        size_t avail = PAGE_SIZE - (off + bytes);
        if (avail > 15)
            avail = 15;
        struct insn *i = &d->i[n];
        /* An instruction that does not decode (#UD, too long) or crosses
         * the page's end (needs more bytes) is left to the slow path. */
        if (decode(host + off + bytes, avail, code32, i) != DEC_OK ||
            bytes + i->len > DC_BLOCK_BYTES)
            break;
        i->start_off = (uint8_t)bytes;
        i->idx = (uint8_t)n & 31;
        insn_fn plain = i->fn;
        if (i->quiet) {
            /* the block loop runs quiet instructions through their
             * threaded entries (cpu/threaded.h); one without stays quiet
             * no more. A Jcc right after a CMP, SUB or logic operation
             * takes the entry that reads that lazy record directly. */
            insn_fn t = n > 0 ? form_threaded_after(i->fn, prev) : NULL;
            if (!t)
                t = form_threaded(i->fn, i->index == 8);
            if (t)
                i->fn = t;
            else
                i->quiet = 0;
        }
        prev = plain;
        n++;
        cls_any |= i->cls;
        bytes += i->len;
        if (i->ends_run && !falls_through(i))
            break;
    }
    if (n == 0) {
        d->key = 0;
        return NULL;
    }
    d->key = dc_key(b, pa, code32);
    uint32_t slot = (uint32_t)(d - c->dc->b);
    c->dc->used[slot / 64] |= 1ull << (slot % 64);
    d->gen = bus_code_gen(b, pa);
    d->n = (uint8_t)n;
    /* the sentinel: not quiet */
    d->i[n] = (struct insn){.start_off = (uint8_t)bytes, .idx = (uint8_t)n & 31};
    d->cls_any = cls_any;
    const struct insn *last = &d->i[n - 1];
    d->chain = !last->ends_run || (!(last->op->attr & A_SERIAL) && !last->cls);
    d->bytes = (uint16_t)bytes;
    if (bus_code_mark(b, pa, bytes))
        mmu_revoke_host_write(&c->mmu, pa & PAGE_MASK);
    c->dc_fills += (uint64_t)n;
    return d;
}
