; exceptions -- the exception vectors 0-19 that a P6 raises from software:
; vector, error code, saved EIP (fault: the faulting instruction; trap: the
; next one) and that execution resumes. #AC is in alignment_check.asm, #SS
; from a stack-limit violation in seglimits.asm (QEMU deviates on both).
; Not covered: #MF (x87 optional), vector 9 (not raised by a P6),
; #MC (machine check), #XM (no SSE on a P6). #GP(0) from a reserved CR4 bit is
; not checked: QEMU 7.2 TCG hangs on such a MOV CR4 instead of raising #GP.
%define GUEST_NAME "exceptions"
%include "guest.inc"

SEL_BADTSS  equ 0x40        ; 32-bit TSS descriptor with limit 0x50 (< 0x67)
SEL_NP      equ 0x48        ; writable data segment, not present
SEL_XO      equ 0x58        ; execute-only code segment
SEL_RO      equ 0x60        ; read-only data segment

test_main:
    ; ---- descriptors used below
    mov eax, SEL_BADTSS
    mov ebx, dummy_tss
    mov ecx, 0x50
    mov dx, ACC_TSS
    call gdt_set
    mov eax, SEL_NP
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov dl, 0x12                    ; P=0, DPL 0, data, writable
    mov dh, FL_4K32
    call gdt_set
    mov eax, SEL_XO
    mov dl, 0x98                    ; code, execute-only
    call gdt_set
    mov eax, SEL_RO
    mov dl, 0x90                    ; data, read-only
    call gdt_set

    ; ---- #DE (0): divide by zero, quotient overflow, IDIV overflow, AAM 0
    mov eax, 1
    xor edx, edx
    xor ecx, ecx
    EXPECT 0, 0, .de1, .de1r
.de1: div ecx
.de1r:
    EXPECT_SEEN "#DE from DIV by zero"
    mov edx, 1
    xor eax, eax
    mov ecx, 1
    EXPECT 0, 0, .de2, .de2r
.de2: div ecx                       ; 0x100000000 / 1 does not fit
.de2r:
    EXPECT_SEEN "#DE from DIV quotient overflow"
    mov eax, 0x80000000
    cdq
    mov ecx, -1
    EXPECT 0, 0, .de3, .de3r
.de3: idiv ecx
.de3r:
    EXPECT_SEEN "#DE from IDIV 0x80000000 / -1"
    mov eax, 0x1234
    EXPECT 0, 0, .de4, .de4r
.de4: db 0xD4, 0x00                 ; AAM 0
.de4r:
    EXPECT_SEEN "#DE from AAM 0"
    CHECK eax, 0x1234, "AAM 0 left AX unchanged"
    mov eax, 93
    aam                             ; AH = 9, AL = 3
    CHECK_BITS eax, 0xFFFF, 0x0903, "AAM 10 of 93"

    ; ---- #DB (1): TF single step (trap) -> EIP after the stepped instruction
    xor eax, eax
    mov dr6, eax
    pushfd
    or dword [esp], 0x100
    EXPECT 1, 0, .ss_after, 0
    popfd                           ; sets TF; no trap after POPF itself
    mov ebx, 0x5A5A                 ; stepped instruction
.ss_after:
    EXPECT_SEEN "#DB single step after POPF set TF"
    CHECK ebx, 0x5A5A, "single-stepped instruction completed"
    CHECK_EFLAGS 0x100, 0, "TF clear after single-step handler"
    mov eax, dr6
    CHECK_BITS eax, 0x400F, 0x4000, "DR6.BS set by single step"

    ; ---- #DB (1): DR0 instruction breakpoint (fault) -> EIP = breakpoint
    xor eax, eax
    mov dr6, eax
    mov eax, .bp
    mov dr0, eax
    mov eax, 0x00000001             ; L0, RW0 = execute, LEN0 = 1
    mov dr7, eax
    xor ebx, ebx
    EXPECT 1, 0, .bp, 0             ; resumes at .bp with RF=1
.bp:mov ebx, 0x1234
    EXPECT_SEEN "#DB from DR0 instruction breakpoint"
    xor eax, eax
    mov dr7, eax
    CHECK ebx, 0x1234, "breakpointed instruction ran after resume with RF"
    mov eax, dr6
    CHECK_BITS eax, 0x400F, 0x0001, "DR6.B0 set by instruction breakpoint"

    ; ---- #DB (1): DR1 data write breakpoint (trap) -> EIP after the write
    xor eax, eax
    mov dr6, eax
    mov eax, dbvar
    mov dr1, eax
    mov eax, 0x00D00004             ; L1, RW1 = write, LEN1 = 4 bytes
    mov dr7, eax
    mov dword [dbvar2], 7           ; a different dword: no trap
    EXPECT 1, 0, .wp_after, 0
    mov dword [dbvar], 0xCAFE
