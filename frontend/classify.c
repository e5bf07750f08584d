/*
 * `trapeze classify`: the opcode table's instruction classes, with the reason
 * for each bit (cpu/classreason.h), as a text table, Markdown or JSON; or,
 * with --bytes, one encoded instruction in a given mode and CPL.
 *
 * JSON: an array with one object per row of cpu/opcodes.def, keys mnemonic,
 * opcode, operands, classes (a subset of "privileged", "iopl",
 * "control-sensitive", "behaviour-sensitive"), iopl_v86 (IOPL-sensitive in
 * virtual-8086 mode only: PUSHF, POPF, INT n, IRET), critical (for a
 * protected-mode kernel deprivileged to ring 1), reason (every sentence
 * joined) and reasons (one sentence per class name).
 */
#include "classify.h"
#include "report.h"
#include "classify_report.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/classreason.h"
#include "../cpu/decode.h"

enum fmt { F_TEXT, F_MARKDOWN, F_JSON };

static const char classify_usage[] =
    "usage: trapeze classify [--format text|markdown|json]\n"
    "       trapeze classify --bytes HEX [--mode real|pm16|pm32|v86] [--cpl N] [--iopl N]\n"
    "                        [--format text|json]\n"
    "       trapeze classify --report FILE [--top N] [--format text|markdown|json]\n"
    "\n"
    "Prints every instruction form of the opcode table with its class bits\n"
    "(privileged, IOPL-sensitive, control-/behaviour-sensitive, critical for a\n"
    "protected-mode kernel deprivileged to ring 1) and the rule behind each.\n"
    "With --bytes, decodes one instruction (e.g. \"0f 01 06 00 10\") and says what\n"
    "it does in the given mode (default pm32) at the given CPL (default 1; real\n"
    "mode is CPL 0, V86 CPL 3) and IOPL (default 0), CR4 at its reset value.\n"
    "With --report, reads a run's JSON report (trapeze run --report) and shows,\n"
    "per VM, the N most frequent sensitive instruction forms it executed\n"
    "(default 20) with their classes, and its exits by reason.\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "trapeze classify: %s%s%s%s\n(see trapeze classify --help)\n", msg,
            arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return 2;
}

/* The four JSON class names (C_IOPL_V86 is the separate iopl_v86 key). */
static const unsigned json_bits[] = {C_PRIV, C_IOPL, C_CTRL, C_BEHV};
static const unsigned all_bits[] = {C_PRIV, C_IOPL, C_IOPL_V86, C_CTRL, C_BEHV};
#define NBITS(a) (sizeof(a) / sizeof((a)[0]))

static void json_row_body(FILE *f, const struct opdesc *d, const char *indent)
{
    char opc[16], reason[1024];
    class_opcode_text(d, opc, sizeof(opc));
    class_reason_text(d, reason, sizeof(reason));
    uint16_t cls = decode_row_class(d);
    fprintf(f, "%s\"mnemonic\": ", indent);
    json_string(f, d->mnemonic);
    fprintf(f, ",\n%s\"opcode\": ", indent);
    json_string(f, opc);
    fprintf(f, ",\n%s\"operands\": ", indent);
    json_string(f, d->operands);
    fprintf(f, ",\n%s\"classes\": [", indent);
    int first = 1;
    for (size_t k = 0; k < NBITS(json_bits); k++)
        if (cls & json_bits[k]) {
            fprintf(f, "%s\"%s\"", first ? "" : ", ", class_bit_name(json_bits[k]));
            first = 0;
        }
    fprintf(f, "],\n%s\"iopl_v86\": %s,\n", indent, (cls & C_IOPL_V86) ? "true" : "false");
    fprintf(f, "%s\"critical\": %s,\n", indent, (cls & C_CRITICAL) ? "true" : "false");
    fprintf(f, "%s\"reason\": ", indent);
    json_string(f, reason);
    fprintf(f, ",\n%s\"reasons\": {", indent);
    first = 1;
    for (size_t k = 0; k < NBITS(all_bits); k++) {
        const char *r = class_reason(d, all_bits[k]);
        if (!r) continue;
        fprintf(f, "%s\"%s\": ", first ? "" : ", ", class_bit_name(all_bits[k]));
        json_string(f, r);
        first = 0;
    }
    const char *cr = class_critical_reason(d);
    if (cr) {
        fprintf(f, "%s\"critical\": ", first ? "" : ", ");
        json_string(f, cr);
    }
    fputc('}', f);
}

/* Class column of the text (short names, see the legend) and Markdown tables. */
static const char *short_name(unsigned bit)
{
    switch (bit) {
    case C_PRIV: return "priv";
    case C_IOPL: return "iopl";
    case C_IOPL_V86: return "iopl-v86";
    case C_CTRL: return "ctrl";
    }
    return "behv";
}

