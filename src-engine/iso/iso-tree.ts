/**
 * The file tree an ISO image is made from: directories and files with their bytes, addressed by
 * "/"-separated paths. Names are kept exactly as given (GRUB reads plain ISO 9660 names
 * case-insensitively, spec §1.7), so two names that differ only in case are refused.
 */
import { IsoError } from '../base/errors';
import { utf8Bytes } from './bytes';

/** Longest file or directory name accepted, in UTF-8 bytes (a directory record holds at most 222). */
export const MAX_NAME_BYTES = 200;

/** Largest file stored in one extent: ECMA-119 data length is 32 bits; multi-extent files are not written. */
export const MAX_FILE_BYTES = 0xffff_ffff;

/** A regular file in the tree. */
export interface IsoFile {
  readonly kind: 'file';
  /** Name as recorded (without the ";1" version suffix the writer adds). */
  readonly name: string;
  data: Uint8Array;
}

/** A directory in the tree; children are keyed by lower-cased name. */
export interface IsoDir {
  readonly kind: 'dir';
  readonly name: string;
  readonly children: Map<string, IsoNode>;
}

/** A node of the tree. */
export type IsoNode = IsoFile | IsoDir;

/** Creates an empty directory (the root when `name` is ""). */
export function createIsoDir(name = ''): IsoDir {
  return { kind: 'dir', name, children: new Map() };
}

/** Checks one path component; throws IsoError naming the path when it cannot be recorded. */
export function checkIsoName(name: string, path: string): void {
  const fail = (why: string): never => {
    throw new IsoError('iso.bad-name', `Cannot put "${path}" on the ISO image: ${why}. Rename it.`, path);
  };
  if (name === '' || name === '.' || name === '..') fail('empty, "." or ".." path component');
  // eslint-disable-next-line no-control-regex
  if (/[/;\\\u0000-\u001f\u007f]/.test(name)) fail('the name contains ";", "\\", "/" or a control character');
  if (name.endsWith('.')) fail('GRUB drops a trailing "." from ISO 9660 names, so it could not find this name');
  if (utf8Bytes(name).length > MAX_NAME_BYTES) fail(`the name is longer than ${MAX_NAME_BYTES} bytes`);
}

/** Splits an absolute or relative "/"-separated path into checked components. */
export function splitIsoPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new IsoError('iso.bad-name', `"${path}" does not name a file on the ISO image.`, path);
  for (const p of parts) checkIsoName(p, path);
  return parts;
}

function childDir(dir: IsoDir, name: string, path: string): IsoDir {
  const key = name.toLowerCase();
  const existing = dir.children.get(key);
  if (existing === undefined) {
    const made = createIsoDir(name);
    dir.children.set(key, made);
    return made;
  }
  if (existing.kind !== 'dir') {
    throw new IsoError('iso.conflict', `Cannot make directory "${path}" on the ISO image: a file has that name.`, path);
  }
  if (existing.name !== name) caseClash(path, existing.name);
  return existing;
}

function caseClash(path: string, other: string): never {
  throw new IsoError(
    'iso.case-clash',
    `"${path}" and "${other}" differ only in upper/lower case; GRUB reads ISO names without case, so it could not tell them apart. Rename one.`,
    path,
  );
}

/** Returns the directory at `path` under `root`, creating missing directories. */
export function ensureIsoDir(root: IsoDir, path: string): IsoDir {
  let dir = root;
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) checkIsoName(p, path);
  for (const p of parts) dir = childDir(dir, p, path);
  return dir;
}

/**
 * Adds (or replaces, like a later graft point in xorriso) the file at `path`. The bytes are kept by
 * reference, not copied.
 */
export function addIsoFile(root: IsoDir, path: string, data: Uint8Array): void {
  const parts = splitIsoPath(path);
  if (data.length > MAX_FILE_BYTES) {
    throw new IsoError('iso.file-too-big', `"${path}" is 4 GiB or larger; the ISO writer stores files in one extent of less than 4 GiB.`, path);
  }
  let dir = root;
  for (const p of parts.slice(0, -1)) dir = childDir(dir, p, path);
  const name = parts[parts.length - 1];
  const key = name.toLowerCase();
  const existing = dir.children.get(key);
  if (existing !== undefined) {
    if (existing.kind === 'dir') {
      throw new IsoError('iso.conflict', `Cannot put file "${path}" on the ISO image: a directory has that name.`, path);
    }
    if (existing.name !== name) caseClash(path, existing.name);
  }
  dir.children.set(key, { kind: 'file', name, data });
}

/** Looks up a path; undefined when absent. Matching ignores case, as GRUB does. */
export function findIsoNode(root: IsoDir, path: string): IsoNode | undefined {
  let node: IsoNode = root;
  for (const p of path.split('/').filter((s) => s !== '')) {
    if (node.kind !== 'dir') return undefined;
    const next: IsoNode | undefined = node.children.get(p.toLowerCase());
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

/**
 * Compares two names in ECMA-119 9.3 order: the part before the first "." then the part after it,
 * each compared byte-wise as if padded with spaces.
 */
export function compareIsoNames(a: string, b: string): number {
  const [an, ae] = splitExt(a);
  const [bn, be] = splitExt(b);
  return comparePadded(an, bn) || comparePadded(ae, be);
}

function splitExt(name: string): [string, string] {
  const dot = name.indexOf('.');
  return dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
}

function comparePadded(a: string, b: string): number {
  const len = Math.max(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const ca = i < a.length ? a.charCodeAt(i) : 0x20;
    const cb = i < b.length ? b.charCodeAt(i) : 0x20;
    if (ca !== cb) return ca - cb;
  }
  return 0;
}

/** The children of a directory in recording order. */
export function sortedChildren(dir: IsoDir): IsoNode[] {
  return [...dir.children.values()].sort((x, y) => compareIsoNames(x.name, y.name));
}

/**
 * Copies every file of `src` into `dst` at the same paths (later files replace earlier ones, as
 * xorriso graft points do); directories are merged. File bytes are shared, not copied.
 */
export function graftIsoTree(dst: IsoDir, src: IsoDir, at = '/'): void {
  const base = at === '/' ? '' : '/' + at.split('/').filter(Boolean).join('/');
  for (const c of src.children.values()) {
    const p = `${base}/${c.name}`;
    if (c.kind === 'file') addIsoFile(dst, p, c.data);
    else {
      ensureIsoDir(dst, p);
      graftIsoTree(dst, c, p);
    }
  }
}
