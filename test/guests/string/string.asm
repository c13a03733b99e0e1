; string — MOVS CMPS SCAS LODS STOS in 8/16/32-bit, without and with REP/REPE/REPNE, DF=0 and
; DF=1, ECX=0, early termination of REPE/REPNE, overlapping copies (element by element, SDM Vol. 1
; 7.3.9.1), 16-bit addressing (CX/SI/DI, wrap at 64 KiB), and segment overrides (the source can
; be overridden, the ES:EDI destination cannot).
%define GUEST_NAME "string"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

BUF_LEN  equ 256
LOW_BUF  equ 0x8000                  ; conventional memory reachable with 16-bit addresses

; fill: EDI = buffer, ECX = length, AL = seed. buf[i] = seed + 7 * i. Preserves registers.
fill:
    pushad
.l: mov [edi], al
    add al, 7
    inc edi
    loop .l
    popad
    ret

; same: ESI, EDI, ECX = length -> EAX = 0 if equal, else 1 + index of the first difference.
same:
    push esi
    push edi
    push ecx
    push ebx
    xor eax, eax
.l: test ecx, ecx
    jz .e
    inc eax
    mov bl, [esi]
    cmp bl, [edi]
    jne .d
    inc esi
    inc edi
    dec ecx
    jmp .l
.e: xor eax, eax
.d: pop ebx
    pop ecx
    pop edi
    pop esi
    ret

; setup: src = pattern seed 1, dst = pattern seed 0x80 (so that nothing matches by accident)
setup:
    pushad
    mov edi, src
    mov ecx, BUF_LEN + 16
    mov al, 1
    call fill
    mov edi, dst
    mov ecx, BUF_LEN + 16
    mov al, 0x80
    call fill
    mov edi, ref
    mov ecx, BUF_LEN + 16
    mov al, 0x80
    call fill
    popad
    ret

; ---- MOVS ------------------------------------------------------------------------------------------
CHECK chk_movs_single, "string.movs_single_df0", "MOVSB/W/D without REP, DF=0: data and ESI/EDI steps of 1, 2, 4"
    call setup
    mov esi, src
    mov edi, dst
    movsb
    EXPECT esi, src + 1
    EXPECT edi, dst + 1
    movsw
    EXPECT esi, src + 3
    EXPECT edi, dst + 3
    movsd
    EXPECT esi, src + 7
    EXPECT edi, dst + 7
    mov esi, src
    mov edi, dst
    mov ecx, 7
    call same
    EXPECT eax, 0
    EXPECT8 byte [dst + 7], 0x80 + 7 * 7   ; untouched
    PASSED

CHECK chk_movs_single_df1, "string.movs_single_df1", "MOVSD/W/B without REP, DF=1: data and decrements"
    call setup
    mov esi, src + 100
    mov edi, dst + 100
    std
    movsd                            ; copies src[100..103], then ESI/EDI -= 4
    movsw                            ; copies src[96..97]
    movsb                            ; copies src[94]
    cld
    EXPECT esi, src + 93
    EXPECT edi, dst + 93
    mov esi, src + 100
    mov edi, dst + 100
    mov ecx, 4
    call same
    EXPECT eax, 0
    mov esi, src + 96
    mov edi, dst + 96
    mov ecx, 2
    call same
    EXPECT eax, 0
    mov al, [src + 94]
    EXPECT8 byte [dst + 94], al
    EXPECT8 byte [dst + 95], 0x80 + 7 * 95 & 0xFF
    EXPECT8 byte [dst + 98], 0x80 + 7 * 98 & 0xFF
    PASSED

%macro REPMOVS 3                     ; name, instruction, element size
CHECK chk_rep_%1, %strcat("string.rep_", %str(%1), "_df0"), %strcat("REP ", %str(%1), " with DF=0: data, ECX=0, ESI/EDI advanced, the next byte untouched")
    call setup
    mov esi, src
    mov edi, dst
    mov ecx, 37
    rep %2
    EXPECT ecx, 0
    EXPECT esi, src + 37 * %3
    EXPECT edi, dst + 37 * %3
    mov esi, src
    mov edi, dst
    mov ecx, 37 * %3
    call same
    EXPECT eax, 0
    EXPECT8 byte [dst + 37 * %3], (0x80 + 7 * 37 * %3) & 0xFF
    PASSED
