/**
 * Drives QEMU (qemu-system-i386 with its gdbstub) as the reference for differential cases:
 * boots the runner kernel to `ready`, then per case writes memory and registers, single-steps
 * and snapshots. One QEMU process serves many cases; everything a case can change that later
 * cases could see is rewritten before each case (registers, CR0/CR2/CR3/CR4, the code and data
 * windows, the compared page-table entries).
 *
 * QEMU's gdbstub facts this relies on (target/i386/gdbstub.c, QEMU 7.2):
 * - `g`/`G` carry the registers of target.xml in order (i386-32bit.xml: eax..edi, eip, eflags,
 *   cs ss ds es fs gs, fs_base gs_base k_gs_base, cr0 cr2 cr3 cr4 cr8 efer, x87, xmm, mxcsr).
 * - Writing a segment selector reloads its descriptor cache only when the selector changes: from
 *   the GDT in protected mode (CPL follows the new SS's DPL), as selector<<4 in real mode; an
 *   invalid selector is silently ignored. So a mode switch first writes different selectors.
 * - fs_base/gs_base come after the selectors in `G`, so they are written with the base the new
 *   selector implies.
 * - CR0/CR3/CR4 writes go through cpu_x86_update_cr0/3/4 (mode and TLB side effects included).
 * - After a single-step that raises an exception, the exception is delivered and the stop is at
 *   the handler's first instruction (accel/tcg cpu_handle_exception with singlestep enabled).
 */
import { CR0_PE, CR0_PG, REG_NAMES, caseMemWrites, type DiffCase, type HarnessRegs, type InterruptTable, type MemRange, type StepState } from './case';
import { GdbRspClient, GdbRspError, fromHex, toHex } from './gdb-rsp';
import { QemuProcess } from './qemu-process';
import type { StepTarget } from './record';
import { DiffHarnessError, type RunnerLayout } from './runner-layout';

/** The QEMU CPU model the reference runs (qemu-system-i386's default, named explicitly). */
export const QEMU_CPU_MODEL = 'qemu32';
/** Instructions the runner may execute before `ready` (SeaBIOS and the multiboot loader run first). */
const BOOT_TIMEOUT_MS = 15_000;
/** GDT bytes read once to compute segment bases (selectors 0x00-0x48). */
const GDT_READ_BYTES = 0x50;
/** SIGTRAP: the signal of a stop after a step or breakpoint. */
const SIGTRAP = 5;

/** Byte offset and size of each register in the `g` packet. */
interface RegSlot {
  index: number;
  offset: number;
  size: number;
}

/** Parses target.xml (with its includes already concatenated) into register slots by name. */
export function parseRegisterLayout(xml: string): Map<string, RegSlot> {
  const slots = new Map<string, RegSlot>();
  let offset = 0;
  let index = 0;
  const body = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of body.matchAll(/<reg\s+([^>]*)\/?>/g)) {
    const name = /name="([^"]+)"/.exec(m[1])?.[1];
    const bits = Number(/bitsize="(\d+)"/.exec(m[1])?.[1]);
    const regnum = /regnum="(\d+)"/.exec(m[1])?.[1];
    if (regnum !== undefined) index = Number(regnum);
    if (!name || !bits) continue;
    slots.set(name, { index, offset, size: bits / 8 });
    offset += bits / 8;
    index++;
  }
  return slots;
}

/** Reads target.xml and every file it includes. */
async function readTargetDescription(client: GdbRspClient): Promise<string> {
  const main = await client.qXferRead('features', 'target.xml');
  let all = main;
  for (const m of main.matchAll(/xi:include\s+href="([^"]+)"/g)) all += await client.qXferRead('features', m[1]);
  return all;
}

/** QEMU as a StepTarget. Create with QemuDriver.start(). */
export class QemuDriver implements StepTarget {
  private readonly qemu: QemuProcess;
  private readonly layout: RunnerLayout;
  private readonly slots: Map<string, RegSlot>;
  private readonly gdtBytes: Uint8Array;
  /** The last `g` image: the template for the next `G`. */
  private image: Uint8Array;
  private current: HarnessRegs;

  private constructor(qemu: QemuProcess, layout: RunnerLayout, slots: Map<string, RegSlot>, gdt: Uint8Array, image: Uint8Array) {
    this.qemu = qemu;
    this.layout = layout;
    this.slots = slots;
    this.gdtBytes = gdt;
    this.image = image;
    this.current = this.decodeRegs(image);
  }

  /** Starts QEMU with the runner kernel and runs it to `ready`. */
  static async start(layout: RunnerLayout): Promise<QemuDriver> {
    const qemu = await QemuProcess.start({ kernelPath: layout.elfPath, extraArgs: ['-cpu', QEMU_CPU_MODEL] });
    try {
      const c = qemu.client;
      const slots = parseRegisterLayout(await readTargetDescription(c));
      for (const name of [...REG_NAMES, 'fs_base', 'gs_base']) {
        if (!slots.has(name)) throw new DiffHarnessError('diff.qemu-registers', `QEMU's gdbstub does not expose register "${name}"; the differential harness needs it.`);
      }
      await c.insertBreakpoint(layout.ready);
      const stop = await c.cont(BOOT_TIMEOUT_MS);
      await c.removeBreakpoint(layout.ready);
      const image = await c.readRegisters();
      const eip = new DataView(image.buffer).getUint32(slots.get('eip')!.offset, true);
      if (stop.signal !== SIGTRAP || eip !== layout.ready) {
        throw new DiffHarnessError('diff.qemu-boot', `The runner kernel did not reach ready (0x${layout.ready.toString(16)}) in QEMU: stopped with ${stop.raw} at EIP 0x${eip.toString(16)}. ${qemu.log}`);
      }
      const gdt = await c.readMemory(layout.gdt, GDT_READ_BYTES);
      return new QemuDriver(qemu, layout, slots, gdt, image);
    } catch (err) {
      await qemu.stop();
      throw err;
    }
  }

