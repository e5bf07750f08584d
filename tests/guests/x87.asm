; x87 -- the x87 FPU as an OS sees it: FNINIT state, bit-exact arithmetic
; (constants, FSQRT, FIST/FBSTP, FCOMI, precision control), FSAVE/FRSTOR
; round trips in the 32-bit and 16-bit (o16) protected-mode formats, #NM
; (CR0.TS, CR0.EM, WAIT with MP), lazy FPU context switching through #NM
; between two save areas, #MF (CR0.NE = 1) at the next waiting instruction
; with FIP/FCS in FSTENV, and the PC/AT legacy path (CR0.NE = 0): FERR# ->
; IRQ 13 on the slave 8259A (vector 0x2D), cleared by a write to port 0xF0.
;
; Sections 1-4 are portable. Section 5 holds details QEMU 7.2 (TCG) gets
; wrong, section 6 the FERR# path, which QEMU 7.2 cannot run:
;   - QEMU's FRSTOR/FLDENV ignore FIP/FCS/FDP/FDS, it stores FOP as 0, it
;     updates FIP for FNSTSW (a control instruction), an unmasked #Z still
;     stores the result and pops, and #MF is only checked at FWAIT (not
;     before other waiting x87 instructions). Expected on QEMU (exit 35):
;     "FAIL: FRSTOR loads FIP/FCS/FOP/FDP/FDS: first differing byte from
;     offset 12: got 00000000, expected FFFFFFFF".
;   - Raising FERR# with CR0.NE = 0 aborts QEMU 7.2 (assertion
;     qemu_mutex_iothread_locked() in tcg_handle_interrupt), so section 6
;     comes last and QEMU never reaches it.
; FERR# timing (section 6): on the P6, FERR# is asserted when the faulting
; x87 instruction completes (SDM Vol. 3, 19.18.6.7), and the processor
; freezes before the next waiting x87 instruction until the interrupt is
; taken (Vol. 1, D.2): the IRQ 13 handler must run after the FDIV and
; before the waiting FWAIT/FLD executes. Bochs 2.7 takes it after the
; waiting instruction (fails the last checks).
%define GUEST_NAME "x87"
%include "guest.inc"

CR0_MP equ 0x02
CR0_EM equ 0x04
CR0_TS equ 0x08
CR0_NE equ 0x20

SW_ES  equ 0x0080
SW_B   equ 0x8000
SW_TOP equ 0x3800

; CHECK_W mem16, expected, "name" -- compare a 16-bit memory word
%macro CHECK_W 3
    push eax
    movzx eax, word %1
    mov [ss:check_tmp], eax
    pop eax
    CHECK dword [ss:check_tmp], %2, %3
%endmacro

; CHECK_RANGE mem32, lo, hi, "name" -- lo <= value <= hi (unsigned)
%macro CHECK_RANGE 4
    push eax
    mov eax, %1
    cmp eax, %2
    jb %%bad
    cmp eax, %3
    jbe %%ok
%%bad:
    PRINT "  got "
    PRINT_HEX eax
    PRINT ", expected "
    PRINT_HEX %2
    PRINT " .. "
    PRINT_HEX %3
    call print_nl
    FAIL %4
%%ok:
    pop eax
%endmacro

; SET_CR0 or_bits, and_not_bits
%macro SET_CR0 2
    mov eax, cr0
    or eax, %1
    and eax, ~(%2)
    mov cr0, eax
%endmacro

