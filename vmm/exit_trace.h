/*
 * --trace-exits FILE: one line per VM exit of a deprivileged guest, and in
 * trap mode one line per critical instruction the guest executes, with what
 * it saw differ from its own view (the Popek and Goldberg failure, caught
 * in the act):
 *
 *   SEQ ICOUNT REASON CS:EIP cpl=N MNEMONIC bytes=HEX [vector=V err=E]
 *       [code=HEX diverges=WHAT]
 *
 * REASON is the exit reason of the report (docs/architecture.md, "Exit
 * reasons"), or `critical_native` for a trap-mode observation. CS:EIP, cpl
 * and MNEMONIC are the guest's: the instruction at the exit (for an
 * interrupt, the one it interrupted: mnemonic `-`). code= is the next 24
 * bytes of guest code from the instruction on; diverges= lists what
 * the critical instruction left different from executing it in the guest's
 * view: general registers, eip, eflags (arithmetic and control bits), a
 * segment selector, the virtual `if`/`iopl` (POPF/IRET dropping a change),
 * `stack` (the 8 bytes below ESP: PUSHF, PUSH CS, far CALL) or `memory`
 * (its memory operand: SGDT, SIDT, SLDT, STR, SMSW); `none` when nothing
 * differed, `event` when the native execution raised an exception or was
 * an INT n (the VMM then handles that exit as usual, on the next line).
 *
 * Costs: nothing without the option (one pointer test per exit). With it,
 * a formatted line per exit; in trap mode every critical instruction exits
 * (class routing, as in vmm mode) and runs twice: in the view on a saved
 * copy of the CPU and vCPU, then natively, and the two are compared.
 */
#ifndef TRAPEZE_VMM_EXIT_TRACE_H
#define TRAPEZE_VMM_EXIT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct exit_trace;
struct vcpu;
struct insn;
struct cpu_event;

/* Opens path for writing ("-" is stdout). NULL with a message in err. */
struct exit_trace *exit_trace_open(const char *path, char *err, size_t errlen);
/* Closes; -1 (message in err) if a write failed. */
int exit_trace_close(struct exit_trace *t, char *err, size_t errlen);

/* Where the guest stood when the CPU exited (taken before handling). */
struct exit_site {
    uint16_t cs;
    uint32_t eip, lin;  /* lin: CS base + EIP */
    uint8_t cpl;        /* the guest's */
    bool has_event;
    int vector;
    bool has_err;
    uint32_t err;
    uint64_t icount;
};
void exit_trace_site(const struct vcpu *v, bool event, struct exit_site *s);
/* Logs an exit handled for reason (a name from vmexit_name). */
void exit_trace_log(struct vcpu *v, const char *reason, const struct exit_site *s);

/*
 * Trap mode with a trace: the critical instruction i (not executed yet, EIP
 * at it) runs in the guest's view on a copy of the state, then natively as
 * trap mode runs it, and the line says what differed. Returns
 * CPU_EXIT_NONE when done, or CPU_EXIT_EVENT when the native execution
 * raised an event (c->exit_event) for the VMM to handle as an exit.
 */
int exit_trace_observe(struct vcpu *v, const struct insn *i);

#endif
