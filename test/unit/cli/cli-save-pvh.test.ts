// `domus save` and `domus restore` of a PVH domain against a daemon (real engine, worker
// threads): the basic PVH guest with a PV disk is saved while it waits for control/shutdown,
// restored under its domid with its xenstore nodes and watches, and `domus shutdown` still powers
// it off through its control/shutdown watch. A damaged image, one of another format and one
// whose disk file is gone are refused with messages that name the problem, and create nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEngineDaemon, type EngineDaemon } from '../../../src-engine/node/daemon/engine-daemon';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { domus } from '../../support/cli-run';

const BASIC = path.resolve('test/guests-pvh/build/basic.elf');
const WAIT_MS = 60000;

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = WAIT_MS): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('domus save / restore of a PVH domain (daemon)', () => {
  let home: string;
  let env: Record<string, string>;
  let daemon: EngineDaemon;
  let log: string;

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'domus-pvh-save-'));
    env = { DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home };
    daemon = await startEngineDaemon({ pcpus: 2, memoryPoolMiB: 128, paths: domusPaths(env) });
    writeFileSync(path.join(home, 'disk.img'), new Uint8Array(1 << 20).fill(0x5a));
    writeFileSync(
      path.join(home, 'basic.cfg'),
      `name = "pvhb"\ntype = "pvh"\nmemory = 16\nkernel = "${BASIC}"\ncmdline = "tag=basic-cmdline"\ndisk = [ 'file:disk.img,xvda,w' ]\n`,
    );
    log = path.join(domusPaths(env).logsDir, 'pvhb.log');
  });

  afterAll(async () => {
    await daemon.close();
    rmSync(home, { recursive: true, force: true });
  });

  const text = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');

  it('saves, restores under the same domid, keeps xenstore, and shuts down on request', async () => {
    expect((await domus(env, 'create', 'basic.cfg')).code).toBe(0);
    await until('the guest to wait for control/shutdown', () => text().includes('WAITING-SHUTDOWN'));
    const domid = JSON.parse((await domus(env, 'list', '--json')).out).find((d: { name: string }) => d.name === 'pvhb').domid as number;
    const before = (await domus(env, 'xenstore-ls', `/local/domain/${domid}`)).out;
    expect(before).toContain('t = "outside"');
    const save = await domus(env, 'save', 'pvhb', 'pvhb.save');
    expect(save.code, save.err).toBe(0);
    expect(JSON.parse((await domus(env, 'list', '--json')).out).some((d: { name: string }) => d.name === 'pvhb')).toBe(false);
    const restore = await domus(env, 'restore', 'pvhb.save');
    expect(restore.code, restore.err).toBe(0);
    const row = JSON.parse((await domus(env, 'list', '--json')).out).find((d: { name: string }) => d.name === 'pvhb');
    expect(row).toMatchObject({ domid, state: expect.stringMatching(/running|blocked/) });
    expect((await domus(env, 'xenstore-ls', `/local/domain/${domid}`)).out).toBe(before);
    // Its disk's back end is where it was (InitWait: basic does not connect a front end).
    expect((await domus(env, 'xenstore-read', `/local/domain/0/backend/vbd/${domid}/51712/state`)).out.trim()).toBe('2');
    const mark = text().length;
    expect((await domus(env, 'shutdown', 'pvhb')).code).toBe(0);
    await until('the restored guest to power off', () => text().slice(mark).includes('shutting down: poweroff'));
    // The guest did not start again: no second boot banner after the save.
    expect(text().split('basic: PVH guest running').length).toBe(2);
    await until('the domain to go', async () => !(await domus(env, 'list')).out.includes('pvhb'));
  }, 120000);

  it('refuses damaged, foreign and disk-less images and creates nothing', async () => {
    expect((await domus(env, 'create', 'basic.cfg')).code).toBe(0);
    await until('the guest to wait again', () => text().split('WAITING-SHUTDOWN').length >= 3);
    expect((await domus(env, 'save', 'pvhb', 'second.save')).code).toBe(0);
    const file = path.join(home, 'second.save');
    const free = async () => /free_memory\s+:\s+(\d+)/.exec((await domus(env, 'info')).out)?.[1];
    const free0 = await free();
    expect(free0).toMatch(/^\d+$/);
    const good = readFileSync(file);
    const bad = path.join(home, 'bad.save');
    const damaged = Buffer.from(good);
    damaged[damaged.length - 200] ^= 0xff;
    writeFileSync(bad, damaged);
    expect((await domus(env, 'restore', 'bad.save')).err).toMatch(/damaged or truncated/);
    writeFileSync(bad, good.subarray(0, good.length - 4096));
    expect((await domus(env, 'restore', 'bad.save')).err).toMatch(/damaged or truncated/);
    const foreign = Buffer.from(good);
    foreign.writeUInt32LE(99, 11);
    writeFileSync(bad, foreign);
    expect((await domus(env, 'restore', 'bad.save')).err).toMatch(/save format 99, and this Domus reads formats 1 to 2/);
    renameSync(path.join(home, 'disk.img'), path.join(home, 'gone.img'));
    const r = await domus(env, 'restore', 'second.save');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(path.join(home, 'disk.img'));
    expect(r.err).toMatch(/does not exist/);
    expect((await domus(env, 'list')).out).not.toContain('pvhb');
    expect(await free()).toBe(free0);
    renameSync(path.join(home, 'gone.img'), path.join(home, 'disk.img'));
    expect((await domus(env, 'restore', 'second.save')).code).toBe(0);
    expect((await domus(env, 'destroy', 'pvhb')).code).toBe(0);
  }, 120000);
});