test_main:
    mov dword [exc_hook], x87_hook
    SET_CR0 CR0_MP | CR0_NE, CR0_EM | CR0_TS

    ; ================= 1. FNINIT state and basic arithmetic =================
    fninit
    mov dword [tmp], 0
    fnstcw [tmp]
    CHECK dword [tmp], 0x037F, "FNSTCW after FNINIT"
    mov eax, -1
    fnstsw ax
    CHECK eax, 0xFFFF0000, "FNSTSW AX after FNINIT (only AX written)"
    fnstenv [env]
    CHECK_W [env + 0], 0x037F, "FSTENV control word after FNINIT"
    CHECK_W [env + 4], 0x0000, "FSTENV status word after FNINIT"
    CHECK_W [env + 8], 0xFFFF, "FSTENV tag word after FNINIT (all empty)"
    fninit

    ; FLD1 + FLDPI, rounded to double by FSTP m64
    fld1
    fldpi
    fstp tword [t80]                ; FLDPI, round to nearest
    CHECK dword [t80 + 4], 0xC90FDAA2, "FLDPI significand high"
    CHECK dword [t80], 0x2168C235, "FLDPI significand low (round to nearest)"
    CHECK_W [t80 + 8], 0x4000, "FLDPI sign/exponent"
    fldpi
    faddp st1
    fstp qword [q]
    CHECK dword [q + 4], 0x401090FD, "FLD1+FLDPI as m64 (high)"
    CHECK dword [q], 0xAA22168C, "FLD1+FLDPI as m64 (low)"

    ; FSQRT(2.0)
    fld qword [two]
    fsqrt
    fst qword [q]
    fstp tword [t80]
    CHECK dword [q + 4], 0x3FF6A09E, "FSQRT(2) as m64 (high)"
    CHECK dword [q], 0x667F3BCD, "FSQRT(2) as m64 (low)"
    CHECK dword [t80 + 4], 0xB504F333, "FSQRT(2) m80 significand high"
    CHECK dword [t80], 0xF9DE6484, "FSQRT(2) m80 significand low"
    CHECK_W [t80 + 8], 0x3FFF, "FSQRT(2) m80 exponent"

    ; FIST: round to nearest even, then chop
    fld dword [f2_5]
    fistp dword [tmp]
    CHECK dword [tmp], 2, "FISTP m32 of 2.5 (round to even)"
    fld dword [fm3_5]
    fistp dword [tmp]
    CHECK dword [tmp], -4, "FISTP m32 of -3.5 (round to even)"
    mov dword [tmp], -1
    fld dword [f2_5]
    fistp word [tmp]
    CHECK dword [tmp], 0xFFFF0002, "FISTP m16 of 2.5 (only 16 bits written)"
    fldcw [cw_chop]
    fld dword [fm3_5]
    fistp dword [tmp]
    CHECK dword [tmp], -3, "FISTP m32 of -3.5 with RC = chop"
    fldcw [cw_default]

    ; FBSTP
    fild dword [i1234567]
    fbstp [bcd]
    CHECK dword [bcd], 0x01234567, "FBSTP 1234567 digits 0-7"
    CHECK dword [bcd + 4], 0, "FBSTP 1234567 digits 8-15"
    CHECK_W [bcd + 8], 0x0000, "FBSTP 1234567 digits 16-17 and sign"
    fild dword [im987654321]
    fbstp [bcd]
    CHECK dword [bcd], 0x87654321, "FBSTP -987654321 digits 0-7"
    CHECK dword [bcd + 4], 0x00000009, "FBSTP -987654321 digits 8-15"
    CHECK_W [bcd + 8], 0x8000, "FBSTP -987654321 sign byte"
    fnstsw ax
    CHECK_BITS eax, SW_TOP, 0, "TOP back to 0 after the FIST/FBSTP pops"

    ; FCOMI/FCOMIP/FUCOMIP set ZF, PF and CF (OF/SF/AF: the P6-era SDM
    ; leaves them undefined and QEMU keeps them, so they are not checked)
    fld1                            ; ST1 = 1
    fld qword [two]                 ; ST0 = 2
    call flags_set
    fcomi st0, st1
    CHECK_EFLAGS 0x45, 0x00, "FCOMI 2 > 1: ZF=PF=CF=0"
    fxch st1                        ; ST0 = 1, ST1 = 2
    call flags_set
    fcomi st0, st1
    CHECK_EFLAGS 0x45, 0x01, "FCOMI 1 < 2: CF=1"
    fld st0
    call flags_set
    fcomip st0, st1
    CHECK_EFLAGS 0x45, 0x40, "FCOMIP 1 == 1: ZF=1"
    fld tword [m80_qnan]
    call flags_clear
    fucomip st0, st1
    CHECK_EFLAGS 0x45, 0x45, "FUCOMIP NaN vs 1: ZF=PF=CF=1 (unordered)"
    fnstsw ax
    CHECK_BITS eax, SW_TOP | 0x01, 0x3000, "FUCOMIP with a QNaN: TOP=6, no IE"
    fstp st0
    fstp st0

    ; precision control: 1/3 at 24, 53 and 64 bits
    fldcw [cw_pc24]
    fld1
    fdiv dword [three]
    fst qword [q]
    fstp tword [t80]
    CHECK dword [q + 4], 0x3FD55555, "1/3 with PC=24 as m64 (high)"
    CHECK dword [q], 0x60000000, "1/3 with PC=24 as m64 (low)"
    CHECK dword [t80 + 4], 0xAAAAAB00, "1/3 with PC=24 m80 significand high"
    CHECK dword [t80], 0, "1/3 with PC=24 m80 significand low"
    fldcw [cw_pc53]
    fld1
    fdiv dword [three]
    fstp tword [t80]
    CHECK dword [t80 + 4], 0xAAAAAAAA, "1/3 with PC=53 m80 significand high"
    CHECK dword [t80], 0xAAAAA800, "1/3 with PC=53 m80 significand low"
    fldcw [cw_default]
    fld1
    fdiv dword [three]
    fst qword [q]
    fstp tword [t80]
    CHECK dword [q + 4], 0x3FD55555, "1/3 with PC=64 as m64 (high)"
    CHECK dword [q], 0x55555555, "1/3 with PC=64 as m64 (low)"
    CHECK dword [t80 + 4], 0xAAAAAAAA, "1/3 with PC=64 m80 significand high"
    CHECK dword [t80], 0xAAAAAAAB, "1/3 with PC=64 m80 significand low"
    CHECK_W [t80 + 8], 0x3FFD, "1/3 m80 exponent"
    PRINTLN "ok: FNINIT state and arithmetic"

    ; ================= 2. FSAVE / FRSTOR =================
    call load_state
    mov edi, img1
    mov al, 0xEE
    mov ecx, 112
    rep stosb
    fsave [img1]
    CHECK_W [img1 + 0], 0x067F, "FSAVE image: control word"
    CHECK_W [img1 + 4], 0x1424, "FSAVE image: status word (TOP=2, C2, PE, ZE)"
    CHECK_W [img1 + 8], 0x298F, "FSAVE image: tag word"
    CHECK dword [img1 + 12], state_fxam, "FSAVE image: FIP = the FXAM"
    CHECK_W [img1 + 16], KCODE, "FSAVE image: FCS"
    mov ax, [img1 + 18]
    mov [fop_fsave], ax             ; FOP: checked at the end (QEMU)
    CHECK dword [img1 + 108], 0xEEEEEEEE, "FSAVE wrote beyond 108 bytes"
    ; the registers in ST order
    mov esi, img1 + 28
    mov edi, exp_regs
    mov ecx, 60
    call cmp_bytes
    CHECK eax, -1, "FSAVE image: first differing register byte (ST0..ST5)"
    ; FSAVE reinitialises the FPU
    mov dword [tmp], 0
    fnstcw [tmp]
    CHECK dword [tmp], 0x037F, "FNSTCW after FSAVE (reinitialised)"
    fnstsw ax
    CHECK_BITS eax, 0xFFFF, 0, "FNSTSW after FSAVE (reinitialised)"
    fnstenv [env]
    CHECK_W [env + 8], 0xFFFF, "tag word after FSAVE (reinitialised)"
    ; FNINIT, FRSTOR, FSAVE again: identical image
    fninit
    frstor [img1]
    fnstsw ax
    CHECK_BITS eax, 0xFFFF, 0x1424, "FNSTSW after FRSTOR"
    mov dword [tmp], 0
    fnstcw [tmp]
    CHECK dword [tmp], 0x067F, "FNSTCW after FRSTOR"
    fsave [img2]
    mov esi, img2
    mov edi, img1
    mov ecx, 12
    call cmp_bytes
    CHECK eax, -1, "FRSTOR+FSAVE image: first byte of CW/SW/TW differing from the first FSAVE"
    mov esi, img2 + 28
    mov edi, img1 + 28
    mov ecx, 80
    call cmp_bytes
    CHECK eax, -1, "FRSTOR+FSAVE image: first register byte differing from the first FSAVE"
    ; the FIP/FCS+FOP/FDP/FDS dwords (offsets 12..27) are compared at the end
    ; the restored registers hold the values
    frstor [img1]
    fstp tword [t80]
    CHECK dword [t80 + 4], 0xC90FDAA2, "restored ST0 (FLDPI RC=down) high"
    CHECK dword [t80], 0x2168C234, "restored ST0 (FLDPI RC=down) low"
    fstp qword [q]
    CHECK dword [q + 4], 0xFFF00000, "restored ST1 (-inf) as m64"
    fstp st0
    fstp tword [t80]
    CHECK dword [t80], 0xDEADBEEF, "restored ST3 (QNaN payload)"
    fstp tword [t80]
    CHECK dword [t80], 0x56789ABC, "restored ST4 (denormal) low"
    CHECK dword [t80 + 4], 0x00001234, "restored ST4 (denormal) high"
    CHECK_W [t80 + 8], 0x0000, "restored ST4 (denormal) exponent"
    fninit

    ; 16-bit protected-mode format (operand-size prefix): 94 bytes
    call load_state
    mov edi, img16
    mov al, 0xEE
    mov ecx, 112
    rep stosb
    o16 fnsave [img16]
    CHECK_W [img16 + 0], 0x067F, "o16 FSAVE image: control word"
    CHECK_W [img16 + 2], 0x1424, "o16 FSAVE image: status word"
    CHECK_W [img16 + 4], 0x298F, "o16 FSAVE image: tag word"
    CHECK_W [img16 + 6], (state_fxam - mb_header + 0x100000) & 0xFFFF, "o16 FSAVE image: IP offset"
    CHECK_W [img16 + 8], KCODE, "o16 FSAVE image: CS selector"
    CHECK_W [img16 + 94], 0xEEEE, "o16 FSAVE wrote beyond 94 bytes"
    mov esi, img16 + 14
    mov edi, img1 + 28
    mov ecx, 80
    call cmp_bytes
    CHECK eax, -1, "o16 FSAVE image: first differing register byte"
    mov dword [tmp], 0
    fnstcw [tmp]
    CHECK dword [tmp], 0x037F, "FNSTCW after o16 FSAVE (reinitialised)"
    o16 frstor [img16]
    fsave [img3]
    mov esi, img3
    mov edi, img1
    mov ecx, 12
    call cmp_bytes
    CHECK eax, -1, "o16 FRSTOR then FSAVE: first differing byte of CW/SW/TW"
    mov esi, img3 + 28
    mov edi, img1 + 28
    mov ecx, 80
    call cmp_bytes
    CHECK eax, -1, "o16 FRSTOR then FSAVE: first differing register byte"
    PRINTLN "ok: FSAVE/FRSTOR (32-bit and o16 formats)"

    ; ================= 3. #NM =================
    fninit
    fld1
    SET_CR0 CR0_TS | CR0_MP, CR0_EM
    EXPECT 7, 0, .nm1, .nm1r
