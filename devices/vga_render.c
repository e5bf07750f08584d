/*
 * Drawing the VGA's screen (see vga.h): text modes, 256-colour (mode 13h),
 * 16-colour planar and VBE packed-pixel modes. Called by frontends per
 * frame or screenshot, never on the CPU's path, so clarity beats speed.
 *
 * Not modelled: CGA-compatible 2/4-colour modes (GR5 bit 5 shift), split
 * screen (line compare), horizontal pixel panning, blinking, 40-column dot
 * clock halving (a 40-column screen is drawn 320/360 pixels wide).
 */
#include <string.h>

#include "vga.h"
#include "vga_regs.h"

#define PLANE_MASK 0xffffu /* a plane is 64 KiB: offsets wrap like the CRTC's counter */

static uint32_t dac_rgb(const struct vga *v, uint8_t i)
{
    const uint8_t *c = v->dac[i];
    if (v->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC)
        return VGA_RGB(c[0], c[1], c[2]);
    /* 6-bit DAC values scaled to 8 bits so 0x3f gives 0xff. */
    return VGA_RGB((c[0] << 2) | (c[0] >> 4), (c[1] << 2) | (c[1] >> 4), (c[2] << 2) | (c[2] >> 4));
}

/* A 4-bit pixel or text colour through the attribute palette to the DAC. */
static uint32_t attr_rgb(const struct vga *v, uint8_t idx)
{
    idx &= v->ar[AR_PLANE_ENABLE] & 0xf;
    uint8_t a = v->ar[idx], sel = v->ar[AR_COLOR_SELECT];
    if (v->ar[AR_MODE] & AR10_P54_SELECT)
        a = (uint8_t)((a & 0x0f) | ((sel & 3) << 4));
    else
        a &= 0x3f;
    a |= (uint8_t)((sel & 0x0c) << 4);
    return dac_rgb(v, a & v->pel_mask);
}

static unsigned vdisp(const struct vga *v)
{
    return (v->cr[CR_VDISP_END] | ((v->cr[CR_OVERFLOW] & 0x02) << 7) |
            ((v->cr[CR_OVERFLOW] & 0x40) << 3)) + 1u;
}

static unsigned start_addr(const struct vga *v)
{
    return ((unsigned)v->cr[CR_START_HI] << 8) | v->cr[CR_START_LO];
}

bool vga_text_mode(const struct vga *v)
{
    return !vbe_on(v) && !(v->gr[GR_MISC] & GR6_GRAPHICS);
}

struct text_geom {
    unsigned cols, rows, cw, ch, pitch; /* pitch in cells */
};

static struct text_geom text_geom(const struct vga *v)
{
    struct text_geom g;
    g.cols = v->cr[CR_HDISP_END] + 1u;
    g.cw = (v->sr[SR_CLOCKING] & SR1_8DOT) ? 8 : 9;
    g.ch = (v->cr[CR_MAX_SCAN] & 0x1f) + 1u;
    g.rows = vdisp(v) / g.ch;
    g.pitch = v->cr[CR_OFFSET] * 2u;
    if (g.cols * g.cw > VGA_MAX_WIDTH)
        g.cols = VGA_MAX_WIDTH / g.cw;
    if (g.rows * g.ch > VGA_MAX_HEIGHT)
        g.rows = VGA_MAX_HEIGHT / g.ch;
    if (g.rows == 0)
        g.rows = 1;
    return g;
}

static void fill(uint32_t *rgba, int w, int h, uint32_t colour)
{
    for (int k = 0; k < w * h; k++)
        rgba[k] = colour;
}

static void render_text(const struct vga *v, uint32_t *rgba, int *w, int *h)
{
    struct text_geom g = text_geom(v);
    int width = (int)(g.cols * g.cw), height = (int)(g.rows * g.ch);
    *w = width;
    *h = height;
    /* Character maps: SR3 bits 4,1-0 select map B (attribute bit 3 clear),
     * bits 5,3-2 map A; map n starts at 8 KiB * (2*(n&3) + (n>>2)) of
     * plane 2, 32 bytes per glyph. */
    uint8_t sr3 = v->sr[SR_CHAR_MAP];
    uint32_t font[2] = {
        ((((sr3 >> 4) & 1) | ((sr3 << 1) & 6)) * 8192u),
        ((((sr3 >> 5) & 1) | ((sr3 >> 1) & 6)) * 8192u),
    };
    unsigned start = start_addr(v);
    unsigned cursor = ((unsigned)v->cr[CR_CURSOR_HI] << 8) | v->cr[CR_CURSOR_LO];
    unsigned cur_start = v->cr[CR_CURSOR_START] & 0x1f, cur_end = v->cr[CR_CURSOR_END] & 0x1f;
    bool cursor_on = !(v->cr[CR_CURSOR_START] & 0x20) && cur_start <= cur_end;
    bool blink = v->ar[AR_MODE] & AR10_BLINK;
    bool line_gfx = v->ar[AR_MODE] & AR10_LINE_GRAPHICS;

    for (unsigned row = 0; row < g.rows; row++) {
        for (unsigned col = 0; col < g.cols; col++) {
            unsigned cell = (start + row * g.pitch + col) & PLANE_MASK;
            uint8_t c = v->vram[cell * 4], at = v->vram[cell * 4 + 1];
            uint32_t fg = attr_rgb(v, at & 0xf);
            uint32_t bg = attr_rgb(v, blink ? (at >> 4) & 7 : at >> 4);
            uint32_t glyph = font[(at >> 3) & 1] + c * 32u;
            for (unsigned y = 0; y < g.ch; y++) {
                uint8_t bits = v->vram[((glyph + y) & PLANE_MASK) * 4 + 2];
                if (cursor_on && cell == cursor && y >= cur_start && y <= cur_end)
                    bits = 0xff;
                uint32_t *px = rgba + (row * g.ch + y) * (unsigned)width + col * g.cw;
                for (unsigned x = 0; x < 8; x++)
                    px[x] = (bits & (0x80 >> x)) ? fg : bg;
                if (g.cw == 9) /* the ninth column repeats the eighth for line-drawing glyphs */
                    px[8] = (line_gfx && c >= 0xc0 && c <= 0xdf && (bits & 1)) ? fg : bg;
            }
        }
    }
}

