/*
 * 8254 PIT (see pit8254.h). Modes per Intel's 8254 data sheet:
 *  0 interrupt on terminal count   1 hardware one-shot (gate triggered)
 *  2 rate generator                3 square wave
 *  4 software strobe               5 hardware strobe (gate triggered)
 * A new count takes effect when written (the data sheet defers it to the
 * end of the current period in modes 2 and 3; no PC software we know of
 * depends on the difference).
 */
#include "pit8254.h"

#include <string.h>

static uint64_t ns_to_ticks(uint64_t ns)
{
    return (uint64_t)(((unsigned __int128)ns * PIT_HZ) / 1000000000u);
}

static uint64_t ticks_to_ns(uint64_t ticks) /* rounded up: the edge has happened by then */
{
    return (uint64_t)(((unsigned __int128)ticks * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t elapsed(struct pit *p, struct pit_channel *c)
{
    if (c->paused)
        return c->stopped_ticks;
    uint64_t now = bus_now_ns(p->bus);
    return now > c->load_ns ? ns_to_ticks(now - c->load_ns) : 0;
}

/* Gate-triggered modes (1, 5) do nothing until a rising gate edge. */
static bool armed(const struct pit_channel *c) { return c->counting; }

uint16_t pit_read_count(struct pit *p, int n)
{
    struct pit_channel *c = &p->ch[n];
    if (!armed(c))
        return (uint16_t)c->count;
    uint64_t d = elapsed(p, c);
    uint32_t n0 = c->count;
    switch (c->mode) {
    case 2: return (uint16_t)(n0 - d % n0);
    case 3: {
        /* Decrements by two; odd counts spend one extra clock in the high half. */
        uint64_t ph = d % n0;
        uint32_t half_hi = (n0 + 1) / 2;
        uint64_t v = ph < half_hi ? n0 - 2 * ph : n0 - 2 * (ph - half_hi);
        return (uint16_t)(v & ~1u);
    }
    default: return (uint16_t)((n0 - d) & 0xffff); /* modes 0, 1, 4, 5: keep counting down */
    }
}

bool pit_output(struct pit *p, int n)
{
    struct pit_channel *c = &p->ch[n];
    if (!armed(c))
        return c->mode != 0 && c->mode != 1;
    uint64_t d = elapsed(p, c);
    uint32_t n0 = c->count;
    switch (c->mode) {
    case 0: case 1: return d >= n0;
    case 2: return d % n0 != n0 - 1;
    case 3: return d % n0 < (n0 + 1) / 2;
    default: return d != n0; /* 4, 5: low for one clock at terminal count */
    }
}

static void pulse_irq0(struct pit *p)
{
    bus_set_irq(p->bus, 0, 0);
    bus_set_irq(p->bus, 0, 1);
    p->irqs++;
}

/* Arms the timer for channel 0's next rising output edge, if any. */
static void schedule(struct pit *p)
{
    struct pit_channel *c = &p->ch[0];
    bus_timer_cancel(p->bus, &p->timer);
    if (!armed(c) || c->paused)
        return;
    uint64_t d = elapsed(p, c);
    uint64_t next;
    switch (c->mode) {
    case 0: case 1:
        if (d >= c->count)
            return;
        next = c->count;
        break;
    case 2: case 3: next = (d / c->count + 1) * c->count; break;
    default:
        if (d > c->count)
            return;
        next = c->count + 1; /* the output returns high after the strobe */
        break;
    }
    bus_timer_arm(p->bus, &p->timer, c->load_ns + ticks_to_ns(next));
}

static void timer_fire(void *ctx, uint64_t now)
{
    struct pit *p = ctx;
    (void)now;
    struct pit_channel *c = &p->ch[0];
    if (c->mode == 0 || c->mode == 1)
        bus_set_irq(p->bus, 0, 1), p->irqs++;
    else
        pulse_irq0(p);
    schedule(p);
}

static void load_count(struct pit *p, int n, uint32_t v)
{
    struct pit_channel *c = &p->ch[n];
    if (c->bcd) {
        uint32_t d = 0, mul = 1;
        for (int k = 0; k < 4; k++, v >>= 4, mul *= 10)
            d += (v & 0xf) * mul;
        v = d;
    }
    c->count = v ? v : (c->bcd ? 10000 : 65536);
    c->null_count = false;
    c->paused = false;
    c->load_ns = bus_now_ns(p->bus);
    /* Gate-triggered modes (1, 5) wait for a rising gate edge; modes 2 and 3
     * hold while the gate is low; modes 0 and 4 pause. Only channel 2's gate
     * is wired (port 0x61); channels 0 and 1 are gated on for good. */
    c->counting = !(c->mode == 1 || c->mode == 5);
    if (!c->gate) {
        if (c->mode == 2 || c->mode == 3)
            c->counting = false;
        else if (c->mode == 0 || c->mode == 4) {
            c->paused = true;
            c->stopped_ticks = 0;
        }
    }
    if (n == 0) {
        if (c->mode == 0)
            bus_set_irq(p->bus, 0, 0); /* output goes low when the count is written */
        schedule(p);
    }
}

static void write_control(struct pit *p, uint8_t v)
{
    int n = v >> 6;
    if (n == 3) { /* read-back */
        for (int k = 0; k < 3; k++) {
            if (!(v & (2u << k)))
                continue;
            struct pit_channel *c = &p->ch[k];
            if (!(v & 0x20) && !c->latched) {
                c->latch = pit_read_count(p, k);
                c->latched = true;
                c->latch_hi_next = false;
            }
            if (!(v & 0x10) && !c->status_latched) {
                c->status = (uint8_t)((pit_output(p, k) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
                                      (c->access << 4) | (c->mode << 1) | (c->bcd ? 1 : 0));
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[n];
    int access = (v >> 4) & 3;
    if (access == 0) { /* counter latch command */
        if (!c->latched) {
            c->latch = pit_read_count(p, n);
            c->latched = true;
            c->latch_hi_next = false;
        }
        return;
    }
    c->access = (uint8_t)access;
    c->mode = (v >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* 6, 7 are aliases of 2, 3 */
    c->bcd = v & 1;
    c->counting = false;
    c->null_count = true;
    c->write_hi_next = c->read_hi_next = false;
    c->latched = c->status_latched = false;
    if (n == 0) {
        bus_timer_cancel(p->bus, &p->timer);
        bus_set_irq(p->bus, 0, c->mode != 0); /* mode 0 output low, others high */
    }
}

static void write_counter(struct pit *p, int n, uint8_t v)
{
    struct pit_channel *c = &p->ch[n];
    switch (c->access) {
    case 1: load_count(p, n, v); break;
    case 2: load_count(p, n, (uint32_t)v << 8); break;
    default:
        if (!c->write_hi_next) {
            c->write_lo = v;
            c->write_hi_next = true;
            if (c->mode == 0 && n == 0) { /* writing the first byte stops mode 0 */
                c->counting = false;
                bus_timer_cancel(p->bus, &p->timer);
            }
        } else {
            c->write_hi_next = false;
            load_count(p, n, c->write_lo | ((uint32_t)v << 8));
        }
    }
}

static uint8_t read_counter(struct pit *p, int n)
{
    struct pit_channel *c = &p->ch[n];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool hi;
    if (c->latched) {
        v = c->latch;
        if (c->access == 3) {
            hi = c->latch_hi_next;
            c->latch_hi_next = !c->latch_hi_next;
            if (hi)
                c->latched = false;
        } else {
            hi = c->access == 2;
            c->latched = false;
        }
    } else {
        v = pit_read_count(p, n);
        if (c->bcd) {
            uint16_t b = 0;
            for (int k = 0; k < 4; k++, v /= 10)
                b |= (uint16_t)((v % 10) << (4 * k));
            v = b;
        }
        if (c->access == 3) {
            hi = c->read_hi_next;
            c->read_hi_next = !c->read_hi_next;
        } else {
            hi = c->access == 2;
        }
    }
    return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void set_gate2(struct pit *p, bool g)
{
    struct pit_channel *c = &p->ch[2];
    if (g == c->gate)
        return;
    uint64_t now = bus_now_ns(p->bus);
    if (g) { /* rising edge */
        if (c->mode == 1 || c->mode == 5 || c->mode == 2 || c->mode == 3) {
            if (c->count && !c->null_count) {
                c->counting = true;
                c->paused = false;
                c->load_ns = now;
            }
        } else if (c->paused) {
            c->paused = false;
            c->load_ns = now - ticks_to_ns(c->stopped_ticks);
        }
    } else if (c->counting && (c->mode == 0 || c->mode == 4)) {
        c->stopped_ticks = elapsed(p, c);
        c->paused = true;
    }
    c->gate = g;
}

static uint32_t port_read(void *ctx, uint16_t port, int size)
{
    struct pit *p = ctx;
    (void)size;
    if (port == 0x61) {
        uint64_t now = bus_now_ns(p->bus);
        /* bit 4 toggles with the DRAM refresh request, every 15.085 us */
        return (p->ch[2].gate ? 1 : 0) | (p->speaker_data ? 2 : 0) |
               (((now / 15085) & 1) ? 0x10 : 0) | (pit_output(p, 2) ? 0x20 : 0);
    }
    if (port == 0x43)
        return 0xff; /* the control register is write-only */
    return read_counter(p, port - 0x40);
}

static void port_write(void *ctx, uint16_t port, int size, uint32_t v)
{
    struct pit *p = ctx;
    (void)size;
    if (port == 0x61) {
        set_gate2(p, v & 1);
        p->speaker_data = v & 2;
        return;
    }
    if (port == 0x43)
        write_control(p, (uint8_t)v);
    else
        write_counter(p, port - 0x40, (uint8_t)v);
}

void pit_reset(struct pit *p)
{
    bus_timer_cancel(p->bus, &p->timer);
    memset(p->ch, 0, sizeof(p->ch));
    for (int n = 0; n < 3; n++) {
        p->ch[n].gate = n != 2; /* channels 0 and 1 are gated on; 2 by port 0x61 */
        p->ch[n].access = 3;
        p->ch[n].count = 65536;
    }
    p->speaker_data = false;
}

void pit_init(struct pit *p, struct bus *b)
{
    memset(p, 0, sizeof(*p));
    p->bus = b;
    p->timer.fire = timer_fire;
    p->timer.ctx = p;
    bus_add_ports(b, 0x40, 4, port_read, port_write, p);
    bus_add_ports(b, 0x61, 1, port_read, port_write, p);
    pit_reset(p);
}
