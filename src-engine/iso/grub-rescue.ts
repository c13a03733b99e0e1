/**
 * grub-mkrescue for the i386-pc platform, in memory (spec/grub-iso-and-bios.md §2.1): builds
 * eltorito.img, puts GRUB's modules and lists under /boot/grub/i386-pc, grafts the user's tree
 * on the root and writes the bootable, hybrid ISO image. Bytes in, bytes out; the node layer
 * reads the inputs and writes the result.
 */
import { type CoreImage, buildEltoritoImage, rescueLoadCfg } from './grub-core-image';
import { type GrubFiles, grubFile, grubText, isRescueCopied } from './grub-files';
import { parseModDeps, resolveModules } from './grub-moddep';
import { type IsoLayout, writeIsoImage } from './iso-image';
import { addIsoFile, createIsoDir, ensureIsoDir, graftIsoTree, type IsoDir } from './iso-tree';

/** grub-mkrescue's prefix: where GRUB finds its modules and grub.cfg on the image. */
export const GRUB_PREFIX = '/boot/grub';
/** Where grub-mkrescue puts the El Torito boot image. */
export const ELTORITO_PATH = '/boot/grub/i386-pc/eltorito.img';
/** Modules grub-mkrescue embeds in the i386-pc core image (after any --modules). */
export const RESCUE_CORE_MODULES = ['biosdisk', 'iso9660'] as const;

/** One step of an ISO build, for progress bars and task lists. */
export interface IsoBuildProgress {
  phase: 'core-image' | 'tree' | 'write' | 'done';
  /** Overall completion, 0 to 1. */
  fraction: number;
  message: string;
}

/** Inputs of buildRescueIso. */
export interface RescueIsoOptions {
  /** GRUB's i386-pc files. */
  grub: GrubFiles;
  /** The user's files, grafted on the ISO root (they replace GRUB's files of the same path). */
  user: IsoDir;
  /** Recording time (ms since the Unix epoch): same inputs and time give the same image. */
  timeMs: number;
  volumeId?: string;
  /** Extra modules to embed in the core image (grub-mkrescue --modules). */
  extraCoreModules?: readonly string[];
  /**
   * Copy only these modules and their dependencies (grub-mkrescue --install-modules), plus the
   * partition maps the embedded config loads; default all.
   */
  installModules?: readonly string[];
  /** Extra files under /boot/grub (e.g. "fonts/unicode.pf2", "locale/de.mo"). */
  grubExtras?: ReadonlyMap<string, Uint8Array>;
  /** Compressor for the core image payload (see CoreImageOptions.compress). */
  compressCore?: (payload: Uint8Array) => Uint8Array;
  /** Write the hybrid MBR (boot as a disk or USB stick too). Default true. */
  hybrid?: boolean;
  onProgress?: (p: IsoBuildProgress) => void;
}

/** The image and what went into it. */
export interface RescueIsoResult {
  image: Uint8Array;
  layout: IsoLayout;
  core: CoreImage;
}

/** Share of the overall progress spent before the image copy starts. */
const WRITE_START = 0.4;
/** Report file-copy progress in steps of at least this share of the bytes (keeps event counts small). */
const PROGRESS_STEP = 0.05;

/** The tree grub-mkrescue makes before grafting the user's files. */
function grubTree(opts: RescueIsoOptions, eltorito: Uint8Array): IsoDir {
  const root = createIsoDir();
  const platformDir = `${GRUB_PREFIX}/i386-pc`;
  let wanted: Set<string> | undefined;
  if (opts.installModules !== undefined) {
    const deps = parseModDeps(new TextDecoder().decode(grubFile(opts.grub, 'moddep.lst')));
    // The embedded config insmods every partition map, so those stay too.
    const partmaps = (grubText(opts.grub, 'partmap.lst') ?? '').split(/\s+/).filter((m) => m !== '');
    wanted = new Set(resolveModules(deps, [...opts.installModules, ...partmaps]).map((m) => `${m}.mod`));
  }
  for (const name of [...opts.grub.keys()].sort()) {
    if (!isRescueCopied(name)) continue;
    if (wanted && name.endsWith('.mod') && !wanted.has(name)) continue;
    addIsoFile(root, `${platformDir}/${name}`, opts.grub.get(name)!);
  }
  if (wanted) for (const m of wanted) grubFile(opts.grub, m); // name a missing module
  addIsoFile(root, ELTORITO_PATH, eltorito);
  ensureIsoDir(root, `${GRUB_PREFIX}/roms`);
  for (const [rel, data] of opts.grubExtras ?? []) addIsoFile(root, `${GRUB_PREFIX}/${rel}`, data);
  return root;
}

/** Builds the rescue ISO image. */
export function buildRescueIso(opts: RescueIsoOptions): RescueIsoResult {
  const report = (phase: IsoBuildProgress['phase'], fraction: number, message: string) => opts.onProgress?.({ phase, fraction, message });
  report('core-image', 0, 'Assembling the GRUB core image (eltorito.img)');
  const core = buildEltoritoImage(opts.grub, {
    modules: [...(opts.extraCoreModules ?? []), ...RESCUE_CORE_MODULES],
    prefix: GRUB_PREFIX,
    config: rescueLoadCfg(opts.grub),
    compress: opts.compressCore,
  });
  report('tree', 0.3, `Core image: ${core.eltorito.length} bytes, modules ${core.modules.join(' ')}`);
  const root = grubTree(opts, core.eltorito);
  graftIsoTree(root, opts.user);
  report('write', WRITE_START, 'Writing the ISO 9660 image');
  let lastReported = 0;
  const { image, layout } = writeIsoImage(root, {
    timeMs: opts.timeMs,
    volumeId: opts.volumeId,
    firstPaths: ['/boot'],
    boot: {
      imagePath: ELTORITO_PATH,
      grub2BootInfo: true,
      hybridMbr: opts.hybrid === false ? undefined : grubFile(opts.grub, 'boot_hybrid.img'),
    },
    onProgress: (done, total) => {
      if (total === 0 || (done < total && done - lastReported < total * PROGRESS_STEP)) return;
      lastReported = done;
      report('write', WRITE_START + (1 - WRITE_START) * (done / total), `Writing files: ${done} of ${total} bytes`);
    },
  });
  report('done', 1, `ISO image: ${layout.totalSectors} sectors (${image.length} bytes)`);
  return { image, layout, core };
}
