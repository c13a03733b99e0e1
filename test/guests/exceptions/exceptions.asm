; exceptions — delivery through the IDT with the right vector, error code and saved EIP (SDM Vol.
; 3A, chapter 6): faults save the address of the faulting instruction and restart it after IRET,
; traps save the address of the next one. #DE #DB (TF single step, also through REP iterations)
; #BP #UD (UD2, undefined ModRM forms) #NM (CR0.TS with an x87 instruction, WAIT with MP, CR0.EM)
; #DF (a contributory fault while delivering one) #TS (IRET task return to a non-TSS) #NP (a not-
; present gate) #SS #GP (IDT limit, LTR, error codes with the EXT and IDT bits). The #GP of MOV
; to CR0/CR4 with invalid values is in the edge guest: it hangs or kills QEMU 7.2.
%define GUEST_NAME "exceptions"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

DR6_BS   equ 0x4000                  ; DR6 bit 14: single-step
TSS_LINK equ 0                       ; TSS offset 0: previous task link

; set_vec_gate: EAX = vector, DL = type byte, CX = selector; points it at its usual stub.
set_vec_gate:
    push ebx
    push eax
    call isr_stub_addr
    mov ebx, eax
    pop eax
    call set_gate
    pop ebx
    ret

; ---- #DE ----------------------------------------------------------------------------------------------
; de_fix_hook: repairs the divisor (ECX = 7) so that the restarted DIV succeeds.
de_fix_hook:
    mov dword [esp + 4 + FRAME_ECX], 7
    ret

CHECK chk_de_restart, "exc.de_fault_restarts", "#DE saves the DIV's EIP; after the handler fixes the divisor, IRET re-runs the DIV"
    mov byte [vec_mode + VEC_DE], MODE_HOOK
    mov dword [vec_hook + VEC_DE * 4], de_fix_hook
    mov eax, 700
    xor edx, edx
    xor ecx, ecx
