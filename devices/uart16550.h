/*
 * A 16550A UART (the PC's COM1 at 0x3F8, IRQ 4), modelled as far as polled
 * software and the usual probes need:
 *  - transmission is instantaneous: a byte written to THR goes to the sink at
 *    once, so LSR always shows THRE|TEMT;
 *  - received bytes come from uart_receive() into a 16-byte FIFO (DR in LSR);
 *  - IER/IIR/FCR/LCR/MCR/LSR/MSR/SCR and the divisor latch behave as the
 *    datasheet says, including loopback (MCR bit 4), which Linux's 8250
 *    driver uses to detect the chip, and the FIFO bits of IIR, which make it
 *    a 16550A rather than an 8250/16450;
 *  - the interrupt output (IIR priority logic gated by MCR.OUT2, as on a PC)
 *    drives the bus's IRQ line 'irq' (bus_set_irq) on every level change.
 * The baud rate and line settings are kept but have no effect.
 */
#ifndef TRAPEZE_DEVICES_UART16550_H
#define TRAPEZE_DEVICES_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#include "../mmu/bus.h"
#include "sink.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_FIFO_SIZE 16

struct uart16550 {
    struct sink *out;
    struct bus *bus;
    uint16_t base;
    uint8_t ier, lcr, mcr, scr, fcr;
    uint16_t divisor;
    uint8_t msr_delta; /* MSR bits 0-3, cleared by reading MSR */
    bool thre_pending; /* THR-empty interrupt condition (cleared by IIR read or THR write) */
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    bool overrun;
    int irq;          /* bus IRQ line (4 for COM1), -1 for none */
    bool irq_level;   /* current level of that line */
    uint64_t tx_bytes;
};

/* Resets to the power-on register state and claims base..base+7 on the bus;
 * the interrupt output drives IRQ line irq (-1: not connected). */
void uart_init(struct uart16550 *u, struct bus *b, uint16_t base, int irq, struct sink *out);
void uart_reset(struct uart16550 *u);

/* Delivers a byte from the outside world to the receiver. Returns false
 * (and sets the overrun error) when the FIFO is full. */
bool uart_receive(struct uart16550 *u, uint8_t byte);

/* Register access by offset 0..7 (the port handlers call these). */
uint8_t uart_read(struct uart16550 *u, unsigned reg);
void uart_write(struct uart16550 *u, unsigned reg, uint8_t val);

/* Register offsets and bits */
enum {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0, UART_IER = 1, UART_DLM = 1, UART_IIR = 2,
    UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};
enum { UART_LCR_DLAB = 0x80, UART_MCR_LOOP = 0x10, UART_MCR_OUT2 = 0x08 };
enum { UART_LSR_DR = 0x01, UART_LSR_OE = 0x02, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40 };
enum { UART_IIR_NONE = 0x01, UART_IIR_FIFO = 0xc0 };

#endif
