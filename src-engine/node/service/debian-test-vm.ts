/**
 * The "Debian test VM": a library config that boots the Linux test image (docs/linux-guests.md,
 * made by `node scripts/linux-image/build.mjs`: Debian's linux-image-686-pae kernel and a
 * busybox-static initramfs whose /init prints a marker, runs a small workload and powers off)
 * directly, as xl's kernel=/ramdisk=/cmdline= with type = "hvm". The GUI offers it with one click
 * once the recipe has run; without the image the request is refused with the command to run.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DomusError } from '../../base/errors';

/** The config's name in the library. */
export const DEBIAN_TEST_VM_NAME = 'debian-test';
/** The image's kernel flavour the VM boots (PAE, as Xen PVH and most 32-bit installs use). */
const FLAVOUR = '686-pae';
/**
 * The kernel command line the image's tests use (scripts/linux-image/markers.json baseCmdline;
 * a unit test keeps the two equal): the console on COM1, reboot at once on a panic, and no crypto
 * self-tests (they take most of a boot on an emulated CPU).
 */
export const DEBIAN_TEST_CMDLINE = 'console=ttyS0 panic=-1 cryptomgr.notests';
/** Guest RAM in MiB: what the slow test boots it with. */
const MEMORY_MIB = 256;
/** Two VCPUs: the image reports the CPUs it found online. */
const VCPUS = 2;

/**
 * Where build.mjs keeps the image, as it decides: $DOMUS_CACHE_DIR/linux-image, else
 * ~/.cache/domus/linux-image.
 */
export function linuxImageDir(env: Record<string, string | undefined>): string {
  if (env.DOMUS_CACHE_DIR) return path.join(env.DOMUS_CACHE_DIR, 'linux-image');
  return path.join(env.HOME ?? os.homedir(), '.cache', 'domus', 'linux-image');
}

interface ImageManifest {
  kernels?: Record<string, { vmlinuz?: string; package?: string; version?: string } | undefined>;
}

/**
 * The xl.cfg text of the Debian test VM, from the image the recipe built. Refused, naming the
 * command to run, when there is no image (or its files are gone).
 */
export function debianTestVmConfig(env: Record<string, string | undefined>): string {
  const dir = linuxImageDir(env);
  const manifestFile = path.join(dir, 'manifest.json');
  let manifest: ImageManifest | undefined;
  try {
    manifest = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as ImageManifest) : undefined;
  } catch {
    manifest = undefined;
  }
  const kernel = manifest?.kernels?.[FLAVOUR];
  const initrd = path.join(dir, 'initrd.gz');
  if (kernel?.vmlinuz !== undefined && existsSync(kernel.vmlinuz) && existsSync(initrd)) {
    return [
      `# The Debian test VM: Debian's ${kernel.package ?? 'linux-image-686-pae'} ${kernel.version ?? ''} with the Domus test`,
      '# initramfs (docs/linux-guests.md). /init prints a marker, the CPUs online and the md5sum of',
      '# 16 MiB of zeros, then powers off. Rebuild the image with: node scripts/linux-image/build.mjs',
      '',
      `name = "${DEBIAN_TEST_VM_NAME}"`,
      'type = "hvm"',
      `kernel = "${kernel.vmlinuz}"`,
      `ramdisk = "${initrd}"`,
      `cmdline = "${DEBIAN_TEST_CMDLINE}"`,
      `memory = ${MEMORY_MIB}`,
      `vcpus = ${VCPUS}`,
      "serial = [ 'pty' ]",
      'on_poweroff = "destroy"',
      'on_reboot = "restart"',
      '',
    ].join('\n');
  }
  throw new DomusError(
    'library.no-linux-image',
    `The Debian test image has not been built (looked in ${dir}). Run \`node scripts/linux-image/build.mjs\` in the Domus checkout: it fetches Debian's 686-pae kernel and busybox-static with apt and builds the initramfs; then try again.`,
    'linux-image',
  );
}
