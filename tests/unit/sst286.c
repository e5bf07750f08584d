/*
 * sst286: runs the 80286 real-mode single-step suite (/work/shared/sst286,
 * see its README.md) on trapeze's CPU with P6 rules.
 *
 *   sst286 DIR [-q] [-n N] [FILE ...]
 *
 * DIR holds the XX[.R].txt.gz files; FILE names (e.g. "00", "80.7") pick a
 * subset; -q prints only per-file counts; -n N prints the first N failures
 * of each failing file (default 3). The last line is
 *   sst286: P passed, F failed, S skipped (of T)
 * and the exit status is non-zero if any test that applies to a P6 failed.
 *
 * How a test runs (README "How to run one test"): one machine with 16 MiB
 * of RAM filled once with the poison byte, A20 on, real mode, IDTR 0/3ff,
 * ports unclaimed (reads return all ones, writes vanish). Per test the
 * initial bytes are written, the 14 registers loaded, the instruction under
 * test executed (a REP string counts as one, however trapeze steps it),
 * then the CPU must be at a HLT (f4 at CS:IP), which is executed; file F4's
 * instruction is itself the HLT. Registers are compared on their low 16
 * bits, FLAGS under P6MASK; RAM over the final list, the pushed FLAGS word
 * of an exception under the same mask.
 *
 * Cost: the 16 MiB is never re-filled. Each test records the addresses it
 * lists; afterwards the 64 KiB windows of its CS, DS, ES and SS (initial and
 * final) are scanned against the poison byte, which both finds stray writes
 * (a byte changed at an address the test does not list: a failure) and
 * restores the poison, and then every listed byte is restored. A write
 * outside those windows would be neither seen nor cleaned; no instruction
 * in the suite writes memory outside them (data, stack and interrupt frames
 * are all addressed through those segments). The whole suite runs in about
 * 5 s under ASan.
 *
 * Tags (README "286 versus P6"): tests tagged lock_ud, len_gt10, ss_fault,
 * str_fault, sreg_fsgs, idiv_nofault, mem_wrap, undecoded or extra_bytes
 * record 286 behaviour a P6 does not share and are skipped; iopl tests are
 * compared under P6MASK like every other test.
 *
 * sp_wrap (PUSHA/POPA/RETF/IRET with an even SP whose words run across
 * ss:ffff -> ss:0000): run and counted like any test, and also reported on
 * a line of their own. Decision: on a P6 with a 16-bit stack every push and
 * pop computes its address from SP modulo 64 KiB (SDM vol. 1, "Address-Size
 * Attributes for Stack Accesses"; the 16-bit StackAddrSize branches of
 * PUSH, POP, PUSHA, POPA), and a word at
 * an even offset never crosses the limit ffff, so no access faults and
 * each word wraps, as on the 286. Intel's real-mode IRET pseudo-code checks
 * "top 6 bytes of stack not within stack limits", which for a 16-bit stack
 * holds for each wrapped word; we read it per access, as the P6's per-pop
 * limit checks do. If trapeze fails them, the line shows it apart.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"

#define RAM_KIB (16 * 1024)
#define POISON 0xcc
#define MAX_RAM 4096      /* RAM entries per list (README: at most 256 initial) */
#define LINE_MAX_LEN 16384 /* README: longest line 5,347 bytes */

enum { X_AX, X_BX, X_CX, X_DX, X_SP, X_BP, X_SI, X_DI, X_CS, X_DS, X_ES, X_SS, X_IP, X_FLAGS, NREG };
static const char *const reg_name[NREG] = {"ax", "bx", "cx", "dx", "sp", "bp", "si",
                                           "di", "cs", "ds", "es", "ss", "ip", "flags"};
/* suite order -> trapeze general register */
static const int gpr_of[8] = {R_EAX, R_EBX, R_ECX, R_EDX, R_ESP, R_EBP, R_ESI, R_EDI};
static const int sreg_of[4] = {S_CS, S_DS, S_ES, S_SS};

/* Tags whose tests a P6 harness skips (README table, "harness action"). */
static const char *const skip_tags[] = {"lock_ud",  "len_gt10",     "ss_fault",
                                        "str_fault", "sreg_fsgs",   "idiv_nofault",
                                        "mem_wrap", "undecoded",    "extra_bytes"};

struct ramv {
    uint32_t a;
    uint8_t v;
};

struct test {
    long idx;
    char *bytes, *tags, *name;
    uint16_t init[NREG], fin[NREG];
    int ninit, nfin;
    struct ramv iram[MAX_RAM], fram[MAX_RAM];
    uint16_t fmask, p6mask;
    int exc;          /* -1 when none */
    int64_t excflags; /* -1 when none */
};

