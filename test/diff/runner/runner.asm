; Domus differential-test runner: a tiny multiboot v1 kernel that QEMU (-kernel) and the Domus
; CPU harness (loadMultiboot) both boot. It builds a known protected-mode environment and then
; parks at `ready`; the test driver takes over from there, writing each case's code, data and
; registers and single-stepping it. Nothing here runs between cases except exception delivery.
;
; Environment after `ready` (every address below is exported as an absolute ELF symbol so the
; TypeScript driver reads the layout from runner.elf instead of repeating numbers):
;   GDT  0x08 ring-0 code32 flat   0x10 ring-0 data32 flat   0x1B ring-3 code32 flat
;        0x23 ring-3 data32 flat   0x28 TSS (32-bit)         0x30 ring-0 code16 (limit 64K)
;        0x38 ring-0 data16 (64K)  0x40 data32 base=DATA_WINDOW limit=DATA_WINDOW_SIZE-1, DPL 3
;        0x48 LDT: 0x04 data32 flat DPL 3, 0x0C the same but not present
;   IDT  256 interrupt gates to 16-byte stubs at exc_stubs (DPL 3 for vectors 3, 4 and 0x80,
;        DPL 0 otherwise); a stub pushes a zero error code when the CPU pushes none, then the
;        vector, records vector/error/EIP/CS/EFLAGS at exc_record and spins at exc_stop.
;   TSS  SS0=0x10, ESP0=RING0_STACK_TOP (top of the data window) for ring-3 cases.
;   IVT  (real mode) vector v -> 0000:RM_STUB_BASE+v*RM_STUB_SIZE, each stub `jmp $`; IDTR
;        points at it only after the set_idt_rm helper ran (see below).
;   Paging structures (not enabled): PAGE_DIR[0] -> PAGE_TABLE0, identity 0-4 MiB, user,
;        writable, except NP_PAGE which is not present.
;   PICs masked, IF=0.

bits 32

MB_MAGIC        equ 0x1BADB002      ; multiboot v1 header magic
MB_FLAGS        equ 0               ; ELF kernel: no a.out kludge, no info requests
MB_CHECKSUM     equ -(MB_MAGIC + MB_FLAGS)

; Low-memory layout shared with the driver.
RM_STUB_BASE    equ 0x0800          ; real-mode interrupt stubs (2 bytes each: jmp $)
RM_STUB_SIZE    equ 2
PAGE_DIR        equ 0x1000          ; page directory (CR3 for paging cases)
PAGE_TABLE0     equ 0x2000          ; page table for linear 0-4 MiB
CODE_WINDOW     equ 0x4000          ; case code is written here
CODE_WINDOW_SIZE equ 0x1000
DATA_WINDOW     equ 0x6C00          ; case data; compared after every step
DATA_WINDOW_SIZE equ 0x410          ; 1 KiB + 16 guard bytes reaching into NP_PAGE
NP_PAGE         equ 0x7000          ; not present when paging is on
RING0_STACK_TOP equ 0x7000          ; TSS.ESP0
STUB_SIZE       equ 16              ; bytes per protected-mode exception stub

SEL_CODE0       equ 0x08
SEL_DATA0       equ 0x10
SEL_CODE3       equ 0x1B
SEL_DATA3       equ 0x23
SEL_TSS         equ 0x28
SEL_CODE16      equ 0x30
SEL_DATA16      equ 0x38
SEL_WINDOW      equ 0x40
SEL_LDT         equ 0x48

PTE_P           equ 0x001           ; present
PTE_RW          equ 0x002           ; writable
PTE_US          equ 0x004           ; user
GATE_INT32      equ 0x8E            ; present, DPL 0, 32-bit interrupt gate
GATE_DPL3       equ 0x60            ; DPL 3 bits for a gate's access byte
PIC1_DATA       equ 0x21
PIC2_DATA       equ 0xA1

