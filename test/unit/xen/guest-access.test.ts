// copy_from/to_guest (src-engine/hv/xen/guest-access.ts): hypercall pointers are translated
// through the guest's page tables at the time of the call - paging off, 2-level 4 KiB pages and
// PAE 2 MiB pages - a copy that reaches an unmapped page fails whole with EFAULT and leaves CR2
// as it was, a supervisor write to a read-only page with CR0.WP is EFAULT, and writes invalidate
// decoded code in the frames they touch.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { resetState } from '../../../src-engine/cpu/reset';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, S_CR0, S_CR2, S_CR3, S_CR4, S_PDPTE, STATE_BYTES } from '../../../src-engine/cpu/state';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { GuestAccess } from '../../../src-engine/hv/xen/guest-access';
import { EFAULT, XenFault } from '../../../src-engine/hv/xen/abi/xen-errno';

const P = 1;
const RW = 2;
const PS = 0x80;

function setup() {
  const mem = new DomainMemory(new MachineMemory(16 * 2 ** 20), 'g', { ramBytes: 8 * 2 ** 20 });
  const states = new SharedArrayBuffer(STATE_BYTES);
  const s = new Int32Array(states);
  resetState(s);
  s[S_CR0] = CR0_PE;
  const g = new GuestAccess(states, 0, mem, DEFAULT_FEATURES);
  return { mem, s, g };
}

function fault(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof XenFault) return e.errno;
    throw e;
  }
  return undefined;
}

describe('guest access', () => {
  it('reads and writes guest-physical memory with paging off, and EFAULTs beyond RAM', () => {
    const { mem, g } = setup();
    g.write(0x1000, new TextEncoder().encode('abc'));
    expect(new TextDecoder().decode(mem.read(0x1000, 3))).toBe('abc');
    expect(fault(() => g.read(8 * 2 ** 20 - 2, 4))).toBe(EFAULT);
  });

  it('translates through 2-level page tables, fails whole on an unmapped page, and keeps CR2', () => {
    const { mem, s, g } = setup();
    // PD at 0x10000, PT at 0x11000: linear 0x400000 -> 0x200000, 0x401000 unmapped.
    mem.writeU32(0x10000 + 1 * 4, 0x11000 | P | RW);
    mem.writeU32(0x11000, 0x200000 | P | RW);
    s[S_CR3] = 0x10000;
    s[S_CR0] = CR0_PE | CR0_PG;
    s[S_CR2] = 0x1234;
    g.begin();
    g.writeU32(0x400ffc, 0xdeadbeef);
    expect(mem.readU32(0x200ffc)).toBe(0xdeadbeef);
    expect(fault(() => g.write(0x400ffe, Uint8Array.of(1, 2, 3, 4)))).toBe(EFAULT);
    expect(mem.readU32(0x200ffc)).toBe(0xdeadbeef);
    expect(s[S_CR2]).toBe(0x1234);
    // Read-only page with CR0.WP: supervisor writes fault, reads work.
    mem.writeU32(0x11000 + 2 * 4, 0x202000 | P);
    s[S_CR0] |= CR0_WP;
    g.begin();
    expect(g.readU32(0x402000)).toBe(0);
    expect(fault(() => g.writeU32(0x402000, 1))).toBe(EFAULT);
  });

  it('translates through PAE page tables with 2 MiB pages', () => {
    const { mem, s, g } = setup();
    // PDPT at 0x20000 (PDPTE registers as MOV CR3 loads them), PD at 0x21000: 0x40000000 -> 0x400000 (2 MiB).
    s[S_PDPTE + 2] = 0x21000 | P;
    mem.writeU32(0x21000, 0x400000 | P | RW | PS);
    s[S_CR3] = 0x20000;
    s[S_CR4] = CR4_PAE;
    s[S_CR0] = CR0_PE | CR0_PG;
    g.begin();
    g.write(0x40123456, new TextEncoder().encode('pae'));
    expect(new TextDecoder().decode(mem.read(0x523456, 3))).toBe('pae');
    expect(fault(() => g.read(0x40200000, 1))).toBe(EFAULT);
  });

  it('invalidates decoded code in a frame it writes', () => {
    const { mem, g } = setup();
    const frame = mem.p2m[0x3] - 1;
    mem.pool.codeMark[frame] = 1;
    const gen = mem.pool.codeGen[frame];
    g.write(0x3010, Uint8Array.of(0x90));
    expect(mem.pool.codeMark[frame]).toBe(0);
    expect(mem.pool.codeGen[frame]).toBe(gen + 1);
  });
});
