// SingleStepTests single-instruction vectors recorded on a real 8086 (singlestep-8088/cases.json,
// made by singlestep-8088/gen.mjs; see singlestep-8088/README.md for the source, licence and the
// selection rules): every case is replayed on the Domus CPU in real-address mode and must end with
// the recorded registers, segment selectors, IP, the flags both the SDM and the data set define
// for the instruction, and RAM.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createCpuHarness, type CpuHarness } from '../../support/cpu-harness';
import { getFlags } from '../../../src-engine/cpu/lazy-flags';
import {
  EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, S_A20_MASK, S_EFLAGS, S_EIP, S_LF_OP, S_SEG_SEL,
  SEG_CS, SEG_DS, SEG_ES, SEG_SS,
} from '../../../src-engine/cpu/state';

/** [name, initial registers (in `regs` order), initial RAM, changed registers, changed RAM]. */
type Case = [string, number[], [number, number][], Record<string, number>, [number, number][]];
interface SubsetDoc {
  format: string; source: string; commit: string; perFile: number; regs: string[];
  files: Record<string, { mask: number; cases: Case[] }>;
}

const doc = JSON.parse(readFileSync(new URL('./singlestep-8088/cases.json', import.meta.url), 'utf8')) as SubsetDoc;
/** 1 MiB of RAM: the 8086's whole address space. */
const RAM_BYTES = 1 << 20;
/** A20 gate closed: linear addresses wrap at 1 MiB as on the 8086 (bit 20 forced to 0). */
const A20_CLOSED = ~(1 << 20);
/** Flags an i386 in real mode may load and the 8086 also has (CF PF AF ZF SF TF IF DF OF). */
const COMMON_FLAGS = 0x0fd5;
/** EFLAGS bit 1, always 1. */
const FLAGS_RESERVED = 0x2;

/** Where each data-set register lives in the Domus state. */
const GPR_INDEX: Record<string, number> = { ax: EAX, bx: EBX, cx: ECX, dx: EDX, sp: ESP, bp: EBP, si: ESI, di: EDI };
const SEG_INDEX: Record<string, number> = { cs: SEG_CS, ss: SEG_SS, ds: SEG_DS, es: SEG_ES };

function regsOf(c: Case): Record<string, number> {
  return Object.fromEntries(doc.regs.map((n, k) => [n, c[1][k]]));
}

function setup(h: CpuHarness, c: Case): void {
  const r = regsOf(c);
  const cpu = h.cpu;
  cpu.reset();
  h.setRegs({ cs: r.cs, ss: r.ss, ds: r.ds, es: r.es, eip: r.ip });
  for (const [a, v] of c[2]) h.writePhys(a, Uint8Array.of(v));
  const s = cpu.s;
  for (const [n, idx] of Object.entries(GPR_INDEX)) s[idx] = r[n];
  s[S_EFLAGS] = (r.flags & COMMON_FLAGS) | FLAGS_RESERVED;
  s[S_LF_OP] = 0;
  s[S_A20_MASK] = A20_CLOSED;
  cpu.afterStateLoad();
}

/** Differences between Domus's end state and the recorded one (empty when they agree). */
function replay(h: CpuHarness, c: Case, mask: number): string[] {
  setup(h, c);
  const cpu = h.cpu;
  const s = cpu.s;
  const before = new Map(c[2]);
  cpu.step();
  const exp = { ...regsOf(c), ...c[3] };
  const d: string[] = [];
  const hex = (v: number) => (v >>> 0).toString(16);
  for (const [n, idx] of Object.entries(GPR_INDEX)) if (s[idx] >>> 0 !== exp[n]) d.push(`${n} ${hex(s[idx])} expected ${hex(exp[n])}`);
  for (const [n, seg] of Object.entries(SEG_INDEX)) if (s[S_SEG_SEL + seg] !== exp[n]) d.push(`${n} ${hex(s[S_SEG_SEL + seg])} expected ${hex(exp[n])}`);
  if (s[S_EIP] >>> 0 !== exp.ip) d.push(`ip ${hex(s[S_EIP])} expected ${hex(exp.ip)}`);
  const flags = getFlags(cpu) & mask;
  if (flags !== (exp.flags & mask)) d.push(`flags ${hex(flags)} expected ${hex(exp.flags & mask)} (mask ${hex(mask)})`);
  const want = new Map([...before, ...c[4]]);
  for (const [a, v] of want) {
    const got = h.readPhys(a, 1)[0];
    if (got !== v) d.push(`[${hex(a)}] ${hex(got)} expected ${hex(v)}`);
  }
  // Put the bytes back to zero so the next case starts from the same memory.
  for (const a of want.keys()) h.writePhys(a, Uint8Array.of(0));
  return d;
}

describe('SingleStepTests 8086 vectors (real hardware as the oracle)', () => {
  it('are the committed subset with the selection the README describes', () => {
    expect(doc.format).toBe('domus-singlestep/1');
    expect(doc.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(Object.keys(doc.files).length).toBeGreaterThanOrEqual(160);
    for (const [file, f] of Object.entries(doc.files)) {
      expect(f.cases.length, file).toBe(doc.perFile);
      // Every compared flag is one both CPUs have.
      expect(f.mask & ~COMMON_FLAGS, file).toBe(0);
    }
  });

  for (const [file, f] of Object.entries(doc.files)) {
    it(`opcode ${file}: every case ends on Domus as on the 8086`, () => {
      const h = createCpuHarness({ memBytes: RAM_BYTES });
      const failures: string[] = [];
      f.cases.forEach((c, i) => {
        const diff = replay(h, c, f.mask);
        if (diff.length > 0) failures.push(`#${i} ${c[0]}: ${diff.join('; ')}`);
      });
      expect(failures.slice(0, 10), `${failures.length} of ${f.cases.length} cases differ`).toEqual([]);
    });
  }
});
