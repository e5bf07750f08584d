/* x87_env.c - FSTENV/FLDENV, FSAVE/FRSTOR and FXSAVE/FXRSTOR memory images.
 *
 * Layouts follow the Intel SDM (Vol. 1, 8.1.10 and 10.5.1).  Reserved 16-bit
 * halves of the 32-bit images are written as 0xffff, as Intel P6 parts do.
 * In real/V86 mode the caller passes the linear FIP/FDP (CS*16+IP) through
 * x87_note_last(); the image splits them as the real-mode layout requires.
 * Tags read from an image only decide empty versus non-empty: the full tag
 * is always recomputed from the register contents, as the hardware does.
 */
#include <string.h>
#include "x87.h"
#include "x87_float_int.h"

static void w16(uint8_t *b, unsigned v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *b, uint32_t v)
{
    w16(b, v & 0xffff);
    w16(b + 2, v >> 16);
}
static unsigned r16(const uint8_t *b) { return b[0] | (unsigned)b[1] << 8; }
static uint32_t r32(const uint8_t *b) { return r16(b) | (uint32_t)r16(b + 2) << 16; }

static void retag(struct x87 *x, uint8_t nonempty_mask)
{
    uint16_t tw = 0;
    for (int p = 0; p < 8; p++) {
        int t = (nonempty_mask >> p & 1) ? x87_tag_of(x->st[p]) : X87_TAG_EMPTY;
        tw |= (uint16_t)(t << (2 * p));
    }
    x->tw = tw;
}

static uint8_t nonempty_from_tw(uint16_t tw)
{
    uint8_t m = 0;
    for (int p = 0; p < 8; p++)
        if (((tw >> (2 * p)) & 3) != X87_TAG_EMPTY) m |= (uint8_t)(1 << p);
    return m;
}

static void after_load(struct x87 *x)
{
    x->cw = (uint16_t)((x->cw & 0x1f3f) | 0x0040);
    if (x->sw & ~x->cw & X87_EXC)
        x->sw |= X87_ES | X87_B;
    else
        x->sw &= (uint16_t)~(X87_ES | X87_B);
}

static int put_env(const struct x87 *x, uint8_t *b, bool op32, bool pmode)
{
    if (op32) {
        w32(b + 0, 0xffff0000u | x->cw);
        w32(b + 4, 0xffff0000u | x->sw);
        w32(b + 8, 0xffff0000u | x->tw);
        if (pmode) {
            w32(b + 12, x->fip);
            w32(b + 16, x->fcs | (uint32_t)(x->fop & 0x7ff) << 16);
            w32(b + 20, x->fdp);
            w32(b + 24, 0xffff0000u | x->fds);
        } else {
            w32(b + 12, 0xffff0000u | (x->fip & 0xffff));
            w32(b + 16, (x->fop & 0x7ffu) | (x->fip & 0xffff0000u) >> 4);
            w32(b + 20, 0xffff0000u | (x->fdp & 0xffff));
            w32(b + 24, (x->fdp & 0xffff0000u) >> 4);
        }
        return 28;
    }
    w16(b + 0, x->cw);
    w16(b + 2, x->sw);
    w16(b + 4, x->tw);
    if (pmode) {
        w16(b + 6, x->fip & 0xffff);
        w16(b + 8, x->fcs);
        w16(b + 10, x->fdp & 0xffff);
        w16(b + 12, x->fds);
    } else {
        w16(b + 6, x->fip & 0xffff);
        w16(b + 8, (x->fop & 0x7ffu) | ((x->fip >> 16) & 0xf) << 12);
        w16(b + 10, x->fdp & 0xffff);
        w16(b + 12, ((x->fdp >> 16) & 0xf) << 12);
    }
    return 14;
}

static int get_env(struct x87 *x, const uint8_t *b, bool op32, bool pmode)
{
    uint16_t tw;
    if (op32) {
        x->cw = (uint16_t)r16(b);
        x->sw = (uint16_t)r16(b + 4);
        tw = (uint16_t)r16(b + 8);
        if (pmode) {
            x->fip = r32(b + 12);
            x->fcs = (uint16_t)r16(b + 16);
            x->fop = (uint16_t)(r16(b + 18) & 0x7ff);
            x->fdp = r32(b + 20);
            x->fds = (uint16_t)r16(b + 24);
        } else {
            x->fip = r16(b + 12) | ((r32(b + 16) << 4) & 0xffff0000u);
            x->fop = (uint16_t)(r16(b + 16) & 0x7ff);
            x->fdp = r16(b + 20) | ((r32(b + 24) << 4) & 0xffff0000u);
            x->fcs = x->fds = 0;
        }
    } else {
        x->cw = (uint16_t)r16(b);
        x->sw = (uint16_t)r16(b + 2);
        tw = (uint16_t)r16(b + 4);
        x->fip = r16(b + 6);
        x->fdp = r16(b + 10);
        if (pmode) {
            x->fcs = (uint16_t)r16(b + 8);
            x->fds = (uint16_t)r16(b + 12);
        } else {
            x->fip |= (uint32_t)(r16(b + 8) >> 12) << 16;
            x->fop = (uint16_t)(r16(b + 8) & 0x7ff);
            x->fdp |= (uint32_t)(r16(b + 12) >> 12) << 16;
            x->fcs = x->fds = 0;
        }
    }
    retag(x, nonempty_from_tw(tw));
    after_load(x);
    return op32 ? 28 : 14;
}

