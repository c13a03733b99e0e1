// The CPU test guests (test/guests, docs/test-guests.md): each is run under QEMU TCG, the oracle
// the guests are validated against, and must print PASS for every check (FAIL only for the checks
// listed as known QEMU deviations), a consistent DONE line, and exit through isa-debug-exit. Also:
// the committed ELFs, vectors, manifest and check list are exactly what build.sh makes, and the
// output parser/judge that the Domus runner shares catches what it must.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  QEMU_EXIT_ALL_PASSED, QEMU_EXIT_SOME_FAILED, TEST_GUESTS, judgeGuestOutput, parseGuestOutput, qemuArgs,
  type TestGuest,
} from '../guests/index';

const QEMU = 'qemu-system-i386';
const GUEST_TIMEOUT_MS = 20_000;
const BUILD_TIMEOUT_MS = 120_000;
const GUESTS_DIR = fileURLToPath(new URL('../guests/', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/test-guests.md', import.meta.url));

function has(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
}
const hasQemu = has(QEMU, ['--version']);
if (!hasQemu) console.warn(`guests-qemu: QEMU runs skipped, ${QEMU} is not installed (Debian package qemu-system-x86)`);
function canUseKvm(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
const hasKvm = hasQemu && canUseKvm();
const hasTools = has('nasm', ['-v']) && has('ld', ['-v']) && has('gcc', ['-m32', '-print-libgcc-file-name'])
  && ['ia32', 'x64'].includes(process.arch);
if (!hasTools) console.warn('guests-qemu: rebuild check skipped, it needs nasm, binutils and gcc -m32 (gcc-multilib) on x86');

describe('CPU test guests under QEMU TCG', () => {
  it('lists every guest with its checks', () => {
    expect(TEST_GUESTS.length).toBeGreaterThan(0);
    for (const g of TEST_GUESTS) {
      expect(existsSync(g.elfPath), g.elfPath).toBe(true);
      expect(g.checkCount, g.name).toBe(g.checks.length);
      expect(new Set(g.checks).size, `${g.name}: duplicate check names`).toBe(g.checks.length);
      for (const d of g.qemuDeviations) expect(g.checks, `${g.name}: deviation ${d}`).toContain(d);
    }
  });

  for (const g of TEST_GUESTS) {
    if (g.qemuUnusable) {
      // TCG cannot run it; with KVM the checks run on the host CPU itself
      it.skipIf(!hasKvm)(`${g.name}: ${g.checkCount} checks pass on the host CPU through KVM (TCG: ${g.qemuUnusable})`, () => {
        const run = spawnSync(QEMU, ['-enable-kvm', '-cpu', 'qemu32', ...qemuArgs(g.elfPath)],
          { encoding: 'utf8', timeout: GUEST_TIMEOUT_MS });
        expect(run.error, `${g.name}: QEMU/KVM did not finish in ${GUEST_TIMEOUT_MS} ms`).toBeUndefined();
        expect(judgeGuestOutput(g, parseGuestOutput(run.stdout))).toEqual([]);
        expect(run.status).toBe(QEMU_EXIT_ALL_PASSED);
      });
      continue;
    }
    it.skipIf(!hasQemu)(`${g.name}: ${g.checkCount} checks pass`, () => {
      const run = spawnSync(QEMU, qemuArgs(g.elfPath), { encoding: 'utf8', timeout: GUEST_TIMEOUT_MS });
      expect(run.error, `${g.name}: QEMU did not finish in ${GUEST_TIMEOUT_MS} ms`).toBeUndefined();
      const out = parseGuestOutput(run.stdout);
      expect(judgeGuestOutput(g, out, g.qemuDeviations)).toEqual([]);
      // the deviations are real: QEMU fails each of them (if it starts passing one, drop it)
      expect(out.failed.map((f) => f.check).sort()).toEqual([...g.qemuDeviations].sort());
      expect(run.status).toBe(out.failed.length > 0 ? QEMU_EXIT_SOME_FAILED : QEMU_EXIT_ALL_PASSED);
    });
  }
});

describe('CPU test guests: the committed build', () => {
  it.skipIf(!hasTools)('is what test/guests/build.sh makes from the sources', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'domus-guests-'));
    try {
      const copy = path.join(root, 'test', 'guests');
      cpSync(GUESTS_DIR, copy, { recursive: true, filter: (src) => !src.includes(`${path.sep}obj`) });
      mkdirSync(path.join(root, 'docs'));
      cpSync(DOC, path.join(root, 'docs', 'test-guests.md'));
      execFileSync('sh', [path.join(copy, 'build.sh')], { stdio: 'pipe', timeout: BUILD_TIMEOUT_MS });
      const files = ['manifest.ts', ...readdirSync(path.join(GUESTS_DIR, 'build')).map((f) => `build/${f}`)];
      for (const g of TEST_GUESTS) {
        const v = `${g.name}/${g.name}-vectors.asm`;
        if (existsSync(path.join(GUESTS_DIR, v))) files.push(v);
      }
      for (const f of files) {
        const same = readFileSync(path.join(GUESTS_DIR, f)).equals(readFileSync(path.join(copy, f)));
        expect(same, `${f} differs from a fresh build: run test/guests/build.sh and commit`).toBe(true);
      }
      expect(readFileSync(path.join(root, 'docs', 'test-guests.md'), 'utf8'), 'docs/test-guests.md check list')
        .toBe(readFileSync(DOC, 'utf8'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, BUILD_TIMEOUT_MS);
});

describe('CPU test guests: output parser and judge', () => {
  const guest: TestGuest = {
    name: 'demo', elfPath: '/nonexistent', checks: ['a.one', 'a.two', 'b.three'], checkCount: 3,
    qemuDeviations: ['b.three'], theme: 'demo',
  };

  it('parses PASS, FAIL, DONE and other lines, tolerating CR', () => {
    const out = parseGuestOutput([
      'PASS a.one\r',
      'FAIL a.two expected=00000005 got=00000006 step=3',
      'FAIL b.three expected=00000001:00000000:00000885 got=00000001:00000000:00000884 in=1:2:3:4:5',
      'FATAL unexpected exception vector=0000000d error=00000000 eip=00100010',
      'DONE demo pass=1 fail=2',
    ].join('\n'));
    expect(out.passed).toEqual(['a.one']);
    expect(out.failed).toEqual([
      { check: 'a.two', expected: '00000005', got: '00000006', detail: 'step=3' },
      { check: 'b.three', expected: '00000001:00000000:00000885', got: '00000001:00000000:00000884', detail: 'in=1:2:3:4:5' },
    ]);
    expect(out.other).toEqual(['FATAL unexpected exception vector=0000000d error=00000000 eip=00100010']);
    expect(out.done).toEqual({ guest: 'demo', pass: 1, fail: 2 });
  });

  it('accepts a clean run and tolerated failures only', () => {
    const clean = parseGuestOutput('PASS a.one\nPASS a.two\nPASS b.three\nDONE demo pass=3 fail=0\n');
    expect(judgeGuestOutput(guest, clean)).toEqual([]);
    const dev = parseGuestOutput('PASS a.one\nPASS a.two\nFAIL b.three expected=1 got=2 step=1\nDONE demo pass=2 fail=1\n');
    expect(judgeGuestOutput(guest, dev, guest.qemuDeviations)).toEqual([]);
    expect(judgeGuestOutput(guest, dev)).toEqual(['FAIL b.three expected=1 got=2 step=1']);
  });

  it('reports missing, repeated and unknown checks, and a missing or inconsistent DONE', () => {
    const bad = parseGuestOutput('PASS a.one\nPASS a.one\nPASS c.extra\n');
    expect(judgeGuestOutput(guest, bad)).toEqual([
      'a.one: printed 2 times, expected once',
      'a.two: printed 0 times, expected once',
      'b.three: printed 0 times, expected once',
      'c.extra: not a check of demo',
      'no DONE line (output ended early)',
    ]);
    const lying = parseGuestOutput('PASS a.one\nPASS a.two\nPASS b.three\nDONE other pass=3 fail=1\n');
    expect(judgeGuestOutput(guest, lying)).toEqual([
      'DONE names other, expected demo',
      'DONE pass=3 fail=1 disagrees with the lines printed',
    ]);
  });
});
