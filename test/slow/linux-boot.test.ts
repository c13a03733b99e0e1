/**
 * Real Linux guests (docs/linux-guests.md): Debian bookworm's 32-bit kernels (686 and 686-pae)
 * with the test initramfs from scripts/linux-image/build.mjs, booted with 1 and 2 VCPUs through
 * `domus run --kernel --initrd --append` and, as the reference that proves the image, through
 * qemu-system-i386 (TCG) with the same files. Checks, per the issue: kernel messages on ttyS0,
 * every CPU online, the marker, the workload's result (md5sum of 16 MiB of zeros), a clean
 * power-off, and a working reboot; and the same image booted by GRUB (`linux`/`initrd`) from an
 * ISO made by `domus mkrescue`.
 *
 * Skips (with the reason) when apt cannot download the packages or QEMU is missing. A Domus boot
 * that goes wrong fails with what the guest printed before it stopped (or the option `domus run`
 * lacks), never by hanging: every boot has `--timeout` and is killed 30 s after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineService } from '../../src-engine/node/service/engine-service';
import { domusPaths } from '../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../src-engine/node/worker-host';
import {
  FLAVOURS, MARKERS, boot, buildGrubIso, describeFailure, domusRunOptions, hasCommand, imageCmdline, judgeBoot, prepareImage,
  type BootConfig, type BootResult, type Expectation, type LinuxImage,
} from '../../scripts/linux-image/boot-runner';

/** Seconds a QEMU boot may take; DOMUS_LINUX_TIMEOUT overrides. */
const TIMEOUT_S = Number(process.env.DOMUS_LINUX_TIMEOUT ?? 120);
/**
 * Seconds a Domus boot may take (domus run --timeout); DOMUS_LINUX_TIMEOUT overrides. Longer than
 * QEMU's: the Domus CPU runs the kernel at a few tens of MIPS today (its XZ decompressor alone
 * retires about 1.5 billion instructions), so a boot takes minutes on a loaded 2-core machine;
 * docs/linux-guests.md has the figures.
 */
const DOMUS_TIMEOUT_S = Number(process.env.DOMUS_LINUX_TIMEOUT ?? 900);
const MEMORY_MIB = 256;
const VCPU_COUNTS = [1, 2] as const;