.nm1: fld dword [three]
.nm1r:
    EXPECT_SEEN "#NM from FLD with CR0.TS=1"
    EXPECT 7, 0, .nm2, .nm2r
.nm2: fld dword [es:three]          ; saved EIP = the segment prefix
.nm2r:
    EXPECT_SEEN "#NM from ES: FLD with CR0.TS=1 (EIP at the prefix)"
    EXPECT 7, 0, .nm3, .nm3r
.nm3: fnstsw ax                     ; even no-wait control instructions
.nm3r:
    EXPECT_SEEN "#NM from FNSTSW with CR0.TS=1"
    EXPECT 7, 0, .nm4, .nm4r
.nm4: wait
.nm4r:
    EXPECT_SEEN "#NM from WAIT with CR0.TS=1, MP=1"
    SET_CR0 0, CR0_MP
    wait                            ; TS=1, MP=0: no #NM
    clts
    mov eax, cr0
    CHECK_BITS eax, CR0_TS, 0, "CLTS cleared CR0.TS"
    fnstsw ax
    CHECK_BITS eax, SW_TOP, 0x3800, "the faulting FLDs did not push (TOP=7)"
    SET_CR0 CR0_EM | CR0_MP, CR0_TS
    EXPECT 7, 0, .nm5, .nm5r
