/* stdvga: PCI header and BARs, register files, planar/odd-even/chain-4 memory,
 * text and graphics rendering, the DAC, Bochs VBE with banked and linear access. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/vga.h"

static struct bus bus;
static struct pci_bus pcib;
static struct vga vga;
static uint32_t *pix;
static uint64_t now_ns;

static uint64_t clock_fn(void *ctx) { (void)ctx; return now_ns; }

static void outb(uint16_t p, uint8_t v) { bus_port_write(&bus, p, 1, v); }
static uint8_t inb(uint16_t p) { return (uint8_t)bus_port_read(&bus, p, 1); }
static void outw(uint16_t p, uint16_t v) { bus_port_write(&bus, p, 2, v); }
static uint16_t inw(uint16_t p) { return (uint16_t)bus_port_read(&bus, p, 2); }
static void sr(uint8_t i, uint8_t v) { outw(0x3c4, (uint16_t)(i | v << 8)); }
static void gr(uint8_t i, uint8_t v) { outw(0x3ce, (uint16_t)(i | v << 8)); }
static void cr(uint8_t i, uint8_t v) { outb(0x3d4, i); outb(0x3d5, v); }
static void ar(uint8_t i, uint8_t v) { inb(0x3da); outb(0x3c0, i); outb(0x3c0, v); }
static void dac(uint8_t i, uint8_t r, uint8_t g, uint8_t b)
{
    outb(0x3c8, i); outb(0x3c9, r); outb(0x3c9, g); outb(0x3c9, b);
}
static void vbe(uint16_t i, uint16_t v) { outw(VBE_PORT_INDEX, i); outw(VBE_PORT_DATA, v); }
static uint16_t vbe_rd(uint16_t i) { outw(VBE_PORT_INDEX, i); return inw(VBE_PORT_DATA); }
static uint32_t cfg_rd(int reg) { bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (VGA_PCI_SLOT << 11) | (uint32_t)reg); return bus_port_read(&bus, 0xcfc, 4); }
static void cfg_wr(int reg, uint32_t v) { bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (VGA_PCI_SLOT << 11) | (uint32_t)reg); bus_port_write(&bus, 0xcfc, 4, v); }

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 2 << 20), 0);
    bus.clock = clock_fn;
    now_ns = 0;
    pci_bus_init(&pcib, &bus);
    ck_assert_int_eq(vga_init(&vga, &bus, &pcib), 0);
    pix = malloc(sizeof(uint32_t) * VGA_MAX_WIDTH * VGA_MAX_HEIGHT);
    ck_assert_ptr_nonnull(pix);
}
static void teardown(void)
{
    free(pix);
    vga_free(&vga);
    bus_free(&bus);
}

/* 80x25 colour text with 9x16 cells; palette: attribute i -> DAC i. */
static void text_mode(void)
{
    outb(0x3c2, 0x67);
    sr(0, 3); sr(1, 0x00); sr(2, 0x03); sr(3, 0x00); sr(4, 0x02);
    cr(0x11, 0x0e); /* unprotect */
    cr(0x01, 0x4f); cr(0x07, 0x1f); cr(0x09, 0x4f); cr(0x12, 0x8f); cr(0x13, 0x28);
    cr(0x0a, 0x20); cr(0x0c, 0); cr(0x0d, 0);
    gr(4, 0); gr(5, 0x10); gr(6, 0x0e); gr(8, 0xff);
    for (int i = 0; i < 16; i++)
        ar((uint8_t)i, (uint8_t)i);
    ar(0x10, 0x0c); ar(0x12, 0x0f); ar(0x14, 0);
    inb(0x3da);
    outb(0x3c0, 0x20); /* palette address source: screen on */
    dac(1, 0, 0, 42);
    dac(15, 63, 63, 63);
}

/* Loads an 8x16 glyph for character ch into font map 0 (plane 2), the way
 * a VGA BIOS does: planar access to plane 2 at 0xA0000. */
static void load_glyph(uint8_t ch, const uint8_t rows[16])
{
    sr(2, 0x04); sr(4, 0x07);
    gr(4, 0x02); gr(5, 0x00); gr(6, 0x04);
    for (int r = 0; r < 16; r++)
        bus_write(&bus, 0xa0000 + ch * 32u + (uint32_t)r, 1, rows[r]);
    sr(2, 0x03); sr(4, 0x02);
    gr(4, 0x00); gr(5, 0x10); gr(6, 0x0e);
}

START_TEST(pci_header_and_lfb_bar)
{
    ck_assert_uint_eq(cfg_rd(0x00), 0x11111234u);
    ck_assert_uint_eq(cfg_rd(0x08) >> 8, 0x030000u);
    cfg_wr(0x10, 0xffffffffu);
    ck_assert_uint_eq(cfg_rd(0x10), 0xff000008u); /* 16 MiB, prefetchable memory */
    cfg_wr(0x10, 0xfd000000u);
    cfg_wr(0x04, 0x3);
    bus_write(&bus, 0xfd000010u, 4, 0xdeadbeefu);
    uint32_t w;
    memcpy(&w, vga.vram + 0x10, 4);
    ck_assert_uint_eq(w, 0xdeadbeefu);
    ck_assert_ptr_eq(bus_page_ptr(&bus, 0xfd001000u, true), vga.vram + 0x1000);
    cfg_wr(0x04, 0x1); /* memory decoding off: the LFB disappears */
    ck_assert_uint_eq(bus_read(&bus, 0xfd000010u, 4), 0xffffffffu);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_VIDEO_MEMORY_64K), VGA_VRAM_SIZE >> 16);
}
END_TEST

START_TEST(rom_bar_serves_image)
{
    uint8_t rom[1024] = {0x55, 0xaa, 2, 0xcb};
    rom[1023] = 0x77;
    ck_assert_int_eq(vga_set_rom(&vga, rom, sizeof(rom)), 0);
    cfg_wr(0x30, 0xfffff800u);
    ck_assert_uint_eq(cfg_rd(0x30), 0xfffff000u); /* one page: 4 KiB */
    cfg_wr(0x30, 0xfebff000u | 1);
    cfg_wr(0x04, 0x2);
    ck_assert_uint_eq(bus_read(&bus, 0xfebff000u, 2), 0xaa55u);
    ck_assert_uint_eq(bus_read(&bus, 0xfebff3ffu, 1), 0x77u);
    ck_assert_uint_eq(bus_read(&bus, 0xfebff400u, 1), 0u);
    bus_write(&bus, 0xfebff000u, 1, 0); /* read-only */
    ck_assert_uint_eq(bus_read(&bus, 0xfebff000u, 1), 0x55u);
    cfg_wr(0x30, 0xfebff000u); /* enable bit clear: unmapped */
    ck_assert_uint_eq(bus_read(&bus, 0xfebff000u, 1), 0xffu);
}
END_TEST

START_TEST(register_files)
{
    sr(2, 0x05);
    outb(0x3c4, 2);
    ck_assert_uint_eq(inb(0x3c5), 0x05);
    gr(8, 0x5a);
    outb(0x3ce, 8);
    ck_assert_uint_eq(inb(0x3cf), 0x5a);
    outb(0x3c2, 0x67);
    ck_assert_uint_eq(inb(0x3cc), 0x67);
    /* The CRTC answers at 0x3Dx in colour mode only. */
    cr(0x0e, 0x12);
    outb(0x3d4, 0x0e);
    ck_assert_uint_eq(inb(0x3d5), 0x12);
    ck_assert_uint_eq(inb(0x3b5), 0xff);
    /* CR11 bit 7 protects CR0-7 but not CR7 bit 4 (protected at power-on). */
    cr(0x01, 0x33);
    outb(0x3d4, 0x01);
    ck_assert_uint_eq(inb(0x3d5), 0x4f);
    cr(0x11, 0x0e);
    cr(0x01, 0x4f);
    cr(0x07, 0x00);
    cr(0x11, 0x80);
    cr(0x01, 0x27);
    cr(0x07, 0xff);
    outb(0x3d4, 0x01);
    ck_assert_uint_eq(inb(0x3d5), 0x4f);
    outb(0x3d4, 0x07);
    ck_assert_uint_eq(inb(0x3d5), 0x10);
    cr(0x11, 0x00);
    cr(0x01, 0x27);
    outb(0x3d4, 0x01);
    ck_assert_uint_eq(inb(0x3d5), 0x27);
    /* Attribute controller: index then data; reading 0x3DA resets the flip-flop. */
    inb(0x3da);
    outb(0x3c0, 0x03);
    outb(0x3c0, 0x2a);
    outb(0x3c0, 0x24); /* index again (PAS set) */
    ck_assert_uint_eq(inb(0x3c0), 0x24);
    outb(0x3c0, 0x11); /* data for index 4 */
    inb(0x3da);
    outb(0x3c0, 0x03);
    ck_assert_uint_eq(inb(0x3c1), 0x2a);
    inb(0x3da);
    outb(0x3c0, 0x04);
    ck_assert_uint_eq(inb(0x3c1), 0x11);
    /* Feature control: written at 0x3DA, read at 0x3CA. */
    outb(0x3da, 0x02);
    ck_assert_uint_eq(inb(0x3ca), 0x02);
}
END_TEST

