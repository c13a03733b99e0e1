/**
 * `domus run`: boot a kernel with an in-process engine, QEMU-style, no daemon.
 *
 *   domus run --kernel FILE [--module "FILE ARGS"]... [--append "ARGS"]   (direct multiboot boot)
 *   domus run --kernel BZIMAGE [--initrd FILE] [--append "ARGS"]          (direct Linux boot)
 *   domus run --kernel FILE [--pvh] [--disk IMAGE]...                      (PVH: Xen's interfaces)
 *   domus run [--cdrom ISO]... [--disk IMAGE]... [--boot cd]               (through the BIOS)
 *   domus run --bios ROM [--debugcon stdio|file:PATH|none]                 (a raw system ROM)
 *             [--memory MB] [--vcpus N] [--pcpus N] [--serial stdio|file:PATH|none] [--debug-exit]
 *             [--timeout S] [--stats] [--machine pc|qemu-testdev]
 *
 * A Linux bzImage (told by its setup header) boots with Linux's 32-bit boot protocol, --initrd as
 * its initial RAM disk, --append as its command line, with the same ACPI and MP tables.
 * A kernel with a Xen PVH entry note and no multiboot header boots as a PVH guest (--pvh forces
 * it), its --disk images as PV disks xvda, xvdb, ...; its PV console goes to stdout.
 * Serial output goes to stdout as the guest writes it (nothing else goes to stdout); firmware
 * messages ("Booting from DVD/CD...") go to stderr. Exit codes: guest power-off, or every VCPU
 * halted with interrupts off -> 0; isa-debug-exit -> (v << 1) | 1; triple fault or a reset
 * request -> 4; timeout -> 124; bad input (including "no bootable device") -> 2; engine fault -> 3.
 *
 * --bios ROM (QEMU -bios) boots a raw 64 or 128 KiB system ROM with no Domus firmware at all
 * (runtime/hv-rom.ts). The debug console at port 0x402 (--machine qemu-testdev, QEMU's
 * isa-debugcon) writes to --debugcon, like QEMU's -debugcon; by default its bytes are dropped.
 */
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { DomusError, errorMessage } from '../../base/errors';
import { FAULT_KIND_ENGINE } from '../../cpu/state';
import { Engine } from '../../runtime/engine';
import type { DomainSpec, ModuleSpec } from '../../runtime/hv-domain';
import type { DriveSpec } from '../../runtime/hv-bios';
import type { CmosBootDevice } from '../../machine/cmos-layout';
import { parseBootOrder } from '../service/spec-builder';
import { isPvhKernel } from '../../boot/pvh';
import { isLinuxBzImage } from '../../boot/linux';
import { detectMultiboot } from '../../iso/multiboot-check';
import { checkRomImage } from '../../runtime/hv-rom';
import { DEBUGCON_STREAM } from '../../machine/debugcon';
import type { CliCommand, CliIo } from '../cli-io';
import { NodeEngineHost, monotonicNs } from '../worker-host';
import { startupMark } from '../startup-trace';

/** Exit codes of `domus run`. */
export const RUN_EXIT = { ok: 0, badInput: 2, engineFault: 3, tripleFault: 4, timeout: 124 } as const;

const USAGE = `usage: domus run --kernel FILE [--module "FILE ARGS"]... [--append "ARGS"]  (direct boot)
       domus run --kernel BZIMAGE [--initrd FILE] [--append "ARGS"]             (Linux)
       domus run --kernel FILE --pvh [--disk IMAGE]...                          (PVH guest)
       domus run [--cdrom ISO]... [--disk IMAGE]... [--boot ORDER]             (BIOS boot)
       domus run --bios ROM                                                     (raw 64/128 KiB ROM)
   options: [--memory MB] [--vcpus N] [--pcpus N] [--serial stdio|file:PATH|none]
            [--debug-exit] [--timeout S] [--stats] [--machine pc|qemu-testdev]
            [--debugcon stdio|file:PATH|none]  (port 0x402 with --machine qemu-testdev)
   --boot takes xl's letters: c = first disk, d = first CD-ROM (default cd)
`;

