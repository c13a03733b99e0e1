/**
 * Reads host files and directories into an ISO tree (grub-mkrescue's SOURCE arguments and
 * xorriso-style graft points "ISO_PATH=HOST_PATH"). Symbolic links are followed (plain ISO 9660
 * has no links); loops and special files are refused with a message naming the path.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { IsoError } from '../../base/errors';
import { addIsoFile, ensureIsoDir, type IsoDir } from '../../iso/iso-tree';

/** Largest total of file bytes the in-memory builder accepts (the image is one buffer). */
export const MAX_TREE_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024 * 1024;

/** Running total of bytes read, shared by the calls of one build. */
export interface ReadBudget {
  bytes: number;
}

async function statOrFail(p: string): Promise<import('node:fs').Stats> {
  try {
    return await fsp.stat(p);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'it does not exist (or is a dangling link)' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new IsoError('iso.input', `Cannot read ${p}: ${why}.`, p);
  }
}

async function readFileOrFail(p: string, budget: ReadBudget): Promise<Uint8Array> {
  try {
    const data = new Uint8Array(await fsp.readFile(p));
    budget.bytes += data.length;
    if (budget.bytes > MAX_TREE_BYTES) {
      throw new IsoError('iso.too-big', `The files for the ISO exceed ${Math.floor(MAX_TREE_BYTES / 2 ** 20)} MiB (at ${p}); Domus builds images in memory and cannot make one this large.`, p);
    }
    return data;
  } catch (err) {
    if (err instanceof IsoError) throw err;
    throw new IsoError('iso.input', `Cannot read ${p}: ${(err as Error).message}.`, p);
  }
}

/**
 * Adds the host file or directory `hostPath` to `root` at `isoPath` ("/" grafts a directory's
 * contents on the root).
 */
export async function graftHostPath(root: IsoDir, isoPath: string, hostPath: string, budget: ReadBudget = { bytes: 0 }): Promise<void> {
  const seen = new Set<string>();
  const walk = async (iso: string, host: string): Promise<void> => {
    const st = await statOrFail(host);
    if (st.isFile()) {
      addIsoFile(root, iso === '/' ? `/${path.basename(host)}` : iso, await readFileOrFail(host, budget));
      return;
    }
    if (!st.isDirectory()) {
      throw new IsoError('iso.input', `${host} is not a regular file or directory (device, socket or pipe); it cannot go on an ISO image.`, host);
    }
    const real = await fsp.realpath(host);
    if (seen.has(real)) throw new IsoError('iso.input', `${host} links back to a directory above it; remove the symbolic-link loop.`, host);
    seen.add(real);
    if (iso !== '/') ensureIsoDir(root, iso);
    const names = (await fsp.readdir(host)).sort();
    for (const n of names) await walk(iso === '/' ? `/${n}` : `${iso}/${n}`, path.join(host, n));
    seen.delete(real);
  };
  await walk(isoPath, hostPath);
}

/**
 * Splits a grub-mkrescue source argument: "ISO_PATH=HOST_PATH" (xorriso -graft-points, "\=" for a
 * literal "=") or a plain host directory/file grafted on the root (a file keeps its base name).
 */
export function parseGraftArg(arg: string): { isoPath: string; hostPath: string } {
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] === '\\') {
      i++;
      continue;
    }
    if (arg[i] === '=') {
      const unescape = (s: string) => s.replace(/\\([=\\])/g, '$1');
      return { isoPath: '/' + unescape(arg.slice(0, i)).replace(/^\/+/, ''), hostPath: unescape(arg.slice(i + 1)) };
    }
  }
  return { isoPath: '/', hostPath: arg.replace(/\\([=\\])/g, '$1') };
}
