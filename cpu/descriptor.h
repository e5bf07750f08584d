/*
 * Segment selectors and descriptors: fetching them from the GDT or LDT,
 * decoding their fields, setting the accessed bit, and loading a segment
 * register's hidden cache from one (SDM vol. 3, 3.4-3.5 and 5.1-5.8).
 *
 * A descriptor is handled as its two raw dwords (struct desc); accessors
 * below decode what a caller needs. Every table access is an implicit
 * supervisor access (sys_read/sys_write): it may page fault but never sees
 * CPL. Used by the protection layer (segment.c, farxfer.c, interrupt.c,
 * task.c) and by LAR/LSL/VERR/VERW/LLDT/LTR in cpu/system.c.
 */
#ifndef TRAPEZE_CPU_DESCRIPTOR_H
#define TRAPEZE_CPU_DESCRIPTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

/* Selector fields */
#define SEL_RPL(sel) ((unsigned)(sel) & 3u)
#define SEL_TI 4u
#define SEL_ERR(sel) ((uint32_t)(sel) & 0xfffcu) /* the selector as an error code */
/* Null selector: index 0 in the GDT (the RPL does not matter). */
static inline bool sel_is_null(uint16_t sel) { return (sel & 0xfffc) == 0; }

struct desc {
    uint32_t lo, hi;
};

/* System descriptor and gate types (S = 0), the type field of the high dword. */
enum {
    DT_TSS16_AVAIL = 0x1, DT_LDT = 0x2, DT_TSS16_BUSY = 0x3, DT_CALLGATE16 = 0x4,
    DT_TASKGATE = 0x5, DT_INTGATE16 = 0x6, DT_TRAPGATE16 = 0x7,
    DT_TSS32_AVAIL = 0x9, DT_TSS32_BUSY = 0xb, DT_CALLGATE32 = 0xc,
    DT_INTGATE32 = 0xe, DT_TRAPGATE32 = 0xf,
};

/* Field accessors */
static inline unsigned desc_type(const struct desc *d) { return (d->hi >> 8) & 0xf; }
static inline bool desc_s(const struct desc *d) { return (d->hi & AR_S) != 0; }
static inline unsigned desc_dpl(const struct desc *d) { return (d->hi >> 13) & 3; }
static inline bool desc_present(const struct desc *d) { return (d->hi & AR_P) != 0; }
/* The LAR image: high dword bits 8..23 without limit 19:16 (struct seg.ar). */
static inline uint32_t desc_ar(const struct desc *d) { return d->hi & 0x00f0ff00u; }
static inline uint32_t desc_base(const struct desc *d)
{
    return (d->lo >> 16) | ((d->hi & 0xff) << 16) | (d->hi & 0xff000000u);
}
/* Byte-granular limit (scaled by G). */
static inline uint32_t desc_limit(const struct desc *d)
{
    uint32_t l = (d->lo & 0xffff) | (d->hi & 0x000f0000u);
    return (d->hi & AR_G) ? (l << 12) | 0xfff : l;
}
/* Code/data kinds (S = 1) */
static inline bool desc_is_code(const struct desc *d) { return desc_s(d) && (d->hi & 0x800); }
static inline bool desc_is_data(const struct desc *d) { return desc_s(d) && !(d->hi & 0x800); }
static inline bool desc_conforming(const struct desc *d) { return desc_is_code(d) && (d->hi & 0x400); }
/* Readable code or any data: what DS/ES/FS/GS may hold. */
static inline bool desc_readable(const struct desc *d)
{
    return desc_is_data(d) || (desc_is_code(d) && (d->hi & 0x200));
}
static inline bool desc_writable_data(const struct desc *d) { return desc_is_data(d) && (d->hi & 0x200); }
/* Gates: target selector, offset (16-bit gates use only the low word), count. */
static inline uint16_t gate_sel(const struct desc *d) { return (uint16_t)(d->lo >> 16); }
static inline uint32_t gate_offset(const struct desc *d)
{
    uint32_t off = (d->lo & 0xffff) | (d->hi & 0xffff0000u);
    return (desc_type(d) & 8) ? off : off & 0xffff;
}
static inline unsigned gate_param_count(const struct desc *d) { return d->hi & 0x1f; }
/* 32-bit form of a gate or TSS (type bit 3). */
static inline bool desc_sys32(const struct desc *d) { return (desc_type(d) & 8) != 0; }

