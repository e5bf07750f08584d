/*
 * The decoded-instruction cache (see dcache.h).
 */
#include "dcache.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"

void dc_alloc(struct cpu *c)
{
    /* calloc: the host commits the pages as blocks are filled. */
    c->dc = calloc(1, sizeof(*c->dc));
    if (!c->dc)
        abort(); /* a few MiB at start-up: nothing sensible to do without it */
    c->dc_epoch = 1;
    c->dc_map_generation = c->bus->map_generation;
}

void dc_release(struct cpu *c)
{
    free(c->dc);
    c->dc = NULL;
}

void dc_flush(struct cpu *c)
{
    c->dc_map_generation = c->bus->map_generation;
    if (++c->dc_epoch == 0) {
        /* 2^32 flushes: clear for real so no block of epoch 0 survives. */
        memset(c->dc, 0, sizeof(*c->dc));
        c->dc_epoch = 1;
    }
}

const struct dc_block *dc_fill_block(struct cpu *c, uint32_t pa, const uint8_t *host,
                                     bool code32)
{
    struct bus *b = c->bus;
    struct dc_block *d = &c->dc->b[dc_index(pa)];
    uint32_t off = pa & ~PAGE_MASK, bytes = 0;
    int n = 0;
    while (n < DC_BLOCK_MAX && off + bytes < PAGE_SIZE) {
        size_t avail = PAGE_SIZE - (off + bytes);
        if (avail > 15)
            avail = 15;
        struct insn *i = &d->i[n];
        /* An instruction that does not decode (#UD, too long) or crosses
         * the page's end (needs more bytes) is left to the slow path. */
        if (decode(host + off + bytes, avail, code32, i) != DEC_OK)
            break;
        n++;
        bytes += i->len;
        if (i->ends_run)
            break;
    }
    if (n == 0) {
        d->key = 0;
        return NULL;
    }
    d->key = dc_key(b, pa, code32);
    d->epoch = c->dc_epoch;
    d->gen = bus_code_gen(b, pa);
    d->n = (uint8_t)n;
    d->bytes = (uint16_t)bytes;
    if (bus_code_mark(b, pa, bytes))
        mmu_revoke_host_write(&c->mmu, pa & PAGE_MASK);
    c->dc_fills += (uint64_t)n;
    return d;
}
