/**
 * CPU instruction scenarios: an assembled fragment (test/unit/cpu/fixtures/*.asm, assembled into
 * fixtures.json by fixtures/build.mjs) runs from a fixed initial state until HLT; the test then
 * looks at registers, flags, memory and the FPU. The environment:
 *
 *   0x000-0x3FF   real-mode IVT: vector v -> 0000:(0x5000 + 8v)
 *   0x500         pseudo-descriptor of the GDT (limit, base), for LGDT in fragments
 *   0x508         pseudo-descriptor of the IDT
 *   0x600         vector of the last exception taken through the stubs (0xFFFFFFFF: none)
 *   0x800         GDT (see SEL_* below), room for 256 descriptors
 *   0x1800        32-bit TSS (ESP0 = 0x9F000, SS0 = SEL_DATA32), limit 0x67
 *   0x2000        IDT: 256 interrupt gates (DPL 3) to the stubs, CS = SEL_CODE32
 *   0x3000        32-bit stubs: vector v at 0x3000 + 16v records v at SS:0x600, then HLT (an
 *                 error code stays on the stack)
 *   0x5000        real-mode stubs: vector v at 0x5000 + 8v records v at CS:0x600, then HLT
 *   0x7C00        16-bit fragments (CS:IP = 0000:7C00, SS:SP = 0000:7000)
 *   0x10000       32-bit fragments (flat ring 0, ESP = 0x80000)
 */
import { createCpuHarness, type CpuHarness, type HarnessRegs } from './cpu-harness';
import type { CpuFeatures } from '../../src-engine/cpu/cpuid';
import { RunExit } from '../../src-engine/cpu/cpu';
import { AR_CODE32_FLAT, AR_DATA32_FLAT, AR_TSS32_BUSY } from '../../src-engine/cpu/init-state';
import fixtures from '../unit/cpu/fixtures/fixtures.json';

/** Selectors of the scenario GDT. */
export const SEL_CODE32 = 0x08;
export const SEL_DATA32 = 0x10;
export const SEL_CODE16 = 0x18;
export const SEL_DATA16 = 0x20;
export const SEL_CODE32_R3 = 0x2b;
export const SEL_DATA32_R3 = 0x33;
export const SEL_TSS = 0x38;
/** Addresses of the environment. */
export const GDT_BASE = 0x800;
export const GDT_PTR = 0x500;
export const IDT_PTR = 0x508;
export const IDT_BASE = 0x2000;
export const TSS_BASE = 0x1800;
export const STUB_BASE = 0x3000;
export const REAL_STUB_BASE = 0x5000;
export const EXC_RECORD = 0x600;
export const CODE16 = 0x7c00;
export const CODE32 = 0x10000;
export const STACK32 = 0x80000;
export const STACK16 = 0x7000;
export const RING0_STACK = 0x9f000;
/** No exception recorded. */
export const NO_EXCEPTION = 0xffffffff;

/** How a scenario starts. */
export interface ScenarioOptions {
  /** Initial general registers and EFLAGS (the mode sets CS:EIP, segments, ESP). */
  regs?: Partial<HarnessRegs>;
  /** Bytes to place in memory first, by physical address. */
  mem?: Record<number, ArrayLike<number>>;
  /** Called after the environment is built, before running (descriptors, page tables...). */
  setup?: (h: CpuHarness) => void;
  /** Instruction budget (default 100000). */
  maxInstructions?: number;
  /** Run instruction by instruction (cpu.step) instead of blocks. */
  step?: boolean;
  features?: CpuFeatures;
  /** Guest RAM (default 2 MiB). */
  memBytes?: number;
}

/** What a scenario ended with. */
export interface ScenarioResult {
  h: CpuHarness;
  /** Addresses of the fragment's global labels (`out`, `src`, ...). */
  sym: Record<string, number>;
  regs: HarnessRegs;
  /** Vector recorded by the exception stubs, or undefined. */
  exception: number | undefined;
  /** How run() ended (Halt for a fragment that reached its HLT). */
  exit: RunExit | 'debug-exit' | 'budget';
}

