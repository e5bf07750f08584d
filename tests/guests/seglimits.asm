; seglimits -- segment limit and type checks on data accesses: LSL/LAR/VERR/
; VERW on the descriptors first, then byte-granular limits (a dword that
; crosses the limit faults), expand-down data segments with B=1 and B=0
; (valid offsets limit+1 .. 0xFFFFFFFF / 0xFFFF), writes to a read-only data
; segment and through CS, reads through an execute-only CS, #SS(0) for an
; SS-relative access beyond the limit at CPL 0, and #SS(0) from PUSH on an
; expand-down ring-3 stack segment (handled on the ring-0 stack).
;
; QEMU DEVIATION: QEMU TCG (7.2) does not check segment limits or types on
; data accesses (only when segment registers are loaded), so on QEMU the
; first limit check fails: run-qemu.sh expects exit 35 for this guest. The
; LSL/LAR/VERR/VERW part before it does pass on QEMU. On a real P6 (and on
; trapeze) the whole guest must pass.
%define GUEST_NAME "seglimits"
%include "guest.inc"

SEL_SMALL equ 0x40          ; data RW, base 0x200000, limit 0xFFF, byte granular
SEL_ED32  equ 0x48          ; expand-down RW, base 0x200000, limit 0xFFF, B=1
SEL_ED16  equ 0x50          ; expand-down RW, base 0x200000, limit 0xFFF, B=0
SEL_RO    equ 0x58          ; read-only data, flat
SEL_XO    equ 0x60          ; execute-only code, flat
SEL_USTK  equ 0x68          ; expand-down RW DPL 3, base 0x300000, limit 0xFFF, B=1
SEL_CODE  equ 0x70          ; readable code, flat (for CS-override writes)
SEL_STK0  equ 0x78          ; data RW, base 0x200000, limit 0xFFFF (ring-0 stack)

; GPF/SSF "name", instruction -- must raise #GP(0) / #SS(0)
%macro GPF 2+
    EXPECT 13, 0, %%f, %%r
%%f: %2
%%r:
    EXPECT_SEEN %1
%endmacro

%macro SEG 5                        ; sel, base, limit, access, flags
    mov eax, %1
    mov ebx, %2
    mov ecx, %3
    mov dl, %4
    mov dh, %5
    call gdt_set
%endmacro

