; critical_forms -- the critical forms tests/guests/critical.asm leaves out,
; at guest ring 0, so that the classification suite (tests/classify/
; run-suite.py) executes every critical instruction of the opcode table:
; far JMP (ptr16:32 and m16:32), far CALL m16:32, RETF imm16, IRET, INT3,
; INTO, PUSH and POP of every other segment register, LDS/LES/LFS/LGS,
; RDPMC, and the P6's SYSENTER; also SYSEXIT (privileged) as a PRIV line.
;
; Prints, like critical.asm,
;   OBSERVE <name>: got XXXXXXXX, architectural YYYYYYYY -- ok | DIVERGES
; and for SYSEXIT
;   PRIV <name>: got XXXXXXXX, expected YYYYYYYY -- ok | WRONG
; PASSes only when every line is right (emulate and vmm mode); in trap mode
; the divergences that run-suite.py lists appear and the guest FAILs.
; SYSEXIT and SYSENTER come last: in trap mode SYSENTER enters the real
; ring 0 (it consults neither the IDT nor the deprivileged GDT), so what
; follows it would no longer run deprivileged.
%define GUEST_NAME "critical_forms"
%include "guest.inc"

MSR_CS  equ 0x174
MSR_ESP equ 0x175
MSR_EIP equ 0x176

; OBSERVE "name" / PRIV "name" -- EAX = what the guest saw, EBX = the right value
%macro OBSERVE 1
    [section .data]
    %%s: db %1, 0
    __SECT__
    mov esi, %%s
    mov dword [kind], 0
    call observe
%endmacro
%macro PRIV 1
    [section .data]
    %%s: db %1, 0
    __SECT__
    mov esi, %%s
    mov dword [kind], 1
    call observe
%endmacro
; SEG_SEL reg -- EAX = the selector in segment register reg
%macro SEG_SEL 1
    xor eax, eax
    mov ax, %1
%endmacro
; PUSH_SEG reg, "name" -- what PUSH Sreg stores
%macro PUSH_SEG 2
    push %1
    pop eax
    and eax, 0xFFFF
    mov ebx, KDATA
    OBSERVE %2
%endmacro
; POP_SEG reg, "name" -- POP Sreg of the DPL-0 data selector
%macro POP_SEG 2
    push dword KDATA
    pop %1
    SEG_SEL %1
    mov ebx, KDATA
    OBSERVE %2
%endmacro
; LOAD_FAR insn, reg, "name" -- LxS from far_ptr (KDATA:0x12345678)
%macro LOAD_FAR 3
    xor ebx, ebx
    %1 ebx, [far_ptr]
    SEG_SEL %2
    shl eax, 16
    mov ax, bx
    mov ebx, (KDATA << 16) | 0x5678
    OBSERVE %3
%endmacro

test_main:
    call pic_mask_all
    mov ax, KDATA
    mov fs, ax
    mov gs, ax

    ; --- far transfers -------------------------------------------------------
    jmp KCODE:.fj1                   ; JMP ptr16:32 (EA)
.fj1:
    SEG_SEL cs
    mov ebx, KCODE
    OBSERVE "far JMP ptr16:32: CS"
    mov dword [far_ptr], .fj2
    mov word [far_ptr + 4], KCODE
    jmp far [far_ptr]                ; JMP m16:32 (FF /5)
.fj2:
    SEG_SEL cs
    mov ebx, KCODE
    OBSERVE "far JMP m16:32: CS"
    mov dword [far_ptr], far_fn
    call far [far_ptr]               ; CALL m16:32 (FF /3)
    mov eax, [far_cs]
    mov ebx, KCODE
    OBSERVE "far CALL m16:32 pushed CS"
    mov ebp, esp
    push dword 1
    push dword 2
    call KCODE:far_fn8               ; RETF imm16 (CA) releases the two
    mov eax, ebp
    sub eax, esp
    mov esp, ebp
    mov ebx, 0
    OBSERVE "RETF 8 releases its parameters"

    ; --- IRET, INT3, INTO ------------------------------------------------------
    sti                              ; every IRQ is masked at the PIC
    pushfd
    and dword [esp], ~0x200          ; an image with IF clear
    push dword KCODE
    push dword .ir
    iretd
.ir:
    pushfd
    pop eax
    and eax, 0x200
    mov ebx, 0
    OBSERVE "IRET restores IF 0"
    cli
    EXPECT 3, -1, -1, 0
    int3
    EXPECT_SEEN "INT3 delivered"
    mov eax, [last_cs]
    mov ebx, KCODE
    OBSERVE "INT3 pushed CS"
    EXPECT 4, -1, -1, 0
    mov al, 0x7F
    add al, 1                        ; OF = 1
    into
    EXPECT_SEEN "INTO delivered"
    mov eax, [last_cs]
    mov ebx, KCODE
    OBSERVE "INTO pushed CS"

    ; --- PUSH and POP of segment registers -----------------------------------
    PUSH_SEG es, "PUSH ES"
    PUSH_SEG ss, "PUSH SS"
    PUSH_SEG ds, "PUSH DS"
    PUSH_SEG fs, "PUSH FS"
    PUSH_SEG gs, "PUSH GS"
    POP_SEG es, "POP ES"
    POP_SEG ss, "POP SS"
    POP_SEG fs, "POP FS"
    POP_SEG gs, "POP GS"

    ; --- far-pointer loads ---------------------------------------------------
    mov dword [far_ptr], 0x12345678
    mov word [far_ptr + 4], KDATA
    LOAD_FAR lds, ds, "LDS: selector, offset"
    LOAD_FAR les, es, "LES: selector, offset"
    LOAD_FAR lfs, fs, "LFS: selector, offset"
    LOAD_FAR lgs, gs, "LGS: selector, offset"

    ; --- RDPMC: CPL 0 reads the counters whatever CR4.PCE says ----------------
    mov eax, cr4
    and eax, ~0x100                  ; PCE clear
    mov cr4, eax
    EXPECT 13, 0, -1, .pmc
    xor ecx, ecx
    rdpmc
