/**
 * What a `domus` subcommand gets to talk to the user. Every verb is a function
 * `(args, io) => Promise<exitCode>`; tests pass a capturing CliIo, the real CLI passes the process's.
 */
export interface CliIo {
  /** Writes to standard output exactly as given (no newline added). */
  out(text: string | Uint8Array): void;
  /** Writes to standard error exactly as given. */
  err(text: string): void;
  /** The directory relative paths are resolved against. */
  cwd: string;
  /** Environment variables. */
  env: Record<string, string | undefined>;
}

/** A subcommand of the domus CLI. */
export type CliCommand = (args: string[], io: CliIo) => Promise<number>;
