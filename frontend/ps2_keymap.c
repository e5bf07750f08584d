#include "ps2_keymap.h"

/* Set 2 make codes; bit 8 set: E0-prefixed. 0: no such key. */
static uint16_t set2_code(SDL_Scancode sc)
{
    static const uint8_t letters[26] = {0x1C, 0x32, 0x21, 0x23, 0x24, 0x2B, 0x34, 0x33, 0x43,
                                        0x3B, 0x42, 0x4B, 0x3A, 0x31, 0x44, 0x4D, 0x15, 0x2D,
                                        0x1B, 0x2C, 0x3C, 0x2A, 0x1D, 0x22, 0x35, 0x1A};
    static const uint8_t digits[10] = {0x16, 0x1E, 0x26, 0x25, 0x2E,
                                       0x36, 0x3D, 0x3E, 0x46, 0x45}; /* 1..9, 0 */
    static const uint8_t fkeys[12] = {0x05, 0x06, 0x04, 0x0C, 0x03, 0x0B,
                                      0x83, 0x0A, 0x01, 0x09, 0x78, 0x07};
    if (sc >= SDL_SCANCODE_A && sc <= SDL_SCANCODE_Z) return letters[sc - SDL_SCANCODE_A];
    if (sc >= SDL_SCANCODE_1 && sc <= SDL_SCANCODE_0) return digits[sc - SDL_SCANCODE_1];
    if (sc >= SDL_SCANCODE_F1 && sc <= SDL_SCANCODE_F12) return fkeys[sc - SDL_SCANCODE_F1];
    switch (sc) {
    case SDL_SCANCODE_RETURN: return 0x5A;
    case SDL_SCANCODE_ESCAPE: return 0x76;
    case SDL_SCANCODE_BACKSPACE: return 0x66;
    case SDL_SCANCODE_TAB: return 0x0D;
    case SDL_SCANCODE_SPACE: return 0x29;
    case SDL_SCANCODE_MINUS: return 0x4E;
    case SDL_SCANCODE_EQUALS: return 0x55;
    case SDL_SCANCODE_LEFTBRACKET: return 0x54;
    case SDL_SCANCODE_RIGHTBRACKET: return 0x5B;
    case SDL_SCANCODE_BACKSLASH: return 0x5D;
    case SDL_SCANCODE_SEMICOLON: return 0x4C;
    case SDL_SCANCODE_APOSTROPHE: return 0x52;
    case SDL_SCANCODE_GRAVE: return 0x0E;
    case SDL_SCANCODE_COMMA: return 0x41;
    case SDL_SCANCODE_PERIOD: return 0x49;
    case SDL_SCANCODE_SLASH: return 0x4A;
    case SDL_SCANCODE_CAPSLOCK: return 0x58;
    case SDL_SCANCODE_LSHIFT: return 0x12;
    case SDL_SCANCODE_RSHIFT: return 0x59;
    case SDL_SCANCODE_LCTRL: return 0x14;
    case SDL_SCANCODE_LALT: return 0x11;
    case SDL_SCANCODE_RCTRL: return 0x114;
    case SDL_SCANCODE_RALT: return 0x111;
    case SDL_SCANCODE_UP: return 0x175;
    case SDL_SCANCODE_DOWN: return 0x172;
    case SDL_SCANCODE_LEFT: return 0x16B;
    case SDL_SCANCODE_RIGHT: return 0x174;
    case SDL_SCANCODE_HOME: return 0x16C;
    case SDL_SCANCODE_END: return 0x169;
    case SDL_SCANCODE_PAGEUP: return 0x17D;
    case SDL_SCANCODE_PAGEDOWN: return 0x17A;
    case SDL_SCANCODE_INSERT: return 0x170;
    case SDL_SCANCODE_DELETE: return 0x171;
    case SDL_SCANCODE_NUMLOCKCLEAR: return 0x77;
    case SDL_SCANCODE_SCROLLLOCK: return 0x7E;
    case SDL_SCANCODE_KP_DIVIDE: return 0x14A;
    case SDL_SCANCODE_KP_MULTIPLY: return 0x7C;
    case SDL_SCANCODE_KP_MINUS: return 0x7B;
    case SDL_SCANCODE_KP_PLUS: return 0x79;
    case SDL_SCANCODE_KP_ENTER: return 0x15A;
    case SDL_SCANCODE_KP_1: return 0x69;
    case SDL_SCANCODE_KP_2: return 0x72;
    case SDL_SCANCODE_KP_3: return 0x7A;
    case SDL_SCANCODE_KP_4: return 0x6B;
    case SDL_SCANCODE_KP_5: return 0x73;
    case SDL_SCANCODE_KP_6: return 0x74;
    case SDL_SCANCODE_KP_7: return 0x6C;
    case SDL_SCANCODE_KP_8: return 0x75;
    case SDL_SCANCODE_KP_9: return 0x7D;
    case SDL_SCANCODE_KP_0: return 0x70;
    case SDL_SCANCODE_KP_PERIOD: return 0x71;
    default: return 0;
    }
}

int ps2_set2_bytes(SDL_Scancode sc, bool release, uint8_t *out)
{
    uint16_t code = set2_code(sc);
    int n = 0;
    if (!code) return 0;
    if (code & 0x100) out[n++] = 0xE0;
    if (release) out[n++] = 0xF0;
    out[n++] = (uint8_t)code;
    return n;
}

int vt100_key_bytes(const SDL_KeyboardEvent *k, uint8_t *out)
{
    SDL_Keycode sym = k->keysym.sym;
    if ((k->keysym.mod & KMOD_CTRL) && sym >= SDLK_a && sym <= SDLK_z) {
        out[0] = (uint8_t)(sym - SDLK_a + 1);
        return 1;
    }
    const char *seq = NULL;
    switch (sym) {
    case SDLK_RETURN:
    case SDLK_KP_ENTER: seq = "\r"; break;
    case SDLK_BACKSPACE: seq = "\x7f"; break;
    case SDLK_TAB: seq = "\t"; break;
    case SDLK_ESCAPE: seq = "\x1b"; break;
    case SDLK_UP: seq = "\x1b[A"; break;
    case SDLK_DOWN: seq = "\x1b[B"; break;
    case SDLK_RIGHT: seq = "\x1b[C"; break;
    case SDLK_LEFT: seq = "\x1b[D"; break;
    case SDLK_HOME: seq = "\x1b[H"; break;
    case SDLK_END: seq = "\x1b[F"; break;
    case SDLK_DELETE: seq = "\x1b[3~"; break;
    default: return 0;
    }
    int n = 0;
    while (seq[n])
        out[n] = (uint8_t)seq[n], n++;
    return n;
}
