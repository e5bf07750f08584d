/*
 * The opcode table (cpu/opcodes.def) as data.
 */
#include "handlers.h"

const struct opdesc op_table[] = {
#define OP(opc, ext, mn, ops, fn, cls, attr) {opc, ext, mn, ops, fn, #fn, cls, attr},
#include "opcodes.def"
#undef OP
};

const int op_table_size = sizeof(op_table) / sizeof(op_table[0]);
/* struct insn keeps a row index in 16 bits. */
_Static_assert(sizeof(op_table) / sizeof(op_table[0]) < 65536, "op_table rows (and the extra statistics slot) fit in insn.stat_row");
