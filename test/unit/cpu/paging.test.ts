// Paging scenarios (fragments in fixtures/paging.asm): PAE with 4-KiB and 2-MiB pages, PDPTE
// loading and its #GP, reserved-bit and execute-disable page faults with exact error codes,
// accessed/dirty bits, global pages across CR3 reloads, and 32-bit paging with 4-MiB pages.
import { describe, expect, it } from 'vitest';
import { peek32, poke32, type ScenarioOptions } from '../../support/cpu-scenario';
import type { CpuHarness } from '../../support/cpu-harness';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { bothModes, u } from './scenario-helpers';

const EXC_GP = 13;
const EXC_PF = 14;
const PDPT = 0x100000;
const PD0 = 0x101000;
const PT_LOW = 0x102000;
const PT_4M = 0x103000;
const PD1 = 0x104000;
const P = 1;
const RW = 2;
const US = 4;
const A = 0x20;
const D = 0x40;
const PS = 0x80;
const G = 0x100;
const XD_HI = 0x80000000;
const MEM = 16 << 20;
const FEATURES = { ...DEFAULT_FEATURES, pae: true, nx: true, pse: true, pge: true };

/** Writes a 64-bit PAE entry. */
function entry64(h: CpuHarness, addr: number, lo: number, hi = 0): void {
  poke32(h, addr, lo);
  poke32(h, addr + 4, hi);
}

/** PAE tables: the low 2 MiB identity-mapped, 0x400000 -> 0x180000, 0x40600000 -> 2 MiB at 0x600000. */
function paeTables(h: CpuHarness, pte400: [number, number] = [0x180000 | P | RW, 0]): void {
  entry64(h, PDPT, PD0 | P);
  entry64(h, PDPT + 8, PD1 | P);
  entry64(h, PD0, PT_LOW | P | RW | US);
  entry64(h, PD0 + 2 * 8, PT_4M | P | RW | US);
  for (let k = 0; k < 512; k++) entry64(h, PT_LOW + k * 8, (k << 12) | P | RW);
  entry64(h, PT_4M, pte400[0], pte400[1]);
  entry64(h, PD1 + 3 * 8, 0x600000 | P | RW | PS);
}

function opts(setup: (h: CpuHarness) => void): ScenarioOptions {
  return { memBytes: MEM, features: FEATURES, setup };
}

/** The error code an exception stub left on the stack. */
function errorCode(h: CpuHarness, esp: number): number {
  return peek32(h, esp);
}

describe('PAE paging', () => {
  it('maps 4-KiB and 2-MiB pages, sets A and D exactly, and faults on a not-present PDE with code 0', () => {
    bothModes('paging/pae_on', opts((h) => paeTables(h)), (r) => {
      expect(r.regs.ebx).toBe(0x12345678);
      expect(u(r.h, 0x180010)).toBe(0x12345678);
      expect(r.regs.ecx).toBe(0xcafef00d);
      expect(u(r.h, 0x600004)).toBe(0xcafef00d);
      // PTE: accessed and dirty; the PDE above it: accessed only; the 2-MiB PDE: both.
      expect(u(r.h, PT_4M) & (A | D)).toBe(A | D);
      expect(u(r.h, PD0 + 16) & (A | D)).toBe(A);
      expect(u(r.h, PD1 + 24) & (A | D)).toBe(A | D);
      // A page that was only read has A without D.
      expect(u(r.h, PT_LOW + 0x10 * 8) & (A | D)).toBe(A);
      expect(r.exception).toBe(EXC_PF);
      expect(r.regs.cr2).toBe(0x800000);
      expect(errorCode(r.h, r.regs.esp)).toBe(0);
    });
  });

  it('execute-disable: data reads work, an instruction fetch is #PF with P and I/D', () => {
    bothModes('paging/pae_nx', opts((h) => paeTables(h, [0x180000 | P | RW, XD_HI])), (r) => {
      expect(r.regs.ebx).toBe(1);
      expect(r.exception).toBe(EXC_PF);
      expect(r.regs.cr2).toBe(0x400000);
      expect(errorCode(r.h, r.regs.esp)).toBe(0x11);
      // The saved EIP is the target: the CALL itself completed.
      expect(peek32(r.h, r.regs.esp + 4)).toBe(0x400000);
    });
  });

  it('without EFER.NXE bit 63 is reserved; bits above MAXPHYADDR always are: #PF with P and RSVD', () => {
    bothModes('paging/pae_rsvd', opts((h) => paeTables(h, [0x180000 | P | RW, 0x10])), (r) => {
      expect(r.exception).toBe(EXC_PF);
      expect(errorCode(r.h, r.regs.esp)).toBe(0x9);
    });
    bothModes('paging/pae_rsvd', opts((h) => paeTables(h, [0x180000 | P | RW, XD_HI])), (r) => {
      expect(r.exception).toBe(EXC_PF);
      expect(errorCode(r.h, r.regs.esp)).toBe(0x9);
    });
  });

  it('a present PDPTE with reserved bits makes the CR0 write #GP(0) and paging stays off', () => {
    const setup = (h: CpuHarness) => {
      paeTables(h);
      entry64(h, PDPT + 8, PD1 | P | 0x2);
    };
    bothModes('paging/pae_bad_pdpte', opts(setup), (r) => {
      expect(r.exception).toBe(EXC_GP);
      expect(errorCode(r.h, r.regs.esp)).toBe(0);
      expect(r.regs.cr0 & 0x80000000).toBe(0);
    });
  });

  it('a global translation survives a CR3 reload, a non-global one is walked again', () => {
    const setup = (h: CpuHarness) => {
      paeTables(h, [0x180000 | P | RW | G, 0]);
      entry64(h, PT_4M + 8, 0x181000 | P | RW);
      poke32(h, 0x180000, 0x11111111);
      poke32(h, 0x181000, 0x22222222);
      poke32(h, 0x190000, 0x33333333);
      poke32(h, 0x191000, 0x44444444);
    };
    bothModes('paging/pae_global', opts(setup), (r) => {
      expect(r.regs.ebx).toBe(0x11111111);
      expect(r.regs.ecx).toBe(0x22222222);
      expect(r.regs.esi).toBe(0x11111111);
      expect(r.regs.edi).toBe(0x44444444);
    });
  });
});

describe('32-bit paging', () => {
  it('a 4-MiB page maps with PSE and gets A on a read, D on a write', () => {
    const setup = (h: CpuHarness) => {
      poke32(h, PDPT, PT_LOW | P | RW);
      for (let k = 0; k < 1024; k++) poke32(h, PT_LOW + k * 4, (k << 12) | P | RW);
      poke32(h, PDPT + 2 * 4, 0x800000 | P | RW | PS);
      poke32(h, 0x800008, 0x600df00d);
    };
    bothModes('paging/pse_4m', opts(setup), (r) => {
      expect(r.exception).toBeUndefined();
      expect(r.regs.ebx).toBe(0x600df00d);
      expect(u(r.h, 0x800010)).toBe(0x55aa55aa);
      expect(u(r.h, PDPT + 8) & (A | D)).toBe(A | D);
    });
  });
});
