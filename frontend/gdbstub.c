/*
 * --gdb tcp::PORT: a GDB remote-protocol stub for one VM (docs/gdb.md).
 *
 * The VM runs on the calling thread under the stub's control. The stub
 * listens on 127.0.0.1 only, waits for gdb before the first instruction (as
 * QEMU's -s -S), and then serves packets while the VM is stopped; `c` and
 * `s` run it in short host-time steps (vm_step) between which the socket is
 * polled for gdb's interrupt byte (0x03).
 *
 * Breakpoints never touch guest memory: the CPU's per-instruction hook
 * (cpu_env.trace, installed only with --gdb) compares the linear address of
 * the instruction about to execute with the breakpoints and, on a match,
 * abandons the instruction before it runs (cpu_abort_insn) and asks the
 * machine to pause. Single step lets one instruction through (or an
 * exception's delivery: the step stops at the handler's first instruction).
 * Write watchpoints compare the watched bytes at every instruction
 * boundary and stop after the instruction that changed them. So the guest
 * sees no INT3 in its code and no debug register change. Cost while
 * attached: the hook on every instruction (a few compares; a translation
 * and a read per watchpoint); without --gdb, nothing.
 *
 * Registers are the guest's view: in trap, vmm and paravirt mode the VMM's
 * RPL 1 on CS/SS is shown as the guest's CPL 0 (not in paravirt, where the
 * kernel knows its ring), and EFLAGS carries the virtual IF and IOPL.
 * Memory is read and written at linear addresses through the guest's own
 * page tables.
 */
#include "gdbstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../vmm/machine.h"
#include "gdbpacket.h"

#define MAX_BP 64
#define MAX_WATCH 4
#define PKT_MAX 4096

struct gdb {
    struct vm *vm;
    int lfd, fd;
    uint32_t bp[MAX_BP];
    int nbp;
    struct {
        uint32_t lin, len;
        uint8_t old[8];
    } watch[MAX_WATCH];
    int nwatch;
    int stepping;       /* 1: let one instruction through; 2: it went */
    int stop_sig;       /* 5 SIGTRAP, 2 SIGINT */
    int watch_hit;      /* index, -1 none */
    int cpu_watch_hit;  /* index into cpu.host_watch (read/access), -1 none */
    int64_t skip;       /* resume from a breakpoint: do not stop there first */
    bool stopped;
};

/* --- guest memory through the guest's page tables ------------------------ */

static struct mmu *guest_mmu(struct vm *vm)
{
    return vm->vcpu.mode == VM_MODE_EMULATE ? &vm->cpu.mmu : &vm->vcpu.gmmu;
}

static bool guest_paging(struct vm *vm)
{
    uint32_t cr0 = vm->vcpu.mode == VM_MODE_EMULATE || vm->vcpu.in_view ? vm->cpu.cr0 : vm->vcpu.cr0;
    return (cr0 & CR0_PG) != 0;
}

static int lin_to_phys(struct vm *vm, uint32_t lin, uint32_t *pa)
{
    if (!guest_paging(vm)) {
        *pa = lin;
        return 0;
    }
    return mmu_probe(guest_mmu(vm), lin, pa) == 0 ? 0 : -1;
}

static int mem_read(struct vm *vm, uint32_t lin, uint8_t *buf, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t pa;
        if (lin_to_phys(vm, lin + k, &pa) < 0)
            return k ? (int)k : -1;
        buf[k] = (uint8_t)bus_read(&vm->bus, pa, 1);
    }
    return (int)n;
}

static int mem_write(struct vm *vm, uint32_t lin, const uint8_t *buf, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t pa;
        if (lin_to_phys(vm, lin + k, &pa) < 0)
            return -1;
        bus_write(&vm->bus, pa, 1, buf[k]); /* write tracking drops decoded code */
    }
    return 0;
}

/* --- the hook ------------------------------------------------------------------ */

