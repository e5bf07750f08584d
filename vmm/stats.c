/* Statistics derived for the report (see stats.h). Report-time only: the
 * cost is a pass over the opcode table, never per instruction. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "../cpu/decode.h"

static const char *const class_names[SC_CLASSES] = {
    "innocuous", "privileged", "iopl_sensitive", "control_sensitive", "behaviour_sensitive",
    "critical",
};

const char *stat_class_name(enum stat_class k) { return class_names[k]; }

void stats_by_class(const struct vm_stats *s, uint64_t out[SC_CLASSES])
{
    memset(out, 0, sizeof(uint64_t) * SC_CLASSES);
    if (!s->row_counts)
        return;
    for (int r = 0; r < op_table_size; r++) {
        uint64_t n = s->row_counts[r];
        if (!n)
            continue;
        unsigned cls = decode_row_class(&op_table[r]);
        if (!(cls & (C_PRIV | C_IOPL | C_CTRL | C_BEHV)))
            out[SC_INNOCUOUS] += n;
        if (cls & C_PRIV)
            out[SC_PRIVILEGED] += n;
        if (cls & C_IOPL)
            out[SC_IOPL] += n;
        if (cls & C_CTRL)
            out[SC_CONTROL] += n;
        if (cls & C_BEHV)
            out[SC_BEHAVIOUR] += n;
        if (cls & C_CRITICAL)
            out[SC_CRITICAL] += n;
    }
    out[SC_INNOCUOUS] += s->row_counts[op_table_size]; /* A_MEM_SENS register forms */
}

static int by_count_desc(const void *a, const void *b)
{
    const struct mnemonic_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->mnemonic, y->mnemonic);
}

int stats_by_mnemonic(const struct vm_stats *s, struct mnemonic_count *out, int max)
{
    if (!s->row_counts)
        return 0;
    struct mnemonic_count *all = calloc((size_t)op_table_size, sizeof(*all));
    if (!all)
        return 0;
    int n = 0;
    for (int r = 0; r < op_table_size; r++) {
        if (!s->row_counts[r])
            continue;
        int k = 0;
        while (k < n && strcmp(all[k].mnemonic, op_table[r].mnemonic))
            k++;
        if (k == n)
            all[n++].mnemonic = op_table[r].mnemonic;
        all[k].count += s->row_counts[r];
    }
    /* The register forms of A_MEM_SENS rows (the x87 escapes D9 /6, DD /6:
     * F2XM1 ... FINCSTP) count under their rows' mnemonic. */
    if (s->row_counts[op_table_size]) {
        int k = 0;
        while (k < n && strcmp(all[k].mnemonic, "ESC"))
            k++;
        if (k == n)
            all[n++].mnemonic = "ESC";
        all[k].count += s->row_counts[op_table_size];
    }
    qsort(all, (size_t)n, sizeof(*all), by_count_desc);
    memcpy(out, all, sizeof(*all) * (size_t)(n < max ? n : max));
    free(all);
    return n;
}

uint64_t stats_total_exits(const struct vm_stats *s)
{
    uint64_t t = 0;
    for (int r = 0; r < VMEXIT_REASONS; r++)
        t += s->exits[r];
    return t;
}
