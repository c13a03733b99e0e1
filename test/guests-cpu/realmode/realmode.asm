; realmode — down to real-address mode and back (SDM Vol. 3 9.9), as GRUB's and Linux's
; trampolines do: 16-bit protected mode, clearing CR0.PE, a far jump, real-mode work, LGDT and
; PE again, a far jump to 32-bit code. In real mode: 32-bit operand/address prefixes, interrupts
; through the IVT (LIDT), a #GP from a 64 KiB limit handled through the IVT, big real mode
; through a cached 4 GiB FS, and the A20 gate (port 0x92 and the 8042). The real-mode code runs
; at 0800:0000 (copied to 0x8000); results go to 0x7000.
%define GUEST_NAME "realmode"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

RM_BASE    equ 0x8000
RM_SEG     equ RM_BASE >> 4
RESULTS    equ 0x7000
SEL_CODE16 equ GDT_FREE << 3
SEL_DATA16 equ (GDT_FREE + 1) << 3
VEC_RMCALL equ 0x60

; go_real: copies the trampoline, saves ESP and the IVT entries it uses, runs the real-mode part
; and comes back at rm_done with the library's GDT/IDT/segments. Clobbers registers.
go_real:
    pushad
    mov [saved_esp], esp
    mov esi, rm_start
    mov edi, RM_BASE
    mov ecx, rm_end - rm_start
    rep movsb
    mov eax, [gdt_ptr]
    mov [RM_BASE + rm_gdtr - rm_start], eax
    mov ax, [gdt_ptr + 4]
    mov [RM_BASE + rm_gdtr - rm_start + 4], ax
    mov edi, RESULTS
    mov ecx, 16
    xor eax, eax
    rep stosd
    mov eax, [VEC_RMCALL * 4]
    mov [saved_ivt], eax
    mov eax, [VEC_GP * 4]
    mov [saved_ivt + 4], eax
    mov eax, [0x10]
    mov [saved_ivt + 8], eax
    mov eax, GDT_FREE
    mov ebx, RM_BASE
    mov ecx, 0xFFFF
    mov dl, ACC_CODE0
    xor dh, dh
    call set_desc
    mov eax, GDT_FREE + 1
    xor ebx, ebx
    mov dl, ACC_DATA0
    call set_desc
    jmp SEL_CODE16:0

rm_done:                              ; back in 32-bit protected mode (from the trampoline)
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [saved_esp]
    lidt [idt_ptr]
    mov eax, [saved_ivt]
    mov [VEC_RMCALL * 4], eax
    mov eax, [saved_ivt + 4]
    mov [VEC_GP * 4], eax
    mov eax, [saved_ivt + 8]
    mov [0x10], eax
    popad
    ret

; ---- the trampoline: 16-bit protected mode at offset 0 of SEL_CODE16, then real mode -----------
bits 16
rm_start:
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ax, SEL_KDATA
    mov fs, ax                         ; a 4 GiB limit, kept in real mode (big real mode)
    mov eax, cr0
    and eax, ~CR0_PE
    mov cr0, eax
    jmp RM_SEG:(.real - rm_start)
.real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7F00
    lidt [cs:rm_idtr - rm_start]
    ; 32-bit arithmetic with the operand-size prefix, addressing with the address-size prefix
    mov eax, 0x12345678
    add eax, 0x11111111
    mov ebx, RESULTS
    mov [ebx], eax
    ; INT n through the IVT
    mov word [VEC_RMCALL * 4], rm_call - rm_start
    mov word [VEC_RMCALL * 4 + 2], RM_SEG
    xor bx, bx
    int VEC_RMCALL
