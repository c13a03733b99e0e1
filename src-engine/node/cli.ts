/**
 * The `domus` command line: one verb per subcommand, xl-compatible where xl has the verb.
 */
import { errorMessage } from '../base/errors';
import type { CliCommand, CliIo } from './cli-io';
import { runCommand } from './commands/run';
import { mkrescueCommand } from './commands/mkrescue';
import { mkisoCommand } from './commands/mkiso';
import { daemonCommand } from './commands/daemon';
import { serveCommand } from './commands/serve';
import * as dom from './commands/xl-domains';
import * as vs from './commands/xl-vcpu-sched';

const COMMANDS: Record<string, { run: CliCommand; help: string }> = {
  run: { run: runCommand, help: 'boot a kernel with an in-process engine (QEMU-style quick boot)' },
  daemon: { run: daemonCommand, help: 'run the engine and serve its API on the user socket (--detach: in the background)' },
  serve: { run: serveCommand, help: 'run the engine and the GUI for a browser; prints the URL [--port N]' },
  create: { run: dom.createCommand, help: 'create a domain from an xl.cfg file [-c: attach its console] [key=value...]' },
  list: { run: dom.listCommand, help: 'list domains [-l] [-c] [--json]' },
  info: { run: dom.infoCommand, help: 'show host and engine information [--json]' },
  destroy: { run: dom.destroyCommand, help: 'stop a domain at once and free its resources' },
  shutdown: { run: dom.shutdownCommand, help: 'ask a domain to shut down' },
  reboot: { run: dom.rebootCommand, help: 'ask a domain to reboot' },
  pause: { run: dom.pauseCommand, help: 'pause a domain' },
  unpause: { run: dom.unpauseCommand, help: 'unpause a domain' },
  console: { run: dom.consoleCommand, help: 'attach to a domain console [-n N] (Ctrl-] detaches)' },
  'vcpu-list': { run: vs.vcpuListCommand, help: 'list VCPUs: state, pCPU, time, affinity [--json]' },
  'vcpu-pin': { run: vs.vcpuPinCommand, help: 'set hard/soft affinity: DOMAIN VCPU|all HARD [SOFT]' },
  'vcpu-set': { run: vs.vcpuSetCommand, help: 'set the number of online VCPUs' },
  'mem-set': { run: vs.memSetCommand, help: 'set a domain balloon target' },
  'mem-max': { run: vs.memMaxCommand, help: 'set a domain maximum memory' },
  'sched-credit': { run: vs.schedCreditCommand, help: 'credit scheduler parameters (xl options)' },
  'sched-credit2': { run: vs.schedCredit2Command, help: 'credit2 scheduler parameters (xl options)' },
  'sched-rtds': { run: vs.schedRtdsCommand, help: 'RTDS scheduler parameters (xl options)' },
  'sched-arinc653': { run: vs.schedArinc653Command, help: 'show or set an ARINC 653 schedule: -p POOL [-f FILE] (Domus extension)' },
  'cpupool-create': { run: vs.cpupoolCreateCommand, help: 'create a cpupool [-f FILE] [key=value...]' },
  'cpupool-destroy': { run: vs.cpupoolDestroyCommand, help: 'destroy a cpupool' },
  'cpupool-rename': { run: vs.cpupoolRenameCommand, help: 'rename a cpupool' },
  'cpupool-list': { run: vs.cpupoolListCommand, help: 'list cpupools [-c] [--json]' },
  'cpupool-cpu-add': { run: vs.cpupoolCpuAddCommand, help: 'add pCPUs to a cpupool' },
  'cpupool-cpu-remove': { run: vs.cpupoolCpuRemoveCommand, help: 'remove pCPUs from a cpupool' },
  'cpupool-migrate': { run: vs.cpupoolMigrateCommand, help: 'move a domain to another cpupool' },
  save: { run: vs.saveCommand, help: 'save a domain to a file' },
  restore: { run: vs.restoreCommand, help: 'restore a domain from a file' },
  top: { run: dom.topCommand, help: 'live domain statistics like xentop [-b] [-i N]' },
  dmesg: { run: dom.dmesgCommand, help: 'the engine log [-c: clear]' },
  screen: { run: dom.screenCommand, help: "an HVM domain's VGA text screen" },
  'xenstore-ls': { run: dom.xenstoreLsCommand, help: 'list the xenstore tree below a path (PVH domains live under /local/domain)' },
  'xenstore-read': { run: dom.xenstoreReadCommand, help: 'read xenstore values' },
  'xenstore-write': { run: dom.xenstoreWriteCommand, help: 'write xenstore values: PATH VALUE...' },
  'xenstore-rm': { run: dom.xenstoreRmCommand, help: 'remove xenstore nodes' },
  'xenstore-watch': { run: dom.xenstoreWatchCommand, help: 'print xenstore changes below a path [-n EVENTS]' },
  trace: { run: dom.traceCommand, help: 'dump the schedule trace as CSV [--seconds N]' },
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
  // A reader that goes away (domus list | head) ends the output, not the process with a trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
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
