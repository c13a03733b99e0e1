/**
 * Human-readable reports: a case (environment, initial registers, disassembly) and the first
 * divergence (which step, which instruction, register and memory differences, flags by name).
 */
import { FLAG, GPR_NAMES, linearIp, type CaseRecording, type DiffCase, type HarnessRegs } from './case';
import type { Divergence } from './cpu-replay';
import { formatDisassembly } from './disasm';
import type { RunnerLayout } from './runner-layout';

const FLAG_NAMES: [number, string][] = [
  [FLAG.CF, 'CF'], [FLAG.PF, 'PF'], [FLAG.AF, 'AF'], [FLAG.ZF, 'ZF'], [FLAG.SF, 'SF'], [FLAG.TF, 'TF'], [FLAG.IF, 'IF'],
  [FLAG.DF, 'DF'], [FLAG.OF, 'OF'], [FLAG.NT, 'NT'], [FLAG.RF, 'RF'], [FLAG.VM, 'VM'], [FLAG.AC, 'AC'], [FLAG.ID, 'ID'],
];

const h32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** EFLAGS as names, e.g. "ZF PF IOPL=3". */
export function flagNames(v: number): string {
  const names = FLAG_NAMES.filter(([bit]) => v & bit).map(([, n]) => n);
  const iopl = (v >>> 12) & 3;
  if (iopl) names.push(`IOPL=${iopl}`);
  return names.join(' ') || '-';
}

/** One line per register group. */
export function formatRegs(r: HarnessRegs): string[] {
  return [
    GPR_NAMES.map((n) => `${n}=${h32(r[n])}`).join(' '),
    `eip=${h32(r.eip)} eflags=${h32(r.eflags)} [${flagNames(r.eflags)}]`,
    `cs=${r.cs.toString(16)} ss=${r.ss.toString(16)} ds=${r.ds.toString(16)} es=${r.es.toString(16)} fs=${r.fs.toString(16)} gs=${r.gs.toString(16)} cr0=${h32(r.cr0)} cr2=${h32(r.cr2)} cr3=${h32(r.cr3)} cr4=${h32(r.cr4)}`,
  ];
}

/** The case: origin, environment, initial registers and code. */
export function formatCase(c: DiffCase, layout: RunnerLayout, mark?: number): string[] {
  const env = `${c.env.mode}${c.env.mode === 'pm32' ? ` ring ${c.env.ring}${c.env.paging ? ' paging' : ''}` : ''}`;
  const origin = c.origin ? ` (seed ${c.origin.seed}, index ${c.origin.index})` : '';
  return [
    `case ${c.name}${origin}: ${env}, ${c.program.length} instructions, ${c.code.length} bytes`,
    ...formatRegs(c.regs).map((l) => `  ${l}`),
    ...formatDisassembly(c.code, layout.codeWindow, c.env.mode === 'real', mark).map((l) => `  ${l}`),
  ];
}

/** A divergence report: where, which instruction, what differs. */
export function formatDivergence(c: DiffCase, expected: CaseRecording, d: Divergence, layout: RunnerLayout): string {
  const at = linearIp(d.before);
  const lines = formatCase(c, layout, at);
  lines.push(`first divergence at step ${d.step + 1} of ${expected.states.length} (instruction at ${at.toString(16)}; QEMU's recording ends ${expected.end}${expected.vector !== undefined ? ` #${expected.vector}` : ''}):`);
  if (d.error) lines.push(`  our CPU threw: ${d.error.split('\n').slice(0, 4).join('\n    ')}`);
  for (const r of d.regs) {
    if (r.reg === 'eflags') {
      lines.push(`  eflags  QEMU ${h32(r.expected)} [${flagNames(r.expected)}]  Domus ${h32(r.actual)} [${flagNames(r.actual)}]  differ [${flagNames(r.expected ^ r.actual)}]${d.flagsMask ? `  (undefined, ignored: ${flagNames(d.flagsMask)})` : ''}`);
    } else {
      lines.push(`  ${r.reg.padEnd(6)}  QEMU ${h32(r.expected)}  Domus ${h32(r.actual)}`);
    }
  }
  for (const m of d.mem.slice(0, 8)) lines.push(`  memory ${m.addr.toString(16)}: QEMU ${hexBytes(m.expected)}  Domus ${hexBytes(m.actual)}`);
  if (d.mem.length > 8) lines.push(`  ... ${d.mem.length - 8} more memory differences`);
  return lines.join('\n');
}

/** The generator's description of the instruction at a linear address, if it starts one. */
export function formAt(c: DiffCase, layout: RunnerLayout, linear: number): string | undefined {
  let addr = layout.codeWindow;
  for (const p of c.program) {
    if (addr === linear) return p.form;
    addr += p.bytes.length;
  }
  return undefined;
}

/** A one-line summary of a divergence (for file notes and lists). */
export function summariseDivergence(c: DiffCase, d: Divergence, layout: RunnerLayout): string {
  const what = d.error ? 'our CPU threw' : [...d.regs.map((r) => r.reg), ...(d.mem.length ? ['memory'] : [])].join(', ');
  const form = formAt(c, layout, linearIp(d.before)) ?? 'an exception handler';
  return `step ${d.step + 1} (${form}) differs in ${what}`;
}