struct run {
    struct tmachine *tm;
    uint8_t *ram;
    uint8_t *listed; /* bytemap: address appears in this test's lists */
    int verbose_n;
    bool quiet;
    long pass, fail, skip, total;
    long spw_pass, spw_fail;
    bool bad_input;
};

/* ---- parsing ---------------------------------------------------------- */

static bool hex16(const char *t, uint16_t *v)
{
    char *end;
    if (!t || strlen(t) != 4)
        return false;
    unsigned long x = strtoul(t, &end, 16);
    if (*end)
        return false;
    *v = (uint16_t)x;
    return true;
}

static bool read_ram(char **save, int *n, struct ramv *out)
{
    char *t = strtok_r(NULL, " ", save), *end;
    if (!t)
        return false;
    long k = strtol(t, &end, 10);
    if (*end || k < 0 || k > MAX_RAM)
        return false;
    *n = (int)k;
    for (int j = 0; j < k; j++) {
        unsigned a, v;
        t = strtok_r(NULL, " ", save);
        if (!t || strlen(t) != 9 || sscanf(t, "%6x:%2x", &a, &v) != 2 || a >= RAM_KIB * 1024u)
            return false;
        out[j].a = a;
        out[j].v = (uint8_t)v;
    }
    return true;
}

/* Parses one test line in place (line is modified). */
static bool parse(char *line, struct test *t)
{
    char *save = NULL, *tok, *end;
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = 0;
    if (!(tok = strtok_r(line, " ", &save)))
        return false;
    t->idx = strtol(tok, &end, 10);
    if (*end || !strtok_r(NULL, " ", &save)) /* HASH */
        return false;
    if (!(t->bytes = strtok_r(NULL, " ", &save)))
        return false;
    for (int r = 0; r < NREG; r++)
        if (!hex16(strtok_r(NULL, " ", &save), &t->init[r]))
            return false;
    if (!read_ram(&save, &t->ninit, t->iram))
        return false;
    for (int r = 0; r < NREG; r++)
        if (!hex16(strtok_r(NULL, " ", &save), &t->fin[r]))
            return false;
    if (!read_ram(&save, &t->nfin, t->fram))
        return false;
    if (!hex16(strtok_r(NULL, " ", &save), &t->fmask) ||
        !hex16(strtok_r(NULL, " ", &save), &t->p6mask))
        return false;
    if (!(tok = strtok_r(NULL, " ", &save)))
        return false;
    t->exc = strcmp(tok, "-") ? (int)strtol(tok, &end, 10) : -1;
    if (t->exc >= 0 && (*end || t->exc > 255))
        return false;
    if (!(tok = strtok_r(NULL, " ", &save)))
        return false;
    t->excflags = strcmp(tok, "-") ? (int64_t)strtoul(tok, &end, 16) : -1;
    if (t->excflags >= 0 && *end)
        return false;
    if (!(t->tags = strtok_r(NULL, " ", &save)))
        return false;
    t->name = save && *save ? save : (char *)"";
    return true;
}

static bool has_tag(const char *tags, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = tags; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == n && !strncmp(p, tag, n))
            return true;
        p += l + (c != NULL);
    }
    return false;
}

static bool skipped(const struct test *t)
{
    for (size_t k = 0; k < sizeof(skip_tags) / sizeof(skip_tags[0]); k++)
        if (has_tag(t->tags, skip_tags[k]))
            return true;
    return false;
}

/* ---- running ---------------------------------------------------------- */

static void load_state(struct run *r, const struct test *t)
{
    struct cpu *c = &r->tm->cpu;
    cpu_reset(c); /* real mode, CPL 0, caches and TLB empty, x87 untouched */
    for (int k = 0; k < 8; k++)
        c->r[gpr_of[k]] = t->init[k];
    for (int k = 0; k < 4; k++) {
        struct seg *s = &c->seg[sreg_of[k]];
        s->sel = t->init[X_CS + k];
        s->base = (uint32_t)s->sel << 4;
        s->limit = 0xffff;
        s->valid = true;
        seg_update_cache(c, s);
    }
    c->seg[S_FS].base = c->seg[S_GS].base = 0; /* FS, GS unused: selector 0 */
    c->idtr.base = 0;
    c->idtr.limit = 0x3ff;
    c->eip = t->init[X_IP];
    cpu_set_eflags(c, t->init[X_FLAGS] | F_RES1, 0xffffffffu);
}

/* Runs the instruction under test, then the HLT. Returns NULL or why the
 * run went wrong (the register/RAM comparison follows either way). */
