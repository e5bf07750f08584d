; string_pf -- REP string instructions interrupted by a page fault in the
; middle: the #PF is a fault on the REP instruction (saved EIP = its first
; prefix byte), ECX/ESI/EDI reflect exactly the iterations done, CR2 and the
; error code are right, and after the handler maps the page the restarted
; instruction finishes with the right final registers and data. Covers
; REP MOVSD forward (fault on the write), REP MOVSD backward (DF=1, fault on
; the read), REP STOSB, and REPE CMPSB (fault on the ES:EDI operand).
%define GUEST_NAME "string_pf"
%include "guest.inc"

PTE_P equ 1
PTE_RW equ 2
FRAME0 equ 0x500000         ; VA 0x800000 + n*4K -> FRAME0 + n*4K

%define PTE(va) (pt2 + (((va) >> 12) & 0x3FF) * 4)

%macro UNMAP 1
    mov dword [PTE(%1)], 0
    invlpg [%1]
%endmacro

; the #PF hook: record the frame, map the faulting page (identity within
; the 0x800000 window: frame = FRAME0 + offset, or the alias frame for
; pages listed in alias_va), return to restart the instruction
pf_hook:
    cmp dword [ebp + F_VEC], 14
    jne .no
    inc dword [pf_count]
    mov eax, cr2
    mov [pf_cr2], eax
    mov eax, [ebp + F_ERR]
    mov [pf_err], eax
    mov eax, [ebp + F_EIP]
    mov [pf_eip], eax
    mov eax, [ebp + F_ECX]
    mov [pf_ecx], eax
    mov eax, [ebp + F_ESI]
    mov [pf_esi], eax
    mov eax, [ebp + F_EDI]
    mov [pf_edi], eax
    mov eax, cr2
    and eax, ~0xFFF
    mov ebx, eax
    sub ebx, 0x800000
    add ebx, FRAME0
    cmp eax, [alias_va]
    jne .map
    mov ebx, [alias_frame]
.map:
    or ebx, PTE_P | PTE_RW
    mov ecx, eax
    shr ecx, 12
    and ecx, 0x3FF
    mov [pt2 + ecx * 4], ebx
    invlpg [eax]
    xor eax, eax
    ret
.no:mov eax, 1
    ret

test_main:
    ; paging: 0..4M identity (4K pages), 4..8M identity (4M page),
    ; 0x800000.. -> FRAME0.. (4K pages in pt2)
    mov edi, pt0
    mov eax, PTE_P | PTE_RW
    mov ecx, 1024
.l0:stosd
    add eax, 0x1000
    loop .l0
    mov edi, pt2
    mov eax, FRAME0 | PTE_P | PTE_RW
    mov ecx, 16
.l2:stosd
    add eax, 0x1000
    loop .l2
    mov dword [pgdir], pt0 + (PTE_P | PTE_RW)
    mov dword [pgdir + 4], 0x400000 | 0x83
    mov dword [pgdir + 8], pt2 + (PTE_P | PTE_RW)
    ; fill frames 0..15 with a position pattern (paging off: physical)
    mov edi, FRAME0
    mov ecx, 16 * 1024
    mov eax, 0x800000
.f: stosd
    add eax, 4
    loop .f
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov eax, pgdir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword [exc_hook], pf_hook

    ; ---- A: REP MOVSD forward, fault writing page 0x803000
    UNMAP 0x803000
    mov esi, 0x800000
    mov edi, 0x802C00
    mov ecx, 0x200
    cld
.a: rep movsd
    CHECK dword [pf_count], 1, "A: one page fault"
    CHECK dword [pf_eip], .a, "A: saved EIP = the REP prefix"
    CHECK dword [pf_err], 2, "A: error code (write, not present)"
    CHECK dword [pf_cr2], 0x803000, "A: CR2"
    CHECK dword [pf_ecx], 0x100, "A: ECX at the fault"
    CHECK dword [pf_esi], 0x800400, "A: ESI at the fault"
    CHECK dword [pf_edi], 0x803000, "A: EDI at the fault"
    CHECK ecx, 0, "A: final ECX"
    CHECK esi, 0x800800, "A: final ESI"
    CHECK edi, 0x803400, "A: final EDI"
    CHECK dword [0x802C00], 0x800000, "A: first dword copied"
    CHECK dword [0x802FFC], 0x8003FC, "A: last dword before the fault"
    CHECK dword [0x803000], 0x800400, "A: first dword after the restart"
    CHECK dword [0x8033FC], 0x8007FC, "A: last dword"
    CHECK dword [0x803400], 0x803400, "A: nothing written past the end"

    ; ---- B: REP MOVSD backward (DF=1), fault reading page 0x803000
    UNMAP 0x803000
    mov dword [pf_count], 0
    mov esi, 0x8041FC
    mov edi, 0x8011FC
    mov ecx, 0x100
    std
