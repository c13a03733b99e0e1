/**
 * GRUB boots on the HVM BIOS: an ISO made by Debian's grub-mkrescue and one made by Domus's ISO
 * builder (`domus mkiso`) boot in the in-process HVM machine (CPU + PC devices + BIOS) to the
 * mbinfo multiboot kernel, which prints the multiboot information GRUB gave it. The output must
 * equal what the same ISO prints under qemu-system-i386 -cdrom (SeaBIOS), byte for byte from the
 * kernel's first line on.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHvmMachine } from '../support/hvm-machine';
import { openFileBlockBackend } from '../../src-engine/node/disk/file-block-backend';
import { mkisoCommand } from '../../src-engine/node/commands/mkiso';
import type { CliIo } from '../../src-engine/node/cli-io';

function has(cmd: string, what: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!ok) console.warn(`${cmd} is not installed: skipping ${what}`);
  return ok;
}

const hasQemu = has('qemu-system-i386', 'the QEMU reference boots');
const hasMkrescue = has('grub-mkrescue', 'the grub-mkrescue ISO boot') && has('xorriso', 'the grub-mkrescue ISO boot');
const KERNEL = path.resolve(__dirname, '../unit/iso/fixtures/mbinfo-kernel.elf');
const MODULE_TEXT = 'HELLO-MODULE-0123456789';
const GRUB_CFG = `serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "mbinfo" {
    multiboot /boot/kernel.elf -uart=io:0x3f8
    module /boot/app
    boot
}
`;
const work = mkdtempSync(path.join(tmpdir(), 'domus-grub-boot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The kernel's output from its first line to KERNEL-DONE, CR removed. */
function kernelLines(serial: string): string {
  const start = serial.indexOf('KERNEL-UP');
  const end = serial.indexOf('KERNEL-DONE');
  return start < 0 || end < 0 ? `(no kernel output in ${JSON.stringify(serial.slice(0, 300))})` : serial.slice(start, end + 'KERNEL-DONE'.length).replace(/\r/g, '');
}

