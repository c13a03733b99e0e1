import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderBiosDoc } from '../../../src-engine/firmware/bios/bios-doc';
import { biosCatalogue, BiosDispatcher } from '../../../src-engine/firmware/bios/catalogue';
import { buildBiosRom } from '../../../src-engine/firmware/bios/rom';

const DOC = new URL('../../../docs/bios.md', import.meta.url);

describe('docs/bios.md', () => {
  it('is generated from the service catalogue (DOMUS_UPDATE_DOCS=1 rewrites it)', () => {
    const text = renderBiosDoc();
    if (process.env.DOMUS_UPDATE_DOCS === '1') writeFileSync(DOC, text);
    expect(existsSync(DOC) ? readFileSync(DOC, 'utf8') : '(missing)').toBe(text);
  });
});

describe('the BIOS service catalogue', () => {
  const services = biosCatalogue();

  it('names each function once; supported and partial entries run code; INT 18h/19h are the BIOS\'s own', () => {
    const keys = services.map((s) => `${s.vector}:${s.ax ?? 'ah' + (s.ah ?? '*')}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const s of services) {
      if (s.status === 'not-yet' || s.vector === 0x18 || s.vector === 0x19) continue;
      expect(s.run, `${s.vector.toString(16)} ${s.name}`).toBeDefined();
      expect(s.contract.length).toBeGreaterThan(5);
    }
  });

  it('covers every vector the ROM traps, and GRUB\'s calls of spec 4.2 are supported', () => {
    const d = new BiosDispatcher(services);
    const trapped = new Set([...buildBiosRom().trapSites.values()].map((t) => t.vector).filter((v) => v < 0x100));
    for (const v of trapped) expect(services.some((s) => s.vector === v || (v === 0x40 && s.vector === 0x13)), v.toString(16)).toBe(true);
    const grub: [number, number][] = [[0x13, 0x4200], [0x13, 0x0000], [0x13, 0x4b01], [0x15, 0xe820], [0x10, 0x0300], [0x10, 0x0900], [0x10, 0x0200], [0x10, 0x0e00], [0x10, 0x4f03], [0x13, 0x4100], [0x13, 0x0800], [0x13, 0x0200], [0x15, 0xe801], [0x15, 0x8800], [0x12, 0], [0x16, 0x0100], [0x16, 0x0000], [0x1a, 0x0000], [0x10, 0x0100]];
    for (const [v, ax] of grub) expect(d.lookup(v, ax)?.status, `INT ${v.toString(16)}h AX=${ax.toString(16)}h`).toBe('supported');
    expect(d.lookup(0x10, 0x4f00)?.status).toBe('partial');
    expect(d.lookup(0x13, 0x4800)?.status).toBe('partial');
    expect(d.lookup(0x15, 0x5300)?.status).toBe('not-yet');
  });
});
