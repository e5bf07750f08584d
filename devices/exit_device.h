/*
 * The exit device (QEMU's isa-debug-exit convention): a write of value V to
 * its port ends the run, and the process exits with status (V << 1) | 1
 * (truncated to 8 bits by the OS). An exit status produced this way is always
 * odd, which keeps it apart from trapeze's own statuses (README.md). Reads
 * return all ones, like an unclaimed port.
 *
 * The device does not know the CPU: it sets the byte *stop (the machine
 * points it at cpu.exit_request), so the run stops at the next instruction
 * boundary.
 */
#ifndef TRAPEZE_DEVICES_EXIT_DEVICE_H
#define TRAPEZE_DEVICES_EXIT_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "../mmu/bus.h"

#define EXIT_DEVICE_PORT 0xf4

struct exit_device {
    uint8_t *stop;   /* set to 1 on a write; may be NULL */
    bool written;
    uint32_t value;  /* the value written, as wide as the access */
};

void exit_device_init(struct exit_device *e, struct bus *b, uint16_t port, uint8_t *stop);

/* The process exit status for value v: (v << 1) | 1, as the OS keeps it. */
static inline int exit_device_status(uint32_t v) { return (int)(((v << 1) | 1) & 0xff); }

#endif
