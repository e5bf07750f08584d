/*
 * Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's
 * system control port B (0x61: channel 2 gate, speaker enable, refresh
 * toggle, channel 2 output).
 *
 * Counters are not ticked: each channel remembers when it was loaded, and
 * its count and output are computed from the VM's virtual clock when read
 * (cost: one 128-bit multiply per read). Channel 0 arms a bus timer for its
 * next output edge and pulses IRQ 0.
 */
#ifndef TRAPEZE_DEVICES_PIT8254_H
#define TRAPEZE_DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

#define PIT_HZ 1193182u

struct pit_channel {
    uint8_t mode;     /* 0-5 */
    uint8_t access;   /* 1 lobyte, 2 hibyte, 3 lo then hi */
    bool bcd;
    uint32_t count;   /* reload value, 1..65536 */
    bool counting;    /* a count has been loaded */
    bool null_count;  /* count written but not yet loaded into the counter */
    uint64_t load_ns; /* virtual time at which counting started */
    bool gate;
    uint64_t stopped_ticks; /* ticks elapsed when the gate went low (modes 0/4 pause) */
    bool paused;
    /* register interface state */
    bool write_hi_next, read_hi_next;
    uint8_t write_lo;
    bool latched;
    uint16_t latch;
    bool latch_hi_next;
    bool status_latched;
    uint8_t status;
};

struct pit {
    struct pit_channel ch[3];
    struct bus *bus;
    struct vtimer timer; /* channel 0's next IRQ 0 edge */
    bool speaker_data;   /* port 0x61 bit 1 */
    uint64_t irqs;       /* IRQ 0 pulses raised */
};

void pit_init(struct pit *p, struct bus *b);
void pit_reset(struct pit *p);
/* Current counter value and output of channel n (for tests and 0x61). */
uint16_t pit_read_count(struct pit *p, int n);
bool pit_output(struct pit *p, int n);

#endif
