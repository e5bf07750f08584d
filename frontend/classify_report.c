/*
 * `trapeze classify --report FILE`: the sensitive instructions a real run
 * executed, from its JSON report (`trapeze run --report`): per VM, the most
 * frequent sensitive instruction forms (the report's `sensitive_forms`),
 * with their classes from the opcode table, their share of the run, and the
 * VM's exits by reason. JSON is parsed with cJSON.
 */
#include "classify_report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/classreason.h"
#include "../cpu/decode.h"

static char *read_all(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *bigger = cap < (256u << 20) ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            snprintf(err, errlen, "%s: too large for a report", path);
            fclose(f);
            return NULL;
        }
        buf = bigger;
        cap *= 2;
    }
    if (!buf || ferror(f)) {
        snprintf(err, errlen, "%s: cannot read", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* The opcode-table row a report form names, or NULL. */
static const struct opdesc *find_row(const char *opcode, const char *mnemonic, const char *operands)
{
    char opc[16];
    for (int r = 0; r < op_table_size; r++) {
        const struct opdesc *d = &op_table[r];
        if (strcmp(d->mnemonic, mnemonic) || strcmp(d->operands, operands))
            continue;
        class_opcode_text(d, opc, sizeof(opc));
        if (!strcmp(opc, opcode))
            return d;
    }
    return NULL;
}

static void classes_text(const struct opdesc *d, char *buf, size_t n)
{
    static const unsigned bits[] = {C_PRIV, C_IOPL, C_CTRL, C_BEHV};
    uint16_t cls = decode_row_class(d);
    size_t len = 0;
    buf[0] = 0;
    for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++)
        if ((cls & bits[k]) && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
                                    class_bit_name(bits[k]));
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One VM's section. Returns 0, or -1 with a message (malformed). */
static int render_vm(FILE *out, const cJSON *vm, int index, int top, enum report_format fmt,
                     cJSON *json_out, char *err, size_t errlen)
{
    const char *name = str(vm, "name"), *mode = str(vm, "mode");
    double insns = num(vm, "instructions_retired");
    const cJSON *forms = cJSON_GetObjectItemCaseSensitive(vm, "sensitive_forms");
    const cJSON *exits = cJSON_GetObjectItemCaseSensitive(vm, "exits");
    if (!name || !mode || insns < 0 || !cJSON_IsArray(forms) || !cJSON_IsObject(exits)) {
        snprintf(err, errlen,
                 "vms[%d]: not a trapeze run report (needs name, mode, instructions_retired, "
                 "sensitive_forms, exits)",
                 index);
        return -1;
    }
    double sensitive = 0, critical = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, forms)
    {
        const char *o = str(f, "opcode"), *m = str(f, "mnemonic"), *p = str(f, "operands");
        double c = num(f, "count");
        const struct opdesc *d = o && m && p ? find_row(o, m, p) : NULL;
        if (!d || c < 0) {
            snprintf(err, errlen, "vms[%d]: sensitive_forms: '%s %s %s' is not in the opcode table",
                     index, o ? o : "?", m ? m : "?", p ? p : "?");
            return -1;
        }
        sensitive += c;
        if (decode_row_class(d) & C_CRITICAL)
            critical += c;
    }
    cJSON *jvm = NULL, *jforms = NULL;
    if (fmt == RF_JSON) {
        jvm = cJSON_AddObjectToObject(json_out, name);
        cJSON_AddStringToObject(jvm, "mode", mode);
        cJSON_AddNumberToObject(jvm, "instructions", insns);
        cJSON_AddNumberToObject(jvm, "sensitive", sensitive);
        cJSON_AddNumberToObject(jvm, "critical", critical);
        jforms = cJSON_AddArrayToObject(jvm, "top");
    } else if (fmt == RF_MARKDOWN) {
        fprintf(out, "### %s (%s mode)\n\n%.0f instructions, %.0f sensitive (%.4f%%), %.0f critical.\n\n",
                name, mode, insns, sensitive, insns > 0 ? 100 * sensitive / insns : 0, critical);
        fputs("| # | Opcode | Instruction | Count | Share of the run | Classes | Critical |\n"
              "|---:|---|---|---:|---:|---|---|\n",
              out);
    } else {
        fprintf(out, "%s (%s mode): %.0f instructions, %.0f sensitive (%.4f%%), %.0f critical\n",
                name, mode, insns, sensitive, insns > 0 ? 100 * sensitive / insns : 0, critical);
        fprintf(out, "  %3s %-9s %-16s %14s %9s  %-4s %s\n", "#", "OPCODE", "INSTRUCTION", "COUNT",
                "SHARE", "CRIT", "CLASSES");
    }
    int k = 0;
    cJSON_ArrayForEach(f, forms)
    {
        if (k >= top)
            break;
        const char *o = str(f, "opcode"), *m = str(f, "mnemonic"), *p = str(f, "operands");
        double c = num(f, "count");
        const struct opdesc *d = find_row(o, m, p);
        char cls[128], insn[48];
        classes_text(d, cls, sizeof(cls));
        snprintf(insn, sizeof(insn), "%s%s%s", m, *p ? " " : "", p);
        int crit = (decode_row_class(d) & C_CRITICAL) != 0;
        double share = insns > 0 ? 100 * c / insns : 0;
        k++;
        if (fmt == RF_JSON) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "opcode", o);
            cJSON_AddStringToObject(j, "mnemonic", m);
            cJSON_AddStringToObject(j, "operands", p);
            cJSON_AddNumberToObject(j, "count", c);
            cJSON_AddBoolToObject(j, "critical", crit);
            cJSON_AddStringToObject(j, "classes", cls);
            cJSON_AddItemToArray(jforms, j);
        } else if (fmt == RF_MARKDOWN) {
            fprintf(out, "| %d | %s | %s | %.0f | %.4f%% | %s | %s |\n", k, o, insn, c, share, cls,
                    crit ? "yes" : "no");
        } else {
            fprintf(out, "  %3d %-9s %-16s %14.0f %8.4f%%  %-4s %s\n", k, o, insn, c, share,
                    crit ? "yes" : "no", cls);
        }
    }
    /* Exits by reason, the non-zero ones. */
    const cJSON *e;
    if (fmt == RF_JSON) {
        cJSON_AddItemToObject(jvm, "exits", cJSON_Duplicate(exits, 1));
        return 0;
    }
    fputs(fmt == RF_MARKDOWN ? "\nExits:" : "  exits:", out);
    int any = 0;
    cJSON_ArrayForEach(e, exits)
    {
        if (cJSON_IsNumber(e) && e->valuedouble > 0) {
            fprintf(out, "%s %s %.0f", any ? "," : "", e->string, e->valuedouble);
            any = 1;
        }
    }
    fputs(any ? "\n\n" : " none\n\n", out);
    return 0;
}

