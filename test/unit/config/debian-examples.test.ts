// Debian's example configs (package xen-utils-common: /etc/xen/xlexample.hvm, .pvhlinux,
// .pvlinux, xl.conf), fetched with `apt-get download` and unpacked with `dpkg-deb -x`, without
// installing Xen. Cached in the system temp folder; skipped with a reason when that is impossible.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveCmdline, parseDomainConfig } from '../../../src-engine/config/domain-config-parse';
import { writeDomainConfig } from '../../../src-engine/config/domain-config-write';
import { parseXlCfg } from '../../../src-engine/config/xlcfg-parser';
import { XlCfgError, formatProblem } from '../../../src-engine/config/xlcfg-problems';
import { updateXlCfgText } from '../../../src-engine/config/xlcfg-writer';

const CACHE = join(tmpdir(), 'domus-xen-utils-common');
const ETC = join(CACHE, 'root', 'etc', 'xen');

function fetchExamples(): string | undefined {
  if (existsSync(join(ETC, 'xlexample.hvm'))) return undefined;
  try {
    rmSync(CACHE, { recursive: true, force: true });
    mkdirSync(CACHE, { recursive: true });
    execFileSync('apt-get', ['download', 'xen-utils-common'], { cwd: CACHE, stdio: 'pipe', timeout: 90_000 });
    const deb = readdirSync(CACHE).find((f) => f.endsWith('.deb'));
    if (!deb) return 'apt-get download produced no .deb';
    execFileSync('dpkg-deb', ['-x', join(CACHE, deb), join(CACHE, 'root')], { stdio: 'pipe' });
    return existsSync(join(ETC, 'xlexample.hvm')) ? undefined : 'the package has no /etc/xen/xlexample.hvm';
  } catch (e) {
    return `cannot fetch xen-utils-common with apt-get download / dpkg-deb: ${(e as Error).message.split('\n')[0]}`;
  }
}

const whyNot = fetchExamples();
if (whyNot) console.warn(`Debian xl.cfg examples skipped: ${whyNot}`);
const read = (name: string) => readFileSync(join(ETC, name), 'utf8');

describe.skipIf(whyNot !== undefined)("Debian's xen-utils-common examples", () => {
  it('xlexample.hvm parses to an HVM domain', () => {
    const r = parseDomainConfig(read('xlexample.hvm'), { file: 'xlexample.hvm' });
    expect(r.config).toMatchObject({ name: 'example.hvm', type: 'hvm', memoryMiB: 128, maxmemMiB: 128, vcpus: 2, maxvcpus: 2 });
    expect(r.config.disks).toEqual([
      { target: '/dev/vg/guest-volume', format: 'raw', vdev: 'xvda', readOnly: false, cdrom: false, spec: '/dev/vg/guest-volume,raw,xvda,rw' },
    ]);
    expect(r.config.vifs).toEqual([{ params: {}, flags: [], spec: '' }]);
    expect(r.config.otherSettings).toEqual({ sdl: 1 });
    expect(r.warnings.map(formatProblem)).toEqual([
      expect.stringMatching(/^xlexample\.hvm:\d+:7: warning: sdl \(SDL console window\) is not supported by Domus yet/),
    ]);
    expect(writeDomainConfig(r.config, r.document)).toBe(read('xlexample.hvm'));
  });

  it('xlexample.pvhlinux parses to a PVH domain with its kernel and command line', () => {
    const r = parseDomainConfig(read('xlexample.pvhlinux'), { file: 'xlexample.pvhlinux' });
    expect(r.config).toMatchObject({ name: 'example.pvhlinux', type: 'pvh', kernel: '/boot/vmlinuz', ramdisk: undefined, memoryMiB: 512, vcpus: 4 });
    expect(effectiveCmdline(r.config)).toBe('root=/dev/xvda1');
    expect(r.config.disks.map((d) => [d.target, d.vdev, d.readOnly])).toEqual([['/dev/zvol/tank/guest-volume', 'xvda', false]]);
    expect(r.warnings).toEqual([]);
    expect(writeDomainConfig(r.config, r.document)).toBe(read('xlexample.pvhlinux'));
  });

  it('xlexample.pvlinux passes the grammar but is refused as PV, not supported yet', () => {
    const text = read('xlexample.pvlinux');
    const { document } = parseXlCfg(text, 'xlexample.pvlinux');
    expect(document.statements.map((s) => s.key)).toEqual(['name', 'kernel', 'extra', 'memory', 'vcpus', 'vif', 'disk']);
    expect(updateXlCfgText(document, [])).toBe(text);
    let refusal: unknown;
    try {
      parseDomainConfig(text, { file: 'xlexample.pvlinux' });
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(XlCfgError);
    expect((refusal as XlCfgError).code).toBe('domain.type-pv');
    expect((refusal as XlCfgError).message).toBe(
      'xlexample.pvlinux: no type= given, and xl\'s default on x86 is "pv", which is not supported yet: add type = "hvm" or type = "pvh" (key type)',
    );
    const withType = `${text}type = "pv"\n`;
    expect(() => parseDomainConfig(withType, { file: 'pv.cfg' })).toThrow(/^pv\.cfg:\d+:8: classic PV guests \(type = "pv"\) are not supported yet/);
  });

  it('xl.conf (the global xl settings file) passes the same grammar', () => {
    const { document } = parseXlCfg(read('xl.conf'), 'xl.conf');
    expect(document.source).toBe(read('xl.conf'));
  });
});
