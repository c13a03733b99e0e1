/**
 * Boots ISOs built by Domus's ISO builder in QEMU (SeaBIOS) and checks what the multiboot test
 * kernel prints on COM1: as a CD (El Torito), as a hard disk (hybrid MBR), from `domus mkiso`
 * and from `domus mkrescue`, and against an ISO made by the real grub-mkrescue.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src-engine/node/cli-io';
import { mkisoCommand } from '../../src-engine/node/commands/mkiso';
import { mkrescueCommand } from '../../src-engine/node/commands/mkrescue';

function has(cmd: string, what: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!ok) console.warn(`${cmd} is not installed: skipping ${what}`);
  return ok;
}

const hasQemu = has('qemu-system-i386', 'the QEMU boots of Domus-built ISOs');
const hasMkrescue = hasQemu && has('grub-mkrescue', 'the comparison with a grub-mkrescue ISO');
const KERNEL = path.resolve(__dirname, '../unit/iso/fixtures/mbinfo-kernel.elf');
const MB2_KERNEL = path.resolve(__dirname, '../unit/boot/fixtures/mbdump-v2.elf');
const MODULE_TEXT = 'HELLO-MODULE-0123456789';
const work = mkdtempSync(path.join(tmpdir(), 'domus-iso-boot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(path.join(work, 'app'), MODULE_TEXT);

function io(): CliIo & { stderr: string } {
  const o = { stderr: '', cwd: work, env: { SOURCE_DATE_EPOCH: '1700000000' }, out() {}, err(t: string) { o.stderr += t; } };
  return o;
}

/** QEMU's exit status when the guest writes 0 to isa-debug-exit: (0 << 1) | 1. */
const GUEST_EXIT_OK = 1;

/** Boots an image and returns QEMU's status and the serial output from the kernel's first line. */
function boot(image: string, as: 'cdrom' | 'disk'): { status: number | null; serial: string } {
  const media = as === 'cdrom' ? ['-cdrom', image, '-boot', 'd'] : ['-drive', `file=${image},format=raw,if=ide,index=0`, '-boot', 'c'];
  const r = spawnSync(
    'qemu-system-i386',
    ['-m', '128', ...media, '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
    { timeout: 120_000, encoding: 'latin1' },
  );
  const out = r.stdout ?? '';
  const start = out.indexOf('KERNEL-UP');
  return { status: r.status, serial: start < 0 ? out : out.slice(start).replace(/\r/g, '') };
}

function expectReference(run: { status: number | null; serial: string }, cmdline: string): void {
  expect(run.serial).toContain('KERNEL-UP: multiboot test kernel');
  expect(run.serial).toContain('eax=2badb002');
  expect(run.serial).toContain(`cmdline=${cmdline}\n`);
  expect(run.serial).toMatch(/mods_count=00000001 mod0\.start=[0-9a-f]{5}000 /); // page-aligned
  expect(run.serial).toContain(MODULE_TEXT.slice(0, 16));
  expect(run.serial).toContain('boot_loader_name=GRUB 2.06');
  expect(run.serial).toContain('KERNEL-DONE');
  expect(run.status).toBe(GUEST_EXIT_OK);
}

describe.skipIf(!hasQemu)('Domus ISOs boot in QEMU', () => {
  const mkisoImage = path.join(work, 'mkiso.iso');
  // GRUB passes words verbatim ("$" is not expanded: the generated grub.cfg quotes it) and wraps a
  // word containing blanks in double quotes, so this reaches the kernel exactly as typed.
  const cmdline = '-uart=io:0x3f8 home=$HOME "two words"';

  it('domus mkiso: boots from CD with the module and the command line as given', async () => {
    const o = io();
    expect(await mkisoCommand(['--kernel', KERNEL, '--module', 'app role=app n=1', '--append', cmdline, '-o', mkisoImage], o)).toBe(0);
    expect(o.stderr).toBe('');
    const run = boot(mkisoImage, 'cdrom');
    expectReference(run, cmdline);
    expect(run.serial).toContain('mod0.string=role=app n=1\n');
  });

  it('the same image boots as a hard disk (hybrid MBR, -boot c)', () => {
    expectReference(boot(mkisoImage, 'disk'), cmdline);
  });

  it('domus mkrescue on the spec reference tree boots from CD and as a disk', async () => {
    const tree = path.join(work, 'isotree');
    mkdirSync(path.join(tree, 'boot', 'grub'), { recursive: true });
    writeFileSync(path.join(tree, 'boot', 'kernel.elf'), readFileSync(KERNEL));
    writeFileSync(path.join(tree, 'boot', 'app'), MODULE_TEXT);
    writeFileSync(
      path.join(tree, 'boot', 'grub', 'grub.cfg'),
      'serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\nset timeout=0\nmenuentry "ref" {\n    multiboot /boot/kernel.elf -uart=io:0x3f8\n    module /boot/app\n    boot\n}\n',
    );
    const image = path.join(work, 'rescue.iso');
    expect(await mkrescueCommand(['-o', image, tree], io())).toBe(0);
    expectReference(boot(image, 'cdrom'), '-uart=io:0x3f8');
    expectReference(boot(image, 'disk'), '-uart=io:0x3f8');
  });

  it.skipIf(!hasMkrescue)('prints exactly what the same tree prints from a grub-mkrescue ISO', () => {
    const tree = path.join(work, 'isotree');
    const theirs = path.join(work, 'grub-mkrescue.iso');
    execFileSync('grub-mkrescue', ['-o', theirs, tree], { stdio: 'ignore' });
    const a = boot(path.join(work, 'rescue.iso'), 'cdrom');
    const b = boot(theirs, 'cdrom');
    expect(a.serial).toBe(b.serial);
  });

  it.skipIf(!existsSync(MB2_KERNEL))('boots a multiboot2 kernel with multiboot2/module2', async () => {
    const image = path.join(work, 'mb2.iso');
    expect(await mkisoCommand(['--kernel', MB2_KERNEL, '--module', 'app', '-o', image], io())).toBe(0);
    const r = spawnSync(
      'qemu-system-i386',
      ['-m', '128', '-cdrom', image, '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
      { timeout: 120_000, encoding: 'latin1' },
    );
    expect(r.stdout).toContain('PROBE-UP mb2');
    expect(r.stdout).toContain('R eax 36d76289');
  });
});
