/**
 * `domus serve [--port N] [--host ADDR] [--pcpus N] [--memory-pool MIB] [--scheduler S] [--token T]`:
 * run an engine and the GUI in a browser. Prints the URL with its access token and serves until
 * interrupted. Binds to 127.0.0.1 unless --host says otherwise (remote management: the token is
 * then the only lock, so prefer an SSH tunnel to the loopback port). The engine also serves the
 * CLI's socket, like `domus daemon`, unless another engine already does.
 */
import { errorMessage } from '../../base/errors';
import type { CliCommand } from '../cli-io';
import { startEngineDaemon } from '../daemon/engine-daemon';
import { socketAlive } from '../daemon/socket-carrier';
import { EngineService } from '../service/engine-service';
import { domusPaths } from '../service/paths';
import { NodeEngineHost } from '../worker-host';
import { startServe } from '../serve/serve-server';
import { DOMUS_VERSION } from '../version';
import { rendererDir } from '../serve/static-files';

/** Default port of `domus serve` (unassigned by IANA; any free port works with --port). */
export const DEFAULT_SERVE_PORT = 7480;
/** Default machine memory of the served engine, MiB. */
export const DEFAULT_SERVE_MEMORY_MIB = 512;

const USAGE = `usage: domus serve [--port N] [--host ADDR] [--pcpus N] [--memory-pool MIB] [--scheduler S] [--token TOKEN]
  --port N            TCP port (default ${DEFAULT_SERVE_PORT}; 0 picks a free one)
  --host ADDR         address to bind (default 127.0.0.1; anything else allows remote access)
  --pcpus N           pCPU worker threads (default: the host's CPU count)
  --memory-pool MIB   machine memory for guests (default ${DEFAULT_SERVE_MEMORY_MIB})
  --scheduler S       Pool-0's scheduler: credit, credit2 (default), rtds, arinc653, null
  --token TOKEN       access token (default: random; also $DOMUS_SERVE_TOKEN)
`;
/** Schedulers Pool-0 can start with. */
const SCHEDULERS = ['credit', 'credit2', 'rtds', 'arinc653', 'null'];

/** Parsed options. */
export interface ServeArgs {
  port: number;
  host: string;
  pcpus?: number;
  memoryMiB: number;
  scheduler?: string;
  token?: string;
}

/** Parses the command line; throws an Error with a user message. */
export function parseServeArgs(args: string[], env: Record<string, string | undefined>): ServeArgs | 'help' {
  const o: ServeArgs = { port: DEFAULT_SERVE_PORT, host: '127.0.0.1', memoryMiB: DEFAULT_SERVE_MEMORY_MIB, token: env.DOMUS_SERVE_TOKEN || undefined };
  const int = (v: string | undefined, flag: string, min: number, max: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} takes a whole number from ${min} to ${max}${v === undefined ? '' : ` (got "${v}")`}.`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith('--') && args[i].includes('=') ? [args[i].slice(0, args[i].indexOf('=')), args[i].slice(args[i].indexOf('=') + 1)] : [args[i], undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case '--port': o.port = int(value(), '--port', 0, 65535); break;
      case '--host': {
        const h = value();
        if (!h) throw new Error('--host takes an address, e.g. 127.0.0.1 or 0.0.0.0.');
        o.host = h;
        break;
      }
      case '--pcpus': o.pcpus = int(value(), '--pcpus', 1, 256); break;
      case '--memory-pool': o.memoryMiB = int(value(), '--memory-pool', 16, 65536); break;
      case '--scheduler': {
        const sch = value();
        if (!sch || !SCHEDULERS.includes(sch)) throw new Error(`--scheduler takes one of ${SCHEDULERS.join(', ')}.`);
        o.scheduler = sch;
        break;
      }
      case '--token': {
        const t = value();
        if (!t || t.length < 16) throw new Error('--token needs at least 16 characters.');
        o.token = t;
        break;
      }
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new Error(`Unknown option "${args[i]}".`);
    }
  }
  return o;
}

/** The `domus serve` command. */
export const serveCommand: CliCommand = async (args, io) => {
  let o: ServeArgs | 'help';
  try {
    o = parseServeArgs(args, io.env);
  } catch (e) {
    io.err(`domus serve: ${errorMessage(e)}\n${USAGE}`);
    return 2;
  }
  if (o === 'help') {
    io.out(USAGE);
    return 0;
  }
  const paths = domusPaths(io.env);
  const engine = { pcpus: o.pcpus, memoryPoolMiB: o.memoryMiB, scheduler: o.scheduler, paths, version: DOMUS_VERSION };
  let service: EngineService;
  let closeEngine: () => Promise<void>;
  try {
    if (await socketAlive(paths.socketPath)) {
      io.err(`domus serve: another engine already serves ${paths.socketPath}; \`domus\` verbs keep talking to that one, this one serves the browser only.\n`);
      const svc = new EngineService(new NodeEngineHost(), engine);
      service = svc;
      closeEngine = () => svc.close();
      await svc.engine.whenReady();
    } else {
      const daemon = await startEngineDaemon(engine);
      service = daemon.service;
      closeEngine = () => daemon.close();
    }
  } catch (e) {
    io.err(`domus serve: the engine did not start: ${errorMessage(e)}\n`);
    return 3;
  }
  try {
    const server = await startServe({ service, host: o.host, port: o.port, token: o.token, staticDir: rendererDir(io.env) });
    io.out(`Domus is serving its GUI at\n\n  ${server.url}\n\nOpen that URL in a browser (it carries the access token). Ctrl+C stops the server and every VM it runs.\n`);
    if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
      io.err(`domus serve: listening on ${o.host}: anyone who can reach this address and has the token can control the engine.\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    io.out('\nStopping…\n');
    await server.close();
    return 0;
  } catch (e) {
    io.err(`domus serve: ${errorMessage(e)}\n`);
    return 3;
  } finally {
    await closeEngine();
  }
};
