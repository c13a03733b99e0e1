/**
 * `xl vcpu-set` on a running HVM Linux guest, through ACPI CPU hotplug (docs/toolstack.md,
 * "vcpu-set"): Debian's 686-pae kernel with the test initramfs in its hotplug mode
 * (scripts/linux-image/init.sh, kernel parameter domus.test=hotplug), created through the engine
 * service with vcpus=1 and maxvcpus=2 (and the 686 kernel with maxvcpus=4: 3, 4, then 2 VCPUs).
 * `domain.setVcpus 2` must make the guest find CPU 1
 * (Notify Device Check, _STA, _MAT), bring it up with INIT/SIPI when /init onlines it, and run
 * work pinned to it; `domain.setVcpus 1` must make the guest offline and eject it (_EJ0), after
 * which the VCPU leaves the scheduler.
 *
 * Skips (with the reason) when the image cannot be built; takes minutes (a Linux boot on the
 * Domus CPU) per case, so it runs only with the slow suite:
 *   npx vitest run --config vitest.slow.config.ts test/slow/linux-vcpu-hotplug.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineService } from '../../src-engine/node/service/engine-service';
import { domusPaths } from '../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../src-engine/node/worker-host';
import { MARKERS, imageCmdline, prepareImage, type LinuxImage } from '../../scripts/linux-image/boot-runner';

/** Seconds to wait for the boot to reach /init's hotplug loop; DOMUS_LINUX_TIMEOUT overrides. */
const BOOT_TIMEOUT_S = Number(process.env.DOMUS_LINUX_TIMEOUT ?? 900);
/**
 * Seconds for the guest to act on one vcpu-set (the hotplug loop polls every second, and the work
 * pinned to each new CPU takes 50-170 s at load 10-12 on 2 cores, the slowest with 4 VCPUs); DOMUS_HOTPLUG_TIMEOUT overrides.
 */
const HOTPLUG_TIMEOUT_S = Number(process.env.DOMUS_HOTPLUG_TIMEOUT ?? 600);
/** md5sum of 16 MiB of zeros (the work run on the new CPU; the same as the boot workload). */
const MD5_16MIB_ZEROS = MARKERS.expectedMd5;