CHECK chk_rep_%1_df1, %strcat("string.rep_", %str(%1), "_df1"), %strcat("REP ", %str(%1), " with DF=1: copies downwards, neighbours untouched")
    call setup
    mov esi, src + 200
    mov edi, dst + 200
    mov ecx, 21
    std
    rep %2
    cld
    EXPECT ecx, 0
    EXPECT esi, src + 200 - 21 * %3
    EXPECT edi, dst + 200 - 21 * %3
    mov esi, src + 200 - 20 * %3
    mov edi, dst + 200 - 20 * %3
    mov ecx, 21 * %3
    call same
    EXPECT eax, 0
    EXPECT8 byte [dst + 200 - 20 * %3 - 1], (0x80 + 7 * (200 - 20 * %3 - 1)) & 0xFF
    EXPECT8 byte [dst + 200 + %3], (0x80 + 7 * (200 + %3)) & 0xFF
    PASSED
%endmacro
REPMOVS movsb, movsb, 1
REPMOVS movsw, movsw, 2
REPMOVS movsd, movsd, 4

CHECK chk_rep_movs_ecx0, "string.rep_movs_ecx0", "REP MOVS with ECX=0 moves nothing and changes no register"
    call setup
    mov esi, src
    mov edi, dst
    xor ecx, ecx
    rep movsd
    EXPECT ecx, 0
    EXPECT esi, src
    EXPECT edi, dst
    mov esi, dst
    mov edi, ref
    mov ecx, 16
    call same
    EXPECT eax, 0
    PASSED

CHECK chk_movs_overlap_fwd, "string.rep_movsb_overlap_forward", "REP MOVSB with the destination one byte above the source replicates the first byte (element by element)"
    call setup
    mov esi, src
    lea edi, [src + 1]
    mov ecx, 64
    rep movsb                        ; element by element: src[0] propagates
    mov al, [src]
    mov ecx, 65
    mov edi, src
.chk:
    cmp [edi], al
    jne .bad
    inc edi
    loop .chk
    EXPECT8 byte [src + 65], (1 + 7 * 65) & 0xFF
    PASSED
.bad:
    FAILNOW eax, edi

CHECK chk_movs_overlap_fwd4, "string.rep_movsd_overlap_forward", "REP MOVSD with the destination one dword above the source replicates the first dword"
    call setup
    mov esi, src
    lea edi, [src + 4]
    mov ecx, 16
    rep movsd                        ; the first dword repeats 17 times
    mov eax, [src]
    mov ecx, 17
    mov edi, src
    repe scasd
    EXPECT ecx, 0
    jne .bad
    PASSED
.bad:
    FAILNOW 0, 1

CHECK chk_movs_overlap_bwd, "string.rep_movsb_overlap_backward", "REP MOVSB with DF=1 and overlapping buffers shifts the data up by one"
    call setup
    lea esi, [src + 64]
    lea edi, [src + 65]
    mov ecx, 65
    std
    rep movsb                        ; backward, one apart: byte at src[0] ends at src[0..1]
    cld
    ; result: src[k+1] = old src[k] for k = 0..64
    xor ecx, ecx
.chk:
    lea eax, [ecx * 8]
    sub eax, ecx                     ; 7k
    inc eax                          ; old src[k] = 1 + 7k
    cmp [src + ecx + 1], al
    jne .bad
    inc ecx
    cmp ecx, 65
    jb .chk
    EXPECT8 byte [src], 1
    PASSED
.bad:
    FAILNOW eax, ecx

; ---- STOS / LODS --------------------------------------------------------------------------------
CHECK chk_stos, "string.stos_all_widths", "STOSB/W/D store AL/AX/EAX and advance EDI"
    call setup
    mov edi, dst
    mov eax, 0x44332211
    stosb
    stosw
    stosd
    EXPECT edi, dst + 7
    EXPECT dword [dst], 0x11221111       ; 11, 11 22, 11 22 33 44
    EXPECT dword [dst + 3], 0x44332211
    EXPECT8 byte [dst + 7], (0x80 + 49) & 0xFF
    PASSED

CHECK chk_rep_stos, "string.rep_stos_df0_df1", "REP STOSD forwards and REP STOSW backwards, with untouched neighbours"
    call setup
    mov edi, dst + 4
    mov eax, 0xA5A5A5A5
    mov ecx, 10
    rep stosd
    EXPECT edi, dst + 44
    EXPECT ecx, 0
    EXPECT dword [dst + 40], 0xA5A5A5A5
    EXPECT8 byte [dst + 44], (0x80 + 7 * 44) & 0xFF
    EXPECT8 byte [dst + 3], (0x80 + 7 * 3) & 0xFF
    mov edi, dst + 100
    mov ax, 0x5A6B
    mov ecx, 3
    std
    rep stosw                        ; writes 100, 98, 96
    cld
    EXPECT edi, dst + 94
    EXPECT16 word [dst + 96], 0x5A6B
    EXPECT16 word [dst + 100], 0x5A6B
    EXPECT8 byte [dst + 95], (0x80 + 7 * 95) & 0xFF
    EXPECT8 byte [dst + 102], (0x80 + 7 * 102) & 0xFF
    PASSED

