/**
 * What Electron's main process and the engine host (utility-main.ts) say to each other over
 * process.parentPort; see the table at the top of utility-main.ts.
 */

/** Messages main sends. */
export type HostCommand = { type: 'client'; label: string } | { type: 'shutdown' };
/** Messages this host sends. */
export type HostReport = { type: 'ready'; socket: string | undefined } | { type: 'failed'; message: string };

/** Checks a command from main. */
export function parseHostCommand(v: unknown): HostCommand | undefined {
  const o = v as { type?: unknown; label?: unknown } | null;
  if (o === null || typeof o !== 'object') return undefined;
  if (o.type === 'shutdown') return { type: 'shutdown' };
  if (o.type === 'client') return { type: 'client', label: typeof o.label === 'string' ? o.label.slice(0, 64) : 'window' };
  return undefined;
}
