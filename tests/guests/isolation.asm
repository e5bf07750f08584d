; isolation -- memory isolation between VMs: the guest writes a marker
; carrying its own id at the start of every page of the guest-physical space
; it can reach (0 up to 0xFFC00000, all of RAM and what lies beyond it,
; skipping only its own image), waits, then scans all of it (every page's
; first dword, and every dword of RAM) for markers. It must find its own
; marker on every RAM page it wrote (the scan works) and never another id
; (no other VM's memory is reachable). Several copies run side by side in
; one process (tests/test-multi.sh), each with its own id.
;
; Command line (--append): its last two characters are the id (any
; character) and '1' when the VM runs deprivileged (trap, vmm): then a
; write at 0xFFC00000, the VMM's region, must fault (#GP: the segments end
; below it). Without --append the kernel's path ends the command line, and
; its last two characters serve (not '1': no VMM-region check).
%define GUEST_NAME "isolation"
%include "guest.inc"

MAGIC_X   equ 0x48524d4c      ; the marker's magic XOR 0x01010101, so the
                              ; magic itself is never in the image
VMM_BASE  equ 0xffc00000
WAIT_LOOPS equ 5000000

test_main:
    ; --- the id and the mode, from the Multiboot command line
    mov byte [my_id], '0'
    mov byte [depriv], '0'
    mov ebx, [mb_info]
    test dword [ebx], 4
    jz .no_cmdline
    mov esi, [ebx + 16]
    xor ecx, ecx
.len:
    cmp byte [esi + ecx], 0
    je .got_len
    inc ecx
    jmp .len
.got_len:
    cmp ecx, 2
    jb .no_cmdline
    mov al, [esi + ecx - 2]
    mov [my_id], al
    mov al, [esi + ecx - 1]
    mov [depriv], al
.no_cmdline:
    ; RAM size: mem_upper KiB above 1 MiB (Multiboot flag bit 0)
    test dword [ebx], 1
    jnz .mem
    FAIL "no memory size in the Multiboot information"
.mem:
    mov eax, [ebx + 8]
    add eax, 1024
    shl eax, 10
    mov [ram_end], eax
    mov eax, _bss_end           ; pages of the image, never written
    sub eax, 0x100000 - 4095
    shr eax, 12
    mov [own_pages], eax
    mov eax, MAGIC_X
    xor eax, 0x01010101
    mov [magic], eax
    PRINT "id "
    movzx eax, byte [my_id]
    call print_char
    call print_nl

    ; --- 1. write the marker at the start of every reachable page
    xor edi, edi
    xor ecx, ecx                ; pages written
.write:
    call own_page
    jc .wnext
    mov eax, [magic]
    mov [edi], eax
    movzx eax, byte [my_id]
    mov [edi + 4], eax
    inc ecx
.wnext:
    add edi, 4096
    cmp edi, VMM_BASE
    jb .write
    mov [written], ecx

    ; --- 2. give the VMs beside it time to write theirs
    mov ecx, WAIT_LOOPS
.wait:
    dec ecx
    jnz .wait

    ; --- 3a. every page's first dword, everywhere
    xor edi, edi
.scan_pages:
    call own_page
    jc .pnext
    mov eax, [magic]
    cmp [edi], eax
    jne .pnext
    call check_marker
.pnext:
    add edi, 4096
    cmp edi, VMM_BASE
    jb .scan_pages

    mov eax, [found_own]
    mov [found_pages], eax
    mov dword [found_own], 0

    ; --- 3b. every dword of RAM (a marker at any offset), but the VGA
    ; window 0xA0000-0xBFFFF, which is the VGA's memory, not RAM
    xor edi, edi
    mov ecx, 0xa0000 / 4
    call scan_range
    mov edi, 0xc0000
    mov ecx, [ram_end]
    sub ecx, edi
    shr ecx, 2
    call scan_range

    ; --- the scans work: 3b found its own marker on every RAM page written
    ; (all pages below ram_end but the image and the VGA window), and 3a at
    ; least those (device memory beyond RAM may keep markers too)
    mov eax, [ram_end]
    shr eax, 12
    sub eax, [own_pages]
    sub eax, 32                 ; the VGA window's pages
    CHECK dword [found_own], eax, "own markers found in RAM (one per page written)"
    cmp [found_pages], eax
    jae .pages_ok
    FAIL "the page scan found fewer own markers than the RAM scan"
.pages_ok:
    PRINT "markers: wrote "
    mov eax, [written]
    call print_hex32
    PRINT " pages; found own in RAM "
    mov eax, [found_own]
    call print_hex32
    PRINT ", on all pages "
    mov eax, [found_pages]
    call print_hex32
    PRINT "; another VM's: none"
    call print_nl

    ; --- 4. deprivileged: the VMM's region is out of reach
    cmp byte [depriv], '1'
    jne .done
    EXPECT 13, 0, -1, .after_gp
    mov dword [VMM_BASE], 0x12345678
    FAIL "a write at 0xFFC00000 (the VMM's region) did not fault"
.after_gp:
    EXPECT_SEEN "#GP writing the VMM's region"
    PRINTLN "VMM region: #GP"
.done:
    PASS

; CF = 1 when the page at EDI belongs to this guest's image (1 MiB up to the
; end of its bss): never written. Counts such RAM pages once, in own_pages.
own_page:
    cmp edi, 0x100000
    jb .no
    cmp edi, _bss_end
    jae .no
    stc
    ret
.no:
    clc
    ret

; Every dword of [EDI, EDI + 4 * ECX) equal to the magic is a marker (REPNE
; SCASD finds them: one instruction per dword searched).
scan_range:
    mov eax, [magic]
.next:
    jecxz .done
    repne scasd
    jne .done                   ; ECX ran out without a match
    sub edi, 4
    push eax
    call own_page
    jc .skip
    call check_marker
.skip:
    pop eax
    add edi, 4
    jmp .next
.done:
    ret

; A marker at EDI: ours counts, another id fails.
check_marker:
    movzx eax, byte [my_id]
    cmp [edi + 4], eax
    jne .other
    inc dword [found_own]
    ret
.other:
    PRINT "FAIL: another VM's marker at "
    mov eax, edi
    call print_hex32
    PRINT ": id "
    mov eax, [edi + 4]
    call print_hex32
    call print_nl
    mov al, EXIT_FAIL
    out EXIT_PORT, al
    jmp $

section .bss
my_id:     resd 1
depriv:    resd 1
ram_end:   resd 1
magic:     resd 1
written:   resd 1
found_own: resd 1
found_pages: resd 1
own_pages: resd 1

%include "end.inc"
