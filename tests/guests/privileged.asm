; privileged -- every privileged and IOPL-sensitive instruction at guest
; ring 0, each checked through an effect the guest can see without a
; critical instruction (so the result is the same in every mode that runs
; the guest correctly): emulate executes them; trap and vmm trap them at
; ring 1 and emulate them against the vCPU (tests/classify/run-suite.py
; counts the exits per instruction from --trace-exits).
;
; One line per check:
;   PRIV <name>: got XXXXXXXX, expected YYYYYYYY -- ok | WRONG
; PASS when every check is ok.
%define GUEST_NAME "privileged"
%include "guest.inc"

LDTSEL equ 0x40
TSS2SEL equ 0x48
MSR_SYSENTER_ESP equ 0x175

; PRIV "name" -- EAX = got, EBX = expected
%macro PRIV 1
    [section .data]
    %%s: db %1, 0
    __SECT__
    mov esi, %%s
    call priv_check
%endmacro

test_main:
    call pic_mask_all

    ; LGDT/LIDT: load a copy's pseudo-descriptor, then the original again;
    ; the effect is seen through a segment load that uses the new table.
    ; (the pseudo-descriptors are built from the library's symbols: SGDT
    ; and SIDT are critical and show the VMM's tables in trap mode)
    mov word [gdtr_save], gdt_end - gdt - 1
    mov dword [gdtr_save + 2], gdt
    mov dword [gdtr_alt + 2], gdt
    mov word [gdtr_alt], 0x17        ; only NULL, KCODE, KDATA
    lgdt [gdtr_alt]
    mov eax, 1
    EXPECT 13, 0x18, -1, .lgdt_gp    ; selector 0x18 is now beyond the limit
    mov cx, 0x1b
    mov ds, cx
    xor eax, eax
.lgdt_gp:
    mov cx, KDATA
    mov ds, cx
    lgdt [gdtr_save]
    mov ebx, 1
    PRIV "LGDT limit takes effect"
    mov word [idtr_save], 256 * 8 - 1
    mov dword [idtr_save + 2], idt
    mov word [idtr_alt], 0x3ff       ; vectors 0-127 only
    mov dword [idtr_alt + 2], idt
    lidt [idtr_alt]
    EXPECT 13, 0x80 * 8 + 2, -1, .lidt_gp
    int 0x80                          ; beyond the IDT limit: #GP(0x402)
.lidt_gp:
    lidt [idtr_save]
    mov eax, [last_err]
    mov ebx, 0x402
    PRIV "LIDT limit takes effect"

    ; LLDT: a selector in the new LDT loads
    mov eax, LDTSEL
    mov ebx, ldt_table
    mov ecx, 15
    mov dl, 0x82
    mov dh, 0
    call gdt_set
    mov ax, LDTSEL
    lldt ax
    mov cx, 0x0c                      ; LDT entry 1, TI = 1
    mov fs, cx
    mov eax, [fs:data_word]
    mov ebx, 0x600dcafe
    PRIV "LLDT: an LDT selector loads"
    mov cx, KDATA
    mov fs, cx

    ; LTR: a second TSS; LTR marks its descriptor busy (read from the GDT)
    mov eax, TSS2SEL
    mov ebx, tss2
    mov ecx, 103
    mov dl, ACC_TSS
    mov dh, 0
    call gdt_set
    mov ax, TSS2SEL
    ltr ax
    mov eax, [gdt + TSS2SEL + 4]
    shr eax, 8
    and eax, 0x0f
    mov ebx, 0x0b
    PRIV "LTR marks its TSS busy"

    ; MOV CRn / DRn / LMSW / CLTS, read back with MOV r,CRn (privileged too)
    mov eax, cr0
    or eax, 8                         ; TS
    mov cr0, eax
    mov eax, cr0
    and eax, 8
    mov ebx, 8
    PRIV "MOV CR0 sets TS"
    clts
    mov eax, cr0
    and eax, 8
    xor ebx, ebx
    PRIV "CLTS clears TS"
    mov eax, cr0
    and al, ~8
    mov cr0, eax
    mov ax, 8
    lmsw ax                           ; LMSW: sets TS (PE stays)
    mov eax, cr0
    and eax, 9
    mov ebx, 9
    PRIV "LMSW sets TS"
    clts
    mov eax, 0x12345000
    mov cr2, eax
    mov eax, cr2
    mov ebx, 0x12345000
    PRIV "MOV CR2 round trip"
    mov eax, cr4
    or eax, 0x10                      ; PSE
    mov cr4, eax
    mov eax, cr4
    and eax, 0x10
    mov ebx, 0x10
    PRIV "MOV CR4 sets PSE"
    mov eax, pd
    mov cr3, eax
    mov eax, cr3
    mov ebx, pd
    PRIV "MOV CR3 round trip"
    mov eax, 0xcafe0000
    mov dr0, eax
    mov eax, dr0
    mov ebx, 0xcafe0000
    PRIV "MOV DR0 round trip"
    xor eax, eax
    mov dr0, eax

    ; caches and TLB: they complete
    invd
    wbinvd
    invlpg [pd]
    mov eax, 1
    mov ebx, 1
    PRIV "INVD, WBINVD, INVLPG complete"

    ; RDMSR / WRMSR
    mov ecx, MSR_SYSENTER_ESP
    mov eax, 0x00abc000
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    mov ebx, 0x00abc000
    PRIV "WRMSR/RDMSR SYSENTER_ESP"

    ; IN/OUT and INS/OUTS: the master PIC's mask register
    mov al, 0xa5
    out 0x21, al
    xor eax, eax
    in al, 0x21
    mov ebx, 0xa5
    PRIV "OUT/IN the PIC mask"
    mov byte [io_byte], 0x5a
    mov esi, io_byte
    mov dx, 0x21
    outsb
    mov edi, io_byte2
    insb
    movzx eax, byte [io_byte2]
    mov ebx, 0x5a
    PRIV "OUTSB/INSB the PIC mask"
    mov al, 0xff
    out 0x21, al

    ; CLI/STI and HLT: a timer interrupt wakes HLT only after STI
    mov dword [exc_hook], irq_hook
    call pit_oneshot                   ; IRQ 0 in ~100 us, unmasked
    cli
    mov ecx, 200000
.spin:
    loop .spin                         ; the interrupt is due, but IF = 0
    mov eax, [irq_count]
    xor ebx, ebx
    PRIV "CLI holds the timer interrupt"
    sti
    nop                                ; taken after STI's shadow
    mov eax, [irq_count]
    mov ebx, 1
    PRIV "STI lets it in"
    call pit_oneshot
    hlt                                ; woken by the next one
    mov eax, [irq_count]
    mov ebx, 2
    PRIV "HLT waits for an interrupt"
    cli

    cmp dword [wrong], 0
    je .pass
    FAIL "a privileged instruction gave a wrong result"
.pass:
    PASS

; A one-shot PIT interrupt on IRQ 0 (vector 0x20) about 100 us from now.
pit_oneshot:
    push eax
    mov al, 0x11                      ; 8259A: edge, cascade, ICW4
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe                      ; IRQ 0 only
    out 0x21, al
    mov al, 0x30                      ; channel 0, lobyte/hibyte, mode 0
    out 0x43, al
    mov al, 120
    out 0x40, al
    xor al, al
    out 0x40, al
    pop eax
    ret

irq_hook:
    cmp dword [ebp + F_VEC], 0x20
    jne .no
    inc dword [irq_count]
    mov al, 0x20
    out 0x20, al
    xor eax, eax
    ret
.no:
    mov eax, 1
    ret

priv_check:
    PRINT "PRIV "
    call print_str
    PRINT ": got "
    PRINT_HEX eax
    PRINT ", expected "
    PRINT_HEX ebx
    cmp eax, ebx
    jne .w
    PRINTLN " -- ok"
    ret
.w: PRINTLN " -- WRONG"
    inc dword [wrong]
    ret

section .data
align 8
ldt_table:
    dq 0
    dq 0x00CF92000000FFFF             ; LDT entry 1: flat data, DPL 0
data_word: dd 0x600dcafe
wrong: dd 0
irq_count: dd 0
io_byte: db 0
io_byte2: db 0
align 4
gdtr_save: times 8 db 0
gdtr_alt: times 8 db 0
idtr_save: times 8 db 0
idtr_alt: times 8 db 0
section .bss
alignb 4096
pd: resb 4096
tss2: resb 104

%include "end.inc"
