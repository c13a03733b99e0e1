// Debug registers and exception rules (fragments in fixtures/debug.asm): instruction and data
// breakpoints with DR6, RF, general detect, single step, #AC, RF in fault frames, and the
// double- and triple-fault escalation of SDM Vol. 3 Table 6-5.
import { describe, expect, it } from 'vitest';
import { fragment, gate, IDT_BASE, peek32, runScenario, SEL_CODE32 } from '../../support/cpu-scenario';
import type { CpuHarness } from '../../support/cpu-harness';
import { RunExit } from '../../../src-engine/cpu/cpu';
import { S_EIP, S_NMI_PENDING } from '../../../src-engine/cpu/state';
import { bothModes, u } from './scenario-helpers';

const EXC_DB = 1;
const EXC_NMI = 2;
const EXC_DF = 8;
const EXC_GP = 13;
const EXC_AC = 17;
const RF = 0x10000;
const INTERRUPT_GATE = 0xe;

/** Points IDT vector `vector` at label `label` of fragment `key`. */
function handlerAt(key: string, vector: number, label = 'handler'): (h: CpuHarness) => void {
  const at = fragment(key).symbols[label];
  return (h) => h.writePhys(IDT_BASE + vector * 8, gate(SEL_CODE32, at, INTERRUPT_GATE, 0));
}

/** Marks the IDT gates of `vectors` not present. */
function gatesMissing(...vectors: number[]): (h: CpuHarness) => void {
  return (h) => {
    for (const v of vectors) h.writePhys(IDT_BASE + v * 8 + 5, Uint8Array.of(0x0e));
  };
}

describe('debug registers', () => {
  it('an instruction breakpoint faults before the instruction (DR6.B0, RF clear in the frame); RF lets it run once', () => {
    bothModes('debug/exec_bp_rf', { setup: handlerAt('debug/exec_bp_rf', EXC_DB) }, (r) => {
      expect(u(r.h, r.sym.count)).toBe(1);
      expect(r.regs.edx).toBe(r.sym.target);
      expect(r.regs.esi & RF).toBe(0);
      expect(r.regs.ecx).toBe(2);
      expect(r.regs.eax & 0xf).toBe(1);
    });
  });

  it('a data breakpoint on writes traps after a write inside its range, not after a read', () => {
    bothModes('debug/data_bp', { setup: handlerAt('debug/data_bp', EXC_DB) }, (r) => {
      expect(u(r.h, r.sym.count)).toBe(1);
      expect(r.regs.edx).toBe(r.sym.after_write);
      expect(r.regs.eax & 0xf).toBe(2);
      expect(u(r.h, r.sym.var)).toBe(0x070000);
    });
  });

  it('general detect: MOV DR with DR7.GD is a #DB fault with DR6.BD; the handler sees GD clear', () => {
    bothModes('debug/general_detect', { setup: handlerAt('debug/general_detect', EXC_DB) }, (r) => {
      expect(r.regs.ebx & 0x2000).toBe(0);
      expect(r.regs.ecx & 0x2000).toBe(0x2000);
      expect(r.regs.edx).toBe(r.sym.fault);
      expect(r.regs.esi & RF).toBe(RF);
    });
  });

  it('single step traps after every instruction with DR6.BS, starting after the POPFD that sets TF', () => {
    bothModes('debug/single_step', { setup: handlerAt('debug/single_step', EXC_DB) }, (r) => {
      const n = u(r.h, r.sym.count);
      const eips: number[] = [];
      for (let k = 0; k < n; k++) eips.push(u(r.h, r.sym.eips + 4 * k));
      // The POPFD that sets TF does not trap (TF was clear when it started); then traps after
      // NOP, NOP, PUSHFD, AND and the POPFD that clears TF (TF was set when it started).
      expect(n).toBe(5);
      expect(eips[1]).toBe(eips[0] + 1);
      expect(r.regs.eax & 0x4000).toBe(0x4000);
    });
  });
});

describe('NMI', () => {
  it('an NMI raised while its handler runs waits for the IRET, then is delivered', () => {
    const key = 'debug/nmi_blocking';
    const r = runScenario(key, { setup: handlerAt(key, EXC_NMI), maxInstructions: 20 });
    const { h, sym } = r;
    const cpu = h.cpu;
    const s = cpu.s;
    const count = () => u(h, sym.count);
    s[S_NMI_PENDING] = 1;
    cpu.localAttention = true;
    let steps = 0;
    while (s[S_EIP] >>> 0 !== sym.in_handler && steps++ < 200) cpu.step();
    expect(count()).toBe(1);
    // A second NMI while the first handler runs: blocked until its IRET.
    s[S_NMI_PENDING] = 1;
    cpu.localAttention = true;
    cpu.step();
    expect(s[S_EIP] >>> 0).toBe(sym.in_handler + 1);
    expect(count()).toBe(1);
    cpu.step(); // IRETD
    cpu.step(); // the pending NMI is taken now
    while (s[S_EIP] >>> 0 !== sym.in_handler && steps++ < 400) cpu.step();
    expect(count()).toBe(2);
  });
});

describe('alignment check', () => {
  it('a misaligned access at CPL 3 with CR0.AM and EFLAGS.AC is #AC(0); ring 0 and aligned ones are not', () => {
    bothModes('debug/alignment_check', {}, (r) => {
      expect(r.regs.ebx).toBe(1);
      expect(r.exception).toBe(EXC_AC);
      expect(peek32(r.h, r.regs.esp)).toBe(0);
    });
  });
});

describe('exception escalation', () => {
  it('a fault pushes EFLAGS with RF set', () => {
    bothModes('debug/bad_ds', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(peek32(r.h, r.regs.esp)).toBe(0x7ff8);
      expect(peek32(r.h, r.regs.esp + 12) & RF).toBe(RF);
    });
  });

  it('#NP while delivering #GP (both contributory) becomes #DF with error code 0', () => {
    bothModes('debug/bad_ds', { setup: gatesMissing(EXC_GP) }, (r) => {
      expect(r.exception).toBe(EXC_DF);
      expect(peek32(r.h, r.regs.esp)).toBe(0);
    });
  });

  it('a contributory fault while delivering #DF shuts the CPU down (triple fault)', () => {
    const r = runScenario('debug/bad_ds', { setup: gatesMissing(EXC_GP, EXC_DF) });
    expect(r.exit).toBe(RunExit.Shutdown);
    expect(r.exception).toBeUndefined();
  });
});
