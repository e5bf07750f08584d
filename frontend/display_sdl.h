/*
 * The desktop window (README.md, "The window"): one SDL2 window with a tile
 * per VM, each the VM's VGA screen or, for a serial-only guest, a terminal
 * fed from COM1, under a status line (name, mode, state, MIPS, exits/s).
 * Window commands are Ctrl+Alt+key and never reach the guest.
 */
#ifndef TRAPEZE_FRONTEND_DISPLAY_SDL_H
#define TRAPEZE_FRONTEND_DISPLAY_SDL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;

/* True when a display can be opened ($DISPLAY or $WAYLAND_DISPLAY set and
 * SDL's video starts); otherwise false with the reason in why. */
bool display_sdl_available(char *why, size_t len);

/*
 * Runs vms[0..n) on the scheduler's threads while the calling thread shows
 * the window; returns when every VM has ended (or the window was closed:
 * the VMs are stopped through *stop). Returns 0, or -1 with a message on
 * stderr when the window or the scheduler could not start.
 */
int display_sdl_run(struct vm **vms, int n, int threads, volatile sig_atomic_t *stop);

#endif
