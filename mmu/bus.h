/*
 * The bus: one VM's guest-physical address space (RAM, ROM, MMIO) and its
 * I/O port space. Devices register ranges here; the CPU reaches memory and
 * ports only through this API. Nothing here knows about the CPU.
 *
 * Invariants:
 *  - RAM is one host allocation of ram_size bytes at guest-physical 0.
 *  - A physical address is masked with a20_mask before any lookup.
 *  - A page (4 KiB) is either entirely RAM, entirely ROM, entirely one MMIO
 *    region, or unbacked (reads all ones, writes ignored). page_kind[] holds
 *    that, so a TLB fill costs one array index.
 */
#ifndef TRAPEZE_MMU_BUS_H
#define TRAPEZE_MMU_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

typedef uint32_t (*port_read_fn)(void *ctx, uint16_t port, int size);
typedef void (*port_write_fn)(void *ctx, uint16_t port, int size, uint32_t val);
typedef uint32_t (*mmio_read_fn)(void *ctx, uint32_t addr, int size);
typedef void (*mmio_write_fn)(void *ctx, uint32_t addr, int size, uint32_t val);

enum page_kind { PAGE_UNBACKED = 0, PAGE_RAM, PAGE_ROM, PAGE_MMIO };

struct port_handler {
    port_read_fn read;
    port_write_fn write;
    void *ctx;
};

/* An MMIO region is either device registers (read/write callbacks) or
 * device memory the host can touch directly (host != NULL: a framebuffer,
 * option ROM copies), which the TLB then maps like RAM. */
struct mmio_region {
    uint32_t base, size;
    mmio_read_fn read;
    mmio_write_fn write;
    void *ctx;
    uint8_t *host;
    bool mapped;
};

/* Interrupt request lines: devices raise and lower them; the interrupt
 * controller that the machine registers as the sink receives them. */
typedef void (*irq_sink_fn)(void *ctx, int line, int level);

/*
 * Timers on the VM's virtual clock. The clock itself is the machine's
 * (instructions retired, or host time): devices only read it through
 * bus_now_ns() and arm deadlines. The machine runs the CPU no further than
 * the earliest deadline, then calls bus_run_timers(). Timers are kept in a
 * short list ordered by deadline (a PC has a handful).
 */
struct vtimer {
    uint64_t deadline_ns;
    void (*fire)(void *ctx, uint64_t now_ns);
    void *ctx;
    struct vtimer *next;
    bool armed;
};

#define BUS_MAX_MMIO 16
#define BUS_MAX_ROMS 8

struct rom_region {
    uint32_t base, size;
    uint8_t *data; /* owned by the bus */
};

struct bus {
    uint8_t *ram;
    uint32_t ram_size;
    uint32_t a20_mask; /* 0xffffffff when A20 is enabled, 0xffefffff when not */
    /* Incremented whenever the physical map or A20 changes: TLBs that cached
     * host pointers compare it and flush. */
    uint32_t map_generation;

    uint8_t *page_kind;  /* one byte per 4 KiB page of the 4 GiB space: enum page_kind */
    uint8_t *page_index; /* ROM or MMIO region index for that page */

    struct rom_region roms[BUS_MAX_ROMS];
    int nroms;
    struct mmio_region mmio[BUS_MAX_MMIO];
    int nmmio;

    irq_sink_fn irq_sink;
    void *irq_ctx;
    uint64_t (*clock)(void *ctx); /* virtual time in ns */
    void *clock_ctx;
    struct vtimer *timers; /* armed timers, earliest first */
    /* Set to 1 when a timer becomes the earliest (the machine points it at
     * the CPU's exit_request): the CPU slice under way was sized for the
     * old earliest deadline and must end so the next one stops at the new
     * deadline. NULL: nobody to tell. */
    uint8_t *timer_stop;
    /* System reset requested by a device (8042 pulse, port 0x92, 0xCF9). */
    void (*reset_request)(void *ctx);
    void *reset_ctx;

    /*
     * Write tracking for decoded code (docs/architecture.md, "Decoded-
     * instruction cache"). Per physical page of the 4 GiB space (allocated
     * lazily by the host: only touched pages cost memory):
     *  code_mask: bit k set = the 64-byte chunk k of the page holds bytes of
     *    an instruction some CPU has cached decoded (bus_code_mark);
     *  code_gen: bumped whenever the page's decoded code is dropped, which
     *    happens on any write through the bus that touches a marked chunk.
     * A CPU keys its cached instructions with (physical address, code_gen),
     * so a drop costs one increment and stale entries miss by themselves.
     * Writers that bypass bus_write (loaders that memcpy into ram) call
     * bus_code_written for what they wrote.
     */
    uint64_t *code_mask;
    uint32_t *code_gen;
    uint64_t code_drops; /* pages whose decoded code was dropped (statistics) */

    struct port_handler ports[65536];
    /* Unclaimed port reads return all ones; this counts them for diagnostics. */
    uint64_t unclaimed_port_reads;
};

/* Allocates RAM (zeroed). Returns 0, or -1 with errno set. */
int bus_init(struct bus *b, uint32_t ram_size);
void bus_free(struct bus *b);

