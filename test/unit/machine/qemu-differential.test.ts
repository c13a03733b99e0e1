// Differential test against QEMU: the same port-I/O scripts run on QEMU's PC devices (through a
// tiny generated multiboot guest that reports every read on the debugcon port 0xE9) and on our
// PcPlatform; the reads must agree. Only register contracts are compared (no timing), and each
// known, deliberate difference from QEMU is masked out with its reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPcPlatform, type PcPlatform } from '../../../src-engine/machine/platform-pc';
import { FakeClock } from './fake-clock';

type Op =
  | { out: number; value: number }
  | { in: number; mask?: number; why?: string }
  /** Read and discard 8042 data while its status says the output buffer is full. */
  | { drain8042: true };

const out = (port: number, value: number): Op => ({ out: port, value });
const inb = (port: number, mask = 0xff, why?: string): Op => ({ in: port, mask, why });
const cmos = (index: number, mask = 0xff, why?: string): Op[] => [out(0x70, index), inb(0x71, mask, why)];

const COM1 = 0x3f8;
const uartScript: Op[] = [
  out(COM1 + 1, 0x00), inb(COM1 + 1), out(COM1 + 1, 0x0f), inb(COM1 + 1), out(COM1 + 1, 0x00),
  out(COM1 + 3, 0x80), out(COM1, 0x01), out(COM1 + 1, 0x00), inb(COM1), inb(COM1 + 1), out(COM1 + 3, 0x03), inb(COM1 + 3),
  out(COM1 + 7, 0x5a), inb(COM1 + 7), out(COM1 + 7, 0xa5), inb(COM1 + 7),
  out(COM1 + 2, 0x00), inb(COM1 + 2), out(COM1 + 2, 0x01), inb(COM1 + 2), out(COM1 + 2, 0x21), inb(COM1 + 2),
  out(COM1 + 2, 0xc7), inb(COM1 + 5),
  out(COM1 + 4, 0x1a), inb(COM1 + 6, 0xf0, 'QEMU keeps no MSR delta bits in loopback; the 16550 does'),
  out(COM1, 0x41), out(COM1, 0x42), inb(COM1 + 5), inb(COM1), inb(COM1 + 5), inb(COM1), inb(COM1 + 5),
  out(COM1 + 4, 0x0b), inb(COM1 + 4), inb(COM1 + 5),
  out(COM1 + 1, 0x02), inb(COM1 + 2), inb(COM1 + 2), out(COM1 + 1, 0x00), out(COM1 + 1, 0x02), inb(COM1 + 2),
  out(COM1, 0x0a), inb(COM1 + 2), inb(COM1 + 2),
  out(COM1 + 1, 0x02), inb(COM1 + 2), out(COM1 + 1, 0x03), inb(COM1 + 2), // ETBEI unchanged: no new THRE
  out(COM1 + 1, 0x01), out(COM1 + 1, 0x03), inb(COM1 + 2), // ETBEI off then on: THRE again
  out(COM1 + 1, 0x00), inb(COM1 + 2), inb(COM1 + 3),
];

const picInit: Op[] = [
  out(0x43, 0x30), out(0x40, 0xff), out(0x40, 0xff), // PIT channel 0 one-shot far away: IRQ0 quiet
  { drain8042: true },
  out(0x64, 0x60), out(0x60, 0x44), // 8042: translation and system flag, no keyboard IRQ yet
  out(0x3f9, 0x00), out(0x3fc, 0x08),
  out(0x20, 0x11), out(0x21, 0x08), out(0x21, 0x04), out(0x21, 0x01),
  out(0xa0, 0x11), out(0xa1, 0x70), out(0xa1, 0x02), out(0xa1, 0x01),
  out(0x21, 0xff), out(0xa1, 0xff), out(0x4d0, 0x00), out(0x4d1, 0x00),
];
const picScript: Op[] = [
  ...picInit,
  inb(0x21), inb(0xa1),
  out(0x4d0, 0xff), inb(0x4d0), out(0x4d1, 0xff), inb(0x4d1), out(0x4d0, 0x00), out(0x4d1, 0x00),
  out(0x20, 0x0a), inb(0x20), out(0x20, 0x0b), inb(0x20),
  out(0x3f9, 0x02), // UART THRE interrupt: ISA IRQ4 rises
  out(0x20, 0x0a), inb(0x20),
  out(0x20, 0x0c), inb(0x20), // poll with everything masked: nothing
  out(0x21, 0x00), out(0x20, 0x0c), inb(0x20), // poll: IRQ4, acknowledged
  out(0x20, 0x0b), inb(0x20), out(0x20, 0x20), inb(0x20),
  out(0x20, 0x0a), inb(0x20), // the edge was consumed
  inb(0x3fa), out(0x3f9, 0x00), out(0x3f9, 0x02), out(0x20, 0x0a), inb(0x20), // line low, high: new request
  out(0x64, 0x60), out(0x60, 0x45), out(0x64, 0xab), // an 8042 answer with the keyboard IRQ on: IRQ1
  inb(0x20),
  out(0x20, 0x0c), inb(0x20), // IRQ1 outranks IRQ4
  out(0x20, 0x20), out(0x20, 0xc1), // end it, and make IRQ1 the lowest priority
  inb(0x60), out(0x64, 0xab), inb(0x64, 0xf7, 'QEMU never updates the status CMD/DATA bit'), // IRQ1 again
  out(0x20, 0x0a), inb(0x20),
  out(0x20, 0x0c), inb(0x20), out(0x20, 0x20), out(0x20, 0xc7), // IRQ4 first now; default priorities back
  out(0x20, 0x0c), inb(0x20), out(0x20, 0x20), inb(0x60),
  out(0x20, 0x0b), inb(0x20), inb(0x21),
];

