/**
 * Cases where QEMU 7.2 does not do what the Intel SDM says, kept in
 * test/unit/cpu/diff-regressions/qemu-wrong/ with expected states that follow the manual.
 *
 * The expected states are not typed in by hand: each case has a "twin" that differs only in its
 * first instruction, chosen so that QEMU raises, at the same address and with the same stack, the
 * exception the SDM requires of the original (e.g. a far JMP to the null selector for #GP(0)).
 * The twin's QEMU recording, with the corrections of qemu-corrections.ts (the twin faults too, so
 * its pushed EFLAGS gets RF: fault-rf), is the manual's expected state for the original.
 */
import { CR0_ET, CR0_PE, CR0_PG, CR0_WP, FLAG, type DiffCase, type HarnessRegs } from './case';
import { recordingKey, type StoredCase } from './case-json';
import { QemuPool } from './qemu-pool';
import { DiffHarnessError, type RunnerLayout } from './runner-layout';

/** One known QEMU deviation. */
interface QemuWrongSpec {
  name: string;
  note: string;
  sdm: string;
  /** The instruction QEMU gets wrong. */
  code: number[];
  /** An instruction of any length that QEMU faults the way the SDM says `code` must. */
  twin: number[];
  regs: (layout: RunnerLayout) => Partial<HarnessRegs>;
  paging?: boolean;
}

/** JMP FAR 0000:00000000: loading CS with the null selector raises #GP(0) (SDM JMP, Protected Mode Exceptions). */
const JMP_FAR_NULL = [0xea, 0, 0, 0, 0, 0, 0];

const SPECS: QemuWrongSpec[] = [
  {
    name: 'qemu-wrong-data-segment-limit',
    note: 'QEMU does not check data segment limits: MOV EAX, FS:[0x500] with FS limit 0x40F completes instead of raising #GP(0).',
    sdm: 'Intel SDM Vol. 3A 5.3 "Limit Checking"; Vol. 2B MOV, Protected Mode Exceptions: "#GP(0) If a memory operand effective address is outside the CS, DS, ES, FS, or GS segment limit."',
    code: [0x64, 0xa1, 0x00, 0x05, 0x00, 0x00],
    twin: JMP_FAR_NULL,
    regs: (l) => ({ fs: l.sel.window }),
  },
  {
    name: 'qemu-wrong-rmw-page-fault-is-a-write',
    note: 'QEMU reports W/R=0 in the #PF error code of a read-modify-write instruction (XOR BYTE [0x7000], 1 on a not-present page) because it performs the read first; the access is a write (error code 2). The differential runs apply the same correction (qemu-corrections.ts, rmw-pf-write).',
    sdm: 'Intel SDM Vol. 3A 4.7 "Page-Fault Exceptions": W/R flag (bit 1) "If the access causing the page-fault exception was a write, this flag is 1"; Vol. 2A LOCK / Vol. 3A 9.1.2: a locked read-modify-write never reads without writing.',
    code: [0x80, 0x35, 0x00, 0x70, 0x00, 0x00, 0x01],
    twin: [0xc6, 0x05, 0x00, 0x70, 0x00, 0x00, 0x01],
    regs: (l) => ({ cr0: CR0_PE | CR0_ET | CR0_PG | CR0_WP, cr3: l.pageDir }),
    paging: true,
  },
  {
    name: 'qemu-wrong-write-through-cs',
    note: 'QEMU lets MOV CS:[0x6D00], EAX write memory; a code segment is not writable, so the SDM requires #GP(0).',
    sdm: 'Intel SDM Vol. 2B MOV, Protected Mode Exceptions: "#GP(0) If the destination operand is in a non-writable segment."; Vol. 3A 5.7 "Type Checking".',
    code: [0x2e, 0xa3, 0x00, 0x6d, 0x00, 0x00],
    twin: JMP_FAR_NULL,
    regs: () => ({}),
  },
];

function baseCase(spec: QemuWrongSpec, code: number[], layout: RunnerLayout): DiffCase {
  const s = layout.sel;
  const regs: HarnessRegs = {
    eax: 0x12345678, ecx: 0, edx: 0, ebx: 0, esp: layout.dataWindow + 0x200, ebp: 0, esi: 0, edi: 0,
    eip: layout.codeWindow, eflags: FLAG.RESERVED1 | FLAG.ZF,
    cs: s.code0, ss: s.data0, ds: s.data0, es: s.data0, fs: s.data0, gs: s.data0,
    cr0: CR0_PE | CR0_ET, cr2: 0, cr3: 0, cr4: 0, ...spec.regs(layout),
  };
  const data = new Uint8Array(layout.dataWindowSize);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  return {
    name: spec.name, env: { mode: 'pm32', ring: 0, paging: spec.paging ?? false }, program: [{ bytes: code, form: spec.name }],
    code: new Uint8Array(code), regs, data, pinned: ['esp'], maxSteps: 1,
  };
}

/** Builds the stored qemu-wrong cases, recording each twin on QEMU. */
export async function buildQemuWrongCases(layout: RunnerLayout, source: string): Promise<StoredCase[]> {
  const pool = await QemuPool.start(layout, 1);
  try {
    const out: StoredCase[] = [];
    for (const spec of SPECS) {
      const twin = baseCase(spec, spec.twin, layout);
      // The twin's frame gets the documented corrections too (fault-rf: RF in the pushed EFLAGS).
      const { recording: expected, corrections } = await pool.recordCorrected(twin);
      if (expected.end !== 'exception') throw new DiffHarnessError('diff.qemu-wrong-twin', `The twin of ${spec.name} did not fault on QEMU (${expected.end}).`);
      const fixes = corrections.length ? ` + corrections: ${corrections.join(', ')}` : '';
      out.push({ case: baseCase(spec, spec.code, layout), expected, source: `manual (twin recorded on ${source}${fixes})`, note: spec.note, sdm: spec.sdm });
    }
    return out;
  } finally {
    await pool.close();
  }
}

/**
 * Records each original (not the twin) on QEMU as QEMU runs it, and compares it with the
 * manual's expected states (the corrected twin): `fixed` when QEMU now does what the SDM says.
 */
export async function qemuStillWrong(layout: RunnerLayout): Promise<{ name: string; end: string; fixed: boolean }[]> {
  const pool = await QemuPool.start(layout, 1);
  try {
    const out: { name: string; end: string; fixed: boolean }[] = [];
    for (const spec of SPECS) {
      const raw = await pool.record(baseCase(spec, spec.code, layout));
      const expected = (await pool.recordCorrected(baseCase(spec, spec.twin, layout))).recording;
      const end = raw.end === 'exception' ? `exception #${raw.vector}` : raw.end;
      out.push({ name: spec.name, end, fixed: recordingKey(raw) === recordingKey(expected) });
    }
    return out;
  } finally {
    await pool.close();
  }
}
