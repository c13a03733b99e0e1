// Virtual-8086 mode scenarios (fragments in fixtures/v86.asm): entry by IRETD, real-mode style
// segments, IOPL-sensitive instructions trapping to the ring-0 monitor, the TSS I/O bitmap, the
// 64 KiB limit, privileged instructions, and the interrupt frame with the data segments.
import { describe, expect, it } from 'vitest';
import { descriptor, peek32, poke32, setGdt, SEL_TSS, TSS_BASE } from '../../support/cpu-scenario';
import type { CpuHarness } from '../../support/cpu-harness';
import { bothModes, u } from './scenario-helpers';

const EXC_GP = 13;
const VM = 0x20000;
const IF = 0x200;
const IOPL3 = 0x3000;
const V86_BASE = 0x10000;

/** The ring-0 stack frame an exception from virtual-8086 mode left (after any error code). */
function frame(h: CpuHarness, esp: number, hasError: boolean): number[] {
  const at = esp + (hasError ? 4 : 0);
  const f: number[] = [];
  for (let k = 0; k < 9; k++) f.push(peek32(h, at + 4 * k));
  return f;
}

describe('virtual-8086 mode', () => {
  it('IRETD with VM enters it: real-mode segments, IOPL 3 CLI/STI/PUSHF, INT n to ring 0 with the full frame', () => {
    bothModes('v86/enter_iopl3', {}, (r) => {
      expect(r.regs.eax & 0xffff).toBe(0x1000);
      expect(r.regs.ebx & 0xffff).toBe(0x2000);
      expect(u(r.h, 0x20100, 2)).toBe(0x1234);
      expect(r.regs.ecx & 0xffff).toBe(0xfff0);
      expect(r.regs.edx & (IF | IOPL3)).toBe(IF | IOPL3);
      expect(r.regs.esi).toBe(0x12345678);
      expect(r.exception).toBe(0x30);
      const [eip, cs, fl, esp, ss, es, ds, fs, gs] = frame(r.h, r.regs.esp, false);
      expect(eip).toBe(r.sym.after_int - V86_BASE);
      expect(cs).toBe(0x1000);
      expect(fl & (VM | IOPL3)).toBe(VM | IOPL3);
      expect([esp, ss, es, ds, fs, gs]).toEqual([0xfff0, 0x3000, 0x1000, 0x2000, 0x1000, 0x1000]);
      // In the monitor: ring 0, VM clear, the data segments null.
      expect(r.h.cpu.cpl).toBe(0);
      expect(r.regs.eflags & VM).toBe(0);
      expect([r.regs.ds, r.regs.es, r.regs.fs, r.regs.gs]).toEqual([0, 0, 0, 0]);
    });
  });

  it('with IOPL < 3, CLI traps to the monitor as #GP(0) at the instruction', () => {
    bothModes('v86/iopl0_traps', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(peek32(r.h, r.regs.esp)).toBe(0);
      const [eip, cs, fl] = frame(r.h, r.regs.esp, true);
      expect(eip).toBe(r.sym.fault - V86_BASE);
      expect(cs).toBe(0x1000);
      expect(fl & VM).toBe(VM);
    });
  });

  it('with IOPL < 3, INT n is #GP(0)', () => {
    bothModes('v86/int_iopl0', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(peek32(r.h, r.regs.esp)).toBe(0);
    });
  });

  it('port I/O follows the TSS I/O bitmap whatever IOPL is', () => {
    const setup = (h: CpuHarness) => {
      // TSS limit covers 32 bitmap bytes (ports 0-255) plus the terminating byte.
      setGdt(h, SEL_TSS, descriptor(TSS_BASE, 0x68 + 32, 0x89, 0));
      for (let k = 0; k < 33; k++) h.writePhys(TSS_BASE + 0x68 + k, Uint8Array.of(0xff));
      h.writePhys(TSS_BASE + 0x68 + (0x80 >> 3), Uint8Array.of(0xfe));
      poke32(h, TSS_BASE + 0x64, 0x00680000);
    };
    bothModes('v86/io_bitmap', { setup }, (r) => {
      expect(r.regs.ebx & 0xffff).toBe(1);
      expect(r.exception).toBe(EXC_GP);
      expect(frame(r.h, r.regs.esp, true)[0]).toBe(r.sym.fault - V86_BASE);
    });
  });

  it('offsets beyond 64 KiB are #GP(0)', () => {
    bothModes('v86/high_offset', {}, (r) => expect(r.exception).toBe(EXC_GP));
  });

  it('privileged instructions are #GP(0) even with IOPL 3', () => {
    bothModes('v86/privileged', {}, (r) => expect(r.exception).toBe(EXC_GP));
  });
});
