/* SDL key events to PS/2 scan code set 2 (the i8042 translates to set 1
 * when the guest asks for it) and to the bytes a serial terminal sends. */
#ifndef TRAPEZE_FRONTEND_PS2_KEYMAP_H
#define TRAPEZE_FRONTEND_PS2_KEYMAP_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

/* Writes the set 2 bytes of a press (release: with F0) of sc to out (room
 * for 3); returns the count, 0 for a key the PS/2 keyboard lacks. */
int ps2_set2_bytes(SDL_Scancode sc, bool release, uint8_t *out);

/* The bytes a VT100 sends for a non-text key press (Enter, arrows, Ctrl-X);
 * returns the count (room for 4), 0 when the key is text (SDL_TEXTINPUT
 * sends it) or has no terminal meaning. */
int vt100_key_bytes(const SDL_KeyboardEvent *k, uint8_t *out);

#endif