START_TEST(power_on_text_mode)
{
    /* Without a BIOS the card is in mode 3: text written at 0xB8000 dumps. */
    ck_assert(vga_text_mode(&vga));
    bus_write(&bus, 0xb8000, 2, 0x0748);
    bus_write(&bus, 0xb8002, 2, 0x0769);
    ck_assert_uint_eq(bus_read(&bus, 0xb8002, 2), 0x0769);
    char buf[81 * 25 + 1];
    ck_assert_int_eq(vga_text_dump(&vga, buf, sizeof(buf)), 81 * 25);
    ck_assert(!strncmp(buf, "Hi ", 3));
    int w, h;
    vga_render(&vga, pix, &w, &h);
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
}
END_TEST

START_TEST(dac_read_write)
{
    dac(7, 0x3f, 0x7f, 0x12); /* 6-bit DAC: 0x7f keeps 0x3f */
    dac(8, 1, 2, 3);
    ck_assert_uint_eq(inb(0x3c8), 9);
    ck_assert_uint_eq(inb(0x3c7), 0); /* write mode */
    outb(0x3c7, 7);
    ck_assert_uint_eq(inb(0x3c7), 3);
    ck_assert_uint_eq(inb(0x3c9), 0x3f);
    ck_assert_uint_eq(inb(0x3c9), 0x3f);
    ck_assert_uint_eq(inb(0x3c9), 0x12);
    ck_assert_uint_eq(inb(0x3c9), 1); /* auto-increment to entry 8 */
    ck_assert_uint_eq(inb(0x3c9), 2);
    ck_assert_uint_eq(inb(0x3c9), 3);
    outb(0x3c6, 0x0f);
    ck_assert_uint_eq(inb(0x3c6), 0x0f);
}
END_TEST

START_TEST(retrace_toggles)
{
    int seen[2] = {0, 0};
    for (int k = 0; k < 40000; k++) {
        seen[(inb(0x3da) >> 3) & 1]++;
        now_ns += 500;
    }
    ck_assert_int_gt(seen[0], 0);
    ck_assert_int_gt(seen[1], 0);
}
END_TEST