.pmc:
    mov eax, [exp_active]            ; still armed: no #GP
    mov dword [exp_active], 0
    mov ebx, 1
    OBSERVE "RDPMC at CPL 0, CR4.PCE clear, runs"

    ; --- FNSAVE / FNSTENV: FCS, the last x87 instruction's code selector ------
    fninit
    fld1                             ; not a control instruction: FCS = CS
    fnsave [fpu_area]                ; DD /6, memory form
    movzx eax, word [fpu_area + 16]  ; 32-bit format: FCS at offset 16
    mov ebx, KCODE
    OBSERVE "FNSAVE stores FCS"
    fninit
    fld1
    fnstenv [fpu_area]               ; D9 /6, memory form
    movzx eax, word [fpu_area + 16]
    mov ebx, KCODE
    OBSERVE "FNSTENV stores FCS"
    fninit
    f2xm1                            ; D9 /6's register form: innocuous, no exit

    ; --- the port forms privileged.asm leaves out: the master PIC's mask in
    ; the low byte (a word or dword access also touches ports 0x22-0x24,
    ; which nothing decodes)
    mov al, 0x3c
    mov dx, 0x21
    out dx, al                       ; OUT DX,AL (EE)
    xor eax, eax
    in al, dx                        ; IN AL,DX (EC)
    mov ebx, 0x3c
    PRIV "OUT/IN DX,AL the PIC mask"
    mov eax, 0x4b
    out dx, eax                      ; OUT DX,eAX (EF)
    xor eax, eax
    in eax, dx                       ; IN eAX,DX (ED)
    and eax, 0xff
    mov ebx, 0x4b
    PRIV "OUT/IN DX,eAX the PIC mask"
    mov eax, 0x69
    out 0x21, ax                     ; OUT Ib,eAX (66 E7)
    xor eax, eax
    in ax, 0x21                      ; IN eAX,Ib (66 E5)
    and eax, 0xff
    mov ebx, 0x69
    PRIV "OUT/IN Ib,eAX the PIC mask"
    mov word [io_word], 0x96
    mov esi, io_word
    outsw                            ; OUTS DX,Xz (66 6F)
    mov edi, io_word2
    insw                             ; INS Yz,DX (66 6D)
    movzx eax, byte [io_word2]
    mov ebx, 0x96
    PRIV "OUTSW/INSW the PIC mask"
    mov al, 0xff
    out 0x21, al

    ; --- SYSEXIT (privileged) to ring 3, SYSENTER (critical) back --------------
    mov ecx, MSR_CS
    mov eax, KCODE
    xor edx, edx
    wrmsr
    mov ecx, MSR_ESP
    mov eax, se_stack_top
    wrmsr
    mov ecx, MSR_EIP
    mov eax, se_entry
    wrmsr
    mov [saved_esp], esp
    mov ecx, ustack_top
    mov edx, .user
    sysexit
.user:
    mov [user_cs], cs                ; (printing is for ring 0)
    sysenter
se_entry:
    mov esp, [saved_esp]
    movzx eax, word [user_cs]
    mov ebx, UCODE3
    PRIV "SYSEXIT enters ring 3: CS"
    SEG_SEL cs
    mov ebx, KCODE
    OBSERVE "SYSENTER from ring 3: CS"
    SEG_SEL ss
    mov ebx, KDATA
    OBSERVE "SYSENTER from ring 3: SS"

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
far_fn8:
    retf 8

; observe: ESI = name, [kind] = 0 (OBSERVE) or 1 (PRIV), EAX = seen,
; EBX = the right value. Counts wrong values.
observe:
    cmp dword [kind], 0
    jne .p1
    PRINT "OBSERVE "
    jmp .p2
.p1:PRINT "PRIV "
.p2:call print_str
    PRINT ": got "
    PRINT_HEX eax
    cmp dword [kind], 0
    jne .p3
    PRINT ", architectural "
    jmp .p4
.p3:PRINT ", expected "
.p4:PRINT_HEX ebx
    cmp eax, ebx
    jne .d
    PRINTLN " -- ok"
    ret
.d: inc dword [diverged]
    cmp dword [kind], 0
    jne .w
    PRINTLN " -- DIVERGES"
    ret
.w: PRINTLN " -- WRONG"
    ret

section .data
align 4
fpu_area: times 108 db 0
kind: dd 0
diverged: dd 0
far_cs: dd 0
saved_esp: dd 0
user_cs: dd 0
io_word: dd 0
io_word2: dd 0
far_ptr: dd 0, 0

section .bss
alignb 16
          resb 1024
se_stack_top:

%include "end.inc"