.nm5: fldz
.nm5r:
    EXPECT_SEEN "#NM from FLDZ with CR0.EM=1"
    EXPECT 7, 0, .nm6, .nm6r
.nm6: fninit
.nm6r:
    EXPECT_SEEN "#NM from FNINIT with CR0.EM=1"
    wait                            ; EM=1, MP=1, TS=0: WAIT does not fault
    SET_CR0 CR0_MP, CR0_EM | CR0_TS
    fnstsw ax
    CHECK_BITS eax, SW_TOP, 0x3800, "the #NM with EM=1 left the FPU alone"

    ; lazy switching between two tasks (two save areas) through #NM
    fninit
    fild dword [c3]
    fldz                            ; task A: ST0 = 0 (sum), ST1 = 3
    fnsave [areaA]
    fild dword [c2]
    fld1                            ; task B: ST0 = 1 (product), ST1 = 2
    fnsave [areaB]
    fninit
    fldpi                           ; junk that belongs to no task
    mov dword [fpu_owner], 0
    mov dword [lazy_on], 1
    mov edi, 0                      ; task A's expected sum
    mov ebx, 1                      ; task B's expected product
    mov esi, 6                      ; alternations
.lazy:
    mov dword [cur_task], areaA
    SET_CR0 CR0_TS, 0               ; "switch to A"
    call task_a_step
    add edi, 3
    CHECK dword [a_val], edi, "lazy switch: task A's running sum"
    mov dword [cur_task], areaB
    SET_CR0 CR0_TS, 0               ; "switch to B"
    call task_b_step
    add ebx, ebx
    CHECK dword [b_val], ebx, "lazy switch: task B's running product"
    dec esi
    jnz .lazy
    ; switch to B again: #NM, but B already owns the FPU: no save/restore
    SET_CR0 CR0_TS, 0
    call task_b_step
    add ebx, ebx
    CHECK dword [b_val], ebx, "lazy switch: task B again"
    ; switch to A without any FPU use: no #NM at all
    mov dword [cur_task], areaA
    SET_CR0 CR0_TS, 0
    mov dword [lazy_on], 0
    clts
    CHECK dword [nm_count], 13, "number of #NM taken by lazy switching"
    CHECK dword [save_count], 11, "number of FNSAVEs of a previous owner"
    CHECK dword [restore_count], 12, "number of FRSTORs of the new owner"
    CHECK dword [nm_bad], 0, "#NM during lazy switching: error code or EIP wrong"
    ; the saved image of A is what A left
    fnsave [areaB]                  ; B is the owner: save it
    frstor [areaA]
    fistp dword [tmp]
    CHECK dword [tmp], 18, "task A's saved sum"
    fistp dword [tmp]
    CHECK dword [tmp], 3, "task A's saved addend"
    frstor [areaB]
    fistp dword [tmp]
    CHECK dword [tmp], 128, "task B's saved product"
    fninit
    PRINTLN "ok: #NM and lazy switching"

    ; ================= 4. #MF (CR0.NE = 1) =================
    SET_CR0 CR0_NE | CR0_MP, CR0_EM | CR0_TS
    fninit
    fldcw [cw_zm]
    fld1
    fldz
    mov ebx, 0
