/*
 * --mode paravirt: hypercalls and event delivery through the guest's trap
 * table (paravirt.h has the design; docs/hypercalls.md the interface).
 *
 * Event delivery is the CPU's own: the trap table is turned into real
 * 32-bit trap gates in the VMM's IDT, and a reflected event is raised on the
 * real CPU with interception off, so the frame, the ring-3 -> ring-1 stack
 * switch (TSS.SS1:ESP1) and the gate's privilege check are exactly the
 * hardware's. Trap gates keep the real IF (always 1 in a deprivileged
 * guest); the pushed EFLAGS image carries the virtual IF instead, and an
 * entry flagged "clear IF" clears the virtual IF, so the guest's handler
 * sees an interrupt gate's semantics. The frame's pages are made present
 * in the shadow before delivery: a shadow miss during delivery would
 * otherwise reach the guest as its own page fault.
 *
 * Costs: a hypercall is one intercepted INT (no view switch); an MMU update
 * batch flushes the real TLB once; a reflected event is one native delivery.
 */
#include "paravirt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../cpu/decode.h"
#include "../cpu/descriptor.h"
#include "compress.h"
#include "shadow.h"
#include "vcpu.h"

static const char *const hc_names[PV_HYPERCALLS] = {
    [HC_CONSOLE_WRITE] = "console_write",
    [HC_SET_IF] = "set_if",
    [HC_LOAD_CR3] = "load_cr3",
    [HC_MMU_UPDATE] = "mmu_update",
    [HC_SET_TRAP_TABLE] = "set_trap_table",
    [HC_SET_TIMER] = "set_timer",
    [HC_YIELD] = "yield",
    [HC_SHUTDOWN] = "shutdown",
    [HC_GET_TIME] = "get_time",
    [HC_IRET] = "iret",
    [HC_STACK_SWITCH] = "stack_switch",
    [HC_GET_FAULT_ADDR] = "get_fault_addr",
};

const char *pv_hypercall_name(int nr)
{
    return nr >= 0 && nr < PV_HYPERCALLS ? hc_names[nr] : "unknown";
}

#define TSS_ESP1      12
#define TSS_SS1       16
#define MAX_CONSOLE   65536u
#define MAX_MMU_BATCH 4096u

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}
static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void timer_fire(void *ctx, uint64_t now)
{
    struct vcpu *v = ctx;
    (void)now;
    v->pv.timer_pending = true;
    vcpu_update_intr(v);
}

void pv_init(struct vcpu *v)
{
    v->pv.timer.fire = timer_fire;
    v->pv.timer.ctx = v;
}

/* A flat segment descriptor of the paravirtual GDT. */
static void put_flat(uint8_t *p, uint32_t limit_pages, uint32_t type, int dpl)
{
    uint32_t hi =
        (limit_pages & 0xf0000u) | AR_P | AR_S | type << 8 | (uint32_t)dpl << 13 | AR_DB | AR_G;
    wr32(p, limit_pages & 0xffff);
    wr32(p + 4, hi);
}

void pv_boot(struct vcpu *v)
{
    struct cpu *c = v->cpu;
    uint8_t *gdt = v->mem + VMM_GDT_OFF;
    uint32_t fenced = (VMM_FENCE + 1) / 4096 - 1; /* kernel segments end below the VMM */
    put_flat(gdt + (PV_SEL_KERNEL_CS & ~7), fenced, 0xb, 1);
    put_flat(gdt + (PV_SEL_KERNEL_DS & ~7), fenced, 0x3, 1);
    put_flat(gdt + (PV_SEL_USER_CS & ~7), 0xfffff, 0xb, 3);
    put_flat(gdt + (PV_SEL_USER_DS & ~7), 0xfffff, 0x3, 3);
    memset(v->mem + VMM_IDT_OFF, 0, 256 * 8);
    bus_timer_cancel(v->bus, &v->pv.timer);
    struct pv_state keep = v->pv;
    memset(&v->pv, 0, sizeof(v->pv));
    v->pv.timer = keep.timer;
    v->pv.console = keep.console;
    v->pv.shutdown = keep.shutdown;
    v->pv.ctx = keep.ctx;
    /* The boot state's selectors are the paravirtual GDT's (the Multiboot
     * caches are flat already; compress_seg made them DPL 1 and fenced). */
    c->seg[S_CS].sel = PV_SEL_KERNEL_CS;
    for (int s = 0; s < 6; s++)
        if (s != S_CS) c->seg[s].sel = PV_SEL_KERNEL_DS;
    /* The view (a direct page-table write emulated) sees the same tables. */
    v->gdtr = c->gdtr;
    v->idtr = c->idtr;
}

