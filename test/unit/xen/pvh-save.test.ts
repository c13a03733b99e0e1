// Save and restore of PVH domains on the in-process Xen host (test/support/pvh-machine.ts): each
// test guest is saved mid-run - after it bound event channels, granted pages, wrote xenstore,
// set watches, started block I/O - and restored on a fresh host (new pool, new clock, new
// xenstore), where it continues and reaches its PASS lines. The save is what the runtime's image
// holds: own pages, VCPU state blocks and XenHost.saveDomain().
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';
import { vbdDeviceNumber } from '../../../src-engine/hv/xen/backends/blkif';
import { S_RUNNING } from '../../../src-engine/cpu/state';
import { guestResults, PvhMachine, type PvhSavedDomain } from '../../support/pvh-machine';
import { patternDisk } from '../../support/pvh-disk';

const GUESTS = fileURLToPath(new URL('../../guests-pvh/', import.meta.url));
const MODULE = { data: new TextEncoder().encode('hello, module'), path: 'module.bin', cmdline: 'initrd-args' };
const BUDGET_NS = 4e9;
/** Hostile guests (seeds) saved and restored, the calls each makes first, and its time after. */
const HOSTILE_SEEDS = 6;
const HOSTILE_CALLS = 1000;
/** Virtual time a hostile guest gets before and after the save (1000 calls take about 1 ms). */
const HOSTILE_NS = 3e6;

