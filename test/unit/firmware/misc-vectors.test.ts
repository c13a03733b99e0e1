import { beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall, runCode } from './rig';

let m: HvmMachine;
beforeEach(() => {
  m = createHvmMachine({ memoryMiB: 16 });
});

describe('INT 14h serial services', () => {
  it('AH=00h programs the divisor and line control of COM1 and returns line/modem status', () => {
    const r = biosCall(m, 0x14, { eax: 0x00e3, edx: 0 }); // 9600 baud, no parity, 1 stop bit, 8 bits
    expect(r.ah & 0x60).toBe(0x60); // transmitter empty
    const bus = m.platform.bus;
    bus.write(0x3fb, 1, 0x83);
    expect(bus.read(0x3f8, 1) | (bus.read(0x3f9, 1) << 8)).toBe(12);
    bus.write(0x3fb, 1, 0x03);
    expect(bus.read(0x3fb, 1)).toBe(0x03);
  });

  it('AH=01h sends a character on COM1; AH=02h receives one or times out; AH=03h reports status', () => {
    biosCall(m, 0x14, { eax: 0x00e3, edx: 0 });
    biosCall(m, 0x14, { eax: 0x0148, edx: 0 });
    biosCall(m, 0x14, { eax: 0x0169, edx: 0 });
    m.run({ maxMs: 50, until: () => m.serial().endsWith('Hi') });
    expect(m.serial()).toContain('Hi');
    expect(biosCall(m, 0x14, { eax: 0x0200, edx: 0 }).ah).toBe(0x80);
    m.type('Q');
    expect(biosCall(m, 0x14, { eax: 0x0200, edx: 0 })).toMatchObject({ ah: 0, al: 0x51 });
    expect(biosCall(m, 0x14, { eax: 0x0300, edx: 0 }).ah & 0x20).toBe(0x20);
  });

  it('ports the BDA does not list time out (AH=80h)', () => {
    expect(biosCall(m, 0x14, { eax: 0x0141, edx: 1 }).ah).toBe(0x80);
    expect(biosCall(m, 0x14, { eax: 0x0300, edx: 7 }).ah).toBe(0x80);
  });
});

describe('other vectors', () => {
  it('INT 17h reports a printer time-out: there is no parallel port', () => {
    expect(biosCall(m, 0x17, { eax: 0x0200, edx: 0 }).ah).toBe(0x01);
  });

  it('unused vectors return at once with registers and flags unchanged', () => {
    for (const v of [0x1c, 0x05, 0x4a, 0x0b, 0x75]) {
      const r = biosCall(m, v, { eax: 0x1234, ebx: 0x5678, flags: 0x0003 });
      expect(r, `INT ${v.toString(16)}h`).toMatchObject({ ax: 0x1234, bx: 0x5678, cf: true, stop: 'halted' });
    }
    expect(m.memory.readU32(0x60 * 4)).toBe(0);
  });

  it('an OUT to the trap port from outside the BIOS ROM does nothing, and the port reads FFh', () => {
    // mov ax, 0x1234 ; out 0xE0, al ; in al, 0xE0 ; cli ; hlt
    let calls = 0;
    m.bios.trace = () => void calls++;
    const r = runCode(m, Uint8Array.of(0xb8, 0x34, 0x12, 0xe6, 0xe0, 0xe4, 0xe0, 0xfa, 0xf4));
    expect(r.stop).toBe('halted');
    expect(calls).toBe(0);
    expect(r.ax).toBe(0x12ff);
  });
});
