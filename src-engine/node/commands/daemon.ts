/**
 * `domus daemon [--detach] [--pcpus N] [--memory-pool MIB] [--scheduler S]`: runs the engine and
 * serves its API on the user's socket (xl talks to xenstored and Xen; domus verbs talk to this).
 * Foreground by default (Ctrl-C stops it and every domain); --detach starts it in the background,
 * waits until it answers and prints its pid.
 */
import { spawn } from 'node:child_process';
import { openSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../base/errors';
import { startEngineDaemon } from '../daemon/engine-daemon';
import { socketAlive } from '../daemon/socket-carrier';
import { domusPaths } from '../service/paths';
import type { CliCommand } from '../cli-io';

const USAGE = 'usage: domus daemon [--detach] [--pcpus N] [--memory-pool MIB] [--scheduler credit|credit2|rtds|arinc653|null]\n';

export const daemonCommand: CliCommand = async (args, io) => {
  const opts: { pcpus?: number; memoryPoolMiB?: number; scheduler?: string } = {};
  let detach = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = () => args[++i];
    if (a === '--detach') detach = true;
    else if (a === '--pcpus') opts.pcpus = Number(next());
    else if (a === '--memory-pool') opts.memoryPoolMiB = Number(next());
    else if (a === '--scheduler') opts.scheduler = next();
    else if (a === '-h' || a === '--help') {
      io.out(USAGE);
      return 0;
    } else {
      io.err(`domus daemon: unknown option "${a}"\n${USAGE}`);
      return 2;
    }
  }
  const paths = domusPaths(io.env);
  if (await socketAlive(paths.socketPath)) {
    io.err(`domus daemon: an engine already runs on ${paths.socketPath}\n`);
    return 1;
  }
  if (detach) {
    mkdirSync(paths.runtimeDir, { recursive: true, mode: 0o700 });
    const log = openSync(path.join(paths.runtimeDir, 'daemon.log'), 'a');
    const rest = args.filter((a) => a !== '--detach');
    const child = spawn(process.execPath, [process.argv[1], 'daemon', ...rest], { detached: true, stdio: ['ignore', log, log], env: io.env as NodeJS.ProcessEnv, cwd: io.cwd });
    child.unref();
    for (let k = 0; k < 200; k++) {
      if (await socketAlive(paths.socketPath)) {
        io.out(`${child.pid}\n`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    io.err(`domus daemon: the engine did not start; see ${path.join(paths.runtimeDir, 'daemon.log')}\n`);
    return 1;
  }
  let d;
  try {
    d = await startEngineDaemon({ ...opts, paths });
  } catch (e) {
    io.err(`domus daemon: ${errorMessage(e)}\n`);
    return 1;
  }
  io.err(`domus daemon: serving ${paths.socketPath} with ${d.service.engine.nrPcpus} pCPUs (pid ${process.pid})\n`);
  return new Promise<number>((resolve) => {
    const stop = () => {
      void d.close().then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
};
