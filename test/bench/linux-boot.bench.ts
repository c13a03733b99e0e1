/**
 * Linux boot time: process start -> the test image's marker line (/init started), for Debian's
 * 686 and 686-pae kernels with 1 and 2 VCPUs, Domus (`domus run --kernel --initrd --append`) next
 * to QEMU TCG (qemu-system-i386 -kernel -initrd -append) on the same files in the same run, and the
 * ratio Domus / QEMU; then the same through GRUB from a `domus mkrescue` ISO (686, 1 VCPU).
 * Configurations that cannot run yet are listed as skipped, with the reason. A boot that does not
 * reach the marker is reported with its first failed check. DOMUS_BENCH_RUNS (default 1) boots
 * each configuration that many times and reports the median.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  FLAVOURS, MARKERS, boot, buildGrubIso, domusRunOptions, hasCommand, imageCmdline, judgeBoot, prepareImage,
  type BootConfig, type BootResult, type LinuxImage,
} from '../../scripts/linux-image/boot-runner';

const RUNS = Number(process.env.DOMUS_BENCH_RUNS ?? 1);
/**
 * Seconds one boot may take (DOMUS_LINUX_TIMEOUT overrides): a Domus boot takes 45-90 s on an
 * idle 2-core machine and several minutes under load (docs/linux-guests.md), as in the slow test.
 */
const TIMEOUT_S = Number(process.env.DOMUS_LINUX_TIMEOUT ?? 900);
const MEMORY_MIB = 256;

interface Timing {
  /** Median ms to the marker, or undefined with the reason. */
  ms?: number;
  why?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

async function time(who: 'domus' | 'qemu', c: BootConfig, vcpus: number): Promise<Timing> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r: BootResult = await boot(who, c);
    if (r.markerMs === undefined) {
      const problems = judgeBoot(r, { vcpus, action: 'poweroff' });
      return { why: `no marker (${problems[0] ?? `exit ${r.exitCode}`}; stderr: ${r.stderr.trim().split('\n').pop() ?? ''})` };
    }
    times.push(r.markerMs);
  }
  return { ms: median(times) };
}

const fmt = (t: Timing): string => (t.ms !== undefined ? `${(t.ms / 1000).toFixed(2).padStart(6)} s` : 'skipped');

function line(label: string, domus: Timing, qemu: Timing): string {
  const ratio = domus.ms !== undefined && qemu.ms !== undefined ? `  ratio ${(domus.ms / qemu.ms).toFixed(2)}` : '';
  const why = [domus.why && `Domus: ${domus.why}`, qemu.why && `QEMU: ${qemu.why}`].filter(Boolean).join('; ');
  return `${label.padEnd(22)} Domus ${fmt(domus)}   QEMU ${fmt(qemu)}${ratio}${why ? `   (${why})` : ''}`;
}

/** Prints the figures. */
export default async function bench(log: (line: string) => void): Promise<void> {
  const prep = prepareImage();
  if (!('image' in prep)) {
    log(`skipped: ${prep.reason}`);
    return;
  }
  const image: LinuxImage = prep.image;
  const hasQemu = hasCommand('qemu-system-i386');
  const opts = domusRunOptions();
  const noQemu: Timing = { why: 'qemu-system-i386 is not installed' };
  log(`process start -> "${MARKERS.marker}", ${MEMORY_MIB} MiB, median of ${RUNS} run(s); ${image.kernels['686'].package} ${image.kernels['686'].version}`);
  for (const flavour of FLAVOURS) {
    for (const vcpus of [1, 2]) {
      const c: BootConfig = { kernel: image.kernels[flavour].vmlinuz, initrd: image.initrd, append: imageCmdline('poweroff'), vcpus, memoryMiB: MEMORY_MIB, timeoutS: TIMEOUT_S };
      const domus = opts.initrd ? await time('domus', c, vcpus) : { why: 'domus run has no --initrd option yet' };
      const qemu = hasQemu ? await time('qemu', c, vcpus) : noQemu;
      log(line(`${flavour} ${vcpus} VCPU${vcpus > 1 ? 's' : ' '} direct`, domus, qemu));
    }
  }
  const work = mkdtempSync(path.join(tmpdir(), 'domus-linux-bench-'));
  try {
    const c: BootConfig = { cdrom: buildGrubIso(image, '686', work), vcpus: 1, memoryMiB: MEMORY_MIB, timeoutS: TIMEOUT_S };
    const domus = opts.cdrom ? await time('domus', c, 1) : { why: 'domus run has no --cdrom option yet' };
    const qemu = hasQemu ? await time('qemu', c, 1) : noQemu;
    log(line('686 1 VCPU  GRUB ISO', domus, qemu));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
