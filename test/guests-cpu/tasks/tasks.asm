; tasks — hardware task switching (SDM Vol. 3 chapter 7): JMP and CALL to a TSS with busy bits,
; NT and the back link, IRET back to the caller, a task gate in the IDT for #DF (as Linux i386
; handles double faults), a software interrupt through a task gate, a 16-bit (286) TSS, and the
; #GP of a JMP to a busy TSS.
%define GUEST_NAME "tasks"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

SEL_TSS2   equ GDT_FREE << 3          ; 0x30: task 2's 32-bit TSS
SEL_TSSDF  equ (GDT_FREE + 1) << 3    ; 0x38: the double-fault task
SEL_TSS16  equ (GDT_FREE + 2) << 3    ; 0x40: a 16-bit TSS
SEL_CODE16 equ (GDT_FREE + 3) << 3    ; 0x48: 16-bit code at t16_code
SEL_DATA16 equ (GDT_FREE + 4) << 3    ; 0x50: 16-bit data at t16_data
ACC_TSS16  equ 0x81                   ; present, DPL 0, available 16-bit TSS
ACC_CODE16 equ 0x9A
ACC_DATA16 equ 0x92
GATE_TASK  equ 0x85                   ; present, DPL 0, task gate
TSS_LINK   equ 0x00
TSS_CR3    equ 0x1C
TSS_EIP    equ 0x20
TSS_EFLAGS equ 0x24
TSS_EBX    equ 0x34
TSS_ESP    equ 0x38
TSS_ES     equ 0x48
TSS_BUSY   equ 0x02                   ; the busy bit in a TSS type

; make_tss32: EDI = TSS, EBX = EIP, ECX = ESP. A flat ring-0 task with this CR3. Preserves regs.
make_tss32:
    pushad
    push edi
    push ecx
    mov ecx, TSS_SIZE / 4
    xor eax, eax
    rep stosd
    pop ecx
    pop edi
    mov [edi + TSS_EIP], ebx
    mov [edi + TSS_ESP], ecx
    mov dword [edi + TSS_EFLAGS], 2
    mov eax, cr3
    mov [edi + TSS_CR3], eax
    mov dword [edi + TSS_ES], SEL_KDATA
    mov dword [edi + TSS_ES + 4], SEL_KCODE
    mov dword [edi + TSS_ES + 8], SEL_KDATA
    mov dword [edi + TSS_ES + 12], SEL_KDATA
    mov dword [edi + TSS_ES + 16], SEL_KDATA
    mov dword [edi + TSS_ES + 20], SEL_KDATA
    mov word [edi + TSS_IOMAP], TSS_SIZE
    popad
    ret

; tss_desc: EAX = slot, EBX = base, DL = access byte; a 104-byte TSS.
tss_desc:
    push ecx
    push edx
    mov ecx, TSS_SIZE - 1
    xor dh, dh
    call set_desc
    pop edx
    pop ecx
    ret

; access_byte: AL = the access byte of GDT selector AX >> 3 ... EAX = selector -> EAX = byte.
access_byte:
    and eax, 0xFFF8
    movzx eax, byte [gdt + eax + 5]
    ret

CHECK chk_jmp, "task.jmp_saves_and_switches", "JMP to a TSS saves the old registers, frees the old busy bit, sets the new one and CR0.TS; JMP back resumes after the first JMP"
    mov edi, tss2
    mov ebx, task2_jmp
    mov ecx, task2_stack_top
    call make_tss32
    mov eax, GDT_FREE
    mov ebx, tss2
    mov dl, ACC_TSS32
    call tss_desc
    mov ebx, 0x1234
    mov dword [seen], 0
    jmp SEL_TSS2:0
    ; task 2 jumps back here (the EIP saved in the old TSS)
    EXPECT ebx, 0x1234               ; restored from the TSS
    EXPECT dword [seen], 1
    EXPECT dword [t2_tr], SEL_TSS2
    EXPECT dword [t2_old_acc], ACC_TSS32          ; the old TSS was freed by the JMP
    EXPECT dword [t2_new_acc], ACC_TSS32 | TSS_BUSY
    EXPECT dword [t2_nt], 0
    mov eax, SEL_TSS2
    call access_byte
    EXPECT eax, ACC_TSS32            ; the second JMP freed task 2
    mov eax, cr0
    and eax, CR0_TS
    EXPECT eax, CR0_TS
    clts
    PASSED
task2_jmp:
    mov dword [seen], 1
    mov ebx, 0xBAD
    xor eax, eax
    str ax
    mov [t2_tr], eax
    mov eax, SEL_TSS
    call access_byte
    mov [t2_old_acc], eax
    mov eax, SEL_TSS2
    call access_byte
    mov [t2_new_acc], eax
    pushfd
    pop eax
    and eax, FL_NT
    mov [t2_nt], eax
    jmp SEL_TSS:0

CHECK chk_call, "task.call_nests_iret_returns", "CALL to a TSS sets NT and the back link, keeps the caller busy; IRET returns and frees the callee"
    mov edi, tss2
    mov ebx, task2_call
    mov ecx, task2_stack_top
    call make_tss32
    mov eax, GDT_FREE
    mov ebx, tss2
    mov dl, ACC_TSS32
    call tss_desc
    call SEL_TSS2:0
    EXPECT dword [t2_nt], FL_NT
    EXPECT dword [t2_link], SEL_TSS
    EXPECT dword [t2_old_acc], ACC_TSS32 | TSS_BUSY
    mov eax, SEL_TSS2
    call access_byte
    EXPECT eax, ACC_TSS32
    pushfd
    pop eax
    and eax, FL_NT
    EXPECT eax, 0
    clts
    PASSED