.fdiv: fdivp st1                    ; ST1 / ST0 = 1/0: unmasked #Z, deferred
    mov ebx, 0x1234                 ; runs: nothing raised yet
    CHECK ebx, 0x1234, "no exception at the FDIV itself"
    mov dword [mf_on], 1
    EXPECT 16, 0, .mfw, 0           ; #MF, no error code, EIP = the FWAIT
.mfw: fwait
    mov ecx, 0x5678
    EXPECT_SEEN "#MF at the FWAIT after an unmasked FDIV by zero"
    CHECK ecx, 0x5678, "execution resumed after the #MF handler"
    CHECK_BITS [mf_sw], SW_B | 0xFF, SW_B | SW_ES | 0x04, \
        "status word seen by the #MF handler: B, ES, ZE"
    mov eax, [mf_sw]
    mov [mf_top], eax               ; TOP checked at the end (QEMU pops)
    CHECK dword [mf_env + 12], .fdiv, "FSTENV FIP in the #MF handler = the FDIV"
    CHECK_W [mf_env + 16], KCODE, "FSTENV FCS in the #MF handler"
    mov ax, [mf_env + 18]
    mov [fop_mf1], ax
    fnstsw ax
    CHECK_BITS eax, SW_B | 0xFF, 0, "status after FNCLEX in the handler"
    fstp dword [mf_st0]             ; checked at the end (QEMU stores 1/0)
    fstp dword [mf_st1]
    ; FNINIT discards a pending exception
    fninit
    fldcw [cw_zm]
    fld1
    fldz
    fdivp st1
    fninit
    fwait                           ; nothing pending any more
    mov dword [mf_on], 0
    PRINTLN "ok: #MF"

    ; ================= 5. details QEMU 7.2 gets wrong =================
    ; FRSTOR loads the instruction and data pointers; the FSAVE after it
    ; (a control instruction) stores them unchanged. QEMU ignores them.
    mov esi, img2 + 12
    mov edi, img1 + 12
    mov ecx, 16
    call cmp_bytes
    CHECK eax, -1, "FRSTOR loads FIP/FCS/FOP/FDP/FDS: first differing byte from offset 12"
    CHECK_W [img3 + 12], (state_fxam - mb_header + 0x100000) & 0xFFFF, "o16 FRSTOR then FSAVE: FIP low"
    CHECK_W [img3 + 16], KCODE, "o16 FRSTOR then FSAVE: FCS"
    ; Bits 26:16 of the FCS dword (offset 16) of the 32-bit protected-mode
    ; image hold the last non-control instruction's opcode (11 bits: low 3
    ; bits of the first byte, then the ModRM byte). QEMU stores 0 here.
    CHECK_W [fop_fsave], 0x01E5, "FSAVE image: FOP of FXAM (D9 E5)"
    CHECK_W [fop_mf1], 0x06F9, "FSTENV FOP in the #MF handler (FDIVP, DE F9)"
    ; an unmasked #Z leaves TOP and the operands unchanged (SDM Vol. 1,
    ; 8.5.3); QEMU stores the masked result and pops.
    CHECK_BITS [mf_top], SW_TOP, 0x3000, "unmasked #Z in FDIVP: TOP unchanged (no pop)"
    CHECK dword [mf_st0], 0, "unmasked #Z in FDIVP: divisor ST0 (0.0) unchanged"
    CHECK dword [mf_st1], 0x3F800000, "unmasked #Z in FDIVP: dividend ST1 (1.0) unchanged"
    ; control instructions (here FNSTSW, FNSTCW, FNCLEX) leave FIP alone;
    ; QEMU updates FIP for FNSTSW.
    fninit
