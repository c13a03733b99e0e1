// Real-mode conformance vectors (realmode-vectors/vectors.json, made by realmode-vectors/gen.mjs
// with QEMU as the oracle): every case is replayed on the Domus CPU in real-address mode from the
// same state (registers, flags, a 1 KiB memory window filled from its seed) and must end with the
// same registers, segment selectors, flags (those the SDM defines for the instruction), path
// (fall-through, branch taken or exception vector) and window bytes.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createCpuHarness, type CpuHarness } from '../../support/cpu-harness';
import { getFlags } from '../../../src-engine/cpu/lazy-flags';
import { S_EFLAGS, S_EIP, S_LF_OP, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_SS } from '../../../src-engine/cpu/state';
import { spawnSync } from 'node:child_process';
// @ts-expect-error plain ES module shared with the generator
import { LAYOUT, windowBytes } from './realmode-vectors/layout.mjs';
// @ts-expect-error plain ES module: the generator
import { recordVectors } from './realmode-vectors/gen.mjs';

interface Case {
  form: string;
  code: string;
  regs: number[];
  flags: number;
  seed: number;
  mask: number;
  exp: { path: number; vec: number; regs: number[]; flags: number; ds: number; es: number; ss: number; mem: [number, number][] };
}
interface Layout {
  codeSeg: number; captureSeg: number; captureA: number; captureB: number; stubBase: number;
  dataSeg: number; windowSize: number; sp: number;
}

const L = LAYOUT as Layout;
interface VectorDoc {
  format: string; source: string; count: number; seed: number; layout: Layout; cases: Case[];
}
const doc = JSON.parse(readFileSync(new URL('./realmode-vectors/vectors.json', import.meta.url), 'utf8')) as VectorDoc;
const hasTools = ['nasm', 'ld', 'qemu-system-i386'].every((t) => spawnSync(t, ['--version']).status === 0 || spawnSync(t, ['-v']).status === 0);
if (!hasTools) console.warn('realmode-vectors: the QEMU re-recording check is skipped (needs nasm, binutils and qemu-system-i386)');
/** Cases re-recorded under QEMU to show the committed set is what QEMU says. */
const RECHECK = 120;
/** Enough steps for the longest case (a REP string instruction with CX <= 5, then the far jump). */
const MAX_STEPS = 64;
const FAR_JMP = 0xea;

/** Result of one replay, in the generator's terms. */
interface Outcome {
  path: number;
  vec: number;
  regs: number[];
  flags: number;
  ds: number;
  es: number;
  ss: number;
  mem: [number, number][];
}

function setup(h: CpuHarness, c: Case): void {
  const cpu = h.cpu;
  cpu.reset();
  const ivt = new Uint8Array(32 * 4);
  for (let v = 0; v < 32; v++) {
    const off = L.stubBase + v * 16;
    ivt.set([off & 0xff, off >> 8, L.captureSeg & 0xff, L.captureSeg >> 8], v * 4);
  }
  h.writePhys(0, ivt);
  const code = Buffer.from(c.code, 'hex');
  const jmp = (off: number) => [FAR_JMP, off & 0xff, off >> 8, L.captureSeg & 0xff, L.captureSeg >> 8];
  h.writePhys(L.codeSeg << 4, Uint8Array.from([...code, ...jmp(L.captureA), ...jmp(L.captureB)]));
  h.writePhys(L.dataSeg << 4, windowBytes(c.seed));
  h.setRegs({ cs: L.codeSeg, ds: L.dataSeg, es: L.dataSeg, fs: L.dataSeg, gs: L.dataSeg, ss: L.dataSeg, eip: 0 });
  const s = cpu.s;
  for (let r = 0; r < 8; r++) s[r] = c.regs[r] | 0;
  s[S_EFLAGS] = c.flags | 2;
  s[S_LF_OP] = 0;
  cpu.updateMode();
}