__attribute__((noreturn)) static void stop_here(struct gdb *g, struct cpu *c, int sig)
{
    g->stop_sig = sig;
    g->stopped = true;
    g->vm->pause_request = true;
    c->exit_request = 1;
    cpu_abort_insn(c);
}

static void hook(void *ctx, struct cpu *c, const struct insn *i)
{
    struct vm *vm = ctx;
    struct gdb *g = vm->gdb;
    (void)i;
    uint32_t lin = c->seg[S_CS].base + c->eip;
    /* First, so that a step whose instruction hit one reports the
     * watchpoint (and no stale hit survives the stop). */
    if (c->host_watch_hits) { /* a read/access watchpoint matched in the last instruction */
        g->cpu_watch_hit = __builtin_ctz(c->host_watch_hits);
        c->host_watch_hits = 0;
        stop_here(g, c, 5);
    }
    if (g->stepping) {
        if (g->stepping == 2)
            stop_here(g, c, 5);
        g->stepping = 2;
    }
    for (int k = 0; k < g->nwatch; k++) {
        uint8_t now[8];
        if (mem_read(vm, g->watch[k].lin, now, g->watch[k].len) == (int)g->watch[k].len &&
            memcmp(now, g->watch[k].old, g->watch[k].len)) {
            memcpy(g->watch[k].old, now, g->watch[k].len);
            g->watch_hit = k;
            stop_here(g, c, 5);
        }
    }
    if (g->skip >= 0 && (uint32_t)g->skip == lin) {
        g->skip = -1;
        return;
    }
    g->skip = -1;
    for (int k = 0; k < g->nbp; k++)
        if (g->bp[k] == lin)
            stop_here(g, c, 5);
}

/* --- packets -------------------------------------------------------------- */

