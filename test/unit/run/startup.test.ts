/**
 * The start path of `domus run`: the V8 code cache of the CLI and of the engine threads'
 * programs (src-engine/node/code-cache.ts) and the start-up trace (startup-trace.ts).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeCacheDir, codeCacheFile, loadCachedBundle } from '../../../src-engine/node/code-cache';

const GUESTS = path.resolve('test/fixtures/guests');

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'domus-startup-'));
}

/** A CommonJS bundle with a unique body (V8 also caches compiles per process, by source). */
function bundle(dir: string, name = 'prog.cjs'): string {
  const file = path.join(dir, name);
  const tag = `${process.pid}-${Math.random()}`;
  writeFileSync(file, `// ${tag}\nconst os = require('node:os');\nexports.answer = () => 6 * 7;\nexports.where = __filename;\nexports.eol = os.EOL;\n`);
  return file;
}

describe('code cache', () => {
  it('misses, writes the cache on save, then hits; the program runs the same each time', () => {
    const dir = tmp();
    const env = { DOMUS_CACHE_DIR: path.join(dir, 'cache') };
    const file = bundle(dir);
    const first = loadCachedBundle(file, { contentKey: 'k1', env });
    expect(first.status).toBe('miss');
    expect((first.exports.answer as () => number)()).toBe(42);
    expect(first.exports.where).toBe(file);
    expect(first.save()).toBe(true);
    expect(first.save()).toBe(false);
    expect(existsSync(first.cacheFile as string)).toBe(true);
    const second = loadCachedBundle(file, { contentKey: 'k1', env });
    expect(second.status).toBe('hit');
    expect((second.exports.answer as () => number)()).toBe(42);
    expect(second.save()).toBe(false);
  });

  it('a corrupt cache is rejected, the program still runs, and save replaces the cache', () => {
    const dir = tmp();
    const env = { DOMUS_CACHE_DIR: path.join(dir, 'cache') };
    const file = bundle(dir);
    const cacheFile = codeCacheFile(path.join(dir, 'cache', 'v8'), file, 'k');
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, Buffer.alloc(4096, 0xa5));
    const loaded = loadCachedBundle(file, { contentKey: 'k', env });
    expect(loaded.cacheFile).toBe(cacheFile);
    expect(loaded.status).toBe('rejected');
    expect((loaded.exports.answer as () => number)()).toBe(42);
    expect(loaded.save()).toBe(true);
    expect(readFileSync(cacheFile).equals(Buffer.alloc(4096, 0xa5))).toBe(false);
  });

  it('a new build (another content key) replaces the old build cache', () => {
    const dir = tmp();
    const env = { DOMUS_CACHE_DIR: path.join(dir, 'cache') };
    const file = bundle(dir);
    const old = loadCachedBundle(file, { contentKey: 'build1', env });
    old.save();
    const neu = loadCachedBundle(bundle(dir), { contentKey: 'build2', env });
    expect(neu.status).toBe('miss');
    neu.save();
    expect(readdirSync(path.join(dir, 'cache', 'v8'))).toEqual([path.basename(neu.cacheFile as string)]);
  });

  it('removes temporary files a killed process left behind, but not one being written now', () => {
    const dir = tmp();
    const env = { DOMUS_CACHE_DIR: path.join(dir, 'cache') };
    const first = loadCachedBundle(bundle(dir), { contentKey: 'k1', env });
    first.save();
    const v8 = path.join(dir, 'cache', 'v8');
    const stale = path.join(v8, `${path.basename(first.cacheFile as string)}.111-0.tmp`);
    const fresh = path.join(v8, `${path.basename(first.cacheFile as string)}.222-0.tmp`);
    writeFileSync(stale, '');
    writeFileSync(fresh, '');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(stale, hourAgo, hourAgo);
    const next = loadCachedBundle(bundle(dir), { contentKey: 'k2', env });
    expect(next.save()).toBe(true);
    expect(readdirSync(v8).sort()).toEqual([path.basename(next.cacheFile as string), path.basename(fresh)].sort());
  });

  it('is off with DOMUS_CODE_CACHE=0, and an unwritable cache folder only costs the cache', () => {
    const dir = tmp();
    const off = loadCachedBundle(bundle(dir), { contentKey: 'k', env: { DOMUS_CODE_CACHE: '0', DOMUS_CACHE_DIR: path.join(dir, 'c') } });
    expect(off.status).toBe('off');
    expect(off.save()).toBe(false);
    expect(existsSync(path.join(dir, 'c'))).toBe(false);
    // The cache folder's parent is a file: nothing can be created there.
    writeFileSync(path.join(dir, 'file'), 'x');
    const blocked = loadCachedBundle(bundle(dir), { contentKey: 'k', env: { DOMUS_CACHE_DIR: path.join(dir, 'file') } });
    expect(blocked.status).toBe('miss');
    expect((blocked.exports.answer as () => number)()).toBe(42);
    expect(blocked.save()).toBe(false);
  });

  it('lives in XDG_CACHE_HOME/domus/v8, else ~/.cache/domus/v8', () => {
    expect(codeCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe(path.join('/x/cache', 'domus', 'v8'));
    expect(codeCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'domus', 'v8'));
    expect(codeCacheDir({ DOMUS_CODE_CACHE: '0' })).toBeUndefined();
  });
});

