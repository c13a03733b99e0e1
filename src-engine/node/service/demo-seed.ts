/**
 * The demo domain: the first time the engine starts on a new library, the library gets one
 * ready-to-start config, "demo", that boots the demo guest Domus bundles (resources/guests/demo,
 * docs/demo-guest.md): a small multiboot kernel with a shell on COM1.
 *
 * Policy:
 * - Offered once per data directory. The marker file (DomusPaths.demoMarker) records the offer,
 *   whatever came of it, so a user who deletes the demo does not get it back.
 * - Only into a new library, one with no configs yet; a library in use is left as it is.
 * - Never overwrites: a demo.cfg that is there already is the user's.
 * - The config's kernel is a copy of the bundled ELF in the data directory (DomusPaths.guestsDir),
 *   not the bundled file itself: a packaged app's resources move (an AppImage is mounted at a new
 *   path at every launch, an update replaces the app), the copy stays. Each start brings an
 *   existing copy up to date with the bundled guest; a copy the user removed is not brought back.
 * - Without the bundled guest (a checkout missing resources/) nothing is written and the marker
 *   is not set, so a later start offers the demo again.
 * - DOMUS_NO_DEMO=1 (DomusPaths.seedDemo false) turns the offer off: tests that want an empty
 *   library. A library that was already offered the demo keeps its copy up to date regardless.
 * - Seeding never stops the engine from starting: a failure is reported and the engine goes on.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeXlCfg } from '../../config/xlcfg-writer';
import { writeFileAtomic } from './atomic-file';
import type { DomainLibrary } from './library';
import type { DomusPaths } from './paths';

/** The demo domain's name in the library (and its config file's: demo.cfg). */
export const DEMO_DOMAIN_NAME = 'demo';
/** The bundled guest, relative to the resources folder (checkout) or the app's resources. */
const BUNDLED_DEMO = path.join('guests', 'demo', 'demo.elf');
/** Name of the copy in DomusPaths.guestsDir. */
const DEMO_KERNEL_COPY = 'demo.elf';
/** Guest RAM in MiB: the demo needs 2 MiB; 32 leaves its `mem` command room to test. */
const DEMO_MEMORY_MIB = 32;
/** The demo kernel drives one CPU. */
const DEMO_VCPUS = 1;
/** Kernel command line: the demo guest runs what follows "--" at boot, so the console starts with the command list. */
const DEMO_CMDLINE = '-- help';

/** What seedDemoDomain did. */
export type DemoSeedOutcome =
  /** demo.cfg was written. */
  | 'seeded'
  /** The marker says the demo was offered before (only the kernel copy was refreshed). */
  | 'offered-before'
  /** The library already had configs: it is not new, the demo stays out (marker set). */
  | 'library-in-use'
  /** DOMUS_NO_DEMO is set. */
  | 'disabled'
  /** The bundled demo guest was not found (nothing written, no marker). */
  | 'no-bundled-guest';

/** The result of seedDemoDomain. */
export interface DemoSeedResult {
  outcome: DemoSeedOutcome;
  /** The bundled demo.elf, when found. */
  bundled: string | undefined;
  /** What the engine log should say, if anything. */
  message: string | undefined;
}

function moduleDir(): string | undefined {
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

/** Where findBundledDemoGuest looks: the app's resources folder, and folders to search upwards from. */
export interface BundleSearch {
  resourcesPath: string | undefined;
  starts: (string | undefined)[];
}

/** This process: Electron's process.resourcesPath, this module's folder and the working directory. */
function defaultBundleSearch(): BundleSearch {
  return { resourcesPath: (process as { resourcesPath?: string }).resourcesPath, starts: [moduleDir(), process.cwd()] };
}

/** Names of the packaged app's code folders inside its resources folder (electron-builder asar). */
const ASAR_FOLDERS = new Set(['app.asar', 'app.asar.unpacked']);

/**
 * The bundled demo.elf: in a packaged Electron app <resources>/guests/demo/demo.elf
 * (electron-builder.yml extraResources), else resources/guests/demo/demo.elf of the checkout,
 * found upwards from this module and from the working directory (as findBundledGrubRoot does).
 * The packaged app's resources folder comes from process.resourcesPath, or from this module's
 * place in it (<resources>/app.asar.unpacked/dist/engine) where a process lacks resourcesPath.
 */
export function findBundledDemoGuest(where: BundleSearch = defaultBundleSearch()): string | undefined {
  const candidates: string[] = [];
  const { resourcesPath } = where;
  if (resourcesPath) candidates.push(path.join(resourcesPath, BUNDLED_DEMO));
  for (const start of where.starts) {
    if (!start) continue;
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (ASAR_FOLDERS.has(path.basename(dir))) candidates.push(path.join(path.dirname(dir), BUNDLED_DEMO));
      candidates.push(path.join(dir, 'resources', BUNDLED_DEMO));
      if (path.dirname(dir) === dir) break;
    }
  }
  return candidates.find((c) => existsSync(c));
}

