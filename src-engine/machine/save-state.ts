/**
 * Helpers shared by the devices' saveState/loadState (see Persistent in device.ts): every saved
 * state is a plain object with named fields and a version; a loader refuses versions it does not
 * know instead of guessing.
 */
import { SaveImageError } from '../base/errors';

/** Throws a SaveImageError unless `state` is an object saved at `version` by `component`. */
export function requireStateVersion(state: unknown, version: number, component: string): void {
  const found = typeof state === 'object' && state !== null ? (state as { version?: unknown }).version : undefined;
  if (found !== version) {
    throw new SaveImageError(
      'save.device-version',
      `The saved state of ${component} has version ${String(found)}, but this Domus reads only version ${version}. ` +
        'Restore the image with the Domus release that saved it, or boot the domain afresh.',
      component,
    );
  }
}

/** Throws a SaveImageError if a saved field is not what the device can take. */
export function requireSaved(ok: boolean, component: string, field: string): void {
  if (!ok) {
    throw new SaveImageError('save.device-field', `The saved state of ${component} has an invalid "${field}"; the image is damaged.`, component);
  }
}
