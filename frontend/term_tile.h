/*
 * A terminal tile: the screen of a serial console, as a VT100/ANSI subset
 * good enough for a Linux shell and busybox vi: CR LF BS TAB, cursor motion
 * (CUU CUD CUF CUB CUP HVP, CHA VPA), erase (ED EL), insert/delete lines
 * and characters (IL DL ICH DCH), scroll region (DECSTBM), SGR colours
 * (30-37, 40-47, 90-97, bold, reverse), save/restore cursor. Other
 * sequences are parsed and ignored. Input bytes of any value are accepted;
 * the cost is O(1) per byte except line feeds at the bottom (a scroll,
 * O(cells)).
 */
#ifndef TRAPEZE_FRONTEND_TERM_TILE_H
#define TRAPEZE_FRONTEND_TERM_TILE_H

#include <stdbool.h>
#include <stdint.h>

#include "host_font.h"

#define TERM_COLS 80
#define TERM_ROWS 25

struct term_cell {
    uint8_t ch;
    uint8_t fg, bg; /* 0..15, the VGA palette */
};

struct term_tile {
    struct term_cell cell[TERM_ROWS][TERM_COLS];
    int row, col, saved_row, saved_col;
    int top, bottom; /* scroll region, inclusive rows */
    uint8_t fg, bg;
    bool bold, reverse, wrap_pending;
    int state; /* parser: 0 text, 1 ESC, 2 CSI, 3 ESC + one more byte */
    int params[8], nparams;
    bool private_mode; /* CSI ? ... */
};

void term_init(struct term_tile *t);
void term_feed(struct term_tile *t, const uint8_t *bytes, unsigned n);
/* Renders into pix (TERM_COLS*FONT_W x TERM_ROWS*FONT_H, rows of that width). */
void term_render(const struct term_tile *t, const struct host_font *f, uint32_t *pix);
/* The text of row r (TERM_COLS chars + NUL) for tests and logs. */
void term_row_text(const struct term_tile *t, int r, char *out);

#endif