global RM_STUB_BASE, RM_STUB_SIZE, PAGE_DIR, PAGE_TABLE0, CODE_WINDOW, CODE_WINDOW_SIZE
global DATA_WINDOW, DATA_WINDOW_SIZE, NP_PAGE, RING0_STACK_TOP, STUB_SIZE
global SEL_CODE0, SEL_DATA0, SEL_CODE3, SEL_DATA3, SEL_TSS, SEL_CODE16, SEL_DATA16, SEL_WINDOW, SEL_LDT
global _start, ready, exc_stubs, exc_stubs_end, exc_common, exc_stop, exc_record
global gdt, idt, tss, set_idt_pm, set_idt_pm_done, set_idt_rm, set_idt_rm_done

section .text
align 4
mb_header:
    dd MB_MAGIC, MB_FLAGS, MB_CHECKSUM

_start:
    cli
    mov esp, kstack_top
    lgdt [gdt_desc]
    jmp SEL_CODE0:.flush
.flush:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov al, 0xFF                    ; mask every PIC line
    out PIC1_DATA, al
    out PIC2_DATA, al

    ; TSS and LDT descriptor bases (split over the descriptor, so patched at run time).
    mov eax, tss
    mov [gdt + SEL_TSS + 2], ax
    shr eax, 16
    mov [gdt + SEL_TSS + 4], al
    mov [gdt + SEL_TSS + 7], ah
    mov eax, ldt
    mov [gdt + SEL_LDT + 2], ax
    shr eax, 16
    mov [gdt + SEL_LDT + 4], al
    mov [gdt + SEL_LDT + 7], ah

    ; IDT: gate v -> exc_stubs + v*STUB_SIZE.
    xor ecx, ecx
.idt_loop:
    mov eax, ecx
    shl eax, 4
    add eax, exc_stubs
    mov [idt + ecx*8], ax
    mov word [idt + ecx*8 + 2], SEL_CODE0
    mov byte [idt + ecx*8 + 4], 0
    mov dl, GATE_INT32
    cmp ecx, 3
    je .user_gate
    cmp ecx, 4
    je .user_gate
    cmp ecx, 0x80
    jne .gate_done
.user_gate:
    or dl, GATE_DPL3
.gate_done:
    mov [idt + ecx*8 + 5], dl
    shr eax, 16
    mov [idt + ecx*8 + 6], ax
    inc ecx
    cmp ecx, 256
    jb .idt_loop

    ; Real-mode IVT and its stubs.
    xor ecx, ecx
.ivt_loop:
    lea eax, [RM_STUB_BASE + ecx*RM_STUB_SIZE]
    mov [ecx*4], eax                ; offset = stub, segment = 0
    mov word [eax], 0xFEEB          ; jmp $
    inc ecx
    cmp ecx, 256
    jb .ivt_loop

    ; Identity page table for 0-4 MiB; NP_PAGE not present.
    xor ecx, ecx
.pt_loop:
    mov eax, ecx
    shl eax, 12
    or eax, PTE_P | PTE_RW | PTE_US
    mov [PAGE_TABLE0 + ecx*4], eax
    inc ecx
    cmp ecx, 1024
    jb .pt_loop
    mov dword [PAGE_TABLE0 + (NP_PAGE >> 12)*4], 0
    mov edi, PAGE_DIR
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [PAGE_DIR], PAGE_TABLE0 | PTE_P | PTE_RW | PTE_US

    lidt [idt_desc]
    mov ax, SEL_TSS
    ltr ax
    mov ax, SEL_LDT                 ; a known LDT instead of the reset LDTR (base 0, limit FFFF)
    lldt ax
    xor eax, eax
    xor ecx, ecx
    xor edx, edx
    xor ebx, ebx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    push dword 2                    ; EFLAGS: only the reserved bit
    popfd
ready:
    jmp ready

