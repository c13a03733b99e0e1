import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IsoError } from '../../../src-engine/base/errors';
import { findIsoNode, createIsoDir } from '../../../src-engine/iso/iso-tree';
import { type AtomicWriteFs, nodeAtomicWriteFs, writeFileAtomic } from '../../../src-engine/node/iso/atomic-write';
import { findBundledGrubRoot, loadGrubDirectory } from '../../../src-engine/node/iso/grub-dir';
import { graftHostPath, parseGraftArg } from '../../../src-engine/node/iso/read-tree';
import { cacheDirFromEnv, cachingCoreCompressor, clearCoreCacheMemory } from '../../../src-engine/node/iso/core-cache';
import { lzmaRawDecompress } from '../../../src-engine/iso/lzma-raw';
import { BUNDLED_GRUB_DIR } from './fixtures';

const work = mkdtempSync(path.join(tmpdir(), 'domus-iso-node-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => {
  const d = path.join(work, `${name}-${n++}`);
  mkdirSync(d);
  return d;
};

async function rejection(p: Promise<unknown>): Promise<IsoError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(IsoError);
    return err as IsoError;
  }
  throw new Error('expected a rejection');
}

describe('atomic output', () => {
  it('writes the bytes and leaves no temporary file', async () => {
    const d = fresh('ok');
    const target = path.join(d, 'out.iso');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]), 'the ISO image');
    expect([...readFileSync(target)]).toEqual([1, 2, 3]);
    expect(readdirSync(d)).toEqual(['out.iso']);
  });
  it('on a full disk removes the temporary file, keeps the old target and says so', async () => {
    const d = fresh('full');
    const target = path.join(d, 'out.iso');
    writeFileSync(target, 'old');
    const failing: AtomicWriteFs = {
      ...nodeAtomicWriteFs,
      open: async (p, flags, mode) => {
        const h = await nodeAtomicWriteFs.open(p, flags, mode);
        return Object.assign(Object.create(h), {
          write: async () => {
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          },
          close: () => h.close(),
        });
      },
    };
    const err = await rejection(writeFileAtomic(target, new Uint8Array(10), 'the ISO image', failing));
    expect(err.code).toBe('iso.output-no-space');
    expect(err.message).toContain(`Out of disk space while writing the ISO image ${target}`);
    expect(readdirSync(d)).toEqual(['out.iso']);
    expect(readFileSync(target, 'utf8')).toBe('old');
  });
  it('names a missing directory, a directory target and a refused rename', async () => {
    const d = fresh('bad');
    const missing = await rejection(writeFileAtomic(path.join(d, 'nope', 'x.iso'), new Uint8Array(1), 'the ISO image'));
    expect(missing.message).toMatch(/the directory .*nope does not exist/);
    const isDir = await rejection(writeFileAtomic(d, new Uint8Array(1), 'the ISO image'));
    expect(isDir.message).toContain('it is a directory');
    const denied: AtomicWriteFs = { ...nodeAtomicWriteFs, rename: async () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); } };
    const e = await rejection(writeFileAtomic(path.join(d, 'y.iso'), new Uint8Array(1), 'the ISO image', denied));
    expect(e.message).toContain('permission denied');
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('GRUB directory check', () => {
  const copyGrub = () => {
    const d = path.join(fresh('grub'), 'i386-pc');
    cpSync(BUNDLED_GRUB_DIR, d, { recursive: true });
    return d;
  };
  it('finds and accepts the bundled GRUB', async () => {
    expect(findBundledGrubRoot()).toBe(path.dirname(BUNDLED_GRUB_DIR));
    const g = await loadGrubDirectory();
    expect(g.matchesManifest).toBe(true);
    expect(g.version).toBe('2.06-13+deb12u2');
    expect(g.files.get('kernel.img')!.length).toBe(readFileSync(path.join(BUNDLED_GRUB_DIR, 'kernel.img')).length);
  });
  it('accepts an identical copy given by --grub-dir or DOMUS_GRUB_DIR', async () => {
    const d = copyGrub();
    expect((await loadGrubDirectory(d)).matchesManifest).toBe(true);
    expect((await loadGrubDirectory(undefined, { DOMUS_GRUB_DIR: d })).dir).toBe(d);
  });
  it('refuses a same-build directory with a missing or changed file, naming it', async () => {
    const d = copyGrub();
    rmSync(path.join(d, 'normal.mod'));
    writeFileSync(path.join(d, 'serial.mod'), Buffer.concat([readFileSync(path.join(d, 'serial.mod')), Buffer.from([0])]));
    const err = await rejection(loadGrubDirectory(d));
    expect(err.message).toContain('normal.mod is missing');
    expect(err.message).toMatch(/serial\.mod is \d+ bytes, expected \d+/);
    expect(err.subject).toBe(path.join(d, 'normal.mod'));
  });
  it('accepts another, self-consistent build with a note, and refuses an inconsistent one', async () => {
    const d = copyGrub();
    const kernel = readFileSync(path.join(d, 'kernel.img'));
    kernel[0x100] ^= 0xff; // another build: different bytes, same shape
    writeFileSync(path.join(d, 'kernel.img'), kernel);
    const g = await loadGrubDirectory(d);
    expect(g.matchesManifest).toBe(false);
    expect(g.notes[0]).toContain('self-consistent');
    cpSync(path.join(d, 'serial.mod'), path.join(d, 'stray.mod'));
    rmSync(path.join(d, 'fshelp.mod'));
    const err = await rejection(loadGrubDirectory(d));
    expect(err.message).toContain('moddep.lst names module fshelp, but fshelp.mod is missing');
    expect(err.message).toContain('stray.mod calls itself "serial" in its .modname section');
    expect(err.message).toContain('stray.mod is not listed in moddep.lst');
  });
  it.skipIf(!existsSync('/usr/lib/grub/i386-pc/kernel.img'))('accepts the system GRUB directory', async () => {
    const g = await loadGrubDirectory('/usr/lib/grub/i386-pc');
    expect(g.files.has('normal.mod')).toBe(true);
  });
  it('refuses a directory that does not exist', async () => {
    const err = await rejection(loadGrubDirectory(path.join(work, 'none')));
    expect(err.message).toMatch(/Cannot read the GRUB directory .*none/);
  });
});

