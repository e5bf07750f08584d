/*
 * The decoded-instruction cache (see dcache.h).
 */
#include "dcache.h"

#include <stdlib.h>
#include <string.h>

void dc_alloc(struct cpu *c)
{
    /* calloc: the host commits the pages as entries are filled. */
    c->dc = calloc(1, sizeof(*c->dc));
    if (!c->dc)
        abort(); /* 2 MiB at start-up: nothing sensible to do without it */
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
        /* 2^32 flushes: clear for real so no entry of epoch 0 survives. */
        memset(c->dc, 0, sizeof(*c->dc));
        c->dc_epoch = 1;
    }
}

const struct insn *dc_fill(struct cpu *c, uint32_t pa, bool code32, const struct insn *i)
{
    struct bus *b = c->bus;
    struct dc_entry *d = &c->dc->e[dc_index(pa)];
    d->key = dc_key(b, pa, code32);
    d->epoch = c->dc_epoch;
    d->i = *i;
    /* The last instruction of its page ends a straight-line run too. */
    if ((pa & ~PAGE_MASK) + i->len >= PAGE_SIZE)
        d->i.ends_run = 1;
    if (bus_code_mark(b, pa, i->len))
        mmu_revoke_host_write(&c->mmu, pa & PAGE_MASK);
    c->dc_fills++;
    return &d->i;
}
