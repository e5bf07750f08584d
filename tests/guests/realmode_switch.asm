; realmode_switch -- from the Multiboot protected-mode entry back to real
; mode (16-bit code segment, clear CR0.PE, far jump), real-mode work (segment
; arithmetic, 16-bit addressing with wrap-around, SS as the default segment
; for BP, software INT through the IVT, #DE through the IVT, far calls through
; aliased segments, 32-bit operand prefixes), then back to protected mode
; (LGDT, set PE, far jump) and checks that the state is consistent.
%define GUEST_NAME "realmode_switch"
%include "guest.inc"
%include "rm16.inc"

test_main:
    call copy_low
    mov eax, [gdtr + 2]             ; the real-mode side reloads our GDT
    mov [rm_gdtr + 2], eax
    mov ax, [gdtr]
    mov [rm_gdtr], ax
    mov dword [rm_result], 0
    jmp CODE16:rm_entry             ; 16-bit protected mode, base 0

pm_back:
    ; back in 32-bit protected mode, CS = KCODE, other segments stale
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, kstack_top
    lidt [idtr]
    mov eax, cr0
    CHECK_BITS eax, 0x80000001, 1, "CR0.PE set, PG clear after return"
    CHECK_SEL cs, KCODE, "CS after the far jump into protected mode"
    CHECK dword [rm_result], 0x600DF00D, "results stored by the real-mode code"
    CHECK dword [rm_sum], 0x0000C69C, "16-bit array sum computed in real mode"
    CHECK_EFLAGS 0x20000, 0, "EFLAGS.VM clear"
    mov esi, guest_name             ; memory above 1 MiB is reachable again
    CHECK_BITS dword [esi], 0xFF, 'r', "read above 1 MiB"
    EXPECT 6, 0, .ud, .udr          ; the protected-mode IDT is back
.ud:ud2
.udr:
    EXPECT_SEEN "#UD through the protected-mode IDT"
    str ax
    CHECK_SEL ax, KTSS, "TR survives the trip through real mode"
    PASS

section .low
bits 16
rm_entry:
    mov ax, DATA16                  ; 64 KiB limits in the hidden caches
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0x0000:rm_real
rm_real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    lidt [rm_idtr]
    RPRINT "in real mode", 10
    smsw ax
    test al, 1
    jz .pe0
    mov si, .m_pe
    jmp rm_fail
.m_pe: db "CR0.PE still set in real mode", 0
.pe0:
    mov ax, cs
    RCHECK ax, 0, "CS = 0 after the far jump"

    ; ---- segment arithmetic: 1234:5678 and 179B:0008 are the same byte
    mov ax, 0x1234
    mov ds, ax
    mov word [0x5678], 0xBEEF
    mov ax, 0x179B
    mov es, ax
    RCHECK word [es:0x0008], 0xBEEF, "1234:5678 aliases 179B:0008"
    mov ax, 0x2000
    mov ds, ax
    mov word [0x0010], 0
    mov bx, 0xFFF0
    mov si, 0x0020
    mov word [bx + si], 0x1111      ; offset wraps to 0x0010
    RCHECK word [0x0010], 0x1111, "16-bit effective address wraps at 64K"
    mov ax, 0x3000
    mov ss, ax
    mov es, ax
    mov bp, 0x0100
    mov word [es:0x0100], 0
    mov word [bp], 0x2222           ; BP-based: SS is the default segment
    RCHECK word [es:0x0100], 0x2222, "[BP] uses SS"
    mov word [bp + di], 0x3333
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov di, 0x10
    lea ax, [bp + di + 0xFF00]      ; 0x100 + 0x10 + 0xFF00 wraps to 0x0010
    RCHECK ax, 0x0010, "LEA with 16-bit wrap"

    ; ---- a small computation: sum a word array with LODSW
    mov si, rm_array
    mov cx, 8
    xor dx, dx
    cld
