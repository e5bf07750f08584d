/*
 * The 8042 keyboard controller with a PS/2 keyboard and mouse (ports 0x60
 * and 0x64, IRQ 1 and IRQ 12), and the system control port A (0x92: fast
 * A20 gate and fast reset). The controller's output port drives the A20
 * gate and the CPU reset line too.
 *
 * The keyboard produces scan code set 2 internally; with the command byte's
 * translate bit (the PC default) the controller converts it to set 1, as
 * the real 8042 does. The frontend feeds key events as set 2 bytes.
 */
#ifndef TRAPEZE_DEVICES_I8042_H
#define TRAPEZE_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

#define I8042_QUEUE 64

struct ps2_queue {
    uint8_t data[I8042_QUEUE];
    int head, count;
};

struct i8042 {
    struct bus *bus;
    uint8_t ccb;         /* controller command byte */
    uint8_t outport;     /* output port: bit 0 reset (active low), bit 1 A20 */
    uint8_t status;      /* status register (OBF, SYS, A2, ...) */
    uint8_t out;         /* output buffer */
    bool out_aux;        /* output buffer holds mouse data */
    uint8_t pending_cmd; /* controller command awaiting a data byte (0x60, 0xD1, ...) */
    struct ps2_queue kbd_q, aux_q;
    /* Bytes the controller itself produces (command replies, the 0xD3
     * echo): served first and regardless of the interface disable bits,
     * as on a real 8042 (Linux reads the command byte with both ports
     * disabled). aux: delivered as mouse data (0xD3). */
    struct ps2_queue ctrl_q;
    uint8_t ctrl_aux[I8042_QUEUE];

    /* keyboard */
    uint8_t kbd_cmd;     /* device command awaiting its argument */
    bool kbd_enabled;
    uint8_t scancode_set;
    bool break_prefix;   /* translation: a set 2 F0 was seen */
    uint8_t leds;

    /* mouse */
    uint8_t aux_cmd;
    bool aux_enabled;    /* data reporting */
    uint8_t aux_rate, aux_res, aux_id;
    bool aux_scaling21;
    uint8_t rate_hist[3]; /* last sample rates, for the IntelliMouse knock */
    uint8_t buttons;

    uint8_t port92;
};

void i8042_init(struct i8042 *k, struct bus *b);
void i8042_reset(struct i8042 *k);
/* Host input: set 2 scan code bytes of one key event (e.g. F0 1C for 'A' up). */
void i8042_key(struct i8042 *k, const uint8_t *bytes, int n);
/* Host input: relative mouse motion and buttons (bit 0 left, 1 right, 2 middle). */
void i8042_mouse(struct i8042 *k, int dx, int dy, int dz, uint8_t buttons);

#endif
