/*
 * Guest-physical memory and port dispatch for one VM (see bus.h).
 */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NPAGES (1u << (32 - PAGE_SHIFT))

int bus_init(struct bus *b, uint32_t ram_size)
{
    memset(b, 0, sizeof(*b));
    if (ram_size == 0 || (ram_size & (PAGE_SIZE - 1)) || ram_size > 0xf0000000u) {
        errno = EINVAL;
        return -1;
    }
    b->ram = calloc(1, ram_size);
    b->page_kind = calloc(1, NPAGES);
    b->page_index = calloc(1, NPAGES);
    b->code_mask = calloc(NPAGES, sizeof(*b->code_mask));
    b->code_gen = calloc(NPAGES, sizeof(*b->code_gen));
    if (!b->ram || !b->page_kind || !b->page_index || !b->code_mask || !b->code_gen) {
        bus_free(b);
        errno = ENOMEM;
        return -1;
    }
    b->ram_size = ram_size;
    b->a20_mask = 0xffffffffu;
    memset(b->page_kind, PAGE_RAM, ram_size >> PAGE_SHIFT);
    return 0;
}

void bus_free(struct bus *b)
{
    free(b->ram);
    free(b->page_kind);
    free(b->page_index);
    free(b->code_mask);
    free(b->code_gen);
    for (int i = 0; i < b->nroms; i++)
        free(b->roms[i].data);
    memset(b, 0, sizeof(*b));
}

int bus_add_rom(struct bus *b, uint32_t base, const void *data, uint32_t size)
{
    if (b->nroms == BUS_MAX_ROMS || size == 0 || (base | size) & (PAGE_SIZE - 1) ||
        (uint64_t)base + size > 0x100000000ull)
        return -1;
    struct rom_region *r = &b->roms[b->nroms];
    r->data = malloc(size);
    if (!r->data)
        return -1;
    memcpy(r->data, data, size);
    r->base = base;
    r->size = size;
    for (uint32_t p = base >> PAGE_SHIFT; p < (base >> PAGE_SHIFT) + (size >> PAGE_SHIFT); p++) {
        b->page_kind[p] = PAGE_ROM;
        b->page_index[p] = (uint8_t)b->nroms;
    }
    b->nroms++;
    b->map_generation++;
    return 0;
}

static void map_pages(struct bus *b, int idx)
{
    struct mmio_region *m = &b->mmio[idx];
    for (uint32_t p = m->base >> PAGE_SHIFT; p < (m->base >> PAGE_SHIFT) + (m->size >> PAGE_SHIFT);
         p++) {
        b->page_kind[p] = PAGE_MMIO;
        b->page_index[p] = (uint8_t)idx;
    }
    m->mapped = true;
    b->map_generation++;
}

static void unmap_pages(struct bus *b, int idx)
{
    struct mmio_region *m = &b->mmio[idx];
    if (!m->mapped)
        return;
    for (uint32_t p = m->base >> PAGE_SHIFT; p < (m->base >> PAGE_SHIFT) + (m->size >> PAGE_SHIFT);
         p++) {
        if (b->page_kind[p] != PAGE_MMIO || b->page_index[p] != idx)
            continue;
        b->page_kind[p] = ((uint64_t)p << PAGE_SHIFT) < b->ram_size ? PAGE_RAM : PAGE_UNBACKED;
    }
    m->mapped = false;
    b->map_generation++;
}

static int add_region(struct bus *b, uint32_t base, uint32_t size, struct mmio_region r)
{
    if (b->nmmio == BUS_MAX_MMIO || size == 0 || (size & (PAGE_SIZE - 1)))
        return -1;
    int idx = b->nmmio++;
    r.size = size;
    b->mmio[idx] = r;
    bus_move_mmio(b, idx, base);
    return idx;
}

int bus_add_mmio(struct bus *b, uint32_t base, uint32_t size, mmio_read_fn rd, mmio_write_fn wr,
                 void *ctx)
{
    return add_region(b, base, size, (struct mmio_region){.read = rd, .write = wr, .ctx = ctx});
}

int bus_add_host_mem(struct bus *b, uint32_t base, uint32_t size, uint8_t *mem)
{
    return add_region(b, base, size, (struct mmio_region){.host = mem});
}

void bus_move_mmio(struct bus *b, int idx, uint32_t base)
{
    struct mmio_region *m = &b->mmio[idx];
    unmap_pages(b, idx);
    if (base == 0xffffffffu || (base & (PAGE_SIZE - 1)) ||
        (uint64_t)base + m->size > 0x100000000ull)
        return;
    m->base = base;
    map_pages(b, idx);
}

void bus_add_ports(struct bus *b, uint16_t base, unsigned count, port_read_fn rd,
                   port_write_fn wr, void *ctx)
{
    for (unsigned i = 0; i < count && base + i < 65536; i++)
        b->ports[base + i] = (struct port_handler){rd, wr, ctx};
}

void bus_set_a20(struct bus *b, bool enabled)
{
    uint32_t m = enabled ? 0xffffffffu : 0xffefffffu;
    if (m != b->a20_mask) {
        b->a20_mask = m;
        b->map_generation++;
    }
}

uint8_t *bus_page_ptr(struct bus *b, uint32_t pa, bool write)
{
    pa &= b->a20_mask;
    uint32_t p = pa >> PAGE_SHIFT;
    switch (b->page_kind[p]) {
    case PAGE_RAM: return b->ram + (pa & PAGE_MASK);
    case PAGE_ROM:
        if (write)
            return NULL;
        {
            struct rom_region *r = &b->roms[b->page_index[p]];
            return r->data + ((pa & PAGE_MASK) - r->base);
        }
    case PAGE_MMIO: {
        struct mmio_region *m = &b->mmio[b->page_index[p]];
        return m->host ? m->host + ((pa & PAGE_MASK) - m->base) : NULL;
    }
    default: return NULL;
    }
}

