/**
 * Console output per domain, kept in the renderer so a console tab or window opened later shows
 * what the guest printed before (the engine's history) followed by what it prints now (events).
 *
 * The history request and the live events overlap: bytes printed between the subscription and
 * the history answer arrive both ways. `mergeHistory` drops that overlap by finding the longest
 * prefix of the live bytes that the history already ends with.
 */

/** How much output is kept per console, bytes (older output is dropped; xterm keeps its own scrollback). */
export const CONSOLE_KEEP_BYTES = 1 << 20;

/** Joins byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Length of the longest prefix of `live` that `history` ends with. */
export function overlapLength(history: Uint8Array, live: Uint8Array): number {
  for (let k = Math.min(history.length, live.length); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k; i++) {
      if (history[history.length - k + i] !== live[i]) {
        same = false;
        break;
      }
    }
    if (same) return k;
  }
  return 0;
}

/** History followed by the live bytes it does not already contain. */
export function mergeHistory(history: Uint8Array, live: Uint8Array): Uint8Array {
  return concatBytes([history, live.subarray(overlapLength(history, live))]);
}

interface ConsoleState {
  /** Output kept, oldest first. */
  chunks: Uint8Array[];
  bytes: number;
  /** While the history request is in flight: live bytes seen meanwhile. */
  pendingLive: Uint8Array[] | undefined;
  listeners: Set<(data: Uint8Array) => void>;
}

/** Key of a console: domain ID and COM port (0 = PV console). */
function key(domid: number, com: number): string {
  return `${domid}:${com}`;
}

/** The buffers of every console. */
export class ConsoleBuffers {
  private readonly consoles = new Map<string, ConsoleState>();

  private get(domid: number, com: number): ConsoleState {
    let c = this.consoles.get(key(domid, com));
    if (!c) this.consoles.set(key(domid, com), (c = { chunks: [], bytes: 0, pendingLive: undefined, listeners: new Set() }));
    return c;
  }

  /** Marks the start of a history request for a console. */
  beginHistory(domid: number, com: number): void {
    this.get(domid, com).pendingLive = [];
  }

  /** Installs the history answer (merged with live bytes that arrived meanwhile). */
  endHistory(domid: number, com: number, history: Uint8Array): void {
    const c = this.get(domid, com);
    const live = concatBytes(c.pendingLive ?? []);
    c.pendingLive = undefined;
    const merged = mergeHistory(history, live);
    const known = concatBytes(c.chunks);
    // Listeners have been shown `known` already (after a reconnect); they get what follows it.
    const fresh = merged.subarray(overlapLength(known, merged));
    c.chunks = [merged];
    c.bytes = merged.length;
    this.trim(c);
    if (fresh.length > 0) for (const l of c.listeners) l(fresh);
  }

  /** Appends live output. */
  push(domid: number, com: number, data: Uint8Array): void {
    const c = this.get(domid, com);
    if (c.pendingLive) {
      c.pendingLive.push(data);
      return;
    }
    c.chunks.push(data);
    c.bytes += data.length;
    this.trim(c);
    for (const l of c.listeners) l(data);
  }

  /** Everything kept for a console. */
  contents(domid: number, com: number): Uint8Array {
    return concatBytes(this.get(domid, com).chunks);
  }

  /** True while the history of a console is loading. */
  loading(domid: number, com: number): boolean {
    return this.get(domid, com).pendingLive !== undefined;
  }

  /**
   * Shows a console: `write` gets the kept output at once (unless its history is still loading,
   * then it comes with the history), then every new chunk. Returns the function that stops.
   */
  attach(domid: number, com: number, write: (data: Uint8Array) => void): () => void {
    const c = this.get(domid, com);
    if (c.pendingLive === undefined && c.bytes > 0) write(this.contents(domid, com));
    c.listeners.add(write);
    return () => c.listeners.delete(write);
  }

  /** Forgets a domain's consoles (it was destroyed). */
  drop(domid: number): void {
    for (const k of [...this.consoles.keys()]) if (k.startsWith(`${domid}:`)) this.consoles.delete(k);
  }

  private trim(c: ConsoleState): void {
    while (c.bytes > CONSOLE_KEEP_BYTES && c.chunks.length > 1) c.bytes -= (c.chunks.shift() as Uint8Array).length;
    if (c.bytes > CONSOLE_KEEP_BYTES) {
      const only = c.chunks[0];
      c.chunks = [only.subarray(only.length - CONSOLE_KEEP_BYTES)];
      c.bytes = CONSOLE_KEEP_BYTES;
    }
  }
}
