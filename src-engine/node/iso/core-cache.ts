/**
 * A cache of compressed GRUB core payloads. The payload (GRUB kernel + embedded modules + config)
 * is identical for every build with the same GRUB files and core options, and the JavaScript LZMA
 * encoder is slow while the JIT warms up (several hundred ms in a fresh process), so the stream is
 * kept in memory and, when a cache directory is known, on disk as
 * `<cache>/grub-core/<sha256 of payload>.lzma`.
 *
 * Entry format: 8-byte magic "DOMUSLZ1", 32-byte SHA-256 of the stream, then the stream. An entry
 * whose hash does not match is ignored and rewritten, so a torn or damaged file can never reach an
 * ISO. Any cache error is ignored (the cache is only an optimisation).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lzmaRawCompress } from '../../iso/lzma-raw';

/** Environment variable naming the cache directory; empty disables the disk cache. */
export const CACHE_DIR_ENV = 'DOMUS_CACHE_DIR';
const MAGIC = new TextEncoder().encode('DOMUSLZ1');
const HASH_BYTES = 32;
/** Streams kept in memory (one per distinct GRUB build/options; a handful at most). */
const MEMORY_ENTRIES = 8;
const memory = new Map<string, Uint8Array>();

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/**
 * The cache directory: $DOMUS_CACHE_DIR, else $XDG_CACHE_HOME/domus, else $HOME/.cache/domus;
 * undefined (memory only) when none of them is set or DOMUS_CACHE_DIR is empty.
 */
export function cacheDirFromEnv(env: Record<string, string | undefined>): string | undefined {
  const explicit = env[CACHE_DIR_ENV];
  if (explicit !== undefined) return explicit === '' ? undefined : explicit;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'domus');
  if (env.HOME) return path.join(env.HOME, '.cache', 'domus');
  if (env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'domus', 'cache');
  return undefined;
}

function readEntry(file: string): Uint8Array | undefined {
  try {
    const b = new Uint8Array(readFileSync(file));
    if (b.length < MAGIC.length + HASH_BYTES || !MAGIC.every((x, i) => b[i] === x)) return undefined;
    const stream = b.slice(MAGIC.length + HASH_BYTES);
    const want = b.subarray(MAGIC.length, MAGIC.length + HASH_BYTES);
    return Buffer.from(sha256(stream)).equals(Buffer.from(want)) ? stream : undefined;
  } catch {
    return undefined;
  }
}

function writeEntry(file: string, stream: Uint8Array): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, Buffer.concat([MAGIC, sha256(stream), stream]));
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
  }
}

/** A compressor for CoreImageOptions.compress that remembers its results. */
export function cachingCoreCompressor(cacheDir: string | undefined): (payload: Uint8Array) => Uint8Array {
  return (payload) => {
    const key = sha256(payload).toString('hex');
    const hit = memory.get(key);
    if (hit) return hit;
    const file = cacheDir === undefined ? undefined : path.join(cacheDir, 'grub-core', `${key}.lzma`);
    let stream = file === undefined ? undefined : readEntry(file);
    if (stream === undefined) {
      stream = lzmaRawCompress(payload);
      if (file !== undefined) writeEntry(file, stream);
    }
    if (memory.size >= MEMORY_ENTRIES) memory.delete(memory.keys().next().value as string);
    memory.set(key, stream);
    return stream;
  };
}

/** Forgets the in-memory entries (tests; the disk cache stays). */
export function clearCoreCacheMemory(): void {
  memory.clear();
}
