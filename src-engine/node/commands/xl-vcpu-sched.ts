/**
 * VCPU, scheduler and cpupool verbs with xl's options and output: vcpu-list, vcpu-pin, vcpu-set,
 * mem-set, mem-max, sched-credit, sched-credit2, sched-rtds, sched-arinc653 (ours),
 * cpupool-create/-destroy/-list/-rename/-cpu-add/-cpu-remove/-migrate, save, restore.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../base/errors';
import { formatXlVcpuList } from '../../config/xl-output-domains';
import { parseVcpuPinArgs } from '../../config/xl-args-vcpu';
import { parseSchedCredit2Args, parseSchedCreditArgs, parseSchedRtdsArgs } from '../../config/xl-args-sched';
import {
  formatCredit2PoolLine, formatCreditPoolLine, formatCpupoolList, formatSchedDomain, formatSchedDomainHeader, formatSchedDomainRow,
  formatRtdsDomainHeader, formatRtdsDomainRow, formatRtdsPoolLine, formatRtdsVcpuHeader, formatRtdsVcpuRow,
} from '../../config/xl-output-sched';
import { parseCpupoolConfig } from '../../config/cpupool-config';
import { formatCpuSet } from '../../base/cpulist';
import type { PoolInfo } from '../../api/types';
import type { CliCommand, CliIo } from '../cli-io';
import type { SocketClient } from '../client/socket-client';
import { EXIT_FAIL, takeFlag, usage, withClient } from './client-verb';

const ref = (s: string) => (/^\d+$/.test(s) ? Number(s) : s);

function xlResult(io: CliIo, r: { kind: 'help' } | { kind: 'error'; message: string; exitCode: number }, help: string): number {
  if (r.kind === 'help') {
    io.out(help);
    return 0;
  }
  io.err(`${r.message}\n`);
  return r.exitCode;
}

export const vcpuListCommand: CliCommand = async (args, io) => {
  const json = takeFlag(args, '--json');
  return withClient(io, 'vcpu-list', async (c) => {
    const host = await c.request('host.info', {});
    let rows = await c.request('vcpu.list', {});
    if (args.length > 0) {
      const ids: number[] = [];
      for (const a of args) ids.push((await c.request('domain.get', { domain: ref(a) })).domid);
      rows = rows.filter((r) => ids.includes(r.domid));
    }
    if (json) {
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    io.out(
      formatXlVcpuList(
        rows.map((r) => ({
          name: r.name, domid: r.domid, vcpu: r.vcpu, online: r.state !== 'offline', cpu: Math.max(0, r.pcpu),
          running: r.state === 'running', blocked: r.state === 'blocked', timeNs: r.cpuSeconds * 1e9, hard: r.hard, soft: r.soft,
        })),
        host.nrPcpus,
      ),
    );
    return 0;
  });
};

export const vcpuPinCommand: CliCommand = async (args, io) => {
  return withClient(io, 'vcpu-pin', async (c) => {
    const host = await c.request('host.info', {});
    const topo = { nrCpus: host.nrPcpus };
    const r = parseVcpuPinArgs(args, topo, 'domus');
    if (r.kind !== 'ok') return xlResult(io, r, 'usage: domus vcpu-pin [-f] DOMAIN VCPU HARD [SOFT]\n');
    const a = r.action;
    await c.request('vcpu.pin', {
      domain: ref(a.domain),
      vcpu: a.vcpu,
      hard: a.hard === undefined ? undefined : formatCpuSet(a.hard, host.nrPcpus).replace('none', '^0-255').replace(/^all$/, 'all'),
      soft: a.soft === undefined ? undefined : formatCpuSet(a.soft, host.nrPcpus).replace(/^all$/, 'all'),
    });
    return 0;
  });
};

export const vcpuSetCommand: CliCommand = async (args, io) => {
  if (args.length !== 2) return usage(io, 'usage: domus vcpu-set DOMAIN COUNT');
  return withClient(io, 'vcpu-set', async (c) => {
    await c.request('domain.setVcpus', { domain: ref(args[0]), count: Number(args[1]) });
    return 0;
  });
};

function memVerb(method: 'domain.memSet' | 'domain.memMax', verb: string): CliCommand {
  return async (args, io) => {
    if (args.length !== 2) return usage(io, `usage: domus ${verb} DOMAIN MEM[kmgt]`);
    const m = /^(\d+)([kmgtb]?)$/i.exec(args[1]);
    if (!m) return usage(io, `Invalid memory size: ${args[1]}`);
    const unit = (m[2] || 'm').toLowerCase();
    const mib = Math.floor((Number(m[1]) * { b: 1 / 2 ** 20, k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }[unit]!));
    return withClient(io, verb, async (c) => {
      await c.request(method, { domain: ref(args[0]), mib });
      return 0;
    });
  };
}
export const memSetCommand = memVerb('domain.memSet', 'mem-set');
export const memMaxCommand = memVerb('domain.memMax', 'mem-max');

async function poolsWith(c: SocketClient, sched: string, only: string | undefined): Promise<PoolInfo[]> {
  const pools = (await c.request('pool.list', {})).filter((p) => p.scheduler === sched);
  if (only === undefined) return pools;
  const p = pools.find((x) => x.name === only || String(x.id) === only);
  if (!p) throw new Error(`Cpupool '${only}' does not exist or does not use ${sched}`);
  return [p];
}

async function domainRows(c: SocketClient, domids: number[]) {
  const out = [];
  for (const d of domids) {
    const det = await c.request('domain.get', { domain: d });
    const s = await c.request('sched.get', { domain: d });
    out.push({ name: det.name, domid: d, weight: s.weight ?? 0, cap: s.cap ?? 0 });
  }
  return out;
}

function creditVerb(sched: 'credit' | 'credit2'): CliCommand {
  return async (args, io) => {
    const r = sched === 'credit' ? parseSchedCreditArgs(args, 'domus') : parseSchedCredit2Args(args, 'domus');
    if (r.kind !== 'ok') return xlResult(io, r, `usage: domus sched-${sched} [-d DOMAIN [-w W] [-c C]] [-s [-p POOL] ...]\n`);
    const a = r.action;
    return withClient(io, `sched-${sched}`, async (c) => {
      const poolLine = (p: PoolInfo) =>
        sched === 'credit'
          ? formatCreditPoolLine({ pool: p.name, tsliceMs: p.params.tsliceMs ?? 30, ratelimitUs: p.params.ratelimitUs ?? 1000, migrationDelayUs: p.params.migrationDelayUs ?? 0 })
          : formatCredit2PoolLine({ pool: p.name, ratelimitUs: p.params.ratelimitUs ?? 1000 });
      switch (a.kind) {
        case 'list':
          for (const p of await poolsWith(c, sched, a.pool)) {
            io.out(poolLine(p));
            io.out(formatSchedDomainHeader());
            for (const row of await domainRows(c, p.domains)) io.out(formatSchedDomainRow(row));
          }
          return 0;
        case 'show-domain': {
          const d = await c.request('domain.get', { domain: ref(a.domain) });
          io.out(formatSchedDomain((await domainRows(c, [d.domid]))[0]));
          return 0;
        }
        case 'set-domain':
          await c.request('sched.set', { domain: ref(a.domain), weight: a.weight, cap: a.cap });
          return 0;
        case 'show-params': {
          const pools = await c.request('pool.list', {});
          const p = pools.find((x) => (a.pool === undefined ? x.id === 0 : x.name === a.pool || String(x.id) === a.pool));
          if (!p) throw new Error(`Cpupool '${a.pool}' does not exist`);
          io.out(poolLine(p));
          return 0;
        }
        case 'set-params': {
          const pool = a.pool ?? 0;
          const params = 'tsliceMs' in a ? { tsliceMs: a.tsliceMs, ratelimitUs: a.ratelimitUs, migrationDelayUs: a.migrationDelayUs } : { ratelimitUs: a.ratelimitUs };
          await c.request('pool.setParams', { pool, params });
          return 0;
        }
      }
    });
  };
}
export const schedCreditCommand = creditVerb('credit');
export const schedCredit2Command = creditVerb('credit2');

export const schedRtdsCommand: CliCommand = async (args, io) => {
  const r = parseSchedRtdsArgs(args, 'domus');
  if (r.kind !== 'ok') return xlResult(io, r, 'usage: domus sched-rtds [-d DOMAIN [-v VCPU|all -p PERIOD -b BUDGET -e 0|1]...] [-c POOL]\n');
  const a = r.action;
  return withClient(io, 'sched-rtds', async (c) => {
    const vcpuRows = async (domid: number, only: number[] | 'all') => {
      const det = await c.request('domain.get', { domain: domid });
      const s = await c.request('sched.get', { domain: domid });
      return (s.rtds ?? [])
        .map((p, v) => ({ name: det.name, domid, vcpu: v, periodUs: p.periodUs, budgetUs: p.budgetUs, extratime: p.extratime }))
        .filter((x) => only === 'all' || only.includes(x.vcpu));
    };
    switch (a.kind) {
      case 'list':
      case 'list-vcpus':
        for (const p of await poolsWith(c, 'rtds', a.pool)) {
          io.out(formatRtdsPoolLine(p.name));
          if (a.kind === 'list') {
            io.out(formatRtdsDomainHeader());
            for (const d of p.domains) {
              const det = await c.request('domain.get', { domain: d });
              io.out(formatRtdsDomainRow({ name: det.name, domid: d, periodUs: 10000, budgetUs: 4000, extratime: true }));
            }
          } else {
            io.out(formatRtdsVcpuHeader());
            for (const d of p.domains) for (const row of await vcpuRows(d, 'all')) io.out(formatRtdsVcpuRow(row));
          }
        }
        return 0;
      case 'show-domain': {
        const det = await c.request('domain.get', { domain: ref(a.domain) });
        io.out(formatRtdsDomainHeader());
        io.out(formatRtdsDomainRow({ name: det.name, domid: det.domid, periodUs: 10000, budgetUs: 4000, extratime: true }));
        return 0;
      }
      case 'show-vcpus': {
        const det = await c.request('domain.get', { domain: ref(a.domain) });
        io.out(formatRtdsVcpuHeader());
        for (const row of await vcpuRows(det.domid, a.vcpus)) io.out(formatRtdsVcpuRow(row));
        return 0;
      }
      case 'set-vcpus':
        await c.request('sched.set', {
          domain: ref(a.domain),
          rtds: a.params.map((p) => ({ vcpu: p.vcpu, params: { periodUs: p.periodUs, budgetUs: p.budgetUs, extratime: p.extratime } })),
        });
        return 0;
      case 'set-all-vcpus':
        await c.request('sched.set', { domain: ref(a.domain), rtds: [{ vcpu: 'all', params: { periodUs: a.periodUs, budgetUs: a.budgetUs, extratime: a.extratime } }] });
        return 0;
    }
  });
};

/**
 * `domus sched-arinc653 [-p POOL]` shows a pool's schedule; `-p POOL -f FILE` installs one
 * (Domus' extension: xl has no ARINC 653 verb). FILE lines: `major_frame_us N`, then
 * `DOMAIN VCPU RUNTIME_US` per minor frame; `#` comments.
 */
