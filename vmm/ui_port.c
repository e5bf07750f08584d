#include "ui_port.h"

#include <string.h>

#include "machine.h"

void ui_port_init(struct ui_port *p)
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
}

void ui_port_free(struct ui_port *p)
{
    pthread_mutex_destroy(&p->lock);
}

static void queue(pthread_mutex_t *lock, uint8_t *q, unsigned *n, const uint8_t *b, int len)
{
    pthread_mutex_lock(lock);
    for (int k = 0; k < len && *n < UI_IN_SIZE; k++)
        q[(*n)++] = b[k];
    pthread_mutex_unlock(lock);
}

void ui_port_key(struct ui_port *p, const uint8_t *bytes, int n)
{
    queue(&p->lock, p->kbd, &p->nkbd, bytes, n);
}

void ui_port_serial_in(struct ui_port *p, const uint8_t *bytes, int n)
{
    queue(&p->lock, p->uart, &p->nuart, bytes, n);
}

void ui_port_mouse(struct ui_port *p, int dx, int dy, int dz, uint8_t buttons)
{
    pthread_mutex_lock(&p->lock);
    p->mdx += dx;
    p->mdy += dy;
    p->mdz += dz;
    p->mbuttons = buttons;
    p->mouse_moved = true;
    pthread_mutex_unlock(&p->lock);
}

void ui_port_set_paused(struct ui_port *p, bool paused)
{
    __atomic_store_n(&p->paused, paused, __ATOMIC_RELAXED);
}

bool ui_port_paused(struct ui_port *p)
{
    return __atomic_load_n(&p->paused, __ATOMIC_RELAXED);
}

void ui_port_request_save(struct ui_port *p)
{
    __atomic_store_n(&p->save, true, __ATOMIC_RELAXED);
}

void ui_port_request_reset(struct ui_port *p)
{
    __atomic_store_n(&p->reset, true, __ATOMIC_RELAXED);
}

void ui_port_tap(void *ctx, uint8_t byte)
{
    struct ui_port *p = ctx;
    unsigned head = __atomic_load_n(&p->out_head, __ATOMIC_RELAXED);
    unsigned tail = __atomic_load_n(&p->out_tail, __ATOMIC_ACQUIRE);
    p->used_serial = true;
    if (head - tail >= UI_OUT_SIZE)
        return; /* the window is behind: the tile loses this byte, the sink does not */
    p->out[head % UI_OUT_SIZE] = byte;
    __atomic_store_n(&p->out_head, head + 1, __ATOMIC_RELEASE);
}

unsigned ui_port_take_output(struct ui_port *p, uint8_t *buf, unsigned len)
{
    unsigned tail = __atomic_load_n(&p->out_tail, __ATOMIC_RELAXED);
    unsigned head = __atomic_load_n(&p->out_head, __ATOMIC_ACQUIRE);
    unsigned n = 0;
    while (tail != head && n < len)
        buf[n++] = p->out[tail++ % UI_OUT_SIZE];
    __atomic_store_n(&p->out_tail, tail, __ATOMIC_RELEASE);
    return n;
}

int ui_port_service(struct vm *vm)
{
    struct ui_port *p = vm->ui;
    pthread_mutex_lock(&p->lock);
    if (p->nkbd) {
        i8042_key(&vm->kbc, p->kbd, (int)p->nkbd);
        p->nkbd = 0;
    }
    unsigned k = 0;
    while (k < p->nuart && vm->com1.rx_count < UART_FIFO_SIZE)
        uart_receive(&vm->com1, p->uart[k++]);
    memmove(p->uart, p->uart + k, p->nuart - k);
    p->nuart -= k;
    if (p->mouse_moved) {
        i8042_mouse(&vm->kbc, p->mdx, p->mdy, p->mdz, p->mbuttons);
        p->mdx = p->mdy = p->mdz = 0;
        p->mouse_moved = false;
    }
    bool reset = p->reset, save = __atomic_exchange_n(&p->save, false, __ATOMIC_RELAXED);
    p->reset = false;
    pthread_mutex_unlock(&p->lock);
    return (ui_port_paused(p) ? UI_SERVICE_PAUSED : 0) | (reset ? UI_SERVICE_RESET : 0) |
           (save ? UI_SERVICE_SAVE : 0);
}
