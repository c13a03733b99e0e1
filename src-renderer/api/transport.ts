/**
 * Carriers between the renderer and the engine: a WebSocket (`domus serve`, the browser mode) and
 * a MessagePort (Electron: a port straight to the engine's utility process). The client above does
 * not know which one it has (one service, several carriers).
 */
import type { RequestMessage } from '../../src-engine/api/wire';
import { decodeWire, encodeWire } from './codec';

/** Where a transport delivers what arrives. */
export interface TransportSink {
  /** A decoded, not yet validated, message from the engine. */
  message(m: unknown): void;
  /** The carrier is gone (the engine exited, the server closed, the network dropped). */
  closed(reason: string): void;
}

/** An open carrier. */
export interface Transport {
  send(m: RequestMessage): void;
  close(): void;
}

/** Opens a transport; rejects with a user-readable reason when it cannot. */
export type Connector = (sink: TransportSink) => Promise<Transport>;

/** WebSocket close code for "the token was refused" (application range 4000-4999). */
export const WS_CLOSE_BAD_TOKEN = 4401;

/** A connector for `domus serve`'s WebSocket endpoint (url carries the token). */
export function webSocketConnector(url: string): Connector {
  return (sink) =>
    new Promise<Transport>((resolve, reject) => {
      const ws = new WebSocket(url);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve({
          send: (m) => ws.send(encodeWire(m)),
          close: () => ws.close(1000, 'client closed'),
        });
      };
      ws.onmessage = (e: MessageEvent) => {
        if (typeof e.data !== 'string') return;
        let decoded: unknown;
        try {
          decoded = decodeWire(e.data);
        } catch {
          return; // Not JSON: ignored like any other malformed message.
        }
        sink.message(decoded);
      };
      ws.onclose = (e: CloseEvent) => {
        const reason =
          e.code === WS_CLOSE_BAD_TOKEN
            ? 'The server refused the access token. Open the URL `domus serve` printed (it carries the token).'
            : e.reason || `the connection to the engine closed (code ${e.code})`;
        if (!opened) reject(new Error(reason));
        else sink.closed(reason);
      };
    });
}

/**
 * A connector for a MessagePort handed over by Electron's preload. `getPort` asks the main process
 * for a fresh port to the engine; `onLost` registers for the main process's "engine gone" notice
 * (a MessagePort has no reliable close event).
 */
export function messagePortConnector(getPort: () => Promise<MessagePort>, onLost: (cb: (reason: string) => void) => () => void): Connector {
  return async (sink) => {
    const port = await getPort();
    let open = true;
    const stop = onLost((reason) => {
      if (!open) return;
      open = false;
      stop();
      sink.closed(reason);
    });
    port.onmessage = (e: MessageEvent) => sink.message(e.data);
    port.start();
    return {
      send: (m) => port.postMessage(m),
      close: () => {
        open = false;
        stop();
        port.close();
      },
    };
  };
}