/* Maps a copy of data at [base, base+size) as ROM; size a multiple of 4 KiB.
 * A ROM over RAM hides that RAM. Returns 0 or -1 (no slot / bad range). */
int bus_add_rom(struct bus *b, uint32_t base, const void *data, uint32_t size);
/* Returns the region's index (for bus_move_mmio), or -1. */
int bus_add_mmio(struct bus *b, uint32_t base, uint32_t size, mmio_read_fn rd, mmio_write_fn wr,
                 void *ctx);
/* Device memory the CPU may access through host pointers. Returns the index or -1. */
int bus_add_host_mem(struct bus *b, uint32_t base, uint32_t size, uint8_t *mem);
/* Moves region idx to base (PCI BAR programming); base = 0xffffffff unmaps it.
 * Pages it uncovers go back to what lies beneath: RAM below ram_size, else unbacked. */
void bus_move_mmio(struct bus *b, int idx, uint32_t base);
void bus_add_ports(struct bus *b, uint16_t base, unsigned count, port_read_fn rd,
                   port_write_fn wr, void *ctx);
void bus_set_a20(struct bus *b, bool enabled);
/* Something the TLBs and decoded-instruction caches derive from changed
 * (a snapshot was loaded): every CPU re-checks at its next instruction. */
static inline void bus_map_changed(struct bus *b) { b->map_generation++; }

/* Host pointer to the page holding physical address pa, for reading (RAM or
 * ROM) or writing (RAM only); NULL when the access needs the slow path. */
uint8_t *bus_page_ptr(struct bus *b, uint32_t pa, bool write);

/* Slow-path physical accesses of 1, 2 or 4 bytes that do not cross a page. */
uint32_t bus_read(struct bus *b, uint32_t pa, int size);
void bus_write(struct bus *b, uint32_t pa, int size, uint32_t val);

/* Byte-granular helpers for loaders and tests (cross pages freely). */
void bus_read_bytes(struct bus *b, uint32_t pa, void *dst, size_t n);
void bus_write_bytes(struct bus *b, uint32_t pa, const void *src, size_t n);

/* The 64-byte chunks of a page that [off, off + n) touches (n >= 1, within the page). */
static inline uint64_t bus_code_chunks(uint32_t off, uint32_t n)
{
    unsigned first = off >> 6, last = (off + n - 1) >> 6;
    return (~0ull >> (63 - last)) & (~0ull << first);
}

/* Drops the decoded code of page p (out of line: code writes are rare). */
void bus_code_drop(struct bus *b, uint32_t p);

/* Write tracking hook: pa (after A20) .. pa + n - 1, within one page, was or
 * is about to be written. Cost when the page holds no code: one load, one test. */
static inline void bus_code_write_check(struct bus *b, uint32_t pa, uint32_t n)
{
    uint32_t p = pa >> PAGE_SHIFT;
    if (__builtin_expect((b->code_mask[p] & bus_code_chunks(pa & ~PAGE_MASK, n)) != 0, 0))
        bus_code_drop(b, p);
}

/* For writers that bypass bus_write: [pa, pa + n) changed (any length). */
void bus_code_written(struct bus *b, uint32_t pa, size_t n);

/* Marks [pa, pa + n) (within one page, pa after A20) as holding a cached
 * decoded instruction. Returns true when the page held no code before: the
 * caller must then revoke direct host writes to it from its TLB. */
static inline bool bus_code_mark(struct bus *b, uint32_t pa, uint32_t n)
{
    uint32_t p = pa >> PAGE_SHIFT;
    uint64_t old = b->code_mask[p];
    b->code_mask[p] = old | bus_code_chunks(pa & ~PAGE_MASK, n);
    return old == 0;
}

static inline bool bus_page_has_code(const struct bus *b, uint32_t pa)
{
    return b->code_mask[pa >> PAGE_SHIFT] != 0;
}

static inline uint32_t bus_code_gen(const struct bus *b, uint32_t pa)
{
    return b->code_gen[pa >> PAGE_SHIFT];
}

static inline void bus_set_irq(struct bus *b, int line, int level)
{
    if (b->irq_sink)
        b->irq_sink(b->irq_ctx, line, level);
}

static inline void bus_request_reset(struct bus *b)
{
    if (b->reset_request)
        b->reset_request(b->reset_ctx);
}

static inline uint64_t bus_now_ns(const struct bus *b) { return b->clock ? b->clock(b->clock_ctx) : 0; }
void bus_timer_arm(struct bus *b, struct vtimer *t, uint64_t deadline_ns);
void bus_timer_cancel(struct bus *b, struct vtimer *t);
/* Earliest armed deadline, or UINT64_MAX. */
static inline uint64_t bus_next_deadline(const struct bus *b)
{
    return b->timers ? b->timers->deadline_ns : UINT64_MAX;
}
/* Fires every timer whose deadline is <= now (a callback may re-arm). */
void bus_run_timers(struct bus *b, uint64_t now_ns);

uint32_t bus_port_read(struct bus *b, uint16_t port, int size);
void bus_port_write(struct bus *b, uint16_t port, int size, uint32_t val);

#endif
