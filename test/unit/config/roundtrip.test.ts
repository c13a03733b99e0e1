import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDomainConfig } from '../../../src-engine/config/domain-config-parse';
import { defaultDomainConfig, validateDomainConfig, writeDomainConfig } from '../../../src-engine/config/domain-config-write';
import { documentSettings, parseXlCfg } from '../../../src-engine/config/xlcfg-parser';
import { XlCfgError } from '../../../src-engine/config/xlcfg-problems';
import { formatXlValue, updateXlCfgText, writeXlCfg, xlValueToInput } from '../../../src-engine/config/xlcfg-writer';

const FIXTURES = new URL('../../fixtures/xlcfg/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const doc = (text: string) => parseXlCfg(text, 't.cfg').document;

/** Lines of b that differ from a (same line count assumed when edits keep lines). */
function changedLines(a: string, b: string): string[] {
  const al = a.split('\n');
  return b.split('\n').filter((line, i) => line !== al[i]);
}

describe('xl.cfg round trip', () => {
  for (const name of ['hermit.cfg', 'workstation.cfg', 'pvh.cfg']) {
    it(`writes ${name} back byte for byte when nothing changed`, () => {
      const text = fixture(name);
      const r = parseDomainConfig(text, { file: name });
      expect(writeDomainConfig(r.config, r.document)).toBe(text);
    });

    it(`re-reads the fresh text written from ${name} as the same config`, () => {
      const r = parseDomainConfig(fixture(name), { file: name });
      const fresh = writeDomainConfig(r.config);
      const again = parseDomainConfig(fresh, { file: 'fresh.cfg' }).config;
      expect(again).toEqual(r.config);
    });
  }

  it('changes only the line of a changed key, keeping comments, hex spelling and unknown keys', () => {
    const text = fixture('workstation.cfg');
    const r = parseDomainConfig(text, { file: 'ws.cfg' });
    const out = writeDomainConfig({ ...r.config, maxmemMiB: 4096, onCrash: 'restart' }, r.document);
    expect(changedLines(text, out)).toEqual(['maxmem = 4096', 'on_crash = "restart"']);
    expect(out).toContain('memory = 0x400      # 1024, written in hex');
    expect(out).toContain('my_site.tag = [ "a", [ "nested", 1 ] ]');
  });

  it('removes keys that went back to their default, and adds new ones at the end', () => {
    const text = fixture('hermit.cfg');
    const r = parseDomainConfig(text, { file: 'hermit.cfg' });
    const out = writeDomainConfig({ ...r.config, nographic: false, boot: 'cd', cap: 50, pool: 'rt' }, r.document);
    expect(out).not.toContain('nographic');
    expect(out).not.toMatch(/^boot/m);
    expect(out.endsWith('serial = [ \'file:/tmp/hermit.log\' ]\ncap = 50\npool = "rt"\n')).toBe(true);
    expect(parseDomainConfig(out).config).toMatchObject({ nographic: false, boot: 'cd', cap: 50, pool: 'rt' });
  });

  it('rewrites a changed disk canonically and keeps unchanged ones as written', () => {
    const text = fixture('workstation.cfg');
    const r = parseDomainConfig(text, { file: 'ws.cfg' });
    const disks = [r.config.disks[0], { ...r.config.disks[1], target: '/tmp/new.iso', format: 'raw' as const }];
    const out = writeDomainConfig({ ...r.config, disks }, r.document);
    expect(out).toContain("disk = [\n    '/var/lib/domus/ws1.img,raw,xvda,rw',\n    'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/tmp/new.iso',\n]\nvif = ");
    expect(parseDomainConfig(out).config.disks[1]).toMatchObject({ target: '/tmp/new.iso', cdrom: true, vdev: 'hdc' });
  });

  it('edits statements separated by semicolons and += chains', () => {
    const d = doc('a = 1; b = "x"; c = 3\nb += "y"\n');
    expect(updateXlCfgText(d, [['b', 'z']])).toBe('a = 1; b = "z"; c = 3\n');
    expect(updateXlCfgText(d, [['a', undefined]])).toBe('b = "x"; c = 3\nb += "y"\n');
    expect(updateXlCfgText(d, [['c', undefined]])).toBe('a = 1; b = "x";\nb += "y"\n');
    expect(updateXlCfgText(d, [['b', 'xy']])).toBe('a = 1; b = "x"; c = 3\nb += "y"\n'); // same value: untouched
  });

  it('appends to a file without a final newline, and removes whole lines', () => {
    expect(updateXlCfgText(doc('a = 1'), [['b', 2]])).toBe('a = 1\nb = 2\n');
    expect(updateXlCfgText(doc('# head\na = 1 # note\nb = 2\n'), [['a', undefined]])).toBe('# head\nb = 2\n');
    expect(updateXlCfgText(doc('a = [\n  "1",\n  "2",\n]\nb = 2\n'), [['a', ['3']]])).toBe("a = [ '3' ]\nb = 2\n");
  });

  it('formats values xl can read back, quoting what needs quoting', () => {
    const values = ['plain', 'with "double" and \'single\'', 'back\\slash', 'two\nlines\tand tab', '', -5, 0, 4096, true, false, ['a', ['b', 7], []]];
    const text = writeXlCfg(values.map((v, i) => [`k${i}`, v] as const));
    const back = [...documentSettings(parseXlCfg(text, 'w.cfg').document).values()].map((s) => xlValueToInput(s.value));
    expect(back).toEqual(['plain', 'with "double" and \'single\'', 'back\\slash', 'two\nlines\tand tab', '', '-5', 0, 4096, 1, 0, ['a', ['b', 7], []]]);
  });

  it('writes long lists one item per line, with a trailing comma', () => {
    const long = ['/var/lib/domus/images/first-disk.img,raw,xvda,rw', '/var/lib/domus/images/second-disk.img,raw,xvdb,rw'];
    expect(formatXlValue(long, 'disk')).toBe(`[\n    '${long[0]}',\n    '${long[1]}',\n]`);
    expect(documentSettings(doc(`disk = ${formatXlValue(long, 'disk')}\n`)).get('disk')!.value).toMatchObject({ kind: 'list' });
  });

  it('refuses keys and values xl.cfg cannot carry', () => {
    expect(() => writeXlCfg([['Bad', 1]])).toThrow('"Bad" cannot be an xl.cfg key');
    expect(() => writeXlCfg([['a', 1.5]])).toThrow('1.5 cannot be written to xl.cfg');
    expect(() => writeXlCfg([['a', 'nul\0']])).toThrow('A NUL character cannot be written');
  });

  it('builds configs in code and checks them with every xl.cfg rule', () => {
    const c = defaultDomainConfig('gui-vm', 'hvm');
    c.disks.push({ target: '/tmp/hermit.iso', format: 'raw', vdev: 'hdc', readOnly: true, cdrom: true });
    c.serial.push({ kind: 'file', path: '/tmp/gui-vm.log' });
    c.otherSettings.vnc = 1;
    const text = writeDomainConfig(c);
    expect(text).toBe(
      'name = "gui-vm"\ntype = "hvm"\nmemory = 32\nvcpus = 1\n' +
        "disk = [ 'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/tmp/hermit.iso' ]\n" +
        "serial = [ 'file:/tmp/gui-vm.log' ]\nvnc = 1\n",
    );
    const v = validateDomainConfig(c);
    expect(v.config.disks[0]).toMatchObject({ target: '/tmp/hermit.iso', cdrom: true });
    expect(() => validateDomainConfig({ ...c, cap: 500 })).toThrow(XlCfgError);
    expect(() => validateDomainConfig({ ...c, cap: 500 })).toThrow(/^domain gui-vm:\d+:\d+: Cpu cap out of range/);
  });
});
