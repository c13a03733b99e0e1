; bcdbit — BCD adjustments, bit scans and bit tests, data-driven against the host CPU
; (bcdbit-ops.asm, bcdbit-vectors.asm), plus the #DE of AAM 0 as a fault.
%define GUEST_NAME "bcdbit"
%include "lib/kernel.inc"
%include "lib/check.inc"
%include "lib/vecrun.inc"

guest_main:
    call run_vector_ops
    call run_checks
    ret

CHECK chk_aam0, "bcd.aam_0_fault_keeps_ax", "AAM 0 raises #DE as a fault: saved EIP is the AAM"
    mov eax, 0x11223344
    TRY .caught
.insn:
    db 0xD4, 0                       ; AAM 0
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED

CHECK chk_bt_far, "bit.bts_m32_large_offsets", "BTS/BTR on memory with bit offsets of +-2^20 address 128 KiB away from the operand; CF = old bit"
    ; BTS with offsets 2^20 + 5 and -(2^20) - 27 reaches 128 KiB past / before the operand
    mov edi, bt_far_mid
    mov ebx, (1 << 20) + 5
    bts dword [edi], ebx
    EXPECT dword [bt_far_mid + (1 << 17)], 1 << 5
    mov ebx, -(1 << 20) - 27         ; dword index -(2^15) - 1, bit 5
    bts dword [edi], ebx
    EXPECT dword [bt_far_mid - (1 << 17) - 4], 1 << 5
    btr dword [edi], ebx
    setc al
    movzx eax, al
    EXPECT eax, 1                    ; CF = the bit's old value
    EXPECT dword [bt_far_mid - (1 << 17) - 4], 0
    PASSED

section .bss
bt_far:     resb (1 << 17) + 8
bt_far_mid: resb (1 << 17) + 8
section .text
