/**
 * isa-debugcon at 0x402 and the QEMU fw_cfg files on the qemu-testdev machine.
 */
import { describe, expect, it } from 'vitest';
import { createPcPlatform } from '../../../src-engine/machine/platform-pc';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { FW_CFG_FILE_DIR, FW_CFG_PORT_DATA, FW_CFG_PORT_SEL } from '../../../src-engine/machine/fw-cfg';

function platform(pcTestdev: boolean, out: number[] = []) {
  const lapics = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(1)), 1);
  return createPcPlatform({
    clock: { now: () => 0, wallMs: () => 0 },
    ramBelow4G: 64 * 2 ** 20,
    smp: { lapics, kick: () => {} },
    pcTestdev,
    onDebugcon: (b) => void out.push(b),
  });
}

function fwCfgRead(p: ReturnType<typeof platform>, key: number, n: number): number[] {
  p.bus.write(FW_CFG_PORT_SEL, 2, key);
  return Array.from({ length: n }, () => p.bus.read(FW_CFG_PORT_DATA, 1));
}

/** The fw_cfg file directory as name -> [key, size]. */
function fwCfgFiles(p: ReturnType<typeof platform>): Map<string, [number, number]> {
  const count = fwCfgRead(p, FW_CFG_FILE_DIR, 4).reduce((a, b) => a * 256 + b, 0);
  const dir = fwCfgRead(p, FW_CFG_FILE_DIR, 4 + 64 * count).slice(4);
  const files = new Map<string, [number, number]>();
  for (let i = 0; i < count; i++) {
    const e = dir.slice(i * 64, (i + 1) * 64);
    const size = ((e[0] << 24) | (e[1] << 16) | (e[2] << 8) | e[3]) >>> 0;
    const name = String.fromCharCode(...e.slice(8, e.indexOf(0, 8)));
    files.set(name, [(e[4] << 8) | e[5], size]);
  }
  return files;
}

describe('qemu-testdev debug console and fw_cfg files', () => {
  it('reads 0xE9 at 0x402 and passes written bytes on (the low byte of a wider write)', () => {
    const out: number[] = [];
    const p = platform(true, out);
    expect(p.bus.read(0x402, 1)).toBe(0xe9);
    p.bus.write(0x402, 1, 0x41);
    p.bus.write(0x402, 2, 0x0a42);
    expect(out).toEqual([0x41, 0x42]);
  });

  it('is absent from the plain pc machine (the port floats)', () => {
    const out: number[] = [];
    const p = platform(false, out);
    expect(p.bus.read(0x402, 1)).toBe(0xff);
    p.bus.write(0x402, 1, 0x41);
    expect(out).toEqual([]);
    expect(fwCfgFiles(p).size).toBe(0);
  });

  it('offers etc/e820 (RAM from 0) and etc/boot-fail-wait (-1) as QEMU does', () => {
    const p = platform(true);
    const files = fwCfgFiles(p);
    const [e820Key, e820Size] = files.get('etc/e820') ?? [0, 0];
    expect(e820Size).toBe(20);
    const e = fwCfgRead(p, e820Key, 20);
    const u = (k: number, n: number) => e.slice(k, k + n).reduceRight((a, b) => a * 256 + b, 0);
    expect([u(0, 8), u(8, 8), u(16, 4)]).toEqual([0, 64 * 2 ** 20, 1]);
    const [waitKey, waitSize] = files.get('etc/boot-fail-wait') ?? [0, 0];
    expect(waitSize).toBe(4);
    expect(fwCfgRead(p, waitKey, 4)).toEqual([0xff, 0xff, 0xff, 0xff]);
  });
});
