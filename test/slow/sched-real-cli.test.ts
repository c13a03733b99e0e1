/**
 * The scheduler scenarios end to end through the `domus` command line, as a user runs them: a
 * `domus daemon --pcpus 2` process, and one `bin/domus` process per verb (xl's verbs and
 * options). Weights 256:512 on a 1-pCPU credit pool made with cpupool-cpu-remove and
 * cpupool-create give CPU time 1:2 within 5% over 20 s (vcpu-list --json); `domus trace` shows
 * both domains switching on that pool's pCPU only; an idle tick domain costs the daemon process
 * less than 0.5% of a host CPU (its threads' CPU time from /proc).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestCfg, hostLine, sleep, threadSnapshot, threadUse } from '../unit/sched-real/real-engine';

const DOMUS = path.resolve('bin/domus');
const WARMUP_MS = 3000;
const WINDOW_MS = 20_000;
const RATIO_TOLERANCE = 0.05;
const BASELINE_MS = 5000;
const IDLE_MS = 10_000;
const IDLE_COST_MAX = 0.005;
const DAEMON_START_MS = 20_000;

let home: string;
let env: NodeJS.ProcessEnv;
let daemon: ChildProcess | undefined;

/** Runs one verb in its own process; returns exit code and output. */
function domus(...argv: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [DOMUS, ...argv], { env, cwd: home, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Runs a verb that must succeed. */
function ok(...argv: string[]): string {
  const r = domus(...argv);
  expect(r.code, `domus ${argv.join(' ')} failed: ${r.err}`).toBe(0);
  return r.out;
}

interface VcpuRow {
  name: string;
  domid: number;
  pcpu: number;
  cpuSeconds: number;
}

function cpuByName(): Map<string, number> {
  const rows = JSON.parse(ok('vcpu-list', '--json')) as VcpuRow[];
  return new Map(rows.map((r) => [r.name, r.cpuSeconds]));
}

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'domus-sched-cli-'));
  env = { ...process.env, DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home };
  delete env.NODE_EXTRA_CA_CERTS;
  // The daemon's toolstack is dist/node/cli.js; its worker threads must come from the same build.
  delete env.DOMUS_ENGINE_DIR;
  daemon = spawn(process.execPath, [DOMUS, 'daemon', '--pcpus', '2'], { env, cwd: home, stdio: ['ignore', 'ignore', 'pipe'] });
  const t0 = Date.now();
  while (domus('list').code !== 0) {
    if (Date.now() - t0 > DAEMON_START_MS || daemon.exitCode !== null) throw new Error('domus daemon did not start');
    await sleep(200);
  }
  writeFileSync(path.join(home, 'light.cfg'), guestCfg({ name: 'light', guest: 'spin', pool: 'cli1' }));
  writeFileSync(path.join(home, 'heavy.cfg'), guestCfg({ name: 'heavy', guest: 'spin', pool: 'cli1' }));
  writeFileSync(path.join(home, 'idle.cfg'), guestCfg({ name: 'idle', guest: 'tick' }));
});

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await Promise.race([gone, sleep(10_000)]);
  }
  rmSync(home, { recursive: true, force: true });
});

describe('scheduling through the domus CLI and daemon', () => {
  it('weights 256:512 on a 1-pCPU credit pool: 1:2 within 5% over 20 s; trace on the pool pCPU only', async () => {
    ok('cpupool-cpu-remove', 'Pool-0', '1');
    expect(ok('cpupool-create', 'name="cli1"', 'sched="credit"', 'cpus="1"')).toBe('cpupool name:   cli1\nscheduler:      credit\nnumber of cpus: 1\n');
    ok('create', 'light.cfg');
    ok('create', 'heavy.cfg');
    ok('sched-credit', '-d', 'heavy', '-w', '512');
    expect(ok('sched-credit', '-d', 'light')).toMatch(/light\s+\d+\s+256\s+0\n$/);
    expect(ok('sched-credit', '-d', 'heavy')).toMatch(/heavy\s+\d+\s+512\s+0\n$/);
    await sleep(WARMUP_MS);
    const c0 = cpuByName();
    await sleep(WINDOW_MS);
    const c1 = cpuByName();
    const light = (c1.get('light') ?? 0) - (c0.get('light') ?? 0);
    const heavy = (c1.get('heavy') ?? 0) - (c0.get('heavy') ?? 0);
    const csv = ok('trace', '--seconds', '5').trim().split('\n');
    const head = csv[0].split(',');
    const col = (name: string) => head.indexOf(name);
    const rows = csv.slice(1).map((l) => l.split(','));
    const ids = (JSON.parse(ok('vcpu-list', '--json')) as VcpuRow[]).filter((r) => r.name === 'light' || r.name === 'heavy').map((r) => String(r.domid));
    const switches = rows.filter((r) => ids.includes(r[col('domid')]) && (r[col('event')] === 'in' || r[col('event')] === 'out'));
    const report = `domus CLI, credit: light ${light.toFixed(3)} s, heavy ${heavy.toFixed(3)} s -> ${(heavy / light).toFixed(4)}; ${switches.length} switch records in 5 s of trace; ${hostLine()}`;
    console.log(report);
    expect(head, 'domus trace must name the columns, with the event kind').toEqual(['t_ns', 'pcpu', 'domid', 'vcpu', 'event', 'reason']);
    expect(switches.length, report).toBeGreaterThan(10);
    expect(switches.every((r) => r[col('pcpu')] === '1'), `the cli1 domains may only run on pCPU 1\n${report}`).toBe(true);
    expect(Math.abs(heavy / light / 2 - 1), `heavy/light must be 2 within 5%\n${report}`).toBeLessThanOrEqual(RATIO_TOLERANCE);
    ok('destroy', 'light');
    ok('destroy', 'heavy');
  });

  it('an idle tick domain costs the daemon less than 0.5% of a host CPU', async () => {
    const pid = daemon!.pid!;
    await sleep(1000);
    let a = threadSnapshot(pid);
    await sleep(BASELINE_MS);
    const base = threadUse(a, threadSnapshot(pid));
    ok('create', 'idle.cfg');
    await sleep(1500);
    a = threadSnapshot(pid);
    await sleep(IDLE_MS);
    const busy = threadUse(a, threadSnapshot(pid));
    const cost = busy.total - base.total;
    const report = `domus daemon: ${(100 * busy.total).toFixed(3)}% of one host CPU with an idle tick domain, ${(100 * base.total).toFixed(3)}% without -> cost ${(100 * cost).toFixed(3)}%; ${hostLine(busy)}`;
    console.log(report);
    expect(ok('list', 'idle')).toMatch(/^idle\s+\d+\s+4\s+1\s+/m);
    expect(cost, report).toBeLessThan(IDLE_COST_MAX);
    ok('destroy', 'idle');
  });
});
