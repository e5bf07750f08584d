/* Bochs-style debug console on one port (see debugcon.h). */
#include "debugcon.h"

static uint32_t dc_read(void *ctx, uint16_t port, int size)
{
    (void)ctx;
    (void)size;
    (void)port;
    return DEBUGCON_PORT; /* the detection value, whatever the width */
}

static void dc_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct debugcon *d = ctx;
    (void)port;
    (void)size;
    if (d->out)
        sink_put(d->out, (uint8_t)val);
    d->bytes++;
}

void debugcon_init(struct debugcon *d, struct bus *b, uint16_t port, struct sink *out)
{
    d->out = out;
    d->bytes = 0;
    bus_add_ports(b, port, 1, dc_read, dc_write, d);
}
