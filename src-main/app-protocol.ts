/**
 * The app:// scheme: the renderer is served from dist/renderer under app://domus/ (not file://),
 * with the same strict Content-Security-Policy the browser mode sends, and nothing outside that
 * folder reachable. Registered as a standard, secure scheme before the app is ready.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { protocol } from 'electron';
import { resolveStaticPath } from '../src-engine/node/serve/static-path';

/** Scheme and host of the renderer's origin. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'domus';
/** The renderer's origin. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** CSP of the app's pages: only its own scripts and styles, no network at all (the engine is a MessagePort). */
export const APP_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** True for a URL of the app's own pages. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Serves `rendererDir` under app://domus/. */
export function handleAppScheme(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (req) => {
    const u = new URL(req.url);
    const file = u.host === APP_HOST ? resolveStaticPath(rendererDir, u.pathname) : undefined;
    if (!file) return new Response('Not found', { status: 404 });
    try {
      const body = await fsp.readFile(file);
      return new Response(body, { headers: { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff' } });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}
