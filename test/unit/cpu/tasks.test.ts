// Hardware task switching scenarios (fragments in fixtures/tasks.asm): JMP and CALL to a TSS
// with busy bits, NT and the back link, IRET back to the caller, a double fault through an IDT
// task gate (as Linux i386 handles #DF), a 16-bit (286) TSS, a busy-TSS #GP and a task that
// starts in virtual-8086 mode.
import { describe, expect, it } from 'vitest';
import {
  descriptor, fragment, gate, IDT_BASE, peek32, poke32, setGdt, SEL_CODE32, SEL_DATA16, SEL_DATA32,
  SEL_TSS,
} from '../../support/cpu-scenario';
import type { CpuHarness } from '../../support/cpu-harness';
import { bothModes, u } from './scenario-helpers';

const EXC_GP = 13;
const NT = 0x4000;
const VM = 0x20000;
const CR0_TS = 8;
const TSS2 = 0x1900;
const TSS_DF = 0x1a00;
const TSS16 = 0x1b00;
const SEL_TSS2 = 0x40;
const SEL_TSS_DF = 0x48;
const SEL_TSS16 = 0x50;
const SEL_CODE16_AT_FRAGMENT = 0x58;
const AVAILABLE_386 = 0x89;
const BUSY_386 = 0x8b;

/** Writes a 32-bit TSS image. */
function tss32(h: CpuHarness, at: number, regs: { eip: number; eflags: number; esp: number; cs: number; ds: number; esp0?: number }): void {
  h.writePhys(at, new Uint8Array(0x68));
  poke32(h, at + 0x04, regs.esp0 ?? 0);
  poke32(h, at + 0x08, SEL_DATA32);
  poke32(h, at + 0x20, regs.eip);
  poke32(h, at + 0x24, regs.eflags);
  poke32(h, at + 0x38, regs.esp);
  poke32(h, at + 0x4c, regs.cs);
  for (const off of [0x48, 0x50, 0x54, 0x58, 0x5c]) poke32(h, at + off, regs.ds);
  poke32(h, at + 0x64, 0x00680000);
}

function task2Setup(key: string, label = 'task2'): (h: CpuHarness) => void {
  const eip = fragment(key).symbols[label];
  return (h) => {
    tss32(h, TSS2, { eip, eflags: 2, esp: 0x60000, cs: SEL_CODE32, ds: SEL_DATA32 });
    setGdt(h, SEL_TSS2, descriptor(TSS2, 0x67, AVAILABLE_386, 0));
  };
}

