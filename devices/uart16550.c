/*
 * 16550A UART (see uart16550.h). Register semantics follow the National
 * Semiconductor PC16550D datasheet.
 */
#include "uart16550.h"

#include <string.h>

/* IER bits */
enum { IER_RDA = 1, IER_THRE = 2, IER_RLS = 4, IER_MS = 8 };

/* The highest-priority pending interrupt, as IIR bits 3..0 (1 = none). */
static uint8_t pending_id(const struct uart16550 *u)
{
    if ((u->ier & IER_RLS) && u->overrun)
        return 0x06;
    if ((u->ier & IER_RDA) && u->rx_count)
        return 0x04;
    if ((u->ier & IER_THRE) && u->thre_pending)
        return 0x02;
    if ((u->ier & IER_MS) && u->msr_delta)
        return 0x00;
    return UART_IIR_NONE;
}

/* Recomputes the interrupt output. On a PC, OUT2 gates the line to the PIC. */
static void update_irq(struct uart16550 *u)
{
    bool level = pending_id(u) != UART_IIR_NONE && (u->mcr & UART_MCR_OUT2);
    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->irq >= 0 && u->bus)
            bus_set_irq(u->bus, u->irq, level);
    }
}

static void rx_push(struct uart16550 *u, uint8_t byte)
{
    if (u->rx_count == UART_FIFO_SIZE) {
        u->overrun = true;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
    u->rx_count++;
}

bool uart_receive(struct uart16550 *u, uint8_t byte)
{
    bool ok = u->rx_count < UART_FIFO_SIZE;
    rx_push(u, byte);
    update_irq(u);
    return ok;
}

/* Modem status lines. In loopback the outputs feed the inputs (RTS->CTS,
 * DTR->DSR, OUT1->RI, OUT2->DCD); otherwise a connected, ready terminal. */
static uint8_t msr_lines(const struct uart16550 *u)
{
    if (u->mcr & UART_MCR_LOOP) {
        uint8_t m = u->mcr;
        return (uint8_t)(((m & 0x02) ? 0x10 : 0) | ((m & 0x01) ? 0x20 : 0) |
                         ((m & 0x04) ? 0x40 : 0) | ((m & 0x08) ? 0x80 : 0));
    }
    return 0xb0; /* DCD, DSR, CTS */
}

static void set_mcr(struct uart16550 *u, uint8_t val)
{
    uint8_t before = msr_lines(u);
    u->mcr = val & 0x1f;
    uint8_t after = msr_lines(u);
    uint8_t changed = before ^ after;
    /* Delta bits: CTS, DSR change; RI trailing edge; DCD change. */
    u->msr_delta |= (uint8_t)(((changed & 0x10) ? 0x01 : 0) | ((changed & 0x20) ? 0x02 : 0) |
                              ((before & 0x40) && !(after & 0x40) ? 0x04 : 0) |
                              ((changed & 0x80) ? 0x08 : 0));
}

uint8_t uart_read(struct uart16550 *u, unsigned reg)
{
    uint8_t v = 0xff;
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg & 7) {
    case UART_RBR:
        if (dlab)
            return (uint8_t)u->divisor;
        v = 0;
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
            u->rx_count--;
        }
        break;
    case UART_IER:
        return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
    case UART_IIR:
        v = pending_id(u) | ((u->fcr & 1) ? UART_IIR_FIFO : 0);
        /* Reading IIR while THRE is the reported source clears it. */
        if ((v & 0x0f) == 0x02)
            u->thre_pending = false;
        break;
    case UART_LCR: return u->lcr;
    case UART_MCR: return u->mcr;
    case UART_LSR:
        v = UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0) |
            (u->overrun ? UART_LSR_OE : 0);
        u->overrun = false; /* error bits clear on read */
        break;
    case UART_MSR:
        v = msr_lines(u) | u->msr_delta;
        u->msr_delta = 0;
        break;
    case UART_SCR: return u->scr;
    }
    update_irq(u);
    return v;
}

void uart_write(struct uart16550 *u, unsigned reg, uint8_t val)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg & 7) {
    case UART_THR:
        if (dlab) {
            u->divisor = (uint16_t)((u->divisor & 0xff00) | val);
            return;
        }
        if (u->mcr & UART_MCR_LOOP) {
            rx_push(u, val);
        } else {
            if (u->out)
                sink_put(u->out, val);
            u->tx_bytes++;
        }
        /* Transmission is instantaneous: THR is empty again at once. */
        u->thre_pending = true;
        break;
    case UART_IER:
        if (dlab) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | (val << 8));
            return;
        }
        /* Enabling the THRE interrupt while THR is empty raises it at once. */
        if ((val & IER_THRE) && !(u->ier & IER_THRE))
            u->thre_pending = true;
        u->ier = val & 0x0f;
        break;
    case UART_FCR:
        if (val & 0x02) { /* reset receiver FIFO */
            u->rx_head = u->rx_count = 0;
        }
        u->fcr = val & 0xc9; /* enable, DMA mode, trigger level; reset bits self-clear */
        if (!(val & 1)) {
            u->fcr = 0;
            u->rx_head = u->rx_count = 0;
        }
        break;
    case UART_LCR: u->lcr = val; return;
    case UART_MCR: set_mcr(u, val); break;
    case UART_LSR: return; /* factory test register: writes ignored */
    case UART_MSR: return;
    case UART_SCR: u->scr = val; return;
    }
    update_irq(u);
}

/* Port handlers: a 16- or 32-bit access reaches consecutive byte ports, as
 * it would on the 8-bit ISA bus; bytes beyond the UART go back to the bus. */
static uint32_t port_read(void *ctx, uint16_t port, int size)
{
    struct uart16550 *u = ctx;
    uint32_t v = 0;
    for (int k = 0; k < size; k++) {
        uint16_t p = (uint16_t)(port + k);
        uint32_t byte = (uint16_t)(p - u->base) < 8 ? uart_read(u, (unsigned)(p - u->base))
                                                     : bus_port_read(u->bus, p, 1);
        v |= (byte & 0xff) << (8 * k);
    }
    return v;
}

static void port_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct uart16550 *u = ctx;
    for (int k = 0; k < size; k++) {
        uint16_t p = (uint16_t)(port + k);
        uint8_t byte = (uint8_t)(val >> (8 * k));
        if ((uint16_t)(p - u->base) < 8)
            uart_write(u, (unsigned)(p - u->base), byte);
        else
            bus_port_write(u->bus, p, 1, byte);
    }
}

void uart_reset(struct uart16550 *u)
{
    u->ier = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->scr = 0;
    u->fcr = 0;
    u->divisor = 12; /* 9600 baud from the 1.8432 MHz clock */
    u->msr_delta = 0;
    u->thre_pending = false;
    u->rx_head = u->rx_count = 0;
    u->overrun = false;
    update_irq(u);
}

void uart_init(struct uart16550 *u, struct bus *b, uint16_t base, int irq, struct sink *out)
{
    memset(u, 0, sizeof(*u));
    u->irq = irq;
    u->out = out;
    u->bus = b;
    u->base = base;
    uart_reset(u);
    bus_add_ports(b, base, 8, port_read, port_write, u);
}
