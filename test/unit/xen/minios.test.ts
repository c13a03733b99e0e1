// Xen's Mini-OS (third-party, the reference guest of docs/spec xen-pvh-abi.md) as a 32-bit PVH
// guest on the in-process Xen host: it boots to its main function, its xenstore tests pass, its
// periodic thread ticks, and it shuts down cleanly when asked through control/shutdown (what
// `domus shutdown` does). Mini-OS is not committed: build it with test/guests-pvh/mini-os/build.sh
// (or point DOMUS_MINIOS_ELF at a PVH build); without it this test is skipped.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PvhMachine } from '../../support/pvh-machine';

const ELF = process.env.DOMUS_MINIOS_ELF ?? fileURLToPath(new URL('../../guests-pvh/mini-os/mini-os-x86_32-pvh.elf', import.meta.url));
const HAS = existsSync(ELF);
if (!HAS) console.warn(`minios: skipped, no Mini-OS PVH build at ${ELF} (run test/guests-pvh/mini-os/build.sh, or set DOMUS_MINIOS_ELF)`);
const MAC = '00:16:3e:12:34:56';

describe('Mini-OS (PVH, x86_32)', () => {
  it.skipIf(!HAS)('boots, passes its xenstore tests, ticks, and powers off on control/shutdown', () => {
    const m = new PvhMachine(96);
    const id = m.addDomain({ name: 'mini-os', kernel: readFileSync(ELF), memMiB: 32, vifs: [{ mac: MAC }] });
    const d = m.domain(id);
    expect(m.run({ maxNs: 5e9, until: () => (d.console.match(/T\(s=/g) ?? []).length >= 3 })).toBe('until');
    const out = d.console;
    expect(d.consoleIo).toContain('Bootstrapping...');
    expect(out).toContain('Xen Minimal OS (hvm)!');
    expect(out).toContain('Test main: par=0');
    for (const line of [
      'ls device[0] -> vif', 'ls device/vif[0] -> 0', 'ls device/vif/0[3] -> mac',
      `Read device/vif/0/mac -> ${MAC}.`, `Read device/vif/0/backend -> /local/domain/0/backend/vif/${id}/0.`,
      'Read device/vif/0/flibble -> flobble.', 'Read device/vif/0/flibble -> widget.',
      'Error in xenbus read: ENOENT\n(Should have said ENOENT)', 'Thread "xenbus_tester" exited.',
    ]) {
      expect(out.replace(/\r\n/g, '\n')).toContain(line);
    }
    expect(out).not.toMatch(/Result E[A-Z]+/);
    // The periodic thread's clock moves in seconds of virtual time.
    const secs = [...out.matchAll(/T\(s=(\d+) us=\d+\)/g)].map((x) => Number(x[1]));
    expect(secs[1] - secs[0]).toBe(1);
    m.xen.requestShutdown(id, 'poweroff');
    expect(m.run({ maxNs: 5e9 })).toBe('all-shutdown');
    expect(d.shutdown).toBe('poweroff');
    expect(m.xen.xs.read(`/local/domain/${id}/control/shutdown`)).toBe('');
  });
});
