/**
 * The shape of the BIOS service catalogue: one entry per interrupt function with its register
 * contract, its status (supported / partial / not yet) and the TypeScript that runs it. The
 * dispatcher, the unit tests and docs/bios.md are all derived from the same entries.
 */
import type { BiosCall } from './call';
import type { E820Entry } from '../../boot/e820';
import type { FirmwareHost, BiosConfig } from './host';
import type { TextConsole } from './text-console';
import type { BiosRomImage } from './rom';
import type { BiosDrive } from './drives';
import type { KeyboardBuffer } from './keyboard-buffer';

/** How complete a service is. */
export type BiosServiceStatus = 'supported' | 'partial' | 'not-yet';

/** What a service may reach besides its call. */
export interface BiosContext {
  readonly host: FirmwareHost;
  readonly config: BiosConfig;
  readonly rom: BiosRomImage;
  readonly console: TextConsole;
  /** INT 13h drives by BIOS number. */
  readonly drives: ReadonlyMap<number, BiosDrive>;
  /** The E820 memory map. */
  readonly e820: readonly E820Entry[];
  readonly keyboard: KeyboardBuffer;
  /** Where the last boot came from (INT 13h AX=4B01h answers from it). */
  readonly boot: BootRecord | undefined;
  /**
   * Redoes POST and boots (INT 19h, reset vector): prepares the calling VCPU so that its next
   * IRET enters the boot image, or parks it in the halt loop if nothing boots.
   */
  rebootFromTrap(c: BiosCall): void;
  /** Per-VCPU scratch for services that span several traps (waits). */
  pending: Map<number, number>;
}

/** What was booted, for INT 13h AX=4B01h (El Torito status). */
export interface BootRecord {
  drive: number;
  /** El Torito details when the boot was a CD no-emulation boot. */
  elTorito?: { imageLba: number; loadSegment: number; sectorCount: number; mediaType: number };
}

/** A service's TypeScript. */
export type BiosServiceRun = (c: BiosCall, bios: BiosContext) => void;

/** One catalogue entry. */
export interface BiosService {
  /** Interrupt vector (0x10 ...). */
  vector: number;
  /** Function selected by AH, or by AX when `ax` is given (exactly one of the two, or neither for
   *  a vector without sub-functions). */
  ah?: number;
  ax?: number;
  /** Short name ("teletype output"). */
  name: string;
  status: BiosServiceStatus;
  /** The register contract and any deviation, for the docs. */
  contract: string;
  /** Absent for not-yet entries: the dispatcher answers with the vector's "unsupported" result. */
  run?: BiosServiceRun;
}

/** "AH=0Eh", "AX=E820h" or "-" as the docs show a function. */
export function functionLabel(s: BiosService): string {
  const hex = (v: number, w: number) => v.toString(16).toUpperCase().padStart(w, '0') + 'h';
  if (s.ax !== undefined) return `AX=${hex(s.ax, 4)}`;
  if (s.ah !== undefined) return `AH=${hex(s.ah, 2)}`;
  return '-';
}
