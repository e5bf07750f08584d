/* Output sinks for devices (see sink.h). */
#include "sink.h"

#include <errno.h>
#include <string.h>

int sink_open(struct sink *s, const char *spec, const char *what, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!strcmp(spec, "none"))
        return 0;
    if (!strcmp(spec, "stdio")) {
        s->f = stdout;
        s->line_flush = true;
        snprintf(s->path, sizeof(s->path), "stdout");
        return 0;
    }
    if (!strncmp(spec, "file:", 5)) {
        const char *path = spec + 5;
        if (!*path) {
            snprintf(err, errlen, "%s file:PATH: the path is empty", what);
            return -1;
        }
        s->f = fopen(path, "wb");
        if (!s->f) {
            snprintf(err, errlen, "%s: cannot open '%s' for writing: %s", what, path,
                     strerror(errno));
            return -1;
        }
        s->owned = true;
        snprintf(s->path, sizeof(s->path), "%s", path);
        return 0;
    }
    snprintf(err, errlen, "%s: '%s' is not stdio, file:PATH or none", what, spec);
    return -1;
}

void sink_init_stream(struct sink *s, FILE *f, bool owned)
{
    memset(s, 0, sizeof(*s));
    s->f = f;
    s->owned = owned;
    snprintf(s->path, sizeof(s->path), "stream");
}

void sink_set_prefix(struct sink *s, const char *name)
{
    snprintf(s->prefix, sizeof(s->prefix), "[%s] ", name);
    s->len = 0;
}

/* Writes the buffered line with its prefix, atomically with respect to
 * other writers of the same stream (stdio's per-stream lock). */
static void emit_line(struct sink *s)
{
    flockfile(s->f);
    if (fputs(s->prefix, s->f) == EOF || fwrite(s->line, 1, s->len, s->f) != s->len)
        s->failed = true;
    if (s->line[s->len - 1] != '\n' && putc('\n', s->f) == EOF)
        s->failed = true;
    if (fflush(s->f) == EOF)
        s->failed = true;
    funlockfile(s->f);
    s->len = 0;
}

void sink_put_prefixed(struct sink *s, uint8_t byte)
{
    s->line[s->len++] = (char)byte;
    if (byte == '\n' || s->len == sizeof(s->line))
        emit_line(s);
}

void sink_flush(struct sink *s)
{
    if (s->f && fflush(s->f) == EOF)
        s->failed = true;
}

int sink_close(struct sink *s)
{
    if (!s->f)
        return s->failed ? -1 : 0;
    if (s->prefix[0] && s->len)
        emit_line(s); /* the last, unfinished line, ended with a newline */
    if (s->owned) {
        if (fclose(s->f) == EOF)
            s->failed = true;
    } else {
        sink_flush(s);
    }
    s->f = NULL;
    return s->failed ? -1 : 0;
}
