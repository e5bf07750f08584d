/*
 * Motorola MC146818 real-time clock and CMOS RAM (ports 0x70/0x71), with the
 * configuration bytes a PC BIOS reads (memory size, equipment, boot order).
 *
 * The clock reads the VM's virtual clock: wall time = start + virtual time,
 * where start is the host's time at power-on or a fixed instant given for
 * reproducible runs. Periodic, alarm and update-ended interrupts raise
 * IRQ 8 until register C is read.
 */
#ifndef TRAPEZE_DEVICES_RTC_CMOS_H
#define TRAPEZE_DEVICES_RTC_CMOS_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

struct rtc {
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_disabled;
    int64_t start_s;  /* wall time (Unix seconds) at virtual time 0, adjusted by guest writes */
    struct bus *bus;
    struct vtimer periodic, second;
    bool irq;
};

/* start_s: Unix time at virtual time 0. */
void rtc_init(struct rtc *r, struct bus *b, int64_t start_s);
/* Fills the CMOS configuration bytes: RAM size, boot order ('c' disk,
 * 'd' CD-ROM, 'a' floppy; up to three letters), and equipment. */
void rtc_set_config(struct rtc *r, uint32_t ram_bytes, const char *boot_order);
/* Current guest wall time in Unix seconds. */
int64_t rtc_time(const struct rtc *r);

#endif
