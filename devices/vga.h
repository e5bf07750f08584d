/*
 * The "stdvga": a PCI VGA adapter (1234:1111, class 03 00 00) with the Bochs
 * VBE "dispi" extensions, the device QEMU calls -vga std and SeaBIOS's
 * vgabios-stdvga.bin drives.
 *
 * What it models:
 *  - legacy VGA registers at 0x3B0-0x3DF: misc output, sequencer, CRTC (with
 *    the CR11 protect bit), graphics controller (read modes 0-1, write modes
 *    0-3, set/reset, rotate, logical op, bit mask, colour compare), attribute
 *    controller (index/data flip-flop reset by reading input status 1), DAC
 *    (6-bit, or 8-bit under VBE), PEL mask, input status 1 with retrace bits
 *    on the virtual clock, feature control;
 *  - the 0xA0000-0xBFFFF window as MMIO, decoded per GR6's memory map;
 *    planar, odd/even (text) and chain-4 (mode 13h) addressing;
 *  - the Bochs VBE interface at 0x1CE (index) / 0x1CF (data), with a banked
 *    64 KiB window at 0xA0000 and the linear framebuffer in PCI BAR0;
 *  - the VGA BIOS image served through the PCI expansion ROM BAR.
 *
 * Video memory layout (the usual emulator choice, as in QEMU): planes are
 * interleaved, so plane p's byte at plane offset o is vram[4*o + p]. Then
 * chain-4 and VBE modes see vram as plain linear bytes (the LFB maps it
 * directly), planar modes see one 32-bit word per offset, and odd/even
 * addresses a go to plane a&1 at plane offset a>>1 (so text cell j is at
 * vram[4*j] with its attribute at vram[4*j+1] and the font in plane 2).
 */
#ifndef TRAPEZE_DEVICES_VGA_H
#define TRAPEZE_DEVICES_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../mmu/bus.h"
#include "pci.h"

#define VGA_VRAM_SIZE (16u << 20)
#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_PCI_SLOT 2

/* Largest picture vga_render produces (VBE modes are limited to it). */
#define VGA_MAX_WIDTH 2560
#define VGA_MAX_HEIGHT 1600

/* Bochs VBE dispi registers (index written to port 0x1CE). */
enum {
    VBE_INDEX_ID = 0,
    VBE_INDEX_XRES,
    VBE_INDEX_YRES,
    VBE_INDEX_BPP,
    VBE_INDEX_ENABLE,
    VBE_INDEX_BANK,
    VBE_INDEX_VIRT_WIDTH,
    VBE_INDEX_VIRT_HEIGHT,
    VBE_INDEX_X_OFFSET,
    VBE_INDEX_Y_OFFSET,
    VBE_INDEX_VIDEO_MEMORY_64K,
    VBE_NUM_REGS
};
#define VBE_PORT_INDEX 0x1ce
#define VBE_PORT_DATA 0x1cf
#define VBE_ID0 0xb0c0
#define VBE_ID5 0xb0c5
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80

struct vga {
    struct bus *bus;
    struct pci_device pci;
    uint8_t *vram; /* VGA_VRAM_SIZE bytes, interleaved planes (see above) */
    int lfb_region, rom_region, legacy_region;
    uint8_t *rom; /* the VGA BIOS image, rom_size bytes, or NULL */
    uint32_t rom_size, rom_base;

    uint8_t misc;     /* misc output (0x3C2 write, 0x3CC read) */
    uint8_t feature;  /* feature control */
    uint8_t sr_index, sr[8];
    uint8_t gr_index, gr[16];
    uint8_t cr_index, cr[0x19];
    uint8_t ar_index; /* bit 5: palette address source (0 blanks the screen) */
    uint8_t ar[0x15];
    bool ar_data_next; /* flip-flop: the next 0x3C0 write is data */
    uint8_t pel_mask, dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_latch[3];
    uint8_t dac[256][3];
    uint32_t latch; /* the four plane latches, plane p in bits 8p..8p+7 */
    uint64_t status_reads;

    uint16_t vbe_index;
    uint16_t vbe[VBE_NUM_REGS];
    uint32_t vbe_line_offset; /* bytes per scan line of the virtual screen */
    uint32_t vbe_start;       /* byte offset of the displayed origin */
    uint32_t bank_offset;     /* added to 0xA0000 window offsets while VBE is on */
};

/*
 * Creates the device at PCI slot VGA_PCI_SLOT on pb: allocates the video
 * memory, claims the ports and the legacy window. Returns 0, or -1 when
 * out of memory or out of bus regions.
 */
int vga_init(struct vga *v, struct bus *b, struct pci_bus *pb);
void vga_free(struct vga *v);
/* Power-on register state (80x25 colour text); video memory is kept. */
void vga_reset(struct vga *v);

/* Puts a VGA BIOS image (copied) behind the expansion ROM BAR. Call before
 * the firmware enumerates PCI. Returns 0, or -1 when out of memory. */
int vga_set_rom(struct vga *v, const uint8_t *data, uint32_t size);

/* Pixels are 0xAARRGGBB with alpha 0xff (ARGB8888 in a uint32_t). */
#define VGA_RGB(r, g, b) (0xff000000u | ((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | (b))

/*
 * Draws the current screen into rgba (at least VGA_MAX_WIDTH *
 * VGA_MAX_HEIGHT pixels, rows of *w pixels) and sets *w and *h. Text modes
 * use the font in plane 2 and the attribute/DAC colours, with the cursor;
 * blinking is ignored. A blanked screen is drawn black at the mode's size.
 */
void vga_render(struct vga *v, uint32_t *rgba, int *w, int *h);

/* True when the display is in an alphanumeric (text) mode. */
bool vga_text_mode(const struct vga *v);
/* The characters of the current text screen, one line per row ending in
 * '\n', trailing blanks kept; characters outside printable ASCII become
 * spaces (0) or '.' . Writes at most len bytes including a NUL. Returns
 * the length written, or -1 when not in a text mode. */
int vga_text_dump(const struct vga *v, char *buf, size_t len);

#endif
