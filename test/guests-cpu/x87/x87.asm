; x87 — the floating-point unit as GCC, glibc, musl and Linux use it (SDM Vol. 1 chapter 8):
; the FNINIT probe, exact 80-bit and 64-bit integer round trips, arithmetic in all operand forms,
; rounding control, FCOMI/FNSTSW compares, stack faults, FSAVE/FRSTOR and FXSAVE/FXRSTOR images,
; #NM with CR0.TS and #MF with CR0.NE. Values are chosen so that the results are exact in
; double precision (the Domus FPU computes in doubles; QEMU in 80 bits: both must agree).
%define GUEST_NAME "x87"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

CHECK chk_probe, "x87.fninit_probe", "FNINIT; FNSTSW gives 0 and FNSTCW 0x037F, as Linux and BIOSes probe for an FPU"
    mov word [scratch], 0xFFFF
    fninit
    fnstsw ax
    EXPECT16 ax, 0
    fnstcw [scratch]
    EXPECT16 word [scratch], 0x037F
    PASSED

CHECK chk_m80, "x87.m80_round_trip", "FLD m80 / FSTP m80 keep every bit of values beyond double precision, denormals and NaN payloads"
    fninit
    mov esi, m80_values
    mov edi, scratch
    mov ecx, 4
.l: fld tword [esi]
    fstp tword [edi]
    add esi, 10
    add edi, 10
    loop .l
    mov esi, m80_values
    mov edi, scratch
    mov ecx, 40
    repe cmpsb
    EXPECT ecx, 0
    PASSED

CHECK chk_i64, "x87.fild_fistp_m64_exact", "FILD/FISTP m64 copy 64-bit integers that do not fit a double exactly"
    fninit
    fild qword [i64_value]
    fistp qword [scratch]
    mov eax, [scratch]
    EXPECT eax, 0x89ABCDEF
    mov eax, [scratch + 4]
    EXPECT eax, 0x01234567
    PASSED

CHECK chk_arith, "x87.arith_forms", "FADD/FMUL/FSUBR/FDIVR with m64, m32int and register operands, and the popping forms"
    fninit
    fld qword [f_3_5]                ; 3.5
    fmul qword [f_2_25]              ; 7.875
    fiadd dword [i_10]               ; 17.875
    fsubr qword [f_20]               ; 20 - 17.875 = 2.125
    fld qword [f_0_5]                ; ST0 = 0.5, ST1 = 2.125
    fdivp st1, st0                   ; 2.125 / 0.5 = 4.25
    fld1
    fsubp st1, st0                   ; 3.25
    fstp qword [scratch]
    mov eax, [scratch + 4]
    EXPECT eax, 0x400A0000           ; 3.25
    mov eax, [scratch]
    EXPECT eax, 0
    fnstsw ax
    and eax, 0x3800
    EXPECT eax, 0                    ; TOP back at 0
    PASSED

CHECK chk_round, "x87.fistp_rounding_control", "FISTP rounds 2.5 and -2.5 to even, down, up and toward zero as RC says"
    fninit
    mov esi, 0
.rc:
    mov eax, esi
    shl eax, 10
    or eax, 0x037F
    mov [cw], ax
    fldcw [cw]
    fld qword [f_2_5]
    fistp dword [scratch + esi * 8]
    fld qword [f_m2_5]
    fistp dword [scratch + esi * 8 + 4]
    inc esi
    cmp esi, 4
    jb .rc
    EXPECT dword [scratch], 2
    EXPECT dword [scratch + 4], -2
    EXPECT dword [scratch + 8], 2
    EXPECT dword [scratch + 12], -3
    EXPECT dword [scratch + 16], 3
    EXPECT dword [scratch + 20], -2
    EXPECT dword [scratch + 24], 2
    EXPECT dword [scratch + 28], -2
    PASSED

CHECK chk_fcomi, "x87.fcomi_and_fnstsw_sahf", "FCOMI sets CF/ZF/PF; FCOM + FNSTSW AX + SAHF give the same conditions"
    fninit
    fld qword [f_20]
    fld qword [f_3_5]                ; ST0 = 3.5, ST1 = 20
    fcomi st0, st1
    mov eax, 0
    setb al
    EXPECT eax, 1
    fcom st1
    fnstsw ax
    sahf
    mov eax, 0
    setb al
    EXPECT eax, 1
    fxch st1
    fucomi st0, st1                  ; 20 > 3.5
    mov eax, 0
    seta al
    EXPECT eax, 1
    PASSED

