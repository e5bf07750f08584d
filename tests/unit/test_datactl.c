/*
 * Unit tests of the data-movement, stack, near-branch, string and flag
 * instructions (cpu/mov.c, cpu/stack.c, cpu/branch.c, cpu/string.c), in real
 * mode and in 32-bit flat protected mode.
 *
 * The code snippets below were assembled with nasm from the source shown
 * above each array. Real-mode code runs at 0x1000 with SS:SP = 0:FFFE;
 * 32-bit code at 0x1000 with ESP = 0x80000.
 *
 * Faults: most tests that look at a fault use step(), which runs one
 * instruction the way cpu_run does (decode, advance EIP, call the handler)
 * under its own fault catcher and on a fault restores EIP and ESP exactly as
 * the run loop does; the vector, error code and registers can then be read
 * directly, with no handler in the way. A few tests check delivery through
 * the IVT or IDT with the normal run loop.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "harness.h"

#define CODE 0x1000u
#define STACK32 0x80000u
#define NO_FAULT (-1)

/* ------------------------------------------------------------------------- */
/*
 * org 0x1000
 * mov ax, 0x1234
 * mov bl, 0x56
 * mov [0x2000], ax
 * mov [0x2002], bl
 * mov cx, [0x2000]
 * mov dl, [0x2002]
 * mov byte [0x2003], 0x9a
 * mov word [0x2004], 0xbeef
 * mov al, [0x2003]
 * mov [0x2006], al
 * mov [0x2008], ax
 * mov si, [0x2004]
 * movzx ebp, byte [0x2003]
 * movsx edi, byte [0x2003]
 * movsx sp, byte [0x2002]
 * movzx bx, byte [0x2003]
 * hlt
 */
static const uint8_t c_mov16[] = {
    0xb8, 0x34, 0x12, 0xb3, 0x56, 0xa3, 0x00, 0x20, 0x88, 0x1e, 0x02, 0x20, 0x8b, 0x0e, 0x00,
    0x20, 0x8a, 0x16, 0x02, 0x20, 0xc6, 0x06, 0x03, 0x20, 0x9a, 0xc7, 0x06, 0x04, 0x20, 0xef,
    0xbe, 0xa0, 0x03, 0x20, 0xa2, 0x06, 0x20, 0xa3, 0x08, 0x20, 0x8b, 0x36, 0x04, 0x20, 0x66,
    0x0f, 0xb6, 0x2e, 0x03, 0x20, 0x66, 0x0f, 0xbe, 0x3e, 0x03, 0x20, 0x0f, 0xbe, 0x26, 0x02,
    0x20, 0x0f, 0xb6, 0x1e, 0x03, 0x20, 0xf4,
};

/*
 * org 0x1000
 * mov eax, 0x12345678
 * mov [0x10000], eax
 * mov ebx, [0x10000]
 * mov ecx, 0x10000
 * mov dword [ecx+4], 0xcafebabe
 * mov dx, [ecx+4]
 * mov word [ecx+8], 0x8001
 * movsx esi, word [ecx+8]
 * movzx edi, word [ecx+8]
 * mov ax, [0x10004]
 * mov [0x1000c], ax
 * mov ebp, 0xffffffff
 * mov bp, 0x1111
 * hlt
 */
static const uint8_t c_mov32[] = {
    0xb8, 0x78, 0x56, 0x34, 0x12, 0xa3, 0x00, 0x00, 0x01, 0x00, 0x8b, 0x1d, 0x00, 0x00, 0x01,
    0x00, 0xb9, 0x00, 0x00, 0x01, 0x00, 0xc7, 0x41, 0x04, 0xbe, 0xba, 0xfe, 0xca, 0x66, 0x8b,
    0x51, 0x04, 0x66, 0xc7, 0x41, 0x08, 0x01, 0x80, 0x0f, 0xbf, 0x71, 0x08, 0x0f, 0xb7, 0x79,
    0x08, 0x66, 0xa1, 0x04, 0x00, 0x01, 0x00, 0x66, 0xa3, 0x0c, 0x00, 0x01, 0x00, 0xbd, 0xff,
    0xff, 0xff, 0xff, 0x66, 0xbd, 0x11, 0x11, 0xf4,
};

/*
 * mov bx, 0xfff0
 * mov si, 0x0020
 * lea ax, [bx+si+4]
 * lea ecx, [bx+si]
 * mov edx, 0xaaaa0000
 * a32 lea dx, [ebx+esi*2+0x10000]
 * hlt
 */
static const uint8_t c_lea16[] = {
    0xbb, 0xf0, 0xff, 0xbe, 0x20, 0x00, 0x8d, 0x40, 0x04, 0x66, 0x8d, 0x08, 0x66, 0xba, 0x00,
    0x00, 0xaa, 0xaa, 0x67, 0x8d, 0x94, 0x73, 0x00, 0x00, 0x01, 0x00, 0xf4,
};

/*
 * mov eax, 0x11111111
 * mov ebx, 0x22222222
 * xchg eax, ebx
 * mov dword [0x10000], 0x33333333
 * xchg [0x10000], ebx
 * mov cl, 0x44
 * mov ch, 0x55
 * xchg cl, ch
 * mov [0x10004], ecx
 * mov dx, 0xabcd
 * xchg dx, ax
 * hlt
 */
static const uint8_t c_xchg32[] = {
    0xb8, 0x11, 0x11, 0x11, 0x11, 0xbb, 0x22, 0x22, 0x22, 0x22, 0x93, 0xc7, 0x05, 0x00, 0x00,
    0x01, 0x00, 0x33, 0x33, 0x33, 0x33, 0x87, 0x1d, 0x00, 0x00, 0x01, 0x00, 0xb1, 0x44, 0xb5,
    0x55, 0x86, 0xcd, 0x89, 0x0d, 0x04, 0x00, 0x01, 0x00, 0x66, 0xba, 0xcd, 0xab, 0x66, 0x92,
    0xf4,
};

/*
 * mov eax, 0x12345680
 * cbw
 * mov [0x10000], eax
 * cwde
 * mov [0x10004], eax
 * mov edx, 0x12340000
 * mov eax, 0x8000
 * cwd
 * mov [0x10008], edx
 * mov eax, 0x80000000
 * cdq
 * mov [0x1000c], edx
 * mov eax, 0x7fffffff
 * cdq
 * hlt
 */
static const uint8_t c_cbw32[] = {
    0xb8, 0x80, 0x56, 0x34, 0x12, 0x66, 0x98, 0xa3, 0x00, 0x00, 0x01, 0x00, 0x98, 0xa3, 0x04,
    0x00, 0x01, 0x00, 0xba, 0x00, 0x00, 0x34, 0x12, 0xb8, 0x00, 0x80, 0x00, 0x00, 0x66, 0x99,
    0x89, 0x15, 0x08, 0x00, 0x01, 0x00, 0xb8, 0x00, 0x00, 0x00, 0x80, 0x99, 0x89, 0x15, 0x0c,
    0x00, 0x01, 0x00, 0xb8, 0xff, 0xff, 0xff, 0x7f, 0x99, 0xf4,
};

/*
 * mov bx, 0x2000
 * mov al, 5
 * xlatb
 * mov cl, al
 * mov al, 6
 * es xlatb
 * hlt
 */
static const uint8_t c_xlat16[] = {
    0xbb, 0x00, 0x20, 0xb0, 0x05, 0xd7, 0x88, 0xc1, 0xb0, 0x06, 0x26, 0xd7, 0xf4,
};

/*
 * mov ah, 0xd5
 * sahf
 * lahf
 * mov bl, ah
 * mov ah, 0x00
 * sahf
 * lahf
 * mov bh, ah
 * mov ah, 0x2a
 * sahf
 * lahf
 * mov cl, ah
 * hlt
 */
static const uint8_t c_lahf16[] = {
    0xb4, 0xd5, 0x9e, 0x9f, 0x88, 0xe3, 0xb4, 0x00, 0x9e, 0x9f, 0x88, 0xe7, 0xb4, 0x2a, 0x9e,
    0x9f, 0x88, 0xe1, 0xf4,
};

/*
 * mov eax, 5
 * mov dword [0x10000], 5
 * mov ecx, 9
 * cmpxchg [0x10000], ecx
 * lahf
 * mov [0x10010], ah
 * cmpxchg [0x10000], ecx
 * lahf
 * mov [0x10011], ah
 * mov [0x10014], eax
 * mov al, 7
 * mov dl, 7
 * mov bl, 0x42
 * cmpxchg dl, bl
 * mov [0x10018], dl
 * mov word [0x1001a], 0x1234
 * mov ax, 0x1234
 * mov cx, 0x4321
 * cmpxchg [0x1001a], cx
 * hlt
 */
static const uint8_t c_cmpxchg32[] = {
    0xb8, 0x05, 0x00, 0x00, 0x00, 0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00,
    0xb9, 0x09, 0x00, 0x00, 0x00, 0x0f, 0xb1, 0x0d, 0x00, 0x00, 0x01, 0x00, 0x9f, 0x88, 0x25,
    0x10, 0x00, 0x01, 0x00, 0x0f, 0xb1, 0x0d, 0x00, 0x00, 0x01, 0x00, 0x9f, 0x88, 0x25, 0x11,
    0x00, 0x01, 0x00, 0xa3, 0x14, 0x00, 0x01, 0x00, 0xb0, 0x07, 0xb2, 0x07, 0xb3, 0x42, 0x0f,
    0xb0, 0xda, 0x88, 0x15, 0x18, 0x00, 0x01, 0x00, 0x66, 0xc7, 0x05, 0x1a, 0x00, 0x01, 0x00,
    0x34, 0x12, 0x66, 0xb8, 0x34, 0x12, 0x66, 0xb9, 0x21, 0x43, 0x66, 0x0f, 0xb1, 0x0d, 0x1a,
    0x00, 0x01, 0x00, 0xf4,
};

