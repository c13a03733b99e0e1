/**
 * The BIOS register contracts, measured against SeaBIOS: test/fixtures/hvm/bios-probe.asm is an El
 * Torito boot image that calls INT 10h/11h/12h/13h/15h/16h/1Ah services (CD reads at and across
 * the end, EDD, El Torito status, CHS and LBA on a hard disk, a write read back, E820 ...) and
 * prints the registers and flags it gets on COM1. The same ISO and disk image boot in QEMU 7.2
 * (SeaBIOS 1.16) and in Domus; the outputs must be equal except for the documented differences
 * (docs/bios.md). Both write to their copy of the disk image, and the write must reach the file.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHvmMachine } from '../support/hvm-machine';
import { openFileBlockBackend } from '../../src-engine/node/disk/file-block-backend';

function has(cmd: string, what: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!ok) console.warn(`${cmd} is not installed: skipping ${what}`);
  return ok;
}

const ready = has('nasm', 'the BIOS probe') && has('xorriso', 'the BIOS probe') && has('qemu-system-i386', 'the BIOS probe');
const SOURCE = path.resolve(__dirname, '../fixtures/hvm/bios-probe.asm');
const work = mkdtempSync(path.join(tmpdir(), 'domus-bios-probe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Lines that differ on purpose (docs/bios.md "Differences from SeaBIOS"): the El Torito
 * controller index and 4B01h on other drives, QEMU's floppy drive, SeaBIOS's APM.
 */
const EXPECTED_DIFFERENCES: Record<string, { qemu: RegExp; domus: RegExp }> = {
  eltorito: { qemu: /^eltorito CF=0 0001 1300e001/, domus: /^eltorito CF=0 0001 1300e000/ },
  'eltorito-hd': { qemu: /^eltorito-hd CF=0/, domus: /^eltorito-hd CF=1 0101 $/ },
  'hd-eltorito': { qemu: /^hd-eltorito CF=0/, domus: /^hd-eltorito CF=1 0101 $/ },
  'type-fd00': { qemu: /^type-fd00 CF=0 010a $/, domus: /^type-fd00 CF=1 010a $/ },
  apm: { qemu: /^apm CF=0 0102 $/, domus: /^apm CF=1 8600 $/ },
};

describe.skipIf(!ready)('BIOS probe: Domus answers like SeaBIOS', () => {
  it('prints the same results on COM1 as under QEMU, apart from the documented differences', () => {
    const img = path.join(work, 'bios-probe.img');
    const nasm = spawnSync('nasm', ['-f', 'bin', SOURCE, '-o', img], { encoding: 'utf8' });
    expect(nasm.status, nasm.stderr).toBe(0);
    const tree = path.join(work, 'tree');
    mkdirSync(tree);
    copyFileSync(img, path.join(tree, 'bios-probe.img'));
    const iso = path.join(work, 'probe.iso');
    const x = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-b', 'bios-probe.img', '-no-emul-boot', '-boot-load-size', '8', '-o', iso, tree], { encoding: 'utf8' });
    expect(x.status, x.stderr).toBe(0);
    const disk = new Uint8Array(4 * 1024 * 1024);
    disk.set(new TextEncoder().encode('DSK0'), 0x1fc);
    writeFileSync(path.join(work, 'qemu.img'), disk);
    writeFileSync(path.join(work, 'domus.img'), disk);

    const q = spawnSync(
      'qemu-system-i386',
      ['-m', '128', '-cdrom', iso, '-drive', `file=${path.join(work, 'qemu.img')},format=raw,if=ide,index=0`, '-boot', 'd', '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
      { timeout: 60_000, encoding: 'latin1' },
    );
    const qemuLines = (q.stdout ?? '').replace(/\r/g, '').split('\n').filter((l) => l.length > 0);
    expect(qemuLines.at(-1)).toBe('PROBE-DONE');

    const cd = openFileBlockBackend({ path: iso, medium: 'cdrom' });
    const hd = openFileBlockBackend({ path: path.join(work, 'domus.img'), medium: 'disk' });
    const m = createHvmMachine({ memoryMiB: 128, cdroms: [cd], disks: [hd], bootOrder: ['cdrom', 'disk'] });
    expect(m.run({ maxMs: 120_000 })).toBe('debug-exit');
    cd.close();
    hd.close();
    const domusLines = m.serial().replace(/\r/g, '').split('\n').filter((l) => l.length > 0);

    expect(domusLines.length).toBe(qemuLines.length);
    for (let i = 0; i < qemuLines.length; i++) {
      const key = qemuLines[i].split(' ')[0];
      const allowed = EXPECTED_DIFFERENCES[key];
      if (allowed !== undefined && qemuLines[i] !== domusLines[i]) {
        expect(qemuLines[i]).toMatch(allowed.qemu);
        expect(domusLines[i]).toMatch(allowed.domus);
      } else {
        expect(domusLines[i], `line ${i + 1} (${key})`).toBe(qemuLines[i]);
      }
    }
    // The probe wrote "ROBE..." to LBA 1 of its disk; both images must hold it.
    for (const f of ['qemu.img', 'domus.img']) {
      expect(new TextDecoder().decode(readFileSync(path.join(work, f)).subarray(512, 520)), f).toBe('ROBEROBE');
    }
  });
});
