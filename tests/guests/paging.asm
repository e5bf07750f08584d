; paging -- 32-bit paging on a P6: 4 KiB pages and a 4 MiB page (CR4.PSE),
; translation through aliases, accessed/dirty bits set by the CPU, CR0.WP,
; U/S and R/W combined across PDE and PTE, page faults with exact error code
; and CR2 (not present, write to read-only, user access to supervisor page),
; and TLB invalidation: MOV CR3 flushes non-global entries, INVLPG and a
; CR4.PGE toggle flush global ones. Whether a global entry survives a CR3
; load is NOT checked (the architecture allows any entry to be dropped at any
; time); the guest prints what it saw.
%define GUEST_NAME "paging"
%include "guest.inc"

PG_P  equ 0x001
PG_RW equ 0x002
PG_US equ 0x004
PG_A  equ 0x020
PG_D  equ 0x040
PG_PS equ 0x080
PG_G  equ 0x100

; linear test addresses (PDE 2 -> pt2) and their frames (inside the 4 MiB
; identity page at 0x400000)
VA_AL1  equ 0x800000        ; -> FR_AL
VA_AL2  equ 0x801000        ; -> FR_AL (second alias)
VA_RO   equ 0x802000        ; -> FR_RO, supervisor, read-only
VA_NP   equ 0x803000        ; not present
VA_SUP  equ 0x804000        ; -> FR_SUP, supervisor read/write
VA_GLB  equ 0x805000        ; global page -> FR_A, later FR_B
VA_NGL  equ 0x806000        ; non-global page -> FR_A, later FR_B
VA_AD   equ 0x807000        ; -> FR_AD, for accessed/dirty bits
VA_URO  equ 0x808000        ; -> FR_URO, user read-only
VA_BIG  equ 0xC00000        ; PDE 3: 4 MiB page -> 0x400000 (alias)
VA_PDS  equ 0x1000000       ; PDE 4 (supervisor, RW) -> pt4 -> FR_P4 (PTE user)
VA_PDR  equ 0x1400000       ; PDE 5 (user, read-only) -> pt4 -> FR_P4 (PTE RW)
FR_AL   equ 0x500000
FR_RO   equ 0x501000
FR_SUP  equ 0x502000
FR_A    equ 0x503000
FR_B    equ 0x504000
FR_AD   equ 0x505000
FR_URO  equ 0x506000
FR_P4   equ 0x507000

%define PTE2(va) (pt2 + (((va) >> 12) & 0x3FF) * 4)

test_main:
    ; identity map 0..4 MiB with 4 KiB user pages (the guest image, stacks,
    ; GDT/IDT/TSS live there)
    mov edi, pt0
    mov eax, PG_P | PG_RW | PG_US
    mov ecx, 1024
