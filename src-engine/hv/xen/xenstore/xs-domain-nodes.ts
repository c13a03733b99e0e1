/**
 * The xenstore nodes the toolstack writes for a new domain, after libxl (libxl_create.c,
 * libxl_dom.c): /local/domain/<D>/{name, domid, vm, memory/target, cpu/<n>/availability,
 * control/shutdown, control/platform-feature-*, console/*, data, device, ...} and /vm/<uuid>.
 *
 * Permissions follow libxl: the home and most toolstack-written nodes are owned by domain 0 and
 * readable by the guest ("n0 r<D>"); control/shutdown, data, drivers, feature, attr and error are
 * owned by the guest ("n<D>"), so it can write them.
 */
import type { XenstoreTool } from './xs-tool';

/** What the nodes describe. */
export interface DomainNodeInfo {
  readonly domid: number;
  readonly name: string;
  readonly uuid: string;
  readonly memoryKiB: number;
  readonly vcpus: number;
  readonly storePort: number;
  readonly consolePort: number;
  readonly storePfn: number;
  readonly consolePfn: number;
}

/** The console ring limit libxl writes (console/limit). */
const CONSOLE_LIMIT = 1048576;

/** Writes the standard nodes of a new domain. */
export function buildDomainNodes(xs: XenstoreTool, i: DomainNodeInfo): void {
  const home = `/local/domain/${i.domid}`;
  const ro = ['n0', `r${i.domid}`];
  const rw = [`n${i.domid}`];
  const vm = `/vm/${i.uuid}`;
  xs.mkdir(home);
  xs.setPermStrings(home, ro);
  xs.write(`${vm}/uuid`, i.uuid);
  xs.write(`${vm}/name`, i.name);
  xs.setPermStrings(vm, ro);
  xs.setPermStrings(`${vm}/uuid`, ro);
  xs.setPermStrings(`${vm}/name`, ro);
  const roNodes: [string, string][] = [
    ['name', i.name], ['domid', String(i.domid)], ['vm', vm], ['memory/target', String(i.memoryKiB)],
    ['memory/static-max', String(i.memoryKiB)], ['store/port', String(i.storePort)], ['store/ring-ref', String(i.storePfn)],
    ['console/port', String(i.consolePort)], ['console/ring-ref', String(i.consolePfn)], ['console/type', 'xenconsoled'],
    ['console/limit', String(CONSOLE_LIMIT)], ['console/output', 'pty'], ['control/platform-feature-multiprocessor-suspend', '1'],
    ['control/platform-feature-xs_reset_watches', '1'],
  ];
  for (let v = 0; v < i.vcpus; v++) roNodes.push([`cpu/${v}/availability`, 'online']);
  for (const [k, v] of roNodes) xs.write(`${home}/${k}`, v);
  for (const dir of ['memory', 'store', 'console', 'control', 'cpu', 'device']) {
    xs.mkdir(`${home}/${dir}`);
    for (const p of xs.ls(`${home}/${dir}`)) xs.setPermStrings(p.path, ro);
  }
  for (const [k] of roNodes) xs.setPermStrings(`${home}/${k}`, ro);
  xs.write(`${home}/control/shutdown`, '');
  xs.setPermStrings(`${home}/control/shutdown`, rw);
  for (const dir of ['data', 'drivers', 'feature', 'attr', 'error']) {
    xs.mkdir(`${home}/${dir}`);
    xs.setPermStrings(`${home}/${dir}`, rw);
  }
}
