/**
 * Where Domus keeps things: the domain library (configs, console logs, save images) in the
 * user's data directory, and the daemon's socket in the user's runtime directory.
 * DOMUS_HOME and DOMUS_RUNTIME_DIR override them (tests, several engines side by side).
 */
import os from 'node:os';
import path from 'node:path';

/** The directories and files of one Domus installation. */
export interface DomusPaths {
  dataDir: string;
  /** Domain configs (<name>.cfg). */
  domainsDir: string;
  /** Console logs (<name>.log, rotated). */
  logsDir: string;
  /** Save images. */
  savesDir: string;
  runtimeDir: string;
  /** The engine daemon's API socket. */
  socketPath: string;
  /** The daemon's pid file. */
  pidFile: string;
}

/** Resolves Domus' paths for an environment. */
export function domusPaths(env: Record<string, string | undefined> = process.env): DomusPaths {
  const home = env.HOME ?? os.homedir();
  const dataDir = env.DOMUS_HOME ?? path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'domus');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const runtimeDir = env.DOMUS_RUNTIME_DIR ?? (env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'domus') : path.join(os.tmpdir(), `domus-${uid}`));
  return {
    dataDir,
    domainsDir: path.join(dataDir, 'domains'),
    logsDir: path.join(dataDir, 'logs'),
    savesDir: path.join(dataDir, 'saves'),
    runtimeDir,
    socketPath: path.join(runtimeDir, 'domus.sock'),
    pidFile: path.join(runtimeDir, 'domus.pid'),
  };
}
