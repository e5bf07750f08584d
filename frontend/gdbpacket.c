/* GDB remote protocol framing: see gdbpacket.h. */
#include "gdbpacket.h"

#include <string.h>

void gdb_parser_init(struct gdb_parser *p, char *buf, size_t cap)
{
    memset(p, 0, sizeof(*p));
    p->buf = buf;
    p->cap = cap;
}

int gdb_hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

enum gdb_pkt_event gdb_parser_feed(struct gdb_parser *p, uint8_t ch)
{
    switch (p->state) {
    case GDB_P_IDLE:
        if (ch == 0x03) return GDB_PKT_INTERRUPT;
        if (ch == '$') {
            p->state = GDB_P_BODY;
            p->len = 0;
            p->sum = 0;
            p->overflow = false;
        }
        return GDB_PKT_NONE; /* '+', '-' and noise are skipped */
    case GDB_P_BODY:
    case GDB_P_ESC:
        if (ch == '#' && p->state == GDB_P_BODY) {
            p->state = GDB_P_CK1;
            return GDB_PKT_NONE;
        }
        if (ch == '$') { /* a new packet before this one ended: restart */
            p->len = 0;
            p->sum = 0;
            p->overflow = false;
            p->state = GDB_P_BODY;
            return GDB_PKT_BAD;
        }
        p->sum += ch;
        if (p->state == GDB_P_BODY && ch == '}') {
            p->state = GDB_P_ESC;
            return GDB_PKT_NONE;
        }
        if (p->state == GDB_P_ESC) {
            ch ^= 0x20;
            p->state = GDB_P_BODY;
        }
        if (p->len + 1 < p->cap)
            p->buf[p->len++] = (char)ch;
        else
            p->overflow = true;
        return GDB_PKT_NONE;
    case GDB_P_CK1:
        p->ck_hi = gdb_hexval(ch);
        p->state = GDB_P_CK2;
        return GDB_PKT_NONE;
    case GDB_P_CK2: {
        int lo = gdb_hexval(ch);
        p->state = GDB_P_IDLE;
        if (p->cap) p->buf[p->len < p->cap ? p->len : p->cap - 1] = 0;
        if (p->ck_hi < 0 || lo < 0 || (unsigned)(p->ck_hi << 4 | lo) != (p->sum & 0xff) ||
            p->overflow)
            return GDB_PKT_BAD;
        return GDB_PKT_OK;
    }
    }
    return GDB_PKT_NONE;
}

int gdb_packet_frame(const char *body, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    unsigned sum = 0;
    if (cap < 4) return -1;
    out[o++] = '$';
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)body[k];
        bool esc = ch == '$' || ch == '#' || ch == '}' || ch == '*';
        if (o + (esc ? 2 : 1) + 3 > cap) return -1;
        if (esc) {
            out[o++] = '}';
            sum += '}';
            ch ^= 0x20;
        }
        out[o++] = (char)ch;
        sum += ch;
    }
    out[o++] = '#';
    out[o++] = hex[(sum >> 4) & 15];
    out[o++] = hex[sum & 15];
    return (int)o;
}

bool gdb_parse_hex(const char **s, uint32_t *v)
{
    const char *q = *s;
    uint64_t acc = 0;
    int d;
    while ((d = gdb_hexval((unsigned char)*q)) >= 0) {
        acc = acc << 4 | (uint64_t)d;
        if (acc > 0xffffffffu) return false;
        q++;
    }
    if (q == *s) return false;
    *v = (uint32_t)acc;
    *s = q;
    return true;
}

bool gdb_hex_decode(const char *s, uint8_t *out, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int hi = gdb_hexval((unsigned char)s[2 * k]);
        int lo = hi < 0 ? -1 : gdb_hexval((unsigned char)s[2 * k + 1]);
        if (hi < 0 || lo < 0) return false;
        out[k] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
