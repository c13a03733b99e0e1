/**
 * Domain verbs with xl's options and output: create, list, info, destroy, shutdown, reboot, pause,
 * unpause, console, dmesg, top, trace, and screen (Domus's own: the VGA text screen).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../../base/errors';
import { formatXlList, type XlListRow, type ShutdownReason } from '../../config/xl-output-domains';
import { formatXlInfo } from '../../config/xl-output-info';
import { splitCreateOperands } from '../../config/xl-args-vcpu';
import type { DomainSummary } from '../../api/types';
import type { CliCommand, CliIo } from '../cli-io';
import type { SocketClient } from '../client/socket-client';
import { DOMUS_VERSION } from '../version';
import { EXIT_FAIL, takeFlag, usage, withClient } from './client-verb';

const XL_SHUTDOWN: Record<string, ShutdownReason> = {
  poweroff: 'poweroff', reboot: 'reboot', suspend: 'suspend', crash: 'crash', watchdog: 'watchdog', soft_reset: 'soft_reset', 'debug-exit': 'poweroff', halted: 'poweroff',
};

/** A domain summary as an `xl list` row. */
export function listRow(d: DomainSummary): XlListRow {
  return {
    name: d.name,
    domid: d.domid,
    memoryKiB: d.memoryMiB * 1024,
    vcpusOnline: d.onlineVcpus,
    running: d.state === 'running',
    blocked: d.state === 'blocked',
    paused: d.state === 'paused',
    shutdown: d.shutdownReason ? XL_SHUTDOWN[d.shutdownReason] ?? 'poweroff' : d.state === 'crashed' ? 'crash' : undefined,
    dying: d.state === 'dying',
    cpuTimeNs: d.cpuSeconds * 1e9,
    pool: d.pool,
  };
}

/** Streams a domain's console to stdout and stdin to it until Ctrl-] (or the domain ends). */
export async function attachConsole(c: SocketClient, io: CliIo, domid: number, com: number): Promise<number> {
  await c.request('events.subscribe', { events: ['console', 'domain'], domains: [domid] });
  const hist = await c.request('console.history', { domain: domid, com });
  if (hist.data.length > 0) io.out(hist.data);
  return new Promise<number>((resolve) => {
    const stdin = process.stdin;
    const tty = stdin.isTTY === true;
    const done = (code: number) => {
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onInput);
      resolve(code);
    };
    const onInput = (b: Buffer) => {
      const k = b.indexOf(0x1d);
      if (k >= 0) {
        if (k > 0) void c.request('console.write', { domain: domid, com, data: new Uint8Array(b.subarray(0, k)) }).catch(() => {});
        done(0);
        return;
      }
      void c.request('console.write', { domain: domid, com, data: new Uint8Array(b) }).catch(() => done(EXIT_FAIL));
    };
    c.on('console', (e) => {
      if (e.domid === domid && e.com === com) io.out(e.data);
    });
    c.on('domain', (e) => {
      if (e.domid === domid && e.summary === undefined) done(0);
    });
    c.onClose(() => done(EXIT_FAIL));
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.resume();
  });
}

async function resolveDomid(c: SocketClient, ref: string): Promise<number> {
  return (await c.request('domain.get', { domain: /^\d+$/.test(ref) ? Number(ref) : ref })).domid;
}

export const createCommand: CliCommand = async (args, io) => {
  const attach = takeFlag(args, '-c');
  const paused = takeFlag(args, '-p');
  takeFlag(args, '-q', '--quiet');
  let file: string | undefined;
  const fIdx = args.findIndex((a) => a === '-f' || a.startsWith('--defconfig'));
  if (fIdx >= 0) {
    file = args[fIdx].includes('=') ? args[fIdx].split('=')[1] : args[fIdx + 1];
    args.splice(fIdx, args[fIdx].includes('=') ? 1 : 2);
  }
  const split = splitCreateOperands(args);
  if (split.kind !== 'ok') return usage(io, split.kind === 'error' ? split.message : 'usage: domus create [-c] [-p] FILE [key=value...]');
  file ??= split.action.configFile;
  if (file === undefined) return usage(io, 'usage: domus create [-c] [-p] FILE [key=value...]');
  const abs = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    io.err(`Failed to read config file: ${file}: ${errorMessage(e)}\n`);
    return EXIT_FAIL;
  }
  io.err(`Parsing config from ${file}\n`);
  return withClient(io, 'create', async (c) => {
    const r = await c.request('domain.create', { xlcfg: text, file: abs, overrides: split.action.overrides, paused });
    for (const w of r.warnings) io.err(`${w}\n`);
    if (attach) return attachConsole(c, io, r.domid, 1);
    return 0;
  });
};