uint32_t bus_read(struct bus *b, uint32_t pa, int size)
{
    pa &= b->a20_mask;
    uint32_t p = pa >> PAGE_SHIFT;
    uint32_t v = 0;
    switch (b->page_kind[p]) {
    case PAGE_RAM: memcpy(&v, b->ram + pa, (size_t)size); return v;
    case PAGE_ROM: {
        struct rom_region *r = &b->roms[b->page_index[p]];
        memcpy(&v, r->data + (pa - r->base), (size_t)size);
        return v;
    }
    case PAGE_MMIO: {
        struct mmio_region *m = &b->mmio[b->page_index[p]];
        if (m->host) {
            memcpy(&v, m->host + (pa - m->base), (size_t)size);
            return v;
        }
        return m->read ? m->read(m->ctx, pa, size) : 0xffffffffu >> (32 - 8 * size);
    }
    default: return 0xffffffffu >> (32 - 8 * size);
    }
}

void bus_code_drop(struct bus *b, uint32_t p)
{
    b->code_mask[p] = 0;
    b->code_drops++;
    /* CPUs compare 31 bits of the generation: on a wrap, a map change
     * makes every CPU flush its whole cache, so no stale entry can ever
     * match again. */
    if ((++b->code_gen[p] & 0x7fffffffu) == 0)
        b->map_generation++;
}

void bus_code_written(struct bus *b, uint32_t pa, size_t n)
{
    while (n) {
        uint32_t off = pa & ~PAGE_MASK;
        uint32_t k = PAGE_SIZE - off;
        if (k > n)
            k = (uint32_t)n;
        bus_code_write_check(b, pa & b->a20_mask, k);
        pa += k;
        n -= k;
    }
}

void bus_write(struct bus *b, uint32_t pa, int size, uint32_t val)
{
    pa &= b->a20_mask;
    uint32_t p = pa >> PAGE_SHIFT;
    switch (b->page_kind[p]) {
    case PAGE_RAM:
        bus_code_write_check(b, pa, (uint32_t)size);
        memcpy(b->ram + pa, &val, (size_t)size);
        return;
    case PAGE_MMIO: {
        struct mmio_region *m = &b->mmio[b->page_index[p]];
        if (m->host) {
            bus_code_write_check(b, pa, (uint32_t)size);
            memcpy(m->host + (pa - m->base), &val, (size_t)size);
        } else if (m->write)
            m->write(m->ctx, pa, size, val);
        return;
    }
    default: return; /* ROM and unbacked: writes are ignored */
    }
}

/* Page by page: RAM, ROM and host memory are copied at once; MMIO and
 * unbacked pages byte by byte through their handlers. */
void bus_read_bytes(struct bus *b, uint32_t pa, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n) {
        size_t chunk = PAGE_SIZE - (pa & ~PAGE_MASK);
        if (chunk > n)
            chunk = n;
        const uint8_t *host = bus_page_ptr(b, pa, false);
        if (host)
            memcpy(d, host + (pa & ~PAGE_MASK), chunk);
        else
            for (size_t i = 0; i < chunk; i++)
                d[i] = (uint8_t)bus_read(b, pa + (uint32_t)i, 1);
        d += chunk;
        pa += (uint32_t)chunk;
        n -= chunk;
    }
}

void bus_write_bytes(struct bus *b, uint32_t pa, const void *src, size_t n)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        bus_write(b, pa + (uint32_t)i, 1, s[i]);
}

uint32_t bus_port_read(struct bus *b, uint16_t port, int size)
{
    struct port_handler *h = &b->ports[port];
    if (h->read)
        return h->read(h->ctx, port, size);
    /* Unclaimed ports float high; a multi-byte access to partly claimed ports
     * is split so each byte reaches its own handler. */
    if (size > 1 && (b->ports[(uint16_t)(port + 1)].read ||
                     (size == 4 && (b->ports[(uint16_t)(port + 2)].read ||
                                    b->ports[(uint16_t)(port + 3)].read)))) {
        uint32_t v = 0;
        for (int i = 0; i < size; i++)
            v |= bus_port_read(b, (uint16_t)(port + i), 1) << (8 * i);
        return v;
    }
    b->unclaimed_port_reads++;
    return 0xffffffffu >> (32 - 8 * size);
}

void bus_port_write(struct bus *b, uint16_t port, int size, uint32_t val)
{
    struct port_handler *h = &b->ports[port];
    if (h->write) {
        h->write(h->ctx, port, size, val);
        return;
    }
    if (size > 1)
        for (int i = 0; i < size; i++)
            if (b->ports[(uint16_t)(port + i)].write)
                b->ports[(uint16_t)(port + i)].write(b->ports[(uint16_t)(port + i)].ctx,
                                                     (uint16_t)(port + i), 1,
                                                     (val >> (8 * i)) & 0xff);
}

void bus_timer_cancel(struct bus *b, struct vtimer *t)
{
    if (!t->armed)
        return;
    for (struct vtimer **p = &b->timers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    t->armed = false;
    t->next = NULL;
}

void bus_timer_arm(struct bus *b, struct vtimer *t, uint64_t deadline_ns)
{
    bus_timer_cancel(b, t);
    t->deadline_ns = deadline_ns;
    struct vtimer **p = &b->timers;
    while (*p && (*p)->deadline_ns <= deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
    if (b->timers == t && b->timer_stop)
        *b->timer_stop = 1;
}

void bus_run_timers(struct bus *b, uint64_t now_ns)
{
    while (b->timers && b->timers->deadline_ns <= now_ns) {
        struct vtimer *t = b->timers;
        b->timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->fire(t->ctx, now_ns);
    }
}