task2_call:
    pushfd
    pop eax
    and eax, FL_NT
    mov [t2_nt], eax
    movzx eax, word [tss2 + TSS_LINK]
    mov [t2_link], eax
    mov eax, SEL_TSS
    call access_byte
    mov [t2_old_acc], eax
    iretd

CHECK chk_df, "task.double_fault_task_gate", "#GP whose gate is missing becomes #DF, delivered through a task gate: error code 0 on the new stack, NT, back link"
    mov edi, tss_df
    mov ebx, df_task
    mov ecx, df_stack_top
    call make_tss32
    mov eax, GDT_FREE + 1
    mov ebx, tss_df
    mov dl, ACC_TSS32
    call tss_desc
    mov eax, VEC_DF
    xor ebx, ebx
    mov cx, SEL_TSSDF
    mov dl, GATE_TASK
    call set_gate
    mov byte [idt + VEC_GP * 8 + 5], 0x0E   ; the #GP gate not present
    mov dword [seen], 0
    mov ax, 0x7FF8                    ; beyond the GDT limit
    mov ds, ax                        ; #GP -> #NP -> #DF -> the task
    hlt
.landed:                             ; the double-fault task IRETs here
    EXPECT dword [seen], 1
    EXPECT dword [df_err], 0
    EXPECT dword [df_esp], df_stack_top - 4
    EXPECT dword [t2_nt], FL_NT
    EXPECT dword [t2_link], SEL_TSS
    clts
    PASSED
df_task:
    mov dword [seen], 1
    mov eax, [esp]
    mov [df_err], eax
    mov [df_esp], esp
    pushfd
    pop eax
    and eax, FL_NT
    mov [t2_nt], eax
    movzx eax, word [tss_df + TSS_LINK]
    mov [t2_link], eax
    mov dword [tss + TSS_EIP], chk_df.landed
    mov byte [idt + VEC_GP * 8 + 5], GATE_INT32
    add esp, 4
    iretd

CHECK chk_int, "task.int_n_through_task_gate", "INT n through a task gate switches tasks (no error code) and IRET comes back after the INT"
    mov edi, tss2
    mov ebx, int_task
    mov ecx, task2_stack_top
    call make_tss32
    mov eax, GDT_FREE
    mov ebx, tss2
    mov dl, ACC_TSS32
    call tss_desc
    mov eax, 0x40
    xor ebx, ebx
    mov cx, SEL_TSS2
    mov dl, GATE_TASK
    call set_gate
    mov dword [seen], 0
    int 0x40
    EXPECT dword [seen], 1
    EXPECT dword [df_esp], task2_stack_top
    clts
    PASSED
int_task:
    mov dword [seen], 1
    mov [df_esp], esp
    iretd

CHECK chk_busy, "task.jmp_to_busy_tss_gp", "JMP to the running (busy) TSS is #GP with the TSS selector"
    TRY .caught
.insn:
    jmp SEL_TSS:0
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, SEL_TSS, .insn
    PASSED

CHECK chk_tss16, "task.tss16_registers", "a 16-bit TSS loads IP, FLAGS, the 16-bit registers and the selectors (upper register halves: undefined, not checked)"
    mov edi, tss16
    mov ecx, 44 / 4
    xor eax, eax
    rep stosd
    mov word [tss16 + 0x0E], 0        ; IP (CS based at t16_code)
    mov word [tss16 + 0x10], 2        ; FLAGS
    mov word [tss16 + 0x12], 0x1111   ; AX
    mov word [tss16 + 0x1A], 0x100    ; SP
    mov word [tss16 + 0x22], SEL_DATA16
    mov word [tss16 + 0x24], SEL_CODE16
    mov word [tss16 + 0x26], SEL_DATA16
    mov word [tss16 + 0x28], SEL_DATA16
    mov eax, GDT_FREE + 2
    mov ebx, tss16
    mov ecx, 43
    mov dl, ACC_TSS16
    xor dh, dh
    call set_desc
    mov eax, GDT_FREE + 3
    mov ebx, t16_code
    mov ecx, 0xFFFF
    mov dl, ACC_CODE16
    call set_desc
    mov eax, GDT_FREE + 4
    mov ebx, t16_data
    mov dl, ACC_DATA16
    call set_desc
    mov dword [t16_data], 0
    jmp SEL_TSS16:0
    EXPECT16 word [t16_data], 0x1111
    EXPECT16 word [t16_data + 4], 0x0100
    EXPECT16 word [t16_data + 8], SEL_CODE16
    EXPECT16 word [t16_data + 10], SEL_DATA16
    clts
    PASSED
bits 16
t16_code:
    mov [0], eax                      ; DS = t16_data
    mov [4], esp
    mov [8], cs
    mov [10], ss
    jmp SEL_TSS:0
bits 32

section .bss
alignb 16
tss2:    resb TSS_SIZE
tss_df:  resb TSS_SIZE
tss16:   resb 44
alignb 16
t16_data: resb 0x200
task2_stack: resb 4096
task2_stack_top:
df_stack: resb 4096
df_stack_top:
seen:       resd 1
t2_tr:      resd 1
t2_old_acc: resd 1
t2_new_acc: resd 1
t2_nt:      resd 1
t2_link:    resd 1
df_err:     resd 1
df_esp:     resd 1
section .text
