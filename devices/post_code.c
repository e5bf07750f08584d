/* The POST code port (see post_code.h). */
#include "post_code.h"

#include <string.h>

static uint32_t post_read(void *ctx, uint16_t port, int size)
{
    struct post_code *p = ctx;
    (void)port;
    return size == 1 ? p->last : 0xffffffffu >> (32 - 8 * size);
}

static void post_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct post_code *p = ctx;
    (void)port, (void)size;
    p->last = (uint8_t)val; /* only the low byte reaches the display */
    p->count++;
}

void post_code_init(struct post_code *p, struct bus *b, uint16_t port)
{
    memset(p, 0, sizeof(*p));
    bus_add_ports(b, port, 1, post_read, post_write, p);
}