CHECK chk_overflow, "x87.stack_overflow_indefinite", "a ninth push is a stack fault (IE SF C1) and pushes the negative QNaN indefinite"
    fninit
    mov ecx, 9
.l: fld1
    loop .l
    fnstsw ax
    and eax, 0x0241
    EXPECT eax, 0x0241
    fstp qword [scratch]
    EXPECT dword [scratch + 4], 0xFFF80000
    EXPECT dword [scratch], 0
    PASSED

CHECK chk_fsave, "x87.fsave_frstor_exact", "FNSAVE reinitialises; FRSTOR brings back control word, TOP, tags and registers bit for bit"
    fninit
    fld tword [m80_values]
    fldpi
    fnsave [save1]
    fnstcw [cw]
    EXPECT16 word [cw], 0x037F
    frstor [save1]
    fnsave [save2]
    mov esi, save1                   ; control, status and tag words
    mov edi, save2
    mov ecx, 12
    repe cmpsb
    EXPECT ecx, 0
    mov esi, save1 + 28              ; ST0..ST7 (the pointer fields are not compared)
    mov edi, save2 + 28
    mov ecx, 80
    repe cmpsb
    EXPECT ecx, 0
    movzx eax, word [save1 + 4]      ; status word: TOP = 6
    shr eax, 11
    and eax, 7
    EXPECT eax, 6
    PASSED

CHECK chk_fxsave, "x87.fxsave_fxrstor", "FXSAVE writes FCW, FSW, the abridged tag byte and ST0 at offset 32; FXRSTOR restores them"
    fninit
    fld1
    fldpi
    fxsave [fxarea]
    movzx eax, word [fxarea]
    EXPECT eax, 0x037F
    movzx eax, byte [fxarea + 4]     ; abridged tags: physical 6 and 7 in use
    EXPECT eax, 0xC0
    mov eax, [fxarea + 32 + 4]       ; ST0 = pi, significand high dword
    EXPECT eax, 0xC90FDAA2
    fninit
    fxrstor [fxarea]
    fstp qword [scratch]             ; pi
    EXPECT dword [scratch + 4], 0x400921FB
    PASSED

CHECK chk_nm, "x87.nm_with_ts", "with CR0.TS an x87 instruction raises #NM before it runs"
    fninit
    mov eax, cr0
    or eax, CR0_TS
    mov cr0, eax
    TRY .caught
.insn:
    fld1
    DISARM
    NOEXC VEC_NM
.caught:
    EXPECT_EXC VEC_NM, NOERR, .insn
    clts
    PASSED

CHECK chk_mf, "x87.mf_at_fwait", "an unmasked divide by zero is pending (ES) and FWAIT then raises #MF (CR0.NE)"
    mov eax, cr0
    or eax, CR0_NE
    mov cr0, eax
    fninit
    mov word [cw], 0x037B            ; ZE unmasked
    fldcw [cw]
    fld1
    fldz
    fdivp st1, st0
    fnstsw ax
    and eax, 0x0084
    EXPECT eax, 0x0084               ; ZE and ES
    TRY .caught
.insn:
    fwait
    DISARM
    NOEXC VEC_MF
.caught:
    EXPECT_EXC VEC_MF, NOERR, .insn
    fnclex
    fninit
    PASSED

section .data
align 16
m80_values:
    dq 0xC90FDAA22168C235
    dw 0x4000
    dq 0x8000000000000001
    dw 0xBFFE
    dq 0x0000000000000001
    dw 0x0000
    dq 0xC000000000001234
    dw 0x7FFF
i64_value: dq 0x0123456789ABCDEF
f_3_5:  dq 3.5
f_2_25: dq 2.25
f_20:   dq 20.0
f_0_5:  dq 0.5
f_2_5:  dq 2.5
f_m2_5: dq -2.5
i_10:   dd 10
section .bss
alignb 16
fxarea: resb 512
save1:  resb 108
save2:  resb 108
scratch: resb 64
cw:     resw 1
