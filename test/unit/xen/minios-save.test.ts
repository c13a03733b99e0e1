// Xen's Mini-OS (built locally, see minios.test.ts; skipped without it) saved on the in-process
// Xen host after its xenstore tests, restored on a fresh host: its periodic thread keeps ticking
// and it still powers off when asked through control/shutdown (what `domus shutdown` does), with
// the watch it set before the save.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PvhMachine } from '../../support/pvh-machine';

const ELF = process.env.DOMUS_MINIOS_ELF ?? fileURLToPath(new URL('../../guests-pvh/mini-os/mini-os-x86_32-pvh.elf', import.meta.url));
const HAS = existsSync(ELF);
if (!HAS) console.warn(`minios-save: skipped, no Mini-OS PVH build at ${ELF} (run test/guests-pvh/mini-os/build.sh, or set DOMUS_MINIOS_ELF)`);
const VIFS = [{ mac: '00:16:3e:12:34:56' }];
const ticks = (s: string) => (s.match(/T\(s=/g) ?? []).length;

describe('Mini-OS save and restore (PVH, x86_32)', () => {
  it.skipIf(!HAS)('continues after a restore on a fresh host and powers off on control/shutdown', () => {
    const a = new PvhMachine(96);
    const id = a.addDomain({ name: 'mini-os', kernel: readFileSync(ELF), memMiB: 32, vifs: VIFS });
    const src = a.domain(id);
    expect(a.run({ maxNs: 5e9, until: () => src.console.includes('Thread "xenbus_tester" exited.') && ticks(src.console) >= 2 })).toBe('until');
    const saved = a.saveDomain(id);
    const xen = JSON.parse(JSON.stringify(saved.xen)) as typeof saved.xen;
    a.destroy(id);
    const b = new PvhMachine(96);
    expect(b.restoreDomain({ ...saved, xen }, { vifs: VIFS })).toBe(id);
    const d = b.domain(id);
    expect(b.run({ maxNs: 5e9, until: () => ticks(d.console) >= 2 })).toBe('until');
    // It goes on from where it was: no second boot, its xenstore test does not run again.
    expect(d.console).not.toContain('Xen Minimal OS');
    expect(d.console).not.toContain('xenbus_tester');
    expect(d.console).toMatch(/^T\(s=\d+ us=\d+\)/);
    b.xen.requestShutdown(id, 'poweroff');
    expect(b.run({ maxNs: 5e9 })).toBe('all-shutdown');
    expect(d.shutdown).toBe('poweroff');
    expect(b.xen.xs.read(`/local/domain/${id}/control/shutdown`)).toBe('');
  });
});
