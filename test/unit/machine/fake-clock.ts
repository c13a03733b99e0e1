import type { Clock } from '../../../src-engine/machine/device';

/** A clock the test moves by hand. Wall time starts at `startWallMs` and moves with `now`. */
export class FakeClock implements Clock {
  ns = 0;

  constructor(private readonly startWallMs = Date.UTC(2024, 2, 9, 13, 45, 30)) {}

  now(): number {
    return this.ns;
  }

  wallMs(): number {
    return this.startWallMs + this.ns / 1e6;
  }

  advance(ns: number): void {
    this.ns += ns;
  }

  advanceMs(ms: number): void {
    this.ns += ms * 1e6;
  }
}

/** An IrqLine that records its level and counts rising edges. */
export class RecordingIrq {
  level = false;
  rises = 0;
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
  }
}
