/**
 * The fault record of a VCPU that stopped for good (triple fault, engine fault): its kind, a
 * message and the recent instruction addresses, written into the state block (state.ts
 * S_FAULT_KIND, S_FAULT_MSG, S_RECENT_EIPS), where the hypervisor thread reads it for the user.
 */
import { FAULT_MSG_BYTES, S_FAULT_KIND, S_FAULT_MSG, S_RECENT_EIPS } from './state';

/** Recent instruction addresses a record keeps. */
export const FAULT_RECENT_EIPS = 16;

/** Writes the record: `message` as UTF-8, cut to FAULT_MSG_BYTES and zero-padded; `recent` oldest first. */
export function writeFaultRecord(s: Int32Array, kind: number, message: string, recent: readonly number[]): void {
  s[S_FAULT_KIND] = kind;
  for (let k = 0; k < FAULT_RECENT_EIPS; k++) s[S_RECENT_EIPS + k] = recent[k] ?? 0;
  const padded = new Uint8Array(FAULT_MSG_BYTES);
  padded.set(new TextEncoder().encode(message).subarray(0, FAULT_MSG_BYTES));
  for (let k = 0; k < FAULT_MSG_BYTES / 4; k++) {
    s[S_FAULT_MSG + k] = padded[k * 4] | (padded[k * 4 + 1] << 8) | (padded[k * 4 + 2] << 16) | (padded[k * 4 + 3] << 24);
  }
}