  /** The registers at `ready` or after the last step. */
  get regs(): HarnessRegs {
    return { ...this.current };
  }

  /** Stops QEMU. */
  async close(): Promise<void> {
    await this.qemu.stop();
  }

  interruptTable: InterruptTable = 'pm';

  async load(c: DiffCase): Promise<void> {
    await this.loadState(c.regs, caseMemWrites(c, this.layout), c.name);
  }

  async setRegs(regs: HarnessRegs): Promise<void> {
    await this.loadState(regs, [], 'registers');
  }

  private async loadState(want: HarnessRegs, writes: { addr: number; data: Uint8Array }[], what: string): Promise<void> {
    const packets: string[] = [];
    const cr0Slot = this.slots.get('cr0')!.index.toString(16);
    const modeChange = ((this.current.cr0 ^ want.cr0) & CR0_PE) !== 0;
    if (modeChange || (this.current.cr0 & CR0_PG) !== 0) {
      // Paging off first: the gdbstub's memory accesses go through the current page tables, and
      // the case's memory includes a page they leave not present. A mode switch also goes first,
      // so selectors load with the new mode's rules.
      const cr0 = new Uint8Array(4);
      new DataView(cr0.buffer).setUint32(0, (modeChange ? want.cr0 : this.current.cr0) & ~CR0_PG, true);
      packets.push(`P${cr0Slot}=${toHex(cr0)}`);
    }
    if (modeChange) {
      // Make every selector differ from its target so the final write reloads each descriptor cache.
      const alt = { ...want, cr0: want.cr0 & ~CR0_PG, cr3: 0, cr4: 0 };
      for (const s of ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const) alt[s] = this.alternateSelector(this.current[s], want[s], (want.cr0 & CR0_PE) !== 0);
      packets.push(`G${toHex(this.encodeRegs(alt))}`);
    }
    for (const w of writes) packets.push(...GdbRspClient.memoryWritePackets(w.addr, w.data));
    packets.push(`G${toHex(this.encodeRegs(want))}`);
    const replies = await this.qemu.client.pipeline(packets);
    replies.forEach((r, i) => {
      if (r !== 'OK') throw new GdbRspError('gdb.not-ok', `QEMU answered "${r}" to "${packets[i].slice(0, 30)}" while loading ${what}.`);
    });
    this.current = { ...want };
  }

  async step(): Promise<void> {
    const stop = await this.qemu.client.step();
    if (stop.kind !== 'T' && stop.kind !== 'S') {
      throw new DiffHarnessError('diff.qemu-gone', `QEMU stopped running (${stop.raw}) during a single-step. ${this.qemu.log}`);
    }
  }

  async snapshot(ranges: MemRange[]): Promise<StepState> {
    const packets = ['g'];
    const counts: number[] = [];
    for (const r of ranges) {
      const p = GdbRspClient.memoryReadPackets(r.addr, r.len);
      counts.push(p.length);
      packets.push(...p);
    }
    const replies = await this.qemu.client.pipeline(packets);
    this.image = fromHex(replies[0]);
    this.current = this.decodeRegs(this.image);
    const mem: Uint8Array[] = [];
    let k = 1;
    ranges.forEach((r, i) => {
      const out = new Uint8Array(r.len);
      let off = 0;
      for (let j = 0; j < counts[i]; j++, k++) {
        const bytes = fromHex(replies[k]);
        out.set(bytes, off);
        off += bytes.length;
      }
      mem.push(out);
    });
    return { regs: { ...this.current }, mem };
  }

  /** Reads physical memory (for tests and diagnostics). */
  readMemory(addr: number, len: number): Promise<Uint8Array> {
    return this.qemu.client.readMemory(addr, len);
  }

  private alternateSelector(current: number, target: number, protectedMode: boolean): number {
    if (!protectedMode) return current === (target ^ 1) ? target ^ 2 : target ^ 1;
    const s = this.layout.sel;
    return [s.data0, s.data3, s.code0].find((v) => v !== current && v !== target)!;
  }

  /** The base a selector's descriptor cache gets when loaded through the gdbstub. */
  private segmentBase(selector: number, protectedMode: boolean): number {
    if (!protectedMode) return (selector & 0xffff) << 4;
    const off = selector & ~7;
    if (off + 8 > this.gdtBytes.length) return 0;
    const d = this.gdtBytes;
    return (d[off + 2] | (d[off + 3] << 8) | (d[off + 4] << 16) | (d[off + 7] << 24)) >>> 0;
  }

  private encodeRegs(r: HarnessRegs): Uint8Array {
    const out = this.image.slice();
    const dv = new DataView(out.buffer);
    for (const name of REG_NAMES) dv.setUint32(this.slots.get(name)!.offset, r[name] >>> 0, true);
    const pm = (r.cr0 & CR0_PE) !== 0;
    dv.setUint32(this.slots.get('fs_base')!.offset, this.segmentBase(r.fs, pm), true);
    dv.setUint32(this.slots.get('gs_base')!.offset, this.segmentBase(r.gs, pm), true);
    return out;
  }

  private decodeRegs(image: Uint8Array): HarnessRegs {
    const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
    const r = {} as HarnessRegs;
    for (const name of REG_NAMES) r[name] = dv.getUint32(this.slots.get(name)!.offset, true);
    return r;
  }
}
