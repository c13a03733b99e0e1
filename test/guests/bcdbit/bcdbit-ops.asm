; bcdbit-ops.asm — stubs for the BCD adjustments (DAA DAS AAA AAS, AAM and AAD with bases 10, 16
; and 0; AAM 0 raises #DE), bit scans (BSF BSR, 16/32-bit, register and memory sources, including
; a zero source) and bit tests (BT BTS BTR BTC: register bit offsets taken modulo the operand size,
; imm8 offsets, and register offsets into memory that reach 512 bytes before and after the operand
; — the bit string addressing of SDM Vol. 2, "BT", table 3-2). See lib/ops.inc.
%include "lib/ops.inc"
OPS_BEGIN

; ---- BCD ---------------------------------------------------------------------------------------
OP "bcd.daa", K_BCD, 8, UF_DAA, OUT_R0, 0
%$insn: daa
    ENDOP eax, ebx
OP "bcd.das", K_BCD, 8, UF_DAA, OUT_R0, 0
%$insn: das
    ENDOP eax, ebx
OP "bcd.aaa", K_BCD, 8, UF_AAA, OUT_R0, 0
%$insn: aaa
    ENDOP eax, ebx
OP "bcd.aas", K_BCD, 8, UF_AAA, OUT_R0, 0
%$insn: aas
    ENDOP eax, ebx
OP "bcd.aam", K_AAX, 8, UF_AAM, OUT_R0, 10
%$insn: db 0xD4, 10
    ENDOP eax, ebx
OP "bcd.aam_16", K_AAX, 8, UF_AAM, OUT_R0 | VSET_SMALL, 16
%$insn: db 0xD4, 16
    ENDOP eax, ebx
OP "bcd.aam_0_de", K_AAX, 8, UF_AAM, OUT_R0 | VSET_SMALL, 0
%$insn: db 0xD4, 0
    ENDOP eax, ebx
OP "bcd.aad", K_AAX, 8, UF_AAM, OUT_R0, 10
%$insn: db 0xD5, 10
    ENDOP eax, ebx
OP "bcd.aad_16", K_AAX, 8, UF_AAM, OUT_R0 | VSET_SMALL, 16
%$insn: db 0xD5, 16
    ENDOP eax, ebx
OP "bcd.aad_0", K_AAX, 8, UF_AAM, OUT_R0 | VSET_SMALL, 0
%$insn: db 0xD5, 0
    ENDOP eax, ebx

; ---- BSF / BSR: source = io.a, destination starts as io.b ---------------------------------------
%macro SCAN 1
    %defstr %%m %1
    %strcat %%p "bit.", %%m, "_"
    %strcat %%n %%p, "r32_r32"
    OP %%n, K_SCAN, 32, UF_BSF, OUT_R0, 0
%$insn: %1 ebx, eax
    ENDOP ebx, eax
    %strcat %%n %%p, "r32_m32"
    OP %%n, K_SCAN, 32, UF_BSF, OUT_R0 | VSET_SMALL, 0
%$insn: %1 ebx, dword M
    ENDOP ebx, eax
    %strcat %%n %%p, "r16_r16"
    OP %%n, K_SCAN, 16, UF_BSF, OUT_R0, 0
%$insn: %1 bx, ax
    ENDOP ebx, eax
    %strcat %%n %%p, "r16_m16"
    OP %%n, K_SCAN, 16, UF_BSF, OUT_R0 | VSET_SMALL, 0
%$insn: %1 bx, word M
    ENDOP ebx, eax
%endmacro
SCAN bsf
SCAN bsr

; ---- BT BTS BTR BTC -----------------------------------------------------------------------------
BITBUF_HALF equ 512 + 8                 ; bytes either side of bitbuf_mid the offsets may reach

; bitbuf_prime: EBX = bit offset, ESI = operand size in bytes (2 or 4). Writes the pattern dword
; (a function of the byte offset from bitbuf_mid) at the element the offset selects, and returns
; its address in EDI. Changes flags.
bitbuf_prime:
    cmp esi, 2
    je .w
    mov edi, ebx
    sar edi, 5
    lea edi, [bitbuf_mid + edi*4]
    jmp .fill
.w:
    movsx edi, bx
    sar edi, 4
    lea edi, [bitbuf_mid + edi*2]
.fill:
    mov eax, edi
    sub eax, bitbuf_mid
    imul eax, eax, 0x9E3779B1
    add eax, 0x12345678
    mov [edi], eax
    ret

%macro BITOP 1
    %defstr %%m %1
    %strcat %%p "bit.", %%m, "_"
    %strcat %%n %%p, "r32_r32"
    OP %%n, K_BIT, 32, UF_BT, OUT_R0, 0
%$insn: %1 eax, ebx
    ENDOP eax, ebx
    %strcat %%n %%p, "r16_r16"
    OP %%n, K_BIT, 16, UF_BT, OUT_R0, 0
%$insn: %1 ax, bx
    ENDOP eax, ebx
    %strcat %%n %%p, "r32_i8"                ; imm8 35 selects bit 3
    OP %%n, K_BIT, 32, UF_BT, OUT_R0 | VSET_SMALL, 35
%$insn: %1 eax, 35
    ENDOP eax, ebx
    %strcat %%n %%p, "r16_i8"                ; imm8 21 selects bit 5
    OP %%n, K_BIT, 16, UF_BT, OUT_R0 | VSET_SMALL, 21
%$insn: %1 ax, 21
    ENDOP eax, ebx
    %strcat %%n %%p, "m32_i8"                ; imm8 63 selects bit 31 of the operand itself
    OP %%n, K_BIT, 32, UF_BT, OUT_R0 | VSET_SMALL, 63
%$insn: %1 dword M, 63
    ENDOP M, ebx
    %strcat %%n %%p, "m32_r32"               ; bit string: offset -4096..4095 around bitbuf_mid
    OP %%n, K_BITMEM, 32, UF_BT, OUT_R0, 0
    pushfd
    mov esi, 4
    call bitbuf_prime
    popfd
%$insn: %1 dword [bitbuf_mid], ebx
    ENDOP [edi], ebx
    %strcat %%n %%p, "m16_r16"
    OP %%n, K_BITMEM, 16, UF_BT, OUT_R0, 0
    pushfd
    mov esi, 2
    call bitbuf_prime
    popfd
%$insn: %1 word [bitbuf_mid], bx
    ENDOP [edi], ebx
%endmacro
BITOP bt
BITOP bts
BITOP btr
BITOP btc

section .bss
bitbuf:     resb BITBUF_HALF
bitbuf_mid: resb BITBUF_HALF

OPS_END