function domusRun(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/domus', 'run', ...args], { encoding: 'latin1', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('domus run start path', () => {
  it('the first run writes the CLI and the engine threads their code caches, the next one uses them', () => {
    const cache = tmp();
    const env = { DOMUS_CACHE_DIR: cache, DOMUS_TRACE_START: '1' };
    const first = domusRun(env, '--kernel', `${GUESTS}/bench.elf`, '--debug-exit', '--pcpus', '1');
    expect(first.code).toBe(1);
    expect(first.out).toMatch(/END call tsc=\d+ result=0x003f7ac8/);
    expect(first.err).toContain('hv-thread.cjs loaded (code cache: miss)');
    expect(first.err).toContain('pcpu-thread.cjs loaded (code cache: miss)');
    expect(first.err).toContain('cli.cjs loaded (code cache: miss)');
    const files = readdirSync(path.join(cache, 'v8')).sort();
    expect(files.map((f) => f.replace(/\.cjs-.*/, ''))).toEqual(['cli', 'hv-thread', 'pcpu-thread']);
    const second = domusRun(env, '--kernel', `${GUESTS}/bench.elf`, '--debug-exit', '--pcpus', '1');
    expect(second.code).toBe(1);
    expect(second.out.replace(/tsc=\d+/g, '')).toBe(first.out.replace(/tsc=\d+/g, ''));
    expect(second.err).toContain('hv-thread.cjs loaded (code cache: hit)');
    expect(second.err).toContain('pcpu-thread.cjs loaded (code cache: hit)');
    expect(second.err).toContain('cli.cjs loaded (code cache: hit)');
    // `domus run` runs the hypervisor on its main thread; DOMUS_RUN_HV=worker gives it a worker
    // (as the daemon does), which uses the same cache and runs the guest the same.
    expect(second.err).toMatch(/^domus startup: +\d+\.\d ms {2}main +hv-thread\.cjs loaded \(code cache: hit\), on the main thread/m);
    const worker = domusRun({ ...env, DOMUS_RUN_HV: 'worker' }, '--kernel', `${GUESTS}/bench.elf`, '--debug-exit', '--pcpus', '1');
    expect(worker.code).toBe(1);
    expect(worker.out.replace(/tsc=\d+/g, '')).toBe(first.out.replace(/tsc=\d+/g, ''));
    expect(worker.err).toMatch(/^domus startup: +\d+\.\d ms {2}thread\d+ +hv-thread\.cjs loaded \(code cache: hit\)/m);
    expect(worker.err).not.toContain('on the main thread');
  }, 120_000);

  it('starts the first pCPU worker before the CLI loads; unused, it does not hold the process', () => {
    const env = { DOMUS_TRACE_START: '1' };
    const r = domusRun(env, '--kernel', path.resolve('test/fixtures/run/poweroff.elf'), '--debug-exit', '--pcpus', '1');
    expect(r.code).toBe((0x2a << 1) | 1);
    // The worker loaded its program before the engine existed and was adopted by it.
    expect(r.err).toMatch(/^domus startup: .*thread\d+ +pcpu-thread\.cjs: adopted by the engine/m);
    const off = domusRun({ ...env, DOMUS_EARLY_PCPU: '0' }, '--kernel', path.resolve('test/fixtures/run/poweroff.elf'), '--debug-exit', '--pcpus', '1');
    expect(off.code).toBe((0x2a << 1) | 1);
    expect(off.err).not.toContain('adopted');
    // Bad arguments: the early worker is never adopted, and the command still ends at once.
    const bad = domusRun(env, '--kernel');
    expect(bad.code).toBe(2);
    const help = domusRun(env, '--help');
    expect(help.code).toBe(0);
    expect(help.err).toContain('usage: domus run');
  }, 60_000);

  it('traces the start-up milestones on stderr, in order, with nothing added to stdout', () => {
    const r = domusRun({ DOMUS_TRACE_START: '1', DOMUS_CODE_CACHE: '0' }, '--kernel', path.resolve('test/fixtures/run/poweroff.elf'), '--debug-exit', '--pcpus', '2');
    expect(r.out).toBe('FAULT GUEST UP\n');
    expect(r.code).toBe((0x2a << 1) | 1);
    const order = ['cli.cjs loaded (code cache: off)', 'cli bundle evaluated', 'run: arguments parsed, kernel read', 'run: engine constructed', 'run: hypervisor ready', 'run: domain created', 'run: first console byte'];
    const at = order.map((m) => r.err.indexOf(m));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(r.err).toContain('hv-thread.cjs loaded (code cache: off)');
    // Each line: ms since the process started, the thread, the milestone, the thread's CPU time.
    expect(r.err).toMatch(/^domus startup: +\d+\.\d ms {2}main +run: domain created {2}\(thread CPU \d+\.\d ms\)$/m);
  }, 60_000);

  it('a cache written under other V8 flags is rejected and rewritten; the guest runs the same', () => {
    const cache = tmp();
    const kernel = path.resolve('test/fixtures/run/poweroff.elf');
    const run = (flags: string[]) => {
      const r = spawnSync(process.execPath, [...flags, 'bin/domus', 'run', '--kernel', kernel, '--debug-exit', '--pcpus', '1'], {
        encoding: 'latin1',
        timeout: 60_000,
        env: { ...process.env, DOMUS_CACHE_DIR: cache, DOMUS_TRACE_START: '1' },
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const plain = run([]);
    expect(plain.err).toContain('cli.cjs loaded (code cache: miss)');
    // V8 checks its flags against the cache's; --no-opt makes them differ.
    const other = run(['--no-opt']);
    expect(other.err).toContain('cli.cjs loaded (code cache: rejected)');
    expect(other.err).toContain('hv-thread.cjs loaded (code cache: rejected)');
    for (const r of [plain, other]) {
      expect(r.out).toBe('FAULT GUEST UP\n');
      expect(r.code).toBe((0x2a << 1) | 1);
    }
    expect(run(['--no-opt']).err).toContain('hv-thread.cjs loaded (code cache: hit)');
  }, 60_000);
});
