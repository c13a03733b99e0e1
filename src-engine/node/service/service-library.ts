/**
 * The API's library and xenstore methods: the domain library (configs as .cfg files, their
 * validation, the Debian test VM) and domain 0's xenstore access with per-connection watches.
 */
import { DomusError, HypervisorError } from '../../base/errors';
import type { EngineMethod, EngineMethods } from '../../api/methods';
import type { ServiceConnection } from './api-service';
import { DEBIAN_TEST_VM_NAME, debianTestVmConfig } from './debian-test-vm';
import type { EngineService } from './engine-service';

type P<M extends EngineMethod> = EngineMethods[M]['params'];
type Methods = Record<string, (params: never, conn: ServiceConnection) => unknown>;

/** The methods, bound to a service. */
export function libraryMethods(svc: EngineService): Methods {
  let watchSeq = 0;
  return {
    'library.list': async () => {
      const running = new Map<string, number>();
      for (const d of svc.domains.values()) if (d.libraryName) running.set(d.libraryName, d.domid);
      return svc.library.names().map((n) => ({ ...svc.library.inspect(n, svc.library.read(n)), domid: running.get(n) }));
    },
    'library.get': async (p: P<'library.get'>) => {
      const text = svc.library.read(p.name);
      const running = [...svc.domains.values()].find((d) => d.libraryName === p.name);
      return { ...svc.library.inspect(p.name, text), domid: running?.domid, text };
    },
    'library.save': async (p: P<'library.save'>) => {
      const e = svc.library.save(p.name, p.text);
      svc.note('info', 'library', `saved ${p.name}`);
      return { ...e, domid: undefined };
    },
    'xenstore.ls': (p: P<'xenstore.ls'>) => svc.engine.call<string>('xenstore', { op: 'ls', path: p.path }),
    'xenstore.read': (p: P<'xenstore.read'>) => svc.engine.call<string>('xenstore', { op: 'read', path: p.path }),
    'xenstore.write': (p: P<'xenstore.write'>) => svc.engine.call<null>('xenstore', { op: 'write', path: p.path, value: p.value }),
    'xenstore.rm': (p: P<'xenstore.rm'>) => svc.engine.call<null>('xenstore', { op: 'rm', path: p.path }),
    'xenstore.watch': async (p: P<'xenstore.watch'>, conn: ServiceConnection) => {
      const watchId = ++watchSeq;
      // Owned by the connection: its events go only there, and the watch ends with it.
      if (conn) {
        conn.xenstoreWatches.add(watchId);
        conn.events.add('xenstore');
        conn.onClose(() => void svc.engine.call('xenstore', { op: 'unwatch', watchId }).catch(() => undefined));
      }
      await svc.engine.call('xenstore', { op: 'watch', path: p.path, watchId });
      return { watchId };
    },
    'xenstore.unwatch': async (p: P<'xenstore.unwatch'>, conn: ServiceConnection) => {
      if (conn && !conn.xenstoreWatches.delete(p.watchId)) {
        throw new DomusError('xenstore.no-watch', `This connection has no xenstore watch ${p.watchId}.`, String(p.watchId));
      }
      await svc.engine.call('xenstore', { op: 'unwatch', watchId: p.watchId });
      return null;
    },
    'library.check': async (p: P<'library.check'>) => ({ ...svc.library.inspect(p.name ?? 'draft', p.text), domid: undefined }),
    'library.addDebianTestVm': async () => {
      const name = DEBIAN_TEST_VM_NAME;
      if (svc.library.names().includes(name)) return { ...svc.library.inspect(name, svc.library.read(name)), domid: undefined };
      const e = svc.library.save(name, debianTestVmConfig(process.env));
      svc.note('info', 'library', `added the Debian test VM as ${name}`);
      return { ...e, domid: undefined };
    },
    'library.delete': async (p: P<'library.delete'>) => {
      const running = [...svc.domains.values()].find((d) => d.libraryName === p.name && !d.shutdown);
      if (running) {
        throw new HypervisorError('library.running', `"${p.name}" is running as domain ${running.domid}; destroy it before deleting its configuration.`, p.name);
      }
      svc.library.delete(p.name);
      svc.note('info', 'library', `deleted ${p.name}`);
      return null;
    },
  };
}
