/**
 * The Linux test image recipe (scripts/linux-image): the cpio newc writer read back field by
 * field, and - when the recipe has run - the initramfs it built: deterministic metadata, /init
 * with the fixed lines of markers.json, an i386 busybox.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, buildCpio } from '../../../scripts/linux-image/cpio.mjs';
import markers from '../../../scripts/linux-image/markers.json';

interface Member {
  offset: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
  data: Buffer;
}

/** Reads a newc archive the way the kernel's init/initramfs.c does, checking magic and padding. */
function readCpio(buf: Buffer): Member[] {
  const out: Member[] = [];
  let at = 0;
  for (;;) {
    expect(at % 4).toBe(0);
    expect(buf.toString('ascii', at, at + 6)).toBe('070701');
    const f = (i: number) => parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const namesize = f(11);
    const name = buf.toString('utf8', at + 110, at + 110 + namesize - 1);
    expect(buf[at + 110 + namesize - 1]).toBe(0);
    const dataAt = Math.ceil((at + 110 + namesize) / 4) * 4;
    const size = f(6);
    const m = { offset: at, ino: f(0), mode: f(1), uid: f(2), gid: f(3), nlink: f(4), mtime: f(5), rdevMajor: f(9), rdevMinor: f(10), name, data: buf.subarray(dataAt, dataAt + size) };
    expect(f(12)).toBe(0); // c_check
    at = Math.ceil((dataAt + size) / 4) * 4;
    if (name === 'TRAILER!!!') {
      expect(at).toBe(buf.length);
      return out;
    }
    out.push(m);
  }
}

describe('cpio newc writer', () => {
  const entries = [
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    { name: 'bin/a', mode: S_IFREG | 0o755, data: Buffer.from('hello') },
    { name: 'bin/sh', mode: S_IFLNK | 0o777, data: Buffer.from('busybox') },
    { name: 'x', mode: S_IFREG | 0o644, data: Buffer.alloc(0) },
  ];

  it('writes every field the kernel reads, names and data 4-byte aligned, then the trailer', () => {
    const members = readCpio(buildCpio(entries, 1234));
    expect(members.map((m) => [m.name, m.ino, m.mode, m.uid, m.gid, m.nlink, m.mtime, m.rdevMajor, m.rdevMinor, m.data.toString()])).toEqual([
      ['bin', 1, S_IFDIR | 0o755, 0, 0, 2, 1234, 0, 0, ''],
      ['dev/console', 2, S_IFCHR | 0o600, 0, 0, 1, 1234, 5, 1, ''],
      ['bin/a', 3, S_IFREG | 0o755, 0, 0, 1, 1234, 0, 0, 'hello'],
      ['bin/sh', 4, S_IFLNK | 0o777, 0, 0, 1, 1234, 0, 0, 'busybox'],
      ['x', 5, S_IFREG | 0o644, 0, 0, 1, 1234, 0, 0, ''],
    ]);
  });

  it('is deterministic: the same entries give the same bytes', () => {
    expect(buildCpio(entries, 0).equals(buildCpio(entries.map((e) => ({ ...e })), 0))).toBe(true);
    expect(buildCpio(entries, 0).equals(buildCpio(entries, 1))).toBe(false);
  });
});

const CACHE = process.env.DOMUS_CACHE_DIR ? path.join(process.env.DOMUS_CACHE_DIR, 'linux-image') : path.join(homedir(), '.cache', 'domus', 'linux-image');
const INITRD = path.join(CACHE, 'initrd.gz');
const haveInitrd = existsSync(INITRD);
if (!haveInitrd) console.warn(`No ${INITRD}: skipping the checks of the built initramfs (run node scripts/linux-image/build.mjs).`);

describe.skipIf(!haveInitrd)('the initramfs the recipe built', () => {
  const gz = haveInitrd ? readFileSync(INITRD) : Buffer.alloc(0);
  const members = haveInitrd ? readCpio(gunzipSync(gz)) : [];
  const byName = new Map(members.map((m) => [m.name, m]));

  it('has no build-time data: gzip mtime 0, every member 0:0 with mtime 0', () => {
    expect([gz[0], gz[1], gz.readUInt32LE(4)]).toEqual([0x1f, 0x8b, 0]);
    expect((gz[3] & 0x08) === 0).toBe(true); // no FNAME
    for (const m of members) expect([m.name, m.uid, m.gid, m.mtime]).toEqual([m.name, 0, 0, 0]);
  });

  it('has /init printing the fixed lines of markers.json, and the reboot switch', () => {
    const init = byName.get('init');
    expect(init?.mode).toBe(S_IFREG | 0o755);
    const text = init!.data.toString('utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).not.toMatch(/@[A-Z_]+@/);
    for (const line of [markers.marker, markers.cpusPrefix, markers.resultPrefix, markers.poweroff, markers.reboot, markers.rebootParameter]) expect(text).toContain(line);
    expect(text).toContain('dd if=/dev/zero bs=1M count=16');
    expect(text).toMatch(/reboot -f/);
    expect(text).toMatch(/poweroff -f/);
  });

  it('has an i386 static busybox, the applets as links to it, and /dev/console', () => {
    const bb = byName.get('bin/busybox')!.data;
    expect([...bb.subarray(0, 5)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 1]); // ELF, 32-bit
    expect(bb.readUInt16LE(18)).toBe(3); // EM_386
    for (const a of ['sh', 'mount', 'dd', 'md5sum', 'poweroff', 'reboot']) expect(byName.get(`bin/${a}`)).toMatchObject({ mode: S_IFLNK | 0o777 });
    expect(byName.get('bin/sh')!.data.toString()).toBe('busybox');
    expect(byName.get('dev/console')).toMatchObject({ mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 });
  });
});
