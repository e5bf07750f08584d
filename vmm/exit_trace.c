/* --trace-exits (exit_trace.h has the format and the costs). */
#include "exit_trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/decode.h"
#include "shadow.h"
#include "vcpu.h"

#define CODE_BYTES 24

struct exit_trace {
    FILE *f;
    bool owned;
    uint64_t seq;
    struct cpu *saved_cpu;   /* trap-mode observation: the state before the view */
    struct vcpu *saved_vcpu;
};

struct exit_trace *exit_trace_open(const char *path, char *err, size_t errlen)
{
    struct exit_trace *t = calloc(1, sizeof(*t));
    if (t) {
        t->saved_cpu = malloc(sizeof(struct cpu));
        t->saved_vcpu = malloc(sizeof(struct vcpu));
    }
    if (!t || !t->saved_cpu || !t->saved_vcpu) {
        snprintf(err, errlen, "--trace-exits: out of memory");
        goto fail;
    }
    if (!strcmp(path, "-")) {
        t->f = stdout;
    } else {
        t->f = fopen(path, "w");
        t->owned = true;
        if (!t->f) {
            snprintf(err, errlen, "--trace-exits: cannot create '%s': %s", path, strerror(errno));
            goto fail;
        }
    }
    return t;
fail:
    if (t) {
        free(t->saved_cpu);
        free(t->saved_vcpu);
    }
    free(t);
    return NULL;
}

int exit_trace_close(struct exit_trace *t, char *err, size_t errlen)
{
    if (!t)
        return 0;
    int r = 0;
    if (fflush(t->f) != 0 || ferror(t->f) || (t->owned && fclose(t->f) != 0)) {
        snprintf(err, errlen, "--trace-exits: error writing the trace");
        r = -1;
    }
    free(t->saved_cpu);
    free(t->saved_vcpu);
    free(t);
    return r;
}

/* The guest's CPL for a real one (ring compression: real 1 is guest 0). */
static uint8_t guest_cpl(const struct vcpu *v)
{
    uint8_t cpl = v->cpu->cpl;
    return v->mode != VM_MODE_PARAVIRT && cpl == 1 ? 0 : cpl;
}

void exit_trace_site(const struct vcpu *v, bool event, struct exit_site *s)
{
    const struct cpu *c = v->cpu;
    memset(s, 0, sizeof(*s));
    s->cs = c->seg[S_CS].sel;
    if (v->mode != VM_MODE_PARAVIRT && (s->cs & 3) == 1)
        s->cs &= ~3u; /* the selector the guest believes it has */
    s->eip = c->eip;
    s->lin = c->seg[S_CS].base + c->eip;
    s->cpl = guest_cpl(v);
    s->icount = c->icount;
    if (event) {
        s->has_event = true;
        s->vector = c->exit_event.vector;
        s->has_err = c->exit_event.has_err;
        s->err = c->exit_event.err;
    }
}

/* The instruction at the site, decoded from guest memory: its mnemonic and
 * bytes, or "-" (an interrupt between instructions, or unreadable). */
static void site_insn(struct vcpu *v, const struct exit_site *s, bool at_insn, char *mn,
                      size_t mnlen, char *hex, size_t hexlen)
{
    snprintf(mn, mnlen, "-");
    snprintf(hex, hexlen, "-");
    if (!at_insn)
        return;
    uint8_t buf[15];
    shadow_read_guest(v, s->lin, buf, sizeof(buf));
    struct insn i;
    if (decode(buf, sizeof(buf), v->cpu->seg[S_CS].ar & AR_DB ? 1 : 0, &i) != DEC_OK)
        return;
    snprintf(mn, mnlen, "%s", i.op->mnemonic);
    size_t o = 0;
    for (unsigned k = 0; k < i.len && o + 3 < hexlen; k++)
        o += (size_t)snprintf(hex + o, hexlen - o, "%02x", buf[k]);
}

static void put_line(struct vcpu *v, const char *reason, const struct exit_site *s, bool at_insn,
                     const char *diverges)
{
    struct exit_trace *t = v->xtrace;
    char mn[16], hex[32];
    site_insn(v, s, at_insn, mn, sizeof(mn), hex, sizeof(hex));
    fprintf(t->f, "%llu %llu %s %04x:%08x cpl=%u %s bytes=%s", (unsigned long long)++t->seq,
            (unsigned long long)s->icount, reason, s->cs, s->eip, s->cpl, mn, hex);
    if (s->has_event) {
        fprintf(t->f, " vector=%d", s->vector);
        if (s->has_err)
            fprintf(t->f, " err=%x", s->err);
    }
    if (diverges) {
        /* The code from the instruction on, to match against a guest's own
         * dump (a Linux oops' Code: line). */
        uint8_t code[CODE_BYTES];
        shadow_read_guest(v, s->lin, code, sizeof(code));
        fprintf(t->f, " code=");
        for (unsigned k = 0; k < sizeof(code); k++)
            fprintf(t->f, "%02x", code[k]);
        fprintf(t->f, " diverges=%s", diverges);
    }
    fputc('\n', t->f);
}

