/**
 * Polling for data the engine does not push (VCPU tables, domain details): calls `fetch` now and
 * every `intervalMs` while the component is shown, keeps the last answer and the last error.
 */
import { useEffect, useRef, useState } from 'react';
import { messageOf } from './use-engine';

/** Default refresh of live tables, ms (the engine samples statistics once a second). */
export const LIVE_REFRESH_MS = 1000;

/** The last value, the last error, and a function to refresh now. */
export function usePoll<T>(fetch: (() => Promise<T>) | undefined, deps: readonly unknown[], intervalMs = LIVE_REFRESH_MS): { value: T | undefined; error: string | undefined; refresh: () => void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const fetchRef = useRef(fetch);
  fetchRef.current = fetch;
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setValue(undefined);
    const once = async () => {
      const f = fetchRef.current;
      if (!f) return;
      try {
        const v = await f();
        if (alive) {
          setValue(v);
          setError(undefined);
        }
      } catch (e) {
        if (alive) setError(messageOf(e));
      }
      if (alive && intervalMs > 0) timer = setTimeout(() => void once(), intervalMs);
    };
    void once();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
    // The caller lists what `fetch` reads (`deps`); `fetch` itself is read through a ref.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);
  return { value, error, refresh: () => setTick((t) => t + 1) };
}
