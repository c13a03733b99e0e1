import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';

const RUN = path.resolve('test/fixtures/run');
const GUESTS = path.resolve('test/fixtures/guests');

function domusRun(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/domus', 'run', ...args], { encoding: 'latin1', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('domus run: exit codes and messages', () => {
  it('boots bench.elf, prints the three checksums and exits with the debug-exit status', () => {
    const r = domusRun('--kernel', `${GUESTS}/bench.elf`, '--debug-exit', '--stats');
    expect(r.out).toContain('END alu');
    expect(r.out).toMatch(/END alu tsc=\d+ result=0xb58b4372/);
    expect(r.out).toMatch(/END mem tsc=\d+ result=0xc0089bc3/);
    expect(r.out).toMatch(/END call tsc=\d+ result=0x003f7ac8/);
    expect(r.out).toContain('BENCH DONE');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/632\d{6} instructions retired/);
    expect(r.err).toMatch(/VM exits: .*io-out=\d+/);
  }, 120_000);

  it('writes serial output only to stdout, nothing else', () => {
    const r = domusRun('--kernel', `${RUN}/poweroff.elf`, '--debug-exit');
    expect(r.out).toBe('FAULT GUEST UP\n');
    expect(r.code).toBe((0x2a << 1) | 1);
  });

  it('ends with 0 when every VCPU halts with interrupts off', () => {
    expect(domusRun('--kernel', `${RUN}/clihlt.elf`).code).toBe(0);
  });

  it.each(['triple', 'divzero', 'garbage'])('a %s guest ends with 4, a message and the guest state', (k) => {
    const r = domusRun('--kernel', `${RUN}/${k}.elf`, '--timeout', '20');
    expect(r.code).toBe(4);
    expect(r.err).toContain('triple fault');
    expect(r.err).toMatch(/EIP=[0-9a-f]{8}/);
    expect(r.err).not.toMatch(/\bat .*\.js:\d+/);
  });

  it.each([1, 2, 3])('brings up %i VCPU(s) with INIT/SIPI, IPIs, the APIC timer and the 8259, then powers off through ACPI', (n) => {
    const r = domusRun('--kernel', path.resolve('test/fixtures/smp/smp.bin'), '--vcpus', String(n), '--machine', 'qemu-testdev', '--timeout', '30');
    expect(r.out).toBe('PASS\n');
    expect(r.code).toBe(0);
  });

  it('times out with 124', () => {
    const r = domusRun('--kernel', `${GUESTS}/spin.elf`, '--timeout', '1');
    expect(r.code).toBe(124);
    expect(r.out).toContain('SPIN START');
  });

  it('refuses bad input with 2 and names the file and the problem', () => {
    const notElf = domusRun('--kernel', `${RUN}/not-elf.bin`);
    expect(notElf.code).toBe(2);
    expect(notElf.err).toContain('not-elf.bin');
    expect(notElf.err).toContain('not a multiboot kernel');
    const missing = domusRun('--kernel', `${RUN}/nope.elf`);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.elf: no such file');
    // A 3 MiB module cannot fit beside the kernel in 2 MiB of RAM.
    const big = path.join(mkdtempSync(path.join(os.tmpdir(), 'domus-run-')), 'big.bin');
    writeFileSync(big, new Uint8Array(3 << 20));
    const small = domusRun('--kernel', `${RUN}/clihlt.elf`, '--module', big, '--memory', '2');
    expect(small.code).toBe(2);
    expect(small.err).toContain('big.bin');
    expect(domusRun('--kernel').code).toBe(2);
    expect(domusRun('--frobnicate').err).toContain('Unknown option "--frobnicate"');
  });
});