.fip: fld1
    fnstsw ax
    fnstcw [tmp]
    fnclex
    fnstenv [env]
    CHECK dword [env + 12], .fip, "FIP after FLD1 then FNSTSW/FNSTCW/FNCLEX = the FLD1"
    ; #MF is signalled before any waiting x87 instruction, not only FWAIT
    ; (QEMU checks at FWAIT only): here an FLD, which then runs once.
    SET_CR0 CR0_NE | CR0_MP, CR0_EM | CR0_TS
    mov dword [mf_on], 1
    fninit
    fldcw [cw_zm]
    fld1
    fldz
.fdiv2: fdiv st1, st0               ; ST1 = ST1 / ST0 (no pop)
    EXPECT 16, 0, .mff, 0
.mff: fld dword [three]
    EXPECT_SEEN "#MF at an FLD after an unmasked FDIV by zero"
    mov dword [mf_on], 0
    CHECK dword [mf_env + 12], .fdiv2, "FIP for the #MF at the FLD = that FDIV"
    CHECK_W [mf_env + 18], 0x04F9, "FOP for the #MF at the FLD (FDIV, DC F9)"
    fnstsw ax
    CHECK_BITS eax, SW_TOP, 0x2800, "the FLD after the #MF pushed once (TOP=5)"
    fstp dword [tmp]
    CHECK dword [tmp], 0x40400000, "the FLD after the #MF loaded 3.0"
    fninit
    PRINTLN "ok: details (FRSTOR pointers, FOP, unmasked #Z, #MF at FLD)"

    ; ================= 6. legacy FERR# -> IRQ 13 (CR0.NE = 0) =================
    ; 8259A pair: vectors 0x20/0x28; only IRQ 2 (cascade) and IRQ 13 unmasked
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01
    out 0x21, al
    out 0xA1, al
    mov al, 0xFB
    out 0x21, al
    mov al, 0xDF
    out 0xA1, al
    SET_CR0 CR0_MP, CR0_NE | CR0_EM | CR0_TS
    fninit
    fldcw [cw_zm]
    sti
    fld1
    fldz
    fdiv st1, st0                   ; unmasked #Z: FERR# on completion (P6)
