; Runs every real-mode case of the table under QEMU and prints its final state (gen.mjs fills in the
; case table, their count and the layout values). Multiboot v1, entered in 32-bit protected mode.
bits 32
section .text
align 4
    dd 0x1BADB002, 0x00000000, -(0x1BADB002)
global _start
_start:
    cli
    mov esp, 0x90000
    lgdt [gdtr]
    jmp 0x08:.cs
.cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esi, tramp
    mov edi, %captureSeg% << 4
    mov ecx, tramp_end - tramp
    rep movsb
    xor eax, eax                      ; IVT vectors 0..31 -> the stubs
.ivt:
    mov edx, eax
    shl edx, 4
    add edx, %stubBase%
    mov [eax * 4], dx
    mov word [eax * 4 + 2], %captureSeg%
    inc eax
    cmp eax, 32
    jb .ivt
    mov ebp, cases
    xor ebx, ebx
.case:
    cmp ebx, %COUNT%
    jae .done
    ; the window, from the seed
    mov eax, [ebp + 36]
    test eax, eax
    jnz .seeded
    inc eax
.seeded:
    mov edi, %dataSeg% << 4
    mov ecx, %windowSize%
.fill:
    mov edx, eax
    shl edx, 13
    xor eax, edx
    mov edx, eax
    shr edx, 17
    xor eax, edx
    mov edx, eax
    shl edx, 5
    xor eax, edx
    mov [edi], al
    inc edi
    loop .fill
    ; the code: the instruction, then JMP FAR to capture A, then (a branch taken by 5) to B
    movzx ecx, byte [ebp + 56]
    lea esi, [ebp + 40]
    mov edi, %codeSeg% << 4
    rep movsb
    mov byte [edi], 0xEA
    mov word [edi + 1], %captureA%
    mov word [edi + 3], %captureSeg%
    mov byte [edi + 5], 0xEA
    mov word [edi + 6], %captureB%
    mov word [edi + 8], %captureSeg%
    ; the state
    mov esi, ebp
    mov edi, 0x7000
    mov ecx, 9
    rep movsd
    mov dword [0x7024], %dataSeg%
    mov [saved_esp], esp
    mov [saved_ebx], ebx
    mov [saved_ebp], ebp
    jmp 0x18:0
.back:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, [saved_esp]
    mov ebx, [saved_ebx]
    mov ebp, [saved_ebp]
    push 2
    popfd
    ; print: V idx path vec eax ecx edx ebx esp ebp esi edi flags dses ss window
    mov al, 'V'
    call putc
    mov eax, ebx
    call puthex_sp
    movzx eax, byte [R + R_PATH]
    call puthex_sp
    movzx eax, byte [R + R_VEC]
    call puthex_sp
    xor ecx, ecx
.regs:
    mov eax, [R + ecx * 4]
    call puthex_sp
    inc ecx
    cmp ecx, 11
    jb .regs
    mov al, ' '
    call putc
    mov esi, %dataSeg% << 4
    mov ecx, %windowSize%
.mem:
    lodsb
    call puthex2
    loop .mem
    mov al, 10
    call putc
    add ebp, 60
    inc ebx
    jmp .case
.done:
    mov dx, 0xF4
    xor al, al
    out dx, al
    hlt

putc:
    push edx
    push eax
    mov dx, 0x3FD
.w: in al, dx
    test al, 0x20
    jz .w
    pop eax
    mov dx, 0x3F8
    out dx, al
    pop edx
    ret
puthex_sp:
    push eax
    mov al, ' '
    call putc
    pop eax
    push ecx
    mov ecx, 8
.h: rol eax, 4
    push eax
    and eax, 15
    mov al, [hex + eax]
    call putc
    pop eax
    loop .h
    pop ecx
    ret
puthex2:
    push eax
    shr al, 4
    and eax, 15
    mov al, [hex + eax]
    call putc
    pop eax
    push eax
    and eax, 15
    mov al, [hex + eax]
    call putc
    pop eax
    ret

; results, at captureSeg:0C00
R       equ (%captureSeg% << 4) + 0x0C00
R_PATH  equ 44
R_VEC   equ 45

; ---- the trampoline: copied to captureSeg:0000 ----------------------------------------------------
bits 16
tramp:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp %captureSeg%:(.rm - tramp)
.rm:
    xor ax, ax
    mov ds, ax
    lidt [cs:ivt_ptr - tramp]
    mov byte [cs:0x0C00 + R_PATH], 0
    mov byte [cs:0x0C00 + R_VEC], 0
    mov ax, 0x0700
    mov ss, ax
    mov sp, 0x20
    popfd                             ; the case's EFLAGS (0700:0020)
    mov gs, ax
    mov eax, [gs:0x00]
    mov ecx, [gs:0x04]
    mov edx, [gs:0x08]
    mov ebx, [gs:0x0C]
    mov esp, [gs:0x10]
    mov ebp, [gs:0x14]
    mov esi, [gs:0x18]
    mov edi, [gs:0x1C]
    mov ds, [gs:0x24]
    mov es, [gs:0x24]
    mov fs, [gs:0x24]
    mov ss, [gs:0x24]
    mov gs, [gs:0x24]
    jmp %codeSeg%:0
    times %captureA% - ($ - tramp) db 0xCC
capture_a:
    mov [cs:0x0C00], eax
    mov byte [cs:0x0C00 + R_PATH], 1
    jmp capture_common
    times %captureB% - ($ - tramp) db 0xCC
capture_b:
    mov [cs:0x0C00], eax
    mov byte [cs:0x0C00 + R_PATH], 2
    jmp capture_common
capture_common:
    mov [cs:0x0C04], ecx
    mov [cs:0x0C08], edx
    mov [cs:0x0C0C], ebx
    mov [cs:0x0C10], esp
    mov [cs:0x0C14], ebp
    mov [cs:0x0C18], esi
    mov [cs:0x0C1C], edi
    mov [cs:0x0C24], ds
    mov [cs:0x0C26], es
    mov [cs:0x0C28], ss
    mov ax, %captureSeg%
    mov ss, ax
    mov sp, 0x0F00
    pushfd
    pop dword [cs:0x0C20]
    o32 lgdt [cs:tramp_gdtr - tramp]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:_start.back
    times %stubBase% - ($ - tramp) db 0xCC
%assign v 0
%rep 32
    mov [cs:0x0C00], eax
    mov byte [cs:0x0C00 + R_VEC], v
    mov byte [cs:0x0C00 + R_PATH], 3
    jmp capture_common
    align 16, db 0xCC
%assign v v + 1
%endrep
ivt_ptr: dw 0x3FF
         dd 0
tramp_gdtr: dw 5 * 8 - 1
            dd gdt
tramp_end:
bits 32

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF             ; 0x08 flat 32-bit code
    dq 0x00CF92000000FFFF             ; 0x10 flat data
    dq 0x00009A008000FFFF             ; 0x18 16-bit code at 0x8000
    dq 0x000092000000FFFF             ; 0x20 16-bit data at 0
gdtr: dw 5 * 8 - 1
      dd gdt
hex: db "0123456789ABCDEF"
saved_esp: dd 0
saved_ebx: dd 0
saved_ebp: dd 0
align 4
cases:
%CASES%
