/**
 * `domus run --disk/--cdrom`: HVM domains booting through the BIOS in the real engine (hypervisor
 * thread + pCPU workers): a hand-assembled boot sector that reads its second sector with INT 13h,
 * a GRUB ISO made by `domus mkiso` booting a multiboot kernel, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';

function domusRun(args: string[], cwd = process.cwd()) {
  const r = spawnSync(process.execPath, [path.resolve('bin/domus'), 'run', ...args], { encoding: 'latin1', timeout: 120_000, cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * A 64 KiB disk: sector 0 reads sector 1 to 0x8000 with INT 13h AH=02h (DL as the BIOS left it),
 * prints it on COM1 up to its NUL and leaves through isa-debug-exit with 5 (read failed: 7).
 */
function bootDisk(message: string, bootable = true): Uint8Array {
  const code = [
    0xb8, 0x01, 0x02, //       mov ax, 0x0201      read one sector
    0xbb, 0x00, 0x80, //       mov bx, 0x8000      to 0000:8000
    0xb9, 0x02, 0x00, //       mov cx, 0x0002      cylinder 0, sector 2
    0xb6, 0x00, //             mov dh, 0           head 0
    0xcd, 0x13, //             int 13h
    0x72, 0x13, //             jc fail
    0xba, 0xf8, 0x03, //       mov dx, 0x3f8
    0xbe, 0x00, 0x80, //       mov si, 0x8000
    0xac, //             next: lodsb
    0x08, 0xc0, //             or al, al
    0x74, 0x03, //             jz done
    0xee, //                   out dx, al
    0xeb, 0xf8, //             jmp next
    0xb0, 0x05, //       done: mov al, 5
    0xe6, 0xf4, //             out 0xf4, al
    0xf4, //                   hlt
    0xb0, 0x07, //       fail: mov al, 7
    0xe6, 0xf4, //             out 0xf4, al
    0xf4, //                   hlt
  ];
  const img = new Uint8Array(64 * 1024);
  img.set(code, 0);
  if (bootable) {
    img[510] = 0x55;
    img[511] = 0xaa;
  }
  img.set(new TextEncoder().encode(`${message}\0`), 512);
  return img;
}

