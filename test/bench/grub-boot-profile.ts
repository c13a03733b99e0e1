/**
 * Where a GRUB ISO boot spends its guest instructions and its time (the breakdown of
 * docs/boot-performance.md), measured on the in-process HVM machine:
 *
 * - phases, found at slice boundaries (every SLICE_INSNS instructions of test/support/
 *   hvm-machine.ts): the boot image in real mode, GRUB's LZMA decompressor (protected mode, code
 *   of core.img below the kernel's link address), GRUB's kernel up to its first serial output (module
 *   loading through INT 13h, grub.cfg), the menu entry until "Booting", and the multiboot load
 *   until the kernel's first line; instructions, milliseconds and the compiled share of each;
 * - a sampled profile: the code page and mode at every slice boundary;
 * - BIOS calls by service and port accesses by port (each is a VM exit in the engine);
 * - the JIT's statistics.
 */
import { createHvmMachine } from '../support/hvm-machine';
import { openFileBlockBackend } from '../../src-engine/node/disk/file-block-backend';
import { S_EIP, SEG_CS } from '../../src-engine/cpu/state';

/** GRUB_KERNEL_I386_PC_LINK_ADDR (grub include/grub/offsets.h): GRUB's kernel runs from here up. */
const GRUB_KERNEL_LINK_ADDR = 0x9000;
/** GRUB_BOOT_I386_PC_KERNEL_SEG * 16: core.img (startup_raw + LZMA decompressor) is loaded here. */
const GRUB_CORE_ADDR = 0x8000;
/** Bytes of a page (the profile's unit of code). */
const PAGE = 4096;
/** What GRUB prints when the menu entry starts (grub-core/normal/menu.c). */
const BOOTING = 'Booting `';

/** One phase of the boot. */
export interface BootPhase {
  name: string;
  instructions: number;
  compiled: number;
  ms: number;
  /** Sampled code pages of the phase ("mode page" -> samples). */
  pages: Map<string, number>;
}

/** The profile of one boot. */
export interface BootProfile {
  totalMs: number;
  instructions: number;
  phases: BootPhase[];
  /** Sampled code pages: "mode page" -> samples, with the sample interval in instructions. */
  pages: { key: string; samples: number }[];
  sampleEvery: number;
  biosCalls: { name: string; count: number }[];
  ports: { key: string; count: number }[];
  jit: Record<string, number>;
}

type Phase = 'real mode (boot image, core.img)' | 'LZMA decompressor' | 'GRUB kernel until serial output' | 'menu entry until "Booting"' | 'multiboot load until the first line';

