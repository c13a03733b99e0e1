/**
 * Network devices (`vif=`) as xenstore shows them, without a network back end: libxl's
 * front-end directory /local/domain/<D>/device/vif/<n> (backend, backend-id, handle, mac, state,
 * owned by the guest) and back-end directory /local/domain/0/backend/vif/<D>/<n>. Domus has no
 * netback yet, so the back end stays in Initialising and a netfront never connects; guests that
 * only look at their devices (Mini-OS's xenbus test) see what they would see under xl.
 */
import type { XenstoreTool } from '../xenstore/xs-tool';

/** One vif. */
export interface VifConfig {
  /** The MAC address as xl writes it ("00:16:3e:..."). */
  readonly mac: string;
}

/** XenbusStateInitialising. */
const XENBUS_INITIALISING = '1';

/** Writes the xenstore nodes of vif `n` of domain `domid`. */
export function writeVifNodes(xs: XenstoreTool, domid: number, n: number, vif: VifConfig): void {
  const front = `/local/domain/${domid}/device/vif/${n}`;
  const back = `/local/domain/0/backend/vif/${domid}/${n}`;
  const frontNodes: [string, string][] = [['backend', back], ['backend-id', '0'], ['handle', String(n)], ['mac', vif.mac], ['state', XENBUS_INITIALISING]];
  const backNodes: [string, string][] = [
    ['frontend', front], ['frontend-id', String(domid)], ['online', '1'], ['state', XENBUS_INITIALISING], ['handle', String(n)],
    ['mac', vif.mac], ['type', 'vif'],
  ];
  for (const [k, v] of frontNodes) xs.write(`${front}/${k}`, v);
  for (const [k, v] of backNodes) xs.write(`${back}/${k}`, v);
  for (const p of xs.ls(front)) xs.setPermStrings(p.path, [`n${domid}`, 'r0']);
  for (const p of xs.ls(back)) xs.setPermStrings(p.path, ['n0', `r${domid}`]);
}