/*
 * stc
 * mov eax, 0x11111111
 * mov edx, 0x22222222
 * mov ebx, 0x33333333
 * mov ecx, 0x44444444
 * mov dword [0x10000], 0x11111111
 * mov dword [0x10004], 0x22222222
 * cmpxchg8b [0x10000]
 * lahf
 * mov [0x10010], ah
 * mov ebx, 0x55555555
 * cmpxchg8b [0x10000]
 * lahf
 * mov [0x10011], ah
 * hlt
 */
static const uint8_t c_cmpxchg8b32[] = {
    0xf9, 0xb8, 0x11, 0x11, 0x11, 0x11, 0xba, 0x22, 0x22, 0x22, 0x22, 0xbb, 0x33, 0x33, 0x33,
    0x33, 0xb9, 0x44, 0x44, 0x44, 0x44, 0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x11, 0x11, 0x11,
    0x11, 0xc7, 0x05, 0x04, 0x00, 0x01, 0x00, 0x22, 0x22, 0x22, 0x22, 0x0f, 0xc7, 0x0d, 0x00,
    0x00, 0x01, 0x00, 0x9f, 0x88, 0x25, 0x10, 0x00, 0x01, 0x00, 0xbb, 0x55, 0x55, 0x55, 0x55,
    0x0f, 0xc7, 0x0d, 0x00, 0x00, 0x01, 0x00, 0x9f, 0x88, 0x25, 0x11, 0x00, 0x01, 0x00, 0xf4,
};

/*
 * mov eax, 0x10
 * mov dword [0x10000], 0x20
 * xadd [0x10000], eax
 * mov bl, 0xff
 * mov cl, 0x01
 * xadd cl, bl
 * lahf
 * mov dl, 3
 * xadd dl, dl
 * hlt
 */
static const uint8_t c_xadd32[] = {
    0xb8, 0x10, 0x00, 0x00, 0x00, 0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00,
    0x0f, 0xc1, 0x05, 0x00, 0x00, 0x01, 0x00, 0xb3, 0xff, 0xb1, 0x01, 0x0f, 0xc0, 0xd9, 0x9f,
    0xb2, 0x03, 0x0f, 0xc0, 0xd2, 0xf4,
};

/*
 * mov word [0x2000], 10
 * mov word [0x2002], 20
 * mov ax, 15
 * bound ax, [0x2000]
 * mov ax, 10
 * bound ax, [0x2000]
 * mov ax, 20
 * bound ax, [0x2000]
 * mov ax, 21
 * bound ax, [0x2000]
 * hlt
 */
static const uint8_t c_bound16[] = {
    0xc7, 0x06, 0x00, 0x20, 0x0a, 0x00, 0xc7, 0x06, 0x02, 0x20, 0x14, 0x00, 0xb8, 0x0f, 0x00,
    0x62, 0x06, 0x00, 0x20, 0xb8, 0x0a, 0x00, 0x62, 0x06, 0x00, 0x20, 0xb8, 0x14, 0x00, 0x62,
    0x06, 0x00, 0x20, 0xb8, 0x15, 0x00, 0x62, 0x06, 0x00, 0x20, 0xf4,
};

/*
 * mov dword [0x10000], -10
 * mov dword [0x10004], -1
 * mov eax, -5
 * bound eax, [0x10000]
 * mov eax, 0
 * bound eax, [0x10000]
 * hlt
 */
static const uint8_t c_bound32[] = {
    0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0xf6, 0xff, 0xff, 0xff, 0xc7, 0x05, 0x04, 0x00, 0x01,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xb8, 0xfb, 0xff, 0xff, 0xff, 0x62, 0x05, 0x00, 0x00, 0x01,
    0x00, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x62, 0x05, 0x00, 0x00, 0x01, 0x00, 0xf4,
};

/*
 * stc
 * lahf
 * mov bl, ah
 * cmc
 * lahf
 * mov bh, ah
 * cmc
 * clc
 * lahf
 * mov cl, ah
 * std
 * cld
 * std
 * hlt
 */
static const uint8_t c_flags16[] = {
    0xf9, 0x9f, 0x88, 0xe3, 0xf5, 0x9f, 0x88, 0xe7, 0xf5, 0xf8, 0x9f, 0x88, 0xe1, 0xfd, 0xfc,
    0xfd, 0xf4,
};

/*
 * mov ax, 0x1234
 * push ax
 * push sp
 * push word 0x5678
 * push byte -2
 * pop bx
 * pop cx
 * pop sp
 * pop dx
 * hlt
 */
static const uint8_t c_push16[] = {
    0xb8, 0x34, 0x12, 0x50, 0x54, 0x68, 0x78, 0x56, 0x6a, 0xfe, 0x5b, 0x59, 0x5c, 0x5a, 0xf4,
};

/*
 * push dword 0xaaaa
 * push esp
 * push dword 0xbbbb
 * pop dword [esp+4]
 * pop eax
 * pop ebx
 * push dword 0x1111
 * push dword [esp]
 * pop ecx
 * pop esi
 * push word 0x1234
 * push byte -1
 * pop edi
 * pop dx
 * push dword 0x12345678
 * pop esp
 * hlt
 */
static const uint8_t c_pushesp32[] = {
    0x68, 0xaa, 0xaa, 0x00, 0x00, 0x54, 0x68, 0xbb, 0xbb, 0x00, 0x00, 0x8f, 0x44, 0x24, 0x04,
    0x58, 0x5b, 0x68, 0x11, 0x11, 0x00, 0x00, 0xff, 0x34, 0x24, 0x59, 0x5e, 0x66, 0x68, 0x34,
    0x12, 0x6a, 0xff, 0x5f, 0x66, 0x5a, 0x68, 0x78, 0x56, 0x34, 0x12, 0x5c, 0xf4,
};

/*
 * mov ax, 1
 * mov cx, 2
 * mov dx, 3
 * mov bx, 4
 * mov bp, 6
 * mov si, 7
 * mov di, 8
 * pusha
 * mov word [0xfff4], 0x5555
 * mov ax, 0
 * mov cx, 0
 * mov dx, 0
 * mov bx, 0
 * mov bp, 0
 * mov si, 0
 * mov di, 0
 * popa
 * hlt
 */
static const uint8_t c_pusha16[] = {
    0xb8, 0x01, 0x00, 0xb9, 0x02, 0x00, 0xba, 0x03, 0x00, 0xbb, 0x04, 0x00, 0xbd, 0x06, 0x00,
    0xbe, 0x07, 0x00, 0xbf, 0x08, 0x00, 0x60, 0xc7, 0x06, 0xf4, 0xff, 0x55, 0x55, 0xb8, 0x00,
    0x00, 0xb9, 0x00, 0x00, 0xba, 0x00, 0x00, 0xbb, 0x00, 0x00, 0xbd, 0x00, 0x00, 0xbe, 0x00,
    0x00, 0xbf, 0x00, 0x00, 0x61, 0xf4,
};

/*
 * mov eax, 1
 * mov ecx, 2
 * mov edx, 3
 * mov ebx, 4
 * mov ebp, 6
 * mov esi, 7
 * mov edi, 8
 * pushad
 * hlt
 */
static const uint8_t c_pushad32[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xba, 0x03, 0x00, 0x00, 0x00,
    0xbb, 0x04, 0x00, 0x00, 0x00, 0xbd, 0x06, 0x00, 0x00, 0x00, 0xbe, 0x07, 0x00, 0x00, 0x00,
    0xbf, 0x08, 0x00, 0x00, 0x00, 0x60, 0xf4,
};

/*
 * mov ebp, 0x70000
 * enter 16, 3
 * hlt
 * leave
 * hlt
 */
static const uint8_t c_enter32[] = {
    0xbd, 0x00, 0x00, 0x07, 0x00, 0xc8, 0x10, 0x00, 0x03, 0xf4, 0xc9, 0xf4,
};

/*
 * mov bp, 0x8000
 * enter 4, 2
 * mov [0x3000], sp
 * mov [0x3002], bp
 * leave
 * mov [0x3004], sp
 * mov [0x3006], bp
 * enter 8, 0
 * mov [0x3008], sp
 * mov [0x300a], bp
 * leave
 * enter 0, 1
 * hlt
 */
static const uint8_t c_enter16[] = {
    0xbd, 0x00, 0x80, 0xc8, 0x04, 0x00, 0x02, 0x89, 0x26, 0x00, 0x30, 0x89, 0x2e, 0x02, 0x30,
    0xc9, 0x89, 0x26, 0x04, 0x30, 0x89, 0x2e, 0x06, 0x30, 0xc8, 0x08, 0x00, 0x00, 0x89, 0x26,
    0x08, 0x30, 0x89, 0x2e, 0x0a, 0x30, 0xc9, 0xc8, 0x00, 0x00, 0x01, 0xf4,
};

/*
 * org 0x1000
 * mov ah, 0x40
 * sahf
 * jz .l1
 * mov al, 1
 * .l1: jnz .l2
 * mov bl, 2
 * .l2: stc
 * jc near .l3
 * mov cl, 3
 * .l3: jmp short .l4
 * mov dl, 4
 * .l4: jnc near .l5
 * jmp near .l6
 * .l5: mov ch, 5
 * .l6: mov si, .l7
 * jmp si
 * mov dh, 7
 * .l7: hlt
 */
static const uint8_t c_jcc16[] = {
    0xb4, 0x40, 0x9e, 0x74, 0x02, 0xb0, 0x01, 0x75, 0x02, 0xb3, 0x02, 0xf9, 0x0f, 0x82, 0x02,
    0x00, 0xb1, 0x03, 0xeb, 0x02, 0xb2, 0x04, 0x0f, 0x83, 0x03, 0x00, 0xe9, 0x02, 0x00, 0xb5,
    0x05, 0xbe, 0x26, 0x10, 0xff, 0xe6, 0xb6, 0x07, 0xf4,
};

