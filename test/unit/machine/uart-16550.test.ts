import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { Uart16550 } from '../../../src-engine/machine/uart-16550';
import { FakeClock, RecordingIrq } from './fake-clock';

const BASE = 0x3f8;
const THR = BASE, RBR = BASE, DLL = BASE, IER = BASE + 1, DLM = BASE + 1, IIR = BASE + 2, FCR = BASE + 2;
const LCR = BASE + 3, MCR = BASE + 4, LSR = BASE + 5, MSR = BASE + 6, SCR = BASE + 7;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const IIR_NONE = 0x01, IIR_THRE = 0x02, IIR_RDA = 0x04, IIR_RLS = 0x06, IIR_TIMEOUT = 0x0c, IIR_FIFO = 0xc0;

function setup() {
  const clock = new FakeClock();
  const irq = new RecordingIrq();
  const sent: number[] = [];
  const uart = new Uart16550({ name: 'uart-com1', clock, irq, onTransmit: (b) => sent.push(b) });
  const bus = new IoBus();
  bus.register(BASE, 8, uart);
  const out = (port: number, value: number) => bus.write(port, 1, value);
  const inb = (port: number) => bus.read(port, 1);
  return { clock, irq, sent, uart, out, inb };
}

/** GRUB's serial_hw_init for 115200 baud (grub-core/term/ns8250.c). */
function grubInit(out: (port: number, value: number) => void) {
  out(IER, 0x00);
  out(LCR, 0x80);
  out(DLL, 0x01);
  out(DLM, 0x00);
  out(LCR, 0x03);
  out(FCR, 0xc7);
  out(MCR, 0x0b);
}

describe('16550A as GRUB uses it', () => {
  it('passes the scratch register probe', () => {
    const { out, inb } = setup();
    out(SCR, 0x5a);
    expect(inb(SCR)).toBe(0x5a);
    out(SCR, 0xa5);
    expect(inb(SCR)).toBe(0xa5);
  });

  it('initialises, drains RX, and sends and receives by polling LSR', () => {
    const { out, inb, sent, uart } = setup();
    uart.receive([0x0d]); // a key pressed before GRUB started
    grubInit(out);
    expect(inb(LCR)).toBe(0x03);
    expect(inb(MCR)).toBe(0x0b);
    while (inb(LSR) & LSR_DR) inb(RBR); // GRUB drains stale input after init
    for (const ch of 'ok\r\n') {
      while (!(inb(LSR) & LSR_THRE)) { /* never spins: transmit is instantaneous */ }
      out(THR, ch.charCodeAt(0));
    }
    expect(String.fromCharCode(...sent)).toBe('ok\r\n');
    uart.receive(new TextEncoder().encode('e'));
    expect(inb(LSR) & LSR_DR).toBe(LSR_DR);
    expect(inb(RBR)).toBe(0x65);
    expect(inb(LSR) & LSR_DR).toBe(0);
  });

  it('lets output through before anybody programs the UART', () => {
    const { out, inb, sent } = setup();
    expect(inb(LSR) & (LSR_THRE | LSR_TEMT)).toBe(LSR_THRE | LSR_TEMT);
    out(THR, 0x41);
    expect(sent).toEqual([0x41]);
  });
});

describe('16550A as Linux 8250 autoconfig sees it', () => {
  it('passes the IER test, the loopback test and is detected as a 16550A', () => {
    const { out, inb } = setup();
    out(IER, 0);
    expect(inb(IER) & 0x0f).toBe(0);
    out(IER, 0x0f);
    expect(inb(IER) & 0x0f).toBe(0x0f);
    out(IER, 0);
    out(MCR, 0x10 | 0x0a); // loopback with RTS and OUT2
    expect(inb(MSR) & 0xf0).toBe(0x90); // CTS and DCD
    out(MCR, 0);
    out(LCR, 0xbf);
    out(FCR, 0); // "EFR" write in config mode B: FIFO off on a 16550A
    out(LCR, 0);
    out(FCR, 0x01);
    expect(inb(IIR) >> 6).toBe(3); // FIFO bits: 16550A
    out(FCR, 0x01 | 0x20); // 64-byte FIFO bit of a 16750
    expect(inb(IIR) >> 5).toBe(6); // bit 5 stays 0: not a 16750
    out(IER, 0x40); // XScale UUE bit
    expect(inb(IER) & 0x40).toBe(0);
  });

  it('raises THRE when IER enables it and clears it on IIR read or THR write (Linux THRE test)', () => {
    const { out, inb, irq } = setup();
    out(MCR, 0x08); // OUT2: IRQ reaches the PIC
    out(FCR, 0x01);
    out(IER, 0x02);
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_THRE);
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_NONE); // cleared by the read
    expect(irq.level).toBe(false);
    out(IER, 0);
    out(IER, 0x02);
    expect(inb(IIR) & 0x0f).toBe(IIR_THRE); // reasserted: a real 16550 has no THRE bug
    const rises = irq.rises;
    out(THR, 0x31);
    out(THR, 0x32);
    expect(irq.rises - rises).toBe(2); // each byte leaves at once and raises THRE anew
  });
});