.wp_after:
    EXPECT_SEEN "#DB from DR1 data write breakpoint"
    xor eax, eax
    mov dr7, eax
    CHECK dword [dbvar], 0xCAFE, "watched write completed before the trap"
    mov eax, dr6
    CHECK_BITS eax, 0x400F, 0x0002, "DR6.B1 set by data breakpoint"

    ; ---- #BP (3): INT3 and INT 3 are traps
    EXPECT 3, 0, .bp1, 0
    int3
.bp1:
    EXPECT_SEEN "#BP from INT3"
    EXPECT 3, 0, .bp2, 0
    int 3
.bp2:
    EXPECT_SEEN "#BP from INT 3 (CD 03)"

    ; ---- #OF (4): INTO traps only with OF=1
    mov al, 0x10
    add al, 1                       ; OF = 0
    into                            ; no exception
    mov al, 0x7F
    add al, 1                       ; OF = 1
    EXPECT 4, 0, .of1, 0
    into
.of1:
    EXPECT_SEEN "#OF from INTO with OF=1"

    ; ---- #BR (5): BOUND is a fault; bounds are inclusive
    mov eax, 10
    bound eax, [bounds]
    mov eax, 20
    bound eax, [bounds]
    mov eax, 21
    EXPECT 5, 0, .br1, .br1r
.br1: bound eax, [bounds]
.br1r:
    EXPECT_SEEN "#BR from BOUND above upper bound"
    mov eax, 9
    EXPECT 5, 0, .br2, .br2r
.br2: bound eax, [bounds]
.br2r:
    EXPECT_SEEN "#BR from BOUND below lower bound"

    ; ---- #UD (6)
    EXPECT 6, 0, .ud1, .ud1r
.ud1: ud2
.ud1r:
    EXPECT_SEEN "#UD from UD2"
    EXPECT 6, 0, .ud2, .ud2r
.ud2: db 0xFE, 0xF8                 ; FE /7: undefined
.ud2r:
    EXPECT_SEEN "#UD from opcode FE /7"
    EXPECT 6, 0, .ud3, .ud3r
.ud3: db 0xF0, 0x01, 0xD8           ; LOCK ADD EAX, EBX (register destination)
.ud3r:
    EXPECT_SEEN "#UD from LOCK on a register-destination ADD"
    EXPECT 6, 0, .ud4, .ud4r
.ud4: db 0x8D, 0xC0                 ; LEA EAX, EAX (register source)
.ud4r:
    EXPECT_SEEN "#UD from LEA with a register operand"

    ; ---- #NM (7): CR0.TS with an x87 opcode; CR0.EM; WAIT with MP+TS
    mov eax, cr0
    mov [saved_cr0], eax
    or eax, 0x8                     ; TS
    and eax, ~0x6                   ; EM = 0, MP = 0
    mov cr0, eax
    wait                            ; TS=1, MP=0: WAIT does not fault
    EXPECT 7, 0, .nm1, .nm1r
.nm1: fninit
.nm1r:
    EXPECT_SEEN "#NM from FNINIT with CR0.TS=1"
    mov eax, cr0
    or eax, 0x2                     ; MP
    mov cr0, eax
    EXPECT 7, 0, .nm2, .nm2r
.nm2: wait
.nm2r:
    EXPECT_SEEN "#NM from WAIT with CR0.MP=1, TS=1"
    clts
    mov eax, cr0
    or eax, 0x4                     ; EM
    and eax, ~0x2
    mov cr0, eax
    EXPECT 7, 0, .nm3, .nm3r
.nm3: fninit
.nm3r:
    EXPECT_SEEN "#NM from FNINIT with CR0.EM=1"
    mov eax, [saved_cr0]
    mov cr0, eax

    ; ---- #TS (10): JMP to a TSS whose limit is below 0x67
    EXPECT 10, SEL_BADTSS, .ts1, .ts1r
.ts1: jmp SEL_BADTSS:0
.ts1r:
    EXPECT_SEEN "#TS from JMP to a TSS with limit < 0x67"

    ; ---- #NP (11): loading a not-present data segment
    mov ax, SEL_NP
    EXPECT 11, SEL_NP, .np1, .np1r
