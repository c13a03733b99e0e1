/**
 * Writes an output file so that it is either complete or absent: the bytes go to a temporary file
 * in the same directory, which is fsynced and then renamed over the target. On any failure the
 * temporary file is removed and the error says, for the user, what went wrong with which path.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { IsoError } from '../../base/errors';

/** The file-system calls atomic writes use (tests substitute failing ones). */
export interface AtomicWriteFs {
  open(p: string, flags: string, mode: number): Promise<fsp.FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(p: string): Promise<void>;
  stat(p: string): Promise<{ isDirectory(): boolean }>;
}

/** The real file system. */
export const nodeAtomicWriteFs: AtomicWriteFs = {
  open: (p, flags, mode) => fsp.open(p, flags, mode),
  rename: (a, b) => fsp.rename(a, b),
  unlink: (p) => fsp.unlink(p),
  stat: (p) => fsp.stat(p),
};

/** Mode of created files (before the umask): rw-r--r--. */
const FILE_MODE = 0o644;
/** Largest single write call (keeps memory pressure and partial writes manageable). */
const WRITE_CHUNK = 8 * 1024 * 1024;

/** Turns a Node.js file-system error into a user-facing IsoError about `target`. */
export function outputError(err: unknown, target: string, what: string): IsoError {
  if (err instanceof IsoError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  const dir = path.dirname(target);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new IsoError('iso.output-no-space', `Out of disk space while writing ${what} ${target}; nothing was written. Free some space or choose another place.`, target);
    case 'EACCES':
    case 'EPERM':
      return new IsoError('iso.output-unwritable', `Cannot write ${what} ${target}: permission denied in ${dir}. Choose a directory you can write to.`, target);
    case 'EROFS':
      return new IsoError('iso.output-unwritable', `Cannot write ${what} ${target}: ${dir} is on a read-only file system.`, target);
    case 'ENOENT':
    case 'ENOTDIR':
      return new IsoError('iso.output-unwritable', `Cannot write ${what} ${target}: the directory ${dir} does not exist.`, target);
    case 'EISDIR':
      return new IsoError('iso.output-unwritable', `Cannot write ${what} ${target}: it is a directory. Give a file name.`, target);
    default:
      return new IsoError('iso.output-failed', `Cannot write ${what} ${target}: ${(err as Error)?.message ?? String(err)}.`, target);
  }
}

/**
 * Writes `data` to `target` atomically (temp file in the same directory, fsync, rename).
 * `what` names the file in errors ("the ISO image", "the xl.cfg").
 */
export async function writeFileAtomic(target: string, data: Uint8Array, what = 'the file', fs: AtomicWriteFs = nodeAtomicWriteFs): Promise<void> {
  const abs = path.resolve(target);
  try {
    if ((await fs.stat(abs)).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw outputError(err, abs, what);
  }
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fsp.FileHandle | undefined;
  let created = false;
  try {
    handle = await fs.open(tmp, 'wx', FILE_MODE);
    created = true;
    for (let off = 0; off < data.length; ) {
      const { bytesWritten } = await handle.write(data, off, Math.min(WRITE_CHUNK, data.length - off));
      off += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, abs);
    created = false;
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (created) await fs.unlink(tmp).catch(() => undefined);
    throw outputError(err, abs, what);
  }
  // Make the rename itself durable (best effort: not every platform can fsync a directory).
  try {
    const dir = await fsp.open(path.dirname(abs), 'r');
    await dir.sync().catch(() => undefined);
    await dir.close();
  } catch {
    // ignored
  }
}

/**
 * Checks before any work that `target` can be created: its directory exists and is writable and
 * the target is not a directory. Throws the same errors writeFileAtomic would.
 */
export async function checkOutputPath(target: string, what = 'the file'): Promise<void> {
  const abs = path.resolve(target);
  try {
    const dir = await fsp.stat(path.dirname(abs));
    if (!dir.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await fsp.access(path.dirname(abs), fsConstants.W_OK);
    const st = await fsp.stat(abs).catch(() => undefined);
    if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw outputError(err, abs, what);
  }
}
