/**
 * The API over a local socket (the engine daemon's, which the CLI and the Electron app's engine
 * both serve): newline-delimited JSON messages (api/wire.ts codec), one ApiConnection per client.
 * The socket lives in the user's runtime directory (mode 0700), so only the user can connect.
 */
import net from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { DomusError } from '../../base/errors';
import { decodeMessage, encodeMessage, type RequestMessage } from '../../api/wire';
import type { ApiService } from '../service/api-service';

/** Largest accepted request line (bytes); bigger ones close the connection. */
const MAX_LINE = 64 * 1024 * 1024;

/** True if something answers on `socketPath`. */
export function socketAlive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Serves `service` on a Unix socket; resolves once listening. */
export async function serveOnSocket(service: ApiService, socketPath: string): Promise<net.Server> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(socketPath), 0o700);
  if (existsSync(socketPath)) {
    if (await socketAlive(socketPath)) {
      throw new DomusError('daemon.running', `An engine already serves ${socketPath}; stop it first (or set DOMUS_RUNTIME_DIR for another one).`, socketPath);
    }
    unlinkSync(socketPath);
  }
  const server = net.createServer((sock) => {
    let buf = '';
    const conn = service.connect((m) => {
      if (!sock.destroyed) sock.write(`${encodeMessage(m)}\n`);
    }, 'socket');
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) {
        sock.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        let msg: RequestMessage;
        try {
          msg = decodeMessage(line) as RequestMessage;
        } catch {
          sock.write(`${encodeMessage({ id: -1, error: { code: 'api.bad-message', message: 'A request must be one line of JSON.' } })}\n`);
          continue;
        }
        conn.receive(msg);
      }
    });
    sock.on('close', () => conn.close());
    sock.on('error', () => conn.close());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return server;
}