int pv_intr_ack(struct vcpu *v)
{
    if (v->mode != VM_MODE_PARAVIRT || !v->pv.timer_pending) return -1;
    v->pv.timer_pending = false;
    vcpu_update_intr(v);
    return PV_TIMER_VECTOR;
}

/* Reads n bytes of the guest's linear space; -1 if a page is not mapped. */
static int read_guest(struct vcpu *v, uint32_t lin, void *dst, uint32_t n)
{
    for (uint32_t k = 0; k < n;) {
        uint32_t pa, chunk = PAGE_SIZE - ((lin + k) & ~PAGE_MASK);
        if (chunk > n - k) chunk = n - k;
        if (lin + k >= VMM_BASE || mmu_probe(&v->gmmu, lin + k, &pa) != 0) return -1;
        bus_read_bytes(v->bus, pa, (uint8_t *)dst + k, chunk);
        k += chunk;
    }
    return 0;
}

__attribute__((format(printf, 2, 3))) static bool fatal(struct vcpu *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->fatal, sizeof(v->fatal), fmt, ap);
    va_end(ap);
    return false;
}

/* Makes the shadow map [lin, lin + n) writable for the guest kernel. */
static bool prefault(struct vcpu *v, uint32_t lin, uint32_t n)
{
    if (!(v->cr0 & CR0_PG)) return true; /* the identity shadow maps everything */
    for (uint32_t a = lin & PAGE_MASK; a - (lin & PAGE_MASK) < n + (lin & ~PAGE_MASK);
         a += PAGE_SIZE) {
        uint32_t gerr;
        bool ptw;
        switch (shadow_page_fault(v, a < lin ? lin : a, PF_W, &gerr, &ptw)) {
        case SPF_FIXED: break;
        case SPF_FATAL: return false;
        default:
            return fatal(v,
                         "paravirt: the kernel stack at %08x is not mapped writable "
                         "(or is a page table): cannot deliver an event",
                         a < lin ? lin : a);
        }
    }
    return true;
}

static const char *event_kind_name(enum cpu_event_kind k)
{
    switch (k) {
    case EV_FAULT: return "exception";
    case EV_TRAP: return "trap";
    case EV_SOFT: return "software interrupt";
    case EV_EXTERNAL: return "interrupt";
    case EV_NMI: return "NMI";
    }
    return "event";
}

/*
 * Delivers e through the trap table on the real CPU. A fault raised by the
 * delivery itself (a gate's privilege check, a bad stack) is delivered the
 * same way, with the hardware's double-fault rules; a triple fault ends the
 * guest.
 */
static bool deliver(struct vcpu *v, struct cpu_event e)
{
    struct cpu *c = v->cpu;
    const struct pv_gate *g = &v->pv.gate[e.vector & 0xff];
    if (!g->eip)
        return fatal(v, "paravirt: %s %d at %04x:%08x and no handler for it in the trap table",
                     event_kind_name(e.kind), e.vector, c->seg[S_CS].sel, c->eip);
    uint32_t sp =
        c->cpl == 3 ? rd32(v->mem + VMM_TSS_OFF + TSS_ESP1) : c->seg[S_SS].base + c->r[R_ESP];
    if (!prefault(v, sp - 24, 24)) return false;
    c->eflags = (c->eflags & ~(uint32_t)F_IF) | (v->flags & F_IF); /* the image the guest sees */
    c->intercept_events = false;
    cpu_raise_event(c, &e);
    c->intercept_events = true;
    c->eflags |= F_IF;
    if (c->exit_reason == CPU_EXIT_SHUTDOWN)
        return fatal(v, "paravirt: triple fault delivering %s %d", event_kind_name(e.kind),
                     e.vector);
    if (g->clear_if) v->flags &= ~(uint32_t)F_IF;
    c->halted = false;
    vcpu_update_intr(v);
    return true;
}

bool pv_reflect_page_fault(struct vcpu *v, struct cpu_event e, uint32_t lin, uint32_t gerr)
{
    v->pv.fault_addr = lin; /* HC_GET_FAULT_ADDR */
    v->cr2 = lin;
    e.err = gerr;
    return deliver(v, e);
}

