; v86 -- virtual-8086 mode entered by IRET with EFLAGS.VM = 1 (VME off).
; Phase 1, IOPL 0: CLI, STI, PUSHF, POPF, INT n, IRET and HLT raise #GP(0) to
; the ring-0 monitor, which checks the frame (V86 ES/DS/FS/GS pushed, the
; data segment registers zero on entry, CS:EIP at the instruction), emulates
; them (a virtual IF; INT n reflected through the real-mode IVT) and returns.
; Phase 2, IOPL 3: CLI/STI/PUSHF/POPF/IRET run natively (POPF cannot change
; IOPL), INT n goes through the protected-mode IDT to a ring-0 handler with
; the full V86 frame, and INT n through a DPL-0 gate gives #GP(n*8+2).
; In both phases IN/OUT are governed by the TSS I/O permission bitmap only
; (not by IOPL): ports 0xE9/0xF4 are allowed (the V86 code prints and can
; report failure itself), port 0x110 is denied and emulated by the monitor.
%define GUEST_NAME "v86"
%include "guest.inc"
%include "rm16.inc"

V86_FS   equ 0x1234
V86_GS   equ 0x5678
V86_SP   equ 0x7000
DENIED   equ 0x110
EFL_VM   equ 0x20000

; enter V86 at CS=0:%1 with EFLAGS %2
%macro ENTER_V86 2
    push dword V86_GS
    push dword V86_FS
    push dword 0                    ; DS
    push dword 0                    ; ES
    push dword 0                    ; SS
    push dword V86_SP
    push dword %2
    push dword 0                    ; CS
    push dword %1
    iretd
%endmacro

test_main:
    call pic_mask_all
    call copy_low
    mov edx, DBG_PORT
    call iomap_allow
    mov edx, EXIT_PORT
    call iomap_allow
    mov dword [exc_hook], v86_monitor
    mov word [0x21 * 4], v86_int21  ; real-mode IVT entry (CS = 0)
    mov word [0x21 * 4 + 2], 0
    mov eax, 0x41                   ; phase 2: INT 0x41 -> protected-mode IDT
    mov ebx, int41_handler
    mov cx, KCODE
    mov dl, GATE_INT3
    call idt_set
    mov eax, 0x42                   ; DPL-0 gate
    mov dl, GATE_INT0
    call idt_set

    ; ---- phase 1: IOPL 0
    mov dword [vif], 1
    mov dword [v86_cont], phase1_done
    ENTER_V86 v86_p1, EFL_VM | 0x0202
phase1_done:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    CHECK dword [p1_ok], 1, "phase-1 V86 code ran to the end"
    mov esi, p1_expected_log
    call check_log
    CHECK dword [vif], 1, "virtual IF after phase 1"

    ; ---- phase 2: IOPL 3
    mov dword [gp_log_n], 0
    mov edi, gp_log
    xor eax, eax
    mov ecx, 64 / 4
    rep stosd
    mov dword [v86_cont], phase2_done
    EXPECT 13, 0x42 * 8 + 2, v86_p2.i42, v86_p2.i42r
    ENTER_V86 v86_p2, EFL_VM | 0x3202
phase2_done:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    EXPECT_SEEN "INT 0x42 through a DPL-0 gate in V86 -> #GP"
    CHECK dword [p2_ok], 1, "phase-2 V86 code ran to the end"
    mov esi, p2_expected_log
    call check_log
    CHECK dword [i41_seen], 1, "INT 0x41 reached the protected-mode handler"
    CHECK dword [i41_frame + 0], v86_p2.after41, "INT 0x41 frame: EIP"
    CHECK dword [i41_frame + 4], 0, "INT 0x41 frame: CS"
    CHECK_BITS dword [i41_frame + 8], EFL_VM | 0x3000, EFL_VM | 0x3000, "INT 0x41 frame: EFLAGS VM, IOPL"
    CHECK dword [i41_frame + 12], V86_SP, "INT 0x41 frame: ESP"
    CHECK dword [i41_frame + 16], 0, "INT 0x41 frame: SS"
    CHECK dword [i41_frame + 20], 0, "INT 0x41 frame: ES"
    CHECK dword [i41_frame + 24], 0, "INT 0x41 frame: DS"
    CHECK_BITS dword [i41_frame + 28], 0xFFFF, V86_FS, "INT 0x41 frame: FS"
    CHECK_BITS dword [i41_frame + 32], 0xFFFF, V86_GS, "INT 0x41 frame: GS"
    CHECK dword [i41_segs], 0, "DS/ES/FS/GS zero in the handler"
    CHECK dword [i41_cs], KCODE, "CS in the INT 0x41 handler"
    CHECK dword [i41_esp], kstack_top - 36, "ESP in the handler = ESP0 - 36"
    PASS

; check_log: ESI = expected opcode list (0-terminated)
check_log:
    xor ecx, ecx
