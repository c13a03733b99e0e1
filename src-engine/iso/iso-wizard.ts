/**
 * The ISO wizard's model (and `domus mkiso`'s): a multiboot loader or kernel, modules with their
 * argument strings, a command line, a menu title, a timeout and a console become a file tree
 * (/boot/<kernel>, /boot/<module>..., /boot/grub/grub.cfg) for buildRescueIso. The generated
 * grub.cfg is returned for preview; an edited text may replace it.
 */
import { IsoError } from '../base/errors';
import { generateGrubCfg, type IsoConsole } from './grub-cfg';
import { addIsoFile, createIsoDir, type IsoDir, MAX_NAME_BYTES } from './iso-tree';
import { utf8Bytes } from './bytes';
import { detectMultiboot, findMultibootHeader, MULTIBOOT1_SEARCH, MULTIBOOT2_SEARCH, type MultibootVersion } from './multiboot-check';

/** A file chosen by the user: its base name on the host and its bytes. */
export interface WizardFile {
  name: string;
  data: Uint8Array;
}

/** What the user chose. */
export interface IsoWizardSpec {
  /** The multiboot loader or kernel (e.g. ldhermit.elf). */
  kernel: WizardFile;
  /** Its command line (e.g. "-uart=io:0x3f8"). */
  kernelArgs: string;
  /** Multiboot modules in order, each with its argument string. */
  modules: readonly { file: WizardFile; args: string }[];
  title: string;
  timeoutSeconds: number;
  console: IsoConsole;
  /** Force multiboot v1 or v2; default: v1 when the kernel has a v1 header, else v2. */
  protocol?: MultibootVersion;
}

/** The planned ISO contents. */
export interface IsoWizardPlan {
  /** The grub.cfg that will be written (generated, or the edited text given). */
  grubCfg: string;
  /** The generated grub.cfg (for "reset to generated" in an editor). */
  generatedGrubCfg: string;
  protocol: MultibootVersion;
  kernelPath: string;
  modulePaths: string[];
  /** The user tree for buildRescueIso. */
  tree: IsoDir;
  /** Things worth telling the user that do not stop the build. */
  warnings: string[];
}

/** Where the wizard puts the kernel and modules on the ISO. */
export const WIZARD_BOOT_DIR = '/boot';
/** Names under /boot that belong to GRUB. */
const RESERVED = new Set(['grub']);

/**
 * Checks the loader as `grub-file --is-x86-multiboot` (or `--is-x86-multiboot2`) would and returns
 * the protocol to boot it with; throws an IsoError naming the file otherwise.
 */
export function checkMultibootKernel(file: WizardFile, protocol?: MultibootVersion): MultibootVersion {
  if (protocol !== undefined) {
    if (findMultibootHeader(file.data, protocol)) return protocol;
    const search = protocol === 1 ? MULTIBOOT1_SEARCH : MULTIBOOT2_SEARCH;
    throw new IsoError(
      'iso.not-multiboot',
      `${file.name} is not a multiboot${protocol === 2 ? '2' : ''} kernel: no valid multiboot${protocol === 2 ? '2' : ''} header (magic and checksum) in its first ${search} bytes.`,
      file.name,
    );
  }
  const found = detectMultiboot(file.data);
  if (found === undefined) {
    throw new IsoError(
      'iso.not-multiboot',
      `${file.name} is not a multiboot kernel: no multiboot header (magic 0x1BADB002 with a valid checksum in the first ${MULTIBOOT1_SEARCH} bytes) and no multiboot2 header (in the first ${MULTIBOOT2_SEARCH}). GRUB's multiboot command would refuse it; choose the loader (e.g. ldhermit.elf), not the application.`,
      file.name,
    );
  }
  return found;
}

/** A name GRUB can read back, derived from a host file name (unsafe characters become "_"). */
export function isoSafeName(hostName: string): string {
  // eslint-disable-next-line no-control-regex
  let name = hostName.replace(/[/\\;\u0000-\u001f\u007f]/g, '_').replace(/\.+$/, (dots) => '_'.repeat(dots.length));
  if (name === '' || name === '_') name = 'file';
  while (utf8Bytes(name).length > MAX_NAME_BYTES) name = name.slice(0, -1);
  return name;
}

/** Picks distinct /boot names: "app", then "app-2", "app-3"... (names compared without case, as GRUB does). */
function uniqueName(wanted: string, used: Set<string>): string {
  let name = wanted;
  for (let n = 2; used.has(name.toLowerCase()) || RESERVED.has(name.toLowerCase()); n++) {
    const dot = wanted.lastIndexOf('.');
    name = dot > 0 ? `${wanted.slice(0, dot)}-${n}${wanted.slice(dot)}` : `${wanted}-${n}`;
  }
  used.add(name.toLowerCase());
  return name;
}

/** Plans the ISO: checks the kernel, names the files, writes (or takes) grub.cfg. */
export function planWizardIso(spec: IsoWizardSpec, editedGrubCfg?: string): IsoWizardPlan {
  const protocol = checkMultibootKernel(spec.kernel, spec.protocol);
  const used = new Set<string>();
  const kernelPath = `${WIZARD_BOOT_DIR}/${uniqueName(isoSafeName(spec.kernel.name), used)}`;
  const modulePaths = spec.modules.map((m) => `${WIZARD_BOOT_DIR}/${uniqueName(isoSafeName(m.file.name), used)}`);
  const generatedGrubCfg = generateGrubCfg({
    title: spec.title,
    timeoutSeconds: spec.timeoutSeconds,
    console: spec.console,
    protocol,
    kernel: { path: kernelPath, args: spec.kernelArgs },
    modules: spec.modules.map((m, i) => ({ path: modulePaths[i], args: m.args })),
  });
  const warnings: string[] = [];
  spec.modules.forEach((m) => {
    if (m.file.data.length === 0) warnings.push(`Module ${m.file.name} is empty.`);
    if (detectMultiboot(m.file.data) !== undefined) {
      warnings.push(`Module ${m.file.name} has a multiboot header itself; check that the loader and the application are not swapped.`);
    }
  });
  let grubCfg = generatedGrubCfg;
  if (editedGrubCfg !== undefined) {
    if (editedGrubCfg.includes('\0')) throw new IsoError('iso.bad-grub-cfg', 'The edited grub.cfg contains a NUL character.');
    grubCfg = editedGrubCfg;
    for (const p of [kernelPath, ...modulePaths]) {
      if (!grubCfg.includes(p)) warnings.push(`The edited grub.cfg does not mention ${p}, which is on the ISO.`);
    }
  }
  const tree = createIsoDir();
  addIsoFile(tree, kernelPath, spec.kernel.data);
  spec.modules.forEach((m, i) => addIsoFile(tree, modulePaths[i], m.file.data));
  addIsoFile(tree, '/boot/grub/grub.cfg', utf8Bytes(grubCfg));
  return { grubCfg, generatedGrubCfg, protocol, kernelPath, modulePaths, tree, warnings };
}
