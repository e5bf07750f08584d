; sysenter -- SYSENTER/SYSEXIT with MSRs SYSENTER_CS (0x174), SYSENTER_ESP
; (0x175) and SYSENTER_EIP (0x176): CS/SS derived from SYSENTER_CS (CS, CS+8;
; CS+16|3, CS+24|3) without reading the GDT, ESP/EIP from the MSRs and from
; ECX/EDX, IF cleared by SYSENTER, data segments untouched; #GP(0) for
; SYSEXIT at CPL 3, for SYSENTER/SYSEXIT with SYSENTER_CS = 0, and for
; RDMSR/WRMSR at CPL 3.
%define GUEST_NAME "sysenter"
%include "guest.inc"

MSR_CS  equ 0x174
MSR_ESP equ 0x175
MSR_EIP equ 0x176
ODD_CS  equ 0x60            ; GDT slots 0x60..0x78 are all zero

%macro WRMSR32 2
    mov ecx, %1
    mov eax, %2
    xor edx, edx
    wrmsr
%endmacro

test_main:
    call pic_mask_all
    mov eax, 1
    cpuid
    CHECK_BITS edx, 1 << 11, 1 << 11, "CPUID.1:EDX.SEP"
    WRMSR32 MSR_CS, KCODE
    WRMSR32 MSR_ESP, se_stack_top
    WRMSR32 MSR_EIP, se_entry
    mov ecx, MSR_ESP
    rdmsr
    CHECK eax, se_stack_top, "RDMSR SYSENTER_ESP"
    CHECK edx, 0, "RDMSR SYSENTER_ESP high half"
    mov ecx, MSR_CS
    rdmsr
    CHECK eax, KCODE, "RDMSR SYSENTER_CS"

    ; ---- SYSEXIT from ring 0 to ring 3
    mov ecx, ustack_top - 16
    mov edx, user1
    sti                             ; (all IRQs masked at the PIC)
    sysexit

user1:
    CHECK_SEL cs, UCODE3, "CS after SYSEXIT = SYSENTER_CS + 16 | 3"
    CHECK_SEL ss, UDATA3, "SS after SYSEXIT = SYSENTER_CS + 24 | 3"
    CHECK esp, ustack_top - 16, "ESP after SYSEXIT = ECX"
    CHECK_EFLAGS 0x200, 0x200, "SYSEXIT leaves EFLAGS alone"
    CHECK_SEL ds, KDATA, "SYSEXIT leaves DS alone"
    mov ax, UDATA3
    mov ds, ax
    mov es, ax

    ; ---- SYSEXIT and MSR access at CPL 3
    EXPECT 13, 0, .g1, .g1r
.g1:sysexit
.g1r:
    EXPECT_SEEN "SYSEXIT at CPL 3 -> #GP(0)"
    EXPECT 13, 0, .g2, .g2r
    mov ecx, MSR_CS
.g2:rdmsr
.g2r:
    EXPECT_SEEN "RDMSR at CPL 3 -> #GP(0)"
    EXPECT 13, 0, .g3, .g3r
.g3:wrmsr
.g3r:
    EXPECT_SEEN "WRMSR at CPL 3 -> #GP(0)"

    ; ---- SYSENTER to ring 0 and back
    mov esi, 0x51515151
    mov edi, 0x0D1D1D1D
    mov ebp, esp
    mov dword [se_mode], 1
    sysenter
.back1:
    CHECK_SEL cs, UCODE3, "CS after the second SYSEXIT"
    CHECK esp, ebp, "ESP restored from ECX"
    CHECK esi, 0x51515151, "ESI preserved across SYSENTER/SYSEXIT"
    CHECK dword [se_cs], KCODE, "CS after SYSENTER = SYSENTER_CS"
    CHECK dword [se_ss], KDATA, "SS after SYSENTER = SYSENTER_CS + 8"
    CHECK dword [se_esp], se_stack_top, "ESP after SYSENTER = SYSENTER_ESP"
    CHECK dword [se_if], 0, "SYSENTER clears IF"
    CHECK dword [se_ds], UDATA3, "SYSENTER leaves DS alone"
    CHECK dword [se_edi], 0x0D1D1D1D, "EDI preserved into the handler"
    CHECK_EFLAGS 0x200, 0, "IF still clear after SYSEXIT"
    TO_RING0 ring0b

ring0b:
    ; ---- selectors come from SYSENTER_CS, not from the GDT (slots are 0)
    WRMSR32 MSR_CS, ODD_CS
    TO_RING3 user2, 0x0002
user2:
    mov ebp, esp
    mov dword [se_mode], 2
    sysenter
.back2:
    CHECK_SEL cs, ODD_CS + 16 + 3, "CS after SYSEXIT with SYSENTER_CS = 0x60"
    CHECK_SEL ss, ODD_CS + 24 + 3, "SS after SYSEXIT with SYSENTER_CS = 0x60"
    push dword 0x77777777           ; the flat stack works
    pop eax
    CHECK eax, 0x77777777, "flat ring-3 stack with SS = 0x7B"
    CHECK dword [se_cs], ODD_CS, "CS after SYSENTER with SYSENTER_CS = 0x60"
    CHECK dword [se_ss], ODD_CS + 8, "SS after SYSENTER with SYSENTER_CS = 0x60"
    CHECK dword [se_stackok], 0x88888888, "flat ring-0 stack with SS = 0x68"
    TO_RING0 ring0c

ring0c:
    ; ---- SYSENTER_CS = 0: SYSENTER and SYSEXIT fault
    WRMSR32 MSR_CS, 0
    EXPECT 13, 0, .g4, .g4r
    mov ecx, ustack_top
    mov edx, ring0c
.g4:sysexit
.g4r:
    EXPECT_SEEN "SYSEXIT with SYSENTER_CS = 0 -> #GP(0)"
    TO_RING3 user3, 0x0002
user3:
    EXPECT 13, 0, .g5, .g5r
.g5:sysenter
.g5r:
    EXPECT_SEEN "SYSENTER with SYSENTER_CS = 0 -> #GP(0)"
    TO_RING0 done
done:
    CHECK dword [exc_count], 5, "number of #GP taken"
    PASS

; SYSENTER target (ring 0, DS is still the caller's flat user DS)
se_entry:
    mov [ss:se_esp], esp
    push eax
    mov ax, cs
    movzx eax, ax
    mov [ss:se_cs], eax
    mov ax, ss
    movzx eax, ax
    mov [ss:se_ss], eax
    mov ax, ds
    movzx eax, ax
    mov [ss:se_ds], eax
    pushfd
    pop eax
    and eax, 0x200
    mov [ss:se_if], eax
    mov [ss:se_edi], edi
    push dword 0x88888888
    pop dword [ss:se_stackok]
    pop eax
    mov ecx, ebp
    mov edx, user1.back1
    cmp dword [ss:se_mode], 1
    je .x
    mov edx, user2.back2
.x: sysexit

section .bss
se_mode:  resd 1
se_esp:   resd 1
se_cs:    resd 1
se_ss:    resd 1
se_ds:    resd 1
se_if:    resd 1
se_edi:   resd 1
se_stackok: resd 1
alignb 16
          resb 4096
se_stack_top:
%include "end.inc"
