/**
 * The `domus` command line: one verb per subcommand, xl-compatible where xl has the verb.
 */
import { errorMessage } from '../base/errors';
import type { CliCommand, CliIo } from './cli-io';
import { runCommand } from './commands/run';
import { mkrescueCommand } from './commands/mkrescue';
import { mkisoCommand } from './commands/mkiso';

const COMMANDS: Record<string, { run: CliCommand; help: string }> = {
  run: { run: runCommand, help: 'boot a kernel with an in-process engine (QEMU-style quick boot)' },
  mkrescue: { run: mkrescueCommand, help: 'build a GRUB rescue ISO from a directory (grub-mkrescue for i386-pc)' },
  mkiso: { run: mkisoCommand, help: 'build a bootable GRUB ISO for a multiboot kernel and modules' },
};

function usage(): string {
  const verbs = Object.entries(COMMANDS)
    .map(([k, v]) => `  ${k.padEnd(12)} ${v.help}`)
    .join('\n');
  return `usage: domus COMMAND [ARGS]\n\ncommands:\n${verbs}\n`;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '-h' || verb === '--help' || verb === 'help') {
    io.out(usage());
    return verb === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[verb];
  if (!cmd) {
    io.err(`domus: unknown command "${verb}"\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    io.err(`domus ${verb}: ${errorMessage(e)}\n`);
    return 3;
  }
}

/** Runs the CLI on this process's arguments and sets its exit code (bin/domus calls this). */
export function runCli(): void {
  const io: CliIo = {
    out: (t) => {
      process.stdout.write(t);
    },
    err: (t) => {
      process.stderr.write(t);
    },
    cwd: process.cwd(),
    env: process.env,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`domus: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
