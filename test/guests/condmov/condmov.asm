; condmov — conditions and data movement. Data-driven against the host CPU (condmov-ops.asm,
; condmov-vectors.asm): SETcc CMOVcc Jcc for every flag combination, XCHG XADD CMPXCHG, BSWAP
; MOVZX MOVSX CBW CWDE CWD CDQ, LAHF SAHF. Hand-written below: CMPXCHG8B (both outcomes, #UD for
; a register operand), LEA with every 32-bit and 16-bit addressing form, XLAT.
%define GUEST_NAME "condmov"
%include "lib/kernel.inc"
%include "lib/check.inc"
%include "lib/vecrun.inc"

guest_main:
    call run_vector_ops
    call run_checks
    ret

; ---- CMPXCHG8B -----------------------------------------------------------------------------------
CHECK chk_cx8_equal, "xchg.cmpxchg8b_equal", "CMPXCHG8B, EDX:EAX = m64: m64 <- ECX:EBX, ZF=1, other flags kept"
    mov dword [q64], 0x11111111
    mov dword [q64 + 4], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222222
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    push FL_CF | FL_SF | FL_OF | FL_PF | FL_AF | 2
    popfd
    cmpxchg8b [q64]
    pushfd
    pop esi
    EXPECT esi, FL_CF | FL_SF | FL_OF | FL_PF | FL_AF | FL_ZF | 2   ; only ZF changes
    EXPECT dword [q64], 0x33333333
    EXPECT dword [q64 + 4], 0x44444444
    EXPECT eax, 0x11111111
    EXPECT edx, 0x22222222
    PASSED

CHECK chk_cx8_differ, "xchg.cmpxchg8b_not_equal", "CMPXCHG8B, high or low half differs: EDX:EAX <- m64, m64 kept, ZF=0, CF kept"
    mov dword [q64], 0x11111111
    mov dword [q64 + 4], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222223              ; high halves differ
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    push FL_ZF | FL_CF | 2
    popfd
    cmpxchg8b [q64]
    pushfd
    pop esi
    EXPECT esi, FL_CF | 2            ; ZF cleared, CF kept
    EXPECT eax, 0x11111111           ; EDX:EAX = m64
    EXPECT edx, 0x22222222
    EXPECT dword [q64], 0x11111111   ; m64 unchanged
    EXPECT dword [q64 + 4], 0x22222222
    mov eax, 0x11111112              ; low halves differ
    cmpxchg8b [q64]
    EXPECT eax, 0x11111111
    EXPECT dword [q64], 0x11111111
    PASSED

CHECK chk_cx8_lock, "xchg.lock_cmpxchg8b", "LOCK CMPXCHG8B is allowed and works"
    mov dword [q64], 5
    mov dword [q64 + 4], 6
    mov eax, 5
    mov edx, 6
    mov ebx, 7
    mov ecx, 8
    lock cmpxchg8b [q64]
    EXPECT dword [q64], 7
    EXPECT dword [q64 + 4], 8
    PASSED

CHECK chk_cx8_reg, "xchg.cmpxchg8b_register_ud", "CMPXCHG8B with a register operand (mod=11) raises #UD"
    TRY .caught
.insn:
    db 0x0F, 0xC7, 0xC8              ; CMPXCHG8B with ModRM mod=11: #UD
    DISARM
    NOEXC VEC_UD
.caught:
    EXPECT_EXC VEC_UD, 0, .insn
    PASSED

; ---- LEA ---------------------------------------------------------------------------------------------
; lea_regs: known base/index values for the LEA checks (ESP is set by the checks that need it).
lea_regs:
    mov eax, 0x00001000
    mov ebx, 0x00000020
    mov ecx, 0x00000300
    mov edx, 0x00004000
    mov esi, 0x00050000
    mov edi, 0x00600000
    mov ebp, 0x07000000
    ret

CHECK chk_lea_modrm, "lea.modrm32_forms", "LEA with every ModRM form without SIB: [reg], disp8 (+ and -), disp32, disp32 alone, EBP base, wrap at 2^32"
    call lea_regs
    lea esi, [eax]                   ; mod 00
    EXPECT esi, 0x1000
    lea esi, [ebx + 0x7F]            ; mod 01, disp8
    EXPECT esi, 0x9F
    lea esi, [ecx - 0x80]            ; negative disp8
    EXPECT esi, 0x280
    lea esi, [edx + 0x12345678]      ; mod 10, disp32
    EXPECT esi, 0x12349678
    lea esi, [0x0BADF00D]            ; mod 00 rm 101: disp32, no base
    EXPECT esi, 0x0BADF00D
    lea esi, [ebp + 4]               ; EBP base always needs a displacement (mod 01)
    EXPECT esi, 0x07000004
    lea esi, [ebp]                   ; assembled as [ebp + 0] disp8
    EXPECT esi, 0x07000000
    lea esi, [edi + 0x80000000]
    EXPECT esi, 0x80600000
    lea esi, [eax - 0x1001]          ; wraps around 2^32
    EXPECT esi, 0xFFFFFFFF
    PASSED

CHECK chk_lea_sib, "lea.sib_scales", "LEA with SIB: scales 1, 2, 4, 8, with disp8/disp32, EBP base, index equal to base"
    call lea_regs
    lea esi, [eax + ebx]
    EXPECT esi, 0x1020
    lea esi, [eax + ebx*2]
    EXPECT esi, 0x1040
    lea esi, [eax + ebx*4]
    EXPECT esi, 0x1080
    lea esi, [eax + ebx*8]
    EXPECT esi, 0x1100
    lea esi, [ecx + edx*8 + 0x10]
    EXPECT esi, 0x20310
    lea esi, [edx + ecx*4 - 0x12345678]
    EXPECT esi, 0x4000 + 0xC00 - 0x12345678
    lea esi, [ebp + edi*2 + 1]       ; EBP base with SIB: mod 01
    EXPECT esi, 0x07C00001
    lea esi, [eax*2 + eax]           ; scaled index and same base
    EXPECT esi, 0x3000
    PASSED