.after_int:
    mov [RESULTS + 4], bx
    ; a #GP in real mode goes through IVT vector 13
    mov word [VEC_GP * 4], rm_gp - rm_start
    mov word [VEC_GP * 4 + 2], RM_SEG
    mov ax, [0xFFFF]                   ; 3 bytes (A1 FF FF): the word crosses the 64 KiB limit
    mov word [RESULTS + 8], 0x600D     ; reached after the handler skipped the MOV
    ; big real mode: FS kept its 4 GiB limit through a real-mode load
    xor ax, ax
    mov fs, ax
    mov dword [fs:dword 0x200000], 0xFEEDFACE
    ; A20 off (port 0x92 and the 8042), FFFF:0020 wraps to 0x10; A20 on again: 0x100010
    in al, 0x92
    and al, ~2
    out 0x92, al
    mov ah, 0xDD
    call kbc_output
    mov ax, 0xFFFF
    mov es, ax
    mov dword [es:0x20], 0xA20A20
    mov ah, 0xDF
    call kbc_output
    in al, 0x92
    or al, 2
    out 0x92, al
    mov eax, [0x10]
    mov [RESULTS + 12], eax
    mov dword [es:0x20], 0x0A20
    mov eax, [es:0x20]
    mov [RESULTS + 16], eax
    ; back to protected mode
    o32 lgdt [cs:rm_gdtr - rm_start]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword SEL_KCODE:rm_done

; kbc_output: writes AH to the 8042 output port (command 0xD1), waiting for its input buffer.
kbc_output:
    call kbc_wait
    mov al, 0xD1
    out 0x64, al
    call kbc_wait
    mov al, ah
    out 0x60, al
    call kbc_wait
    ret
kbc_wait:
    in al, 0x64
    test al, 2
    jnz kbc_wait
    ret

rm_call:                              ; INT 0x60: proves the IVT entry and the pushed CS:IP
    mov bp, sp
    mov bx, 0x4242
    mov ax, [bp]                       ; IP of the instruction after the INT
    mov [RESULTS + 20], ax
    mov ax, [bp + 2]                   ; CS
    mov [RESULTS + 22], ax
    iret
rm_gp:                                ; #GP in real mode: skip the 3-byte MOV
    mov bp, sp
    add word [bp], 3
    mov word [RESULTS + 10], 13
    iret

rm_idtr: dw 0x3FF
         dd 0
rm_gdtr: dw 0
         dd 0
rm_end:
bits 32

CHECK chk_o32, "rm.prefixes_in_real_mode", "down to real mode and back; in real mode the 0x66/0x67 prefixes give 32-bit arithmetic and addressing"
    call go_real
    EXPECT dword [RESULTS], 0x23456789
    PASSED

CHECK chk_int, "rm.int_through_ivt", "INT n in real mode goes through the IVT (LIDT base 0) with CS:IP of the next instruction pushed; IRET returns"
    call go_real
    EXPECT16 word [RESULTS + 4], 0x4242
    EXPECT16 word [RESULTS + 20], rm_start.after_int - rm_start
    EXPECT16 word [RESULTS + 22], RM_SEG
    PASSED

CHECK chk_gp, "rm.gp_at_64k_limit", "a word access at offset 0xFFFF in real mode is #GP, delivered through IVT vector 13; the handler resumes after it"
    call go_real
    EXPECT16 word [RESULTS + 10], 13
    EXPECT16 word [RESULTS + 8], 0x600D
    PASSED

CHECK chk_unreal, "rm.big_real_mode", "a 4 GiB limit loaded in protected mode survives a real-mode segment load: FS reaches 2 MiB"
    mov dword [0x200000], 0
    call go_real
    EXPECT dword [0x200000], 0xFEEDFACE
    PASSED

CHECK chk_a20, "rm.a20_gate", "with A20 off (port 0x92 and the 8042) FFFF:0020 wraps to 0x10; turned on again it reaches 0x100010"
    call go_real
    EXPECT dword [RESULTS + 12], 0xA20A20
    EXPECT dword [RESULTS + 16], 0x0A20
    EXPECT dword [0x100010], 0x0A20
    PASSED

section .bss
saved_esp: resd 1
saved_ivt: resd 4
section .text