export const listCommand: CliCommand = async (args, io) => {
  const json = takeFlag(args, '--json');
  const long = takeFlag(args, '-l', '--long');
  const pools = takeFlag(args, '-c', '--cpupool');
  return withClient(io, 'list', async (c) => {
    let doms = await c.request('domain.list', {});
    if (args.length > 0) {
      const want = new Set(args);
      doms = doms.filter((d) => want.has(d.name) || want.has(String(d.domid)));
      const missing = args.filter((a) => !doms.some((d) => d.name === a || String(d.domid) === a));
      if (missing.length > 0) {
        io.err(`${missing[0]} is an invalid domain identifier\n`);
        return EXIT_FAIL;
      }
    }
    if (long) {
      const details = [];
      for (const d of doms) details.push(await c.request('domain.get', { domain: d.domid }));
      io.out(`${JSON.stringify(details, null, 2)}\n`);
      return 0;
    }
    if (json) {
      io.out(`${JSON.stringify(doms, null, 2)}\n`);
      return 0;
    }
    // xl lists Domain-0 first: the engine's toolstack is dom0 (no guest code, the host's memory).
    const host = await c.request('host.info', {});
    const dom0: XlListRow = {
      name: 'Domain-0', domid: 0, memoryKiB: 0, vcpusOnline: 0, running: true, blocked: false, paused: false,
      shutdown: undefined, dying: false, cpuTimeNs: host.uptimeSeconds * 0, pool: 'Pool-0',
    };
    const rows = [...(args.length === 0 ? [dom0] : []), ...doms.map(listRow)];
    io.out(formatXlList(rows, { cpupool: pools }));
    return 0;
  });
};

export const infoCommand: CliCommand = async (args, io) => {
  const json = takeFlag(args, '--json');
  return withClient(io, 'info', async (c) => {
    const h = await c.request('host.info', {});
    if (json) {
      io.out(`${JSON.stringify(h, null, 2)}\n`);
      return 0;
    }
    const pools = await c.request('pool.list', {});
    const used = new Set(pools.flatMap((p) => p.cpus));
    io.out(
      formatXlInfo(
        {
          host: h.hostname,
          release: os.release(),
          version: `#1 ${os.type()}`,
          machine: 'x86_64',
          nrCpus: h.nrPcpus,
          maxCpuId: h.nrPcpus - 1,
          nrNodes: 1,
          coresPerSocket: h.nrPcpus,
          threadsPerCore: 1,
          cpuKhz: 1_000_000,
          hwCaps: [],
          virtCaps: ['hvm'],
          totalMemoryMiB: Math.floor(h.totalMemoryMiB),
          freeMemoryMiB: Math.floor(h.freeMemoryMiB),
          sharingFreedMemoryMiB: 0,
          sharingUsedMemoryMiB: 0,
          outstandingClaimsMiB: 0,
          freeCpus: h.nrPcpus - used.size,
          xenMajor: 4,
          xenMinor: 17,
          xenExtra: `-domus-${DOMUS_VERSION}`,
          xenCaps: 'hvm-3.0-x86_32',
          xenScheduler: h.defaultScheduler,
          xenPagesize: 4096,
          virtStart: 0n,
          xenChangeset: `domus ${DOMUS_VERSION}`,
          xenCommandline: `sched=${h.defaultScheduler}${h.oversubscribed ? ' (pCPUs oversubscribed)' : ''}`,
          ccCompiler: `Node.js ${process.version}`,
          ccCompileBy: 'domus',
          ccCompileDomain: 'localdomain',
          ccCompileDate: '',
          buildId: '',
        },
        { only: args[0] },
      ),
    );
    return 0;
  });
};

function simpleVerb(method: 'domain.destroy' | 'domain.pause' | 'domain.unpause' | 'domain.shutdown' | 'domain.reboot', verb: string): CliCommand {
  return async (args, io) => {
    const force = takeFlag(args, '-F', '-w', '--wait');
    void force;
    const doms = args.filter((a) => !a.startsWith('-'));
    if (doms.length === 0) return usage(io, `usage: domus ${verb} DOMAIN`);
    return withClient(io, verb, async (c) => {
      for (const d of doms) await c.request(method, { domain: /^\d+$/.test(d) ? Number(d) : d });
      return 0;
    });
  };
}