function qemuBoot(iso: string, as: 'cdrom' | 'disk' = 'cdrom'): string {
  const media = as === 'cdrom' ? ['-cdrom', iso, '-boot', 'd'] : ['-drive', `file=${iso},format=raw,if=ide,index=0,snapshot=on`, '-boot', 'c'];
  const r = spawnSync(
    'qemu-system-i386',
    ['-m', '128', ...media, '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
    { timeout: 120_000, encoding: 'latin1' },
  );
  return kernelLines(r.stdout ?? '');
}

function domusBoot(iso: string, as: 'cdrom' | 'disk' = 'cdrom') {
  const cd = openFileBlockBackend({ path: iso, medium: as, readOnly: true });
  const m = createHvmMachine(as === 'cdrom' ? { memoryMiB: 128, cdroms: [cd] } : { memoryMiB: 128, disks: [cd], bootOrder: ['disk'] });
  const calls = new Map<string, number>();
  m.bios.trace = (e) => {
    const k = `${e.vector.toString(16)}/${(e.ax >> 8).toString(16)}`;
    calls.set(k, (calls.get(k) ?? 0) + 1);
  };
  const t0 = performance.now();
  const stop = m.run({ until: () => m.serial().includes('KERNEL-DONE'), maxMs: 600_000 });
  const ms = performance.now() - t0;
  cd.close();
  console.log(`${path.basename(iso)}: ${stop} after ${ms.toFixed(0)} ms, ${m.cpu.icount} instructions, BIOS calls ${JSON.stringify(Object.fromEntries(calls))}`);
  return { m, stop, calls, kernel: kernelLines(m.serial()) };
}

function checkMbinfo(kernel: string, bootDevice = 'e0ffffff'): void {
  expect(kernel).toContain('eax=2badb002 flags=00001a6f');
  expect(kernel).toContain('cmdline=-uart=io:0x3f8\n');
  expect(kernel).toMatch(/mods_count=00000001 mod0\.start=[0-9a-f]{5}000 /);
  expect(kernel).toContain(MODULE_TEXT);
  expect(kernel).toContain('mem_lower=0000027f mem_upper=0001fb80');
  expect(kernel).toContain(`boot_device=${bootDevice}`);
  expect(kernel).toContain('boot_loader_name=GRUB 2.06');
}

describe.skipIf(!hasMkrescue)('an ISO from Debian grub-mkrescue', () => {
  const iso = path.join(work, 'mkrescue.iso');
  let domusKernel: string | undefined;

  it('boots through GRUB to the multiboot kernel with the module and the command line', () => {
    const tree = path.join(work, 'tree');
    mkdirSync(path.join(tree, 'boot/grub'), { recursive: true });
    copyFileSync(KERNEL, path.join(tree, 'boot/kernel.elf'));
    writeFileSync(path.join(tree, 'boot/app'), MODULE_TEXT);
    writeFileSync(path.join(tree, 'boot/grub/grub.cfg'), GRUB_CFG);
    const made = spawnSync('grub-mkrescue', ['-o', iso, tree], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const run = domusBoot(iso);
    expect(run.stop).toBe('condition');
    checkMbinfo(run.kernel);
    domusKernel = run.kernel;
    expect(run.m.serial()).toContain("Booting `mbinfo'");
    expect(run.m.vga.lines()).toContain('Welcome to GRUB!');
    expect(run.m.pitShortcut.fired).toBe(1);
    // The BIOS calls of spec 4.2: CD reads, the El Torito status, E820 walks, VBE, APM.
    expect(run.calls.get('13/42')).toBeGreaterThan(10);
    expect(run.calls.get('13/4b')).toBe(1);
    expect(run.calls.get('15/e8')).toBeGreaterThanOrEqual(6);
    expect(run.calls.get('10/4f')).toBe(3);
    expect(run.calls.get('15/53')).toBe(1);
  });

  it.skipIf(!hasQemu)('prints the same multiboot information as under QEMU (SeaBIOS)', () => {
    const qemu = qemuBoot(iso);
    checkMbinfo(qemu);
    expect(domusKernel ?? domusBoot(iso).kernel).toBe(qemu);
  });
});

describe("an ISO from Domus's ISO builder (domus mkiso)", () => {
  const iso = path.join(work, 'mkiso.iso');

  it('boots through GRUB to the kernel, and matches QEMU when it is installed', async () => {
    writeFileSync(path.join(work, 'app'), MODULE_TEXT);
    const io: CliIo & { stderr: string } = { stderr: '', cwd: work, env: { SOURCE_DATE_EPOCH: '1700000000' }, out() {}, err(t: string) { io.stderr += t; } } as never;
    expect(await mkisoCommand(['--kernel', KERNEL, '--module', 'app', '--append', '-uart=io:0x3f8', '-o', iso], io)).toBe(0);
    const run = domusBoot(iso);
    expect(run.stop).toBe('condition');
    checkMbinfo(run.kernel);
    if (hasQemu) expect(run.kernel).toBe(qemuBoot(iso));
  });

  it('the same image boots as a hard disk through its hybrid MBR (boot_device 80h), as under QEMU', () => {
    const run = domusBoot(iso, 'disk');
    expect(run.stop).toBe('condition');
    checkMbinfo(run.kernel, '80ffffff');
    expect(run.m.vga.lines()).toContain('GRUB loading.');
    expect(run.calls.get('13/48')).toBeGreaterThan(0);
    if (hasQemu) expect(run.kernel).toBe(qemuBoot(iso, 'disk'));
  });
});

describe('the seed workflow through the engine: xl.cfg with the ISO as hdc:cdrom, serial to a file, domus create', () => {
  it('boots the grub-mkrescue (or domus mkiso) ISO to the kernel, whose output lands in the serial file', async () => {
    const { main } = await import('../../src-engine/node/cli');
    const { startEngineDaemon } = await import('../../src-engine/node/daemon/engine-daemon');
    const { domusPaths } = await import('../../src-engine/node/service/paths');
    const { existsSync, readFileSync } = await import('node:fs');
    let iso = path.join(work, 'mkrescue.iso');
    if (!existsSync(iso)) {
      // Run alone (or without grub-mkrescue): make the image with domus mkiso.
      iso = path.join(work, 'seed.iso');
      writeFileSync(path.join(work, 'app'), MODULE_TEXT);
      const mk = { cwd: work, env: { SOURCE_DATE_EPOCH: '1700000000' }, out() {}, err() {} } as unknown as CliIo;
      expect(await mkisoCommand(['--kernel', KERNEL, '--module', 'app', '--append', '-uart=io:0x3f8', '-o', iso], mk)).toBe(0);
    }
    const home = path.join(work, 'home');
    mkdirSync(home, { recursive: true });
    const env = { DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home };
    const daemon = await startEngineDaemon({ pcpus: 2, memoryPoolMiB: 256, paths: domusPaths(env) });
    try {
      const serial = path.join(work, 'hermit-serial.log');
      const cfg = path.join(work, 'hermit.cfg');
      writeFileSync(
        cfg,
        `name = "hermit"\ntype = "hvm"\nmemory = 128\nvcpus = 1\ndisk = [ 'file:${iso},hdc:cdrom,r' ]\nboot = "d"\nserial = 'file:${serial}'\n`,
      );
      let err = '';
      const io = { cwd: work, env, out() {}, err(t: string) { err += t; } } as unknown as CliIo;
      expect(await main(['create', cfg], io), err).toBe(0);
      const t0 = Date.now();
      while (Date.now() - t0 < 300_000) {
        if (existsSync(serial) && readFileSync(serial, 'latin1').includes('KERNEL-DONE')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      checkMbinfo(kernelLines(readFileSync(serial, 'latin1')));
      expect(await main(['destroy', 'hermit'], io), err).toBe(0);
    } finally {
      await daemon.close();
    }
  }, 400_000);
});
