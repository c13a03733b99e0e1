/**
 * `domus run --bios ROM`: raw system ROMs in the real engine (hypervisor thread + pCPU worker),
 * with no Domus firmware: the reset vector through the high mirror, the low and high windows of
 * 64 and 128 KiB ROMs, 32-bit address wrap, COM1 before any UART set-up, exit code 4 for a triple
 * fault and for each reset request, isa-debugcon, and the refusals. QEMU, where installed, runs the
 * same ROMs and must agree.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { debugconRom, mirrorCheckRom, resetRom, tripleFaultRom } from './rom-images';

function domusRun(args: string[]) {
  const r = spawnSync(process.execPath, [path.resolve('bin/domus'), 'run', ...args], { encoding: 'latin1', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const QEMU = 'qemu-system-i386';
const hasQemu = spawnSync(QEMU, ['--version']).status === 0;
if (!hasQemu) console.warn(`${QEMU} is not installed: the --bios ROMs run on Domus only, without the comparison with QEMU`);

/** QEMU with the ROM, COM1 on stdout, isa-debug-exit at 0xF4, no reboot. */
function qemuRun(rom: string) {
  const r = spawnSync(
    QEMU,
    ['-bios', rom, '-display', 'none', '-nodefaults', '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-m', '16', '-no-reboot'],
    { encoding: 'latin1', timeout: 30_000 },
  );
  return { code: r.status, out: r.stdout };
}

describe('domus run --bios', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'domus-run-rom-'));
  const file = (name: string, data: Uint8Array) => {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  for (const [kib, size] of [[64, 0x10000], [128, 0x20000]] as const) {
    it(`maps a ${kib} KiB ROM below 1 MiB and below 4 GiB, starts at the reset vector and wraps 32-bit addresses`, () => {
      const rom = file(`mirror-${kib}.rom`, mirrorCheckRom(size));
      const r = domusRun(['--bios', rom, '--debug-exit', '--memory', '16', '--timeout', '30']);
      // R: the reset vector ran (fetched at FFFFFFF0h) and COM1 passed it through untouched;
      // L: F000:E05B ran from the low window; K: low == high, ROM marker, wrap at 4 GiB.
      expect(r.out).toBe('RLK');
      expect(r.code).toBe((0x21 << 1) | 1);
      if (hasQemu) expect(qemuRun(rom)).toEqual({ code: r.code, out: r.out });
    }, 90_000);
  }

  it('ends with exit code 4 and says so on a triple fault', () => {
    const rom = file('triple.rom', tripleFaultRom());
    const r = domusRun(['--bios', rom, '--debug-exit', '--timeout', '30']);
    expect(r.out).toBe('T');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/^domus run: the guest's CPU shut down, exit code 4: triple fault/);
    if (hasQemu) expect(qemuRun(rom).out).toBe('T');
  }, 90_000);

  for (const [port, value, name] of [
    [0xcf9, 0x06, /reset control register at port 0xcf9/],
    [0x64, 0xfe, /8042 keyboard controller \(command 0xfe\)/],
    [0x92, 0x01, /port 0x92 \(fast reset\)/],
  ] as const) {
    it(`ends with exit code 4 on a reset through port 0x${port.toString(16)}`, () => {
      const rom = file(`reset-${port.toString(16)}.rom`, resetRom(port, value));
      const r = domusRun(['--bios', rom, '--timeout', '30']);
      expect(r.out).toBe('X');
      expect(r.code).toBe(4);
      expect(r.err).toMatch(name);
      expect(r.err).toContain('a reset ends domus run (exit code 4)');
    }, 90_000);
  }

  it('has isa-debugcon at 0x402 on --machine qemu-testdev: reads 0xE9, writes go to --debugcon', () => {
    const rom = file('debugcon.rom', debugconRom());
    const r = domusRun(['--bios', rom, '--machine', 'qemu-testdev', '--debugcon', 'stdio', '--serial', 'none', '--timeout', '30']);
    expect(r.out).toBe('\xe9\n');
    expect(r.code).toBe(5);
    const logFile = path.join(dir, 'debugcon.log');
    const toFile = domusRun(['--bios', rom, '--machine', 'qemu-testdev', '--debugcon', `file:${logFile}`, '--timeout', '30']);
    expect(toFile.out).toBe('');
    expect(spawnSync('od', ['-An', '-tx1', logFile], { encoding: 'utf8' }).stdout.trim()).toBe('e9 0a');
  }, 90_000);

  it('refuses ROM images of other sizes, naming the file and the sizes allowed', () => {
    const rom = file('short.rom', new Uint8Array(0x8000));
    const r = domusRun(['--bios', rom]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${rom} is 32768 bytes`);
    expect(r.err).toContain('65536 bytes (64 KiB, mapped at F0000h) or 131072 bytes (128 KiB, mapped at E0000h)');
  });

  it('refuses --bios with --kernel, --cdrom or --disk, and --debugcon without qemu-testdev', () => {
    const rom = file('ok.rom', mirrorCheckRom(0x10000));
    for (const extra of [['--kernel', 'k.elf'], ['--cdrom', 'a.iso'], ['--disk', 'd.img']]) {
      const r = domusRun(['--bios', rom, ...extra]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--bios ${rom} boots the ROM alone`);
      expect(r.err).toContain(`drop ${extra[0]}`);
    }
    const d = domusRun(['--bios', rom, '--debugcon', 'stdio']);
    expect(d.code).toBe(2);
    expect(d.err).toContain('add --machine qemu-testdev');
    const missing = domusRun(['--bios', path.join(dir, 'absent.rom')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('Cannot read the ROM image');
  });
});
