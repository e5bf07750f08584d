/* JSON run report (see report.h). */
#include "report.h"

#include <math.h>

#include "../cpu/classreason.h"
#include "../cpu/decode.h"
#include "../vmm/machine.h"
#include "../vmm/stats.h"

void json_string(FILE *f, const char *s)
{
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) /* UTF-8 sequences pass through */
                fprintf(f, "\\u%04x", *p);
            else
                putc(*p, f);
        }
    }
    putc('"', f);
}

/* A number JSON accepts (no NaN or infinity). */
static void json_double(FILE *f, double v)
{
    fprintf(f, "%.6f", isfinite(v) ? v : 0.0);
}

static double mips(const struct vm *vm)
{
    return vm->wall_time_s > 0 ? (double)vm->cpu.icount / vm->wall_time_s / 1e6 : 0.0;
}

static void end_fields(FILE *f, const struct vm *vm, const char *indent)
{
    fprintf(f, "%s\"exit_status\": %d,\n", indent, vm->exit_status);
    fprintf(f, "%s\"end_reason\": ", indent);
    json_string(f, vm_end_name(vm->end));
    fprintf(f, ",\n%s\"end_message\": ", indent);
    json_string(f, vm_end_text(vm->end));
    fprintf(f, ",\n%s\"instructions_retired\": %llu,\n", indent,
            (unsigned long long)vm->cpu.icount);
    fprintf(f, "%s\"wall_time_s\": ", indent);
    json_double(f, vm->wall_time_s);
    fprintf(f, ",\n%s\"mips\": ", indent);
    json_double(f, mips(vm));
    fputs(",\n", f);
}

/* The VM's mode, instructions by class and mnemonic, exits by reason and
 * where the host time went (see README.md, "The report"). */
static void vmm_fields(FILE *f, const struct vm *vm)
{
    const struct vm_stats *s = &vm->vcpu.stats;
    fputs("      \"mode\": ", f);
    json_string(f, vm_mode_name(vm->vcpu.mode));
    uint64_t cls[SC_CLASSES];
    stats_by_class(s, cls);
    fputs(",\n      \"instructions_by_class\": {", f);
    for (int k = 0; k < SC_CLASSES; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", stat_class_name((enum stat_class)k),
                (unsigned long long)cls[k]);
    fputs("},\n      \"instructions_by_mnemonic\": {", f);
    static struct mnemonic_count mc[1024];
    int n = stats_by_mnemonic(s, mc, 1024);
    for (int k = 0; k < n && k < 1024; k++) {
        fputs(k ? ", " : "", f);
        json_string(f, mc[k].mnemonic);
        fprintf(f, ": %llu", (unsigned long long)mc[k].count);
    }
    /* Every sensitive form that ran, most frequent first (one mnemonic
     * spans innocuous and sensitive forms: MOV r/m vs MOV Sreg, MOV CRn). */
    fputs("},\n      \"sensitive_forms\": [", f);
    static int order[4096];
    int nf = 0;
    for (int r = 0; r < op_table_size && nf < 4096; r++)
        if (s->row_counts && s->row_counts[r] &&
            (decode_row_class(&op_table[r]) & (C_PRIV | C_IOPL | C_CTRL | C_BEHV)))
            order[nf++] = r;
    for (int a = 1; a < nf; a++) /* insertion sort: a few dozen forms */
        for (int b = a; b > 0 && s->row_counts[order[b]] > s->row_counts[order[b - 1]]; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int k = 0; k < nf; k++) {
        const struct opdesc *d = &op_table[order[k]];
        char opc[16];
        class_opcode_text(d, opc, sizeof(opc));
        fprintf(f, "%s\n        {\"opcode\": ", k ? "," : "");
        json_string(f, opc);
        fputs(", \"mnemonic\": ", f);
        json_string(f, d->mnemonic);
        fputs(", \"operands\": ", f);
        json_string(f, d->operands);
        fprintf(f, ", \"count\": %llu}", (unsigned long long)s->row_counts[order[k]]);
    }
    fprintf(f, "%s],\n      \"exits\": {\"total\": %llu", nf ? "\n      " : "",
            (unsigned long long)stats_total_exits(s));
    for (int r = 0; r < VMEXIT_REASONS; r++)
        fprintf(f, ", \"%s\": %llu", vmexit_name((enum vmexit_reason)r),
                (unsigned long long)s->exits[r]);
    /* paravirt: hypercalls by name (zero in the other modes). */
    fputs("},\n      \"hypercalls\": {", f);
    for (int k = 0; k < PV_HYPERCALLS; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", pv_hypercall_name(k),
                (unsigned long long)vm->vcpu.pv.calls[k]);
    fprintf(f, ", \"unknown\": %llu", (unsigned long long)vm->vcpu.pv.bad_calls);
    fputs("},\n      \"time_guest_s\": ", f);
    json_double(f, s->guest_s);
    fputs(",\n      \"time_vmm_s\": ", f);
    json_double(f, s->vmm_s);
    fputs(",\n", f);
}

