/* VM specification parsing (see vmspec.h). */
#include "vmspec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"name", "mode",  "memory", "kernel", "initrd", "append",
                                   "hda",  "cdrom", "boot",   "bios",   "serial", "debugcon",
                                   "trace_exits", "gdb", "save_state"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int key_index(const char *k)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i], k)) return (int)i;
    return -1;
}

static bool valid_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return false;
    return true;
}

static bool valid_sink(const char *s)
{
    return !strcmp(s, "stdio") || !strcmp(s, "none") || (!strncmp(s, "file:", 5) && s[5]);
}

/* Checks one key's value and stores it in cfg. */
static int set_key(struct vm_config *cfg, const char *key, char *val, const char *origin, char *err,
                   size_t errlen)
{
#define BAD(...)                                                                                   \
    do {                                                                                           \
        int o_ = snprintf(err, errlen, "%s: %s '%s': ", origin, key, val);                         \
        if (o_ >= 0 && (size_t)o_ < errlen) snprintf(err + o_, errlen - (size_t)o_, __VA_ARGS__);  \
        return -1;                                                                                 \
    } while (0)
    if (!strcmp(key, "name")) {
        if (!valid_name(val)) BAD("expected letters, digits, '_', '-' or '.'");
        cfg->name = val;
    } else if (!strcmp(key, "mode")) {
        if (vm_mode_parse(val, &cfg->mode) < 0) BAD("expected emulate, trap, vmm or paravirt");
    } else if (!strcmp(key, "memory")) {
        char *end;
        errno = 0;
        unsigned long long n = isdigit((unsigned char)val[0]) ? strtoull(val, &end, 10) : 0;
        if (!isdigit((unsigned char)val[0]) || errno || *end || n < VM_MIN_MEMORY_MIB ||
            n > VM_MAX_MEMORY_MIB)
            BAD("expected a whole number of MiB from %u to %u", VM_MIN_MEMORY_MIB,
                VM_MAX_MEMORY_MIB);
        cfg->memory_mib = (uint32_t)n;
    } else if (!strcmp(key, "boot")) {
        if (strcmp(val, "c") && strcmp(val, "d") && strcmp(val, "cd") && strcmp(val, "dc"))
            BAD("expected c (hard disk), d (CD-ROM), cd or dc");
        cfg->boot = val;
    } else if (!strcmp(key, "serial") || !strcmp(key, "debugcon")) {
        if (!valid_sink(val)) BAD("expected stdio, file:PATH or none");
        *(!strcmp(key, "serial") ? &cfg->serial : &cfg->debugcon) = val;
    } else if (!strcmp(key, "append")) {
        cfg->append = val; /* may be empty */
    } else {
        if (!*val) BAD("expected a file name");
        if (!strcmp(key, "kernel"))
            cfg->kernel = val;
        else if (!strcmp(key, "initrd"))
            cfg->initrd = val;
        else if (!strcmp(key, "hda"))
            cfg->hda = val;
        else if (!strcmp(key, "cdrom"))
            cfg->cdrom = val;
        else if (!strcmp(key, "save_state"))
            cfg->save_state = val;
        else if (!strcmp(key, "trace_exits"))
            cfg->trace_exits = val;
        else
            cfg->bios = val;
    }
    return 0;
#undef BAD
}

