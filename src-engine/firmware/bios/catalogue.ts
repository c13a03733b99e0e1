/**
 * The whole BIOS service catalogue and the dispatch table built from it. Each vector has an
 * "unsupported" answer for functions it does not list (INT 13h: AH=01h CF=1; INT 15h: AH=86h
 * CF=1; INT 1Ah: CF=1; INT 10h: VBE "not supported"; INT 14h/16h: registers unchanged).
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import { DISK_SERVICES, diskUnsupported } from './services-disk';
import { KEYBOARD_SERVICES } from './services-keyboard';
import { PORT_SERVICES } from './services-ports';
import { SYSTEM_SERVICES, systemUnsupported } from './services-system';
import { TickClock, timeServices, timeUnsupported } from './services-time';
import { VIDEO_SERVICES, videoUnsupported } from './services-video';

/** Every service, in vector order (the order docs/bios.md lists them). */
export function biosCatalogue(ticks: TickClock = new TickClock(() => 0)): BiosService[] {
  const all = [...VIDEO_SERVICES, ...DISK_SERVICES, ...SYSTEM_SERVICES, ...KEYBOARD_SERVICES, ...PORT_SERVICES, ...timeServices(ticks), ...BOOT_SERVICES];
  return all.sort((a, b) => a.vector - b.vector || (a.ax ?? (a.ah ?? 0) << 8) - (b.ax ?? (b.ah ?? 0) << 8));
}

/** INT 18h/19h: listed here for the docs; the BIOS runs them itself (they transfer control). */
export const BOOT_SERVICES: readonly BiosService[] = [
  { vector: 0x18, name: 'boot failure', status: 'supported', contract: 'Called by a boot program that gives up: tries the next device of the boot order; with none left prints "No bootable device." and halts.' },
  { vector: 0x19, name: 'bootstrap loader', status: 'supported', contract: 'Loads the boot image of the first bootable device of the boot order and enters it with DL=drive (spec section 4.4 state); if none boots, prints "No bootable device." and halts.' },
];

/** The answer of a vector to a function it does not list. */
const UNSUPPORTED: Readonly<Record<number, (c: BiosCall, bios: BiosContext) => void>> = {
  0x10: videoUnsupported,
  0x13: diskUnsupported,
  0x40: diskUnsupported,
  0x15: systemUnsupported,
  0x1a: timeUnsupported,
};

/** Services of one vector, looked up by AX, then AH, then the vector itself. */
interface VectorTable {
  byAx: Map<number, BiosService>;
  byAh: Map<number, BiosService>;
  whole: BiosService | undefined;
}

/** Finds the service for a call and runs it (or the vector's unsupported answer). */
export class BiosDispatcher {
  private readonly vectors = new Map<number, VectorTable>();

  constructor(readonly services: readonly BiosService[]) {
    for (const s of services) {
      let t = this.vectors.get(s.vector);
      if (t === undefined) this.vectors.set(s.vector, (t = { byAx: new Map(), byAh: new Map(), whole: undefined }));
      if (s.ax !== undefined) t.byAx.set(s.ax, s);
      else if (s.ah !== undefined) t.byAh.set(s.ah, s);
      else t.whole = s;
    }
    // INT 40h (relocated diskette services) answers like INT 13h for the drives it is asked about.
    const disk = this.vectors.get(0x13);
    if (disk !== undefined) this.vectors.set(0x40, disk);
  }

  /** The catalogue entry a call selects, if any. */
  lookup(vector: number, ax: number): BiosService | undefined {
    const t = this.vectors.get(vector);
    if (t === undefined) return undefined;
    return t.byAx.get(ax) ?? t.byAh.get(ax >> 8) ?? t.whole;
  }

  /** Runs the call; returns the entry used (undefined: the unsupported answer was given). */
  dispatch(c: BiosCall, bios: BiosContext): BiosService | undefined {
    const s = this.lookup(c.vector, c.ax);
    if (s?.run !== undefined) {
      s.run(c, bios);
      return s;
    }
    UNSUPPORTED[c.vector]?.(c, bios);
    return s;
  }
}
