/**
 * The INTA exit (runtime/hv-exits.ts): a pCPU asks for the vector because it saw the 8259's INTR
 * high, but its view lags the hypervisor's. When the guest's own posted writes, served just
 * before, masked the request (mask, then STI, as test/e2e/guests/echo.elf does while the PIT
 * ticks), there is nothing to take: the answer is -1, never the spurious IRQ 7 a guest without a
 * handler for it would die of (it did, under load, once the posted ring grew to 64 entries).
 */
import { describe, expect, it } from 'vitest';
import { createPcPlatform } from '../../../src-engine/machine/platform-pc';
import { serveDeviceExit } from '../../../src-engine/runtime/hv-exits';
import { REQ_INTA } from '../../../src-engine/runtime/control-block';
import type { HvDomain } from '../../../src-engine/runtime/hv-domain';
import type { XenHost } from '../../../src-engine/hv/xen/xen-host';
import { FakeClock } from '../machine/fake-clock';

const PIT_IRQ_VECTOR = 0x20;

function setup() {
  const clock = new FakeClock();
  const platform = createPcPlatform({ clock, ramBelow4G: 16 << 20 });
  const out = (port: number, value: number) => platform.bus.write(port, 1, value);
  // The guest's 8259 set-up: vectors 0x20/0x28, everything masked but IRQ 0.
  for (const [port, value] of [[0x20, 0x11], [0xa0, 0x11], [0x21, 0x20], [0xa1, 0x28], [0x21, 4], [0xa1, 2], [0x21, 1], [0xa1, 1], [0x21, 0xfe], [0xa1, 0xff]]) out(port, value);
  // Only the fields the exit reads: a PC domain (no PVH spec) and its platform.
  const d = { spec: {}, platform, firmware: undefined } as unknown as HvDomain;
  const inta = () => serveDeviceExit(d, 0, {} as XenHost, REQ_INTA, 0, 0, 0).r0;
  return { clock, platform, out, inta };
}

/** Raises IRQ 0 by letting the PIT (mode 2, count 1000) run one period. */
function tick(s: ReturnType<typeof setup>): void {
  s.out(0x43, 0x34);
  s.out(0x40, 0xe8);
  s.out(0x40, 0x03);
  s.clock.advance(2e6);
  s.platform.tick(s.clock.now());
}

describe('INTA exit', () => {
  it('gives the vector while the request stands', () => {
    const s = setup();
    tick(s);
    expect(s.platform.interruptController.hasInterrupt()).toBe(true);
    expect(s.inta()).toBe(PIT_IRQ_VECTOR);
  });

  it('answers -1, not a spurious IRQ 7, when the guest masked the request first', () => {
    const s = setup();
    tick(s);
    expect(s.platform.interruptController.hasInterrupt()).toBe(true);
    s.out(0x21, 0xff); // the posted mask write the pCPU ran before STI
    expect(s.inta()).toBe(-1);
    // Nothing was put in service: unmasking brings the same request back.
    s.out(0x21, 0xfe);
    expect(s.inta()).toBe(PIT_IRQ_VECTOR);
  });
});
