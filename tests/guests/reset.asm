; reset -- machine resets requested by the guest reboot the machine: the
; first boot pulses the CPU reset line through the 8042 (command 0xFE), the
; second through port 0x92 (fast reset); RAM keeps its contents across a
; reset, so a counter at 5 MiB tells the boots apart. The third boot PASSes.
; (Run without --no-reboot; with it the first reset ends the run, status 12.)
%define GUEST_NAME "reset"
%include "guest.inc"

COUNTER equ 0x500000
MAGIC   equ 0x7e5e7b00

test_main:
    mov eax, [COUNTER]
    and eax, 0xffffff00
    cmp eax, MAGIC
    je .again
    mov dword [COUNTER], MAGIC      ; first boot
    PRINTLN "boot 1: reset through the 8042"
    mov al, 0xfe
    out 0x64, al
    FAIL "still running after the 8042 reset pulse"
.again:
    inc dword [COUNTER]
    mov eax, [COUNTER]
    cmp al, 1
    jne .third
    PRINTLN "boot 2: reset through port 0x92"
    in al, 0x92
    or al, 1
    out 0x92, al
    FAIL "still running after the port 0x92 reset"
.third:
    CHECK eax, MAGIC + 2, "third boot"
    PASS
%include "end.inc"
