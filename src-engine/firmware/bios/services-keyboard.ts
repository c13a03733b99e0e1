/**
 * INT 16h keyboard services over the BDA keyboard buffer, and the IRQ1 (INT 09h) handler that
 * fills it from the 8042. Keys also come from the serial console: before answering, INT 16h
 * drains the first COM port's receiver into the buffer (keyboard-buffer.ts).
 *
 * A blocking read (AH=00h/10h) with an empty buffer does not block the BIOS: the ROM stub halts
 * until the next interrupt (the 18.2 Hz timer, or the keyboard) and calls again, or polls at once
 * when the timer interrupt is masked.
 *
 * References: RBIL INT 16h; IBM PC/AT Technical Reference (INT 09h, port 0x60).
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import { BDA, BDA_BASE } from './layout';

/** INT 16h. */
const V = 0x16;
/** 8042 data port (the scan code the IRQ1 handler reads). */
const KBC_DATA = 0x60;
/** UART registers: receiver buffer (offset 0) and line status (offset 5) with its data-ready bit. */
const UART_RBR = 0;
const UART_LSR = 5;
const LSR_DATA_READY = 0x01;
/** At most this many bytes are taken from the UART per call (an escape sequence is < 8). */
const MAX_SERIAL_BYTES = 16;
/** Master PIC mask register and the timer's bit in it. */
const PIC_MASTER_DATA = 0x21;
const IRQ0_BIT = 0x01;
/** Keyboard ID of an MF2 keyboard (AH=0Ah). */
const MF2_KEYBOARD_ID = 0x41ab;
/** AH=09h: functions 0Ah, 10h-12h, typematic and key click present. */
const CAPABILITIES = 0x20 | 0x40 | 0x08 | 0x04;
/** Extended-key ASCII 0xE0 that AH=00h/01h report as 0. */
const EXTENDED_ASCII = 0xe0;

/** Moves bytes waiting in the first COM port's receiver into the keyboard buffer. */
export function pollSerialKeyboard(bios: BiosContext): void {
  if (bios.config.serialKeyboard === false) return;
  const base = bios.host.memory.readU16(BDA_BASE + BDA.comBases);
  if (base === 0 || bios.keyboard.backlogged) return;
  const bytes: number[] = [];
  const ready = () => {
    const lsr = bios.host.ioRead(base + UART_LSR, 1);
    return (lsr & LSR_DATA_READY) !== 0 && lsr !== 0xff;
  };
  while (bytes.length < MAX_SERIAL_BYTES && ready()) bytes.push(bios.host.ioRead(base + UART_RBR, 1));
  if (bytes.length > 0) bios.keyboard.feedTerminal(bytes, ready());
}

function timerRunning(bios: BiosContext): boolean {
  return (bios.host.ioRead(PIC_MASTER_DATA, 1) & IRQ0_BIT) === 0;
}

function plain(key: number, extended: boolean): number {
  return !extended && (key & 0xff) === EXTENDED_ASCII ? key & 0xff00 : key;
}

function readKey(c: BiosCall, bios: BiosContext, extended: boolean): void {
  pollSerialKeyboard(bios);
  const key = bios.keyboard.take();
  if (key === undefined) {
    c.setStubFlags(true, timerRunning(bios));
    return;
  }
  c.ax = plain(key, extended);
}

function peekKey(c: BiosCall, bios: BiosContext, extended: boolean): void {
  pollSerialKeyboard(bios);
  const key = bios.keyboard.peek();
  c.zero = key === undefined;
  if (key !== undefined) c.ax = plain(key, extended);
}

/** INT 16h catalogue (and the IRQ1 handler). */
export const KEYBOARD_SERVICES: readonly BiosService[] = [
  { vector: V, ah: 0x00, name: 'read key', status: 'supported', contract: 'Waits for a key -> AH=scan code, AL=ASCII (extended keys AL=0).', run: (c, b) => readKey(c, b, false) },
  { vector: V, ah: 0x01, name: 'check for key', status: 'supported', contract: 'ZF=1: no key. ZF=0: AX=next key (left in the buffer).', run: (c, b) => peekKey(c, b, false) },
  { vector: V, ah: 0x02, name: 'get shift flags', status: 'supported', contract: '-> AL=shift flags (BDA 0x417).', run: (c, b) => void (c.al = b.keyboard.shiftFlags()) },
  { vector: V, ah: 0x03, name: 'set typematic rate', status: 'supported', contract: 'Accepted; no effect on console input.', run: () => {} },
  { vector: V, ah: 0x05, name: 'store key in buffer', status: 'supported', contract: 'CH=scan code, CL=ASCII -> AL=0 stored, AL=1 buffer full.', run: (c, b) => void (c.al = b.keyboard.push(c.cx) ? 0 : 1) },
  { vector: V, ah: 0x09, name: 'get keyboard functionality', status: 'supported', contract: '-> AL=capability bits (0Ah, 10h-12h, typematic).', run: (c) => void (c.al = CAPABILITIES) },
  { vector: V, ah: 0x0a, name: 'get keyboard ID', status: 'supported', contract: '-> BX=41ABh (MF2 keyboard).', run: (c) => void (c.bx = MF2_KEYBOARD_ID) },
  { vector: V, ah: 0x10, name: 'read extended key', status: 'supported', contract: 'As AH=00h, keeping E0h in AL for extended keys.', run: (c, b) => readKey(c, b, true) },
  { vector: V, ah: 0x11, name: 'check for extended key', status: 'supported', contract: 'As AH=01h for AH=10h keys.', run: (c, b) => peekKey(c, b, true) },
  { vector: V, ah: 0x12, name: 'get extended shift flags', status: 'partial', contract: '-> AL=shift flags, AH=0 (left/right modifiers not separated).', run: (c, b) => { c.al = b.keyboard.shiftFlags(); c.ah = 0; } },
  {
    vector: 0x09, name: 'keyboard interrupt (IRQ1)', status: 'partial', contract: 'Reads the scan code at port 60h into the buffer (US layout; Shift, Ctrl, Caps Lock; Alt and Num Lock ignored); the ROM stub sends the EOI.',
    run: (_c, b) => b.keyboard.feedScancode(b.host.ioRead(KBC_DATA, 1)),
  },
];
