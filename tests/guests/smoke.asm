; smoke -- minimal guest: console output, an expected #UD, PASS.
%define GUEST_NAME "smoke"
%include "guest.inc"

test_main:
    PRINTLN "hello from the smoke guest"
    EXPECT 6, 0, .f, .r
.f: ud2
.r: EXPECT_SEEN "ud2 raised #UD"
    mov eax, 1234
    CHECK eax, 1234, "register survives"
    PASS
%include "end.inc"