CHECK chk_lea_sib_special, "lea.sib_no_base_no_index_esp", "LEA with SIB: no base (base=101, mod=00), ESP base, index=100 (none) with a scale"
    call lea_regs
    lea esi, [ebx*4 + 0x100]         ; SIB base 101 with mod 00: disp32, no base
    EXPECT esi, 0x180
    lea esi, [nosplit ebx*2]         ; no base, scale 2, disp32 = 0
    EXPECT esi, 0x40
    mov [lea_esp], esp
    mov esp, 0x00ABC000
    lea esi, [esp]                   ; ESP base needs SIB (index 100 = none)
    lea edi, [esp + 0x10]
    lea ebp, [esp + eax*2 - 4]
    mov esp, [lea_esp]
    EXPECT esi, 0x00ABC000
    EXPECT edi, 0x00ABC010
    EXPECT ebp, 0x00ABDFFC
    call lea_regs
    db 0x8D, 0x34, 0x63              ; lea esi, [ebx + (none)*2]: SIB index 100 (none), scale 2
    EXPECT esi, 0x20
    db 0x8D, 0x74, 0xA3, 0x05        ; lea esi, [ebx + (none)*4 + 5]
    EXPECT esi, 0x25
    PASSED

CHECK chk_lea_a16, "lea.addr16_forms", "LEA with 16-bit addressing: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, disp16, BP, BX; upper halves ignored; wrap at 64 KiB"
    mov ebx, 0xFFFF1000              ; 16-bit addressing uses BX SI DI BP only, modulo 2^16
    mov esi, 0xFFFF0200
    mov edi, 0xFFFF0030
    mov ebp, 0xFFFF0004
    mov eax, 0xAAAAAAAA
    a16 lea eax, [bx + si]
    EXPECT eax, 0x1200
    a16 lea eax, [bx + di + 1]
    EXPECT eax, 0x1031
    a16 lea eax, [bp + si - 1]
    EXPECT eax, 0x0203
    a16 lea eax, [bp + di + 0x1000]
    EXPECT eax, 0x1034
    a16 lea eax, [si]
    EXPECT eax, 0x0200
    a16 lea eax, [di + 0x7F]
    EXPECT eax, 0x00AF
    a16 lea eax, [word 0x8765]       ; mod 00 rm 110: disp16, no base
    EXPECT eax, 0x8765
    a16 lea eax, [bp]                ; [bp + 0] disp8
    EXPECT eax, 0x0004
    a16 lea eax, [bx]
    EXPECT eax, 0x1000
    a16 lea eax, [bx + si + 0xF000]  ; 0x1200 + 0xF000 wraps to 0x0200
    EXPECT eax, 0x0200
    PASSED

CHECK chk_lea_o16, "lea.opsize16_keeps_upper", "LEA with a 16-bit destination truncates and keeps EAX[31:16]"
    mov eax, 0x12345678
    mov ebx, 0x0001FFFF
    mov ecx, 0x00000002
    lea ax, [ebx + ecx]              ; 0x20001 truncated to 16 bits
    EXPECT eax, 0x12340001
    PASSED

; ---- XLAT -------------------------------------------------------------------------------------------
CHECK chk_xlat, "xlat.ds_ebx_al", "XLAT reads DS:[EBX + AL] into AL, EAX[31:8] kept"
    call xlat_fill
    mov ebx, xlat_table
    mov eax, 0x123456F0
    xlatb
    EXPECT eax, 0x1234560F           ; table[i] = 255 - i
    mov eax, 0xFFFFFF00
    xlatb
    EXPECT eax, 0xFFFFFFFF
    PASSED

CHECK chk_xlat_a16, "xlat.addr16_bx", "XLAT with 16-bit addressing uses BX, not EBX"
    call xlat_fill
    ; copy the table under 64 KiB so that BX can reach it
    mov esi, xlat_table
    mov edi, XLAT_LOW
    mov ecx, 256
    rep movsb
    mov ebx, 0xABCD0000 | XLAT_LOW   ; only BX counts
    mov eax, 0x00000003
    a16 xlatb
    EXPECT eax, 0xFC
    PASSED

CHECK chk_xlat_fs, "xlat.segment_override", "XLAT honours a segment override (FS with a non-zero base)"
    call xlat_fill
    ; FS: a data segment based 0x100 bytes below the table
    mov eax, GDT_FREE
    mov ebx, xlat_table - 0x100
    mov ecx, 0xFFFFF
    mov dl, ACC_DATA0
    mov dh, FLAGS_4G32
    call set_desc
    mov ax, GDT_FREE << 3
    mov fs, ax
    mov ebx, 0x100
    mov eax, 0x10
    fs xlatb
    EXPECT eax, 0xEF
    PASSED

XLAT_LOW equ 0x8000                  ; conventional memory below 64 KiB that we may overwrite

xlat_fill:
    xor ecx, ecx
.f:
    mov al, 255
    sub al, cl
    mov [xlat_table + ecx], al
    inc ecx
    cmp ecx, 256
    jb .f
    ret

section .bss
alignb 8
q64:        resq 1
lea_esp:    resd 1
xlat_table: resb 256
section .text