/*
 * Linear address of sel's descriptor, or false when the selector's index
 * lies beyond its table's limit (or TI = 1 and the LDTR is null). Never
 * faults.
 */
bool desc_addr(struct cpu *c, uint16_t sel, uint32_t *lin);

/*
 * Reads sel's descriptor into *d. Returns false, reading nothing, when
 * desc_addr() refuses the selector; page faults on the table itself are
 * raised. The caller checks for the null selector first where it matters.
 */
bool desc_fetch(struct cpu *c, uint16_t sel, struct desc *d);

/* desc_fetch() that raises vector(SEL_ERR(sel) | ext) for an index beyond
 * the table limit: the usual #GP(sel) / #TS(sel) case. */
void desc_fetch_or_fault(struct cpu *c, uint16_t sel, struct desc *d, int vector, uint32_t ext);

/* The checks RETF and IRET make on the code segment they return to (SDM
 * RET/IRET pseudocode): not null (#GP(0)), a code segment with RPL >= CPL,
 * DPL == RPL (non-conforming) or DPL <= RPL (conforming), else #GP(sel);
 * present, else #NP(sel). Fills *d. */
void desc_check_return_cs(struct cpu *c, uint16_t cs, struct desc *d);

/* The checks RETF and IRET make on the stack segment of an outer level they
 * return to: not null (#GP(0)), RPL == rpl, a writable data segment with
 * DPL == rpl, else #GP(sel); present, else #SS(sel). Fills *d. */
void desc_check_return_ss(struct cpu *c, uint16_t ss, unsigned rpl, struct desc *d);

/* Sets the accessed bit of a code/data descriptor in memory (and in *d) if
 * clear: a locked supervisor write of the high dword, as the P6 does. */
void desc_set_accessed(struct cpu *c, uint16_t sel, struct desc *d);

/* Writes the high dword of sel's descriptor back (busy bits of TSS
 * descriptors). sel must have passed desc_fetch. */
void desc_write_hi(struct cpu *c, uint16_t sel, uint32_t hi);

/* Fills segment cache s from descriptor d for selector sel (valid, base,
 * limit, ar) and recomputes its derived fields. No checks. */
void seg_from_desc(struct cpu *c, struct seg *s, uint16_t sel, const struct desc *d);

/* Makes s a null segment: selector sel, unusable until reloaded. */
void seg_set_null(struct cpu *c, struct seg *s, uint16_t sel);

/* Real-mode / V86 load: base = sel << 4. V86 also forces limit 0xffff and a
 * DPL 3 read/write data segment; real mode keeps limit and attributes
 * (so "unreal" mode limits survive, as on a P6). */
void seg_load_real(struct cpu *c, int s, uint16_t sel);

/* Loads CS from a code descriptor that passed its checks: RPL forced to
 * cpl, c->cpl = cpl. Does not set the accessed bit. */
void seg_load_cs(struct cpu *c, uint16_t sel, const struct desc *d, unsigned cpl);

/* After a return to an outer level (RETF, IRET): DS, ES, FS, GS holding
 * data or non-conforming code with DPL < CPL become null (SDM RET/IRET). */
void seg_null_inaccessible(struct cpu *c);

/* Stack-pointer slot of privilege level dpl in the current TSS (SS0:ESP0 ...
 * of a 32-bit TSS, SS0:SP0 ... of a 16-bit one); #TS(TR | ext) beyond the
 * TSS limit. */
void tss_stack_for(struct cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp, uint32_t ext);

/*
 * Checks a stack-segment selector taken from the TSS for an inner-level
 * transfer to cpl (call gate, interrupt): #TS(sel | ext) if null, beyond the
 * table, RPL or DPL != cpl, not writable data; #SS(sel | ext) if not
 * present. Returns its descriptor; sets its accessed bit.
 */
void check_new_ss_ts(struct cpu *c, uint16_t sel, unsigned cpl, struct desc *d, uint32_t ext);

/*
 * A stack being built or read outside the current SS (new privilege level,
 * or a new task): a private copy of the segment cache, the stack pointer,
 * the page-access kind and the error code for #SS on a limit violation.
 */
struct stk {
    struct seg ss;
    uint32_t esp;
    int acc;       /* 0 (supervisor) or ACC_USER */
    uint32_t err;  /* #SS error code */
};
/* #SS(k->err) unless 'bytes' bytes below k->esp are within the limit. */
void stk_room(struct cpu *c, const struct stk *k, uint32_t bytes);
void stk_push(struct cpu *c, struct stk *k, uint32_t v, int size);

#endif
