; vga_pattern -- the window test's VGA guest (tests/display/run-display-test.sh).
; Phase 1: loads two glyphs of its own into font plane 2 (1: top half set,
; 2: left half set), its own DAC colours 0-15, and fills the 80x25 text
; screen: cell (r, c) = glyph 1, foreground c % 16, background r % 8 (blink
; off). It waits for the space bar, then phase 2: mode 13h
; programmed register by register (no BIOS), DAC entry i = (i & 63,
; (i * 3) & 63, (63 - i) & 63), pixel (x, y) = (x / 20) + 16 * (y / 25).
; A second space ends the run with PASS on the exit device.
%define GUEST_NAME "vga_pattern"
%include "guest.inc"

%macro OUTB 2
    mov dx, %1
    mov al, %2
    out dx, al
%endmacro

test_main:
    ; font plane 2, flat: SR2 map mask 4, SR4 no odd/even, GR4 read map 2,
    ; GR5 no odd/even, GR6 A0000 64K
    OUTB 0x3c4, 2
    OUTB 0x3c5, 4
    OUTB 0x3c4, 4
    OUTB 0x3c5, 6
    OUTB 0x3ce, 4
    OUTB 0x3cf, 2
    OUTB 0x3ce, 5
    OUTB 0x3cf, 0
    OUTB 0x3ce, 6
    OUTB 0x3cf, 4
    mov edi, 0xa0000 + 1 * 32   ; glyph 1: rows 0-7 set
    mov ecx, 16
.g1: mov al, 0
    cmp ecx, 8
    jbe .g1w
    mov al, 0xff
.g1w: mov [edi], al
    inc edi
    loop .g1
    mov edi, 0xa0000 + 2 * 32   ; glyph 2: left four columns
    mov ecx, 16
.g2: mov byte [edi], 0xf0
    inc edi
    loop .g2
    ; back to text: SR2 3, SR4 2, GR4 0, GR5 0x10, GR6 0x0e
    OUTB 0x3c4, 2
    OUTB 0x3c5, 3
    OUTB 0x3c4, 4
    OUTB 0x3c5, 2
    OUTB 0x3ce, 4
    OUTB 0x3cf, 0
    OUTB 0x3ce, 5
    OUTB 0x3cf, 0x10
    OUTB 0x3ce, 6
    OUTB 0x3cf, 0x0e
    ; attribute controller: palette k = k, mode control 0x04 (no blink)
    mov dx, 0x3da
    in al, dx
    xor ebx, ebx
.ap: mov dx, 0x3c0
    mov al, bl
    out dx, al
    out dx, al
    inc ebx
    cmp ebx, 16
    jb .ap
    OUTB 0x3c0, 0x10
    OUTB 0x3c0, 0x04
    OUTB 0x3c0, 0x20            ; palette source: the screen on
    ; DAC 0-15: (k * 4, 63 - k * 4, (k * 9) & 63)
    OUTB 0x3c8, 0
    xor ebx, ebx
.dac: mov dx, 0x3c9
    mov al, bl
    shl al, 2
    out dx, al
    mov al, 63
    mov cl, bl
    shl cl, 2
    sub al, cl
    out dx, al
    mov al, bl
    imul eax, eax, 9
    and al, 63
    out dx, al
    inc ebx
    cmp ebx, 16
    jb .dac
    ; text: cell (r, c) at 0xb8000 + 2 * (80 r + c)
    mov edi, 0xb8000
    xor esi, esi                ; r
.row: xor ebx, ebx              ; c
.col: mov byte [edi], 1
    mov eax, esi
    and eax, 7
    shl eax, 4
    mov ecx, ebx
    and ecx, 15
    or eax, ecx
    mov [edi + 1], al
    add edi, 2
    inc ebx
    cmp ebx, 80
    jb .col
    inc esi
    cmp esi, 25
    jb .row
    mov word [0xb8000], 0x0f02  ; cell (0, 0): glyph 2, white on black
    PRINTLN "vga_pattern: text ready"
    call wait_key

    ; mode 13h
    OUTB 0x3c2, 0x63
    mov esi, tbl_sr
    xor ebx, ebx
.sr: OUTB 0x3c4, bl
    mov al, [esi + ebx]
    mov dx, 0x3c5
    out dx, al
    inc ebx
    cmp ebx, 5
    jb .sr
    OUTB 0x3d4, 0x11            ; unlock CR0-7
    OUTB 0x3d5, 0x0e
    mov esi, tbl_cr
    xor ebx, ebx
.cr: OUTB 0x3d4, bl
    mov al, [esi + ebx]
    mov dx, 0x3d5
    out dx, al
    inc ebx
    cmp ebx, 0x19
    jb .cr
    mov esi, tbl_gr
    xor ebx, ebx
.gr: OUTB 0x3ce, bl
    mov al, [esi + ebx]
    mov dx, 0x3cf
    out dx, al
    inc ebx
    cmp ebx, 9
    jb .gr
    mov dx, 0x3da
    in al, dx
    xor ebx, ebx
.ar: mov dx, 0x3c0
    mov al, bl
    out dx, al
    mov al, [tbl_ar + ebx]
    out dx, al
    inc ebx
    cmp ebx, 0x15
    jb .ar
    OUTB 0x3c0, 0x20
    ; DAC i = (i & 63, (i * 3) & 63, (63 - i) & 63)
    OUTB 0x3c8, 0
    xor ebx, ebx
.d13: mov dx, 0x3c9
    mov al, bl
    and al, 63
    out dx, al
    mov al, bl
    imul eax, eax, 3
    and al, 63
    out dx, al
    mov al, 63
    sub al, bl
    and al, 63
    out dx, al
    inc ebx
    cmp ebx, 256
    jb .d13
    ; pixels
    mov edi, 0xa0000
    xor esi, esi                ; y
.py: xor ebx, ebx               ; x
.px: mov eax, ebx
    xor edx, edx
    mov ecx, 20
    div ecx
    mov ecx, eax
    mov eax, esi
    xor edx, edx
    push ecx
    mov ecx, 25
    div ecx
    pop ecx
    shl eax, 4
    add eax, ecx
    mov [edi], al
    inc edi
    inc ebx
    cmp ebx, 320
    jb .px
    inc esi
    cmp esi, 200
    jb .py
    PRINTLN "vga_pattern: mode 13h ready"
    call wait_key
    PASS

; Waits for the space bar's press (set 1 make code 0x39: the 8042
; translates) from the 8042; other keys (the window's Ctrl+Alt) are skipped.
wait_key:
.poll: in al, 0x64
    test al, 1
    jz .poll
    in al, 0x60
    cmp al, 0x39
    jne .poll
    ret

tbl_sr: db 0x03, 0x01, 0x0f, 0x00, 0x0e
tbl_cr: db 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00
      db 0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff
tbl_gr: db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff
tbl_ar: db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c
      db 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00
%include "end.inc"
