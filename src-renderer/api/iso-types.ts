/**
 * The GRUB ISO wizard's request and answers as the GUI sends and reads them: the renderer's copy of
 * src-engine/node/iso/iso-service.ts (IsoWizardRequest, IsoWizardPreview, IsoBuildReport), which
 * the API methods iso.preview ({ input: IsoWizardRequest } -> IsoWizardPreview) and iso.build
 * ({ input } -> { taskId }, then task events whose final `result` is an IsoBuildReport) carry.
 */

/** The console GRUB talks on. */
export type IsoConsoleChoice = { kind: 'serial'; port: number; speed: number } | { kind: 'vga' };

/** A build request; paths are paths on the engine's host. */
export interface IsoWizardRequest {
  kernel: string;
  kernelArgs?: string;
  modules?: { path: string; args?: string }[];
  title?: string;
  timeoutSeconds?: number;
  console?: IsoConsoleChoice;
  protocol?: 1 | 2;
  /** An edited grub.cfg replacing the generated one. */
  grubCfg?: string;
  output: string;
}

/** What the wizard shows before building. */
export interface IsoWizardPreview {
  grubCfg: string;
  generatedGrubCfg: string;
  protocol: 1 | 2;
  kernelPath: string;
  modulePaths: string[];
  warnings: string[];
}

/** What a build produced. */
export interface IsoBuildReport {
  output: string;
  bytes: number;
  sectors: number;
  elapsedMs: number;
  grubCfg?: string;
  warnings: string[];
  grubVersion: string;
  coreModules: string[];
}

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
