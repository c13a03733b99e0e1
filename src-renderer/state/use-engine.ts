/**
 * React access to the engine store: the snapshot, the client, and `useAction` which runs an engine
 * call and turns a failure into a notice the user sees (the engine's messages say what to do).
 */
import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { EngineSnapshot, EngineStore } from './engine-store';

/** The store of this window. */
export const StoreContext = createContext<EngineStore | null>(null);

/** The store (throws outside the provider: a programming error). */
export function useStore(): EngineStore {
  const s = useContext(StoreContext);
  if (!s) throw new Error('useStore outside <StoreContext.Provider>');
  return s;
}

/** The current snapshot; re-renders on change. */
export function useEngine(): EngineSnapshot {
  const s = useStore();
  return useSyncExternalStore(s.subscribe, s.getSnapshot);
}

/** Message of any thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Returns `run(what, fn)`: awaits fn, shows "what failed: message" on error and resolves to
 * undefined; on success optionally shows `done`.
 */
export function useAction(): <T>(what: string, fn: () => Promise<T>, done?: string) => Promise<T | undefined> {
  const store = useStore();
  return useCallback(
    async <T,>(what: string, fn: () => Promise<T>, done?: string): Promise<T | undefined> => {
      try {
        const r = await fn();
        if (done) store.notify('info', done);
        return r;
      } catch (e) {
        store.notify('error', `${what} failed: ${messageOf(e)}`);
        return undefined;
      }
    },
    [store],
  );
}