static int put_raw(struct gdb *g, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(g->fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_packet(struct gdb *g, const char *body)
{
    size_t n = strlen(body);
    size_t cap = 2 * n + 5; /* every byte escaped, '$', '#', two digits */
    char *p = malloc(cap);
    int len = gdb_packet_frame(body, n, p, cap);
    int r = len < 0 ? -1 : put_raw(g, p, (size_t)len);
    free(p);
    return r; /* acks are read (and ignored) by the packet reader */
}

/* Reads one packet into buf (unescaped body, NUL-terminated). Returns its
 * length, -1 on EOF or error, -2 for an interrupt byte (0x03) outside a
 * packet. A packet with a bad checksum (or too long) is answered '-' and
 * gdb resends it. */
static int read_packet(struct gdb *g, char *buf, size_t cap)
{
    struct gdb_parser p;
    gdb_parser_init(&p, buf, cap);
    for (;;) {
        uint8_t ch;
        ssize_t r = read(g->fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        switch (gdb_parser_feed(&p, ch)) {
        case GDB_PKT_NONE: break;
        case GDB_PKT_INTERRUPT: return -2;
        case GDB_PKT_BAD: put_raw(g, "-", 1); break;
        case GDB_PKT_OK: put_raw(g, "+", 1); return (int)p.len;
        }
    }
}

/* --- registers ---------------------------------------------------------------- */

enum { NREGS = 16 }; /* eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs */
static const int seg_order[6] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};

static uint32_t reg_get(struct vm *vm, int n)
{
    struct cpu *c = &vm->cpu;
    bool compressed = vm->vcpu.mode == VM_MODE_TRAP || vm->vcpu.mode == VM_MODE_VMM;
    if (n < 8)
        return c->r[n];
    if (n == 8)
        return c->eip;
    if (n == 9) {
        uint32_t f = cpu_get_eflags(c);
        if (vm->vcpu.mode != VM_MODE_EMULATE && !vm->vcpu.in_view)
            f = (f & ~(uint32_t)(F_IF | F_IOPL)) | vm->vcpu.flags;
        return f;
    }
    uint16_t sel = c->seg[seg_order[n - 10]].sel;
    if (compressed && (n == 10 || n == 11) && (sel & 3) == 1 && vm->vcpu.cpl == 0)
        sel &= ~3u;
    return sel;
}

/* gdb's i386 numbering goes on with the x87 registers: 16-23 st0-7 (ST(i),
 * 10 bytes each, little-endian 80-bit), then fctrl fstat ftag (the full
 * tag word) fiseg fioff foseg fooff fop. They are sent (read-only; G and P
 * change the core registers only); SSE registers are not. */
enum { NREGS_X87_END = 32 };

static void put_hex_bytes(char *out, const uint8_t *b, int n)
{
    static const char hex[] = "0123456789abcdef";
    for (int k = 0; k < n; k++) {
        out[2 * k] = hex[b[k] >> 4];
        out[2 * k + 1] = hex[b[k] & 15];
    }
}

/* Writes register n (0 .. NREGS_X87_END - 1) in hex at out; returns the
 * number of characters written. */
static int put_reg(struct vm *vm, int n, char *out)
{
    const struct x87 *x = &vm->cpu.fpu;
    uint8_t b[10];
    int len = 4;
    uint32_t v = 0;
    if (n < NREGS) {
        v = reg_get(vm, n);
    } else if (n < 24) {
        floatx80 f = x->st[((x->sw >> 11) + (unsigned)(n - 16)) & 7];
        for (int k = 0; k < 8; k++)
            b[k] = (uint8_t)(f.mant >> (8 * k));
        b[8] = (uint8_t)f.sign_exp;
        b[9] = (uint8_t)(f.sign_exp >> 8);
        put_hex_bytes(out, b, 10);
        return 20;
    } else {
        const uint32_t ctl[8] = {x->cw, x->sw, x->tw, x->fcs, x->fip, x->fds, x->fdp, x->fop};
        v = ctl[n - 24];
    }
    for (int k = 0; k < len; k++)
        b[k] = (uint8_t)(v >> (8 * k));
    put_hex_bytes(out, b, len);
    return 2 * len;
}

static void reg_set(struct vm *vm, int n, uint32_t v)
{
    struct cpu *c = &vm->cpu;
    if (n < 8)
        c->r[n] = v;
    else if (n == 8)
        c->eip = v;
    /* EFLAGS and segment registers stay: changing them needs the CPU's
     * own checks (a debugger write is refused rather than half-done). */
}

/* Parses 8 hex digits as a little-endian 32-bit value; false if malformed. */
static bool get_le32(const char *in, uint32_t *v)
{
    uint8_t b[4];
    if (!gdb_hex_decode(in, b, 4))
        return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

/* The target description gdb reads with qXfer:features:read:target.xml: the
 * i386 core feature, in the register order of the g packet (put_reg). */
static const char target_xml[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\"><architecture>i386</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">"
    "<flags id=\"i386_eflags\" size=\"4\">"
    "<field name=\"CF\" start=\"0\" end=\"0\"/> <field name=\"\" start=\"1\" end=\"1\"/> <field name=\"PF\" start=\"2\" end=\"2\"/> <field name=\"AF\" start=\"4\" end=\"4\"/> <field name=\"ZF\" start=\"6\" end=\"6\"/> <field name=\"SF\" start=\"7\" end=\"7\"/> <field name=\"TF\" start=\"8\" end=\"8\"/> <field name=\"IF\" start=\"9\" end=\"9\"/> <field name=\"DF\" start=\"10\" end=\"10\"/> <field name=\"OF\" start=\"11\" end=\"11\"/> <field name=\"NT\" start=\"14\" end=\"14\"/> <field name=\"RF\" start=\"16\" end=\"16\"/> <field name=\"VM\" start=\"17\" end=\"17\"/> <field name=\"AC\" start=\"18\" end=\"18\"/> <field name=\"VIF\" start=\"19\" end=\"19\"/> <field name=\"VIP\" start=\"20\" end=\"20\"/> <field name=\"ID\" start=\"21\" end=\"21\"/>"
    "</flags>"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\" regnum=\"1\"/>"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\" regnum=\"2\"/>"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\" regnum=\"3\"/>"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\" regnum=\"4\"/>"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\" regnum=\"5\"/>"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\" regnum=\"6\"/>"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\" regnum=\"7\"/>"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\" regnum=\"8\"/>"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\" regnum=\"9\"/>"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\" regnum=\"10\"/>"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\" regnum=\"11\"/>"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\" regnum=\"12\"/>"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\" regnum=\"13\"/>"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\" regnum=\"14\"/>"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\" regnum=\"15\"/>"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\" regnum=\"16\"/>"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\" regnum=\"17\"/>"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\" regnum=\"18\"/>"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\" regnum=\"19\"/>"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\" regnum=\"20\"/>"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\" regnum=\"21\"/>"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\" regnum=\"22\"/>"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\" regnum=\"23\"/>"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"24\"/>"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"25\"/>"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"26\"/>"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"27\"/>"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"28\"/>"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"29\"/>"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"30\"/>"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"31\"/>"
    "</feature></target>";

/* qXfer:features:read:target.xml:OFF,LEN: a chunk, 'm' (more) or 'l' (last). */
static void xfer_target_xml(const char *args, char *out, size_t cap)
{
    uint32_t off, len;
    const char *p = args;
    if (!gdb_parse_hex(&p, &off) || *p++ != ',' || !gdb_parse_hex(&p, &len) || *p) {
        snprintf(out, cap, "E01");
        return;
    }
    size_t total = sizeof(target_xml) - 1;
    if (len > cap - 2)
        len = (uint32_t)(cap - 2);
    if (off >= total) {
        snprintf(out, cap, "l");
        return;
    }
    size_t n = total - off < len ? total - off : len;
    out[0] = off + n < total ? 'm' : 'l';
    memcpy(out + 1, target_xml + off, n);
    out[1 + n] = 0;
}

/* --- the session --------------------------------------------------------------- */

static void stop_reply(struct gdb *g, char *out, size_t n)
{
    if (g->watch_hit >= 0) {
        snprintf(out, n, "T05watch:%x;", g->watch[g->watch_hit].lin);
        g->watch_hit = -1;
    } else if (g->cpu_watch_hit >= 0) {
        struct cpu *c = &g->vm->cpu;
        snprintf(out, n, "T05%s:%x;", c->host_watch[g->cpu_watch_hit].writes ? "awatch" : "rwatch",
                 c->host_watch[g->cpu_watch_hit].lin);
        g->cpu_watch_hit = -1;
    } else {
        snprintf(out, n, "S%02x", g->stop_sig ? g->stop_sig : 5);
    }
}

static int set_bp(struct gdb *g, char type, uint32_t addr, uint32_t len, bool insert)
{
    if (type == '0' || type == '1') {
        for (int k = 0; k < g->nbp; k++)
            if (g->bp[k] == addr) {
                if (!insert)
                    g->bp[k] = g->bp[--g->nbp];
                return 0;
            }
        if (!insert)
            return 0;
        if (g->nbp == MAX_BP)
            return -1;
        g->bp[g->nbp++] = addr;
        return 0;
    }
    if (type == '2') { /* write watchpoint */
        for (int k = 0; k < g->nwatch; k++)
            if (g->watch[k].lin == addr) {
                if (!insert)
                    g->watch[k] = g->watch[--g->nwatch];
                return 0;
            }
        if (!insert)
            return 0;
        if (g->nwatch == MAX_WATCH || len == 0 || len > 8)
            return -1;
        g->watch[g->nwatch].lin = addr;
        g->watch[g->nwatch].len = len;
        if (mem_read(g->vm, addr, g->watch[g->nwatch].old, len) != (int)len)
            return -1;
        g->nwatch++;
        return 0;
    }
    if (type == '3' || type == '4') { /* read / access: matched by the CPU (cpu/mem.c) */
        struct cpu *c = &g->vm->cpu;
        bool writes = type == '4';
        for (int k = 0; k < c->n_host_watch; k++)
            if (c->host_watch[k].lin == addr && c->host_watch[k].writes == writes) {
                if (!insert) {
                    c->host_watch[k] = c->host_watch[--c->n_host_watch];
                    c->host_watch_hits = 0;
                    cpu_debug_regs_changed(c);
                }
                return 0;
            }
        if (!insert)
            return 0;
        if (c->n_host_watch == (int)(sizeof(c->host_watch) / sizeof(c->host_watch[0])) || len == 0 ||
            len > 8)
            return -1;
        c->host_watch[c->n_host_watch].lin = addr;
        c->host_watch[c->n_host_watch].len = len;
        c->host_watch[c->n_host_watch].writes = writes;
        c->n_host_watch++;
        cpu_debug_regs_changed(c);
        return 0;
    }
    return 1; /* unknown kind: the empty reply */
}

/* Runs until a stop; returns 0 stopped, 1 the run ended, -1 gdb went away. */
static int resume(struct gdb *g, volatile sig_atomic_t *stop)
{
    struct vm *vm = g->vm;
    g->stopped = false;
    g->stop_sig = 0;
    g->skip = vm->cpu.seg[S_CS].base + vm->cpu.eip;
    for (;;) {
        if (vm_step(vm, stop, vm_host_now() + 0.05) == VM_STEP_END)
            return 1;
        if (g->stopped)
            return 0;
        struct pollfd p = {g->fd, POLLIN, 0};
        if (poll(&p, 1, 0) > 0) {
            char ch;
            ssize_t r = read(g->fd, &ch, 1);
            if (r <= 0)
                return -1;
            if (ch == 0x03) {
                g->stop_sig = 2;
                g->stopped = true;
                return 0;
            }
        }
        if (vm->idle_until > 0) { /* halted until a timer: wait on the socket meanwhile */
            double wait = vm->idle_until - vm_host_now();
            if (wait > 0)
                poll(&p, 1, (int)(wait * 1000) + 1);
        }
    }
}

int gdb_listen(const char *spec, int *out_fd, int *out_port, char *err, size_t errlen)
{
    const char *p = spec;
    if (!strncmp(p, "tcp:", 4))
        p += 4;
    if (*p == ':')
        p++;
    else if (!strncmp(p, "127.0.0.1:", 10) || !strncmp(p, "localhost:", 10))
        p = strchr(p, ':') + 1;
    char *end;
    long port = strtol(p, &end, 10);
    if (strncmp(spec, "tcp:", 4) || *end || end == p || port < 0 || port > 65535) {
        snprintf(err, errlen, "--gdb '%s': expected tcp::PORT (PORT 0 picks a free one)", spec);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
        snprintf(err, errlen, "--gdb '%s': cannot listen on 127.0.0.1:%ld: %s", spec, port,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *out_fd = fd;
    *out_port = ntohs(a.sin_port);
    return 0;
}

enum vm_end gdb_serve(struct vm *vm, int lfd, volatile sig_atomic_t *stop)
{
    struct gdb g = {.vm = vm, .lfd = lfd, .fd = -1, .watch_hit = -1, .cpu_watch_hit = -1, .skip = -1};
    vm->gdb = &g;
    vm->env.trace = hook;
    vm_start(vm);
    while (g.fd < 0 && !*stop) {
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0)
            g.fd = accept(lfd, NULL, NULL);
    }
    if (g.fd < 0) {
        vm_end_now(vm, VM_END_INTERRUPTED);
        close(lfd);
        return vm->end;
    }
    int one = 1;
    setsockopt(g.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char *in = malloc(PKT_MAX), *out = malloc(2 * PKT_MAX + 64);
    bool ended = false, killed = false;
    g.stop_sig = 5;
    while (!ended) {
        int n = read_packet(&g, in, PKT_MAX);
        if (n == -1)
            break; /* gdb went away: the VM runs on to its end, unobserved */
        if (n == -2)
            continue; /* an interrupt while already stopped */
        out[0] = 0;
        switch (in[0]) {
        case '?': stop_reply(&g, out, 64); break;
        case 'g':
        {
            int o = 0;
            for (int k = 0; k < NREGS_X87_END; k++)
                o += put_reg(vm, k, out + o);
            out[o] = 0;
            break;
        }
        case 'G':
            strcpy(out, "OK");
            for (int k = 0; k < NREGS && (int)strlen(in + 1) >= 8 * (k + 1); k++) {
                uint32_t v;
                if (!get_le32(in + 1 + 8 * k, &v)) {
                    strcpy(out, "E01");
                    break;
                }
                reg_set(vm, k, v);
            }
            break;
        case 'p': {
            long r = strtol(in + 1, NULL, 16);
            if (r >= 0 && r < NREGS_X87_END) {
                out[put_reg(vm, (int)r, out)] = 0;
            } else {
                strcpy(out, "E01");
            }
            break;
        }
        case 'P': {
            char *eq = strchr(in, '=');
            long r = strtol(in + 1, NULL, 16);
            uint32_t v;
            if (eq && r >= 0 && r < 9 && strlen(eq + 1) >= 8 && get_le32(eq + 1, &v)) {
                reg_set(vm, (int)r, v);
                strcpy(out, "OK");
            } else {
                strcpy(out, "E01");
            }
            break;
        }
        case 'm': {
            unsigned long addr, len;
            if (sscanf(in + 1, "%lx,%lx", &addr, &len) != 2 || len > PKT_MAX / 2) {
                strcpy(out, "E01");
                break;
            }
            uint8_t *buf = malloc(len ? len : 1);
            int got = mem_read(vm, (uint32_t)addr, buf, (uint32_t)len);
            if (got <= 0 && len) {
                strcpy(out, "E14");
            } else {
                for (int k = 0; k < got; k++)
                    sprintf(out + 2 * k, "%02x", buf[k]);
                out[2 * (got > 0 ? got : 0)] = 0;
            }
            free(buf);
            break;
        }
        case 'X': { /* binary write: the parser already undid the '}' escapes */
            const char *p = in + 1;
            uint32_t addr, len;
            const char *colon = strchr(in, ':');
            if (!gdb_parse_hex(&p, &addr) || *p++ != ',' || !gdb_parse_hex(&p, &len) || p != colon ||
                (size_t)(n - (colon + 1 - in)) != len) {
                strcpy(out, "E01");
                break;
            }
            strcpy(out, mem_write(vm, addr, (const uint8_t *)colon + 1, len) < 0 ? "E14" : "OK");
            break;
        }
        case 'M': {
            unsigned long addr, len;
            char *colon = strchr(in, ':');
            if (sscanf(in + 1, "%lx,%lx", &addr, &len) != 2 || !colon ||
                strlen(colon + 1) < 2 * len || len > PKT_MAX / 2) {
                strcpy(out, "E01");
                break;
            }
            uint8_t *buf = malloc(len ? len : 1);
            if (!gdb_hex_decode(colon + 1, buf, len))
                strcpy(out, "E01");
            else
                strcpy(out, mem_write(vm, (uint32_t)addr, buf, (uint32_t)len) < 0 ? "E14" : "OK");
            free(buf);
            break;
        }
        case 'Z':
        case 'z': {
            char type = in[1];
            unsigned long addr, len;
            if (sscanf(in + 2, ",%lx,%lx", &addr, &len) != 2) {
                strcpy(out, "E01");
                break;
            }
            int r = set_bp(&g, type, (uint32_t)addr, (uint32_t)len, in[0] == 'Z');
            strcpy(out, r == 0 ? "OK" : r < 0 ? "E01" : "");
            break;
        }
        case 'c':
        case 's':
        case 'v':
            if (in[0] == 'v') {
                if (!strncmp(in, "vCont?", 6)) {
                    strcpy(out, "vCont;c;C;s;S");
                    break;
                }
                if (strncmp(in, "vCont;", 6)) {
                    out[0] = 0; /* vMustReplyEmpty and the rest */
                    break;
                }
                g.stepping = (in[6] == 's' || in[6] == 'S') ? 1 : 0;
            } else {
                g.stepping = in[0] == 's' ? 1 : 0;
            }
            {
                int r = resume(&g, stop);
                g.stepping = 0;
                if (r < 0) {
                    ended = true;
                    continue;
                }
                if (r == 1) {
                    snprintf(out, 64, "W%02x", vm->exit_status & 0xff);
                    ended = true;
                } else {
                    stop_reply(&g, out, 64);
                }
            }
            break;
        case 'D':
            strcpy(out, "OK");
            ended = true;
            break;
        case 'k':
            killed = ended = true;
            break;
        case 'H': strcpy(out, "OK"); break;
        case 'T': strcpy(out, "OK"); break;
        case 'q':
            if (!strncmp(in, "qSupported", 10))
                snprintf(out, 80, "PacketSize=%x;swbreak+;hwbreak+;qXfer:features:read+", PKT_MAX);
            else if (!strncmp(in, "qXfer:features:read:target.xml:", 31))
                xfer_target_xml(in + 31, out, PKT_MAX);
            else if (!strcmp(in, "qAttached"))
                strcpy(out, "1");
            else if (!strcmp(in, "qC"))
                strcpy(out, "QC1");
            else if (!strcmp(in, "qfThreadInfo"))
                strcpy(out, "m1");
            else if (!strcmp(in, "qsThreadInfo"))
                strcpy(out, "l");
            else if (!strncmp(in, "qOffsets", 8))
                strcpy(out, "Text=0;Data=0;Bss=0");
            break;
        default: break; /* unsupported: the empty reply */
        }
        if (in[0] != 'k')
            send_packet(&g, out);
    }
    free(in);
    free(out);
    vm->env.trace = NULL;
    if (vm->cpu.n_host_watch) { /* gdb left: its read/access watchpoints go too */
        vm->cpu.n_host_watch = 0;
        vm->cpu.host_watch_hits = 0;
        cpu_debug_regs_changed(&vm->cpu);
    }
    vm->gdb = NULL;
    if (vm->end == VM_END_NONE) {
        if (killed)
            vm_end_now(vm, VM_END_INTERRUPTED);
        else /* detached, or gdb went away: the VM runs on to its end, unobserved */
            while (vm_step(vm, stop, 0) != VM_STEP_END)
                continue;
    }
    close(g.fd);
    close(lfd);
    return vm->end;
}

struct gdb_thread {
    struct vm *vm;
    int lfd;
    volatile sig_atomic_t *stop;
    pthread_t th;
};

static void *serve_main(void *arg)
{
    struct gdb_thread *t = arg;
    gdb_serve(t->vm, t->lfd, t->stop);
    return NULL;
}

struct gdb_thread *gdb_serve_thread(struct vm *vm, const char *spec, volatile sig_atomic_t *stop,
                                    char *err, size_t errlen)
{
    int lfd, port;
    if (gdb_listen(spec, &lfd, &port, err, errlen) < 0)
        return NULL;
    struct gdb_thread *t = malloc(sizeof(*t));
    if (!t) {
        close(lfd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *t = (struct gdb_thread){.vm = vm, .lfd = lfd, .stop = stop};
    fprintf(stderr, "trapeze: %s: waiting for gdb on 127.0.0.1:%d (target remote :%d)\n",
            vm->cfg.name, port, port);
    if (pthread_create(&t->th, NULL, serve_main, t)) {
        close(lfd);
        free(t);
        snprintf(err, errlen, "cannot start the gdb stub's thread");
        return NULL;
    }
    return t;
}

void gdb_thread_join(struct gdb_thread *t)
{
    pthread_join(t->th, NULL);
    free(t);
}
