/** The Overview page: identity, state, mode, pool, resources and where the config lives. */
import type { ReactNode } from 'react';
import type { DomainConfig } from '../../../src-engine/api/domain-config';
import type { DomainDetail } from '../../../src-engine/api/types';
import { duration, mib } from '../../lib/format';
import { stateLabel, type VmRow } from '../../lib/vm-rows';

const MODE_TEXT: Record<'hvm' | 'pvh', string> = {
  hvm: 'HVM: an emulated PC (BIOS, PIC, PIT, serial ports); starts in 16-bit real mode, or at the kernel entry with direct kernel boot',
  pvh: 'PVH: starts in 32-bit protected mode through the Xen PVH entry note; no emulated devices',
};

/** The page. */
export function OverviewTab({ row, config, detail }: { row: VmRow; config: DomainConfig | undefined; detail: DomainDetail | undefined }) {
  const d = row.domain;
  const items: [string, ReactNode][] = [
    ['Name', row.name],
    ['State', stateLabel(row) + (d?.shutdownDetail ? ` — ${d.shutdownDetail}` : '')],
    ['Domain ID', d ? d.domid : '—'],
    ['UUID', <code key="u" className="text-xs">{d?.uuid || config?.uuid || 'assigned at start'}</code>],
    ['Virtualization mode', config ? MODE_TEXT[config.type] : (d?.type ?? '—')],
    ['CPU pool', d?.pool ?? config?.pool ?? 'Pool-0'],
    ['vCPUs', d ? `${d.onlineVcpus} online of ${d.maxVcpus}` : `${config?.vcpus ?? '—'} (maximum ${config?.maxvcpus ?? '—'})`],
    ['Memory', d ? `${mib(d.memoryMiB)} of ${mib(d.maxmemMiB)} maximum` : config ? `${mib(config.memoryMiB)} (maximum ${mib(config.maxmemMiB)})` : '—'],
    ['CPU time', d ? duration(d.cpuSeconds) : '—'],
    ['Instructions', detail ? detail.instructions.toLocaleString('en') : '—'],
    ['Configuration file', row.library ? <code key="f" className="break-all text-xs">{row.library.file}</code> : 'none (started without a library entry)'],
  ];
  return (
    <div className="space-y-4 p-4">
      <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1.5 text-sm">
        {items.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-slate-500">{k}</dt>
            <dd className="text-slate-800">{v}</dd>
          </div>
        ))}
      </dl>
      {row.library && row.library.errors.length > 0 && (
        <div role="alert" className="rounded border border-rose-300 bg-rose-50 p-2 text-sm text-rose-800">
          <p className="font-medium">The configuration has errors:</p>
          <ul className="list-disc pl-5 font-mono text-xs">{row.library.errors.map((e) => <li key={e}>{e}</li>)}</ul>
        </div>
      )}
      {row.library && row.library.warnings.length > 0 && (
        <div className="rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900">
          <p className="font-medium">Warnings:</p>
          <ul className="list-disc pl-5 font-mono text-xs">{row.library.warnings.map((e) => <li key={e}>{e}</li>)}</ul>
        </div>
      )}
    </div>
  );
}