/*
 * org 0x1000
 * call f
 * mov ebx, eax
 * mov ecx, f2
 * call ecx
 * push dword 7
 * push dword 8
 * call f3
 * mov dword [0x10000], f
 * call [0x10000]
 * hlt
 * f: mov eax, 0x55
 * ret
 * f2: mov edx, 0x66
 * ret
 * f3: ret 8
 */
static const uint8_t c_call32[] = {
    0xe8, 0x23, 0x00, 0x00, 0x00, 0x89, 0xc3, 0xb9, 0x2e, 0x10, 0x00, 0x00, 0xff, 0xd1, 0x6a,
    0x07, 0x6a, 0x08, 0xe8, 0x1d, 0x00, 0x00, 0x00, 0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x28,
    0x10, 0x00, 0x00, 0xff, 0x15, 0x00, 0x00, 0x01, 0x00, 0xf4, 0xb8, 0x55, 0x00, 0x00, 0x00,
    0xc3, 0xba, 0x66, 0x00, 0x00, 0x00, 0xc3, 0xc2, 0x08, 0x00,
};

/*
 * org 0x1000
 * call f
 * mov word [0x2000], f2
 * mov bx, 0x2000
 * call [bx]
 * jmp word [bx+2]
 * f: mov ax, 0x55
 * ret
 * f2: mov dx, 0x66
 * ret 0
 * .t: hlt
 */
static const uint8_t c_call16[] = {
    0xe8, 0x0e, 0x00, 0xc7, 0x06, 0x00, 0x20, 0x15, 0x10, 0xbb, 0x00, 0x20, 0xff, 0x17, 0xff,
    0x67, 0x02, 0xb8, 0x55, 0x00, 0xc3, 0xba, 0x66, 0x00, 0xc2, 0x00, 0x00, 0xf4,
};

/*
 * mov cx, 5
 * mov bx, 0
 * .l: lea bx, [bx+1]
 * loop .l
 * mov ecx, 0x00010003
 * mov si, 0
 * .m: lea si, [si+1]
 * loop .m
 * mov [0x3000], ecx
 * mov ecx, 0x00010000
 * mov di, 0
 * jcxz .j
 * mov di, 1
 * .j: a32 jecxz .k
 * mov bp, 1
 * .k: hlt
 */
static const uint8_t c_loop16[] = {
    0xb9, 0x05, 0x00, 0xbb, 0x00, 0x00, 0x8d, 0x5f, 0x01, 0xe2, 0xfb, 0x66, 0xb9, 0x03, 0x00,
    0x01, 0x00, 0xbe, 0x00, 0x00, 0x8d, 0x74, 0x01, 0xe2, 0xfb, 0x66, 0x89, 0x0e, 0x00, 0x30,
    0x66, 0xb9, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x00, 0x00, 0xe3, 0x03, 0xbf, 0x01, 0x00, 0x67,
    0xe3, 0x03, 0xbd, 0x01, 0x00, 0xf4,
};

/*
 * mov ecx, 0x10003
 * mov ebx, 0
 * .l: lea ebx, [ebx+1]
 * a16 loop .l
 * mov edx, ecx
 * mov ecx, 2
 * mov esi, 0
 * .m: lea esi, [esi+1]
 * loop .m
 * hlt
 */
static const uint8_t c_loop32[] = {
    0xb9, 0x03, 0x00, 0x01, 0x00, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x8d, 0x5b, 0x01, 0x67, 0xe2,
    0xfa, 0x89, 0xca, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x00, 0x00, 0x8d, 0x76,
    0x01, 0xe2, 0xfb, 0xf4,
};

/*
 * mov si, 0x2000
 * mov cx, 10
 * mov bx, 0
 * .l: lodsb
 * mov ah, al
 * sahf
 * lea bx, [bx+1]
 * loope .l
 * mov [0x3000], cx
 * mov [0x3002], bx
 * mov si, 0x2010
 * mov cx, 10
 * mov bx, 0
 * .m: lodsb
 * mov ah, al
 * sahf
 * lea bx, [bx+1]
 * loopne .m
 * mov [0x3004], cx
 * mov [0x3006], bx
 * hlt
 */
static const uint8_t c_loopz16[] = {
    0xbe, 0x00, 0x20, 0xb9, 0x0a, 0x00, 0xbb, 0x00, 0x00, 0xac, 0x88, 0xc4, 0x9e, 0x8d, 0x5f,
    0x01, 0xe1, 0xf7, 0x89, 0x0e, 0x00, 0x30, 0x89, 0x1e, 0x02, 0x30, 0xbe, 0x10, 0x20, 0xb9,
    0x0a, 0x00, 0xbb, 0x00, 0x00, 0xac, 0x88, 0xc4, 0x9e, 0x8d, 0x5f, 0x01, 0xe0, 0xf7, 0x89,
    0x0e, 0x04, 0x30, 0x89, 0x1e, 0x06, 0x30, 0xf4,
};

/*
 * mov si, 0x3000
 * mov di, 0x4000
 * mov cx, 4
 * cld
 * rep movsw
 * fs movsb
 * mov al, 0xee
 * fs stosb
 * hlt
 */
static const uint8_t c_movs16[] = {
    0xbe, 0x00, 0x30, 0xbf, 0x00, 0x40, 0xb9, 0x04, 0x00, 0xfc, 0xf3, 0xa5, 0x64, 0xa4, 0xb0,
    0xee, 0x64, 0xaa, 0xf4,
};

/*
 * movsw
 * std
 * movsb
 * hlt
 */
static const uint8_t c_wrap16[] = {
    0xa5, 0xfd, 0xa4, 0xf4,
};

/*
 * rep movsb
 * mov ebx, ecx
 * mov ecx, 2
 * mov al, 0x77
 * a32 rep stosb
 * hlt
 */
static const uint8_t c_addr16[] = {
    0xf3, 0xa4, 0x66, 0x89, 0xcb, 0x66, 0xb9, 0x02, 0x00, 0x00, 0x00, 0xb0, 0x77, 0xf3, 0x67,
    0xaa, 0xf4,
};

/*
 * rep movsb
 * rep lodsb
 * rep stosw
 * repe cmpsb
 * repne scasb
 * rep outsb
 * rep insb
 * hlt
 */
static const uint8_t c_repzero[] = {
    0xf3, 0xa4, 0xf3, 0xac, 0xf3, 0xab, 0xf3, 0xa6, 0xf2, 0xae, 0xf3, 0x6e, 0xf3, 0x6c, 0xf4,
};

/*
 * mov esi, 0x10000
 * mov edi, 0x20000
 * mov ecx, 6
 * repe cmpsb
 * lahf
 * mov [0x30000], ah
 * mov [0x30004], ecx
 * mov [0x30008], esi
 * mov [0x3000c], edi
 * mov edi, 0x20000
 * mov al, 'x'
 * mov ecx, 6
 * repne scasb
 * lahf
 * mov [0x30010], ah
 * mov [0x30014], ecx
 * mov [0x30018], edi
 * mov esi, 0x10004
 * std
 * lodsd
 * mov [0x3001c], eax
 * mov [0x30020], esi
 * cld
 * mov edi, 0x20000
 * mov ecx, 3
 * mov ax, 0x6261
 * repe scasw
 * hlt
 */
static const uint8_t c_cmps32[] = {
    0xbe, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x00, 0x00, 0x02, 0x00, 0xb9, 0x06, 0x00, 0x00, 0x00,
    0xf3, 0xa6, 0x9f, 0x88, 0x25, 0x00, 0x00, 0x03, 0x00, 0x89, 0x0d, 0x04, 0x00, 0x03, 0x00,
    0x89, 0x35, 0x08, 0x00, 0x03, 0x00, 0x89, 0x3d, 0x0c, 0x00, 0x03, 0x00, 0xbf, 0x00, 0x00,
    0x02, 0x00, 0xb0, 0x78, 0xb9, 0x06, 0x00, 0x00, 0x00, 0xf2, 0xae, 0x9f, 0x88, 0x25, 0x10,
    0x00, 0x03, 0x00, 0x89, 0x0d, 0x14, 0x00, 0x03, 0x00, 0x89, 0x3d, 0x18, 0x00, 0x03, 0x00,
    0xbe, 0x04, 0x00, 0x01, 0x00, 0xfd, 0xad, 0xa3, 0x1c, 0x00, 0x03, 0x00, 0x89, 0x35, 0x20,
    0x00, 0x03, 0x00, 0xfc, 0xbf, 0x00, 0x00, 0x02, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x66,
    0xb8, 0x61, 0x62, 0xf3, 0x66, 0xaf, 0xf4,
};

/*
 * mov edi, 0x20000
 * mov ecx, 10000
 * mov al, 0x5a
 * rep stosb
 * std
 * mov esi, 0x20000 + 10000 - 4
 * mov edi, 0x40000 + 10000 - 4
 * mov ecx, 2500
 * rep movsd
 * cld
 * mov esi, 0x60000
 * mov edi, 0x60001
 * mov ecx, 100
 * rep movsb
 * hlt
 */
static const uint8_t c_longrep32[] = {
    0xbf, 0x00, 0x00, 0x02, 0x00, 0xb9, 0x10, 0x27, 0x00, 0x00, 0xb0, 0x5a, 0xf3, 0xaa, 0xfd,
    0xbe, 0x0c, 0x27, 0x02, 0x00, 0xbf, 0x0c, 0x27, 0x04, 0x00, 0xb9, 0xc4, 0x09, 0x00, 0x00,
    0xf3, 0xa5, 0xfc, 0xbe, 0x00, 0x00, 0x06, 0x00, 0xbf, 0x01, 0x00, 0x06, 0x00, 0xb9, 0x64,
    0x00, 0x00, 0x00, 0xf3, 0xa4, 0xf4,
};

