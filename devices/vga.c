/*
 * The stdvga: legacy VGA registers and memory, Bochs VBE, PCI BARs (see
 * vga.h). Register semantics per IBM's VGA technical reference; the VBE
 * interface per Bochs' vbe.h (the "dispi" registers).
 *
 * Costs: the 0xA0000 window is MMIO, so every access there takes a callback
 * (text output, planar drawing). VBE modes should use the linear
 * framebuffer, which the CPU reaches through host pointers at RAM speed.
 */
#include "vga.h"

#include <stdlib.h>
#include <string.h>

#include "vga_regs.h"

/* --- memory window ------------------------------------------------------ */

/* Offset into the window selected by GR6's memory map, or -1 when pa lies
 * outside it (then reads float high and writes go nowhere). */
static int64_t window_offset(const struct vga *v, uint32_t pa)
{
    uint32_t a = pa - 0xa0000;
    switch ((v->gr[GR_MISC] >> 2) & 3) {
    case 0: return a < 0x20000 ? (int64_t)a : -1;
    case 1: return a < 0x10000 ? (int64_t)a + (vbe_on(v) ? v->bank_offset : 0) : -1;
    case 2: return a >= 0x10000 && a < 0x18000 ? (int64_t)a - 0x10000 : -1;
    default: return a >= 0x18000 && a < 0x20000 ? (int64_t)a - 0x18000 : -1;
    }
}

static uint32_t expand4(uint8_t bits) /* plane bit p -> 0xff in byte p */
{
    uint32_t r = 0;
    for (int p = 0; p < 4; p++)
        if (bits & (1 << p))
            r |= 0xffu << (8 * p);
    return r;
}

static uint8_t mem_readb(struct vga *v, uint32_t pa)
{
    int64_t o = window_offset(v, pa);
    if (o < 0)
        return 0xff;
    uint32_t a = (uint32_t)o;
    if (v->sr[SR_MEMMODE] & SR4_CHAIN4)
        return a < VGA_VRAM_SIZE ? v->vram[a] : 0xff;
    if (v->gr[GR_MODE] & GR5_ODD_EVEN) {
        int plane = (v->gr[GR_READ_MAP] & 2) | (a & 1);
        return v->vram[(a >> 1) * 4 + (uint32_t)plane];
    }
    if (a * 4 >= VGA_VRAM_SIZE)
        return 0xff;
    memcpy(&v->latch, &v->vram[a * 4], 4);
    if (!(v->gr[GR_MODE] & GR5_READ_MODE1))
        return (uint8_t)(v->latch >> (8 * (v->gr[GR_READ_MAP] & 3)));
    /* Read mode 1: a bit is 1 where every plane that matters (GR7) matches
     * the colour compare value (GR2). */
    uint32_t diff = (v->latch ^ expand4(v->gr[GR_COLOR_COMPARE])) & expand4(v->gr[GR_COLOR_DONT_CARE]);
    diff |= diff >> 16;
    diff |= diff >> 8;
    return (uint8_t)~diff;
}

static uint32_t alu(const struct vga *v, uint32_t val)
{
    switch ((v->gr[GR_ROTATE] >> 3) & 3) {
    case 1: return val & v->latch;
    case 2: return val | v->latch;
    case 3: return val ^ v->latch;
    default: return val;
    }
}

