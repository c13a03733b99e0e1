/**
 * The MessagePort carrier of the engine API (the Electron app): each renderer window gets a
 * MessagePortMain straight to this utility process. Messages are structured clones (Uint8Array
 * travels as is); envelopes are checked before the service sees them, and the service validates
 * parameters against the method schema.
 */
import { checkRequestEnvelope } from '../serve/ws-carrier';
import type { ApiService } from '../service/api-service';
import type { ServerMessage } from '../../api/wire';

/** What this carrier needs of Electron's MessagePortMain (no Electron import in the engine). */
export interface MessagePortMainLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

/** Serves one port until it closes. */
export function attachPort(service: ApiService, port: MessagePortMainLike, label: string): void {
  let open = true;
  const send = (m: ServerMessage) => {
    if (!open) return;
    try {
      port.postMessage(m);
    } catch {
      open = false;
      conn.close();
    }
  };
  const conn = service.connect(send, label);
  port.on('message', (e) => {
    const r = checkRequestEnvelope(e.data);
    if (typeof r === 'string') {
      const id = (e.data as { id?: unknown } | null)?.id;
      send({ id: typeof id === 'number' ? id : -1, error: { code: 'api.bad-message', message: r } });
      return;
    }
    conn.receive(r);
  });
  port.on('close', () => {
    open = false;
    conn.close();
  });
  port.start();
}
