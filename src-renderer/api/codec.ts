/**
 * The WebSocket JSON codec, the renderer's copy of src-engine/api/wire.ts (the renderer may import
 * only types from the engine): JSON text in which every Uint8Array travels as {"$bytes": base64}.
 * Over Electron's MessagePort no codec is needed (structured clone carries Uint8Array).
 */

/** Base64 of bytes (btoa works on binary strings; chunked so large buffers do not overflow apply). */
export function bytesToBase64(b: Uint8Array): string {
  const CHUNK = 0x8000;
  let bin = '';
  for (let i = 0; i < b.length; i += CHUNK) bin += String.fromCharCode(...b.subarray(i, i + CHUNK));
  return btoa(bin);
}

/** Bytes of base64 text. */
export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encodes a message as JSON text. */
export function encodeWire(m: unknown): string {
  return JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: bytesToBase64(v) } : v));
}

/** Decodes JSON text made by encodeWire (or the engine's encodeMessage). */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$bytes === 'string' && Object.keys(o).length === 1) return base64ToBytes(o.$bytes);
    }
    return v;
  });
}