/** Boots `iso` once, sampling as it goes, until the serial console shows `marker`. */
export function profileGrubBoot(iso: string, marker: string): BootProfile {
  const t0 = performance.now();
  const cd = openFileBlockBackend({ path: iso, medium: 'cdrom' });
  const m = createHvmMachine({ memoryMiB: 128, cdroms: [cd] });
  const calls = new Map<string, number>();
  m.bios.trace = (e) => {
    const name = e.service ? `INT ${e.vector.toString(16)}h ${e.service.name}` : `INT ${e.vector.toString(16)}h AX=${e.ax.toString(16)} (unsupported)`;
    calls.set(name, (calls.get(name) ?? 0) + 1);
  };
  const ports = new Map<string, number>();
  const bus = m.platform.bus;
  const read = bus.read.bind(bus);
  const write = bus.write.bind(bus);
  bus.read = (port, size) => {
    const k = `in ${port.toString(16)}h`;
    ports.set(k, (ports.get(k) ?? 0) + 1);
    return read(port, size);
  };
  bus.write = (port, size, value) => {
    const k = `out ${port.toString(16)}h`;
    ports.set(k, (ports.get(k) ?? 0) + 1);
    write(port, size, value);
  };

  const stats = m.cpu.jitRegistry.stats;
  const order: Phase[] = ['real mode (boot image, core.img)', 'LZMA decompressor', 'GRUB kernel until serial output', 'menu entry until "Booting"', 'multiboot load until the first line'];
  const phases: BootPhase[] = order.map((name) => ({ name, instructions: 0, compiled: 0, ms: 0, pages: new Map<string, number>() }));
  let at = 0;
  let mark = { icount: 0, compiled: stats.insnsRun, ms: performance.now() };
  const close = (next: number) => {
    const now = { icount: m.cpu.icount, compiled: stats.insnsRun, ms: performance.now() };
    const p = phases[at];
    p.instructions += now.icount - mark.icount;
    p.compiled += now.compiled - mark.compiled;
    p.ms += now.ms - mark.ms;
    mark = now;
    at = next;
  };
  const pages = new Map<string, number>();
  let samples = 0;
  const stop = m.run({
    until: () => {
      const cpu = m.cpu;
      const lin = (cpu.s[S_EIP] + cpu.segBase[SEG_CS]) >>> 0;
      const key = `${cpu.pe ? (cpu.cs32 ? 'pm32' : 'pm16') : 'real'} ${(lin & ~(PAGE - 1)).toString(16).padStart(8, '0')}`;
      pages.set(key, (pages.get(key) ?? 0) + 1);
      phases[at].pages.set(key, (phases[at].pages.get(key) ?? 0) + 1);
      samples++;
      const out = m.serial();
      if (at === 0 && cpu.pe) close(1);
      if (at === 1 && cpu.pe && (lin < GRUB_CORE_ADDR || lin >= GRUB_KERNEL_LINK_ADDR)) close(2);
      if (at === 2 && out.length > 0) close(3);
      if (at === 3 && out.includes(BOOTING)) close(4);
      if (out.includes(marker)) {
        close(at);
        return true;
      }
      return false;
    },
    maxMs: 600_000,
  });
  cd.close();
  if (stop !== 'condition') throw new Error(`the profiled boot stopped (${stop}) before "${marker}"`);
  const sorted = <K>(mp: Map<K, number>) => [...mp].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: performance.now() - t0,
    instructions: m.cpu.icount,
    phases,
    pages: sorted(pages).map(([key, n]) => ({ key, samples: n })),
    sampleEvery: m.cpu.icount / Math.max(1, samples),
    biosCalls: sorted(calls).map(([name, count]) => ({ name, count })),
    ports: sorted(ports).map(([key, count]) => ({ key, count })),
    jit: { ...stats },
  };
}

/** The profile as lines for the benchmark's output. */
export function describeProfile(p: BootProfile, topPages = 12): string[] {
  const out: string[] = [];
  const M = (n: number) => (n / 1e6).toFixed(2);
  out.push(`profile: ${M(p.instructions)} M instructions, ${p.totalMs.toFixed(0)} ms from machine creation (POST included)`);
  for (const ph of p.phases) {
    const mips = ph.ms > 0 ? (ph.instructions / ph.ms / 1000).toFixed(1) : '-';
    const share = ph.instructions > 0 ? ((100 * ph.compiled) / ph.instructions).toFixed(0) : '0';
    const top = [...ph.pages].sort((a, b) => b[1] - a[1]).slice(0, 4);
    out.push(`  ${ph.name}: ${M(ph.instructions)} M instructions, ${ph.ms.toFixed(0)} ms (${mips} MIPS), ${share}% compiled; pages ${top.map(([k, n]) => `${k} x${n}`).join(', ')}`);
  }
  out.push(`  sampled code pages (one sample per ${Math.round(p.sampleEvery)} instructions):`);
  for (const pg of p.pages.slice(0, topPages)) out.push(`    ${pg.key}: ${pg.samples}`);
  out.push(`  BIOS calls: ${p.biosCalls.map((c) => `${c.name} x${c.count}`).join('; ')}`);
  out.push(`  port accesses: ${p.ports.map((c) => `${c.key} x${c.count}`).join(', ')}`);
  const j = p.jit;
  out.push(`  JIT: ${j.compiles} regions (${j.insnsCompiled} instructions) compiled in ${j.compileMs.toFixed(0)} ms, ${j.deferred} deferred, ${j.invalidations} blocks rewritten, ${j.revalidations} regions revalidated, ${M(j.insnsRun)} M instructions run compiled, of them ${M(j.insnsCopied)} M by ${j.copyLoops} copy loops in bulk`);
  return out;
}
