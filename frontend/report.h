/*
 * The JSON run report (--report FILE). Shape (README.md, "The report"):
 *
 *   { "trapeze_version": "...", "exit_status": 33, "end_reason": "exit_device",
 *     "end_message": "...", "instructions_retired": N, "wall_time_s": x,
 *     "mips": y, "vms": [ { per-VM fields } ] }
 *
 * The top-level fields summarize the run; "vms" has one object per VM, the
 * place later per-VM fields (mode, exits by reason and class) go. Strings are
 * escaped so the output is valid JSON whatever the file names contain (bytes
 * >= 0x80 are written as \u00XX, i.e. read as Latin-1).
 */
#ifndef TRAPEZE_FRONTEND_REPORT_H
#define TRAPEZE_FRONTEND_REPORT_H

#include <stdio.h>

struct vm;

/* Writes a JSON string literal (with quotes) for s. */
void json_string(FILE *f, const char *s);

/* Writes the report for one finished VM. Returns 0, or -1 on a write error. */
int report_write(FILE *f, const char *version, const struct vm *vm);

/* The report of a multi-VM run (--vm, --config): the process's exit status,
 * the thread count, totals over every VM, and one "vms" object per VM in the
 * order given. */
int report_write_multi(FILE *f, const char *version, struct vm *const *vms, int n, int status,
                       int threads, double wall_time_s);

#endif