int x87_fstenv(struct x87 *x, uint8_t *buf, bool op32, bool pmode)
{
    int n = put_env(x, buf, op32, pmode);
    x->cw |= X87_EXC; /* FSTENV masks all exceptions after storing */
    return n;
}

void x87_fldenv(struct x87 *x, const uint8_t *buf, bool op32, bool pmode)
{
    get_env(x, buf, op32, pmode);
}

int x87_fsave(struct x87 *x, uint8_t *buf, bool op32, bool pmode)
{
    int n = put_env(x, buf, op32, pmode);
    for (int i = 0; i < 8; i++) {
        floatx80 v = x87_st(x, i);
        uint8_t *r = buf + n + 10 * i;
        w32(r, (uint32_t)v.mant);
        w32(r + 4, (uint32_t)(v.mant >> 32));
        w16(r + 8, v.sign_exp);
    }
    x87_finit(x);
    return n + 80;
}

void x87_frstor(struct x87 *x, const uint8_t *buf, bool op32, bool pmode)
{
    int n = op32 ? 28 : 14;
    /* registers are in ST order, so TOP must come from the image first */
    int top = (r16(buf + (op32 ? 4 : 2)) >> 11) & 7;
    for (int i = 0; i < 8; i++) {
        const uint8_t *r = buf + n + 10 * i;
        floatx80 v = {r32(r) | (uint64_t)r32(r + 4) << 32, (uint16_t)r16(r + 8)};
        x->st[(top + i) & 7] = v;
    }
    get_env(x, buf, op32, pmode);
}

/* MXCSR bits a P6-family part with SSE accepts (no DAZ, as on the Pentium III). */
#define MXCSR_MASK 0x0000ffbfu

void x87_fxsave(const struct x87 *x, uint8_t buf[512])
{
    uint8_t ftw = 0;
    memset(buf, 0, 160);
    for (int p = 0; p < 8; p++)
        if (((x->tw >> (2 * p)) & 3) != X87_TAG_EMPTY) ftw |= (uint8_t)(1 << p);
    w16(buf + 0, x->cw);
    w16(buf + 2, x->sw);
    buf[4] = ftw;
    w16(buf + 6, x->fop);
    w32(buf + 8, x->fip);
    w16(buf + 12, x->fcs);
    w32(buf + 16, x->fdp);
    w16(buf + 20, x->fds);
    w32(buf + 24, x->mxcsr);
    w32(buf + 28, MXCSR_MASK);
    for (int i = 0; i < 8; i++) {
        floatx80 v = x87_st(x, i);
        uint8_t *r = buf + 32 + 16 * i;
        w32(r, (uint32_t)v.mant);
        w32(r + 4, (uint32_t)(v.mant >> 32));
        w16(r + 8, v.sign_exp);
    }
}

bool x87_fxrstor(struct x87 *x, const uint8_t buf[512])
{
    uint32_t mxcsr = r32(buf + 24);
    if (mxcsr & ~MXCSR_MASK) return false;
    x->cw = (uint16_t)r16(buf);
    x->sw = (uint16_t)r16(buf + 2);
    x->fop = (uint16_t)(r16(buf + 6) & 0x7ff);
    x->fip = r32(buf + 8);
    x->fcs = (uint16_t)r16(buf + 12);
    x->fdp = r32(buf + 16);
    x->fds = (uint16_t)r16(buf + 20);
    x->mxcsr = mxcsr;
    int top = x87_top(x);
    for (int i = 0; i < 8; i++) {
        const uint8_t *r = buf + 32 + 16 * i;
        floatx80 v = {r32(r) | (uint64_t)r32(r + 4) << 32, (uint16_t)r16(r + 8)};
        x->st[(top + i) & 7] = v;
    }
    retag(x, buf[4]);
    after_load(x);
    return true;
}
