/*
 * Instruction trace (--trace FILE): one line per instruction, written before
 * it executes, from the cpu_env trace hook:
 *
 *   CS:EIP  bytes  disassembly  EAX=... EBX=... ECX=... EDX=... ESI=... EDI=...
 *   EBP=... ESP=... EFLAGS=...
 *
 * (all on one line). Registers are the state the instruction starts from.
 * The disassembly is Zydis's Intel syntax in the mode CS.D selects. An
 * instruction that fails to decode raises #UD before the hook runs, so it has
 * no line; the exception handler's first instruction follows.
 *
 * Cost: the hook costs a formatted line per instruction (about a microsecond);
 * without --trace the CPU does not call it at all.
 */
#ifndef TRAPEZE_VMM_TRACE_H
#define TRAPEZE_VMM_TRACE_H

#include <stddef.h>
#include <stdio.h>

struct cpu;
struct insn;
struct trace;

/* Opens path for writing ("-" is standard output). NULL with a message. */
struct trace *trace_open(const char *path, char *err, size_t errlen);
/* A trace on an open stream (tests). */
struct trace *trace_on_stream(FILE *f);
void trace_insn(struct trace *t, struct cpu *c, const struct insn *i);
/* Formats the line for the instruction about to execute into buf. */
void trace_format(struct cpu *c, const struct insn *i, char *buf, size_t n);
/* Closes; -1 (message in err) if a write failed. */
int trace_close(struct trace *t, char *err, size_t errlen);

#endif