/*
 * rep movsd
 * hlt
 */
static const uint8_t c_repmovsd32[] = {
    0xf3, 0xa5, 0xf4,
};

/*
 * rep stosd
 * hlt
 */
static const uint8_t c_repstosd32[] = {
    0xf3, 0xab, 0xf4,
};

/*
 * push eax
 * hlt
 */
static const uint8_t c_push32[] = {
    0x50, 0xf4,
};

/*
 * mov dx, 0x300
 * mov si, 0x3000
 * mov cx, 5
 * rep outsb
 * mov di, 0x4000
 * mov cx, 3
 * rep insw
 * outsw
 * a32 insd
 * hlt
 */
static const uint8_t c_io16[] = {
    0xba, 0x00, 0x03, 0xbe, 0x00, 0x30, 0xb9, 0x05, 0x00, 0xf3, 0x6e, 0xbf, 0x00, 0x40, 0xb9,
    0x03, 0x00, 0xf3, 0x6d, 0x6f, 0x66, 0x67, 0x6d, 0xf4,
};

/*
 * rep insd
 * hlt
 */
static const uint8_t c_insd32[] = {
    0xf3, 0x6d, 0xf4,
};

/*
 * popad
 * hlt
 */
static const uint8_t c_popad32[] = {
    0x61, 0xf4,
};


/* ------------------------------------------------------------------------- */

static struct tmachine *real16(const uint8_t *code, size_t n)
{
    struct tmachine *tm = tm_new(1024);
    tm_real(tm, CODE, code, n);
    return tm;
}

static struct tmachine *flat32(const uint8_t *code, size_t n)
{
    struct tmachine *tm = tm_new(1024);
    tm_flat32(tm, CODE, code, n, STACK32);
    return tm;
}

#define REAL(arr) real16(arr, sizeof(arr))
#define FLAT(arr) flat32(arr, sizeof(arr))
/* EIP after the HLT that ends a snippet */
#define END(arr) (CODE + (uint32_t)sizeof(arr))

static void run_hlt(struct tmachine *tm)
{
    ck_assert_int_eq(tm_run(tm, 200000), CPU_EXIT_HLT);
}

/*
 * One instruction as cpu_run executes it; returns NO_FAULT or the vector
 * (error code in c->fault_err), with EIP/ESP restored as the run loop does.
 */
static int step(struct tmachine *tm)
{
    struct cpu *c = &tm->cpu;
    if (setjmp(c->fault_jmp)) {
        c->eip = c->prev_eip;
        c->r[R_ESP] = c->prev_esp;
        return c->fault_vector;
    }
    c->prev_eip = c->eip;
    c->prev_esp = c->r[R_ESP];
    uint8_t buf[15];
    bus_read_bytes(&tm->bus, c->seg[S_CS].base + c->eip, buf, sizeof(buf));
    struct insn i;
    ck_assert_int_eq(decode(buf, sizeof(buf), cpu_code32(c), &i), DEC_OK);
    c->eip += i.len;
    if (!cpu_code32(c))
        c->eip &= 0xffff;
    i.fn(c, &i);
    return NO_FAULT;
}

/* Steps until HLT or a fault; returns the fault's vector or NO_FAULT. */
static int step_until(struct tmachine *tm, int max)
{
    for (int k = 0; k < max && !tm->cpu.halted; k++) {
        int v = step(tm);
        if (v != NO_FAULT)
            return v;
    }
    ck_assert(tm->cpu.halted);
    return NO_FAULT;
}

static uint32_t rd(struct tmachine *tm, uint32_t pa, int size) { return tm_peek(tm, pa, size); }
static void wr(struct tmachine *tm, uint32_t pa, uint32_t v, int size)
{
    tm_poke(tm, pa, &v, (size_t)size);
}

/* A real-mode segment register with selector sel. */
static void set_real_seg(struct cpu *c, int s, uint16_t sel)
{
    c->seg[s].sel = sel;
    c->seg[s].base = (uint32_t)sel << 4;
    seg_update_cache(c, &c->seg[s]);
}

/* Shrinks a flat segment's limit (expand-up) in protected mode. */
static void set_limit(struct cpu *c, int s, uint32_t limit)
{
    c->seg[s].limit = limit;
    c->seg[s].ar &= ~AR_G;
    seg_update_cache(c, &c->seg[s]);
}

/* Arithmetic flags as LAHF shows them (AH image). */
static unsigned flags_lo(struct cpu *c) { return cpu_get_eflags(c) & 0xd5; }

/* ===================== MOV family ===================== */

START_TEST(mov_real)
{
    struct tmachine *tm = REAL(c_mov16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x2000, 2), 0x1234);
    ck_assert_uint_eq(rd(tm, 0x2002, 1), 0x56);
    ck_assert_uint_eq(c->r[R_ECX], 0x1234);
    ck_assert_uint_eq(c->r[R_EDX], 0x0656);
    ck_assert_uint_eq(rd(tm, 0x2003, 1), 0x9a);
    ck_assert_uint_eq(rd(tm, 0x2004, 2), 0xbeef);
    ck_assert_uint_eq(c->r[R_EAX], 0x129a);
    ck_assert_uint_eq(rd(tm, 0x2006, 1), 0x9a);
    ck_assert_uint_eq(rd(tm, 0x2008, 2), 0x129a);
    ck_assert_uint_eq(c->r[R_ESI], 0xbeef);
    ck_assert_uint_eq(c->r[R_EBP], 0x9a);
    ck_assert_uint_eq(c->r[R_EDI], 0xffffff9a);
    ck_assert_uint_eq(c->r[R_ESP], 0x56);
    ck_assert_uint_eq(c->r[R_EBX], 0x9a);
    ck_assert_uint_eq(c->eip, END(c_mov16));
    tm_free(tm);
}
END_TEST

START_TEST(mov_flat)
{
    struct tmachine *tm = FLAT(c_mov32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBX], 0x12345678);
    ck_assert_uint_eq(rd(tm, 0x10004, 4), 0xcafebabe);
    ck_assert_uint_eq(c->r[R_EDX], 0xbabe);
    ck_assert_uint_eq(c->r[R_ESI], 0xffff8001);
    ck_assert_uint_eq(c->r[R_EDI], 0x8001);
    ck_assert_uint_eq(c->r[R_EAX], 0x1234babe);
    ck_assert_uint_eq(rd(tm, 0x1000c, 4), 0xbabe);
    ck_assert_uint_eq(c->r[R_EBP], 0xffff1111);
    tm_free(tm);
}
END_TEST

START_TEST(lea_sizes)
{
    struct tmachine *tm = REAL(c_lea16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EAX], 0x0014);     /* 16-bit address wraps */
    ck_assert_uint_eq(c->r[R_ECX], 0x0010);     /* a16 offset zero-extended to o32 */
    ck_assert_uint_eq(c->r[R_EDX], 0xaaaa0030); /* a32 offset truncated to o16 */
    tm_free(tm);
}
END_TEST

START_TEST(xchg_forms)
{
    struct tmachine *tm = FLAT(c_xchg32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x10000, 4), 0x11111111);
    ck_assert_uint_eq(c->r[R_EBX], 0x33333333);
    ck_assert_uint_eq(rd(tm, 0x10004, 4), 0x4455);
    ck_assert_uint_eq(c->r[R_EAX], 0x2222abcd);
    ck_assert_uint_eq(c->r[R_EDX], 0x2222);
    tm_free(tm);
}
END_TEST

START_TEST(cbw_cwd)
{
    struct tmachine *tm = FLAT(c_cbw32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x10000, 4), 0x1234ff80);
    ck_assert_uint_eq(rd(tm, 0x10004, 4), 0xffffff80);
    ck_assert_uint_eq(rd(tm, 0x10008, 4), 0x1234ffff);
    ck_assert_uint_eq(rd(tm, 0x1000c, 4), 0xffffffff);
    ck_assert_uint_eq(c->r[R_EDX], 0);
    tm_free(tm);
}
END_TEST

START_TEST(xlat_segments)
{
    struct tmachine *tm = REAL(c_xlat16);
    struct cpu *c = &tm->cpu;
    set_real_seg(c, S_ES, 0x1000);
    wr(tm, 0x2005, 0x77, 1);
    wr(tm, 0x12006, 0x88, 1);
    wr(tm, 0x2006, 0x11, 1);
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_ECX] & 0xff, 0x77);
    ck_assert_uint_eq(c->r[R_EAX] & 0xff, 0x88);
    tm_free(tm);
}
END_TEST

START_TEST(lahf_sahf)
{
    struct tmachine *tm = REAL(c_lahf16);
    struct cpu *c = &tm->cpu;
    c->eflags |= F_OF;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBX] & 0xffff, 0x02d7);
    ck_assert_uint_eq(c->r[R_ECX] & 0xff, 0x02);
    ck_assert(cpu_get_eflags(c) & F_OF); /* SAHF leaves OF alone */
    tm_free(tm);
}
END_TEST

START_TEST(cmpxchg_both_outcomes)
{
    struct tmachine *tm = FLAT(c_cmpxchg32);
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x10010, 1), 0x46); /* equal: ZF PF */
    /* LAHF left EAX = 0x4605: 0x4605 - 9 sets AF PF only */
    ck_assert_uint_eq(rd(tm, 0x10011, 1), 0x16);
    ck_assert_uint_eq(rd(tm, 0x10000, 4), 9);
    ck_assert_uint_eq(rd(tm, 0x10014, 4), 0x1609); /* EAX = 9 loaded on failure, AH by LAHF */
    ck_assert_uint_eq(rd(tm, 0x10018, 1), 0x42); /* register form */
    ck_assert_uint_eq(rd(tm, 0x1001a, 2), 0x4321);
    tm_free(tm);
}
END_TEST

