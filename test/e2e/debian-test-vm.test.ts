/**
 * End-to-end: File > Debian test VM. Before the Linux test image exists the GUI says which
 * command builds it; once it exists (here a stand-in cache with the recipe's layout: manifest,
 * kernel, initrd) one click puts "debian-test" in the VM list, selected, with the image's kernel
 * and initrd in its config. The real boot of that config is in test/slow/linux-boot.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, startRig, until, waitText, type GuiRig } from './harness';

/** Writes what scripts/linux-image/build.mjs leaves in DOMUS_CACHE_DIR/linux-image. */
function fakeImage(cache: string): string {
  const dir = path.join(cache, 'linux-image');
  const kdir = path.join(dir, 'kernels', 'k', 'boot');
  mkdirSync(kdir, { recursive: true });
  const vmlinuz = path.join(kdir, 'vmlinuz-6.1.0-50-686-pae');
  writeFileSync(vmlinuz, 'kernel');
  writeFileSync(path.join(dir, 'initrd.gz'), 'initrd');
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ kernels: { '686-pae': { package: 'linux-image-6.1.0-50-686-pae', version: '6.1.176-1', vmlinuz } } }));
  return vmlinuz;
}

describe.skipIf(!HAS_CHROMIUM).sequential('File > Debian test VM', () => {
  let rig: GuiRig;
  const cache = mkdtempSync(path.join(os.tmpdir(), 'domus-e2e-linux-image-'));
  const saved = process.env.DOMUS_CACHE_DIR;

  beforeAll(async () => {
    process.env.DOMUS_CACHE_DIR = cache;
    rig = await startRig({ pcpus: 1, memoryPoolMiB: 64 });
  });
  afterAll(async () => {
    await rig?.close();
    if (saved === undefined) delete process.env.DOMUS_CACHE_DIR;
    else process.env.DOMUS_CACHE_DIR = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  const click = async (): Promise<void> => {
    await rig.page.getByText('File', { exact: true }).click();
    await rig.page.getByRole('menuitem', { name: 'Debian test VM' }).click();
  };

  it('names the command that builds the image while there is none', async () => {
    await click();
    await waitText(rig.page.getByText(/Adding the Debian test VM failed/), /node scripts\/linux-image\/build\.mjs/);
    expect((await rig.api.call('library.list', {})).some((e) => e.name === 'debian-test')).toBe(false);
  });

  it('adds the VM with one click once the image exists, and selects it', async () => {
    const vmlinuz = fakeImage(cache);
    await click();
    const row = rig.page.getByRole('row', { name: /debian-test/ });
    await until(async () => (await row.count()) > 0, 20_000, 'the debian-test row');
    await until(async () => (await row.getAttribute('aria-selected')) === 'true', 20_000, 'debian-test selected');
    const entry = (await rig.api.call('library.list', {})).find((e) => e.name === 'debian-test');
    expect(entry?.config).toMatchObject({ type: 'hvm', kernel: vmlinuz, memoryMiB: 256, vcpus: 2 });
  });
});