static void class_list(const struct opdesc *d, char *buf, size_t n, int long_names)
{
    uint16_t cls = decode_row_class(d);
    size_t len = 0;
    buf[0] = 0;
    for (size_t k = 0; k < NBITS(all_bits); k++)
        if (cls & all_bits[k] && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s",
                                    !len         ? ""
                                    : long_names ? ", "
                                                 : ",",
                                    long_names ? class_bit_name(all_bits[k])
                                               : short_name(all_bits[k]));
    if (!len) snprintf(buf, n, "-");
}

static void print_table(FILE *f, enum fmt fmt)
{
    char opc[16], classes[128], reason[1024];
    if (fmt == F_JSON)
        fputs("[\n", f);
    else if (fmt == F_MARKDOWN)
        fputs("| Opcode | Mnemonic | Operands | Classes | Critical | Reason |\n"
              "|---|---|---|---|---|---|\n",
              f);
    else
        fprintf(f,
                "# priv: privileged; iopl: IOPL-sensitive; iopl-v86: IOPL-sensitive in V86 mode\n"
                "# only; ctrl: control-sensitive; behv: behaviour-sensitive; CRIT: critical, i.e.\n"
                "# sensitive yet neither privileged nor IOPL-sensitive, so it runs without a trap\n"
                "# in a protected-mode kernel deprivileged to ring 1.\n"
                "%-10s %-10s %-10s %-19s %-4s %s\n",
                "OPCODE", "MNEMONIC", "OPERANDS", "CLASSES", "CRIT", "REASON");
    for (int r = 0; r < op_table_size; r++) {
        const struct opdesc *d = &op_table[r];
        if (fmt == F_JSON) {
            fputs("  {\n", f);
            json_row_body(f, d, "    ");
            fprintf(f, "\n  }%s\n", r + 1 < op_table_size ? "," : "");
            continue;
        }
        class_opcode_text(d, opc, sizeof(opc));
        /* The tables give the critical bit its own column, so the reason
         * column keeps the per-class sentences only. */
        int crit = (decode_row_class(d) & C_CRITICAL) != 0;
        reason[0] = 0;
        for (size_t k = 0, len = 0; k < NBITS(all_bits); k++) {
            const char *rs = class_reason(d, all_bits[k]);
            if (rs && len < sizeof(reason))
                len += (size_t)snprintf(reason + len, sizeof(reason) - len, "%s%s", len ? "; " : "",
                                        rs);
        }
        if (fmt == F_MARKDOWN) {
            class_list(d, classes, sizeof(classes), 1);
            fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", opc, d->mnemonic,
                    *d->operands ? d->operands : "-", classes, crit ? "yes" : "no",
                    *reason ? reason : "-");
        } else {
            class_list(d, classes, sizeof(classes), 0);
            fprintf(f, "%-10s %-10s %-10s %-19s %-4s %s\n", opc, d->mnemonic,
                    *d->operands ? d->operands : "-", classes, crit ? "yes" : "no",
                    *reason ? reason : "-");
        }
    }
    if (fmt == F_JSON) fputs("]\n", f);
}

/* Hex bytes: pairs of hex digits, optionally separated by spaces, commas or
 * colons, each optionally prefixed by 0x. Returns the count, -1 if bad. */
static int parse_hex(const char *s, uint8_t *out, int max)
{
    int n = 0;
    while (*s) {
        if (isspace((unsigned char)*s) || *s == ',' || *s == ':') {
            s++;
            continue;
        }
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || n == max) return -1;
        char pair[3] = {s[0], s[1], 0};
        out[n++] = (uint8_t)strtoul(pair, NULL, 16);
        s += 2;
    }
    return n;
}

static const char *const mode_names[] = {"real", "pm16", "pm32", "v86"};
static const char *const outcome_names[] = {"executes", "#UD", "#GP(0)", "I/O bitmap decides"};

