/**
 * Boots the Linux test image (build.mjs) the way a user would, for test/slow/linux-boot.test.ts
 * and test/bench/linux-boot.bench.ts: `domus run` (bin/domus, the built CLI) and, as the
 * reference, qemu-system-i386 (TCG) on the same files. Times process start -> the marker line,
 * collects the serial output and judges it against the checks of the issue: kernel messages on
 * ttyS0, the CPUs online, the marker, the workload's result, a clean power-off or a reboot.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import markers from './markers.json';

/** The fixed lines /init prints (markers.json). */
export const MARKERS = markers;
/** The two kernel flavours. */
export type Flavour = '686' | '686-pae';
export const FLAVOURS: readonly Flavour[] = ['686', '686-pae'];

/** What build.mjs --json prints. */
export interface LinuxImage {
  readonly cacheDir: string;
  readonly initrd: string;
  readonly kernels: Record<Flavour, { readonly package: string; readonly version: string; readonly vmlinuz: string }>;
}

// Two levels below the checkout both here (scripts/linux-image) and bundled (dist/bench/*.js).
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const RECIPE = path.join(ROOT, 'scripts/linux-image/build.mjs');
const DOMUS = path.join(ROOT, 'bin/domus');
/** build.mjs's exit status when the packages cannot be had. */
const RECIPE_CANNOT_DOWNLOAD = 2;

/** Runs the recipe: the image, or why not (`skip` true when apt cannot download, a reason to skip). */
export function prepareImage(): { image: LinuxImage } | { reason: string; skip: boolean } {
  const r = spawnSync(process.execPath, [RECIPE, '--json'], { encoding: 'utf8', timeout: 900_000 });
  if (r.status === 0) return { image: JSON.parse(r.stdout) as LinuxImage };
  const why = (r.stderr || r.error?.message || `exit status ${r.status}`).trim();
  return { reason: `the Linux test image recipe failed: ${why}`, skip: r.status === RECIPE_CANNOT_DOWNLOAD };
}

/** True if `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Which `domus run` options exist in the built CLI (read from its usage text). */
export function domusRunOptions(): { initrd: boolean; cdrom: boolean; usage: string } {
  const r = spawnSync(process.execPath, [DOMUS, 'run', '--help'], { encoding: 'utf8' });
  const usage = `${r.stdout}${r.stderr}`;
  return { initrd: /--initrd\b/.test(usage), cdrom: /--cdrom\b/.test(usage), usage };
}

/** How one boot went. */
export interface BootResult {
  readonly who: 'domus' | 'qemu';
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Serial output (stdout), CR removed. */
  readonly serial: string;
  readonly stderr: string;
  /** Process start to the marker line, ms (undefined if it never came). */
  readonly markerMs: number | undefined;
  readonly wallMs: number;
  /** Killed by our own time limit (the tools' own --timeout is reported by their exit status). */
  readonly killed: boolean;
  /** Killed by us after the marker's second appearance: the machine rebooted and booted again. */
  readonly bootedTwice: boolean;
}

/** One boot configuration. */
export interface BootConfig {
  readonly kernel?: string;
  readonly initrd?: string;
  readonly cdrom?: string;
  readonly append?: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Seconds; our own kill comes 30 s later. */
  readonly timeoutS: number;
}

/** The kernel command line for the image: power off, or reboot. */
export function imageCmdline(action: 'poweroff' | 'reboot'): string {
  return action === 'reboot' ? `${MARKERS.baseCmdline} ${MARKERS.rebootParameter}` : MARKERS.baseCmdline;
}

/** `domus run` with the boot configuration (the final interface: --initrd, --cdrom). */
export function domusArgs(c: BootConfig): string[] {
  const media = c.cdrom !== undefined ? ['--cdrom', c.cdrom] : ['--kernel', c.kernel ?? '', '--initrd', c.initrd ?? '', '--append', c.append ?? ''];
  return [DOMUS, 'run', ...media, '--vcpus', String(c.vcpus), '--memory', String(c.memoryMiB), '--timeout', String(c.timeoutS)];
}

/** qemu-system-i386 with the same configuration (TCG, serial on stdio, exit on reset). */
export function qemuArgs(c: BootConfig): string[] {
  const media = c.cdrom !== undefined ? ['-cdrom', c.cdrom, '-boot', 'd'] : ['-kernel', c.kernel ?? '', '-initrd', c.initrd ?? '', '-append', c.append ?? ''];
  return [...media, '-nographic', '-monitor', 'none', '-m', String(c.memoryMiB), '-smp', String(c.vcpus), '-no-reboot'];
}

