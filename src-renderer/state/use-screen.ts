/**
 * The VGA text screen of a domain, read with `domain.screen` a few times a second while it is
 * shown. Nothing is fetched while the component is unmounted (another tab is open), while the
 * page is hidden (minimised window, background browser tab: `document.visibilityState`), or
 * while the domain does not run (one read shows its last screen).
 */
import { useEffect, useState } from 'react';
import type { TextScreen } from '../../src-engine/api/types';
import { screenKey } from '../lib/vga-text';
import type { EngineStore } from './engine-store';
import { messageOf } from './use-engine';

/** Time between two reads of the screen, ms (4 Hz: typing and boot messages look live). */
export const SCREEN_REFRESH_MS = 250;

/** What the screen view knows. */
export interface ScreenState {
  /** The last screen; null when the domain has no VGA (direct kernel boot, PVH). */
  screen: TextScreen | null | undefined;
  error: string | undefined;
  /** True while reads are paused because the page is hidden. */
  paused: boolean;
}

function pageHidden(): boolean {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden';
}

/** Reads the screen of `domid` while mounted; `live` false: read once (a stopped domain). */
export function useScreen(store: EngineStore, domid: number | undefined, live: boolean): ScreenState {
  const [state, setState] = useState<ScreenState>({ screen: undefined, error: undefined, paused: false });

  useEffect(() => {
    setState({ screen: undefined, error: undefined, paused: pageHidden() });
    if (domid === undefined) return;
    let alive = true;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastKey = '';
    const schedule = () => {
      clearTimeout(timer);
      timer = undefined;
      if (alive && live && !pageHidden()) timer = setTimeout(() => void read(), SCREEN_REFRESH_MS);
    };
    const read = async () => {
      if (inFlight) return;
      inFlight = true;
      try {
        const s = await store.client.call('domain.screen', { domain: domid });
        const key = s === null ? 'null' : screenKey(s);
        if (alive && key !== lastKey) {
          lastKey = key;
          setState((old) => ({ ...old, screen: s, error: undefined }));
        }
        // A domain without VGA never gets one: stop asking.
        if (s === null) return;
      } catch (e) {
        if (alive) setState((old) => ({ ...old, error: messageOf(e) }));
      } finally {
        inFlight = false;
      }
      schedule();
    };
    const onVisibility = () => {
      const hidden = pageHidden();
      setState((old) => (old.paused === hidden ? old : { ...old, paused: hidden }));
      if (hidden) {
        clearTimeout(timer);
        timer = undefined;
      } else if (timer === undefined) void read();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void read();
    return () => {
      alive = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [store, domid, live]);

  return state;
}