/** The xl.cfg text of the demo domain, booting `kernel`. */
export function demoDomainConfig(kernel: string): string {
  const header = [
    'The Domus demo guest: a tiny multiboot kernel with a shell on its serial console (COM1) and',
    'the VGA screen. Start it, open its console and type help (Domus docs: docs/demo-guest.md).',
    'Domus put this file here once, in a new library: edit or delete it freely, it does not come back.',
    "The kernel is Domus's copy of its bundled demo guest; Domus keeps that copy up to date.",
    'cmdline: the guest runs the commands after "--" at boot (separated by ;).',
  ].join('\n');
  return writeXlCfg(
    [
      ['name', DEMO_DOMAIN_NAME],
      ['type', 'hvm'],
      ['kernel', kernel],
      ['cmdline', DEMO_CMDLINE],
      ['memory', DEMO_MEMORY_MIB],
      ['vcpus', DEMO_VCPUS],
      ['serial', ['pty']],
      ['on_poweroff', 'destroy'],
      ['on_reboot', 'restart'],
    ],
    header,
  );
}

/** Creates the marker; false if it exists already (another start made the offer). */
function takeMarker(marker: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(marker, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Brings an existing copy of the demo kernel up to date (or makes it, when `create`). */
function refreshCopy(bundled: string, copy: string, create: boolean): void {
  const want = readFileSync(bundled);
  if (!existsSync(copy)) {
    if (create) writeFileAtomic(copy, want);
    return;
  }
  if (!readFileSync(copy).equals(want)) writeFileAtomic(copy, want);
}

function markerText(what: string): string {
  return `Domus offered the demo domain to this library on ${new Date().toISOString()}: ${what}.\nIt is not offered again while this file exists.\n`;
}

/**
 * Offers the demo domain to a new library (see the policy above) and keeps the demo kernel's
 * copy up to date. Call it once when the engine service starts.
 */
export function seedDemoDomain(library: DomainLibrary, paths: DomusPaths): DemoSeedResult {
  const bundled = findBundledDemoGuest();
  const copy = path.join(paths.guestsDir, DEMO_KERNEL_COPY);
  const offered = existsSync(paths.demoMarker);
  if (offered || !paths.seedDemo) {
    if (bundled && offered) refreshCopy(bundled, copy, false);
    return { outcome: offered ? 'offered-before' : 'disabled', bundled, message: undefined };
  }
  if (!bundled) {
    return { outcome: 'no-bundled-guest', bundled, message: 'the bundled demo guest (resources/guests/demo/demo.elf) was not found: no demo domain in the library' };
  }
  if (library.names().length > 0 || existsSync(library.fileOf(DEMO_DOMAIN_NAME))) {
    takeMarker(paths.demoMarker, markerText('the library had configs already, so it was left as it was'));
    return { outcome: 'library-in-use', bundled, message: undefined };
  }
  if (!takeMarker(paths.demoMarker, markerText(`wrote ${library.fileOf(DEMO_DOMAIN_NAME)}`))) {
    return { outcome: 'offered-before', bundled, message: undefined };
  }
  refreshCopy(bundled, copy, true);
  const file = library.fileOf(DEMO_DOMAIN_NAME);
  // Checked once more just before writing: a config the user made meanwhile is never replaced.
  if (existsSync(file)) return { outcome: 'library-in-use', bundled, message: undefined };
  library.save(DEMO_DOMAIN_NAME, demoDomainConfig(copy));
  return { outcome: 'seeded', bundled, message: `added the demo domain "${DEMO_DOMAIN_NAME}" to the library (${file}): start it and type help on its console` };
}

/**
 * seedDemoDomain for the engine service's start: never throws, reports through `note` what the
 * user should know (a failure as a warning).
 */
export function offerDemoDomain(library: DomainLibrary, paths: DomusPaths, note: (level: 'info' | 'warn', message: string) => void): void {
  try {
    const r = seedDemoDomain(library, paths);
    if (r.message) note(r.outcome === 'seeded' ? 'info' : 'warn', r.message);
  } catch (e) {
    note('warn', `could not add the demo domain to the library: ${e instanceof Error ? e.message : String(e)}`);
  }
}
