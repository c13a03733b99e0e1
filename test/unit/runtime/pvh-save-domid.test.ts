// Which domid a restored domain gets (runtime/pvh-save.ts): a PVH domain keeps its saved one,
// refused with a message naming the domain that has it now; an HVM domain takes the next one.
import { describe, expect, it } from 'vitest';
import { restoredDomid } from '../../../src-engine/runtime/pvh-save';
import type { DomainRestore, DomainSpec, HvDomain } from '../../../src-engine/runtime/hv-domain';
import type { XenSaveState } from '../../../src-engine/hv/xen/save/xen-save-state';

const pvh: DomainSpec = { name: 'guest', memoryMiB: 8, vcpus: 1, pvh: { disks: [], vifs: [] } };
const hvm: DomainSpec = { name: 'guest', memoryMiB: 8, vcpus: 1 };
const image = (domid: number) => ({ xen: { domid } as XenSaveState }) as DomainRestore;
const running = (entries: [number, string][]) => new Map(entries.map(([id, name]) => [id, { spec: { name } } as HvDomain]));

describe('restoredDomid', () => {
  it('keeps a PVH domain\'s domid, also beyond the next free one', () => {
    expect(restoredDomid(image(3), pvh, running([[1, 'a']]), 2)).toBe(3);
    expect(restoredDomid(image(9), pvh, running([]), 1)).toBe(9);
  });

  it('gives HVM domains and fresh domains the next domid', () => {
    expect(restoredDomid(image(3), hvm, running([]), 7)).toBe(7);
    expect(restoredDomid(undefined, pvh, running([]), 7)).toBe(7);
  });

  it('refuses while another domain has the domid, naming it', () => {
    expect(() => restoredDomid(image(1), pvh, running([[1, 'web']]), 2)).toThrow(/saved as domain 1.*domain 1 is web now\. Destroy or save web first/);
    expect(() => restoredDomid(image(0), pvh, running([]), 2)).toThrow(/domain ID 0, which no guest can have/);
    expect(() => restoredDomid(image(0x7ff0), pvh, running([]), 2)).toThrow(/which no guest can have/);
  });
});
