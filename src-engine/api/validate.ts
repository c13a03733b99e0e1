/**
 * Validation of API parameters at the edge: a carrier checks every inbound request against its
 * method's schema before anything else sees it, and refuses bad ones with a message naming the
 * field. Small combinators, no dependencies.
 */

/** Returns undefined if `v` is acceptable, else what is wrong with it. */
export type Check = (v: unknown, path: string) => string | undefined;

export const num: Check = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${p} must be a number`);
export const int: Check = (v, p) => (Number.isInteger(v) ? undefined : `${p} must be a whole number`);
export const str: Check = (v, p) => (typeof v === 'string' ? undefined : `${p} must be a string`);
export const bool: Check = (v, p) => (typeof v === 'boolean' ? undefined : `${p} must be true or false`);
export const bytes: Check = (v, p) => (v instanceof Uint8Array ? undefined : `${p} must be bytes`);
export const any: Check = () => undefined;

/** A whole number in [min, max]. */
export function range(min: number, max: number): Check {
  return (v, p) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `${p} must be a whole number from ${min} to ${max}`);
}

/** One of the given literal values. */
export function oneOf(values: readonly (string | number)[]): Check {
  return (v, p) => (values.includes(v as string) ? undefined : `${p} must be one of ${values.join(', ')}`);
}

/** Undefined, or passes `c`. */
export function optional(c: Check): Check {
  return (v, p) => (v === undefined ? undefined : c(v, p));
}

/** Passes any of the checks. */
export function either(...cs: Check[]): Check {
  return (v, p) => {
    const errs = cs.map((c) => c(v, p));
    return errs.some((e) => e === undefined) ? undefined : errs.join(', or ');
  };
}

/** An array whose elements pass `c` (at most `max` of them). */
export function arrayOf(c: Check, max = 4096): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p} must be a list`;
    if (v.length > max) return `${p} has more than ${max} entries`;
    for (let i = 0; i < v.length; i++) {
      const e = c(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return undefined;
  };
}

/** An object with exactly these fields (unknown fields refused). */
export function object(fields: Record<string, Check>): Check {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} must be an object`;
    for (const k of Object.keys(v)) if (!(k in fields)) return `${p} has an unknown field "${k}"`;
    for (const [k, c] of Object.entries(fields)) {
      const e = c((v as Record<string, unknown>)[k], p ? `${p}.${k}` : k);
      if (e) return e;
    }
    return undefined;
  };
}

/** A domain named by ID or name. */
export const domainRef: Check = either(range(0, 0x7fef), str);