static void mem_writeb(struct vga *v, uint32_t pa, uint8_t val)
{
    int64_t o = window_offset(v, pa);
    if (o < 0)
        return;
    uint32_t a = (uint32_t)o;
    uint8_t map_mask = v->sr[SR_MAP_MASK] & 0xf;
    if (v->sr[SR_MEMMODE] & SR4_CHAIN4) {
        if (a < VGA_VRAM_SIZE && (map_mask & (1 << (a & 3))))
            v->vram[a] = val;
        return;
    }
    if (!(v->sr[SR_MEMMODE] & SR4_ODD_EVEN_OFF)) {
        /* Odd/even: even addresses reach planes 0 and 2, odd ones 1 and 3. */
        uint8_t planes = map_mask & ((a & 1) ? 0xa : 0x5);
        for (int p = 0; p < 4; p++)
            if (planes & (1 << p))
                v->vram[(a >> 1) * 4 + (uint32_t)p] = val;
        return;
    }
    if (a * 4 >= VGA_VRAM_SIZE)
        return;
    int rot = v->gr[GR_ROTATE] & 7;
    uint8_t r = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
    uint32_t bit_mask = v->gr[GR_BIT_MASK] * 0x01010101u;
    uint32_t set_reset = expand4(v->gr[GR_SET_RESET]);
    uint32_t out;
    switch (v->gr[GR_MODE] & 3) {
    case 0: {
        uint32_t en = expand4(v->gr[GR_ENABLE_SET_RESET]);
        out = alu(v, (set_reset & en) | (r * 0x01010101u & ~en));
        break;
    }
    case 1: out = v->latch; bit_mask = 0xffffffffu; break;
    case 2: out = alu(v, expand4(val)); break;
    default:
        bit_mask &= r * 0x01010101u;
        out = alu(v, set_reset);
        break;
    }
    out = (out & bit_mask) | (v->latch & ~bit_mask);
    uint32_t keep = ~expand4(map_mask), cur;
    memcpy(&cur, &v->vram[a * 4], 4);
    cur = (cur & keep) | (out & ~keep);
    memcpy(&v->vram[a * 4], &cur, 4);
}

static uint32_t window_read(void *ctx, uint32_t pa, int size)
{
    uint32_t r = 0;
    for (int k = 0; k < size; k++)
        r |= (uint32_t)mem_readb(ctx, pa + (uint32_t)k) << (8 * k);
    return r;
}

static void window_write(void *ctx, uint32_t pa, int size, uint32_t val)
{
    for (int k = 0; k < size; k++)
        mem_writeb(ctx, pa + (uint32_t)k, (uint8_t)(val >> (8 * k)));
}

/* --- registers ---------------------------------------------------------- */

static bool crtc_port_ok(const struct vga *v, uint16_t port)
{
    /* Misc output bit 0 picks the colour (0x3Dx) or mono (0x3Bx) addresses. */
    bool colour = v->misc & 1;
    return ((port & 0xfff0) == 0x3d0) == colour;
}

/* Input status 1: bit 3 vertical retrace, bit 0 display disabled (blanking).
 * Time is the virtual clock plus 1 µs per read, so a polling loop sees the
 * bits change even when the clock advances coarsely. A 70 Hz frame of
 * 14.3 ms with 0.7 ms of retrace; lines of 31.8 µs with 6 µs of blanking. */
static uint8_t input_status1(struct vga *v)
{
    uint64_t t = bus_now_ns(v->bus) + 1000 * ++v->status_reads;
    uint64_t frame = t % 14286000, line = t % 31778;
    uint8_t s = 0;
    if (frame < 700000)
        s |= 0x09;
    else if (line < 6000)
        s |= 0x01;
    return s;
}