.insn:
    div ecx                          ; #DE, the hook sets ECX = 7, IRET re-runs the DIV
    EXPECT eax, 100
    EXPECT edx, 0
    EXPECT dword [exc_vec], VEC_DE
    EXPECT dword [exc_eip], .insn
    EXPECT dword [exc_err], 0        ; (the stub's placeholder: #DE pushes no error code)
    EXPECT dword [vec_count + VEC_DE * 4], 1
    PASSED

; ---- #DB single step -------------------------------------------------------------------------------------
; step_hook: records each single-step EIP (up to 8); clears TF after step_limit steps.
step_hook:
    push eax
    push ecx
    mov ecx, [step_n]
    cmp ecx, 8
    jae .full
    mov eax, [esp + 12 + FRAME_EIP]
    mov [step_eip + ecx * 4], eax
.full:
    inc dword [step_n]
    mov eax, dr6
    mov [step_dr6], eax
    xor eax, eax
    mov dr6, eax
    mov eax, [step_n]
    cmp eax, [step_limit]
    jb .keep
    and dword [esp + 12 + FRAME_EFL], ~FL_TF
.keep:
    pop ecx
    pop eax
    ret

%macro STEP_SETUP 1                  ; the number of steps to record before TF is cleared
    mov byte [vec_mode + VEC_DB], MODE_HOOK
    mov dword [vec_hook + VEC_DB * 4], step_hook
    mov dword [step_n], 0
    mov dword [step_limit], %1
    xor eax, eax
    mov dr6, eax
%endmacro

CHECK chk_db_step, "exc.db_single_step_traps", "TF set by POPF: a #DB trap after each following instruction, saved EIP = next instruction, DR6.BS"
    STEP_SETUP 3
    pushfd
    or dword [esp], FL_TF
    popfd                            ; TF takes effect after the next instruction
.i1: nop
.i2: mov eax, 1
.i3: inc eax
.i4: nop
    EXPECT dword [step_n], 3
    EXPECT dword [step_eip], .i2     ; trap after NOP: saved EIP = the next instruction
    EXPECT dword [step_eip + 4], .i3
    EXPECT dword [step_eip + 8], .i4
    EXPECT_BITS dword [step_dr6], DR6_BS, DR6_BS
    EXPECT dword [exc_vec], VEC_DB
    PASSED

CHECK chk_db_rep, "exc.db_single_step_rep_iterations", "single step traps after every REP MOVSB iteration with EIP on the REP, then after it"
    STEP_SETUP 4
    mov esi, step_src
    mov edi, step_dst
    mov ecx, 3
    pushfd
    or dword [esp], FL_TF
    popfd
    nop
.rep:
    rep movsb                        ; a trap after every iteration
.after:
    nop
    EXPECT dword [step_eip], .rep
    EXPECT dword [step_eip + 4], .rep
    EXPECT dword [step_eip + 8], .rep
    EXPECT dword [step_eip + 12], .after
    EXPECT ecx, 0
    PASSED

CHECK chk_db_int, "exc.db_not_inside_interrupt_gate", "INT n clears TF for its handler; stepping resumes after IRET"
    ; INT n clears TF for its handler: no step is taken inside it, and stepping goes on after
    ; the IRET (whether the INT itself reports a step is left open here)
    STEP_SETUP 3
    mov byte [vec_mode + 0x42], MODE_RESUME
    pushfd
    or dword [esp], FL_TF
    popfd
    nop
.int:
    int 0x42
.after:
    nop
    nop
    nop
.end:
    EXPECT dword [step_n], 3
    EXPECT dword [step_eip], .int
    mov ecx, 1
.each:
    mov eax, [step_eip + ecx * 4]
    cmp eax, .after
    jb .outside
    cmp eax, .end
    ja .outside
    inc ecx
    cmp ecx, 3
    jb .each
    EXPECT dword [vec_count + 0x42 * 4], 1
    PASSED
.outside:
    FAILNOW .after, eax

CHECK chk_db_ext, "exc.gp_error_code_ext_bit", "a #GP raised while delivering #DB (gate selector not code) has EXT=1 in its error code"
    ; the #DB gate points at a data selector: delivering the (external to the program) #DB
    ; raises #GP with error code = selector | EXT. #DB is benign, so no #DF.
    mov eax, VEC_DB
    mov cx, SEL_KDATA
    mov dl, GATE_INT32
    call set_vec_gate
    TRY .caught
    pushfd
    or dword [esp], FL_TF
    popfd
    nop
    nop
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT dword [exc_vec], VEC_GP
    EXPECT dword [exc_err], SEL_KDATA | 1
    PASSED

; ---- #BP ----------------------------------------------------------------------------------------
CHECK chk_bp, "exc.bp_trap_after_int3", "#BP is a trap: saved EIP follows INT3"
    mov byte [vec_mode + VEC_BP], MODE_RESUME
    int3
.after:
    EXPECT dword [exc_vec], VEC_BP
    EXPECT dword [exc_eip], .after
    PASSED

CHECK chk_int_sel, "exc.int_n_bad_gate_selector_gp", "INT n through a gate with a data selector raises #GP(selector), EXT=0"
    ; a software INT n through a gate whose selector is not code: #GP(selector), EXT = 0
    mov eax, 0x43
    mov cx, SEL_KDATA
    mov dl, GATE_INT32
    call set_vec_gate
    TRY .caught
.insn:
    int 0x43
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, SEL_KDATA, .insn
    PASSED

; ---- #UD -----------------------------------------------------------------------------------------------
%macro UD 4                          ; label, name, bytes, description
CHECK %1, %2, %4
    TRY .caught
.insn:
    db %3
    DISARM
    NOEXC VEC_UD
.caught:
    EXPECT_EXC VEC_UD, 0, .insn
    EXPECT dword [exc_cs], SEL_KCODE
    PASSED
%endmacro
UD chk_ud2, "exc.ud_ud2", {0x0F, 0x0B}, "UD2 (0F 0B) raises #UD with its own EIP"
UD chk_ud_ff7, "exc.ud_ff_reg7", {0xFF, 0xF8}, "FF /7 is undefined: #UD"                  ; FF /7 is undefined
UD chk_ud_fe2, "exc.ud_fe_reg2", {0xFE, 0xD0}, "FE /2 is undefined (FE has INC/DEC only): #UD"                  ; FE /2 is undefined (FE: INC/DEC only)
UD chk_ud_lea, "exc.ud_lea_register", {0x8D, 0xC3}, "LEA with a register source operand: #UD"             ; LEA with a register operand
UD chk_ud_movcs, "exc.ud_mov_to_cs", {0x8E, 0xC8}, "MOV CS, r16: #UD"              ; MOV CS, AX
UD chk_ud_les, "exc.ud_les_register", {0xC4, 0xC0}, "LES with a register operand: #UD"             ; LES with a register operand
UD chk_ud_cr1, "exc.ud_mov_cr1", {0x0F, 0x20, 0xC8}, "MOV from the reserved CR1: #UD"            ; MOV EAX, CR1 (reserved)
UD chk_ud_0f04, "exc.ud_0f_04", {0x0F, 0x04}, "the unassigned opcode 0F 04: #UD"                   ; an unassigned two-byte opcode

CHECK chk_ud_restart, "exc.ud_resume_after_skip", "a #UD handler may skip the instruction and resume"
    mov byte [vec_mode + VEC_UD], MODE_HOOK
    mov dword [vec_hook + VEC_UD * 4], skip2_hook
    mov eax, 1
    ud2                              ; the hook skips it
    inc eax
    EXPECT eax, 2
    EXPECT dword [vec_count + VEC_UD * 4], 1
    PASSED

skip2_hook:
    add dword [esp + 4 + FRAME_EIP], 2
    ret

; ---- #NM -------------------------------------------------------------------------------------------------
CHECK chk_nm_ts, "exc.nm_ts_x87", "CR0.TS=1: an x87 instruction raises #NM (fault); after CLTS it runs"
    mov eax, cr0
    or eax, CR0_TS
    and eax, ~CR0_EM
    mov cr0, eax
    TRY .caught
.insn:
    fninit
    DISARM
    NOEXC VEC_NM
.caught:
    EXPECT_EXC VEC_NM, 0, .insn
    clts
    fninit                           ; fine once TS is clear
    PASSED

CHECK chk_nm_em, "exc.nm_em_x87", "CR0.EM=1: an x87 instruction raises #NM"
    mov eax, cr0
    or eax, CR0_EM
    and eax, ~(CR0_TS | CR0_MP)
    mov cr0, eax
    TRY .caught
.insn:
    fninit
    DISARM
    NOEXC VEC_NM
.caught:
    EXPECT_EXC VEC_NM, 0, .insn
    PASSED

CHECK chk_nm_wait_mp, "exc.nm_wait_ts_mp", "WAIT with TS=1 and MP=1 raises #NM"
    mov eax, cr0
    or eax, CR0_TS | CR0_MP
    and eax, ~CR0_EM
    mov cr0, eax
    TRY .caught
.insn:
    wait                             ; WAIT faults with TS only when MP = 1
    DISARM
    NOEXC VEC_NM
.caught:
    EXPECT_EXC VEC_NM, 0, .insn
    PASSED

CHECK chk_nm_wait_nomp, "exc.wait_ts_without_mp_ok", "WAIT with TS=1 and MP=0 does not fault"
    clts
    fninit
    mov eax, cr0
    or eax, CR0_TS
    and eax, ~(CR0_MP | CR0_EM)
    mov cr0, eax
    wait                             ; MP = 0: no #NM
    EXPECT dword [exc_count], 0
    PASSED

; ---- #DF -------------------------------------------------------------------------------------------------
CHECK chk_df_limit, "exc.df_gp_beyond_idt_limit", "#GP whose vector lies beyond the IDT limit becomes #DF (error code 0)"
    ; the IDT ends before vector 13: a #GP cannot be delivered (#GP while delivering #GP) -> #DF
    mov word [small_idt], VEC_GP * 8 - 1
    mov dword [small_idt + 2], idt
    lidt [small_idt]
    TRY .caught
    mov ax, GDT_ENTRIES << 3
    mov ds, ax                       ; #GP
    DISARM
    lidt [idt_ptr]
    NOEXC VEC_DF
.caught:
    lidt [idt_ptr]
    EXPECT dword [exc_vec], VEC_DF
    EXPECT dword [exc_err], 0        ; #DF always pushes 0
    PASSED

CHECK chk_df_np, "exc.df_gp_through_not_present_gate", "#GP through a not-present gate (#NP) becomes #DF"
    ; #GP's gate not present: delivering #GP raises #NP, contributory on contributory -> #DF
    and byte [idt + VEC_GP * 8 + 5], 0x7F
    TRY .caught
    mov ax, GDT_ENTRIES << 3
    mov ds, ax
    DISARM
    NOEXC VEC_DF
.caught:
    EXPECT dword [exc_vec], VEC_DF
    EXPECT dword [exc_err], 0
    PASSED

CHECK chk_df_de, "exc.df_de_through_not_present_gate", "#DE through a not-present gate becomes #DF"
    and byte [idt + VEC_DE * 8 + 5], 0x7F
    TRY .caught
    xor ecx, ecx
    div ecx
    DISARM
    NOEXC VEC_DF
.caught:
    EXPECT dword [exc_vec], VEC_DF
    PASSED

CHECK chk_np_gate_benign, "exc.np_gate_for_int3_no_df", "INT3 through a not-present gate raises #NP(3*8+2), not #DF"
    ; INT3 through a not-present gate: #NP(3 << 3 | IDT), no #DF (the first event is a trap)
    and byte [idt + VEC_BP * 8 + 5], 0x7F
    TRY .caught
.insn:
    int3
    DISARM
    NOEXC VEC_NP
.caught:
    EXPECT_EXC VEC_NP, (VEC_BP << 3) | 2, .insn
    PASSED

CHECK chk_np_gate, "exc.np_not_present_gate_int_n", "INT n through a not-present gate raises #NP(n*8+2) at the INT"
    and byte [idt + 0x44 * 8 + 5], 0x7F
    TRY .caught
.insn:
    int 0x44
    DISARM
    NOEXC VEC_NP
.caught:
    EXPECT_EXC VEC_NP, (0x44 << 3) | 2, .insn
    PASSED

CHECK chk_gp_idt_limit, "exc.gp_int_n_beyond_idt_limit", "INT n beyond the IDT limit raises #GP(n*8+2)"
    mov word [small_idt], 0x50 * 8 - 1
    mov dword [small_idt + 2], idt
    lidt [small_idt]
    TRY .caught
.insn:
    int 0x60
    DISARM
    lidt [idt_ptr]
    NOEXC VEC_GP
.caught:
    lidt [idt_ptr]
    EXPECT_EXC VEC_GP, (0x60 << 3) | 2, .insn
    PASSED

; ---- #TS ---------------------------------------------------------------------------------------------------
CHECK chk_ts_link, "exc.ts_iret_nt_to_non_tss", "IRET with NT=1 to a back link that is not a TSS raises #TS(link)"
    ; NT = 1: IRET returns to the task in the TSS link field; a data selector there is #TS(link)
    mov dword [tss + TSS_LINK], SEL_KDATA
    TRY .caught
    push FL_NT | 2
    popfd
.insn:
    iretd
    DISARM
    NOEXC VEC_TS
.caught:
    EXPECT_EXC VEC_TS, SEL_KDATA, .insn
    PASSED

CHECK chk_ts_link_limit, "exc.ts_iret_nt_link_beyond_gdt", "IRET with NT=1 to a back link beyond the GDT limit raises #TS(link)"
    mov dword [tss + TSS_LINK], GDT_ENTRIES << 3
    TRY .caught
    push FL_NT | 2
    popfd
.insn:
    iretd
    DISARM
    NOEXC VEC_TS
.caught:
    EXPECT_EXC VEC_TS, GDT_ENTRIES << 3, .insn
    PASSED

; ---- #SS / #GP ----------------------------------------------------------------------------------------------
CHECK chk_ss_np, "exc.ss_not_present_stack_segment", "MOV SS with a not-present segment raises #SS(selector)"
    mov eax, GDT_FREE
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov dl, 0x12                     ; not present, DPL 0, writable data
    mov dh, FLAGS_4G32
    call set_desc
    mov ax, GDT_FREE << 3
    TRY .caught
.insn:
    mov ss, ax
    DISARM
    NOEXC VEC_SS
.caught:
    EXPECT_EXC VEC_SS, GDT_FREE << 3, .insn
    PASSED

CHECK chk_gp_ltr, "exc.gp_ltr_busy_and_non_tss", "LTR of a busy TSS or of a data selector raises #GP(selector)"
    TRY .c1
    mov ax, SEL_TSS                  ; busy (loaded at start)
.i1:
    ltr ax
    DISARM
    NOEXC VEC_GP
.c1:
    EXPECT_EXC VEC_GP, SEL_TSS, .i1
    TRY .c2
    mov ax, SEL_KDATA
.i2:
    ltr ax
    DISARM
    NOEXC VEC_GP
.c2:
    EXPECT_EXC VEC_GP, SEL_KDATA, .i2
    PASSED

CHECK chk_gp_restart, "exc.gp_fault_restarts_after_fix", "#GP saves the MOV DS's EIP; after the handler fixes the selector, IRET re-runs it"
    ; a #GP hook repairs the selector in EAX: the restarted MOV DS succeeds
    mov byte [vec_mode + VEC_GP], MODE_HOOK
    mov dword [vec_hook + VEC_GP * 4], gp_fix_hook
    mov eax, GDT_ENTRIES << 3
.insn:
    mov ds, ax
    mov ecx, ds
    EXPECT ecx, SEL_KDATA
    EXPECT dword [exc_eip], .insn
    EXPECT dword [exc_err], GDT_ENTRIES << 3
    PASSED

gp_fix_hook:
    mov dword [esp + 4 + FRAME_EAX], SEL_KDATA
    ret

section .bss
alignb 8
small_idt:  resb 8
step_n:     resd 1
step_limit: resd 1
step_dr6:   resd 1
step_eip:   resd 8
step_src:   resb 16
step_dst:   resb 16
section .text