describe('domus run through the BIOS', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'domus-run-bios-'));

  it('boots a disk: the boot sector reads the next sector with INT 13h and prints it', () => {
    const disk = path.join(dir, 'boot.img');
    writeFileSync(disk, bootDisk('READ FROM SECTOR 1\n'));
    const r = domusRun(['--disk', disk, '--debug-exit', '--timeout', '60']);
    expect(r.out).toBe('READ FROM SECTOR 1\n');
    expect(r.code).toBe((5 << 1) | 1);
    expect(r.err).toBe('domus run: Booting from Hard Disk...\n');
  }, 120_000);

  it('delivers the timer interrupt to a BIOS-booted guest (the BIOS leaves the local APIC in virtual wire mode)', () => {
    // Waits in sti; hlt for five changes of the BIOS tick count (0040:006C, INT 08h's counter),
    // then leaves through isa-debug-exit with 9. Without interrupts it never wakes (timeout).
    const code = [
      0x31, 0xc0, //             xor ax, ax
      0x8e, 0xd8, //             mov ds, ax
      0xb9, 0x05, 0x00, //       mov cx, 5
      0x8b, 0x1e, 0x6c, 0x04, // again: mov bx, [0x46c]
      0xfb, //                   wait: sti
      0xf4, //                   hlt
      0x3b, 0x1e, 0x6c, 0x04, // cmp bx, [0x46c]
      0x74, 0xf8, //             je wait
      0xe2, 0xf2, //             loop again
      0xb0, 0x09, //             mov al, 9
      0xe6, 0xf4, //             out 0xf4, al
      0xfa, 0xf4, //             cli; hlt
    ];
    const img = new Uint8Array(64 * 1024);
    img.set(code, 0);
    img[510] = 0x55;
    img[511] = 0xaa;
    const disk = path.join(dir, 'ticks.img');
    writeFileSync(disk, img);
    for (const vcpus of ['1', '2']) {
      const r = domusRun(['--disk', disk, '--debug-exit', '--vcpus', vcpus, '--timeout', '60']);
      expect(r.code, `${vcpus} VCPU(s): ${r.err}`).toBe((9 << 1) | 1);
    }
  });

  it('follows --boot: with "d" first it tries the CD-ROM, which is not bootable, then the disk', () => {
    const disk = path.join(dir, 'boot2.img');
    const blank = path.join(dir, 'blank.iso');
    writeFileSync(disk, bootDisk('DISK AFTER CD\n'));
    writeFileSync(blank, new Uint8Array(64 * 2048));
    const r = domusRun(['--cdrom', blank, '--disk', disk, '--boot', 'dc', '--debug-exit', '--timeout', '60']);
    expect(r.out).toBe('DISK AFTER CD\n');
    expect(r.code).toBe((5 << 1) | 1);
    expect(r.err).toMatch(/Boot failed: .*blank\.iso.*\n.*Booting from Hard Disk/);
    // With only "d" the bootable disk is never tried.
    const cdOnly = domusRun(['--cdrom', blank, '--disk', disk, '--boot', 'd', '--timeout', '60']);
    expect(cdOnly.code).toBe(2);
    expect(cdOnly.err).toMatch(/Boot failed: .*blank\.iso/);
    expect(cdOnly.out).toBe('');
  }, 120_000);

  it('boots a GRUB ISO made by domus mkiso: GRUB loads the multiboot kernel and its module from the CD', () => {
    const kernel = path.resolve('test/unit/iso/fixtures/mbinfo-kernel.elf');
    writeFileSync(path.join(dir, 'app'), 'MODULE-FROM-THE-CD');
    const iso = path.join(dir, 'grub.iso');
    const mk = spawnSync(process.execPath, [path.resolve('bin/domus'), 'mkiso', '--kernel', kernel, '--module', 'app', '--append', '-uart=io:0x3f8', '-o', iso], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(mk.status, mk.stderr).toBe(0);
    const r = domusRun(['--cdrom', iso, '--debug-exit', '--timeout', '100'], dir);
    expect(r.out).toContain('KERNEL-UP');
    expect(r.out).toContain('MODULE-FROM-THE-CD');
    expect(r.out).toContain('boot_loader_name=GRUB');
    // The BIOS's CD-ROM drive number, as GRUB passes it on.
    expect(r.out).toContain('boot_device=e0ffffff');
    expect(r.out).toContain('KERNEL-DONE');
    expect(r.code).toBe(1);
  }, 150_000);

  it('says "No bootable device" and exits 2 when nothing boots', () => {
    const disk = path.join(dir, 'blank.img');
    writeFileSync(disk, bootDisk('never', false));
    const r = domusRun(['--disk', disk, '--timeout', '30']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('No bootable device');
    expect(r.err).toMatch(/Boot failed: .*(signature|55AA|not bootable)/i);
    expect(r.out).toBe('');
  }, 60_000);

  it('refuses a missing image and bad combinations, naming the file and the fix', () => {
    const missing = domusRun(['--cdrom', path.join(dir, 'nope.iso')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.iso does not exist');
    const both = domusRun(['--kernel', path.resolve('test/fixtures/guests/mbinfo.elf'), '--cdrom', 'y.iso']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('give one or the other');
    const badBoot = domusRun(['--disk', path.join(dir, 'boot.img'), '--boot', 'cz']);
    expect(badBoot.code).toBe(2);
    expect(badBoot.err).toContain('"z" is not a boot device');
  });

  it('writes a disk the guest writes to', () => {
    // Sector 0 writes sector 1 back (INT 13h AH=03h) after changing its first byte.
    const img = bootDisk('unused');
    const code = [
      0xb8, 0x01, 0x02, 0xbb, 0x00, 0x80, 0xb9, 0x02, 0x00, 0xb6, 0x00, 0xcd, 0x13, // read sector 2 to 0x8000
      0xc6, 0x06, 0x00, 0x80, 0x57, //                                              mov byte [0x8000], 'W'
      0xb8, 0x01, 0x03, 0xbb, 0x00, 0x80, 0xb9, 0x02, 0x00, 0xb6, 0x00, 0xcd, 0x13, // write it back
      0xb0, 0x00, 0x12, 0xc0, //                                                    mov al,0; adc al,al (CF)
      0xe6, 0xf4, 0xf4, //                                                          out 0xf4, al; hlt
    ];
    img.set(code, 0);
    const disk = path.join(dir, 'write.img');
    writeFileSync(disk, img);
    const r = domusRun(['--disk', disk, '--debug-exit', '--timeout', '60']);
    expect(r.code).toBe(1);
    expect(String.fromCharCode(readFileSync(disk)[512])).toBe('W');
  }, 120_000);
});