static const char *execute(struct run *r, bool is_hlt_file)
{
    struct cpu *c = &r->tm->cpu;
    uint16_t cs0 = c->seg[S_CS].sel;
    uint32_t ip0 = c->eip;
    int steps = 0;
    /* A REP string instruction may be stepped one element per run-loop
     * iteration (CS:IP stays put): keep going until it leaves. */
    do {
        cpu_run(c, 1);
        if (c->exit_reason == CPU_EXIT_SHUTDOWN)
            return "triple fault (shutdown)";
    } while (!c->halted && c->seg[S_CS].sel == cs0 && c->eip == ip0 && ++steps < 1000);
    if (steps >= 1000)
        return "instruction did not complete in 1000 steps";
    if (is_hlt_file)
        return c->halted ? NULL : "HLT under test did not halt";
    if (c->halted)
        return "halted after the instruction under test";
    uint32_t pc = c->seg[S_CS].base + (c->eip & 0xffff);
    if (pc >= RAM_KIB * 1024u || r->ram[pc] != 0xf4)
        return "second instruction is not a HLT";
    cpu_run(c, 1);
    return c->halted ? NULL : "HLT did not halt";
}

static void hexdump_bytes(const char *b, char *out, size_t n)
{
    size_t o = 0;
    for (size_t k = 0; b[k] && b[k + 1] && o + 4 < n; k += 2) {
        out[o++] = b[k];
        out[o++] = b[k + 1];
        out[o++] = ' ';
    }
    out[o ? o - 1 : 0] = 0;
}

/* Compares, resets memory, returns the number of differences (first ones
 * described in *why). */
static int check_and_clean(struct run *r, const struct test *t, const char *run_err, char *why,
                           size_t wn)
{
    struct cpu *c = &r->tm->cpu;
    int diffs = 0;
    size_t o = 0;
    why[0] = 0;
#define NOTE(...)                                                                             \
    do {                                                                                      \
        if (diffs++ < 6 && o < wn)                                                            \
            o += (size_t)snprintf(why + o, wn - o, __VA_ARGS__);                              \
    } while (0)

    if (run_err)
        NOTE("      %s (CS:IP now %04x:%04x)%s\n", run_err, c->seg[S_CS].sel, c->eip & 0xffff,
             c->seg[S_CS].sel == POISON * 0x101 && (c->eip & 0xffff) == POISON * 0x101
                 ? ": an interrupt the test does not expect went through an unlisted IVT entry"
                 : "");

    uint16_t got[NREG];
    for (int k = 0; k < 8; k++)
        got[k] = (uint16_t)c->r[gpr_of[k]];
    for (int k = 0; k < 4; k++)
        got[X_CS + k] = c->seg[sreg_of[k]].sel;
    got[X_IP] = (uint16_t)c->eip;
    got[X_FLAGS] = (uint16_t)cpu_get_eflags(c);
    for (int k = 0; k < NREG; k++) {
        uint16_t mask = k == X_FLAGS ? t->p6mask : 0xffff;
        if ((got[k] ^ t->fin[k]) & mask)
            NOTE("      %-5s expected %04x got %04x%s\n", reg_name[k], t->fin[k], got[k],
                 k == X_FLAGS ? " (under P6MASK)" : "");
    }
    for (int k = 0; k < t->nfin; k++) {
        uint32_t a = t->fram[k].a;
        uint8_t mask = 0xff;
        if (t->exc >= 0 && t->excflags >= 0 && a == (uint32_t)t->excflags)
            mask = (uint8_t)t->p6mask;
        else if (t->exc >= 0 && t->excflags >= 0 && a == (uint32_t)t->excflags + 1)
            mask = (uint8_t)(t->p6mask >> 8);
        if ((r->ram[a] ^ t->fram[k].v) & mask)
            NOTE("      ram[%06x] expected %02x got %02x\n", a, t->fram[k].v, r->ram[a]);
    }

    /* Stray writes and cleanup over the segment windows. */
    uint32_t win[8];
    int nw = 0;
    for (int k = 0; k < 4; k++) {
        uint32_t bases[2] = {(uint32_t)t->init[X_CS + k] << 4, (uint32_t)t->fin[X_CS + k] << 4};
        for (int j = 0; j < 2; j++) {
            bool dup = false;
            for (int q = 0; q < nw; q++)
                dup |= win[q] == bases[j];
            if (!dup)
                win[nw++] = bases[j];
        }
    }
    static const uint8_t poison[64] = {[0 ... 63] = POISON};
    for (int w = 0; w < nw; w++) {
        for (uint32_t a = win[w]; a < win[w] + 0x10000; a += 64) {
            if (!memcmp(r->ram + a, poison, 64))
                continue;
            for (uint32_t b = a; b < a + 64; b++) {
                if (r->ram[b] == POISON)
                    continue;
                if (!r->listed[b])
                    NOTE("      wrote %02x to ram[%06x], an address the test does not list\n",
                         r->ram[b], b);
                r->ram[b] = POISON;
            }
        }
    }
    for (int k = 0; k < t->ninit; k++)
        r->ram[t->iram[k].a] = POISON, r->listed[t->iram[k].a] = 0;
    for (int k = 0; k < t->nfin; k++)
        r->ram[t->fram[k].a] = POISON, r->listed[t->fram[k].a] = 0;
#undef NOTE
    return diffs;
}

