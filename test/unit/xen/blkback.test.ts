// The block back end driven by a front end written in the test (no CPU): the xenbus handshake,
// requests in both ring ABIs (x86_32-abi and x86_64-abi), grant checks, and the notification
// rule of RING_PUSH_RESPONSES_AND_CHECK_NOTIFY.
import { describe, expect, it } from 'vitest';
import { createMemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';
import {
  BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BLKIF_X86_32, BLKIF_X86_64, RING_ENTRIES_OFFSET, type BlkifAbi,
} from '../../../src-engine/hv/xen/backends/blkif';
import { GTF_PERMIT_ACCESS, GTF_READONLY } from '../../../src-engine/hv/xen/grant-table';
import { makeHost } from './xen-fixture';

const DEVID = 51712;
const RING_GFN = 0x10;
const DATA_GFN = 0x11;

function frontEnd(abi: BlkifAbi) {
  const t = makeHost();
  const disk = createMemoryBlockBackend(Uint8Array.from({ length: 64 * 1024 }, (_, k) => k & 0xff), { medium: 'disk' });
  const d = t.domain(1, { vbds: [{ devid: DEVID, vdev: 'xvda', disk }] });
  const mem = d.memory;
  const grant = (ref: number, gfn: number, flags: number) => {
    const off = d.grants.frames[0] * 4096 + ref * 8;
    const dv = new DataView(t.pool.mem8.buffer, off, 8);
    dv.setUint32(4, gfn, true);
    dv.setUint16(2, 0, true);
    dv.setUint16(0, flags, true);
  };
  grant(8, RING_GFN, GTF_PERMIT_ACCESS);
  grant(9, DATA_GFN, GTF_PERMIT_ACCESS);
  // SHARED_RING_INIT: producers 0, events 1.
  mem.writeU32(RING_GFN * 4096 + 4, 1);
  mem.writeU32(RING_GFN * 4096 + 12, 1);
  const port = d.evtchn.allocUnbound(0);
  const front = `/local/domain/1/device/vbd/${DEVID}`;
  const back = `/local/domain/0/backend/vbd/1/${DEVID}`;
  expect(t.host.xs.read(`${back}/state`)).toBe('2');
  t.host.xs.write(`${front}/ring-ref`, '8');
  t.host.xs.write(`${front}/event-channel`, String(port));
  t.host.xs.write(`${front}/protocol`, abi.name);
  t.host.xs.write(`${front}/state`, '3');
  expect(t.host.xs.read(`${back}/state`)).toBe('4');
  let prod = 0;
  const request = (op: number, sector: number, first: number, last: number, ref = 9): number => {
    const at = RING_GFN * 4096 + RING_ENTRIES_OFFSET + (prod % abi.ringSize) * abi.entryBytes;
    const b = new Uint8Array(abi.entryBytes);
    const dv = new DataView(b.buffer);
    b[0] = op;
    b[1] = 1;
    dv.setUint16(2, DEVID, true);
    dv.setUint32(abi.reqId, 1000 + prod, true);
    dv.setUint32(abi.reqSector, sector, true);
    dv.setUint32(abi.reqSegments, ref, true);
    b[abi.reqSegments + 4] = first;
    b[abi.reqSegments + 5] = last;
    mem.write(at, b);
    prod++;
    mem.writeU32(RING_GFN * 4096, prod);
    d.evtchn.send(port);
    const rsp = RING_GFN * 4096 + RING_ENTRIES_OFFSET + ((prod - 1) % abi.ringSize) * abi.entryBytes;
    expect(mem.readU32(rsp + abi.rspId)).toBe(1000 + prod - 1);
    return new DataView(mem.read(rsp + abi.rspStatus, 2).buffer).getInt16(0, true);
  };
  return { t, d, mem, disk, grant, request, port };
}

describe('block back end', () => {
  for (const abi of [BLKIF_X86_32, BLKIF_X86_64]) {
    it(`serves reads and writes in the ${abi.name} layout`, () => {
      const f = frontEnd(abi);
      expect(abi.ringSize).toBe(32);
      expect(f.request(BLKIF_OP_READ, 2, 1, 2)).toBe(BLKIF_RSP_OKAY);
      expect(f.mem.read(DATA_GFN * 4096 + 512, 4)).toEqual(Uint8Array.of(0, 1, 2, 3));
      expect(f.mem.readU8(DATA_GFN * 4096 + 1024 + 511)).toBe(255);
      f.mem.fill(DATA_GFN * 4096, 512, 0xab);
      expect(f.request(BLKIF_OP_WRITE, 5, 0, 0)).toBe(BLKIF_RSP_OKAY);
      expect(f.disk.bytes.subarray(5 * 512, 6 * 512).every((b) => b === 0xab)).toBe(true);
    });
  }

  it('refuses pages the front end did not grant for the access it needs', () => {
    const f = frontEnd(BLKIF_X86_32);
    expect(f.request(BLKIF_OP_READ, 0, 0, 0, 12)).toBe(BLKIF_RSP_ERROR);
    f.grant(9, DATA_GFN, GTF_PERMIT_ACCESS | GTF_READONLY);
    // A read into a read-only grant needs write access to the page: refused; a write from it works.
    expect(f.request(BLKIF_OP_READ, 0, 0, 0)).toBe(BLKIF_RSP_ERROR);
    expect(f.request(BLKIF_OP_WRITE, 0, 0, 0)).toBe(BLKIF_RSP_OKAY);
  });

  it('notifies the front end only when rsp_event asks for it', () => {
    const f = frontEnd(BLKIF_X86_32);
    const pending = () => (f.t.pool.mem8[f.d.sharedInfoFrame * 4096 + 2048 + (f.port >> 3)] >> (f.port & 7)) & 1;
    f.request(BLKIF_OP_READ, 0, 0, 0);
    expect(pending()).toBe(1);
    f.t.pool.mem8[f.d.sharedInfoFrame * 4096 + 2048 + (f.port >> 3)] = 0;
    // rsp_event stays 1: no notification for the second response.
    f.request(BLKIF_OP_READ, 0, 0, 0);
    expect(pending()).toBe(0);
  });
});