.l0:stosd
    add eax, 0x1000
    loop .l0
    mov dword [pgdir + 0 * 4], pt0 + (PG_P | PG_RW | PG_US)
    mov dword [pgdir + 1 * 4], 0x400000 | PG_P | PG_RW | PG_PS
    mov dword [pgdir + 2 * 4], pt2 + (PG_P | PG_RW | PG_US)
    mov dword [pgdir + 3 * 4], 0x400000 | PG_P | PG_RW | PG_PS
    mov dword [pgdir + 4 * 4], pt4 + (PG_P | PG_RW)
    mov dword [pgdir + 5 * 4], pt4 + (PG_P | PG_US)
    mov dword [PTE2(VA_AL1)], FR_AL | PG_P | PG_RW
    mov dword [PTE2(VA_AL2)], FR_AL | PG_P | PG_RW
    mov dword [PTE2(VA_RO)],  FR_RO | PG_P
    mov dword [PTE2(VA_SUP)], FR_SUP | PG_P | PG_RW
    mov dword [PTE2(VA_GLB)], FR_A | PG_P | PG_RW | PG_G
    mov dword [PTE2(VA_NGL)], FR_A | PG_P | PG_RW
    mov dword [PTE2(VA_AD)],  FR_AD | PG_P | PG_RW
    mov dword [PTE2(VA_URO)], FR_URO | PG_P | PG_US
    mov dword [pt4], FR_P4 | PG_P | PG_RW | PG_US
    ; frame contents (paging still off)
    mov dword [FR_A], 0xAAAA0001
    mov dword [FR_B], 0xBBBB0002
    mov dword [FR_RO], 0x0000C0DE
    mov dword [FR_URO], 0x00005EAD

    ; ---- enable paging: CR4.PSE, CR3, CR0.PG (WP = 0)
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov eax, pgdir
    mov cr3, eax
    mov eax, cr0
    and eax, ~0x10000
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    mov eax, cr0
    CHECK_BITS eax, 0x80000001, 0x80000001, "CR0.PG and PE set"
    mov eax, cr3
    CHECK eax, pgdir, "CR3 reads back"

    ; ---- aliases: two 4 KiB aliases and the 4 MiB alias of one frame
    mov dword [FR_AL + 0x10], 0x12345678        ; through the 4 MiB identity page
    CHECK dword [VA_AL1 + 0x10], 0x12345678, "read via 4K alias 1"
    CHECK dword [VA_AL2 + 0x10], 0x12345678, "read via 4K alias 2"
    mov dword [VA_AL2 + 0x20], 0x9ABCDEF0
    CHECK dword [VA_AL1 + 0x20], 0x9ABCDEF0, "write alias 2, read alias 1"
    CHECK dword [VA_BIG + (FR_AL - 0x400000) + 0x20], 0x9ABCDEF0, "read via the 4 MiB alias"
    mov dword [VA_BIG + (FR_AL - 0x400000) + 0xFFC], 0x0BADCAFE
    CHECK dword [VA_AL1 + 0xFFC], 0x0BADCAFE, "write 4 MiB alias, read 4K alias"

    ; ---- accessed and dirty bits (4 KiB page: PTE; 4 MiB page: PDE)
    and dword [PTE2(VA_AD)], ~(PG_A | PG_D)
    and dword [pgdir + 2 * 4], ~PG_A
    mov eax, cr3
    mov cr3, eax                    ; flush so the CPU walks again
    mov eax, [VA_AD + 8]
    CHECK_BITS dword [PTE2(VA_AD)], PG_A | PG_D, PG_A, "PTE: read sets A, not D"
    CHECK_BITS dword [pgdir + 2 * 4], PG_A, PG_A, "PDE: A set by a walk through it"
    mov dword [VA_AD + 8], 1
    CHECK_BITS dword [PTE2(VA_AD)], PG_A | PG_D, PG_A | PG_D, "PTE: write sets D"
    and dword [pgdir + 3 * 4], ~(PG_A | PG_D)
    invlpg [VA_BIG + 0x123000]
    mov eax, [VA_BIG + 0x123000]
    CHECK_BITS dword [pgdir + 3 * 4], PG_A | PG_D, PG_A, "4M PDE: read sets A, not D"
    mov [VA_BIG + 0x123000], eax
    CHECK_BITS dword [pgdir + 3 * 4], PG_A | PG_D, PG_A | PG_D, "4M PDE: write sets D"

    ; ---- CR0.WP: supervisor writes to a read-only page
    CHECK dword [VA_RO], 0x0000C0DE, "read the read-only page"
    mov dword [VA_RO + 4], 0x11111111       ; WP = 0: allowed
    CHECK dword [FR_RO + 4], 0x11111111, "WP=0: supervisor write to read-only page lands"
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    EXPECT 14, PG_P | 2, .wp1, .wp1r
.wp1: mov dword [VA_RO + 4], 0x22222222
.wp1r:
    EXPECT_SEEN "WP=1: supervisor write to read-only page -> #PF"
    CHECK dword [last_cr2], VA_RO + 4, "CR2 after WP #PF"
    CHECK dword [FR_RO + 4], 0x11111111, "faulting write did not land"
    ; read-only via the PDE (PDE 5 has R/W = 0, the PTE has R/W = 1)
    EXPECT 14, PG_P | 2, .wp2, .wp2r
.wp2: mov byte [VA_PDR + 0x33], 1
.wp2r:
    EXPECT_SEEN "WP=1: write through a read-only PDE -> #PF"
    CHECK dword [last_cr2], VA_PDR + 0x33, "CR2 after PDE read-only #PF"

    ; ---- not-present pages (supervisor)
    EXPECT 14, 0, .np1, .np1r
.np1: mov eax, [VA_NP + 0x444]
.np1r:
    EXPECT_SEEN "supervisor read of not-present page"
    CHECK dword [last_cr2], VA_NP + 0x444, "CR2 after not-present read"
    EXPECT 14, 2, .np2, .np2r
.np2: mov dword [VA_NP + 0xFFC], eax
.np2r:
    EXPECT_SEEN "supervisor write to not-present page"
    CHECK dword [last_cr2], VA_NP + 0xFFC, "CR2 after not-present write"
    EXPECT 14, 0, .np3, .np3r
