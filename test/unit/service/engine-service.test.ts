import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import type { ServerMessage } from '../../../src-engine/api/wire';

const GUESTS = path.resolve('test/fixtures/guests');

function until<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 20000): Promise<T> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        const v = await fn();
        if (v !== undefined && v !== false) return resolve(v as T);
      } catch (e) {
        return reject(e);
      }
      if (Date.now() - t0 > ms) return reject(new Error('timed out'));
      setTimeout(tick, 50);
    };
    void tick();
  });
}

describe('engine service (real engine, worker threads)', () => {
  let home: string;
  let svc: EngineService;
  const events: ServerMessage[] = [];

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'domus-svc-'));
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 256, paths, version: 'test' });
    const conn = svc.connect((m) => events.push(m), 'test');
    conn.receive({ id: 1, method: 'events.subscribe', params: { events: ['console', 'domain'] } });
    await svc.engine.whenReady();
  });

  afterAll(async () => {
    await svc.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses malformed requests at the edge, naming the field', async () => {
    const replies: ServerMessage[] = [];
    const c = svc.connect((m) => replies.push(m), 'bad');
    c.receive({ id: 7, method: 'domain.pause', params: { domain: { x: 1 } } });
    c.receive({ id: 8, method: 'no.such', params: {} });
    await until(() => (replies.length === 2 ? true : undefined));
    expect(replies[0]).toMatchObject({ id: 7, error: { code: 'api.bad-request' } });
    expect((replies[0] as { error: { message: string } }).error.message).toContain('domain');
    expect((replies[1] as { error: { message: string } }).error.message).toContain('unknown method');
    c.close();
  });

  it('logs no error when a domain is destroyed while its on_poweroff action is on its way', async () => {
    const smp = path.resolve('test/guests-pvh/build/smp.elf');
    let destroyAsked = false;
    // This client destroys the domain the moment it sees it shut down, before the service's own
    // on_poweroff=destroy reaches the engine.
    const c = svc.connect((m) => {
      if (destroyAsked || !('event' in m) || m.event !== 'domain') return;
      const d = m.data as { domid: number; summary?: { state: string } };
      if (d.summary?.state !== 'shutdown') return;
      destroyAsked = true;
      c.receive({ id: 2, method: 'domain.destroy', params: { domain: d.domid } });
    }, 'racer');
    c.receive({ id: 1, method: 'events.subscribe', params: { events: ['domain'] } });
    const r = await svc.request('domain.create', { xlcfg: `name = "quick"\ntype = "pvh"\nmemory = 8\nvcpus = 2\nkernel = "${smp}"\n` });
    await until(() => (svc.domains.has(r.domid) ? undefined : true), 60000);
    c.close();
    expect(destroyAsked).toBe(true);
    const mine = (await svc.request('log.dmesg', {})).filter((l) => l.source === 'quick');
    expect(mine.filter((l) => l.level === 'error')).toEqual([]);
    expect(mine.map((l) => l.message)).toContain('on_poweroff action destroy skipped: the domain was destroyed first');
  });

  it('creates a domain from xl.cfg, streams its console, lists, pauses and destroys it', async () => {
    const cfg = `name = "spinner"\ntype = "hvm"\nmemory = 32\nvcpus = 1\nkernel = "${GUESTS}/spin.elf"\ncmdline = "hello"\n`;
    const r = await svc.request('domain.create', { xlcfg: cfg });
    expect(r.name).toBe('spinner');
    await until(() => (new TextDecoder().decode(svc.domains.get(r.domid)?.consoles.get(1)?.contents()).includes('SPIN START') ? true : undefined));
    const consoleEvents = events.filter((e) => 'event' in e && e.event === 'console');
    expect(consoleEvents.length).toBeGreaterThan(0);
    const list = await svc.request('domain.list', {});
    expect(list.find((d) => d.domid === r.domid)).toMatchObject({ name: 'spinner', state: 'running', maxVcpus: 1, memoryMiB: 32 });
    expect(await svc.request('domain.screen', { domain: 'spinner' })).toBeNull();
    await svc.request('domain.pause', { domain: 'spinner' });
    expect((await svc.request('domain.get', { domain: r.domid })).state).toBe('paused');
    await svc.request('domain.unpause', { domain: r.domid });
    const vcpus = await svc.request('vcpu.list', { domain: 'spinner' });
    expect(vcpus).toHaveLength(1);
    await svc.request('vcpu.pin', { domain: 'spinner', vcpu: 0, hard: '1' });
    const pinned = await svc.request('vcpu.list', { domain: 'spinner' });
    expect(pinned[0].hard).toEqual([1]);
    await until(async () => ((await svc.request('vcpu.list', { domain: 'spinner' }))[0].pcpu === 1 ? true : undefined));
    await svc.request('domain.destroy', { domain: 'spinner' });
    await until(() => (svc.domains.has(r.domid) ? undefined : true));
    expect(events.some((e) => 'event' in e && e.event === 'domain' && (e.data as { domid: number; summary: unknown }).domid === r.domid && (e.data as { summary: unknown }).summary === undefined)).toBe(true);
    expect(existsSync(path.join(home, 'logs', 'spinner.log'))).toBe(true);
    expect(readFileSync(path.join(home, 'logs', 'spinner.log'), 'utf8')).toContain('SPIN START');
  });

  it('boots an HVM domain from its disk= list through the BIOS, in boot= order', async () => {
    // A boot sector printing "BIOS-BOOTED" on COM1 (DS = 0 at the hand-off), then cli; hlt.
    const msg = 'BIOS-BOOTED\n';
    const code = [0xba, 0xf8, 0x03, 0xbe, 0x13, 0x7c, 0xac, 0x08, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xfa, 0xf4, 0xeb, 0xfc, 0x90];
    const img = new Uint8Array(32 * 1024);
    img.set(code, 0);
    img.set(new TextEncoder().encode(`${msg}\0`), code.length);
    img[510] = 0x55;
    img[511] = 0xaa;
    writeFileSync(path.join(home, 'boot.img'), img);
    writeFileSync(path.join(home, 'blank.iso'), new Uint8Array(32 * 2048));
    const cfg = `name = "from-disk"\ntype = "hvm"\nmemory = 16\nboot = "dc"\ndisk = [ "${home}/boot.img,raw,hda,rw", "${home}/blank.iso,raw,hdc,cdrom" ]\n`;
    const r = await svc.request('domain.create', { xlcfg: cfg });
    await until(() => (new TextDecoder().decode(svc.domains.get(r.domid)?.consoles.get(1)?.contents()).includes('BIOS-BOOTED') ? true : undefined));
    // The CD-ROM came first and could not boot: the BIOS said so in the engine log.
    const log = await svc.request('log.dmesg', {});
    expect(log.some((l) => l.source.startsWith(`dom${r.domid}`) && /Boot failed: .*blank\.iso/.test(l.message))).toBe(true);
    expect(log.some((l) => l.source.startsWith(`dom${r.domid}`) && l.message === 'Booting from Hard Disk...')).toBe(true);
    // The BIOS wrote the same on the VGA text screen, which the API carries with attributes.
    const screen = await svc.request('domain.screen', { domain: 'from-disk' });
    expect(screen?.lines.some((l) => l.startsWith('Booting from Hard Disk...'))).toBe(true);
    expect(screen?.lines.every((l) => l.length === 80)).toBe(true);
    expect(screen?.attrs).toHaveLength(80 * 25);
    expect(screen?.attrs[0]).toBe(0x07);
    await svc.request('domain.destroy', { domain: r.domid });
    await expect(svc.request('domain.create', { xlcfg: 'name = "nothing"\ntype = "hvm"\nmemory = 16\n' })).rejects.toThrow(/nothing to boot.*disk=/);
    await expect(
      svc.request('domain.create', { xlcfg: `name = "q"\ntype = "hvm"\nmemory = 16\ndisk = [ "${home}/boot.img,qcow2,hda,rw" ]\n` }),
    ).rejects.toThrow(/qcow2.*raw images only.*qemu-img convert/);
    await expect(
      svc.request('domain.create', { xlcfg: `name = "m"\ntype = "hvm"\nmemory = 16\ndisk = [ "${home}/missing.img,raw,hda,rw" ]\n` }),
    ).rejects.toThrow(/missing\.img does not exist/);
  });

  it('refuses a bad config with file:line:column and creates nothing', async () => {
    await expect(svc.request('domain.create', { xlcfg: 'name = "x"\nmemory = 16M\n', file: 'bad.cfg' })).rejects.toThrow(/bad\.cfg:2:\d+/);
    expect((await svc.request('domain.list', {})).some((d) => d.name === 'x')).toBe(false);
  });

  it('manages cpupools and moves a domain between them', async () => {
    const poolEvents: ServerMessage[] = [];
    const watcher = svc.connect((m) => poolEvents.push(m), 'pools');
    watcher.receive({ id: 1, method: 'events.subscribe', params: { events: ['pool'] } });
    const r = await svc.request('domain.create', { xlcfg: `name = "ticker"\ntype = "hvm"\nmemory = 16\nkernel = "${GUESTS}/tick.elf"\n` });
    await svc.request('pool.cpuRemove', { pool: 'Pool-0', cpus: '1' });
    const pool = await svc.request('pool.create', { name: 'rt', scheduler: 'rtds', cpus: '1' });
    expect(pool).toMatchObject({ name: 'rt', scheduler: 'rtds', cpus: [1] });
    await svc.request('pool.migrate', { domain: 'ticker', pool: 'rt' });
    const pools = await svc.request('pool.list', {});
    expect(pools.find((p) => p.name === 'rt')?.domains).toEqual([r.domid]);
    // Subscribers hear of every change without polling: the last event shows the domain in rt.
    await until(() => {
      const last = poolEvents.filter((e) => 'event' in e && e.event === 'pool').pop() as { data: { pools: typeof pools } } | undefined;
      return last?.data.pools.find((p) => p.name === 'rt')?.domains.includes(r.domid) ? true : undefined;
    });
    watcher.close();
    const s = await svc.request('sched.get', { domain: 'ticker' });
    expect(s.scheduler).toBe('rtds');
    await svc.request('sched.set', { domain: 'ticker', rtds: [{ vcpu: 'all', params: { periodUs: 10000, budgetUs: 4000, extratime: false } }] });
    expect((await svc.request('sched.get', { domain: 'ticker' })).rtds?.[0]).toEqual({ periodUs: 10000, budgetUs: 4000, extratime: false });
    const switched = await svc.request('pool.setScheduler', { pool: 'rt', scheduler: 'credit' });
    expect(switched).toMatchObject({ name: 'rt', scheduler: 'credit', cpus: [1], domains: [r.domid] });
    await svc.request('domain.destroy', { domain: 'ticker' });
  });

  it('checks a config without saving it', async () => {
    const bad = await svc.request('library.check', { text: 'name = "b"\nvcpus = "two"\n' });
    expect(bad.errors.join('\n')).toMatch(/draft\.cfg:2/);
    const good = await svc.request('library.check', { name: 'fine', text: `name = "fine"\ntype = "hvm"\nmemory = 16\nkernel = "${GUESTS}/tick.elf"\n` });
    expect(good.errors).toEqual([]);
    expect(good.config?.memoryMiB).toBe(16);
    expect((await svc.request('library.list', {})).some((e) => e.name === 'fine')).toBe(false);
  });

  it('keeps the library: save validates, list parses, delete removes', async () => {
    await expect(svc.request('library.save', { name: 'broken', text: 'name = "b"\nvcpus = "two"\n' })).rejects.toThrow(/broken\.cfg:2/);
    const e = await svc.request('library.save', { name: 'demo', text: `name = "demo"\ntype = "hvm"\nmemory = 16\nkernel = "${GUESTS}/tick.elf"\n` });
    expect(e.errors).toEqual([]);
    expect((await svc.request('library.list', {})).map((x) => x.name)).toEqual(['demo']);
    const started = await svc.request('domain.create', { library: 'demo' });
    await expect(svc.request('library.delete', { name: 'demo' })).rejects.toThrow(/running/);
    await svc.request('domain.destroy', { domain: started.domid });
    await until(() => (svc.domains.has(started.domid) ? undefined : true));
    await svc.request('library.delete', { name: 'demo' });
    expect(await svc.request('library.list', {})).toEqual([]);
  });
});