static void graphics_size(const struct vga *v, unsigned px_per_char, int *w, int *h)
{
    unsigned width = (v->cr[CR_HDISP_END] + 1u) * px_per_char;
    unsigned height = vdisp(v) / ((v->cr[CR_MAX_SCAN] & 0x1f) + 1u);
    if (v->cr[CR_MAX_SCAN] & 0x80)
        height /= 2;
    *w = (int)(width > VGA_MAX_WIDTH ? VGA_MAX_WIDTH : width);
    *h = (int)(height > VGA_MAX_HEIGHT ? VGA_MAX_HEIGHT : height ? height : 1);
}

static void render_256(const struct vga *v, uint32_t *rgba, int *w, int *h)
{
    graphics_size(v, 4, w, h);
    uint32_t base = start_addr(v) * 4u, line = v->cr[CR_OFFSET] * 8u;
    for (int y = 0; y < *h; y++)
        for (int x = 0; x < *w; x++) {
            uint32_t a = (base + (uint32_t)y * line + (uint32_t)x) & (VGA_VRAM_SIZE - 1);
            rgba[y * *w + x] = dac_rgb(v, v->vram[a] & v->pel_mask);
        }
}

/* 16 colours from four planes; plane offsets start, start + pitch, ...,
 * eight pixels per byte, most significant bit first. */
static void render_planar(const struct vga *v, uint32_t *rgba, int w, int h, uint32_t start,
                          uint32_t pitch)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t o = (start + (uint32_t)y * pitch + (uint32_t)x / 8) * 4;
            o &= VGA_VRAM_SIZE - 1;
            int bit = 7 - (x & 7);
            uint8_t idx = 0;
            for (int p = 0; p < 4; p++)
                idx |= (uint8_t)(((v->vram[o + (uint32_t)p] >> bit) & 1) << p);
            rgba[y * w + x] = attr_rgb(v, idx);
        }
}

static void render_vbe(const struct vga *v, uint32_t *rgba, int *w, int *h)
{
    int width = v->vbe[VBE_INDEX_XRES], height = v->vbe[VBE_INDEX_YRES];
    *w = width;
    *h = height;
    unsigned bpp = v->vbe[VBE_INDEX_BPP];
    if (bpp == 4) {
        render_planar(v, rgba, width, height, v->vbe_start / 4, v->vbe_line_offset / 4);
        return;
    }
    unsigned bytes = (bpp + 7) / 8;
    const uint8_t *m = v->vram;
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            uint64_t a = v->vbe_start + (uint64_t)y * v->vbe_line_offset + (uint64_t)x * bytes;
            uint32_t px = 0;
            if (a + bytes <= VGA_VRAM_SIZE) {
                switch (bpp) {
                case 8: px = dac_rgb(v, m[a]); break;
                case 15: {
                    unsigned p = m[a] | (m[a + 1] << 8);
                    unsigned r = (p >> 10) & 31, g = (p >> 5) & 31, b = p & 31;
                    px = VGA_RGB(r << 3 | r >> 2, g << 3 | g >> 2, b << 3 | b >> 2);
                    break;
                }
                case 16: {
                    unsigned p = m[a] | (m[a + 1] << 8);
                    unsigned r = (p >> 11) & 31, g = (p >> 5) & 63, b = p & 31;
                    px = VGA_RGB(r << 3 | r >> 2, g << 2 | g >> 4, b << 3 | b >> 2);
                    break;
                }
                default: px = VGA_RGB(m[a + 2], m[a + 1], m[a]); break; /* 24, 32: B G R (X) */
                }
            }
            rgba[y * width + x] = px;
        }
    }
}

void vga_render(struct vga *v, uint32_t *rgba, int *w, int *h)
{
    bool blank = !(v->ar_index & 0x20) || (v->sr[SR_CLOCKING] & SR1_SCREEN_OFF);
    if (vbe_on(v))
        render_vbe(v, rgba, w, h);
    else if (!(v->gr[GR_MISC] & GR6_GRAPHICS))
        render_text(v, rgba, w, h);
    else if (v->gr[GR_MODE] & GR5_256)
        render_256(v, rgba, w, h);
    else {
        graphics_size(v, 8, w, h);
        render_planar(v, rgba, *w, *h, start_addr(v), v->cr[CR_OFFSET] * 2u);
    }
    if (blank && !vbe_on(v))
        fill(rgba, *w, *h, VGA_RGB(0, 0, 0));
}

int vga_text_dump(const struct vga *v, char *buf, size_t len)
{
    if (!vga_text_mode(v) || len == 0)
        return -1;
    struct text_geom g = text_geom(v);
    unsigned start = start_addr(v);
    size_t n = 0;
    for (unsigned row = 0; row < g.rows; row++) {
        for (unsigned col = 0; col <= g.cols; col++) {
            if (n + 1 >= len)
                goto out;
            if (col == g.cols) {
                buf[n++] = '\n';
                break;
            }
            uint8_t c = v->vram[((start + row * g.pitch + col) & PLANE_MASK) * 4];
            buf[n++] = c == 0 ? ' ' : (c >= 0x20 && c < 0x7f) ? (char)c : '.';
        }
    }
out:
    buf[n] = 0;
    return (int)n;
}
