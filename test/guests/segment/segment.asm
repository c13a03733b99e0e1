; segment — segment loads and protection (SDM Vol. 3A, chapter 5): null selectors in DS (fine
; until used) and SS (#GP), selectors beyond the GDT limit, not-present segments (#NP, #SS for SS),
; wrong descriptor types, DPL/RPL/CPL rules, limits (expand-up, expand-down, the stack), base
; wrap-around, descriptor caches (a loaded segment keeps its base after the GDT changes), the
; accessed bit; privilege levels 0-3: IRET to ring 3 and ring 1, back through an interrupt gate
; with a stack switch from the TSS, data segment registers nulled on the way out, a ring-3 INT to
; a DPL-0 gate, I/O with IOPL and the TSS I/O bitmap, CLI/STI/POPF under IOPL, HLT and other
; privileged instructions at CPL 3, conforming code.
%define GUEST_NAME "segment"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

; ---- test descriptors (rebuilt by seg_setup in every check) -------------------------------------
S_R1CODE  equ 8 << 3                 ; ring-1 code
S_R1DATA  equ 9 << 3                 ; ring-1 data (also ring-1 stack)
S_R2DATA  equ 10 << 3                ; DPL-2 data
S_CONF0   equ 11 << 3                ; conforming readable code, DPL 0
S_XO      equ 12 << 3                ; execute-only code, DPL 0
S_RO      equ 13 << 3                ; read-only data, DPL 0
S_NP      equ 14 << 3                ; not-present data
S_LIM     equ 15 << 3                ; data, base seg_buf, limit 0xFFF bytes
S_EXPDN   equ 16 << 3                ; expand-down data, base seg_buf, limit 0xFFF, B=1
S_WRAP    equ 17 << 3                ; data, base 0xFFFFF000, 4 GiB
S_BASE    equ 18 << 3                ; data, base seg_buf
S_NPCODE  equ 19 << 3                ; not-present code
S_SSLIM   equ 20 << 3                ; DPL-3 data (stack), base seg_stack_lo, limit 0xFFF
S_LDT     equ 21 << 3                ; an LDT descriptor (system type 2)
S_NPSS    equ 22 << 3                ; not-present data used as a stack
S_R3CONF  equ 23 << 3                ; conforming code, DPL 3 (for a CPL-0 far jump)
S_XOCONF  equ 24 << 3                ; conforming execute-only code, DPL 0
S_R2CODE  equ 25 << 3                ; ring-2 code

ACC_R1CODE equ 0xBA                  ; P, DPL 1, code, readable
ACC_R1DATA equ 0xB2                  ; P, DPL 1, data, writable
ACC_R2DATA equ 0xD2                  ; P, DPL 2, data, writable
ACC_CONF0  equ 0x9E                  ; P, DPL 0, code, conforming, readable
ACC_XO     equ 0x98                  ; P, DPL 0, code, execute-only
ACC_RO     equ 0x90                  ; P, DPL 0, data, read-only
ACC_NPDATA equ 0x12                  ; not present, DPL 0, data, writable
ACC_EXPDN  equ 0x96                  ; P, DPL 0, data, expand-down, writable
ACC_NPCODE equ 0x1A                  ; not present, DPL 0, code, readable
ACC_LDT    equ 0x82                  ; P, DPL 0, system type 2 = LDT
ACC_CONF3  equ 0xFE                  ; P, DPL 3, code, conforming, readable
ACC_XOCONF equ 0x9C                  ; P, DPL 0, code, conforming, execute-only
ACC_R2CODE equ 0xDA                  ; P, DPL 2, code, readable
FLAGS_BYTE32 equ 0x40                ; G=0 (byte granular), D/B=1

%macro DESC 5                        ; selector, base, limit, access, flags
    mov eax, (%1) >> 3
    mov ebx, %2
    mov ecx, %3
    mov dl, %4
    mov dh, %5
    call set_desc
%endmacro

seg_setup:
    pushad
    mov dword [seg_word], SEG_WORD
    DESC S_R1CODE, 0, 0xFFFFF, ACC_R1CODE, FLAGS_4G32
    DESC S_R1DATA, 0, 0xFFFFF, ACC_R1DATA, FLAGS_4G32
    DESC S_R2DATA, 0, 0xFFFFF, ACC_R2DATA, FLAGS_4G32
    DESC S_CONF0, 0, 0xFFFFF, ACC_CONF0, FLAGS_4G32
    DESC S_XO, 0, 0xFFFFF, ACC_XO, FLAGS_4G32
    DESC S_RO, 0, 0xFFFFF, ACC_RO, FLAGS_4G32
    DESC S_NP, 0, 0xFFFFF, ACC_NPDATA, FLAGS_4G32
    DESC S_LIM, seg_buf, 0xFFF, ACC_DATA0, FLAGS_BYTE32
    DESC S_EXPDN, seg_buf, 0xFFF, ACC_EXPDN, FLAGS_BYTE32
    DESC S_WRAP, 0xFFFFF000, 0xFFFFF, ACC_DATA0, FLAGS_4G32
    DESC S_BASE, seg_buf, 0xFFFFF, ACC_DATA0, FLAGS_4G32
    DESC S_NPCODE, 0, 0xFFFFF, ACC_NPCODE, FLAGS_4G32
    DESC S_SSLIM, seg_stack_lo, 0xFFF, ACC_DATA3, FLAGS_BYTE32
    DESC S_LDT, seg_buf, 0xFF, ACC_LDT, 0
    DESC S_NPSS, 0, 0xFFFFF, ACC_NPDATA, FLAGS_4G32
    DESC S_R3CONF, 0, 0xFFFFF, ACC_CONF3, FLAGS_4G32
    DESC S_XOCONF, 0, 0xFFFFF, ACC_XOCONF, FLAGS_4G32
    DESC S_R2CODE, 0, 0xFFFFF, ACC_R2CODE, FLAGS_4G32
    popad
    ret

; FAULTS label, vector, error code, instruction: the instruction at .f_<label> must fault.
%macro FAULTS 4
    TRY %%c
.f_%1:
    %4
    DISARM
    NOEXC %2
%%c:
    EXPECT_EXC %2, %3, .f_%1
%endmacro

; ---- null selectors ----------------------------------------------------------------------------------
CHECK chk_null_ds, "seg.null_ds_load_ok_use_gp", "null selectors load into DS/ES/FS/GS; a memory access through one raises #GP(0)"
    xor eax, eax
    mov ds, ax                       ; loading null into DS/ES/FS/GS is fine
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ax, SEL_KDATA
    mov ds, ax
    xor eax, eax
    mov fs, ax
    FAULTS use, VEC_GP, 0, {mov eax, [fs:seg_buf]}
    PASSED

CHECK chk_null_ss, "seg.null_ss_gp", "MOV SS with a null selector raises #GP(0)"
    xor eax, eax
    FAULTS ss, VEC_GP, 0, {mov ss, ax}
    PASSED

CHECK chk_null_rpl, "seg.null_selector_with_rpl3_ok", "selector 3 is null too and loads into ES"
    mov ax, 3                        ; selectors 0-3 are all null
    mov es, ax
    mov eax, es
    EXPECT eax, 3
    PASSED

; ---- selector beyond the limit, not present, wrong type -----------------------------------------------
CHECK chk_beyond, "seg.beyond_gdt_limit_gp", "a selector beyond the GDT limit raises #GP(selector without RPL)"
    mov ax, GDT_ENTRIES << 3
    FAULTS a, VEC_GP, GDT_ENTRIES << 3, {mov ds, ax}
    mov ax, (GDT_ENTRIES << 3) | 3   ; RPL bits are not part of the error code
    FAULTS b, VEC_GP, GDT_ENTRIES << 3, {mov es, ax}
    PASSED

CHECK chk_gdt_limit_edge, "seg.gdt_limit_boundary", "the last descriptor inside a shortened GDT loads, the next one #GP"
    call seg_setup
    mov word [small_gdt], (S_BASE + 8) - 1   ; the limit ends right after S_BASE
    mov dword [small_gdt + 2], gdt
    lgdt [small_gdt]
    mov ax, S_BASE
    mov fs, ax                       ; last entry: fine
    mov ax, S_BASE + 8
    FAULTS a, VEC_GP, S_BASE + 8, {mov fs, ax}
    lgdt [gdt_ptr]
    PASSED

CHECK chk_ldt_ti, "seg.ti_bit_without_ldt_gp", "TI=1 with a null LDTR raises #GP(selector)"
    xor eax, eax
    lldt ax                          ; a null LDTR: every TI=1 selector is invalid
    mov ax, SEL_KDATA | 4
    FAULTS a, VEC_GP, SEL_KDATA | 4, {mov ds, ax}
    PASSED

CHECK chk_np, "seg.not_present_np", "a not-present data segment into DS raises #NP(selector)"
    call seg_setup
    mov ax, S_NP
    FAULTS a, VEC_NP, S_NP, {mov ds, ax}
    PASSED

CHECK chk_np_ss, "seg.not_present_ss_ss", "a not-present segment into SS raises #SS(selector)"
    call seg_setup
    mov ax, S_NPSS
    FAULTS a, VEC_SS, S_NPSS, {mov ss, ax}
    PASSED

CHECK chk_type_xo, "seg.execute_only_into_ds_gp", "execute-only code into DS is #GP; readable conforming code loads and reads"
    call seg_setup
    mov ax, S_XO
    FAULTS a, VEC_GP, S_XO, {mov ds, ax}
    mov ax, S_CONF0                  ; readable code is fine in DS
    mov ds, ax
    mov eax, [seg_word]              ; and can be read
    EXPECT eax, SEG_WORD
    PASSED

CHECK chk_type_ss, "seg.ss_needs_writable_data", "read-only data or code into SS is #GP(selector)"
    call seg_setup
    mov ax, S_RO
    FAULTS a, VEC_GP, S_RO, {mov ss, ax}
    mov ax, S_CONF0
    FAULTS b, VEC_GP, S_CONF0, {mov ss, ax}
    PASSED

CHECK chk_type_sys, "seg.system_descriptor_into_ds_gp", "a TSS or LDT descriptor into DS/ES is #GP(selector)"
    call seg_setup
    mov ax, SEL_TSS
    FAULTS a, VEC_GP, SEL_TSS, {mov ds, ax}
    mov ax, S_LDT
    FAULTS b, VEC_GP, S_LDT, {mov es, ax}
    PASSED

CHECK chk_ro_write, "seg.write_to_read_only_gp", "a write through a read-only data segment is #GP(0)"
    call seg_setup
    mov ax, S_RO
    mov fs, ax
    mov eax, [fs:seg_word]           ; reading is fine
    FAULTS a, VEC_GP, 0, {mov [fs:write_target], eax}
    PASSED

CHECK chk_cs_write, "seg.write_through_cs_override_gp", "a write with a CS override is #GP(0)"
    FAULTS a, VEC_GP, 0, {mov [cs:write_target], eax}   ; code segments are never writable
    PASSED

CHECK chk_xo_read, "seg.read_execute_only_gp", "a read through an execute-only CS is #GP(0)"
    call seg_setup
    jmp S_XO:.in_xo                  ; run from the execute-only segment
.in_xo:
    FAULTS a, VEC_GP, 0, {mov eax, [cs:seg_word]}
    PASSED

; ---- DPL / RPL at CPL 0 ------------------------------------------------------------------------------
CHECK chk_rpl_ds, "seg.rpl_above_dpl_gp", "a data selector with RPL > DPL is #GP; DPL-3 data loads at CPL 0 with RPL 0 or 3"
    mov ax, SEL_KDATA | 3            ; RPL 3 > DPL 0
    FAULTS a, VEC_GP, SEL_KDATA, {mov ds, ax}
    mov ax, SEL_UDATA                ; DPL 3, RPL 3 at CPL 0: fine
    mov ds, ax
    mov ax, SEL_UDATA & ~3           ; DPL 3, RPL 0: fine
    mov es, ax
    PASSED

CHECK chk_rpl_ss, "seg.ss_rpl_dpl_must_equal_cpl", "SS needs RPL = DPL = CPL: three violations, three #GP"
    call seg_setup
    mov ax, SEL_UDATA                ; RPL 3 != CPL 0
    FAULTS a, VEC_GP, SEL_UDATA & ~3, {mov ss, ax}
    mov ax, SEL_UDATA & ~3           ; RPL 0 but DPL 3 != CPL 0
    FAULTS b, VEC_GP, SEL_UDATA & ~3, {mov ss, ax}
    mov ax, S_R1DATA | 1
    FAULTS c, VEC_GP, S_R1DATA, {mov ss, ax}
    PASSED

CHECK chk_cs_data, "seg.far_jmp_to_data_gp", "far JMP to a data selector is #GP(selector)"
    FAULTS a, VEC_GP, SEL_KDATA, {jmp SEL_KDATA:chk_cs_data}
    PASSED

CHECK chk_cs_np, "seg.far_jmp_not_present_np", "far JMP to a not-present code segment is #NP(selector)"
    call seg_setup
    FAULTS a, VEC_NP, S_NPCODE, {jmp S_NPCODE:chk_cs_np}
    PASSED

CHECK chk_cs_dpl3, "seg.far_jmp_to_ring3_code_gp", "far JMP from CPL 0 to nonconforming DPL-3 code is #GP(selector)"
    FAULTS a, VEC_GP, SEL_UCODE & ~3, {jmp SEL_UCODE:chk_cs_dpl3}   ; nonconforming, DPL != CPL
    PASSED

CHECK chk_cs_conf3, "seg.far_jmp_to_higher_dpl_conforming_gp", "far JMP to conforming code with DPL > CPL is #GP(selector)"
    call seg_setup
    ; conforming code may only be entered from CPL >= DPL: DPL 3 from CPL 0 is refused
    FAULTS a, VEC_GP, S_R3CONF, {jmp S_R3CONF:chk_cs_conf3}
    PASSED

; ---- limits, expand-down, wrap, cache, accessed ----------------------------------------------------------
CHECK chk_limit, "seg.limit_expand_up", "byte-granular limit 0xFFF: the last dword reads, a dword crossing the limit and the byte past it are #GP(0)"
    call seg_setup
    mov ax, S_LIM
    mov fs, ax
    mov dword [seg_buf + 0xFFC], 0xCAFEF00D
    mov eax, [fs:0xFFC]              ; last whole dword inside the limit
    EXPECT eax, 0xCAFEF00D
    mov al, [fs:0xFFF]
    FAULTS a, VEC_GP, 0, {mov eax, [fs:0xFFD]}     ; crosses the limit
    mov ax, S_LIM                    ; (a caught fault leaves FS flat again)
    mov fs, ax
    FAULTS b, VEC_GP, 0, {mov al, [fs:0x1000]}
    PASSED

CHECK chk_limit_ss, "seg.limit_stack_ss", "a PUSH past SS's limit (at CPL 3) is #SS(0)"
    ; at CPL 3, so that the #SS is delivered on the TSS stack rather than the faulting one
    call seg_setup
    mov dword [r3_ok], 0
    TRY .back
    mov ax, SEL_UDATA
    mov ds, ax
    mov es, ax
    mov ebx, .user
    mov ecx, 2
    mov edx, SEL_UCODE
    mov esi, S_SSLIM | 3
    mov edi, 0x1000                  ; the stack's last byte is its limit
    jmp to_ring
.user:
    push eax                         ; limit - 3 .. limit: fine
    mov dword [r3_ok], 1
    add esp, 8
.f: push eax                         ; limit + 1 .. limit + 4: #SS(0)
    int VEC_SYSCALL
.back:
    EXPECT dword [r3_ok], 1
    EXPECT_EXC VEC_SS, 0, .f
    EXPECT dword [exc_ss], S_SSLIM | 3
    PASSED

CHECK chk_expdown, "seg.limit_expand_down", "expand-down, limit 0xFFF, B=1: offsets above the limit work, at or below it are #GP(0)"
    call seg_setup
    mov ax, S_EXPDN
    mov fs, ax
    ; valid offsets are limit + 1 .. 0xFFFFFFFF (B=1)
    mov dword [seg_buf + 0x1000], 0x0D0D0D0D
    mov eax, [fs:0x1000]
    EXPECT eax, 0x0D0D0D0D
    mov eax, [fs:0xFFFFFFFC]
    FAULTS a, VEC_GP, 0, {mov eax, [fs:0xFFF]}
    mov ax, S_EXPDN                  ; (a caught fault leaves FS flat again)
    mov fs, ax
    FAULTS b, VEC_GP, 0, {mov eax, [fs:0xFFE]}     ; starts below, ends inside
    mov ax, S_EXPDN
    mov fs, ax
    FAULTS c, VEC_GP, 0, {mov eax, [fs:0]}
    PASSED

CHECK chk_wrap, "seg.base_wraps_at_4gib", "base 0xFFFFF000 + offset wraps around 2^32"
    call seg_setup
    mov ax, S_WRAP
    mov fs, ax
    mov dword [LOW_VAR], 0x31415926
    mov eax, [fs:LOW_VAR + 0x1000]   ; 0xFFFFF000 + LOW_VAR + 0x1000 = LOW_VAR mod 2^32
    EXPECT eax, 0x31415926
    PASSED

CHECK chk_cache, "seg.descriptor_cache_survives_gdt_change", "a loaded segment keeps its cached base (and works when made not-present in memory) until reloaded"
    call seg_setup
    mov dword [seg_buf + 0x10], 0x11111111
    mov dword [0x10], 0               ; what base 0 would read
    mov ax, S_BASE
    mov fs, ax
    ; change the descriptor's base in memory: FS keeps the cached base until reloaded
    DESC S_BASE, 0, 0xFFFFF, ACC_DATA0, FLAGS_4G32
    mov eax, [fs:0x10]
    EXPECT eax, 0x11111111
    mov ax, S_BASE
    mov fs, ax                       ; reload: now base 0
    mov eax, [fs:seg_buf + 0x10]
    EXPECT eax, 0x11111111
    ; not present in memory: the cached segment still works, a reload faults
    DESC S_BASE, 0, 0xFFFFF, ACC_NPDATA, FLAGS_4G32
    mov eax, [fs:seg_buf + 0x10]
    EXPECT eax, 0x11111111
    mov ax, S_BASE
    FAULTS a, VEC_NP, S_BASE, {mov fs, ax}
    PASSED

CHECK chk_accessed, "seg.load_sets_accessed_bit", "loading a segment sets the accessed bit in its GDT descriptor"
    call seg_setup
    and byte [gdt + S_BASE + 5], ~1
    mov ax, S_BASE
    mov gs, ax
    movzx eax, byte [gdt + S_BASE + 5]
    EXPECT eax, ACC_DATA0 | 1
    PASSED

CHECK chk_mov_sreg, "seg.mov_from_sreg_zero_extends", "MOV r32, Sreg zero-extends; MOV m16, Sreg stores 2 bytes"
    mov eax, 0xFFFFFFFF
    mov eax, ds                      ; 32-bit register destination: zero-extended
    EXPECT eax, SEL_KDATA
    mov dword [seg_word + 4], 0xFFFFFFFF
    mov [seg_word + 4], ds           ; memory destination: a 16-bit store
    EXPECT dword [seg_word + 4], 0xFFFF0000 | SEL_KDATA
    PASSED

; ---- rings -------------------------------------------------------------------------------------------
CHECK chk_ring3_trip, "ring.iret_to_3_int_back_stack_switch", "IRET to CPL 3 loads CS/SS/ESP; INT 0x80 (DPL-3 gate) returns to ring 0 on TSS ESP0 and pushes the ring-3 SS:ESP"
    mov dword [r3_cs], 0
    mov dword [r3_ss], 0
    mov dword [r3_esp], 0
    TRY .back
    RING3 .user, 2
.user:
    mov [r3_cs], cs
    mov [r3_ss], ss
    mov [r3_esp], esp
    int VEC_SYSCALL
.int_done:
.back:
    EXPECT dword [r3_cs], SEL_UCODE
    EXPECT dword [r3_ss], SEL_UDATA
    EXPECT dword [r3_esp], ustack_top
    EXPECT dword [exc_vec], VEC_SYSCALL
    EXPECT dword [exc_cs], SEL_UCODE
    EXPECT dword [exc_eip], .int_done
    EXPECT dword [exc_ss], SEL_UDATA          ; the pushed SS:ESP of ring 3
    EXPECT dword [exc_esp], ustack_top
    EXPECT dword [exc_frame], tss_stack_top - 20   ; on the TSS ESP0 stack: SS ESP EFLAGS CS EIP
    PASSED

CHECK chk_ring3_nulls, "ring.iret_outward_nulls_ds", "IRET to CPL 3 nulls DS/FS holding DPL-0 segments, keeps ES with a DPL-3 one"
    mov dword [r3_ds], 0xFFFF
    TRY .back
    mov ax, SEL_KDATA                ; DPL 0: not usable at CPL 3, so IRET nulls them
    mov ds, ax
    mov fs, ax
    mov ax, SEL_UDATA
    mov es, ax
    mov ebx, .user
    mov ecx, 2
    mov edx, SEL_UCODE
    mov esi, SEL_UDATA
    mov edi, ustack_top
    jmp to_ring
.user:
    mov eax, ds
    mov [es:r3_ds], eax
    mov eax, fs
    mov [es:r3_fs], eax
    mov eax, es
    mov [es:r3_es], eax
    int VEC_SYSCALL
.back:
    EXPECT dword [r3_ds], 0
    EXPECT dword [r3_fs], 0
    EXPECT dword [r3_es], SEL_UDATA
    PASSED

CHECK chk_ring3_gate, "ring.int_to_dpl0_gate_gp", "INT n at CPL 3 to a DPL-0 gate is #GP(n*8+2) at the INT"
    TRY .back
    RING3 .user, 2
.user:
.f:
    int 0x41                         ; DPL 0 gate from CPL 3
.back:
    EXPECT_EXC VEC_GP, (0x41 << 3) | 2, .f   ; error code: vector, IDT bit
    EXPECT dword [exc_cs], SEL_UCODE
    EXPECT dword [exc_ss], SEL_UDATA
    PASSED

CHECK chk_ring3_int3_gate, "ring.int3_to_dpl0_gate_gp", "INT3 at CPL 3 to a DPL-0 gate is #GP(3*8+2)"
    TRY .back
    RING3 .user, 2
.user:
.f:
    int3                             ; #BP's gate is DPL 0 here: #GP, error code 3 << 3 | 2
.back:
    EXPECT_EXC VEC_GP, (VEC_BP << 3) | 2, .f
    PASSED

CHECK chk_ring3_hlt, "ring.hlt_at_cpl3_gp", "HLT at CPL 3 is #GP(0)"
    TRY .back
    RING3 .user, 2
.user:
.f: hlt
.back:
    EXPECT_EXC VEC_GP, 0, .f
    EXPECT dword [exc_cs], SEL_UCODE
    PASSED

%macro PRIV 4                        ; label, name, instruction, description
CHECK %1, %2, %4
    TRY .back
    RING3 .user, 2
.user:
.f: %3
.back:
    EXPECT_EXC VEC_GP, 0, .f
    PASSED
%endmacro
PRIV chk_r3_cr0, "ring.mov_cr0_at_cpl3_gp", {mov eax, cr0}, "MOV from CR0 at CPL 3 is #GP(0)"
PRIV chk_r3_lgdt, "ring.lgdt_at_cpl3_gp", {lgdt [gdt_ptr]}, "LGDT at CPL 3 is #GP(0)"
PRIV chk_r3_lidt, "ring.lidt_at_cpl3_gp", {lidt [idt_ptr]}, "LIDT at CPL 3 is #GP(0)"
PRIV chk_r3_clts, "ring.clts_at_cpl3_gp", {clts}, "CLTS at CPL 3 is #GP(0)"
PRIV chk_r3_invlpg, "ring.invlpg_at_cpl3_gp", {invlpg [0]}, "INVLPG at CPL 3 is #GP(0)"
PRIV chk_r3_rdmsr, "ring.rdmsr_at_cpl3_gp", {rdmsr}, "RDMSR at CPL 3 is #GP(0)"
PRIV chk_r3_dr, "ring.mov_dr7_at_cpl3_gp", {mov eax, dr7}, "MOV from DR7 at CPL 3 is #GP(0)"

CHECK chk_ring3_io, "ring.io_at_cpl3_iopl0_gp", "IN at CPL 3 with IOPL 0 and no I/O bitmap is #GP(0)"
    TRY .back
    RING3 .user, 2
.user:
    mov dx, COM1 + UART_SCR
.f: in al, dx
.back:
    EXPECT_EXC VEC_GP, 0, .f
    PASSED

CHECK chk_ring3_io_iopl3, "ring.io_at_cpl3_iopl3_ok", "IN/OUT at CPL 3 with IOPL 3 work"
    mov dword [r3_ok], 0
    TRY .back
    RING3 .user, FL_IOPL | 2
.user:
    mov dx, COM1 + UART_SCR
    mov al, 0x5A
    out dx, al
    in al, dx
    movzx eax, al
    mov [r3_ok], eax
    int VEC_SYSCALL
.back:
    EXPECT dword [exc_vec], VEC_SYSCALL
    EXPECT dword [r3_ok], 0x5A
    PASSED

; io_bitmap_allow: TSS limit covers the I/O bitmap; every port denied except COM1 + UART_SCR.
io_bitmap_allow:
    pushad
    mov edi, tss + TSS_SIZE
    mov ecx, 8192 / 4
    mov eax, 0xFFFFFFFF
    rep stosd
    mov byte [tss + TSS_SIZE + 8192], 0xFF
    mov eax, COM1 + UART_SCR
    btr dword [tss + TSS_SIZE], eax  ; a bit string: bit 0x3FF of the bitmap
    mov eax, SEL_TSS >> 3
    mov ebx, tss
    mov ecx, TSS_SIZE + TSS_IOMAP_BYTES - 1
    mov dl, ACC_TSS32                ; available again, so that LTR accepts it
    xor dh, dh
    call set_desc
    mov ax, SEL_TSS                  ; the CPU takes the limit at LTR
    ltr ax
    popad
    ret

CHECK chk_ring3_iomap, "ring.io_bitmap_allows_port", "the TSS I/O bitmap allows one port at CPL 3; a 16-bit access also needs the next port's bit (#GP)"
    call io_bitmap_allow
    mov dword [r3_ok], 0
    TRY .back
    RING3 .user, 2
.user:
    mov dx, COM1 + UART_SCR
    mov al, 0xA5
    out dx, al                       ; allowed by the bitmap
    in al, dx
    movzx eax, al
    mov [r3_ok], eax
.f: in ax, dx                        ; 16-bit: also needs the bit of port SCR + 1: #GP
.back:
    EXPECT dword [r3_ok], 0xA5
    EXPECT_EXC VEC_GP, 0, .f
    PASSED

CHECK chk_ring3_iomap_deny, "ring.io_bitmap_denies_port", "a port whose bitmap bit is set is #GP(0) at CPL 3"
    call io_bitmap_allow
    TRY .back
    RING3 .user, 2
.user:
    mov dx, COM1 + UART_LSR
.f: in al, dx
.back:
    EXPECT_EXC VEC_GP, 0, .f
    PASSED

CHECK chk_ring3_cli, "ring.cli_at_cpl3_iopl0_gp", "CLI at CPL 3 with IOPL 0 is #GP(0)"
    TRY .back
    RING3 .user, 2
.user:
.f: cli
.back:
    EXPECT_EXC VEC_GP, 0, .f
    PASSED

CHECK chk_ring3_sti, "ring.sti_at_cpl3_iopl0_gp", "STI at CPL 3 with IOPL 0 is #GP(0)"
    TRY .back
    RING3 .user, 2
.user:
.f: sti
.back:
    EXPECT_EXC VEC_GP, 0, .f
    PASSED

CHECK chk_ring3_cli_iopl3, "ring.cli_sti_at_cpl3_iopl3_ok", "CLI and STI at CPL 3 with IOPL 3 change IF"
    TRY .back
    RING3 .user, FL_IOPL | FL_IF | 2
.user:
    cli
    pushfd
    pop dword [r3_fl1]
    sti                              ; PIC masked: nothing arrives
    pushfd
    pop dword [r3_fl2]
    cli
    int VEC_SYSCALL
.back:
    EXPECT dword [exc_vec], VEC_SYSCALL
    EXPECT_BITS dword [r3_fl1], FL_IF, 0
    EXPECT_BITS dword [r3_fl2], FL_IF, FL_IF
    PASSED

CHECK chk_ring3_popf, "ring.popf_at_cpl3_iopl0_keeps_if_iopl", "POPF at CPL 3, IOPL 0: IF and IOPL silently kept, CF changes"
    TRY .back
    RING3 .user, FL_IF | 2
.user:
    push FL_IOPL | FL_CF | 2         ; try to clear IF and set IOPL
    popfd                            ; no fault: IF and IOPL stay, CF changes
    pushfd
    pop dword [r3_fl1]
    int VEC_SYSCALL
.back:
    EXPECT dword [exc_vec], VEC_SYSCALL
    EXPECT_BITS dword [r3_fl1], FL_IF | FL_IOPL | FL_CF, FL_IF | FL_CF
    PASSED

CHECK chk_ring3_popf3, "ring.popf_at_cpl3_iopl3_changes_if_not_iopl", "POPF at CPL 3, IOPL 3: IF changes, IOPL does not"
    TRY .back
    RING3 .user, FL_IOPL | FL_IF | 2
.user:
    push 2                           ; IF = 0, IOPL = 0
    popfd
    pushfd
    pop dword [r3_fl1]
    int VEC_SYSCALL
.back:
    EXPECT_BITS dword [r3_fl1], FL_IF | FL_IOPL, FL_IOPL
    PASSED

CHECK chk_ring3_ds0, "ring.load_dpl0_data_at_cpl3_gp", "a DPL-0 data selector into FS at CPL 3 is #GP(selector)"
    TRY .back
    RING3 .user, 2
.user:
    mov ax, SEL_KDATA | 3
.f: mov fs, ax
.back:
    EXPECT_EXC VEC_GP, SEL_KDATA, .f
    PASSED

CHECK chk_ring3_ss0, "ring.load_ring0_ss_at_cpl3_gp", "a ring-0 stack selector into SS at CPL 3 is #GP(selector)"
    TRY .back
    RING3 .user, 2
.user:
    mov ax, SEL_KDATA
.f: mov ss, ax
.back:
    EXPECT_EXC VEC_GP, SEL_KDATA, .f
    PASSED

CHECK chk_ring3_conf_ds, "ring.conforming_code_into_ds_at_cpl3_ok", "readable conforming DPL-0 code loads into FS at CPL 3 and reads"
    call seg_setup
    mov dword [r3_ok], 0
    TRY .back
    RING3 .user, 2
.user:
    mov ax, S_CONF0 | 3              ; readable conforming code: no DPL check for data loads
    mov fs, ax
    mov eax, [fs:seg_word]
    mov [r3_ok], eax
    int VEC_SYSCALL
.back:
    EXPECT dword [exc_vec], VEC_SYSCALL
    EXPECT dword [r3_ok], SEG_WORD
    PASSED

CHECK chk_ring3_conf_jmp, "ring.far_jmp_to_conforming_keeps_cpl3", "far JMP from CPL 3 to conforming DPL-0 code keeps CPL 3 (CS.RPL = 3)"
    call seg_setup
    mov dword [r3_cs], 0
    TRY .back
    RING3 .user, 2
.user:
    jmp S_CONF0:.in_conf             ; conforming DPL 0 from CPL 3: allowed, CPL stays 3
.in_conf:
    mov [r3_cs], cs
    int VEC_SYSCALL
.back:
    EXPECT dword [exc_vec], VEC_SYSCALL
    EXPECT dword [r3_cs], S_CONF0 | 3
    EXPECT dword [exc_cs], S_CONF0 | 3
    PASSED

CHECK chk_ring3_jmp0, "ring.far_jmp_to_ring0_code_gp", "far JMP from CPL 3 to nonconforming ring-0 code is #GP(selector)"
    TRY .back
    RING3 .user, 2
.user:
.f: jmp SEL_KCODE:chk_ring3_jmp0
.back:
    EXPECT_EXC VEC_GP, SEL_KCODE, .f
    PASSED

CHECK chk_ring1, "ring.ring1_trip_and_rules", "ring 1: IRET there, DPL-2 data loads, I/O with IOPL 1 works, DPL-0 data is #GP, the fault comes back on TSS ESP0"
    call seg_setup
    mov dword [r3_cs], 0
    mov dword [r3_ok], 0
    TRY .back
    mov ax, S_R1DATA | 1
    mov ds, ax
    mov es, ax
    mov ebx, .user
    mov ecx, (1 << 12) | 2           ; IOPL 1: I/O allowed at CPL 1
    mov edx, S_R1CODE | 1
    mov esi, S_R1DATA | 1
    mov edi, ustack_top
    jmp to_ring
.user:
    mov [r3_cs], cs
    mov ax, S_R2DATA | 2             ; DPL 2 >= max(CPL 1, RPL 2): fine
    mov fs, ax
    mov dx, COM1 + UART_SCR
    mov al, 0x3C
    out dx, al
    in al, dx
    movzx eax, al
    mov [r3_ok], eax
    mov ax, SEL_KDATA | 1            ; DPL 0 < CPL 1: #GP
.f: mov gs, ax
.back:
    EXPECT dword [r3_cs], S_R1CODE | 1
    EXPECT dword [r3_ok], 0x3C
    EXPECT_EXC VEC_GP, SEL_KDATA, .f
    EXPECT dword [exc_cs], S_R1CODE | 1
    EXPECT dword [exc_ss], S_R1DATA | 1
    EXPECT dword [exc_frame], tss_stack_top - 20   ; the error code sits below EIP
    PASSED

SEG_WORD equ 0x5E65E600               ; what the checks read through odd segments
;  ring 2: IOPL 1 < CPL 2, so I/O faults; the fault comes back on the TSS ESP0 stack
CHECK chk_ring2, "ring.ring2_trip_io_above_iopl_gp", "ring 2: IRET there; I/O with IOPL 1 < CPL 2 is #GP(0); pushed SS:ESP of ring 2"
    call seg_setup
    mov dword [r3_cs], 0
    TRY .back
    mov ax, S_R2DATA | 2
    mov ds, ax
    mov es, ax
    mov ebx, .user
    mov ecx, (1 << 12) | 2
    mov edx, S_R2CODE | 2
    mov esi, S_R2DATA | 2
    mov edi, ustack_top
    jmp to_ring
.user:
    mov [r3_cs], cs
    mov dx, COM1 + UART_SCR
.f: in al, dx
.back:
    EXPECT dword [r3_cs], S_R2CODE | 2
    EXPECT_EXC VEC_GP, 0, .f
    EXPECT dword [exc_cs], S_R2CODE | 2
    EXPECT dword [exc_ss], S_R2DATA | 2
    EXPECT dword [exc_esp], ustack_top
    PASSED

LOW_VAR equ 0x7000                   ; conventional memory: reachable with a 4 KiB-granular wrap

section .data
align 4
seg_word: dd SEG_WORD, 0
write_target: dd 0
section .bss
alignb 8
small_gdt: resb 8
saved_esp: resd 1
r3_cs:  resd 1
r3_ss:  resd 1
r3_esp: resd 1
r3_ds:  resd 1
r3_es:  resd 1
r3_fs:  resd 1
r3_ok:  resd 1
r3_fl1: resd 1
r3_fl2: resd 1
alignb 4096
seg_buf: resb 0x2000
seg_stack_lo: resb 0x2000
section .text
