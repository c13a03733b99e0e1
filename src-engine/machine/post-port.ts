/**
 * Port 0x80, the POST diagnostic port: BIOSes write progress codes there, and Linux and GRUB use
 * writes to it as a short I/O delay. A POST card shows the last code; so does `lastCode` here.
 *
 * Reference: IBM PC/AT POST code port; QEMU hw/i386/pc.c "ioport80" (writes ignored, reads 0xFF).
 */
import type { IoSize, Persistent, PortDevice } from './device';
import { requireStateVersion } from './save-state';

/** What a read of port 0x80 returns on a PC (the latch is write-only; the bus floats high). */
const POST_READ_VALUE = 0xff;

/** Saved state of the POST port. */
export interface PostPortState {
  version: 1;
  lastCode: number | null;
  writes: number;
}

/** The POST code latch at port 0x80. */
export class PostPort implements PortDevice, Persistent<PostPortState> {
  readonly name = 'post-port';
  /** The last code written, or null if none was. */
  lastCode: number | null = null;
  /** How many codes were written. */
  writes = 0;

  ioRead(): number {
    return POST_READ_VALUE;
  }

  ioWrite(_port: number, _size: IoSize, value: number): void {
    this.lastCode = value & 0xff;
    this.writes++;
  }

  saveState(): PostPortState {
    return { version: 1, lastCode: this.lastCode, writes: this.writes };
  }

  loadState(state: PostPortState): void {
    requireStateVersion(state, 1, 'the POST port');
    this.lastCode = state.lastCode;
    this.writes = state.writes;
  }
}