interface Fixture {
  bits: number;
  sha256: string;
  bytes: string;
  symbols: Record<string, number>;
}
const FIXTURES = fixtures as Record<string, Fixture>;

/** The bytes and label addresses of fragment "file/name". */
export function fragment(key: string): { bits: number; bytes: Uint8Array; symbols: Record<string, number> } {
  const f = FIXTURES[key];
  if (!f) throw new Error(`no CPU fixture ${key}: add it to test/unit/cpu/fixtures/*.asm and run fixtures/build.mjs`);
  return { bits: f.bits, bytes: Uint8Array.from(Buffer.from(f.bytes, 'hex')), symbols: f.symbols };
}

/** Encodes a segment descriptor (limit in bytes; G chosen when it does not fit 20 bits). */
export function descriptor(base: number, limit: number, access: number, flags: number): Uint8Array {
  let lim = limit >>> 0;
  let fl = flags;
  if (lim > 0xfffff) {
    lim >>>= 12;
    fl |= 0x8;
  }
  const d = new Uint8Array(8);
  d[0] = lim & 0xff;
  d[1] = (lim >> 8) & 0xff;
  d[2] = base & 0xff;
  d[3] = (base >>> 8) & 0xff;
  d[4] = (base >>> 16) & 0xff;
  d[5] = access;
  d[6] = ((lim >> 16) & 0xf) | (fl << 4);
  d[7] = (base >>> 24) & 0xff;
  return d;
}

/** Encodes an IDT or call gate (type 0xE/0xF/0xC/0x5...). */
export function gate(selector: number, offset: number, type: number, dpl: number, params = 0): Uint8Array {
  const d = new Uint8Array(8);
  d[0] = offset & 0xff;
  d[1] = (offset >>> 8) & 0xff;
  d[2] = selector & 0xff;
  d[3] = (selector >> 8) & 0xff;
  d[4] = params & 0x1f;
  d[5] = 0x80 | (dpl << 5) | type;
  d[6] = (offset >>> 16) & 0xff;
  d[7] = (offset >>> 24) & 0xff;
  return d;
}

/** Writes descriptor `d` into GDT slot `sel`. */
export function setGdt(h: CpuHarness, sel: number, d: Uint8Array): void {
  h.writePhys(GDT_BASE + (sel & ~7), d);
}

