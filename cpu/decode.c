/*
 * Table-driven IA-32 decoder (see decode.h). The tables below are derived
 * from the opcode table at start-up; nothing about an instruction form is
 * written here.
 */
#include "decode.h"

#include <pthread.h>
#include <string.h>

#include "cpu.h"
#include "forms.h"

enum imm_kind {
    IMM_NONE,
    IMM_B,  /* Ib, Jb: one byte, sign-extended */
    IMM_W,  /* Iw */
    IMM_Z,  /* Iz, Iv, Jz: operand size */
    IMM_P,  /* Ap: offset of operand size, then a 16-bit selector */
    IMM_O,  /* Ob, Ov: moffs of address size */
    IMM_WB, /* Iw,Ib (ENTER) */
};

struct rowinfo {
    uint8_t imm;
    uint8_t modrm;
    uint8_t mem_only;
};

/* rows[opcode][0]: the form owning the whole opcode; rows[opcode][1 + reg]: group forms */
static const struct opdesc *rows[512][9];
static struct rowinfo info[512][9];
static uint8_t is_group[512], has_modrm[512];
/* Class bits per slot, with C_CRITICAL derived (see cpu/insn.h). */
static uint16_t row_cls[512][9];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void derive(const struct opdesc *d, struct rowinfo *ri)
{
    char buf[64];
    strncpy(buf, d->operands, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = 0;
    memset(ri, 0, sizeof(*ri));
    if (d->ext >= 0)
        ri->modrm = 1;
    if (!strcmp(d->operands, "Iw,Ib")) {
        ri->imm = IMM_WB;
        return;
    }
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t n = strlen(t);
        /* Addressing-method letter followed by a lower-case operand type. */
        bool am = n >= 2 && t[0] >= 'A' && t[0] <= 'Z' && t[1] >= 'a' && t[1] <= 'z';
        if ((am && strchr("EGMRSCD", t[0])) || !strcmp(t, "M"))
            ri->modrm = 1;
        if (t[0] == 'M')
            ri->mem_only = 1;
        if (!am)
            continue;
        if (!strcmp(t, "Ib") || !strcmp(t, "Jb"))
            ri->imm = IMM_B;
        else if (!strcmp(t, "Iw"))
            ri->imm = IMM_W;
        else if (!strcmp(t, "Iz") || !strcmp(t, "Iv") || !strcmp(t, "Jz"))
            ri->imm = IMM_Z;
        else if (!strcmp(t, "Ap"))
            ri->imm = IMM_P;
        else if (t[0] == 'O')
            ri->imm = IMM_O;
    }
}

static void build(void)
{
    for (int k = 0; k < op_table_size; k++) {
        const struct opdesc *d = &op_table[k];
        int slot = d->ext < 0 ? 0 : 1 + d->ext;
        rows[d->opcode][slot] = d;
        derive(d, &info[d->opcode][slot]);
        row_cls[d->opcode][slot] = decode_row_class(d);
        if (d->ext >= 0)
            is_group[d->opcode] = 1;
        if (info[d->opcode][slot].modrm)
            has_modrm[d->opcode] = 1;
    }
    forms_init();
}

void decode_init(void) { pthread_once(&once, build); }

uint16_t decode_row_class(const struct opdesc *d)
{
    uint16_t cls = d->cls;
    if ((cls & C_SENSITIVE) && !(cls & (C_PRIV | C_IOPL)))
        cls |= C_CRITICAL;
    return cls;
}

const struct opdesc *decode_lookup(unsigned opcode, int reg)
{
    decode_init();
    if (opcode >= 512)
        return NULL;
    if (is_group[opcode])
        return reg >= 0 && reg < 8 ? rows[opcode][1 + reg] : NULL;
    return rows[opcode][0];
}

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int k = 0; k < n; k++)
        v |= (uint32_t)p[k] << (8 * k);
    return v;
}

/* 16-bit ModRM memory forms: base and index register per rm. */
static const uint8_t base16[8] = {R_EBX, R_EBX, R_EBP, R_EBP, 8, 8, R_EBP, R_EBX};
static const uint8_t index16[8] = {R_ESI, R_EDI, R_ESI, R_EDI, R_ESI, R_EDI, 8, 8};

#define NEED(k)                                                                                \
    do {                                                                                       \
        if (n + (k) > 15)                                                                      \
            return o->len = 15, DEC_TOO_LONG;                                                  \
        if (n + (k) > avail)                                                                   \
            return o->len = (uint8_t)n, DEC_NEED_MORE;                                         \
    } while (0)

enum decode_status decode(const uint8_t *buf, size_t avail, int code32, struct insn *o)
{
    size_t n = 0;
    uint8_t opsize = code32 ? 4 : 2, addrsize = code32 ? 4 : 2;
    uint8_t seg = S_NONE, rep = 0, lock = 0;

