/**
 * Saving races a guest's own shutdown. `domain.save` pauses the domain, but a VCPU still on its
 * pCPU when the pause comes may call SCHEDOP_shutdown before it leaves. The engine used to save
 * such a domain anyway, with its Xen shutdown already recorded; restored, the guest's next
 * SCHEDOP_shutdown was ignored (Xen acts on the first only) and it never powered off (found by
 * test/slow/pvh-save-stress.test.ts: "saved after DONE, no power-off after the restore"). Now
 * the snapshot refuses a domain that has shut down, and a restore never carries a shutdown over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DomusError } from '../../../src-engine/base/errors';
import type { EngineService } from '../../../src-engine/node/service/engine-service';
import { consoleText, startService, until } from './service-fixture';
import { decodeSaveImage, encodeSaveImage } from '../../../src-engine/runtime/save-image';

/** Waits for control/shutdown through a xenstore watch, then shuts down with its reason. */
const BASIC = path.resolve('test/guests-pvh/build/basic.elf');
/** SHUTDOWN_poweroff (public/sched.h). */
const SHUTDOWN_POWEROFF = 0;

describe('save and a guest shutdown', () => {
  let svc: EngineService;
  let home: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ svc, home, close } = await startService('domus-save-shutdown-'));
  });

  afterAll(() => close());

  const cfg = (name: string) => `name = "${name}"\ntype = "pvh"\nmemory = 16\nkernel = "${BASIC}"\non_poweroff = "preserve"\n`;
  const text = (domid: number) => consoleText(svc, domid, 0);

  it('the engine refuses to snapshot a domain that has shut down, saying so', async () => {
    const r = await svc.request('domain.create', { xlcfg: cfg('down') });
    await until(() => text(r.domid).includes('WAITING-SHUTDOWN'), 'the guest to wait for control/shutdown');
    await svc.request('domain.shutdown', { domain: r.domid });
    await until(() => svc.domains.get(r.domid)?.shutdown !== undefined, 'the shutdown');
    // The engine itself, below the service's own check of its (possibly stale) domain record.
    const e = await svc.engine.snapshotDomain(r.domid).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(DomusError);
    expect((e as DomusError).code).toBe('domain.shut-down');
    expect((e as DomusError).message).toContain('down');
    await svc.request('domain.destroy', { domain: r.domid });
  });

  it('a restored domain powers off even if its image recorded a shutdown', async () => {
    const r = await svc.request('domain.create', { xlcfg: cfg('saved') });
    await until(() => text(r.domid).includes('WAITING-SHUTDOWN'), 'the guest to wait for control/shutdown');
    const file = path.join(home, 'saved.save');
    await svc.request('domain.save', { domain: r.domid, file });
    await until(() => !svc.domains.has(r.domid), 'the saved domain to go');
    // As an image saved in the race above looks: the Xen state has the shutdown recorded.
    const img = decodeSaveImage(new Uint8Array(readFileSync(file)), file);
    expect(img.header.xen?.shutdownCode).toBeNull();
    img.header.xen!.shutdownCode = SHUTDOWN_POWEROFF;
    writeFileSync(file, encodeSaveImage(img));
    const res = await svc.request('domain.restore', { file });
    await svc.request('domain.shutdown', { domain: res.domid });
    await until(() => svc.domains.get(res.domid)?.shutdown !== undefined, 'the restored guest to power off');
    expect(text(res.domid)).toContain('shutting down: poweroff');
    await svc.request('domain.destroy', { domain: res.domid });
  });
});