static int classify_bytes(const char *hex, enum class_mode mode, int cpl, int iopl, enum fmt fmt)
{
    uint8_t buf[16];
    int n = parse_hex(hex, buf, 15);
    if (n <= 0)
        return usage_error("--bytes: expected 1 to 15 hex bytes, e.g. \"0f 01 06 00 10\", not",
                           hex);
    struct insn in;
    enum decode_status st = decode(buf, (size_t)n, mode == CM_PM32, &in);
    if (st == DEC_NEED_MORE)
        return usage_error("--bytes: the instruction continues past the bytes given:", hex);
    if (st == DEC_TOO_LONG) {
        fprintf(stderr, "trapeze classify: longer than 15 bytes: #GP(0)\n");
        return 1;
    }
    if (st == DEC_INVALID || !in.op) {
        if (fmt == F_JSON)
            printf("{\"valid\": false, \"outcome\": \"#UD\", \"length\": %d}\n", in.len);
        else
            printf("invalid opcode: #UD on a P6 (no such form in the opcode table)\n");
        return 0;
    }
    const struct opdesc *d = in.op;
    struct class_verdict v = class_in_mode(d, mode, cpl, iopl);
    /* A_MEM_SENS rows: the classes describe the memory form only. */
    int innocuous_form = (d->attr & A_MEM_SENS) && in.mod == 3;
    if (innocuous_form) {
        v.critical = 0;
        v.why = "this register form is innocuous: the row's classes hold for its memory form";
    }
    if (mode == CM_REAL) cpl = 0;
    if (mode == CM_V86) cpl = 3;
    if (in.len < n)
        fprintf(stderr,
                "trapeze classify: note: the instruction is %u bytes; the rest is ignored\n",
                in.len);
    if (fmt == F_JSON) {
        printf("{\n  \"valid\": true,\n  \"length\": %u,\n", in.len);
        json_row_body(stdout, d, "  ");
        printf(",\n  \"mode\": \"%s\",\n  \"cpl\": %d,\n  \"iopl\": %d,\n  \"outcome\": \"%s\",\n"
               "  \"critical_here\": %s,\n  \"why\": ",
               mode_names[mode], cpl, iopl, outcome_names[v.outcome],
               v.critical ? "true" : "false");
        json_string(stdout, v.why);
        printf("\n}\n");
        return 0;
    }
    char opc[16], classes[128], reason[1024];
    class_opcode_text(d, opc, sizeof(opc));
    class_list(d, classes, sizeof(classes), 1);
    class_reason_text(d, reason, sizeof(reason));
    printf("bytes:    ");
    for (int k = 0; k < in.len; k++)
        printf("%s%02x", k ? " " : "", buf[k]);
    printf("\nform:     %s%s%s (%s)\nclasses:  %s%s\nreason:   %s\n", d->mnemonic,
           *d->operands ? " " : "", d->operands, opc, classes,
           (decode_row_class(d) & C_CRITICAL) ? ", critical" : "", *reason ? reason : "-");
    printf("in %s at CPL %d, IOPL %d: %s: %s\n", mode_names[mode], cpl, iopl,
           outcome_names[v.outcome], v.why);
    if (v.critical)
        printf("critical here: sensitive, yet it runs without a trap a VMM could catch\n");
    return 0;
}

static int parse_small(const char *s, int max)
{
    if (s[0] < '0' || s[0] > '0' + max || s[1]) return -1;
    return s[0] - '0';
}

int cmd_classify(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_BYTES, O_MODE, O_CPL, O_IOPL, O_REPORT, O_TOP };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"bytes", required_argument, NULL, O_BYTES},
        {"mode", required_argument, NULL, O_MODE},
        {"cpl", required_argument, NULL, O_CPL},
        {"iopl", required_argument, NULL, O_IOPL},
        {"report", required_argument, NULL, O_REPORT},
        {"top", required_argument, NULL, O_TOP},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    enum fmt fmt = F_TEXT;
    const char *bytes = NULL, *report = NULL;
    int mode = CM_PM32, cpl = -1, iopl = 0, top = 20, opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case O_FORMAT:
            if (!strcmp(optarg, "text"))
                fmt = F_TEXT;
            else if (!strcmp(optarg, "markdown"))
                fmt = F_MARKDOWN;
            else if (!strcmp(optarg, "json"))
                fmt = F_JSON;
            else
                return usage_error("--format: expected text, markdown or json, not", optarg);
            break;
        case O_BYTES: bytes = optarg; break;
        case O_REPORT: report = optarg; break;
        case O_TOP: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || end == optarg || n < 1 || n > 1000)
                return usage_error("--top: expected 1 to 1000, not", optarg);
            top = (int)n;
            break;
        }
        case O_MODE:
            mode = -1;
            for (int k = 0; k < 4; k++)
                if (!strcmp(optarg, mode_names[k])) mode = k;
            if (mode < 0)
                return usage_error("--mode: expected real, pm16, pm32 or v86, not", optarg);
            break;
        case O_CPL:
            if ((cpl = parse_small(optarg, 3)) < 0)
                return usage_error("--cpl: expected 0 to 3, not", optarg);
            break;
        case O_IOPL:
            if ((iopl = parse_small(optarg, 3)) < 0)
                return usage_error("--iopl: expected 0 to 3, not", optarg);
            break;
        case 'h': fputs(classify_usage, stdout); return 0;
        case ':': return usage_error("option needs a value:", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("unexpected argument", argv[optind]);
    if (report) {
        if (bytes) return usage_error("--report and --bytes do not mix", NULL);
        return classify_report(report, top,
                               fmt == F_JSON       ? RF_JSON
                               : fmt == F_MARKDOWN ? RF_MARKDOWN
                                                   : RF_TEXT);
    }
    decode_init();
    if (!bytes) {
        if (cpl >= 0) return usage_error("--cpl applies to --bytes only", NULL);
        print_table(stdout, fmt);
        return 0;
    }
    if (fmt == F_MARKDOWN) return usage_error("--bytes prints text or json", NULL);
    if (cpl < 0) cpl = mode == CM_REAL ? 0 : mode == CM_V86 ? 3 : 1;
    if ((mode == CM_REAL && cpl != 0) || (mode == CM_V86 && cpl != 3))
        return usage_error(mode == CM_REAL ? "--cpl: real-address mode runs at CPL 0"
                                           : "--cpl: virtual-8086 mode runs at CPL 3",
                           NULL);
    return classify_bytes(bytes, (enum class_mode)mode, cpl, iopl, fmt);
}
