; misc_insns -- basic sanity of P5/P6-era instructions: CPUID (vendor string
; printable, family 6, feature bits a P6 has), CMPXCHG8B (both outcomes,
; #UD with a register operand), CMPXCHG, XADD, BSWAP, CMOVcc, RDTSC (counts
; up; CR4.TSD makes it #GP(0) at CPL 3 only), BT/BTS/BTR/BTC on memory with
; bit offsets outside the addressed dword (bit-string addressing, also
; negative), SHLD/SHRD, MOVSX/MOVZX, SETcc.
%define GUEST_NAME "misc_insns"
%include "guest.inc"

test_main:
    ; ---- CPUID
    xor eax, eax
    cpuid
    CHECK_BITS eax, 0x80000000, 0, "CPUID.0: max leaf sane"
    cmp eax, 1
    jae .c0
    FAIL "CPUID.0: max basic leaf < 1"
.c0:mov [vendor], ebx
    mov [vendor + 4], edx
    mov [vendor + 8], ecx
    mov byte [vendor + 12], 0
    mov esi, vendor
    mov ecx, 12
.v: lodsb
    cmp al, 0x20
    jb .badv
    cmp al, 0x7E
    ja .badv
    loop .v
    PRINT "info: CPUID vendor "
    mov esi, vendor
    call print_str
    call print_nl
    jmp .c1
.badv:
    FAIL "CPUID.0: vendor string not printable"
.c1:mov eax, 1
    cpuid
    mov ebx, eax
    shr ebx, 8
    and ebx, 0xF
    CHECK ebx, 6, "CPUID.1: family 6"
    ; DE, PSE, TSC, MSR, CX8, SEP, PGE, CMOV
    CHECK_BITS edx, 0xA93C, 0xA93C, "CPUID.1:EDX has DE PSE TSC MSR CX8 SEP PGE CMOV"

    ; ---- CMPXCHG8B
    mov dword [q], 0x11111111
    mov dword [q + 4], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222222
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    lock cmpxchg8b [q]
    CHECK_EFLAGS 0x40, 0x40, "CMPXCHG8B equal: ZF = 1"
    CHECK dword [q], 0x33333333, "CMPXCHG8B equal: low dword stored"
    CHECK dword [q + 4], 0x44444444, "CMPXCHG8B equal: high dword stored"
    mov eax, 0x11111111
    mov edx, 0x22222222
    cmpxchg8b [q]
    CHECK_EFLAGS 0x40, 0, "CMPXCHG8B different: ZF = 0"
    CHECK eax, 0x33333333, "CMPXCHG8B different: EAX loaded"
    CHECK edx, 0x44444444, "CMPXCHG8B different: EDX loaded"
    CHECK dword [q], 0x33333333, "CMPXCHG8B different: memory unchanged"
    EXPECT 6, 0, .u1, .u1r
.u1:db 0x0F, 0xC7, 0xC8             ; CMPXCHG8B EAX: register operand
.u1r:
    EXPECT_SEEN "CMPXCHG8B with a register operand -> #UD"

    ; ---- CMPXCHG
    mov dword [d], 5
    mov eax, 5
    mov ecx, 9
    cmpxchg [d], ecx
    CHECK_EFLAGS 0x40, 0x40, "CMPXCHG equal: ZF = 1"
    CHECK dword [d], 9, "CMPXCHG equal: stored"
    mov eax, 5
    cmpxchg [d], ecx
    CHECK_EFLAGS 0x40, 0, "CMPXCHG different: ZF = 0"
    CHECK eax, 9, "CMPXCHG different: EAX loaded"
    mov al, 0x10
    mov bl, 0x20
    mov cl, 0x10
    cmpxchg cl, bl
    CHECK_BITS ecx, 0xFF, 0x20, "CMPXCHG r8 equal"

    ; ---- XADD
    mov dword [d], 100
    mov eax, 23
    lock xadd [d], eax
    CHECK eax, 100, "XADD: source gets the old destination"
    CHECK dword [d], 123, "XADD: destination gets the sum"
    mov eax, 0xFFFFFFFF
    mov ebx, 1
    xadd eax, ebx
    CHECK_EFLAGS 0x41, 0x41, "XADD flags: CF and ZF"
    CHECK eax, 0, "XADD register sum"
    CHECK ebx, 0xFFFFFFFF, "XADD register exchange"

    ; ---- BSWAP
    mov eax, 0x12345678
    bswap eax
    CHECK eax, 0x78563412, "BSWAP EAX"
    mov edi, 0xA1B2C3D4
    bswap edi
    CHECK edi, 0xD4C3B2A1, "BSWAP EDI"

    ; ---- CMOVcc
    mov eax, 1
    mov ebx, 2
    cmp eax, ebx
    cmovl eax, ebx
    CHECK eax, 2, "CMOVL taken"
    mov ecx, 7
    cmovg ecx, ebx
    CHECK ecx, 7, "CMOVG not taken"
    mov dword [d], 0x55
    xor edx, edx
    cmovz edx, [d]
    CHECK edx, 0x55, "CMOVZ from memory"

    ; ---- RDTSC
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ecx, 100
.spin:
    loop .spin
    rdtsc
    sub eax, esi
    sbb edx, edi
    jnc .tsc_ok
    FAIL "RDTSC went backwards"
.tsc_ok:
    or eax, edx
    jnz .tsc_ok2
    FAIL "RDTSC did not advance"
.tsc_ok2:
    mov eax, cr4
    or eax, 4                       ; TSD
    mov cr4, eax
    rdtsc                           ; still fine at CPL 0
    TO_RING3 user, 0x0002
user:
    EXPECT 13, 0, .t1, .t1r
.t1:rdtsc
.t1r:
    EXPECT_SEEN "RDTSC at CPL 3 with CR4.TSD -> #GP(0)"
    TO_RING0 ring0b
ring0b:
    mov eax, cr4
    and eax, ~4
    mov cr4, eax

    ; ---- BT family: bit-string addressing on memory
    mov dword [bitstr + 0], 0
    mov dword [bitstr + 4], 0
    mov dword [bitstr + 8], 0
    mov dword [bitstr + 12], 0x00000010       ; bit 100 = dword 3, bit 4
    mov eax, 100
    bt [bitstr], eax
    jc .bt1
    FAIL "BT [m], 100 did not see bit 100"
.bt1:
    mov eax, 65
    bts [bitstr], eax
    CHECK dword [bitstr + 8], 2, "BTS [m], 65 sets bit 1 of dword 2"
    mov eax, 100
    btr [bitstr], eax
    CHECK dword [bitstr + 12], 0, "BTR [m], 100 clears it"
    mov eax, -1
    btc [bitstr + 4], eax                     ; bit 31 of the dword before
    CHECK dword [bitstr + 0], 0x80000000, "BTC [m], -1 toggles bit 31 of [m-4]"
    bt dword [bitstr + 8], 33                 ; imm8: taken modulo 32 -> bit 1
    jc .bt2
    FAIL "BT [m], imm8 33 is not modulo 32"
.bt2:
    mov eax, 0x100
    bt eax, 40                              ; register: modulo 32 -> bit 8
    jc .bt3
    FAIL "BT r32, 40 is not modulo 32"
.bt3:

    ; ---- SHLD / SHRD, MOVSX / MOVZX, SETcc
    mov eax, 0x12345678
    mov ebx, 0x9ABCDEF0
    shld eax, ebx, 8
    CHECK eax, 0x3456789A, "SHLD"
    mov eax, 0x12345678
    mov cl, 12
    shrd eax, ebx, cl
    CHECK eax, 0xEF012345, "SHRD by CL"
    mov byte [d], 0x80
    movsx eax, byte [d]
    CHECK eax, 0xFFFFFF80, "MOVSX r32, m8"
    movzx eax, byte [d]
    CHECK eax, 0x80, "MOVZX r32, m8"
    mov eax, 3
    cmp eax, 4
    setb bl
    setg bh
    movzx eax, bx
    CHECK eax, 0x0001, "SETB / SETG"
    CHECK dword [exc_count], 2, "number of exceptions taken"
    PASS

section .bss
alignb 8
q:      resq 1
d:      resd 1
vendor: resb 16
        resd 1
bitstr: resd 4
%include "end.inc"
