/*
 * The hidden part of segment registers: derived fields of struct seg.
 */
#include "cpu.h"

static void seg_derive(struct cpu *c, struct seg *s)
{
    bool prot = cpu_pmode(c) && !cpu_v86(c);
    unsigned type = (s->ar >> 8) & 0xf;
    s->lo = 0;
    s->hi = s->limit;
    if (!prot) {
        /* Real and V86 mode: data accesses are never refused for type
         * reasons; the limit left in the cache still applies. */
        s->rw = SEG_R | SEG_W;
        return;
    }
    if (!s->valid || !(s->ar & AR_S)) {
        s->rw = 0;
        return;
    }
    if (type & 8) { /* code: readable if R; never writable */
        s->rw = (type & 2) ? SEG_R : 0;
    } else {
        s->rw = SEG_R | ((type & 2) ? SEG_W : 0);
        if (type & 4) { /* expand-down: valid offsets are limit+1 .. 0xffff or 0xffffffff */
            s->lo = s->limit + 1;
            s->hi = (s->ar & AR_DB) ? 0xffffffffu : 0xffffu;
            if (s->limit == s->hi) /* empty segment */
                s->rw = 0;
        }
    }
}

void seg_update_cache(struct cpu *c, struct seg *s)
{
    seg_derive(c, s);
    _Static_assert(SEG_FLAT_R == SEG_R << 2 && SEG_FLAT_W == SEG_W << 2, "flat bits");
    _Static_assert(SEG_BASE0_R == SEG_R << 4 && SEG_BASE0_W == SEG_W << 4, "base-0 bits");
    if (s->base == 0 && s->lo == 0)
        s->rw |= (uint8_t)((s->rw << 4) | (s->hi == 0xffffffffu ? s->rw << 2 : 0));
}
