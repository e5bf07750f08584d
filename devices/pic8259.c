/*
 * Two cascaded 8259A PICs (see pic8259.h). Behaviour follows Intel's 8259A
 * data sheet: ICW1-4 initialisation, OCW1 mask, OCW2 EOI/rotation commands,
 * OCW3 register select, poll and special mask mode, automatic EOI, fully
 * nested mode, spurious IRQ 7 on the chip whose request vanished before INTA.
 */
#include "pic8259.h"

#include <string.h>

/* Priority of irq on chip c: 0 highest .. 7 lowest. */
static int prio(const struct pic_chip *c, int irq) { return (irq - c->lowest - 1) & 7; }

/* Highest-priority bit set in mask, or -1. */
static int highest(const struct pic_chip *c, uint8_t mask)
{
    if (!mask)
        return -1;
    for (int k = 0; k < 8; k++) {
        int irq = (c->lowest + 1 + k) & 7;
        if (mask & (1u << irq))
            return irq;
    }
    return -1;
}

/* The IRQ chip c would present now, or -1. In fully nested mode a request
 * must have higher priority than everything in service; special mask mode
 * lets masked in-service levels not block; with SFNM on the master, the
 * slave's line (in service) does not block a new request from the slave. */
static int pending(const struct pic_chip *c, bool is_master)
{
    int irq = highest(c, c->irr & ~c->imr);
    if (irq < 0)
        return -1;
    uint8_t isr = c->isr;
    if (c->special_mask)
        isr &= ~c->imr;
    if (is_master && c->sfnm)
        isr &= ~(1u << 2);
    int cur = highest(c, isr);
    if (cur >= 0 && prio(c, cur) <= prio(c, irq))
        return -1;
    return irq;
}

static void update(struct pic *p)
{
    /* The slave's INT output is the master's IRQ 2 input (level). */
    int s = pending(&p->chip[1], false);
    struct pic_chip *m = &p->chip[0];
    if (s >= 0)
        m->irr |= 1u << 2;
    else
        m->irr &= ~(1u << 2);
    bool out = pending(m, true) >= 0;
    if (out != p->intr) {
        p->intr = out;
        if (p->set_intr)
            p->set_intr(p->intr_ctx, out);
    }
}

static void chip_input(struct pic_chip *c, int irq, int level)
{
    uint8_t bit = 1u << irq;
    if (c->elcr & bit) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->level & bit)) {
        c->irr |= bit; /* rising edge */
    }
    if (level)
        c->level |= bit;
    else
        c->level &= ~bit;
}

void pic_set_irq(struct pic *p, int line, int level)
{
    if (line < 0 || line > 15)
        return;
    chip_input(&p->chip[line >> 3], line & 7, level);
    update(p);
}

static void irq_sink(void *ctx, int line, int level) { pic_set_irq(ctx, line, level); }

/* Acknowledge on one chip: move irq from IRR to ISR (unless AEOI). */
static void chip_ack(struct pic_chip *c, int irq)
{
    uint8_t bit = 1u << irq;
    if (!(c->elcr & bit))
        c->irr &= ~bit;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->lowest = (uint8_t)irq;
    } else {
        c->isr |= bit;
    }
}

int pic_ack(struct pic *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int irq = pending(m, true);
    int vec;
    if (irq < 0) {
        p->spurious++;
        vec = m->vector_base | 7;
    } else if (irq == 2 && !m->single) {
        int sirq = pending(s, false);
        chip_ack(m, 2);
        if (sirq < 0) {
            p->spurious++;
            vec = s->vector_base | 7;
        } else {
            chip_ack(s, sirq);
            vec = s->vector_base | sirq;
        }
    } else {
        chip_ack(m, irq);
        vec = m->vector_base | irq;
    }
    update(p);
    return vec;
}

/* Poll command (OCW3 P=1): the next read returns 0x80|irq and acknowledges. */
static uint8_t chip_poll(struct pic *p, int n)
{
    struct pic_chip *c = &p->chip[n];
    int irq = pending(c, n == 0);
    if (irq < 0)
        return 0;
    chip_ack(c, irq);
    update(p);
    return (uint8_t)(0x80 | irq);
}

