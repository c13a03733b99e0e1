; muldiv-ops.asm — stubs for MUL and IMUL (one operand, 8/16/32-bit, register and memory), IMUL
; with two operands (r, r/m) and three (r, r/m, imm8 / imm16 / imm32), DIV and IDIV (8/16/32-bit,
; register and memory), the latter including divide by zero and quotient overflow (#DE, which the
; guest must see with the saved EIP of the divide). See lib/ops.inc.
%include "lib/ops.inc"
OPS_BEGIN

; ONEOP mnemonic, kind, uf — AX/DX:AX/EDX:EAX forms with BL/BX/EBX and memory sources
%macro ONEOP 3
    %defstr %%m %1
    %strcat %%p "muldiv.", %%m, "_"
    %strcat %%n %%p, "r8"
    OP %%n, %2, 8, %3, OUT_BOTH, 0
%$insn: %1 bl
    ENDOP eax, edx
    %strcat %%n %%p, "r8h"
    OP %%n, %2, 8, %3, OUT_BOTH | VSET_SMALL, 0
    mov ecx, ebx
%$insn: %1 ch
    ENDOP eax, edx
    %strcat %%n %%p, "m8"
    OP %%n, %2, 8, %3, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 byte M2
    ENDOP eax, edx
    %strcat %%n %%p, "r16"
    OP %%n, %2, 16, %3, OUT_BOTH, 0
%$insn: %1 bx
    ENDOP eax, edx
    %strcat %%n %%p, "m16"
    OP %%n, %2, 16, %3, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 word M2
    ENDOP eax, edx
    %strcat %%n %%p, "r32"
    OP %%n, %2, 32, %3, OUT_BOTH, 0
%$insn: %1 ebx
    ENDOP eax, edx
    %strcat %%n %%p, "m32"
    OP %%n, %2, 32, %3, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 dword M2
    ENDOP eax, edx
%endmacro

ONEOP mul, K_MUL, UF_MUL
ONEOP imul, K_MUL, UF_MUL
ONEOP div, K_DIV, UF_DIV
ONEOP idiv, K_DIV, UF_DIV

; IMUL r, r/m (0F AF)
OP "muldiv.imul_r32_r32", K_MUL, 32, UF_MUL, OUT_BOTH, 0
%$insn: imul eax, ebx
    ENDOP eax, ebx
OP "muldiv.imul_r32_m32", K_MUL, 32, UF_MUL, OUT_R0 | VSET_SMALL, 0
%$insn: imul eax, dword M2
    ENDOP eax, ebx
OP "muldiv.imul_r16_r16", K_MUL, 16, UF_MUL, OUT_BOTH, 0
%$insn: imul ax, bx
    ENDOP eax, ebx
OP "muldiv.imul_r16_m16", K_MUL, 16, UF_MUL, OUT_R0 | VSET_SMALL, 0
%$insn: imul ax, word M2
    ENDOP eax, ebx
; IMUL r, r/m, imm (6B ib sign-extended, 69 iw/id)
OP "muldiv.imul_r32_r32_i8", K_MUL, 32, UF_MUL, OUT_BOTH | VSET_SMALL, 0xFFFFFF81
%$insn: imul eax, ebx, strict byte -127
    ENDOP eax, ebx
OP "muldiv.imul_r32_r32_i32", K_MUL, 32, UF_MUL, OUT_BOTH | VSET_SMALL, 0x10001
%$insn: imul eax, ebx, strict dword 0x10001
    ENDOP eax, ebx
OP "muldiv.imul_r32_m32_i32", K_MUL, 32, UF_MUL, OUT_R0 | VSET_SMALL, 0x7FFFFFFF
%$insn: imul eax, dword M2, strict dword 0x7FFFFFFF
    ENDOP eax, ebx
OP "muldiv.imul_r16_r16_i8", K_MUL, 16, UF_MUL, OUT_BOTH | VSET_SMALL, 0x7F
%$insn: imul ax, bx, strict byte 0x7F
    ENDOP eax, ebx
OP "muldiv.imul_r16_r16_i16", K_MUL, 16, UF_MUL, OUT_BOTH | VSET_SMALL, 0x8001
%$insn: imul ax, bx, strict word 0x8001
    ENDOP eax, ebx
OP "muldiv.imul_r16_m16_i16", K_MUL, 16, UF_MUL, OUT_R0 | VSET_SMALL, 0x0101
%$insn: imul cx, word M2, strict word 0x0101
    mov eax, ecx
    ENDOP eax, ebx

OPS_END