/* A failed compare still writes: a read-only destination faults (P6). */
START_TEST(cmpxchg_failed_compare_writes)
{
    /* cmpxchg [0x10000], ecx; hlt */
    static const uint8_t code[] = {0x0f, 0xb1, 0x0d, 0x00, 0x00, 0x01, 0x00, 0xf4};
    struct tmachine *tm = FLAT(code);
    struct cpu *c = &tm->cpu;
    c->seg[S_DS].ar = (c->seg[S_DS].ar & ~AR_TYPE) | 0x0100; /* read-only data */
    seg_update_cache(c, &c->seg[S_DS]);
    wr(tm, 0x10000, 7, 4);
    c->r[R_EAX] = 1;
    ck_assert_int_eq(step(tm), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0);
    ck_assert_uint_eq(c->r[R_EAX], 1);
    ck_assert_uint_eq(c->eip, CODE);
    tm_free(tm);
}
END_TEST

START_TEST(cmpxchg8b_both_outcomes)
{
    struct tmachine *tm = FLAT(c_cmpxchg8b32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x10010, 1), 0x43); /* ZF=1, CF kept */
    ck_assert_uint_eq(rd(tm, 0x10011, 1), 0x03); /* ZF=0, CF kept */
    ck_assert_uint_eq(rd(tm, 0x10000, 4), 0x33333333);
    ck_assert_uint_eq(rd(tm, 0x10004, 4), 0x44444444);
    ck_assert_uint_eq(c->r[R_EDX], 0x44444444);
    ck_assert_uint_eq(c->r[R_EAX], 0x33330333); /* loaded, then LAHF */
    tm_free(tm);
}
END_TEST

START_TEST(xadd_forms)
{
    struct tmachine *tm = FLAT(c_xadd32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x10000, 4), 0x30);
    ck_assert_uint_eq(c->r[R_EAX], 0x5720);
    ck_assert_uint_eq(c->r[R_EBX], 1);
    ck_assert_uint_eq(c->r[R_ECX], 0);
    ck_assert_uint_eq(c->r[R_EDX] & 0xff, 6);
    tm_free(tm);
}
END_TEST

START_TEST(bound_real_delivers_br)
{
    struct tmachine *tm = REAL(c_bound16);
    tm_trap_all_vectors(tm);
    run_hlt(tm);
    ck_assert_int_eq(tm_last_vector(tm), EX_BR);
    /* #BR is a fault: the pushed IP is the last BOUND's */
    ck_assert_uint_eq(rd(tm, 0xfffe - 6, 2), END(c_bound16) - 5);
    tm_free(tm);
}
END_TEST

START_TEST(bound_signed_32)
{
    struct tmachine *tm = FLAT(c_bound32);
    struct cpu *c = &tm->cpu;
    ck_assert_int_eq(step_until(tm, 20), EX_BR);
    ck_assert_uint_eq(c->eip, END(c_bound32) - 7);
    tm_free(tm);
}
END_TEST

START_TEST(ud2_and_hint_nop)
{
    /* nop dword [eax] (0F 1F 00) beyond DS's limit does not fault; ud2; ud1 */
    static const uint8_t code[] = {0x0f, 0x1f, 0x00, 0x0f, 0x0b, 0x0f, 0xb9, 0xc0};
    struct tmachine *tm = FLAT(code);
    struct cpu *c = &tm->cpu;
    set_limit(c, S_DS, 0xfff);
    c->r[R_EAX] = 0x50000;
    ck_assert_int_eq(step(tm), NO_FAULT);
    ck_assert_int_eq(step(tm), EX_UD);
    ck_assert_uint_eq(c->eip, CODE + 3);
    c->eip = CODE + 5;
    ck_assert_int_eq(step(tm), EX_UD);
    tm_free(tm);

    static const uint8_t rcode[] = {0x0f, 0x0b};
    tm = REAL(rcode);
    tm_trap_all_vectors(tm);
    run_hlt(tm);
    ck_assert_int_eq(tm_last_vector(tm), EX_UD);
    tm_free(tm);
}
END_TEST

START_TEST(flag_insns)
{
    struct tmachine *tm = REAL(c_flags16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBX] & 0xffff, 0x0203);
    ck_assert_uint_eq(c->r[R_ECX] & 0xff, 0x02);
    ck_assert(c->eflags & F_DF);
    tm_free(tm);
}
END_TEST

/* ===================== stack ===================== */

START_TEST(push_pop_real)
{
    struct tmachine *tm = REAL(c_push16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0xfffa, 2), 0xfffc); /* PUSH SP pushes the old SP */
    ck_assert_uint_eq(rd(tm, 0xfff6, 2), 0xfffe); /* push byte -2, sign-extended */
    ck_assert_uint_eq(c->r[R_EBX], 0xfffe);
    ck_assert_uint_eq(c->r[R_ECX], 0x5678);
    ck_assert_uint_eq(c->r[R_EDX], 0x1234);
    ck_assert_uint_eq(c->r[R_ESP], 0xfffe);
    tm_free(tm);
}
END_TEST

START_TEST(push_pop_esp_semantics)
{
    struct tmachine *tm = FLAT(c_pushesp32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EAX], 0x7fffc);  /* PUSH ESP: value before the push */
    ck_assert_uint_eq(c->r[R_EBX], 0xbbbb);   /* POP [ESP+4]: address after the pop */
    ck_assert_uint_eq(c->r[R_ECX], 0x1111);   /* PUSH [ESP]: address before the push */
    ck_assert_uint_eq(c->r[R_ESI], 0x1111);
    ck_assert_uint_eq(c->r[R_EDI], 0xffffffff);
    ck_assert_uint_eq(c->r[R_EDX], 0x1234);
    ck_assert_uint_eq(c->r[R_ESP], 0x12345678); /* POP ESP loads the popped value */
    tm_free(tm);
}
END_TEST

START_TEST(pusha_popa_16)
{
    struct tmachine *tm = REAL(c_pusha16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    static const uint16_t img[] = {8, 7, 6, 0x5555, 4, 3, 2, 1};
    for (int k = 0; k < 8; k++)
        ck_assert_uint_eq(rd(tm, 0xffee + 2 * (uint32_t)k, 2), img[k]);
    static const uint32_t want[8] = {1, 2, 3, 4, 0xfffe, 6, 7, 8};
    for (int r = 0; r < 8; r++)
        ck_assert_uint_eq(c->r[r], want[r]);
    tm_free(tm);
}
END_TEST

START_TEST(pushad_esp_slot)
{
    struct tmachine *tm = FLAT(c_pushad32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    static const uint32_t img[] = {8, 7, 6, STACK32, 4, 3, 2, 1};
    for (int k = 0; k < 8; k++)
        ck_assert_uint_eq(rd(tm, STACK32 - 32 + 4 * (uint32_t)k, 4), img[k]);
    ck_assert_uint_eq(c->r[R_ESP], STACK32 - 32);
    tm_free(tm);
}
END_TEST

/* POPA whose last slot is beyond SS's limit: #SS(0), no register written. */
START_TEST(popad_limit_fault)
{
    struct tmachine *tm = FLAT(c_popad32);
    struct cpu *c = &tm->cpu;
    set_limit(c, S_SS, 0x7ffff);
    c->r[R_ESP] = 0x7fff0;
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            c->r[r] = 0xdead0000u + (uint32_t)r;
    ck_assert_int_eq(step(tm), EX_SS);
    ck_assert_uint_eq(c->fault_err, 0);
    for (int r = 0; r < 8; r++)
        ck_assert_uint_eq(c->r[r], r == R_ESP ? 0x7fff0 : 0xdead0000u + (uint32_t)r);
    tm_free(tm);
}
END_TEST

START_TEST(push_ss_limit_fault)
{
    struct tmachine *tm = FLAT(c_push32);
    struct cpu *c = &tm->cpu;
    set_limit(c, S_SS, 0xfff);
    c->r[R_ESP] = 0x2000;
    ck_assert_int_eq(step(tm), EX_SS);
    ck_assert_uint_eq(c->fault_err, 0);
    ck_assert_uint_eq(c->r[R_ESP], 0x2000);
    ck_assert_uint_eq(c->eip, CODE);
    tm_free(tm);
}
END_TEST

START_TEST(enter_nested_32)
{
    struct tmachine *tm = FLAT(c_enter32);
    struct cpu *c = &tm->cpu;
    wr(tm, 0x70000 - 4, 0xa1, 4);
    wr(tm, 0x70000 - 8, 0xa2, 4);
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBP], 0x7fffc);
    ck_assert_uint_eq(c->r[R_ESP], 0x7ffe0);
    ck_assert_uint_eq(rd(tm, 0x7fffc, 4), 0x70000);
    ck_assert_uint_eq(rd(tm, 0x7fff8, 4), 0xa1);
    ck_assert_uint_eq(rd(tm, 0x7fff4, 4), 0xa2);
    ck_assert_uint_eq(rd(tm, 0x7fff0, 4), 0x7fffc);
    c->halted = false;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBP], 0x70000);
    ck_assert_uint_eq(c->r[R_ESP], STACK32);
    tm_free(tm);
}
END_TEST