static int32_t set_trap_table(struct vcpu *v, uint32_t ptr)
{
    if (!ptr) {
        memset(v->pv.gate, 0, sizeof(v->pv.gate));
        memset(v->mem + VMM_IDT_OFF, 0, 256 * 8);
        return 0;
    }
    struct pv_gate staged[256];
    bool set[256] = {0};
    memcpy(staged, v->pv.gate, sizeof(staged));
    int n = 0;
    for (;; n++) {
        uint8_t e[8];
        if (n == 256) return PV_EINVAL; /* no terminator within 256 entries */
        if (read_guest(v, ptr + 8u * (uint32_t)n, e, 8) < 0) return PV_EFAULT;
        uint32_t eip = rd32(e + 4);
        if (!eip) break;
        uint8_t vec = e[0], dpl = e[1] & 3;
        uint16_t cs = (uint16_t)(e[2] | e[3] << 8);
        if (vec == PV_HYPERCALL_VECTOR || (cs & ~3) != (PV_SEL_KERNEL_CS & ~3) || dpl == 2 ||
            (e[1] & 0x7c))
            return PV_EINVAL;
        staged[vec] = (struct pv_gate){eip, PV_SEL_KERNEL_CS, dpl ? dpl : 1, (e[1] & 0x80) != 0};
        set[vec] = true;
    }
    /* Valid as a whole: install (nothing changes on an error above). */
    for (int vec = 0; vec < 256; vec++) {
        if (!set[vec]) continue;
        const struct pv_gate *g = &staged[vec];
        uint8_t *p = v->mem + VMM_IDT_OFF + 8 * vec;
        wr32(p, (uint32_t)g->cs << 16 | (g->eip & 0xffff));
        wr32(p + 4, (g->eip & 0xffff0000u) | AR_P | (uint32_t)g->dpl << 13 | DT_TRAPGATE32 << 8);
    }
    memcpy(v->pv.gate, staged, sizeof(staged));
    return n;
}

/* The guest's paging changed behind the shadow: drop what derives from it
 * and flush both TLBs (the real one maps through the shadow; gmmu caches
 * walks of the guest's tables). */
static void repage(struct vcpu *v, bool all)
{
    struct cpu *c = v->cpu;
    if (all || !v->shadow_ready) shadow_flush(v);
    mmu_set_cr0(&v->gmmu, v->cr0);
    mmu_set_cr3(&v->gmmu, v->cr3);
    mmu_set_cr3(&c->mmu, c->cr3);
}

static int32_t load_cr3(struct vcpu *v, uint32_t pd)
{
    if ((pd & ~PAGE_MASK) || pd >= v->bus->ram_size) return PV_EINVAL;
    v->cr3 = pd;
    v->cr0 |= CR0_PG | CR0_WP; /* the first load turns paging on, for good */
    repage(v, true);
    return 0;
}

static int32_t mmu_update(struct vcpu *v, uint32_t ptr, uint32_t count)
{
    if (count > MAX_MMU_BATCH) return PV_EINVAL;
    int32_t done = 0, r = 0;
    for (uint32_t k = 0; k < count; k++) {
        uint8_t e[8];
        if (read_guest(v, ptr + 8 * k, e, 8) < 0) {
            r = PV_EFAULT;
            break;
        }
        uint32_t pa = rd32(e), val = rd32(e + 4);
        /* The entry must be guest RAM; a present entry must map guest RAM
         * (never the VMM's memory or another VM's: there is none on this
         * bus, and device memory is left out of the interface). */
        if ((pa & 3) || pa > v->bus->ram_size - 4 ||
            ((val & 1u) && (val & PAGE_MASK) >= v->bus->ram_size)) { /* P */
            r = PV_EINVAL;
            break;
        }
        bus_write(v->bus, pa, 4, val);
        shadow_frame_written(v, pa);
        done++;
    }
    if (done) repage(v, false);
    return done ? done : r;
}

static int32_t console_write(struct vcpu *v, uint32_t ptr, uint32_t len)
{
    if (len > MAX_CONSOLE) return PV_EINVAL;
    uint8_t buf[256];
    for (uint32_t k = 0; k < len;) {
        uint32_t n = len - k < sizeof(buf) ? len - k : (uint32_t)sizeof(buf);
        if (read_guest(v, ptr + k, buf, n) < 0) return k ? (int32_t)k : PV_EFAULT;
        if (v->pv.console) v->pv.console(v->pv.ctx, buf, n);
        k += n;
    }
    return (int32_t)len;
}

/* HC_IRET: the stack holds the EAX to restore, then an IRET frame. The
 * virtual IF comes from the frame's EFLAGS image, then the CPU's own IRET
 * (same level, or to ring 3) runs at the hypercall's address, so a fault it
 * raises is reported there (with the EAX slot already popped). */
static bool pv_iret(struct vcpu *v, uint32_t int_eip, int32_t *res)
{
    struct cpu *c = v->cpu;
    uint8_t slot[16];
    if (read_guest(v, c->seg[S_SS].base + c->r[R_ESP], slot, sizeof(slot)) < 0) {
        *res = PV_EFAULT;
        return false;
    }
    v->flags = (v->flags & ~(uint32_t)F_IF) | (rd32(slot + 12) & F_IF);
    c->r[R_EAX] = rd32(slot);
    c->r[R_ESP] += 4;
    static const uint8_t iretd = 0xcf;
    struct insn i;
    decode(&iretd, 1, 1, &i);
    c->eip = int_eip;
    int faulted;
    cpu_step_insn(c, &i, &faulted);
    vcpu_update_intr(v);
    return true;
}