const prep = prepareImage();
const image: LinuxImage | undefined = 'image' in prep ? prep.image : undefined;
if (!image && 'reason' in prep) console.warn(`Skipping the Linux vcpu-set test: ${prep.reason}`);
const work = mkdtempSync(path.join(tmpdir(), 'domus-linux-hotplug-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One `domain.setVcpus` and what the guest must show after it. */
interface Step {
  count: number;
  /** /sys/devices/system/cpu/online afterwards. */
  online: string;
  /** CPUs that must be brought up (kernel message, work run pinned to them). */
  added: number[];
}

/** Boots the image with vcpus=1 and `maxvcpus`, runs the steps, checks the guest and `xl list`. */
async function hotplugRun(flavour: '686' | '686-pae', maxvcpus: number, steps: readonly Step[]): Promise<void> {
  const img = image as LinuxImage;
  const home = path.join(work, `home-${flavour}-${maxvcpus}`);
  const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
  const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 512, paths, version: 'test' });
  try {
    await svc.engine.whenReady();
    const cfg = [
      'name = "hotplug"',
      'type = "hvm"',
      `kernel = "${img.kernels[flavour].vmlinuz}"`,
      `ramdisk = "${img.initrd}"`,
      `cmdline = "${imageCmdline('poweroff')} ${MARKERS.hotplugParameter}"`,
      'memory = 256',
      'vcpus = 1',
      `maxvcpus = ${maxvcpus}`,
      "serial = [ 'pty' ]",
      'on_poweroff = "preserve"',
      '',
    ].join('\n');
    const t0 = Date.now();
    const r = await svc.request('domain.create', { xlcfg: cfg });
    const d = svc.domains.get(r.domid);
    const text = (): string => new TextDecoder().decode(d?.consoles.get(1)?.contents()).replace(/\r/g, '');
    const tail = (): string => text().split('\n').slice(-30).join('\n');
    /** Waits until the console after offset `from` contains `what`. */
    const waitFor = async (what: string, from: number, timeoutS: number): Promise<void> => {
      const until = Date.now() + timeoutS * 1000;
      while (Date.now() < until && d?.shutdown === undefined && !text().slice(from).includes(what)) await new Promise((res) => setTimeout(res, 500));
      expect(text().slice(from), `waiting for "${what}"; last lines:\n${tail()}`).toContain(what);
    };
    const onlineVcpus = async (): Promise<number> => {
      const rows = await svc.request('domain.list', {});
      return (rows as { name: string; onlineVcpus: number }[]).find((x) => x.name === 'hotplug')?.onlineVcpus ?? -1;
    };

    await waitFor(MARKERS.hotplugWaiting, 0, BOOT_TIMEOUT_S);
    console.log(`${flavour} maxvcpus=${maxvcpus}: hotplug loop after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // One CPU at boot, the others possible (the MADT's entries without Enabled).
    expect(text()).toContain(`${MARKERS.cpusPrefix}0 count=1`);
    expect(text()).toContain(`Allowing ${maxvcpus} CPUs, ${maxvcpus - 1} hotplug CPUs`);
    expect(await onlineVcpus()).toBe(1);

    for (const step of steps) {
      const from = text().length;
      const t1 = Date.now();
      await svc.request('domain.setVcpus', { domain: 'hotplug', count: step.count });
      await waitFor(`${MARKERS.cpusPrefix}${step.online} count=${step.count}`, from, HOTPLUG_TIMEOUT_S);
      const seen = text().slice(from);
      for (const cpu of step.added) {
        expect(seen).toContain(`Booting Node 0 Processor ${cpu} APIC 0x${cpu.toString(16)}`);
        expect(seen).toContain(`${MARKERS.hotplugWorkPrefix}${cpu}: ${MD5_16MIB_ZEROS}`);
      }
      // Removed CPUs leave the scheduler once the guest ran _EJ0 after taking them offline.
      const until = Date.now() + 30_000;
      while (Date.now() < until && (await onlineVcpus()) !== step.count) await new Promise((res) => setTimeout(res, 200));
      expect(await onlineVcpus()).toBe(step.count);
      console.log(`vcpu-set ${step.count}: online ${step.online} after ${((Date.now() - t1) / 1000).toFixed(1)} s; the guest said:\n` +
        seen.split('\n').filter((l) => /CPU|cpu|Processor|ACPI/.test(l)).join('\n'));
    }
    expect(text()).not.toMatch(/Kernel panic|BUG:|Oops:|general protection fault/);
    await svc.request('domain.destroy', { domain: 'hotplug' });
  } finally {
    await svc.close();
  }
}

describe('xl vcpu-set on an HVM Linux guest (ACPI CPU hotplug)', () => {
  it.skipIf(!image)('686-pae, vcpus=1 maxvcpus=2: vcpu-set 2 brings CPU 1 up and it runs work; vcpu-set 1 ejects it', async () => {
    await hotplugRun('686-pae', 2, [
      { count: 2, online: '0-1', added: [1] },
      { count: 1, online: '0', added: [] },
    ]);
  }, (BOOT_TIMEOUT_S + 2 * HOTPLUG_TIMEOUT_S + 120) * 1000);

  it.skipIf(!image)('686, vcpus=1 maxvcpus=4: vcpu-set 3, 4, then 2', async () => {
    await hotplugRun('686', 4, [
      { count: 3, online: '0-2', added: [1, 2] },
      { count: 4, online: '0-3', added: [3] },
      { count: 2, online: '0-1', added: [] },
    ]);
  }, (BOOT_TIMEOUT_S + 3 * HOTPLUG_TIMEOUT_S + 120) * 1000);
});
