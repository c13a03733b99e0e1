; v86 — virtual-8086 mode (SDM Vol. 3 chapter 20): entry by IRETD with VM, real-mode segment
; arithmetic, IOPL-sensitive instructions (CLI, INT n) trapping to the ring-0 monitor with the
; full frame (GS FS DS ES SS ESP EFLAGS CS EIP), PUSHF/POPF/CLI/STI allowed at IOPL 3, the TSS
; I/O bitmap, the 64 KiB limit and INT n through a DPL-0 gate. The virtual-8086 code is copied
; to 0700:0000; its stack is 0800:0FF0.
%define GUEST_NAME "v86"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

V86_CS   equ 0x0700
V86_SS   equ 0x0800
V86_SP   equ 0x0FF0
V86_LIN  equ V86_CS << 4
DATA_LIN equ V86_SS << 4               ; the v86 code writes results at 0800:0000..

; enter_v86: copies the code at ESI (ECX bytes) to 0700:0000 and IRETDs there with EFLAGS = EAX
; (VM added), DS = ES = FS = GS = 0800. Ends at the TRY point of the check.
enter_v86:
    mov edi, V86_LIN
    rep movsb
    mov edi, DATA_LIN
    mov ecx, 64
    push eax
    xor eax, eax
    rep stosb
    pop eax
    or eax, FL_VM
    push dword V86_SS                  ; GS
    push dword V86_SS                  ; FS
    push dword V86_SS                  ; DS
    push dword V86_SS                  ; ES
    push dword V86_SS                  ; SS
    push dword V86_SP                  ; ESP
    push eax                           ; EFLAGS
    push dword V86_CS
    push dword 0
    iretd

; gate31_dpl3: vector 0x31 becomes a DPL-3 interrupt gate (the monitor call of these checks).
gate31_dpl3:
    pushad
    mov eax, 0x31
    mov ebx, isr_stubs + 0x31 * ISR_STUB_SIZE
    mov cx, SEL_KCODE
    mov dl, GATE_INT32 | GATE_DPL3
    call set_gate
    popad
    ret

%macro V86 2                          ; code label, EFLAGS
    mov esi, %1
    mov ecx, %1.end - %1
    mov eax, %2
    jmp enter_v86
%endmacro

; ---- virtual-8086 code snippets (16-bit, position independent, run at 0700:0000) ----------------
bits 16
v86_int:
    mov ax, 0x1234
    mov [0], ax                        ; DS = 0800: linear 0x8000
    mov [2], cs
    int 0x31                           ; IOPL 3: through the DPL-3 gate to the monitor
.end:
v86_cli:
    nop
.f: cli                                ; IOPL 0: #GP(0)
.end:
v86_flags:
    cli                                ; IOPL 3: all allowed
    pushf
    pop ax
    mov [0], ax
    sti
    pushf
    pop ax
    mov [2], ax
    int 0x31
.end:
v86_io:
    mov al, 0x42
    out 0x80, al                       ; allowed by the bitmap
    mov byte [0], 1
.f: out 0x81, al                       ; denied: #GP(0)
.end:
v86_limit:
    mov byte [0], 1
.f: mov eax, [dword 0x10000]           ; beyond 64 KiB: #GP(0)
.end:
v86_dpl0:
.f: int 0x32                           ; IOPL 3, gate DPL 0: #GP(0x32 * 8 + 2)
.end:
bits 32

CHECK chk_int, "v86.int_n_reaches_monitor", "IRETD enters virtual-8086 mode; INT n with IOPL 3 reaches ring 0 with GS FS DS ES SS ESP EFLAGS(VM) CS EIP pushed"
    call gate31_dpl3
    TRY .caught
    V86 v86_int, FL_IOPL | 2
.caught:
    EXPECT dword [exc_vec], 0x31
    EXPECT16 word [DATA_LIN], 0x1234
    EXPECT16 word [DATA_LIN + 2], V86_CS
    EXPECT dword [exc_cs], V86_CS
    EXPECT dword [exc_eip], v86_int.end - v86_int
    mov esi, [exc_frame]
    EXPECT_BITS dword [esi + 8], FL_VM, FL_VM
    EXPECT dword [esi + 12], V86_SP
    EXPECT dword [esi + 16], V86_SS
    EXPECT dword [esi + 20], V86_SS     ; ES
    EXPECT dword [esi + 24], V86_SS     ; DS
    EXPECT dword [esi + 28], V86_SS     ; FS
    EXPECT dword [esi + 32], V86_SS     ; GS
    PASSED

CHECK chk_cli, "v86.cli_iopl0_gp", "with IOPL 0 CLI is #GP(0) to the monitor, saved CS:IP at the CLI"
    TRY .caught
    V86 v86_cli, 2
.caught:
    EXPECT_EXC VEC_GP, 0, v86_cli.f - v86_cli
    EXPECT dword [exc_cs], V86_CS
    PASSED

CHECK chk_flags, "v86.iopl3_flag_instructions", "with IOPL 3 CLI, STI, PUSHF and POPF run in virtual-8086 mode; PUSHF shows IF and IOPL"
    call gate31_dpl3
    TRY .caught
    V86 v86_flags, FL_IOPL | FL_IF | 2
.caught:
    EXPECT dword [exc_vec], 0x31
    EXPECT_BITS dword [DATA_LIN], FL_IF | FL_IOPL, FL_IOPL
    EXPECT_BITS dword [DATA_LIN + 2], FL_IF | FL_IOPL, FL_IF | FL_IOPL
    PASSED

CHECK chk_io, "v86.io_bitmap", "port I/O in virtual-8086 mode follows the TSS I/O bitmap whatever IOPL is"
    mov edi, tss + TSS_SIZE
    mov ecx, 8192 / 4
    mov eax, 0xFFFFFFFF
    rep stosd
    mov byte [tss + TSS_SIZE + 8192], 0xFF
    mov eax, 0x80
    btr dword [tss + TSS_SIZE], eax    ; a bit string: the bit of port 0x80
    mov eax, SEL_TSS >> 3
    mov ebx, tss
    mov ecx, TSS_SIZE + TSS_IOMAP_BYTES - 1
    mov dl, ACC_TSS32
    xor dh, dh
    call set_desc
    mov ax, SEL_TSS
    ltr ax
    TRY .caught
    V86 v86_io, 2
.caught:
    EXPECT8 byte [DATA_LIN], 1
    EXPECT_EXC VEC_GP, 0, v86_io.f - v86_io
    PASSED

CHECK chk_limit, "v86.offset_beyond_64k_gp", "a 32-bit offset beyond 0xFFFF in virtual-8086 mode is #GP(0)"
    TRY .caught
    V86 v86_limit, FL_IOPL | 2
.caught:
    EXPECT8 byte [DATA_LIN], 1
    EXPECT_EXC VEC_GP, 0, v86_limit.f - v86_limit
    PASSED

CHECK chk_dpl0, "v86.int_through_dpl0_gate_gp", "INT n whose gate has DPL 0 is #GP(vector * 8 + 2) even with IOPL 3"
    TRY .caught
    V86 v86_dpl0, FL_IOPL | 2
.caught:
    EXPECT_EXC VEC_GP, 0x32 * 8 + 2, v86_dpl0.f - v86_dpl0
    PASSED