START_TEST(text_mode_render_and_dump)
{
    text_mode();
    static const uint8_t glyph[16] = {0, 0, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
                                      0xc6, 0xc6, 0xc6, 0xc6, 0, 0, 0, 0};
    load_glyph('A', glyph);
    bus_write(&bus, 0xb8000, 2, 0x1f00u | 'A'); /* white on blue */
    bus_write(&bus, 0xb8002, 2, 0x1f00u | 'b');
    bus_write(&bus, 0xb8000 + 160, 1, 'Z');
    ck_assert_uint_eq(bus_read(&bus, 0xb8000, 2), 0x1f41u);
    /* Odd/even: the character went to plane 0, the attribute to plane 1. */
    ck_assert_uint_eq(vga.vram[0], 'A');
    ck_assert_uint_eq(vga.vram[1], 0x1f);
    ck_assert(vga_text_mode(&vga));

    char buf[81 * 25 + 1];
    ck_assert_int_eq(vga_text_dump(&vga, buf, sizeof(buf)), 81 * 25);
    ck_assert(!strncmp(buf, "Ab ", 3));
    ck_assert_int_eq(buf[80], '\n');
    ck_assert_int_eq(buf[81], 'Z');

    int w, h;
    vga_render(&vga, pix, &w, &h);
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
    uint32_t blue = VGA_RGB(0, 0, 0xaa), white = VGA_RGB(0xff, 0xff, 0xff);
    ck_assert_uint_eq(pix[0], blue);          /* glyph row 0 is empty */
    ck_assert_uint_eq(pix[2 * w + 3], white); /* row 2: 0x10, bit for x = 3 */
    ck_assert_uint_eq(pix[2 * w + 2], blue);
    ck_assert_uint_eq(pix[7 * w + 0], white); /* row 7: 0xfe */
    ck_assert_uint_eq(pix[7 * w + 7], blue);
    ck_assert_uint_eq(pix[7 * w + 8], blue); /* 9th column: background for letters */

    /* The cursor (lines 14-15 of cell 1) in the foreground colour. */
    cr(0x0a, 14); cr(0x0b, 15); cr(0x0e, 0); cr(0x0f, 1);
    vga_render(&vga, pix, &w, &h);
    ck_assert_uint_eq(pix[15 * w + 9 + 4], white);
    ck_assert_uint_eq(pix[13 * w + 9 + 4], blue);

    /* A blanked screen (palette address source clear) is black. */
    inb(0x3da);
    outb(0x3c0, 0x00);
    vga_render(&vga, pix, &w, &h);
    ck_assert_uint_eq(pix[7 * w], VGA_RGB(0, 0, 0));
}
END_TEST

START_TEST(mode13h_pixel)
{
    outb(0x3c2, 0x63);
    sr(1, 0x01); sr(2, 0x0f); sr(4, 0x0e);
    cr(0x11, 0x0e);
    cr(0x01, 0x4f); cr(0x07, 0x1f); cr(0x09, 0x41); cr(0x12, 0x8f); cr(0x13, 0x28);
    gr(5, 0x40); gr(6, 0x05);
    ar(0x10, 0x41);
    inb(0x3da);
    outb(0x3c0, 0x20);
    dac(5, 63, 0, 0);
    bus_write(&bus, 0xa0000 + 10 * 320 + 20, 1, 5);
    ck_assert_uint_eq(bus_read(&bus, 0xa0000 + 10 * 320 + 20, 1), 5);
    ck_assert(!vga_text_mode(&vga));
    char buf[16];
    ck_assert_int_eq(vga_text_dump(&vga, buf, sizeof(buf)), -1);
    int w, h;
    vga_render(&vga, pix, &w, &h);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert_uint_eq(pix[10 * 320 + 20], VGA_RGB(0xff, 0, 0));
    ck_assert_uint_eq(pix[10 * 320 + 21], VGA_RGB(0, 0, 0));
    /* PEL mask applies to the DAC index. */
    outb(0x3c6, 0x0e);
    dac(4, 0, 63, 0);
    vga_render(&vga, pix, &w, &h);
    ck_assert_uint_eq(pix[10 * 320 + 20], VGA_RGB(0, 0xff, 0));
}
END_TEST

/* Mode 12h-like planar setup: 640x480, 16 colours. */
static void planar_mode(void)
{
    outb(0x3c2, 0xe3);
    sr(1, 0x01); sr(2, 0x0f); sr(4, 0x06);
    cr(0x11, 0x0c);
    cr(0x01, 0x4f); cr(0x07, 0x3e); cr(0x09, 0x40); cr(0x12, 0xdf); cr(0x13, 0x28);
    gr(5, 0x00); gr(6, 0x05); gr(8, 0xff);
    for (int i = 0; i < 16; i++)
        ar((uint8_t)i, (uint8_t)i);
    ar(0x10, 0x01); ar(0x12, 0x0f);
    inb(0x3da);
    outb(0x3c0, 0x20);
}