export const destroyCommand = simpleVerb('domain.destroy', 'destroy');
export const pauseCommand = simpleVerb('domain.pause', 'pause');
export const unpauseCommand = simpleVerb('domain.unpause', 'unpause');
export const shutdownCommand = simpleVerb('domain.shutdown', 'shutdown');
export const rebootCommand = simpleVerb('domain.reboot', 'reboot');

/**
 * `xl console [-t pv|serial] [-n N] DOMAIN`: the PV console of a PVH guest or the emulated serial
 * port N (COM N+1) of an HVM guest by default, as xl chooses by guest type.
 */
export const consoleCommand: CliCommand = async (args, io) => {
  const USAGE_TEXT = 'usage: domus console [-t pv|serial] [-n N] DOMAIN   (Ctrl-] detaches)';
  let n = 0;
  let type: string | undefined;
  const ni = args.indexOf('-n');
  if (ni >= 0) {
    n = Number(args[ni + 1]);
    args.splice(ni, 2);
  }
  const ti = args.indexOf('-t');
  if (ti >= 0) {
    type = args[ti + 1];
    args.splice(ti, 2);
  }
  if (args.length !== 1 || !(Number.isInteger(n) && n >= 0 && n <= 3) || (type !== undefined && type !== 'pv' && type !== 'serial')) return usage(io, USAGE_TEXT);
  return withClient(io, 'console', async (c) => {
    const domid = await resolveDomid(c, args[0]);
    const kind = type ?? ((await c.request('domain.get', { domain: domid })).config.type === 'pvh' ? 'pv' : 'serial');
    // The PV console is console 0; serial port N is COM N+1.
    return attachConsole(c, io, domid, kind === 'pv' ? 0 : n + 1);
  });
};

export const dmesgCommand: CliCommand = async (args, io) => {
  const clear = takeFlag(args, '-c');
  return withClient(io, 'dmesg', async (c) => {
    for (const e of await c.request('log.dmesg', { clear })) {
      io.out(`(domus) [${new Date(e.time).toISOString()}] ${e.level.padEnd(5)} ${e.source}: ${e.message}\n`);
    }
    return 0;
  });
};

/** `domus screen DOMAIN`: the VGA text screen of a BIOS-booted domain, as text. */
export const screenCommand: CliCommand = async (args, io) => {
  if (args.length !== 1) return usage(io, 'usage: domus screen DOMAIN   (the VGA text screen of an HVM domain booted through the BIOS)');
  return withClient(io, 'screen', async (c) => {
    const screen = await c.request('domain.screen', { domain: /^\d+$/.test(args[0]) ? Number(args[0]) : args[0] });
    if (screen === null) {
      io.err(`domus screen: domain ${args[0]} has no text screen (it was booted directly, without the BIOS and VGA); use domus console.\n`);
      return 1;
    }
    for (const line of screen.lines) io.out(`${line.replace(/[ \u00a0]+$/, '')}\n`);
    return 0;
  });
};

/** xenstore-ls / -read / -write / -rm against the engine's xenstore (as domain 0). */
export const xenstoreLsCommand: CliCommand = async (args, io) => {
  if (args.length > 1) return usage(io, 'usage: domus xenstore-ls [PATH]');
  return withClient(io, 'xenstore-ls', async (c) => {
    const text = await c.request('xenstore.ls', { path: args[0] ?? '/' });
    if (text !== '') io.out(`${text}\n`);
    return 0;
  });
};

export const xenstoreReadCommand: CliCommand = async (args, io) => {
  if (args.length === 0) return usage(io, 'usage: domus xenstore-read PATH...');
  return withClient(io, 'xenstore-read', async (c) => {
    for (const p of args) io.out(`${await c.request('xenstore.read', { path: p })}\n`);
    return 0;
  });
};

export const xenstoreWriteCommand: CliCommand = async (args, io) => {
  if (args.length === 0 || args.length % 2 !== 0) return usage(io, 'usage: domus xenstore-write PATH VALUE [PATH VALUE]...');
  return withClient(io, 'xenstore-write', async (c) => {
    for (let i = 0; i < args.length; i += 2) await c.request('xenstore.write', { path: args[i], value: args[i + 1] });
    return 0;
  });
};

export const xenstoreRmCommand: CliCommand = async (args, io) => {
  if (args.length === 0) return usage(io, 'usage: domus xenstore-rm PATH...');
  return withClient(io, 'xenstore-rm', async (c) => {
    for (const p of args) await c.request('xenstore.rm', { path: p });
    return 0;
  });
};

/**
 * `xenstore-watch [-n N] PATH`: prints the path of every change at or below PATH (first PATH
 * itself, as xenstore fires a new watch at once), until Ctrl-C or, with -n, N events.
 */