test_main:
    SEG SEL_SMALL, 0x200000, 0xFFF, 0x92, FL_BYTE32
    SEG SEL_ED32, 0x200000, 0xFFF, 0x96, FL_BYTE32
    SEG SEL_ED16, 0x200000, 0xFFF, 0x96, FL_BYTE16
    SEG SEL_RO, 0, 0xFFFFF, 0x90, FL_4K32
    SEG SEL_XO, 0, 0xFFFFF, 0x98, FL_4K32
    SEG SEL_USTK, 0x300000, 0xFFF, 0xF6, FL_BYTE32
    SEG SEL_CODE, 0, 0xFFFFF, 0x9A, FL_4K32
    SEG SEL_STK0, 0x200000, 0xFFFF, 0x92, FL_BYTE32

    ; ---- LSL / LAR / VERR / VERW (QEMU gets these right)
    lsl eax, [sel_small]
    CHECK eax, 0xFFF, "LSL of a byte-granular segment"
    mov bx, KDATA
    lsl eax, bx
    CHECK eax, 0xFFFFFFFF, "LSL of a 4K-granular flat segment"
    mov bx, SEL_ED32
    lar eax, bx
    CHECK_BITS eax, 0x00F0FF00, 0x00409600, "LAR of the expand-down segment"
    mov bx, SEL_RO
    verr bx
    CHECK_EFLAGS 0x40, 0x40, "VERR read-only data: readable"
    verw bx
    CHECK_EFLAGS 0x40, 0, "VERW read-only data: not writable"
    mov bx, SEL_XO
    verr bx
    CHECK_EFLAGS 0x40, 0, "VERR execute-only code: not readable"
    mov bx, SEL_CODE
    verr bx
    CHECK_EFLAGS 0x40, 0x40, "VERR readable code"
    verw bx
    CHECK_EFLAGS 0x40, 0, "VERW code: never writable"
    PRINTLN "LSL/LAR/VERR/VERW ok; limit checks follow (QEMU deviates from here)"

    ; ---- byte-granular limit 0xFFF
    mov ax, SEL_SMALL
    mov es, ax
    mov dword [es:0xFFC], 0x12345678
    CHECK dword [0x200FFC], 0x12345678, "write at the last dword inside the limit"
    GPF "dword read crossing the limit", mov eax, [es:0xFFD]
    GPF "byte read just past the limit", mov al, [es:0x1000]
    GPF "write far past the limit", mov dword [es:0x10000], 0
    mov al, [es:0xFFF]              ; last byte: fine

    ; ---- expand-down, B = 1: valid offsets 0x1000 .. 0xFFFFFFFF
    mov ax, SEL_ED32
    mov es, ax
    mov dword [es:0x1000], 0xED32ED32
    CHECK dword [0x201000], 0xED32ED32, "expand-down: write at limit+1"
    mov eax, [es:0xFFFFFFFC]        ; top of the segment: fine
    GPF "expand-down: byte at the limit", mov al, [es:0xFFF]
    GPF "expand-down: dword starting below limit+1", mov eax, [es:0xFFE]
    GPF "expand-down: offset 0", mov eax, [es:0]

    ; ---- expand-down, B = 0: valid offsets 0x1000 .. 0xFFFF
    mov ax, SEL_ED16
    mov es, ax
    mov ax, [es:0xFFFE]             ; fine
    mov al, [es:0x1000]             ; fine
    GPF "expand-down B=0: word at 0xFFFF crosses 64K", mov ax, [es:0xFFFF]
    GPF "expand-down B=0: offset 0x10000", mov al, [es:0x10000]
    GPF "expand-down B=0: byte at the limit", mov al, [es:0xFFF]

    ; ---- segment types
    mov ax, SEL_RO
    mov es, ax
    mov eax, [es:d]                 ; reading is fine
    GPF "write to a read-only data segment", mov dword [es:d], 1
    GPF "write through CS", mov dword [cs:d], 1
    mov ax, KDATA
    mov es, ax
    jmp SEL_XO:.xo
.xo:GPF "read through an execute-only CS", mov eax, [cs:d]
    jmp KCODE:.k
.k:

    ; ---- #SS(0) for an SS-relative access beyond the limit at CPL 0
    mov [saved_esp], esp
    EXPECT 12, 0, .s1, .s1r         ; (arm before SS stops covering our data)
    mov ax, SEL_STK0
    mov ss, ax
    mov esp, 0x8000
    mov ebp, 0x10000
.s1:mov eax, [ebp]
.s1r:
    mov ax, KDATA
    mov ss, ax
    mov esp, [saved_esp]
    EXPECT_SEEN "SS-relative read beyond the SS limit -> #SS(0)"

    ; ---- #SS(0) from PUSH on an expand-down ring-3 stack
    TO_RING3 user, 0x0002
user:
    EXPECT 12, 0, .p, .pr
    mov ax, SEL_USTK | 3
    mov ss, ax
    mov esp, 0x1008
    push eax
    push eax                        ; ESP = 0x1000: still inside
.p: push eax                        ; would write 0xFFC..0xFFF: below limit+1
.pr:
    mov ebx, esp
    mov ax, UDATA3
    mov ss, ax
    mov esp, ustack_top
    EXPECT_SEEN "PUSH below an expand-down stack's limit -> #SS(0)"
    CHECK ebx, 0x1000, "ESP unchanged by the faulting PUSH"
    TO_RING0 done
done:
    CHECK dword [exc_count], 14, "number of exceptions taken"
    PASS

section .data
sel_small: dw SEL_SMALL
align 4
d: dd 0
saved_esp: dd 0
%include "end.inc"
