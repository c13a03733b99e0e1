import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src-engine/node/cli-io';
import { mkisoCommand, parseModuleOption, parseSerialOption } from '../../../src-engine/node/commands/mkiso';
import { mkrescueCommand } from '../../../src-engine/node/commands/mkrescue';
import { readFile, readTree } from './iso-reader';

const work = mkdtempSync(path.join(tmpdir(), 'domus-iso-cmd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const KERNEL = path.join(__dirname, 'fixtures/mbinfo-kernel.elf');
writeFileSync(path.join(work, 'app'), 'HELLO-MODULE-0123');
writeFileSync(path.join(work, 'notmb.bin'), Buffer.alloc(9000, 0x90));

function capture(env: Record<string, string | undefined> = {}): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    cwd: work,
    env,
    out(t: string | Uint8Array) {
      io.stdout += typeof t === 'string' ? t : new TextDecoder().decode(t);
    },
    err(t: string) {
      io.stderr += t;
    },
  };
  return io;
}

describe('domus mkiso', () => {
  it('builds the ISO and the xl.cfg of the xen-single-kernel workflow', async () => {
    const io = capture();
    const code = await mkisoCommand(
      ['--kernel', KERNEL, '--module', 'app', '--append', '-uart=io:0x3f8', '--serial', 'com1,115200', '-o', 'out.iso', '--xl-cfg', 'out.cfg', '--memory', '256', '--vcpus', '2', '--modification-date=2024010203040506'],
      io,
    );
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const iso = new Uint8Array(readFileSync(path.join(work, 'out.iso')));
    const cfg = new TextDecoder().decode(readFile(iso, '/boot/grub/grub.cfg'));
    expect(cfg).toContain('multiboot /boot/mbinfo-kernel.elf -uart=io:0x3f8\n    module /boot/app\n');
    expect(new TextDecoder().decode(readFile(iso, '/boot/app'))).toBe('HELLO-MODULE-0123');
    const xl = readFileSync(path.join(work, 'out.cfg'), 'utf8');
    expect(xl).toContain(`disk = [ 'file:${path.join(work, 'out.iso')},hdc:cdrom,r' ]`);
    expect(xl).toContain('memory = 256\nvcpus = 2\n');
    expect(io.stdout).toContain('out.iso: ');
  });
  it('is deterministic with a fixed --modification-date', async () => {
    const args = (o: string) => ['--kernel', KERNEL, '--module', 'app a b', '-o', o, '--modification-date=2024010203040506'];
    expect(await mkisoCommand(args('d1.iso'), capture())).toBe(0);
    expect(await mkisoCommand(args('d2.iso'), capture())).toBe(0);
    expect(readFileSync(path.join(work, 'd1.iso')).equals(readFileSync(path.join(work, 'd2.iso')))).toBe(true);
  });
  it('prints the grub.cfg it would write and builds from an edited one', async () => {
    const io = capture();
    expect(await mkisoCommand(['--kernel', KERNEL, '--module', 'app "x y"', '--vga', '--title', 'T', '--print-grub-cfg'], io)).toBe(0);
    expect(io.stdout).toContain(`    module /boot/app 'x y'\n`);
    expect(io.stdout).toContain('terminal_output console');
    writeFileSync(path.join(work, 'edited.cfg'), io.stdout.replace('set timeout=0', 'set timeout=7'));
    const io2 = capture();
    expect(await mkisoCommand(['--kernel', KERNEL, '--module', 'app "x y"', '--grub-cfg', 'edited.cfg', '-o', 'edited.iso'], io2)).toBe(0);
    const iso = new Uint8Array(readFileSync(path.join(work, 'edited.iso')));
    expect(new TextDecoder().decode(readFile(iso, '/boot/grub/grub.cfg'))).toContain('set timeout=7');
  });
  it('refuses bad input clearly and leaves no file behind', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--kernel', 'missing.elf', '-o', 'bad1.iso'], 1, /Cannot read the loader .*missing\.elf: no such file/],
      [['--kernel', 'notmb.bin', '-o', 'bad2.iso'], 1, /notmb\.bin is not a multiboot kernel/],
      [['--kernel', KERNEL, '--module', 'nope', '-o', 'bad3.iso'], 1, /Cannot read the module .*nope/],
      [['--kernel', KERNEL, '-o', 'no-such-dir/bad4.iso'], 1, /the directory .*no-such-dir does not exist/],
      [['--kernel', KERNEL, '-o', 'bad5.iso', '--serial', 'com7'], 2, /there is no COM7/],
      [['--kernel', KERNEL], 2, /an output file is required/],
      [['--kernel', KERNEL, '-o', 'bad6.iso', '--memory', '64'], 2, /--memory describes the xl\.cfg; add --xl-cfg/],
      [['--kernel', KERNEL, '-o', 'bad7.iso', '--bogus'], 2, /unknown option --bogus/],
      [['--kernel', KERNEL, '-o', 'bad8.iso', '--grub-dir', 'nowhere'], 1, /Cannot read the GRUB directory/],
    ];
    for (const [args, code, message] of cases) {
      const io = capture();
      expect([args.join(' '), await mkisoCommand(args, io)]).toEqual([args.join(' '), code]);
      expect(io.stderr).toMatch(message);
      expect(io.stderr.startsWith('domus mkiso: ')).toBe(true);
    }
    expect(readdirSync(work).filter((f) => f.startsWith('bad') || f.endsWith('.tmp') || f.startsWith('.'))).toEqual([]);
  });
  it('parses --serial and --module values', () => {
    expect(parseSerialOption('com2,9600')).toEqual({ kind: 'serial', port: 2, speed: 9600 });
    expect(parseSerialOption('ttyS0')).toEqual({ kind: 'serial', port: 1, speed: 115200 });
    expect(parseModuleOption('app -x "a b" \'c\'', '/w')).toEqual({ path: '/w/app', args: '-x "a b" c' });
  });
});

