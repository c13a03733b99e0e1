; shift-ops.asm — stubs for SHL SHR SAR ROL ROR RCL RCR (8/16/32-bit; count in CL, the 1 form,
; imm8 counts 0, size + 1 and 33; memory with CL) and SHLD SHRD (16/32-bit; CL, imm8, memory).
; Counts 0..33 and larger CL values exercise count masking (to 5 bits; RCL/RCR then modulo 9 or 17
; for 8/16-bit) and the rule that a masked count of 0 leaves the flags alone. See lib/ops.inc.
%include "lib/ops.inc"
OPS_BEGIN

IMM_CL equ 0xFFFFFFFF                        ; count comes from CL (gen/gen.c)

; SHROT mnemonic, uf
%macro SHROT 2
    %defstr %%m %1
    %strcat %%p "shift.", %%m, "_"
%assign %%w 8
%rep 3
  %if %%w == 8
    %define %%A al
    %define %%S byte
    %define %%wn "8"
  %elif %%w == 16
    %define %%A ax
    %define %%S word
    %define %%wn "16"
  %else
    %define %%A eax
    %define %%S dword
    %define %%wn "32"
  %endif
    %strcat %%n %%p, "r", %%wn, "_cl"
    OP %%n, K_SHIFT, %%w, %2, OUT_R0, IMM_CL
%$insn: %1 %%A, cl
    ENDOP eax, ecx
    %strcat %%n %%p, "r", %%wn, "_1"
    OP %%n, K_SHIFT, %%w, %2, OUT_R0, 1
%$insn: %1 %%A, 1
    ENDOP eax, ecx
    %strcat %%n %%p, "r", %%wn, "_i0"
    OP %%n, K_SHIFT, %%w, %2, OUT_R0 | VSET_SMALL, 0
%$insn: %1 %%A, strict byte 0
    ENDOP eax, ecx
    %strcat %%n %%p, "r", %%wn, "_i", %%wn, "p1"
    OP %%n, K_SHIFT, %%w, %2, OUT_R0 | VSET_SMALL, %%w + 1
%$insn: %1 %%A, strict byte %%w + 1
    ENDOP eax, ecx
    %strcat %%n %%p, "r", %%wn, "_i33"
    OP %%n, K_SHIFT, %%w, %2, OUT_R0 | VSET_SMALL, 33
%$insn: %1 %%A, strict byte 33
    ENDOP eax, ecx
    %strcat %%n %%p, "m", %%wn, "_cl"
    OP %%n, K_SHIFT, %%w, %2, OUT_R0 | VSET_SMALL, IMM_CL
%$insn: %1 %%S M, cl
    ENDOP M, ecx
  %undef %%A
  %undef %%S
  %undef %%wn
%assign %%w %%w * 2
%endrep
%endmacro

SHROT shl, UF_SHIFT
SHROT shr, UF_SHIFT
SHROT sar, UF_SAR
SHROT rol, UF_ROT
SHROT ror, UF_ROT
SHROT rcl, UF_ROT
SHROT rcr, UF_ROT

; SHxD mnemonic
%macro SHXD 1
    %defstr %%m %1
    %strcat %%p "shift.", %%m, "_"
    %strcat %%n %%p, "r32_r32_cl"
    OP %%n, K_SHIFTD, 32, UF_SHD, OUT_BOTH, IMM_CL
%$insn: %1 eax, ebx, cl
    ENDOP eax, ebx
    %strcat %%n %%p, "r32_r32_i8"
    OP %%n, K_SHIFTD, 32, UF_SHD, OUT_BOTH | VSET_SMALL, 12
%$insn: %1 eax, ebx, 12
    ENDOP eax, ebx
    %strcat %%n %%p, "m32_r32_cl"
    OP %%n, K_SHIFTD, 32, UF_SHD, OUT_BOTH | VSET_SMALL, IMM_CL
%$insn: %1 dword M, ebx, cl
    ENDOP M, ebx
    %strcat %%n %%p, "r16_r16_cl"
    OP %%n, K_SHIFTD, 16, UF_SHD, OUT_BOTH, IMM_CL
%$insn: %1 ax, bx, cl
    ENDOP eax, ebx
    %strcat %%n %%p, "r16_r16_i16"                  ; a count equal to the operand size
    OP %%n, K_SHIFTD, 16, UF_SHD, OUT_BOTH | VSET_SMALL, 16
%$insn: %1 ax, bx, 16
    ENDOP eax, ebx
    %strcat %%n %%p, "m16_r16_cl"
    OP %%n, K_SHIFTD, 16, UF_SHD, OUT_BOTH | VSET_SMALL, IMM_CL
%$insn: %1 word M, bx, cl
    ENDOP M, ebx
%endmacro

SHXD shld
SHXD shrd

OPS_END
