import { beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall } from './rig';
import { KEY, TerminalKeyDecoder, asciiKey, scancodeKey } from '../../../src-engine/firmware/bios/keyboard-buffer';
import { EAX } from '../../../src-engine/cpu/state';

let m: HvmMachine;
beforeEach(() => {
  m = createHvmMachine({ memoryMiB: 16 });
});

/** Reads every key waiting (AH=01h/00h pairs). */
function drain(): number[] {
  const keys: number[] = [];
  for (;;) {
    const peek = biosCall(m, 0x16, { eax: 0x0100 });
    if (peek.zf) return keys;
    const got = biosCall(m, 0x16, { eax: 0x0000 });
    expect(got.ax).toBe(peek.ax);
    keys.push(got.ax);
  }
}

describe('INT 16h from the serial console', () => {
  it('AH=01h reports ZF=1 without a key; a typed key is seen by AH=01h (kept) and AH=00h (taken)', () => {
    expect(biosCall(m, 0x16, { eax: 0x0100 }).zf).toBe(true);
    m.type('a');
    const peek = biosCall(m, 0x16, { eax: 0x0100 });
    expect(peek).toMatchObject({ zf: false, ax: 0x1e61 });
    expect(biosCall(m, 0x16, { eax: 0x0100 }).ax).toBe(0x1e61);
    expect(biosCall(m, 0x16, { eax: 0x0000 }).ax).toBe(0x1e61);
    expect(biosCall(m, 0x16, { eax: 0x0100 }).zf).toBe(true);
  });

  it('terminal escape sequences become PC keys; Enter, Backspace/DEL, Tab, Esc and Ctrl keys map to their codes', () => {
    m.type('A\r\x7f\t\x03\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1b[5~\x1b[6~\x1b[2~\x1b[3~\x1bOP\x1b[24~\x1b');
    expect(drain()).toEqual([
      0x1e41, 0x1c0d, 0x0e08, 0x0f09, 0x2e03,
      KEY.up, KEY.down, KEY.right, KEY.left, KEY.home, KEY.end, KEY.pageUp, KEY.pageDown, KEY.insert, KEY.delete,
      KEY.f1, KEY.f12, 0x011b,
    ]);
  });

  it('AH=00h with no key waits: the VCPU halts between timer ticks, then returns the key typed meanwhile', () => {
    let traps = 0;
    m.bios.trace = (e) => void (e.vector === 0x16 && traps++);
    const first = biosCall(m, 0x16, { eax: 0x0000 }, 200);
    expect(first.stop).toBe('timeout');
    expect(traps).toBeGreaterThan(0);
    expect(traps).toBeLessThan(20); // halting until IRQ0 (18.2 Hz), not spinning
    m.type('z');
    expect(m.run({ maxMs: 2000 })).toBe('halted');
    expect(m.cpu.s[EAX] & 0xffff).toBe(0x2c7a);
  });

  it('AH=05h stores keys until the 15-entry buffer is full (AL=1); AH=10h keeps E0h, AH=00h clears it', () => {
    for (let i = 0; i < 15; i++) expect(biosCall(m, 0x16, { eax: 0x0500, ecx: 0x1e61 + i }).al, `key ${i}`).toBe(0);
    expect(biosCall(m, 0x16, { eax: 0x0500, ecx: 0x1111 }).al).toBe(1);
    expect(drain()).toHaveLength(15);
    biosCall(m, 0x16, { eax: 0x0500, ecx: 0x48e0 });
    biosCall(m, 0x16, { eax: 0x0500, ecx: 0x48e0 });
    expect(biosCall(m, 0x16, { eax: 0x1100 }).ax).toBe(0x48e0);
    expect(biosCall(m, 0x16, { eax: 0x1000 }).ax).toBe(0x48e0);
    expect(biosCall(m, 0x16, { eax: 0x0000 }).ax).toBe(0x4800);
  });

  it('AH=09h, 0Ah, 02h, 03h answer capabilities, the MF2 keyboard ID, shift flags; unknown functions change nothing', () => {
    expect(biosCall(m, 0x16, { eax: 0x0900 }).al).toBe(0x6c);
    expect(biosCall(m, 0x16, { eax: 0x0a00 }).bx).toBe(0x41ab);
    expect(biosCall(m, 0x16, { eax: 0x0200 }).al).toBe(0);
    expect(biosCall(m, 0x16, { eax: 0x0305, ebx: 0x0101 }).ax).toBe(0x0305);
    expect(biosCall(m, 0x16, { eax: 0x5500, ebx: 0x1234 })).toMatchObject({ ax: 0x5500, bx: 0x1234 });
  });
});

describe('IRQ1 (INT 09h) from the 8042', () => {
  it('scan codes from the PS/2 keyboard reach the buffer with Shift applied, and the shift flags follow', () => {
    m.platform.kbc.injectScancodes([0x2a]);
    expect(biosCall(m, 0x16, { eax: 0x0200, flags: 0x0202 }).al & 0x02).toBe(0x02);
    m.platform.kbc.injectScancodes([0x1e, 0x9e, 0xaa, 0x30, 0xb0]);
    biosCall(m, 0x16, { eax: 0x0100, flags: 0x0202 });
    expect(drain()).toEqual([0x1e41, 0x3062]);
    expect(biosCall(m, 0x16, { eax: 0x0200 }).al & 0x03).toBe(0);
  });

  it('maps set 1 codes with Ctrl and Caps Lock, and extended keys to scan-only codes', () => {
    expect(scancodeKey(0x1e, 0)).toBe(0x1e61);
    expect(scancodeKey(0x1e, 0x40)).toBe(0x1e41);
    expect(scancodeKey(0x1e, 0x04)).toBe(0x1e01);
    expect(scancodeKey(0x02, 0x02)).toBe(0x0221);
    expect(scancodeKey(0x48, 0, true)).toBe(0x4800);
    expect(scancodeKey(0x3b, 0)).toBe(0x3b00);
  });
});

describe('terminal key decoding', () => {
  it('keeps an escape sequence split across inputs and treats a lone ESC as the Escape key', () => {
    const d = new TerminalKeyDecoder();
    expect(d.feed([0x1b, 0x5b])).toEqual([]);
    expect(d.feed([0x31, 0x35])).toEqual([]);
    expect(d.feed([0x7e, 0x61])).toEqual([KEY.f5, 0x1e61]);
    expect(d.feed([0x1b])).toEqual([0x011b]);
    expect(d.feed([0x1b, 0x5b, 0x39, 0x39, 0x7e])).toEqual([]);
    expect(d.feed([0x1b, 0x78])).toEqual([0x011b, 0x2d78]);
    expect(asciiKey(0x0a)).toBe(0x1c0d);
    expect(asciiKey(0x20)).toBe(0x3920);
  });
});