static void run_file(struct run *r, const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.txt.gz", dir, file);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "sst286: cannot open %s\n", path);
        r->bad_input = true;
        return;
    }
    static char line[LINE_MAX_LEN];
    static struct test t;
    long pass = 0, fail = 0, skip = 0, lineno = 0;
    bool hlt_file = !strcmp(file, "F4");
    char details[8192];
    size_t dn = 0;
    details[0] = 0;

    while (gzgets(f, line, sizeof(line))) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (!strchr(line, '\n') && !gzeof(f)) {
            fprintf(stderr, "sst286: %s:%ld: line longer than %d bytes\n", path, lineno,
                    LINE_MAX_LEN);
            r->bad_input = true;
            break;
        }
        if (!parse(line, &t)) {
            fprintf(stderr, "sst286: %s:%ld: malformed test line\n", path, lineno);
            r->bad_input = true;
            continue;
        }
        r->total++;
        if (skipped(&t)) {
            skip++;
            continue;
        }
        for (int k = 0; k < t.ninit; k++) {
            r->ram[t.iram[k].a] = t.iram[k].v;
            r->listed[t.iram[k].a] = 1;
        }
        for (int k = 0; k < t.nfin; k++)
            r->listed[t.fram[k].a] = 1;
        load_state(r, &t);
        const char *err = execute(r, hlt_file);
        char why[2048];
        int diffs = check_and_clean(r, &t, err, why, sizeof(why));
        bool spw = has_tag(t.tags, "sp_wrap");
        if (!diffs) {
            pass++;
            r->spw_pass += spw;
            continue;
        }
        fail++;
        r->spw_fail += spw;
        if (fail <= r->verbose_n && dn < sizeof(details)) {
            char hb[128];
            hexdump_bytes(t.bytes, hb, sizeof(hb));
            dn += (size_t)snprintf(details + dn, sizeof(details) - dn,
                                   "    #%ld %s [%s]%s%s\n%s", t.idx, t.name, hb,
                                   strcmp(t.tags, "-") ? " tags " : "",
                                   strcmp(t.tags, "-") ? t.tags : "", why);
        }
    }
    gzclose(f);
    r->pass += pass;
    r->fail += fail;
    r->skip += skip;
    if (fail) {
        printf("%-5s %3ld/%ld passed, %ld failed%s\n", file, pass, pass + fail, fail,
               skip ? "" : "");
        if (!r->quiet)
            fputs(details, stdout);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [-q] [-n N] [FILE ...]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    struct run r = {.verbose_n = 3};
    char **files = calloc((size_t)argc + 400, sizeof(char *));
    int nfiles = 0;
    for (int k = 2; k < argc; k++) {
        if (!strcmp(argv[k], "-q"))
            r.quiet = true;
        else if (!strcmp(argv[k], "-n") && k + 1 < argc)
            r.verbose_n = atoi(argv[++k]);
        else
            files[nfiles++] = strdup(argv[k]);
    }
    if (!nfiles) {
        DIR *d = opendir(dir);
        if (!d) {
            fprintf(stderr, "sst286: cannot open directory %s\n", dir);
            free(files);
            return 2;
        }
        struct dirent *e;
        while ((e = readdir(d)) && nfiles < argc + 399) {
            size_t n = strlen(e->d_name);
            if (n > 7 && !strcmp(e->d_name + n - 7, ".txt.gz") && isxdigit((unsigned char)e->d_name[0]))
                files[nfiles++] = strndup(e->d_name, n - 7);
        }
        closedir(d);
        qsort(files, (size_t)nfiles, sizeof(char *), cmp_str);
    }

    r.tm = tm_new(RAM_KIB);
    bus_set_a20(&r.tm->bus, true);
    r.ram = r.tm->bus.ram;
    memset(r.ram, POISON, RAM_KIB * 1024u);
    r.listed = calloc(RAM_KIB * 1024u, 1);
    if (!r.listed)
        return 2;

    for (int k = 0; k < nfiles; k++)
        run_file(&r, dir, files[k]);

    printf("sst286: sp_wrap tests: %ld passed, %ld failed (counted below; see the header of "
           "tests/unit/sst286.c)\n",
           r.spw_pass, r.spw_fail);
    printf("sst286: %ld passed, %ld failed, %ld skipped (of %ld)\n", r.pass, r.fail, r.skip,
           r.total);
    for (int k = 0; k < nfiles; k++)
        free(files[k]);
    free(files);
    free(r.listed);
    tm_free(r.tm);
    return (r.fail || r.bad_input) ? 1 : 0;
}