int vmspec_parse(const char *text, const char *origin, int index, struct vm_spec *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(text);
    /* Decoded "key\0value\0" pairs take at most len + 1 bytes; the default
     * name follows them. */
    char *buf = malloc(len + 1 + 24);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct vm_config *cfg = &out->cfg;
    char *defname = buf + len + 1;
    snprintf(defname, 24, "vm%d", index);
    *cfg = (struct vm_config){.name = defname,
                              .memory_mib = VM_DEFAULT_MEMORY_MIB,
                              .serial = "stdio",
                              .debugcon = "stdio"};
    bool seen[NKEYS] = {false};
    if (!*text) {
        snprintf(err, errlen, "%s: empty VM specification", origin);
        goto fail;
    }
    const char *p = text;
    char *w = buf;
    while (*p) {
        /* One item: up to a single comma; ",," is a comma. */
        char *item = w, *eq = NULL;
        for (; *p; p++) {
            if (*p == ',') {
                if (p[1] != ',') break;
                p++;
            } else if (*p == '=' && !eq) {
                eq = w;
            }
            *w++ = *p;
        }
        *w++ = '\0';
        if (*p == ',') {
            p++;
            if (!*p) {
                snprintf(err, errlen, "%s: trailing comma (a comma in a value is written ',,')",
                         origin);
                goto fail;
            }
        }
        if (!eq) {
            snprintf(err, errlen, "%s: '%s': expected key=value", origin, item);
            goto fail;
        }
        *eq = '\0';
        char *val = eq + 1;
        int k = key_index(item);
        if (k < 0) {
            snprintf(err, errlen,
                     "%s: unknown key '%s' (keys: name, mode, memory, kernel, initrd, append, "
                     "hda, cdrom, boot, bios, serial, debugcon, trace_exits, gdb, save_state)",
                     origin, item);
            goto fail;
        }
        if (seen[k]) {
            snprintf(err, errlen, "%s: %s given twice", origin, item);
            goto fail;
        }
        seen[k] = true;
        if (!strcmp(item, "gdb")) { /* the frontend's, not the VM's (frontend/gdbstub.c) */
            if (strncmp(val, "tcp:", 4)) {
                snprintf(err, errlen, "%s: gdb '%s': expected tcp::PORT", origin, val);
                goto fail;
            }
            out->gdb = val;
        } else if (set_key(cfg, item, val, origin, err, errlen) < 0)
            goto fail;
    }
    /* The single-VM run's cross-checks, per VM. */
    if (cfg->kernel && cfg->bios) {
        snprintf(err, errlen, "%s: bios: kernel= boots without firmware, bios= does not apply",
                 origin);
        goto fail;
    }
    if (cfg->initrd && !cfg->kernel) {
        snprintf(err, errlen, "%s: initrd: given without kernel=", origin);
        goto fail;
    }
    out->buf = buf;
    return 0;
fail:
    free(buf);
    memset(out, 0, sizeof(*out));
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int vmspec_read_file(const char *path, struct vm_spec **specs, int *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--config: cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, r = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        struct vm_spec *more = realloc(*specs, (size_t)(*n + 1) * sizeof(**specs));
        if (!more) {
            snprintf(err, errlen, "out of memory");
            r = -1;
            break;
        }
        *specs = more;
        char origin[300];
        snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
        if (vmspec_parse(s, origin, *n, &more[*n], err, errlen) < 0) {
            r = -1;
            break;
        }
        (*n)++;
    }
    if (r == 0 && ferror(f)) {
        snprintf(err, errlen, "--config: error reading '%s'", path);
        r = -1;
    }
    free(line);
    fclose(f);
    return r;
}

int vmspec_check(const struct vm_spec *specs, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const struct vm_config *a = &specs[i].cfg;
        const char *outs_a[2] = {a->serial, a->debugcon};
        for (int j = i; j < n; j++) {
            const struct vm_config *b = &specs[j].cfg;
            if (j > i && !strcmp(a->name, b->name)) {
                snprintf(err, errlen, "name: two VMs are called '%s'", a->name);
                return -1;
            }
            const char *outs_b[2] = {b->serial, b->debugcon};
            for (int x = 0; x < 2; x++)
                for (int y = 0; y < 2; y++) {
                    if (j == i && y <= x) continue;
                    if (!strncmp(outs_a[x], "file:", 5) && !strcmp(outs_a[x], outs_b[y])) {
                        snprintf(err, errlen,
                                 "%s: %s of VM '%s' and %s of VM '%s' name the same "
                                 "file '%s'",
                                 x ? "debugcon" : "serial", x ? "debugcon" : "serial", a->name,
                                 y ? "debugcon" : "serial", b->name, outs_a[x] + 5);
                        return -1;
                    }
                }
        }
    }
    return 0;
}

void vmspec_free(struct vm_spec *s)
{
    free(s->buf);
    s->buf = NULL;
}
