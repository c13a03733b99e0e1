/**
 * What the GUI says when the engine is not there: connecting, lost (with the reason and the next
 * retry in browser mode), or stopped in the Electron app with a Restart button. The library and
 * the last known state stay on screen; nothing is lost on disk.
 */
import { useEffect, useState } from 'react';
import type { EngineProcessState } from '../../src-main/ipc-contract';
import { hostBridge } from '../api/host';
import { useEngine, useStore } from '../state/use-engine';
import { Button } from './ui/button';

/** The banner (renders nothing while all is well). */
export function EngineBanner() {
  const snap = useEngine();
  const store = useStore();
  const bridge = hostBridge();
  const [proc, setProc] = useState<EngineProcessState>();
  const [, setNow] = useState(0);
  useEffect(() => bridge?.onEngineState(setProc), [bridge]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const c = snap.connection;
  const restart = () => void bridge?.restartEngine().catch((e: unknown) => store.notify('error', `Restarting the engine failed: ${e instanceof Error ? e.message : String(e)}`));
  if (proc?.state === 'exited' || (bridge && c.kind === 'lost')) {
    return (
      <div role="alert" className="flex flex-wrap items-center gap-3 border-b border-rose-300 bg-rose-100 px-3 py-2 text-sm text-rose-900">
        <span>
          The engine stopped{proc?.message ? `: ${proc.message}` : c.kind === 'lost' ? `: ${c.reason}` : ''}. Running VMs are gone; your configurations are safe in the library.
        </span>
        <Button kind="danger" onClick={restart}>Restart engine</Button>
      </div>
    );
  }
  if (snap.engineFailure) {
    return (
      <div role="alert" className="flex flex-wrap items-center gap-3 border-b border-rose-300 bg-rose-100 px-3 py-2 text-sm text-rose-900">
        <span>The engine failed: {snap.engineFailure}. Save what you need; restart it to go on.</span>
        {bridge && <Button kind="danger" onClick={restart}>Restart engine</Button>}
      </div>
    );
  }
  if (c.kind === 'lost') {
    const secs = c.retryAt ? Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000)) : undefined;
    return (
      <div role="alert" className="flex flex-wrap items-center gap-3 border-b border-amber-300 bg-amber-100 px-3 py-2 text-sm text-amber-900">
        <span>Lost the connection to the engine: {c.reason}.{secs !== undefined ? ` Retrying in ${secs} s.` : ''} The library shown is the last known state.</span>
        <Button onClick={() => store.client.connect()}>Retry now</Button>
      </div>
    );
  }
  if (c.kind === 'connecting') {
    return <div role="status" className="border-b border-slate-200 bg-slate-100 px-3 py-1 text-sm text-slate-600">Connecting to the engine{c.attempt > 1 ? ` (attempt ${c.attempt})` : ''}…</div>;
  }
  return null;
}