int classify_report(const char *path, int top, enum report_format fmt)
{
    char err[512];
    char *text = read_all(path, err, sizeof(err));
    if (!text) {
        fprintf(stderr, "trapeze classify: %s\n", err);
        return 1;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *vms = root ? cJSON_GetObjectItemCaseSensitive(root, "vms") : NULL;
    if (!root || !cJSON_IsArray(vms) || cJSON_GetArraySize(vms) == 0) {
        fprintf(stderr, "trapeze classify: %s: %s\n", path,
                !root ? "not valid JSON" : "no \"vms\" array: not a trapeze run report");
        cJSON_Delete(root);
        return 1;
    }
    decode_init();
    cJSON *json_out = fmt == RF_JSON ? cJSON_CreateObject() : NULL;
    int index = 0, r = 0;
    const cJSON *vm;
    cJSON_ArrayForEach(vm, vms)
    {
        if (render_vm(stdout, vm, index++, top, fmt, json_out, err, sizeof(err)) < 0) {
            fprintf(stderr, "trapeze classify: %s: %s\n", path, err);
            r = 1;
            break;
        }
    }
    if (json_out && r == 0) {
        char *s = cJSON_Print(json_out);
        if (s)
            puts(s);
        free(s);
    }
    cJSON_Delete(json_out);
    cJSON_Delete(root);
    return r;
}
