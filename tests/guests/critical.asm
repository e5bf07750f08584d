; critical -- the critical (sensitive but unprivileged) instructions at guest
; ring 0: what each one shows the guest, against the architectural value.
;
; For each observation prints one line
;   OBSERVE <name>: got XXXXXXXX, architectural YYYYYYYY -- ok
;   OBSERVE <name>: got XXXXXXXX, architectural YYYYYYYY -- DIVERGES
; and PASSes only when nothing diverged. On a real CPU, in trapeze's emulate
; mode and in vmm mode every line says ok; in trap mode (the guest kernel
; deprivileged to ring 1, critical instructions not intercepted) the
; divergences that tests/test-modes.sh lists appear, and the guest reports
; FAIL: "critical instructions diverged". The architectural values are taken
; from the guest's own structures (its GDT, IDT, TSS selector, CR0 read
; with MOV, a privileged instruction that every mode gets right).
;
; Observations: SGDT base/limit, SIDT base/limit, SLDT (after LLDT), STR,
; SMSW, PUSHF's IF after CLI, PUSHF's IOPL after POPF set it to 3, PUSHF's
; IF after POPF tried to clear it (IF was set by STI), PUSH CS's selector,
; MOV r,CS and MOV r,SS, LAR/LSL/VERR/VERW on the DPL-0 data selector,
; the CS a far CALL and an INT n push, POP DS, MOV ES,r, LSS, CPUID's
; vendor, RDTSC counting forward.
%define GUEST_NAME "critical"
%include "guest.inc"

LDTSEL equ 0x40                     ; GDT slot of the guest's LDT

; OBSERVE "name" -- EAX = what the guest saw, EBX = the architectural value
%macro OBSERVE 1
    [section .data]
    %%s: db %1, 0
    __SECT__
    mov esi, %%s
    call observe
%endmacro