CHECK chk_rep_stos_big, "string.rep_stosd_4096", "REP STOSD over 16 KiB"
    mov edi, big
    mov eax, 0x01020304
    mov ecx, 4096
    rep stosd
    EXPECT edi, big + 16384
    mov esi, big
    mov ecx, 4096
.l: cmp dword [esi], 0x01020304
    jne .bad
    add esi, 4
    loop .l
    PASSED
.bad:
    FAILNOW 0x01020304, dword [esi]

CHECK chk_lods, "string.lods_all_widths", "LODSB/W/D load into AL/AX/EAX (upper bits kept), DF=1, and REP LODSW"
    mov dword [dst], 0x44332211
    mov dword [dst + 4], 0x88776655
    mov esi, dst
    mov eax, 0xFFFFFFFF
    lodsb
    EXPECT eax, 0xFFFFFF11
    lodsw
    EXPECT eax, 0xFFFF3322
    lodsd
    EXPECT eax, 0x77665544
    EXPECT esi, dst + 7
    std
    lodsb                            ; reads dst[7], ESI -> dst + 6
    cld
    EXPECT eax, 0x77665588
    EXPECT esi, dst + 6
    mov esi, dst
    mov ecx, 3
    rep lodsw                        ; legal; the last element stays in AX
    EXPECT eax, 0x77666655
    EXPECT esi, dst + 6
    EXPECT ecx, 0
    PASSED

; ---- SCAS / CMPS ----------------------------------------------------------------------------------
CHECK chk_scas_flags, "string.scas_flags_like_cmp", "SCASB sets the flags of CMP AL, [EDI]"
    mov byte [dst], 0x80
    mov edi, dst
    mov al, 0x7F
    scasb                            ; AL - [EDI] = 0x7F - 0x80 = 0xFF: CF OF SF PF, no AF
    pushfd
    pop eax
    and eax, FL_STATUS
    EXPECT eax, FL_CF | FL_OF | FL_SF | FL_PF
    EXPECT edi, dst + 1
    PASSED

CHECK chk_repne_scas, "string.repne_scasb_found", "REPNE SCASB stops after the match: ECX, EDI, ZF=1"
    call setup
    mov edi, src
    mov al, [src + 40]
    mov ecx, 100
    repne scasb                      ; stops after the match at index 40
    pushfd
    pop ebx
    EXPECT ecx, 100 - 41
    EXPECT edi, src + 41
    EXPECT_BITS ebx, FL_ZF, FL_ZF
    PASSED

CHECK chk_repne_scas_miss, "string.repne_scasd_not_found", "REPNE SCASD without a match runs ECX down to 0, ZF=0"
    call setup
    mov edi, src
    mov eax, 0xDEADBEEF
    mov ecx, 20
    repne scasd
    pushfd
    pop ebx
    EXPECT ecx, 0
    EXPECT edi, src + 80
    EXPECT_BITS ebx, FL_ZF, 0
    PASSED

CHECK chk_repne_scas_df1, "string.repne_scasw_found_df1", "REPNE SCASW with DF=1 searches downwards and stops after the match"
    call setup
    mov ax, [src + 20]               ; the word at offset 20
    lea edi, [src + 60]
    mov ecx, 30
    std
    repne scasw                      ; 60, 58, ... 20: the 21st comparison matches
    cld
    pushfd
    pop ebx
    EXPECT ecx, 30 - 21
    EXPECT edi, src + 18
    EXPECT_BITS ebx, FL_ZF, FL_ZF
    PASSED

CHECK chk_repe_scas, "string.repe_scasw_mismatch", "REPE SCASW stops after the first mismatch with its flags"
    mov edi, dst
    mov ecx, 10
    mov ax, 0x1234
    rep stosw
    mov word [dst + 12], 0x1235      ; element 6 differs
    mov edi, dst
    mov ecx, 10
    repe scasw
    pushfd
    pop ebx
    EXPECT ecx, 3
    EXPECT edi, dst + 14
    EXPECT_BITS ebx, FL_ZF | FL_CF | FL_SF, FL_CF | FL_SF   ; 0x1234 - 0x1235
    PASSED

CHECK chk_scas_ecx0, "string.repe_scas_ecx0_keeps_flags", "REPE SCASB with ECX=0 keeps the flags and EDI"
    mov edi, dst
    xor ecx, ecx
    xor eax, eax
    push FL_CF | FL_OF | 2
    popfd
    repe scasb
    pushfd
    pop ebx
    EXPECT ebx, FL_CF | FL_OF | 2
    EXPECT edi, dst
    PASSED