.np3: mov eax, [0x3000000]           ; PDE 12 not present
.np3r:
    EXPECT_SEEN "supervisor read with a not-present PDE"
    CHECK dword [last_cr2], 0x3000000, "CR2 after not-present PDE"

    ; ---- user mode
    TO_RING3 user, 0x3002
user:
    CHECK dword [VA_URO], 0x00005EAD, "user read of user read-only page"
    EXPECT 14, PG_P | PG_US, .u1, .u1r
.u1:mov eax, [VA_SUP]
.u1r:
    EXPECT_SEEN "user read of supervisor page"
    CHECK dword [last_cr2], VA_SUP, "CR2 after user read of supervisor page"
    EXPECT 14, PG_P | PG_US | 2, .u2, .u2r
.u2:mov dword [VA_SUP + 0x100], 5
.u2r:
    EXPECT_SEEN "user write to supervisor page"
    CHECK dword [last_cr2], VA_SUP + 0x100, "CR2 after user write of supervisor page"
    EXPECT 14, PG_P | PG_US | 2, .u3, .u3r
.u3:mov dword [VA_URO + 0x10], 5
.u3r:
    EXPECT_SEEN "user write to user read-only page"
    EXPECT 14, PG_US, .u4, .u4r
.u4:mov eax, [VA_NP + 8]
.u4r:
    EXPECT_SEEN "user read of not-present page"
    CHECK dword [last_cr2], VA_NP + 8, "CR2 after user not-present read"
    EXPECT 14, PG_US | 2, .u5, .u5r
.u5:mov dword [VA_NP + 12], 1
.u5r:
    EXPECT_SEEN "user write to not-present page"
    EXPECT 14, PG_P | PG_US, .u6, .u6r
.u6:mov eax, [VA_PDS + 0x40]          ; PTE user, PDE supervisor
.u6r:
    EXPECT_SEEN "user read through a supervisor PDE"
    CHECK dword [last_cr2], VA_PDS + 0x40, "CR2 after supervisor-PDE fault"
    mov eax, [VA_PDR + 0x40]        ; PDE user read-only, PTE user RW: read OK
    EXPECT 14, PG_P | PG_US | 2, .u7, .u7r
.u7:mov [VA_PDR + 0x40], eax
.u7r:
    EXPECT_SEEN "user write through a read-only PDE"
    TO_RING0 tlb

    ; ---- TLB: global and non-global entries
tlb:
    mov eax, cr4
    or eax, 0x80                    ; PGE
    mov cr4, eax
    CHECK dword [VA_GLB], 0xAAAA0001, "global page maps frame A"
    CHECK dword [VA_NGL], 0xAAAA0001, "non-global page maps frame A"
    mov dword [PTE2(VA_GLB)], FR_B | PG_P | PG_RW | PG_G
    mov dword [PTE2(VA_NGL)], FR_B | PG_P | PG_RW
    mov eax, cr3
    mov cr3, eax
    CHECK dword [VA_NGL], 0xBBBB0002, "MOV CR3 flushed the non-global entry"
    PRINT "info: after MOV CR3 the global page maps frame "
    cmp dword [VA_GLB], 0xAAAA0001
    jne .gnew
    PRINTLN "A (stale entry kept)"
    jmp .gdone
.gnew:
    PRINTLN "B (entry was not kept)"
.gdone:
    invlpg [VA_GLB]
    CHECK dword [VA_GLB], 0xBBBB0002, "INVLPG flushed the global entry"
    mov dword [PTE2(VA_NGL)], FR_A | PG_P | PG_RW
    invlpg [VA_NGL + 0x800]
    CHECK dword [VA_NGL], 0xAAAA0001, "INVLPG flushed the non-global entry"
    mov dword [PTE2(VA_GLB)], FR_A | PG_P | PG_RW | PG_G
    mov eax, cr4
    and eax, ~0x80
    mov cr4, eax
    or eax, 0x80
    mov cr4, eax
    CHECK dword [VA_GLB], 0xAAAA0001, "CR4.PGE toggle flushed the global entry"
    ; a PTE changed from present to not present must fault after INVLPG
    mov dword [PTE2(VA_AL1)], 0
    invlpg [VA_AL1]
    EXPECT 14, 0, .t1, .t1r
.t1:mov eax, [VA_AL1]
.t1r:
    EXPECT_SEEN "read after unmapping + INVLPG faults"
    CHECK dword [VA_AL2 + 0x10], 0x12345678, "other alias still maps"

    CHECK dword [exc_count], 13, "number of page faults taken"
    PASS

section .bss
alignb 4096
pgdir: resd 1024
pt0:   resd 1024
pt2:   resd 1024
pt4:   resd 1024
%include "end.inc"
