/**
 * domain.save and domain.restore: a paused domain's memory, VCPU states and devices go into a
 * versioned, checksummed image (runtime/save-image.ts) written atomically; restore rebuilds the
 * domain from it and lets it continue where it was.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DomusError, SaveImageError, errorMessage } from '../../base/errors';
import type { DomainConfig } from '../../api/domain-config';
import type { EngineMethods } from '../../api/methods';
import { decodeSaveImage, encodeSaveImage, type SaveHeader } from '../../runtime/save-image';
import { STATE_BYTES } from '../../cpu/state';
import { writeFileAtomic } from './atomic-file';
import { DOMUS_VERSION } from '../version';
import type { EngineService } from './engine-service';

type P<M extends keyof EngineMethods> = EngineMethods[M]['params'];

const SNAPSHOT_RETRIES = 400;
const SNAPSHOT_RETRY_MS = 5;

/** The save/restore methods, bound to a service. */
export function saveMethods(svc: EngineService): Record<string, (params: never) => unknown> {
  return {
    'domain.save': async (p: P<'domain.save'>) => {
      const d = svc.resolve(p.domain);
      if (d.shutdown) throw new DomusError('domain.shut-down', `Domain "${d.name}" has shut down; there is nothing to save.`, d.name);
      const file = p.file ?? path.join(svc.options.paths.savesDir, `${d.name}.save`);
      const wasRunning = (await svc.summary(d)).state !== 'paused';
      if (wasRunning) await svc.engine.pauseDomain(d.domid);
      try {
        let snap;
        for (let attempt = 0; ; attempt++) {
          try {
            snap = await svc.engine.snapshotDomain(d.domid);
            break;
          } catch (e) {
            if (!(e instanceof DomusError) || e.code !== 'domain.busy' || attempt >= SNAPSHOT_RETRIES) throw e;
            await new Promise((r) => setTimeout(r, SNAPSHOT_RETRY_MS));
          }
        }
        const header: SaveHeader = {
          engine: `domus ${DOMUS_VERSION}`,
          savedAtMs: Date.now(),
          name: d.name,
          uuid: snap.uuid,
          memoryMiB: d.config.memoryMiB,
          nrVcpus: d.config.maxvcpus,
          onlineVcpus: snap.onlineVcpus,
          stateBytes: STATE_BYTES,
          pageCount: snap.pages.gfns.length,
          config: d.config,
          platform: snap.platform,
          domain: { exits: snap.exits, deadHalt: snap.deadHalt },
          pvh: snap.pvh,
          xen: snap.xen,
        };
        writeFileAtomic(file, encodeSaveImage({ header, pages: snap.pages, states: snap.states }));
      } catch (e) {
        if (wasRunning) await svc.engine.unpauseDomain(d.domid).catch(() => {});
        throw e;
      }
      // xl save: the domain is gone once its image is safe on disk.
      await svc.engine.destroyDomain(d.domid);
      svc.note('info', d.name, `saved to ${file}`);
      return { file };
    },
    'domain.restore': async (p: P<'domain.restore'>) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(p.file);
      } catch (e) {
        throw new SaveImageError('save.read', `Cannot read the save image ${p.file}: ${errorMessage(e)}.`, p.file);
      }
      const img = decodeSaveImage(bytes, p.file);
      const config = img.header.config as DomainConfig;
      const pvh = img.header.pvh;
      if (config.type === 'pvh' && (pvh === undefined || img.header.xen === undefined)) {
        throw new SaveImageError('save.corrupt', `${p.file} cannot be restored: it holds PVH domain ${config.name} without its Xen state.`, p.file);
      }
      const r = await svc.restoreFromImage(config, {
        pages: img.pages,
        states: img.states,
        platform: img.header.platform,
        exits: img.header.domain.exits,
        deadHalt: img.header.domain.deadHalt,
        xen: img.header.xen,
      }, img.header.uuid, p.paused ?? false, pvh);
      svc.note('info', config.name, `restored from ${p.file} as domain ${r.domid}`);
      return r;
    },
  };
}
