#include "term_tile.h"

#include <string.h>

static const uint32_t palette[16] = {
    0xff000000, 0xffaa0000, 0xff00aa00, 0xffaa5500, 0xff0000aa, 0xffaa00aa, 0xff00aaaa, 0xffaaaaaa,
    0xff555555, 0xffff5555, 0xff55ff55, 0xffffff55, 0xff5555ff, 0xffff55ff, 0xff55ffff, 0xffffffff,
};

static void clear_cells(struct term_tile *t, int r, int c0, int c1)
{
    for (int c = c0; c < c1; c++)
        t->cell[r][c] = (struct term_cell){' ', 7, t->bg};
}

void term_init(struct term_tile *t)
{
    memset(t, 0, sizeof(*t));
    t->fg = 7;
    t->bottom = TERM_ROWS - 1;
    for (int r = 0; r < TERM_ROWS; r++)
        clear_cells(t, r, 0, TERM_COLS);
}

static void scroll_up(struct term_tile *t, int top, int n)
{
    for (; n > 0; n--) {
        memmove(t->cell[top], t->cell[top + 1], sizeof(t->cell[0]) * (size_t)(t->bottom - top));
        clear_cells(t, t->bottom, 0, TERM_COLS);
    }
}

static void scroll_down(struct term_tile *t, int top, int n)
{
    for (; n > 0; n--) {
        memmove(t->cell[top + 1], t->cell[top], sizeof(t->cell[0]) * (size_t)(t->bottom - top));
        clear_cells(t, top, 0, TERM_COLS);
    }
}

