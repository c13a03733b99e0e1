/**
 * An interrupt or event that arrives while a domain is paused must not be lost: Xen unblocks the
 * VCPU (vcpu_unblock) whatever the pause count says, and the VCPU runs once unpaused. The
 * hypervisor used to drop the wake of a paused domain's blocked VCPU, so after `xl unpause` it
 * stayed blocked with its interrupt pending and nothing left to kick it: a key typed into a paused
 * HVM guest was never read, and a PVH guest whose upcall was already pending never ran again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';

/** Masks every IRQ but COM1's, then echoes COM1 input in `sti; hlt` (no timer wakes it). */
const ECHO = path.resolve('test/e2e/guests/echo.elf');
/** Waits for control/shutdown through a xenstore watch, in `sti; hlt` between events. */
const BASIC = path.resolve('test/guests-pvh/build/basic.elf');
const WAIT_MS = 20000;
/** How long a paused guest is given to (wrongly) run before it is unpaused. */
const PAUSED_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(fn: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('wakes that arrive while a domain is paused', () => {
  let home: string;
  let svc: EngineService;

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'domus-pause-wake-'));
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 64, paths, version: 'test' });
    await svc.engine.whenReady();
  });

  afterAll(async () => {
    await svc.close();
    rmSync(home, { recursive: true, force: true });
  });

  const consoleText = (domid: number, com: number) => new TextDecoder().decode(svc.domains.get(domid)?.consoles.get(com)?.contents());
  const blocked = async (domid: number) => (await svc.request('vcpu.list', { domain: domid })).every((v) => v.state === 'blocked');

  it('an HVM guest reads the byte typed while it was paused once it is unpaused', async () => {
    const r = await svc.request('domain.create', { xlcfg: `name = "echo"\ntype = "hvm"\nmemory = 16\nkernel = "${ECHO}"\n` });
    const text = () => consoleText(r.domid, 1);
    await until(() => text().includes('> '), 'the echo prompt');
    await svc.request('console.write', { domain: r.domid, data: 'a' });
    await until(() => text().endsWith('> a'), 'the first echo');
    await until(() => blocked(r.domid), 'the guest to halt');
    await svc.request('domain.pause', { domain: r.domid });
    await svc.request('console.write', { domain: r.domid, data: 'b' });
    await sleep(PAUSED_MS);
    expect(text().endsWith('> a'), 'a paused guest ran').toBe(true);
    await svc.request('domain.unpause', { domain: r.domid });
    await until(() => text().endsWith('> ab'), 'the byte typed while paused to be echoed');
    await svc.request('domain.destroy', { domain: r.domid });
  });

  it('a PVH guest gets the xenstore watch event that fired while it was paused', async () => {
    const r = await svc.request('domain.create', { xlcfg: `name = "pvh-basic"\ntype = "pvh"\nmemory = 16\nkernel = "${BASIC}"\non_poweroff = "preserve"\n` });
    const text = () => consoleText(r.domid, 0);
    await until(() => text().includes('WAITING-SHUTDOWN'), 'the guest to wait for control/shutdown');
    await until(() => blocked(r.domid), 'the guest to block');
    await svc.request('domain.pause', { domain: r.domid });
    // Writes control/shutdown: the guest's watch fires into its event channel while it is paused.
    await svc.request('domain.shutdown', { domain: r.domid });
    await sleep(PAUSED_MS);
    expect(text()).not.toContain('shutting down');
    await svc.request('domain.unpause', { domain: r.domid });
    await until(() => text().includes('shutting down: poweroff'), 'the guest to see the request and shut down');
    await svc.request('domain.destroy', { domain: r.domid });
  });
});
