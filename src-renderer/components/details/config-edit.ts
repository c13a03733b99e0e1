/**
 * Editing a VM's library file key by key (boot options, disks, serial ports, affinity): read the
 * current text, replace the keys, save through the engine (which validates and refuses bad text
 * with file:line:column errors), refresh the library.
 */
import { useCallback } from 'react';
import { setXlKey } from '../../lib/xlcfg';
import type { VmRow } from '../../lib/vm-rows';
import { useAction, useStore } from '../../state/use-engine';

/** Returns `save(patch, what)`: keys -> new xl.cfg value text (undefined removes the key). */
export function useConfigEdit(row: VmRow): (patch: Record<string, string | undefined>, what: string) => Promise<boolean> {
  const store = useStore();
  const run = useAction();
  return useCallback(
    async (patch, what) => {
      if (!row.library) {
        store.notify('error', `${row.name} has no configuration file in the library to change.`);
        return false;
      }
      const ok = await run(
        `Saving ${what}`,
        async () => {
          const cur = await store.client.call('library.get', { name: row.name });
          let text = cur.text;
          for (const [k, v] of Object.entries(patch)) text = setXlKey(text, k, v);
          await store.client.call('library.save', { name: row.name, text });
          await store.refreshLibrary();
          return true;
        },
        `Saved ${what}; it takes effect when ${row.name} next starts.`,
      );
      return ok === true;
    },
    [row, run, store],
  );
}