describe('hardware task switching', () => {
  it('JMP to a TSS saves the old task, frees its busy bit, marks the new busy, sets CR0.TS; no NT, no link', () => {
    bothModes('tasks/jmp_tss', { setup: task2Setup('tasks/jmp_tss') }, (r) => {
      expect(r.regs.eax & 0xffff).toBe(SEL_TSS2);
      expect(r.regs.ebx).toBe(r.sym.back);
      expect(r.regs.ecx).toBe(0x11111111);
      expect(r.regs.edx).toBe(AVAILABLE_386);
      expect(r.regs.edi).toBe(BUSY_386);
      expect(r.regs.esi & NT).toBe(0);
      expect(r.regs.cr0 & CR0_TS).toBe(CR0_TS);
      expect(r.regs.esp).toBe(0x60000);
    });
  });

  it('CALL nests (NT, back link, both busy) and IRET returns to the caller, freeing the callee', () => {
    bothModes('tasks/call_iret', { setup: task2Setup('tasks/call_iret') }, (r) => {
      expect(u(r.h, r.sym.res) & NT).toBe(NT);
      expect(u(r.h, r.sym.res + 4)).toBe(SEL_TSS);
      expect(u(r.h, r.sym.res + 8)).toBe(BUSY_386);
      expect(r.regs.eax & 0xffff).toBe(SEL_TSS);
      expect(r.regs.ecx).toBe(AVAILABLE_386);
      expect(r.regs.esi & NT).toBe(0);
      expect(r.regs.eip).toBe(r.sym.done + 1);
    });
  });

  it('#DF through an IDT task gate: the new task gets error code 0 on its stack, NT and the back link', () => {
    const key = 'tasks/df_task_gate';
    const setup = (h: CpuHarness) => {
      tss32(h, TSS_DF, { eip: fragment(key).symbols.dftask, eflags: 2, esp: 0x61000, cs: SEL_CODE32, ds: SEL_DATA32 });
      setGdt(h, SEL_TSS_DF, descriptor(TSS_DF, 0x67, AVAILABLE_386, 0));
      h.writePhys(IDT_BASE + 8 * 8, gate(SEL_TSS_DF, 0, 0x5, 0));
      h.writePhys(IDT_BASE + 13 * 8 + 5, Uint8Array.of(0x0e));
    };
    bothModes(key, { setup }, (r) => {
      expect(r.regs.eax).toBe(0);
      expect(r.regs.edi).toBe(0x61000 - 4);
      expect(r.regs.ebx & 0xffff).toBe(SEL_TSS_DF);
      expect(r.regs.ecx & NT).toBe(NT);
      expect(r.regs.edx).toBe(SEL_TSS);
      expect(r.regs.esi).toBe(r.sym.fault);
    });
  });

  it('a 16-bit TSS loads the low halves of the registers; the upper halves keep their values (QEMU 7.2)', () => {
    const key = 'tasks/tss16';
    const setup = (h: CpuHarness) => {
      h.writePhys(TSS16, new Uint8Array(0x2c));
      const w16 = (off: number, v: number) => h.writePhys(TSS16 + off, Uint8Array.of(v & 0xff, v >> 8));
      // A 16-bit code segment based at the fragment, so that IP fits 16 bits.
      setGdt(h, SEL_CODE16_AT_FRAGMENT, descriptor(0x10000, 0xffff, 0x9b, 0));
      w16(0x0e, fragment(key).symbols.t16 - 0x10000);
      w16(0x10, 2);
      w16(0x12, 0x1111);
      w16(0x1a, 0x6000);
      w16(0x22, SEL_DATA16);
      w16(0x24, SEL_CODE16_AT_FRAGMENT);
      w16(0x26, SEL_DATA16);
      w16(0x28, SEL_DATA16);
      setGdt(h, SEL_TSS16, descriptor(TSS16, 0x2b, 0x81, 0));
    };
    bothModes(key, { setup }, (r) => {
      expect(r.regs.ecx).toBe(0xaaaa1111);
      expect(r.regs.edx & 0xffff).toBe(0x6000);
      expect(r.regs.cs).toBe(SEL_CODE16_AT_FRAGMENT);
      // The old (32-bit) task saved its EAX.
      expect(peek32(r.h, 0x1800 + 0x28)).toBe(0xaaaaaaaa);
    });
  });

  it('JMP to a busy TSS is #GP(selector)', () => {
    bothModes('tasks/busy_tss', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(peek32(r.h, r.regs.esp)).toBe(SEL_TSS);
    });
  });

  it('a task whose EFLAGS has VM starts in virtual-8086 mode and traps to ring 0 on its ESP0', () => {
    const key = 'tasks/v86_task';
    const setup = (h: CpuHarness) => {
      tss32(h, TSS2, { eip: fragment(key).symbols.v86code - 0x10000, eflags: 0x20002, esp: 0xfff0, cs: 0x1000, ds: 0x1000, esp0: 0x9e000 });
      poke32(h, TSS2 + 0x50, 0x3000);
      setGdt(h, SEL_TSS2, descriptor(TSS2, 0x67, AVAILABLE_386, 0));
    };
    bothModes(key, { setup }, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(r.regs.eax & 0xffff).toBe(0x1000);
      expect(r.regs.ebx & 0xffff).toBe(0x3000);
      expect(r.regs.esp).toBe(0x9e000 - 40);
      expect(peek32(r.h, r.regs.esp + 4)).toBe(r.sym.fault - 0x10000);
      expect(peek32(r.h, r.regs.esp + 12) & VM).toBe(VM);
    });
  });
});