.b: rep movsd
    cld
    CHECK dword [pf_count], 1, "B: one page fault"
    CHECK dword [pf_eip], .b, "B: saved EIP = the REP prefix"
    CHECK dword [pf_err], 0, "B: error code (read, not present)"
    CHECK dword [pf_cr2], 0x803FFC, "B: CR2"
    CHECK dword [pf_ecx], 0x80, "B: ECX at the fault"
    CHECK dword [pf_esi], 0x803FFC, "B: ESI at the fault"
    CHECK dword [pf_edi], 0x800FFC, "B: EDI at the fault"
    CHECK ecx, 0, "B: final ECX"
    CHECK esi, 0x803DFC, "B: final ESI"
    CHECK edi, 0x800DFC, "B: final EDI"
    CHECK dword [0x8011FC], 0x8041FC, "B: first dword copied"
    CHECK dword [0x800FFC], 0x803FFC, "B: first dword after the restart"
    CHECK dword [0x800E00], 0x803E00, "B: last dword"
    CHECK dword [0x800DFC], 0x800DFC, "B: nothing written past the end"

    ; ---- C: REP STOSB into page 0x805000
    UNMAP 0x805000
    mov dword [pf_count], 0
    mov edi, 0x804F80
    mov ecx, 0x100
    mov al, 0xAB
.c: rep stosb
    CHECK dword [pf_count], 1, "C: one page fault"
    CHECK dword [pf_eip], .c, "C: saved EIP = the REP prefix"
    CHECK dword [pf_err], 2, "C: error code"
    CHECK dword [pf_cr2], 0x805000, "C: CR2"
    CHECK dword [pf_ecx], 0x80, "C: ECX at the fault"
    CHECK dword [pf_edi], 0x805000, "C: EDI at the fault"
    CHECK ecx, 0, "C: final ECX"
    CHECK edi, 0x805080, "C: final EDI"
    CHECK dword [0x804F80], 0xABABABAB, "C: bytes before the fault"
    CHECK dword [0x80507C], 0xABABABAB, "C: bytes after the restart"
    CHECK dword [0x805080], 0x805080, "C: nothing written past the end"

    ; ---- D: REPE CMPSB over two aliases of one frame, fault on ES:EDI
    mov dword [PTE(0x808000)], (FRAME0 + 0x6000) | PTE_P | PTE_RW
    mov dword [PTE(0x809000)], (FRAME0 + 0x6000) | PTE_P | PTE_RW
    UNMAP 0x80A000
    invlpg [0x808000]
    invlpg [0x809000]
    mov dword [alias_va], 0x80A000
    mov dword [alias_frame], FRAME0 + 0x6000
    mov dword [pf_count], 0
    mov esi, 0x808F80
    mov edi, 0x809F80
    mov ecx, 0x100
.d: repe cmpsb
    CHECK_EFLAGS 0x40, 0x40, "D: all bytes equal (ZF = 1)"
    CHECK dword [pf_count], 1, "D: one page fault"
    CHECK dword [pf_eip], .d, "D: saved EIP = the REPE prefix"
    CHECK dword [pf_err], 0, "D: error code"
    CHECK dword [pf_cr2], 0x80A000, "D: CR2"
    CHECK dword [pf_ecx], 0x80, "D: ECX at the fault"
    CHECK dword [pf_esi], 0x809000, "D: ESI at the fault"
    CHECK dword [pf_edi], 0x80A000, "D: EDI at the fault"
    CHECK ecx, 0, "D: final ECX"
    CHECK esi, 0x809080, "D: final ESI"
    CHECK edi, 0x80A080, "D: final EDI"
    ; and a REPE CMPSB that stops at a difference (no fault)
    mov esi, 0x808000
    mov edi, cmpbuf
    mov ecx, 0x40
    rep movsb
    xor byte [cmpbuf + 0x10], 0xFF
    mov esi, 0x808000
    mov edi, cmpbuf
    mov ecx, 0x40
    repe cmpsb
    CHECK_EFLAGS 0x40, 0, "REPE CMPSB: ZF = 0 at the difference"
    CHECK ecx, 0x2F, "REPE CMPSB stops after the first difference"
    CHECK esi, 0x808011, "ESI after the mismatch"
    PASS

section .bss
pf_count: resd 1
pf_cr2:   resd 1
pf_err:   resd 1
pf_eip:   resd 1
pf_ecx:   resd 1
pf_esi:   resd 1
pf_edi:   resd 1
alias_va: resd 1
alias_frame: resd 1
cmpbuf:   resb 64
alignb 4096
pgdir: resd 1024
pt0:   resd 1024
pt2:   resd 1024
%include "end.inc"
