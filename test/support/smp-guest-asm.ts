/**
 * nasm source shared by the small SMP test guests assembled inside tests: the 16-bit AP start-up
 * trampoline (copied below 1 MiB by the guest; it loads the flat GDT and far-jumps to `ap_main`
 * in protected mode), the flat GDT and the GDTR/IDTR. The including source defines `ap_main` and
 * `idt` (256 gates).
 */
export const SMP_TRAMPOLINE_ASM = String.raw`
bits 16
tramp:
  cli
  mov ax, cs
  mov ds, ax
  lgdt [tgdtr - tramp]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:ap_main
tgdtr:
  dw gdt_end - gdt - 1
  dd gdt
tramp_end:
bits 32

align 8
gdt:
  dq 0
  dq 0x00CF9A000000FFFF
  dq 0x00CF92000000FFFF
gdt_end:
gdtr:
  dw gdt_end - gdt - 1
  dd gdt
idtr:
  dw 256 * 8 - 1
  dd idt
`;