static uint8_t vga_inb(struct vga *v, uint16_t port)
{
    switch (port) {
    case 0x3c0: return v->ar_index;
    case 0x3c1: return (v->ar_index & 0x1f) < 0x15 ? v->ar[v->ar_index & 0x1f] : 0;
    case 0x3c2: return 0x10; /* input status 0: switch sense (colour monitor) */
    case 0x3c3: return 1;    /* VGA enable */
    case 0x3c4: return v->sr_index;
    case 0x3c5: return v->sr_index < 8 ? v->sr[v->sr_index] : 0;
    case 0x3c6: return v->pel_mask;
    case 0x3c7: return v->dac_state;
    case 0x3c8: return v->dac_write_index;
    case 0x3c9: {
        uint8_t r = v->dac[v->dac_read_index][v->dac_sub];
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return r;
    }
    case 0x3ca: return v->feature;
    case 0x3cc: return v->misc;
    case 0x3ce: return v->gr_index;
    case 0x3cf: return v->gr_index < 9 ? v->gr[v->gr_index] : 0;
    case 0x3b4:
    case 0x3d4:
        return crtc_port_ok(v, port) ? v->cr_index : 0xff;
    case 0x3b5:
    case 0x3d5:
        if (!crtc_port_ok(v, port))
            return 0xff;
        return v->cr_index < sizeof(v->cr) ? v->cr[v->cr_index] : 0;
    case 0x3ba:
    case 0x3da:
        if (!crtc_port_ok(v, port))
            return 0xff;
        v->ar_data_next = false;
        return input_status1(v);
    default: return 0xff;
    }
}

static void crtc_write(struct vga *v, uint8_t val)
{
    uint8_t i = v->cr_index;
    if (i >= sizeof(v->cr))
        return;
    /* CR11 bit 7 write-protects CR0-CR7, except CR7's line compare bit 4. */
    if ((v->cr[CR_VSYNC_END] & 0x80) && i <= 7) {
        if (i == CR_OVERFLOW)
            v->cr[i] = (uint8_t)((v->cr[i] & ~0x10) | (val & 0x10));
        return;
    }
    v->cr[i] = val;
}

static void vga_outb(struct vga *v, uint16_t port, uint8_t val)
{
    switch (port) {
    case 0x3c0:
        if (!v->ar_data_next) {
            v->ar_index = val & 0x3f;
        } else if ((v->ar_index & 0x1f) < 0x15) {
            v->ar[v->ar_index & 0x1f] = val;
        }
        v->ar_data_next = !v->ar_data_next;
        break;
    case 0x3c2: v->misc = val; break;
    case 0x3c4: v->sr_index = val & 7; break;
    case 0x3c5: v->sr[v->sr_index] = val; break;
    case 0x3c6: v->pel_mask = val; break;
    case 0x3c7:
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_state = 3;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_state = 0;
        break;
    case 0x3c9:
        v->dac_latch[v->dac_sub] = (v->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) ? val : val & 0x3f;
        if (++v->dac_sub == 3) {
            memcpy(v->dac[v->dac_write_index], v->dac_latch, 3);
            v->dac_sub = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3ce: v->gr_index = val & 0xf; break;
    case 0x3cf:
        if (v->gr_index < 9)
            v->gr[v->gr_index] = val;
        break;
    case 0x3b4:
    case 0x3d4:
        if (crtc_port_ok(v, port))
            v->cr_index = val;
        break;
    case 0x3b5:
    case 0x3d5:
        if (crtc_port_ok(v, port))
            crtc_write(v, val);
        break;
    case 0x3ba:
    case 0x3da:
        if (crtc_port_ok(v, port))
            v->feature = val;
        break;
    default: break;
    }
}

/* Word and dword accesses are consecutive byte accesses, low byte first
 * (OUT DX,AX to 0x3C4 writes the index, then the data). */
static uint32_t vga_port_read(void *ctx, uint16_t port, int size)
{
    uint32_t r = 0;
    for (int k = 0; k < size; k++)
        r |= (uint32_t)vga_inb(ctx, (uint16_t)(port + k)) << (8 * k);
    return r;
}

static void vga_port_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    for (int k = 0; k < size; k++)
        vga_outb(ctx, (uint16_t)(port + k), (uint8_t)(val >> (8 * k)));
}

/* --- Bochs VBE ---------------------------------------------------------- */

static unsigned vbe_bytes_pp(const struct vga *v) { return (v->vbe[VBE_INDEX_BPP] + 7u) / 8; }

