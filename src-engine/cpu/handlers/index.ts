/** Every mnemonic's handler factory, gathered for the decoder. */
import { aluFactories } from './alu';
import { bcdFactories } from './bcd';
import { bitFactories } from './bits';
import type { Factory } from './common';
import { controlFactories } from './control';
import { dataFactories } from './data';
import { fastSyscallFactories } from './fast-syscall';
import { ioFactories } from './io';
import { muldivFactories } from './muldiv';
import { shiftFactories } from './shift';
import { stackFactories } from './stack';
import { sseFactories } from './sse';
import { sseMoveFactories } from './sse-move';
import { stringFactories } from './string';
import { systemFactories } from './system';
import { x87Factories } from './x87';

export { udFactory, udHandler } from './common';

/** Factories by mnemonic (as written in opcode-table.ts). */
export const FACTORIES: Record<string, Factory> = {
  ...aluFactories,
  ...bcdFactories,
  ...bitFactories,
  ...controlFactories,
  ...dataFactories,
  ...fastSyscallFactories,
  ...ioFactories,
  ...muldivFactories,
  ...shiftFactories,
  ...stackFactories,
  ...sseFactories,
  ...sseMoveFactories,
  ...stringFactories,
  ...systemFactories,
  ...x87Factories,
};
