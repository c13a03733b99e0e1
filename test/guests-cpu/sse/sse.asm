; sse — SSE/SSE2 data movement and logic (SDM Vol. 2): aligned and unaligned 128-bit loads and
; stores with the #GP of a misaligned aligned form, scalar MOVSS/MOVSD, MOVD/MOVQ, PXOR/PAND/POR,
; #UD without CR4.OSFXSR, #NM with CR0.TS, and XMM registers through FXSAVE/FXRSTOR.
%define GUEST_NAME "sse"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

CR4_OSFXSR equ 0x200

; sse_on: CR4.OSFXSR (sanitize restores CR4 between checks).
sse_on:
    push eax
    mov eax, cr4
    or eax, CR4_OSFXSR
    mov cr4, eax
    pop eax
    ret

CHECK chk_cpuid, "sse.cpuid_sse_sse2_fxsr", "CPUID reports FXSR, SSE and SSE2 (the guest needs them)"
    mov eax, 1
    cpuid
    and edx, (1 << 24) | (1 << 25) | (1 << 26)
    EXPECT edx, (1 << 24) | (1 << 25) | (1 << 26)
    PASSED

CHECK chk_moves, "sse.aligned_and_unaligned_moves", "MOVAPS loads an aligned block; MOVUPS and MOVDQU move unaligned ones; MOVDQA stores"
    call sse_on
    movaps xmm0, [block]
    movups xmm1, [block + 4]
    movdqu [scratch + 3], xmm1
    movdqa [scratch + 32], xmm0
    EXPECT dword [scratch + 3], 0x22222222
    EXPECT dword [scratch + 15], 0x55555555
    EXPECT dword [scratch + 32], 0x11111111
    EXPECT dword [scratch + 44], 0x44444444
    PASSED

CHECK chk_scalar, "sse.movss_movsd_movd_movq", "MOVSS/MOVSD from memory zero the rest, between registers keep it; MOVD and MOVQ zero-extend"
    call sse_on
    movaps xmm0, [block]
    movss xmm1, [block + 8]
    movaps [scratch], xmm1
    EXPECT dword [scratch], 0x33333333
    EXPECT dword [scratch + 4], 0
    movaps xmm2, xmm0
    movss xmm2, xmm1
    movaps [scratch], xmm2
    EXPECT dword [scratch], 0x33333333
    EXPECT dword [scratch + 4], 0x22222222
    mov eax, 0xCAFEBABE
    movd xmm3, eax
    movq xmm4, xmm0
    movaps [scratch], xmm3
    EXPECT dword [scratch], 0xCAFEBABE
    EXPECT dword [scratch + 12], 0
    movaps [scratch], xmm4
    EXPECT dword [scratch + 4], 0x22222222
    EXPECT dword [scratch + 8], 0
    movd ebx, xmm0
    EXPECT ebx, 0x11111111
    PASSED

CHECK chk_logic, "sse.pxor_pand_por", "PXOR zeroes, PAND and POR combine 128 bits"
    call sse_on
    movaps xmm0, [block]
    pxor xmm1, xmm1
    por xmm1, xmm0
    pand xmm1, [mask]
    movaps [scratch], xmm1
    EXPECT dword [scratch], 0x11110000
    EXPECT dword [scratch + 12], 0x00004444
    PASSED

CHECK chk_gp, "sse.misaligned_movaps_gp", "MOVAPS from an address that is not 16-byte aligned is #GP(0)"
    call sse_on
    TRY .caught
.insn:
    movaps xmm0, [block + 4]
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, 0, .insn
    PASSED

CHECK chk_ud, "sse.ud_without_osfxsr", "without CR4.OSFXSR an SSE instruction is #UD"
    TRY .caught
.insn:
    movups xmm0, [block]
    DISARM
    NOEXC VEC_UD
.caught:
    EXPECT_EXC VEC_UD, NOERR, .insn
    PASSED

CHECK chk_nm, "sse.nm_with_ts", "with CR0.TS an SSE instruction is #NM"
    call sse_on
    mov eax, cr0
    or eax, CR0_TS
    mov cr0, eax
    TRY .caught
.insn:
    movups xmm0, [block]
    DISARM
    NOEXC VEC_NM
.caught:
    clts
    EXPECT_EXC VEC_NM, NOERR, .insn
    PASSED

CHECK chk_fxsave, "sse.fxsave_xmm_mxcsr", "FXSAVE stores MXCSR and XMM7 (offset 272); FXRSTOR brings XMM7 back"
    call sse_on
    movaps xmm7, [block]
    fxsave [fxarea]
    pxor xmm7, xmm7
    fxrstor [fxarea]
    movaps [scratch], xmm7
    EXPECT dword [scratch + 8], 0x33333333
    EXPECT dword [fxarea + 160 + 7 * 16], 0x11111111
    mov eax, [fxarea + 24]
    and eax, 0xFFBF                  ; MXCSR: the masks at least, as left by reset
    EXPECT_BITS eax, 0x1F80, 0x1F80
    PASSED

section .data
align 16
block: dd 0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555
align 16
mask:  dd 0xFFFF0000, 0, 0, 0x0000FFFF
section .bss
alignb 16
fxarea: resb 512
scratch: resb 64
section .text
