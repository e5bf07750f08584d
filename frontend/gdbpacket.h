/*
 * The framing layer of the GDB remote serial protocol (frontend/gdbpacket.c),
 * kept apart from the socket and the VM so that it is unit-tested on its own
 * (tests/unit/test_gdbpacket.c).
 *
 * A packet is `$BODY#CC`, CC the modulo-256 sum of BODY's bytes in two hex
 * digits; inside BODY, '}' escapes the next byte (sent XOR 0x20). Between
 * packets the peer sends acks ('+', '-') and the interrupt byte 0x03.
 */
#ifndef TRAPEZE_FRONTEND_GDBPACKET_H
#define TRAPEZE_FRONTEND_GDBPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one byte fed to the parser completed. */
enum gdb_pkt_event {
    GDB_PKT_NONE,      /* nothing yet (or noise between packets, skipped) */
    GDB_PKT_OK,        /* a packet with a good checksum: body in buf, NUL-terminated */
    GDB_PKT_BAD,       /* a packet with a bad or malformed checksum: answer '-' */
    GDB_PKT_INTERRUPT, /* 0x03 outside a packet */
};

/* The parser's state; buf holds the unescaped body. A body longer than
 * cap - 1 bytes is reported as GDB_PKT_BAD (its tail is not kept, so it
 * is never half-executed). */
struct gdb_parser {
    char *buf;
    size_t cap, len;
    enum { GDB_P_IDLE, GDB_P_BODY, GDB_P_ESC, GDB_P_CK1, GDB_P_CK2 } state;
    unsigned sum;
    int ck_hi;
    bool overflow;
};

void gdb_parser_init(struct gdb_parser *p, char *buf, size_t cap);

/* Feeds one received byte; O(1). */
enum gdb_pkt_event gdb_parser_feed(struct gdb_parser *p, uint8_t ch);

/* Frames body as `$BODY#CC` into out (cap bytes), escaping '$', '#', '}'
 * and '*'. Returns the framed length, or -1 if it does not fit. */
int gdb_packet_frame(const char *body, size_t n, char *out, size_t cap);

/* One hex digit's value, or -1. */
int gdb_hexval(int ch);

/* Parses hex digits at *s up to a byte not a hex digit into *v; advances
 * *s. Returns false if there is no digit or the value exceeds 32 bits. */
bool gdb_parse_hex(const char **s, uint32_t *v);

/* Decodes 2*n hex digits at s into n bytes. Returns false on a non-hex
 * digit (or a string shorter than 2*n). */
bool gdb_hex_decode(const char *s, uint8_t *out, size_t n);

#endif