CHECK chk_cmps_order, "string.cmps_flags_src_minus_dst", "CMPSB compares [ESI] - [EDI] (source minus destination)"
    mov byte [src], 1
    mov byte [dst], 2
    mov esi, src
    mov edi, dst
    cmpsb                            ; [ESI] - [EDI] = 1 - 2: CF=1 SF=1
    pushfd
    pop ebx
    EXPECT_BITS ebx, FL_STATUS, FL_CF | FL_SF | FL_AF | FL_PF
    EXPECT esi, src + 1
    EXPECT edi, dst + 1
    PASSED

CHECK chk_repe_cmps, "string.repe_cmpsd_mismatch", "REPE CMPSD stops after the mismatching element: ECX, ESI, EDI, flags"
    call setup
    mov esi, src
    mov edi, dst
    mov ecx, 16
    rep movsd
    mov dword [dst + 20], 0          ; element 5 differs
    mov esi, src
    mov edi, dst
    mov ecx, 16
    repe cmpsd
    pushfd
    pop ebx
    EXPECT ecx, 10
    EXPECT esi, src + 24
    EXPECT edi, dst + 24
    EXPECT_BITS ebx, FL_ZF | FL_CF, 0      ; src element > 0
    PASSED

CHECK chk_repne_cmps, "string.repne_cmpsb_match_df1", "REPNE CMPSB with DF=1 stops after the equal pair"
    call setup
    mov al, [src + 10]
    mov [dst + 10], al               ; the only equal pair
    lea esi, [src + 50]
    lea edi, [dst + 50]
    mov ecx, 60
    std
    repne cmpsb
    cld
    pushfd
    pop ebx
    EXPECT ecx, 60 - 41
    EXPECT esi, src + 9
    EXPECT edi, dst + 9
    EXPECT_BITS ebx, FL_ZF, FL_ZF
    PASSED

CHECK chk_repe_cmps_all, "string.repe_cmpsw_all_equal", "REPE CMPSW over equal buffers: ECX=0, ZF=1"
    call setup
    mov esi, src
    mov edi, ref
    mov ecx, 32
    rep movsw
    mov esi, src
    mov edi, ref
    mov ecx, 32
    repe cmpsw
    pushfd
    pop ebx
    EXPECT ecx, 0
    EXPECT esi, src + 64
    EXPECT_BITS ebx, FL_ZF, FL_ZF
    PASSED

; ---- 16-bit addressing, overrides --------------------------------------------------------------
CHECK chk_a16_movs, "string.addr16_uses_cx_si_di", "67h REP MOVSB uses CX, SI, DI and keeps their upper halves"
    call setup
    mov esi, src
    mov edi, LOW_BUF
    mov ecx, 32
    rep movsb                        ; a low copy of the source
    mov esi, 0xABCD0000 | LOW_BUF    ; only SI/DI/CX count, the upper halves stay
    mov edi, 0x12340000 | (LOW_BUF + 0x100)
    mov ecx, 0x55550000 | 16
    a16 rep movsb
    EXPECT ecx, 0x55550000
    EXPECT esi, 0xABCD0000 | (LOW_BUF + 16)
    EXPECT edi, 0x12340000 | (LOW_BUF + 0x110)
    mov esi, LOW_BUF
    mov edi, LOW_BUF + 0x100
    mov ecx, 16
    call same
    EXPECT eax, 0
    PASSED

CHECK chk_a16_wrap, "string.addr16_si_wraps", "67h MOVSB with SI=0xFFFF wraps SI to 0"
    mov byte [0xFFFF], 0x5C
    mov byte [0], 0x00
    mov esi, 0x0000FFFF
    mov edi, LOW_BUF
    a16 movsb
    EXPECT esi, 0                    ; SI wrapped to 0, no carry into ESI[31:16]
    EXPECT8 byte [LOW_BUF], 0x5C
    PASSED

CHECK chk_seg_override, "string.source_override_dest_es", "a segment override moves MOVS's source, never STOS's ES:EDI destination"
    call setup
    ; FS: base = src - 0x1000. fs movsb reads FS:ESI, writes ES:EDI.
    mov eax, GDT_FREE
    mov ebx, src - 0x1000
    mov ecx, 0xFFFFF
    mov dl, ACC_DATA0
    mov dh, FLAGS_4G32
    call set_desc
    mov ax, GDT_FREE << 3
    mov fs, ax
    mov esi, 0x1000 + 3
    mov edi, dst
    fs movsb
    mov al, [src + 3]
    EXPECT8 byte [dst], al
    ; an override does not move STOS's ES:EDI destination
    mov edi, dst + 8
    mov al, 0xEE
    fs stosb
    EXPECT8 byte [dst + 8], 0xEE
    EXPECT8 byte [src + 8], (1 + 56) & 0xFF
    PASSED

section .bss
alignb 16
src:  resb BUF_LEN + 16
dst:  resb BUF_LEN + 16
ref:  resb BUF_LEN + 16
big:  resb 16384
section .text