/** Writes a little-endian dword at a physical address. */
export function poke32(h: CpuHarness, addr: number, v: number): void {
  h.writePhys(addr, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
}

/** Reads a little-endian dword at a physical address. */
export function peek32(h: CpuHarness, addr: number): number {
  const b = h.readPhys(addr, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

function buildEnvironment(h: CpuHarness): void {
  // GDT.
  setGdt(h, SEL_CODE32, descriptor(0, 0xffffffff, 0x9b, 0x4));
  setGdt(h, SEL_DATA32, descriptor(0, 0xffffffff, 0x93, 0x4));
  setGdt(h, SEL_CODE16, descriptor(0, 0xffff, 0x9b, 0));
  setGdt(h, SEL_DATA16, descriptor(0, 0xffff, 0x93, 0));
  setGdt(h, SEL_CODE32_R3, descriptor(0, 0xffffffff, 0xfb, 0x4));
  setGdt(h, SEL_DATA32_R3, descriptor(0, 0xffffffff, 0xf3, 0x4));
  setGdt(h, SEL_TSS, descriptor(TSS_BASE, 0x67, 0x8b, 0));
  h.writePhys(GDT_PTR, Uint8Array.of(0xff, 0x07, GDT_BASE & 0xff, GDT_BASE >> 8, 0, 0));
  h.writePhys(IDT_PTR, Uint8Array.of(0xff, 0x07, IDT_BASE & 0xff, IDT_BASE >> 8, 0, 0));
  // TSS: ESP0, SS0; I/O map base beyond the limit (no bitmap).
  poke32(h, TSS_BASE + 4, RING0_STACK);
  poke32(h, TSS_BASE + 8, SEL_DATA32);
  poke32(h, TSS_BASE + 0x64, 0x00680000);
  for (let v = 0; v < 256; v++) {
    // 32-bit stub: mov dword [ss:EXC_RECORD], v ; hlt (SS: data segments may be null after an
    // interrupt from virtual-8086 mode or a return to an outer ring)
    const stub = STUB_BASE + v * 16;
    h.writePhys(stub, Uint8Array.of(0x36, 0xc7, 0x05, EXC_RECORD & 0xff, EXC_RECORD >> 8, 0, 0, v, 0, 0, 0, 0xf4));
    h.writePhys(IDT_BASE + v * 8, gate(SEL_CODE32, stub, 0xe, 3));
  }
  poke32(h, EXC_RECORD, NO_EXCEPTION);
}

function buildRealIvt(h: CpuHarness): void {
  // mov byte [cs:0x600], v ; hlt (CS is 0 for every stub)
  for (let v = 0; v < 256; v++) {
    const stub = REAL_STUB_BASE + v * 8;
    h.writePhys(stub, Uint8Array.of(0x2e, 0xc6, 0x06, EXC_RECORD & 0xff, EXC_RECORD >> 8, v, 0xf4));
    h.writePhys(v * 4, Uint8Array.of(stub & 0xff, stub >> 8, 0, 0));
  }
  // The stub writes one byte: start from "none" in the low byte too.
  poke32(h, EXC_RECORD, NO_EXCEPTION);
}

/** Runs fragment `key` ("file/name") and returns the final state. */
export function runScenario(key: string, opts: ScenarioOptions = {}): ScenarioResult {
  const frag = fragment(key);
  const h = createCpuHarness({ memBytes: opts.memBytes ?? 2 << 20 });
  if (opts.features) h.cpu.features = opts.features;
  const cpu = h.cpu;
  if (frag.bits === 32) {
    buildEnvironment(h);
    h.writePhys(CODE32, frag.bytes);
    const seg = (selector: number, access: number) => ({ selector, base: 0, limit: 0xffffffff, access });
    cpu.init({
      eip: CODE32, esp: STACK32, cr0: 0x11,
      cs: seg(SEL_CODE32, AR_CODE32_FLAT), ds: seg(SEL_DATA32, AR_DATA32_FLAT), es: seg(SEL_DATA32, AR_DATA32_FLAT),
      fs: seg(SEL_DATA32, AR_DATA32_FLAT), gs: seg(SEL_DATA32, AR_DATA32_FLAT), ss: seg(SEL_DATA32, AR_DATA32_FLAT),
      tr: { selector: SEL_TSS, base: TSS_BASE, limit: 0x67, access: AR_TSS32_BUSY },
      gdtr: { base: GDT_BASE, limit: 0x7ff }, idtr: { base: IDT_BASE, limit: 0x7ff },
    });
  } else {
    buildEnvironment(h);
    buildRealIvt(h);
    h.writePhys(CODE16, frag.bytes);
    cpu.reset();
    h.setRegs({ cs: 0, ds: 0, es: 0, ss: 0, fs: 0, gs: 0, eip: CODE16, esp: STACK16 });
  }
  for (const [addr, bytes] of Object.entries(opts.mem ?? {})) h.writePhys(Number(addr), Uint8Array.from(bytes));
  opts.setup?.(h);
  if (opts.regs) h.setRegs(opts.regs);
  cpu.flushBlocks();
  const max = opts.maxInstructions ?? 100_000;
  let exit: ScenarioResult['exit'] = 'budget';
  if (opts.step) {
    for (let n = 0; n < max; n++) {
      const e = cpu.step();
      if (e !== 0) {
        exit = h.debugExit() !== undefined ? 'debug-exit' : e;
        break;
      }
      if (h.debugExit() !== undefined) {
        exit = 'debug-exit';
        break;
      }
    }
  } else {
    exit = h.run(max);
    if (exit === RunExit.Limit) exit = 'budget';
  }
  const rec = peek32(h, EXC_RECORD);
  const vec = frag.bits === 16 ? rec & 0xff : rec;
  const exception = (frag.bits === 16 ? (rec & 0xff) !== 0xff : rec !== NO_EXCEPTION) ? vec : undefined;
  return { h, sym: frag.symbols, regs: h.getRegs(), exception, exit };
}
