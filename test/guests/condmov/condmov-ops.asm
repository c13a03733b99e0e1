; condmov-ops.asm — stubs for the 16 conditions (SETcc to a low and a high byte register and to
; memory; CMOVcc 16/32-bit from register and memory; Jcc short and near), for all 32 combinations
; of CF PF ZF SF OF; the exchanges XCHG XADD CMPXCHG (8/16/32-bit, register and memory, both
; CMPXCHG outcomes); BSWAP, MOVZX, MOVSX, CBW CWDE CWD CDQ, LAHF and SAHF. See lib/ops.inc.
%include "lib/ops.inc"
OPS_BEGIN

; ---- conditions --------------------------------------------------------------------------------
%macro COND 1
    %defstr %%c %1
    %strcat %%n "cond.set", %%c, "_r8"
    OP %%n, K_COND, 8, UF_NONE, OUT_R0, 0
%$insn: set%+%1 al
    ENDOP eax, ebx
    %strcat %%n "cond.set", %%c, "_r8h"
    OP %%n, K_COND, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: set%+%1 bh
    ENDOP ebx, eax
    %strcat %%n "cond.set", %%c, "_m8"
    OP %%n, K_COND, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: set%+%1 byte M
    ENDOP M, ebx
    %strcat %%n "cond.cmov", %%c, "_r32_r32"
    OP %%n, K_COND, 32, UF_NONE, OUT_BOTH, 0
%$insn: cmov%+%1 eax, ebx
    ENDOP eax, ebx
    %strcat %%n "cond.cmov", %%c, "_r16_r16"
    OP %%n, K_COND, 16, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: cmov%+%1 ax, bx
    ENDOP eax, ebx
    %strcat %%n "cond.cmov", %%c, "_r32_m32"
    OP %%n, K_COND, 32, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: cmov%+%1 eax, dword M2
    ENDOP eax, ebx
    %strcat %%n "cond.j", %%c, "_short"
    OP %%n, K_COND, 32, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: j%+%1 short %%t1
    mov eax, 0
    jmp short %%d1
%%t1: mov eax, 1
%%d1:
    ENDOP eax, ebx
    %strcat %%n "cond.j", %%c, "_near"
    OP %%n, K_COND, 32, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: j%+%1 near %%t2
    mov eax, 0
    jmp short %%d2
%%t2: mov eax, 1
%%d2:
    ENDOP eax, ebx
%endmacro
COND o
COND no
COND b
COND ae
COND e
COND ne
COND be
COND a
COND s
COND ns
COND p
COND np
COND l
COND ge
COND le
COND g

; ---- exchanges ------------------------------------------------------------------------------------
OP "xchg.xchg_eax_r32", K_BIN, 32, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xchg eax, ebx                        ; 90+r
    ENDOP eax, ebx
OP "xchg.xchg_r32_r32", K_BIN, 32, UF_NONE, OUT_BOTH | VSET_SMALL, 0
    mov ecx, eax
%$insn: xchg ecx, ebx                        ; 87 /r
    mov eax, ecx
    ENDOP eax, ebx
OP "xchg.xchg_m32_r32", K_BIN, 32, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xchg dword M, ebx
    ENDOP M, ebx
OP "xchg.xchg_ax_r16", K_BIN, 16, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xchg ax, bx
    ENDOP eax, ebx
OP "xchg.xchg_m16_r16", K_BIN, 16, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xchg word M, bx
    ENDOP M, ebx
OP "xchg.xchg_r8_r8h", K_BIN, 8, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xchg al, bh
    ENDOP eax, ebx
OP "xchg.xchg_m8_r8", K_BIN, 8, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xchg byte M, bl
    ENDOP M, ebx

OP "xchg.xadd_r32_r32", K_BIN, 32, UF_NONE, OUT_BOTH, 0
%$insn: xadd eax, ebx
    ENDOP eax, ebx
OP "xchg.xadd_m32_r32", K_BIN, 32, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xadd dword M, ebx
    ENDOP M, ebx
OP "xchg.xadd_r16_r16", K_BIN, 16, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xadd ax, bx
    ENDOP eax, ebx
OP "xchg.xadd_r8_r8", K_BIN, 8, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xadd al, bl
    ENDOP eax, ebx
OP "xchg.xadd_m8_r8", K_BIN, 8, UF_NONE, OUT_BOTH | VSET_SMALL, 0
%$insn: xadd byte M, bl
    ENDOP M, ebx

