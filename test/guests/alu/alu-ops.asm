; alu-ops.asm — stubs for the integer ALU: ADD ADC SUB SBB AND OR XOR CMP TEST (8/16/32-bit,
; register, memory and immediate forms, short accumulator forms, sign-extended imm8 forms),
; INC DEC NEG NOT (register, ModRM register and memory forms). See lib/ops.inc.
%include "lib/ops.inc"
OPS_BEGIN

; ---- two-operand ALU -------------------------------------------------------------------------
; ALU2 mnemonic, uf, has_reg_rm_forms (0 for TEST: no "reg, r/m" opcode, no imm8 forms),
;      the "r32, r/m32" opcode (02/03 family) used for the _alt form
%macro ALU2 4
    %defstr %%m %1
    %strcat %%p "alu.", %%m, "_"
    ; 32-bit
    %strcat %%n %%p, "r32_r32"
    OP %%n, K_BIN, 32, %2, OUT_BOTH, 0
%$insn: %1 eax, ebx
    ENDOP eax, ebx
%if %3
    %strcat %%n %%p, "r32_r32_alt"          ; the "reg, r/m" opcode (02/03/0A/0B/...) with mod=11
    OP %%n, K_BIN, 32, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: db %4, 0xC3                        ; ModRM 11 000 011: reg = EAX, r/m = EBX
    ENDOP eax, ebx
%endif
    %strcat %%n %%p, "m32_r32"
    OP %%n, K_BIN, 32, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 dword M, ebx
    ENDOP M, ebx
%if %3
    %strcat %%n %%p, "r32_m32"
    OP %%n, K_BIN, 32, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 eax, dword M2
    ENDOP eax, M2
%endif
    %strcat %%n %%p, "eax_i32"
    OP %%n, K_BIN, 32, %2, OUT_R0 | VSET_SMALL, 0x7FFFFFFF
%$insn: %1 eax, strict dword 0x7FFFFFFF
    ENDOP eax, ebx
    %strcat %%n %%p, "r32_i32"
    OP %%n, K_BIN, 32, %2, OUT_R0 | VSET_SMALL, 0x80000000
    mov ecx, eax
%$insn: %1 ecx, strict dword 0x80000000
    mov eax, ecx
    ENDOP eax, ebx
%if %3
    %strcat %%n %%p, "r32_i8"
    OP %%n, K_BIN, 32, %2, OUT_R0 | VSET_SMALL, 0xFFFFFFFF
    mov ecx, eax
%$insn: %1 ecx, strict byte -1
    mov eax, ecx
    ENDOP eax, ebx
%endif
    %strcat %%n %%p, "m32_i32"
    OP %%n, K_BIN, 32, %2, OUT_R0 | VSET_SMALL, 0x12345678
%$insn: %1 dword M, strict dword 0x12345678
    ENDOP M, ebx
%if %3
    %strcat %%n %%p, "m32_i8"
    OP %%n, K_BIN, 32, %2, OUT_R0 | VSET_SMALL, 0xFFFFFF80
%$insn: %1 dword M, strict byte -128
    ENDOP M, ebx
%endif
    ; 16-bit (operand-size prefix 0x66)
    %strcat %%n %%p, "r16_r16"
    OP %%n, K_BIN, 16, %2, OUT_BOTH, 0
%$insn: %1 ax, bx
    ENDOP eax, ebx
    %strcat %%n %%p, "m16_r16"
    OP %%n, K_BIN, 16, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 word M, bx
    ENDOP M, ebx
%if %3
    %strcat %%n %%p, "r16_m16"
    OP %%n, K_BIN, 16, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 ax, word M2
    ENDOP eax, M2
%endif
    %strcat %%n %%p, "ax_i16"
    OP %%n, K_BIN, 16, %2, OUT_R0 | VSET_SMALL, 0x8000
%$insn: %1 ax, strict word 0x8000
    ENDOP eax, ebx
    %strcat %%n %%p, "r16_i16"
    OP %%n, K_BIN, 16, %2, OUT_R0 | VSET_SMALL, 0x7FFF
    mov ecx, eax
%$insn: %1 cx, strict word 0x7FFF
    mov eax, ecx
    ENDOP eax, ebx
%if %3
    %strcat %%n %%p, "r16_i8"
    OP %%n, K_BIN, 16, %2, OUT_R0 | VSET_SMALL, 0xFF80
    mov ecx, eax
%$insn: %1 cx, strict byte -128
    mov eax, ecx
    ENDOP eax, ebx
%endif
    %strcat %%n %%p, "m16_i16"
    OP %%n, K_BIN, 16, %2, OUT_R0 | VSET_SMALL, 0xFFFF
%$insn: %1 word M, strict word 0xFFFF
    ENDOP M, ebx
