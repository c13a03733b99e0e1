/**
 * Finds, reads and checks the GRUB i386-pc directory the ISO builder uses.
 *
 * Policy (docs/iso-builder.md "GRUB directories"):
 * - The bundled directory (resources/grub/i386-pc) must match resources/grub/manifest.json file
 *   for file (size and SHA-256); a missing or changed file is refused, naming it.
 * - A user directory (--grub-dir, the wizard's setting, DOMUS_GRUB_DIR) whose kernel.img is the
 *   bundled build's must match the manifest the same way (a partial or mixed copy is refused).
 * - A user directory with another kernel.img (another GRUB version or build) is accepted only when
 *   it is self-consistent (grubConsistencyProblems finds nothing); the build notes say so.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsoError } from '../../base/errors';
import { grubConsistencyProblems } from '../../iso/grub-consistency';

/** resources/grub/manifest.json. */
export interface GrubManifest {
  format: 1;
  grub: { package: string; version: string; platform: string; upstream: string };
  files: Record<string, { size: number; sha256: string }>;
}

/** A checked GRUB directory, ready for the builder. */
export interface GrubDirectory {
  dir: string;
  files: Map<string, Uint8Array>;
  /** Whether the files are exactly the bundled build. */
  matchesManifest: boolean;
  /** "2.06-13+deb12u2" for the bundled build, else "unknown (self-consistent)". */
  version: string;
  /** What the user should know (e.g. that another GRUB build is used). */
  notes: string[];
}

/** Environment variable naming a GRUB i386-pc directory (below --grub-dir, above the bundled one). */
export const GRUB_DIR_ENV = 'DOMUS_GRUB_DIR';
const MANIFEST = 'manifest.json';
const PLATFORM = 'i386-pc';

/** SHA-256 of bytes, lower-case hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function moduleDir(): string | undefined {
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

/**
 * The bundled GRUB root (the folder with manifest.json and i386-pc/): in a packaged Electron app
 * <resources>/grub, else resources/grub of the checkout, found upwards from this module and from
 * the working directory.
 */
export function findBundledGrubRoot(): string | undefined {
  const candidates: string[] = [];
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) candidates.push(path.join(resourcesPath, 'grub'));
  for (const start of [moduleDir(), process.cwd()]) {
    if (!start) continue;
    for (let dir = start; ; dir = path.dirname(dir)) {
      candidates.push(path.join(dir, 'resources', 'grub'));
      if (path.dirname(dir) === dir) break;
    }
  }
  return candidates.find((c) => existsSync(path.join(c, MANIFEST)) && existsSync(path.join(c, PLATFORM)));
}

/** Reads the bundled manifest. */
export async function readBundledManifest(root = findBundledGrubRoot()): Promise<GrubManifest> {
  if (!root) {
    throw new IsoError('iso.no-grub', 'Domus cannot find its bundled GRUB files (resources/grub). Run `npm ci` in the Domus checkout, or give --grub-dir.');
  }
  return JSON.parse(await fsp.readFile(path.join(root, MANIFEST), 'utf8')) as GrubManifest;
}

/** Reads every regular file of a directory (not recursive). */
async function readFlatDir(dir: string): Promise<Map<string, Uint8Array>> {
  let names: string[];
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new IsoError('iso.no-grub', `The GRUB directory ${dir} is not a directory.`, dir);
    names = (await fsp.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() || d.isSymbolicLink()).map((d) => d.name);
  } catch (err) {
    if (err instanceof IsoError) throw err;
    throw new IsoError('iso.no-grub', `Cannot read the GRUB directory ${dir}: ${(err as Error).message}.`, dir);
  }
  const entries = await Promise.all(
    names.sort().map(async (n) => {
      try {
        const entry: [string, Uint8Array] = [n, new Uint8Array(await fsp.readFile(path.join(dir, n)))];
        return entry;
      } catch {
        return undefined; // dangling links, unreadable extras: judged below only if needed
      }
    }),
  );
  return new Map(entries.filter((e): e is [string, Uint8Array] => e !== undefined));
}

/** Manifest mismatches of `files`, each naming the file; empty when every listed file matches. */
export function manifestProblems(files: ReadonlyMap<string, Uint8Array>, manifest: GrubManifest): string[] {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(manifest.files)) {
    const got = files.get(name);
    if (got === undefined) problems.push(`${name} is missing`);
    else if (got.length !== want.size) problems.push(`${name} is ${got.length} bytes, expected ${want.size}`);
    else if (sha256Hex(got) !== want.sha256) problems.push(`${name} has different contents (SHA-256 mismatch)`);
  }
  return problems;
}

function refuse(dir: string, intro: string, problems: string[], advice: string): never {
  const shown = problems.slice(0, 8).map((p) => `  - ${p}`);
  if (problems.length > shown.length) shown.push(`  - and ${problems.length - shown.length} more`);
  const first = problems[0]?.split(' ')[0];
  throw new IsoError('iso.bad-grub-dir', `${intro} ${dir}:\n${shown.join('\n')}\n${advice}`, first ? path.join(dir, first) : dir);
}

/**
 * Loads and checks a GRUB i386-pc directory: `dir` when given, else $DOMUS_GRUB_DIR, else the
 * bundled one.
 */
export async function loadGrubDirectory(dir?: string, env: Record<string, string | undefined> = {}): Promise<GrubDirectory> {
  const root = findBundledGrubRoot();
  const chosen = dir ?? env[GRUB_DIR_ENV];
  if (chosen === undefined) {
    const manifest = await readBundledManifest(root);
    const bundled = path.join(root!, PLATFORM);
    const files = await readFlatDir(bundled);
    const problems = manifestProblems(files, manifest);
    if (problems.length > 0) {
      refuse(bundled, "Domus's bundled GRUB files are damaged in", problems, 'Restore them with `git checkout resources/grub` or reinstall Domus (`npm ci`).');
    }
    return { dir: bundled, files, matchesManifest: true, version: manifest.grub.version, notes: [] };
  }
  const abs = path.resolve(chosen);
  const files = await readFlatDir(abs);
  const manifest = root ? await readBundledManifest(root) : undefined;
  const kernel = files.get('kernel.img');
  const sameBuild = manifest !== undefined && kernel !== undefined && sha256Hex(kernel) === manifest.files['kernel.img']?.sha256;
  if (sameBuild) {
    const problems = manifestProblems(files, manifest);
    if (problems.length > 0) {
      refuse(
        abs,
        `The GRUB directory has the kernel.img of GRUB ${manifest.grub.version} but other files do not match that build in`,
        problems,
        'Reinstall grub-pc-bin there, or leave out --grub-dir to use the GRUB bundled with Domus.',
      );
    }
    return { dir: abs, files, matchesManifest: true, version: manifest.grub.version, notes: [] };
  }
  const problems = grubConsistencyProblems(files);
  if (problems.length > 0) {
    refuse(
      abs,
      `Cannot use the GRUB directory (not the bundled GRUB ${manifest?.grub.version ?? ''} build, and not self-consistent)`,
      problems,
      'Point --grub-dir at a complete i386-pc directory of one GRUB build (e.g. /usr/lib/grub/i386-pc), or leave it out to use the bundled GRUB.',
    );
  }
  return {
    dir: abs,
    files,
    matchesManifest: false,
    version: 'unknown (self-consistent)',
    notes: [`Using GRUB from ${abs}: not the bundled ${manifest?.grub.version ?? ''} build; accepted because its moddep.lst, modules and images are self-consistent.`],
  };
}