.l: movzx eax, byte [esi + ecx]
    movzx ebx, byte [gp_log + ecx]
    CHECK ebx, eax, "opcode of the n-th #GP from V86 (see log order)"
    inc ecx
    test eax, eax
    jnz .l
    ret

; ---- the V86 monitor: exc_hook, EBP = frame
v86_monitor:
    cmp dword [ebp + F_VEC], 13
    jne .pass
    test dword [ebp + F_EFLAGS], EFL_VM
    jz .pass
    cmp dword [ebp + F_ERR], 0
    jne .pass                       ; not ours (e.g. a gate fault): EXPECT
    CHECK_BITS dword [ebp + F_DS], 0xFFFF, 0, "DS zero on entry from V86"
    CHECK_BITS dword [ebp + F_ES], 0xFFFF, 0, "ES zero on entry from V86"
    CHECK_BITS dword [ebp + F_FS], 0xFFFF, 0, "FS zero on entry from V86"
    CHECK_BITS dword [ebp + F_GS], 0xFFFF, 0, "GS zero on entry from V86"
    CHECK_BITS dword [ebp + F_V86FS], 0xFFFF, V86_FS, "V86 FS in the #GP frame"
    CHECK_BITS dword [ebp + F_V86GS], 0xFFFF, V86_GS, "V86 GS in the #GP frame"
    CHECK_BITS dword [ebp + F_V86DS], 0xFFFF, 0, "V86 DS in the #GP frame"
    CHECK_BITS dword [ebp + F_SS], 0xFFFF, 0, "V86 SS in the #GP frame"
    CHECK_BITS dword [ebp + F_CS], 0xFFFF, 0, "V86 CS in the #GP frame"
    movzx esi, word [ebp + F_CS]
    shl esi, 4
    movzx eax, word [ebp + F_EIP]
    add esi, eax                    ; linear address of the instruction
    movzx eax, byte [esi]
    mov edi, [gp_log_n]
    mov [gp_log + edi], al
    inc dword [gp_log_n]
    cmp al, 0xFA
    je .cli
    cmp al, 0xFB
    je .sti
    cmp al, 0x9C
    je .pushf
    cmp al, 0x9D
    je .popf
    cmp al, 0xCD
    je .int
    cmp al, 0xCF
    je .iret
    cmp al, 0xEC
    je .in_dx
    cmp al, 0xE4
    je .in_imm
    cmp al, 0xF4
    je .hlt
    FAIL "V86 monitor: unexpected #GP opcode"
.cli:
    mov dword [vif], 0
    jmp .next1
.sti:
    mov dword [vif], 1
    jmp .next1
.pushf:
    call v_flags16
    call v_push
    jmp .next1
.popf:
    call v_pop
    call v_set_flags16
    jmp .next1
.int:
    movzx ebx, byte [esi + 1]       ; vector
    call v_flags16
    call v_push
    mov ax, [ebp + F_CS]
    call v_push
    mov ax, [ebp + F_EIP]
    add ax, 2
    call v_push
    mov dword [vif], 0
    and dword [ebp + F_EFLAGS], ~0x100
    movzx eax, word [ebx * 4]
    mov [ebp + F_EIP], eax
    movzx eax, word [ebx * 4 + 2]
    mov [ebp + F_CS], eax
    jmp .handled
.iret:
    call v_pop
    movzx eax, ax
    mov [ebp + F_EIP], eax
    call v_pop
    mov [ebp + F_CS], eax
    call v_pop
    call v_set_flags16
    jmp .handled
.in_dx:
    mov byte [ebp + F_EAX], 0x5A
    jmp .next1
.in_imm:
    mov byte [ebp + F_EAX], 0x5A
    inc dword [ebp + F_EIP]
    jmp .next1
.hlt:
    mov esp, kstack_top
    jmp [v86_cont]
.next1:
    inc dword [ebp + F_EIP]
.handled:
    xor eax, eax
    ret
.pass:
    mov eax, 1
    ret

; v_flags16 -> AX = the guest's FLAGS image with the virtual IF
v_flags16:
    mov eax, [ebp + F_EFLAGS]
    and eax, 0xFFFF & ~0x200
    cmp dword [vif], 0
    je .z
    or eax, 0x200
.z: ret
; v_set_flags16: AX -> arithmetic flags, TF, DF into the frame, IF -> vif
v_set_flags16:
    movzx eax, ax
    mov ebx, eax
    shr ebx, 9
    and ebx, 1
    mov [vif], ebx
    and eax, 0x0DD5
    and dword [ebp + F_EFLAGS], ~0x0DD5
    or [ebp + F_EFLAGS], eax
    ret
; v_push: push AX on the V86 stack; v_pop: pop into EAX (zero-extended)
v_push:
    push edi
    sub word [ebp + F_ESP], 2
    movzx edi, word [ebp + F_SS]
    shl edi, 4
    push eax
    movzx eax, word [ebp + F_ESP]
    add edi, eax
    pop eax
    mov [edi], ax
    pop edi
    ret