START_TEST(planar_write_read_modes)
{
    planar_mode();
    /* Write mode 0 with set/reset enabled for planes 0 and 2 (colour 5). */
    gr(0, 0x05); gr(1, 0x0f);
    bus_write(&bus, 0xa0000, 1, 0x00);
    ck_assert_uint_eq(vga.vram[0], 0xff);
    ck_assert_uint_eq(vga.vram[1], 0x00);
    ck_assert_uint_eq(vga.vram[2], 0xff);
    ck_assert_uint_eq(vga.vram[3], 0x00);
    gr(1, 0x00);
    /* Bit mask keeps latched bits: read to load latches, write 0 through mask 0x0f. */
    (void)bus_read(&bus, 0xa0000, 1);
    gr(8, 0x0f);
    bus_write(&bus, 0xa0000, 1, 0x00);
    ck_assert_uint_eq(vga.vram[0], 0xf0);
    ck_assert_uint_eq(vga.vram[2], 0xf0);
    gr(8, 0xff);
    /* Map mask: only plane 1. */
    sr(2, 0x02);
    bus_write(&bus, 0xa0001, 1, 0x81);
    sr(2, 0x0f);
    ck_assert_uint_eq(vga.vram[4 + 1], 0x81);
    ck_assert_uint_eq(vga.vram[4 + 0], 0x00);
    /* Read mode 0 with read map select. */
    gr(4, 1);
    ck_assert_uint_eq(bus_read(&bus, 0xa0001, 1), 0x81);
    gr(4, 0);
    /* Write mode 1 copies the latches. */
    (void)bus_read(&bus, 0xa0000, 1);
    gr(5, 0x01);
    bus_write(&bus, 0xa0002, 1, 0x55);
    gr(5, 0x00);
    ck_assert(!memcmp(vga.vram + 8, vga.vram, 4));
    /* Write mode 2: colour from the CPU byte, bit mask 0xc0. */
    gr(5, 0x02); gr(8, 0xc0);
    (void)bus_read(&bus, 0xa0003, 1);
    bus_write(&bus, 0xa0003, 1, 0x0a); /* planes 1 and 3 */
    gr(8, 0xff); gr(5, 0x00);
    ck_assert_uint_eq(vga.vram[12 + 0], 0x00);
    ck_assert_uint_eq(vga.vram[12 + 1], 0xc0);
    ck_assert_uint_eq(vga.vram[12 + 3], 0xc0);
    /* Write mode 3: set/reset colour through (rotated CPU byte & bit mask). */
    gr(0, 0x0f); gr(5, 0x03); gr(3, 0x01); /* rotate right by 1 */
    (void)bus_read(&bus, 0xa0004, 1);
    bus_write(&bus, 0xa0004, 1, 0x02); /* rotated -> 0x01 */
    gr(5, 0x00); gr(3, 0x00);
    for (int p = 0; p < 4; p++)
        ck_assert_uint_eq(vga.vram[16 + p], 0x01);
    /* Logical op XOR with the latches. */
    gr(3, 0x18);
    (void)bus_read(&bus, 0xa0004, 1);
    bus_write(&bus, 0xa0004, 1, 0x03);
    gr(3, 0x00);
    ck_assert_uint_eq(vga.vram[16], 0x02);
    /* Read mode 1: colour compare against 5 (planes 0 and 2) with all planes cared for. */
    gr(5, 0x08); gr(2, 0x05); gr(7, 0x0f);
    ck_assert_uint_eq(bus_read(&bus, 0xa0000, 1), 0xf0); /* byte 0: colour 5 in the high nibble */
    gr(7, 0x00); /* nothing cared for: every pixel matches */
    ck_assert_uint_eq(bus_read(&bus, 0xa0000, 1), 0xff);
    gr(5, 0x00);

    /* Render: pixel 0 has colour 5, pixel 4 colour 0; DAC through AR. */
    dac(5, 0, 63, 63);
    int w, h;
    vga_render(&vga, pix, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(pix[0], VGA_RGB(0, 0xff, 0xff));
    ck_assert_uint_eq(pix[4], VGA_RGB(0, 0, 0));
}
END_TEST

START_TEST(memory_map_select)
{
    text_mode(); /* GR6 map 3: 0xB8000-0xBFFFF */
    bus_write(&bus, 0xa0000, 1, 0x12);
    ck_assert_uint_eq(bus_read(&bus, 0xa0000, 1), 0xff);
    ck_assert_uint_eq(bus_read(&bus, 0xb0000, 1), 0xff);
    gr(6, 0x0a); /* map 2: 0xB0000-0xB7FFF */
    bus_write(&bus, 0xb0000, 1, 'M');
    ck_assert_uint_eq(vga.vram[0], 'M');
    ck_assert_uint_eq(bus_read(&bus, 0xb8000, 1), 0xff);
}
END_TEST

START_TEST(vbe_lfb_mode)
{
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_ID), VBE_ID0);
    vbe(VBE_INDEX_ID, VBE_ID5);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_ID), VBE_ID5);
    vbe(VBE_INDEX_ID, 0x1234); /* not an ID: ignored */
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_ID), VBE_ID5);
    vbe(VBE_INDEX_ENABLE, VBE_GETCAPS);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_XRES), VGA_MAX_WIDTH);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_BPP), 32);
    vbe(VBE_INDEX_ENABLE, 0);

    cfg_wr(0x10, 0xfd000000u);
    cfg_wr(0x04, 0x3);
    memset(vga.vram, 0x33, 4096);
    vbe(VBE_INDEX_XRES, 640);
    vbe(VBE_INDEX_YRES, 480);
    vbe(VBE_INDEX_BPP, 32);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    ck_assert_uint_eq(vga.vram[0], 0); /* cleared */
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_VIRT_WIDTH), 640);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_VIRT_HEIGHT), VGA_VRAM_SIZE / (640 * 4));
    vbe(VBE_INDEX_XRES, 800); /* ignored while enabled */
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_XRES), 640);
    bus_write(&bus, 0xfd000000u + (5 * 640 + 7) * 4, 4, 0x00123456u);
    int w, h;
    vga_render(&vga, pix, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(pix[5 * 640 + 7], VGA_RGB(0x12, 0x34, 0x56));
    /* Panning: Y offset 5 puts that row on top. */
    vbe(VBE_INDEX_Y_OFFSET, 5);
    vga_render(&vga, pix, &w, &h);
    ck_assert_uint_eq(pix[7], VGA_RGB(0x12, 0x34, 0x56));
    vbe(VBE_INDEX_ENABLE, 0);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_ENABLE), 0);
}
END_TEST