function replay(h: CpuHarness, c: Case): Outcome | string {
  setup(h, c);
  const cpu = h.cpu;
  const s = cpu.s;
  for (let n = 0; n < MAX_STEPS && s[S_SEG_SEL + SEG_CS] !== L.captureSeg; n++) cpu.step();
  if (s[S_SEG_SEL + SEG_CS] !== L.captureSeg) return `did not reach the capture code in ${MAX_STEPS} steps`;
  const ip = s[S_EIP] & 0xffff;
  const path = ip === L.captureA ? 1 : ip === L.captureB ? 2 : 3;
  const vec = path === 3 ? (ip - L.stubBase) >> 4 : 0;
  const init = windowBytes(c.seed);
  const now = h.readPhys(L.dataSeg << 4, L.windowSize);
  const mem: [number, number][] = [];
  for (let k = 0; k < now.length; k++) if (now[k] !== init[k]) mem.push([k, now[k]]);
  return {
    path, vec, regs: Array.from({ length: 8 }, (_, r) => s[r] >>> 0), flags: getFlags(cpu) & 0xcd5,
    ds: s[S_SEG_SEL + SEG_DS], es: s[S_SEG_SEL + SEG_ES], ss: s[S_SEG_SEL + SEG_SS], mem,
  };
}

/** Differences between our outcome and QEMU's, as text (empty when they agree). */
function compare(c: Case, got: Outcome): string[] {
  const e = c.exp;
  const d: string[] = [];
  if (got.path !== e.path || got.vec !== e.vec) d.push(`path ${got.path}/vec ${got.vec}, QEMU ${e.path}/vec ${e.vec}`);
  const names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  for (let r = 0; r < 8; r++) if (got.regs[r] !== e.regs[r]) d.push(`${names[r]} ${got.regs[r].toString(16)} QEMU ${e.regs[r].toString(16)}`);
  if ((got.flags & c.mask) !== (e.flags & c.mask)) d.push(`flags ${(got.flags & c.mask).toString(16)} QEMU ${(e.flags & c.mask).toString(16)} (mask ${c.mask.toString(16)})`);
  if (got.ds !== e.ds || got.es !== e.es || got.ss !== e.ss) d.push(`segments ${got.ds}/${got.es}/${got.ss} QEMU ${e.ds}/${e.es}/${e.ss}`);
  if (JSON.stringify(got.mem) !== JSON.stringify(e.mem)) d.push(`memory ${JSON.stringify(got.mem)} QEMU ${JSON.stringify(e.mem)}`);
  return d;
}

describe('real-mode conformance vectors (QEMU as the oracle)', () => {
  it('come from the generator with the layout the replay uses', () => {
    expect(doc.format).toBe('domus-realmode-vectors/1');
    expect(doc.layout).toEqual(L);
    expect(doc.cases.length).toBeGreaterThanOrEqual(1000);
    // Every form is represented, and some cases branch and some raise exceptions.
    expect(new Set(doc.cases.map((c) => c.exp.path))).toEqual(new Set([1, 2, 3]));
  });

  it.skipIf(!hasTools)('are what QEMU records for the same seed (the first cases, re-recorded now)', () => {
    const fresh = recordVectors(RECHECK, doc.seed) as VectorDoc;
    expect(fresh.cases).toEqual(doc.cases.slice(0, RECHECK));
  }, 120_000);

  it('every case ends on Domus as it ends under QEMU', () => {
    const h = createCpuHarness({ memBytes: 1 << 20 });
    const failures: string[] = [];
    doc.cases.forEach((c, i) => {
      const got = replay(h, c);
      const diff = typeof got === 'string' ? [got] : compare(c, got);
      if (diff.length > 0) failures.push(`#${i} ${c.form} ${c.code}: ${diff.join('; ')}`);
    });
    expect(failures.slice(0, 25), `${failures.length} of ${doc.cases.length} cases differ`).toEqual([]);
  });
});