v_pop:
    push edi
    movzx edi, word [ebp + F_SS]
    shl edi, 4
    movzx eax, word [ebp + F_ESP]
    add edi, eax
    movzx eax, word [edi]
    add word [ebp + F_ESP], 2
    pop edi
    ret

; ---- INT 0x41 from V86 (IOPL 3): ring-0 handler through a DPL-3 gate
int41_handler:
    mov [ss:i41_esp], esp
    push eax
    push ecx
    push esi
    push edi
    mov ax, ds
    mov cx, es
    or ax, cx
    mov cx, fs
    or ax, cx
    mov cx, gs
    or ax, cx
    movzx eax, ax
    mov [ss:i41_segs], eax
    mov ax, cs
    movzx eax, ax
    mov [ss:i41_cs], eax
    lea esi, [esp + 16]
    mov ecx, 9
    xor edi, edi
.c: mov eax, [ss:esi + edi * 4]
    mov [ss:i41_frame + edi * 4], eax
    inc edi
    loop .c
    mov dword [ss:i41_seen], 1
    pop edi
    pop esi
    pop ecx
    pop eax
    mov bx, 0x4141
    iretd

section .data
p1_expected_log: db 0xFA, 0xFB, 0xFA, 0x9C, 0x9D, 0xCD, 0xCF, 0xEC, 0xE4, 0xF4, 0
p2_expected_log: db 0xEC, 0xF4, 0
section .bss
vif:       resd 1
v86_cont:  resd 1
gp_log_n:  resd 1
gp_log:    resb 64
i41_seen:  resd 1
i41_esp:   resd 1
i41_segs:  resd 1
i41_cs:    resd 1
i41_frame: resd 9

; ---- V86 code (runs with CS = DS = ES = SS = 0)
section .low
bits 16
v86_p1:
    RPRINT "in V86 mode, IOPL 0", 10   ; OUT to 0xE9: allowed by the bitmap
    cli
    sti
    cli
    pushf
    pop ax
    test ax, 0x200
    jz .if0
    mov si, .m1
    jmp rm_fail
.m1: db "V86 PUSHF (emulated) shows IF = 1 after CLI", 0
.if0:
    mov ax, 0x0201                  ; IF = 1, CF = 1
    push ax
    popf
    jc .cf1
    mov si, .m2
    jmp rm_fail
.m2: db "V86 POPF (emulated) did not set CF", 0
.cf1:
    mov bx, 0
    int 0x21                        ; reflected through the IVT; IRET emulated
    RCHECK bx, 0x2121, "V86 INT 0x21 via the IVT ran"
    RCHECK sp, V86_SP, "V86 SP balanced after INT/IRET"
    mov dx, DENIED
    mov al, 0
    in al, dx                       ; bitmap denies: #GP, monitor returns 0x5A
    RCHECK al, 0x5A, "V86 IN from a denied port emulated"
    mov al, 0
    in al, 0x8F                     ; denied too (imm8 form)
    RCHECK al, 0x5A, "V86 IN imm8 from a denied port emulated"
    mov dword [p1_ok], 1
    hlt                             ; #GP: the monitor ends phase 1

v86_int21:
    mov bx, 0x2121
    iret

v86_p2:
    RPRINT "in V86 mode, IOPL 3", 10
    cli                             ; native now
    pushf
    pop ax
    test ax, 0x200
    jz .a
    mov si, .m3
    jmp rm_fail
.m3: db "V86 IOPL 3: IF still set after CLI", 0
.a: and ax, 0x3000
    RCHECK ax, 0x3000, "V86 IOPL 3: PUSHF shows IOPL 3"
    sti
    pushf
    pop ax
    and ax, 0x200
    RCHECK ax, 0x200, "V86 IOPL 3: IF set after STI"
    push word 0x0001                ; CF = 1, IOPL 0, IF 0
    popf
    jc .b
    mov si, .m4
    jmp rm_fail
.m4: db "V86 IOPL 3: POPF did not set CF", 0
.b: pushf
    pop ax
    and ax, 0x3200
    RCHECK ax, 0x3000, "V86 POPF cannot change IOPL (IF cleared)"
    sti
    mov bx, 0
    int 0x41                        ; protected-mode IDT
.after41:
    RCHECK bx, 0x4141, "V86 INT 0x41 handled in ring 0"
    RCHECK sp, V86_SP, "V86 SP after INT 0x41/IRETD"
.i42:
    int 0x42                        ; DPL-0 gate: #GP(0x212)
.i42r:
    pushf                           ; native IRET at IOPL 3
    push cs
    push word .ir
    iret
.ir:
    RCHECK sp, V86_SP, "V86 SP after native IRET"
    mov dx, DENIED
    in al, dx                       ; still checked against the bitmap
    RCHECK al, 0x5A, "V86 IOPL 3: IN from a denied port still faults"
    mov dword [p2_ok], 1
    hlt

align 4
p1_ok: dd 0
p2_ok: dd 0
bits 32
section .text
%include "end.inc"