    for (;;) {
        NEED(1);
        uint8_t b = buf[n];
        switch (b) {
        case 0x26: seg = S_ES; break;
        case 0x2e: seg = S_CS; break;
        case 0x36: seg = S_SS; break;
        case 0x3e: seg = S_DS; break;
        case 0x64: seg = S_FS; break;
        case 0x65: seg = S_GS; break;
        case 0x66: opsize = code32 ? 2 : 4; break;
        case 0x67: addrsize = code32 ? 2 : 4; break;
        case 0xf0: lock = 1; break;
        case 0xf2:
        case 0xf3: rep = b; break;
        default: goto opcode;
        }
        n++;
    }
opcode:;
    unsigned opc = buf[n++];
    if (opc == 0x0f) {
        NEED(1);
        opc = 0x100 | buf[n++];
    }
    o->b = (uint8_t)opc;
    o->opsize = opsize;
    o->addrsize = addrsize;
    o->seg_override = seg;
    o->rep = rep;
    o->lock = lock;
    o->modrm = o->mod = o->reg = o->rm = 0;
    o->base = o->index = 8;
    o->scale = 0;
    o->disp = o->imm = o->imm2 = 0;
    o->op = NULL;
    o->fn = NULL;
    o->cls = 0;
    o->stat_row = 0;
    o->ends_run = 1;
    o->quiet = 0;

    int slot = 0;
    uint8_t def_seg = S_DS;
    if (has_modrm[opc]) {
        NEED(1);
        uint8_t m = buf[n++];
        o->modrm = m;
        o->mod = m >> 6;
        o->reg = (m >> 3) & 7;
        o->rm = m & 7;
        if (is_group[opc])
            slot = 1 + o->reg;
    }
    const struct opdesc *d = rows[opc][slot];
    if (!d)
        return o->len = (uint8_t)n, DEC_INVALID;
    const struct rowinfo *ri = &info[opc][slot];
    o->op = d;
    o->ends_run = (d->attr & (A_BRANCH | A_SERIAL)) != 0;
    o->fn = d->fn;
    o->cls = row_cls[opc][slot];
    o->stat_row = (uint16_t)(d - op_table);
    if ((d->attr & A_MEM_SENS) && o->mod == 3) {
        o->cls = 0;
        o->stat_row = (uint16_t)op_table_size;
    }

    if (ri->modrm && !(d->attr & A_MODRM_REG) && o->mod != 3) {
        if (addrsize == 2) {
            if (o->mod == 0 && o->rm == 6) {
                NEED(2);
                o->disp = le(buf + n, 2);
                n += 2;
            } else {
                o->base = base16[o->rm];
                o->index = index16[o->rm];
                if (o->base == R_EBP)
                    def_seg = S_SS;
                if (o->mod == 1) {
                    NEED(1);
                    o->disp = (uint32_t)(int32_t)(int8_t)buf[n++];
                } else if (o->mod == 2) {
                    NEED(2);
                    o->disp = le(buf + n, 2);
                    n += 2;
                }
            }
        } else {
            uint8_t base = o->rm;
            if (o->rm == 4) {
                NEED(1);
                uint8_t sib = buf[n++];
                o->scale = sib >> 6;
                o->index = (sib >> 3) & 7;
                if (o->index == 4)
                    o->index = 8;
                base = sib & 7;
            }
            if (base == 5 && o->mod == 0) {
                NEED(4);
                o->disp = le(buf + n, 4);
                n += 4;
            } else {
                o->base = base;
                if (base == R_ESP || base == R_EBP)
                    def_seg = S_SS;
                if (o->mod == 1) {
                    NEED(1);
                    o->disp = (uint32_t)(int32_t)(int8_t)buf[n++];
                } else if (o->mod == 2) {
                    NEED(4);
                    o->disp = le(buf + n, 4);
                    n += 4;
                }
            }
        }
    } else if (ri->mem_only && o->mod == 3) {
        return o->len = (uint8_t)n, DEC_INVALID;
    }

    switch (ri->imm) {
    case IMM_NONE: break;
    case IMM_B:
        NEED(1);
        o->imm = (uint32_t)(int32_t)(int8_t)buf[n++];
        break;
    case IMM_W:
        NEED(2);
        o->imm = le(buf + n, 2);
        n += 2;
        break;
    case IMM_Z:
        NEED(opsize);
        o->imm = le(buf + n, opsize);
        n += opsize;
        break;
    case IMM_P:
        NEED(opsize + 2);
        o->imm = le(buf + n, opsize);
        o->imm2 = le(buf + n + opsize, 2);
        n += opsize + 2u;
        break;
    case IMM_O:
        NEED(addrsize);
        o->disp = le(buf + n, addrsize);
        n += addrsize;
        break;
    case IMM_WB:
        NEED(3);
        o->imm = le(buf + n, 2);
        o->imm2 = buf[n + 2];
        n += 3;
        break;
    }
    o->len = (uint8_t)n;
    o->seg = seg != S_NONE ? seg : def_seg;
    if (lock && (!(d->attr & A_LOCK) || o->mod == 3 || !ri->modrm))
        return DEC_INVALID;
    bool quiet;
    o->fn = form_select(o, ri->modrm, &quiet);
    o->quiet = quiet;
    return DEC_OK;
}

uint32_t insn_ea(const struct cpu *c, const struct insn *i)
{
    uint32_t ea = i->disp + c->r_ea[i->base] + (c->r_ea[i->index] << i->scale);
    return i->addrsize == 2 ? (ea & 0xffff) : ea;
}
