/**
 * The differential runner kernel (runner/runner.elf) and its memory layout. Every address the
 * driver needs is an ELF symbol exported by runner.asm, so this file reads them instead of
 * repeating numbers; a missing symbol is an error that names it.
 *
 * Reference: System V ABI, ELF32 header, section header and symbol table entry layouts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomusError } from '../../src-engine/base/errors';

/** A problem with the runner kernel or a differential-test case. */
export class DiffHarnessError extends DomusError {}

/** test/diff, also when this module runs from a bundle (cli.mjs sets DOMUS_DIFF_DIR). */
export const DIFF_DIR = process.env.DOMUS_DIFF_DIR ?? path.dirname(fileURLToPath(import.meta.url));
/** Where runner.elf lives (committed; rebuilt by runner/build.sh). */
export const RUNNER_ELF_PATH = path.join(DIFF_DIR, 'runner', 'runner.elf');

const ELF_MAGIC = 0x464c457f; // "\x7FELF" read little-endian
const EI_CLASS = 4;
const ELFCLASS32 = 1;
const E_SHOFF = 0x20; // section header table offset
const E_SHENTSIZE = 0x2e;
const E_SHNUM = 0x30;
const SH_TYPE = 0x04;
const SH_OFFSET = 0x10;
const SH_SIZE = 0x14;
const SH_LINK = 0x18;
const SH_ENTSIZE = 0x24;
const SHT_SYMTAB = 2;
const ST_NAME = 0;
const ST_VALUE = 4;

/** Reads every named symbol of an ELF32 file's .symtab. */
export function readElfSymbols(elf: Uint8Array): Map<string, number> {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 0x34 || dv.getUint32(0, true) !== ELF_MAGIC || elf[EI_CLASS] !== ELFCLASS32) {
    throw new DiffHarnessError('diff.runner-not-elf32', 'The runner kernel is not an ELF32 file; rebuild it with test/diff/runner/build.sh.');
  }
  const shoff = dv.getUint32(E_SHOFF, true);
  const shentsize = dv.getUint16(E_SHENTSIZE, true);
  const shnum = dv.getUint16(E_SHNUM, true);
  const symbols = new Map<string, number>();
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (dv.getUint32(sh + SH_TYPE, true) !== SHT_SYMTAB) continue;
    const symOff = dv.getUint32(sh + SH_OFFSET, true);
    const symSize = dv.getUint32(sh + SH_SIZE, true);
    const entSize = dv.getUint32(sh + SH_ENTSIZE, true);
    const strSh = shoff + dv.getUint32(sh + SH_LINK, true) * shentsize;
    const strOff = dv.getUint32(strSh + SH_OFFSET, true);
    for (let s = symOff; s + entSize <= symOff + symSize; s += entSize) {
      const nameOff = dv.getUint32(s + ST_NAME, true);
      if (nameOff === 0) continue;
      let end = strOff + nameOff;
      while (elf[end] !== 0) end++;
      const name = new TextDecoder().decode(elf.subarray(strOff + nameOff, end));
      symbols.set(name, dv.getUint32(s + ST_VALUE, true));
    }
  }
  return symbols;
}

/** The runner's environment, as exported by runner.asm. */
export interface RunnerLayout {
  /** The kernel image (for qemu -kernel and CpuHarness.loadMultiboot). */
  elf: Uint8Array;
  elfPath: string;
  /** Where the runner parks once its environment is built. */
  ready: number;
  /** First protected-mode exception stub; stub v is at excStubs + v * stubSize. */
  excStubs: number;
  excStubsEnd: number;
  stubSize: number;
  /** Real-mode interrupt stubs (IVT targets) and their size. */
  rmStubBase: number;
  rmStubSize: number;
  /** Spin loop the exception stubs end in, and where they record vector/error/EIP/CS/EFLAGS/count. */
  excStop: number;
  excRecord: number;
  codeWindow: number;
  codeWindowSize: number;
  dataWindow: number;
  dataWindowSize: number;
  /** Page that is not present in the runner's page tables. */
  npPage: number;
  pageDir: number;
  pageTable0: number;
  ring0StackTop: number;
  gdt: number;
  /** IDTR helpers: one `lidt` each (protected-mode IDT / real-mode IVT), then a `jmp $` at *Done. */
  setIdtPm: number;
  setIdtPmDone: number;
  setIdtRm: number;
  setIdtRmDone: number;
  /** Segment selectors. */
  sel: { code0: number; data0: number; code3: number; data3: number; tss: number; code16: number; data16: number; window: number; ldt: number };
}

/** Loads runner.elf and reads its layout symbols. */
export function loadRunnerLayout(elfPath = RUNNER_ELF_PATH): RunnerLayout {
  let elf: Uint8Array;
  try {
    elf = new Uint8Array(readFileSync(elfPath));
  } catch (err) {
    throw new DiffHarnessError('diff.runner-missing', `Cannot read the runner kernel ${elfPath} (${(err as Error).message}); build it with test/diff/runner/build.sh.`, elfPath);
  }
  const syms = readElfSymbols(elf);
  const sym = (name: string): number => {
    const v = syms.get(name);
    if (v === undefined) throw new DiffHarnessError('diff.runner-symbol', `The runner kernel ${elfPath} has no symbol "${name}"; rebuild it with test/diff/runner/build.sh.`, elfPath);
    return v;
  };
  return {
    elf,
    elfPath,
    ready: sym('ready'),
    excStubs: sym('exc_stubs'),
    excStubsEnd: sym('exc_stubs_end'),
    stubSize: sym('STUB_SIZE'),
    rmStubBase: sym('RM_STUB_BASE'),
    rmStubSize: sym('RM_STUB_SIZE'),
    excStop: sym('exc_stop'),
    excRecord: sym('exc_record'),
    codeWindow: sym('CODE_WINDOW'),
    codeWindowSize: sym('CODE_WINDOW_SIZE'),
    dataWindow: sym('DATA_WINDOW'),
    dataWindowSize: sym('DATA_WINDOW_SIZE'),
    npPage: sym('NP_PAGE'),
    pageDir: sym('PAGE_DIR'),
    pageTable0: sym('PAGE_TABLE0'),
    ring0StackTop: sym('RING0_STACK_TOP'),
    gdt: sym('gdt'),
    setIdtPm: sym('set_idt_pm'),
    setIdtPmDone: sym('set_idt_pm_done'),
    setIdtRm: sym('set_idt_rm'),
    setIdtRmDone: sym('set_idt_rm_done'),
    sel: {
      code0: sym('SEL_CODE0'),
      data0: sym('SEL_DATA0'),
      code3: sym('SEL_CODE3'),
      data3: sym('SEL_DATA3'),
      tss: sym('SEL_TSS'),
      code16: sym('SEL_CODE16'),
      data16: sym('SEL_DATA16'),
      window: sym('SEL_WINDOW'),
      ldt: sym('SEL_LDT'),
    },
  };
}
