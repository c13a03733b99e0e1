// Helpers for the CPU scenario tests: run a fragment both block-by-block and instruction by
// instruction (the two execution paths must agree), and read results out of guest memory.
import { expect } from 'vitest';
import { runScenario, type ScenarioOptions, type ScenarioResult } from '../../support/cpu-scenario';
import type { CpuHarness, HarnessRegs } from '../../support/cpu-harness';

/**
 * Runs scenario `key` in block mode and in step mode, checks both with `check`, and requires the
 * two runs to end with the same registers.
 */
export function bothModes(
  key: string,
  opts: ScenarioOptions,
  check: (r: ScenarioResult) => void,
  /** Registers that legitimately differ between runs (time stamps). */
  ignore: readonly (keyof HarnessRegs)[] = [],
): void {
  const a = runScenario(key, opts);
  check(a);
  const b = runScenario(key, { ...opts, step: true });
  check(b);
  const strip = (r: HarnessRegs) => Object.fromEntries(Object.entries(r).filter(([k]) => !ignore.includes(k as keyof HarnessRegs)));
  expect(strip(b.regs), `${key}: step mode and block mode disagree`).toEqual(strip(a.regs));
}

/** Little-endian unsigned integer of `bytes` (1..4) bytes at a physical address. */
export function u(h: CpuHarness, addr: number, bytes = 4): number {
  const b = h.readPhys(addr, bytes);
  let v = 0;
  for (let k = bytes - 1; k >= 0; k--) v = v * 256 + b[k];
  return v;
}

/** The double stored at a physical address. */
export function f64At(h: CpuHarness, addr: number): number {
  return new DataView(h.readPhys(addr, 8).slice().buffer).getFloat64(0, true);
}

/** The float stored at a physical address. */
export function f32At(h: CpuHarness, addr: number): number {
  return new DataView(h.readPhys(addr, 4).slice().buffer).getFloat32(0, true);
}

/** Hex string of `len` bytes at a physical address. */
export function hexAt(h: CpuHarness, addr: number, len: number): string {
  return Buffer.from(h.readPhys(addr, len)).toString('hex');
}

