/*
 * The POST code port (0x80): firmware writes a progress byte there at each
 * stage of its power-on self test (a diagnostic card shows it). The device
 * keeps the last value and a count of writes for the run's report; a read
 * returns the last value, as many chipsets' port 0x80 latches do.
 */
#ifndef TRAPEZE_DEVICES_POST_CODE_H
#define TRAPEZE_DEVICES_POST_CODE_H

#include <stdbool.h>
#include <stdint.h>

#include "../mmu/bus.h"

#define POST_CODE_PORT 0x80

struct post_code {
    uint8_t last;   /* last byte written */
    uint64_t count; /* writes so far (0: the guest never wrote one) */
};

void post_code_init(struct post_code *p, struct bus *b, uint16_t port);

#endif
