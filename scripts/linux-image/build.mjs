#!/usr/bin/env node
// The Linux test image recipe (docs/linux-guests.md): Debian bookworm's 32-bit kernels
// (linux-image-686 and linux-image-686-pae, i386) and an initramfs built from busybox-static:i386,
// fetched with `apt-get download` into a cache directory, unpacked there (not installed), never
// committed.
//
//   node scripts/linux-image/build.mjs [--json] [--refresh | --offline] [--cache DIR]
//
// Cache: --cache DIR, else $DOMUS_CACHE_DIR/linux-image, else ~/.cache/domus/linux-image.
// Idempotent: once the cache's manifest.json names packages whose files are there, they are used
// as they are, without asking apt (each apt-cache run parses every package list: seconds); so
// every run after the first boots the very same kernels. --refresh asks apt again and fetches a
// newer kernel if the archive has one. The initramfs is rebuilt every time (it takes milliseconds)
// and rewritten only when its bytes change. The initramfs is deterministic:
// fixed owners (0:0), a fixed mtime (0) and a fixed entry order in the cpio, gzip with no name and
// no time stamp. Which kernel: the ABI package that linux-image-686[-pae]:i386 depends on today
// (e.g. linux-image-6.1.0-50-686), or the one named by $DOMUS_LINUX_ABI (e.g. 6.1.0-50) to pin it.
// When apt cannot resolve or download packages (no i386 architecture, no network) during a refresh,
// the cached manifest is used if its files are there; --offline never asks apt.
//
// apt needs the i386 architecture: as root the script runs `dpkg --add-architecture i386` and
// `apt-get update` itself (and says so on stderr); otherwise it stops and asks for them.
//
// Output: the paths, as KEY=VALUE lines or, with --json, one JSON object (see `summary` below).
// Exit status: 0 ready; 2 the packages cannot be had (the reason is on stderr); 1 anything else.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, buildCpio } from './cpio.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const MARKERS = JSON.parse(readFileSync(path.join(HERE, 'markers.json'), 'utf8'));
/** The two kernel flavours the tests boot, by metapackage. */
const FLAVOURS = { '686': 'linux-image-686', '686-pae': 'linux-image-686-pae' };
/** The ABI packages the metapackages may depend on (Debian 12's Linux 6.1). */
const ABI_PACKAGE = /^linux-image-(6\.1\.\d+-\d+)-(686|686-pae)$/;
const BUSYBOX = 'busybox-static';
const ARCH = 'i386';
/** Every cpio entry's mtime: fixed, so the archive does not depend on when it was built. */
const CPIO_MTIME = 0;
/** The busybox applets /init uses, linked to /bin/busybox. */
const APPLETS = ['sh', 'mount', 'cat', 'echo', 'dd', 'md5sum', 'nproc', 'poweroff', 'reboot', 'sleep', 'taskset'];
/** /dev/console: character device 5:1 (Documentation/admin-guide/devices.txt), for init's stdio. */
const CONSOLE_MAJOR = 5;
const CONSOLE_MINOR = 1;

class CannotDownload extends Error {}

const args = process.argv.slice(2);
const wantJson = args.includes('--json');
const offline = args.includes('--offline');
const refresh = args.includes('--refresh');
const cacheArg = args.indexOf('--cache');
const cacheDir = path.resolve(
  cacheArg >= 0 ? args[cacheArg + 1] : process.env.DOMUS_CACHE_DIR ? path.join(process.env.DOMUS_CACHE_DIR, 'linux-image') : path.join(homedir(), '.cache', 'domus', 'linux-image'),
);
const manifestPath = path.join(cacheDir, 'manifest.json');
const note = (text) => process.stderr.write(`linux-image: ${text}\n`);

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.error) return { ok: false, out: '', err: `${cmd}: ${r.error.message}` };
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() };
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Makes sure apt knows i386 packages (as root: adds the architecture and updates the lists). */
function ensureI386() {
  if (!run('apt-cache', ['--version']).ok) throw new CannotDownload('apt-cache is not installed (this recipe needs Debian or a derivative with apt)');
  const foreign = run('dpkg', ['--print-foreign-architectures']).out.split(/\s+/);
  if (foreign.includes(ARCH) || run('dpkg', ['--print-architecture']).out.trim() === ARCH) return false;
  if (!isRoot()) throw new CannotDownload(`apt does not know ${ARCH} packages; as root run: dpkg --add-architecture ${ARCH} && apt-get update`);
  note(`adding the ${ARCH} architecture to dpkg and updating apt's lists (dpkg --add-architecture ${ARCH} && apt-get update)`);
  execFileSync('dpkg', ['--add-architecture', ARCH], { stdio: ['ignore', 'ignore', 'inherit'] });
  aptUpdate();
  return true;
}