describe('sim.whatIf through the service', () => {
  it('previews weights 256:512 on one pCPU under credit2 as 1:2 and refuses oversized scenarios', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'domus-whatif-'));
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 16, paths: domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home }), version: 'test' });
    try {
      const r = (await svc.request('sim.whatIf', {
        scenario: {
          sched: 'credit2',
          nrCpus: 1,
          durationNs: 4e9,
          domains: [
            { name: 'a', weight: 256, vcpus: [{ workload: { kind: 'hog' } }] },
            { name: 'b', weight: 512, vcpus: [{ workload: { kind: 'hog' } }] },
          ],
        },
      })) as { domains: { name: string; share: number }[]; violations: string[] };
      const a = r.domains.find((d) => d.name === 'a')!.share;
      const b = r.domains.find((d) => d.name === 'b')!.share;
      expect(b / a).toBeGreaterThan(1.9);
      expect(b / a).toBeLessThan(2.1);
      expect(r.violations).toEqual([]);
      await expect(svc.request('sim.whatIf', { scenario: { sched: 'credit2', nrCpus: 1, durationNs: 1e12, domains: [] } })).rejects.toThrow(/durationNs/);
    } finally {
      await svc.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('ISO wizard through the service', () => {
  it('previews grub.cfg, builds an ISO as a task with progress events, and refuses a non-multiboot kernel', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'domus-iso-'));
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 16, paths: domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home }), version: 'test' });
    const events: ServerMessage[] = [];
    svc.connect((m) => events.push(m), 'iso');
    try {
      const input = { kernel: `${GUESTS}/mbinfo.elf`, kernelArgs: '-uart=io:0x3f8', modules: [{ path: `${GUESTS}/tick.elf`, args: '' }], output: path.join(home, 'out.iso') };
      const preview = (await svc.request('iso.preview', { input })) as { grubCfg: string };
      expect(preview.grubCfg).toContain('multiboot');
      expect(preview.grubCfg).toContain('-uart=io:0x3f8');
      const { taskId } = await svc.request('iso.build', { input });
      const done = await until(() => events.find((e) => 'event' in e && e.event === 'task' && (e.data as { taskId: string; done: boolean }).taskId === taskId && (e.data as { done: boolean }).done), 60000);
      expect((done as { data: { error?: string } }).data.error).toBeUndefined();
      expect(readFileSync(input.output).subarray(0x8001, 0x8006).toString()).toBe('CD001');
      await expect(svc.request('iso.preview', { input: { ...input, kernel: `${home}/nope` } })).rejects.toThrow(/nope/);
    } finally {
      await svc.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 90000);
});

