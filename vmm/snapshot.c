/*
 * Snapshots: --save-state / --load-state (docs/snapshots.md has the format).
 *
 * A snapshot is the whole VM: CPU with the x87, vCPU and VMM state (the
 * VMM's memory with its shadow tables, the write-protection set), every
 * device, the bus's A20 gate, guest RAM and the VGA's memory, the virtual
 * clock and the armed timers. Sections carry each structure's bytes; on
 * load the bytes replace a freshly created VM's (same configuration), and
 * every field that is configuration rather than state (pointers to the bus,
 * callbacks, sinks, host memory) is kept from the fresh VM, field by field,
 * below. So a snapshot is read by the same trapeze build that wrote it (the
 * header's layout signature checks that) on any host, with the same images
 * (the header records the kernel's and initrd's sizes and CRCs).
 *
 * Load is staged: the file is read, decompressed, its checksum and every
 * section's presence and length checked before the VM is touched, so a bad
 * file leaves the VM as it was. The CRC guards against corruption, not
 * against a file crafted to pass it.
 */
#include "snapshot.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../cpu/dcache.h"
#include "compress.h"
#include "shadow.h"

#define SNAP_MAGIC "TRPZSNAP"
/* 2: the header also carries the CRC of the compressed bytes (a damaged
 * deflate stream can still inflate to the same payload: a back-reference
 * into a run of zeros moved to another run of zeros). */
#define SNAP_VERSION 2u
#define HEADER_SIZE 48

struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 1 << 20;
        while (cap < w->n + n)
            cap *= 2;
        uint8_t *p = realloc(w->p, cap);
        if (!p) {
            w->oom = true;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void section(struct wbuf *w, const char tag[4], const void *data, size_t n)
{
    uint64_t len = n;
    put(w, tag, 4);
    put(w, &len, 8);
    put(w, data, n);
}

/* The layout signature: a build whose structures differ cannot read it. */
static uint32_t layout(void)
{
    size_t sizes[] = {sizeof(struct cpu),  sizeof(struct vcpu), sizeof(struct pic),
                      sizeof(struct pit),  sizeof(struct rtc),  sizeof(struct i8042),
                      sizeof(struct uart16550), sizeof(struct pci_bus), sizeof(struct pc_chipset),
                      sizeof(struct ide),  sizeof(struct acpi_pm), sizeof(struct vga),
                      sizeof(struct post_code), sizeof(struct exit_device), VMM_MEM_SIZE,
                      VGA_VRAM_SIZE};
    return (uint32_t)crc32(0, (const Bytef *)sizes, sizeof(sizes));
}

static uint32_t file_crc(const char *path, uint64_t *size)
{
    *size = 0;
    if (!path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t buf[65536];
    uLong c = crc32(0, NULL, 0);
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        c = crc32(c, buf, (uInt)n);
        *size += n;
    }
    fclose(f);
    return (uint32_t)c;
}

/* What the VM was made of: a snapshot resumes only on the same. */
struct snap_conf {
    uint32_t ram_size;
    uint32_t mode;
    uint64_t kernel_size, initrd_size;
    uint32_t kernel_crc, initrd_crc;
    uint32_t has_hda, has_cdrom, bios_size;
};

static void conf_of(const struct vm *vm, struct snap_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->ram_size = vm->bus.ram_size;
    c->mode = vm->vcpu.mode;
    c->kernel_crc = file_crc(vm->cfg.kernel, &c->kernel_size);
    c->initrd_crc = file_crc(vm->cfg.initrd, &c->initrd_size);
    c->has_hda = vm->cfg.hda != NULL;
    c->has_cdrom = vm->cfg.cdrom != NULL;
    c->bios_size = vm->bios_size;
}

/* Machine-level state that is not inside a device. */
struct snap_machine {
    uint64_t steps;
    uint32_t a20_mask;
    uint32_t resets;
    uint32_t exit_written, exit_value;
};

/* A vtimer's state: armed and deadline (its callback and list link are the
 * fresh VM's). */
struct snap_timer {
    uint64_t deadline;
    uint32_t armed;
};

/* Every vtimer of a VM, in a fixed order. */
static int vm_timers(struct vm *vm, struct vtimer **t)
{
    int n = 0;
    t[n++] = &vm->pit.timer;
    t[n++] = &vm->rtc.periodic;
    t[n++] = &vm->rtc.second;
    t[n++] = &vm->pm.tmr_timer;
    t[n++] = &vm->vcpu.pv.timer;
    return n;
}
#define MAX_TIMERS 8

int vm_save_state(struct vm *vm, const char *path, char *err, size_t errlen)
{
    for (int ch = 0; ch < 2; ch++)
        for (int d = 0; d < 2; d++)
            if (vm->ide.ch[ch].drive[d].done) {
                snprintf(err, errlen,
                         "--save-state %s: an IDE data transfer is in progress at this "
                         "instruction; take the snapshot at another point",
                         path);
                return -1;
            }
    struct wbuf w = {0};
    struct snap_conf conf;
    conf_of(vm, &conf);
    section(&w, "CONF", &conf, sizeof(conf));
    struct snap_machine m = {vm->steps, vm->bus.a20_mask, vm->resets, vm->exitdev.written,
                             vm->exitdev.value};
    section(&w, "MACH", &m, sizeof(m));
    section(&w, "RAM ", vm->bus.ram, vm->bus.ram_size);
    section(&w, "CPU ", &vm->cpu, sizeof(vm->cpu));
    section(&w, "VCPU", &vm->vcpu, sizeof(vm->vcpu));
    if (vm->vcpu.mem) {
        section(&w, "VMEM", vm->vcpu.mem, VMM_MEM_SIZE);
        size_t frames = (size_t)(vm->bus.ram_size >> PAGE_SHIFT);
        section(&w, "PTBT", vm->vcpu.pt_bits, (frames + 7) / 8);
        section(&w, "PTLS", vm->vcpu.pt_list, sizeof(uint32_t) * vm->vcpu.pt_count);
    }
    section(&w, "ROWS", vm->vcpu.stats.row_counts, sizeof(uint64_t) * ((size_t)op_table_size + 1));
    section(&w, "PIC ", &vm->pic, sizeof(vm->pic));
    section(&w, "PIT ", &vm->pit, sizeof(vm->pit));
    section(&w, "RTC ", &vm->rtc, sizeof(vm->rtc));
    section(&w, "KBC ", &vm->kbc, sizeof(vm->kbc));
    section(&w, "COM1", &vm->com1, sizeof(vm->com1));
    section(&w, "COM2", &vm->com2, sizeof(vm->com2));
    section(&w, "PCI ", &vm->pci, sizeof(vm->pci));
    section(&w, "CHIP", &vm->chipset, sizeof(vm->chipset));
    section(&w, "IDE ", &vm->ide, sizeof(vm->ide));
    section(&w, "PM  ", &vm->pm, sizeof(vm->pm));
    section(&w, "VGA ", &vm->vga, sizeof(vm->vga));
    section(&w, "VRAM", vm->vga.vram, VGA_VRAM_SIZE);
    section(&w, "POST", &vm->post, sizeof(vm->post));
    struct vtimer *timers[MAX_TIMERS];
    int nt = vm_timers(vm, timers);
    struct snap_timer st[MAX_TIMERS];
    for (int k = 0; k < nt; k++)
        st[k] = (struct snap_timer){timers[k]->deadline_ns, timers[k]->armed};
    section(&w, "TIMR", st, sizeof(st[0]) * (size_t)nt);
    if (w.oom) {
        free(w.p);
        snprintf(err, errlen, "--save-state %s: out of memory", path);
        return -1;
    }

    uLongf clen = compressBound((uLong)w.n);
    uint8_t *cbuf = malloc(clen);
    if (!cbuf || compress2(cbuf, &clen, w.p, (uLong)w.n, 6) != Z_OK) {
        free(cbuf);
        free(w.p);
        snprintf(err, errlen, "--save-state %s: compression failed", path);
        return -1;
    }
    uint8_t h[HEADER_SIZE] = {0};
    memcpy(h, SNAP_MAGIC, 8);
    uint32_t version = SNAP_VERSION, lay = layout(), crc = (uint32_t)crc32(0, w.p, (uInt)w.n);
    uint64_t raw = w.n, comp = clen;
    memcpy(h + 8, &version, 4);
    memcpy(h + 12, &lay, 4);
    memcpy(h + 16, &raw, 8);
    memcpy(h + 24, &comp, 8);
    memcpy(h + 32, &crc, 4);
    uint32_t ccrc = (uint32_t)crc32(0, cbuf, (uInt)clen);
    memcpy(h + 36, &ccrc, 4);
    uint32_t hcrc = (uint32_t)crc32(0, h, 44);
    memcpy(h + 44, &hcrc, 4);
    free(w.p);

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int r = 0;
    if (!f || fwrite(h, 1, sizeof(h), f) != sizeof(h) || fwrite(cbuf, 1, clen, f) != clen) {
        snprintf(err, errlen, "--save-state %s: cannot write: %s", path, strerror(errno));
        r = -1;
    }
    if (f && fclose(f) != 0 && r == 0) {
        snprintf(err, errlen, "--save-state %s: cannot write: %s", path, strerror(errno));
        r = -1;
    }
    if (r == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "--save-state %s: %s", path, strerror(errno));
        r = -1;
    }
    if (r < 0)
        remove(tmp);
    free(cbuf);
    return r;
}

