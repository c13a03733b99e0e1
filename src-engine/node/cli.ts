/**
 * The `domus` command line: one verb per subcommand, xl-compatible where xl has the verb.
 */
import { errorMessage } from '../base/errors';
import type { CliCommand, CliIo } from './cli-io';
import { startupMark } from './startup-trace';

/**
 * The verbs. Each command's module is imported when it runs, so a command loads only its own
 * code (esbuild splits the CLI bundle per command; `domus run` starts faster for it).
 */
const dom = () => import('./commands/xl-domains');
const vs = () => import('./commands/xl-vcpu-sched');
const COMMANDS: Record<string, { load: () => Promise<CliCommand>; help: string }> = {
  run: { load: () => import('./commands/run').then((m) => m.runCommand), help: 'boot a kernel with an in-process engine (QEMU-style quick boot)' },
  daemon: { load: () => import('./commands/daemon').then((m) => m.daemonCommand), help: 'run the engine and serve its API on the user socket (--detach: in the background)' },
  serve: { load: () => import('./commands/serve').then((m) => m.serveCommand), help: 'run the engine and the GUI for a browser; prints the URL [--port N]' },
  create: { load: () => dom().then((m) => m.createCommand), help: 'create a domain from an xl.cfg file [-c: attach its console] [key=value...]' },
  list: { load: () => dom().then((m) => m.listCommand), help: 'list domains [-l] [-c] [--json]' },
  info: { load: () => dom().then((m) => m.infoCommand), help: 'show host and engine information [--json]' },
  destroy: { load: () => dom().then((m) => m.destroyCommand), help: 'stop a domain at once and free its resources' },
  shutdown: { load: () => dom().then((m) => m.shutdownCommand), help: 'ask a domain to shut down' },
  reboot: { load: () => dom().then((m) => m.rebootCommand), help: 'ask a domain to reboot' },
  pause: { load: () => dom().then((m) => m.pauseCommand), help: 'pause a domain' },
  unpause: { load: () => dom().then((m) => m.unpauseCommand), help: 'unpause a domain' },
  console: { load: () => dom().then((m) => m.consoleCommand), help: 'attach to a domain console [-n N] (Ctrl-] detaches)' },
  'vcpu-list': { load: () => vs().then((m) => m.vcpuListCommand), help: 'list VCPUs: state, pCPU, time, affinity [--json]' },
  'vcpu-pin': { load: () => vs().then((m) => m.vcpuPinCommand), help: 'set hard/soft affinity: DOMAIN VCPU|all HARD [SOFT]' },
  'vcpu-set': { load: () => vs().then((m) => m.vcpuSetCommand), help: 'set the number of online VCPUs' },
  'mem-set': { load: () => vs().then((m) => m.memSetCommand), help: 'set a domain balloon target' },
  'mem-max': { load: () => vs().then((m) => m.memMaxCommand), help: 'set a domain maximum memory' },
  'sched-credit': { load: () => vs().then((m) => m.schedCreditCommand), help: 'credit scheduler parameters (xl options)' },
  'sched-credit2': { load: () => vs().then((m) => m.schedCredit2Command), help: 'credit2 scheduler parameters (xl options)' },
  'sched-rtds': { load: () => vs().then((m) => m.schedRtdsCommand), help: 'RTDS scheduler parameters (xl options)' },
  'sched-arinc653': { load: () => vs().then((m) => m.schedArinc653Command), help: 'show or set an ARINC 653 schedule: -p POOL [-f FILE] (Domus extension)' },
  'cpupool-create': { load: () => vs().then((m) => m.cpupoolCreateCommand), help: 'create a cpupool [-f FILE] [key=value...]' },
  'cpupool-destroy': { load: () => vs().then((m) => m.cpupoolDestroyCommand), help: 'destroy a cpupool' },
  'cpupool-rename': { load: () => vs().then((m) => m.cpupoolRenameCommand), help: 'rename a cpupool' },
  'cpupool-list': { load: () => vs().then((m) => m.cpupoolListCommand), help: 'list cpupools [-c] [--json]' },
  'cpupool-cpu-add': { load: () => vs().then((m) => m.cpupoolCpuAddCommand), help: 'add pCPUs to a cpupool' },
  'cpupool-cpu-remove': { load: () => vs().then((m) => m.cpupoolCpuRemoveCommand), help: 'remove pCPUs from a cpupool' },
  'cpupool-migrate': { load: () => vs().then((m) => m.cpupoolMigrateCommand), help: 'move a domain to another cpupool' },
  save: { load: () => vs().then((m) => m.saveCommand), help: 'save a domain to a file' },
  restore: { load: () => vs().then((m) => m.restoreCommand), help: 'restore a domain from a file' },
  top: { load: () => dom().then((m) => m.topCommand), help: 'live domain statistics like xentop [-b] [-i N]' },
  dmesg: { load: () => dom().then((m) => m.dmesgCommand), help: 'the engine log [-c: clear]' },
  screen: { load: () => dom().then((m) => m.screenCommand), help: "an HVM domain's VGA text screen" },
  'xenstore-ls': { load: () => dom().then((m) => m.xenstoreLsCommand), help: 'list the xenstore tree below a path (PVH domains live under /local/domain)' },
  'xenstore-read': { load: () => dom().then((m) => m.xenstoreReadCommand), help: 'read xenstore values' },
  'xenstore-write': { load: () => dom().then((m) => m.xenstoreWriteCommand), help: 'write xenstore values: PATH VALUE...' },
  'xenstore-rm': { load: () => dom().then((m) => m.xenstoreRmCommand), help: 'remove xenstore nodes' },
  'xenstore-watch': { load: () => dom().then((m) => m.xenstoreWatchCommand), help: 'print xenstore changes below a path [-n EVENTS]' },
  trace: { load: () => dom().then((m) => m.traceCommand), help: 'dump the schedule trace as CSV [--seconds N]' },
  mkrescue: { load: () => import('./commands/mkrescue').then((m) => m.mkrescueCommand), help: 'build a GRUB rescue ISO from a directory (grub-mkrescue for i386-pc)' },
  mkiso: { load: () => import('./commands/mkiso').then((m) => m.mkisoCommand), help: 'build a bootable GRUB ISO for a multiboot kernel and modules' },
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
    const run = await cmd.load();
    return await run(rest, io);
  } catch (e) {
    io.err(`domus ${verb}: ${errorMessage(e)}\n`);
    return 3;
  }
}

/**
 * Runs the CLI on this process's arguments and sets its exit code (bin/domus calls this, through
 * cli-boot.ts). `saveCodeCache` (the CLI bundle's code cache) is called once the command has
 * done its start-up work: at its first output (for `domus run`, the guest's first byte), else
 * when the process exits.
 */
export function runCli(saveCodeCache?: () => void): void {
  startupMark('cli bundle evaluated');
  let save = saveCodeCache;
  const saveOnce = (): void => {
    const f = save;
    save = undefined;
    f?.();
  };
  if (save) process.once('exit', saveOnce);
  // A reader that goes away (domus list | head) ends the output, not the process with a trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const io: CliIo = {
    out: (t) => {
      process.stdout.write(t);
      // After the output is on its way, off the path of what the command does next.
      if (save) setImmediate(saveOnce);
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
