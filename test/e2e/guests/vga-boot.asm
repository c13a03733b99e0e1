; A boot sector that draws on the VGA text screen, for the GUI's Screen view test
; (test/e2e/live-views.test.ts). The BIOS loads it at 0000:7C00 from the first hard disk.
;   row 3  "DOMUS VGA GUEST"  through INT 10h AH=0Eh (teletype: the BIOS moves the cursor)
;   row 5  "COLOURS" in yellow on blue (attribute 1Eh), "ALERT" in white on red, blinking (CFh),
;          written straight into the text buffer at B800:0000
;   row 7  "INPUT " and then every byte received on COM1, so the screen changes when someone
;          types into the serial console
; The cursor follows the input on row 7. The guest polls the UART's line status (with PAUSE)
; instead of sleeping until IRQ 4: the engine delivers no interrupts to BIOS-booted domains yet,
; so it keeps a pCPU busy while it runs (the test destroys it when done).
; Build: nasm -f bin -o vga-boot.bin vga-boot.asm (build.sh).

        bits 16
        org 0x7c00

TEXT_SEG        equ 0xb800      ; colour text buffer segment (mode 3)
COLS            equ 80          ; mode 3 columns
ATTR_BLUE       equ 0x1e        ; yellow (14) on blue (1)
ATTR_ALERT      equ 0xcf        ; blink (bit 7), white (15) on red (4)
ATTR_GREY       equ 0x07        ; light grey on black
INPUT_ROW       equ 7
INPUT_COL       equ 6           ; after "INPUT "
COM1            equ 0x3f8       ; 16550 base: RBR/THR (DLL with DLAB), +3 LCR, +4 MCR, +5 LSR
UART_LCR        equ COM1 + 3
UART_MCR        equ COM1 + 4
UART_LSR        equ COM1 + 5
LCR_8N1         equ 0x03        ; 8 data bits, no parity, 1 stop bit, DLAB 0
LCR_DLAB        equ 0x80        ; divisor latch access
DIVISOR_115200  equ 1           ; 1.8432 MHz / 16 / 115200
MCR_DTR_RTS     equ 0x03        ; data terminal ready, request to send
LSR_DR          equ 0x01        ; data ready

start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        cld
        ; Row 3 by teletype.
        mov ah, 0x02            ; set cursor position: BH page, DH row, DL column
        xor bh, bh
        mov dx, 0x0300
        int 0x10
        mov si, banner
.tty:   lodsb
        test al, al
        jz .colours
        mov ah, 0x0e            ; teletype output
        xor bh, bh
        int 0x10
        jmp .tty
.colours:
        mov ax, TEXT_SEG
        mov es, ax
        mov di, (5 * COLS + 0) * 2
        mov si, colours
        mov ah, ATTR_BLUE
        call put
        mov di, (5 * COLS + 10) * 2
        mov si, alert
        mov ah, ATTR_ALERT
        call put
        mov di, (INPUT_ROW * COLS + 0) * 2
        mov si, input
        mov ah, ATTR_GREY
        call put
        mov byte [column], INPUT_COL
        call park
        ; COM1: 115200 8N1.
        mov dx, UART_LCR
        mov al, LCR_DLAB
        out dx, al
        mov dx, COM1
        mov al, DIVISOR_115200
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, UART_LCR
        mov al, LCR_8N1
        out dx, al
        mov dx, UART_MCR
        mov al, MCR_DTR_RTS
        out dx, al
.idle:  pause
        call uart_poll
        jmp .idle

; Every byte received goes on row 7 (wrapping back to column 6 at the end of the row).
uart_poll:
        push ax
        push dx
        push di
        push es
        mov ax, TEXT_SEG
        mov es, ax
.next:  mov dx, UART_LSR
        in al, dx
        test al, LSR_DR
        jz .done
        mov dx, COM1
        in al, dx
        cmp al, 0x20
        jb .next                ; control characters are not drawn
        movzx di, byte [column]
        add di, INPUT_ROW * COLS
        shl di, 1
        mov ah, ATTR_GREY
        stosw
        inc byte [column]
        cmp byte [column], COLS
        jb .next
        mov byte [column], INPUT_COL
        jmp .next
.done:  call park
        pop es
        pop di
        pop dx
        pop ax
        ret

; Puts the cursor after the input.
park:   push ax
        push bx
        push dx
        mov ah, 0x02
        xor bh, bh
        mov dh, INPUT_ROW
        mov dl, [column]
        int 0x10
        pop dx
        pop bx
        pop ax
        ret

; Writes the NUL-terminated string at DS:SI to ES:DI with attribute AH.
put:    lodsb
        test al, al
        jz .done
        stosw
        jmp put
.done:  ret

banner  db 'DOMUS VGA GUEST', 0
colours db 'COLOURS', 0
alert   db 'ALERT', 0
input   db 'INPUT ', 0
column  db 0

        times 510 - ($ - $$) db 0
        dw 0xaa55
