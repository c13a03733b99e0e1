import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getU32LE } from '../../../src-engine/iso/bytes';
import { buildRescueIso, ELTORITO_PATH, type IsoBuildProgress } from '../../../src-engine/iso/grub-rescue';
import { addIsoFile, createIsoDir } from '../../../src-engine/iso/iso-tree';
import { planWizardIso } from '../../../src-engine/iso/iso-wizard';
import { bundledGrubFiles } from './fixtures';
import { readFile, readTree } from './iso-reader';

const grub = bundledGrubFiles();
const kernel = new Uint8Array(readFileSync(path.join(__dirname, 'fixtures/mbinfo-kernel.elf')));
const TIME = Date.UTC(2025, 5, 1);
const text = (s: string) => new TextEncoder().encode(s);

describe('grub-mkrescue tree', () => {
  const user = createIsoDir();
  addIsoFile(user, '/boot/grub/grub.cfg', text('set timeout=0\n'));
  addIsoFile(user, '/boot/kernel.elf', kernel);
  const events: IsoBuildProgress[] = [];
  const r = buildRescueIso({ grub, user, timeMs: TIME, onProgress: (p) => events.push(p) });
  const tree = readTree(r.image);
  const paths = new Set(tree.map((e) => e.path));

  it('copies every module and list, modinfo.sh and efiemu, but no .img except eltorito.img', () => {
    for (const name of grub.keys()) {
      const copied = name.endsWith('.mod') || name.endsWith('.lst') || name === 'modinfo.sh' || name.startsWith('efiemu');
      expect([name, paths.has(`/boot/grub/i386-pc/${name}`)]).toEqual([name, copied]);
    }
    expect(paths.has(ELTORITO_PATH)).toBe(true);
    expect(paths.has('/boot/grub/roms')).toBe(true);
    expect(Buffer.from(readFile(r.image, '/boot/grub/i386-pc/normal.mod')!).equals(Buffer.from(grub.get('normal.mod')!))).toBe(true);
  });
  it('grafts the user tree and boots eltorito.img', () => {
    expect(new TextDecoder().decode(readFile(r.image, '/boot/grub/grub.cfg'))).toBe('set timeout=0\n');
    expect(Buffer.from(readFile(r.image, '/boot/kernel.elf')!).equals(Buffer.from(kernel))).toBe(true);
    expect(tree.find((e) => e.path === ELTORITO_PATH)!.lba).toBe(r.layout.bootImageLba);
    const e = readFile(r.image, ELTORITO_PATH)!;
    expect(e.length).toBe(r.core.eltorito.length);
    expect(getU32LE(e, 12)).toBe(r.layout.bootImageLba);
  });
  it('reports progress from 0 to 1 in order', () => {
    expect(events[0].phase).toBe('core-image');
    expect(events.at(-1)).toMatchObject({ phase: 'done', fraction: 1 });
    const fractions = events.map((x) => x.fraction);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    expect(events.length).toBeLessThan(40);
  });
  it('honours --install-modules and --modules', () => {
    const small = buildRescueIso({ grub, user, timeMs: TIME, installModules: ['normal', 'multiboot'], extraCoreModules: ['serial'] });
    const mods = readTree(small.image).filter((x) => x.path.endsWith('.mod')).map((x) => path.basename(x.path));
    expect(mods).toContain('normal.mod');
    expect(mods).toContain('relocator.mod'); // a dependency of multiboot
    expect(mods).toContain('part_msdos.mod'); // loaded by the embedded config
    expect(mods).not.toContain('ext2.mod');
    expect(small.core.modules).toEqual(expect.arrayContaining(['serial', 'biosdisk', 'iso9660']));
    expect(() => buildRescueIso({ grub, user, timeMs: TIME, installModules: ['nosuch'] })).toThrow(/has no nosuch\.mod/);
  });
});

describe('ISO wizard plan', () => {
  const spec = {
    kernel: { name: 'ldhermit.elf', data: kernel },
    kernelArgs: '-uart=io:0x3f8',
    modules: [{ file: { name: 'hermit_application', data: text('HELLO') }, args: '' }],
    title: 'HermitCore',
    timeoutSeconds: 0,
    console: { kind: 'serial' as const, port: 1, speed: 115200 },
  };
  it('puts the kernel, modules and grub.cfg under /boot', () => {
    const plan = planWizardIso(spec);
    expect(plan.protocol).toBe(1);
    expect(plan.kernelPath).toBe('/boot/ldhermit.elf');
    expect(plan.modulePaths).toEqual(['/boot/hermit_application']);
    expect(plan.grubCfg).toContain('multiboot /boot/ldhermit.elf -uart=io:0x3f8\n    module /boot/hermit_application\n');
    expect(plan.warnings).toEqual([]);
    const iso = buildRescueIso({ grub, user: plan.tree, timeMs: TIME }).image;
    expect(new TextDecoder().decode(readFile(iso, '/boot/grub/grub.cfg'))).toBe(plan.grubCfg);
  });
  it('accepts an edited grub.cfg and warns when it drops a file', () => {
    const plan = planWizardIso(spec, 'set timeout=3\nmenuentry x { multiboot /boot/ldhermit.elf }\n');
    expect(plan.grubCfg).toContain('set timeout=3');
    expect(plan.generatedGrubCfg).toContain('set timeout=0');
    expect(plan.warnings).toEqual(['The edited grub.cfg does not mention /boot/hermit_application, which is on the ISO.']);
  });
  it('renames clashing and unsafe names', () => {
    const plan = planWizardIso({
      ...spec,
      modules: [
        { file: { name: 'app', data: text('1') }, args: '' },
        { file: { name: 'APP', data: text('2') }, args: '' },
        { file: { name: 'grub', data: text('3') }, args: '' },
        { file: { name: 'a;b.', data: text('4') }, args: '' },
      ],
    });
    expect(plan.modulePaths).toEqual(['/boot/app', '/boot/APP-2', '/boot/grub-2', '/boot/a_b_']);
  });
  it('refuses a kernel that is not multiboot, naming it', () => {
    expect(() => planWizardIso({ ...spec, kernel: { name: 'hermit_application', data: text('x'.repeat(9000)) } })).toThrow(
      /hermit_application is not a multiboot kernel/,
    );
    expect(() => planWizardIso({ ...spec, protocol: 2 })).toThrow(/ldhermit\.elf is not a multiboot2 kernel/);
  });
});
