/*
 * VGA register indexes and bits shared by vga.c (registers, memory) and
 * vga_render.c (drawing). Private to the VGA device.
 */
#ifndef TRAPEZE_DEVICES_VGA_REGS_H
#define TRAPEZE_DEVICES_VGA_REGS_H

#include "vga.h"

/* Sequencer */
enum { SR_RESET = 0, SR_CLOCKING = 1, SR_MAP_MASK = 2, SR_CHAR_MAP = 3, SR_MEMMODE = 4 };
#define SR1_8DOT 0x01
#define SR1_SCREEN_OFF 0x20
#define SR4_ODD_EVEN_OFF 0x04
#define SR4_CHAIN4 0x08

/* Graphics controller */
enum {
    GR_SET_RESET = 0,
    GR_ENABLE_SET_RESET,
    GR_COLOR_COMPARE,
    GR_ROTATE,
    GR_READ_MAP,
    GR_MODE,
    GR_MISC,
    GR_COLOR_DONT_CARE,
    GR_BIT_MASK
};
#define GR5_READ_MODE1 0x08
#define GR5_ODD_EVEN 0x10
#define GR5_SHIFT_CGA 0x20
#define GR5_256 0x40
#define GR6_GRAPHICS 0x01

/* CRT controller */
enum {
    CR_HDISP_END = 0x01,
    CR_OVERFLOW = 0x07,
    CR_MAX_SCAN = 0x09,
    CR_CURSOR_START = 0x0a,
    CR_CURSOR_END = 0x0b,
    CR_START_HI = 0x0c,
    CR_START_LO = 0x0d,
    CR_CURSOR_HI = 0x0e,
    CR_CURSOR_LO = 0x0f,
    CR_VSYNC_END = 0x11,
    CR_VDISP_END = 0x12,
    CR_OFFSET = 0x13,
};

/* Attribute controller */
enum { AR_MODE = 0x10, AR_PLANE_ENABLE = 0x12, AR_COLOR_SELECT = 0x14 };
#define AR10_LINE_GRAPHICS 0x04
#define AR10_BLINK 0x08
#define AR10_P54_SELECT 0x80

static inline bool vbe_on(const struct vga *v) { return v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED; }

#endif
