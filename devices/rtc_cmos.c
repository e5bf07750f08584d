/*
 * MC146818 RTC and CMOS (see rtc_cmos.h). Register numbers and bit meanings
 * follow the MC146818A data sheet; the CMOS layout is the IBM PC/AT one plus
 * the bytes SeaBIOS and QEMU agree on (0x34/0x35 memory above 16 MiB in
 * 64 KiB units, 0x38/0x3d boot order, 0x5b-0x5d memory above 4 GiB).
 */
#include "rtc_cmos.h"

#include <string.h>
#include <time.h>

enum { REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d };
enum { B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM = 0x04, B_24H = 0x02 };
enum { C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10 };

#define NS 1000000000ull

int64_t rtc_time(const struct rtc *r)
{
    return r->start_s + (int64_t)(bus_now_ns(r->bus) / NS);
}

static uint8_t to_reg(const struct rtc *r, int v)
{
    if (r->cmos[REG_B] & B_DM)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_reg(const struct rtc *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_DM)
        return v;
    return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t hour_reg(const struct rtc *r, int h)
{
    if (r->cmos[REG_B] & B_24H)
        return to_reg(r, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(to_reg(r, h12) | (h >= 12 ? 0x80 : 0));
}

static int hour_from_reg(const struct rtc *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_24H)
        return from_reg(r, v);
    int h = from_reg(r, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* Refreshes the time registers from the clock (unless the guest holds SET). */
static void latch_time(struct rtc *r)
{
    if (r->cmos[REG_B] & B_SET)
        return;
    time_t t = (time_t)rtc_time(r);
    struct tm tm;
    gmtime_r(&t, &tm);
    r->cmos[0x00] = to_reg(r, tm.tm_sec);
    r->cmos[0x02] = to_reg(r, tm.tm_min);
    r->cmos[0x04] = hour_reg(r, tm.tm_hour);
    r->cmos[0x06] = to_reg(r, tm.tm_wday + 1);
    r->cmos[0x07] = to_reg(r, tm.tm_mday);
    r->cmos[0x08] = to_reg(r, tm.tm_mon + 1);
    r->cmos[0x09] = to_reg(r, tm.tm_year % 100);
    r->cmos[0x32] = to_reg(r, (tm.tm_year + 1900) / 100);
}

/* The guest finished setting the time (SET cleared): move the clock. */
static void commit_time(struct rtc *r)
{
    struct tm tm = {0};
    tm.tm_sec = from_reg(r, r->cmos[0x00]);
    tm.tm_min = from_reg(r, r->cmos[0x02]);
    tm.tm_hour = hour_from_reg(r, r->cmos[0x04]);
    tm.tm_mday = from_reg(r, r->cmos[0x07]);
    tm.tm_mon = from_reg(r, r->cmos[0x08]) - 1;
    tm.tm_year = from_reg(r, r->cmos[0x32]) * 100 + from_reg(r, r->cmos[0x09]) - 1900;
    int64_t t = (int64_t)timegm(&tm);
    r->start_s = t - (int64_t)(bus_now_ns(r->bus) / NS);
}

static void update_irq(struct rtc *r)
{
    uint8_t c = r->cmos[REG_C] & (C_PF | C_AF | C_UF);
    bool on = c & r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
    if (on)
        r->cmos[REG_C] |= C_IRQF;
    if (on != r->irq) {
        r->irq = on;
        bus_set_irq(r->bus, 8, on);
    }
}

/* Periodic interrupt period from register A's rate select, or 0 (off). */
static uint64_t period_ns(const struct rtc *r)
{
    unsigned rate = r->cmos[REG_A] & 0xf;
    if (!rate)
        return 0;
    if (rate < 3)
        rate += 7;
    return (NS << (rate - 1)) / 32768;
}

static void arm_periodic(struct rtc *r)
{
    uint64_t p = period_ns(r);
    if (!p || !(r->cmos[REG_B] & B_PIE)) {
        bus_timer_cancel(r->bus, &r->periodic);
        return;
    }
    uint64_t now = bus_now_ns(r->bus);
    bus_timer_arm(r->bus, &r->periodic, (now / p + 1) * p);
}

static void periodic_fire(void *ctx, uint64_t now)
{
    struct rtc *r = ctx;
    (void)now;
    r->cmos[REG_C] |= C_PF;
    update_irq(r);
    arm_periodic(r);
}

static void arm_second(struct rtc *r)
{
    if (!(r->cmos[REG_B] & (B_UIE | B_AIE))) {
        bus_timer_cancel(r->bus, &r->second);
        return;
    }
    uint64_t now = bus_now_ns(r->bus);
    bus_timer_arm(r->bus, &r->second, (now / NS + 1) * NS);
}

static bool alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now; /* 11xxxxxx is "don't care" */
}

static void second_fire(void *ctx, uint64_t now)
{
    struct rtc *r = ctx;
    (void)now;
    latch_time(r);
    r->cmos[REG_C] |= C_UF;
    if (alarm_field_matches(r->cmos[0x01], r->cmos[0x00]) &&
        alarm_field_matches(r->cmos[0x03], r->cmos[0x02]) &&
        alarm_field_matches(r->cmos[0x05], r->cmos[0x04]))
        r->cmos[REG_C] |= C_AF;
    update_irq(r);
    arm_second(r);
}

static uint32_t port_read(void *ctx, uint16_t port, int size)
{
    struct rtc *r = ctx;
    (void)size;
    if (port == 0x70)
        return 0xff;
    uint8_t i = r->index;
    switch (i) {
    case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case 0x32:
        latch_time(r);
        return r->cmos[i];
    case REG_A: {
        /* UIP: set during the 244 us before each update (not while SET). */
        uint64_t frac = bus_now_ns(r->bus) % NS;
        bool uip = !(r->cmos[REG_B] & B_SET) && frac >= NS - 244000;
        return (r->cmos[REG_A] & 0x7f) | (uip ? 0x80 : 0);
    }
    case REG_C: {
        uint8_t v = r->cmos[REG_C];
        r->cmos[REG_C] = 0;
        update_irq(r);
        return v;
    }
    case REG_D: return 0x80; /* VRT: the battery is good */
    default: return r->cmos[i];
    }
}

static void port_write(void *ctx, uint16_t port, int size, uint32_t v)
{
    struct rtc *r = ctx;
    (void)size;
    if (port == 0x70) {
        r->index = v & 0x7f;
        r->nmi_disabled = v & 0x80;
        return;
    }
    uint8_t i = r->index;
    switch (i) {
    case REG_A:
        r->cmos[REG_A] = (uint8_t)(v & 0x7f);
        arm_periodic(r);
        break;
    case REG_B: {
        bool was_set = r->cmos[REG_B] & B_SET;
        if (!was_set && (v & B_SET))
            latch_time(r); /* freeze the registers the guest is about to edit */
        r->cmos[REG_B] = (uint8_t)v;
        if (was_set && !(v & B_SET))
            commit_time(r);
        arm_periodic(r);
        arm_second(r);
        update_irq(r);
        break;
    }
    case REG_C: case REG_D: break; /* read-only */
    case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case 0x32:
        latch_time(r);
        r->cmos[i] = (uint8_t)v;
        if (!(r->cmos[REG_B] & B_SET))
            commit_time(r); /* a write with SET clear moves the running clock */
        break;
    default: r->cmos[i] = (uint8_t)v; break;
    }
}

void rtc_set_config(struct rtc *r, uint32_t ram_bytes, const char *boot)
{
    uint8_t *c = r->cmos;
    c[0x10] = 0x00; /* no floppy drives */
    c[0x14] = 0x06; /* equipment: FPU present, VGA/EGA display, no floppy */
    c[0x15] = 640 & 0xff;
    c[0x16] = 640 >> 8;
    uint32_t ext_kb = ram_bytes > 0x100000 ? (ram_bytes - 0x100000) / 1024 : 0;
    if (ext_kb > 0xfc00)
        ext_kb = 0xfc00;
    c[0x17] = c[0x30] = (uint8_t)ext_kb;
    c[0x18] = c[0x31] = (uint8_t)(ext_kb >> 8);
    uint32_t hi64k = ram_bytes > 0x1000000 ? (ram_bytes - 0x1000000) / 65536 : 0;
    if (hi64k > 0xffff)
        hi64k = 0xffff;
    c[0x34] = (uint8_t)hi64k;
    c[0x35] = (uint8_t)(hi64k >> 8);
    c[0x5b] = c[0x5c] = c[0x5d] = 0;
    c[0x5f] = 0; /* number of CPUs - 1 */
    /* Boot order, SeaBIOS/Bochs encoding: 1 floppy, 2 disk, 3 CD-ROM;
     * first device in 0x3d bits 3:0, second in 0x3d bits 7:4, third in 0x38 bits 7:4. */
    uint8_t dev[3] = {0, 0, 0};
    for (int k = 0; k < 3 && boot && boot[k]; k++)
        dev[k] = boot[k] == 'a' ? 1 : boot[k] == 'c' ? 2 : boot[k] == 'd' ? 3 : 0;
    c[0x3d] = (uint8_t)(dev[0] | (dev[1] << 4));
    c[0x38] = (uint8_t)(dev[2] << 4);
}

void rtc_init(struct rtc *r, struct bus *b, int64_t start_s)
{
    memset(r, 0, sizeof(*r));
    r->bus = b;
    r->start_s = start_s;
    r->periodic.fire = periodic_fire;
    r->periodic.ctx = r;
    r->second.fire = second_fire;
    r->second.ctx = r;
    r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->cmos[REG_B] = B_24H;
    bus_add_ports(b, 0x70, 2, port_read, port_write, r);
    latch_time(r);
}