static void eoi(struct pic_chip *c, int irq, bool rotate)
{
    if (irq < 0)
        return;
    c->isr &= ~(1u << irq);
    if (rotate)
        c->lowest = (uint8_t)irq;
}

static void chip_write(struct pic *p, int n, int a0, uint8_t v)
{
    struct pic_chip *c = &p->chip[n];
    if (!a0) {
        if (v & 0x10) { /* ICW1 */
            c->init_step = 2;
            c->icw4_needed = v & 1;
            c->single = v & 2;
            c->imr = 0;
            c->isr = 0;
            c->irr &= c->elcr; /* edge requests are forgotten */
            c->lowest = 7;
            c->special_mask = false;
            c->read_isr = false;
            c->poll = false;
            c->auto_eoi = false;
            c->rotate_on_aeoi = false;
            c->sfnm = false;
            /* level-sensitive mode bit (LTIM, v & 8) is ignored on PC/AT chipsets: ELCR rules */
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04)
                c->poll = true;
            if (v & 0x02)
                c->read_isr = v & 0x01;
            if (v & 0x40)
                c->special_mask = v & 0x20;
        } else { /* OCW2 */
            int cmd = v >> 5;
            switch (cmd) {
            case 0: c->rotate_on_aeoi = false; break;
            case 4: c->rotate_on_aeoi = true; break;
            case 1: eoi(c, highest(c, c->isr), false); break;
            case 5: eoi(c, highest(c, c->isr), true); break;
            case 3: eoi(c, v & 7, false); break;
            case 7: eoi(c, v & 7, true); break;
            case 6: c->lowest = v & 7; break;
            default: break; /* 2: no operation */
            }
        }
    } else {
        switch (c->init_step) {
        case 2:
            c->vector_base = v & 0xf8;
            c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
            break;
        case 3:
            c->icw3 = v;
            c->init_step = c->icw4_needed ? 4 : 0;
            break;
        case 4:
            c->auto_eoi = v & 2;
            c->sfnm = v & 0x10;
            c->init_step = 0;
            break;
        default: c->imr = v; break;
        }
    }
    update(p);
}

static uint8_t chip_read(struct pic *p, int n, int a0)
{
    struct pic_chip *c = &p->chip[n];
    if (c->poll) {
        c->poll = false;
        return chip_poll(p, n);
    }
    if (a0)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static uint32_t port_read(void *ctx, uint16_t port, int size)
{
    struct pic *p = ctx;
    (void)size;
    switch (port) {
    case 0x20: case 0x21: return chip_read(p, 0, port & 1);
    case 0xa0: case 0xa1: return chip_read(p, 1, port & 1);
    case 0x4d0: return p->chip[0].elcr;
    case 0x4d1: return p->chip[1].elcr;
    default: return 0xff;
    }
}

static void port_write(void *ctx, uint16_t port, int size, uint32_t v)
{
    struct pic *p = ctx;
    (void)size;
    switch (port) {
    case 0x20: case 0x21: chip_write(p, 0, port & 1, (uint8_t)v); break;
    case 0xa0: case 0xa1: chip_write(p, 1, port & 1, (uint8_t)v); break;
    case 0x4d0:
    case 0x4d1: {
        struct pic_chip *c = &p->chip[port & 1];
        c->elcr = (uint8_t)v & c->elcr_mask;
        update(p);
        break;
    }
    default: break;
    }
}

void pic_reset(struct pic *p)
{
    for (int n = 0; n < 2; n++) {
        struct pic_chip *c = &p->chip[n];
        uint8_t level = c->level;
        memset(c, 0, sizeof(*c));
        c->level = level;
        c->lowest = 7;
    }
    /* IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered. */
    p->chip[0].elcr_mask = 0xf8;
    p->chip[1].elcr_mask = 0xde;
    p->intr = false;
    update(p);
}

void pic_init(struct pic *p, struct bus *b, void (*set_intr)(void *ctx, bool level), void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->set_intr = set_intr;
    p->intr_ctx = ctx;
    bus_add_ports(b, 0x20, 2, port_read, port_write, p);
    bus_add_ports(b, 0xa0, 2, port_read, port_write, p);
    bus_add_ports(b, 0x4d0, 2, port_read, port_write, p);
    b->irq_sink = irq_sink;
    b->irq_ctx = p;
    pic_reset(p);
}
