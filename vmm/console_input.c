/* Serial console input from a terminal or a pipe (see console_input.h). */
#include "console_input.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void console_input_open(struct console_input *ci, int fd)
{
    memset(ci, 0, sizeof(*ci));
    ci->fd = fd;
    if (fd < 0)
        return;
    ci->tty = isatty(fd);
    if (ci->tty && tcgetattr(fd, &ci->saved) == 0) {
        struct termios raw = ci->saved;
        raw.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        raw.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(fd, TCSANOW, &raw) == 0)
            ci->raw_set = true;
    }
}

void console_input_close(struct console_input *ci)
{
    if (ci->raw_set)
        tcsetattr(ci->fd, TCSANOW, &ci->saved);
    ci->raw_set = false;
    ci->fd = -1;
}

/* Applies the Ctrl-A escapes to one input byte, appending what the guest
 * should receive to pend. */
static void take(struct console_input *ci, uint8_t b)
{
    if (ci->escape) {
        ci->escape = false;
        if (b == 'x' || b == 'X') {
            ci->quit = true;
            return;
        }
        if (b == 's' || b == 'S') {
            ci->stats = true;
            return;
        }
        if (b == 'w' || b == 'W') {
            ci->save = true;
            return;
        }
        if (b != 0x01 && ci->npend < sizeof(ci->pend))
            ci->pend[ci->npend++] = 0x01;
    } else if (b == 0x01) {
        ci->escape = true;
        return;
    }
    if (ci->npend < sizeof(ci->pend))
        ci->pend[ci->npend++] = b;
}

static void feed(struct console_input *ci, struct uart16550 *u)
{
    unsigned k = 0;
    while (k < ci->npend && u->rx_count < UART_FIFO_SIZE)
        uart_receive(u, ci->pend[k++]);
    memmove(ci->pend, ci->pend + k, ci->npend - k);
    ci->npend -= k;
}

bool console_input_pump(struct console_input *ci, struct uart16550 *u, int timeout_ms)
{
    feed(ci, u);
    /* Read only when everything read so far has been accepted: the guest's
     * pace is the flow control, as a real terminal line would be. */
    if (ci->fd >= 0 && ci->npend == 0) {
        struct pollfd p = {ci->fd, POLLIN, 0};
        int r = poll(&p, 1, timeout_ms);
        if (r > 0) {
            uint8_t buf[64];
            ssize_t n = read(ci->fd, buf, sizeof(buf));
            if (n > 0) {
                for (ssize_t k = 0; k < n; k++)
                    take(ci, buf[k]);
                feed(ci, u);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                console_input_close(ci); /* end of input: the guest just gets no more */
            }
        }
    }
    return ci->fd >= 0 || ci->npend > 0;
}