START_TEST(enter_leave_16)
{
    struct tmachine *tm = REAL(c_enter16);
    struct cpu *c = &tm->cpu;
    wr(tm, 0x7ffe, 0x1111, 2);
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x3000, 2), 0xfff4);
    ck_assert_uint_eq(rd(tm, 0x3002, 2), 0xfffc);
    ck_assert_uint_eq(rd(tm, 0x3004, 2), 0xfffe);
    ck_assert_uint_eq(rd(tm, 0x3006, 2), 0x8000);
    ck_assert_uint_eq(rd(tm, 0x3008, 2), 0xfff4);
    ck_assert_uint_eq(rd(tm, 0x300a, 2), 0xfffc);
    ck_assert_uint_eq(c->r[R_ESP], 0xfffa); /* enter 0, 1 */
    ck_assert_uint_eq(c->r[R_EBP], 0xfffc);
    ck_assert_uint_eq(rd(tm, 0xfffa, 2), 0xfffc);
    ck_assert_uint_eq(rd(tm, 0xfffc, 2), 0x8000);
    tm_free(tm);
}
END_TEST

/* ===================== branches ===================== */

START_TEST(jcc_jmp_real)
{
    struct tmachine *tm = REAL(c_jcc16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EAX], 0x4000);
    ck_assert_uint_eq(c->r[R_EBX], 2);
    ck_assert_uint_eq(c->r[R_ECX], 0);
    ck_assert_uint_eq(c->r[R_EDX], 0x633);
    ck_assert_uint_eq(c->eip, END(c_jcc16));
    tm_free(tm);
}
END_TEST

/* Every condition code against an independent reference, Jb and Jz forms. */
START_TEST(jcc_all_conditions)
{
    static const uint32_t fl[] = {0, F_CF, F_ZF, F_SF, F_OF, F_PF, F_SF | F_OF, F_CF | F_ZF,
                                  F_ZF | F_SF, F_OF | F_ZF};
    for (unsigned cc = 0; cc < 16; cc++) {
        for (size_t k = 0; k < sizeof(fl) / sizeof(fl[0]); k++) {
            uint32_t f = fl[k];
            bool of = f & F_OF, cf = f & F_CF, zf = f & F_ZF, sf = f & F_SF, pf = f & F_PF;
            bool r[8] = {of, cf, zf, cf || zf, sf, pf, sf != of, zf || sf != of};
            bool want = (cc & 1) ? !r[cc >> 1] : r[cc >> 1];
            for (int form = 0; form < 2; form++) {
                uint8_t jb[] = {(uint8_t)(0x70 | cc), 0x10};
                uint8_t jz[] = {0x0f, (uint8_t)(0x80 | cc), 0x10, 0, 0, 0};
                struct tmachine *tm = form ? FLAT(jz) : FLAT(jb);
                struct cpu *c = &tm->cpu;
                c->eflags |= f;
                ck_assert_int_eq(step(tm), NO_FAULT);
                uint32_t len = form ? 6 : 2;
                ck_assert_uint_eq(c->eip, CODE + len + (want ? 0x10 : 0));
                tm_free(tm);
            }
        }
    }
}
END_TEST

START_TEST(call_ret_32)
{
    struct tmachine *tm = FLAT(c_call32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EAX], 0x55);
    ck_assert_uint_eq(c->r[R_EBX], 0x55);
    ck_assert_uint_eq(c->r[R_EDX], 0x66);
    ck_assert_uint_eq(c->r[R_ESP], STACK32);
    ck_assert_uint_eq(c->icount, 17);
    tm_free(tm);
}
END_TEST

START_TEST(call_ret_16)
{
    struct tmachine *tm = REAL(c_call16);
    struct cpu *c = &tm->cpu;
    wr(tm, 0x2002, END(c_call16) - 1, 2);
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EAX], 0x55);
    ck_assert_uint_eq(c->r[R_EDX], 0x66);
    ck_assert_uint_eq(c->r[R_ESP], 0xfffe);
    ck_assert_uint_eq(c->eip, END(c_call16));
    tm_free(tm);
}
END_TEST

START_TEST(loop_real)
{
    struct tmachine *tm = REAL(c_loop16);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBX], 5);
    ck_assert_uint_eq(rd(tm, 0x3000, 4), 0x10000); /* a16 LOOP: CX only */
    ck_assert_uint_eq(c->r[R_ESI], 3);
    ck_assert_uint_eq(c->r[R_EDI], 0); /* JCXZ taken on CX = 0 */
    ck_assert_uint_eq(c->r[R_EBP], 1); /* JECXZ not taken on ECX = 0x10000 */
    tm_free(tm);
}
END_TEST

START_TEST(loop_flat)
{
    struct tmachine *tm = FLAT(c_loop32);
    struct cpu *c = &tm->cpu;
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBX], 3);
    ck_assert_uint_eq(c->r[R_EDX], 0x10000);
    ck_assert_uint_eq(c->r[R_ESI], 2);
    ck_assert_uint_eq(c->r[R_ECX], 0);
    tm_free(tm);
}
END_TEST

START_TEST(loope_loopne)
{
    struct tmachine *tm = REAL(c_loopz16);
    static const uint8_t a[] = {0x40, 0x40, 0x00, 0x40}, b[] = {0x00, 0x00, 0x40, 0x00};
    tm_poke(tm, 0x2000, a, sizeof(a));
    tm_poke(tm, 0x2010, b, sizeof(b));
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x3000, 2), 7);
    ck_assert_uint_eq(rd(tm, 0x3002, 2), 3);
    ck_assert_uint_eq(rd(tm, 0x3004, 2), 7);
    ck_assert_uint_eq(rd(tm, 0x3006, 2), 3);
    tm_free(tm);
}
END_TEST

/* o16 JMP in 32-bit code: EIP is truncated to 16 bits. */
START_TEST(branch_o16_truncates)
{
    static const uint8_t code[] = {0x66, 0xe9, 0x0c, 0x00};
    struct tmachine *tm = flat32(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    tm_poke(tm, 0x11000, code, sizeof(code));
    wr(tm, 0x1010, 0xf4, 1);
    c->eip = 0x11000;
    run_hlt(tm);
    ck_assert_uint_eq(c->eip, 0x1011);
    tm_free(tm);
}
END_TEST

/* Targets beyond CS's limit: #GP(0) before anything changes. */
START_TEST(branch_limit_faults)
{
    static const uint8_t jmp[] = {0xe9, 0xfb, 0x1f, 0x00, 0x00};  /* jmp 0x3000 */
    static const uint8_t call[] = {0xe8, 0xfb, 0x1f, 0x00, 0x00}; /* call 0x3000 */
    static const uint8_t ret[] = {0xc3};
    static const uint8_t jcc[] = {0x0f, 0x84, 0xfa, 0x1f, 0x00, 0x00}; /* jz 0x3000 */
    static const uint8_t loop[] = {0xe2, 0x7e};                       /* loop to 0x1080 */
    const uint8_t *codes[] = {jmp, call, ret, jcc, loop};
    size_t lens[] = {sizeof(jmp), sizeof(call), sizeof(ret), sizeof(jcc), sizeof(loop)};
    for (int k = 0; k < 5; k++) {
        struct tmachine *tm = flat32(codes[k], lens[k]);
        struct cpu *c = &tm->cpu;
        set_limit(c, S_CS, k == 4 ? 0x107f : 0x1fff);
        c->eflags |= F_ZF;
        c->r[R_ECX] = 5;
        wr(tm, STACK32, 0x3000, 4);
        wr(tm, STACK32 - 4, 0x12345678, 4);
        c->r[R_ESP] = k == 2 ? STACK32 : STACK32 - 0;
        ck_assert_int_eq(step(tm), EX_GP);
        ck_assert_uint_eq(c->fault_err, 0);
        ck_assert_uint_eq(c->eip, CODE);
        ck_assert_uint_eq(c->r[R_ESP], STACK32);
        ck_assert_uint_eq(c->r[R_ECX], 5);                 /* LOOP's count untouched */
        ck_assert_uint_eq(rd(tm, STACK32 - 4, 4), 0x12345678); /* CALL pushed nothing */
        tm_free(tm);
    }
    /* real mode: o32 JMP beyond 0xFFFF */
    static const uint8_t rjmp[] = {0x66, 0xe9, 0xfa, 0xef, 0x01, 0x00};
    struct tmachine *tm = REAL(rjmp);
    ck_assert_int_eq(step(tm), EX_GP);
    ck_assert_uint_eq(tm->cpu.eip, CODE);
    tm_free(tm);
}
END_TEST

/* ===================== strings ===================== */

START_TEST(movs_segments_real)
{
    struct tmachine *tm = REAL(c_movs16);
    struct cpu *c = &tm->cpu;
    set_real_seg(c, S_ES, 0x1000);
    set_real_seg(c, S_FS, 0x2000);
    static const uint8_t src[] = {1, 2, 3, 4, 5, 6, 7, 8, 0x11};
    tm_poke(tm, 0x3000, src, sizeof(src));
    wr(tm, 0x23008, 0x99, 1);
    run_hlt(tm);
    for (uint32_t k = 0; k < 8; k++)
        ck_assert_uint_eq(rd(tm, 0x14000 + k, 1), k + 1);
    ck_assert_uint_eq(rd(tm, 0x14008, 1), 0x99); /* FS: override on the source */
    ck_assert_uint_eq(rd(tm, 0x14009, 1), 0xee); /* STOS ignores the override */
    ck_assert_uint_eq(rd(tm, 0x24009, 1), 0);
    ck_assert_uint_eq(c->r[R_ESI], 0x3009);
    ck_assert_uint_eq(c->r[R_EDI], 0x400a);
    ck_assert_uint_eq(c->r[R_ECX], 0);
    tm_free(tm);
}
END_TEST

START_TEST(string_wrap_16)
{
    struct tmachine *tm = REAL(c_wrap16);
    struct cpu *c = &tm->cpu;
    c->r[R_ESI] = 0x1234fffe;
    c->r[R_EDI] = 0x100;
    wr(tm, 0xfffe, 0xabcd, 2);
    wr(tm, 0, 0x5a, 1);
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x100, 2), 0xabcd);
    ck_assert_uint_eq(rd(tm, 0x102, 1), 0x5a);
    ck_assert_uint_eq(c->r[R_ESI], 0x1234ffff); /* 0xfffe -> 0x0000 -> (DF) 0xffff */
    ck_assert_uint_eq(c->r[R_EDI], 0x101);
    tm_free(tm);
}
END_TEST