%if %3
    %strcat %%n %%p, "m16_i8"
    OP %%n, K_BIN, 16, %2, OUT_R0 | VSET_SMALL, 0x007F
%$insn: %1 word M, strict byte 0x7F
    ENDOP M, ebx
%endif
    ; 8-bit
    %strcat %%n %%p, "r8_r8"
    OP %%n, K_BIN, 8, %2, OUT_BOTH, 0
%$insn: %1 al, bl
    ENDOP eax, ebx
    %strcat %%n %%p, "r8h_r8h"              ; CH, DH: ModRM register numbers 5 and 6
    OP %%n, K_BIN, 8, %2, OUT_BOTH | VSET_SMALL, 0
    mov ecx, eax
    mov edx, ebx
%$insn: %1 ch, dh
    mov eax, ecx
    ENDOP eax, edx
    %strcat %%n %%p, "m8_r8"
    OP %%n, K_BIN, 8, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 byte M, bl
    ENDOP M, ebx
%if %3
    %strcat %%n %%p, "r8_m8"
    OP %%n, K_BIN, 8, %2, OUT_BOTH | VSET_SMALL, 0
%$insn: %1 al, byte M2
    ENDOP eax, M2
%endif
    %strcat %%n %%p, "al_i8"
    OP %%n, K_BIN, 8, %2, OUT_R0 | VSET_SMALL, 0x80
%$insn: %1 al, strict byte 0x80
    ENDOP eax, ebx
    %strcat %%n %%p, "r8_i8"
    OP %%n, K_BIN, 8, %2, OUT_R0 | VSET_SMALL, 0x7F
    mov ecx, eax
%$insn: %1 cl, strict byte 0x7F
    mov eax, ecx
    ENDOP eax, ebx
    %strcat %%n %%p, "m8_i8"
    OP %%n, K_BIN, 8, %2, OUT_R0 | VSET_SMALL, 0xFF
%$insn: %1 byte M, strict byte 0xFF
    ENDOP M, ebx
%endmacro

ALU2 add, UF_NONE, 1, 0x03
ALU2 adc, UF_NONE, 1, 0x13
ALU2 sub, UF_NONE, 1, 0x2B
ALU2 sbb, UF_NONE, 1, 0x1B
ALU2 and, UF_LOGIC, 1, 0x23
ALU2 or, UF_LOGIC, 1, 0x0B
ALU2 xor, UF_LOGIC, 1, 0x33
ALU2 cmp, UF_NONE, 1, 0x3B
ALU2 test, UF_LOGIC, 0, 0

; ---- one-operand ALU -------------------------------------------------------------------------
; ALU1 mnemonic, has_short_form (INC/DEC have 40+r/48+r besides the FF /0, FF /1 ModRM form),
;      ModRM byte of the "op eax" ModRM form, opcode of that form
%macro ALU1 4
    %defstr %%m %1
    %strcat %%p "alu.", %%m, "_"
    %strcat %%n %%p, "r32"
    OP %%n, K_UN, 32, UF_NONE, OUT_R0, 0
%$insn: %1 eax
    ENDOP eax, ebx
%if %2
    %strcat %%n %%p, "rm32"                 ; the ModRM encoding with mod=11, rm=EAX
    OP %%n, K_UN, 32, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: db %4, %3
    ENDOP eax, ebx
%endif
    %strcat %%n %%p, "m32"
    OP %%n, K_UN, 32, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: %1 dword M
    ENDOP M, ebx
    %strcat %%n %%p, "r16"
    OP %%n, K_UN, 16, UF_NONE, OUT_R0, 0
%$insn: %1 ax
    ENDOP eax, ebx
%if %2
    %strcat %%n %%p, "rm16"
    OP %%n, K_UN, 16, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: db 0x66, %4, %3
    ENDOP eax, ebx
%endif
    %strcat %%n %%p, "m16"
    OP %%n, K_UN, 16, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: %1 word M
    ENDOP M, ebx
    %strcat %%n %%p, "r8"
    OP %%n, K_UN, 8, UF_NONE, OUT_R0, 0
%$insn: %1 al
    ENDOP eax, ebx
    %strcat %%n %%p, "r8h"
    OP %%n, K_UN, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
    mov edx, eax
%$insn: %1 dh
    mov eax, edx
    ENDOP eax, ebx
    %strcat %%n %%p, "m8"
    OP %%n, K_UN, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: %1 byte M
    ENDOP M, ebx
%endmacro

ALU1 inc, 1, 0xC0, 0xFF                      ; FF /0
ALU1 dec, 1, 0xC8, 0xFF                      ; FF /1
ALU1 neg, 0, 0xD8, 0xF7                      ; F7 /3
ALU1 not, 0, 0xD0, 0xF7                      ; F7 /2

OPS_END
