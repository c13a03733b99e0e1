/**
 * PVH guests in the real engine (hypervisor thread + pCPU workers): `domus run` recognises a PVH
 * kernel and shows its PV console; an xl.cfg PVH domain with two PV disks (one read-only) reads
 * and writes its image files through blkback, and its writes are on disk when it powers off.
 * The same guests run on virtual time in test/unit/xen; here the point is the runtime wiring.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import { patternDisk } from '../../support/pvh-disk';

const GUESTS = path.resolve('test/guests-pvh/build');
const MINIOS = process.env.DOMUS_MINIOS_ELF ?? path.resolve('test/guests-pvh/mini-os/mini-os-x86_32-pvh.elf');
const HAS_MINIOS = existsSync(MINIOS);
if (!HAS_MINIOS) console.warn(`pvh-engine: Mini-OS test skipped, no build at ${MINIOS} (run test/guests-pvh/mini-os/build.sh)`);
const SECTOR = 512;
const work = mkdtempSync(path.join(os.tmpdir(), 'domus-pvh-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


describe('PVH guests in the engine', () => {
  it('domus run boots a PVH kernel (no multiboot header) and prints its PV console', () => {
    const r = spawnSync(process.execPath, ['bin/domus', 'run', '--kernel', `${GUESTS}/basic.elf`, '--append', 'tag=basic-cmdline', '--timeout', '20'], {
      encoding: 'latin1',
      timeout: 60_000,
    });
    // The guest checks the Xen interfaces, then waits for a shutdown request that never comes.
    expect(r.stdout).toContain('PASS hypercall-page');
    expect(r.stdout).toContain('PASS start-info-cmdline');
    expect(r.stdout).toMatch(/DONE basic pass=\d+ fail=\d+/);
    expect(r.stdout).toContain('WAITING-SHUTDOWN');
    expect(r.status).toBe(124);
  }, 60_000);

  it('domus run boots the 2-VCPU PVH guest: APs up through VCPUOP_initialise/up, IPIs, locks, timers and upcalls on both', () => {
    const r = spawnSync(process.execPath, ['bin/domus', 'run', '--kernel', `${GUESTS}/smp.elf`, '--vcpus', '2', '--pcpus', '2', '--timeout', '60'], {
      encoding: 'latin1',
      timeout: 90_000,
    });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL '))).toEqual([]);
    expect(r.stdout).toMatch(/DONE smp pass=\d+ fail=0/);
    expect(r.status, r.stderr).toBe(0);
  });

  it('an xl.cfg PVH domain reads and writes its PV disk files and powers off', async () => {
    const xvda = path.join(work, 'xvda.img');
    const xvdb = path.join(work, 'xvdb.img');
    writeFileSync(xvda, patternDisk(1 << 20));
    writeFileSync(xvdb, new Uint8Array(64 * 1024));
    const home = path.join(work, 'home');
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 128, paths, version: 'test' });
    try {
      await svc.engine.whenReady();
      const cfg = `name = "pvh-blk"\ntype = "pvh"\nmemory = 8\nkernel = "${GUESTS}/blk.elf"\non_poweroff = "preserve"\ndisk = [ "${xvda},raw,xvda,rw", "${xvdb},raw,xvdb,ro" ]\n`;
      const r = await svc.request('domain.create', { xlcfg: cfg });
      const t0 = Date.now();
      while (Date.now() - t0 < 60_000 && svc.domains.get(r.domid)?.shutdown === undefined) await new Promise((res) => setTimeout(res, 50));
      const text = new TextDecoder().decode(svc.domains.get(r.domid)?.consoles.get(0)?.contents());
      expect(svc.domains.get(r.domid)?.shutdown?.reason, text).toBe('poweroff');
      expect(text.split('\n').filter((l) => l.startsWith('FAIL '))).toEqual([]);
      expect(text).toContain('PASS blk-read-back');
      await svc.request('domain.destroy', { domain: r.domid });
    } finally {
      await svc.close();
    }
    // The guest's write is in the file at sector 16; the rest of the image is as it was.
    const image = readFileSync(xvda);
    expect(new TextDecoder().decode(image.subarray(16 * SECTOR, 16 * SECTOR + 19))).toBe('written by pvh-blk ');
    const expected = patternDisk(1 << 20);
    expect(Buffer.from(image.subarray(0, 16 * SECTOR)).equals(Buffer.from(expected.subarray(0, 16 * SECTOR)))).toBe(true);
    expect(Buffer.from(image.subarray(24 * SECTOR)).equals(Buffer.from(expected.subarray(24 * SECTOR)))).toBe(true);
    expect(readFileSync(xvdb).every((b) => b === 0)).toBe(true);
  }, 90_000);

  it.skipIf(!HAS_MINIOS)('Mini-OS (third-party) boots, passes its xenstore tests, and powers off on domain.shutdown', async () => {
    const home = path.join(work, 'home-minios');
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 128, paths, version: 'test' });
    try {
      await svc.engine.whenReady();
      const cfg = `name = "mini-os"\ntype = "pvh"\nmemory = 32\nkernel = "${MINIOS}"\nvif = [ "mac=00:16:3e:12:34:56" ]\non_poweroff = "preserve"\n`;
      const r = await svc.request('domain.create', { xlcfg: cfg });
      const text = (): string => new TextDecoder().decode(svc.domains.get(r.domid)?.consoles.get(0)?.contents()).replace(/\r\n/g, '\n');
      const t0 = Date.now();
      while (Date.now() - t0 < 60_000 && !text().includes('Thread "xenbus_tester" exited.')) await new Promise((res) => setTimeout(res, 100));
      expect(text()).toContain('Xen Minimal OS (hvm)!');
      expect(text()).toContain('Read device/vif/0/mac -> 00:16:3e:12:34:56.');
      expect(text()).toContain('Read device/vif/0/flibble -> widget.');
      expect(text()).toContain('Thread "xenbus_tester" exited.');
      expect(text()).not.toMatch(/Result E[A-Z]+/);
      await svc.request('domain.shutdown', { domain: r.domid });
      const t1 = Date.now();
      while (Date.now() - t1 < 30_000 && svc.domains.get(r.domid)?.shutdown === undefined) await new Promise((res) => setTimeout(res, 50));
      expect(svc.domains.get(r.domid)?.shutdown?.reason, text()).toBe('poweroff');
      await svc.request('domain.destroy', { domain: r.domid });
    } finally {
      await svc.close();
    }
  }, 120_000);
});