START_TEST(vbe_16bpp_and_banks)
{
    vbe(VBE_INDEX_XRES, 320);
    vbe(VBE_INDEX_YRES, 200);
    vbe(VBE_INDEX_BPP, 16);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
    /* Banked window at 0xA0000: bank 1 is VRAM 0x10000-0x1FFFF. */
    vbe(VBE_INDEX_BANK, 1);
    bus_write(&bus, 0xa0000, 2, 0xf800); /* red in 5:6:5 */
    ck_assert_uint_eq(vga.vram[0x10001], 0xf8);
    ck_assert_uint_eq(bus_read(&bus, 0xa0000, 2), 0xf800);
    int w, h;
    vga_render(&vga, pix, &w, &h);
    ck_assert_int_eq(w, 320);
    ck_assert_uint_eq(pix[0x10000 / 2], VGA_RGB(0xff, 0, 0));
    vbe(VBE_INDEX_ENABLE, 0);

    /* 8 bpp with the 8-bit DAC. */
    vbe(VBE_INDEX_BPP, 8);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_8BIT_DAC);
    dac(9, 0x80, 0x90, 0xa0);
    vga.vram[3] = 9;
    vga_render(&vga, pix, &w, &h);
    ck_assert_uint_eq(pix[3], VGA_RGB(0x80, 0x90, 0xa0));
    /* An unsupported depth is refused. */
    vbe(VBE_INDEX_ENABLE, 0);
    vbe(VBE_INDEX_BPP, 12);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED);
    ck_assert_uint_eq(vbe_rd(VBE_INDEX_ENABLE) & VBE_ENABLED, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vga");
    TCase *t = tcase_create("vga");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, pci_header_and_lfb_bar);
    tcase_add_test(t, rom_bar_serves_image);
    tcase_add_test(t, register_files);
    tcase_add_test(t, power_on_text_mode);
    tcase_add_test(t, dac_read_write);
    tcase_add_test(t, retrace_toggles);
    tcase_add_test(t, text_mode_render_and_dump);
    tcase_add_test(t, mode13h_pixel);
    tcase_add_test(t, planar_write_read_modes);
    tcase_add_test(t, memory_map_select);
    tcase_add_test(t, vbe_lfb_mode);
    tcase_add_test(t, vbe_16bpp_and_banks);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
