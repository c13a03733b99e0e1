/**
 * Where Domus keeps things: the domain library (configs, console logs, save images) in the
 * user's data directory, and the daemon's socket in the user's runtime directory.
 * DOMUS_HOME and DOMUS_RUNTIME_DIR override them (tests, several engines side by side);
 * DOMUS_NO_DEMO=1 keeps the demo domain out of a new library (demo-seed.ts).
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
  /** Copies of the guests Domus bundles, for the configs that use them (the demo kernel). */
  guestsDir: string;
  /** Written once the demo domain was offered to this library: it is never offered again. */
  demoMarker: string;
  /** Whether a new library is offered the demo domain (false with DOMUS_NO_DEMO=1). */
  seedDemo: boolean;
  runtimeDir: string;
  /** The engine daemon's API socket. */
  socketPath: string;
  /** The daemon's pid file. */
  pidFile: string;
}

/** Environment variable that, set to 1 (or true or yes), keeps the demo domain out of a new library. */
export const NO_DEMO_ENV = 'DOMUS_NO_DEMO';

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
    guestsDir: path.join(dataDir, 'guests'),
    demoMarker: path.join(dataDir, 'demo-offered'),
    seedDemo: !/^(1|true|yes)$/i.test(env[NO_DEMO_ENV] ?? ''),
    runtimeDir,
    socketPath: path.join(runtimeDir, 'domus.sock'),
    pidFile: path.join(runtimeDir, 'domus.pid'),
  };
}
