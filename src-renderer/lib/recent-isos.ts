/**
 * ISO images this GUI built (the engine API has no image library yet): kept in localStorage so the
 * New VM wizard and the Library page can offer them.
 */

/** One built ISO. */
export interface RecentIso {
  path: string;
  bytes: number;
  builtAt: number;
}

const KEY = 'domus.recentIsos';
/** How many are remembered. */
const KEEP = 20;

/** The remembered ISOs, newest first. */
export function loadRecentIsos(): RecentIso[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is RecentIso => typeof x?.path === 'string' && typeof x?.bytes === 'number' && typeof x?.builtAt === 'number') : [];
  } catch {
    return [];
  }
}

/** Remembers a built ISO. */
export function rememberIso(iso: RecentIso): RecentIso[] {
  const list = [iso, ...loadRecentIsos().filter((x) => x.path !== iso.path)].slice(0, KEEP);
  localStorage.setItem(KEY, JSON.stringify(list));
  return list;
}

/** Forgets one. */
export function forgetIso(path: string): RecentIso[] {
  const list = loadRecentIsos().filter((x) => x.path !== path);
  localStorage.setItem(KEY, JSON.stringify(list));
  return list;
}
