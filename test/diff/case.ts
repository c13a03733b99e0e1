/**
 * What a differential case is, what a recording of it is, and the small helpers both targets
 * (QEMU through its gdbstub, and the Domus CPU through test/support/cpu-harness.ts) share.
 */
import type { RunnerLayout } from './runner-layout';

/** Registers compared after every step, in the order of the harness API (HarnessRegs). */
export const REG_NAMES = [
  'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags',
  'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'cr0', 'cr2', 'cr3', 'cr4',
] as const;
/** One compared register. */
export type RegName = (typeof REG_NAMES)[number];
/** The architectural register state (same shape as the harness's HarnessRegs). */
export type HarnessRegs = Record<RegName, number>;
/** The eight general registers in encoding order (reg field 0-7). */
export const GPR_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

/** CR0.PE: protected mode. */
export const CR0_PE = 1 << 0;
/** CR0.ET: extension type, reads as 1 on every CPU since the 486. */
export const CR0_ET = 1 << 4;
/** CR0.WP: supervisor writes honour read-only pages. */
export const CR0_WP = 1 << 16;
/** CR0.PG: paging. */
export const CR0_PG = 1 << 31;
/** EFLAGS bits. */
export const FLAG = {
  CF: 1 << 0, RESERVED1: 1 << 1, PF: 1 << 2, AF: 1 << 4, ZF: 1 << 6, SF: 1 << 7, TF: 1 << 8,
  IF: 1 << 9, DF: 1 << 10, OF: 1 << 11, IOPL: 3 << 12, NT: 1 << 14, RF: 1 << 16, VM: 1 << 17,
  AC: 1 << 18, ID: 1 << 21,
} as const;
/** The six arithmetic status flags. */
export const STATUS_FLAGS = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF;

/** Execution environment a case runs in. */
export interface CaseEnv {
  /** 'pm32': 32-bit protected mode; 'real': real-address mode. */
  mode: 'pm32' | 'real';
  /** Current privilege level (protected mode only). */
  ring: 0 | 3;
  /** Paging on, with the runner's identity page tables (NP_PAGE not present). */
  paging: boolean;
}

/** Branch or address fixup of a generated instruction (so the minimiser can re-encode). */
export interface InsnFixup {
  /** rel8/rel16/rel32: displacement from the end of the instruction; abs32/abs16: address. */
  kind: 'rel8' | 'rel16' | 'rel32' | 'abs32' | 'abs16';
  /** Byte offset of the field inside the instruction. */
  at: number;
  /** Index of the target instruction; the program length means "the end of the code". */
  target: number;
}

/** One generated instruction, before its fixups are applied. */
export interface ProgramInsn {
  /** Encoding, with zeros where a fixup goes. */
  bytes: number[];
  /** What the generator meant (for reports), e.g. "adc r/m16, imm8". */
  form: string;
  fixup?: InsnFixup;
  /** Instructions with the same group number are removed together by the minimiser. */
  group?: number;
}

/** One differential case: an environment, initial registers, code and data. */
export interface DiffCase {
  /** Human-readable identity, e.g. "s1-i42". */
  name: string;
  /** The generator seed and index this case came from, if generated. */
  origin?: { seed: number; index: number };
  env: CaseEnv;
  /** The structured program; `code` is its encoding at the code window. */
  program: ProgramInsn[];
  /** Machine code written at the code window. */
  code: Uint8Array;
  /** Initial registers (eip is the code window's start in the case's mode). */
  regs: HarnessRegs;
  /** Initial contents of the data window (layout.dataWindowSize bytes). */
  data: Uint8Array;
  /** Registers the minimiser must not change (they address memory or count iterations). */
  pinned: RegName[];
  /** Upper bound on recorded steps. */
  maxSteps: number;
}

/** A memory range compared after every step. */
export interface MemRange {
  addr: number;
  len: number;
}

/** The architectural state after one step. */
export interface StepState {
  regs: HarnessRegs;
  /** Contents of each of the case's memory ranges, in caseMemRanges order. */
  mem: Uint8Array[];
}

/** Why a recording ended. */
export type CaseEnd = 'completed' | 'exception' | 'step-limit' | 'escaped';

/** The states a target went through for one case. */
export interface CaseRecording {
  states: StepState[];
  end: CaseEnd;
  /** Vector of the delivered exception when end === 'exception'. */
  vector?: number;
}

/** Iterations of one REP string instruction folded into a single recorded step at most. */
export const REP_FOLD_LIMIT = 4096;

/** Page-table entry bits the runner uses: present, writable, user. */
const PTE_PRESENT_RW_USER = 0x7;
/** Pages (by 4 KiB page number) whose page-table entries are compared when paging is on. */
const PTE_COMPARED_FIRST = 4;
const PTE_COMPARED_COUNT = 4;

/** Memory compared after every step: the data window, and with paging the PDE and window PTEs. */
export function caseMemRanges(c: DiffCase, layout: RunnerLayout): MemRange[] {
  // With paging the window's guard bytes sit in the not-present page: nothing can change them,
  // and the gdbstub cannot read them (its accesses are linear), so they are left out.
  const windowLen = c.env.paging ? Math.min(layout.dataWindowSize, layout.npPage - layout.dataWindow) : layout.dataWindowSize;
  const ranges: MemRange[] = [{ addr: layout.dataWindow, len: windowLen }];
  if (c.env.paging) {
    ranges.push({ addr: layout.pageDir, len: 4 });
    ranges.push({ addr: layout.pageTable0 + PTE_COMPARED_FIRST * 4, len: PTE_COMPARED_COUNT * 4 });
  }
  return ranges;
}

