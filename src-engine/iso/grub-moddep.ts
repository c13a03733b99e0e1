/**
 * GRUB's module dependency list (moddep.lst: one line `name: dep1 dep2 ...` per module) and the
 * order in which grub-mkimage embeds a requested module set (spec/grub-iso-and-bios.md §3.1).
 *
 * Order, as grub-mkimage's resolver produces it: for each requested module in turn, its
 * dependencies first (visited from the last listed to the first), each module once, then the
 * module itself. The GRUB kernel initialises embedded modules in this order, so every module comes
 * after everything it needs.
 */
import { IsoError } from '../base/errors';

/** Parsed moddep.lst: module name -> the names it depends on, in file order. */
export type ModDeps = ReadonlyMap<string, readonly string[]>;

/** Parses moddep.lst text. Lines without ':' are refused, naming the line. */
export function parseModDeps(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) {
      throw new IsoError('iso.bad-moddep', `moddep.lst line ${i + 1} has no ":" ("${line.slice(0, 60)}"); the GRUB directory is damaged.`, 'moddep.lst');
    }
    const name = line.slice(0, colon).trim();
    // A later line for the same module wins, as in grub-mkimage.
    deps.set(name, line.slice(colon + 1).split(/\s+/).filter((s) => s !== ''));
  });
  return deps;
}

/** Strips a directory and a ".mod" suffix: "x/y/normal.mod" -> "normal". */
export function moduleName(spec: string): string {
  const base = spec.slice(spec.lastIndexOf('/') + 1);
  return base.endsWith('.mod') ? base.slice(0, -4) : base;
}

/**
 * The embedding order of `requested` and all their dependencies. Modules missing from moddep.lst
 * have no dependencies (grub-mkimage behaves the same); a dependency cycle is refused.
 */
export function resolveModules(deps: ModDeps, requested: readonly string[]): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const active = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    if (done.has(name)) return;
    if (active.has(name)) {
      throw new IsoError('iso.bad-moddep', `moddep.lst has a dependency cycle: ${[...chain, name].join(' -> ')}.`, 'moddep.lst');
    }
    active.add(name);
    const list = deps.get(name) ?? [];
    for (let i = list.length - 1; i >= 0; i--) visit(list[i], [...chain, name]);
    active.delete(name);
    done.add(name);
    order.push(name);
  };
  for (const r of requested) visit(moduleName(r), []);
  return order;
}
