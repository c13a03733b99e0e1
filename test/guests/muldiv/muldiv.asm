; muldiv — MUL, IMUL (1, 2 and 3 operands), DIV and IDIV, data-driven against the host CPU
; (muldiv-ops.asm, muldiv-vectors.asm), plus checks that #DE is a fault: the saved EIP is the
; divide and the destination registers are untouched. (The most negative dividends over -1 are in
; the muldiv-edge guest: they crash QEMU 7.2.)
%define GUEST_NAME "muldiv"
%include "lib/kernel.inc"
%include "lib/check.inc"
%include "lib/vecrun.inc"

guest_main:
    call run_vector_ops
    call run_checks
    ret

CHECK chk_div_zero, "muldiv.div_by_zero_faults", "DIV by zero raises #DE with the DIV's EIP and ring-0 CS"
    mov eax, 0x12345678
    mov edx, 0x9ABCDEF0
    xor ebx, ebx
    TRY .caught
.insn:
    div ebx
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    EXPECT dword [exc_cs], SEL_KCODE
    PASSED

CHECK chk_div_zero_regs, "muldiv.div_by_zero_keeps_registers", "a #DE leaves EDX:EAX unchanged"
    mov eax, 0x12345678
    mov edx, 0x9ABCDEF0
    xor ecx, ecx
    mov dword [vec_mode + VEC_DE], MODE_HOOK
    mov dword [vec_hook + VEC_DE * 4], skip_div_hook
    mov byte [vec_mode + VEC_DE], MODE_HOOK
    div ecx                          ; the hook skips the 2-byte DIV
    EXPECT eax, 0x12345678
    EXPECT edx, 0x9ABCDEF0
    EXPECT dword [exc_vec], VEC_DE
    PASSED

CHECK chk_div8_overflow, "muldiv.div8_quotient_overflow_faults", "DIV r/m8 with a quotient above 0xFF raises #DE"
    mov eax, 0x1234                  ; 0x1234 / 0x12 = 0x102 > 0xFF
    mov bl, 0x12
    TRY .caught
.insn:
    div bl
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED

CHECK chk_idiv16_min, "muldiv.idiv16_most_negative_quotient", "IDIV giving -32768 is valid (no #DE)"
    ; -32768 is a valid 16-bit quotient: DX:AX = -65536, divisor 2
    mov edx, 0xFFFF
    xor eax, eax
    mov ebx, 2
    idiv bx
    EXPECT eax, 0x8000
    EXPECT edx, 0
    PASSED

CHECK chk_idiv8_min, "muldiv.idiv8_min_by_minus1_faults", "IDIV AX = -32768 / -1 raises #DE"
    mov eax, 0x8000
    mov ebx, -1
    TRY .caught
.insn:
    idiv bl
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED

; skip_div_hook: a MODE_HOOK handler that returns past a 2-byte instruction.
skip_div_hook:
    add dword [esp + 4 + FRAME_EIP], 2
    ret
