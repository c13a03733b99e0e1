import { appendFileSync, renameSync, statSync } from 'node:fs';

/** A domain's console log is rotated (to LOG.1) once it exceeds this size. */
const CONSOLE_LOG_ROTATE_BYTES = 1 << 20;

/**
 * Appends console output to a domain's log (rotated past CONSOLE_LOG_ROTATE_BYTES) and to its
 * `serial = "file:PATH"` file if it has one. Throws what the file system throws.
 */
export function appendConsoleLog(logFile: string, serialFile: string | undefined, data: Uint8Array): void {
  if (serialFile) appendFileSync(serialFile, data);
  let size = 0;
  try {
    size = statSync(logFile).size;
  } catch {
    size = 0;
  }
  if (size > CONSOLE_LOG_ROTATE_BYTES) renameSync(logFile, `${logFile}.1`);
  appendFileSync(logFile, data);
}

/** A fixed-size byte ring keeping the last output of a console, for new clients' scrollback. */
export class ConsoleRing {
  private readonly buf: Uint8Array;
  private pos = 0;
  private full = false;

  constructor(capacity = 256 * 1024) {
    this.buf = new Uint8Array(capacity);
  }

  push(data: Uint8Array): void {
    const cap = this.buf.length;
    if (data.length >= cap) {
      this.buf.set(data.subarray(data.length - cap));
      this.pos = 0;
      this.full = true;
      return;
    }
    const first = Math.min(data.length, cap - this.pos);
    this.buf.set(data.subarray(0, first), this.pos);
    if (first < data.length) {
      this.buf.set(data.subarray(first), 0);
      this.full = true;
    }
    const end = this.pos + data.length;
    if (end >= cap) this.full = true;
    this.pos = end % cap;
  }

  /** Everything kept, oldest first. */
  contents(): Uint8Array {
    if (!this.full) return this.buf.slice(0, this.pos);
    const out = new Uint8Array(this.buf.length);
    out.set(this.buf.subarray(this.pos), 0);
    out.set(this.buf.subarray(0, this.pos), this.buf.length - this.pos);
    return out;
  }
}