START_TEST(string_address_sizes)
{
    struct tmachine *tm = REAL(c_addr16);
    struct cpu *c = &tm->cpu;
    c->r[R_ESI] = 0x3000;
    c->r[R_EDI] = 0x5000;
    c->r[R_ECX] = 0x00010002;
    static const uint8_t src[] = {0x11, 0x22, 0x33};
    tm_poke(tm, 0x3000, src, sizeof(src));
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_EBX], 0x10000); /* a16 REP counts CX only */
    ck_assert_uint_eq(rd(tm, 0x5000, 4), 0x77772211);
    ck_assert_uint_eq(rd(tm, 0x5004, 1), 0);
    ck_assert_uint_eq(c->r[R_ECX], 0);
    ck_assert_uint_eq(c->r[R_EDI], 0x5004);
    ck_assert_uint_eq(c->r[R_ESI], 0x3002);
    tm_free(tm);
}
END_TEST

static unsigned port_reads, port_writes;
static uint8_t port_log[16];
static uint32_t port_rd(void *ctx, uint16_t port, int size)
{
    (void)ctx;
    (void)port;
    (void)size;
    return 0x100 + port_reads++;
}
static void port_wr(void *ctx, uint16_t port, int size, uint32_t v)
{
    (void)ctx;
    (void)port;
    if (port_writes < sizeof(port_log))
        port_log[port_writes] = (uint8_t)v;
    if (size == 2 && port_writes + 1 < sizeof(port_log))
        port_log[port_writes + 1] = (uint8_t)(v >> 8);
    port_writes += (unsigned)size;
}

START_TEST(rep_with_zero_count)
{
    struct tmachine *tm = REAL(c_repzero);
    struct cpu *c = &tm->cpu;
    bus_add_ports(&tm->bus, 0x300, 1, port_rd, port_wr, NULL);
    port_reads = port_writes = 0;
    c->r[R_ECX] = 0xffff0000;
    c->r[R_ESI] = 0x3000;
    c->r[R_EDI] = 0x4000;
    c->r[R_EDX] = 0x300;
    c->r[R_EAX] = 0x1234;
    c->eflags |= F_ZF | F_CF;
    wr(tm, 0x3000, 0x99, 1);
    run_hlt(tm);
    ck_assert_uint_eq(c->r[R_ECX], 0xffff0000);
    ck_assert_uint_eq(c->r[R_ESI], 0x3000);
    ck_assert_uint_eq(c->r[R_EDI], 0x4000);
    ck_assert_uint_eq(c->r[R_EAX], 0x1234);
    ck_assert_uint_eq(rd(tm, 0x4000, 2), 0);
    ck_assert_uint_eq(flags_lo(c), F_ZF | F_CF);
    ck_assert_uint_eq(port_reads + port_writes, 0);
    tm_free(tm);
}
END_TEST

START_TEST(cmps_scas_lods_flat)
{
    struct tmachine *tm = FLAT(c_cmps32);
    struct cpu *c = &tm->cpu;
    tm_poke(tm, 0x10000, "abcdef", 6);
    tm_poke(tm, 0x20000, "abcxef", 6);
    run_hlt(tm);
    ck_assert_uint_eq(rd(tm, 0x30000, 1), 0x93);
    ck_assert_uint_eq(rd(tm, 0x30004, 4), 2);
    ck_assert_uint_eq(rd(tm, 0x30008, 4), 0x10004);
    ck_assert_uint_eq(rd(tm, 0x3000c, 4), 0x20004);
    ck_assert_uint_eq(rd(tm, 0x30010, 1), 0x46);
    ck_assert_uint_eq(rd(tm, 0x30014, 4), 2);
    ck_assert_uint_eq(rd(tm, 0x30018, 4), 0x20004);
    ck_assert_uint_eq(rd(tm, 0x3001c, 4), 0x6665); /* LODSD with DF = 1 */
    ck_assert_uint_eq(rd(tm, 0x30020, 4), 0x10000);
    ck_assert_uint_eq(c->r[R_ECX], 1); /* REPE SCASW stopped on the 2nd word */
    ck_assert_uint_eq(c->r[R_EDI], 0x20004);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    tm_free(tm);
}
END_TEST

/* Long REP runs: resumable in chunks, backwards, overlapping. */
START_TEST(long_rep_runs)
{
    struct tmachine *tm = FLAT(c_longrep32);
    struct cpu *c = &tm->cpu;
    wr(tm, 0x60000, 0x77, 1);
    /* three MOVs and one execution of REP STOSB: an interrupt window with
     * EIP back on the instruction and the registers describing the rest */
    ck_assert_int_eq(tm_run(tm, 4), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->eip, CODE + 12);
    ck_assert_uint_eq(c->r[R_ECX], 10000 - 4096);
    ck_assert_uint_eq(c->r[R_EDI], 0x20000 + 4096);
    run_hlt(tm);
    for (uint32_t k = 0; k < 10000; k++)
        ck_assert_uint_eq(rd(tm, 0x20000 + k, 1), 0x5a);
    ck_assert_uint_eq(rd(tm, 0x20000 + 10000, 1), 0);
    for (uint32_t k = 0; k < 10000; k++)
        ck_assert_uint_eq(rd(tm, 0x40000 + k, 1), 0x5a);
    ck_assert_uint_eq(rd(tm, 0x3ffff, 1), 0);
    ck_assert_uint_eq(c->r[R_ESI], 0x60064);
    ck_assert_uint_eq(c->r[R_EDI], 0x60065);
    for (uint32_t k = 0; k <= 100; k++)
        ck_assert_uint_eq(rd(tm, 0x60000 + k, 1), 0x77); /* MOVSB DI=SI+1 replicates */
    ck_assert_uint_eq(rd(tm, 0x60065, 1), 0);
    tm_free(tm);
}
END_TEST

/* Identity-maps the first 4 MiB with a 4 KiB page table and turns paging on. */
#define PD 0x90000u
#define PT 0x91000u
static void paging_on(struct tmachine *tm)
{
    struct cpu *c = &tm->cpu;
    wr(tm, PD, PT | 3, 4);
    for (uint32_t p = 0; p < 1024; p++)
        wr(tm, PT + 4 * p, (p << 12) | 3, 4);
    cpu_write_cr3(c, PD);
    cpu_write_cr0(c, c->cr0 | CR0_PG);
}
static void map_page(struct tmachine *tm, uint32_t lin, bool present)
{
    wr(tm, PT + 4 * (lin >> 12), (lin & ~0xfffu) | (present ? 3u : 0u), 4);
    mmu_invlpg(&tm->cpu.mmu, lin);
}

/* A #PF in the middle of REP MOVSD: registers describe the faulting element,
 * and the restarted instruction completes the copy. */
START_TEST(rep_movsd_page_fault_restart)
{
    for (int misaligned = 0; misaligned < 2; misaligned++) {
        struct tmachine *tm = FLAT(c_repmovsd32);
        struct cpu *c = &tm->cpu;
        paging_on(tm);
        map_page(tm, 0x41000, false);
        for (uint32_t k = 0; k < 0x400; k += 4)
            wr(tm, 0x30000 + k, 0xc0de0000u + k, 4);
        wr(tm, 0x40ffc, 0xeeeeeeee, 4);
        uint32_t dst = 0x40f00 + (misaligned ? 2u : 0u);
        c->r[R_ESI] = 0x30000;
        c->r[R_EDI] = dst;
        c->r[R_ECX] = 0x100;
        ck_assert_int_eq(step(tm), EX_PF);
        ck_assert_uint_eq(c->fault_err, PF_W);
        ck_assert_uint_eq(c->cr2, 0x41000);
        ck_assert_uint_eq(c->eip, CODE);
        uint32_t done = misaligned ? 63 : 64;
        ck_assert_uint_eq(c->r[R_ECX], 0x100 - done);
        ck_assert_uint_eq(c->r[R_ESI], 0x30000 + 4 * done);
        ck_assert_uint_eq(c->r[R_EDI], dst + 4 * done);
        if (misaligned) /* the page-crossing dword wrote nothing */
            ck_assert_uint_eq(rd(tm, 0x40ffe, 2), 0xeeee);
        map_page(tm, 0x41000, true);
        run_hlt(tm);
        ck_assert_uint_eq(c->r[R_ECX], 0);
        ck_assert_uint_eq(c->r[R_EDI], dst + 0x400);
        for (uint32_t k = 0; k < 0x400; k += 4)
            ck_assert_uint_eq(rd(tm, dst + k, 4), 0xc0de0000u + k);
        tm_free(tm);
    }
}
END_TEST

/* The same fault through the run loop and the IDT: #PF with the REP's EIP. */
START_TEST(rep_movsd_page_fault_delivered)
{
    struct tmachine *tm = FLAT(c_repmovsd32);
    struct cpu *c = &tm->cpu;
    /* delivery loads CS from the GDT: flat code 0x08 and data 0x10 */
    static const uint32_t gdt[] = {0, 0, 0x0000ffff, 0x00cf9b00, 0x0000ffff, 0x00cf9300};
    tm_poke(tm, 0x4000, gdt, sizeof(gdt));
    c->gdtr.base = 0x4000;
    c->gdtr.limit = sizeof(gdt) - 1;
    tm_trap_all_vectors(tm);
    paging_on(tm);
    map_page(tm, 0x41000, false);
    c->r[R_ESI] = 0x30000;
    c->r[R_EDI] = 0x40ff8;
    c->r[R_ECX] = 4;
    run_hlt(tm);
    ck_assert_int_eq(tm_last_vector(tm), EX_PF);
    ck_assert_uint_eq(rd(tm, c->r[R_ESP], 4), PF_W); /* error code */
    ck_assert_uint_eq(rd(tm, c->r[R_ESP] + 4, 4), CODE); /* faulting EIP */
    ck_assert_uint_eq(c->r[R_ECX], 2);
    ck_assert_uint_eq(c->r[R_EDI], 0x41000);
    ck_assert_uint_eq(c->cr2, 0x41000);
    tm_free(tm);
}
END_TEST

