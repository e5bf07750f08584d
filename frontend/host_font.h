/*
 * The window's own font (terminal tiles, status lines): printable ASCII
 * rasterised once with FreeType from DejaVu Sans Mono into 8x16 cells of
 * 8-bit coverage. Guests' VGA screens do not use it (they render with the
 * font in their own VGA memory).
 */
#ifndef TRAPEZE_FRONTEND_HOST_FONT_H
#define TRAPEZE_FRONTEND_HOST_FONT_H

#include <stdint.h>

#define FONT_W 8
#define FONT_H 16

struct host_font {
    uint8_t glyph[128][FONT_H][FONT_W]; /* coverage 0..255; blank outside 0x21..0x7e */
};

/* Loads the font. Returns 0, or -1 with a message naming the file in err. */
int host_font_load(struct host_font *f, char *err, unsigned errlen);

/* Draws string s at (x, y) into pix (rows of pitch pixels, clipped to w x h),
 * fg over bg (0xAARRGGBB). */
void host_font_text(const struct host_font *f, uint32_t *pix, int pitch, int w, int h, int x, int y,
                    const char *s, uint32_t fg, uint32_t bg);
/* One cell: character c at (x, y). */
void host_font_cell(const struct host_font *f, uint32_t *pix, int pitch, int w, int h, int x, int y,
                    uint8_t c, uint32_t fg, uint32_t bg);

#endif
