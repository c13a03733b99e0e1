// The CPU helper's bare-metal guests (test/guests-cpu): the same conventions and output format as
// test/guests (multiboot v1 kernels printing PASS/FAIL per check on COM1, a DONE line, then
// isa-debug-exit), for the areas of the "CPU completeness" work: x87, task switching, PAE/NX,
// virtual-8086 mode, real mode and SSE. Output is parsed and judged by test/guests/index.ts.
import { fileURLToPath } from 'node:url';
import type { TestGuest } from '../guests/index';
import { GUEST_CPU_CHECKS } from './manifest';
import type { CpuFeatures } from '../../src-engine/cpu/cpuid';

/** What the runners must know about a guest besides its manifest entry. */
interface GuestInfo {
  readonly theme: string;
  /** Checks where QEMU TCG 7.2 deviates from the SDM (each says why). */
  readonly qemuDeviations?: readonly string[];
  /** Extra QEMU arguments (a CPU model with the features a guest needs). */
  readonly qemuExtraArgs?: readonly string[];
  /** Features the Domus VCPU needs turned on beyond the defaults (ones not advertised yet). */
  readonly domusFeatures?: Partial<CpuFeatures>;
}

const GUEST_INFO: Readonly<Record<string, GuestInfo>> = {
  x87: {
    theme: 'FNINIT probe, exact m80/int64 round trips, arithmetic forms, RC, FCOMI, stack faults, FSAVE/FXSAVE, #NM, #MF',
    // QEMU 7.2 TCG does not detect x87 stack overflow (no IE/SF/C1, no indefinite pushed)
    qemuDeviations: ['x87.stack_overflow_indefinite'],
  },
  pae: {
    theme: 'PAE paging: PDPTEs, 2-MiB and 4-KiB pages, A/D bits, #PF codes (not present, RSVD, WP, I/D with NX), global pages',
    // QEMU 7.2 TCG reports a reserved-bit #PF without P, and flushes global entries on every CR3
    // write (allowed for a TLB, but Intel and AMD keep them)
    qemuDeviations: ['pae.reserved_bit_pf', 'pae.global_page_survives_cr3'],
    qemuExtraArgs: ['-cpu', 'qemu32,+nx'],
  },
  v86: {
    theme: 'virtual-8086 mode: IRETD entry, monitor frame, IOPL-sensitive CLI/INT, IOPL-3 flags, I/O bitmap, limits, gate DPL',
    // QEMU 7.2 TCG checks no segment limits (also not the 64 KiB of virtual-8086 segments)
    qemuDeviations: ['v86.offset_beyond_64k_gp'],
  },
  realmode: {
    theme: 'real mode and back: 16-bit PM, PE off/on, 0x66/0x67 prefixes, IVT interrupts, #GP at 64 KiB, big real mode, A20',
    // QEMU 7.2 TCG checks no segment limits, so the real-mode word at 0xFFFF does not fault
    qemuDeviations: ['rm.gp_at_64k_limit'],
  },
  sse: {
    theme: 'SSE/SSE2 moves (aligned, unaligned, scalar, MOVD/MOVQ), logic, #GP alignment, #UD, #NM, XMM in FXSAVE',
    // SSE and SSE2 are not advertised by default (the SSE arithmetic is missing): turned on here
    domusFeatures: { sse: true, sse2: true },
  },
  tasks: { theme: 'JMP/CALL/IRET task switches, busy bits, NT and link, #DF and INT n through task gates, 16-bit TSS' },
};

/** A guest of this folder, with the QEMU arguments it needs. */
export interface CpuTestGuest extends TestGuest {
  readonly qemuExtraArgs: readonly string[];
  readonly domusFeatures: Partial<CpuFeatures>;
}

function guest(name: string): CpuTestGuest {
  const checks = GUEST_CPU_CHECKS[name];
  const info = GUEST_INFO[name]!;
  if (!checks) throw new Error(`test/guests-cpu/manifest.ts has no guest "${name}": run test/guests-cpu/build.sh`);
  return {
    name,
    elfPath: fileURLToPath(new URL(`./build/${name}.elf`, import.meta.url)),
    checks,
    checkCount: checks.length,
    qemuDeviations: info.qemuDeviations ?? [],
    qemuExtraArgs: info.qemuExtraArgs ?? [],
    domusFeatures: info.domusFeatures ?? {},
    theme: info.theme,
  };
}

/** All guests of this folder, in the order the runners run them. */
export const CPU_TEST_GUESTS: readonly CpuTestGuest[] = Object.keys(GUEST_INFO).map(guest);
