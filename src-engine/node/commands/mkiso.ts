/**
 * `domus mkiso --kernel F [--module "F ARGS"]... -o OUT.iso`: the seeds' xen-single-kernel.sh
 * workflow in one command: a GRUB ISO that boots a multiboot loader with its application module
 * on a serial console, and optionally the xl.cfg to run it on Xen (memory, cores).
 */
import path from 'node:path';
import { IsoError } from '../../base/errors';
import { COM_PORTS, type IsoConsole, splitCommandLine } from '../../iso/grub-cfg';
import type { CliCommand } from '../cli-io';
import { CliUsageError, hasFlag, intValue, lastValue, type OptionSpec, parseCliArgs, parseModificationDate, reportCliError } from '../iso/cli-args';
import { buildIsoFromWizard, type IsoWizardRequest, previewIsoWizard } from '../iso/iso-service';
import { promises as fsp } from 'node:fs';

const USAGE = `Usage: domus mkiso --kernel FILE [--module "FILE ARGS"]... -o OUT.iso [OPTION]...
Make a bootable GRUB ISO that boots a multiboot kernel (e.g. HermitCore's ldhermit.elf) with its modules.

  --kernel FILE          the multiboot (v1 or v2) loader or kernel (required)
  --module "FILE ARGS"   a module and its argument string; repeat for more, in order
  --append ARGS          the kernel command line (e.g. "-uart=io:0x3f8")
  --serial PORT[,SPEED]  GRUB console on com1..com4 (default com1,115200)
  --vga                  GRUB console on the screen instead of a serial port
  --title TEXT           menu entry title (default: the kernel's file name)
  --timeout SECONDS      menu timeout (default 0)
  --multiboot, --multiboot2  force the boot protocol (default: v1 if the kernel has a v1 header)
  --grub-cfg FILE        use this (edited) grub.cfg instead of the generated one
  --print-grub-cfg       print the grub.cfg that would be written and stop
  -o, --output FILE      the ISO to write (required unless --print-grub-cfg)
  --xl-cfg FILE          also write an xl.cfg booting the ISO as an HVM guest
  --memory MB            its memory (default 512)
  --vcpus N              its VCPU count (default 1)
  --name NAME            its domain name (default: the ISO's base name)
  --serial-log FILE      send its serial line to FILE instead of a pty
  --grub-dir DIR         GRUB i386-pc directory (default: $DOMUS_GRUB_DIR, then the bundled GRUB)
  --volid ID             ISO volume id (default ISOIMAGE)
  --modification-date=YYYYMMDDhhmmsscc  recording time, UTC (default $SOURCE_DATE_EPOCH, then now)
  -v, --verbose          print progress
  -h, --help             print this help
`;

/** Largest --vcpus accepted (HVM guests of the emitted xl.cfg). */
const MAX_VCPUS = 128;
/** --serial default: COM1 at 115200 baud, as in the spec's reference grub.cfg. */
const DEFAULT_SERIAL = 'com1,115200';
/** Default --serial speed when only the port is given. */
const DEFAULT_SPEED = 115200;

const VALUE = (...names: string[]): OptionSpec => ({ names, value: true });
const FLAG = (...names: string[]): OptionSpec => ({ names, value: false });

const SPECS: OptionSpec[] = [
  VALUE('--kernel'),
  VALUE('--module'),
  VALUE('--append'),
  VALUE('--serial'),
  FLAG('--vga'),
  VALUE('--title'),
  VALUE('--timeout'),
  FLAG('--multiboot'),
  FLAG('--multiboot2'),
  VALUE('--grub-cfg'),
  FLAG('--print-grub-cfg'),
  VALUE('-o', '--output'),
  VALUE('--xl-cfg'),
  VALUE('--memory'),
  VALUE('--vcpus'),
  VALUE('--name'),
  VALUE('--serial-log'),
  VALUE('--grub-dir'),
  VALUE('--volid', '-volid'),
  VALUE('--modification-date'),
  FLAG('-v', '--verbose'),
  FLAG('-h', '--help', '-?'),
];

/** Parses "com1", "com2,9600", "ttyS1,57600" or "1,115200" into a serial console. */
export function parseSerialOption(text: string): IsoConsole {
  const m = /^(?:com|ttys)?(\d)(?:,(\d+))?$/i.exec(text.trim());
  const ttyS = /^ttys/i.test(text.trim());
  if (!m) throw new CliUsageError(`--serial needs PORT[,SPEED] such as com1,115200; got "${text}"`);
  const port = Number(m[1]) + (ttyS ? 1 : 0);
  if (port < 1 || port > COM_PORTS.length) throw new CliUsageError(`--serial: there is no COM${port}; use com1 to com4`);
  return { kind: 'serial', port, speed: m[2] === undefined ? DEFAULT_SPEED : Number(m[2]) };
}

