; mbboot.asm -- a minimal floppy boot sector that loads a Multiboot v1
; a.out-kludge kernel (stored from sector 2 on, at most 64 sectors) the way a
; Multiboot loader would: copy to load_addr, zero the bss, EAX = 0x2BADB002,
; EBX = an (empty) info structure, flat 32-bit protected mode, IF = 0.
; Used only to cross-check guests on Bochs (run-bochs.sh), which has no
; built-in Multiboot loader.
bits 16
org 0x7C00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [drive], dl
    mov ax, 0x1000
    mov es, ax
.next:
    mov ax, [lba]
    xor dx, dx
    mov cx, 18
    div cx                          ; ax = lba / 18, dx = lba % 18
    mov cl, dl
    inc cl                          ; sector
    xor dx, dx
    mov si, 2
    div si                          ; ax = cylinder, dx = head
    mov ch, al
    mov dh, dl
    mov dl, [drive]
    mov ax, 0x0201
    xor bx, bx
    int 0x13
    jc error
    mov ax, es
    add ax, 0x20
    mov es, ax
    inc word [lba]
    cmp word [lba], 65
    jb .next
    in al, 0x92                     ; A20 on
    or al, 2
    and al, 0xFE
    out 0x92, al
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm
error:
    mov al, '!'
    out 0xE9, al
    hlt
    jmp error

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, 0x7C00
    mov esi, 0x10000
.f: cmp dword [esi], 0x1BADB002
    je .found
    add esi, 4
    cmp esi, 0x12000
    jb .f
    jmp error
.found:
    mov ebx, esi
    sub ebx, 0x10000                ; file offset of the header
    mov eax, [esi + 12]
    sub eax, [esi + 16]             ; header_addr - load_addr
    sub ebx, eax                    ; file offset of load_addr
    add ebx, 0x10000
    mov edi, [esi + 16]
    mov ecx, [esi + 20]
    sub ecx, edi
    push esi
    mov esi, ebx
    cld
    rep movsb
    pop esi
    mov edi, [esi + 20]
    mov ecx, [esi + 24]
    sub ecx, edi
    jbe .nobss
    xor al, al
    rep stosb
.nobss:
    mov dword [0x500], 0            ; multiboot info: flags = 0
    mov eax, 0x2BADB002
    mov ebx, 0x500
    jmp [esi + 28]

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdtr:
    dw gdtr - gdt - 1
    dd gdt
drive: db 0
lba:   dw 1
times 510 - ($ - $$) db 0
dw 0xAA55
