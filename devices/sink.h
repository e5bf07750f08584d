/*
 * An output sink: where a device's bytes go (a serial port's transmitter,
 * the debug console). Opened from the command line's spec:
 *   "stdio"      the process's standard output
 *   "file:PATH"  PATH, created or truncated
 *   "none"       discarded
 * Bytes are buffered by stdio; stdout is flushed at each newline so a guest's
 * console reads like a terminal, files only when the sink is flushed/closed.
 */
#ifndef TRAPEZE_DEVICES_SINK_H
#define TRAPEZE_DEVICES_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sink {
    FILE *f;         /* NULL: discard */
    bool owned;      /* fclose() on sink_close */
    bool line_flush; /* fflush at '\n' (terminals, stdout) */
    bool failed;     /* a write failed (disk full...): reported once at close */
    char path[256];  /* for messages */
    /* Prefixed sinks (several VMs on one stdout): whole lines, each written
     * as prefix + line under the stream's lock, so lines from different
     * threads never mix. A line longer than the buffer is cut in pieces,
     * each with the prefix. */
    char prefix[40]; /* "" for none */
    char line[256];
    unsigned len;
    /* A copy of every byte to tap(tap_ctx, byte), or NULL (the window's
     * terminal tile, vmm/ui_port.h); called on the writer's thread. */
    void (*tap)(void *ctx, uint8_t byte);
    void *tap_ctx;
};

/* Makes s prefix every line with "[name] " (s must be open on a stream). */
void sink_set_prefix(struct sink *s, const char *name);
void sink_put_prefixed(struct sink *s, uint8_t byte);

/*
 * Opens spec for the output called 'what' ("--serial", "--debugcon").
 * Returns 0, or -1 with a message naming the option and the path in err.
 */
int sink_open(struct sink *s, const char *spec, const char *what, char *err, size_t errlen);

/* A sink on an already-open stream (tests: open_memstream, tmpfile). */
void sink_init_stream(struct sink *s, FILE *f, bool owned);

static inline void sink_put(struct sink *s, uint8_t byte)
{
    if (s->tap)
        s->tap(s->tap_ctx, byte);
    if (!s->f)
        return;
    if (s->prefix[0]) {
        sink_put_prefixed(s, byte);
        return;
    }
    if (putc(byte, s->f) == EOF)
        s->failed = true;
    if (s->line_flush && byte == '\n')
        fflush(s->f);
}

void sink_flush(struct sink *s);
/* Closes (or flushes, when not owned). Returns -1 if any write failed. */
int sink_close(struct sink *s);

#endif
