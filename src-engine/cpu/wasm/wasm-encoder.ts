/**
 * A small WebAssembly binary encoder: the module sections a compiled region needs (types,
 * imported functions and the pool's shared memory, functions, exports, code) and a function
 * body builder with the i32 instructions the region compiler uses, structured control with
 * named labels (a branch names its target; the depth is worked out here).
 *
 * Binary format: WebAssembly Core Specification 1.0 (section 5), with the threads proposal's
 * shared memory limits (flag 3) and the sign-extension operators.
 */

/** Value type i32. */
export const I32 = 0x7f;
/** Value type i64. */
export const I64 = 0x7e;
/** Block type of a block with no result. */
const BLOCK_VOID = 0x40;

/** Opcodes (Core Specification 5.4). */
export const enum Op {
  Unreachable = 0x00,
  Block = 0x02,
  Loop = 0x03,
  If = 0x04,
  Else = 0x05,
  End = 0x0b,
  Br = 0x0c,
  BrIf = 0x0d,
  BrTable = 0x0e,
  Return = 0x0f,
  Call = 0x10,
  Drop = 0x1a,
  Select = 0x1b,
  LocalGet = 0x20,
  LocalSet = 0x21,
  LocalTee = 0x22,
  I32Load = 0x28,
  I32Load8U = 0x2d,
  I32Load16U = 0x2f,
  I32Store = 0x36,
  I32Store8 = 0x3a,
  I32Store16 = 0x3b,
  I32Const = 0x41,
  I64Const = 0x42,
  I32Eqz = 0x45,
  I32Eq = 0x46,
  I32Ne = 0x47,
  I32LtS = 0x48,
  I32LtU = 0x49,
  I32GtS = 0x4a,
  I32GtU = 0x4b,
  I32LeS = 0x4c,
  I32LeU = 0x4d,
  I32GeS = 0x4e,
  I32GeU = 0x4f,
  I64Ne = 0x52,
  I32Popcnt = 0x69,
  I32Add = 0x6a,
  I32Sub = 0x6b,
  I32Mul = 0x6c,
  I32And = 0x71,
  I32Or = 0x72,
  I32Xor = 0x73,
  I32Shl = 0x74,
  I32ShrS = 0x75,
  I32ShrU = 0x76,
  I32Rotl = 0x77,
  I32Rotr = 0x78,
  I64Mul = 0x7e,
  I64DivU = 0x80,
  I64RemU = 0x82,
  I64Or = 0x84,
  I64Shl = 0x86,
  I64ShrU = 0x88,
  I32WrapI64 = 0xa7,
  I64ExtendI32S = 0xac,
  I64ExtendI32U = 0xad,
  I32Extend8S = 0xc0,
  I32Extend16S = 0xc1,
}

/** Appends the unsigned LEB128 encoding of `v` (0 <= v < 2^32). */
export function uleb(out: number[], v: number): void {
  let x = v >>> 0;
  do {
    let byte = x & 0x7f;
    x >>>= 7;
    if (x !== 0) byte |= 0x80;
    out.push(byte);
  } while (x !== 0);
}

