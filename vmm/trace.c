/* Instruction trace writer (see trace.h). */
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "../cpu/cpu.h"
#include "../cpu/insn.h"

struct trace {
    FILE *f;
    bool owned;
    char path[256];
};

struct trace *trace_open(const char *path, char *err, size_t errlen)
{
    struct trace *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "--trace: out of memory");
        return NULL;
    }
    snprintf(t->path, sizeof(t->path), "%s", path);
    if (!strcmp(path, "-")) {
        t->f = stdout;
        return t;
    }
    t->f = fopen(path, "w");
    if (!t->f) {
        snprintf(err, errlen, "--trace: cannot open '%s' for writing: %s", path, strerror(errno));
        free(t);
        return NULL;
    }
    t->owned = true;
    /* A large buffer: a trace is millions of short writes. */
    setvbuf(t->f, NULL, _IOFBF, 1 << 20);
    return t;
}

struct trace *trace_on_stream(FILE *f)
{
    struct trace *t = calloc(1, sizeof(*t));
    if (t) {
        t->f = f;
        snprintf(t->path, sizeof(t->path), "stream");
    }
    return t;
}

/* Reads the instruction's bytes without side effects: RAM and ROM only
 * (an MMIO fetch would read the device again). Returns how many it got. */
static size_t insn_bytes(struct cpu *c, uint32_t lin, uint8_t *buf, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t pa;
        if (mmu_probe(&c->mmu, lin + (uint32_t)k, &pa) != 0)
            return k;
        uint8_t *page = bus_page_ptr(c->bus, pa, false);
        if (!page)
            return k;
        buf[k] = page[pa & ~PAGE_MASK];
    }
    return n;
}

void trace_format(struct cpu *c, const struct insn *i, char *buf, size_t n)
{
    uint32_t eip = c->eip;
    uint32_t lin = c->seg[S_CS].base + eip;
    uint8_t bytes[16];
    size_t len = insn_bytes(c, lin, bytes, i->len > 15 ? 15 : i->len);

    char hex[48] = "";
    size_t hl = 0;
    for (size_t k = 0; k < len && hl + 3 < sizeof(hex); k++)
        hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, k ? " %02x" : "%02x", bytes[k]);

    ZydisDisassembledInstruction zi;
    ZydisMachineMode mode = cpu_code32(c)   ? ZYDIS_MACHINE_MODE_LEGACY_32
                            : cpu_pmode(c) && !cpu_v86(c) ? ZYDIS_MACHINE_MODE_LEGACY_16
                                                          : ZYDIS_MACHINE_MODE_REAL_16;
    const char *text = "(bytes unreadable)";
    if (len && ZYAN_SUCCESS(ZydisDisassembleIntel(mode, eip, bytes, len, &zi)))
        text = zi.text;
    else if (len)
        text = "(not decodable by Zydis)";

    snprintf(buf, n,
             "%04x:%08x  %-23s  %-32s  EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x "
             "EBP=%08x ESP=%08x EFLAGS=%08x",
             c->seg[S_CS].sel, eip, hex, text, c->r[R_EAX], c->r[R_EBX], c->r[R_ECX],
             c->r[R_EDX], c->r[R_ESI], c->r[R_EDI], c->r[R_EBP], c->r[R_ESP],
             cpu_get_eflags(c));
}

void trace_insn(struct trace *t, struct cpu *c, const struct insn *i)
{
    char line[320];
    trace_format(c, i, line, sizeof(line));
    fputs(line, t->f);
    putc('\n', t->f);
}

int trace_close(struct trace *t, char *err, size_t errlen)
{
    if (!t)
        return 0;
    int bad = ferror(t->f);
    if (t->owned)
        bad |= fclose(t->f) == EOF;
    else
        bad |= fflush(t->f) == EOF;
    if (bad)
        snprintf(err, errlen, "--trace: error writing '%s'", t->path);
    free(t);
    return bad ? -1 : 0;
}