.fd1_end:
    nop
    nop
.lw1: fwait                         ; must not run before the IRQ 13 handler
    nop
    nop
    cli
    CHECK dword [irq13_count], 1, "IRQ 13 (vector 0x2D) from FERR# with CR0.NE=0"
    mov eax, [irq13_eip]
    mov [irq13_eip1], eax
    PRINT "info: IRQ 13 saved EIP "
    PRINT_HEX [irq13_eip1]
    PRINT " (FDIV ends at "
    PRINT_HEX .fd1_end
    PRINT ", FWAIT at "
    PRINT_HEX .lw1
    PRINTLN ")"
    fnstsw ax
    CHECK_BITS eax, SW_B | SW_ES | 0x3F, 0, "FNCLEX in the IRQ 13 handler cleared B/ES/ZE"
    ; again, now before a waiting FLD (which then runs once); the write
    ; to port 0xF0 in the first IRQ 13 released FERR#, so it rises again
    fninit
    fldcw [cw_zm]
    sti
    fld1
    fldz
    fdiv st1, st0
.fd2_end:
    nop
.lw2: fld dword [three]
    nop
    cli
    CHECK dword [irq13_count], 2, "second IRQ 13 (port 0xF0 released FERR#)"
    mov eax, [irq13_eip]
    mov [irq13_eip2], eax
    fnstsw ax
    CHECK_BITS eax, SW_TOP, 0x2800, "the FLD after IRQ 13 pushed once (TOP=5)"
    ; On the P6, FERR# is asserted when the faulting instruction completes
    ; (SDM Vol. 3, 19.18.6.7 "Assertion of the FERR# pin"), and the
    ; processor freezes before the next waiting x87 instruction until the
    ; interrupt is taken (Vol. 1, D.2): the IRQ 13 handler runs after the
    ; FDIV and before the waiting FWAIT/FLD executes.
    CHECK_RANGE [irq13_eip1], .fd1_end, .lw1, \
        "IRQ 13 taken after the FDIV and before the waiting FWAIT executes"
    CHECK_RANGE [irq13_eip2], .fd2_end, .lw2, \
        "IRQ 13 taken after the FDIV and before the waiting FLD executes"
    fninit
    call pic_mask_all
    SET_CR0 CR0_NE, 0
    PASS

; load_state: FNINIT, CW = 0x067F (RC = down, PC = 53, all masked), then
; ST0..ST5 = pi (RC down), -inf (1/-0... via ZE), +0, QNaN, denormal, -1.5;
; status: ZE and PE from masked exceptions, C2 from FXAM of pi (TOP = 2).
load_state:
    fninit
    fldcw [cw_067f]
    fld tword [m80_normal]
    fld tword [m80_denorm]
    fld tword [m80_qnan]
    fldz
    fld1
    fchs
    fldz
    fdivp st1                       ; -1 / +0 = -inf, masked ZE
    fld1
    fdiv dword [three]              ; masked PE
    fstp st0
    fldpi
state_fxam:
    fxam                            ; C3=0 C2=1 C1=0 C0=0: positive normal
    ret

; task steps (lazy switching): the first x87 instruction raises #NM when
; CR0.TS is set; the handler makes the task's state current.
task_a_step:
.fpu: fadd st0, st1                 ; sum += 3
    fist dword [a_val]
    ret
task_b_step:
.fpu: fmul st0, st1                 ; product *= 2
    fist dword [b_val]
    ret

; flags_set / flags_clear: ZF, PF, CF (and OF, SF, AF) all 1 / all 0
flags_set:
    pushfd
    or dword [esp], 0x8D5
    popfd
    ret
flags_clear:
    pushfd
    and dword [esp], ~0x8D5
    popfd
    ret

; cmp_bytes: ESI, EDI, ECX bytes -> EAX = offset of the first difference or -1
cmp_bytes:
    push esi
    push ecx
    mov eax, esi
    repe cmpsb
    je .same
    dec esi
    sub esi, eax
    mov eax, esi
    jmp .out
