/**
 * The Domus CPU as the differential harness sees it: the API of test/support/cpu-harness.ts
 * (written by the CPU's author), loaded at run time so this harness works, and its tests skip
 * with a reason, before and after that file exists.
 *
 * Expectations on the harness, matching QEMU's gdbstub (see qemu-driver.ts):
 * - setRegs writes CR0 before segment selectors; in protected mode a selector loads its
 *   descriptor from the GDT and CS/SS set CPL; in real mode base = selector << 4.
 * - step() executes one instruction, or one iteration of a REP string instruction, or a whole
 *   REP instruction (the harness folds iterations either way); an exception raised by the
 *   instruction is delivered and the step ends at the handler's first instruction.
 * - readPhys/writePhys address physical memory (the runner identity-maps what it pages).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HarnessRegs } from './case';
import { DIFF_DIR } from './runner-layout';

/** One VCPU over flat RAM, driven instruction by instruction. */
export interface CpuHarness {
  loadMultiboot(elf: Uint8Array, cmdline?: string): void;
  runUntil(eip: number, maxInstructions: number): void;
  getRegs(): HarnessRegs;
  setRegs(r: Partial<HarnessRegs>): void;
  readPhys(addr: number, len: number): Uint8Array;
  writePhys(addr: number, data: Uint8Array): void;
  step(): void;
}

/** The factory test/support/cpu-harness.ts exports. */
export type CreateCpuHarness = (opts: { memBytes: number }) => CpuHarness;

/** The reason differential tests give when they skip for want of the harness. */
export const CPU_HARNESS_MISSING = 'CPU harness not available yet';

/** Path of the harness module in the source tree. */
export const CPU_HARNESS_PATH = path.resolve(DIFF_DIR, '..', 'support', 'cpu-harness.ts');

/** True when the harness source file exists. */
export function cpuHarnessPresent(): boolean {
  return Boolean(process.env.DOMUS_DIFF_HARNESS_MODULE) || existsSync(CPU_HARNESS_PATH);
}

/**
 * Imports the harness: a bundled module named by DOMUS_DIFF_HARNESS_MODULE (cli.mjs sets it), or
 * the TypeScript source (under Vitest, which transpiles it). Undefined when there is none.
 */
export async function loadCpuHarness(): Promise<CreateCpuHarness | undefined> {
  const bundled = process.env.DOMUS_DIFF_HARNESS_MODULE;
  const spec = bundled ?? (existsSync(CPU_HARNESS_PATH) ? pathToFileURL(CPU_HARNESS_PATH).href : undefined);
  if (!spec) return undefined;
  const mod = (await import(/* @vite-ignore */ spec)) as { createCpuHarness?: CreateCpuHarness };
  return typeof mod.createCpuHarness === 'function' ? mod.createCpuHarness : undefined;
}
