/**
 * Runs `domus` verbs in-process for CLI tests: main() with an io that captures stdout and stderr.
 */
import { main } from '../../src-engine/node/cli';
import type { CliIo } from '../../src-engine/node/cli-io';

/** A CliIo that keeps what the command writes (cwd = the test's DOMUS_HOME). */
export function captureIo(env: Record<string, string>): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += typeof t === 'string' ? t : new TextDecoder().decode(t);
    },
    err: (t) => {
      err += t;
    },
    cwd: env.DOMUS_HOME,
    env,
    stdout: () => out,
    stderr: () => err,
  };
}

/** `domus ARGV...` with environment `env`: its exit code, stdout and stderr. */
export async function domus(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(env);
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}
