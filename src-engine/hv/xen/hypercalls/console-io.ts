/**
 * console_io (18): xen.h. The emergency console: CONSOLEIO_write (arg2 = count, arg3 = buffer)
 * sends text to the domain's console stream beside the PV console ring (real Xen prints domU
 * writes only in debug builds; Domus always shows them). CONSOLEIO_read has no input to give a
 * domU and returns 0 bytes.
 */
import type { SubOp } from './types';

/** Bytes written per call; longer writes continue (Xen's hypercall continuation). */
export const CONSOLE_IO_CHUNK = 4096;
/** Index of arg2 (count) and arg3 (buffer) in HypercallContext.args. */
const ARG_COUNT = 1;
const ARG_BUFFER = 2;

/** Sub-operations of console_io. */
export const CONSOLE_IO_OPS: readonly SubOp[] = [
  {
    nr: 0, name: 'CONSOLEIO_write', status: 'supported', note: 'to the domain console stream (source "console_io")',
    handler: (c) => {
      const count = c.args[ARG_COUNT] >>> 0;
      const n = Math.min(count, CONSOLE_IO_CHUNK);
      const bytes = c.guest.read(c.args[ARG_BUFFER], n);
      c.host.consoleOutput(c.dom.domid, bytes, 'console_io');
      if (count > n) {
        c.continueWith = new Map([
          [ARG_COUNT, count - n],
          [ARG_BUFFER, (c.args[ARG_BUFFER] + n) >>> 0],
        ]);
      }
      return 0;
    },
  },
  { nr: 1, name: 'CONSOLEIO_read', status: 'partial', note: 'a domU has no emergency-console input: returns 0 bytes', handler: () => 0 },
];