/* Recomputes the scan-line length, virtual height and display origin. */
static void vbe_update_geometry(struct vga *v)
{
    uint16_t *r = v->vbe;
    if (r[VBE_INDEX_VIRT_WIDTH] < r[VBE_INDEX_XRES])
        r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
    uint32_t line = r[VBE_INDEX_BPP] == 4 ? r[VBE_INDEX_VIRT_WIDTH] / 2u
                                          : r[VBE_INDEX_VIRT_WIDTH] * vbe_bytes_pp(v);
    if (line == 0)
        line = 1;
    v->vbe_line_offset = line;
    uint32_t vh = VGA_VRAM_SIZE / line;
    r[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)(vh > 0xffff ? 0xffff : vh);
    uint32_t x = r[VBE_INDEX_X_OFFSET];
    v->vbe_start = r[VBE_INDEX_Y_OFFSET] * line +
                   (r[VBE_INDEX_BPP] == 4 ? x / 2 : x * vbe_bytes_pp(v));
    if (v->vbe_start >= VGA_VRAM_SIZE)
        v->vbe_start = 0;
}

static bool valid_bpp(uint16_t b)
{
    return b == 4 || b == 8 || b == 15 || b == 16 || b == 24 || b == 32;
}

static void vbe_enable(struct vga *v, uint16_t val)
{
    uint16_t *r = v->vbe;
    bool was = r[VBE_INDEX_ENABLE] & VBE_ENABLED;
    if ((val & VBE_ENABLED) && !was) {
        if (r[VBE_INDEX_XRES] == 0 || r[VBE_INDEX_YRES] == 0 ||
            r[VBE_INDEX_XRES] > VGA_MAX_WIDTH || r[VBE_INDEX_YRES] > VGA_MAX_HEIGHT ||
            !valid_bpp(r[VBE_INDEX_BPP]))
            val &= (uint16_t)~VBE_ENABLED; /* a mode that cannot be shown is refused */
    }
    if ((val & VBE_ENABLED) && !was) {
        r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
        r[VBE_INDEX_X_OFFSET] = r[VBE_INDEX_Y_OFFSET] = 0;
        r[VBE_INDEX_BANK] = 0;
        v->bank_offset = 0;
        vbe_update_geometry(v);
        if (!(val & VBE_NOCLEARMEM))
            memset(v->vram, 0, (size_t)r[VBE_INDEX_YRES] * v->vbe_line_offset);
        /* The legacy side follows, as on Bochs/QEMU: graphics, the 64 KiB
         * window at 0xA0000, chain-4 for packed pixels. */
        v->gr[GR_MISC] = (uint8_t)((v->gr[GR_MISC] & ~0x0c) | 0x05);
        v->gr[GR_MODE] &= (uint8_t)~GR5_ODD_EVEN;
        v->sr[SR_MAP_MASK] = 0x0f;
        if (r[VBE_INDEX_BPP] == 4)
            v->sr[SR_MEMMODE] = (uint8_t)((v->sr[SR_MEMMODE] & ~SR4_CHAIN4) | SR4_ODD_EVEN_OFF);
        else
            v->sr[SR_MEMMODE] |= SR4_CHAIN4 | SR4_ODD_EVEN_OFF;
    } else if (!(val & VBE_ENABLED)) {
        v->bank_offset = 0;
    }
    r[VBE_INDEX_ENABLE] = val;
}

static void vbe_write(struct vga *v, uint16_t val)
{
    uint16_t *r = v->vbe;
    bool on = r[VBE_INDEX_ENABLE] & VBE_ENABLED;
    switch (v->vbe_index) {
    case VBE_INDEX_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5)
            r[VBE_INDEX_ID] = val;
        break;
    case VBE_INDEX_XRES:
    case VBE_INDEX_YRES:
    case VBE_INDEX_BPP:
        /* Bochs ignores geometry writes while a mode is on. */
        if (!on)
            r[v->vbe_index] = (v->vbe_index == VBE_INDEX_BPP && val == 0) ? 8 : val;
        break;
    case VBE_INDEX_ENABLE: vbe_enable(v, val); break;
    case VBE_INDEX_BANK: {
        uint32_t banks = VGA_VRAM_SIZE >> 16;
        r[VBE_INDEX_BANK] = (uint16_t)(val % banks);
        v->bank_offset = (uint32_t)r[VBE_INDEX_BANK] << 16;
        break;
    }
    case VBE_INDEX_VIRT_WIDTH:
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET:
        r[v->vbe_index] = val;
        if (on)
            vbe_update_geometry(v);
        break;
    default: break; /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
    }
}