/** Everything written into memory before a case starts: code (+int3 tail), data, page tables. */
export function caseMemWrites(c: DiffCase, layout: RunnerLayout): { addr: number; data: Uint8Array }[] {
  const INT3 = 0xcc;
  const TAIL = 16;
  const code = new Uint8Array(c.code.length + TAIL).fill(INT3);
  code.set(c.code);
  const writes = [
    { addr: layout.codeWindow, data: code },
    { addr: layout.dataWindow, data: c.data },
  ];
  if (c.env.paging) {
    const pde = new Uint8Array(4);
    new DataView(pde.buffer).setUint32(0, layout.pageTable0 | PTE_PRESENT_RW_USER, true);
    const ptes = new Uint8Array(PTE_COMPARED_COUNT * 4);
    const dv = new DataView(ptes.buffer);
    for (let i = 0; i < PTE_COMPARED_COUNT; i++) {
      const page = (PTE_COMPARED_FIRST + i) << 12;
      dv.setUint32(i * 4, page === layout.npPage ? 0 : page | PTE_PRESENT_RW_USER, true);
    }
    writes.push({ addr: layout.pageDir, data: pde }, { addr: layout.pageTable0 + PTE_COMPARED_FIRST * 4, data: ptes });
  }
  return writes;
}

/** The linear address of CS:EIP. */
export function linearIp(regs: HarnessRegs): number {
  const realMode = (regs.cr0 & CR0_PE) === 0;
  return realMode ? ((regs.cs << 4) + (regs.eip & 0xffff)) >>> 0 : regs.eip >>> 0;
}

/** Where a case's code starts, as CS:EIP values for its mode. */
export function caseEntry(env: CaseEnv, layout: RunnerLayout): { cs: number; eip: number } {
  if (env.mode === 'real') return { cs: 0, eip: layout.codeWindow };
  return { cs: env.ring === 3 ? layout.sel.code3 : layout.sel.code0, eip: layout.codeWindow };
}

/** Classifies the state after a step: still running, or why the case ends there. */
export function classifyStop(regs: HarnessRegs, c: DiffCase, layout: RunnerLayout, steps: number): { end?: CaseEnd; vector?: number } {
  const ip = linearIp(regs);
  if ((regs.cr0 & CR0_PE) !== 0) {
    if (ip >= layout.excStubs && ip < layout.excStubsEnd) return { end: 'exception', vector: Math.floor((ip - layout.excStubs) / layout.stubSize) };
  } else {
    const rmEnd = layout.rmStubBase + 256 * layout.rmStubSize;
    if (ip >= layout.rmStubBase && ip < rmEnd) return { end: 'exception', vector: Math.floor((ip - layout.rmStubBase) / layout.rmStubSize) };
  }
  const codeEnd = layout.codeWindow + c.code.length;
  if (ip === codeEnd) return { end: 'completed' };
  if (ip < layout.codeWindow || ip > codeEnd) return { end: 'escaped' };
  if (steps >= c.maxSteps) return { end: 'step-limit' };
  return {};
}

/** True when two register sets are at the same instruction (a REP iteration left CS:EIP alone). */
export function sameIp(a: HarnessRegs, b: HarnessRegs): boolean {
  return a.eip === b.eip && a.cs === b.cs && (a.cr0 & CR0_PE) === (b.cr0 & CR0_PE);
}

/** Which interrupt table IDTR points at: the runner's protected-mode IDT or the real-mode IVT. */
export type InterruptTable = 'pm' | 'rm';

/** The interrupt table a case needs. */
export function tableFor(env: CaseEnv): InterruptTable {
  return env.mode === 'real' ? 'rm' : 'pm';
}

/**
 * Ring-0 protected-mode registers that run one of the runner's IDTR helpers (set_idt_pm /
 * set_idt_rm); after one step EIP must be the helper's *Done label.
 */
export function idtHelperRegs(table: InterruptTable, layout: RunnerLayout): { regs: HarnessRegs; done: number } {
  const s = layout.sel;
  const regs: HarnessRegs = {
    eax: 0, ecx: 0, edx: 0, ebx: 0, esp: layout.ring0StackTop, ebp: 0, esi: 0, edi: 0,
    eip: table === 'pm' ? layout.setIdtPm : layout.setIdtRm, eflags: FLAG.RESERVED1,
    cs: s.code0, ss: s.data0, ds: s.data0, es: s.data0, fs: s.data0, gs: s.data0,
    cr0: CR0_PE | CR0_ET, cr2: 0, cr3: 0, cr4: 0,
  };
  return { regs, done: table === 'pm' ? layout.setIdtPmDone : layout.setIdtRmDone };
}

/** The base of a segment in the runner's environment (only the window selector has a non-zero base). */
export function runnerSegmentBase(sel: number, regs: HarnessRegs, layout: RunnerLayout): number {
  if ((regs.cr0 & CR0_PE) === 0) return (sel & 0xffff) << 4;
  return (sel & ~3) === layout.sel.window ? layout.dataWindow : 0;
}

/** True when SS is a 32-bit stack (B=1): every protected-mode data selector except data16. */
export function stackIs32(regs: HarnessRegs, layout: RunnerLayout): boolean {
  return (regs.cr0 & CR0_PE) !== 0 && (regs.ss & ~3) !== layout.sel.data16;
}