.same:
    mov eax, -1
.out:
    pop ecx
    pop esi
    ret

; exc_hook: #NM while lazy switching, #MF (records the FPU state, FNCLEX,
; then lets EXPECT check the frame), IRQ 13 (vector 0x2D).
x87_hook:
    mov eax, [ebp + F_VEC]
    cmp eax, 7
    je .nm
    cmp eax, 16
    je .mf
    cmp eax, 0x2D
    je .irq13
.other:
    mov eax, 1
    ret
.nm:
    cmp dword [lazy_on], 0
    je .other
    inc dword [nm_count]
    mov eax, [ebp + F_EIP]
    cmp eax, task_a_step
    je .nm_eip_ok
    cmp eax, task_b_step
    je .nm_eip_ok
    inc dword [nm_bad]
.nm_eip_ok:
    cmp dword [ebp + F_ERR], 0
    je .nm_err_ok
    inc dword [nm_bad]
.nm_err_ok:
    clts
    mov eax, [cur_task]
    mov ebx, [fpu_owner]
    cmp eax, ebx
    je .nm_done
    test ebx, ebx
    jz .nm_noprev
    fnsave [ebx]
    inc dword [save_count]
.nm_noprev:
    frstor [eax]
    inc dword [restore_count]
    mov [fpu_owner], eax
.nm_done:
    xor eax, eax
    ret
.mf:
    cmp dword [mf_on], 0
    je .other
    fnstenv [mf_env]                ; first, as handlers do
    movzx eax, word [mf_env + 4]
    mov [mf_sw], eax
    fnclex
    fldcw [mf_env]                  ; FNSTENV masked everything
    mov eax, 1                      ; EXPECT checks vector, error code, EIP
    ret
.irq13:
    inc dword [irq13_count]
    mov eax, [ebp + F_EIP]
    mov [irq13_eip], eax
    xor eax, eax
    out 0xF0, al                    ; clear FERR# (busy latch)
    fnclex
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    xor eax, eax
    ret

section .data
align 4
two:        dq 2.0
f2_5:       dd 2.5
fm3_5:      dd -3.5
three:      dd 3.0
c2:         dd 2
c3:         dd 3
i1234567:   dd 1234567
im987654321: dd -987654321
cw_default: dw 0x037F
cw_chop:    dw 0x0F7F
cw_pc24:    dw 0x007F
cw_pc53:    dw 0x027F
cw_067f:    dw 0x067F               ; RC = down, PC = 53
cw_zm:      dw 0x037B               ; zero-divide unmasked
align 4
m80_normal: dq 0xC000000000000000
            dw 0xBFFF               ; -1.5
m80_denorm: dq 0x0000123456789ABC
            dw 0x0000
m80_qnan:   dq 0xC0000000DEADBEEF
            dw 0x7FFF
; expected ST0..ST5 of load_state, 10 bytes each
exp_regs:
            dq 0xC90FDAA22168C234   ; pi rounded down
            dw 0x4000
            dq 0x8000000000000000   ; -inf
            dw 0xFFFF
            dq 0                    ; +0
            dw 0
            dq 0xC0000000DEADBEEF   ; QNaN
            dw 0x7FFF
            dq 0x0000123456789ABC   ; denormal
            dw 0x0000
            dq 0xC000000000000000   ; -1.5
            dw 0xBFFF

section .bss
alignb 16
tmp:        resd 1
q:          resq 1
t80:        resb 16
bcd:        resb 16
env:        resb 32
mf_env:     resb 32
mf_sw:      resd 1
img1:       resb 112
img2:       resb 112
img3:       resb 112
img16:      resb 112
areaA:      resb 112
areaB:      resb 112
cur_task:   resd 1
fpu_owner:  resd 1
lazy_on:    resd 1
mf_on:      resd 1
nm_count:   resd 1
nm_bad:     resd 1
save_count: resd 1
restore_count: resd 1
a_val:      resd 1
b_val:      resd 1
fop_fsave:  resd 1
mf_top:     resd 1
mf_st0:     resd 1
mf_st1:     resd 1
fop_mf1:    resd 1
irq13_count: resd 1
irq13_eip:  resd 1
irq13_eip1: resd 1
irq13_eip2: resd 1
%include "end.inc"