test_main:
    call pic_mask_all

    ; An LDT of two entries, so SLDT has something to show.
    mov eax, LDTSEL
    mov ebx, ldt_table
    mov ecx, 15
    mov dl, 0x82                    ; present, DPL 0, LDT
    mov dh, 0
    call gdt_set
    mov ax, LDTSEL
    lldt ax

    ; --- descriptor-table registers -------------------------------------
    sgdt [dtr_buf]
    mov eax, [dtr_buf + 2]
    mov ebx, gdt
    OBSERVE "SGDT base"
    movzx eax, word [dtr_buf]
    mov ebx, gdt_end - gdt - 1
    OBSERVE "SGDT limit"
    sidt [dtr_buf]
    mov eax, [dtr_buf + 2]
    mov ebx, idt
    OBSERVE "SIDT base"
    movzx eax, word [dtr_buf]
    mov ebx, 256 * 8 - 1
    OBSERVE "SIDT limit"
    xor eax, eax
    sldt ax
    mov ebx, LDTSEL
    OBSERVE "SLDT"
    xor eax, eax
    str ax
    mov ebx, KTSS
    OBSERVE "STR"
    mov ebx, cr0                    ; privileged: the VMM answers with the guest's CR0
    and ebx, 0xFFFF
    xor eax, eax
    smsw ax
    OBSERVE "SMSW"

    ; --- EFLAGS.IF and IOPL ----------------------------------------------
    cli
    pushfd
    pop eax
    and eax, 0x200
    mov ebx, 0
    OBSERVE "PUSHF IF after CLI"

    pushfd
    pop eax
    or eax, 0x3000                  ; IOPL 3
    push eax
    popfd
    pushfd
    pop eax
    and eax, 0x3000
    mov ebx, 0x3000
    OBSERVE "PUSHF IOPL after POPF set 3"
    pushfd
    and dword [esp], ~0x3000
    popfd

    sti                             ; every IRQ is masked
    pushfd
    pop eax
    and eax, ~0x200
    push eax
    popfd                           ; clear IF
    pushfd
    pop eax
    and eax, 0x200
    mov ebx, 0
    OBSERVE "PUSHF IF after POPF cleared it"
    cli

    ; --- selectors -------------------------------------------------------
    push cs
    pop eax
    and eax, 0xFFFF
    mov ebx, KCODE
    OBSERVE "PUSH CS"
    xor eax, eax
    mov ax, cs
    mov ebx, KCODE
    OBSERVE "MOV r,CS"
    xor eax, eax
    mov ax, ss
    mov ebx, KDATA
    OBSERVE "MOV r,SS"

    ; --- descriptor probes on the DPL-0 data selector --------------------
    mov ecx, KDATA
    lar eax, ecx
    and eax, 0x00F0FF00             ; bits 16-19 are undefined (the limit's top on a P6)
    mov ebx, [gdt + KDATA + 4]
    and ebx, 0x00F0FF00
    OBSERVE "LAR KDATA"
    lsl eax, ecx
    mov ebx, 0xFFFFFFFF
    OBSERVE "LSL KDATA"
    xor eax, eax
    verr cx
    setz al
    mov ebx, 1
    OBSERVE "VERR KDATA"
    xor eax, eax
    verw cx
    setz al
    mov ebx, 1
    OBSERVE "VERW KDATA"

    ; --- far transfers, interrupts, segment loads --------------------------
    call KCODE:far_fn                ; far CALL: the CS it pushes
    mov eax, [far_cs]
    mov ebx, KCODE
    OBSERVE "far CALL pushed CS"
    EXPECT 0x40, -1, -1, 0
    int 0x40                         ; INT n: the CS in the frame it pushes
    EXPECT_SEEN "INT 0x40 delivered"
    mov eax, [last_cs]
    mov ebx, KCODE
    OBSERVE "INT n pushed CS"
    push dword KDATA
    pop ds                           ; POP Sreg, then what MOV r,Sreg shows
    xor eax, eax
    mov ax, ds
    mov ebx, KDATA
    OBSERVE "POP DS"
    mov cx, KDATA
    mov es, cx                       ; MOV Sreg,r
    xor eax, eax
    mov ax, es
    mov ebx, KDATA
    OBSERVE "MOV ES,r"
    mov [lss_buf], esp
    mov word [lss_buf + 4], KDATA
    sub dword [lss_buf], 16
    lss esp, [lss_buf]               ; LSS: a stack 16 bytes lower
    mov eax, esp
    add esp, 16
    mov ebx, [lss_buf]
    OBSERVE "LSS loads ESP"
    xor eax, eax
    cpuid                            ; CPUID: the vendor, as the CPU defines it
    mov eax, ebx
    mov ebx, 0x756e6547              ; "Genu"
    OBSERVE "CPUID vendor"
    rdtsc
    mov ecx, eax
    rdtsc
    sub eax, ecx
    cmp eax, 0x10000                 ; RDTSC: counts forward, a few cycles apart
    setb al
    movzx eax, al
    mov ebx, 1
    OBSERVE "RDTSC advances"

    cmp dword [diverged], 0
    je .pass
    PRINT "diverged: "
    PRINT_HEX dword [diverged]
    call print_nl
    FAIL "critical instructions diverged"
.pass:
    PASS

; far_fn: reached by a far CALL; keeps the CS the call pushed.
far_fn:
    mov eax, [esp + 4]
    and eax, 0xffff
    mov [far_cs], eax
    retf

; observe: ESI = name, EAX = seen, EBX = architectural. Counts divergences.
observe:
    PRINT "OBSERVE "
    call print_str
    PRINT ": got "
    PRINT_HEX eax
    PRINT ", architectural "
    PRINT_HEX ebx
    cmp eax, ebx
    jne .d
    PRINTLN " -- ok"
    ret
.d: PRINTLN " -- DIVERGES"
    inc dword [diverged]
    ret

section .data
align 8
ldt_table:
    dq 0x00CF92000000FFFF           ; a flat data segment, DPL 0
    dq 0x00CF9A000000FFFF           ; a flat code segment, DPL 0
diverged: dd 0
far_cs: dd 0
lss_buf: dd 0, 0
align 4
dtr_buf: times 8 db 0

%include "end.inc"