function aptUpdate() {
  // A failed list (a mirror mid-sync) is reported but need not be fatal: the main lists may be fine.
  const r = run('apt-get', ['update', '-qq']);
  if (!r.ok) note(`apt-get update reported a problem: ${r.err.split('\n').slice(-2).join(' / ')}`);
}

/** Candidate versions of the given i386 packages (one apt-cache run: each run parses every list). */
function candidates(pkgs) {
  const r = run('apt-cache', ['policy', ...pkgs.map((p) => `${p}:${ARCH}`)]);
  const found = new Map();
  let current;
  for (const line of r.out.split('\n')) {
    const head = /^(\S+?)(?::i386)?:$/.exec(line);
    if (head) current = head[1];
    const c = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (c && current && c[1] !== '(none)') found.set(current, c[1]);
  }
  return found;
}

/** The ABI package of each flavour, e.g. 686 -> linux-image-6.1.0-50-686 (or as pinned by $DOMUS_LINUX_ABI). */
function resolveKernels() {
  const pinned = process.env.DOMUS_LINUX_ABI;
  const names = {};
  const deps = pinned ? '' : run('apt-cache', ['depends', '--important', ...Object.values(FLAVOURS).map((p) => `${p}:${ARCH}`)]).out;
  for (const [flavour, meta] of Object.entries(FLAVOURS)) {
    let name = pinned ? `linux-image-${pinned}-${flavour}` : undefined;
    if (!name) {
      const block = deps.split(/^(?=\S)/m).find((b) => b.startsWith(`${meta}:`) || b.startsWith(`${meta}\n`));
      name = block && /Depends:\s*(linux-image-[^\s:]+)/.exec(block)?.[1];
    }
    if (!name) throw new CannotDownload(`apt cannot resolve ${meta}:${ARCH} (no package list for ${ARCH}? run apt-get update)`);
    if (!ABI_PACKAGE.test(name)) throw new CannotDownload(`${meta}:${ARCH} depends on ${name}, not a Linux 6.1 ${flavour} image; set DOMUS_LINUX_ABI (e.g. 6.1.0-50) to pick one`);
    names[flavour] = name;
  }
  return names;
}

