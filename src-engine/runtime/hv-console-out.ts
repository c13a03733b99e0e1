/**
 * The hypervisor thread's output to the host thread for HVM and PVH domains: console bytes and
 * domain messages (BIOS lines, console_io) buffered in each HvDomain, posted as `console` and
 * `domain-message` events.
 *
 * Design. Every message wakes the host thread, and a serial driver sends one character per round
 * trip, so console output that does not end a line is held for up to CONSOLE_HOLD_NS in case more
 * follows; a line end, a long buffer, a pending message of the same domain (order is kept) or a
 * shutdown sends it at once. The hypervisor loop sleeps no longer than `due`.
 */
import type { HvDomain } from './hv-domain';
import type { HvToHost } from './messages';

/** Longest time console output that does not end a line is held for more (ns): 1 ms. */
const CONSOLE_HOLD_NS = 1e6;
/** Console output of this many bytes in one stream goes out without waiting for a line end. */
const CONSOLE_HOLD_BYTES = 256;
/** ASCII LF, the end of a console line. */
const LINE_FEED = 0x0a;

/** Posts the console output and messages of domains. */
export class HvConsoleOut {
  /** When held console output goes out at the latest (engine ns); Infinity if none is held. */
  due = Infinity;

  constructor(private readonly post: (m: HvToHost) => void) {}

  /** After a loop pass at `now`: posts what should go out, holds partial lines. */
  afterWork(domains: Iterable<HvDomain>, now: number): void {
    let held = false;
    for (const d of domains) {
      if (d.consoleOut.size > 0) {
        if (now >= this.due || d.messages.length > 0 || flushable(d)) this.flushConsole(d);
        else held = true;
      }
      this.flushMessages(d);
    }
    if (!held) this.due = Infinity;
    else if (this.due === Infinity) this.due = now + CONSOLE_HOLD_NS;
  }

  /** Posts `d`'s buffered messages. */
  flushMessages(d: HvDomain): void {
    if (d.messages.length === 0) return;
    for (const text of d.messages) this.post({ t: 'domain-message', domid: d.domid, text });
    d.messages.length = 0;
  }

  /** Posts `d`'s buffered console output, held or not. */
  flushConsole(d: HvDomain): void {
    if (d.consoleOut.size === 0) return;
    for (const [com, bytes] of d.consoleOut) {
      if (bytes.length > 0) this.post({ t: 'console', domid: d.domid, com, data: Uint8Array.from(bytes) });
    }
    d.consoleOut.clear();
  }
}

/** True if `d`'s buffered console output should go out now: a stream ends a line or is long. */
function flushable(d: HvDomain): boolean {
  for (const bytes of d.consoleOut.values()) {
    if (bytes.length >= CONSOLE_HOLD_BYTES || bytes[bytes.length - 1] === LINE_FEED) return true;
  }
  return false;
}