/** Boots with domus or QEMU, timing process start -> marker; never hangs past timeoutS + 30 s. */
export function boot(who: 'domus' | 'qemu', c: BootConfig): Promise<BootResult> {
  const [cmd, args] = who === 'domus' ? [process.execPath, domusArgs(c)] : ['qemu-system-i386', qemuArgs(c)];
  const env = { ...process.env };
  // A machine-wide CA bundle setting costs ~90 ms of Node start-up and has nothing to do with us.
  delete env.NODE_EXTRA_CA_CERTS;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let stderr = '';
    let markerMs: number | undefined;
    let killed = false;
    let bootedTwice = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, (c.timeoutS + 30) * 1000);
    child.stdout.on('data', (d: Buffer) => {
      serial += d.toString('latin1').replace(/\r/g, '');
      const first = serial.indexOf(MARKERS.marker);
      if (markerMs === undefined && first >= 0) markerMs = performance.now() - t0;
      if (first >= 0 && serial.indexOf(MARKERS.marker, first + 1) >= 0 && !bootedTwice) {
        bootedTwice = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const done = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ who, command: [who === 'domus' ? 'domus' : cmd, ...args.slice(who === 'domus' ? 1 : 0)].join(' '), exitCode, signal, serial, stderr, markerMs, wallMs: performance.now() - t0, killed, bootedTwice });
    };
    child.on('error', (e) => {
      stderr += String(e);
      done(null, null);
    });
    child.on('exit', done);
  });
}

/** What a boot must show (the issue's checks). */
export interface Expectation {
  readonly vcpus: number;
  readonly action: 'poweroff' | 'reboot';
}

/** The checks a boot failed, each a sentence; empty when it passed. */
export function judgeBoot(r: BootResult, e: Expectation): string[] {
  const s = r.serial;
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  need(/Linux version 6\.1\.0-/.test(s), 'no kernel messages on ttyS0 ("Linux version 6.1.0-...")');
  need(/Kernel command line: .*console=ttyS0/.test(s), 'the kernel did not print its command line');
  need(s.includes(`smp: Brought up 1 node, ${e.vcpus} CPU${e.vcpus > 1 ? 's' : ''}`), `the kernel did not bring up ${e.vcpus} CPU(s) ("smp: Brought up 1 node, ${e.vcpus} CPU...")`);
  need(s.includes(MARKERS.marker), `no marker line "${MARKERS.marker}" (/init did not run)`);
  const online = e.vcpus === 1 ? '0' : `0-${e.vcpus - 1}`;
  need(s.includes(`${MARKERS.cpusPrefix}${online} count=${e.vcpus}`), `not ${e.vcpus} CPU(s) online in /init ("${MARKERS.cpusPrefix}${online} count=${e.vcpus}")`);
  need(s.includes(`${MARKERS.resultPrefix}${MARKERS.expectedMd5}`), `the workload's result is missing or wrong (want "${MARKERS.resultPrefix}${MARKERS.expectedMd5}")`);
  need(!/Kernel panic|BUG:|Oops:|general protection fault/.test(s), 'the kernel reported a panic, BUG or Oops');
  need(!r.killed, `it did not finish: killed after ${Math.round(r.wallMs / 1000)} s`);
  if (e.action === 'poweroff') {
    need(s.includes(MARKERS.poweroff) && s.includes('reboot: Power down'), 'no clean power-off ("reboot: Power down")');
    need(r.exitCode === 0, `exit status ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}, not 0 after power-off`);
  } else {
    need(s.includes(MARKERS.reboot) && s.includes('reboot: Restarting system'), 'no reboot ("reboot: Restarting system")');
    // QEMU -no-reboot exits 0 on the reset; domus run stops on a reset and says so, or (if it
    // restarts the guest) the image boots a second time and we stop it.
    const reset = r.who === 'qemu' ? r.exitCode === 0 : r.bootedTwice || /reset/i.test(r.stderr);
    need(reset, `the reset did not happen or was not reported (exit status ${r.exitCode}, stderr: ${r.stderr.trim().slice(-200) || 'empty'})`);
  }
  return problems;
}

/** A failure message: the problems, the command, and the tail of what the guest and tool said. */
export function describeFailure(r: BootResult, problems: readonly string[]): string {
  const tail = r.serial.split('\n').slice(-25).join('\n');
  return `${r.command}\n  - ${problems.join('\n  - ')}\n--- exit ${r.exitCode}${r.signal ? ` ${r.signal}` : ''} after ${(r.wallMs / 1000).toFixed(1)} s; stderr:\n${r.stderr.trim().slice(-1500)}\n--- last serial lines:\n${tail}`;
}

/** A GRUB rescue ISO (domus mkrescue) whose grub.cfg boots the image with `linux` and `initrd`. */
export function buildGrubIso(image: LinuxImage, flavour: Flavour, dir: string): string {
  const tree = path.join(dir, `grub-${flavour}`);
  mkdirSync(path.join(tree, 'boot', 'grub'), { recursive: true });
  const cfg = [
    'serial --unit=0 --speed=115200',
    'terminal_input serial',
    'terminal_output serial',
    'set timeout=0',
    `menuentry "Domus Linux test image (${flavour})" {`,
    `    linux /boot/vmlinuz ${imageCmdline('poweroff')}`,
    '    initrd /boot/initrd.gz',
    '}',
    '',
  ].join('\n');
  writeFileSync(path.join(tree, 'boot', 'grub', 'grub.cfg'), cfg);
  const iso = path.join(dir, `linux-${flavour}.iso`);
  const r = spawnSync(process.execPath, [DOMUS, 'mkrescue', '-o', iso, tree, `boot/vmlinuz=${image.kernels[flavour].vmlinuz}`, `boot/initrd.gz=${image.initrd}`], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  if (r.status !== 0) throw new Error(`domus mkrescue failed: ${r.stderr || r.error?.message}`);
  return iso;
}
