; tasks -- hardware task switching: JMP to a TSS descriptor (busy bits moved,
; no back-link, NT clear), CALL through a task gate (NT set, back-link, old
; task stays busy, IRET back clears the busy bit and the old NT), INT through
; a task gate in the IDT (twice: the task resumes after its IRET), busy-task
; checks (#GP(sel) on JMP/CALL to a busy task), CR0.TS set by every switch,
; and the full register set saved into and restored from the TSSs.
%define GUEST_NAME "tasks"
%include "guest.inc"

SEL_B     equ 0x40          ; TSS of task B
SEL_C     equ 0x48          ; TSS of task C
SEL_GATEC equ 0x50          ; task gate -> SEL_C
SEL_D     equ 0x58          ; TSS of task D (IDT vector 0x50 is a task gate)
VEC_TASK  equ 0x50
EFL_NT    equ 0x4000

; desc_type sel -> EAX = access byte of a GDT descriptor
%macro DESC_TYPE 1
    movzx eax, byte [gdt + %1 + 5]
%endmacro

; init_tss: EDI = TSS, EAX = EIP, EBX = ESP, ESI = register seed
init_tss:
    pushad
    push eax
    push edi
    xor eax, eax
    mov ecx, TSS_SIZE / 4
    rep stosd
    pop edi
    pop eax
    mov [edi + TSS_EIP], eax
    mov [edi + TSS_ESP], ebx
    mov dword [edi + TSS_EFLAGS], 0x2
    mov eax, cr3
    mov [edi + TSS_CR3], eax
    mov dword [edi + TSS_CS], KCODE
    mov eax, KDATA
    mov [edi + TSS_SS], eax
    mov [edi + TSS_DS], eax
    mov [edi + TSS_ES], eax
    mov [edi + TSS_FS], eax
    mov [edi + TSS_GS], eax
    mov [edi + TSS_SS0], eax
    mov [edi + TSS_ESP0], ebx
    mov word [edi + TSS_IOMAP], TSS_SIZE    ; no bitmap (beyond the limit)
    mov eax, esi
    mov [edi + TSS_EAX], eax
    inc eax
    mov [edi + TSS_ECX], eax
    inc eax
    mov [edi + TSS_EDX], eax
    inc eax
    mov [edi + TSS_EBX], eax
    inc eax
    mov [edi + TSS_EBP], eax
    inc eax
    mov [edi + TSS_ESI], eax
    inc eax
    mov [edi + TSS_EDI], eax
    popad
    ret

; tss_desc: EAX = selector, EBX = TSS base
tss_desc:
    push ecx
    push edx
    mov ecx, TSS_SIZE - 1
    mov dl, ACC_TSS
    mov dh, 0
    call gdt_set
    pop edx
    pop ecx
    ret

test_main:
    mov eax, cr3                    ; task A's TSS gets the current CR3 too
    mov [ktss + TSS_CR3], eax
    mov edi, tss_b
    mov eax, task_b
    mov ebx, stack_b_top
    mov esi, 0xB0000000
    call init_tss
    mov edi, tss_c
    mov eax, task_c
    mov ebx, stack_c_top
    mov esi, 0xC0000000
    call init_tss
    mov edi, tss_d
    mov eax, task_d
    mov ebx, stack_d_top
    mov esi, 0xD0000000
    call init_tss
    mov eax, SEL_B
    mov ebx, tss_b
    call tss_desc
    mov eax, SEL_C
    mov ebx, tss_c
    call tss_desc
    mov eax, SEL_D
    mov ebx, tss_d
    call tss_desc
    mov word [gdt + SEL_GATEC + 2], SEL_C   ; task gate in the GDT
    mov byte [gdt + SEL_GATEC + 5], GATE_TASK0
    mov eax, VEC_TASK                       ; task gate in the IDT
    xor ebx, ebx
    mov cx, SEL_D
    mov dl, GATE_TASK0
    call idt_set

    DESC_TYPE KTSS
    CHECK eax, 0x8B, "initial task busy after LTR"
    clts
    ; ---- JMP to task B
    mov eax, 0xA0000000
    mov ebx, 0xA0000001
    mov ecx, 0xA0000002
    mov edx, 0xA0000003
    mov esi, 0xA0000004
    mov edi, 0xA0000005
    mov ebp, 0xA0000006
    jmp SEL_B:0
a_resume1:                          ; task B jumps back to here
    CHECK eax, 0xA0000000, "EAX restored into task A"
    CHECK ebx, 0xA0000001, "EBX restored into task A"
    CHECK ecx, 0xA0000002, "ECX restored into task A"
    CHECK edx, 0xA0000003, "EDX restored into task A"
    CHECK esi, 0xA0000004, "ESI restored into task A"
    CHECK edi, 0xA0000005, "EDI restored into task A"
    CHECK ebp, 0xA0000006, "EBP restored into task A"
    CHECK esp, kstack_top, "ESP restored into task A"
    CHECK dword [b_ran], 1, "task B ran"
    str ax
    CHECK_SEL ax, KTSS, "TR back to task A"
    mov eax, cr0
    CHECK_BITS eax, 8, 8, "CR0.TS set by the switch back"
    clts
    DESC_TYPE SEL_B
    CHECK eax, 0x89, "task B not busy after it JMPed away"
    DESC_TYPE KTSS
    CHECK eax, 0x8B, "task A busy again"
    CHECK dword [tss_b + TSS_EIP], task_b.after_jmp, "task B's saved EIP"
    CHECK dword [tss_b + TSS_EBX], 0xB0B0B0B0, "task B's saved EBX"

    ; ---- CALL through a task gate to task C, IRET back
    mov ebx, 0xA1A1A1A1
    call SEL_GATEC:0
.after_call:
    CHECK ebx, 0xA1A1A1A1, "EBX after the nested task returned"
    CHECK dword [c_ran], 1, "task C ran"
    DESC_TYPE SEL_C
    CHECK eax, 0x89, "task C not busy after IRET"
    DESC_TYPE KTSS
    CHECK eax, 0x8B, "task A still busy"
    CHECK_EFLAGS EFL_NT, 0, "NT clear in task A after the return"
    CHECK_BITS dword [tss_c + TSS_EFLAGS], EFL_NT, 0, "IRET cleared NT in task C's saved EFLAGS"
    CHECK dword [tss_c + TSS_EIP], task_c.after_iret, "task C's saved EIP"
    CHECK dword [tss_a_eip_seen], .after_call, "task A's saved EIP as seen by task C"
    clts

    ; ---- CALL to a busy task (the current one)
    EXPECT 13, KTSS, .bz1, .bz1r
.bz1: call KTSS:0
.bz1r:
    EXPECT_SEEN "CALL to the busy current task -> #GP(sel)"

    ; ---- INT through a task gate, twice
    int VEC_TASK
    CHECK dword [d_count], 1, "task D ran once"
    int VEC_TASK
    CHECK dword [d_count], 2, "task D resumed after its IRET"
    DESC_TYPE SEL_D
    CHECK eax, 0x89, "task D not busy after IRET"
    CHECK dword [exc_count], 3, "number of #GP taken"
    PASS

; ---- task B: entered by JMP
task_b:
    CHECK eax, 0xB0000000, "task B: EAX from its TSS"
    CHECK ecx, 0xB0000001, "task B: ECX from its TSS"
    CHECK edx, 0xB0000002, "task B: EDX from its TSS"
    CHECK ebx, 0xB0000003, "task B: EBX from its TSS"
    CHECK ebp, 0xB0000004, "task B: EBP from its TSS"
    CHECK esi, 0xB0000005, "task B: ESI from its TSS"
    CHECK edi, 0xB0000006, "task B: EDI from its TSS"
    CHECK esp, stack_b_top, "task B: ESP from its TSS"
    CHECK_EFLAGS EFL_NT, 0, "task B: NT clear after JMP"
    str ax
    CHECK_SEL ax, SEL_B, "task B: TR"
    mov eax, cr0
    CHECK_BITS eax, 8, 8, "task B: CR0.TS set by the task switch"
    DESC_TYPE SEL_B
    CHECK eax, 0x8B, "task B: its TSS is busy"
    DESC_TYPE KTSS
    CHECK eax, 0x89, "task B: task A no longer busy after JMP"
    CHECK dword [tss_b + TSS_LINK], 0, "task B: no back-link after JMP"
    CHECK dword [ktss + TSS_EIP], a_resume1, "task A's saved EIP"
    CHECK dword [ktss + TSS_EAX], 0xA0000000, "task A's saved EAX"
    CHECK dword [ktss + TSS_EBX], 0xA0000001, "task A's saved EBX"
    CHECK dword [ktss + TSS_ECX], 0xA0000002, "task A's saved ECX"
    CHECK dword [ktss + TSS_EDX], 0xA0000003, "task A's saved EDX"
    CHECK dword [ktss + TSS_ESI], 0xA0000004, "task A's saved ESI"
    CHECK dword [ktss + TSS_EDI], 0xA0000005, "task A's saved EDI"
    CHECK dword [ktss + TSS_EBP], 0xA0000006, "task A's saved EBP"
    CHECK dword [ktss + TSS_ESP], kstack_top, "task A's saved ESP"
    CHECK_BITS dword [ktss + TSS_CS], 0xFFFF, KCODE, "task A's saved CS"
    CHECK_BITS dword [ktss + TSS_SS], 0xFFFF, KDATA, "task A's saved SS"
    CHECK_BITS dword [ktss + TSS_DS], 0xFFFF, KDATA, "task A's saved DS"
    ; JMP to a busy task (itself)
    EXPECT 13, SEL_B, .bz, .bzr
.bz:jmp SEL_B:0
.bzr:
    EXPECT_SEEN "JMP to the busy current task -> #GP(sel)"
    mov dword [b_ran], 1
    mov ebx, 0xB0B0B0B0
    jmp KTSS:0
.after_jmp:
    FAIL "task B resumed unexpectedly"

; ---- task C: entered by CALL through a task gate
task_c:
    CHECK_EFLAGS EFL_NT, EFL_NT, "task C: NT set by CALL"
    CHECK_BITS dword [tss_c + TSS_LINK], 0xFFFF, KTSS, "task C: back-link = task A"
    str ax
    CHECK_SEL ax, SEL_C, "task C: TR"
    DESC_TYPE KTSS
    CHECK eax, 0x8B, "task C: caller task A stays busy"
    DESC_TYPE SEL_C
    CHECK eax, 0x8B, "task C: its TSS is busy"
    CHECK esi, 0xC0000005, "task C: ESI from its TSS"
    mov eax, [ktss + TSS_EIP]
    mov [tss_a_eip_seen], eax
    EXPECT 13, KTSS, .bz, .bzr
.bz:jmp KTSS:0                      ; the caller is busy
.bzr:
    EXPECT_SEEN "JMP to a busy (calling) task -> #GP(sel)"
    mov dword [c_ran], 1
    iretd                           ; NT = 1: return to task A
.after_iret:
    FAIL "task C resumed unexpectedly"

; ---- task D: entered by INT through a task gate; loops
task_d:
    CHECK_EFLAGS EFL_NT, EFL_NT, "task D: NT set by INT"
    CHECK_BITS dword [tss_d + TSS_LINK], 0xFFFF, KTSS, "task D: back-link = task A"
    str ax
    CHECK_SEL ax, SEL_D, "task D: TR"
    inc dword [d_count]
    iretd
    jmp task_d

section .bss
b_ran:   resd 1
c_ran:   resd 1
d_count: resd 1
tss_a_eip_seen: resd 1
alignb 16
tss_b:   resb 128
tss_c:   resb 128
tss_d:   resb 128
         resb 4096
stack_b_top:
         resb 4096
stack_c_top:
         resb 4096
stack_d_top:
%include "end.inc"
