; pv_kernel.asm -- a paravirtual kernel for `trapeze run --mode paravirt`
; (docs/hypercalls.md). It runs at ring 1 and does all its privileged work
; with hypercalls (INT 0x82): console output, a trap table, page tables
; loaded and edited through the VMM, a genuine page fault, a ring-3 task
; with system calls, the one-shot timer with yield and the virtual IF.
; Every check prints what it saw on failure. PASS: HC_SHUTDOWN(0x10) ->
; exit status 33; FAIL: HC_SHUTDOWN(0x11) -> 35.
;
; It is not a bare-metal kernel: in any other mode its first INT 0x82 goes
; to an IDT it never loaded. tests/guests/build.sh does not build it (it is
; in a subdirectory); tests/test-paravirt.sh does.

%include "mb_header.inc"

HC_CONSOLE_WRITE  equ 0
HC_SET_IF         equ 1
HC_LOAD_CR3       equ 2
HC_MMU_UPDATE     equ 3
HC_SET_TRAP_TABLE equ 4
HC_SET_TIMER      equ 5
HC_YIELD          equ 6
HC_SHUTDOWN       equ 7
HC_GET_TIME       equ 8
HC_IRET           equ 9
HC_STACK_SWITCH   equ 10
HC_GET_FAULT_ADDR equ 11

KERNEL_CS equ 0x09
KERNEL_DS equ 0x11
USER_CS   equ 0x1b
USER_DS   equ 0x23
CLEAR_IF  equ 0x80

PTE_P equ 1
PTE_W equ 2
PTE_U equ 4

MAP_A    equ 0x40000000        ; remapped by HC_MMU_UPDATE
UNMAPPED equ 0x50000000        ; never mapped: a genuine page fault
RO_PAGE  equ 0x40002000        ; mapped read-only
USER_VA  equ 0x60000000        ; the ring-3 task's code, then its stack page

%macro HC 1
    mov eax, %1
    int 0x82
%endmacro

; PRINT "text": through HC_CONSOLE_WRITE; preserves every register
%macro PRINT 1
    [section .data]
    %%s: db %1, 0
    __SECT__
    push esi
    mov esi, %%s
    call print_str
    pop esi
%endmacro

; EXPECT value, expected, "what": FAIL unless value == expected
%macro EXPECT 3
    [section .data]
    %%w: db %3, 0
    __SECT__
    push eax
    mov eax, %1
    cmp eax, %2
    je %%ok
    push dword %2
    push eax
    push %%w
    jmp fail
%%ok:
    pop eax
%endmacro

section .text
_start:
    mov esp, kstack_top
    PRINT "START: pv_kernel"
    call nl

    ; --- the boot state: ring 1, the VMM's selectors ---------------------
    xor eax, eax
    mov ax, cs
    EXPECT eax, KERNEL_CS, "CS at entry (ring 1)"
    mov ax, ss
    EXPECT eax, KERNEL_DS, "SS at entry"
    mov ax, KERNEL_DS
    mov ds, ax
    mov es, ax

    ; --- bad hypercalls are refused, never harm anything ------------------
    HC 99
    EXPECT eax, -38, "unknown hypercall -> -ENOSYS"
    mov ebx, 0xfff00000
    mov ecx, 16
    HC HC_CONSOLE_WRITE
    EXPECT eax, -14, "console_write from the VMM's region -> -EFAULT"
    mov ebx, 5
    HC HC_SET_IF
    EXPECT eax, -22, "set_if(5) -> -EINVAL"
    mov ebx, 0x123
    HC HC_LOAD_CR3
    EXPECT eax, -22, "load_cr3 of an unaligned address -> -EINVAL"
    mov ebx, bad_trap_table
    HC HC_SET_TRAP_TABLE
    EXPECT eax, -22, "a trap table with vector 0x82 -> -EINVAL"
    mov ebx, bad_mmu_batch
    mov ecx, 1
    HC HC_MMU_UPDATE
    EXPECT eax, -22, "mmu_update of a PTE outside RAM -> -EINVAL"
    mov ebx, bad_mmu_frame
    mov ecx, 1
    HC HC_MMU_UPDATE
    EXPECT eax, -22, "mmu_update mapping a frame outside RAM -> -EINVAL"
    EXPECT [pt1 + 12], 0, "the refused PTE was not written"
    mov ebx, 0xfff00000
    mov ecx, 1
    HC HC_MMU_UPDATE
    EXPECT eax, -14, "mmu_update of a batch in the VMM's region -> -EFAULT"

    ; --- the trap table ----------------------------------------------------
    mov ebx, trap_table
    HC HC_SET_TRAP_TABLE
    EXPECT eax, 6, "set_trap_table installs 6 entries"
    mov ebx, KERNEL_DS
    mov ecx, kstack2_top
    HC HC_STACK_SWITCH
    EXPECT eax, 0, "stack_switch"

    ; #DE through the trap table; the handler skips the DIV
    xor ecx, ecx
    mov eax, 1
    xor edx, edx
    div ecx                     ; F7 F1
    EXPECT [de_count], 1, "#DE delivered through the trap table"

    ; a privileged instruction is not emulated: its #GP is reflected
    mov dword [skip_len], 1
    cli
    EXPECT [gp_count], 1, "CLI at ring 1 -> #GP reflected"
    EXPECT [gp_err], 0, "CLI's #GP error code"
    mov dword [skip_len], 3
    mov eax, cr0
    EXPECT [gp_count], 2, "MOV from CR0 at ring 1 -> #GP reflected"

    ; --- paging through the VMM -------------------------------------------
    ; PT0 identity-maps 0-4 MiB (the kernel); PT1 maps MAP_A -> page_a,
    ; MAP_A + 0x1000 -> page_b, RO_PAGE -> page_a read-only.
    mov edi, pt0
    mov eax, PTE_P | PTE_W
    mov ecx, 1024
