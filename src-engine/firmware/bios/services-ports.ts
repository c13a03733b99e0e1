/**
 * INT 14h serial port services over the 16550 UARTs the BDA lists (0x400-0x407), and INT 17h,
 * which answers "time-out" because the platform has no parallel port.
 *
 * The BIOS never waits inside a call: "send" writes the transmit register at once (the UART
 * queues it) and "receive" returns time-out (AH bit 7) when nothing has arrived.
 *
 * References: RBIL INT 14h/17h; National Semiconductor PC16550D datasheet (divisor latch, LCR,
 * LSR, MSR).
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import { BDA, BDA_BASE } from './layout';

/** UART register offsets. */
const THR = 0;
const DLL = 0;
const DLM = 1;
const LCR = 3;
const LSR = 5;
const MSR = 6;
/** LCR divisor latch access bit. */
const LCR_DLAB = 0x80;
/** LSR bits kept in AH for receive: overrun, parity, framing errors, break. */
const LSR_ERRORS = 0x1e;
const LSR_DATA_READY = 0x01;
/** AH bit 7: time-out. */
const TIMEOUT = 0x80;
/** Baud rates of INT 14h AH=00h, by AL bits 7-5. */
const BAUD = [110, 150, 300, 600, 1200, 2400, 4800, 9600];
/** UART input clock / 16. */
const UART_BASE_BAUD = 115200;
/** COM ports the BDA can list. */
const MAX_COM = 4;
/** INT 17h status: time-out (bit 0) with the printer "not busy" bit clear. */
const PRINTER_TIMEOUT = 0x01;

function comBase(c: BiosCall, bios: BiosContext): number {
  if (c.dx >= MAX_COM) return 0;
  return bios.host.memory.readU16(BDA_BASE + BDA.comBases + 2 * c.dx);
}

function withPort(run: (c: BiosCall, bios: BiosContext, base: number) => void) {
  return (c: BiosCall, bios: BiosContext): void => {
    const base = comBase(c, bios);
    if (base === 0) {
      c.ah = TIMEOUT;
      return;
    }
    run(c, bios, base);
  };
}

function status(c: BiosCall, bios: BiosContext, base: number): void {
  c.ah = bios.host.ioRead(base + LSR, 1);
  c.al = bios.host.ioRead(base + MSR, 1);
}

/** INT 14h and 17h catalogue. */
export const PORT_SERVICES: readonly BiosService[] = [
  {
    vector: 0x14, ah: 0x00, name: 'initialize serial port', status: 'supported', contract: 'DX=port (0-3), AL=baud (bits 7-5) | parity (4-3) | stop bits (2) | length (1-0) -> AH=line status, AL=modem status. Unlisted ports: AH=80h.',
    run: withPort((c, bios, base) => {
      const io = bios.host;
      const divisor = Math.floor(UART_BASE_BAUD / BAUD[c.al >> 5]);
      io.ioWrite(base + LCR, 1, LCR_DLAB);
      io.ioWrite(base + DLL, 1, divisor & 0xff);
      io.ioWrite(base + DLM, 1, divisor >> 8);
      io.ioWrite(base + LCR, 1, c.al & 0x1f);
      status(c, bios, base);
    }),
  },
  {
    vector: 0x14, ah: 0x01, name: 'send character', status: 'partial', contract: 'DX=port, AL=char -> AH=line status (sent at once; no waiting for the transmitter).',
    run: withPort((c, bios, base) => {
      bios.host.ioWrite(base + THR, 1, c.al);
      c.ah = bios.host.ioRead(base + LSR, 1) & ~TIMEOUT;
    }),
  },
  {
    vector: 0x14, ah: 0x02, name: 'receive character', status: 'partial', contract: 'DX=port -> AL=char, AH=error bits; nothing received: AH=80h (no waiting).',
    run: withPort((c, bios, base) => {
      const lsr = bios.host.ioRead(base + LSR, 1);
      if ((lsr & LSR_DATA_READY) === 0) {
        c.ah = TIMEOUT;
        return;
      }
      c.al = bios.host.ioRead(base + THR, 1);
      c.ah = lsr & LSR_ERRORS;
    }),
  },
  { vector: 0x14, ah: 0x03, name: 'get serial port status', status: 'supported', contract: 'DX=port -> AH=line status, AL=modem status.', run: withPort(status) },
  { vector: 0x17, name: 'printer services', status: 'not-yet', contract: 'No parallel port: AH=01h (time-out) for every function.', run: (c) => void (c.ah = PRINTER_TIMEOUT) },
];

/** INT 14h functions it does not have leave the registers alone. */
export function portsUnsupported(): void {}
