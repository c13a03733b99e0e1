// SYSENTER/SYSEXIT, RDTSCP, MSRs and CPUID scenarios (fragments in fixtures/system.asm): the
// fast system calls load the flat segments SYSENTER_CS implies; MSRs exist exactly when CPUID
// reports their feature, check reserved bits, and unknown ones are #GP(0).
import { describe, expect, it } from 'vitest';
import { peek32 } from '../../support/cpu-scenario';
import { DEFAULT_FEATURES, leaf1Edx } from '../../../src-engine/cpu/cpuid';
import { bothModes, u } from './scenario-helpers';

const EXC_UD = 6;
const EXC_GP = 13;
const IF = 0x200;

describe('SYSENTER and SYSEXIT', () => {
  it('SYSEXIT enters ring 3 with SYSENTER_CS+16/+24, SYSENTER returns to ring 0 with IF clear', () => {
    bothModes('system/sysenter_roundtrip', {}, (r) => {
      expect(r.exception).toBeUndefined();
      expect(r.regs.ebx).toBe(0x08 + 16 + 3);
      expect(r.regs.esi).toBe(0x08 + 24 + 3);
      expect(r.regs.edi).toBe(0x60000);
      expect(r.regs.eax).toBe(0x08);
      expect(r.regs.edx).toBe(0x10);
      expect(r.regs.ecx).toBe(0x70000);
      expect(r.regs.ebp & IF).toBe(0);
      expect(r.h.cpu.cpl).toBe(0);
    });
  });

  it('SYSENTER with a null SYSENTER_CS is #GP(0)', () => {
    bothModes('system/sysenter_null_cs', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(peek32(r.h, r.regs.esp)).toBe(0);
    });
  });

  it('SYSEXIT at CPL 3 is #GP(0)', () => {
    bothModes('system/sysexit_cpl3', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('without SEP the opcode is #UD and the SYSENTER MSRs do not exist', () => {
    bothModes('system/sysenter_bare', { features: { ...DEFAULT_FEATURES, sep: false } }, (r) => {
      expect(r.exception).toBe(EXC_UD);
    });
    bothModes('system/sysenter_bare', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
    });
    bothModes('system/sysenter_roundtrip', { features: { ...DEFAULT_FEATURES, sep: false } }, (r) => {
      expect(r.exception).toBe(EXC_GP);
    });
    bothModes('system/sysexit_cpl3', { features: { ...DEFAULT_FEATURES, sep: false } }, (r) => {
      expect(r.exception).toBe(EXC_GP);
    });
  });
});

describe('RDTSCP and MSRs', () => {
  it('RDTSCP returns the TSC (not before RDTSC\'s) and TSC_AUX in ECX', () => {
    bothModes('system/rdtscp', {}, (r) => {
      expect(r.regs.ecx).toBe(0x12345);
      const before = r.regs.edi * 2 ** 32 + r.regs.esi;
      const after = r.regs.edx * 2 ** 32 + r.regs.eax;
      expect(after).toBeGreaterThanOrEqual(before);
    }, ['eax', 'edx', 'esi', 'edi']);
    bothModes('system/rdtscp', { features: { ...DEFAULT_FEATURES, rdtscp: false } }, (r) => {
      // TSC_AUX does not exist without RDTSCP.
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('MTRRs: MTRRcap reports 8 variable ranges with fixed ranges and WC; values read back; bad types #GP', () => {
    bothModes('system/msr_mtrr', {}, (r) => {
      const o = r.sym.out;
      expect(u(r.h, o)).toBe(0x508);
      expect(u(r.h, o + 4)).toBe(0x40000006);
      expect(u(r.h, o + 8)).toBe(0xc0000800);
      expect(u(r.h, o + 12)).toBe(0xf);
      expect(u(r.h, o + 16)).toBe(0x806);
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('IA32_PAT: power-on value, valid types write, a reserved type is #GP', () => {
    bothModes('system/msr_pat', {}, (r) => {
      const o = r.sym.out;
      expect(u(r.h, o)).toBe(0x00070406);
      expect(u(r.h, o + 4)).toBe(0x00070406);
      expect(u(r.h, o + 8)).toBe(0x00010406);
      expect(u(r.h, o + 12)).toBe(0x07050100);
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('an MSR nobody implements is #GP(0)', () => {
    bothModes('system/msr_unknown', {}, (r) => {
      expect(r.exception).toBe(EXC_GP);
    });
  });
});

describe('CPUID and CR4 agree', () => {
  it('leaf 1 and 0x80000001 report the default features; advertised CR4 bits set, VME is #GP', () => {
    bothModes('system/cpuid_cr4', {}, (r) => {
      expect(u(r.h, r.sym.out)).toBe(leaf1Edx(DEFAULT_FEATURES) >>> 0);
      expect(u(r.h, r.sym.out + 4) & (1 << 20)).toBe(DEFAULT_FEATURES.nx ? 1 << 20 : 0);
      expect(r.regs.ebx & 0x2b0).toBe(0x2b0);
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('without FXSR, CR4.OSFXSR is #GP', () => {
    bothModes('system/cpuid_cr4', { features: { ...DEFAULT_FEATURES, fxsr: false, sse: false } }, (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(r.regs.ebx).toBe(0);
    });
  });
});