export const schedArinc653Command: CliCommand = async (args, io) => {
  const p = args.indexOf('-p');
  const f = args.indexOf('-f');
  const pool = p >= 0 ? args[p + 1] : undefined;
  const file = f >= 0 ? args[f + 1] : undefined;
  if ((p >= 0 && pool === undefined) || (f >= 0 && file === undefined)) return usage(io, 'usage: domus sched-arinc653 [-p POOL] [-f SCHEDULE_FILE]');
  return withClient(io, 'sched-arinc653', async (c) => {
    if (file !== undefined) {
      if (pool === undefined) return usage(io, 'sched-arinc653 -f needs -p POOL');
      let text: string;
      try {
        text = readFileSync(path.resolve(io.cwd, file), 'utf8');
      } catch (e) {
        io.err(`Cannot read ${file}: ${errorMessage(e)}\n`);
        return EXIT_FAIL;
      }
      let major = 0;
      const entries = [];
      for (const [n, raw] of text.split('\n').entries()) {
        const line = raw.replace(/#.*/, '').trim();
        if (!line) continue;
        const w = line.split(/\s+/);
        if (w[0] === 'major_frame_us' && w.length === 2) major = Number(w[1]);
        else if (w.length === 3) entries.push({ domain: ref(w[0]), vcpu: Number(w[1]), runtimeUs: Number(w[2]) });
        else {
          io.err(`${file}:${n + 1}: expected "major_frame_us N" or "DOMAIN VCPU RUNTIME_US"\n`);
          return EXIT_FAIL;
        }
      }
      await c.request('pool.setArinc653', { pool: ref(pool), schedule: { majorFrameUs: major, entries } });
      return 0;
    }
    for (const pi of await poolsWith(c, 'arinc653', pool)) {
      io.out(`Cpupool ${pi.name}: sched=ARINC653 major_frame=${pi.arinc653?.majorFrameUs ?? 0}us\n`);
      io.out(`${'Domain'.padEnd(33)} ${'VCPU'.padStart(4)} ${'Runtime(us)'.padStart(11)}\n`);
      for (const e of pi.arinc653?.entries ?? []) io.out(`${String(e.domain).padEnd(33)} ${String(e.vcpu).padStart(4)} ${String(e.runtimeUs).padStart(11)}\n`);
    }
    return 0;
  });
};

export const cpupoolListCommand: CliCommand = async (args, io) => {
  const json = takeFlag(args, '--json');
  const cpus = takeFlag(args, '-c', '--cpus');
  return withClient(io, 'cpupool-list', async (c) => {
    let pools = await c.request('pool.list', {});
    if (args[0] !== undefined) {
      pools = pools.filter((p) => p.name === args[0]);
      if (pools.length === 0) {
        io.err(`Pool '${args[0]}' does not exist\n`);
        return EXIT_FAIL;
      }
    }
    if (json) {
      io.out(`${JSON.stringify(pools, null, 2)}\n`);
      return 0;
    }
    io.out(formatCpupoolList(pools.map((p) => ({ name: p.name, cpus: p.cpus, sched: p.scheduler, nDomains: p.domains.length + (p.id === 0 ? 1 : 0) })), { cpus }));
    return 0;
  });
};

export const cpupoolCreateCommand: CliCommand = async (args, io) => {
  const f = args.indexOf('-f');
  let file: string | undefined;
  if (f >= 0) {
    file = args[f + 1];
    args.splice(f, 2);
  }
  const words = args.filter((a) => !a.startsWith('-'));
  if (file === undefined && words.length > 0 && !words[0].includes('=')) file = words.shift();
  let text = '';
  if (file !== undefined) {
    try {
      text = readFileSync(path.resolve(io.cwd, file), 'utf8');
    } catch (e) {
      io.err(`Failed to read config file: ${file}: ${errorMessage(e)}\n`);
      return EXIT_FAIL;
    }
  }
  return withClient(io, 'cpupool-create', async (c) => {
    const host = await c.request('host.info', {});
    const { config: cfg } = parseCpupoolConfig(text, { file: file ?? 'command line', overrides: words, topology: { nrCpus: host.nrPcpus } });
    if (cfg.nodes !== undefined) throw new Error('cpupool-create: nodes= needs NUMA topology, which Domus does not model; use cpus=');
    const cpusText = Array.isArray(cfg.cpus) ? cfg.cpus.join(',') : cfg.cpus;
    if (file !== undefined) io.out(`Using config file "${file}"\n`);
    const pool = await c.request('pool.create', { name: cfg.name, scheduler: cfg.sched as PoolInfo['scheduler'] | undefined, cpus: cpusText });
    io.out(`cpupool name:   ${pool.name}\nscheduler:      ${pool.scheduler}\nnumber of cpus: ${pool.cpus.length}\n`);
    return 0;
  });
};

function poolVerb(verb: string, n: number, fn: (c: SocketClient, a: string[]) => Promise<unknown>): CliCommand {
  return async (args, io) => {
    if (args.length !== n) return usage(io, `usage: domus ${verb} ${n === 1 ? 'POOL' : verb === 'cpupool-migrate' ? 'DOMAIN POOL' : verb === 'cpupool-rename' ? 'POOL NEWNAME' : 'POOL CPUS'}`);
    return withClient(io, verb, async (c) => {
      await fn(c, args);
      return 0;
    });
  };
}
export const cpupoolDestroyCommand = poolVerb('cpupool-destroy', 1, (c, a) => c.request('pool.destroy', { pool: ref(a[0]) }));
export const cpupoolRenameCommand = poolVerb('cpupool-rename', 2, (c, a) => c.request('pool.rename', { pool: ref(a[0]), name: a[1] }));
export const cpupoolCpuAddCommand = poolVerb('cpupool-cpu-add', 2, (c, a) => c.request('pool.cpuAdd', { pool: ref(a[0]), cpus: a[1] }));
export const cpupoolCpuRemoveCommand = poolVerb('cpupool-cpu-remove', 2, (c, a) => c.request('pool.cpuRemove', { pool: ref(a[0]), cpus: a[1] }));
export const cpupoolMigrateCommand = poolVerb('cpupool-migrate', 2, (c, a) => c.request('pool.migrate', { domain: ref(a[0]), pool: ref(a[1]) }));

export const saveCommand: CliCommand = async (args, io) => {
  const keep = takeFlag(args, '-c', '-p');
  void keep;
  if (args.length < 1 || args.length > 2) return usage(io, 'usage: domus save DOMAIN [CHECKPOINTFILE]');
  return withClient(io, 'save', async (c) => {
    const r = await c.request('domain.save', { domain: ref(args[0]), file: args[1] ? path.resolve(io.cwd, args[1]) : undefined });
    io.err(`Saving to ${r.file}\n`);
    return 0;
  });
};

export const restoreCommand: CliCommand = async (args, io) => {
  const paused = takeFlag(args, '-p');
  if (args.length !== 1) return usage(io, 'usage: domus restore [-p] CHECKPOINTFILE');
  return withClient(io, 'restore', async (c) => {
    await c.request('domain.restore', { file: path.resolve(io.cwd, args[0]), paused });
    return 0;
  });
};
