// Protected-mode control transfers (fragments in fixtures/protected.asm): a 386 call gate from
// ring 3 to ring 0 copying parameters to the inner stack and RETF n popping both stacks, 286 call
// and interrupt gates pushing 16-bit frames with 16-bit offsets, and conforming code that runs
// at the caller's privilege.
import { describe, expect, it } from 'vitest';
import { descriptor, fragment, gate, IDT_BASE, RING0_STACK, setGdt, SEL_CODE32 } from '../../support/cpu-scenario';
import type { CpuHarness } from '../../support/cpu-harness';
import { bothModes, u } from './scenario-helpers';

const EXC_GP = 13;
const CALL_GATE_386 = 0xc;
const CALL_GATE_286 = 0x4;
const INT_GATE_286 = 0x6;
const SEL_GATE386 = 0x40;
const SEL_GATE286 = 0x48;
const SEL_CONFORMING = 0x50;
const SEL_CODE16_AT_FRAGMENT = 0x58;
const FRAGMENT_BASE = 0x10000;

function code16AtFragment(h: CpuHarness): void {
  setGdt(h, SEL_CODE16_AT_FRAGMENT, descriptor(FRAGMENT_BASE, 0xffff, 0x9b, 0));
}

describe('protected-mode transfers', () => {
  it('a call gate from ring 3 switches to the TSS stack, copies the parameters, and RETF 8 returns', () => {
    const key = 'protected/callgate_params';
    const setup = (h: CpuHarness) => setGdt(h, SEL_GATE386, gate(SEL_CODE32, fragment(key).symbols.gate_handler, CALL_GATE_386, 3, 2));
    bothModes(key, { setup }, (r) => {
      const f = (k: number) => u(r.h, r.sym.frame + 4 * k);
      expect(f(0)).toBe(SEL_CODE32);
      expect(f(1)).toBe(r.sym.back);
      expect(f(2)).toBe(0x2b);
      expect(f(3)).toBe(0x22222222);
      expect(f(4)).toBe(0x11111111);
      expect(f(5)).toBe(0x70000 - 8);
      expect(f(6)).toBe(0x33);
      expect(f(7)).toBe(RING0_STACK - 24);
      // Back in ring 3 with both parameters popped; the HLT there is #GP.
      expect(r.regs.ebx).toBe(0x70000);
      expect(r.regs.ecx).toBe(0x2b);
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('a 286 call gate pushes a 16-bit CS:IP', () => {
    const key = 'protected/callgate_286';
    const setup = (h: CpuHarness) => {
      code16AtFragment(h);
      setGdt(h, SEL_GATE286, gate(SEL_CODE16_AT_FRAGMENT, fragment(key).symbols.handler16 - FRAGMENT_BASE, CALL_GATE_286, 0));
    };
    bothModes(key, { setup }, (r) => {
      expect(r.regs.eax & 0xffff).toBe(r.sym.back & 0xffff);
      expect(r.regs.ebx & 0xffff).toBe(SEL_CODE32);
      expect(r.regs.esi).toBe(0x70000 - 4);
      expect(r.regs.cs).toBe(SEL_CODE16_AT_FRAGMENT);
    });
  });

  it('a 286 interrupt gate pushes 16-bit FLAGS, CS and IP', () => {
    const key = 'protected/intgate_286';
    const setup = (h: CpuHarness) => {
      code16AtFragment(h);
      h.writePhys(IDT_BASE + 0x44 * 8, gate(SEL_CODE16_AT_FRAGMENT, fragment(key).symbols.handler16 - FRAGMENT_BASE, INT_GATE_286, 0));
    };
    bothModes(key, { setup }, (r) => {
      expect(r.regs.eax & 0xffff).toBe(r.sym.after_int & 0xffff);
      expect(r.regs.ebx & 0xffff).toBe(SEL_CODE32);
      expect(r.regs.ecx & 0x2).toBe(0x2);
      expect(r.regs.esi).toBe(0x70000 - 6);
    });
  });

  it('a far call into conforming code keeps CPL 3 (CS RPL 3)', () => {
    const setup = (h: CpuHarness) => setGdt(h, SEL_CONFORMING, descriptor(0, 0xffffffff, 0x9e, 0x4));
    bothModes('protected/conforming', { setup }, (r) => {
      expect(r.regs.eax & 0xffff).toBe(SEL_CONFORMING | 3);
      expect(r.regs.ebx & 0xffff).toBe(0x2b);
      expect(r.exception).toBe(EXC_GP);
    });
  });
});
