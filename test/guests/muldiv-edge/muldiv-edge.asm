; muldiv-edge — IDIV of the most negative 32- and 16-bit dividends by -1: the quotient (2^31,
; 2^15) does not fit, so the CPU raises #DE (SDM Vol. 2, IDIV: "If the quotient is too large for
; the destination, #DE"). A guest of its own because QEMU 7.2 TCG computes these divisions on the
; host in C and dies of SIGFPE instead of raising #DE in the guest.
%define GUEST_NAME "muldiv-edge"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

CHECK chk_idiv32_min, "muldiv.idiv32_min_by_minus1_faults"
    xor eax, eax
    mov edx, 0x80000000
    mov ebx, -1
    TRY .caught
.insn:
    idiv ebx
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED

CHECK chk_idiv16_min, "muldiv.idiv16_min_by_minus1_faults"
    xor eax, eax
    mov edx, 0x8000
    mov ebx, -1
    TRY .caught
.insn:
    idiv bx
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED
