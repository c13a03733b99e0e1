/**
 * The manager's rows: the library's configs and the engine's domains joined by name (a config
 * that is not running is "Shut off"; a domain started from the CLI without a library entry is
 * listed too), with what each lifecycle action may do for the row.
 */
import type { DomainSummary, LibraryEntry } from '../../src-engine/api/types';

/** A row of the VM list. */
export interface VmRow {
  name: string;
  domain: DomainSummary | undefined;
  library: LibraryEntry | undefined;
}

/** The state words the list shows (virt-manager's, plus Xen's). */
export function stateLabel(r: VmRow): string {
  const d = r.domain;
  if (!d) return r.library && r.library.errors.length > 0 ? 'Invalid config' : 'Shut off';
  switch (d.state) {
    case 'running':
      return 'Running';
    case 'blocked':
      return 'Idle';
    case 'paused':
      return 'Paused';
    case 'shutdown':
      return `Shut down${d.shutdownReason ? ` (${d.shutdownReason})` : ''}`;
    case 'crashed':
      return 'Crashed';
    case 'dying':
      return 'Dying';
  }
}

/** True when the domain exists and runs guest code (running, idle or paused). */
export function isLive(r: VmRow): boolean {
  const s = r.domain?.state;
  return s === 'running' || s === 'blocked' || s === 'paused';
}

/** Joins library and domains; sorted by name. */
export function vmRows(library: readonly LibraryEntry[], domains: readonly DomainSummary[]): VmRow[] {
  const rows = new Map<string, VmRow>();
  for (const l of library) rows.set(l.name, { name: l.name, library: l, domain: undefined });
  for (const d of domains) {
    const key = d.libraryName ?? d.name;
    const r = rows.get(key);
    // A newer domain of the same name replaces a shut-down one.
    if (r && (!r.domain || !isLive(r))) r.domain = d;
    else if (!r) rows.set(key, { name: key, library: undefined, domain: d });
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The lifecycle actions. */
export type VmAction = 'run' | 'pause' | 'resume' | 'shutdown' | 'reboot' | 'forceOff' | 'save' | 'delete';

/** Whether an action applies to a row, and if not, why (shown as the button's description). */
export function actionState(r: VmRow | undefined, a: VmAction): { enabled: boolean; why: string } {
  if (!r) return { enabled: false, why: 'Select a virtual machine first.' };
  const live = isLive(r);
  const s = r.domain?.state;
  switch (a) {
    case 'run':
      if (live) return { enabled: false, why: `${r.name} is already running.` };
      if (!r.library) return { enabled: false, why: `${r.name} has no configuration in the library to start from.` };
      if (r.library.errors.length > 0) return { enabled: false, why: `The configuration of ${r.name} has errors; fix it on the Config tab.` };
      return { enabled: true, why: `Start ${r.name}.` };
    case 'pause':
      return s === 'running' || s === 'blocked' ? { enabled: true, why: `Pause ${r.name}.` } : { enabled: false, why: `${r.name} is not running.` };
    case 'resume':
      return s === 'paused' ? { enabled: true, why: `Resume ${r.name}.` } : { enabled: false, why: `${r.name} is not paused.` };
    case 'shutdown':
    case 'reboot':
    case 'save':
      return live ? { enabled: true, why: `${a === 'save' ? 'Save the memory of' : a === 'reboot' ? 'Ask to reboot' : 'Ask to shut down'} ${r.name}.` } : { enabled: false, why: `${r.name} is not running.` };
    case 'forceOff':
      return r.domain ? { enabled: true, why: `Destroy domain ${r.domain.domid} at once, like pulling the plug.` } : { enabled: false, why: `${r.name} is not running.` };
    case 'delete':
      if (r.domain) return { enabled: false, why: `${r.name} is running as domain ${r.domain.domid}; force it off before deleting it.` };
      if (!r.library) return { enabled: false, why: 'Nothing to delete.' };
      return { enabled: true, why: `Delete the configuration of ${r.name}.` };
  }
}
