/*
 * Keyboard input for a serial console on the terminal (or a pipe): bytes
 * read from a file descriptor are fed to a UART's receiver as its FIFO has
 * room. On a terminal the descriptor is put in raw mode for the run (no
 * echo, no line editing, Ctrl-C goes to the guest) and restored after.
 *
 * Escape sequences, as in QEMU's -nographic: Ctrl-A x ends the run,
 * Ctrl-A s prints the VM's statistics on stderr (the run goes on),
 * Ctrl-A w writes a snapshot to --save-state's file (the run goes on),
 * Ctrl-A Ctrl-A sends one Ctrl-A to the guest; any other byte after
 * Ctrl-A is passed through with it.
 */
#ifndef TRAPEZE_VMM_CONSOLE_INPUT_H
#define TRAPEZE_VMM_CONSOLE_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "../devices/uart16550.h"

struct console_input {
    int fd;            /* -1: no input (closed or at end of file) */
    bool tty;
    bool raw_set;
    struct termios saved;
    bool escape;       /* last byte was Ctrl-A */
    bool quit;         /* Ctrl-A x seen */
    bool stats;        /* Ctrl-A s seen, not yet served */
    bool save;         /* Ctrl-A w seen, not yet served */
    uint8_t pend[256]; /* read but not yet accepted by the UART */
    unsigned npend;
};

void console_input_open(struct console_input *ci, int fd);
void console_input_close(struct console_input *ci);
/* Waits up to timeout_ms (0: just look) for input, reads what is there and
 * moves as much as fits into the UART. Returns true when input may still
 * come (the descriptor is open, or bytes are pending). */
bool console_input_pump(struct console_input *ci, struct uart16550 *u, int timeout_ms);

#endif