static void line_feed(struct term_tile *t)
{
    if (t->row == t->bottom)
        scroll_up(t, t->top, 1);
    else if (t->row < TERM_ROWS - 1)
        t->row++;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int param(const struct term_tile *t, int k, int dflt)
{
    return k < t->nparams && t->params[k] > 0 ? t->params[k] : dflt;
}

static void sgr(struct term_tile *t)
{
    if (t->nparams == 0) t->nparams = 1, t->params[0] = 0;
    for (int k = 0; k < t->nparams; k++) {
        int p = t->params[k];
        if (p == 0)
            t->fg = 7, t->bg = 0, t->bold = t->reverse = false;
        else if (p == 1)
            t->bold = true;
        else if (p == 22)
            t->bold = false;
        else if (p == 7)
            t->reverse = true;
        else if (p == 27)
            t->reverse = false;
        else if (p >= 30 && p <= 37)
            t->fg = (uint8_t)(p - 30);
        else if (p == 39)
            t->fg = 7;
        else if (p >= 40 && p <= 47)
            t->bg = (uint8_t)(p - 40);
        else if (p == 49)
            t->bg = 0;
        else if (p >= 90 && p <= 97)
            t->fg = (uint8_t)(p - 90 + 8);
        else if (p >= 100 && p <= 107)
            t->bg = (uint8_t)(p - 100 + 8);
    }
}

/* ANSI colour n to the VGA palette index (ANSI red is 1, VGA red is 4). */
static uint8_t vga_colour(uint8_t n)
{
    static const uint8_t map[8] = {0, 4, 2, 6, 1, 5, 3, 7};
    return (uint8_t)(map[n & 7] | (n & 8));
}

static void csi(struct term_tile *t, uint8_t final)
{
    int n = param(t, 0, 1);
    if (t->private_mode) return; /* ?25h/l cursor, ?1049h alternate screen...: ignored */
    switch (final) {
    case 'A': t->row = clampi(t->row - n, 0, TERM_ROWS - 1); break;
    case 'B': t->row = clampi(t->row + n, 0, TERM_ROWS - 1); break;
    case 'C': t->col = clampi(t->col + n, 0, TERM_COLS - 1); break;
    case 'D': t->col = clampi(t->col - n, 0, TERM_COLS - 1); break;
    case 'G': t->col = clampi(n - 1, 0, TERM_COLS - 1); break;
    case 'd': t->row = clampi(n - 1, 0, TERM_ROWS - 1); break;
    case 'H':
    case 'f':
        t->row = clampi(param(t, 0, 1) - 1, 0, TERM_ROWS - 1);
        t->col = clampi(param(t, 1, 1) - 1, 0, TERM_COLS - 1);
        break;
    case 'J': {
        int mode = t->nparams ? t->params[0] : 0;
        if (mode == 0) {
            clear_cells(t, t->row, t->col, TERM_COLS);
            for (int r = t->row + 1; r < TERM_ROWS; r++)
                clear_cells(t, r, 0, TERM_COLS);
        } else if (mode == 1) {
            clear_cells(t, t->row, 0, t->col + 1);
            for (int r = 0; r < t->row; r++)
                clear_cells(t, r, 0, TERM_COLS);
        } else {
            for (int r = 0; r < TERM_ROWS; r++)
                clear_cells(t, r, 0, TERM_COLS);
        }
        break;
    }
    case 'K': {
        int mode = t->nparams ? t->params[0] : 0;
        if (mode == 0)
            clear_cells(t, t->row, t->col, TERM_COLS);
        else if (mode == 1)
            clear_cells(t, t->row, 0, t->col + 1);
        else
            clear_cells(t, t->row, 0, TERM_COLS);
        break;
    }
    case 'L':
        if (t->row >= t->top && t->row <= t->bottom)
            scroll_down(t, t->row, clampi(n, 0, t->bottom - t->row + 1));
        break;
    case 'M':
        if (t->row >= t->top && t->row <= t->bottom)
            scroll_up(t, t->row, clampi(n, 0, t->bottom - t->row + 1));
        break;
    case '@': {
        n = clampi(n, 0, TERM_COLS - t->col);
        memmove(&t->cell[t->row][t->col + n], &t->cell[t->row][t->col],
                sizeof(struct term_cell) * (size_t)(TERM_COLS - t->col - n));
        clear_cells(t, t->row, t->col, t->col + n);
        break;
    }
    case 'P': {
        n = clampi(n, 0, TERM_COLS - t->col);
        memmove(&t->cell[t->row][t->col], &t->cell[t->row][t->col + n],
                sizeof(struct term_cell) * (size_t)(TERM_COLS - t->col - n));
        clear_cells(t, t->row, TERM_COLS - n, TERM_COLS);
        break;
    }
    case 'X': clear_cells(t, t->row, t->col, clampi(t->col + n, 0, TERM_COLS)); break;
    case 'r': {
        int top = param(t, 0, 1) - 1, bot = param(t, 1, TERM_ROWS) - 1;
        if (top >= 0 && bot < TERM_ROWS && top < bot) {
            t->top = top;
            t->bottom = bot;
            t->row = t->col = 0;
        }
        break;
    }
    case 'm': sgr(t); break;
    case 's': t->saved_row = t->row, t->saved_col = t->col; break;
    case 'u': t->row = t->saved_row, t->col = t->saved_col; break;
    default: break;
    }
    t->wrap_pending = false;
}

static void put_char(struct term_tile *t, uint8_t c)
{
    if (t->wrap_pending) {
        t->col = 0;
        line_feed(t);
        t->wrap_pending = false;
    }
    uint8_t fg = vga_colour(t->fg), bg = vga_colour(t->bg);
    if (t->bold) fg |= 8;
    if (t->reverse) {
        uint8_t x = fg;
        fg = bg;
        bg = x;
    }
    t->cell[t->row][t->col] = (struct term_cell){c, fg, bg};
    if (t->col == TERM_COLS - 1)
        t->wrap_pending = true;
    else
        t->col++;
}

static void feed_byte(struct term_tile *t, uint8_t b)
{
    switch (t->state) {
    case 1: /* after ESC */
        if (b == '[') {
            t->state = 2;
            t->nparams = 0;
            t->private_mode = false;
            memset(t->params, 0, sizeof(t->params));
            return;
        }
        t->state = 0;
        if (b == '7')
            t->saved_row = t->row, t->saved_col = t->col;
        else if (b == '8')
            t->row = t->saved_row, t->col = t->saved_col;
        else if (b == 'M') {
            if (t->row == t->top)
                scroll_down(t, t->top, 1);
            else if (t->row > 0)
                t->row--;
        } else if (b == 'D')
            line_feed(t);
        else if (b == 'c')
            term_init(t);
        else if (b == '(' || b == ')' || b == '#')
            t->state = 3;
        return;
    case 3: t->state = 0; return; /* the charset designator's byte */
    case 2:
        if (b >= '0' && b <= '9') {
            if (t->nparams == 0) t->nparams = 1;
            int *p = &t->params[t->nparams - 1];
            if (*p < 10000) *p = *p * 10 + (b - '0');
        } else if (b == ';') {
            if (t->nparams == 0) t->nparams = 1;
            if (t->nparams < 8) t->params[t->nparams++] = 0;
        } else if (b == '?' || b == '>' || b == '=') {
            t->private_mode = true;
        } else if (b >= 0x40 && b <= 0x7e) {
            t->state = 0;
            csi(t, b);
        } else if (b < 0x20 && b != 0x1b) {
            /* C0 controls inside a sequence act at once (VT100). */
        } else {
            t->state = 0;
        }
        return;
    default: break;
    }
    switch (b) {
    case 0x1b: t->state = 1; break;
    case '\r': t->col = 0, t->wrap_pending = false; break;
    case '\n':
    case 0x0b:
    case 0x0c: line_feed(t), t->wrap_pending = false; break;
    case '\b':
        if (t->col > 0) t->col--;
        t->wrap_pending = false;
        break;
    case '\t': t->col = clampi((t->col / 8 + 1) * 8, 0, TERM_COLS - 1); break;
    case 0x07: break;
    default:
        if (b >= 0x20) put_char(t, b);
        break;
    }
}

void term_feed(struct term_tile *t, const uint8_t *bytes, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        feed_byte(t, bytes[k]);
}

void term_render(const struct term_tile *t, const struct host_font *f, uint32_t *pix)
{
    const int w = TERM_COLS * FONT_W, h = TERM_ROWS * FONT_H;
    for (int r = 0; r < TERM_ROWS; r++)
        for (int c = 0; c < TERM_COLS; c++) {
            const struct term_cell *cell = &t->cell[r][c];
            uint32_t fg = palette[cell->fg & 15], bg = palette[cell->bg & 15];
            if (r == t->row && c == t->col) {
                uint32_t x = fg;
                fg = bg;
                bg = x;
            }
            host_font_cell(f, pix, w, w, h, c * FONT_W, r * FONT_H, cell->ch, fg, bg);
        }
}

void term_row_text(const struct term_tile *t, int r, char *out)
{
    for (int c = 0; c < TERM_COLS; c++)
        out[c] = (char)t->cell[r][c].ch;
    out[TERM_COLS] = 0;
}
