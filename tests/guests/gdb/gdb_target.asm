; gdb_target.asm -- the guest tests/test-gdb.sh debugs through --gdb: an ELF
; Multiboot kernel with symbols (nasm -f elf32, ld -m elf_i386), so gdb can
; break at `compute`, step through it, read `message`, watch `counter` and
; read the x87 stack bump leaves, and let it run to its exit (status 33).
; With `spin` set to 1 (by the debugger) it loops forever at `spin_loop`
; instead, for Ctrl-C.
bits 32
section .text
align 4
mb_header:
    dd 0x1BADB002, 0, -0x1BADB002

global _start, compute, bump, spin_loop
_start:
    mov esp, stack_top
    mov eax, 0x11111111
    call compute
    mov ecx, 3
.again:
    call bump
    loop .again
    cmp dword [spin], 0
    jne spin_loop
    mov al, 0x10
    out 0xf4, al
    hlt

compute:
    mov eax, 0x1234abcd             ; 5 bytes: stepi lands on the next line
    mov ebx, 0x42
    fninit                          ; an empty x87 stack for bump's fld1s
    ret

bump:
    inc dword [counter]
    fld1                            ; for gdb's x87 view: three 1.0s by the end
    ret

spin_loop:
    jmp spin_loop

section .data
global message, counter, spin
message: db "hello from the guest", 0
align 4
counter: dd 0
spin:    dd 0

section .bss
    resb 4096
stack_top:
