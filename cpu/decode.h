/*
 * The instruction decoder: bytes -> struct insn, driven by the opcode table.
 * It knows lengths, prefixes, ModRM/SIB/displacement and immediates; it does
 * not touch CPU state, so the same function serves execution, traces, the
 * classifier and the differential test against Zydis.
 */
#ifndef TRAPEZE_CPU_DECODE_H
#define TRAPEZE_CPU_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "insn.h"

enum decode_status {
    DEC_OK = 0,
    DEC_INVALID,   /* #UD: no such form, LOCK where not allowed, register where memory required */
    DEC_TOO_LONG,  /* more than 15 bytes: #GP(0) */
    DEC_NEED_MORE, /* ran out of bytes: fetch more (or fault on the bytes that are missing) */
};

/* Builds the decode tables from the opcode table; idempotent, thread-safe
 * after the first call returns (call it once at start-up). */
void decode_init(void);

/*
 * Decodes one instruction from buf[0..avail). code32 selects the default
 * operand and address size (CS.D). On DEC_INVALID, *out->len still holds the
 * length consumed so far (for traces); the instruction raises #UD.
 */
enum decode_status decode(const uint8_t *buf, size_t avail, int code32, struct insn *out);

/* Effective offset of the ModRM memory operand (registers read from c). */
struct cpu;
uint32_t insn_ea(const struct cpu *c, const struct insn *i);

/* The row for (opcode, ext), or NULL. opcode as in opdesc (0x100 | b for 0F b). */
const struct opdesc *decode_lookup(unsigned opcode, int reg);

/* The class bits of a row of op_table, including the derived C_CRITICAL
 * (what decode() stores in insn.cls). */
uint16_t decode_row_class(const struct opdesc *d);

#endif
