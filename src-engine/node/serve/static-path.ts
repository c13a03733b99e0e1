/**
 * Confining a URL path to a folder: shared by `domus serve` and the Electron app's app:// scheme
 * (no import.meta here, so the CommonJS main bundle can use it).
 */
import path from 'node:path';

/**
 * The file a URL path names inside `root`, or undefined when it would leave `root` (.., encoded
 * slashes, NUL) or is not a plain relative path. "/" is index.html.
 */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return undefined;
  }
  if (p.includes('\0') || p.includes('\\')) return undefined;
  if (p === '/' || p === '') p = '/index.html';
  const full = path.resolve(root, `.${path.posix.normalize(p)}`);
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return full;
}
