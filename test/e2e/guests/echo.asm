; echo.elf: a multiboot v1 guest for the GUI's end-to-end tests. It prints a banner on COM1, then
; sleeps in HLT and wakes on the UART's receive interrupt (IRQ 4 through the 8259 PIC at vector
; 0x24): every byte it receives is echoed, and a carriage return ends the line with
; "ECHO: <the line>". Idle guests cost the host nothing, so the tests stay fast on two cores.
BITS 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0
COM1        equ 0x3f8          ; RBR/THR (DLAB=0), DLL (DLAB=1)
COM1_IER    equ COM1 + 1       ; bit 0: received data available interrupt
COM1_FCR    equ COM1 + 2
COM1_LCR    equ COM1 + 3
COM1_MCR    equ COM1 + 4       ; bit 3: OUT2 gates the IRQ line on a PC
COM1_LSR    equ COM1 + 5       ; bit 0: data ready, bit 5: THR empty
PIC1_CMD    equ 0x20
PIC1_DATA   equ 0x21
PIC2_DATA   equ 0xa1
PIC_EOI     equ 0x20
IRQ_BASE    equ 0x20           ; master PIC vectors 0x20-0x27
COM1_IRQ    equ 4
LINE_MAX    equ 120

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .bss
align 16
stack:   resb 8192
stack_top:
line:    resb LINE_MAX
line_len: resd 1

section .data
banner:  db "ECHO READY: type a line and press Enter", 13, 10, "> ", 0
answer:  db 13, 10, "ECHO: ", 0
prompt:  db 13, 10, "> ", 0
idt_ptr: dw 256 * 8 - 1
         dd idt
align 8
idt:     times 256 dq 0

section .text
global _start
_start:
    cli
    mov esp, stack_top
    ; UART: 115200 8N1, FIFO on with a 1-byte trigger, RDA interrupt, OUT2.
    mov dx, COM1_LCR
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    mov dx, COM1_IER
    xor al, al
    out dx, al
    mov dx, COM1_LCR
    mov al, 3
    out dx, al
    mov dx, COM1_FCR
    mov al, 0x07
    out dx, al
    mov dx, COM1_MCR
    mov al, 0x0b
    out dx, al
    mov dx, COM1_IER
    mov al, 1
    out dx, al
    ; 8259: ICW1-4, master at IRQ_BASE, slave at IRQ_BASE + 8, only IRQ 4 unmasked.
    mov al, 0x11
    out PIC1_CMD, al
    out 0xa0, al
    mov al, IRQ_BASE
    out PIC1_DATA, al
    mov al, IRQ_BASE + 8
    out PIC2_DATA, al
    mov al, 4
    out PIC1_DATA, al
    mov al, 2
    out PIC2_DATA, al
    mov al, 1
    out PIC1_DATA, al
    out PIC2_DATA, al
    mov al, ~(1 << COM1_IRQ) & 0xff
    out PIC1_DATA, al
    mov al, 0xff
    out PIC2_DATA, al
    ; IDT gate for the UART vector: 32-bit interrupt gate, selector = current CS.
    mov eax, uart_isr
    mov edi, idt + (IRQ_BASE + COM1_IRQ) * 8
    mov [edi], ax
    mov word [edi + 2], cs
    mov word [edi + 4], 0x8e00
    shr eax, 16
    mov [edi + 6], ax
    lidt [idt_ptr]
    mov esi, banner
    call puts
.idle:
    sti
    hlt
    jmp .idle

; Receives every byte waiting in the UART.
uart_isr:
    pushad
.next:
    mov dx, COM1_LSR
    in al, dx
    test al, 1
    jz .done
    mov dx, COM1
    in al, dx
    cmp al, 13
    je .enter
    call putc
    mov ebx, [line_len]
    cmp ebx, LINE_MAX
    jae .next
    mov [line + ebx], al
    inc dword [line_len]
    jmp .next
.enter:
    mov esi, answer
    call puts
    mov ecx, [line_len]
    xor ebx, ebx
.emit:
    cmp ebx, ecx
    jae .emitted
    mov al, [line + ebx]
    call putc
    inc ebx
    jmp .emit
.emitted:
    mov dword [line_len], 0
    mov esi, prompt
    call puts
    jmp .next
.done:
    mov al, PIC_EOI
    out PIC1_CMD, al
    popad
    iretd

; Writes AL to COM1 once the transmitter is empty.
putc:
    push eax
    push edx
    mov ah, al
.wait:
    mov dx, COM1_LSR
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, COM1
    mov al, ah
    out dx, al
    pop edx
    pop eax
    ret

; Writes the NUL-terminated string at ESI.
puts:
    push eax
    push esi
.loop:
    lodsb
    test al, al
    jz .end
    call putc
    jmp .loop
.end:
    pop esi
    pop eax
    ret