describe('domus mkrescue', () => {
  it('grafts DIR on the root like grub-mkrescue, with graft points and a volume id', async () => {
    const src = path.join(work, 'isotree');
    mkdirSync(path.join(src, 'boot', 'grub'), { recursive: true });
    writeFileSync(path.join(src, 'boot', 'grub', 'grub.cfg'), 'set timeout=0\n');
    const io = capture({ SOURCE_DATE_EPOCH: '1700000000' });
    const code = await mkrescueCommand(['-o', 'rescue.iso', '-volid', 'HERMIT', 'isotree', `boot/kernel.elf=${KERNEL}`, '--compress=no', '--fonts=unicode'], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const iso = new Uint8Array(readFileSync(path.join(work, 'rescue.iso')));
    const paths = readTree(iso).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/boot/grub/grub.cfg', '/boot/kernel.elf', '/boot/grub/i386-pc/eltorito.img', '/boot/grub/i386-pc/normal.mod']));
    expect(new TextDecoder().decode(iso.subarray(16 * 2048 + 40, 16 * 2048 + 46))).toBe('HERMIT');
    expect(new TextDecoder().decode(iso.subarray(16 * 2048 + 813, 16 * 2048 + 827))).toBe('20231114221320');
  });
  it('answers --help and refuses what it cannot honour', async () => {
    const help = capture();
    expect(await mkrescueCommand(['--help'], help)).toBe(0);
    expect(help.stdout).toContain('Usage: domus mkrescue -o OUT.iso');
    const cases: [string[], number, RegExp][] = [
      [['-o', 'r1.iso', '-k', 'key.gpg', 'isotree'], 1, /--pubkey .* is not supported/],
      [['-o', 'r2.iso', '--core-compress=xz', 'isotree'], 1, /--core-compress=xz is not supported/],
      [['-o', 'r3.iso'], 2, /no SOURCE given/],
      [['-o', 'r4.iso', 'isotree', '--', '-as'], 2, /xorriso native command mode/],
      [['-o', 'r5.iso', 'no-such-tree'], 1, /Cannot read .*no-such-tree: it does not exist/],
    ];
    for (const [args, code, message] of cases) {
      const io = capture();
      expect([args.join(' '), await mkrescueCommand(args, io)]).toEqual([args.join(' '), code]);
      expect(io.stderr).toMatch(message);
    }
    expect(existsSync(path.join(work, 'r5.iso'))).toBe(false);
  });
});
