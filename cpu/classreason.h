/*
 * Why each opcode-table row has its class bits, and what a form does in a
 * given mode and CPL: the data behind `trapeze classify` (frontend/classify.c)
 * and its unit test (tests/unit/test_classify.c).
 *
 * The class bits themselves live only in cpu/opcodes.def; this module adds
 * one sentence per (row, class bit) citing the architectural rule (Intel SDM
 * vol. 2 and vol. 3 chapters 5, 6 and 20 for a P6), and never a class.
 */
#ifndef TRAPEZE_CPU_CLASSREASON_H
#define TRAPEZE_CPU_CLASSREASON_H

#include <stddef.h>

#include "insn.h"

/* The class bits that carry a reason, in the order they are printed. */
#define CLASS_REASON_BITS (C_PRIV | C_IOPL | C_IOPL_V86 | C_CTRL | C_BEHV)

/* One sentence (no final full stop) for class bit `bit` (one of
 * CLASS_REASON_BITS) of row d, or NULL when the row lacks the bit or no
 * sentence covers it (the unit test fails on the latter). */
const char *class_reason(const struct opdesc *d, unsigned bit);

/* The sentence for the derived C_CRITICAL bit, or NULL if d is not critical. */
const char *class_critical_reason(const struct opdesc *d);

/* Every reason of row d joined with "; ", critical last; "" for a class-less
 * row. Returns the length snprintf would (truncated to n - 1 bytes). */
size_t class_reason_text(const struct opdesc *d, char *buf, size_t n);

/* Name of a class bit: "privileged", "iopl", "iopl-v86", "control-sensitive",
 * "behaviour-sensitive", "critical". */
const char *class_bit_name(unsigned bit);

/* Intel's opcode notation of a row: "0F 01 /0", "8C /r", "9C". */
void class_opcode_text(const struct opdesc *d, char *buf, size_t n);

/* The behaviour-/control-sensitive sentences, keyed by mnemonic, operands
 * (NULL: every form of the mnemonic) and class bit. Exposed for the unit
 * test, which checks that every entry matches a row (no stale reasons). */
struct class_reason_entry {
    const char *mnemonic;
    const char *operands;
    unsigned bit;
    const char *text;
};
extern const struct class_reason_entry class_reason_table[];
extern const int class_reason_table_size;

/* ---- One form in one mode (`trapeze classify --bytes`). ---- */

enum class_mode { CM_REAL, CM_PM16, CM_PM32, CM_V86 };

enum class_outcome {
    CO_EXECUTES,  /* runs without an exception at this CPL/IOPL */
    CO_UD,        /* #UD in this mode */
    CO_GP,        /* #GP(0) */
    CO_IO_BITMAP, /* port access: the TSS I/O permission bitmap decides (#GP(0) or runs) */
};

struct class_verdict {
    enum class_outcome outcome;
    int critical;    /* sensitive and executes without a trap here */
    const char *why; /* one sentence: the rule that decided the outcome */
};

/* What d does in mode m at CPL cpl with EFLAGS.IOPL iopl (real mode: CPL 0;
 * V86: CPL 3), with CR4 at its reset value (VME = TSD = PCE = 0: RDTSC runs
 * at any CPL, RDPMC faults above CPL 0) and the mode's default operand size. */
struct class_verdict class_in_mode(const struct opdesc *d, enum class_mode m, int cpl, int iopl);

#endif