.id:
    stosd
    add eax, 0x1000
    loop .id
    mov dword [pd + 0], pt0 + (PTE_P | PTE_W)
    mov dword [pd + (MAP_A >> 22) * 4], pt1 + (PTE_P | PTE_W)
    mov dword [pt1 + 0], page_a + (PTE_P | PTE_W)
    mov dword [pt1 + 4], page_b + (PTE_P | PTE_W)
    mov dword [pt1 + 8], page_a + PTE_P
    mov dword [page_a], 0xaaaa0001
    mov dword [page_b], 0xbbbb0002
    mov ebx, pd
    HC HC_LOAD_CR3
    EXPECT eax, 0, "load_cr3"
    EXPECT [MAP_A], 0xaaaa0001, "MAP_A reads page_a after load_cr3"
    EXPECT [MAP_A + 0x1000], 0xbbbb0002, "MAP_A+4K reads page_b"
    mov dword [MAP_A + 4], 0x5a5a5a5a
    EXPECT [page_a + 4], 0x5a5a5a5a, "a write through MAP_A lands in page_a"

    ; a batch: swap the two mappings
    mov dword [batch + 0], pt1 + 0
    mov dword [batch + 4], page_b + (PTE_P | PTE_W)
    mov dword [batch + 8], pt1 + 4
    mov dword [batch + 12], page_a + (PTE_P | PTE_W)
    mov ebx, batch
    mov ecx, 2
    HC HC_MMU_UPDATE
    EXPECT eax, 2, "mmu_update did both entries"
    EXPECT [MAP_A], 0xbbbb0002, "MAP_A reads page_b after mmu_update"
    EXPECT [MAP_A + 0x1000], 0xaaaa0001, "MAP_A+4K reads page_a after mmu_update"

    ; genuine page faults, with the address and the guest's error code
    mov dword [skip_len], 2
    mov ebx, UNMAPPED
    mov eax, [ebx]              ; 8B 03
    EXPECT [pf_count], 1, "read of an unmapped page -> #PF"
    EXPECT [pf_addr], UNMAPPED, "fault address of the read"
    EXPECT [pf_err], 0, "error code of the read (not present, read, supervisor)"
    mov dword [skip_len], 6
    mov ebx, RO_PAGE
    mov dword [ebx], 1          ; C7 03 imm32
    EXPECT [pf_count], 2, "write to a read-only page -> #PF"
    EXPECT [pf_addr], RO_PAGE, "fault address of the write"
    EXPECT [pf_err], 3, "error code of the write (present, write, supervisor)"

    ; --- ring 3 ------------------------------------------------------------
    ; user code page and stack page, U = 1
    mov dword [pd + (USER_VA >> 22) * 4], pt2 + (PTE_P | PTE_W | PTE_U)
    mov dword [pt2 + 0], user_page + (PTE_P | PTE_W | PTE_U)
    mov dword [pt2 + 4], user_stack + (PTE_P | PTE_W | PTE_U)
    mov ebx, pd                 ; the PD changed: reload it
    HC HC_LOAD_CR3
    mov esi, user_code
    mov edi, user_page
    mov ecx, user_code_end - user_code
    rep movsb
    mov dword [skip_len], 2     ; the task's INT 0x82
    mov [kernel_esp], esp
    push dword USER_DS
    push dword USER_VA + 0x2000
    push dword 0x202            ; IF = 1
    push dword USER_CS
    push dword USER_VA
    push dword 0                ; EAX for the task
    HC HC_IRET
    ; not reached: the task ends with its exit system call (syscall_handler)
    PRINT "FAIL: HC_IRET to ring 3 returned"
    call nl
    jmp fail_exit