interface RunOptions {
  kernel?: string;
  /** --bios: a raw system ROM image. */
  rom?: string;
  /** --debugcon: where isa-debugcon's bytes go. */
  debugcon: string;
  drives: { medium: 'disk' | 'cdrom'; file: string }[];
  boot?: string;
  pvh: boolean;
  modules: string[];
  initrd?: string;
  append: string;
  memoryMiB: number;
  vcpus: number;
  pcpus?: number;
  serial: string;
  debugExit: boolean;
  timeoutS?: number;
  stats: boolean;
  machine: 'pc' | 'qemu-testdev';
}

class UsageError extends DomusError {}

function parseArgs(args: string[]): RunOptions {
  const o: RunOptions = { pvh: false, drives: [], modules: [], append: '', debugcon: 'none', memoryMiB: 128, vcpus: 1, serial: 'stdio', debugExit: false, stats: false, machine: 'pc' };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new UsageError('run.usage', `${flag} needs a value.`);
    return v;
  };
  const int = (v: string, flag: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError('run.usage', `${flag} must be a whole number from ${min} to ${max} (got "${v}").`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--kernel': o.kernel = take(); break;
      case '--bios': o.rom = take(); break;
      case '--debugcon': o.debugcon = take(); break;
      case '--cdrom': o.drives.push({ medium: 'cdrom', file: take() }); break;
      case '--disk': o.drives.push({ medium: 'disk', file: take() }); break;
      case '--boot': o.boot = take(); break;
      case '--pvh': o.pvh = true; break;
      case '--module': o.modules.push(take()); break;
      case '--initrd': o.initrd = take(); break;
      case '--append': o.append = take(); break;
      case '--memory': o.memoryMiB = int(take(), '--memory', 2, 2048); break;
      case '--vcpus': o.vcpus = int(take(), '--vcpus', 1, 64); break;
      case '--pcpus': o.pcpus = int(take(), '--pcpus', 1, 256); break;
      case '--serial': o.serial = take(); break;
      case '--debug-exit': o.debugExit = true; break;
      case '--stats': o.stats = true; break;
      case '--machine': {
        const m = take();
        if (m !== 'pc' && m !== 'qemu-testdev') throw new UsageError('run.usage', `--machine takes pc or qemu-testdev (got "${m}").`);
        o.machine = m;
        break;
      }
      case '--timeout': {
        const v = Number(take());
        if (!(v > 0)) throw new UsageError('run.usage', '--timeout must be a positive number of seconds.');
        o.timeoutS = v;
        break;
      }
      case '-h':
      case '--help':
        throw new UsageError('run.help', '');
      default:
        throw new UsageError('run.usage', `Unknown option "${a}".`);
    }
  }
  if (o.rom !== undefined) checkRomOptions(o);
  if (o.kernel === undefined && o.drives.length === 0 && o.rom === undefined) {
    throw new UsageError('run.usage', 'Say what to boot: --kernel FILE (direct boot), --cdrom ISO / --disk IMAGE (through the BIOS), or --bios ROM.');
  }
  if (o.initrd !== undefined && o.kernel === undefined) throw new UsageError('run.usage', '--initrd goes with --kernel (a Linux bzImage).');
  if (o.pvh && o.kernel === undefined) throw new UsageError('run.usage', '--pvh boots a kernel: give --kernel FILE.');
  if (o.kernel !== undefined && o.boot !== undefined) throw new UsageError('run.usage', '--boot chooses among drives; a --kernel boot has none.');
  if (!/^(stdio|none|file:.+)$/.test(o.serial)) throw new UsageError('run.usage', `--serial takes stdio, none or file:PATH (got "${o.serial}").`);
  if (!/^(stdio|none|file:.+)$/.test(o.debugcon)) throw new UsageError('run.usage', `--debugcon takes stdio, none or file:PATH (got "${o.debugcon}").`);
  if (o.debugcon !== 'none' && o.machine !== 'qemu-testdev') throw new UsageError('run.usage', '--debugcon is the port 0x402 debug console of --machine qemu-testdev; add --machine qemu-testdev.');
  return o;
}

