/**
 * The details of the selected VM, one tab per page like virt-manager's VM window: Overview,
 * Console, CPUs, Memory, Boot, Disks, Serial, Config (raw xl.cfg) and Performance.
 */
import type { VmRow } from '../../lib/vm-rows';
import { isLive } from '../../lib/vm-rows';
import { useStore } from '../../state/use-engine';
import { usePoll } from '../../state/use-poll';
import { ConsolePane } from '../console/console-pane';
import { Tabs, type TabSpec } from '../ui/tabs';
import { ConfigTab } from './config-tab';
import { CpusTab } from './cpus-tab';
import { BootTab, DisksTab, SerialTab } from './devices-tabs';
import { MemoryTab } from './memory-tab';
import { OverviewTab } from './overview-tab';
import { PerformanceTab } from './performance-tab';

/** The pages. */
export type DetailsTab = 'overview' | 'console' | 'cpus' | 'memory' | 'boot' | 'disks' | 'serial' | 'config' | 'performance';

const TABS: readonly TabSpec<DetailsTab>[] = [
  { key: 'overview', label: 'Overview' },
  { key: 'console', label: 'Console' },
  { key: 'cpus', label: 'CPUs' },
  { key: 'memory', label: 'Memory' },
  { key: 'boot', label: 'Boot' },
  { key: 'disks', label: 'Disks' },
  { key: 'serial', label: 'Serial' },
  { key: 'config', label: 'Config' },
  { key: 'performance', label: 'Performance' },
];

/** Domain details refresh while the Overview or Performance page is open, ms. */
const DETAIL_REFRESH_MS = 2000;

/** The pane. */
export function DetailsPane({ row, tab, onTab }: { row: VmRow; tab: DetailsTab; onTab: (t: DetailsTab) => void }) {
  const store = useStore();
  const d = row.domain;
  const wantDetail = d !== undefined && (tab === 'overview' || tab === 'performance' || tab === 'cpus' || tab === 'boot' || tab === 'disks' || tab === 'serial' || tab === 'memory');
  const detail = usePoll(wantDetail && d ? () => store.client.call('domain.get', { domain: d.domid }) : undefined, [d?.domid, wantDetail], isLive(row) ? DETAIL_REFRESH_MS : 0);
  const config = detail.value?.config ?? row.library?.config;
  return (
    <section aria-label={`Details of ${row.name}`} className="flex h-full min-h-0 flex-col">
      <Tabs label={`Pages of ${row.name}`} tabs={TABS} value={tab} onChange={onTab} className="h-full">
        {tab === 'overview' && <OverviewTab row={row} config={config} detail={detail.value} />}
        {tab === 'console' && (
          <div className="h-full min-h-80 p-2">
            <ConsolePane name={row.name} domid={d?.domid} running={isLive(row)} type={d?.type ?? config?.type ?? 'hvm'} />
          </div>
        )}
        {tab === 'cpus' && <CpusTab row={row} config={config} />}
        {tab === 'memory' && <MemoryTab row={row} config={config} />}
        {tab === 'boot' && <BootTab row={row} config={config} />}
        {tab === 'disks' && <DisksTab row={row} config={config} />}
        {tab === 'serial' && <SerialTab row={row} config={config} />}
        {tab === 'config' && <ConfigTab key={row.name} row={row} />}
        {tab === 'performance' && <PerformanceTab domid={isLive(row) ? d?.domid : undefined} detail={detail.value} />}
      </Tabs>
    </section>
  );
}