static uint16_t vbe_read(const struct vga *v)
{
    const uint16_t *r = v->vbe;
    if (r[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
        switch (v->vbe_index) {
        case VBE_INDEX_XRES: return VGA_MAX_WIDTH;
        case VBE_INDEX_YRES: return VGA_MAX_HEIGHT;
        case VBE_INDEX_BPP: return 32;
        default: break;
        }
    }
    if (v->vbe_index == VBE_INDEX_VIDEO_MEMORY_64K)
        return VGA_VRAM_SIZE >> 16;
    return v->vbe_index < VBE_NUM_REGS ? r[v->vbe_index] : 0;
}

static uint32_t vbe_port_read(void *ctx, uint16_t port, int size)
{
    struct vga *v = ctx;
    uint32_t r = port == VBE_PORT_INDEX ? v->vbe_index : vbe_read(v);
    (void)size;
    return r;
}

static void vbe_port_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct vga *v = ctx;
    if (port == VBE_PORT_INDEX) {
        v->vbe_index = (uint16_t)val;
        /* A word write to the index port with nothing at 0x1CF's byte: fine.
         * A dword write would carry data in the high half (unused by BIOSes). */
        return;
    }
    (void)size;
    vbe_write(v, (uint16_t)val);
}

/* --- PCI ---------------------------------------------------------------- */

static uint32_t rom_read(void *ctx, uint32_t pa, int size)
{
    struct vga *v = ctx;
    uint32_t r = 0;
    for (int k = 0; k < size; k++) {
        uint32_t o = pa + (uint32_t)k - v->rom_base;
        r |= (uint32_t)(o < v->rom_size ? v->rom[o] : 0) << (8 * k);
    }
    return r;
}

static void rom_write(void *ctx, uint32_t pa, int size, uint32_t val)
{
    (void)ctx, (void)pa, (void)size, (void)val; /* read-only */
}

static void pci_map(struct pci_device *d, int bar, uint32_t addr)
{
    struct vga *v = d->ctx;
    if (bar == 0) {
        bus_move_mmio(v->bus, v->lfb_region, addr);
    } else if (bar == PCI_ROM_BAR && v->rom_region >= 0) {
        v->rom_base = addr;
        bus_move_mmio(v->bus, v->rom_region, addr);
    }
}

/* --- life cycle --------------------------------------------------------- */

/*
 * Power-on state: the registers of mode 3 (80x25 colour text, 9x16 cells)
 * as the IBM VGA BIOS programs them, and the 64-colour EGA palette in the
 * DAC, so a guest booted without a VGA BIOS (direct kernel boot) finds a
 * text screen at 0xB8000. There is no font until a BIOS loads one: the text
 * dump works, the picture shows blank glyphs.
 */
