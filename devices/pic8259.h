/*
 * The PC's interrupt controller: two cascaded Intel 8259A PICs (master at
 * 0x20, slave at 0xA0 on the master's IRQ 2) and the PIIX edge/level control
 * registers (ELCR, ports 0x4D0/0x4D1).
 *
 * Devices raise IRQ lines 0-15 through bus_set_irq(); the PIC drives the
 * CPU's INTR through set_intr and answers the CPU's acknowledge with
 * pic_ack() (the INTA cycle), which returns the vector.
 */
#ifndef TRAPEZE_DEVICES_PIC8259_H
#define TRAPEZE_DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t elcr;       /* 1 = level-triggered input (ELCR) */
    uint8_t elcr_mask;  /* ELCR bits that exist (IRQ 0, 1, 2, 8, 13 are edge-only) */
    uint8_t level;      /* current input levels (for edge detection) */
    uint8_t vector_base;
    uint8_t lowest;     /* lowest-priority IRQ is 'lowest'; highest is lowest+1 (rotation) */
    uint8_t init_step;  /* 0 ready; 2, 3, 4: expecting ICW2, ICW3, ICW4 */
    bool icw4_needed, single;
    bool auto_eoi, rotate_on_aeoi, sfnm, special_mask;
    bool read_isr, poll;
    uint8_t icw3;
};

struct pic {
    struct pic_chip chip[2];
    void (*set_intr)(void *ctx, bool level);
    void *intr_ctx;
    bool intr; /* current INTR output */
    uint64_t spurious;
};

/* Registers the ports and installs the PIC as the bus's IRQ sink. */
void pic_init(struct pic *p, struct bus *b, void (*set_intr)(void *ctx, bool level), void *ctx);
void pic_reset(struct pic *p);
/* INTA: returns the vector to deliver (a spurious IRQ 7/15 if the request
 * went away). */
int pic_ack(struct pic *p);
void pic_set_irq(struct pic *p, int line, int level);

#endif
