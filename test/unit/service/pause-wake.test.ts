/**
 * An interrupt or event that arrives while a domain is paused must not be lost: Xen unblocks the
 * VCPU (vcpu_unblock) whatever the pause count says, and the VCPU runs once unpaused. The
 * hypervisor used to drop the wake of a paused domain's blocked VCPU, so after `xl unpause` it
 * stayed blocked with its interrupt pending and nothing left to kick it: a key typed into a paused
 * HVM guest was never read, and a PVH guest whose upcall was already pending never ran again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { EngineService } from '../../../src-engine/node/service/engine-service';
import { consoleText, sleep, startService, until } from './service-fixture';

/** Masks every IRQ but COM1's, then echoes COM1 input in `sti; hlt` (no timer wakes it). */
const ECHO = path.resolve('test/e2e/guests/echo.elf');
/** Waits for control/shutdown through a xenstore watch, in `sti; hlt` between events. */
const BASIC = path.resolve('test/guests-pvh/build/basic.elf');
/** How long a paused guest is given to (wrongly) run before it is unpaused. */
const PAUSED_MS = 300;

describe('wakes that arrive while a domain is paused', () => {
  let svc: EngineService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ svc, close } = await startService('domus-pause-wake-'));
  });

  afterAll(() => close());

  const blocked = async (domid: number) => (await svc.request('vcpu.list', { domain: domid })).every((v) => v.state === 'blocked');

  it('an HVM guest reads the byte typed while it was paused once it is unpaused', async () => {
    const r = await svc.request('domain.create', { xlcfg: `name = "echo"\ntype = "hvm"\nmemory = 16\nkernel = "${ECHO}"\n` });
    const text = () => consoleText(svc, r.domid, 1);
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
    const text = () => consoleText(svc, r.domid, 0);
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
