; gates_priv -- privilege transitions: ring 0 -> 3 by IRET; ring 3 -> 0 by a
; call gate with parameter copying (stack switch to the TSS's SS0:ESP0),
; by an interrupt gate and a trap gate with DPL 3 (IF cleared only by the
; interrupt gate); conforming code segments (CPL unchanged, CS.RPL = CPL);
; RPL/DPL checks that must #GP; privileged and IOPL-sensitive instructions at
; CPL 3; far RET and IRET to an outer ring nulling data segment registers
; whose DPL < new CPL; a same-privilege call through a gate (no stack switch).
%define GUEST_NAME "gates_priv"
%include "guest.inc"

SEL_CG3   equ 0x40          ; call gate, DPL 3, 2 dword params -> KCODE:cg_handler
SEL_CONF  equ 0x48          ; conforming code, DPL 0, flat
SEL_CG0   equ 0x50          ; call gate, DPL 0 -> KCODE:cg_handler
P1        equ 0x11111111
P2        equ 0x22222222

; set_gate: EAX = selector, EBX = offset, CX = target selector, DL = type
; byte, DH = parameter count
set_gate:
    push edi
    lea edi, [gdt + eax]
    mov [edi], bx
    mov [edi + 2], cx
    mov [edi + 4], dh
    mov [edi + 5], dl
    push ebx
    shr ebx, 16
    mov [edi + 6], bx
    pop ebx
    pop edi
    ret

test_main:
    call pic_mask_all
    mov dword [ktss + TSS_ESP0], gate_stack_top
    mov eax, SEL_CG3
    mov ebx, cg_handler
    mov cx, KCODE
    mov dl, 0xEC                    ; P, DPL 3, 32-bit call gate
    mov dh, 2
    call set_gate
    mov eax, SEL_CG0
    mov dl, 0x8C                    ; P, DPL 0, 32-bit call gate
    call set_gate
    mov eax, SEL_CONF
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov dl, 0x9E                    ; P, DPL 0, code, conforming, readable
    mov dh, FL_4K32
    call gdt_set
    mov eax, 0x60
    mov ebx, int60_handler
    mov cx, KCODE
    mov dl, GATE_INT3
    call idt_set
    mov eax, 0x61
    mov ebx, int61_handler
    mov dl, GATE_TRAP3
    call idt_set
    mov eax, 0x62
    mov ebx, int60_handler
    mov dl, GATE_INT0
    call idt_set
    TO_RING3 user1, 0x0202          ; IF = 1, IOPL = 0

user1:
    CHECK_SEL cs, UCODE3, "CS after IRET to ring 3"
    CHECK_SEL ss, UDATA3, "SS after IRET to ring 3"
    CHECK esp, ustack_top, "ESP after IRET to ring 3"
    CHECK_EFLAGS 0x3200, 0x0200, "EFLAGS after IRET: IF = 1, IOPL = 0"

    ; ---- IOPL-sensitive and privileged instructions at CPL 3
    EXPECT 13, 0, .g1, .g1r
.g1:cli
.g1r:
    EXPECT_SEEN "CLI at CPL 3, IOPL 0 -> #GP(0)"
    CHECK_EFLAGS 0x200, 0x200, "IF still set after the faulting CLI"
    EXPECT 13, 0, .g2, .g2r
.g2:mov eax, cr0
.g2r:
    EXPECT_SEEN "MOV from CR0 at CPL 3 -> #GP(0)"
    EXPECT 13, 0, .g3, .g3r
.g3:hlt
.g3r:
    EXPECT_SEEN "HLT at CPL 3 -> #GP(0)"
    EXPECT 13, 0, .g4, .g4r
.g4:lidt [idtr]
.g4r:
    EXPECT_SEEN "LIDT at CPL 3 -> #GP(0)"
    ; POPF at CPL 3 silently keeps IF and IOPL
    pushfd
    and dword [esp], ~0x200
    or dword [esp], 0x3000
    popfd
    CHECK_EFLAGS 0x3200, 0x0200, "POPF at CPL 3 leaves IF and IOPL alone"

    ; ---- call gate with two parameters
    push dword P1
    push dword P2
    mov [u_esp_before], esp
    call SEL_CG3 | 3:0
.after_cg:
    ; ES and DS were loaded with DPL-0 data in the handler: nulled by RET
    CHECK_SEL es, 0, "ES nulled by far RET to ring 3"
    CHECK_SEL ds, 0, "DS nulled by far RET to ring 3"
    CHECK_SEL fs, UDATA3, "FS (DPL 3 data) kept by far RET"
    CHECK_SEL gs, SEL_CONF, "GS (conforming code) kept by far RET"
    mov ax, UDATA3
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    CHECK_SEL cs, UCODE3, "CS after far RET"
    mov eax, [u_esp_before]
    add eax, 8
    CHECK esp, eax, "RET 8 popped the parameters from the ring-3 stack"
    CHECK dword [cg_cs], KCODE, "CS in the call-gate handler"
    CHECK dword [cg_ss], KDATA, "SS in the handler = TSS.SS0"
    CHECK dword [cg_esp], gate_stack_top - 24, "ESP in the handler = TSS.ESP0 - 24"
    CHECK dword [cg_frame + 0], .after_cg, "gate frame: return EIP"
    CHECK dword [cg_frame + 4], UCODE3, "gate frame: return CS"
    CHECK dword [cg_frame + 8], P2, "gate frame: copied parameter 2"
    CHECK dword [cg_frame + 12], P1, "gate frame: copied parameter 1"
    mov eax, [u_esp_before]
    CHECK dword [cg_frame + 16], eax, "gate frame: caller ESP"
    CHECK dword [cg_frame + 20], UDATA3, "gate frame: caller SS"

    ; ---- interrupt gate: IF cleared in the handler
    mov [u_esp_before], esp
    int 0x60
.after_i60:
    CHECK dword [ih_eflags_in], 0, "IF clear inside an interrupt-gate handler"
    CHECK dword [ih_esp], gate_stack_top - 20, "ESP in the INT handler"
    CHECK dword [ih_frame + 0], .after_i60, "INT frame: EIP after INT"
    CHECK dword [ih_frame + 4], UCODE3, "INT frame: CS"
    CHECK_BITS dword [ih_frame + 8], 0x3200, 0x0200, "INT frame: EFLAGS (IF=1)"
    mov eax, [u_esp_before]
    CHECK dword [ih_frame + 12], eax, "INT frame: ESP"
    CHECK dword [ih_frame + 16], UDATA3, "INT frame: SS"
    CHECK_EFLAGS 0x200, 0x200, "IF restored by IRET"
    ; ---- trap gate: IF unchanged
    int 0x61
    CHECK dword [ih_eflags_in], 0x200, "IF still set inside a trap-gate handler"
    ; ---- INT to a DPL-0 gate: #GP(vector*8 + 2)
    EXPECT 13, 0x62 * 8 + 2, .g5, .g5r
.g5:int 0x62
.g5r:
    EXPECT_SEEN "INT 0x62 (DPL-0 gate) at CPL 3"

    ; ---- conforming code: runs at CPL 3, CS.RPL = 3, no stack switch
    mov [u_esp_before], esp
    call SEL_CONF:conf_func
.after_conf:
    CHECK dword [conf_cs], SEL_CONF | 3, "CS in conforming code = sel | CPL"
    mov eax, [u_esp_before]
    sub eax, 8
    CHECK dword [conf_esp], eax, "no stack switch into conforming code"
    CHECK dword [conf_ret], .after_conf, "return EIP pushed"
    ; ---- RPL/DPL violations
    EXPECT 13, KCODE, .g6, .g6r
.g6:call KCODE:cg_handler           ; non-conforming DPL 0 code from CPL 3
.g6r:
    EXPECT_SEEN "far CALL to DPL-0 non-conforming code at CPL 3"
    EXPECT 13, SEL_CG0, .g7, .g7r
.g7:call SEL_CG0:0
.g7r:
    EXPECT_SEEN "CALL through a DPL-0 call gate at CPL 3"
    mov ax, KDATA
    EXPECT 13, KDATA, .g8, .g8r
.g8:mov ds, ax
.g8r:
    EXPECT_SEEN "MOV DS, DPL-0 data at CPL 3"
    mov ax, UDATA                   ; RPL 0 != CPL 3
    EXPECT 13, UDATA, .g9, .g9r
.g9:mov ss, ax
.g9r:
    EXPECT_SEEN "MOV SS with RPL != CPL"
    CHECK_SEL ds, UDATA3, "DS unchanged after faulting loads"
    TO_RING0 ring0b

ring0b:
    mov ax, KDATA | 3               ; RPL 3 > DPL 0
    EXPECT 13, KDATA, .h1, .h1r
.h1:mov es, ax
.h1r:
    EXPECT_SEEN "MOV ES, DPL-0 data with RPL 3 at CPL 0"
    ; same-privilege call through a gate: no stack switch, nothing copied
    push dword P1
    push dword P2
    mov [u_esp_before], esp
    call SEL_CG3:0
.after_cg0:
    CHECK_SEL es, KDATA, "same-privilege RET does not null ES"
    CHECK dword [cg_cs], KCODE, "CS in handler (same privilege)"
    mov eax, [u_esp_before]
    sub eax, 8
    CHECK dword [cg_esp], eax, "no stack switch through a gate to the same ring"
    CHECK dword [cg_frame + 0], .after_cg0, "same-ring gate frame: EIP"
    CHECK dword [cg_frame + 4], KCODE, "same-ring gate frame: CS"
    CHECK dword [cg_frame + 8], P2, "same-ring gate: caller's params in place"
    mov eax, [u_esp_before]
    add eax, 8
    CHECK esp, eax, "same-ring RET 8 popped the parameters"
    ; IRET to ring 3 nulls ES (DPL 0) but keeps FS (DPL 3)
    mov ax, KDATA
    mov es, ax
    mov ax, UDATA3
    mov fs, ax
    mov ds, ax
    push dword UDATA3
    push dword ustack_top
    push dword 0x0002
    push dword UCODE3
    push dword user2
    iretd
user2:
    CHECK_SEL es, 0, "ES nulled by IRET to ring 3"
    CHECK_SEL fs, UDATA3, "FS kept by IRET to ring 3"
    CHECK_SEL ds, UDATA3, "DS kept by IRET to ring 3"
    TO_RING0 done
done:
    CHECK dword [exc_count], 10, "number of #GP taken"
    PASS

; ---- handlers (ring 0)
cg_handler:
    mov [ss:cg_esp], esp
    push eax
    mov ax, cs
    movzx eax, ax
    mov [ss:cg_cs], eax
    mov ax, ss
    movzx eax, ax
    mov [ss:cg_ss], eax
    pop eax
    push esi
    push edi
    push ecx
    push ds
    push es
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    lea esi, [esp + 20]
    mov edi, cg_frame
    mov ecx, 6
    rep movsd
    pop es
    pop ds
    pop ecx
    pop edi
    pop esi
    mov ax, KDATA                   ; DPL 0: must be nulled on return to ring 3
    mov es, ax
    mov ds, ax
    mov ax, UDATA3
    mov fs, ax
    mov ax, SEL_CONF
    mov gs, ax
    retf 8

int60_handler:
    mov [ss:ih_esp], esp
    push eax
    pushfd
    pop eax
    and eax, 0x200
    mov [ss:ih_eflags_in], eax
    mov eax, [esp + 4]
    mov [ss:ih_frame], eax
    mov eax, [esp + 8]
    mov [ss:ih_frame + 4], eax
    mov eax, [esp + 12]
    mov [ss:ih_frame + 8], eax
    mov eax, [esp + 16]
    mov [ss:ih_frame + 12], eax
    mov eax, [esp + 20]
    mov [ss:ih_frame + 16], eax
    pop eax
    iretd
int61_handler:
    push eax
    pushfd
    pop eax
    and eax, 0x200
    mov [ss:ih_eflags_in], eax
    pop eax
    iretd

conf_func:
    mov [conf_esp], esp
    push eax
    mov ax, cs
    movzx eax, ax
    mov [conf_cs], eax
    mov eax, [esp + 4]
    mov [conf_ret], eax
    pop eax
    retf

section .bss
u_esp_before: resd 1
cg_esp:   resd 1
cg_cs:    resd 1
cg_ss:    resd 1
cg_frame: resd 6
ih_esp:   resd 1
ih_eflags_in: resd 1
ih_frame: resd 5
conf_esp: resd 1
conf_cs:  resd 1
conf_ret: resd 1
alignb 16
          resb 4096
gate_stack_top:
%include "end.inc"
