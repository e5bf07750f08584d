/*
 * --mode paravirt: the hypercall interface (docs/hypercalls.md is its
 * reference; this file and paravirt.c are the implementation).
 *
 * A paravirtual kernel runs at real ring 1 and knows it: it never executes
 * a privileged, IOPL-sensitive or critical instruction for its kernel work
 * and asks the VMM with INT 0x82 instead. What differs from trap/vmm mode:
 *   - the real GDT is the VMM's fixed paravirtual GDT (PV_SEL_*), not a
 *     shadow of a guest table;
 *   - the real IDT is built from the guest's trap table (HC_SET_TRAP_TABLE):
 *     every event the VMM reflects is delivered by the CPU itself through
 *     it, at real ring 1, with the real frame (CS RPL 1); the VMM's TSS holds
 *     the ring-1 stack of HC_STACK_SWITCH for events taken at ring 3;
 *   - nothing executes in the guest's view except a direct page-table write
 *     (shadow_emulation), which stays correct;
 *   - a privileged instruction is not emulated: its #GP is reflected.
 * The shadow page tables, the virtual IF and the intercepted events are
 * those of the other deprivileged modes.
 */
#ifndef TRAPEZE_VMM_PARAVIRT_H
#define TRAPEZE_VMM_PARAVIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../mmu/bus.h"

#define PV_HYPERCALL_VECTOR 0x82
#define PV_TIMER_VECTOR     0x20

/* The paravirtual GDT (real selectors, what the guest loads and sees). */
#define PV_SEL_KERNEL_CS 0x09 /* ring 1, flat, ends at 0xFFBFFFFF */
#define PV_SEL_KERNEL_DS 0x11
#define PV_SEL_USER_CS   0x1b /* ring 3, flat 4 GiB (the VMM's pages are supervisor-only) */
#define PV_SEL_USER_DS   0x23
#define PV_GDT_LIMIT     0x27

/* Hypercall numbers (EAX); docs/hypercalls.md. */
enum pv_hypercall {
    HC_CONSOLE_WRITE,
    HC_SET_IF,
    HC_LOAD_CR3,
    HC_MMU_UPDATE,
    HC_SET_TRAP_TABLE,
    HC_SET_TIMER,
    HC_YIELD,
    HC_SHUTDOWN,
    HC_GET_TIME,
    HC_IRET,
    HC_STACK_SWITCH,
    HC_GET_FAULT_ADDR,
    PV_HYPERCALLS
};

/* Error results (EAX), Linux's errno values negated. */
#define PV_EFAULT (-14)
#define PV_EINVAL (-22)
#define PV_ENOSYS (-38)

struct pv_gate {
    uint32_t eip; /* 0: no handler */
    uint16_t cs;
    uint8_t dpl;   /* the lowest privilege that may INT n to it: 1 or 3 */
    bool clear_if; /* clear the virtual IF on entry ("interrupt gate") */
};

struct pv_state {
    struct pv_gate gate[256];
    uint32_t fault_addr; /* the linear address of the last #PF reflected */
    struct vtimer timer; /* HC_SET_TIMER's one-shot deadline */
    bool timer_pending;  /* it fired and vector 0x20 is not delivered yet */
    uint64_t calls[PV_HYPERCALLS];
    uint64_t bad_calls; /* unknown numbers */
    /* What the VM provides: the console and the end of the run. */
    void (*console)(void *ctx, const uint8_t *buf, size_t n);
    void (*shutdown)(void *ctx, uint32_t status);
    void *ctx;
};

struct vcpu;
enum cpu_exit;

/* Arms nothing; registers the timer with the VM's bus. */
void pv_init(struct vcpu *v);
/* At boot (after compress_init): the paravirtual GDT and an empty trap table. */
void pv_boot(struct vcpu *v);
/* Handles one exit of a paravirtual guest. Returns false on a fatal
 * condition (v->fatal says which). */
bool pv_handle_exit(struct vcpu *v, enum cpu_exit why);
/* The interrupt acknowledge of a paravirtual VM: the timer's vector, or -1
 * when it is not pending (the caller asks the PIC). */
int pv_intr_ack(struct vcpu *v);
/* The guest's own page fault at lin (error code gerr from its tables),
 * delivered through its trap table. */
struct cpu_event;
bool pv_reflect_page_fault(struct vcpu *v, struct cpu_event e, uint32_t lin, uint32_t gerr);

const char *pv_hypercall_name(int nr);

#endif