const kbcScript: Op[] = [
  { drain8042: true },
  out(0x64, 0x60), out(0x60, 0x45), out(0x64, 0x20), inb(0x64, 0xf7, 'QEMU never updates the status CMD/DATA bit'), inb(0x60),
  out(0x64, 0xaa), inb(0x60), out(0x64, 0xab), inb(0x60), out(0x64, 0xa9), inb(0x60),
  out(0x60, 0xee), inb(0x60),
  out(0x60, 0xff), inb(0x60), inb(0x60),
  out(0x60, 0xf2), inb(0x60), inb(0x60), inb(0x60),
  out(0x60, 0xed), inb(0x60), out(0x60, 0x02), inb(0x60),
  out(0x60, 0xf0), inb(0x60), out(0x60, 0x00), inb(0x60), inb(0x60),
  out(0x64, 0xd0), inb(0x60),
  out(0x64, 0xd2), out(0x60, 0x42), inb(0x64, 0xf7, 'QEMU never updates the status CMD/DATA bit'), inb(0x60),
  out(0x64, 0xd3), out(0x60, 0x5a), inb(0x64, 0xf7, 'QEMU never updates the status CMD/DATA bit'), inb(0x60),
  inb(0x64, 0xf7, 'QEMU never updates the status CMD/DATA bit'),
];

const cmosScript: Op[] = [
  inb(0x70),
  ...cmos(0x0a, 0x7f, 'UIP depends on the moment of the read'), ...cmos(0x0b), ...cmos(0x0d),
  out(0x70, 0x40), out(0x71, 0x5a), ...cmos(0x40),
  ...[0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x38, 0x3d, 0x5b, 0x5c, 0x5d, 0x5f].flatMap((i) => cmos(i)),
];

const REFRESH = 'the refresh bit toggles with time';
const NULL_COUNT = 'QEMU has no NULL COUNT status bit';
const OLD_COUNT = 'QEMU computes OUT from the previous count until a new one is written';
const pitScript: Op[] = [
  out(0x61, 0x00), inb(0x61, 0xcf, `${REFRESH}; OUT2 is what the BIOS left`),
  out(0x43, 0xb0), out(0x43, 0xe8), inb(0x42, 0x3f, `${NULL_COUNT}; ${OLD_COUNT}`),
  out(0x42, 0xff), out(0x42, 0xff), out(0x43, 0xe8), inb(0x42, 0xbf, NULL_COUNT),
  out(0x61, 0x01), inb(0x61, 0xef, REFRESH),
  out(0x43, 0xb6), out(0x43, 0xe8), inb(0x42, 0x3f, `${NULL_COUNT}; ${OLD_COUNT}`),
  out(0x43, 0x94), out(0x43, 0xe8), inb(0x42, 0x3f, `${NULL_COUNT}; ${OLD_COUNT}`),
  out(0x43, 0xab), out(0x43, 0xe8), inb(0x42, 0x3f, `${NULL_COUNT}; ${OLD_COUNT}`),
  out(0x61, 0x00),
];

const SCRIPTS: Record<string, Op[]> = { uart: uartScript, pic: picScript, kbc: kbcScript, cmos: cmosScript, pit: pitScript };
const RAM = 128 * 1024 * 1024;

