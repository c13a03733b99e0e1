/**
 * `xl vcpu-set` on a running HVM Linux guest, through ACPI CPU hotplug (docs/toolstack.md,
 * "vcpu-set"): Debian's 686-pae kernel with the test initramfs in its hotplug mode
 * (scripts/linux-image/init.sh, kernel parameter domus.test=hotplug), created through the engine
 * service with vcpus=1 and maxvcpus=2. `domain.setVcpus 2` must make the guest find CPU 1
 * (Notify Device Check, _STA, _MAT), bring it up with INIT/SIPI when /init onlines it, and run
 * work pinned to it; `domain.setVcpus 1` must make the guest offline and eject it (_EJ0), after
 * which the VCPU leaves the scheduler.
 *
 * Skips (with the reason) when the image cannot be built; takes minutes (a Linux boot on the
 * Domus CPU), so it runs only with the slow suite:
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
/** Seconds for the guest to act on one vcpu-set (the hotplug loop polls every second). */
const HOTPLUG_TIMEOUT_S = 180;
/** md5sum of 16 MiB of zeros (the work run on the new CPU; the same as the boot workload). */
const MD5_16MIB_ZEROS = MARKERS.expectedMd5;

const prep = prepareImage();
const image: LinuxImage | undefined = 'image' in prep ? prep.image : undefined;
if (!image && 'reason' in prep) console.warn(`Skipping the Linux vcpu-set test: ${prep.reason}`);
const work = mkdtempSync(path.join(tmpdir(), 'domus-linux-hotplug-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('xl vcpu-set on an HVM Linux guest (ACPI CPU hotplug)', () => {
  it.skipIf(!image)('vcpus=1 maxvcpus=2: vcpu-set 2 brings CPU 1 online and it runs work; vcpu-set 1 ejects it', async () => {
    const img = image as LinuxImage;
    const home = path.join(work, 'home');
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 512, paths, version: 'test' });
    try {
      await svc.engine.whenReady();
      const cfg = [
        'name = "hotplug"',
        'type = "hvm"',
        `kernel = "${img.kernels['686-pae'].vmlinuz}"`,
        `ramdisk = "${img.initrd}"`,
        `cmdline = "${imageCmdline('poweroff')} ${MARKERS.hotplugParameter}"`,
        'memory = 256',
        'vcpus = 1',
        'maxvcpus = 2',
        "serial = [ 'pty' ]",
        'on_poweroff = "preserve"',
        '',
      ].join('\n');
      const t0 = Date.now();
      const r = await svc.request('domain.create', { xlcfg: cfg });
      const d = svc.domains.get(r.domid);
      const text = (): string => new TextDecoder().decode(d?.consoles.get(1)?.contents()).replace(/\r/g, '');
      const waitFor = async (what: string, timeoutS: number): Promise<void> => {
        const until = Date.now() + timeoutS * 1000;
        while (Date.now() < until && d?.shutdown === undefined && !text().includes(what)) await new Promise((res) => setTimeout(res, 500));
        expect(text(), `waiting for "${what}"; last lines:\n${text().split('\n').slice(-30).join('\n')}`).toContain(what);
      };
      const onlineVcpus = async (): Promise<number> => {
        const rows = await svc.request('domain.list', {});
        return (rows as { name: string; onlineVcpus: number }[]).find((x) => x.name === 'hotplug')?.onlineVcpus ?? -1;
      };

      await waitFor(MARKERS.hotplugWaiting, BOOT_TIMEOUT_S);
      console.log(`hotplug guest in its loop after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const boot = text();
      // One CPU at boot, one more possible (the MADT's disabled entry), nothing else online.
      expect(boot).toContain(`${MARKERS.cpusPrefix}0 count=1`);
      expect(boot).toMatch(/Allowing 2 CPUs, 1 hotplug CPUs/);
      expect(await onlineVcpus()).toBe(1);

      const t1 = Date.now();
      await svc.request('domain.setVcpus', { domain: 'hotplug', count: 2 });
      await waitFor(`${MARKERS.cpusPrefix}0-1 count=2`, HOTPLUG_TIMEOUT_S);
      console.log(`CPU 1 online in the guest ${((Date.now() - t1) / 1000).toFixed(1)} s after vcpu-set 2`);
      expect(text()).toContain(`${MARKERS.hotplugWorkPrefix}1: ${MD5_16MIB_ZEROS}`);
      expect(await onlineVcpus()).toBe(2);

      const t2 = Date.now();
      await svc.request('domain.setVcpus', { domain: 'hotplug', count: 1 });
      const afterAdd = text().length;
      const until = Date.now() + HOTPLUG_TIMEOUT_S * 1000;
      while (Date.now() < until && !text().slice(afterAdd).includes(`${MARKERS.cpusPrefix}0 count=1`)) await new Promise((res) => setTimeout(res, 500));
      expect(text().slice(afterAdd), text().split('\n').slice(-30).join('\n')).toContain(`${MARKERS.cpusPrefix}0 count=1`);
      // The guest ran _EJ0 after offlining the CPU: the VCPU leaves the scheduler.
      const ejectUntil = Date.now() + 30_000;
      while (Date.now() < ejectUntil && (await onlineVcpus()) !== 1) await new Promise((res) => setTimeout(res, 200));
      console.log(`CPU 1 ejected ${((Date.now() - t2) / 1000).toFixed(1)} s after vcpu-set 1`);
      expect(await onlineVcpus()).toBe(1);
      expect(text()).not.toMatch(/Kernel panic|BUG:|Oops:|general protection fault/);
      await svc.request('domain.destroy', { domain: 'hotplug' });
    } finally {
      await svc.close();
    }
  }, (BOOT_TIMEOUT_S + 3 * HOTPLUG_TIMEOUT_S + 60) * 1000);
});
