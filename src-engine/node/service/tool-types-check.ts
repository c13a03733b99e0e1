/**
 * Compile-time checks that the engine's own tool types and the API's wire types (api/tools.ts)
 * agree, so a change on one side that the other cannot carry fails the typecheck: what a client
 * may send must be acceptable to the engine, and what the engine answers must fit the API.
 * Nothing here runs.
 */
import type * as Api from '../../api/tools';
import type * as Sim from '../../hv/sched/sim/what-if';
import type * as Iso from '../iso/iso-service';

/** True when A is assignable to B. */
type Fits<A, B> = [A] extends [B] ? true : false;
/** Compiles only for `true`. */
type Check<T extends true> = T;

export type ToolTypeChecks = [
  Check<Fits<Api.WhatIfRequest, Sim.WhatIfRequest>>,
  Check<Fits<Sim.WhatIfResult, Api.WhatIfResult>>,
  Check<Fits<Api.IsoWizardRequest, Iso.IsoWizardRequest>>,
  Check<Fits<Iso.IsoWizardPreview, Api.IsoWizardPreview>>,
  Check<Fits<Iso.IsoBuildReport, Api.IsoBuildReport>>,
];