/** Splits a --module value into the file and its argument string (the rest, re-quoted). */
export function parseModuleOption(text: string, cwd: string): { path: string; args: string } {
  const words = splitCommandLine(text);
  if (words.length === 0 || words[0] === '') throw new CliUsageError('--module needs a file name');
  const args = words
    .slice(1)
    .map((w) => (w === '' || /[\s"']/.test(w) ? `"${w.replace(/[\\"]/g, '\\$&')}"` : w))
    .join(' ');
  return { path: path.resolve(cwd, words[0]), args };
}

/** The `domus mkiso` verb. */
export const mkisoCommand: CliCommand = async (args, io) => {
  try {
    const p = parseCliArgs(args, SPECS);
    if (hasFlag(p, '-h')) {
      io.out(USAGE);
      return 0;
    }
    if (p.positional.length > 0) throw new CliUsageError(`unexpected argument ${p.positional[0]}`);
    const kernel = lastValue(p, '--kernel');
    if (kernel === undefined) throw new CliUsageError('the loader is required (--kernel FILE)');
    if (hasFlag(p, '--vga') && p.options.has('--serial')) throw new CliUsageError('choose either --serial or --vga');
    if (hasFlag(p, '--multiboot') && hasFlag(p, '--multiboot2')) throw new CliUsageError('choose either --multiboot or --multiboot2');
    const serial = lastValue(p, '--serial');
    const consoleSpec: IsoConsole = hasFlag(p, '--vga') ? { kind: 'vga' } : parseSerialOption(serial ?? DEFAULT_SERIAL);
    const grubCfgFile = lastValue(p, '--grub-cfg');
    let grubCfg: string | undefined;
    if (grubCfgFile !== undefined) {
      try {
        grubCfg = await fsp.readFile(path.resolve(io.cwd, grubCfgFile), 'utf8');
      } catch (err) {
        throw new IsoError('iso.input', `Cannot read the grub.cfg ${grubCfgFile}: ${(err as Error).message}.`, grubCfgFile);
      }
    }
    const output = lastValue(p, '-o');
    const printOnly = hasFlag(p, '--print-grub-cfg');
    if (output === undefined && !printOnly) throw new CliUsageError('an output file is required (-o OUT.iso)');
    const xlPath = lastValue(p, '--xl-cfg');
    for (const o of ['--memory', '--vcpus', '--name', '--serial-log']) {
      if (p.options.has(o) && xlPath === undefined) throw new CliUsageError(`${o} describes the xl.cfg; add --xl-cfg FILE`);
    }
    const dateText = lastValue(p, '--modification-date');
    const timeout = lastValue(p, '--timeout');
    const memory = lastValue(p, '--memory');
    const vcpus = lastValue(p, '--vcpus');
    const serialLog = lastValue(p, '--serial-log');
    const req: IsoWizardRequest = {
      kernel: path.resolve(io.cwd, kernel),
      kernelArgs: lastValue(p, '--append') ?? '',
      modules: (p.options.get('--module') ?? []).map((m) => parseModuleOption(m, io.cwd)),
      title: lastValue(p, '--title'),
      timeoutSeconds: timeout === undefined ? undefined : intValue(timeout, '--timeout', 0),
      console: consoleSpec,
      protocol: hasFlag(p, '--multiboot2') ? 2 : hasFlag(p, '--multiboot') ? 1 : undefined,
      grubCfg,
      output: path.resolve(io.cwd, output ?? 'unused.iso'),
      grubDir: lastValue(p, '--grub-dir'),
      timeMs: dateText === undefined ? undefined : parseModificationDate(dateText),
      volumeId: lastValue(p, '--volid'),
      xlCfg:
        xlPath === undefined
          ? undefined
          : {
              path: path.resolve(io.cwd, xlPath),
              name: lastValue(p, '--name'),
              memoryMb: memory === undefined ? undefined : intValue(memory, '--memory', 1),
              vcpus: vcpus === undefined ? undefined : intValue(vcpus, '--vcpus', 1, MAX_VCPUS),
              serialTarget: serialLog === undefined ? undefined : path.resolve(io.cwd, serialLog),
            },
    };
    if (printOnly) {
      const preview = await previewIsoWizard(req);
      io.out(preview.grubCfg);
      for (const w of preview.warnings) io.err(`domus mkiso: warning: ${w}\n`);
      return 0;
    }
    const verbose = hasFlag(p, '-v');
    const report = await buildIsoFromWizard(req, verbose ? (ev) => io.err(`domus mkiso: ${Math.round(ev.fraction * 100)}% ${ev.message}\n`) : undefined, io.env);
    for (const w of report.warnings) io.err(`domus mkiso: warning: ${w}\n`);
    io.out(`${report.output}: ${report.sectors} sectors (${(report.bytes / 1024).toFixed(0)} KiB), GRUB ${report.grubVersion}, ${Math.round(report.elapsedMs)} ms\n`);
    if (report.xlCfg) io.out(`${report.xlCfg.path}: xl.cfg for \`xl create\`\n`);
    return 0;
  } catch (err) {
    return reportCliError(io, 'mkiso', err);
  }
};
