; Domus demo guest: multiboot v1 header, entry point, GDT and the 256 interrupt entry stubs.
;
; References: Multiboot Specification 0.6.96 section 3.1 (header: magic 0x1BADB002, flags,
; checksum; bit 0 page-align modules, bit 1 memory information) and 3.2 (machine state at entry:
; EAX = 0x2BADB002, EBX = physical address of the multiboot_info, interrupts off, no valid stack
; or GDT); Intel SDM Vol. 3A 3.4.5 (segment descriptors), 6.12 (interrupt gates, which exceptions
; push an error code: 8, 10-14, 17, 21, 29, 30).

bits 32

MB_HEADER_MAGIC   equ 0x1BADB002          ; multiboot v1 header magic
MB_PAGE_ALIGN     equ 1 << 0              ; modules on 4 KiB boundaries
MB_MEMORY_INFO    equ 1 << 1              ; ask for mem_lower/mem_upper and the memory map
MB_FLAGS          equ MB_PAGE_ALIGN | MB_MEMORY_INFO
STACK_BYTES       equ 16384               ; the kernel's only stack
SEL_CODE          equ 0x08                ; GDT entry 1: flat 4 GiB code, ring 0
SEL_DATA          equ 0x10                ; GDT entry 2: flat 4 GiB data, ring 0
VECTORS           equ 256                 ; IDT entries

section .multiboot
align 4
    dd MB_HEADER_MAGIC
    dd MB_FLAGS
    dd -(MB_HEADER_MAGIC + MB_FLAGS)

section .text
global _start
extern kernel_main
extern interrupt_dispatch
extern __bss_start
extern __bss_end

; Entry from the boot loader: EAX = magic, EBX = multiboot_info.
_start:
    cli
    cld
    mov esi, eax                ; keep the magic while clearing .bss (the stack lives there too)
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    mov eax, esi
    mov esp, stack_top
    lgdt [gdt_descriptor]
    jmp SEL_CODE:.reload_cs
.reload_cs:
    mov cx, SEL_DATA
    mov ds, cx
    mov es, cx
    mov fs, cx
    mov gs, cx
    mov ss, cx
    push 0                      ; EFLAGS all clear (IF off, DF off, IOPL 0)
    popfd
    push ebx                    ; kernel_main(magic, info)
    push eax
    call kernel_main
.stop:
    cli
    hlt
    jmp .stop

; Common path of every vector: the stub pushed (error code or 0) and the vector number.
; Builds a struct interrupt_frame on the stack and passes its address to interrupt_dispatch.
interrupt_common:
    pushad
    push ds
    push es
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    push esp                    ; struct interrupt_frame *
    call interrupt_dispatch
    add esp, 4
    pop es
    pop ds
    popad
    add esp, 8                  ; vector number and error code
    iretd

; One stub per vector. The CPU pushes an error code for 8, 10-14, 17, 21, 29 and 30; the others
; push a 0 in its place so that every frame has the same shape.
%macro STUB 1
stub_%1:
%if !(%1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30)
    push 0
%endif
    push %1
    jmp interrupt_common
%endmacro

%assign v 0
%rep VECTORS
    STUB v
%assign v v + 1
%endrep

section .rodata
align 4
global interrupt_stubs
; Address of the stub of each vector, for the IDT.
interrupt_stubs:
%assign v 0
%rep VECTORS
    dd stub_ %+ v
%assign v v + 1
%endrep

section .data
; The accessed bits are preset (types 0x9B, 0x93) so that loading a selector writes nothing.
align 8
gdt:
    dq 0                        ; null descriptor
    dq 0x00CF9B000000FFFF       ; 0x08: base 0, limit 4 GiB, 32-bit, code execute/read, DPL 0
    dq 0x00CF93000000FFFF       ; 0x10: base 0, limit 4 GiB, 32-bit, data read/write, DPL 0
gdt_end:
gdt_descriptor:
    dw gdt_end - gdt - 1
    dd gdt

section .bss
align 16
stack_bottom:
    resb STACK_BYTES
stack_top:
