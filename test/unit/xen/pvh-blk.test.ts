// A PVH test guest (test/guests-pvh/blk) reads and writes a PV disk: xvda (read-write, 1 MiB
// with a known pattern) and xvdb (read-only) served by the engine's blkback over the blkif ring
// with grants, backed by memory block devices. The test then looks at the image itself.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';
import { vbdDeviceNumber } from '../../../src-engine/hv/xen/backends/blkif';
import { guestResults, PvhMachine } from '../../support/pvh-machine';
import { patternDisk } from '../../support/pvh-disk';

const GUEST = fileURLToPath(new URL('../../guests-pvh/build/blk.elf', import.meta.url));
const DISK_BYTES = 1 << 20;
const SECTOR = 512;

describe('blk PVH guest', () => {
  it('reads and writes its PV disks through blkback', () => {
    const image = patternDisk(DISK_BYTES);
    const xvda = createMemoryBlockBackend(image, { medium: 'disk', name: 'xvda.img' });
    const xvdb = createMemoryBlockBackend(new Uint8Array(64 * 1024), { medium: 'disk', name: 'xvdb.img', readOnly: true });
    const m = new PvhMachine(64);
    const id = m.addDomain({
      name: 'pvh-blk', kernel: readFileSync(GUEST), memMiB: 8,
      vbds: [
        { devid: vbdDeviceNumber('xvda')!, vdev: 'xvda', disk: xvda },
        { devid: vbdDeviceNumber('xvdb')!, vdev: 'xvdb', disk: xvdb },
      ],
    });
    expect(m.run({ maxNs: 4e9 })).toBe('all-shutdown');
    const d = m.domain(id);
    const r = guestResults(d.console);
    expect(r.fail, d.console).toEqual([]);
    expect(r.done).toBe(true);
    expect(r.pass).toContain('blk-read-back');
    // The write landed in the image at sector 16, and nothing else changed.
    const written = new TextDecoder().decode(xvda.bytes.subarray(16 * SECTOR, 16 * SECTOR + 19));
    expect(written).toBe('written by pvh-blk ');
    const expected = patternDisk(DISK_BYTES);
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    expect(same(xvda.bytes.subarray(0, 16 * SECTOR), expected.subarray(0, 16 * SECTOR))).toBe(true);
    expect(same(xvda.bytes.subarray(24 * SECTOR), expected.subarray(24 * SECTOR))).toBe(true);
    expect(xvda.flushes).toBe(1);
    expect(xvdb.bytes.every((b) => b === 0)).toBe(true);
    // The handshake left the nodes libxl/blkback would have.
    const back = `/local/domain/0/backend/vbd/${id}/51712`;
    expect(m.xen.xs.read(`${back}/sectors`)).toBe('2048');
    expect(m.xen.xs.read(`${back}/state`)).toBe('6');
    expect(m.xen.xs.read(`/local/domain/${id}/device/vbd/51712/protocol`)).toBe('x86_32-abi');
  });

  it('numbers virtual devices like xen-vbd-interface(7)', () => {
    expect(vbdDeviceNumber('xvda')).toBe(51712);
    expect(vbdDeviceNumber('xvdb')).toBe(51728);
    expect(vbdDeviceNumber('xvda1')).toBe(51713);
    expect(vbdDeviceNumber('xvdq')).toBe((1 << 28) | (16 << 8));
    expect(vbdDeviceNumber('hda')).toBe(768);
    expect(vbdDeviceNumber('hdc')).toBe(5632);
    expect(vbdDeviceNumber('sdb2')).toBe((8 << 8) | (1 << 4) | 2);
    expect(vbdDeviceNumber('floppy')).toBeUndefined();
  });
});
