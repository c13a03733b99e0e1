/** The engine API: types, methods, events and the wire envelope. */
export type * from './types';
export type * from './domain-config';
export type * from './events';
export type * from './tools';
export type { EngineMethods, EngineMethod, ParamsOf, ResultOf } from './methods';
export { METHOD_SCHEMAS, validateRequest } from './methods';
export { OPT_IN_EVENTS } from './events';
export type { RequestMessage, ServerMessage } from './wire';
export { encodeMessage, decodeMessage } from './wire';