/* Runs hypercall EAX. Returns false on a fatal condition. */
static bool hypercall(struct vcpu *v, uint32_t int_eip)
{
    struct cpu *c = v->cpu;
    uint32_t nr = c->r[R_EAX], b = c->r[R_EBX], cx = c->r[R_ECX];
    int32_t r = 0;
    v->stats.exits[VMEXIT_HYPERCALL]++;
    c->icount++;
    if (nr >= PV_HYPERCALLS) {
        v->pv.bad_calls++;
        c->r[R_EAX] = (uint32_t)PV_ENOSYS;
        return true;
    }
    v->pv.calls[nr]++;
    switch ((enum pv_hypercall)nr) {
    case HC_CONSOLE_WRITE: r = console_write(v, b, cx); break;
    case HC_SET_IF:
        if (b > 1) {
            r = PV_EINVAL;
            break;
        }
        r = (v->flags & F_IF) != 0;
        v->flags = (v->flags & ~(uint32_t)F_IF) | (b ? F_IF : 0);
        vcpu_update_intr(v);
        break;
    case HC_LOAD_CR3: r = load_cr3(v, b); break;
    case HC_MMU_UPDATE: r = mmu_update(v, b, cx); break;
    case HC_SET_TRAP_TABLE: r = set_trap_table(v, b); break;
    case HC_SET_TIMER: {
        uint64_t when = (uint64_t)cx << 32 | b;
        bus_timer_cancel(v->bus, &v->pv.timer);
        if (when)
            bus_timer_arm(v->bus, &v->pv.timer, when);
        break;
    }
    case HC_YIELD:
        /* Atomically enables virtual interrupts and waits for one (sti; hlt). */
        v->flags |= F_IF;
        vcpu_update_intr(v);
        if (!c->intr_line) c->halted = true;
        break;
    case HC_SHUTDOWN:
        if (v->pv.shutdown) v->pv.shutdown(v->pv.ctx, b);
        break;
    case HC_GET_TIME: {
        uint64_t t = bus_now_ns(v->bus);
        c->r[R_EDX] = (uint32_t)(t >> 32);
        r = (int32_t)(uint32_t)t;
        break;
    }
    case HC_IRET:
        if (pv_iret(v, int_eip, &r))
            return c->exit_reason != CPU_EXIT_EVENT || deliver(v, c->exit_event);
        break;
    case HC_STACK_SWITCH:
        if ((b & ~3u) != (PV_SEL_KERNEL_DS & ~3u)) {
            r = PV_EINVAL;
            break;
        }
        wr32(v->mem + VMM_TSS_OFF + TSS_SS1, PV_SEL_KERNEL_DS);
        wr32(v->mem + VMM_TSS_OFF + TSS_ESP1, cx);
        break;
    case HC_GET_FAULT_ADDR: r = (int32_t)v->pv.fault_addr; break;
    case PV_HYPERCALLS: break;
    }
    c->r[R_EAX] = (uint32_t)r;
    return true;
}

bool pv_handle_exit(struct vcpu *v, enum cpu_exit why)
{
    struct cpu *c = v->cpu;
    uint64_t *exits = v->stats.exits;
    if (why != CPU_EXIT_EVENT) return fatal(v, "paravirt: unexpected CPU exit %d", (int)why);
    struct cpu_event e = c->exit_event;
    switch (e.kind) {
    case EV_SOFT:
        if (e.vector == PV_HYPERCALL_VECTOR) {
            if (c->cpl == 1) return hypercall(v, c->prev_eip);
            /* From ring 3: the gate's DPL check fails, as for any INT n to
             * a kernel gate. */
            c->eip = c->prev_eip;
            exits[VMEXIT_EXCEPTION]++;
            return deliver(v,
                           (struct cpu_event){EX_GP, true, PV_HYPERCALL_VECTOR * 8 + 2, EV_FAULT});
        }
        exits[VMEXIT_SOFT_INT]++;
        c->icount++;
        return deliver(v, e);
    case EV_FAULT:
        if (e.vector == EX_PF)
            return vcpu_page_fault(v, e);
        exits[VMEXIT_EXCEPTION]++;
        return deliver(v, e);
    case EV_TRAP: exits[VMEXIT_EXCEPTION]++; return deliver(v, e);
    case EV_EXTERNAL:
    case EV_NMI:
        exits[e.kind == EV_NMI ? VMEXIT_NMI : VMEXIT_EXTERNAL_INT]++;
        c->halted = false;
        return deliver(v, e);
    }
    return true;
}