export const xenstoreWatchCommand: CliCommand = async (args, io) => {
  const rest = [...args];
  let limit = Infinity;
  const n = rest.indexOf('-n');
  if (n >= 0) {
    limit = Number(rest[n + 1]);
    rest.splice(n, 2);
  }
  if (rest.length !== 1 || !(limit >= 1)) return usage(io, 'usage: domus xenstore-watch [-n EVENTS] PATH');
  return withClient(io, 'xenstore-watch', async (c) => {
    let seen = 0;
    let finish: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (finish = resolve));
    let watchId = -1;
    const early: string[] = [];
    const print = (path: string): void => {
      if (seen >= limit) return;
      io.out(`${path}\n`);
      if (++seen >= limit) finish(0);
    };
    c.on('xenstore', (e) => {
      if (watchId < 0) early.push(`${e.watchId}\0${e.path}`);
      else if (e.watchId === watchId) print(e.path);
    });
    c.onClose(() => finish(EXIT_FAIL));
    const onSignal = (): void => finish(0);
    process.once('SIGINT', onSignal);
    watchId = (await c.request('xenstore.watch', { path: rest[0] })).watchId;
    // Events that arrived before the reply named the id.
    for (const x of early.splice(0)) {
      const [id, path] = x.split('\0');
      if (Number(id) === watchId) print(path);
    }
    const code = await done;
    process.removeListener('SIGINT', onSignal);
    return code;
  });
};

export const traceCommand: CliCommand = async (args, io) => {
  const s = args.indexOf('--seconds');
  const seconds = s >= 0 ? Number(args[s + 1]) : 10;
  if (!(seconds >= 1 && seconds <= 600)) return usage(io, 'usage: domus trace [--seconds N]   (N from 1 to 600)');
  return withClient(io, 'trace', async (c) => {
    io.out('t_ns,pcpu,domid,vcpu,event,reason\n');
    for (const r of await c.request('trace.recent', { seconds: Math.round(seconds) })) io.out(`${r.t},${r.pcpu},${r.domid},${r.vcpu},${r.event},${r.reason}\n`);
    return 0;
  });
};

export const topCommand: CliCommand = async (args, io) => {
  const batch = takeFlag(args, '-b', '--batch');
  const i = args.indexOf('-i');
  const iterations = i >= 0 ? Number(args[i + 1]) : batch ? 1 : Infinity;
  return withClient(io, 'top', async (c) => {
    await c.request('events.subscribe', { events: ['stats', 'domain'] });
    let n = 0;
    return new Promise<number>((resolve) => {
      c.on('stats', async (s) => {
        const doms = await c.request('domain.list', {});
        const host = await c.request('host.info', {});
        const load = s.pcpuLoad.map((l) => `${(l * 100).toFixed(0)}%`).join(' ');
        let out = batch ? '' : '\x1b[H\x1b[2J';
        out += `domus top - ${new Date().toTimeString().slice(0, 8)}   ${doms.length} domains   pCPU load: ${load}\n`;
        out += `Mem: ${Math.round(host.totalMemoryMiB * 1024)}k total, ${Math.round((host.totalMemoryMiB - host.freeMemoryMiB) * 1024)}k used, ${Math.round(host.freeMemoryMiB * 1024)}k free    CPUs: ${host.nrPcpus}\n`;
        out += '      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) VCPUS     MIPS  EXITS/s\n';
        for (const d of doms) {
          const st = s.domains.find((x) => x.domid === d.domid);
          const state = d.state === 'running' ? '--r---' : d.state === 'blocked' ? '-b----' : d.state === 'paused' ? '--p---' : '---s--';
          const exits = st ? Object.values(st.exitRates).reduce((a, b) => a + b, 0) : 0;
          out +=
            `${d.name.slice(-10).padStart(10)} ${state} ${d.cpuSeconds.toFixed(0).padStart(10)} ${(st?.cpuPercent ?? 0).toFixed(1).padStart(6)} ` +
            `${String(d.memoryMiB * 1024).padStart(10)} ${((100 * d.memoryMiB) / host.totalMemoryMiB).toFixed(1).padStart(6)} ${String(d.maxmemMiB * 1024).padStart(10)} ` +
            `${String(d.onlineVcpus).padStart(5)} ${(st?.mips ?? 0).toFixed(1).padStart(8)} ${exits.toFixed(0).padStart(8)}\n`;
        }
        io.out(out);
        if (++n >= iterations) resolve(0);
      });
      c.onClose(() => resolve(EXIT_FAIL));
    });
  });
};
