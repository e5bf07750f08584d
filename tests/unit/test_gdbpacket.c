/*
 * The GDB remote protocol's framing (frontend/gdbpacket.c): checksums,
 * '}' escaping both ways, acks and the interrupt byte between packets,
 * and malformed input (bad or non-hex checksums, oversized bodies, a '$'
 * inside a packet, bad hex) reported rather than accepted. The frontend is
 * not in the library, so its source is compiled in here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdbpacket.c"

/* Feeds s to a fresh-or-given parser; returns the last non-NONE event (and
 * how many there were in *count). */
static enum gdb_pkt_event feed(struct gdb_parser *p, const char *s, size_t n, int *count)
{
    enum gdb_pkt_event last = GDB_PKT_NONE;
    int c = 0;
    for (size_t k = 0; k < n; k++) {
        enum gdb_pkt_event e = gdb_parser_feed(p, (uint8_t)s[k]);
        if (e != GDB_PKT_NONE) {
            last = e;
            c++;
        }
    }
    if (count) *count = c;
    return last;
}

START_TEST(frame_checksum)
{
    char out[64];
    /* "OK": 'O' 0x4f + 'K' 0x4b = 0x9a */
    int n = gdb_packet_frame("OK", 2, out, sizeof(out));
    ck_assert_int_eq(n, 6);
    out[n] = 0;
    ck_assert_str_eq(out, "$OK#9a");
    n = gdb_packet_frame("", 0, out, sizeof(out));
    out[n] = 0;
    ck_assert_str_eq(out, "$#00");
    ck_assert_int_eq(gdb_packet_frame("OK", 2, out, 5), -1); /* does not fit */
}
END_TEST

START_TEST(frame_escapes)
{
    char out[64];
    int n = gdb_packet_frame("a$b#c}d*", 8, out, sizeof(out));
    out[n] = 0;
    /* each special byte becomes '}' and itself XOR 0x20; the checksum is over
     * the bytes as sent */
    ck_assert_int_eq(strncmp(out,
                             "$a}\x04"
                             "b}\x03"
                             "c}]d}\x0a#",
                             14),
                     0);
    unsigned sum = 0;
    for (int k = 1; out[k] != '#'; k++)
        sum += (unsigned char)out[k];
    char want[3];
    snprintf(want, sizeof(want), "%02x", sum & 0xff);
    ck_assert_str_eq(out + n - 2, want);
}
END_TEST

START_TEST(parse_roundtrip)
{
    const char *bodies[] = {"g", "m8000,4", "X100,3:a$#}*",
                            "qSupported:multiprocess+;xmlRegisters=i386", ""};
    for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
        char framed[128], buf[64];
        int n = gdb_packet_frame(bodies[b], strlen(bodies[b]), framed, sizeof(framed));
        ck_assert_int_ge(n, 4);
        struct gdb_parser p;
        gdb_parser_init(&p, buf, sizeof(buf));
        int count;
        ck_assert_int_eq(feed(&p, framed, (size_t)n, &count), GDB_PKT_OK);
        ck_assert_int_eq(count, 1);
        ck_assert_str_eq(buf, bodies[b]);
        ck_assert_uint_eq(p.len, strlen(bodies[b]));
    }
}
END_TEST

START_TEST(acks_and_interrupt)
{
    char buf[32];
    struct gdb_parser p;
    gdb_parser_init(&p, buf, sizeof(buf));
    ck_assert_int_eq(feed(&p, "+-+xyz", 6, NULL), GDB_PKT_NONE); /* noise skipped */
    ck_assert_int_eq(gdb_parser_feed(&p, 0x03), GDB_PKT_INTERRUPT);
    ck_assert_int_eq(feed(&p, "+$?#3f", 6, NULL), GDB_PKT_OK);
    ck_assert_str_eq(buf, "?");
    /* 0x03 inside a packet is data, not an interrupt */
    char framed[16];
    int n = gdb_packet_frame("\x03", 1, framed, sizeof(framed));
    ck_assert_int_eq(feed(&p, framed, (size_t)n, NULL), GDB_PKT_OK);
    ck_assert_int_eq(buf[0], 3);
}
END_TEST

START_TEST(malformed)
{
    char buf[8];
    struct gdb_parser p;
    gdb_parser_init(&p, buf, sizeof(buf));
    ck_assert_int_eq(feed(&p, "$g#68", 5, NULL), GDB_PKT_BAD); /* wrong sum (0x67) */
    ck_assert_int_eq(feed(&p, "$g#zz", 5, NULL), GDB_PKT_BAD); /* not hex */
    ck_assert_int_eq(feed(&p, "$g#6", 4, NULL), GDB_PKT_NONE); /* incomplete: waits */
    ck_assert_int_eq(feed(&p, "7", 1, NULL), GDB_PKT_OK);      /* ...and completes */
    ck_assert_str_eq(buf, "g");
    /* a body longer than the buffer: rejected, never truncated and run */
    char big[64], framed[160];
    memset(big, 'm', sizeof(big));
    int n = gdb_packet_frame(big, sizeof(big), framed, sizeof(framed));
    ck_assert_int_eq(feed(&p, framed, (size_t)n, NULL), GDB_PKT_BAD);
    ck_assert_int_lt(strlen(buf), sizeof(buf));
    /* a '$' inside a packet abandons it and starts a new one */
    int count;
    ck_assert_int_eq(feed(&p, "$ab$g#67", 8, &count), GDB_PKT_OK);
    ck_assert_int_eq(count, 2);
    ck_assert_str_eq(buf, "g");
    /* the parser still works after all of that */
    ck_assert_int_eq(feed(&p, "$?#3f", 5, NULL), GDB_PKT_OK);
    ck_assert_str_eq(buf, "?");
}
END_TEST

START_TEST(hex_helpers)
{
    const char *s = "c0100000,4";
    uint32_t v;
    ck_assert(gdb_parse_hex(&s, &v));
    ck_assert_uint_eq(v, 0xc0100000u);
    ck_assert_int_eq(*s, ',');
    s = ",4";
    ck_assert(!gdb_parse_hex(&s, &v)); /* no digit */
    s = "123456789";
    ck_assert(!gdb_parse_hex(&s, &v)); /* more than 32 bits */
    uint8_t b[3];
    ck_assert(gdb_hex_decode("00fFa5", b, 3));
    ck_assert_uint_eq(b[0], 0);
    ck_assert_uint_eq(b[1], 0xff);
    ck_assert_uint_eq(b[2], 0xa5);
    ck_assert(!gdb_hex_decode("0g", b, 1));
    ck_assert(!gdb_hex_decode("0", b, 1)); /* too short: stops at the NUL */
    ck_assert_int_eq(gdb_hexval('x'), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gdbpacket");
    TCase *t = tcase_create("gdbpacket");
    tcase_add_test(t, frame_checksum);
    tcase_add_test(t, frame_escapes);
    tcase_add_test(t, parse_roundtrip);
    tcase_add_test(t, acks_and_interrupt);
    tcase_add_test(t, malformed);
    tcase_add_test(t, hex_helpers);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