.sum:
    lodsw
    add dx, ax
    loop .sum
    RCHECK dx, 0xC69C, "sum of the word array"
    mov [rm_sum], dx
    mov ax, 0x1234
    mov bx, 0x100
    mul bx                          ; DX:AX = 0x00123400
    RCHECK ax, 0x3400, "MUL low word"
    RCHECK dx, 0x0012, "MUL high word"
    mov eax, 0x12345678             ; operand-size prefix in real mode
    add eax, eax
    cmp eax, 0x2468ACF0
    je .o32
    mov si, .m_o32
    jmp rm_fail
.m_o32: db "32-bit ADD in real mode", 0
.o32:

    ; ---- far call through an aliased segment: 0780:xxxx == 0000:7800+xxxx
    call 0x0780:(rm_far - 0x7800)
.after_far:
    RCHECK ax, 0x0780, "CS inside the far-called routine"
    RCHECK bx, .after_far, "return IP pushed by the far call"
    RCHECK cx, 0, "return CS pushed by the far call"

    ; ---- software INT through the IVT, handler in segment 0x0800
    mov word [0x42 * 4], rm_int42 - 0x8000
    mov word [0x42 * 4 + 2], 0x0800
    mov bx, sp
    stc                             ; CF = 1 must come back through IRET
    mov ax, 0
    int 0x42
.after_int:
    jc .cf_ok
    mov si, .m_cf
    jmp rm_fail
.m_cf: db "flags not restored by IRET", 0
.cf_ok:
    RCHECK ax, 0x4242, "INT 0x42 handler ran"
    RCHECK sp, bx, "SP balanced after INT/IRET"
    RCHECK word [rm_int_ip], .after_int, "IP pushed by INT"
    RCHECK word [rm_int_cs], 0, "CS pushed by INT"
    RCHECK word [rm_int_cs_in], 0x0800, "CS inside the handler"
    mov ax, [rm_int_fl_in]
    and ax, 0x0300                  ; IF and TF cleared by INT
    RCHECK ax, 0, "IF/TF clear inside the INT handler"
    mov ax, [rm_int_fl]
    and ax, 1
    RCHECK ax, 1, "FLAGS pushed by INT (CF)"

    ; ---- #DE through IVT vector 0: the saved IP is the DIV
    mov word [0 * 4], rm_de
    mov word [0 * 4 + 2], 0
    mov word [rm_de_ip], 0
    xor dx, dx
    mov ax, 1
    xor cx, cx
.div:
    div cx
    RCHECK word [rm_de_ip], .div, "real-mode #DE saved IP = the DIV"

    mov dword [rm_result], 0x600DF00D
    RPRINT "back to protected mode", 10
    cli
    o32 lgdt [rm_gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword KCODE:pm_back

rm_far:
    mov ax, cs
    mov bp, sp
    mov bx, [bp]                    ; return IP
    mov cx, [bp + 2]                ; return CS
    retf

rm_int42:
    mov bp, sp
    push ax
    mov ax, [bp]
    mov [cs:rm_int_ip - 0x8000], ax
    mov ax, [bp + 2]
    mov [cs:rm_int_cs - 0x8000], ax
    mov ax, [bp + 4]
    mov [cs:rm_int_fl - 0x8000], ax
    mov ax, cs
    mov [cs:rm_int_cs_in - 0x8000], ax
    pushf
    pop ax
    mov [cs:rm_int_fl_in - 0x8000], ax
    pop ax
    mov ax, 0x4242
    iret

rm_de:
    push bp
    mov bp, sp
    mov ax, [bp + 2]
    mov [rm_de_ip], ax
    add word [bp + 2], 2            ; skip the 2-byte DIV CX
    pop bp
    iret

align 4
rm_array: dw 0x1000, 0x2000, 0x3000, 0x0F00, 0x00F0, 0x0ABC, 0x0DEF, 0x3E01
rm_idtr:  dw 0x3FF
          dd 0
rm_gdtr:  dw 0
          dd 0
rm_int_ip:    dw 0
rm_int_cs:    dw 0
rm_int_fl:    dw 0
rm_int_cs_in: dw 0
rm_int_fl_in: dw 0
rm_de_ip:     dw 0
align 4
rm_result:    dd 0
rm_sum:       dd 0
bits 32
section .text
%include "end.inc"
