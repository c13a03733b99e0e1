/**
 * The static half of `domus serve`: the built renderer (dist/renderer) over HTTP, GET and HEAD
 * only, paths confined to the renderer folder, and the security headers every response carries
 * (a strict Content-Security-Policy whose connect-src names this server's WebSocket only).
 */
import { existsSync, promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveStaticPath } from './static-path';

export { resolveStaticPath };

/** Content types by extension (what the Vite build emits). */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where the built renderer is: $DOMUS_RENDERER_DIR, else dist/renderer beside the bundle
 * (dist/node/cli.js -> dist/renderer), else the checkout's dist/renderer when running from sources.
 */
export function rendererDir(env: Record<string, string | undefined> = process.env): string {
  if (env.DOMUS_RENDERER_DIR) return path.resolve(env.DOMUS_RENDERER_DIR);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const src = parts.lastIndexOf('src-engine');
  if (src >= 0) return path.join(parts.slice(0, src).join(path.sep) || path.sep, 'dist', 'renderer');
  return path.join(path.dirname(here), 'renderer');
}

/** True when the renderer has been built into `dir`. */
export function rendererBuilt(dir: string): boolean {
  return existsSync(path.join(dir, 'index.html'));
}

/** The headers of every response; `wsOrigin` is the ws:// origin the page may connect to. */
export function securityHeaders(wsOrigin: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ${wsOrigin}; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Answers a static request (the caller has already checked the Host header). */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Only GET and HEAD are served here.\n');
    return;
  }
  const file = resolveStaticPath(root, req.url ?? '/');
  if (!file) {
    res.writeHead(400, { ...headers, 'Content-Type': 'text/plain' }).end('Bad path.\n');
    return;
  }
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const immutable = file.includes(`${path.sep}assets${path.sep}`);
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': st.size, 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-store' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.end(await fsp.readFile(file));
  } catch {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('Not found.\n');
  }
}
