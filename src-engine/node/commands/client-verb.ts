/**
 * Shared plumbing of the verbs that talk to the engine daemon: connect through the user's
 * socket, run, print errors the way xl does (to stderr, exit code 1).
 */
import { DomusError, errorMessage } from '../../base/errors';
import { SocketClient } from '../client/socket-client';
import { domusPaths } from '../service/paths';
import type { CliIo } from '../cli-io';

/** xl's failure exit code. */
export const EXIT_FAIL = 1;

/** Runs `fn` with a connected client; returns its exit code or 1 after printing the error. */
export async function withClient(io: CliIo, verb: string, fn: (c: SocketClient) => Promise<number>): Promise<number> {
  let client: SocketClient;
  try {
    client = await SocketClient.connect(domusPaths(io.env).socketPath);
  } catch (e) {
    io.err(`${errorMessage(e)}\n`);
    return EXIT_FAIL;
  }
  try {
    return await fn(client);
  } catch (e) {
    io.err(e instanceof DomusError ? `${e.message}\n` : `domus ${verb}: ${errorMessage(e)}\n`);
    return EXIT_FAIL;
  } finally {
    client.close();
  }
}

/** Prints a verb's usage error. */
export function usage(io: CliIo, text: string): number {
  io.err(text.endsWith('\n') ? text : `${text}\n`);
  return 2;
}

/** Removes `--json` from args; returns whether it was there. */
export function takeFlag(args: string[], ...names: string[]): boolean {
  let found = false;
  for (let i = args.length - 1; i >= 0; i--) {
    if (names.includes(args[i])) {
      args.splice(i, 1);
      found = true;
    }
  }
  return found;
}