/** The check names basic.c prints, read from its source. */
function basicChecks(): string[] {
  const src = readFileSync(`${GUESTS}basic/basic.c`, 'utf8');
  return [...src.matchAll(/\b(?:CHECK|CHECK_EQ|check)\("([a-z0-9-]+)"/g)].map((m) => m[1]);
}

/**
 * Runs `m` until `until`, saves domain `id`, destroys it and checks its frames went back. The
 * console text it printed up to the save is in `printed`.
 */
function saveAt(m: PvhMachine, id: number, until: () => boolean): PvhSavedDomain & { printed: string } {
  const free0 = m.pool.freeFrames;
  expect(m.run({ maxNs: BUDGET_NS, until }), m.domain(id).console).toBe('until');
  const saved = m.saveDomain(id);
  // The image is plain JSON for its Xen part (it goes into the save file's header).
  const xen = JSON.parse(JSON.stringify(saved.xen)) as PvhSavedDomain['xen'];
  const used = m.domain(id).memory.currentPages;
  const printed = m.domain(id).console;
  m.destroy(id);
  expect(m.pool.freeFrames).toBeGreaterThan(free0 + used - 1);
  return { ...saved, xen, printed };
}

describe('PVH save and restore (in-process Xen host)', () => {
  const points: [string, string][] = [
    ['after binding an IPI channel', 'PASS evtchn-bind-ipi'],
    ['while blocked in SCHEDOP_block', 'PASS timer-singleshot'],
    ['after setting up its grant table', 'PASS gnttab-setup-table'],
    ['with a xenstore watch set', 'PASS xs-watch-fires-once'],
    ['after moving vcpu_info into its own page', 'PASS vcpu-register-vcpu-info'],
  ];
  for (const [when, marker] of points) {
    it(`basic guest saved ${when} continues on a fresh host and passes every check`, () => {
      const a = new PvhMachine(64);
      const id = a.addDomain({ name: 'pvh-basic', kernel: readFileSync(`${GUESTS}build/basic.elf`), cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
      const saved = saveAt(a, id, () => a.domain(id).console.includes(marker));
      const printed = saved.printed;
      const b = new PvhMachine(64);
      const free0 = b.pool.freeFrames;
      expect(b.restoreDomain(saved)).toBe(id);
      const d = b.domain(id);
      expect(b.run({ maxNs: BUDGET_NS, until: () => d.console.includes('WAITING-SHUTDOWN') }), d.console).toBe('until');
      // Nothing printed twice, nothing restarted: the two halves make exactly the guest's checks.
      expect(d.console).not.toContain('basic: PVH guest running');
      const r = guestResults(printed + d.console);
      expect(r.fail, printed + d.console).toEqual([]);
      expect(r.pass).toEqual(basicChecks());
      // Its control/shutdown watch (set before or after the save) still works.
      b.xen.requestShutdown(id, 'poweroff');
      expect(b.run({ maxNs: BUDGET_NS })).toBe('all-shutdown');
      expect(d.shutdown).toBe('poweroff');
      b.destroy(id);
      expect(b.pool.freeFrames).toBe(free0);
    });
  }

  it('keeps xenstore contents, permissions and watches, and the guest hears a change made after restore', () => {
    const a = new PvhMachine(64);
    const id = a.addDomain({ name: 'pvh-basic', kernel: readFileSync(`${GUESTS}build/basic.elf`), cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
    a.run({ maxNs: BUDGET_NS, until: () => a.domain(id).console.includes('WAITING-SHUTDOWN') });
    const home = `/local/domain/${id}`;
    const listing = a.xen.xs.ls(home);
    const guestWatches = (x: PvhMachine) =>
      [...Array(16).keys()].flatMap((c) => x.xen.xenstore.watchesOf(c).filter((w) => !w.token.startsWith('domus-')).map((w) => `${w.path} ${w.token}`));
    const watches = guestWatches(a);
    const saved = saveAt(a, id, () => true);
    const b = new PvhMachine(64);
    b.restoreDomain(saved);
    expect(b.xen.xs.ls(home)).toEqual(listing);
    expect(b.xen.xs.read(`${home}/data/t`)).toBe('outside');
    expect(b.xen.xs.getPerms(`${home}/control/shutdown`)).toEqual([`n${id}`]);
    expect(b.xen.xs.read(`/vm/${saved.xen.xsNodes.find((n) => n.path.startsWith('/vm/'))!.path.split('/')[2]}/name`)).toBe('pvh-basic');
    // The guest's watches (data/w and control/shutdown) are on its new connection.
    expect(watches).toEqual([`${home}/data/w tok`, `${home}/control/shutdown control/shutdown`]);
    expect(guestWatches(b)).toEqual(watches);
    b.xen.xs.write(`${home}/control/shutdown`, 'reboot');
    expect(b.run({ maxNs: BUDGET_NS })).toBe('all-shutdown');
    expect(b.domain(id).shutdown).toBe('reboot');
  });

  it('grant guest saved after granting and offering a channel meets its peer on the new host', () => {
    const kernel = readFileSync(`${GUESTS}build/grant.elf`);
    const a = new PvhMachine(64);
    const g = a.addDomain({ name: 'granter', kernel, cmdline: 'role=granter peer=2', memMiB: 8 });
    const saved = saveAt(a, g, () => a.xen.xs.tryRead(`/local/domain/${g}/data/xfer/ready`) === '1');
    expect(saved.xen.ports.some((p) => p.remoteDom === 2)).toBe(true);
    const b = new PvhMachine(64, 2);
    expect(b.restoreDomain(saved, { pin: [0] })).toBe(1);
    const m = b.addDomain({ name: 'mapper', kernel, cmdline: 'role=mapper peer=1', memMiB: 8, pin: [1] });
    expect(m).toBe(2);
    expect(b.run({ maxNs: BUDGET_NS })).toBe('all-shutdown');
    for (const id of [g, m]) {
      const r = guestResults(b.domain(id).console);
      expect(r.fail, b.domain(id).console).toEqual([]);
      expect(r.done).toBe(true);
    }
    expect(guestResults(b.domain(g).console).pass).toEqual(expect.arrayContaining(['granter-peer-replied', 'granter-grant-in-use', 'granter-peer-unmapped']));
    expect(guestResults(b.domain(m).console).pass).toContain('mapper-reads-granted-page');
  });

  it('refuses to save a domain that maps another domain\'s grant', () => {
    const kernel = readFileSync(`${GUESTS}build/grant.elf`);
    const a = new PvhMachine(64);
    a.addDomain({ name: 'granter', kernel, cmdline: 'role=granter peer=2', memMiB: 8 });
    const m = a.addDomain({ name: 'mapper', kernel, cmdline: 'role=mapper peer=1', memMiB: 8 });
    a.run({ maxNs: BUDGET_NS, until: () => a.domain(m).console.includes('PASS mapper-reads-granted-page') });
    expect(() => a.saveDomain(m)).toThrow(/mapped through grants.*cannot carry another domain's memory/);
  });

  it('blk guest saved with its ring connected continues its I/O on the same disks', () => {
    const image = patternDisk(1 << 20);
    const xvda = createMemoryBlockBackend(image, { medium: 'disk', name: 'xvda.img' });
    const xvdb = createMemoryBlockBackend(new Uint8Array(64 * 1024), { medium: 'disk', name: 'xvdb.img', readOnly: true });
    const vbds = [
      { devid: vbdDeviceNumber('xvda')!, vdev: 'xvda', disk: xvda },
      { devid: vbdDeviceNumber('xvdb')!, vdev: 'xvdb', disk: xvdb },
    ];
    const a = new PvhMachine(64);
    const id = a.addDomain({ name: 'pvh-blk', kernel: readFileSync(`${GUESTS}build/blk.elf`), memMiB: 8, vbds });
    const saved = saveAt(a, id, () => a.domain(id).console.includes('PASS blk-read-data'));
    const ring = saved.xen.vbds.find((v) => v.devid === 51712)!.ring;
    expect(ring).not.toBeNull();
    expect(ring!.reqCons).toBeGreaterThan(0);
    const before = saved.printed;
    const b = new PvhMachine(64);
    b.restoreDomain(saved, { vbds });
    expect(b.run({ maxNs: BUDGET_NS })).toBe('all-shutdown');
    const r = guestResults(before + b.domain(id).console);
    expect(r.fail, before + b.domain(id).console).toEqual([]);
    expect(r.done).toBe(true);
    expect(r.pass).toEqual(expect.arrayContaining(['blk-read-back', 'blk-flush', 'blk-readonly-write', 'blk-close']));
    expect(new TextDecoder().decode(xvda.bytes.subarray(16 * 512, 16 * 512 + 19))).toBe('written by pvh-blk ');
    expect(b.xen.xs.read(`/local/domain/0/backend/vbd/${id}/51712/state`)).toBe('6');
  });

  it('refuses to restore a vbd set other than the saved one, leaving nothing behind', () => {
    const xvda = createMemoryBlockBackend(patternDisk(1 << 20), { medium: 'disk', name: 'xvda.img' });
    const vbds = [{ devid: vbdDeviceNumber('xvda')!, vdev: 'xvda', disk: xvda }];
    const a = new PvhMachine(64);
    const id = a.addDomain({ name: 'pvh-blk', kernel: readFileSync(`${GUESTS}build/blk.elf`), memMiB: 8, vbds });
    const saved = saveAt(a, id, () => a.domain(id).console.includes('PASS blk-read-data'));
    const b = new PvhMachine(64);
    const free0 = b.pool.freeFrames;
    expect(() => b.restoreDomain(saved)).toThrow(/had virtual disks 51712, but it is being restored with none/);
    expect(b.pool.freeFrames).toBe(free0);
    expect(b.xen.domains.size).toBe(0);
  });

  it('smp guest saved with both VCPUs up restores both and finishes', () => {
    const a = new PvhMachine(64, 2);
    const id = a.addDomain({ name: 'pvh-smp', kernel: readFileSync(`${GUESTS}build/smp.elf`), memMiB: 8, vcpus: 2 });
    const saved = saveAt(a, id, () => a.domain(id).cpus[1].s[S_RUNNING] === 1 && a.domain(id).console.includes('PASS'));
    expect(saved.xen.vcpus).toHaveLength(2);
    expect(saved.xen.vcpus[1].initialised).toBe(true);
    const before = saved.printed;
    const b = new PvhMachine(64, 2);
    b.restoreDomain(saved);
    expect(b.run({ maxNs: BUDGET_NS })).toBe('all-shutdown');
    const d = b.domain(id);
    const r = guestResults(before + d.console);
    expect(r.fail, before + d.console).toEqual([]);
    expect(r.done).toBe(true);
    expect(r.pass).toContain('smp-locked-counter');
    expect(b.ranOn.has(`${id}.0@0`) && b.ranOn.has(`${id}.1@1`)).toBe(true);
  });

  it('gives a restored domain frames of its own, beside another domain', () => {
    const kernel = readFileSync(`${GUESTS}build/basic.elf`);
    const a = new PvhMachine(64);
    const id = a.addDomain({ name: 'pvh-basic', kernel, cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
    const saved = saveAt(a, id, () => a.domain(id).console.includes('WAITING-SHUTDOWN'));
    const b = new PvhMachine(64);
    b.addDomain({ name: 'other', kernel, cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
    b.run({ maxNs: BUDGET_NS, until: () => b.domain(1).console.includes('WAITING-SHUTDOWN') });
    expect(() => b.restoreDomain(saved)).toThrow(/domain 1 exists/);
    b.destroy(1);
    b.addDomain({ name: 'other', kernel, cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
    expect(b.restoreDomain(saved)).toBe(1);
    const frames = (x: PvhMachine, domid: number): Set<number> => {
      const d = x.domain(domid);
      const out = new Set<number>([d.xen.sharedInfoFrame, ...d.xen.grants.frames]);
      for (let g = 0; g < d.memory.p2m.length; g++) if (d.memory.p2m[g] !== 0) out.add(d.memory.p2m[g] - 1);
      return out;
    };
    const mine = frames(b, 1);
    const theirs = frames(b, 2);
    expect([...mine].filter((f) => theirs.has(f))).toEqual([]);
    expect(b.domain(1).memory.currentPages).toBe(saved.xen.ram.reduce((n, r) => n + r[1], 0));
  });

  it('refuses damaged or foreign Xen state with a clear message and leaves nothing behind', () => {
    const a = new PvhMachine(64);
    const id = a.addDomain({ name: 'pvh-basic', kernel: readFileSync(`${GUESTS}build/basic.elf`), cmdline: 'tag=basic-cmdline', memMiB: 16, modules: [MODULE] });
    const saved = saveAt(a, id, () => a.domain(id).console.includes('PASS xs-watch-fires-once'));
    const b = new PvhMachine(64);
    const free0 = b.pool.freeFrames;
    const bad: [string, (x: PvhSavedDomain['xen']) => void, RegExp][] = [
      ['a layout from another release', (x) => (x.version = 7), /layout 7, and this Domus reads layout 1/],
      ['damaged bytes', (x) => (x.sharedInfo = '%%%'), /shared_info page is not readable/],
      ['a grant table beyond its maximum', (x) => (x.grantFrames = new Array<string>(x.maxGrantFrames + 1).fill(x.grantFrames[0])), /grant table is not readable/],
      ['a port with a nonsense state', (x) => (x.ports[0].state = 42), /event channel \d+ is not readable/],
      ['a VCPU list of the wrong size', (x) => x.vcpus.push(x.vcpus[0]), /VCPU list is not readable/],
      ['a parameter table of the wrong shape', (x) => ((x as unknown as { params: unknown }).params = 5), /Xen state does not fit together/],
      ['no system time', (x) => ((x as unknown as { systemNs: unknown }).systemNs = 'soon'), /system time is not readable/],
    ];
    for (const [what, spoil, msg] of bad) {
      const xen = JSON.parse(JSON.stringify(saved.xen)) as PvhSavedDomain['xen'];
      spoil(xen);
      expect(() => b.restoreDomain({ ...saved, xen }), what).toThrow(msg);
      expect(b.pool.freeFrames, what).toBe(free0);
      expect(b.xen.domains.size, what).toBe(0);
      expect(b.xen.xs.tryRead(`/local/domain/${id}/name`), what).toBeUndefined();
    }
  });

  it('hostile guests saved mid-storm are restored and go on making calls without an engine fault', () => {
    const kernel = readFileSync(`${GUESTS}build/hostile.elf`);
    const calls = (t: string) => Math.max(0, ...[...t.matchAll(/hostile: (\d+) calls/g)].map((x) => Number(x[1])));
    let continued = 0;
    for (let seed = 1; seed <= HOSTILE_SEEDS; seed++) {
      const a = new PvhMachine(64);
      const id = a.addDomain({ name: 'hostile', kernel, cmdline: `seed=${seed}`, memMiB: 8 });
      const end = a.run({ maxNs: HOSTILE_NS, until: () => calls(a.domain(id).consoleIo) >= HOSTILE_CALLS || a.domain(id).shutdown !== undefined });
      if (end !== 'until' || a.domain(id).shutdown !== undefined) continue;
      let saved: PvhSavedDomain;
      try {
        saved = a.saveDomain(id);
      } catch (e) {
        // The one refusal a guest can provoke: it mapped a grant of another domain.
        expect(String(e)).toMatch(/mapped through grants/);
        continue;
      }
      const at = calls(a.domain(id).consoleIo);
      const b = new PvhMachine(64);
      b.restoreDomain({ ...saved, xen: JSON.parse(JSON.stringify(saved.xen)) as PvhSavedDomain['xen'] });
      const d = b.domain(id);
      // Dispatch is strict: any engine exception (not a Xen errno) fails here.
      b.run({ maxNs: HOSTILE_NS, until: () => calls(d.consoleIo) > at || d.shutdown !== undefined });
      if (calls(d.consoleIo) > at) continued++;
    }
    // Some seeds break themselves (seed 2 spins after its first 1000 calls, with or without a save).
    expect(continued).toBeGreaterThanOrEqual(HOSTILE_SEEDS / 2);
  }, 60000);
});
