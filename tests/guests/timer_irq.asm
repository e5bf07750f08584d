; timer_irq -- the PC interrupt path end to end: 8259A initialisation, the
; 8254 PIT on IRQ 0 at ~1 kHz, the MC146818 periodic interrupt on IRQ 8
; through the slave PIC, EOI, masking, IF=0 holding an interrupt pending
; until STI, and a steady tick rate against the TSC (the virtual clock).
%define GUEST_NAME "timer_irq"
%include "guest.inc"

test_main:
    mov dword [exc_hook], irq_hook
    ; ---- 8259A pair: vectors 0x20/0x28, cascade on IRQ 2, 8086 mode
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0x21, al
    out 0xa1, al
    mov al, 0xfe                    ; only IRQ 0 for now
    out 0x21, al
    mov al, 0xff
    out 0xa1, al

    ; ---- PIT channel 0, mode 2, divisor 1193 (1000.15 Hz)
    mov al, 0x34
    out 0x43, al
    mov al, 1193 & 0xff
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al

    sti
.wait10:
    hlt
    cmp dword [ticks], 10
    jb .wait10
    rdtsc
    mov [tsc10], eax
    mov [tsc10 + 4], edx
.wait60:
    hlt
    cmp dword [ticks], 60
    jb .wait60
    rdtsc
    mov [tsc60], eax
    mov [tsc60 + 4], edx
.wait110:
    hlt
    cmp dword [ticks], 110
    jb .wait110
    rdtsc
    mov [tsc110], eax
    mov [tsc110 + 4], edx
    CHECK dword [bad_vec], 0, "only vector 0x20 arrived"

    ; d1 = tsc60 - tsc10, d2 = tsc110 - tsc60: equal within 1 %
    mov eax, [tsc60]
    sub eax, [tsc10]
    mov ebx, [tsc110]
    sub ebx, [tsc60]
    mov ecx, eax
    sub ecx, ebx
    jns .pos
    neg ecx
.pos:
    mov edx, eax
    shr edx, 7                      ; d1 / 128 < 1 %
    cmp ecx, edx
    jbe .steady
    FAIL "PIT ticks are not evenly spaced on the TSC"
.steady:
    CHECK_BITS eax, 0x80000000, 0, "50 ticks took a sane number of TSC cycles"

    ; ---- IF = 0 holds the interrupt pending; STI delivers it after one instruction
    cli
    mov eax, [ticks]
    mov [ticks_cli], eax
    mov ecx, 2000000                ; spin past at least one tick period (4M cycles)
.spin:
    dec ecx
    jnz .spin
    mov eax, [ticks]
    CHECK eax, [ticks_cli], "no interrupt while IF = 0"
    sti
    nop                             ; the STI shadow
    nop
    mov eax, [ticks]
    sub eax, [ticks_cli]
    CHECK eax, 1, "the pending tick arrives right after STI"

    ; ---- RTC periodic interrupt (IRQ 8, vector 0x28) through the cascade
    cli
    mov al, 0xff                    ; PIT off at the PIC
    out 0x21, al
    mov al, 0xfb                    ; master: cascade only
    out 0x21, al
    mov al, 0xfe                    ; slave: IRQ 8
    out 0xa1, al
    mov al, 0x0a
    out 0x70, al
    mov al, 0x26                    ; 1024 Hz
    out 0x71, al
    mov al, 0x0b
    out 0x70, al
    in al, 0x71
    or al, 0x40                     ; PIE
    mov ah, al
    mov al, 0x0b
    out 0x70, al
    mov al, ah
    out 0x71, al
    sti
.wait_rtc:
    hlt
    cmp dword [rtc_ticks], 5
    jb .wait_rtc
    cli
    CHECK dword [bad_vec], 0, "only vector 0x28 arrived from the slave"
    PASS

; exc_hook: IRQ 0 and IRQ 8 are counted and acknowledged; anything else fails.
irq_hook:
    mov eax, [ebp + F_VEC]
    cmp eax, 0x20
    jne .not_pit
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al                    ; EOI
    xor eax, eax
    ret
.not_pit:
    cmp eax, 0x28
    jne .other
    inc dword [rtc_ticks]
    mov al, 0x0c
    out 0x70, al
    in al, 0x71                     ; read register C: acknowledges the RTC
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    xor eax, eax
    ret
.other:
    cmp eax, 0x20
    jb .exception
    mov [bad_vec], eax
    xor eax, eax
    ret
.exception:
    mov eax, 1                      ; let the common handler report it
    ret

section .data
align 4
ticks: dd 0
rtc_ticks: dd 0
ticks_cli: dd 0
bad_vec: dd 0
tsc10: dq 0
tsc60: dq 0
tsc110: dq 0
%include "end.inc"
