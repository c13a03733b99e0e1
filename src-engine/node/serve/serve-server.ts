/**
 * `domus serve`: the GUI in a browser. One HTTP server gives the built renderer and, at /api, a
 * WebSocket to the engine API. Access needs the token printed with the URL (compared in constant
 * time); the server binds to loopback unless told otherwise, and on loopback it answers only
 * requests whose Host header names loopback (no DNS rebinding). A WebSocket from a browser must
 * come from this server's own origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { DomusError } from '../../base/errors';
import type { ApiService } from '../service/api-service';
import { rendererBuilt, securityHeaders, serveStatic } from './static-files';
import { attachWebSocket } from './ws-carrier';

/** The API path. */
export const API_PATH = '/api';
/** Close code telling the page its token was refused (the renderer explains it). */
export const WS_CLOSE_BAD_TOKEN = 4401;
/** Largest inbound WebSocket message, bytes (a big paste into a console fits). */
export const MAX_INBOUND_BYTES = 4 * 1024 * 1024;
/** Bytes of randomness in a generated token (256 bits). */
const TOKEN_BYTES = 32;

/** Options of the server. */
export interface ServeOptions {
  service: ApiService;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** Access token; default: random. */
  token?: string;
  /** The built renderer folder. */
  staticDir: string;
}

/** A running server. */
export interface ServeHandle {
  /** The URL to open (carries the token). */
  url: string;
  /** The URL without the token. */
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** A fresh random token (URL-safe). */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Constant-time comparison of a presented token with the real one. */
export function tokenMatches(presented: string | null, token: string): boolean {
  if (presented === null) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** On a loopback bind: does a Host header name loopback at our port? */
export function hostHeaderAllowed(hostHeader: string | undefined, port: number, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
  if (!m) return false;
  return isLoopback(m[1].toLowerCase()) && (m[2] === undefined ? port === 80 : Number(m[2]) === port);
}

/** Starts the server. */
export async function startServe(o: ServeOptions): Promise<ServeHandle> {
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? newToken();
  if (token.length < 16) throw new DomusError('serve.token', 'The access token must be at least 16 characters long.');
  if (!rendererBuilt(o.staticDir)) {
    throw new DomusError('serve.no-renderer', `The GUI is not built: ${o.staticDir}/index.html is missing. Run \`npm run build\` in the Domus checkout first.`, o.staticDir);
  }
  const loopbackOnly = isLoopback(host);
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INBOUND_BYTES });
  let port = 0;
  let clients = 0;
  const wsOrigin = () => `ws://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;

  server.on('request', (req, res) => {
    const headers = securityHeaders(`${wsOrigin()} ws://localhost:${port}`);
    if (!hostHeaderAllowed(req.headers.host, port, loopbackOnly)) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain' }).end('This server answers only to localhost / 127.0.0.1.\n');
      return;
    }
    void serveStatic(o.staticDir, req, res, headers);
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== API_PATH) return refuse(404, 'Not Found');
    if (!hostHeaderAllowed(req.headers.host, port, loopbackOnly)) return refuse(421, 'Misdirected Request');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return refuse(403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!tokenMatches(url.searchParams.get('token'), token)) {
        ws.close(WS_CLOSE_BAD_TOKEN, 'bad token');
        return;
      }
      clients++;
      attachWebSocket(o.service, ws, `ws#${clients} ${req.socket.remoteAddress ?? '?'}`);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new DomusError('serve.port-busy', `Port ${o.port} on ${host} is in use; choose another with --port.`)
          : e.code === 'EADDRNOTAVAIL'
            ? new DomusError('serve.bad-host', `This machine has no address ${host}; use --host 127.0.0.1 or one of its own addresses.`)
            : e,
      ),
    );
    server.listen(o.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = loopbackOnly ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const origin = `http://${shownHost}:${port}`;
  return {
    url: `${origin}/?token=${encodeURIComponent(token)}`,
    origin,
    port,
    token,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