; CMPXCHG: destination = io.a, source = io.b, accumulator = io.c; r0 = destination, r1 = EAX
OP "xchg.cmpxchg_r32_r32", K_XCHG, 32, UF_NONE, OUT_BOTH, 0
    mov esi, eax
    mov eax, ecx
%$insn: cmpxchg esi, ebx
    ENDOP esi, eax
OP "xchg.cmpxchg_m32_r32", K_XCHG, 32, UF_NONE, OUT_BOTH, 0
    mov eax, ecx
%$insn: cmpxchg dword M, ebx
    ENDOP M, eax
OP "xchg.cmpxchg_r16_r16", K_XCHG, 16, UF_NONE, OUT_BOTH, 0
    mov esi, eax
    mov eax, ecx
%$insn: cmpxchg si, bx
    ENDOP esi, eax
OP "xchg.cmpxchg_m16_r16", K_XCHG, 16, UF_NONE, OUT_BOTH | VSET_SMALL, 0
    mov eax, ecx
%$insn: cmpxchg word M, bx
    ENDOP M, eax
OP "xchg.cmpxchg_r8_r8", K_XCHG, 8, UF_NONE, OUT_BOTH, 0
    mov edx, eax
    mov eax, ecx
%$insn: cmpxchg dl, bl
    ENDOP edx, eax
OP "xchg.cmpxchg_m8_r8", K_XCHG, 8, UF_NONE, OUT_BOTH | VSET_SMALL, 0
    mov eax, ecx
%$insn: cmpxchg byte M, bl
    ENDOP M, eax

; ---- extensions and swaps -----------------------------------------------------------------------
OP "ext.bswap_eax", K_EXT, 32, UF_NONE, OUT_R0, 0
%$insn: bswap eax
    ENDOP eax, ebx
OP "ext.bswap_esi", K_EXT, 32, UF_NONE, OUT_R0 | VSET_SMALL, 0
    mov esi, eax
%$insn: bswap esi
    ENDOP esi, ebx
OP "ext.movzx_r32_r8", K_EXT, 8, UF_NONE, OUT_R0, 0
%$insn: movzx ebx, al
    ENDOP ebx, eax
OP "ext.movzx_r32_r8h", K_EXT, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movzx ebx, ah
    ENDOP ebx, eax
OP "ext.movzx_r16_r8", K_EXT, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movzx bx, al
    ENDOP ebx, eax
OP "ext.movzx_r32_r16", K_EXT, 16, UF_NONE, OUT_R0, 0
%$insn: movzx ebx, ax
    ENDOP ebx, eax
OP "ext.movzx_r32_m8", K_EXT, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movzx ebx, byte M
    ENDOP ebx, eax
OP "ext.movzx_r32_m16", K_EXT, 16, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movzx ebx, word M
    ENDOP ebx, eax
OP "ext.movsx_r32_r8", K_EXT, 8, UF_NONE, OUT_R0, 0
%$insn: movsx ebx, al
    ENDOP ebx, eax
OP "ext.movsx_r32_r8h", K_EXT, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movsx ebx, ah
    ENDOP ebx, eax
OP "ext.movsx_r16_r8", K_EXT, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movsx bx, al
    ENDOP ebx, eax
OP "ext.movsx_r32_r16", K_EXT, 16, UF_NONE, OUT_R0, 0
%$insn: movsx ebx, ax
    ENDOP ebx, eax
OP "ext.movsx_r32_m8", K_EXT, 8, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movsx ebx, byte M
    ENDOP ebx, eax
OP "ext.movsx_r32_m16", K_EXT, 16, UF_NONE, OUT_R0 | VSET_SMALL, 0
%$insn: movsx ebx, word M
    ENDOP ebx, eax
OP "ext.cbw", K_EXT, 8, UF_NONE, OUT_R0, 0
%$insn: cbw
    ENDOP eax, edx
OP "ext.cwde", K_EXT, 16, UF_NONE, OUT_R0, 0
%$insn: cwde
    ENDOP eax, edx
OP "ext.cwd", K_EXT, 16, UF_NONE, OUT_BOTH, 0
%$insn: cwd
    ENDOP eax, edx
OP "ext.cdq", K_EXT, 32, UF_NONE, OUT_BOTH, 0
%$insn: cdq
    ENDOP eax, edx

; ---- LAHF / SAHF --------------------------------------------------------------------------------
OP "flags.lahf", K_COND, 8, UF_NONE, OUT_R0, 0
%$insn: lahf
    ENDOP eax, ebx
OP "flags.sahf", K_EXT, 8, UF_NONE, OUT_R0, 0
%$insn: sahf
    ENDOP eax, ebx

OPS_END