void exit_trace_log(struct vcpu *v, const char *reason, const struct exit_site *s)
{
    /* External interrupts and NMIs arrive between instructions. */
    bool at_insn = !s->has_event || (strcmp(reason, "external_interrupt") && strcmp(reason, "nmi"));
    put_line(v, reason, s, at_insn, NULL);
}

/* What a critical instruction leaves that the guest can see. */
struct outcome {
    uint32_t r[8], eip, eflags;
    uint16_t sel[6];
    uint32_t vflags;           /* virtual IF and IOPL */
    uint8_t stack[8], mem[6];
};

static void take_outcome(struct vcpu *v, uint32_t stack_lin, uint32_t mem_lin, bool has_mem,
                         struct outcome *o)
{
    const struct cpu *c = v->cpu;
    memset(o, 0, sizeof(*o));
    memcpy(o->r, c->r, sizeof(o->r));
    o->eip = c->eip;
    /* Arithmetic and control flags; IF and IOPL are compared virtually. */
    o->eflags = c->eflags & ~(uint32_t)(F_IF | F_IOPL | F_RF);
    for (int s = 0; s < 6; s++)
        o->sel[s] = c->seg[s].sel;
    o->vflags = v->flags & (F_IF | F_IOPL);
    shadow_read_guest(v, stack_lin, o->stack, sizeof(o->stack));
    if (has_mem)
        shadow_read_guest(v, mem_lin, o->mem, sizeof(o->mem));
}

static void describe(const struct outcome *a, const struct outcome *b, char *out, size_t n)
{
    static const char *const regs[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    static const char *const segs[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    size_t o = 0;
    out[0] = 0;
#define ADD(name)                                                                                  \
    do {                                                                                           \
        int w_ = snprintf(out + o, n - o, "%s%s", o ? "," : "", name);                             \
        if (w_ > 0 && (size_t)w_ < n - o)                                                          \
            o += (size_t)w_;                                                                       \
    } while (0)
    for (int k = 0; k < 8; k++)
        if (a->r[k] != b->r[k])
            ADD(regs[k]);
    if (a->eip != b->eip)
        ADD("eip");
    if (a->eflags != b->eflags)
        ADD("eflags");
    for (int s = 0; s < 6; s++)
        if (a->sel[s] != b->sel[s])
            ADD(segs[s]);
    if ((a->vflags ^ b->vflags) & F_IF)
        ADD("if");
    if ((a->vflags ^ b->vflags) & F_IOPL)
        ADD("iopl");
    if (memcmp(a->stack, b->stack, sizeof(a->stack)))
        ADD("stack");
    if (memcmp(a->mem, b->mem, sizeof(a->mem)))
        ADD("memory");
#undef ADD
    if (!o)
        snprintf(out, n, "none");
}

int exit_trace_observe(struct vcpu *v, const struct insn *i)
{
    struct exit_trace *t = v->xtrace;
    struct cpu *c = v->cpu;
    struct exit_site site;
    exit_trace_site(v, false, &site);
    uint32_t stack_lin = c->seg[S_SS].base + c->r[R_ESP] - 8;
    bool has_mem = i->op->operands[0] && i->mod != 3 && strchr("EM", i->op->operands[0]) &&
                   !(i->op->attr & A_MODRM_REG);
    uint32_t mem_lin = has_mem ? c->seg[i->seg].base + insn_ea(c, i) : 0;
    uint64_t flushes = v->shadow_flushes;
    int faulted;

    /* 1. In the guest's view, on a copy: what the guest should see. Its
     * memory writes (the stack slot, the operand) are redone natively at
     * the same addresses; a fault in the view pushes a frame below ESP,
     * which the guest does not own. */
    memcpy(t->saved_cpu, c, sizeof(*c));
    memcpy(t->saved_vcpu, v, sizeof(*v));
    struct outcome view, native;
    vcpu_view_enter(v);
    cpu_step_insn(c, i, &faulted);
    vcpu_view_leave(v);
    take_outcome(v, stack_lin, mem_lin, has_mem, &view);
    bool view_flushed = v->shadow_flushes != flushes;
    memcpy(c, t->saved_cpu, sizeof(*c));
    memcpy(v, t->saved_vcpu, sizeof(*v));
    if (view_flushed) {
        /* The shadow tables live in VMM memory, not in the copy: start
         * them over, and the real TLB with them. */
        shadow_flush(v);
        mmu_set_cr3(&c->mmu, c->cr3);
    }

    /* 2. Natively, as trap mode runs it. */
    cpu_step_insn(c, i, &faulted);
    if (c->exit_reason == CPU_EXIT_EVENT) {
        put_line(v, "critical_native", &site, true, "event");
        return CPU_EXIT_EVENT;
    }
    take_outcome(v, stack_lin, mem_lin, has_mem, &native);
    char what[128];
    describe(&view, &native, what, sizeof(what));
    put_line(v, "critical_native", &site, true, what);
    return CPU_EXIT_NONE;
}