/** --bios is the whole firmware: nothing else may say what to boot. */
function checkRomOptions(o: RunOptions): void {
  const other = [
    o.kernel !== undefined && '--kernel',
    o.drives.some((d) => d.medium === 'cdrom') && '--cdrom',
    o.drives.some((d) => d.medium === 'disk') && '--disk',
    o.boot !== undefined && '--boot',
    o.pvh && '--pvh',
    o.modules.length > 0 && '--module',
    o.initrd !== undefined && '--initrd',
    o.append !== '' && '--append',
  ].filter((x): x is string => typeof x === 'string');
  if (other.length > 0) {
    throw new UsageError(
      'run.usage',
      `--bios ${o.rom} boots the ROM alone, with no Domus BIOS to load a kernel or reach drives; drop ${other.join(', ')} (or drop --bios).`,
    );
  }
}

/** The spec of a raw system ROM boot (--bios). */
function romSpec(o: RunOptions, io: CliIo): DomainSpec {
  const file = o.rom as string;
  const rom = { data: readInput(file, 'ROM image', io), path: file };
  checkRomImage(rom);
  return {
    name: path.basename(file),
    memoryMiB: o.memoryMiB,
    vcpus: o.vcpus,
    rom,
    debugExit: o.debugExit || o.machine === 'qemu-testdev',
    machine: o.machine,
  };
}

/** What ended the run, for a reset request's detail ("reset requested through SOURCE"). */
const RESET_SOURCES: Readonly<Record<string, string>> = {
  'port-92': 'port 0x92 (fast reset)',
  i8042: 'the 8042 keyboard controller (command 0xfe)',
  'pci-reset-control': 'the reset control register at port 0xcf9 (also the ACPI reset register)',
};

/** The stderr line of a guest reset: domus run stops there (exit code 4) instead of rebooting. */
function resetMessage(detail: string | undefined): string {
  const source = /through (\S+)$/.exec(detail ?? '')?.[1];
  const where = source === undefined ? (detail ?? 'a reboot') : (RESET_SOURCES[source] ?? source);
  return `domus run: the guest requested a reset through ${where}; a reset ends domus run (exit code 4).\n`;
}

function readInput(file: string, what: string, io: CliIo): Uint8Array {
  const p = path.resolve(io.cwd, file);
  try {
    return readFileSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : errorMessage(e);
    throw new DomusError('run.input', `Cannot read the ${what} ${file}: ${why}.`, file);
  }
}

/** The spec of a direct Linux boot (a bzImage with its initrd). */
function linuxSpec(o: RunOptions, kernel: Uint8Array, io: CliIo): DomainSpec {
  if (o.pvh) throw new UsageError('run.usage', `${o.kernel} is a Linux bzImage; Domus boots it on the emulated PC (drop --pvh).`);
  if (o.drives.length > 0 || o.modules.length > 0) {
    throw new UsageError('run.usage', `${o.kernel} is a Linux bzImage booted directly: it takes --initrd, not --module, and the domain has no BIOS drives (--cdrom/--disk).`);
  }
  const initrd = o.initrd === undefined ? undefined : { data: readInput(o.initrd, 'initrd', io), path: o.initrd };
  return {
    name: path.basename(o.kernel as string),
    memoryMiB: o.memoryMiB,
    vcpus: o.vcpus,
    kernel: { data: kernel, path: o.kernel as string, cmdline: o.append, modules: [], initrd },
    debugExit: o.debugExit || o.machine === 'qemu-testdev',
    machine: o.machine,
  };
}

