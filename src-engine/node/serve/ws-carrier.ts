/**
 * The WebSocket carrier of the engine API (`domus serve`): one ApiConnection per socket, JSON
 * text frames in the wire codec (Uint8Array as {$bytes}), inbound envelopes checked before the
 * service sees them (the service then validates parameters against the method schema), and a
 * client that cannot keep up with its events is disconnected instead of growing memory without end.
 */
import type { WebSocket } from 'ws';
import { decodeMessage, encodeMessage, type RequestMessage, type ServerMessage } from '../../api/wire';
import type { ApiService } from '../service/api-service';

/** Outgoing bytes a client may have queued before it is dropped (a stalled tab with a busy console). */
export const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** WebSocket close code: policy violation (RFC 6455 7.4.1). */
export const WS_POLICY_VIOLATION = 1008;
/** WebSocket close code: try again later (RFC 6455 registry, 1013). */
export const WS_TRY_AGAIN_LATER = 1013;

/** Checks the envelope of a decoded request; returns it or a problem. */
export function checkRequestEnvelope(m: unknown): RequestMessage | string {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return 'A request must be a JSON object.';
  const o = m as Record<string, unknown>;
  if (typeof o.id !== 'number' || !Number.isSafeInteger(o.id) || o.id < 0) return 'A request needs a non-negative integer "id".';
  if (typeof o.method !== 'string' || o.method.length > 64) return 'A request needs a "method" name.';
  return { id: o.id, method: o.method, params: o.params ?? {} };
}

/** Serves one socket; returns when it is attached (it lives until the socket closes). */
export function attachWebSocket(service: ApiService, ws: WebSocket, label: string): void {
  const send = (m: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.close(WS_TRY_AGAIN_LATER, 'the client is not reading fast enough');
      return;
    }
    ws.send(encodeMessage(m));
  };
  const conn = service.connect(send, label);
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.close(WS_POLICY_VIOLATION, 'binary frames are not part of the protocol');
      return;
    }
    let decoded: unknown;
    try {
      decoded = decodeMessage(data.toString());
    } catch {
      send({ id: -1, error: { code: 'api.bad-message', message: 'The message is not valid JSON.' } });
      return;
    }
    const r = checkRequestEnvelope(decoded);
    if (typeof r === 'string') {
      const id = (decoded as { id?: unknown } | null)?.id;
      send({ id: typeof id === 'number' ? id : -1, error: { code: 'api.bad-message', message: r } });
      return;
    }
    conn.receive(r);
  });
  ws.on('close', () => conn.close());
  ws.on('error', () => conn.close());
}
