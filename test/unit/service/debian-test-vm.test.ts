/**
 * The "Debian test VM" (src-engine/node/service/debian-test-vm.ts): its config boots the Linux
 * test image's 686-pae kernel and initramfs directly with the command line the image's tests use;
 * before the recipe has run it is refused with the command to run; through the engine service it
 * lands in the library once (a second click finds it). The real boot is in test/slow/linux-boot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEBIAN_TEST_CMDLINE, DEBIAN_TEST_VM_NAME, debianTestVmConfig } from '../../../src-engine/node/service/debian-test-vm';
import { parseDomainConfig } from '../../../src-engine/config/domain-config-parse';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A cache directory holding what build.mjs leaves: manifest.json, the kernels, initrd.gz. */
function fakeImage(): { cache: string; vmlinuz: string; initrd: string } {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'domus-linux-image-'));
  dirs.push(cache);
  const dir = path.join(cache, 'linux-image');
  const kdir = path.join(dir, 'kernels', 'linux-image-6.1.0-50-686-pae_6.1.176-1', 'boot');
  mkdirSync(kdir, { recursive: true });
  const vmlinuz = path.join(kdir, 'vmlinuz-6.1.0-50-686-pae');
  writeFileSync(vmlinuz, 'kernel');
  const initrd = path.join(dir, 'initrd.gz');
  writeFileSync(initrd, 'initrd');
  const manifest = { kernels: { '686-pae': { package: 'linux-image-6.1.0-50-686-pae', version: '6.1.176-1', vmlinuz } } };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { cache, vmlinuz, initrd };
}

describe('the Debian test VM', () => {
  it('uses the command line of the image tests (scripts/linux-image/markers.json)', () => {
    const markers = JSON.parse(readFileSync('scripts/linux-image/markers.json', 'utf8')) as { baseCmdline: string };
    expect(DEBIAN_TEST_CMDLINE).toBe(markers.baseCmdline);
  });

  it('boots the image kernel and initramfs directly as an HVM guest', () => {
    const img = fakeImage();
    const text = debianTestVmConfig({ DOMUS_CACHE_DIR: img.cache, HOME: img.cache });
    const r = parseDomainConfig(text, { file: 'debian-test.cfg' });
    expect(r.warnings).toEqual([]);
    expect(r.config).toMatchObject({ name: DEBIAN_TEST_VM_NAME, type: 'hvm', kernel: img.vmlinuz, ramdisk: img.initrd, memoryMiB: 256, vcpus: 2 });
    expect(text).toContain(`cmdline = "${DEBIAN_TEST_CMDLINE}"`);
  });

  it('is refused before the recipe has run, naming the command', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'domus-no-image-'));
    dirs.push(empty);
    expect(() => debianTestVmConfig({ DOMUS_CACHE_DIR: empty, HOME: empty })).toThrow(/node scripts\/linux-image\/build\.mjs/);
    // An image whose kernel file is gone counts as missing too.
    const img = fakeImage();
    rmSync(img.vmlinuz);
    expect(() => debianTestVmConfig({ DOMUS_CACHE_DIR: img.cache, HOME: img.cache })).toThrow(/has not been built/);
  });

  it('lands in the library once through the engine service (library.addDebianTestVm)', async () => {
    const img = fakeImage();
    const home = mkdtempSync(path.join(os.tmpdir(), 'domus-debian-vm-'));
    dirs.push(home);
    const saved = process.env.DOMUS_CACHE_DIR;
    process.env.DOMUS_CACHE_DIR = img.cache;
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home, DOMUS_NO_DEMO: '1' });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 64, paths, version: 'test' });
    try {
      const first = await svc.request('library.addDebianTestVm', {});
      expect(first).toMatchObject({ name: DEBIAN_TEST_VM_NAME, errors: [] });
      expect(readFileSync(path.join(paths.domainsDir, `${DEBIAN_TEST_VM_NAME}.cfg`), 'utf8')).toContain(img.vmlinuz);
      // A second click finds it; a user's edits are kept.
      writeFileSync(path.join(paths.domainsDir, `${DEBIAN_TEST_VM_NAME}.cfg`), readFileSync(path.join(paths.domainsDir, `${DEBIAN_TEST_VM_NAME}.cfg`), 'utf8').replace('memory = 256', 'memory = 300'));
      const second = await svc.request('library.addDebianTestVm', {});
      expect(second.config?.memoryMiB).toBe(300);
      expect((await svc.request('library.list', {})).map((e) => e.name)).toEqual([DEBIAN_TEST_VM_NAME]);
    } finally {
      await svc.close();
      if (saved === undefined) delete process.env.DOMUS_CACHE_DIR;
      else process.env.DOMUS_CACHE_DIR = saved;
    }
  });
});