/** The spec of a direct kernel boot: Linux, multiboot or PVH. */
function kernelSpec(o: RunOptions, io: CliIo): DomainSpec {
  const kernel = readInput(o.kernel as string, 'kernel', io);
  if (isLinuxBzImage(kernel)) return linuxSpec(o, kernel, io);
  if (o.initrd !== undefined) throw new UsageError('run.usage', `--initrd goes with a Linux bzImage; ${o.kernel} is not one (give a multiboot kernel its files with --module).`);
  const pvh = o.pvh || (detectMultiboot(kernel) === undefined && isPvhKernel(kernel, o.kernel));
  if (!pvh && o.drives.length > 0) {
    throw new UsageError('run.usage', 'a multiboot --kernel boots directly, without the BIOS, so the guest could not reach --cdrom/--disk drives; give one or the other (a PVH kernel gets them as PV disks).');
  }
  const modules: ModuleSpec[] = o.modules.map((m) => {
    const t = m.trim();
    const sp = t.search(/\s/);
    const file = sp < 0 ? t : t.slice(0, sp);
    const margs = sp < 0 ? '' : t.slice(sp + 1).trim();
    return { data: readInput(file, 'module', io), path: file, args: margs };
  });
  const disks = o.drives.map((d, i) => ({ vdev: `xvd${String.fromCharCode(0x61 + i)}`, drive: { medium: d.medium, path: path.resolve(io.cwd, d.file) } }));
  return {
    name: path.basename(o.kernel as string),
    memoryMiB: o.memoryMiB,
    vcpus: o.vcpus,
    kernel: { data: kernel, path: o.kernel as string, cmdline: o.append, modules },
    pvh: pvh ? { disks, vifs: [] } : undefined,
    debugExit: o.debugExit || o.machine === 'qemu-testdev',
    machine: o.machine,
  };
}

/** The spec of a BIOS boot from the given drives (the engine opens the files). */
function biosSpec(o: RunOptions, io: CliIo): DomainSpec {
  if (o.modules.length > 0 || o.append !== '') throw new UsageError('run.usage', '--module and --append go with --kernel.');
  const drives: DriveSpec[] = o.drives.map((d) => ({ medium: d.medium, path: path.resolve(io.cwd, d.file) }));
  const bootOrder: CmosBootDevice[] = parseBootOrder(o.boot ?? 'cd', '--boot');
  return {
    name: path.basename(o.drives[0].file),
    memoryMiB: o.memoryMiB,
    vcpus: o.vcpus,
    bios: { drives, bootOrder },
    debugExit: o.debugExit || o.machine === 'qemu-testdev',
    machine: o.machine,
  };
}

