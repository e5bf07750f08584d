/*
 * A decoded instruction and the opcode table's row type.
 *
 * struct insn is self-contained (no pointers into guest memory), so decoded
 * instructions can later be cached per code page and replayed: everything a
 * handler needs that depends on the bytes is here; everything that depends
 * on registers (effective addresses) is computed when the handler runs.
 */
#ifndef TRAPEZE_CPU_INSN_H
#define TRAPEZE_CPU_INSN_H

#include <stdint.h>

struct cpu;
struct insn;
typedef void (*insn_fn)(struct cpu *c, const struct insn *i);

/* Class bits (DESIGN.md, "One opcode table, many uses"). */
enum {
    C_PRIV = 1u << 0,     /* #GP(0) when CPL > 0 */
    C_IOPL = 1u << 1,     /* faults when CPL > IOPL (port forms: TSS I/O bitmap decides) */
    C_IOPL_V86 = 1u << 2, /* IOPL-sensitive only in virtual-8086 mode (PUSHF, POPF, INT n, IRET) */
    C_CTRL = 1u << 3,     /* control-sensitive: changes mode, privilege or resource configuration */
    C_BEHV = 1u << 4,     /* behaviour-sensitive: result depends on mode, privilege or location */
    /* Derived, never written in the table (decode_init computes it per row):
     * sensitive (CTRL or BEHV) yet neither PRIV nor IOPL, i.e. it executes
     * without faulting at a deprivileged ring in protected mode (Robin &
     * Irvine's "sensitive, unprivileged" instructions). */
    C_CRITICAL = 1u << 5,
};
#define C_SENSITIVE (C_CTRL | C_BEHV)

/* Attribute bits */
enum {
    A_LOCK = 1u << 0,   /* LOCK prefix allowed (with a memory destination) */
    A_BRANCH = 1u << 1, /* may change EIP other than falling through: ends a decoded run */
    A_STRING = 1u << 2, /* string instruction: honours REP/REPE/REPNE */
    A_MODRM_REG = 1u << 3, /* ModRM mod field ignored, always register (MOV CRn/DRn) */
    A_X87 = 1u << 4,    /* x87 escape: CR0.EM/TS checks apply */
    A_SERIAL = 1u << 5, /* may change mode/paging/segments: ends a decoded run */
    /* The row's class bits hold for its memory forms only; its register
     * forms are innocuous (D9 /6 is FNSTENV with a memory operand but F2XM1
     * ... FINCSTP with a register one). decode() clears insn.cls for them;
     * per-row statistics cannot tell the two apart. */
    A_MEM_SENS = 1u << 6,
};

/* One row of the opcode table (cpu/opcodes.def). */
struct opdesc {
    uint16_t opcode;     /* 0x00-0xff one-byte map, 0x100-0x1ff two-byte (0F xx) map */
    int8_t ext;          /* ModRM.reg value for group rows, -1 otherwise */
    const char *mnemonic; /* upper case, Intel's name (operand-size variants share a row) */
    const char *operands; /* Intel opcode-map notation, e.g. "Ev,Gv" */
    insn_fn fn;
    const char *fn_name;
    uint16_t cls;  /* C_* */
    uint16_t attr; /* A_* */
};

/* The decoded instruction. */
struct insn {
    insn_fn fn;
    const struct opdesc *op;
    uint16_t cls;     /* the row's class bits plus the derived C_CRITICAL */
    uint16_t stat_row; /* the row's index for the statistics; op_table_size for a
                        * register form of an A_MEM_SENS row (innocuous) */
    uint8_t len;      /* total bytes, prefixes included */
    uint8_t opsize;   /* 2 or 4 (8-bit forms are fixed by the handler) */
    uint8_t addrsize; /* 2 or 4 */
    uint8_t seg;      /* effective segment of the memory operand (override or default) */
    uint8_t seg_override; /* S_NONE if no override prefix */
    uint8_t rep;      /* 0, 0xf3 (REP/REPE), 0xf2 (REPNE) */
    uint8_t lock : 1;
    uint8_t ends_run : 1; /* op->attr has A_BRANCH or A_SERIAL (run_loop's straight-line runs) */
    /* fn is a form (cpu/forms.h) of class 0 that does not read EIP and
     * changes no EIP, and ESP only after its one memory access: a
     * register form that cannot fault, LEA, a load (MOV, MOVZX/MOVSX, an
     * ALU operation with a register destination, CMP, TEST, IMUL, CMOVcc,
     * POP) or a store (MOV, SETcc, PUSH, an ALU operation with a memory
     * destination) whose only possible fault comes before it writes
     * anything; or a near Jcc, whose threaded entry computes its target
     * from the block and ends the chain when taken (cpu/threaded.h). In a
     * cached block fn is the form's threaded entry. Its memory write reaches something other than
     * plain RAM (MMIO, ROM, a page of cached code: what could change an
     * event flag, the exit reason or the block itself) only through
     * cpu/mem.c's slow path, which sets end_run. The block loop runs it
     * with no restart point, no EIP store and only the end_run test
     * after it; a fault inside one finds its restart point from the
     * block (cpu_run: the block's start EIP plus the lengths of the
     * instructions before it, and ESP as it is). */
    uint8_t quiet : 1;
    /* In a cached block: the instruction's index in it (the sentinel's is
     * the block's length, at most DC_BLOCK_MAX = 31), so the block loop
     * derives icount without dividing by sizeof(struct insn). 0 elsewhere. */
    uint8_t idx : 5;
    uint8_t b;        /* opcode byte (second byte for 0F xx) */
    uint8_t modrm, mod, reg, rm;
    uint8_t base, index, scale; /* memory operand registers; 8 = none (16-bit forms too) */
    /* In a cached block (cpu/dcache.h): the instruction's offset from the
     * block's first byte (a block spans at most 255 bytes), so the block
     * loop needs no per-instruction EIP arithmetic. 0 elsewhere. */
    uint8_t start_off;
    uint32_t disp;              /* displacement; the moffs of Ob/Ov forms */
    uint32_t imm;  /* first immediate; Ib and Jb are sign-extended, Ap's offset */
    uint32_t imm2; /* second immediate: ENTER's Ib, Ap's selector */
};
_Static_assert(sizeof(struct insn) == 48, "start_off lives in what was padding");

/* The table, in cpu/optable.c, generated from cpu/opcodes.def. */
extern const struct opdesc op_table[];
extern const int op_table_size;

#endif
