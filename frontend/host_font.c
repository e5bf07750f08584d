#include "host_font.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>
#include <string.h>

#define FONT_FILE "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

int host_font_load(struct host_font *f, char *err, unsigned errlen)
{
    FT_Library lib;
    FT_Face face;
    memset(f, 0, sizeof(*f));
    if (FT_Init_FreeType(&lib)) {
        snprintf(err, errlen, "cannot start FreeType");
        return -1;
    }
    if (FT_New_Face(lib, FONT_FILE, 0, &face)) {
        snprintf(err, errlen, "cannot load the font '%s' (Debian: fonts-dejavu-core)", FONT_FILE);
        FT_Done_FreeType(lib);
        return -1;
    }
    FT_Set_Pixel_Sizes(face, 0, 13);
    int baseline = 12;
    for (int c = 0x21; c < 0x7f; c++) {
        if (FT_Load_Char(face, (FT_ULong)c, FT_LOAD_RENDER)) continue;
        FT_GlyphSlot g = face->glyph;
        for (unsigned r = 0; r < g->bitmap.rows; r++)
            for (unsigned col = 0; col < g->bitmap.width; col++) {
                int y = baseline - g->bitmap_top + (int)r, x = g->bitmap_left + (int)col;
                if (y >= 0 && y < FONT_H && x >= 0 && x < FONT_W)
                    f->glyph[c][y][x] = g->bitmap.buffer[r * (unsigned)g->bitmap.pitch + col];
            }
    }
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    return 0;
}

static uint32_t blend(uint32_t fg, uint32_t bg, unsigned a)
{
    uint32_t out = 0xff000000u;
    for (int s = 0; s < 24; s += 8) {
        unsigned cf = (fg >> s) & 0xff, cb = (bg >> s) & 0xff;
        out |= ((cf * a + cb * (255 - a)) / 255) << s;
    }
    return out;
}

void host_font_cell(const struct host_font *f, uint32_t *pix, int pitch, int w, int h, int x, int y,
                    uint8_t c, uint32_t fg, uint32_t bg)
{
    if (c >= 128) c = '?';
    for (int r = 0; r < FONT_H; r++) {
        if (y + r < 0 || y + r >= h) continue;
        for (int col = 0; col < FONT_W; col++)
            if (x + col >= 0 && x + col < w)
                pix[(y + r) * pitch + x + col] = blend(fg, bg, f->glyph[c][r][col]);
    }
}

void host_font_text(const struct host_font *f, uint32_t *pix, int pitch, int w, int h, int x, int y,
                    const char *s, uint32_t fg, uint32_t bg)
{
    for (; *s && x < w; s++, x += FONT_W)
        host_font_cell(f, pix, pitch, w, h, x, y, (uint8_t)*s, fg, bg);
}
