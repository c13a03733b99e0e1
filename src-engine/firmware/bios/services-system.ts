/**
 * INT 15h system services (memory map, extended memory sizes, A20, block move, waits,
 * configuration table), INT 11h (equipment) and INT 12h (conventional memory).
 *
 * Unsupported INT 15h functions answer CF=1, AH=86h ("function not supported"), as SeaBIOS.
 *
 * References: RBIL INT 15h; ACPI 3.0 section 14.1 (E820h: EDX='SMAP', EBX continuation, 20-byte
 * entries); spec/grub-iso-and-bios.md section 4.2 (what GRUB checks); SeaBIOS src/system.c.
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import { BDA, BDA_BASE, BIOS_SEGMENT, EBDA_SEGMENT } from './layout';
import { SEG_ES, S_A20_MASK } from '../../cpu/state';
import { E820_RAM, HIGH_MEMORY_START } from '../../boot/e820';

/** INT 15h. */
const V = 0x15;
/** Status: function not supported. */
export const SYS_UNSUPPORTED = 0x86;
/** 'SMAP' as EAX/EDX carry it. */
export const SMAP = 0x534d4150;
/** Bytes of an E820 entry returned (base, length, type). */
const E820_ENTRY_BYTES = 20;
const KIB = 1024;
const MIB = 1024 * KIB;
/** E801h: memory between 1 MiB and 16 MiB is reported in KiB, at most 15 MiB. */
const E801_LOW_LIMIT_KIB = 15 * KIB;
/** 16 MiB: where E801h's 64 KiB blocks start. */
const SIXTEEN_MIB = 16 * MIB;
const BLOCK_64K = 64 * KIB;
/** 88h: real BIOSes report at most 63 MiB (SeaBIOS). */
const EXT_MEMORY_CAP_KIB = 63 * KIB;
/** Port 0x92 bit 1 (fast A20) and the 8042 commands that open and close A20. */
const PORT_A = 0x92;
const PORT_A_A20 = 0x02;
const KBC_COMMAND = 0x64;
const KBC_A20_ON = 0xdf;
const KBC_A20_OFF = 0xdd;
/** 2403h: A20 can be switched through the keyboard controller and port 0x92. */
const A20_SUPPORT_KBC_AND_PORT92 = 0x0003;
/** 87h: GDT slots of the source and destination descriptors (ES:SI + 10h / + 18h). */
const MOVE_SRC_DESC = 0x10;
const MOVE_DST_DESC = 0x18;
/** 87h: at most 8000h words. */
const MOVE_MAX_WORDS = 0x8000;

/** End of the RAM entry that contains 1 MiB (exclusive), or 1 MiB if none. */
function extendedTop(bios: BiosContext): number {
  for (const e of bios.e820) {
    if (e.type === E820_RAM && e.base <= HIGH_MEMORY_START && e.base + e.length > HIGH_MEMORY_START) return e.base + e.length;
  }
  return HIGH_MEMORY_START;
}

function e820(c: BiosCall, bios: BiosContext): void {
  if (c.edx !== SMAP) return void c.status(SYS_UNSUPPORTED);
  const index = c.ebx;
  const map = bios.e820;
  if (index >= map.length) return void c.status(SYS_UNSUPPORTED);
  const e = map[index];
  const entry = new Uint8Array(E820_ENTRY_BYTES);
  const dv = new DataView(entry.buffer);
  dv.setUint32(0, e.base % 2 ** 32, true);
  dv.setUint32(4, Math.floor(e.base / 2 ** 32), true);
  dv.setUint32(8, e.length % 2 ** 32, true);
  dv.setUint32(12, Math.floor(e.length / 2 ** 32), true);
  dv.setUint32(16, e.type, true);
  c.write(c.sel(SEG_ES), c.di, entry);
  c.eax = SMAP;
  c.ecx = E820_ENTRY_BYTES;
  c.ebx = index + 1 < map.length ? index + 1 : 0;
  c.carry = false;
}

