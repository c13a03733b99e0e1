import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TYPED_KEYS } from '../../../src-engine/config/domain-config-parse';
import { renderXlCfgDoc } from '../../../src-engine/config/xlcfg-doc';
import { XL_CFG_KEYS, xlKeyInfo } from '../../../src-engine/config/xlcfg-keys';

const DOC = new URL('../../../docs/xl-cfg.md', import.meta.url);

describe('docs/xl-cfg.md', () => {
  it('is generated from the key catalogue (DOMUS_UPDATE_DOCS=1 rewrites it)', () => {
    const text = renderXlCfgDoc();
    if (process.env.DOMUS_UPDATE_DOCS === '1') writeFileSync(DOC, text);
    expect(existsSync(DOC) ? readFileSync(DOC, 'utf8') : '(missing)').toBe(text);
  });

  it('lists every key once, and the catalogue agrees with what the typed reader uses', () => {
    const keys = XL_CFG_KEYS.map((k) => k.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of TYPED_KEYS) expect(xlKeyInfo(k)?.status, k).not.toBe('not-yet');
    for (const k of XL_CFG_KEYS) {
      if (k.status !== 'not-yet') expect(TYPED_KEYS, k.key).toContain(k.key);
    }
    expect(renderXlCfgDoc()).toContain('| `disk` | supported | block devices, xl-disk-configuration(5) syntax |  |');
  });
});
