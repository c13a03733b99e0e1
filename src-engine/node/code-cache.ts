/**
 * V8 code cache for the engine's big bundles (the hypervisor and pCPU thread programs): a thread
 * compiles its bundle with node:vm from a cache of V8 bytecode kept in the user's cache folder,
 * which spares it parsing and compiling about a megabyte of JavaScript at every start (about 30
 * ms of the hypervisor thread's start-up on a 2-core host, docs/performance.md).
 *
 * The cache is never needed for correctness: a missing, unreadable, stale or rejected cache
 * (V8 checks its version, flags and the source length; the file name carries the bundle's
 * content hash and the runtime's versions) means a normal compile, and the thread writes a fresh
 * cache later, once the code it runs at start has been compiled (`save()`), so the next start
 * finds that code too. Writes go to a temporary file renamed into place, so concurrent starts
 * never read half a cache. DOMUS_CODE_CACHE=0 turns the cache off; DOMUS_CACHE_DIR moves it.
 *
 * A bundle is a CommonJS module (esbuild format "cjs"): it runs inside the usual module wrapper
 * with its own require, and its exports are returned.
 */
import vm from 'node:vm';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

/** What happened to the cache when a bundle was loaded. */
export type CodeCacheStatus = 'hit' | 'miss' | 'rejected' | 'off';

/** A loaded bundle. */
export interface CachedBundle {
  /** The bundle's module.exports. */
  readonly exports: Record<string, unknown>;
  readonly status: CodeCacheStatus;
  /** Where the cache lives (undefined when off). */
  readonly cacheFile: string | undefined;
  /**
   * Writes the cache from everything compiled so far, if the load did not find a usable one;
   * at most once, never throws. Returns true if a cache file was written.
   */
  save(): boolean;
}

/** How a bundle is loaded. */
export interface CodeCacheConfig {
  /** Identifies the bundle's content (esbuild writes its hash at build time); part of the file name. */
  contentKey: string;
  /** Environment (DOMUS_CODE_CACHE, DOMUS_CACHE_DIR, XDG_CACHE_HOME); default process.env. */
  env?: Record<string, string | undefined>;
}

/** Subfolder of the Domus cache folder holding code caches. */
const CODE_CACHE_SUBDIR = 'v8';
/** File name suffix of a code cache. */
const CACHE_SUFFIX = '.v8cache';
/** File name suffix of a cache being written (renamed into place when complete). */
const TMP_SUFFIX = '.tmp';

/** The folder code caches go to, or undefined when the cache is off. */
export function codeCacheDir(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.DOMUS_CODE_CACHE === '0') return undefined;
  if (env.DOMUS_CACHE_DIR) return path.join(env.DOMUS_CACHE_DIR, CODE_CACHE_SUBDIR);
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'domus', CODE_CACHE_SUBDIR);
}

/** File-name-safe form of a version string. */
function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9.]+/g, '_');
}

/**
 * The cache file of a bundle: its name, content key, the runtime (Node or Electron: V8 version
 * and architecture), so one cache folder serves several builds and runtimes side by side.
 */
export function codeCacheFile(dir: string, bundleFile: string, contentKey: string): string {
  const runtime = `${safe(process.versions.v8)}-${process.arch}`;
  return path.join(dir, `${path.basename(bundleFile)}-${safe(contentKey)}-${runtime}${CACHE_SUFFIX}`);
}

function readCache(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Age after which a temporary cache file is left over from a process that died while writing it
 * (ms): a write takes milliseconds.
 */
const STALE_TMP_MS = 60_000;

/**
 * Removes other caches of the same bundle (older builds) from the folder, and temporary files
 * that processes killed during a write left behind; best effort.
 */
function pruneOld(dir: string, keep: string, bundleFile: string): void {
  const prefix = `${path.basename(bundleFile)}-`;
  try {
    for (const f of readdirSync(dir)) {
      if (!f.startsWith(prefix)) continue;
      const file = path.join(dir, f);
      if (f.endsWith(CACHE_SUFFIX) && file !== keep) unlinkSync(file);
      else if (f.endsWith(TMP_SUFFIX) && Date.now() - statSync(file).mtimeMs > STALE_TMP_MS) unlinkSync(file);
    }
  } catch {
    // Another process may be pruning at the same time; a leftover file costs only disk space.
  }
}

/** Loads and runs the CommonJS bundle `file` through the code cache. */
export function loadCachedBundle(bundleFile: string, config: CodeCacheConfig): CachedBundle {
  const file = path.resolve(bundleFile);
  const env = config.env ?? process.env;
  const dir = codeCacheDir(env);
  const cacheFile = dir === undefined ? undefined : codeCacheFile(dir, file, config.contentKey);
  const source = readFileSync(file, 'utf8');
  const cachedData = readCache(cacheFile);
  // The CommonJS wrapper, as Node's own loader puts around a module.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const status: CodeCacheStatus = cacheFile === undefined ? 'off' : cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: unknown, f: string, d: string) => void;
  const mod = { exports: {} as Record<string, unknown> };
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  let saved = status === 'hit' || status === 'off';
  return {
    exports: mod.exports,
    status,
    cacheFile,
    save: () => {
      if (saved || dir === undefined || cacheFile === undefined) return false;
      saved = true;
      try {
        const data = script.createCachedData();
        mkdirSync(dir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}-${threadId}${TMP_SUFFIX}`;
        writeFileSync(tmp, data);
        renameSync(tmp, cacheFile);
        pruneOld(dir, cacheFile, file);
        return true;
      } catch {
        // A read-only or full cache folder: start-up stays as fast as without a cache.
        return false;
      }
    },
  };
}