const prep = prepareImage();
const image: LinuxImage | undefined = 'image' in prep ? prep.image : undefined;
if (!image && 'reason' in prep && prep.skip) console.warn(`Skipping the Linux guest boots: ${prep.reason}`);
const recipeBroken = !image && 'reason' in prep && !prep.skip ? prep.reason : undefined;
const hasQemu = hasCommand('qemu-system-i386');
if (image && !hasQemu) console.warn('qemu-system-i386 is not installed: skipping the QEMU reference boots of the Linux test image');
const work = mkdtempSync(path.join(tmpdir(), 'domus-linux-boot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function config(flavour: (typeof FLAVOURS)[number], vcpus: number, action: Expectation['action'], timeoutS = TIMEOUT_S): BootConfig {
  const img = image as LinuxImage;
  return { kernel: img.kernels[flavour].vmlinuz, initrd: img.initrd, append: imageCmdline(action), vcpus, memoryMiB: MEMORY_MIB, timeoutS };
}

function expectPassed(r: BootResult, e: Expectation): void {
  const problems = judgeBoot(r, e);
  // The figures docs/linux-guests.md records (process start -> marker, and to the end).
  const marker = r.markerMs === undefined ? 'no marker' : `marker after ${(r.markerMs / 1000).toFixed(1)} s`;
  console.log(`${r.who} ${e.vcpus} VCPU(s) ${e.action}: ${marker}, ended after ${(r.wallMs / 1000).toFixed(1)} s (exit ${r.exitCode}): ${r.command}`);
  expect(problems, describeFailure(r, problems)).toEqual([]);
}

/** Fails with what `domus run` lacks for this boot, if anything. */
function requireDomusOptions(need: 'initrd' | 'cdrom'): void {
  const opts = domusRunOptions();
  if (!opts[need]) {
    throw new Error(
      `domus run has no --${need} option yet, so it cannot boot ${need === 'initrd' ? 'a Linux bzImage with an initrd (the lead adds --initrd and the bzImage path in domains: src-engine/boot/linux.ts loadLinuxKernel)' : 'an ISO through its BIOS'}. Its usage today:\n${opts.usage}`,
    );
  }
}

it.skipIf(!recipeBroken)('the Linux test image recipe runs', () => {
  throw new Error(recipeBroken);
});

describe.skipIf(!image || !hasQemu)('QEMU (TCG) boots the test image: the reference', () => {
  for (const flavour of FLAVOURS) {
    for (const vcpus of VCPU_COUNTS) {
      it(`${flavour}, ${vcpus} VCPU${vcpus > 1 ? 's' : ''}: kernel messages, CPUs, marker, md5sum, power-off`, async () => {
        expectPassed(await boot('qemu', config(flavour, vcpus, 'poweroff')), { vcpus, action: 'poweroff' });
      });
    }
  }
  it('686, 2 VCPUs: reboot -f resets the machine', async () => {
    expectPassed(await boot('qemu', config('686', 2, 'reboot')), { vcpus: 2, action: 'reboot' });
  });
  it('686 through GRUB (linux/initrd) from a domus mkrescue ISO', async () => {
    const iso = buildGrubIso(image as LinuxImage, '686', work);
    expectPassed(await boot('qemu', { cdrom: iso, vcpus: 1, memoryMiB: MEMORY_MIB, timeoutS: TIMEOUT_S }), { vcpus: 1, action: 'poweroff' });
  });
});

describe.skipIf(!image)('Domus boots the test image', () => {
  for (const flavour of FLAVOURS) {
    for (const vcpus of VCPU_COUNTS) {
      it(`${flavour}, ${vcpus} VCPU${vcpus > 1 ? 's' : ''}: domus run --kernel --initrd --append: kernel messages, CPUs, marker, md5sum, power-off`, async () => {
        requireDomusOptions('initrd');
        expectPassed(await boot('domus', config(flavour, vcpus, 'poweroff', DOMUS_TIMEOUT_S)), { vcpus, action: 'poweroff' });
      });
    }
  }
  it('686, 2 VCPUs: reboot -f resets the machine', async () => {
    requireDomusOptions('initrd');
    expectPassed(await boot('domus', config('686', 2, 'reboot', DOMUS_TIMEOUT_S)), { vcpus: 2, action: 'reboot' });
  });
  it('686 through GRUB (linux/initrd) from a domus mkrescue ISO: domus run --cdrom', async () => {
    requireDomusOptions('cdrom');
    const iso = buildGrubIso(image as LinuxImage, '686', work);
    expectPassed(await boot('domus', { cdrom: iso, vcpus: 1, memoryMiB: MEMORY_MIB, timeoutS: DOMUS_TIMEOUT_S }), { vcpus: 1, action: 'poweroff' });
  });
});

describe.skipIf(!image)('the Debian test VM (GUI: File > Debian test VM)', () => {
  it('is added to the library with one request and boots to the marker, the workload and a power-off', async () => {
    const home = path.join(work, 'debian-vm');
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: process.env.HOME ?? home, DOMUS_NO_DEMO: '1' });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 512, paths, version: 'test' });
    let out = '';
    try {
      await svc.engine.whenReady();
      const entry = await svc.request('library.addDebianTestVm', {});
      expect(entry.errors).toEqual([]);
      const t0 = Date.now();
      const r = await svc.request('domain.create', { library: entry.name });
      const d = svc.domains.get(r.domid);
      const text = (): string => new TextDecoder().decode(d?.consoles.get(1)?.contents());
      while (Date.now() - t0 < DOMUS_TIMEOUT_S * 1000 && d?.shutdown === undefined && !text().includes(MARKERS.poweroff)) {
        await new Promise((res) => setTimeout(res, 500));
      }
      out = text();
      console.log(`Debian test VM: ${out.includes(MARKERS.marker) ? 'marker' : 'no marker'} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      expect(out).toContain(MARKERS.marker);
      expect(out).toContain(`${MARKERS.cpusPrefix}0-1 count=2`);
      expect(out).toContain(`${MARKERS.resultPrefix}${MARKERS.expectedMd5}`);
      expect(out).toContain(MARKERS.poweroff);
    } finally {
      await svc.close();
    }
  }, (DOMUS_TIMEOUT_S + 60) * 1000);
});
