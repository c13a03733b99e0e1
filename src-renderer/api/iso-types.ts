/**
 * The GRUB ISO wizard's request and answers (the API's wire types, src-engine/api/tools.ts: iso.preview
 * takes { input: IsoWizardRequest } and answers an IsoWizardPreview; iso.build answers { taskId }, then
 * task events whose final `result` is an IsoBuildReport), GRUB's serial speeds and shape checks.
 */

import type { IsoBuildReport, IsoWizardPreview } from '../../src-engine/api/tools';

export type { IsoBuildReport, IsoConsoleChoice, IsoWizardPreview, IsoWizardRequest } from '../../src-engine/api/tools';

/** Baud rates GRUB's serial command accepts (grub-cfg.ts SERIAL_SPEEDS). */
export const SERIAL_SPEEDS = [2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

/** Shape checks of the engine's answers. */
export function isIsoPreview(v: unknown): v is IsoWizardPreview {
  const o = v as Partial<IsoWizardPreview> | null;
  return o !== null && typeof o === 'object' && typeof o.grubCfg === 'string' && typeof o.generatedGrubCfg === 'string' && Array.isArray(o.warnings);
}

/** Shape check of a build report. */
export function isIsoReport(v: unknown): v is IsoBuildReport {
  const o = v as Partial<IsoBuildReport> | null;
  return o !== null && typeof o === 'object' && typeof o.output === 'string' && typeof o.bytes === 'number';
}
