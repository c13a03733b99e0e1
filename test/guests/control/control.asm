; control — the stack and control transfers at CPL 0: PUSHF/POPF (which EFLAGS bits POPF may
; change), PUSH/POP corner cases, PUSHA/POPA, ENTER (nesting levels 0, 1, 5) and LEAVE, LOOP LOOPE
; LOOPNE JCXZ JECXZ, near and far CALL / RET / RET imm / JMP (direct, through a register, through
; memory, through a second GDT code selector), INT n, INT3, INTO, IRET, the LOCK prefix (allowed
; instructions work, others raise #UD) and the operand-size / address-size prefixes.
%define GUEST_NAME "control"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

SEL_CODE2 equ GDT_FREE << 3          ; a second flat ring-0 code segment
VEC_TEST  equ 0x40                   ; interrupt gate used by the INT n checks
VEC_TRAP  equ 0x41                   ; trap gate used by the INT n checks

; code2_init: GDT slot GDT_FREE = flat 32-bit ring-0 code.
code2_init:
    pushad
    mov eax, GDT_FREE
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov dl, ACC_CODE0
    mov dh, FLAGS_4G32
    call set_desc
    popad
    ret

; ---- PUSHF / POPF -------------------------------------------------------------------------------------
CHECK chk_popf_all, "flags.popf_cpl0_settable_bits", "POPF at CPL 0: CF PF AF ZF SF IF DF OF IOPL NT AC ID change; RF cleared; VM VIF VIP and reserved bits not"
    push 0xFFFFFEFF                  ; every bit but TF
    popfd
    pushfd
    pop eax
    push 2
    popfd
    ; CF PF AF ZF SF IF DF OF IOPL NT AC ID change at CPL 0; bit 1 reads 1; bits 3 5 15 22-31
    ; read 0; RF is cleared by POPF, VM VIF VIP are not changed by it
    EXPECT eax, 0x00247ED7
    PASSED

CHECK chk_popf_none, "flags.popf_zero", "POPF 0 leaves only the always-1 bit 1"
    push 0
    popfd
    pushfd
    pop eax
    EXPECT eax, 2
    PASSED

CHECK chk_popf16, "flags.popf16_low_half_only", "16-bit POPF changes EFLAGS[15:0] only"
    push FL_AC | FL_ID | 2
    popfd
    push word FL_CF | FL_ZF
    popfw                            ; 16-bit: bits 31..16 stay
    pushfd
    pop eax
    push 2
    popfd
    EXPECT eax, FL_AC | FL_ID | FL_CF | FL_ZF | 2
    PASSED

CHECK chk_pushf16, "flags.pushf16", "16-bit PUSHF pushes 2 bytes, the low half of EFLAGS"
    push FL_AC | FL_OF | FL_CF | 2
    popfd
    mov ebx, esp
    pushfw
    sub ebx, esp
    movzx eax, word [esp]
    add esp, 2
    push 2
    popfd
    EXPECT ebx, 2
    EXPECT eax, FL_OF | FL_CF | 2
    PASSED

; ---- PUSH / POP ---------------------------------------------------------------------------------------
CHECK chk_push_esp, "stack.push_esp_pushes_old_value", "PUSH ESP pushes the value ESP had before the push"
    mov ebx, esp
    push esp
    pop eax
    EXPECT eax, ebx
    PASSED

CHECK chk_pop_esp, "stack.pop_esp_loads_popped_value", "POP ESP loads the popped value (the increment is overwritten)"
    mov ebx, esp
    lea eax, [esp - 0x100]
    push eax
    pop esp                          ; ESP = the popped value, not ESP + 4
    mov ecx, esp
    mov esp, ebx
    lea eax, [ebx - 0x100]
    EXPECT ecx, eax
    PASSED

CHECK chk_pop_mem_esp, "stack.pop_mem_esp_based_after_increment", "POP [ESP+d] computes the address with ESP after the increment"
    mov [saved_esp], esp
    mov esp, scratch_top
    mov dword [scratch_top], 0
    mov dword [scratch_top + 4], 0
    push 0x12345678
    pop dword [esp + 4]              ; the address uses ESP after the pop: scratch_top + 4
    mov esp, [saved_esp]
    EXPECT dword [scratch_top + 4], 0x12345678
    EXPECT dword [scratch_top], 0
    PASSED

CHECK chk_push_imm, "stack.push_imm8_imm32_seg", "PUSH imm8 sign-extends; PUSH imm32; PUSH DS moves ESP by 4 (2 with 66h) with the selector in the low word"
    mov ebx, esp
    push byte -2                     ; 6A: sign-extended to 32 bits
    pop eax
    EXPECT eax, 0xFFFFFFFE
    push strict dword 0x80000000     ; 68
    pop eax
    EXPECT eax, 0x80000000
    push ds                          ; 32-bit operand size: ESP - 4, low 16 bits = selector
    mov ecx, ebx
    sub ecx, esp
    movzx eax, word [esp]
    add esp, 4
    EXPECT ecx, 4
    EXPECT eax, SEL_KDATA
    o16 push ds                      ; 16-bit: ESP - 2
    mov ecx, ebx
    sub ecx, esp
    o16 pop es
    EXPECT ecx, 2
    EXPECT esp, ebx
    PASSED

CHECK chk_push16, "stack.push16_pop16", "PUSH/POP with 16-bit operands move ESP by 2 and keep register upper halves; PUSH imm8 with 66h"
    mov ebx, esp
    mov eax, 0xAAAA1234
    push ax
    mov ecx, ebx
    sub ecx, esp
    mov edx, 0xBBBBBBBB
    pop dx
    EXPECT ecx, 2
    EXPECT edx, 0xBBBB1234
    o16 push byte -1                 ; 66 6A FF: a word of 0xFFFF
    pop dx
    EXPECT edx, 0xBBBBFFFF
    EXPECT esp, ebx
    PASSED

CHECK chk_pusha, "stack.pushad_popad", "PUSHAD order and the ESP it pushes; POPAD skips the ESP slot"
    mov [saved_esp], esp
    mov eax, 0xA0
    mov ecx, 0xC0
    mov edx, 0xD0
    mov ebx, 0xB0
    mov ebp, 0xB9
    mov esi, 0x51
    mov edi, 0xD1
    pushad
    mov esi, esp
    mov eax, [saved_esp]
    EXPECT dword [esi + 28], 0xA0
    EXPECT dword [esi + 24], 0xC0
    EXPECT dword [esi + 20], 0xD0
    EXPECT dword [esi + 16], 0xB0
    EXPECT dword [esi + 12], eax     ; ESP before PUSHAD
    EXPECT dword [esi + 8], 0xB9
    EXPECT dword [esi + 4], 0x51
    EXPECT dword [esi + 0], 0xD1
    mov dword [esi + 12], 0x1234     ; POPAD skips the ESP slot
    mov dword [esi + 4], 0x51        ; (ESI itself comes back from its slot)
    xor eax, eax
    xor ebx, ebx
    popad
    EXPECT esp, [saved_esp]
    EXPECT eax, 0xA0
    EXPECT ebx, 0xB0
    EXPECT edi, 0xD1
    PASSED

CHECK chk_pusha16, "stack.pushaw_popaw", "PUSHA/POPA with 16-bit operands: 16 bytes, SP slot, upper halves kept"
    mov [saved_esp], esp
    mov eax, 0xFFFF00A0
    mov ecx, 0xFFFF00C0
    mov edx, 0xFFFF00D0
    mov ebx, 0xFFFF00B0
    mov ebp, 0xFFFF00B9
    mov esi, 0xFFFF0051
    mov edi, 0xFFFF00D1
    pushaw                           ; AX CX DX BX SP BP SI DI, a word each
    mov esi, esp
    mov eax, [saved_esp]
    mov ecx, eax
    sub ecx, esp
    EXPECT ecx, 16
    EXPECT16 word [esi + 14], 0xA0
    EXPECT16 word [esi + 6], ax      ; SP before PUSHA
    EXPECT16 word [esi], 0xD1
    mov word [esi + 14], 0x7777      ; AX slot
    mov word [esi + 6], 0x1111       ; SP slot: ignored by POPA
    mov eax, 0x12340000
    popaw
    EXPECT eax, 0x12347777           ; upper half of EAX kept
    EXPECT esp, [saved_esp]
    PASSED

; ---- ENTER / LEAVE ------------------------------------------------------------------------------------
; enter_setup: ESP -> enter_stack_top (old ESP in saved_esp), EBP -> a fake outer frame whose
; display slots below it hold 0xF1, 0xF2, ...
%macro ENTER_SETUP 0
    mov [saved_esp], esp
    mov dword [fake_frame - 4], 0xF1
    mov dword [fake_frame - 8], 0xF2
    mov dword [fake_frame - 12], 0xF3
    mov dword [fake_frame - 16], 0xF4
    mov ebp, fake_frame
    mov esp, enter_stack_top
%endmacro
%macro ENTER_RESTORE 0
    mov esp, [saved_esp]
%endmacro

CHECK chk_enter0, "stack.enter_level0_leave", "ENTER size, 0 and LEAVE: frame pointer, allocation, restore"
    ENTER_SETUP
    enter 16, 0
    mov eax, esp
    mov ebx, ebp
    leave
    mov ecx, esp
    mov edx, ebp
    ENTER_RESTORE
    EXPECT ebx, enter_stack_top - 4
    EXPECT dword [enter_stack_top - 4], fake_frame
    EXPECT eax, enter_stack_top - 4 - 16
    EXPECT ecx, enter_stack_top      ; LEAVE: ESP = EBP, pop EBP
    EXPECT edx, fake_frame
    PASSED

CHECK chk_enter1, "stack.enter_level1", "ENTER size, 1 pushes the new frame pointer"
    ENTER_SETUP
    enter 8, 1
    mov eax, esp
    mov ebx, ebp
    ENTER_RESTORE
    EXPECT ebx, enter_stack_top - 4
    EXPECT dword [enter_stack_top - 4], fake_frame
    EXPECT dword [enter_stack_top - 8], enter_stack_top - 4   ; the frame pointer itself
    EXPECT eax, enter_stack_top - 8 - 8
    PASSED

CHECK chk_enter5, "stack.enter_level5", "ENTER size, 5 copies 4 display entries from the outer frame, then pushes the frame pointer"
    ENTER_SETUP
    enter 12, 5
    mov eax, esp
    mov ebx, ebp
    ENTER_RESTORE
    ; push EBP; 4 display entries copied from the outer frame; push the new frame pointer
    EXPECT ebx, enter_stack_top - 4
    EXPECT dword [enter_stack_top - 4], fake_frame
    EXPECT dword [enter_stack_top - 8], 0xF1
    EXPECT dword [enter_stack_top - 12], 0xF2
    EXPECT dword [enter_stack_top - 16], 0xF3
    EXPECT dword [enter_stack_top - 20], 0xF4
    EXPECT dword [enter_stack_top - 24], enter_stack_top - 4
    EXPECT eax, enter_stack_top - 24 - 12
    PASSED

CHECK chk_enter_mod32, "stack.enter_level_mod32", "ENTER takes the nesting level modulo 32 (33 = 1)"
    ENTER_SETUP
    enter 0, 33                      ; the level is taken modulo 32: level 1
    mov eax, esp
    ENTER_RESTORE
    EXPECT eax, enter_stack_top - 8
    EXPECT dword [enter_stack_top - 8], enter_stack_top - 4
    PASSED

; ---- LOOP / JCXZ ------------------------------------------------------------------------------------
CHECK chk_loop, "branch.loop_counts", "LOOP decrements ECX and branches while ECX != 0; ECX=1 falls through"
    mov ecx, 5
    xor eax, eax
.l: inc eax
    loop .l
    EXPECT eax, 5
    EXPECT ecx, 0
    mov ecx, 1                       ; ECX 1 -> 0: falls through at once
    loop .bad
    EXPECT ecx, 0
    PASSED
.bad:
    FAILNOW 0, 1

CHECK chk_loop_flags, "branch.loop_keeps_flags", "LOOP leaves the flags alone"
    mov ecx, 2
    push FL_ZF | FL_CF | 2
    popfd
.l: loop .l
    pushfd
    pop eax
    EXPECT eax, FL_ZF | FL_CF | 2
    PASSED

CHECK chk_loope, "branch.loope_loopne", "LOOPE/LOOPNE stop on ZF or on ECX = 0, decrementing ECX either way"
    ; LOOPE: ECX is decremented, then the loop continues while ECX != 0 and ZF = 1
    mov ecx, 10
    xor ebx, ebx
.e: inc ebx
    cmp ebx, 3
    setb al
    cmp al, 1                        ; ZF = 1 while EBX < 3
    loope .e
    EXPECT ebx, 3
    EXPECT ecx, 7
    ; LOOPNE: continue while ECX != 0 and ZF = 0
    mov ecx, 10
    xor ebx, ebx
.n: inc ebx
    cmp ebx, 4                       ; ZF = 1 when EBX = 4
    loopne .n
    EXPECT ebx, 4
    EXPECT ecx, 6
    ; count exhausted first
    mov ecx, 3
    xor ebx, ebx
.x: inc ebx
    cmp ebx, 100
    loopne .x
    EXPECT ebx, 3
    EXPECT ecx, 0
    PASSED

CHECK chk_loop_a16, "branch.loop_addr16_uses_cx", "LOOP with 67h decrements CX only"
    mov ecx, 0x00050002              ; a16 LOOP decrements CX only
    xor eax, eax
.l: inc eax
    a16 loop .l
    EXPECT eax, 2
    EXPECT ecx, 0x00050000
    PASSED

CHECK chk_jecxz, "branch.jecxz_jcxz", "JECXZ tests ECX, JCXZ (67h E3) tests CX"
    mov ecx, 0x00010000
    jecxz .bad                       ; ECX != 0
    a16 jcxz .cx0                    ; CX = 0 (67 E3)
    jmp .bad
.cx0:
    xor ecx, ecx
    jecxz .ok
    jmp .bad
.ok:
    PASSED
.bad:
    FAILNOW 0, 1

; ---- CALL / RET / JMP ----------------------------------------------------------------------------------
CHECK chk_call_near, "branch.call_ret_near", "near CALL pushes the next EIP, RET pops it"
    mov ebx, esp
    call .f
.ret_here:
    EXPECT eax, .ret_here
    EXPECT esp, ebx
    PASSED
.f: mov eax, [esp]                   ; return address = the next instruction
    ret

CHECK chk_call_ind, "branch.call_register_and_memory", "CALL through a register, a memory operand and a table entry"
    mov eax, .f
    xor ecx, ecx
    call eax
    mov [ind_target], eax
    call [ind_target]
    call dword [ind_table + 4]
    EXPECT ecx, 3
    PASSED
.f: inc ecx
    ret

CHECK chk_ret_imm, "branch.ret_imm16", "RET imm16 releases the arguments"
    mov ebx, esp
    push 1
    push 2
    call .f
    EXPECT esp, ebx                  ; RET 8 released the two arguments
    EXPECT eax, 3
    PASSED
.f: mov eax, [esp + 4]
    add eax, [esp + 8]
    ret 8

CHECK chk_jmp_ind, "branch.jmp_register_and_memory", "JMP through a register and memory, short and near"
    mov eax, .a
    jmp eax
    FAILNOW 0, 1
.a: mov dword [ind_target], .b
    jmp [ind_target]
    FAILNOW 0, 2
.b: jmp short .c
    FAILNOW 0, 3
.c: jmp near .d
    FAILNOW 0, 4
.d: PASSED

CHECK chk_call_far, "branch.call_far_retf", "far CALL ptr16:32 to another code selector pushes CS:EIP; RETF returns"
    call code2_init
    mov ebx, esp
    call SEL_CODE2:.far
.after_call:
    EXPECT esp, ebx
    EXPECT eax, SEL_CODE2            ; CS inside the callee
    EXPECT ecx, SEL_KCODE            ; the CS it pushed
    EXPECT edx, .after_call
    mov eax, cs
    EXPECT eax, SEL_KCODE            ; back
    PASSED
.far:
    mov eax, cs
    movzx ecx, word [esp + 4]
    mov edx, [esp]
    retf

CHECK chk_call_far_mem, "branch.call_far_memory_retf_imm", "far CALL m16:32 and RETF imm16"
    call code2_init
    mov dword [far_ptr], .far
    mov word [far_ptr + 4], SEL_CODE2
    mov ebx, esp
    push 0x55
    call far [far_ptr]
    EXPECT esp, ebx                  ; RETF 4 popped the argument
    EXPECT eax, 0x55
    EXPECT ecx, SEL_CODE2
    PASSED
.far:
    mov eax, [esp + 8]
    mov ecx, cs
    retf 4

CHECK chk_jmp_far, "branch.jmp_far_direct_and_memory", "far JMP ptr16:32 and m16:32 change CS"
    call code2_init
    jmp SEL_CODE2:.in2
    FAILNOW 0, 1
.in2:
    mov eax, cs
    EXPECT eax, SEL_CODE2
    mov dword [far_ptr], .back
    mov word [far_ptr + 4], SEL_KCODE
    jmp far [far_ptr]
    FAILNOW 0, 2
.back:
    mov eax, cs
    EXPECT eax, SEL_KCODE
    PASSED

; ---- INT n / INT3 / INTO / IRET -----------------------------------------------------------------------
; flags_hook: a MODE_HOOK handler recording the EFLAGS the handler runs with.
flags_hook:
    pushfd
    pop dword [hook_eflags]
    ret

%macro INT_SETUP 2                   ; vector, gate type
    mov eax, %1
    mov ebx, %1
    call isr_stub_addr
    xchg eax, ebx
    mov cx, SEL_KCODE
    mov dl, %2
    call set_gate
    mov byte [vec_mode + %1], MODE_HOOK
    mov dword [vec_hook + %1 * 4], flags_hook
%endmacro

CHECK chk_int_n, "int.int_n_interrupt_gate", "INT n through an interrupt gate: pushed EFLAGS/CS/EIP (next instruction), IF and TF cleared in the handler, IRET restores"
    INT_SETUP VEC_TEST, GATE_INT32
    mov ebx, esp
    push FL_IF | FL_CF | 2
    popfd
    int VEC_TEST
.after:
    pushfd
    pop esi
    cli
    EXPECT dword [exc_vec], VEC_TEST
    EXPECT dword [exc_eip], .after   ; a trap: the return address follows INT n
    EXPECT dword [exc_cs], SEL_KCODE
    EXPECT dword [exc_eflags], FL_IF | FL_CF | 2
    EXPECT_BITS dword [hook_eflags], FL_IF | FL_TF, 0   ; an interrupt gate clears IF and TF
    EXPECT esi, FL_IF | FL_CF | 2    ; IRET restored IF
    EXPECT esp, ebx
    PASSED

CHECK chk_int_trap, "int.int_n_trap_gate_keeps_if", "INT n through a trap gate keeps IF"
    INT_SETUP VEC_TRAP, GATE_TRAP32
    push FL_IF | 2
    popfd
    int VEC_TRAP
    cli
    EXPECT_BITS dword [hook_eflags], FL_IF, FL_IF
    PASSED

CHECK chk_int3, "int.int3_both_encodings", "INT3 (CC) and INT 3 (CD 03) both trap to vector 3 with EIP after them"
    mov byte [vec_mode + VEC_BP], MODE_RESUME
    int3                             ; CC
.a1:
    EXPECT dword [exc_vec], VEC_BP
    EXPECT dword [exc_eip], .a1
    int 3                            ; CD 03
.a2:
    EXPECT dword [exc_eip], .a2
    EXPECT dword [vec_count + VEC_BP * 4], 2
    PASSED

CHECK chk_into, "int.into_taken_and_not", "INTO traps to vector 4 when OF=1 and does nothing when OF=0"
    mov byte [vec_mode + VEC_OF], MODE_RESUME
    mov dword [vec_count + VEC_OF * 4], 0
    mov al, 0x7F
    add al, 1                        ; OF = 1
    into
.a:
    EXPECT dword [vec_count + VEC_OF * 4], 1
    EXPECT dword [exc_vec], VEC_OF
    EXPECT dword [exc_eip], .a
    add al, 1                        ; OF = 0
    into
    EXPECT dword [vec_count + VEC_OF * 4], 1
    PASSED

CHECK chk_iret, "int.iret_same_level", "IRET at the same level restores EIP, CS and every flag it may"
    push FL_CF | FL_ZF | FL_DF | FL_AC | 2   ; EFLAGS
    push SEL_KCODE
    push .target
    iretd
    FAILNOW 0, 1
.target:
    pushfd
    pop eax
    cld
    push 2
    popfd
    EXPECT eax, FL_CF | FL_ZF | FL_DF | FL_AC | 2
    PASSED

CHECK chk_iret_far, "int.iret_to_other_selector", "IRET can load another code selector"
    call code2_init
    pushfd
    push SEL_CODE2
    push .target
    iretd
.target:
    mov eax, cs
    EXPECT eax, SEL_CODE2
    PASSED

; ---- LOCK -------------------------------------------------------------------------------------------
CHECK chk_lock_ok, "lock.allowed_instructions", "LOCK with ADD ADC SUB SBB OR AND XOR INC DEC NOT NEG XADD CMPXCHG BTS BTR BTC XCHG on memory works"
    mov dword [lockvar], 10
    mov ebx, 1
    lock add dword [lockvar], 5
    lock adc dword [lockvar], ebx    ; CF = 0 from the ADD
    lock sub dword [lockvar], 2
    lock sbb dword [lockvar], 0
    lock or dword [lockvar], 0x100
    lock and dword [lockvar], 0x10F
    lock xor dword [lockvar], 0x1
    lock inc dword [lockvar]
    lock dec dword [lockvar]
    lock not dword [lockvar]
    lock neg dword [lockvar]
    EXPECT dword [lockvar], 0x110    ; 10 +5 +1 -2 -0 |0x100 &0x10F ^1 +1 -1, NOT, NEG
    mov eax, 4
    lock xadd [lockvar], eax
    EXPECT eax, 0x110
    mov eax, 0x114
    mov ecx, 7
    lock cmpxchg [lockvar], ecx
    EXPECT dword [lockvar], 7
    lock bts dword [lockvar], 4
    lock btr dword [lockvar], 0
    lock btc dword [lockvar], 1
    EXPECT dword [lockvar], 0x14
    mov eax, 9
    lock xchg [lockvar], eax
    EXPECT eax, 0x14
    PASSED

%macro LOCK_UD 4                     ; label, name, instruction bytes, description
CHECK %1, %2, %4
    mov esi, lockvar
    TRY .caught
.insn:
    db %3
    DISARM
    NOEXC VEC_UD
.caught:
    EXPECT_EXC VEC_UD, 0, .insn
    PASSED
%endmacro
LOCK_UD chk_lock_reg, "lock.add_register_dest_ud", {0xF0, 0x01, 0xD8}, "LOCK ADD with a register destination raises #UD at the prefix"     ; lock add eax, ebx
LOCK_UD chk_lock_mov, "lock.mov_ud", {0xF0, 0x89, 0x06}, "LOCK MOV raises #UD (MOV is not lockable)"                   ; lock mov [esi], eax
LOCK_UD chk_lock_cmp, "lock.cmp_ud", {0xF0, 0x39, 0x06}, "LOCK CMP raises #UD (CMP is not lockable)"                   ; lock cmp [esi], eax
LOCK_UD chk_lock_bt, "lock.bt_ud", {0xF0, 0x0F, 0xA3, 0x06}, "LOCK BT raises #UD (only BTS BTR BTC are lockable)"               ; lock bt [esi], eax
LOCK_UD chk_lock_nop, "lock.nop_ud", {0xF0, 0x90}, "LOCK NOP raises #UD"                         ; lock nop

; ---- prefixes -------------------------------------------------------------------------------------------
CHECK chk_o16_alu, "prefix.opsize16_keeps_upper", "66h on ALU/INC/MOV with register destinations: 16-bit result, no carry into bit 16, upper half kept"
    mov eax, 0x12345678
    add ax, 0x10                     ; 66 83 C0 10: AX only, no carry into bit 16
    EXPECT eax, 0x12345688
    mov eax, 0x1234FFFF
    inc ax
    EXPECT eax, 0x12340000
    mov ebx, 0xAAAAAAAA
    mov bx, 0x5555
    EXPECT ebx, 0xAAAA5555
    PASSED

CHECK chk_o16_mem, "prefix.opsize16_memory", "66h on memory stores writes two bytes (MOV r/m, imm with an imm16)"
    mov dword [lockvar], 0xFFFFFFFF
    mov word [lockvar], 0x1234       ; writes 2 bytes
    EXPECT dword [lockvar], 0xFFFF1234
    db 0x66, 0xC7, 0x05              ; mov word [lockvar], 0xABCD: 66 C7 05 disp32 imm16
    dd lockvar
    dw 0xABCD
    EXPECT dword [lockvar], 0xFFFFABCD
    PASSED

CHECK chk_a16_mem, "prefix.addr16_memory_and_moffs", "67h: [BX+SI] and moffs16 addressing; 66h+67h together"
    mov dword [LOW_VAR], 0x11223344
    mov ebx, 0xFFFF0000 | LOW_VAR    ; only BX forms the address
    xor esi, esi
    a16 mov eax, [bx + si]
    EXPECT eax, 0x11223344
    xor eax, eax
    a16 mov eax, [LOW_VAR]           ; 67 A1 disp16
    EXPECT eax, 0x11223344
    a16 o16 mov ax, [bx + si + 2]    ; both prefixes: AX only, EAX[31:16] stays
    EXPECT eax, 0x11221122
    PASSED

CHECK chk_redundant, "prefix.repeated_prefixes", "repeated 66h and segment prefixes are allowed and act once"
    mov eax, 0xFFFFFFFF
    db 0x66, 0x66, 0x66, 0xB8, 0x34, 0x12   ; mov ax, 0x1234 with three 66 prefixes
    EXPECT eax, 0xFFFF1234
    mov ebx, LOW_VAR
    mov dword [LOW_VAR], 0x89ABCDEF
    db 0x3E, 0x67, 0x3E, 0x8B, 0x07  ; ds a16 ds mov eax, [bx]
    EXPECT eax, 0x89ABCDEF
    PASSED

CHECK chk_15_bytes, "prefix.fifteen_bytes_ok", "an instruction of exactly 15 bytes (prefixes included) executes"
    mov eax, 0xFFFFFFFF
    db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66   ; 11 prefixes
    db 0xB8, 0x34, 0x12              ; + 3 = 14 bytes
    EXPECT eax, 0xFFFF1234
    db 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E
    nop                              ; 14 prefixes + 1 = 15 bytes: still legal
    PASSED

CHECK chk_16_bytes, "prefix.sixteen_bytes_gp", "an instruction longer than 15 bytes raises #GP(0) at its first byte"
    TRY .caught
.insn:
    db 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E
    nop                              ; 16 bytes: #GP(0) (SDM Vol. 2, 2.3.11)
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, 0, .insn
    PASSED

LOW_VAR equ 0x7000                   ; conventional memory below 64 KiB

section .data
ind_table: dd 0, chk_call_ind.f
section .bss
alignb 4
saved_esp:  resd 1
ind_target: resd 1
far_ptr:    resd 2
hook_eflags: resd 1
lockvar:    resd 1
fake_stack: resd 16
fake_frame: resd 4
enter_stack: resb 256
enter_stack_top:
scratch:    resb 64
scratch_top: resb 16
section .text
