/**
 * `domus mkrescue -o OUT.iso [OPTION]... SOURCE...`: grub-mkrescue for the i386-pc platform,
 * without GRUB or xorriso installed. SOURCEs (directories, files or "ISO_PATH=HOST_PATH" graft
 * points) are grafted on the root of the image, next to GRUB's /boot/grub. Which grub-mkrescue
 * options are honoured, ignored or refused is listed in USAGE and docs/iso-builder.md.
 */
import { IsoError } from '../../base/errors';
import type { CliCommand } from '../cli-io';
import { CliUsageError, hasFlag, lastValue, moduleList, type OptionSpec, parseCliArgs, parseModificationDate, reportCliError } from '../iso/cli-args';
import { buildRescueToFile } from '../iso/iso-service';
import path from 'node:path';

const USAGE = `Usage: domus mkrescue -o OUT.iso [OPTION]... SOURCE...
Make a bootable GRUB (i386-pc BIOS) CD / USB / disk image, like grub-mkrescue.
SOURCE: a directory grafted on the image root, a file, or ISO_PATH=HOST_PATH.

  -o, --output=FILE          write the image to FILE (required)
  -d, --directory=DIR        GRUB i386-pc directory (same as --grub-dir)
      --grub-dir=DIR         default: $DOMUS_GRUB_DIR, then the GRUB bundled with Domus
      --modules=MODULES      embed MODULES in the core image (pre-loaded)
      --install-modules=MODULES  copy only MODULES and their dependencies
      --sparc-boot, --arcs-boot  no hybrid MBR (the image boots from CD only)
  -v, --verbose              print progress
  -V, --version              print the version
  -?, --help, --usage        print this help
xorriso/mkisofs options understood:
      -volid ID, --modification-date=YYYYMMDDhhmmsscc (UTC; else $SOURCE_DATE_EPOCH, else now),
      -graft-points, -r, -R, -J, -joliet, -f, -follow-links, -quiet (accepted; names are
      plain ISO 9660, symbolic links are always followed)
Accepted and ignored: --compress=no (others warned), --fonts, --locales, --themes,
  --locale-directory, --label-font, --label-color, --label-bgcolor, --product-name,
  --product-version, --rom-directory, --xorriso, --dtb, --sbat, --disable-shim-lock
Refused: -k/--pubkey (signature checking is not supported), --core-compress other than auto,
  -- (xorriso native command mode)
`;

const VALUE = (...names: string[]): OptionSpec => ({ names, value: true });
const FLAG = (...names: string[]): OptionSpec => ({ names, value: false });

const SPECS: OptionSpec[] = [
  VALUE('-o', '--output'),
  VALUE('-d', '--directory'),
  VALUE('--grub-dir'),
  VALUE('--modules'),
  VALUE('--install-modules'),
  VALUE('--compress'),
  VALUE('--core-compress'),
  VALUE('-k', '--pubkey'),
  FLAG('--sparc-boot'),
  FLAG('--arcs-boot'),
  FLAG('-v', '--verbose'),
  FLAG('-V', '--version'),
  FLAG('-?', '--help', '-h', '--usage'),
  VALUE('-volid'),
  VALUE('--modification-date'),
  ...['-graft-points', '-r', '-R', '-J', '-joliet', '-f', '-follow-links', '-quiet'].map((n) => FLAG(n)),
  ...['--fonts', '--locales', '--themes', '--locale-directory', '--label-font', '--label-color', '--label-bgcolor', '--product-name', '--product-version', '--rom-directory', '--xorriso', '--dtb', '--sbat'].map((n) => VALUE(n)),
  FLAG('--disable-shim-lock'),
];

/** Domus's version, for --version (matches package.json at release time). */
export const DOMUS_ISO_VERSION = 'domus mkrescue (Domus 0.1.0; GRUB i386-pc 2.06 layout)';

/** The `domus mkrescue` verb. */
export const mkrescueCommand: CliCommand = async (args, io) => {
  try {
    if (args.includes('--')) throw new CliUsageError('"--" (xorriso native command mode) is not supported');
    const p = parseCliArgs(args, SPECS);
    if (hasFlag(p, '-?')) {
      io.out(USAGE);
      return 0;
    }
    if (hasFlag(p, '-V')) {
      io.out(`${DOMUS_ISO_VERSION}\n`);
      return 0;
    }
    const output = lastValue(p, '-o');
    if (output === undefined) throw new CliUsageError('an output file is required (-o OUT.iso)');
    if (p.positional.length === 0) throw new CliUsageError('no SOURCE given (a directory to put on the image)');
    if (p.options.has('-k')) throw new IsoError('iso.unsupported', '--pubkey (embedding a signature-checking key) is not supported by Domus; build without it or use grub-mkrescue.', '--pubkey');
    const core = lastValue(p, '--core-compress');
    if (core !== undefined && core !== 'auto') {
      throw new IsoError('iso.unsupported', `--core-compress=${core} is not supported: Domus compresses the core image with LZMA ("auto").`, '--core-compress');
    }
    const verbose = hasFlag(p, '-v');
    const compress = lastValue(p, '--compress');
    if (compress !== undefined && compress !== 'no') io.err(`domus mkrescue: warning: --compress=${compress} ignored; GRUB files are stored uncompressed.\n`);
    const dateText = lastValue(p, '--modification-date');
    const report = await buildRescueToFile({
      output: path.resolve(io.cwd, output),
      sources: p.positional.map((s) => {
        const eq = s.search(/(?<!\\)=/);
        return eq < 0 ? path.resolve(io.cwd, s) : `${s.slice(0, eq)}=${path.resolve(io.cwd, s.slice(eq + 1))}`;
      }),
      grubDir: lastValue(p, '--grub-dir') ?? lastValue(p, '-d'),
      env: io.env,
      timeMs: dateText === undefined ? undefined : parseModificationDate(dateText),
      volumeId: lastValue(p, '-volid'),
      extraCoreModules: moduleList(p.options.get('--modules')),
      installModules: moduleList(p.options.get('--install-modules')),
      hybrid: !(hasFlag(p, '--sparc-boot') || hasFlag(p, '--arcs-boot')),
      onProgress: verbose ? (ev) => io.err(`domus mkrescue: ${Math.round(ev.fraction * 100)}% ${ev.message}\n`) : undefined,
    });
    for (const w of report.warnings) io.err(`domus mkrescue: note: ${w}\n`);
    if (!hasFlag(p, '-quiet')) {
      io.out(`${report.output}: ${report.sectors} sectors (${(report.bytes / 1024).toFixed(0)} KiB), GRUB ${report.grubVersion}, ${Math.round(report.elapsedMs)} ms\n`);
    }
    return 0;
  } catch (err) {
    return reportCliError(io, 'mkrescue', err);
  }
};
