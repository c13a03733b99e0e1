/** A detached console window (#/console/NAME): just the console of one VM, following its domain. */
import { useMemo } from 'react';
import { isLive, vmRows } from '../../lib/vm-rows';
import { useEngine } from '../../state/use-engine';
import { EngineBanner } from '../engine-banner';
import { ConsolePane } from './console-pane';

/** The window. */
export function ConsoleWindow({ name }: { name: string }) {
  const snap = useEngine();
  const row = useMemo(() => vmRows(snap.library, snap.domains).find((r) => r.name === name), [snap.library, snap.domains, name]);
  const title = `${name} — console — Domus`;
  if (document.title !== title) document.title = title;
  return (
    <div className="flex h-screen flex-col">
      <EngineBanner />
      <div className="min-h-0 flex-1">
        <ConsolePane name={name} domid={row?.domain?.domid} running={row ? isLive(row) : false} type={row?.domain?.type ?? row?.library?.config?.type ?? 'hvm'} detached />
      </div>
    </div>
  );
}
