/**
 * The demo domain a new library gets (src-engine/node/service/demo-seed.ts): seeded once into a
 * fresh data directory, never again after the user deleted it, never over a user's file, not into
 * a library in use, not with DOMUS_NO_DEMO; its kernel copy follows the bundled guest; and through
 * the engine service the seeded config boots to the demo shell on COM1 and powers off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_DOMAIN_NAME, findBundledDemoGuest, seedDemoDomain } from '../../../src-engine/node/service/demo-seed';
import { DomainLibrary } from '../../../src-engine/node/service/library';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths, type DomusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import { parseDomainConfig } from '../../../src-engine/config/domain-config-parse';
import { plainText } from '../demo-guest/demo-machine';

const BUNDLED = path.resolve('resources/guests/demo/demo.elf');
const PROMPT = 'demo> ';
const homes: string[] = [];

/** A fresh data directory's paths; `env` adds variables such as DOMUS_NO_DEMO. */
function freshPaths(env: Record<string, string> = {}): DomusPaths {
  const home = mkdtempSync(path.join(os.tmpdir(), 'domus-demo-seed-'));
  homes.push(home);
  return domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home, ...env });
}

/** What one engine start does to the library: a new DomainLibrary, then the seed. */
function start(paths: DomusPaths) {
  const library = new DomainLibrary(paths.domainsDir, () => ({ nrCpus: 2 }));
  return { library, result: seedDemoDomain(library, paths) };
}

const demoFile = (paths: DomusPaths) => path.join(paths.domainsDir, `${DEMO_DOMAIN_NAME}.cfg`);
const kernelCopy = (paths: DomusPaths) => path.join(paths.guestsDir, 'demo.elf');

afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('seeding the demo domain', () => {
  it('finds the bundled demo guest of the checkout, and of a packaged app with or without resourcesPath', () => {
    expect(findBundledDemoGuest()).toBe(BUNDLED);
    // electron-builder's layout: <resources>/app.asar.unpacked/dist/engine and <resources>/guests.
    const resources = path.join(freshPaths().dataDir, 'Domus', 'resources');
    const engineDir = path.join(resources, 'app.asar.unpacked', 'dist', 'engine');
    mkdirSync(engineDir, { recursive: true });
    expect(findBundledDemoGuest({ resourcesPath: resources, starts: [engineDir] })).toBeUndefined();
    mkdirSync(path.join(resources, 'guests', 'demo'), { recursive: true });
    writeFileSync(path.join(resources, 'guests', 'demo', 'demo.elf'), readFileSync(BUNDLED));
    expect(findBundledDemoGuest({ resourcesPath: resources, starts: [] })).toBe(path.join(resources, 'guests', 'demo', 'demo.elf'));
    expect(findBundledDemoGuest({ resourcesPath: undefined, starts: [engineDir] })).toBe(path.join(resources, 'guests', 'demo', 'demo.elf'));
  });

  it('a fresh data directory gets demo.cfg: an HVM domain booting a copy of the bundled demo.elf', () => {
    const paths = freshPaths();
    const { library, result } = start(paths);
    expect(result.outcome).toBe('seeded');
    expect(library.names()).toEqual(['demo']);
    const text = readFileSync(demoFile(paths), 'utf8');
    const { config } = parseDomainConfig(text, { file: demoFile(paths) });
    expect(config).toMatchObject({ name: 'demo', type: 'hvm', kernel: kernelCopy(paths), memoryMiB: 32, vcpus: 1, onPoweroff: 'destroy' });
    expect(path.isAbsolute(config.kernel as string)).toBe(true);
    expect(readFileSync(kernelCopy(paths)).equals(readFileSync(BUNDLED))).toBe(true);
    expect(library.inspect('demo', text).errors).toEqual([]);
    expect(existsSync(paths.demoMarker)).toBe(true);
  });

  it('a second start after the user deleted it does not bring it back', () => {
    const paths = freshPaths();
    start(paths);
    unlinkSync(demoFile(paths));
    const again = start(paths);
    expect(again.result.outcome).toBe('offered-before');
    expect(existsSync(demoFile(paths))).toBe(false);
    expect(again.library.names()).toEqual([]);
  });

  it('never overwrites a demo.cfg the user has, and leaves a library in use alone', () => {
    const mine = freshPaths();
    const own = 'name = "demo"\ntype = "pvh"\nkernel = "/srv/my-demo.elf"\nmemory = 64\n';
    new DomainLibrary(mine.domainsDir, () => ({ nrCpus: 1 }));
    writeFileSync(demoFile(mine), own);
    expect(start(mine).result.outcome).toBe('library-in-use');
    expect(readFileSync(demoFile(mine), 'utf8')).toBe(own);

    const used = freshPaths();
    const lib = new DomainLibrary(used.domainsDir, () => ({ nrCpus: 1 }));
    lib.save('web', `name = "web"\ntype = "hvm"\nmemory = 16\nkernel = "${BUNDLED}"\n`);
    expect(start(used).result.outcome).toBe('library-in-use');
    expect(lib.names()).toEqual(['web']);
    // Decided once: emptying the library later does not make it "new" again.
    lib.delete('web');
    expect(start(used).result.outcome).toBe('offered-before');
    expect(lib.names()).toEqual([]);
  });

  it('DOMUS_NO_DEMO=1 keeps the library empty and decides nothing for later starts', () => {
    const off = freshPaths({ DOMUS_NO_DEMO: '1' });
    expect(off.seedDemo).toBe(false);
    expect(start(off).result.outcome).toBe('disabled');
    expect(existsSync(demoFile(off))).toBe(false);
    expect(existsSync(off.demoMarker)).toBe(false);
    const on = domusPaths({ DOMUS_HOME: off.dataDir, DOMUS_RUNTIME_DIR: off.runtimeDir, HOME: off.dataDir });
    expect(start(on).result.outcome).toBe('seeded');
  });

  it('keeps the kernel copy equal to the bundled guest, without bringing back a removed copy', () => {
    const paths = freshPaths();
    start(paths);
    writeFileSync(kernelCopy(paths), 'an older demo');
    start(paths);
    expect(readFileSync(kernelCopy(paths)).equals(readFileSync(BUNDLED))).toBe(true);
    unlinkSync(kernelCopy(paths));
    start(paths);
    expect(existsSync(kernelCopy(paths))).toBe(false);
  });
});

