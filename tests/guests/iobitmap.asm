; iobitmap -- the TSS I/O permission bitmap at CPL 3 with IOPL 0: allowed and
; denied ports (#GP(0)), byte/word/dword accesses where every byte's bit must
; be clear (an access straddling an allowed and a denied port faults, also
; across a bitmap byte boundary), IN/OUT imm8 and DX forms, INS/OUTS, the TSS
; limit (the CPU reads two bitmap bytes, so the byte at the limit already
; faults and the trailing 0xFF byte must lie within the limit), an I/O map
; base beyond the limit (no bitmap: everything faults), and that IOPL 3 or
; CPL 0 bypasses the bitmap.
%define GUEST_NAME "iobitmap"
%include "guest.inc"

P       equ 0x110           ; a block of unassigned ports used for reads

; reload_tr: ECX = TSS limit -> rewrite the KTSS descriptor and LTR again
reload_tr:
    pushad
    mov eax, KTSS
    mov ebx, ktss
    mov dl, ACC_TSS
    mov dh, 0
    call gdt_set
    mov ax, KTSS
    ltr ax
    popad
    ret

%macro ALLOW 1
    mov edx, %1
    call iomap_allow
%endmacro
%macro DENY 1
    mov edx, %1
    call iomap_deny
%endmacro
; GPF "name", instruction -- the instruction must raise #GP(0)
%macro GPF 2+
    EXPECT 13, 0, %%f, %%r
%%f: %2
%%r:
    EXPECT_SEEN %1
%endmacro

test_main:
    ALLOW DBG_PORT
    ALLOW P
    ALLOW P + 2
    ALLOW P + 3
    ALLOW P + 7                     ; P+7 (byte 0x22) and P+8 (byte 0x23)
    ALLOW P + 8
    ALLOW 0x179                     ; byte 0x2F
    ALLOW 0x181                     ; byte 0x30
    ALLOW 0x200                     ; byte 0x40
    ALLOW 0xFFFF                    ; last bit of the bitmap (byte 8191)
    TO_RING3 user1, 0x0002          ; IOPL 0

user1:
    mov al, '*'
    out DBG_PORT, al                ; allowed: prints
    mov al, 10
    out DBG_PORT, al
    mov dx, P
    in al, dx
    GPF "IN AL from a denied port", in al, 0x80
    mov dx, P + 1
    GPF "IN AL, DX from a denied port", in al, dx
    mov dx, P
    GPF "IN AX straddling allowed P and denied P+1", in ax, dx
    mov dx, P + 2
    in ax, dx                       ; P+2, P+3 allowed
    GPF "IN EAX with P+4, P+5 denied", in eax, dx
    mov dx, P + 7
    in ax, dx                       ; P+7, P+8: across a bitmap byte boundary
    mov dx, P + 6
    GPF "IN AX with P+6 denied", in ax, dx
    mov dx, DBG_PORT
    mov esi, star
    outsb                           ; allowed
    mov al, 10
    out DBG_PORT, al
    mov dx, P + 1
    GPF "OUTSB to a denied port", outsb
    mov dx, P
    mov edi, inbuf
    mov ecx, 4
    rep insb                        ; allowed
    CHECK ecx, 0, "REP INSB from an allowed port completed"
    mov dx, P + 1
    mov ecx, 4
    GPF "REP INSB from a denied port", rep insb
    CHECK ecx, 4, "REP INSB faulted before the first iteration"
    mov dx, 0xFFFF
    in al, dx                       ; needs bytes 8191 and 8192 (the 0xFF byte)
    TO_RING0 ring0b

ring0b:
    ; ---- CPL 0 ignores the bitmap
    mov dx, P + 1
    in al, dx
    ; ---- limit = base + 0x30: bitmap bytes 0..0x30 are inside it
    mov ecx, TSS_SIZE + 0x30
    call reload_tr
    TO_RING3 user2, 0x0002
user2:
    mov dx, P
    in al, dx                       ; byte 0x22: fine
    mov dx, 0x179
    in al, dx                       ; byte 0x2F (+0x30): inside the limit
    mov dx, 0x181
    GPF "port whose bitmap byte is at the limit (second byte beyond it)", in al, dx
    mov dx, 0x200
    GPF "port whose bitmap byte is beyond the limit", in al, dx
    TO_RING0 ring0c

ring0c:
    ; ---- the trailing 0xFF byte outside the limit: port 0xFFFF faults
    mov ecx, TSS_SIZE + IOMAP_BYTES - 1
    call reload_tr
    TO_RING3 user3, 0x0002
user3:
    mov dx, 0xFFFF
    GPF "port 0xFFFF without the trailing byte inside the limit", in al, dx
    mov dx, P
    in al, dx
    TO_RING0 ring0d

ring0d:
    ; ---- I/O map base beyond the limit: no bitmap, every port faults
    mov ecx, TSS_SIZE + IOMAP_BYTES
    call reload_tr
    mov word [ktss + TSS_IOMAP], TSS_SIZE + IOMAP_BYTES + 8
    TO_RING3 user4, 0x0002
user4:
    mov dx, P
    GPF "I/O map base beyond the TSS limit", in al, dx
    GPF "OUT to 0xE9 with no bitmap", out DBG_PORT, al
    TO_RING0 ring0e

ring0e:
    ; ---- IOPL 3: the bitmap is not consulted at CPL 3
    TO_RING3 user5, 0x3002
user5:
    mov dx, P + 1
    in al, dx
    in al, 0x80 + 0x0F
    TO_RING0 done
done:
    mov word [ktss + TSS_IOMAP], TSS_SIZE
    CHECK dword [exc_count], 12, "number of #GP taken"
    PASS

section .data
star: db '*', 0
section .bss
inbuf: resb 16
%include "end.inc"
