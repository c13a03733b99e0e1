/**
 * Loads every scheduler so each registers itself (Xen's REGISTER_SCHEDULER list). Import this
 * module once before looking schedulers up by name; core.ts does.
 */
import './credit';
import './credit2';
import './rtds';
import './arinc653';
import './null';

export { creditOps } from './credit';
export { credit2Ops } from './credit2';
export { rtdsOps } from './rtds';
export { arinc653Ops } from './arinc653';
export { nullOps } from './null';