/** Polls `fn` until it returns something other than undefined or false. */
async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the demo domain in the engine service', () => {
  let svc: EngineService | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });

  it('a new library lists "demo"; created from it, the guest reaches its shell on COM1 and powers off', async () => {
    const paths = freshPaths();
    svc = new EngineService(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 64, paths, version: 'test' });
    await svc.engine.whenReady();
    const list = await svc.request('library.list', {});
    expect(list.map((e) => [e.name, e.errors])).toEqual([['demo', []]]);

    const { domid } = await svc.request('domain.create', { library: 'demo' });
    // COM1 as text: the ANSI colour sequences and CRs of the guest's output removed.
    const com1 = () => plainText(new TextDecoder('latin1').decode(svc?.domains.get(domid)?.consoles.get(1)?.contents()));
    // cmdline "-- help": the banner, then the command list, then the prompt.
    const text = await until(() => (com1().includes('Keys: Backspace') && com1().endsWith(PROMPT) ? com1() : undefined), 30_000, 'the demo shell');
    expect(text).toContain('Domus demo guest');
    expect(text).toMatch(/Command: +-- help\n/);
    await svc.request('console.write', { domain: domid, com: 1, data: 'echo hello from the test\r' });
    await until(() => com1().includes('hello from the test\n'), 20_000, 'the echo');
    await svc.request('console.write', { domain: domid, com: 1, data: 'poweroff\r' });
    // on_poweroff = "destroy": the domain goes away.
    await until(() => !svc?.domains.has(domid), 20_000, 'the power-off');
  }, 60_000);

  it('with DOMUS_NO_DEMO=1 a new library stays empty', async () => {
    svc = new EngineService(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 16, paths: freshPaths({ DOMUS_NO_DEMO: '1' }), version: 'test' });
    expect(await svc.request('library.list', {})).toEqual([]);
  });
});
