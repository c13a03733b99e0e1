/**
 * The few host globals the engine core may use. They exist in Node.js, in workers and in
 * browsers; the core is compiled without DOM and Node types, so they are declared here by hand.
 */
declare const performance: { now(): number; readonly timeOrigin: number };

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}

/** The structured clone postMessage applies (runtime/hv-inline.ts copies messages with it). */
declare function structuredClone<T>(value: T): T;

/** Runs `callback` after the current task, before the next (runtime/hv-inline.ts). */
declare function queueMicrotask(callback: () => void): void;

/**
 * The WebAssembly subset the engine uses (hv/memory/machine-memory.ts: the pool as one shared
 * memory; cpu/wasm: compiled regions). Shapes follow lib.dom.d.ts, which the test project uses.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  interface Memory {
    /** A SharedArrayBuffer for a shared memory; a new object (longer) after grow(). */
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    /** Adds `delta` 64-KiB pages; returns the previous size in pages. */
    grow(delta: number): number;
  }
  const Memory: {
    prototype: Memory;
    new (descriptor: MemoryDescriptor): Memory;
  };
  /** A compiled module (opaque). */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Module {}
  const Module: {
    prototype: Module;
    new (bytes: ArrayBufferView | ArrayBuffer): Module;
  };
  interface Instance {
    readonly exports: Exports;
  }
  const Instance: {
    prototype: Instance;
    new (module: Module, importObject?: Imports): Instance;
  };
  type ExportValue = ((...args: never[]) => unknown) | Memory;
  type Exports = Record<string, ExportValue>;
  type ImportValue = ExportValue | number;
  type Imports = Record<string, ModuleImports>;
  type ModuleImports = Record<string, ImportValue>;
}
