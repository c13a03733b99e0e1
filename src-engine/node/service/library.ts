/**
 * The domain library: xl.cfg files in the user's data directory, one per domain name. `domus`
 * and the GUI see the same files. Writes are atomic (a killed process never leaves a broken
 * config) and refuse text that does not parse, with its file:line:column errors.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DomusError } from '../../base/errors';
import { parseDomainConfig } from '../../config/domain-config-parse';
import { XlCfgError, formatProblem } from '../../config/xlcfg-problems';
import type { LibraryEntry } from '../../api/types';
import type { CpuTopology } from '../../base/cpulist';
import { writeFileAtomic } from './atomic-file';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a library name (it becomes a file name). */
export function checkLibraryName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new ConfigError(
      'library.name',
      `"${name}" cannot be a domain name in the library: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit).`,
      name,
    );
  }
}

/** The library on disk. */
export class DomainLibrary {
  constructor(
    readonly dir: string,
    private readonly topology: () => CpuTopology,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  fileOf(name: string): string {
    checkLibraryName(name);
    return path.join(this.dir, `${name}.cfg`);
  }

  /** Parses one config text, collecting problems instead of throwing. */
  inspect(name: string, text: string): Omit<LibraryEntry, 'domid'> {
    const file = this.fileOf(name);
    try {
      const r = parseDomainConfig(text, { file, topology: this.topology() });
      return { name, file, config: r.config, errors: [], warnings: r.warnings.map(formatProblem) };
    } catch (e) {
      if (e instanceof XlCfgError) return { name, file, config: undefined, errors: e.problems.filter((p) => p.severity === 'error').map(formatProblem), warnings: e.problems.filter((p) => p.severity === 'warning').map(formatProblem) };
      return { name, file, config: undefined, errors: [e instanceof Error ? e.message : String(e)], warnings: [] };
    }
  }

  names(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.cfg') && !f.startsWith('.'))
      .map((f) => f.slice(0, -4))
      .filter((n) => NAME_RE.test(n))
      .sort();
  }

  read(name: string): string {
    const file = this.fileOf(name);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new DomusError('library.not-found', `There is no domain "${name}" in the library (${this.dir}).`, name);
    }
  }

  /** Validates and writes a config; returns its inspection. */
  save(name: string, text: string): Omit<LibraryEntry, 'domid'> {
    const entry = this.inspect(name, text);
    if (entry.errors.length > 0) {
      throw new ConfigError('library.invalid', `The configuration of "${name}" has errors:\n${entry.errors.join('\n')}`, name);
    }
    writeFileAtomic(entry.file, text.endsWith('\n') ? text : `${text}\n`);
    return entry;
  }

  delete(name: string): void {
    const file = this.fileOf(name);
    if (!existsSync(file)) throw new DomusError('library.not-found', `There is no domain "${name}" in the library.`, name);
    unlinkSync(file);
  }
}