void vga_reset(struct vga *v)
{
    static const uint8_t sr3[5] = {0x03, 0x00, 0x03, 0x00, 0x02};
    static const uint8_t cr3[0x19] = {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00,
                                      0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
                                      0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff};
    static const uint8_t gr3[9] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff};
    static const uint8_t ar3[0x15] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14,
                                      0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
                                      0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00};
    v->misc = 0x67;
    v->feature = 0;
    memset(v->sr, 0, sizeof(v->sr));
    memcpy(v->sr, sr3, sizeof(sr3));
    memcpy(v->cr, cr3, sizeof(cr3));
    memset(v->gr, 0, sizeof(v->gr));
    memcpy(v->gr, gr3, sizeof(gr3));
    memcpy(v->ar, ar3, sizeof(ar3));
    v->sr_index = v->gr_index = v->cr_index = 0;
    v->ar_index = 0x20;
    v->ar_data_next = false;
    v->pel_mask = 0xff;
    v->dac_read_index = v->dac_write_index = v->dac_sub = v->dac_state = 0;
    memset(v->dac, 0, sizeof(v->dac));
    for (int i = 0; i < 64; i++) {
        /* EGA colour bits: r g b = bits 2 1 0 (2/3 intensity), bits 5 4 3 (1/3). */
        v->dac[i][0] = (uint8_t)(((i >> 2) & 1) * 42 + ((i >> 5) & 1) * 21);
        v->dac[i][1] = (uint8_t)(((i >> 1) & 1) * 42 + ((i >> 4) & 1) * 21);
        v->dac[i][2] = (uint8_t)((i & 1) * 42 + ((i >> 3) & 1) * 21);
    }
    v->latch = 0;
    v->vbe_index = 0;
    memset(v->vbe, 0, sizeof(v->vbe));
    v->vbe[VBE_INDEX_ID] = VBE_ID0;
    v->vbe[VBE_INDEX_BPP] = 8;
    v->vbe_line_offset = v->vbe_start = v->bank_offset = 0;
}

int vga_init(struct vga *v, struct bus *b, struct pci_bus *pb)
{
    memset(v, 0, sizeof(*v));
    v->bus = b;
    v->rom_region = -1;
    v->vram = calloc(1, VGA_VRAM_SIZE);
    if (!v->vram)
        return -1;
    v->legacy_region = bus_add_mmio(b, 0xa0000, 0x20000, window_read, window_write, v);
    v->lfb_region = bus_add_host_mem(b, PCI_UNMAPPED, VGA_VRAM_SIZE, v->vram);
    if (v->legacy_region < 0 || v->lfb_region < 0) {
        vga_free(v);
        return -1;
    }
    bus_add_ports(b, 0x3b0, 0x30, vga_port_read, vga_port_write, v);
    bus_add_ports(b, VBE_PORT_INDEX, 2, vbe_port_read, vbe_port_write, v);

    vga_reset(v);

    struct pci_device *d = &v->pci;
    pci_set_ids(d, VGA_PCI_VENDOR, VGA_PCI_DEVICE, 0x03, 0x00, 0x00, 0x02);
    pci_set16(d, 0x2c, 0x1af4); /* subsystem: QEMU's, as its stdvga reports */
    pci_set16(d, 0x2e, 0x1100);
    d->ctx = v;
    d->map = pci_map;
    pci_declare_bar(d, 0, VGA_VRAM_SIZE, PCI_BAR_MEM_PREFETCH);
    pci_register(pb, d, VGA_PCI_SLOT, 0);
    return 0;
}

int vga_set_rom(struct vga *v, const uint8_t *data, uint32_t size)
{
    if (v->rom_region >= 0 || size == 0)
        return -1;
    /* The BAR is a power of two of at least a page, so the bus can map it. */
    uint32_t bar = PAGE_SIZE;
    while (bar < size)
        bar <<= 1;
    v->rom = malloc(size);
    if (!v->rom)
        return -1;
    memcpy(v->rom, data, size);
    v->rom_size = size;
    v->rom_region = bus_add_mmio(v->bus, PCI_UNMAPPED, bar, rom_read, rom_write, v);
    if (v->rom_region < 0)
        return -1;
    pci_declare_bar(&v->pci, PCI_ROM_BAR, bar, PCI_BAR_MEM);
    return 0;
}

void vga_free(struct vga *v)
{
    free(v->vram);
    free(v->rom);
    v->vram = NULL;
    v->rom = NULL;
}