/** Downloads name=version (i386) into the cache unless it is there; returns the .deb path. */
function download(name, version) {
  const dir = path.join(cacheDir, 'debs', `${name}_${version.replace(/:/g, '%3a')}`);
  const have = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.deb')) : undefined;
  if (have) return path.join(dir, have);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  note(`downloading ${name}:${ARCH} ${version}`);
  const sandbox = isRoot() ? ['-o', 'APT::Sandbox::User=root'] : [];
  const r = run('apt-get', ['download', '-q', ...sandbox, `${name}:${ARCH}=${version}`], { cwd: tmp });
  const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
  if (!r.ok || !deb) {
    rmSync(tmp, { recursive: true, force: true });
    throw new CannotDownload(`apt-get download ${name}:${ARCH}=${version} failed: ${r.err.split('\n').slice(-3).join(' / ') || 'no .deb was written'}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return path.join(dir, deb);
}

/** Unpacks `members` of a .deb (all when empty) into dir unless dir exists; atomic by rename. */
function unpack(deb, dir, members) {
  if (existsSync(dir)) return;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  if (members.length === 0) {
    execFileSync('dpkg-deb', ['-x', deb, tmp]);
  } else {
    // Only what is needed: a kernel package's modules take ~250 MB we never use.
    const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', tmp, ...members], { input: tar, maxBuffer: 1 << 30 });
  }
  mkdirSync(path.dirname(dir), { recursive: true });
  renameSync(tmp, dir);
}

/** The initramfs: /init, busybox and its links, the mount points, /dev/console. */
function buildInitramfs(busybox) {
  let init = readFileSync(path.join(HERE, 'init.sh'), 'utf8');
  const words = {
    MARKER: MARKERS.marker, CPUS_PREFIX: MARKERS.cpusPrefix, RESULT_PREFIX: MARKERS.resultPrefix,
    REBOOT_PARAMETER: MARKERS.rebootParameter, REBOOT: MARKERS.reboot, POWEROFF: MARKERS.poweroff, FAILED: MARKERS.failed,
    HOTPLUG_PARAMETER: MARKERS.hotplugParameter, HOTPLUG_WAITING: MARKERS.hotplugWaiting, HOTPLUG_WORK_PREFIX: MARKERS.hotplugWorkPrefix,
  };
  init = init.replace(/@([A-Z_]+)@/g, (all, w) => {
    if (!(w in words)) throw new Error(`init.sh: unknown placeholder ${all}`);
    return words[w];
  });
  const dir = (name) => ({ name, mode: S_IFDIR | 0o755 });
  const entries = [
    dir('bin'), dir('dev'), dir('proc'), dir('sys'), dir('root'),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: CONSOLE_MAJOR, rdevMinor: CONSOLE_MINOR },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(busybox) },
    ...APPLETS.map((a) => ({ name: `bin/${a}`, mode: S_IFLNK | 0o777, data: Buffer.from('busybox') })),
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(init, 'utf8') },
  ];
  // zlib writes a gzip header with no file name, mtime 0 and OS = 3 (Unix): no build-time data.
  return gzipSync(buildCpio(entries, CPIO_MTIME), { level: 9 });
}

function writeIfChanged(file, bytes) {
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Resolves, downloads and unpacks everything; returns the manifest. */
function fetchAll() {
  const updatedNow = ensureI386();
  let kernelNames;
  try {
    kernelNames = resolveKernels();
  } catch (e) {
    if (updatedNow || !isRoot() || !(e instanceof CannotDownload)) throw e;
    note(`${e.message}; running apt-get update`);
    aptUpdate();
    kernelNames = resolveKernels();
  }
  const versions = candidates([BUSYBOX, ...Object.values(kernelNames)]);
  const version = (name) => {
    const v = versions.get(name);
    if (!v) throw new CannotDownload(`apt has no candidate for ${name}:${ARCH}`);
    return v;
  };
  const bbVersion = version(BUSYBOX);
  const bbDir = path.join(cacheDir, 'busybox', bbVersion.replace(/:/g, '%3a'));
  unpack(download(BUSYBOX, bbVersion), bbDir, []);
  const kernels = {};
  for (const [flavour, name] of Object.entries(kernelNames)) {
    const kVersion = version(name);
    const abi = ABI_PACKAGE.exec(name)[1];
    const kDir = path.join(cacheDir, 'kernels', `${name}_${kVersion}`);
    unpack(download(name, kVersion), kDir, ['./boot']);
    kernels[flavour] = { package: name, version: kVersion, vmlinuz: path.join(kDir, 'boot', `vmlinuz-${abi}-${flavour}`), config: path.join(kDir, 'boot', `config-${abi}-${flavour}`) };
  }
  return { resolvedAt: new Date().toISOString(), busybox: { package: BUSYBOX, version: bbVersion, path: path.join(bbDir, 'bin', 'busybox') }, kernels };
}

/** The cached manifest if every file it names is still there (and it matches $DOMUS_LINUX_ABI), else a reason. */
function readManifest() {
  if (!existsSync(manifestPath)) return { why: `the cache ${cacheDir} has no earlier download` };
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const files = [m.busybox.path, ...Object.values(m.kernels).map((k) => k.vmlinuz)];
  const missing = files.find((f) => !existsSync(f));
  if (missing) return { why: `${missing} from the cache's manifest is gone` };
  const pinned = process.env.DOMUS_LINUX_ABI;
  if (pinned && Object.values(m.kernels).some((k) => !k.package.includes(`-${pinned}-`))) return { why: `the cache holds other kernels than DOMUS_LINUX_ABI=${pinned}` };
  return { manifest: m };
}

function main() {
  mkdirSync(cacheDir, { recursive: true });
  const cached = readManifest();
  let m = refresh ? undefined : cached.manifest;
  if (!m && offline) throw new CannotDownload(`--offline: ${cached.why}`);
  if (!m) {
    try {
      m = fetchAll();
    } catch (e) {
      if (!(e instanceof CannotDownload) || !cached.manifest) throw e;
      note(`${e.message}; using the cached packages from ${manifestPath}`);
      m = cached.manifest;
    }
  }
  for (const k of Object.values(m.kernels)) if (!existsSync(k.vmlinuz)) throw new Error(`${k.package} was unpacked but has no ${k.vmlinuz}`);
  const initrd = buildInitramfs(m.busybox.path);
  const initrdPath = path.join(cacheDir, 'initrd.gz');
  writeIfChanged(initrdPath, initrd);
  const summary = {
    cacheDir,
    initrd: initrdPath,
    initrdSha256: sha256(initrd),
    busybox: m.busybox,
    kernels: Object.fromEntries(Object.entries(m.kernels).map(([f, k]) => [f, { ...k, sha256: sha256(readFileSync(k.vmlinuz)) }])),
    markers: MARKERS,
  };
  writeIfChanged(manifestPath, Buffer.from(`${JSON.stringify({ resolvedAt: m.resolvedAt, busybox: m.busybox, kernels: m.kernels }, null, 2)}\n`));
  if (wantJson) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    for (const [f, k] of Object.entries(summary.kernels)) process.stdout.write(`kernel-${f}=${k.vmlinuz}\n`);
    process.stdout.write(`initrd=${initrdPath}\n`);
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`linux-image: ${e instanceof CannotDownload ? 'cannot get the packages: ' : ''}${e.message}\n`);
  process.exit(e instanceof CannotDownload ? 2 : 1);
}