.np1: mov ds, ax
.np1r:
    EXPECT_SEEN "#NP from MOV DS, not-present segment"
    mov ax, SEL_NP
    EXPECT 11, SEL_NP, .np2, .np2r
.np2: mov es, ax
.np2r:
    EXPECT_SEEN "#NP from MOV ES, not-present segment"
    CHECK_SEL es, KDATA, "ES unchanged after the faulting load"

    ; ---- #SS (12): loading SS with a not-present segment
    mov ax, SEL_NP
    EXPECT 12, SEL_NP, .ss1, .ss1r
.ss1: mov ss, ax
.ss1r:
    EXPECT_SEEN "#SS from MOV SS, not-present segment"
    CHECK_SEL ss, KDATA, "SS unchanged after the faulting load"

    ; ---- #GP (13) with selector error codes
    mov ax, 0x100                   ; beyond the GDT limit (32 entries)
    EXPECT 13, 0x100, .gp1, .gp1r
.gp1: mov ds, ax
.gp1r:
    EXPECT_SEEN "#GP from MOV DS, selector beyond GDT limit"
    mov ax, SEL_XO
    EXPECT 13, SEL_XO, .gp2, .gp2r
.gp2: mov fs, ax
.gp2r:
    EXPECT_SEEN "#GP from MOV FS, execute-only code segment"
    mov ax, SEL_RO
    EXPECT 13, SEL_RO, .gp3, .gp3r
.gp3: mov ss, ax
.gp3r:
    EXPECT_SEEN "#GP from MOV SS, read-only data segment"
    xor eax, eax
    EXPECT 13, 0, .gp4, .gp4r
.gp4: mov ss, ax
.gp4r:
    EXPECT_SEEN "#GP(0) from MOV SS, null selector"
    mov ax, KDATA | 3
    EXPECT 13, KDATA, .gp5, .gp5r
.gp5: mov ss, ax
.gp5r:
    EXPECT_SEEN "#GP from MOV SS with RPL != CPL"
    EXPECT 13, KDATA, .gp6, .gp6r
.gp6: jmp KDATA:0
.gp6r:
    EXPECT_SEEN "#GP from far JMP to a data segment"
    ; INT n beyond the IDT limit: error code = vector*8 + 2 (IDT bit)
    mov word [idtr_small], 0x50 * 8 - 1
    mov dword [idtr_small + 2], idt
    lidt [idtr_small]
    EXPECT 13, 0x60 * 8 + 2, .gp8, .gp8r
.gp8: int 0x60
.gp8r:
    EXPECT_SEEN "#GP from INT 0x60 beyond the IDT limit"
    lidt [idtr]

    ; ---- #DF (8): #GP whose gate is not present -> #NP during delivery of a
    ; contributory exception -> double fault, error code 0
    and byte [idt + 13 * 8 + 5], 0x7F   ; IDT[13].P = 0
    mov ax, 0x100
    EXPECT 8, 0, -1, .df1r
    mov ds, ax                      ; #GP -> #NP(IDT 13) -> #DF
.df1r:
    EXPECT_SEEN "#DF from #NP while delivering #GP"
    or byte [idt + 13 * 8 + 5], 0x80
    CHECK_SEL ds, KDATA, "DS unchanged after the double fault"

    ; ---- #PF (14): not-present read and write, with PSE 4 MiB identity map
    mov edi, pgdir
    mov ecx, 8
    mov eax, 0x83                   ; P, RW, PS
.pd:stosd
    add eax, 0x400000
    loop .pd
    mov eax, cr4
    or eax, 0x10                    ; PSE
    mov cr4, eax
    mov eax, pgdir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    EXPECT 14, 0, .pf1, .pf1r
.pf1: mov eax, [0x40000123]
.pf1r:
    EXPECT_SEEN "#PF from reading an unmapped page"
    CHECK dword [last_cr2], 0x40000123, "CR2 after read #PF"
    EXPECT 14, 2, .pf2, .pf2r
.pf2: mov dword [0x80001FFC], 1
.pf2r:
    EXPECT_SEEN "#PF from writing an unmapped page"
    CHECK dword [last_cr2], 0x80001FFC, "CR2 after write #PF"
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax

    ; every expectation above counted exactly once
    CHECK dword [exc_count], 33, "number of exceptions taken"
    PASS

section .data
align 4
bounds: dd 10, 20
section .bss
alignb 4096
pgdir:  resd 1024
dummy_tss: resb 128
dbvar:  resd 1
dbvar2: resd 1
saved_cr0: resd 1
idtr_small: resb 8
%include "end.inc"
