/* The isa-debug-exit style exit device (see exit_device.h). */
#include "exit_device.h"

static uint32_t ed_read(void *ctx, uint16_t port, int size)
{
    (void)ctx;
    (void)port;
    return 0xffffffffu >> (32 - 8 * size);
}

static void ed_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct exit_device *e = ctx;
    (void)port;
    if (e->written)
        return; /* the first write decides the status */
    e->written = true;
    e->value = val & (0xffffffffu >> (32 - 8 * size));
    if (e->stop)
        *e->stop = 1;
}

void exit_device_init(struct exit_device *e, struct bus *b, uint16_t port, uint8_t *stop)
{
    e->stop = stop;
    e->written = false;
    e->value = 0;
    bus_add_ports(b, port, 1, ed_read, ed_write, e);
}
