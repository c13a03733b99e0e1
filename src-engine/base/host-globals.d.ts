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
