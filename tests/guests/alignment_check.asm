; alignment_check -- #AC (vector 17): CR0.AM=1 and EFLAGS.AC=1 at CPL 3 make a
; misaligned data access fault with error code 0 and EIP = the faulting
; instruction; no fault at CPL 0, with AC=0, with AM=0, or for aligned data.
;
; QEMU DEVIATION: QEMU TCG (7.2) does not implement alignment checking, so on
; QEMU the first #AC check fails (run-qemu.sh expects exit 35 for this guest).
; On a real P6 (and on trapeze) this guest must pass.
%define GUEST_NAME "alignment_check"
%include "guest.inc"

EFL_AC equ 0x40000

test_main:
    mov eax, cr0
    or eax, 0x40000                 ; CR0.AM
    mov cr0, eax
    ; CPL 0 with AC=1: no alignment checking
    pushfd
    or dword [esp], EFL_AC
    popfd
    mov eax, [buf + 1]
    mov [buf + 3], ax
    pushfd
    and dword [esp], ~EFL_AC
    popfd
    TO_RING3 user1, 0x3002 | EFL_AC  ; IOPL 3 so ring 3 can print

user1:
    mov eax, [buf + 4]              ; aligned: fine
    mov ax, [buf + 6]
    mov al, [buf + 7]               ; bytes are always aligned
    EXPECT 17, 0, .f1, .r1
.f1:mov eax, [buf + 1]
.r1:EXPECT_SEEN "#AC from a misaligned dword read at CPL 3"
    CHECK dword [last_cs], UCODE3, "#AC frame CS is the ring-3 CS"
    EXPECT 17, 0, .f2, .r2
.f2:mov word [buf + 3], 5
.r2:EXPECT_SEEN "#AC from a misaligned word write at CPL 3"
    EXPECT 17, 0, .f3, .r3
.f3:push dword [buf + 2]            ; misaligned memory source
.r3:EXPECT_SEEN "#AC from PUSH of a misaligned dword"
    mov eax, esp
    sub esp, 2                      ; misaligned stack
    EXPECT 17, 0, .f4, .r4
.f4:push eax
.r4:EXPECT_SEEN "#AC from PUSH with a misaligned ESP"
    add esp, 2
    ; AC = 0: no checking
    pushfd
    and dword [esp], ~EFL_AC
    popfd
    mov eax, [buf + 1]
    TO_RING0 ring0b

ring0b:
    ; AM = 0 with AC = 1 at CPL 3: no checking
    mov eax, cr0
    and eax, ~0x40000
    mov cr0, eax
    TO_RING3 user2, 0x3002 | EFL_AC
user2:
    mov eax, [buf + 1]
    mov [buf + 5], eax
    TO_RING0 done
done:
    CHECK dword [exc_count], 4, "number of #AC taken"
    PASS

section .data
align 16
buf: times 16 db 0x11
%include "end.inc"
