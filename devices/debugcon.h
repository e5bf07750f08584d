/*
 * The Bochs debug console: a byte written to port 0xE9 appears on the sink;
 * reading the port returns 0xE9, which is how software detects it (Bochs,
 * QEMU's -debugcon). Only the low byte of a wider write is taken, as QEMU
 * does.
 */
#ifndef TRAPEZE_DEVICES_DEBUGCON_H
#define TRAPEZE_DEVICES_DEBUGCON_H

#include <stdint.h>

#include "../mmu/bus.h"
#include "sink.h"

#define DEBUGCON_PORT 0xe9

struct debugcon {
    struct sink *out;
    uint64_t bytes;
};

void debugcon_init(struct debugcon *d, struct bus *b, uint16_t port, struct sink *out);

#endif