describe('save and restore', () => {
  it('a saved domain continues where it was; corrupt or foreign images are refused with a clear message', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'domus-save-'));
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 128, paths: domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home }), version: 'test' });
    try {
      const r = await svc.request('domain.create', { xlcfg: `name = "counter"\ntype = "hvm"\nmemory = 16\nkernel = "${GUESTS}/spin.elf"\n` });
      const text = () => new TextDecoder().decode(svc.domains.get(r.domid)?.consoles.get(1)?.contents());
      await until(() => (/SPIN 2 /.test(text()) ? true : undefined), 60000);
      const { file } = await svc.request('domain.save', { domain: 'counter' });
      expect(file).toBe(path.join(home, 'saves', 'counter.save'));
      await until(() => (svc.domains.has(r.domid) ? undefined : true));
      const last = Math.max(...[...text().matchAll(/SPIN (\d+) /g)].map((m) => Number(m[1])));
      const restored = await svc.request('domain.restore', { file });
      const t2 = () => new TextDecoder().decode(svc.domains.get(restored.domid)?.consoles.get(1)?.contents());
      // The restored guest goes on counting from where it stopped: no fresh "SPIN START".
      await until(() => (/SPIN \d+ /.test(t2()) ? true : undefined), 60000);
      const first = Number(/SPIN (\d+) /.exec(t2())![1]);
      expect(first).toBeGreaterThan(last);
      expect(t2()).not.toContain('SPIN START');
      await svc.request('domain.destroy', { domain: restored.domid });
      const bytes = readFileSync(file);
      bytes[bytes.length - 100] ^= 0xff;
      const bad = path.join(home, 'bad.save');
      writeFileSync(bad, bytes);
      await expect(svc.request('domain.restore', { file: bad })).rejects.toThrow(/damaged or truncated/);
      const foreign = readFileSync(file);
      foreign.writeUInt32LE(99, 11);
      writeFileSync(bad, foreign);
      await expect(svc.request('domain.restore', { file: bad })).rejects.toThrow(/format 99/);
      writeFileSync(bad, 'hello');
      await expect(svc.request('domain.restore', { file: bad })).rejects.toThrow(/not a Domus save image/);
    } finally {
      await svc.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 180000);
});