; IDTR helpers. Neither QEMU's gdbstub nor the CPU harness can write IDTR, so before a case whose
; mode needs the other interrupt table the driver points CS:EIP (ring-0 protected mode) at one of
; these and single-steps to its *_done label: the protected-mode IDT, or the real-mode IVT at
; linear 0 (plus real-mode-ready data segment caches).
set_idt_pm:
    lidt [idt_desc]
set_idt_pm_done:
    jmp set_idt_pm_done
set_idt_rm:
    lidt [rm_idt_desc]
    ; Real-mode-ready descriptor caches (SDM Vol. 3A 9.9.2): 64 KiB, byte-granular, writable,
    ; B=0, so a CPU that keeps hidden segment state across the CR0.PE switch behaves as QEMU's
    ; gdbstub (which resets the caches) does.
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
set_idt_rm_done:
    jmp set_idt_rm_done

; Exception stubs: one per vector, STUB_SIZE bytes each.
align STUB_SIZE, db 0xCC
exc_stubs:
%assign v 0
%rep 256
  %if v != 8 && v != 10 && v != 11 && v != 12 && v != 13 && v != 14 && v != 17 && v != 21 && v != 29 && v != 30
    push dword 0
  %endif
    push dword v
    jmp exc_common
    align STUB_SIZE, db 0xCC
%assign v v+1
%endrep
exc_stubs_end:

; Record the exception (SS-relative: the case may have left DS unusable) and stop.
exc_common:
    push eax
    mov eax, [esp + 4]
    mov [ss:exc_record], eax        ; vector
    mov eax, [esp + 8]
    mov [ss:exc_record + 4], eax    ; error code
    mov eax, [esp + 12]
    mov [ss:exc_record + 8], eax    ; EIP
    mov eax, [esp + 16]
    mov [ss:exc_record + 12], eax   ; CS
    mov eax, [esp + 20]
    mov [ss:exc_record + 16], eax   ; EFLAGS
    inc dword [ss:exc_record + 20]  ; count
    pop eax
exc_stop:
    jmp exc_stop

section .data
align 8
gdt:
    dq 0                                ; 0x00 null
    dq 0x00CF9A000000FFFF               ; 0x08 ring-0 code32 flat
    dq 0x00CF92000000FFFF               ; 0x10 ring-0 data32 flat
    dq 0x00CFFA000000FFFF               ; 0x18 ring-3 code32 flat
    dq 0x00CFF2000000FFFF               ; 0x20 ring-3 data32 flat
    dq 0x0000890000000067               ; 0x28 TSS (base patched), limit 103
    dq 0x00009A000000FFFF               ; 0x30 ring-0 code16, 64 KiB
    dq 0x000092000000FFFF               ; 0x38 ring-0 data16, 64 KiB
    dw DATA_WINDOW_SIZE - 1, DATA_WINDOW & 0xFFFF
    db (DATA_WINDOW >> 16) & 0xFF, 0xF2, 0x40, DATA_WINDOW >> 24 ; 0x40 window data, DPL 3
    dq 0x0000820000000000 | (ldt_end - ldt - 1) ; 0x48 LDT (base patched)
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 256*8 - 1
    dd idt
rm_idt_desc:
    dw 256*4 - 1                        ; real-mode IVT: 256 far pointers at linear 0
    dd 0

align 8
ldt:
    dq 0x00CFF2000000FFFF               ; LDT 0x04 (0x07 with RPL 3): data32 flat, DPL 3
    dq 0x00CF72000000FFFF               ; LDT 0x0C (0x0F): data32 flat, DPL 3, not present
ldt_end:

align 4
tss:
    dd 0                                ; previous task link
    dd RING0_STACK_TOP                  ; ESP0
    dd SEL_DATA0                        ; SS0
    times 22 dd 0                       ; ESP1..LDT selector
    dw 0                                ; T flag
    dw 104                              ; I/O map base beyond the limit: no bitmap

section .bss
align 8
idt:
    resb 256*8
exc_record:
    resd 8
kstack:
    resb 4096
kstack_top:
