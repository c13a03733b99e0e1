/**
 * The ISO builder's file-system side, shared by `domus mkiso`, `domus mkrescue` and the GUI
 * wizard: reads the inputs, loads the checked GRUB directory, runs the pure builder
 * (src-engine/iso) and writes the ISO (and optionally an xl.cfg) atomically.
 *
 * Wizard flow: previewIsoWizard(request) returns the grub.cfg text to show (and edit); the same
 * request with `grubCfg` set to the edited text goes to buildIsoFromWizard, which reports progress
 * events and returns a report.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { IsoError } from '../../base/errors';
import type { IsoConsole } from '../../iso/grub-cfg';
import { buildRescueIso, type IsoBuildProgress } from '../../iso/grub-rescue';
import { createIsoDir, type IsoDir } from '../../iso/iso-tree';
import { type IsoWizardPlan, planWizardIso, type WizardFile } from '../../iso/iso-wizard';
import type { MultibootVersion } from '../../iso/multiboot-check';
import { emitXlCfg } from '../../iso/xl-cfg-emit';
import { checkOutputPath, writeFileAtomic } from './atomic-write';
import { cacheDirFromEnv, cachingCoreCompressor } from './core-cache';
import { loadGrubDirectory } from './grub-dir';
import { graftHostPath, parseGraftArg, type ReadBudget } from './read-tree';

/** Where and how to write the matching xl.cfg. */
export interface XlCfgRequest {
  /** Output path of the xl.cfg. */
  path: string;
  /** Domain name; default: the ISO's base name without ".iso". */
  name?: string;
  /** MiB; default 512. */
  memoryMb?: number;
  /** Default 1. */
  vcpus?: number;
  /** "pty" (default) or a log file path for the guest's serial line. */
  serialTarget?: string;
}

/** A wizard (or `domus mkiso`) build request. Paths are host paths. */
export interface IsoWizardRequest {
  /** The multiboot loader or kernel. */
  kernel: string;
  kernelArgs?: string;
  modules?: { path: string; args?: string }[];
  /** Menu entry title; default: the kernel's base name. */
  title?: string;
  /** Default 0. */
  timeoutSeconds?: number;
  /** Default: serial COM1 at 115200. */
  console?: IsoConsole;
  /** Force multiboot v1 or v2. */
  protocol?: MultibootVersion;
  /** An edited grub.cfg replacing the generated one. */
  grubCfg?: string;
  /** Output ISO path. */
  output: string;
  /** GRUB i386-pc directory; default: $DOMUS_GRUB_DIR, then the bundled one. */
  grubDir?: string;
  /** Recording time (ms since the epoch); default $SOURCE_DATE_EPOCH, then now. */
  timeMs?: number;
  volumeId?: string;
  xlCfg?: XlCfgRequest;
}

/** What the wizard shows before building. */
export type IsoWizardPreview = Omit<IsoWizardPlan, 'tree'>;

/** What a build produced. */
export interface IsoBuildReport {
  output: string;
  bytes: number;
  sectors: number;
  elapsedMs: number;
  /** The grub.cfg on the image (wizard builds). */
  grubCfg?: string;
  /** Non-fatal remarks (edited grub.cfg, another GRUB build...). */
  warnings: string[];
  grubVersion: string;
  /** Modules embedded in eltorito.img, in order. */
  coreModules: string[];
  xlCfg?: { path: string; text: string };
}

/** Default console: COM1 at 115200 baud, as in the spec's reference grub.cfg. */
export const DEFAULT_CONSOLE: IsoConsole = { kind: 'serial', port: 1, speed: 115200 };
/** Default guest memory of the emitted xl.cfg, in MiB. */
export const DEFAULT_XL_MEMORY_MB = 512;

/** The recording time: explicit, else $SOURCE_DATE_EPOCH (seconds), else now. */
export function resolveBuildTime(env: Record<string, string | undefined>, explicit?: number): number {
  if (explicit !== undefined) return explicit;
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new IsoError('iso.bad-time', `SOURCE_DATE_EPOCH must be a whole number of seconds; it is "${sde}".`, 'SOURCE_DATE_EPOCH');
    return Number(sde) * 1000;
  }
  return Date.now();
}

async function readInput(p: string, what: string): Promise<WizardFile> {
  try {
    const st = await fsp.stat(p);
    if (!st.isFile()) throw new IsoError('iso.input', `The ${what} ${p} is not a regular file.`, p);
    return { name: path.basename(p), data: new Uint8Array(await fsp.readFile(p)) };
  } catch (err) {
    if (err instanceof IsoError) throw err;
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new IsoError(what === 'loader' ? 'iso.no-loader' : 'iso.input', `Cannot read the ${what} ${p}: ${why}.`, p);
  }
}

async function planRequest(req: IsoWizardRequest): Promise<IsoWizardPlan> {
  const kernel = await readInput(req.kernel, 'loader');
  const modules = [];
  for (const m of req.modules ?? []) modules.push({ file: await readInput(m.path, 'module'), args: m.args ?? '' });
  return planWizardIso(
    {
      kernel,
      kernelArgs: req.kernelArgs ?? '',
      modules,
      title: req.title ?? kernel.name,
      timeoutSeconds: req.timeoutSeconds ?? 0,
      console: req.console ?? DEFAULT_CONSOLE,
      protocol: req.protocol,
    },
    req.grubCfg,
  );
}

/** The grub.cfg (and file placement) a request would produce, without building. */
export async function previewIsoWizard(req: IsoWizardRequest): Promise<IsoWizardPreview> {
  const { tree: _tree, ...preview } = await planRequest(req);
  return preview;
}

/** The xl.cfg text for an ISO at `isoPath`. */
export function xlCfgForIso(isoPath: string, console: IsoConsole, x: Omit<XlCfgRequest, 'path'>): string {
  return emitXlCfg({
    name: x.name ?? path.basename(isoPath).replace(/\.iso$/i, ''),
    isoPath: path.resolve(isoPath),
    memoryMb: x.memoryMb ?? DEFAULT_XL_MEMORY_MB,
    vcpus: x.vcpus ?? 1,
    console,
    serialTarget: x.serialTarget,
  });
}

interface BuildCommon {
  output: string;
  grubDir?: string;
  env: Record<string, string | undefined>;
  timeMs?: number;
  volumeId?: string;
  extraCoreModules?: readonly string[];
  installModules?: readonly string[];
  hybrid?: boolean;
  onProgress?: (p: IsoBuildProgress) => void;
}

/** Builds an ISO from a user tree and writes it; the shared tail of both commands and the wizard. */
async function buildAndWrite(user: IsoDir, c: BuildCommon, warnings: string[]): Promise<IsoBuildReport> {
  const started = performance.now();
  const grub = await loadGrubDirectory(c.grubDir, c.env);
  const result = buildRescueIso({
    grub: grub.files,
    user,
    timeMs: resolveBuildTime(c.env, c.timeMs),
    volumeId: c.volumeId,
    extraCoreModules: c.extraCoreModules,
    installModules: c.installModules,
    hybrid: c.hybrid,
    compressCore: cachingCoreCompressor(cacheDirFromEnv(c.env)),
    onProgress: c.onProgress,
  });
  await writeFileAtomic(c.output, result.image, 'the ISO image');
  return {
    output: path.resolve(c.output),
    bytes: result.image.length,
    sectors: result.layout.totalSectors,
    elapsedMs: performance.now() - started,
    warnings: [...warnings, ...grub.notes],
    grubVersion: grub.version,
    coreModules: result.core.modules,
  };
}

/** Builds the wizard's ISO (and xl.cfg when asked) and writes them atomically. */
export async function buildIsoFromWizard(
  req: IsoWizardRequest,
  onProgress?: (p: IsoBuildProgress) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<IsoBuildReport> {
  const started = performance.now();
  await checkOutputPath(req.output, 'the ISO image');
  if (req.xlCfg) await checkOutputPath(req.xlCfg.path, 'the xl.cfg');
  const plan = await planRequest(req);
  const xlText = req.xlCfg ? xlCfgForIso(req.output, req.console ?? DEFAULT_CONSOLE, req.xlCfg) : undefined;
  const report = await buildAndWrite(plan.tree, { ...req, env, onProgress }, plan.warnings);
  if (req.xlCfg && xlText !== undefined) {
    await writeFileAtomic(req.xlCfg.path, new TextEncoder().encode(xlText), 'the xl.cfg');
    report.xlCfg = { path: path.resolve(req.xlCfg.path), text: xlText };
  }
  report.grubCfg = plan.grubCfg;
  report.elapsedMs = performance.now() - started;
  return report;
}

/** A grub-mkrescue run: sources are host directories/files or "ISO_PATH=HOST_PATH" graft points. */
export interface RescueRequest extends BuildCommon {
  sources: readonly string[];
}

/** Builds a grub-mkrescue-style ISO from host sources and writes it atomically. */
export async function buildRescueToFile(req: RescueRequest): Promise<IsoBuildReport> {
  const started = performance.now();
  await checkOutputPath(req.output, 'the ISO image');
  const user = createIsoDir();
  const budget: ReadBudget = { bytes: 0 };
  for (const s of req.sources) {
    const g = parseGraftArg(s);
    await graftHostPath(user, g.isoPath, g.hostPath, budget);
  }
  const report = await buildAndWrite(user, req, []);
  report.elapsedMs = performance.now() - started;
  return report;
}