describe('16550A receive path', () => {
  it('keeps all console input, in order, however much arrives at once', () => {
    const { out, inb, uart } = setup();
    grubInit(out);
    const text = 'x'.repeat(50) + 'the quick brown fox jumps over the lazy dog';
    uart.receive(new TextEncoder().encode(text));
    expect(uart.pendingInput()).toBe(text.length);
    let got = '';
    while (inb(LSR) & LSR_DR) got += String.fromCharCode(inb(RBR));
    expect(got).toBe(text);
    expect(inb(LSR) & LSR_OE).toBe(0);
  });

  it('interrupts at the FIFO trigger level, and below it after four character times', () => {
    const { clock, out, inb, uart, irq } = setup();
    out(LCR, 0x80); out(DLL, 12); out(DLM, 0); out(LCR, 0x03); // 9600 8N1: 1.0417 ms a character
    out(FCR, 0x81); // FIFO on, trigger 8
    out(MCR, 0x08);
    out(IER, 0x01);
    uart.receive([1, 2, 3, 4, 5]);
    expect(irq.level).toBe(false);
    const deadline = uart.tick(clock.ns);
    expect(deadline - clock.ns).toBeCloseTo(4 * 10 * 1e9 / 9600, 0);
    clock.ns = deadline - 1;
    uart.tick(clock.ns);
    expect(irq.level).toBe(false);
    clock.ns = deadline;
    expect(uart.tick(clock.ns)).toBe(Infinity);
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_TIMEOUT);
    inb(RBR); // a read clears the timeout indication
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_NONE);
    uart.receive([6, 7, 8, 9]);
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_RDA); // 8 bytes: trigger level reached
  });

  it('interrupts on every byte with the FIFO off (16450 mode) and shows no FIFO bits', () => {
    const { out, inb, uart } = setup();
    out(MCR, 0x08);
    out(IER, 0x01);
    uart.receive([0x61, 0x62]);
    expect(inb(IIR)).toBe(IIR_RDA);
    expect(inb(RBR)).toBe(0x61);
    expect(inb(IIR)).toBe(IIR_RDA); // the second byte moved in from the queue
    expect(inb(RBR)).toBe(0x62);
    expect(inb(IIR)).toBe(IIR_NONE);
  });

  it('gates its IRQ with OUT2 and keeps it off in loopback, as wired on a PC', () => {
    const { out, uart, irq } = setup();
    out(IER, 0x01);
    uart.receive([0x7a]);
    expect(irq.level).toBe(false);
    out(MCR, 0x08);
    expect(irq.level).toBe(true);
    out(MCR, 0x18);
    expect(irq.level).toBe(false);
  });
});

describe('16550A loopback and modem status', () => {
  it('loops transmitted bytes back, holding host input until loopback ends', () => {
    const { out, inb, uart, sent } = setup();
    out(FCR, 0x01);
    out(MCR, 0x10);
    uart.receive([0x55]);
    out(THR, 0xaa);
    expect(sent).toEqual([]);
    expect(inb(RBR)).toBe(0xaa);
    expect(inb(LSR) & LSR_DR).toBe(0);
    out(MCR, 0x00);
    expect(inb(RBR)).toBe(0x55);
  });

  it('reports an overrun when loopback overfills the FIFO, with the line status interrupt first', () => {
    const { out, inb } = setup();
    out(FCR, 0x01);
    out(MCR, 0x10);
    out(IER, 0x0f);
    for (let i = 0; i < 17; i++) out(THR, i);
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_RLS);
    expect(inb(LSR) & LSR_OE).toBe(LSR_OE);
    expect(inb(LSR) & LSR_OE).toBe(0); // cleared by reading LSR
    expect(inb(IIR)).toBe(IIR_FIFO | IIR_RDA);
    const got: number[] = [];
    while (inb(LSR) & LSR_DR) got.push(inb(RBR));
    expect(got).toEqual([...Array(16).keys()]); // the FIFO kept its first 16 bytes
  });

  it('sets MSR delta bits when the looped-back lines change and clears them on read', () => {
    const { out, inb } = setup();
    expect(inb(MSR)).toBe(0xb0); // host side: DCD, DSR, CTS, no delta
    out(MCR, 0x10 | 0x04); // loopback with OUT1 -> RI
    expect(inb(MSR)).toBe(0x40 | 0x0b); // RI on; CTS, DSR, DCD dropped
    expect(inb(MSR)).toBe(0x40);
    out(MCR, 0x10 | 0x01); // DTR on, OUT1 off
    expect(inb(MSR)).toBe(0x20 | 0x02 | 0x04); // DSR with its delta, ring trailing edge
  });

  it('raises the modem status interrupt last in priority', () => {
    const { out, inb } = setup();
    out(IER, 0x08);
    out(MCR, 0x11);
    expect(inb(IIR) & 0x0f).toBe(0x00);
    inb(MSR);
    expect(inb(IIR) & 0x0f).toBe(IIR_NONE);
  });
});

describe('16550A divisor latch and save/restore', () => {
  it('reads back the divisor through DLAB', () => {
    const { out, inb } = setup();
    out(LCR, 0x80);
    expect(inb(DLL) | (inb(DLM) << 8)).toBe(12); // reset value: 9600 baud
    out(DLL, 0x80);
    out(DLM, 0x01);
    expect(inb(DLL) | (inb(DLM) << 8)).toBe(0x180);
    out(LCR, 0x03);
    expect(inb(IER)).toBe(0);
  });

  it('round-trips registers, FIFO, queued input and a running timeout', () => {
    const a = setup();
    grubInit(a.out);
    a.out(IER, 0x05);
    a.out(SCR, 0x42);
    a.uart.receive(new TextEncoder().encode('hello, world: more than sixteen bytes'));
    a.inb(RBR);
    a.clock.advance(10_000);
    const saved = JSON.parse(JSON.stringify(a.uart.saveState()));

    const b = setup();
    b.clock.advanceMs(5);
    b.uart.loadState(saved);
    expect(b.uart.saveState()).toEqual(saved);
    expect(b.inb(SCR)).toBe(0x42);
    expect(b.irq.level).toBe(a.irq.level);
    let rest = '';
    while (b.inb(LSR) & LSR_DR) rest += String.fromCharCode(b.inb(RBR));
    expect(rest).toBe('ello, world: more than sixteen bytes');
  });
});