describe('host tree reader', () => {
  it('parses graft points like xorriso', () => {
    expect(parseGraftArg('/boot/app=/tmp/x')).toEqual({ isoPath: '/boot/app', hostPath: '/tmp/x' });
    expect(parseGraftArg('a\\=b=/h/c\\=d')).toEqual({ isoPath: '/a=b', hostPath: '/h/c=d' });
    expect(parseGraftArg('/some/dir')).toEqual({ isoPath: '/', hostPath: '/some/dir' });
  });
  it('reads directories and files, follows links and refuses loops', async () => {
    const d = fresh('tree');
    mkdirSync(path.join(d, 'boot', 'grub'), { recursive: true });
    writeFileSync(path.join(d, 'boot', 'grub', 'grub.cfg'), 'x');
    writeFileSync(path.join(d, 'real'), 'y');
    symlinkSync(path.join(d, 'real'), path.join(d, 'boot', 'link'));
    const root = createIsoDir();
    await graftHostPath(root, '/', d);
    await graftHostPath(root, '/extra/name', path.join(d, 'real'));
    expect(findIsoNode(root, '/boot/grub/grub.cfg')?.kind).toBe('file');
    expect(findIsoNode(root, '/boot/link')?.kind).toBe('file');
    expect(findIsoNode(root, '/extra/name')?.kind).toBe('file');
    symlinkSync(d, path.join(d, 'boot', 'loop'));
    const err = await rejection(graftHostPath(createIsoDir(), '/', d));
    expect(err.message).toContain('symbolic-link loop');
    await fsp.rm(path.join(d, 'boot', 'loop'));
    const gone = await rejection(graftHostPath(createIsoDir(), '/', path.join(d, 'absent')));
    expect(gone.message).toMatch(/Cannot read .*absent: it does not exist/);
  });
});

describe('compressed core cache', () => {
  it('stores the stream on disk, reuses it, and ignores a damaged entry', () => {
    const dir = fresh('cache');
    const payload = new Uint8Array(20_000).map((_, i) => (i * 13) % 97);
    clearCoreCacheMemory();
    const first = cachingCoreCompressor(dir)(payload);
    expect(Buffer.from(lzmaRawDecompress(first, payload.length)).equals(Buffer.from(payload))).toBe(true);
    const [entry] = readdirSync(path.join(dir, 'grub-core'));
    expect(entry).toMatch(/^[0-9a-f]{64}\.lzma$/);
    const file = path.join(dir, 'grub-core', entry);
    // A valid entry is used as stored: mark it (recomputing the hash) and see the mark come back.
    clearCoreCacheMemory();
    const marked = Uint8Array.from(first);
    marked[marked.length - 1] ^= 1;
    writeFileSync(file, Buffer.concat([Buffer.from('DOMUSLZ1'), createHash('sha256').update(marked).digest(), marked]));
    expect(Buffer.from(cachingCoreCompressor(dir)(payload)).equals(Buffer.from(marked))).toBe(true);
    // A torn entry (hash mismatch) is ignored and rewritten with a good stream.
    clearCoreCacheMemory();
    writeFileSync(file, readFileSync(file).subarray(0, 60));
    const again = cachingCoreCompressor(dir)(payload);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    expect(readFileSync(file).length).toBe(8 + 32 + first.length);
  });
  it('finds the cache directory from the environment', () => {
    expect(cacheDirFromEnv({ DOMUS_CACHE_DIR: '/c', HOME: '/h' })).toBe('/c');
    expect(cacheDirFromEnv({ DOMUS_CACHE_DIR: '', HOME: '/h' })).toBeUndefined();
    expect(cacheDirFromEnv({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/domus');
    expect(cacheDirFromEnv({ HOME: '/h' })).toBe('/h/.cache/domus');
    expect(cacheDirFromEnv({})).toBeUndefined();
  });
});