/** The `domus run` command. */
export const runCommand: CliCommand = async (args, io) => {
  const started = monotonicNs();
  let o: RunOptions;
  try {
    o = parseArgs(args);
  } catch (e) {
    if (e instanceof UsageError && e.code === 'run.help') {
      io.err(USAGE);
      return 0;
    }
    io.err(`domus run: ${errorMessage(e)}\n${USAGE}`);
    return RUN_EXIT.badInput;
  }
  let spec: DomainSpec;
  try {
    spec = o.rom !== undefined ? romSpec(o, io) : o.kernel === undefined ? biosSpec(o, io) : kernelSpec(o, io);
    startupMark('run: arguments parsed, kernel read');
  } catch (e) {
    io.err(`domus run: ${errorMessage(e)}\n`);
    return RUN_EXIT.badInput;
  }

  let serialFd: number | undefined;
  let debugconFd: number | undefined;
  for (const [target, what, isSerial] of [[o.serial, 'serial log', true], [o.debugcon, 'debug console log', false]] as const) {
    if (!target.startsWith('file:')) continue;
    const file = path.resolve(io.cwd, target.slice(5));
    try {
      const fd = openSync(file, 'w');
      if (isSerial) serialFd = fd;
      else debugconFd = fd;
    } catch (e) {
      io.err(`domus run: cannot open the ${what} ${file}: ${errorMessage(e)}\n`);
      if (serialFd !== undefined) closeSync(serialFd);
      return RUN_EXIT.badInput;
    }
  }
  const closeLogs = () => {
    if (serialFd !== undefined) closeSync(serialFd);
    if (debugconFd !== undefined) closeSync(debugconFd);
  };
  let engine: Engine;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (finish = r));
  let domid = -1;
  let firstByte = true;
  try {
    // The hypervisor runs on this thread (worker-host.ts); DOMUS_RUN_HV=worker gives it a worker
    // thread of its own, as the daemon and the app do.
    const host = new NodeEngineHost({ inlineHypervisor: io.env.DOMUS_RUN_HV !== 'worker' });
    engine = new Engine(host, { pcpus: o.pcpus }, {
      console: (_d, com, data) => {
        if (com === DEBUGCON_STREAM) {
          if (o.debugcon === 'stdio') io.out(data);
          else if (debugconFd !== undefined) writeSync(debugconFd, data);
          return;
        }
        // COM1, or the PV console of a PVH guest.
        if (com !== 1 && com !== 0) return;
        if (firstByte) {
          firstByte = false;
          startupMark('run: first console byte');
        }
        if (o.serial === 'stdio') io.out(data);
        else if (serialFd !== undefined) writeSync(serialFd, data);
      },
      shutdown: (_d, reason, code, detail) => {
        if (reason === 'debug-exit') finish((code ?? 1) & 0xff);
        else if (reason === 'crash') {
          const engineFault = code === FAULT_KIND_ENGINE;
          if (engineFault) io.err(`domus run: engine fault: ${detail ?? ''}\n`);
          else io.err(`domus run: the guest's CPU shut down, exit code 4: ${detail ?? 'triple fault'}\n`);
          finish(engineFault ? RUN_EXIT.engineFault : RUN_EXIT.tripleFault);
        } else if (reason === 'reboot') {
          io.err(resetMessage(detail));
          finish(RUN_EXIT.tripleFault);
        } else {
          finish(RUN_EXIT.ok);
        }
      },
      halted: () => finish(RUN_EXIT.ok),
      message: (_d, text) => io.err(`domus run: ${text}\n`),
      fatal: (message) => {
        io.err(`domus run: engine fault: ${message}\n`);
        finish(RUN_EXIT.engineFault);
      },
    });
  } catch (e) {
    io.err(`domus run: ${errorMessage(e)}\n`);
    return RUN_EXIT.badInput;
  }
  startupMark('run: engine constructed (workers spawning)');
  if (engine.oversubscribed) io.err(`domus run: ${engine.nrPcpus} pCPUs on a host with fewer CPUs (oversubscribed)\n`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await engine.whenReady();
    startupMark('run: hypervisor ready');
    const created = await engine.createDomain(spec, { paused: true });
    startupMark('run: domain created');
    domid = created.domid;
    const boot = created.boot as { booted?: boolean } | undefined;
    if (spec.bios !== undefined && boot?.booted === false) {
      // Nothing to run. The BIOS's reasons were posted right after the reply; one more round
      // trip to the engine makes sure they reached stderr.
      await engine.domainStats(domid);
      finish(RUN_EXIT.badInput);
    } else {
      await engine.unpauseDomain(domid);
      startupMark('run: domain unpaused');
    }
    if (o.timeoutS !== undefined) {
      timer = setTimeout(() => {
        io.err(`domus run: timed out after ${o.timeoutS} s\n`);
        finish(RUN_EXIT.timeout);
      }, o.timeoutS * 1000);
    }
  } catch (e) {
    io.err(`domus run: ${errorMessage(e)}\n`);
    await engine.close();
    closeLogs();
    return e instanceof DomusError && e.code === 'engine.dead' ? RUN_EXIT.engineFault : RUN_EXIT.badInput;
  }
  const code = await done;
  if (timer) clearTimeout(timer);
  if (o.stats && domid >= 0) {
    try {
      const st = await engine.domainStats(domid);
      const secs = st.uptimeNs / 1e9;
      const exits = Object.entries(st.exits).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ');
      io.err(
        `domus run: ${st.instructions} instructions retired in ${secs.toFixed(3)} s ` +
          `(${(st.instructions / secs / 1e6).toFixed(1)} MIPS); process ${((monotonicNs() - started) / 1e9).toFixed(3)} s\n` +
          `domus run: VM exits: ${exits || 'none'}\n`,
      );
    } catch (e) {
      io.err(`domus run: no statistics: ${errorMessage(e)}\n`);
    }
  }
  await engine.close();
  closeLogs();
  return code;
};
