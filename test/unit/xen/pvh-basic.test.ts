// The basic PVH test guest (test/guests-pvh/basic) on the in-process Xen host: every check it
// makes must pass, the checks it prints must be exactly the ones in its source, and it must shut
// down the way `domus shutdown` asks (control/shutdown written, acknowledged with "", then
// SCHEDOP_shutdown with that reason). The same guest with its note only in a section (no PT_NOTE)
// and in an ELF64 container boots too.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { guestResults, PvhMachine } from '../../support/pvh-machine';

const GUESTS = fileURLToPath(new URL('../../guests-pvh/', import.meta.url));
const MODULE = { data: new TextEncoder().encode('hello, module'), path: 'module.bin', cmdline: 'initrd-args' };
/** Virtual time the guest may take to reach its shutdown wait (it needs ~15 ms). */
const BOOT_BUDGET_NS = 2e9;

/** The check names basic.c prints, read from its source. */
function checkNames(): string[] {
  const src = readFileSync(`${GUESTS}basic/basic.c`, 'utf8');
  return [...src.matchAll(/\b(?:CHECK|CHECK_EQ|check)\("([a-z0-9-]+)"/g)].map((m) => m[1]);
}

function boot(file: string): { m: PvhMachine; id: number } {
  const m = new PvhMachine(64);
  const id = m.addDomain({ name: 'pvh-basic', kernel: readFileSync(`${GUESTS}build/${file}`), cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
  const end = m.run({ maxNs: BOOT_BUDGET_NS, until: () => m.domain(id).console.includes('WAITING-SHUTDOWN') });
  expect(end, m.domain(id).console).toBe('until');
  return { m, id };
}

describe('basic PVH guest', () => {
  it('passes every check it has, prints early text on console_io, and honours control/shutdown', () => {
    const { m, id } = boot('basic.elf');
    const d = m.domain(id);
    const r = guestResults(d.console);
    expect(r.fail).toEqual([]);
    expect(r.pass).toEqual(checkNames());
    expect(r.done).toBe(true);
    expect(d.consoleIo).toContain('Bootstrapping...');
    expect(m.xen.xs.read(`/local/domain/${id}/control/shutdown`)).toBe('');
    m.xen.requestShutdown(id, 'poweroff');
    expect(m.run({ maxNs: BOOT_BUDGET_NS })).toBe('all-shutdown');
    expect(d.shutdown).toBe('poweroff');
    expect(d.console).toContain('shutting down: poweroff');
    expect(m.xen.xs.read(`/local/domain/${id}/control/shutdown`)).toBe('');
  });

  it('reports reboot when asked to reboot', () => {
    const { m, id } = boot('basic.elf');
    m.xen.requestShutdown(id, 'reboot');
    m.run({ maxNs: BOOT_BUDGET_NS });
    expect(m.domain(id).shutdown).toBe('reboot');
  });

  for (const file of ['basic-secnote.elf', 'basic64.elf']) {
    it(`boots from ${file}`, () => {
      const { m, id } = boot(file);
      const r = guestResults(m.domain(id).console);
      expect(r.fail).toEqual([]);
      expect(r.pass.length).toBe(checkNames().length);
    });
  }
});
