/*
 * The window's port into a running VM (frontend/display_sdl.c).
 *
 * The window runs on its own thread; the VM on a scheduler thread. They meet
 * only here: input the window queues (keyboard bytes for the 8042, bytes
 * for COM1, mouse motion, pause/reset requests) is applied by the VM's own
 * thread in vm_step (ui_port_service), and COM1's output is copied into a
 * bounded ring the window drains. A guest flooding its console loses the
 * oldest undrained bytes of the tile, never stalls: the ring drops, the
 * serial sink (file or stdio) still gets every byte.
 */
#ifndef TRAPEZE_VMM_UI_PORT_H
#define TRAPEZE_VMM_UI_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define UI_IN_SIZE  256         /* queued input bytes per kind */
#define UI_OUT_SIZE (64 * 1024) /* serial output ring, a power of two */

struct vm;

struct ui_port {
    pthread_mutex_t lock; /* guards the input queues and requests */
    uint8_t kbd[UI_IN_SIZE];
    unsigned nkbd;
    uint8_t uart[UI_IN_SIZE];
    unsigned nuart;
    int mdx, mdy, mdz;
    uint8_t mbuttons;
    bool mouse_moved;
    bool paused; /* the VM does not run while set */
    bool reset;  /* reset the VM at its next step */
    bool save;   /* write a snapshot (--save-state) at its next step */
    /* Serial output: written by the VM thread only (head), read by the
     * window only (tail); both atomic. */
    uint8_t out[UI_OUT_SIZE];
    unsigned out_head, out_tail;
    bool used_serial; /* the guest wrote to COM1 */
};

void ui_port_init(struct ui_port *p);
void ui_port_free(struct ui_port *p);
/* Window side: queue input (dropped when the queue is full). */
void ui_port_key(struct ui_port *p, const uint8_t *bytes, int n);
void ui_port_serial_in(struct ui_port *p, const uint8_t *bytes, int n);
void ui_port_mouse(struct ui_port *p, int dx, int dy, int dz, uint8_t buttons);
void ui_port_set_paused(struct ui_port *p, bool paused);
bool ui_port_paused(struct ui_port *p);
void ui_port_request_reset(struct ui_port *p);
void ui_port_request_save(struct ui_port *p);
/* Window side: takes up to len bytes of serial output; returns the count. */
unsigned ui_port_take_output(struct ui_port *p, uint8_t *buf, unsigned len);
/* The serial sink's tap (VM thread). ctx is the ui_port. */
void ui_port_tap(void *ctx, uint8_t byte);

/* VM thread, in vm_step: applies the queued input. Returns UI_SERVICE_*
 * bits: paused (vm_step idles instead of running), reset requested. */
enum { UI_SERVICE_PAUSED = 1, UI_SERVICE_RESET = 2, UI_SERVICE_SAVE = 4 };
int ui_port_service(struct vm *vm);

#endif