function e801(c: BiosCall, bios: BiosContext): void {
  const top = extendedTop(bios);
  const low = Math.min(E801_LOW_LIMIT_KIB, Math.floor((Math.min(top, SIXTEEN_MIB) - HIGH_MEMORY_START) / KIB));
  const high = top > SIXTEEN_MIB ? Math.min(0xffff, Math.floor((top - SIXTEEN_MIB) / BLOCK_64K)) : 0;
  c.ax = low;
  c.cx = low;
  c.bx = high;
  c.dx = high;
  c.carry = false;
}

function extendedMemory(c: BiosCall, bios: BiosContext): void {
  c.ax = Math.min(EXT_MEMORY_CAP_KIB, Math.floor((extendedTop(bios) - HIGH_MEMORY_START) / KIB));
  c.carry = false;
}

function setA20(bios: BiosContext, on: boolean): void {
  const host = bios.host;
  const a = host.ioRead(PORT_A, 1);
  host.ioWrite(PORT_A, 1, on ? a | PORT_A_A20 : a & ~PORT_A_A20);
  host.ioWrite(KBC_COMMAND, 1, on ? KBC_A20_ON : KBC_A20_OFF);
}

function a20(c: BiosCall, bios: BiosContext): void {
  switch (c.al) {
    case 0x00:
    case 0x01:
      setA20(bios, c.al === 1);
      c.status(0);
      return;
    case 0x02:
      c.al = c.cpu.s[S_A20_MASK] === -1 ? 1 : 0;
      c.status(0);
      return;
    case 0x03:
      c.bx = A20_SUPPORT_KBC_AND_PORT92;
      c.status(0);
      return;
    default:
      c.status(SYS_UNSUPPORTED);
  }
}

/** Base address of the segment descriptor at `off` of the GDT at ES:SI. */
function descriptorBase(c: BiosCall, off: number): number {
  const es = c.sel(SEG_ES);
  const low = c.readU16(es, c.si + off + 2) | (c.readU8(es, c.si + off + 4) << 16);
  return (low | (c.readU8(es, c.si + off + 7) << 24)) >>> 0;
}

function blockMove(c: BiosCall, bios: BiosContext): void {
  const words = c.cx;
  if (words > MOVE_MAX_WORDS) return void c.status(SYS_UNSUPPORTED);
  const src = descriptorBase(c, MOVE_SRC_DESC);
  const dst = descriptorBase(c, MOVE_DST_DESC);
  const mem = bios.host.memory;
  if (!mem.isRam(src, words * 2) || !mem.isRam(dst, words * 2)) return void c.status(SYS_UNSUPPORTED);
  mem.write(dst, mem.read(src, words * 2));
  c.status(0);
}

/**
 * AH=86h: waits CX:DX microseconds without holding the BIOS thread: the first trap records the
 * deadline, the ROM stub calls again (halting until the next timer tick) until it has passed.
 */
function wait(c: BiosCall, bios: BiosContext): void {
  const now = bios.host.clock.now();
  const id = c.cpu.vcpuId;
  let deadline = bios.pending.get(id);
  if (deadline === undefined) {
    deadline = now + (c.cx * 0x10000 + c.dx) * 1000;
    bios.pending.set(id, deadline);
  }
  if (now < deadline) {
    c.setStubFlags(true, false);
    return;
  }
  bios.pending.delete(id);
  c.status(0);
}