/* A fault on the source page: read error code, nothing written. */
START_TEST(rep_movsd_source_page_fault)
{
    struct tmachine *tm = FLAT(c_repmovsd32);
    struct cpu *c = &tm->cpu;
    paging_on(tm);
    map_page(tm, 0x31000, false);
    c->r[R_ESI] = 0x30ff8;
    c->r[R_EDI] = 0x50000;
    c->r[R_ECX] = 4;
    ck_assert_int_eq(step(tm), EX_PF);
    ck_assert_uint_eq(c->fault_err, 0);
    ck_assert_uint_eq(c->cr2, 0x31000);
    ck_assert_uint_eq(c->r[R_ECX], 2);
    ck_assert_uint_eq(c->r[R_ESI], 0x31000);
    ck_assert_uint_eq(c->r[R_EDI], 0x50008);
    ck_assert_uint_eq(rd(tm, 0x50008, 4), 0);
    tm_free(tm);
}
END_TEST

/* Segment-limit faults mid-REP: #GP(0), registers at the faulting element. */
START_TEST(string_segment_limit_faults)
{
    struct tmachine *tm = FLAT(c_repmovsd32);
    struct cpu *c = &tm->cpu;
    set_limit(c, S_DS, 0xfff);
    c->r[R_ESI] = 0xff0;
    c->r[R_EDI] = 0x20000;
    c->r[R_ECX] = 8;
    ck_assert_int_eq(step(tm), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0);
    ck_assert_uint_eq(c->r[R_ECX], 4);
    ck_assert_uint_eq(c->r[R_ESI], 0x1000);
    ck_assert_uint_eq(c->r[R_EDI], 0x20010);
    ck_assert_uint_eq(c->eip, CODE);
    tm_free(tm);

    tm = FLAT(c_repstosd32);
    c = &tm->cpu;
    set_limit(c, S_ES, 0xfff);
    c->r[R_EDI] = 0xffe; /* straddles the limit */
    c->r[R_ECX] = 3;
    ck_assert_int_eq(step(tm), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0);
    ck_assert_uint_eq(c->r[R_ECX], 3);
    ck_assert_uint_eq(c->r[R_EDI], 0xffe);
    tm_free(tm);

    /* real mode: LODSW at offset 0xFFFF, delivered through the IVT */
    static const uint8_t lodsw[] = {0xbe, 0xff, 0xff, 0xad, 0xf4}; /* mov si, 0xffff; lodsw */
    tm = REAL(lodsw);
    tm_trap_all_vectors(tm);
    run_hlt(tm);
    ck_assert_int_eq(tm_last_vector(tm), EX_GP);
    ck_assert_uint_eq(rd(tm, 0xfffe - 6, 2), CODE + 3);
    tm_free(tm);
}
END_TEST

START_TEST(ins_outs_real)
{
    struct tmachine *tm = REAL(c_io16);
    struct cpu *c = &tm->cpu;
    bus_add_ports(&tm->bus, 0x300, 1, port_rd, port_wr, NULL);
    port_reads = port_writes = 0;
    memset(port_log, 0, sizeof(port_log));
    tm_poke(tm, 0x3000, "hello!!", 7);
    run_hlt(tm);
    ck_assert_int_eq(memcmp(port_log, "hello!!", 7), 0);
    ck_assert_uint_eq(rd(tm, 0x4000, 2), 0x100);
    ck_assert_uint_eq(rd(tm, 0x4002, 2), 0x101);
    ck_assert_uint_eq(rd(tm, 0x4004, 2), 0x102);
    ck_assert_uint_eq(rd(tm, 0x4006, 4), 0x103);
    ck_assert_uint_eq(c->r[R_EDI], 0x400a);
    ck_assert_uint_eq(c->r[R_ESI], 0x3007);
    tm_free(tm);
}
END_TEST

/* INS checks the destination before reading the port. */
START_TEST(ins_fault_before_port_read)
{
    struct tmachine *tm = FLAT(c_insd32);
    struct cpu *c = &tm->cpu;
    bus_add_ports(&tm->bus, 0x300, 4, port_rd, port_wr, NULL);
    port_reads = port_writes = 0;
    set_limit(c, S_ES, 0xfff);
    c->r[R_EDX] = 0x300;
    c->r[R_EDI] = 0xffc;
    c->r[R_ECX] = 2;
    ck_assert_int_eq(step(tm), EX_GP);
    ck_assert_uint_eq(port_reads, 1);
    ck_assert_uint_eq(c->r[R_ECX], 1);
    ck_assert_uint_eq(c->r[R_EDI], 0x1000);
    tm_free(tm);
}
END_TEST

/* Under TF each REP iteration is one execution (a trap after each). */
START_TEST(rep_single_steps_under_tf)
{
    struct tmachine *tm = FLAT(c_repstosd32);
    struct cpu *c = &tm->cpu;
    c->eflags |= F_TF;
    c->r[R_EDI] = 0x20000;
    c->r[R_ECX] = 3;
    ck_assert_int_eq(step(tm), NO_FAULT);
    ck_assert_uint_eq(c->r[R_ECX], 2);
    ck_assert_uint_eq(c->eip, CODE);
    tm_free(tm);
}
END_TEST

/* A data breakpoint hit mid-REP ends the execution after that iteration
 * (the #DB trap is then taken between iterations). The destination is
 * unbacked memory so that every store takes mem.c's slow path, where data
 * breakpoints are checked: with RAM, mem.c refills the TLB after its flush
 * and the inline path misses later hits (reported to the lead). */
START_TEST(rep_stops_at_data_breakpoint)
{
    struct tmachine *tm = FLAT(c_repstosd32);
    struct cpu *c = &tm->cpu;
    c->dr[0] = 0x200014;
    c->dr[7] = 0x400 | 1 | (1u << 16) | (3u << 18); /* L0, write, 4 bytes */
    cpu_debug_regs_changed(c);
    c->r[R_EDI] = 0x200000;
    c->r[R_ECX] = 10;
    c->data_bp_hit = false;
    ck_assert_int_eq(step(tm), NO_FAULT);
    ck_assert(c->data_bp_hit);
    ck_assert(c->dr[6] & 1);
    ck_assert_uint_eq(c->r[R_ECX], 4); /* elements 0..5 done */
    ck_assert_uint_eq(c->r[R_EDI], 0x200018);
    ck_assert_uint_eq(c->eip, CODE);
    tm_free(tm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("datactl");
    TCase *t = tcase_create("mov");
    tcase_add_test(t, mov_real);
    tcase_add_test(t, mov_flat);
    tcase_add_test(t, lea_sizes);
    tcase_add_test(t, xchg_forms);
    tcase_add_test(t, cbw_cwd);
    tcase_add_test(t, xlat_segments);
    tcase_add_test(t, lahf_sahf);
    tcase_add_test(t, cmpxchg_both_outcomes);
    tcase_add_test(t, cmpxchg_failed_compare_writes);
    tcase_add_test(t, cmpxchg8b_both_outcomes);
    tcase_add_test(t, xadd_forms);
    tcase_add_test(t, bound_real_delivers_br);
    tcase_add_test(t, bound_signed_32);
    tcase_add_test(t, ud2_and_hint_nop);
    tcase_add_test(t, flag_insns);
    suite_add_tcase(s, t);

    t = tcase_create("stack");
    tcase_add_test(t, push_pop_real);
    tcase_add_test(t, push_pop_esp_semantics);
    tcase_add_test(t, pusha_popa_16);
    tcase_add_test(t, pushad_esp_slot);
    tcase_add_test(t, popad_limit_fault);
    tcase_add_test(t, push_ss_limit_fault);
    tcase_add_test(t, enter_nested_32);
    tcase_add_test(t, enter_leave_16);
    suite_add_tcase(s, t);

    t = tcase_create("branch");
    tcase_add_test(t, jcc_jmp_real);
    tcase_add_test(t, jcc_all_conditions);
    tcase_add_test(t, call_ret_32);
    tcase_add_test(t, call_ret_16);
    tcase_add_test(t, loop_real);
    tcase_add_test(t, loop_flat);
    tcase_add_test(t, loope_loopne);
    tcase_add_test(t, branch_o16_truncates);
    tcase_add_test(t, branch_limit_faults);
    suite_add_tcase(s, t);

    t = tcase_create("string");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, movs_segments_real);
    tcase_add_test(t, string_wrap_16);
    tcase_add_test(t, string_address_sizes);
    tcase_add_test(t, rep_with_zero_count);
    tcase_add_test(t, cmps_scas_lods_flat);
    tcase_add_test(t, long_rep_runs);
    tcase_add_test(t, rep_movsd_page_fault_restart);
    tcase_add_test(t, rep_movsd_page_fault_delivered);
    tcase_add_test(t, rep_movsd_source_page_fault);
    tcase_add_test(t, string_segment_limit_faults);
    tcase_add_test(t, ins_outs_real);
    tcase_add_test(t, ins_fault_before_port_read);
    tcase_add_test(t, rep_single_steps_under_tf);
    tcase_add_test(t, rep_stops_at_data_breakpoint);
    suite_add_tcase(s, t);

    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
