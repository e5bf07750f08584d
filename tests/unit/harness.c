#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Handler stubs live at physical 0x500 (real mode) or 0x1000 (32-bit): for
 * vector v the stub is "mov byte [0x4f0], v; hlt" (real) or
 * "mov byte [0x4f0], v; hlt" with 32-bit addressing. */
#define STUB_VEC_ADDR 0x4f0

struct tmachine *tm_new(uint32_t ram_kib)
{
    struct tmachine *tm = calloc(1, sizeof(*tm));
    if (!tm || bus_init(&tm->bus, ram_kib * 1024) != 0)
        abort();
    cpu_init(&tm->cpu, &tm->bus, &tm->env);
    return tm;
}

void tm_free(struct tmachine *tm)
{
    cpu_free(&tm->cpu);
    bus_free(&tm->bus);
    free(tm);
}

void tm_poke(struct tmachine *tm, uint32_t pa, const void *src, size_t n)
{
    bus_write_bytes(&tm->bus, pa, src, n);
}

uint32_t tm_peek(struct tmachine *tm, uint32_t pa, int size)
{
    uint32_t v = 0;
    bus_read_bytes(&tm->bus, pa, &v, (size_t)size);
    return v;
}

static void real_seg(struct cpu *c, int s, uint16_t sel)
{
    c->seg[s].sel = sel;
    c->seg[s].base = (uint32_t)sel << 4;
    c->seg[s].limit = 0xffff;
    c->seg[s].valid = true;
    seg_update_cache(c, &c->seg[s]);
}

void tm_real(struct tmachine *tm, uint32_t at, const void *code, size_t n)
{
    struct cpu *c = &tm->cpu;
    cpu_reset(c);
    for (int s = 0; s < 6; s++)
        real_seg(c, s, 0);
    c->idtr.base = 0;
    c->idtr.limit = 0x3ff;
    c->r[R_ESP] = 0xfffe;
    c->eip = at;
    tm_poke(tm, at, code, n);
}

void tm_flat32(struct tmachine *tm, uint32_t at, const void *code, size_t n, uint32_t stack)
{
    struct cpu *c = &tm->cpu;
    cpu_reset(c);
    cpu_set_flat32(c, at);
    c->r[R_ESP] = stack;
    tm_poke(tm, at, code, n);
}

enum cpu_exit tm_run(struct tmachine *tm, uint64_t n) { return cpu_run(&tm->cpu, n); }

enum cpu_exit tm_run_to_hlt(struct tmachine *tm, uint64_t max)
{
    return cpu_run(&tm->cpu, max);
}

void tm_trap_all_vectors(struct tmachine *tm)
{
    struct cpu *c = &tm->cpu;
    tm_poke(tm, STUB_VEC_ADDR, "\xff", 1);
    if (!cpu_pmode(c)) {
        for (int v = 0; v < 256; v++) {
            uint32_t stub = 0x500 + (uint32_t)v * 8;
            /* mov byte [0x4f0], v ; hlt */
            uint8_t s[6] = {0xc6, 0x06, STUB_VEC_ADDR & 0xff, STUB_VEC_ADDR >> 8, (uint8_t)v, 0xf4};
            tm_poke(tm, stub, s, sizeof(s));
            uint32_t ent = ((stub >> 4) << 16) | (stub & 0xf);
            tm_poke(tm, (uint32_t)v * 4, &ent, 4);
        }
        return;
    }
    /* 32-bit: IDT at 0x2000 (interrupt gates, DPL 3, selector CS), stubs at 0x3000. */
    c->idtr.base = 0x2000;
    c->idtr.limit = 256 * 8 - 1;
    for (int v = 0; v < 256; v++) {
        uint32_t stub = 0x3000 + (uint32_t)v * 8;
        uint8_t s[8] = {0xc6, 0x05, STUB_VEC_ADDR & 0xff, STUB_VEC_ADDR >> 8, 0, 0, (uint8_t)v, 0xf4};
        tm_poke(tm, stub, s, sizeof(s));
        uint32_t lo = ((uint32_t)c->seg[S_CS].sel << 16) | (stub & 0xffff);
        uint32_t hi = (stub & 0xffff0000u) | 0xee00; /* P, DPL 3, 32-bit interrupt gate */
        tm_poke(tm, 0x2000 + (uint32_t)v * 8, &lo, 4);
        tm_poke(tm, 0x2000 + (uint32_t)v * 8 + 4, &hi, 4);
    }
}

int tm_last_vector(struct tmachine *tm)
{
    uint32_t v = tm_peek(tm, STUB_VEC_ADDR, 1);
    return v == 0xff ? -1 : (int)v;
}