/* One element of "vms". */
static void vm_object(FILE *f, const struct vm *vm)
{
    fputs("    {\n      \"name\": ", f);
    json_string(f, vm->cfg.name);
    fputs(",\n      \"kernel\": ", f);
    json_string(f, vm->cfg.kernel);
    fprintf(f, ",\n      \"memory_mib\": %u,\n", vm->cfg.memory_mib);
    vmm_fields(f, vm);
    end_fields(f, vm, "      ");
    if (vm->end == VM_END_EXIT_DEVICE)
        fprintf(f, "      \"exit_value\": %u,\n", vm->exitdev.value);
    else
        fputs("      \"exit_value\": null,\n", f);
    fprintf(f, "      \"steps\": %llu,\n", (unsigned long long)vm->steps);
    fprintf(f, "      \"end_cs_eip\": \"%04x:%08x\",\n", vm->end_cs, vm->end_eip);
    fprintf(f, "      \"serial_bytes\": %llu,\n", (unsigned long long)vm->com1.tx_bytes);
    fprintf(f, "      \"debugcon_bytes\": %llu,\n",
            (unsigned long long)(vm->dbg.bytes + vm->dbg402.bytes));
    /* POST codes (port 0x80): how many the firmware wrote, and the last. */
    fprintf(f, "      \"post_codes\": %llu,\n", (unsigned long long)vm->post.count);
    if (vm->post.count)
        fprintf(f, "      \"post_code_last\": \"0x%02x\"\n", vm->post.last);
    else
        fputs("      \"post_code_last\": null\n", f);
    fputs("    }", f);
}

int report_write(FILE *f, const char *version, const struct vm *vm)
{
    fputs("{\n  \"trapeze_version\": ", f);
    json_string(f, version);
    fputs(",\n", f);
    end_fields(f, vm, "  ");
    fputs("  \"vms\": [\n", f);
    vm_object(f, vm);
    fputs("\n  ]\n}\n", f);
    return ferror(f) ? -1 : 0;
}

int report_write_multi(FILE *f, const char *version, struct vm *const *vms, int n, int status,
                       int threads, double wall_time_s)
{
    uint64_t insns = 0;
    for (int k = 0; k < n; k++)
        insns += vms[k]->cpu.icount;
    fputs("{\n  \"trapeze_version\": ", f);
    json_string(f, version);
    fprintf(f, ",\n  \"exit_status\": %d,\n", status);
    fprintf(f, "  \"threads\": %d,\n", threads);
    fprintf(f, "  \"instructions_retired\": %llu,\n", (unsigned long long)insns);
    fputs("  \"wall_time_s\": ", f);
    json_double(f, wall_time_s);
    fputs(",\n  \"mips\": ", f);
    json_double(f, wall_time_s > 0 ? (double)insns / wall_time_s / 1e6 : 0.0);
    fputs(",\n  \"vms\": [\n", f);
    for (int k = 0; k < n; k++) {
        vm_object(f, vms[k]);
        fputs(k + 1 < n ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    return ferror(f) ? -1 : 0;
}