/* --- load ------------------------------------------------------------------ */

struct sect {
    const char *tag;
    size_t want; /* exact length, or 0: any (checked by the caller) */
    const uint8_t *data;
    size_t len;
};

static struct sect *find(struct sect *s, int n, const char *tag)
{
    for (int k = 0; k < n; k++)
        if (!memcmp(s[k].tag, tag, 4))
            return &s[k];
    return NULL;
}

static void keep_timer(struct vtimer *t, const struct vtimer *live)
{
    t->fire = live->fire;
    t->ctx = live->ctx;
    t->next = NULL;
    t->armed = false; /* re-armed from TIMR */
}

static void keep_pci(struct pci_device *d, const struct pci_device *live)
{
    d->config_written = live->config_written;
    d->map = live->map;
    d->ctx = live->ctx;
    d->pcibus = live->pcibus;
    /* What the fresh bus decodes: pci_replay_decoding moves it to what the
     * restored registers say. */
    for (int k = 0; k < 7; k++)
        d->bar[k].mapped = live->bar[k].mapped;
}

#define RESTORE(field, sec)                                                                        \
    do {                                                                                           \
        keep = *(&vm->field);                                                                      \
        memcpy(&vm->field, sec->data, sizeof(vm->field));                                          \
    } while (0)

int vm_load_state(struct vm *vm, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "--load-state %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    uint8_t h[HEADER_SIZE];
    size_t got = fread(h, 1, sizeof(h), f);
    if (got < sizeof(h) || memcmp(h, SNAP_MAGIC, 8)) {
        fclose(f);
        snprintf(err, errlen, "--load-state %s: not a trapeze snapshot (%s)", path,
                 got < sizeof(h) ? "shorter than the header" : "bad magic");
        return -1;
    }
    uint32_t version, lay, crc, ccrc, hcrc;
    uint64_t raw, comp;
    memcpy(&version, h + 8, 4);
    memcpy(&lay, h + 12, 4);
    memcpy(&raw, h + 16, 8);
    memcpy(&comp, h + 24, 8);
    memcpy(&crc, h + 32, 4);
    memcpy(&ccrc, h + 36, 4);
    memcpy(&hcrc, h + 44, 4);
    if (hcrc != (uint32_t)crc32(0, h, 44)) {
        fclose(f);
        snprintf(err, errlen, "--load-state %s: the header is damaged (checksum)", path);
        return -1;
    }
    if (version != SNAP_VERSION) {
        fclose(f);
        snprintf(err, errlen, "--load-state %s: format version %u, this trapeze reads version %u",
                 path, version, SNAP_VERSION);
        return -1;
    }
    if (lay != layout()) {
        fclose(f);
        snprintf(err, errlen,
                 "--load-state %s: written by a different trapeze build (layout %08x, this one "
                 "%08x)",
                 path, lay, layout());
        return -1;
    }
    uint64_t limit = (uint64_t)vm->bus.ram_size + VMM_MEM_SIZE + VGA_VRAM_SIZE + (64u << 20);
    if (raw > limit || comp > compressBound((uLong)raw)) {
        fclose(f);
        snprintf(err, errlen, "--load-state %s: the header's lengths are impossible", path);
        return -1;
    }
    uint8_t *cbuf = malloc(comp ? comp : 1), *buf = malloc(raw ? raw : 1);
    if (!cbuf || !buf) {
        fclose(f);
        free(cbuf);
        free(buf);
        snprintf(err, errlen, "--load-state %s: out of memory", path);
        return -1;
    }
    got = fread(cbuf, 1, comp, f);
    int extra = fgetc(f);
    fclose(f);
    uLongf rlen = (uLongf)raw;
    bool ccrc_ok = got == comp && (uint32_t)crc32(0, cbuf, (uInt)comp) == ccrc;
    int zr = got == comp && ccrc_ok ? uncompress(buf, &rlen, cbuf, (uLong)comp) : Z_DATA_ERROR;
    free(cbuf);
    if (got != comp || extra != EOF || !ccrc_ok) {
        free(buf);
        snprintf(err, errlen, "--load-state %s: %s", path,
                 got != comp       ? "truncated"
                 : extra != EOF    ? "trailing bytes after the data"
                                   : "the compressed data is damaged (checksum)");
        return -1;
    }
    if (zr != Z_OK || rlen != raw || (uint32_t)crc32(0, buf, (uInt)raw) != crc) {
        free(buf);
        snprintf(err, errlen, "--load-state %s: the data is damaged (%s)", path,
                 zr != Z_OK ? "does not decompress" : rlen != raw ? "wrong length" : "checksum");
        return -1;
    }

    /* The sections: all present, each exactly as long as it must be. */
    size_t frames = (size_t)(vm->bus.ram_size >> PAGE_SHIFT);
    bool depriv = vm->vcpu.mem != NULL;
    struct sect s[] = {
        {"CONF", sizeof(struct snap_conf), 0, 0}, {"MACH", sizeof(struct snap_machine), 0, 0},
        {"RAM ", 0, 0, 0},                       {"CPU ", sizeof(struct cpu), 0, 0},
        {"VCPU", sizeof(struct vcpu), 0, 0},
        {"ROWS", sizeof(uint64_t) * ((size_t)op_table_size + 1), 0, 0},
        {"PIC ", sizeof(struct pic), 0, 0},      {"PIT ", sizeof(struct pit), 0, 0},
        {"RTC ", sizeof(struct rtc), 0, 0},      {"KBC ", sizeof(struct i8042), 0, 0},
        {"COM1", sizeof(struct uart16550), 0, 0}, {"COM2", sizeof(struct uart16550), 0, 0},
        {"PCI ", sizeof(struct pci_bus), 0, 0},  {"CHIP", sizeof(struct pc_chipset), 0, 0},
        {"IDE ", sizeof(struct ide), 0, 0},      {"PM  ", sizeof(struct acpi_pm), 0, 0},
        {"VGA ", sizeof(struct vga), 0, 0},      {"VRAM", VGA_VRAM_SIZE, 0, 0},
        {"POST", sizeof(struct post_code), 0, 0}, {"TIMR", 0, 0, 0},
        {"VMEM", VMM_MEM_SIZE, 0, 0},            {"PTBT", 0, 0, 0},
        {"PTLS", 0, 0, 0},
    };
    int ns = (int)(sizeof(s) / sizeof(s[0]));
    const char *problem = NULL;
    char pbuf[128];
    for (size_t o = 0; o < raw && !problem;) {
        uint64_t len;
        if (raw - o < 12) {
            problem = "a section header is cut short";
            break;
        }
        memcpy(&len, buf + o + 4, 8);
        if (len > raw - o - 12) {
            problem = "a section runs past the end";
            break;
        }
        struct sect *x = find(s, ns, (const char *)buf + o);
        if (!x) {
            snprintf(pbuf, sizeof(pbuf), "unknown section '%.4s'", (const char *)buf + o);
            problem = pbuf;
        } else if (x->data) {
            snprintf(pbuf, sizeof(pbuf), "section '%.4s' twice", x->tag);
            problem = pbuf;
        } else if (x->want && len != x->want) {
            snprintf(pbuf, sizeof(pbuf), "section '%.4s' is %llu bytes, expected %zu", x->tag,
                     (unsigned long long)len, x->want);
            problem = pbuf;
        } else {
            x->data = buf + o + 12;
            x->len = (size_t)len;
        }
        o += 12 + (size_t)len;
    }
    for (int k = 0; k < ns && !problem; k++) {
        bool vmm_only = !memcmp(s[k].tag, "VMEM", 4) || !memcmp(s[k].tag, "PTBT", 4) ||
                        !memcmp(s[k].tag, "PTLS", 4);
        if (!s[k].data && (!vmm_only || depriv)) {
            snprintf(pbuf, sizeof(pbuf), "section '%.4s' is missing", s[k].tag);
            problem = pbuf;
        }
    }
    struct vtimer *timers[MAX_TIMERS];
    int nt = vm_timers(vm, timers);
    struct sect *ts = find(s, ns, "TIMR");
    if (!problem && ts->len != sizeof(struct snap_timer) * (size_t)nt)
        problem = "the timer section has the wrong length";
    struct sect *pl = find(s, ns, "PTLS");
    const struct vcpu *sv = (const struct vcpu *)find(s, ns, "VCPU")->data;
    if (!problem && depriv &&
        (pl->len % 4 || pl->len / 4 != sv->pt_count || sv->pt_count > frames))
        problem = "the vCPU's page-table list does not fit";
    struct snap_conf conf, mine;
    if (!problem) {
        memcpy(&conf, find(s, ns, "CONF")->data, sizeof(conf));
        conf_of(vm, &mine);
        if (conf.ram_size != mine.ram_size)
            problem = "taken with another memory size (-m)";
        else if (conf.mode != mine.mode)
            problem = "taken in another --mode";
        else if (conf.kernel_size != mine.kernel_size || conf.kernel_crc != mine.kernel_crc)
            problem = "taken with another kernel (--kernel)";
        else if (conf.initrd_size != mine.initrd_size || conf.initrd_crc != mine.initrd_crc)
            problem = "taken with another initrd (--initrd)";
        else if (conf.has_hda != mine.has_hda || conf.has_cdrom != mine.has_cdrom ||
                 conf.bios_size != mine.bios_size)
            problem = "taken with other disks or firmware";
        /* The lengths that follow from the memory size, once it matched. */
        else if (find(s, ns, "RAM ")->len != vm->bus.ram_size ||
                 (depriv && find(s, ns, "PTBT")->len != (frames + 7) / 8))
            problem = "guest memory sections of the wrong length";
    }
    if (problem) {
        free(buf);
        snprintf(err, errlen, "--load-state %s: %s", path, problem);
        return -1;
    }

    /* --- apply: from here on the file is known good ---------------------- */
    struct snap_machine m;
    memcpy(&m, find(s, ns, "MACH")->data, sizeof(m));
    memcpy(vm->bus.ram, find(s, ns, "RAM ")->data, vm->bus.ram_size);

    {   /* the CPU: state; the bus, environment, caches and counters stay */
        struct cpu keep;
        RESTORE(cpu, find(s, ns, "CPU "));
        struct cpu *c = &vm->cpu;
        struct mmu saved_mmu = c->mmu;
        c->bus = keep.bus;
        c->env = keep.env;
        c->dc = keep.dc;
        c->row_counts = keep.row_counts;
        c->blk = NULL;
        memcpy(&c->fault_jmp, &keep.fault_jmp, sizeof(c->fault_jmp));
        memset(&c->exit_insn, 0, sizeof(c->exit_insn));
        c->mmu = keep.mmu;
        c->mmu.cr0 = saved_mmu.cr0;
        c->mmu.cr3 = saved_mmu.cr3;
        c->mmu.cr4 = saved_mmu.cr4;
        c->mmu.bypass = saved_mmu.bypass;
        mmu_flush_all(&c->mmu);
        c->dc_map_generation = keep.dc_map_generation;
        dc_flush(c);
        c->exit_request = 0;
    }
    {   /* the vCPU */
        struct vcpu keep;
        RESTORE(vcpu, find(s, ns, "VCPU"));
        struct vcpu *v = &vm->vcpu;
        struct mmu saved_g = v->gmmu;
        v->cpu = keep.cpu;
        v->bus = keep.bus;
        v->mem = keep.mem;
        v->pt_bits = keep.pt_bits;
        v->pt_list = keep.pt_list;
        v->xtrace = keep.xtrace;
        v->stats.row_counts = keep.stats.row_counts;
        v->gmmu = keep.gmmu;
        v->gmmu.cr0 = saved_g.cr0;
        v->gmmu.cr3 = saved_g.cr3;
        v->gmmu.cr4 = saved_g.cr4;
        if (v->gmmu.bus)
            mmu_flush_all(&v->gmmu);
        v->pv.console = keep.pv.console;
        v->pv.shutdown = keep.pv.shutdown;
        v->pv.ctx = keep.pv.ctx;
        keep_timer(&v->pv.timer, &keep.pv.timer);
        if (depriv) {
            memcpy(v->mem, find(s, ns, "VMEM")->data, VMM_MEM_SIZE);
            memcpy(v->pt_bits, find(s, ns, "PTBT")->data, (frames + 7) / 8);
            memcpy(v->pt_list, pl->data, pl->len);
        }
        memcpy(v->stats.row_counts, find(s, ns, "ROWS")->data,
               sizeof(uint64_t) * ((size_t)op_table_size + 1));
    }
    {
        struct pic keep;
        RESTORE(pic, find(s, ns, "PIC "));
        vm->pic.set_intr = keep.set_intr;
        vm->pic.intr_ctx = keep.intr_ctx;
    }
    {
        struct pit keep;
        RESTORE(pit, find(s, ns, "PIT "));
        vm->pit.bus = keep.bus;
        keep_timer(&vm->pit.timer, &keep.timer);
    }
    {
        struct rtc keep;
        RESTORE(rtc, find(s, ns, "RTC "));
        vm->rtc.bus = keep.bus;
        keep_timer(&vm->rtc.periodic, &keep.periodic);
        keep_timer(&vm->rtc.second, &keep.second);
    }
    {
        struct i8042 keep;
        RESTORE(kbc, find(s, ns, "KBC "));
        vm->kbc.bus = keep.bus;
    }
    {
        struct uart16550 keep;
        RESTORE(com1, find(s, ns, "COM1"));
        vm->com1.out = keep.out;
        vm->com1.bus = keep.bus;
        RESTORE(com2, find(s, ns, "COM2"));
        vm->com2.out = keep.out;
        vm->com2.bus = keep.bus;
    }
    {
        struct pc_chipset keep;
        RESTORE(chipset, find(s, ns, "CHIP"));
        keep_pci(&vm->chipset.host, &keep.host);
        keep_pci(&vm->chipset.isa, &keep.isa);
    }
    {
        struct pci_bus keep;
        RESTORE(pci, find(s, ns, "PCI "));
        vm->pci.bus = keep.bus;
        memcpy(vm->pci.dev, keep.dev, sizeof(keep.dev));
        vm->pci.pirq_route = keep.pirq_route;
    }
    {
        struct ide keep;
        RESTORE(ide, find(s, ns, "IDE "));
        keep_pci(&vm->ide.pci, &keep.pci);
        vm->ide.bus = keep.bus;
        for (int ch = 0; ch < 2; ch++) {
            vm->ide.ch[ch].ide = keep.ch[ch].ide;
            for (int d = 0; d < 2; d++) {
                struct ide_drive *dr = &vm->ide.ch[ch].drive[d];
                dr->img = keep.ch[ch].drive[d].img;
                dr->ch = keep.ch[ch].drive[d].ch;
                dr->done = NULL; /* never saved mid-transfer */
            }
        }
    }
    {
        struct acpi_pm keep;
        RESTORE(pm, find(s, ns, "PM  "));
        keep_pci(&vm->pm.pci, &keep.pci);
        vm->pm.bus = keep.bus;
        vm->pm.base = keep.base; /* what the bus decodes now; the replay remaps */
        keep_timer(&vm->pm.tmr_timer, &keep.tmr_timer);
        vm->pm.power_off = keep.power_off;
        vm->pm.power_off_ctx = keep.power_off_ctx;
    }
    {
        struct vga keep;
        RESTORE(vga, find(s, ns, "VGA "));
        keep_pci(&vm->vga.pci, &keep.pci);
        vm->vga.bus = keep.bus;
        vm->vga.vram = keep.vram;
        vm->vga.rom = keep.rom;
        memcpy(vm->vga.vram, find(s, ns, "VRAM")->data, VGA_VRAM_SIZE);
    }
    memcpy(&vm->post, find(s, ns, "POST")->data, sizeof(vm->post));

    /* The bus: A20 and the PCI devices' decoding, replayed from their
     * configuration registers (BARs, command), as the guest left them. */
    vm->bus.a20_mask = m.a20_mask;
    pci_replay_decoding(&vm->pci);
    bus_map_changed(&vm->bus);

    /* The timers, re-armed in the order of their deadlines. */
    vm->bus.timers = NULL;
    const struct snap_timer *st = (const struct snap_timer *)ts->data;
    for (int k = 0; k < nt; k++) {
        timers[k]->deadline_ns = st[k].deadline;
        if (st[k].armed)
            bus_timer_arm(&vm->bus, timers[k], st[k].deadline);
    }
    vm->steps = m.steps;
    vm->resets = m.resets;
    vm->exitdev.written = m.exit_written;
    vm->exitdev.value = m.exit_value;
    vm->reset_requested = vm->power_off_requested = false;
    vcpu_update_intr(&vm->vcpu);
    free(buf);
    return 0;
}