/** The same script on our platform: the values of its reads, in order. */
function runOurs(pc: PcPlatform, ops: Op[]): number[] {
  const reads: number[] = [];
  for (const op of ops) {
    if ('out' in op) pc.bus.write(op.out, 1, op.value);
    else if ('in' in op) reads.push(pc.bus.read(op.in, 1));
    else while (pc.bus.read(0x64, 1) & 1) pc.bus.read(0x60, 1);
  }
  return reads;
}

/** nasm source of a multiboot (a.out kludge) guest that runs every script and exits. */
function guestSource(scripts: Op[][]): string {
  const lines = [
    'bits 32', 'org 0x100000',
    'header: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000), header, header, 0, 0, start',
    'start:',
  ];
  let label = 0;
  for (const op of scripts.flat()) {
    if ('out' in op) lines.push(`mov dx, ${op.out}`, `mov al, ${op.value}`, 'out dx, al');
    else if ('in' in op) lines.push(`mov dx, ${op.in}`, 'in al, dx', 'out 0xe9, al');
    else {
      label++;
      lines.push(`drain${label}: in al, 0x64`, 'test al, 1', `jz drained${label}`, 'in al, 0x60', `jmp drain${label}`, `drained${label}:`);
    }
  }
  lines.push('mov dx, 0xf4', 'mov al, 0', 'out dx, al', 'cli', 'hlt');
  return lines.join('\n') + '\n';
}

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

const tools = has('qemu-system-i386') && has('nasm');
if (!tools) console.warn('qemu-differential: skipped, qemu-system-i386 or nasm is not installed');

describe.skipIf(!tools)('PC devices against QEMU 7.2 (qemu-system-i386 -M pc)', () => {
  const qemuReads = new Map<string, number[]>();
  const ourReads = new Map<string, number[]>();
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'domus-pcdiff-'));
    const names = Object.keys(SCRIPTS);
    writeFileSync(join(dir, 'guest.asm'), guestSource(names.map((n) => SCRIPTS[n])));
    const nasm = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'guest.bin'), join(dir, 'guest.asm')], { encoding: 'utf8' });
    if (nasm.status !== 0) throw new Error(`nasm failed: ${nasm.stderr}`);
    const qemu = spawnSync(
      'qemu-system-i386',
      ['-M', 'pc', '-m', '128', '-display', 'none', '-nodefaults', '-serial', 'null', '-boot', 'order=dc', '-no-reboot',
        '-kernel', join(dir, 'guest.bin'), '-debugcon', `file:${join(dir, 'reads.bin')}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (qemu.status !== 1) throw new Error(`QEMU did not reach the guest's exit (status ${qemu.status}): ${qemu.stderr}`);
    const bytes = [...readFileSync(join(dir, 'reads.bin'))];
    // Ours runs the scripts in the same order on one platform, so state carries over alike.
    const pc = createPcPlatform({ clock: new FakeClock(), ramBelow4G: RAM, bootOrder: ['cdrom', 'disk'] });
    for (const name of names) {
      const count = SCRIPTS[name].filter((op) => 'in' in op).length;
      qemuReads.set(name, bytes.splice(0, count));
      ourReads.set(name, runOurs(pc, SCRIPTS[name]));
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Compares QEMU's and our reads under each read's mask, naming the failing read. */
  function compare(name: string): void {
    const ops = SCRIPTS[name];
    const ours = ourReads.get(name) ?? [];
    const theirs = qemuReads.get(name) ?? [];
    const readOps = ops.filter((op): op is Extract<Op, { in: number }> => 'in' in op);
    expect(theirs.length).toBe(readOps.length);
    const diffs: string[] = [];
    readOps.forEach((op, i) => {
      const mask = op.mask ?? 0xff;
      if ((ours[i] & mask) !== (theirs[i] & mask)) {
        diffs.push(`read #${i} of port 0x${op.in.toString(16)}: QEMU 0x${theirs[i].toString(16)}, ours 0x${ours[i].toString(16)} (mask 0x${mask.toString(16)})`);
      }
    });
    expect(diffs).toEqual([]);
  }

  it('agrees on the 16550A register contract (probe, divisor, FIFO, loopback, THRE interrupt)', () => compare('uart'));
  it('agrees on the 8259A contract (init, ELCR, IRR/ISR, poll, priority, EOI, rotation) with real IRQ sources', () => compare('pic'));
  it('agrees on the 8042 and keyboard answers', () => compare('kbc'));
  it('agrees on CMOS status registers and the memory and boot-order bytes for 128 MiB', () => compare('cmos'));
  it('agrees on the 8254 status bytes and port 0x61', () => compare('pit'));
});
