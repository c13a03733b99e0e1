/**
 * The message envelope every carrier uses, and the JSON codec the socket and WebSocket carriers
 * use (Uint8Array values travel as {"$bytes": base64}).
 */
import type { EngineEvents, EngineEventName } from './events';
import type { ApiError } from './types';

/** Client -> engine. */
export interface RequestMessage {
  id: number;
  method: string;
  params: unknown;
}

/** Engine -> client: the answer to a request, or an event. */
export type ServerMessage =
  | { id: number; result: unknown }
  | { id: number; error: ApiError }
  | { event: EngineEventName; data: EngineEvents[EngineEventName] };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return out;
}

function fromBase64(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let k = 0;
  for (const ch of clean) {
    const v = B64.indexOf(ch);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, k);
}

/** Encodes a message as JSON text. */
export function encodeMessage(m: unknown): string {
  return JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? { $bytes: toBase64(v) } : v));
}

/** Decodes JSON text produced by encodeMessage. */
export function decodeMessage(text: string): unknown {
  return JSON.parse(text, (_k, v) =>
    v !== null && typeof v === 'object' && typeof (v as { $bytes?: unknown }).$bytes === 'string' && Object.keys(v).length === 1
      ? fromBase64((v as { $bytes: string }).$bytes)
      : v,
  );
}