/** Appends the signed LEB128 encoding of the int32 `v`. */
export function sleb(out: number[], v: number): void {
  let x = v | 0;
  for (;;) {
    const byte = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/** A label a branch can name (a block, loop or if of the body being written). */
export type Label = { readonly id: number };

/** Builds one function body. */
export class FnBuilder {
  readonly code: number[] = [];
  /** Types of the locals after the parameters. */
  private readonly localTypes: number[] = [];
  private readonly labels: Label[] = [];
  private nextLabel = 0;

  constructor(readonly params: readonly number[], readonly results: readonly number[]) {}

  /** Adds a local of `type` (default i32); returns its index. */
  local(type = I32): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Appends a bare opcode. */
  op(o: Op): this {
    this.code.push(o);
    return this;
  }

  i32(v: number): this {
    this.code.push(Op.I32Const);
    sleb(this.code, v);
    return this;
  }

  /** i64.const of an int32 value (sign-extended). */
  i64(v: number): this {
    this.code.push(Op.I64Const);
    sleb(this.code, v);
    return this;
  }

  get(l: number): this {
    this.code.push(Op.LocalGet);
    uleb(this.code, l);
    return this;
  }

  set(l: number): this {
    this.code.push(Op.LocalSet);
    uleb(this.code, l);
    return this;
  }

  tee(l: number): this {
    this.code.push(Op.LocalTee);
    uleb(this.code, l);
    return this;
  }

  /** A load or store with a static byte offset (natural alignment hint for its width). */
  mem(o: Op, offset: number): this {
    this.code.push(o);
    const align = o === Op.I32Load8U || o === Op.I32Store8 ? 0 : o === Op.I32Load16U || o === Op.I32Store16 ? 1 : 2;
    this.code.push(align);
    uleb(this.code, offset);
    return this;
  }

  call(fn: number): this {
    this.code.push(Op.Call);
    uleb(this.code, fn);
    return this;
  }

  /** Opens a block (or loop, or if) with no result or one i32 result; returns its label. */
  open(kind: Op.Block | Op.Loop | Op.If, result = false): Label {
    this.code.push(kind, result ? I32 : BLOCK_VOID);
    const l = { id: this.nextLabel++ };
    this.labels.push(l);
    return l;
  }

  /** `else` of the innermost if. */
  else(): this {
    this.code.push(Op.Else);
    return this;
  }

  /** Closes the innermost block, which must be `l`. */
  end(l: Label): this {
    const top = this.labels.pop();
    if (top !== l) throw new Error('wasm encoder: blocks closed out of order');
    this.code.push(Op.End);
    return this;
  }

  private depth(l: Label): number {
    const k = this.labels.lastIndexOf(l);
    if (k < 0) throw new Error('wasm encoder: branch to a label not open');
    return this.labels.length - 1 - k;
  }

  br(l: Label): this {
    this.code.push(Op.Br);
    uleb(this.code, this.depth(l));
    return this;
  }

  brIf(l: Label): this {
    this.code.push(Op.BrIf);
    uleb(this.code, this.depth(l));
    return this;
  }

  brTable(targets: readonly Label[], dflt: Label): this {
    this.code.push(Op.BrTable);
    uleb(this.code, targets.length);
    for (const t of targets) uleb(this.code, this.depth(t));
    uleb(this.code, this.depth(dflt));
    return this;
  }

  /** The encoded body (locals and code, with the final end), for the code section. */
  encode(): number[] {
    if (this.labels.length !== 0) throw new Error('wasm encoder: a block is still open');
    const out: number[] = [];
    // Locals as runs of one type.
    const runs: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(out, runs.length);
    for (const [n, t] of runs) {
      uleb(out, n);
      out.push(t);
    }
    for (const b of this.code) out.push(b);
    out.push(Op.End);
    return out;
  }
}

/** A function import. */
interface ImportFn {
  name: string;
  params: readonly number[];
  results: readonly number[];
}

/** Builds a module: imported functions from "e", the imported shared memory "e"."m", functions, exports. */
export class ModuleBuilder {
  private readonly imports: ImportFn[] = [];
  private readonly fns: { b: FnBuilder; export?: string }[] = [];

  /** Declares an imported function; returns its function index (imports come first). */
  importFn(name: string, params: readonly number[], results: readonly number[]): number {
    if (this.fns.length > 0) throw new Error('wasm encoder: imports must be declared before functions');
    this.imports.push({ name, params, results });
    return this.imports.length - 1;
  }

  /** Adds a function (exported under `exportName` if given); returns its index. */
  addFn(b: FnBuilder, exportName?: string): number {
    this.fns.push({ b, export: exportName });
    return this.imports.length + this.fns.length - 1;
  }

  /** The module's bytes. */
  encode(): Uint8Array<ArrayBuffer> {
    const types: string[] = [];
    const typeBytes: number[][] = [];
    const typeOf = (params: readonly number[], results: readonly number[]): number => {
      const key = `${params.join(',')}:${results.join(',')}`;
      let k = types.indexOf(key);
      if (k < 0) {
        k = types.length;
        types.push(key);
        const t = [0x60];
        uleb(t, params.length);
        t.push(...params);
        uleb(t, results.length);
        t.push(...results);
        typeBytes.push(t);
      }
      return k;
    };
    const importTypes = this.imports.map((f) => typeOf(f.params, f.results));
    const fnTypes = this.fns.map((f) => typeOf(f.b.params, f.b.results));

    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, body: number[]): void => {
      out.push(id);
      uleb(out, body.length);
      for (const b of body) out.push(b);
    };
    const vec = (items: number[][]): number[] => {
      const v: number[] = [];
      uleb(v, items.length);
      for (const it of items) for (const b of it) v.push(b);
      return v;
    };
    const name = (s: string): number[] => {
      const v: number[] = [];
      uleb(v, s.length);
      for (let k = 0; k < s.length; k++) v.push(s.charCodeAt(k));
      return v;
    };
    section(1, vec(typeBytes));
    const imp: number[][] = this.imports.map((f, k) => {
      const v = [...name('e'), ...name(f.name), 0x00];
      uleb(v, importTypes[k]);
      return v;
    });
    // The pool memory: shared, at least one page, at most 4 GiB (limits flag 3: min and max, shared).
    const memImp = [...name('e'), ...name('m'), 0x02, 0x03];
    uleb(memImp, 1);
    uleb(memImp, 65536);
    imp.push(memImp);
    section(2, vec(imp));
    section(3, vec(fnTypes.map((t) => {
      const v: number[] = [];
      uleb(v, t);
      return v;
    })));
    const exps: number[][] = [];
    this.fns.forEach((f, k) => {
      if (f.export === undefined) return;
      const v = [...name(f.export), 0x00];
      uleb(v, this.imports.length + k);
      exps.push(v);
    });
    section(7, vec(exps));
    section(10, vec(this.fns.map((f) => {
      const body = f.b.encode();
      const v: number[] = [];
      uleb(v, body.length);
      for (const b of body) v.push(b);
      return v;
    })));
    const bytes = new Uint8Array(new ArrayBuffer(out.length));
    bytes.set(out);
    return bytes;
  }
}