/** INT 15h, 11h and 12h catalogue. */
export const SYSTEM_SERVICES: readonly BiosService[] = [
  { vector: 0x11, name: 'get equipment list', status: 'supported', contract: '-> AX=equipment word (BDA 0x410): x87, 80x25 colour, number of COM ports in bits 9-11.', run: (c, b) => void (c.ax = b.host.memory.readU16(BDA_BASE + BDA.equipment)) },
  { vector: 0x12, name: 'get conventional memory size', status: 'supported', contract: '-> AX=KiB below the EBDA (639), BDA 0x413.', run: (c, b) => void (c.ax = b.host.memory.readU16(BDA_BASE + BDA.baseMemoryKiB)) },
  { vector: V, ax: 0x2400, name: 'disable A20', status: 'supported', contract: 'Closes A20 (port 0x92 and the 8042) -> AH=0, CF=0.', run: a20 },
  { vector: V, ax: 0x2401, name: 'enable A20', status: 'supported', contract: 'Opens A20 -> AH=0, CF=0.', run: a20 },
  { vector: V, ax: 0x2402, name: 'query A20', status: 'supported', contract: '-> AL=1 if A20 is open, AH=0, CF=0.', run: a20 },
  { vector: V, ax: 0x2403, name: 'A20 support', status: 'supported', contract: '-> BX=0003h (8042 and port 0x92), AH=0, CF=0.', run: a20 },
  { vector: V, ah: 0x4f, name: 'keyboard intercept', status: 'supported', contract: 'CF=1: the key in AL is processed unchanged.', run: (c) => void (c.carry = true) },
  { vector: V, ah: 0x53, name: 'APM BIOS', status: 'not-yet', contract: 'No APM: CF=1, AH=86h (GRUB then leaves the multiboot APM table out, as under QEMU).' },
  { vector: V, ah: 0x86, name: 'wait', status: 'supported', contract: 'CX:DX=microseconds -> AH=0, CF=0 once they have passed (the VCPU waits in the ROM stub, not in the BIOS).', run: wait },
  { vector: V, ah: 0x87, name: 'copy extended memory', status: 'supported', contract: 'CX=words (<= 8000h), ES:SI=GDT with source/destination descriptors at 10h/18h -> AH=0, CF=0; ranges outside RAM: AH=86h, CF=1.', run: blockMove },
  { vector: V, ah: 0x88, name: 'get extended memory size', status: 'supported', contract: '-> AX=KiB of contiguous RAM from 1 MiB (at most 63 MiB, as SeaBIOS), CF=0.', run: extendedMemory },
  { vector: V, ah: 0x89, name: 'switch to protected mode', status: 'not-yet', contract: 'CF=1, AH=86h.' },
  { vector: V, ah: 0x90, name: 'device busy', status: 'supported', contract: 'AH=0, CF=0.', run: (c) => c.status(0) },
  { vector: V, ah: 0x91, name: 'interrupt complete', status: 'supported', contract: 'AH=0, CF=0.', run: (c) => c.status(0) },
  {
    vector: V, ah: 0xc0, name: 'get configuration table', status: 'supported', contract: '-> ES:BX=F000:E6F5 (model FCh, second PIC, RTC, EBDA), AH=0, CF=0.',
    run: (c, b) => {
      c.loadSegment(SEG_ES, BIOS_SEGMENT);
      c.bx = b.rom.tables.configTable;
      c.status(0);
    },
  },
  { vector: V, ah: 0xc1, name: 'get EBDA segment', status: 'supported', contract: '-> ES=9FC0h, CF=0.', run: (c) => { c.loadSegment(SEG_ES, EBDA_SEGMENT); c.carry = false; } },
  { vector: V, ah: 0xc2, name: 'PS/2 pointing device', status: 'not-yet', contract: 'CF=1, AH=86h.' },
  { vector: V, ax: 0xe801, name: 'get memory size above 1 MiB', status: 'supported', contract: '-> AX=CX=KiB between 1 and 16 MiB (<= 15360), BX=DX=64 KiB blocks above 16 MiB, CF=0.', run: e801 },
  { vector: V, ax: 0xe820, name: 'query system address map', status: 'supported', contract: 'EDX=\'SMAP\', EBX=continuation (0 first), ES:DI=buffer -> 20-byte entry {u64 base, u64 length, u32 type}, EAX=\'SMAP\', ECX=20, EBX=next (0 after the last), CF=0. Bad EDX or EBX: CF=1, AH=86h.', run: e820 },
  { vector: V, ah: 0xec, name: 'AMD64 operating mode hint', status: 'not-yet', contract: 'CF=1, AH=86h (callers ignore it).' },
];

/** What INT 15h does with a function it does not have. */
export function systemUnsupported(c: BiosCall): void {
  c.status(SYS_UNSUPPORTED);
}
