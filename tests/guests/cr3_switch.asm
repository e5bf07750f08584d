; cr3_switch -- two address spaces switched by MOV CR3: the same linear
; page maps a different frame in each, a write in one is invisible in the
; other, a page present in one is not present in the other (#PF with the
; right CR2 and error code, supervisor and user), page-table entries of the
; inactive space edited while the other runs take effect at the switch,
; and accessed/dirty bits land in the tables of the space that was active.
; Under --mode trap|vmm this exercises the VMM's shadow paging: CR3 loads
; drop the shadow, page-table writes are write-protected and re-synced,
; genuine faults are reflected with the guest's CR2.
%define GUEST_NAME "cr3_switch"
%include "guest.inc"

PG_P  equ 0x001
PG_RW equ 0x002
PG_US equ 0x004
PG_A  equ 0x020
PG_D  equ 0x040

VA_X   equ 0x800000         ; A -> FR_A, B -> FR_B (user, RW)
VA_Y   equ 0x801000         ; A -> FR_Y, B: not present
VA_S   equ 0x802000         ; A: user; B: supervisor only (-> FR_S in both)
VA_Z   equ 0x803000         ; B only, mapped later while A runs -> FR_Z
FR_A   equ 0x500000
FR_B   equ 0x501000
FR_Y   equ 0x502000
FR_S   equ 0x503000
FR_Z   equ 0x504000

%define PTEA(va) (ptA + (((va) >> 12) & 0x3FF) * 4)
%define PTEB(va) (ptB + (((va) >> 12) & 0x3FF) * 4)

test_main:
    ; 0..4 MiB identity (user pages), shared by both spaces
    mov edi, pt0
    mov eax, PG_P | PG_RW | PG_US
    mov ecx, 1024
.l0:stosd
    add eax, 0x1000
    loop .l0
    mov dword [pdA + 0 * 4], pt0 + (PG_P | PG_RW | PG_US)
    mov dword [pdB + 0 * 4], pt0 + (PG_P | PG_RW | PG_US)
    mov dword [pdA + 2 * 4], ptA + (PG_P | PG_RW | PG_US)
    mov dword [pdB + 2 * 4], ptB + (PG_P | PG_RW | PG_US)
    mov dword [PTEA(VA_X)], FR_A | PG_P | PG_RW | PG_US
    mov dword [PTEB(VA_X)], FR_B | PG_P | PG_RW | PG_US
    mov dword [PTEA(VA_Y)], FR_Y | PG_P | PG_RW | PG_US
    mov dword [PTEA(VA_S)], FR_S | PG_P | PG_RW | PG_US
    mov dword [PTEB(VA_S)], FR_S | PG_P | PG_RW
    mov dword [FR_A], 0xAAAA0001
    mov dword [FR_B], 0xBBBB0002
    mov dword [FR_Y], 0x77770003
    mov dword [FR_S], 0x55550004
    mov dword [FR_Z], 0x22220005

    ; ---- paging on in space A
    mov eax, pdA
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pg
.pg:
    CHECK dword [VA_X], 0xAAAA0001, "A: VA_X maps frame A"
    CHECK dword [VA_Y], 0x77770003, "A: VA_Y present"
    mov dword [VA_X + 4], 0x0A0A0A0A

    ; ---- switch to B
    mov eax, pdB
    mov cr3, eax
    mov eax, cr3
    CHECK eax, pdB, "CR3 reads back B"
    CHECK dword [VA_X], 0xBBBB0002, "B: VA_X maps frame B"
    CHECK dword [VA_X + 4], 0, "B: A's write is not visible"
    mov dword [VA_X + 8], 0x0B0B0B0B
    CHECK_BITS dword [PTEB(VA_X)], PG_A | PG_D, PG_A | PG_D, "B: PTE accessed and dirty"
    CHECK_BITS dword [PTEA(VA_X)], PG_D, PG_D, "A: PTE dirty from A's write"
    EXPECT 14, 0, .f1, .f1r
.f1:mov eax, [VA_Y + 0x10]
.f1r:
    EXPECT_SEEN "B: read of VA_Y (not present) -> #PF"
    CHECK dword [last_cr2], VA_Y + 0x10, "B: CR2 of the not-present read"
    EXPECT 14, 2, .f2, .f2r
.f2:mov dword [VA_Y + 0xFFC], 1
.f2r:
    EXPECT_SEEN "B: write to VA_Y (not present) -> #PF, error 2"
    CHECK dword [last_cr2], VA_Y + 0xFFC, "B: CR2 of the not-present write"
    CHECK dword [VA_S], 0x55550004, "B: supervisor read of VA_S"

    ; ---- back to A: its data is intact, B's write is not visible
    mov eax, pdA
    mov cr3, eax
    CHECK dword [VA_X + 4], 0x0A0A0A0A, "A again: own write kept"
    CHECK dword [VA_X + 8], 0, "A again: B's write is not visible"
    CHECK dword [VA_Y], 0x77770003, "A again: VA_Y present"
    ; edit B's table while A runs: map VA_Z in B only
    mov dword [PTEB(VA_Z)], FR_Z | PG_P | PG_RW | PG_US
    EXPECT 14, 0, .f3, .f3r
.f3:mov eax, [VA_Z]
.f3r:
    EXPECT_SEEN "A: VA_Z not present"
    ; edit A's own table: VA_Y now maps frame Z (INVLPG)
    mov dword [PTEA(VA_Y)], FR_Z | PG_P | PG_RW | PG_US
    invlpg [VA_Y]
    CHECK dword [VA_Y], 0x22220005, "A: remapped VA_Y after INVLPG"

    ; ---- B from ring 3: user page read, supervisor page faults
    mov eax, pdB
    mov cr3, eax
    CHECK dword [VA_Z], 0x22220005, "B: VA_Z mapped while A ran"
    TO_RING3 user, 0x3002
user:
    CHECK dword [VA_X + 8], 0x0B0B0B0B, "B ring 3: user read of VA_X"
    EXPECT 14, PG_P | PG_US, .u1, .u1r
.u1:mov eax, [VA_S + 0x20]
.u1r:
    EXPECT_SEEN "B ring 3: read of a supervisor page -> #PF, error 5"
    CHECK dword [last_cr2], VA_S + 0x20, "B ring 3: CR2 of the supervisor-page read"
    EXPECT 14, PG_US | 2, .u2, .u2r
.u2:mov dword [VA_Y + 0x30], 1
.u2r:
    EXPECT_SEEN "B ring 3: write to a not-present page -> #PF, error 6"
    CHECK dword [last_cr2], VA_Y + 0x30, "B ring 3: CR2 of the not-present write"
    TO_RING0 back

back:
    ; ---- A from ring 3: VA_S is a user page there
    mov eax, pdA
    mov cr3, eax
    TO_RING3 user2, 0x3002
user2:
    CHECK dword [VA_S], 0x55550004, "A ring 3: VA_S is a user page"
    TO_RING0 done
done:
    CHECK dword [exc_count], 5, "number of page faults taken"
    PASS

section .bss
alignb 4096
pdA:   resd 1024
pdB:   resd 1024
pt0:   resd 1024
ptA:   resd 1024
ptB:   resd 1024
%include "end.inc"
