/** Number and time formatting for tables and graphs. */

/** "12.3 %" with one decimal below 100. */
export function percent(v: number): string {
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} %`;
}

/** "1.5 s", "2 min 3 s", "1 h 02 min". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "32 MiB", "1.5 GiB". */
export function mib(v: number): string {
  return v >= 1024 ? `${(v / 1024).toFixed(v % 1024 === 0 ? 0 : 1)} GiB` : `${Math.round(v)} MiB`;
}

/** Microseconds as "10 ms" or "500 µs". */
export function micros(us: number): string {
  return us >= 1000 && us % 1000 === 0 ? `${us / 1000} ms` : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us} µs`;
}

/** Rates: "1.2 k/s". */
export function rate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} M/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k/s`;
  return `${Math.round(v)} /s`;
}
