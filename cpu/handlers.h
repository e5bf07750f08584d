/*
 * Prototypes of every instruction handler named in the opcode table.
 */
#ifndef TRAPEZE_CPU_HANDLERS_H
#define TRAPEZE_CPU_HANDLERS_H

#include "insn.h"

#define OP(opc, ext, mn, ops, fn, cls, attr) void fn(struct cpu *c, const struct insn *i);
#include "opcodes.def"
#undef OP

#endif
