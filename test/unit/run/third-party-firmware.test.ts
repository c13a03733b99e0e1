/**
 * Third-party firmware on `domus run --bios --machine qemu-testdev`, beside QEMU where it is
 * installed: SeaBIOS 1.16 (Debian's /usr/share/seabios/bios.bin) must get through POST to
 * "No bootable device." with the same milestones in its debug log (port 0x402) as under QEMU;
 * qboot must reach its final halt (no kernel in fw_cfg). docs/third-party-firmware.md explains the
 * differences (no i440FX/PIIX devices on qemu-testdev).
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../../src-engine/runtime/engine';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import { CR0_PE, IF, S_CR0, S_EFLAGS, S_EIP, STATE_BYTES } from '../../../src-engine/cpu/state';

const SEABIOS = '/usr/share/seabios/bios.bin';
const QBOOT = '/usr/share/qemu/qboot.rom';
const QEMU = 'qemu-system-i386';
const hasSeabios = existsSync(SEABIOS);
const hasQboot = existsSync(QBOOT);
const hasQemu = spawnSync(QEMU, ['--version']).status === 0;
if (!hasSeabios) console.warn(`${SEABIOS} is missing (Debian package seabios): the SeaBIOS run is skipped`);
if (!hasQboot) console.warn(`${QBOOT} is missing (Debian package qemu-system-data): the qboot run is skipped`);
if (!hasQemu) console.warn(`${QEMU} is not installed: the firmware runs on Domus only, without the comparison with QEMU`);

/** Where SeaBIOS's POST ends with no drives. */
const END = 'No bootable device.';
/** Lines both runs must print, in this order (the QEMU-only devices aside). */
const MILESTONES = [
  'SeaBIOS (version',
  'Found QEMU fw_cfg',
  'qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 [RAM]',
  'Relocating init from',
  '=== PCI device probing ===',
  'Found 1 cpu(s) max supported 1 cpu(s)',
  'Turning on vga text mode console',
  'All threads complete.',
  'e820 map has',
  'enter handle_19:',
  'Boot failed: could not read the boot disk',
  END,
];

/**
 * Runs `cmd` until its debug log (read by `log()`) contains END, and `also()` says any other
 * output it must finish has arrived, then stops it.
 */
async function runUntil(cmd: string, args: string[], log: () => string, limitMs: number, also: () => boolean = () => true): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
  const started = Date.now();
  try {
    while (Date.now() - started < limitMs) {
      if ((log().includes(END) || stdout.includes(END)) && also()) break;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.kill('SIGKILL');
  }
  return log() || stdout;
}

function inOrder(text: string, lines: string[]): string[] {
  const missing: string[] = [];
  let at = 0;
  for (const l of lines) {
    const k = text.indexOf(l, at);
    if (k < 0) missing.push(l);
    else at = k + l.length;
  }
  return missing;
}

describe('third-party firmware on --bios --machine qemu-testdev', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'domus-firmware-'));
  const read = (f: string) => () => (existsSync(f) ? readFileSync(f, 'latin1') : '');

  it.skipIf(!hasSeabios)('SeaBIOS reaches "No bootable device." with the milestones QEMU shows', async () => {
    const domusLog = path.join(dir, 'seabios-domus.log');
    const serial = path.join(dir, 'seabios-domus-com1.txt');
    const log = await runUntil(
      process.execPath,
      [path.resolve('bin/domus'), 'run', '--bios', SEABIOS, '--machine', 'qemu-testdev', '--memory', '64',
        '--debugcon', `file:${domusLog}`, '--serial', `file:${serial}`, '--timeout', '100'],
      read(domusLog),
      100_000,
      // The COM1 copy of the screen is written by another path; let it arrive before stopping.
      () => read(serial)().includes(END),
    );
    expect(inOrder(log, MILESTONES)).toEqual([]);
    // What qemu-testdev lacks, as SeaBIOS sees it: no host bridge (PAM), no PCI devices.
    expect(log).toContain('Unable to unlock ram - bridge not found');
    expect(log).toContain('Found 0 PCI devices');
    // fw_cfg says "no graphics", so SeaBIOS mirrors its screen on COM1 (sercon).
    expect(readFileSync(serial, 'latin1')).toContain(END);
    if (hasQemu) {
      const qemuLog = path.join(dir, 'seabios-qemu.log');
      const q = await runUntil(
        QEMU,
        ['-bios', SEABIOS, '-display', 'none', '-nodefaults', '-m', '64', '-debugcon', `file:${qemuLog}`, '-global', 'isa-debugcon.iobase=0x402'],
        read(qemuLog),
        60_000,
      );
      expect(inOrder(q, MILESTONES)).toEqual([]);
      expect(q).toContain('Found 4 PCI devices');
    }
  }, 180_000);

  it.skipIf(!hasQboot)('qboot halts where it halts under QEMU (its panic after finding no kernel in fw_cfg)', async () => {
    const engine = new Engine(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 96 }, {});
    let domus: { eip: number; cr0: number; eflags: number };
    try {
      const data = readFileSync(QBOOT);
      const { domid } = await engine.createDomain({ name: 'qboot', memoryMiB: 64, vcpus: 1, rom: { data, path: QBOOT }, machine: 'qemu-testdev', debugExit: true });
      // qboot needs a few thousand instructions; give it time, then look at the halted VCPU.
      await new Promise((r) => setTimeout(r, 1500));
      await engine.pauseDomain(domid);
      const states = (await engine.snapshotDomain(domid)).states;
      const s = new Int32Array(states.buffer, states.byteOffset, STATE_BYTES / 4);
      domus = { eip: s[S_EIP] >>> 0, cr0: s[S_CR0] >>> 0, eflags: s[S_EFLAGS] >>> 0 };
    } finally {
      await engine.close();
    }
    expect(domus.cr0 & CR0_PE).toBe(CR0_PE);
    expect(domus.eflags & IF).toBe(0);
    if (hasQemu) {
      const child = spawn(QEMU, ['-bios', QBOOT, '-display', 'none', '-nodefaults', '-m', '64', '-monitor', 'stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
      await new Promise((r) => setTimeout(r, 1500));
      child.stdin.write('info registers\n');
      for (let i = 0; i < 50 && !/EIP=[0-9a-f]{8}/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGKILL');
      const qemuEip = parseInt(/EIP=([0-9a-f]{8})/.exec(out)?.[1] ?? 'x', 16);
      expect(/HLT=1/.test(out)).toBe(true);
      expect(domus.eip.toString(16)).toBe(qemuEip.toString(16));
    }
  }, 120_000);
});
