#include "display_sdl.h"

#include <SDL.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/vga.h"
#include "host_font.h"
#include "ps2_keymap.h"
#include "screenshot.h"
#include "term_tile.h"
#include "vmm/machine.h"
#include "vmm/scheduler.h"
#include "vmm/stats.h"
#include "vmm/ui_port.h"

#define FRAME_MS      33  /* rendering at most ~30 frames a second */
#define STATUS_PERIOD 0.5 /* seconds between status line updates */

struct tile {
    struct vm *vm;
    struct ui_port port;
    struct term_tile term;
    uint32_t *pix; /* the tile's picture: VGA_MAX_WIDTH * VGA_MAX_HEIGHT */
    int pw, ph;
    bool force_term, force_vga; /* Ctrl-Alt-T toggled the view */
    char status[160];
    uint64_t last_icount, last_exits, last_class[SC_CLASSES];
    int x, y, w, h; /* where it was drawn (window pixels) */
};

struct display {
    struct tile *tiles;
    int n, focus, zoom; /* zoom: -1 for the grid */
    struct host_font font;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    uint32_t *frame;
    int fw, fh, shots;
    bool captured, host_combo_used;
    bool ctrl, alt; /* held, from the key events */
    volatile int sched_done;
    struct vm **vms;
    int threads;
    volatile sig_atomic_t *stop;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool display_sdl_available(char *why, size_t len)
{
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    if ((!x || !*x) && (!wl || !*wl)) {
        snprintf(why, len, "neither DISPLAY nor WAYLAND_DISPLAY is set");
        return false;
    }
    if (SDL_Init(SDL_INIT_VIDEO) < 0) {
        snprintf(why, len, "SDL cannot open the display: %s", SDL_GetError());
        return false;
    }
    SDL_Quit();
    return true;
}

/* A serial-only guest: it wrote to COM1, and its VGA shows neither a
 * graphics mode nor a font (with --kernel there is no BIOS to load one). */
static bool shows_terminal(struct tile *t)
{
    if (t->force_term) return true;
    if (t->force_vga || !t->port.used_serial) return false;
    const struct vga *v = &t->vm->vga;
    if (!vga_text_mode(v)) return false;
    for (unsigned j = 0; j < 256 * 32; j++)
        if (v->vram[4 * j + 2]) return false;
    return true;
}

static const char *state_text(struct tile *t)
{
    enum vm_end e = __atomic_load_n(&t->vm->end, __ATOMIC_RELAXED);
    if (e != VM_END_NONE) return vm_end_text(e);
    if (ui_port_paused(&t->port)) return "paused";
    return "running";
}

static void update_status(struct display *d, double dt)
{
    for (int k = 0; k < d->n; k++) {
        struct tile *t = &d->tiles[k];
        struct vm *vm = t->vm;
        uint64_t ic = vm->cpu.icount, ex = stats_total_exits(&vm->vcpu.stats);
        uint64_t cls[SC_CLASSES];
        stats_by_class(&vm->vcpu.stats, cls);
        double mips = dt > 0 ? (double)(ic - t->last_icount) / dt / 1e6 : 0;
        double eps = dt > 0 ? (double)(ex - t->last_exits) / dt : 0;
        int len = snprintf(t->status, sizeof(t->status), "%s%s %s %s %.1f MIPS %.0f exits/s",
                           k == d->focus ? "*" : "", vm->cfg.name, vm_mode_name(vm->vcpu.mode),
                           state_text(t), mips, eps);
        for (int c = SC_PRIVILEGED; c < SC_CLASSES && len < (int)sizeof(t->status); c++) {
            uint64_t delta = cls[c] - t->last_class[c];
            if (delta && dt > 0)
                len += snprintf(t->status + len, sizeof(t->status) - (size_t)len, " %s %.0f/s",
                                stat_class_name(c), (double)delta / dt);
        }
        t->last_icount = ic;
        t->last_exits = ex;
        memcpy(t->last_class, cls, sizeof(cls));
    }
}

/* Nearest-neighbour scale of src (sw x sh) into the frame's rectangle,
 * centred with the aspect ratio kept. */
static void blit_scaled(struct display *d, const uint32_t *src, int sw, int sh, int stride, int x,
                        int y, int w, int h)
{
    if (sw <= 0 || sh <= 0 || w <= 0 || h <= 0) return;
    int dw = w, dh = (int)((long)sh * w / sw);
    if (dh > h) {
        dh = h;
        dw = (int)((long)sw * h / sh);
    }
    int ox = x + (w - dw) / 2, oy = y + (h - dh) / 2;
    for (int j = 0; j < dh; j++) {
        const uint32_t *row = src + (long)(j * sh / dh) * stride;
        uint32_t *out = d->frame + (long)(oy + j) * d->fw + ox;
        for (int i = 0; i < dw; i++)
            out[i] = row[(long)i * sw / dw];
    }
}

static void fill(struct display *d, int x, int y, int w, int h, uint32_t c)
{
    for (int j = y; j < y + h && j < d->fh; j++)
        for (int i = x; i < x + w && i < d->fw; i++)
            d->frame[(long)j * d->fw + i] = c;
}

static void draw_tile(struct display *d, int k, int x, int y, int w, int h)
{
    struct tile *t = &d->tiles[k];
    t->x = x, t->y = y, t->w = w, t->h = h;
    bool focused = k == d->focus;
    fill(d, x, y, w, h, focused ? 0xff3060a0 : 0xff303030);
    int ih = h - FONT_H - 2;
    if (shows_terminal(t)) {
        term_render(&t->term, &d->font, t->pix);
        blit_scaled(d, t->pix, TERM_COLS * FONT_W, TERM_ROWS * FONT_H, TERM_COLS * FONT_W, x + 1,
                    y + 1, w - 2, ih - 1);
    } else {
        vga_render(&t->vm->vga, t->pix, &t->pw, &t->ph);
        blit_scaled(d, t->pix, t->pw, t->ph, t->pw, x + 1, y + 1, w - 2, ih - 1);
    }
    fill(d, x, y + h - FONT_H - 1, w, FONT_H + 1, focused ? 0xff204070 : 0xff202020);
    host_font_text(&d->font, d->frame, d->fw, x + w, d->fh, x + 2, y + h - FONT_H, t->status,
                   0xffffffff, focused ? 0xff204070 : 0xff202020);
}

static void draw(struct display *d)
{
    int w, h;
    SDL_GetRendererOutputSize(d->ren, &w, &h);
    if (w != d->fw || h != d->fh || !d->frame) {
        free(d->frame);
        if (d->tex) SDL_DestroyTexture(d->tex);
        d->fw = w, d->fh = h;
        d->frame = calloc((size_t)w * (size_t)h, sizeof(uint32_t));
        d->tex =
            SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
        if (!d->frame || !d->tex) return;
    }
    fill(d, 0, 0, w, h, 0xff101010);
    if (d->zoom >= 0) {
        draw_tile(d, d->zoom, 0, 0, w, h);
        for (int k = 0; k < d->n; k++)
            if (k != d->zoom) d->tiles[k].w = 0; /* hidden: not clickable */
    } else {
        int cols = 1;
        while (cols * cols < d->n)
            cols++;
        int rows = (d->n + cols - 1) / cols;
        for (int k = 0; k < d->n; k++)
            draw_tile(d, k, (k % cols) * w / cols, (k / cols) * h / rows, w / cols, h / rows);
    }
    SDL_UpdateTexture(d->tex, NULL, d->frame, d->fw * (int)sizeof(uint32_t));
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    SDL_RenderPresent(d->ren);
}

static void save_png(const char *path, const uint32_t *pix, int w, int h)
{
    char err[300];
    if (screenshot_write_png(path, pix, w, h, w, err, sizeof(err)) < 0)
        fprintf(stderr, "trapeze: %s\n", err);
    else
        fprintf(stderr, "trapeze: screenshot saved to %s\n", path);
}

/* The whole window as shown (trapeze-screen-N.png) and the focused VM's
 * screen at its own resolution, unscaled (trapeze-NAME-N.png). */
static void screenshot(struct display *d)
{
    char path[128];
    struct tile *t = &d->tiles[d->focus];
    int n = d->shots++;
    snprintf(path, sizeof(path), "trapeze-screen-%d.png", n);
    save_png(path, d->frame, d->fw, d->fh);
    snprintf(path, sizeof(path), "trapeze-%.60s-%d.png", t->vm->cfg.name, n);
    if (shows_terminal(t)) {
        term_render(&t->term, &d->font, t->pix);
        save_png(path, t->pix, TERM_COLS * FONT_W, TERM_ROWS * FONT_H);
    } else {
        vga_render(&t->vm->vga, t->pix, &t->pw, &t->ph);
        save_png(path, t->pix, t->pw, t->ph);
    }
}

static void set_capture(struct display *d, bool on)
{
    d->captured = on;
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowTitle(d->win, on ? "trapeze (mouse captured: Ctrl+Alt releases)"
                                  : "trapeze (Ctrl+Alt+H: help)");
}

static void help(void)
{
    fprintf(stderr, "trapeze window: Ctrl+Alt+ P pause/resume, R reset, S screenshot, W snapshot (--save-state), "
                    "Tab/N next VM, Z or Enter zoom, M capture mouse (Ctrl+Alt releases), "
                    "T terminal/VGA view, Q quit\n");
}

/* Ctrl+Alt+key: the window's commands. Returns true when the key was one. */
static bool host_command(struct display *d, SDL_Keycode sym)
{
    struct tile *t = &d->tiles[d->focus];
    switch (sym) {
    case SDLK_p: ui_port_set_paused(&t->port, !ui_port_paused(&t->port)); break;
    case SDLK_r: ui_port_request_reset(&t->port); break;
    case SDLK_s: screenshot(d); break;
    case SDLK_w: ui_port_request_save(&t->port); break; /* --save-state's file */
    case SDLK_TAB:
    case SDLK_n:
        d->focus = (d->focus + 1) % d->n;
        if (d->zoom >= 0) d->zoom = d->focus;
        break;
    case SDLK_z:
    case SDLK_RETURN: d->zoom = d->zoom >= 0 ? -1 : d->focus; break;
    case SDLK_m: set_capture(d, true); break;
    case SDLK_t:
        if (shows_terminal(t))
            t->force_term = false, t->force_vga = true;
        else
            t->force_term = true, t->force_vga = false;
        break;
    case SDLK_q: *d->stop = 1; break;
    case SDLK_h: help(); break;
    default: return false;
    }
    return true;
}

static void key_event(struct display *d, const SDL_KeyboardEvent *k)
{
    struct tile *t = &d->tiles[d->focus];
    SDL_Scancode sc = k->keysym.scancode;
    bool down = k->type == SDL_KEYDOWN;
    /* The modifiers as the key events say (SDL's own state can lag behind
     * the first events after the window gains focus). */
    if (sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL)
        d->ctrl = down;
    bool is_alt = sc == SDL_SCANCODE_LALT || sc == SDL_SCANCODE_RALT;
    if (is_alt)
        d->alt = down;
    bool modifier = is_alt || sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL;
    if (down && d->ctrl && d->alt && !modifier) {
        if (host_command(d, k->keysym.sym)) {
            d->host_combo_used = true;
            return; /* never reaches the guest */
        }
    }
    if (modifier && down && d->ctrl && d->alt)
        d->host_combo_used = false;
    if (modifier && !down && d->captured && !d->host_combo_used && (d->ctrl || d->alt))
        set_capture(d, false); /* Ctrl+Alt pressed and released alone */
    if (shows_terminal(t)) {
        uint8_t b[4];
        int n = down ? vt100_key_bytes(k, b) : 0;
        if (n)
            ui_port_serial_in(&t->port, b, n);
        return;
    }
    uint8_t b[3];
    int n = ps2_set2_bytes(sc, !down, b);
    if (n)
        ui_port_key(&t->port, b, n);
}

static int tile_at(struct display *d, int x, int y)
{
    int ww, wh;
    SDL_GetWindowSize(d->win, &ww, &wh);
    if (ww > 0 && wh > 0) x = x * d->fw / ww, y = y * d->fh / wh;
    for (int k = 0; k < d->n; k++) {
        struct tile *t = &d->tiles[k];
        if (t->w && x >= t->x && x < t->x + t->w && y >= t->y && y < t->y + t->h) return k;
    }
    return -1;
}

static uint8_t mouse_buttons(void)
{
    uint32_t s = SDL_GetMouseState(NULL, NULL);
    return (uint8_t)(((s & SDL_BUTTON_LMASK) ? 1 : 0) | ((s & SDL_BUTTON_RMASK) ? 2 : 0) |
                     ((s & SDL_BUTTON_MMASK) ? 4 : 0));
}

static void event(struct display *d, const SDL_Event *e)
{
    struct tile *t = &d->tiles[d->focus];
    switch (e->type) {
    case SDL_QUIT: *d->stop = 1; break;
    case SDL_KEYDOWN:
    case SDL_KEYUP: key_event(d, &e->key); break;
    case SDL_TEXTINPUT:
        if (shows_terminal(t) && !d->ctrl && !d->alt)
            ui_port_serial_in(&t->port, (const uint8_t *)e->text.text, (int)strlen(e->text.text));
        break;
    case SDL_MOUSEMOTION:
        if (d->captured)
            ui_port_mouse(&t->port, e->motion.xrel, -e->motion.yrel, 0, mouse_buttons());
        break;
    case SDL_MOUSEWHEEL:
        if (d->captured) ui_port_mouse(&t->port, 0, 0, -e->wheel.y, mouse_buttons());
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        if (d->captured) {
            ui_port_mouse(&t->port, 0, 0, 0, mouse_buttons());
        } else if (e->type == SDL_MOUSEBUTTONDOWN) {
            int k = tile_at(d, e->button.x, e->button.y);
            if (k >= 0) {
                d->focus = k;
                if (e->button.clicks >= 2)
                    d->zoom = d->zoom >= 0 ? -1 : k; /* double click: zoom and back */
            }
        }
        break;
    default: break;
    }
}

static void *sched_thread(void *arg)
{
    struct display *d = arg;
    if (sched_run(d->vms, d->n, d->threads, d->stop) < 0)
        fprintf(stderr, "trapeze: cannot start the scheduler's threads\n");
    __atomic_store_n(&d->sched_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void drain_serial(struct display *d)
{
    uint8_t buf[4096];
    for (int k = 0; k < d->n; k++) {
        struct tile *t = &d->tiles[k];
        /* At most a few buffers a frame: a flooding guest costs the window a
         * bounded time, the ring drops what the tile cannot show. */
        for (int r = 0; r < 4; r++) {
            unsigned n = ui_port_take_output(&t->port, buf, sizeof(buf));
            term_feed(&t->term, buf, n);
            if (n < sizeof(buf)) break;
        }
    }
}

int display_sdl_run(struct vm **vms, int n, int threads, volatile sig_atomic_t *stop)
{
    struct display *d = calloc(1, sizeof(*d));
    char err[300];
    int status = -1;
    if (!d) return -1;
    d->vms = vms, d->n = n, d->threads = threads, d->stop = stop, d->zoom = -1;
    d->tiles = calloc((size_t)n, sizeof(*d->tiles));
    if (!d->tiles) goto out;
    if (host_font_load(&d->font, err, sizeof(err)) < 0) {
        fprintf(stderr, "trapeze: --display sdl: %s\n", err);
        goto out;
    }
    for (int k = 0; k < n; k++) {
        struct tile *t = &d->tiles[k];
        t->vm = vms[k];
        t->pix = malloc((size_t)VGA_MAX_WIDTH * VGA_MAX_HEIGHT * sizeof(uint32_t));
        if (!t->pix) goto out;
        ui_port_init(&t->port);
        term_init(&t->term);
        vms[k]->ui = &t->port;
        vms[k]->serial_out.tap = ui_port_tap;
        vms[k]->serial_out.tap_ctx = &t->port;
        console_input_close(&vms[k]->input); /* keys come from the window */
    }
    if (SDL_Init(SDL_INIT_VIDEO) < 0) {
        fprintf(stderr, "trapeze: --display sdl: cannot start SDL: %s\n", SDL_GetError());
        goto out;
    }
    int cols = 1;
    while (cols * cols < n)
        cols++;
    int rows = (n + cols - 1) / cols;
    d->win = SDL_CreateWindow("trapeze (Ctrl+Alt+H: help)", SDL_WINDOWPOS_UNDEFINED,
                              SDL_WINDOWPOS_UNDEFINED, cols * 660, rows * (420 + FONT_H),
                              SDL_WINDOW_RESIZABLE);
    d->ren = d->win ? SDL_CreateRenderer(d->win, -1, 0) : NULL;
    if (!d->ren) {
        fprintf(stderr, "trapeze: --display sdl: cannot open the window: %s\n", SDL_GetError());
        goto quit;
    }
    SDL_StartTextInput();
    pthread_t th;
    if (pthread_create(&th, NULL, sched_thread, d) != 0) {
        fprintf(stderr, "trapeze: cannot start the scheduler's thread\n");
        goto quit;
    }
    double last_status = now_s();
    update_status(d, 0);
    while (!__atomic_load_n(&d->sched_done, __ATOMIC_ACQUIRE)) {
        SDL_Event e;
        if (SDL_WaitEventTimeout(&e, FRAME_MS)) {
            event(d, &e);
            while (SDL_PollEvent(&e))
                event(d, &e);
        }
        double t = now_s();
        if (t - last_status >= STATUS_PERIOD) {
            update_status(d, t - last_status);
            last_status = t;
        }
        drain_serial(d);
        draw(d);
    }
    pthread_join(th, NULL);
    status = 0;
quit:
    if (d->tex) SDL_DestroyTexture(d->tex);
    if (d->ren) SDL_DestroyRenderer(d->ren);
    if (d->win) SDL_DestroyWindow(d->win);
    SDL_Quit();
out:
    if (d->tiles)
        for (int k = 0; k < n; k++) {
            if (d->tiles[k].vm) {
                vms[k]->ui = NULL;
                vms[k]->serial_out.tap = NULL;
                ui_port_free(&d->tiles[k].port);
            }
            free(d->tiles[k].pix);
        }
    free(d->tiles);
    free(d->frame);
    free(d);
    return status;
}