back_from_user:
    EXPECT [user_result], 14, "ring 3: INT 0x80 system call result"
    EXPECT [user_cs_seen], USER_CS, "ring 3: CS in the system call frame"
    EXPECT [user_ss_seen], USER_DS, "ring 3: SS in the system call frame"
    EXPECT [gp_err], 0x412, "ring 3: INT 0x82 -> #GP(0x82*8+2)"
    EXPECT [gp_count], 3, "ring 3: the #GP was delivered"

    ; --- the timer, yield and the virtual IF -------------------------------
    HC HC_GET_TIME
    mov [t0], eax
    mov [t0 + 4], edx
    mov esi, 5
.tick:
    HC HC_GET_TIME
    add eax, 1000000            ; 1 ms from now
    adc edx, 0
    mov ebx, eax
    mov ecx, edx
    HC HC_SET_TIMER
    HC HC_YIELD
    dec esi
    jnz .tick
    EXPECT [timer_count], 5, "five one-shot timer events after yield"
    HC HC_GET_TIME
    sub eax, [t0]
    sbb edx, [t0 + 4]
    EXPECT edx, 0, "elapsed virtual time (high)"
    cmp eax, 5000000
    jb .bad_time
    cmp eax, 5500000
    jb .time_ok
.bad_time:
    push dword 5000000
    push eax
    push .time_msg
    jmp fail
[section .data]
.time_msg: db "five 1 ms timers took 5.0-5.5 ms of virtual time", 0
__SECT__
.time_ok:
    ; masked: the timer fires while the virtual IF is 0, and is delivered
    ; as soon as the guest sets it again
    mov ebx, 0
    HC HC_SET_IF
    EXPECT eax, 1, "set_if(0) returns the previous IF (1)"
    HC HC_GET_TIME
    add eax, 1000
    adc edx, 0
    mov ebx, eax
    mov ecx, edx
    HC HC_SET_TIMER
    mov ecx, 100000
.spin:
    loop .spin
    EXPECT [timer_count], 5, "no timer event while the virtual IF is 0"
    mov ebx, 1
    HC HC_SET_IF
    EXPECT eax, 0, "set_if(1) returns the previous IF (0)"
    EXPECT [timer_count], 6, "the pending timer event is delivered at set_if(1)"

    PRINT "PASS: pv_kernel"
    call nl
    mov ebx, 0x10
    HC HC_SHUTDOWN
    jmp $

; --- handlers (ring 1) ------------------------------------------------------
de_handler:                     ; frame: EIP CS EFLAGS
    inc dword [de_count]
    add dword [esp], 2
    push eax
    HC HC_IRET

gp_handler:                     ; frame: err EIP CS EFLAGS [ESP SS]
    push eax
    mov ax, KERNEL_DS           ; from ring 3 DS is null (IRET to ring 3 cleared it)
    mov ds, ax
    inc dword [gp_count]
    mov eax, [esp + 4]
    mov [gp_err], eax
    mov eax, [skip_len]
    add [esp + 8], eax
    pop eax
    add esp, 4                  ; the error code
    push eax
    HC HC_IRET

