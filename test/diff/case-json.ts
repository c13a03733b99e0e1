/**
 * JSON form of a differential case with its expected states, as stored in
 * test/unit/cpu/diff-regressions/ (so replaying needs no QEMU). Numbers are hex strings, byte
 * arrays hex; a state's memory range is null when unchanged since the previous state.
 */
import { REG_NAMES, type CaseEnd, type CaseRecording, type DiffCase, type HarnessRegs, type ProgramInsn, type StepState } from './case';
import { DiffHarnessError } from './runner-layout';

/** The format tag every stored case carries. */
export const CASE_FORMAT = 'domus-diff-case/1';

/** A stored case. */
export interface StoredCase {
  case: DiffCase;
  expected: CaseRecording;
  /** Where the expected states come from: the QEMU version line, or "manual" for SDM-corrected cases. */
  source: string;
  /** Why the case is kept (the divergence it reproduced, or what QEMU gets wrong). */
  note?: string;
  /** For cases where QEMU is wrong: the SDM reference the expected states follow. */
  sdm?: string;
}

interface JsonState {
  regs: Record<string, string>;
  mem: (string | null)[];
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const h32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function regsToJson(r: HarnessRegs): Record<string, string> {
  return Object.fromEntries(REG_NAMES.map((n) => [n, h32(r[n])]));
}

function regsFromJson(o: Record<string, string>, where: string): HarnessRegs {
  const r = {} as HarnessRegs;
  for (const n of REG_NAMES) {
    const v = o?.[n];
    if (typeof v !== 'string' || !/^0x[0-9a-f]+$/i.test(v)) throw new DiffHarnessError('diff.case-json', `${where}: register ${n} is missing or not a hex string.`);
    r[n] = parseInt(v, 16) >>> 0;
  }
  return r;
}

/** Serialises a stored case (stable key order, two-space indentation). */
export function storedCaseToJson(s: StoredCase): string {
  const c = s.case;
  let prevMem: Uint8Array[] = [];
  const states: JsonState[] = s.expected.states.map((st: StepState) => {
    const mem = st.mem.map((m, i) => (prevMem[i] && hex(prevMem[i]) === hex(m) ? null : hex(m)));
    prevMem = st.mem;
    return { regs: regsToJson(st.regs), mem };
  });
  const out = {
    format: CASE_FORMAT,
    name: c.name,
    ...(s.note ? { note: s.note } : {}),
    ...(s.sdm ? { sdm: s.sdm } : {}),
    source: s.source,
    ...(c.origin ? { origin: c.origin } : {}),
    env: c.env,
    regs: regsToJson(c.regs),
    code: hex(c.code),
    program: c.program.map((p) => ({ bytes: hex(new Uint8Array(p.bytes)), form: p.form, ...(p.fixup ? { fixup: p.fixup } : {}), ...(p.group !== undefined ? { group: p.group } : {}) })),
    data: hex(c.data),
    pinned: c.pinned,
    maxSteps: c.maxSteps,
    expected: { end: s.expected.end, ...(s.expected.vector !== undefined ? { vector: s.expected.vector } : {}), states },
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Parses a stored case; errors name the file and the field. */
export function storedCaseFromJson(text: string, where: string): StoredCase {
  let o: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- validated field by field below
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new DiffHarnessError('diff.case-json', `${where}: not valid JSON (${(err as Error).message}).`, where);
  }
  if (o?.format !== CASE_FORMAT) throw new DiffHarnessError('diff.case-json', `${where}: expected "format": "${CASE_FORMAT}".`, where);
  const program: ProgramInsn[] = (o.program ?? []).map((p: { bytes: string; form: string; fixup?: ProgramInsn['fixup']; group?: number }) => ({
    bytes: Array.from(unhex(p.bytes)), form: p.form, ...(p.fixup ? { fixup: p.fixup } : {}), ...(p.group !== undefined ? { group: p.group } : {}),
  }));
  const c: DiffCase = {
    name: String(o.name),
    ...(o.origin ? { origin: o.origin } : {}),
    env: o.env,
    program,
    code: unhex(o.code),
    regs: regsFromJson(o.regs, `${where} regs`),
    data: unhex(o.data),
    pinned: o.pinned ?? [],
    maxSteps: Number(o.maxSteps),
  };
  let prev: Uint8Array[] = [];
  const states: StepState[] = (o.expected?.states ?? []).map((st: JsonState, i: number) => {
    const mem = st.mem.map((m, k) => {
      if (m !== null) return unhex(m);
      if (!prev[k]) throw new DiffHarnessError('diff.case-json', `${where}: state ${i} memory range ${k} is null with no earlier value.`, where);
      return prev[k];
    });
    prev = mem;
    return { regs: regsFromJson(st.regs, `${where} state ${i}`), mem };
  });
  if (states.length === 0) throw new DiffHarnessError('diff.case-json', `${where}: no expected states.`, where);
  const expected: CaseRecording = { end: o.expected.end as CaseEnd, states, ...(o.expected.vector !== undefined ? { vector: o.expected.vector } : {}) };
  return { case: c, expected, source: String(o.source ?? ''), ...(o.note ? { note: o.note } : {}), ...(o.sdm ? { sdm: o.sdm } : {}) };
}

/** A canonical string of a recording, for comparing two recordings of the same case. */
export function recordingKey(r: CaseRecording): string {
  return JSON.stringify({ end: r.end, vector: r.vector, states: r.states.map((s) => ({ regs: regsToJson(s.regs), mem: s.mem.map(hex) })) });
}
