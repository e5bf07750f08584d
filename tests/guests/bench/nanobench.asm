; nanobench -- the nanobenchmark kernel of `make bench` (scripts/bench.py).
; Not a test: it checks nothing and is kept out of tests/guests/*.asm so that
; build.sh, run-guests.sh and test-modes.sh never pick it up.
;
; Each phase runs a fixed iteration count and is bracketed by two identical
; marker lines "PHASE <name> <N>" on COM1 (0x3F8, polled THRE, 115200 8N1);
; the harness timestamps the lines as they arrive. The phases follow Adams &
; Agesen (ASPLOS 2006): integer ALU, REP MOVSD and byte-copy memory loops,
; call/ret, INT 0x80 ring 3 -> ring 0 round trips, cli/sti/pushf/popf, port
; reads, #DE round trips, then with paging on: page faults, PTE write +
; INVLPG + access, CR3 reloads. The non-paging phases come first: trapeze's
; vmm mode stops a guest that enables paging (exit status 14), and the
; harness reports the paging phases as not available there. "DONE" ends the
; run, then port 0xF4 (exit status 33 on trapeze and QEMU; Bochs is killed).
;
; Assemble: nasm -f bin -I tests/guests/lib/ -o nanobench.bin nanobench.asm
%define GUEST_NAME "nanobench"
%include "guest.inc"

COM1     equ 0x3F8
%define N_ALU 2000000        ; 8 ALU ops + dec/jnz per iteration
%define N_MOVSD 100000         ; REP MOVSD of 4 KiB (1024 dwords) per iteration
%define N_BCOPY 1000           ; byte loop copying 4 KiB per iteration
%define N_CALL 1000000        ; call + ret per iteration
%define N_SYSC 100000         ; INT 0x80 from ring 3 + IRETD
%define N_CLI 500000         ; cli, sti, pushfd, popfd
%define N_PORT 100000         ; IN AL, 0x21 (8259A IMR)
%define N_DE 100000         ; DIV by zero -> #DE -> handler skips the DIV
%define N_PF 100000         ; read of a not-present page -> #PF -> skip
%define N_PTE 100000         ; PTE write + INVLPG + read through the page
%define N_CR3 100000         ; MOV CR3 (reload, flushes the TLB) + a read

PF_VA    equ 0x700000       ; not present during the #PF phase
PTE_VA   equ 0x701000       ; remapped every iteration of the PTE phase

; PHASE name, count -- print the marker line "PHASE name count"
%macro PHASE 2
    [section .data]
    %%s: db "PHASE ", %1, " ", %2, 10, 0
    __SECT__
    mov esi, %%s
    call com_str
%endmacro

section .text
test_main:
    call pic_mask_all
    call com_init
    mov esi, msg_hello
    call com_str
    ; vectors used by the phases
    mov eax, 0
    mov ebx, de_handler
    mov cx, KCODE
    mov dl, GATE_INT0
    call idt_set
    mov eax, 14
    mov ebx, pf_handler
    call idt_set
    mov eax, 0x80
    mov ebx, sys_handler
    mov dl, GATE_INT3
    call idt_set

; --- null phase: two markers and nothing between them; the harness
; subtracts its duration (the cost of a marker line) from every phase -----
    PHASE "null", "1"
    PHASE "null", "1"

; --- integer ALU loop -------------------------------------------------------
    PHASE "alu", %str(N_ALU)
    mov ecx, N_ALU
    mov eax, 1
    mov ebx, 3
    mov edx, 5
align 16
.alu:
    add eax, ebx
    xor edx, eax
    sub ebx, edx
    shl eax, 1
    or ebx, 7
    and edx, eax
    adc eax, edx
    ror ebx, 3
    dec ecx
    jnz .alu
    PHASE "alu", %str(N_ALU)

; --- REP MOVSD, 4 KiB per iteration -----------------------------------------
    PHASE "movsd", %str(N_MOVSD)
    mov edx, N_MOVSD
.mv:
    mov esi, buf_a
    mov edi, buf_b
    mov ecx, 1024
    rep movsd
    dec edx
    jnz .mv
    PHASE "movsd", %str(N_MOVSD)

; --- byte-copy loop, 4 KiB per iteration ------------------------------------
    PHASE "bytecopy", %str(N_BCOPY)
    mov edx, N_BCOPY
.bc:
    mov esi, buf_a
    mov edi, buf_b
    mov ecx, 4096
.bcl:
    mov al, [esi]
    mov [edi], al
    inc esi
    inc edi
    dec ecx
    jnz .bcl
    dec edx
    jnz .bc
    PHASE "bytecopy", %str(N_BCOPY)

; --- call/ret ---------------------------------------------------------------
    PHASE "callret", %str(N_CALL)
    mov ecx, N_CALL
.cr:
    call leaf
    dec ecx
    jnz .cr
    PHASE "callret", %str(N_CALL)

; --- INT 0x80 round trips from ring 3 ---------------------------------------
    PHASE "syscall", %str(N_SYSC)
    TO_RING3 .u3, 0x2
.u3:
    mov ecx, N_SYSC
.sc:
    int 0x80
    dec ecx
    jnz .sc
    TO_RING0 .k0
.k0:
    PHASE "syscall", %str(N_SYSC)

; --- cli/sti/pushfd/popfd (every IRQ masked) --------------------------------
    PHASE "clisti", %str(N_CLI)
    mov ecx, N_CLI
.cs:
    cli
    sti
    pushfd
    popfd
    dec ecx
    jnz .cs
    cli
    PHASE "clisti", %str(N_CLI)

; --- port reads -------------------------------------------------------------
    PHASE "portin", %str(N_PORT)
    mov ecx, N_PORT
.pi:
    in al, 0x21
    dec ecx
    jnz .pi
    PHASE "portin", %str(N_PORT)

; --- #DE round trips --------------------------------------------------------
    PHASE "divzero", %str(N_DE)
    mov ecx, N_DE
    xor ebx, ebx
.dz:
    xor edx, edx
    mov eax, 1
    div ebx                             ; F7 F3: 2 bytes, skipped by de_handler
    dec ecx
    jnz .dz
    PHASE "divzero", %str(N_DE)

; --- paging on: identity map of the first 8 MiB with 4 KiB pages ------------
    mov edi, page_tables
    mov eax, 0x003                      ; present, writable, supervisor
    mov ecx, 2048
.pt:
    stosd
    add eax, 0x1000
    loop .pt
    mov dword [page_dir], page_tables + 0x003
    mov dword [page_dir + 4], page_tables + 0x1000 + 0x003
    mov dword [page_tables + (PF_VA >> 12) * 4], 0       ; not present
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    mov esi, msg_paging
    call com_str

; --- page faults ------------------------------------------------------------
    PHASE "pagefault", %str(N_PF)
    mov ecx, N_PF
    mov ebx, PF_VA
.pf:
    mov eax, [ebx]                      ; 8B 03: 2 bytes, skipped by pf_handler
    dec ecx
    jnz .pf
    PHASE "pagefault", %str(N_PF)

; --- PTE write + INVLPG + access --------------------------------------------
    PHASE "ptewrite", %str(N_PTE)
    mov ecx, N_PTE
    mov ebx, PTE_VA
    mov edi, page_tables + (PTE_VA >> 12) * 4
.pw:
    mov eax, ecx
    and eax, 1
    shl eax, 12
    add eax, PTE_VA + 0x003             ; alternate between two frames
    mov [edi], eax
    invlpg [ebx]
    mov edx, [ebx]
    dec ecx
    jnz .pw
    PHASE "ptewrite", %str(N_PTE)

; --- CR3 reloads ------------------------------------------------------------
    PHASE "cr3", %str(N_CR3)
    mov ecx, N_CR3
    mov ebx, PTE_VA
.c3:
    mov eax, cr3
    mov cr3, eax
    mov edx, [ebx]
    dec ecx
    jnz .c3
    PHASE "cr3", %str(N_CR3)

    mov esi, msg_done
    call com_str
    mov al, EXIT_PASS
    out EXIT_PORT, al
.h: hlt
    jmp .h

leaf:
    ret

; sys_handler: INT 0x80 (DPL-3 interrupt gate): straight back.
sys_handler:
    iretd

; de_handler: #DE from the 2-byte DIV: resume after it.
de_handler:
    add dword [esp], 2
    iretd

; pf_handler: #PF from the 2-byte MOV: drop the error code, resume after it.
pf_handler:
    add esp, 4
    add dword [esp], 2
    iretd

; com_init: COM1 at 115200 baud (divisor 1), 8N1, FIFO on, no interrupts.
com_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; IER = 0
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                          ; DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                          ; DLL = 1
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; DLM = 0
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                          ; 8N1
    mov dx, COM1 + 2
    mov al, 0x07
    out dx, al                          ; FIFO on, cleared
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al                          ; DTR, RTS
    ret

; com_str: ESI = NUL-terminated string -> COM1, polling LSR.THRE per byte.
com_str:
    push eax
    push edx
    push esi
.l: lodsb
    test al, al
    jz .d
    mov ah, al
    mov dx, COM1 + 5
.w: in al, dx
    test al, 0x20
    jz .w
    mov dx, COM1
    mov al, ah
    out dx, al
    jmp .l
.d: pop esi
    pop edx
    pop eax
    ret

section .data
msg_hello:  db "nanobench: start", 10, 0
msg_paging: db "nanobench: paging on", 10, 0
msg_done:   db "DONE", 10, 0

section .bss
alignb 4096
page_dir:    resb 4096
page_tables: resb 8192
buf_a:       resb 4096
buf_b:       resb 4096
%include "end.inc"