pf_handler:                     ; frame: err EIP CS EFLAGS
    inc dword [pf_count]
    push eax
    mov eax, [esp + 4]
    mov [pf_err], eax
    HC HC_GET_FAULT_ADDR
    mov [pf_addr], eax
    mov eax, [skip_len]
    add [esp + 8], eax
    pop eax
    add esp, 4
    push eax
    HC HC_IRET

timer_handler:                  ; an "interrupt gate": entered with the virtual IF clear
    inc dword [timer_count]
    push eax
    HC HC_IRET

syscall_handler:                ; INT 0x80 from ring 3: frame EIP CS EFLAGS ESP SS
    mov dx, KERNEL_DS           ; DS is null at ring 3 (IRET to ring 3 cleared it)
    mov ds, dx
    mov es, dx
    mov edx, [esp + 4]
    mov [user_cs_seen], edx
    mov edx, [esp + 16]
    mov [user_ss_seen], edx
    cmp eax, 0xffff
    je .exit
    add eax, eax                ; the "system call": doubles EAX
    push eax
    HC HC_IRET
.exit:
    mov [user_result], ebx
    mov esp, [kernel_esp]       ; back to the kernel's own flow, at ring 1
    jmp back_from_user

; --- console -----------------------------------------------------------------
print_str:                      ; ESI = NUL-terminated string
    pushad
    mov ebx, esi
    xor ecx, ecx
.len:
    cmp byte [esi + ecx], 0
    je .go
    inc ecx
    jmp .len
.go:
    HC HC_CONSOLE_WRITE
    popad
    ret

nl:
    PRINT `\n`
    ret

print_hex:                      ; EAX
    pushad
    mov edi, hexbuf
    mov ecx, 8
.d:
    rol eax, 4
    mov edx, eax
    and edx, 15
    mov dl, [hexdigits + edx]
    mov [edi], dl
    inc edi
    loop .d
    mov esi, hexbuf
    call print_str
    popad
    ret

; fail: stack holds [what] [got] [expected]
fail:
    PRINT "FAIL: "
    pop esi
    call print_str
    PRINT ": got "
    pop eax
    call print_hex
    PRINT ", expected "
    pop eax
    call print_hex
    call nl
fail_exit:
    mov ebx, 0x11
    HC HC_SHUTDOWN
    jmp $

; --- the ring-3 task (copied to USER_VA) -------------------------------------
user_code:
    mov eax, 7
    int 0x80                    ; -> 14
    mov ebx, eax
    int 0x82                    ; a hypercall from ring 3: #GP, skipped (2 bytes)
    mov eax, 0xffff
    int 0x80                    ; exit
    jmp $
user_code_end:

section .data
align 4
trap_table:                     ; vector, dpl | flags, cs, eip
    db 0, 0
    dw KERNEL_CS
    dd de_handler
    db 13, 0
    dw KERNEL_CS
    dd gp_handler
    db 14, 0
    dw KERNEL_CS
    dd pf_handler
    db 0x20, CLEAR_IF
    dw KERNEL_CS
    dd timer_handler
    db 0x80, 3
    dw KERNEL_CS
    dd syscall_handler
    db 0x81, 3                  ; a second user gate (unused): counts to 6
    dw KERNEL_CS
    dd syscall_handler
    dd 0, 0
bad_trap_table:
    db 0x82, 0
    dw KERNEL_CS
    dd de_handler
    dd 0, 0
bad_mmu_batch:
    dd 0xf0000000, 0
bad_mmu_frame:
    dd pt1 + 12, 0xf0000000 | PTE_P | PTE_W
hexdigits: db "0123456789abcdef"
hexbuf: db "00000000", 0

section .low
_low_end:
section .tail
    dd 0x21444E45
_load_end:

section .bss
alignb 4096
pd:         resb 4096
pt0:        resb 4096
pt1:        resb 4096
pt2:        resb 4096
page_a:     resb 4096
page_b:     resb 4096
user_page:  resb 4096
user_stack: resb 4096
            resb 8192
kstack_top:
            resb 4096
kstack2_top:
batch:      resd 8
t0:         resd 2
kernel_esp: resd 1
skip_len:   resd 1
de_count:   resd 1
gp_count:   resd 1
gp_err:     resd 1
pf_count:   resd 1
pf_addr:    resd 1
pf_err:     resd 1
timer_count: resd 1
user_result: resd 1
user_cs_seen: resd 1
user_ss_seen: resd 1
_bss_end:
