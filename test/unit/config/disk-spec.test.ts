import { describe, expect, it } from 'vitest';
import { formatDiskSpec, parseDiskSpec, sameDisk } from '../../../src-engine/config/disk-spec';
import type { DiskConfig } from '../../../src-engine/api/domain-config';

/** The disk without its source text, for comparing meanings. */
function meaning(spec: string | string[]): Omit<DiskConfig, 'spec'> {
  const r = parseDiskSpec(spec);
  if ('problem' in r) throw new Error(`${JSON.stringify(spec)}: ${r.problem.message} near ${r.problem.near}`);
  const { spec: _spec, ...rest } = r.disk;
  return rest;
}

function problem(spec: string): string {
  const r = parseDiskSpec(spec);
  if ('disk' in r) throw new Error(`accepted: ${spec}`);
  return r.problem.near === undefined ? r.problem.message : `${r.problem.message} near \`${r.problem.near}'`;
}

// Equivalence classes from xl-disk-configuration(5) and the vectors of tools/xl/check-xl-disk-parse
// (expected libxl_device_disk fields restated as DiskConfig).
const CASES: Array<{ expect: Omit<DiskConfig, 'spec'>; specs: Array<string | string[]> }> = [
  {
    expect: { target: '/dev/vg/guest-volume', format: 'raw', vdev: 'hda', readOnly: false, cdrom: false },
    specs: [
      '/dev/vg/guest-volume,,hda',
      '/dev/vg/guest-volume,raw,hda,rw',
      'format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume',
      ['format=raw', 'vdev=hda', 'access=rw', 'target=/dev/vg/guest-volume'],
      'raw:/dev/vg/guest-volume,hda,w',
    ],
  },
  {
    expect: { target: '/root/image.iso', format: 'raw', vdev: 'hdc', readOnly: true, cdrom: true },
    specs: [
      '/root/image.iso,,hdc,cdrom',
      '/root/image.iso,,hdc,,cdrom',
      '/root/image.iso,raw,hdc,devtype=cdrom',
      'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso',
      ['format=raw', 'vdev=hdc', 'access=ro', 'devtype=cdrom', 'target=/root/image.iso'],
      'raw:/root/image.iso,hdc:cdrom,ro',
    ],
  },
  {
    expect: { target: '/dev/vg/guest-volume', format: 'raw', vdev: 'xvdb', readOnly: false, cdrom: false, backendType: 'phy' },
    specs: ['backendtype=phy,vdev=xvdb,access=w,target=/dev/vg/guest-volume'],
  },
  {
    expect: { target: undefined, format: 'empty', vdev: 'hdc', readOnly: true, cdrom: true },
    specs: [
      'devtype=cdrom,,,hdc',
      ',,hdc:cdrom,r',
      ',hdc:cdrom,r',
      'vdev=hdc,access=r,devtype=cdrom,target=',
      ',empty,hdc:cdrom,r',
      'vdev=hdc,access=r,devtype=cdrom,format=empty',
      'vdev=hdc,access=r,devtype=cdrom',
    ],
  },
  {
    expect: {
      target: 'iqn.2001-05.com.equallogic:0-8a0906-23fe93404-c82797962054a96d-examplehost',
      format: 'raw',
      vdev: 'xvda',
      readOnly: false,
      cdrom: false,
      script: 'block-iscsi',
    },
    specs: [
      'iscsi:iqn.2001-05.com.equallogic:0-8a0906-23fe93404-c82797962054a96d-examplehost,xvda,w',
      'vdev=xvda,access=w,script=block-iscsi,target=iqn.2001-05.com.equallogic:0-8a0906-23fe93404-c82797962054a96d-examplehost',
    ],
  },
  {
    expect: { target: 'app01', format: 'raw', vdev: 'hda', readOnly: false, cdrom: false, script: 'block-drbd' },
    specs: ['drbd:app01,hda,w'],
  },
  {
    expect: { target: '/some/disk/image.raw', format: 'raw', vdev: 'hda', readOnly: false, cdrom: false, flags: ['discard'] },
    specs: [['discard', 'vdev=hda', 'target=/some/disk/image.raw'], ' discard, vdev=hda, target=/some/disk/image.raw'],
  },
  {
    expect: { target: '/some/disk/image.iso', format: 'raw', vdev: 'hda', readOnly: true, cdrom: true, flags: ['no-discard'] },
    specs: [['cdrom', 'no-discard', 'vdev=hda', 'target=/some/disk/image.iso']],
  },
  {
    expect: { target: '/some/disk/image.raw', format: 'raw', vdev: 'hda', readOnly: false, cdrom: false, flags: ['untrusted'] },
    specs: [['untrusted', 'vdev=hda', 'target=/some/disk/image.raw']],
  },
  {
    // The mission's example: a deprecated file: prefix, then target, vdev:devtype, access.
    expect: { target: '/tmp/hermit.iso', format: 'raw', vdev: 'hdc', readOnly: true, cdrom: true },
    specs: ['file:/tmp/hermit.iso,hdc:cdrom,r', 'phy:/tmp/hermit.iso,hdc:cdrom,r', 'tap:aio:/tmp/hermit.iso,hdc:cdrom,r'],
  },
  {
    expect: { target: '/img/a.qcow2', format: 'qcow2', vdev: 'xvda', readOnly: false, cdrom: false },
    specs: ['/img/a.qcow2,qcow2,xvda', 'qcow2:/img/a.qcow2,xvda,rw', 'format=qcow2,vdev=xvda,target=/img/a.qcow2'],
  },
  {
    // target= swallows the rest, commas included, and may follow an empty positional target.
    expect: { target: '/odd,name=x.img', format: 'raw', vdev: 'xvdb', readOnly: false, cdrom: false },
    specs: [',raw,xvdb,target=/odd,name=x.img', 'vdev=xvdb,target=/odd,name=x.img'],
  },
];

describe('xl-disk-configuration(5)', () => {
  for (const c of CASES) {
    for (const spec of c.specs) {
      it(`reads ${JSON.stringify(spec)}`, () => {
        expect(meaning(spec)).toEqual(c.expect);
      });
    }
  }

  it('refuses what libxlu refuses, with its messages', () => {
    expect(problem('foo')).toBe('no vdev specified');
    expect(problem('vdev=xvda')).toBe('no target specified (and device not removable)');
    expect(problem('/x,raw,xvda,rw,extra')).toBe("too many positional parameters near `extra'");
    expect(problem('/x,vmdk,xvda')).toBe("unknown value for format near `vmdk'");
    expect(problem('/x,raw,xvda,rx')).toBe("unknown value for access near `rx'");
    expect(problem('/x,,hdc:floppy')).toBe("unknown deprecated type near `floppy'");
    expect(problem('vdev=xvda,devtype=floppy,target=/x')).toBe("unknown value for type near `devtype=floppy,'");
    expect(problem('vdev=xvda,vdev=xvdb,target=/x')).toBe("vdev respecified near `xvdb'");
    expect(problem('/x,raw,xvda,format=qcow2')).toBe("format respecified near `qcow2'");
    expect(problem('foo=bar,/x,,xvda')).toBe("unknown parameter near `foo=b'");
    expect(problem('http://x/y.img,,xvda')).toBe("unknown deprecated disk prefix near `http:'");
    expect(problem('backendtype=xyz,vdev=xvda,target=/x')).toBe("unknown value for backendtype near `xyz'");
    expect(problem('=x')).toBe("bad disk syntax near `=x'");
  });

  it('writes a disk back as it was written while it means the same, else canonically', () => {
    const r = parseDiskSpec('file:/tmp/hermit.iso,hdc:cdrom,r');
    if (!('disk' in r)) throw new Error('refused');
    expect(formatDiskSpec(r.disk)).toBe('file:/tmp/hermit.iso,hdc:cdrom,r');
    const changed = { ...r.disk, target: '/tmp/other.iso' };
    const text = formatDiskSpec(changed);
    expect(text).toBe('format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/tmp/other.iso');
    const back = parseDiskSpec(text);
    expect('disk' in back && sameDisk(back.disk, changed)).toBe(true);
    const fresh: DiskConfig = { target: '/a b/c,d.img', format: 'qcow2', vdev: 'xvda', readOnly: false, cdrom: false, flags: ['discard'] };
    const again = parseDiskSpec(formatDiskSpec(fresh));
    expect('disk' in again && sameDisk(again.disk, fresh)).toBe(true);
    const empty: DiskConfig = { target: undefined, format: 'empty', vdev: 'hdc', readOnly: true, cdrom: true };
    expect(meaning(formatDiskSpec(empty))).toEqual(empty);
  });
});
