/*
 * Domus demo guest: COM1, a 16550A UART at I/O 0x3F8 on ISA IRQ 4.
 *
 * Output polls LSR.THRE. Input is interrupt driven: IER.ERBFI raises IRQ 4 (gated by MCR.OUT2 on a
 * PC) when a byte arrives, and the handler moves every received byte into a ring the shell reads.
 * Flow control: when the ring is full the handler leaves the rest in the UART and turns ERBFI off;
 * the reader turns it back on once it has taken a byte (the UART then interrupts again for what
 * waits in its FIFO). A host that queues input, as Domus and QEMU do, so loses nothing however
 * much is pasted at once; a real line that keeps sending overruns the UART's FIFO instead.
 *
 * Reference: NS PC16550D datasheet (register map; LCR.DLAB selects the divisor latch; divisor =
 * 115200 / baud; FCR bit 0 FIFO enable, bits 1-2 clear RX/TX FIFOs, bits 7-6 RX trigger level;
 * LSR bit 0 data ready, bit 5 THR empty; MCR bit 0 DTR, bit 1 RTS, bit 3 OUT2).
 */
#include "kernel.h"

#define COM1_BASE 0x3F8
#define UART_RBR (COM1_BASE + 0) /* receive buffer (read) / THR transmit holding (write) */
#define UART_THR (COM1_BASE + 0)
#define UART_DLL (COM1_BASE + 0) /* divisor latch low (DLAB = 1) */
#define UART_IER (COM1_BASE + 1) /* interrupt enable */
#define UART_DLM (COM1_BASE + 1) /* divisor latch high (DLAB = 1) */
#define UART_FCR (COM1_BASE + 2) /* FIFO control (write) */
#define UART_LCR (COM1_BASE + 3) /* line control */
#define UART_MCR (COM1_BASE + 4) /* modem control */
#define UART_LSR (COM1_BASE + 5) /* line status */

#define LCR_DLAB 0x80           /* divisor latch access */
#define LCR_8N1 0x03            /* 8 data bits, no parity, 1 stop bit */
#define BAUD_BASE 115200        /* divisor 1 = 115200 baud */
#define BAUD 115200
#define FCR_ENABLE_CLEAR_TRIG1 0x07 /* FIFO on, both FIFOs cleared, RX trigger at 1 byte */
#define MCR_DTR_RTS_OUT2 0x0B   /* DTR, RTS, and OUT2 (connects INTR to the IRQ line on a PC) */
#define IER_RX_AVAILABLE 0x01   /* ERBFI: interrupt when received data is available */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
/* Polls of LSR before giving up on a byte (a missing or stuck UART must not hang the kernel). */
#define TX_SPIN_LIMIT 100000

/* Input ring: written by the IRQ handler, read by the shell (one CPU: a volatile index each). */
#define RX_RING 256
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;
/*
 * The handler found the ring full and turned the receive interrupt off. While it is set no COM1
 * interrupt can happen (receive is the only one enabled), so the reader may clear it without cli.
 */
static volatile bool rx_paused;

/* Turns the receive interrupt back on after the reader made room. */
static void rx_resume(void) {
    if (!rx_paused) return;
    rx_paused = false;
    outb(UART_IER, IER_RX_AVAILABLE);
}

void serial_init(void) {
    outb(UART_IER, 0);
    outb(UART_LCR, LCR_DLAB);
    outb(UART_DLL, (BAUD_BASE / BAUD) & 0xFF);
    outb(UART_DLM, (BAUD_BASE / BAUD) >> 8);
    outb(UART_LCR, LCR_8N1);
    outb(UART_FCR, FCR_ENABLE_CLEAR_TRIG1);
    outb(UART_MCR, MCR_DTR_RTS_OUT2);
    /* Drop whatever arrived before (the boot loader's leftovers). */
    while (inb(UART_LSR) & LSR_DATA_READY) (void)inb(UART_RBR);
    outb(UART_IER, IER_RX_AVAILABLE);
}

void serial_putc(uint8_t c) {
    for (int i = 0; i < TX_SPIN_LIMIT && !(inb(UART_LSR) & LSR_THR_EMPTY); i++) {
    }
    outb(UART_THR, c);
}

void serial_irq(void) {
    while (inb(UART_LSR) & LSR_DATA_READY) {
        uint32_t next = (rx_head + 1) % RX_RING;
        if (next == rx_tail) { /* full: leave the byte in the UART until the reader makes room */
            rx_paused = true;
            outb(UART_IER, 0);
            return;
        }
        rx_ring[rx_head] = inb(UART_RBR);
        rx_head = next;
    }
}

bool serial_has_input(void) { return rx_head != rx_tail; }

int serial_getc(void) {
    if (rx_head == rx_tail) return -1;
    uint8_t c = rx_ring[rx_tail];
    rx_tail = (rx_tail + 1) % RX_RING;
    rx_resume();
    return c;
}

void serial_flush_input(void) {
    rx_tail = rx_head;
    rx_resume();
}
