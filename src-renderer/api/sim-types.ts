/**
 * The scheduler simulator's "what if" question and answer (the API's wire types,
 * src-engine/api/tools.ts), and a shape check of the engine's answer.
 */

import type { WhatIfResult } from '../../src-engine/api/tools';

export type { WhatIfPoolParams, WhatIfRequest, WhatIfResult, WhatIfVcpu, WhatIfWorkload } from '../../src-engine/api/tools';

/** True if a value looks like a WhatIfResult (the engine's answer is checked before drawing). */
export function isWhatIfResult(v: unknown): v is WhatIfResult {
  const o = v as Partial<WhatIfResult> | null;
  return o !== null && typeof o === 'object' && Array.isArray(o.vcpus) && Array.isArray(o.domains) && Array.isArray(o.pcpus) && Array.isArray(o.timeline);
}
