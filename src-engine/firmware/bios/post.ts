/**
 * Power-on self test, done in TypeScript before the guest's first instruction (and again when a
 * reset or INT 19h enters the BIOS): the ROM, the interrupt vector table, the BIOS Data Area and
 * EBDA, and the devices a PC BIOS sets up (8259 PICs at vectors 08h/70h with the timer, keyboard
 * and cascade unmasked, PIT channel 0 at 18.2 Hz, A20 open, the 8042 command byte, text mode 3).
 *
 * References: IBM PC/AT Technical Reference (POST, BDA); Intel 8259A datasheet (ICW1-4, OCW1);
 * Intel 8254 datasheet (mode 2, count 0 = 65536); SeaBIOS src/post.c and src/hw/pic.c.
 */
import { I8042_BIOS_COMMAND_BYTE } from '../../machine/i8042';
import { EBDA_START } from '../../boot/e820';
import {
  BDA, BDA_BASE, BIOS_BASE, EBDA_SEGMENT, EBDA_SIZE_KIB, IRQ_BASE_MASTER, IRQ_BASE_SLAVE,
} from './layout';
import type { BiosContext } from './service';
import { DEFAULT_TEXT_MODE } from './text-console';
import { hardDiskCount } from './drives';
import { initVideoBda } from './services-video';

/** 8259A initialisation: ICW1 (edge, cascade, ICW4 needed), ICW3 (slave on IR2 / slave id 2), ICW4 (8086 mode). */
const PIC_ICW1 = 0x11;
const PIC_ICW3_MASTER = 0x04;
const PIC_ICW3_SLAVE = 0x02;
const PIC_ICW4 = 0x01;
const PIC_MASTER_CMD = 0x20;
const PIC_MASTER_DATA = 0x21;
const PIC_SLAVE_CMD = 0xa0;
const PIC_SLAVE_DATA = 0xa1;
/** Masks after POST: IRQ0 (timer), IRQ1 (keyboard) and IRQ2 (cascade) open; the slave closed. */
const PIC_MASTER_MASK = 0xf8;
const PIC_SLAVE_MASK = 0xff;
/** PIT: channel 0, lobyte/hibyte, mode 2 (rate generator), binary; count 0 = 65536 -> 18.2 Hz. */
const PIT_CONTROL = 0x43;
const PIT_CHANNEL0 = 0x40;
const PIT_CH0_MODE2 = 0x34;
/** Port 0x92 fast A20 bit. */
const PORT_A = 0x92;
const PORT_A_A20 = 0x02;
/** 8042: "write command byte" command. */
const KBC_COMMAND = 0x64;
const KBC_DATA = 0x60;
const KBC_WRITE_COMMAND_BYTE = 0x60;
/** Equipment word bits: x87 present, initial video mode 80x25 colour (10b in bits 4-5). */
const EQUIP_X87 = 0x0002;
const EQUIP_VIDEO_80X25_COLOUR = 0x0020;
const EQUIP_COM_SHIFT = 9;
/** Keyboard mode byte: 101/102-key keyboard installed. */
const KBD_MODE_101 = 0x10;
/** Bytes of the BDA and of the EBDA. */
const BDA_BYTES = 0x100;
const EBDA_BYTES = EBDA_SIZE_KIB * 1024;
/** COM ports the BDA lists. */
const MAX_COM = 4;

/** Writes the ROM, the IVT, the BDA and the EBDA. */
export function postMemory(bios: BiosContext): void {
  const m = bios.host.memory;
  m.write(BIOS_BASE, bios.rom.image);
  const ivt = new Uint8Array(bios.rom.ivt.length * 4);
  const dv = new DataView(ivt.buffer);
  bios.rom.ivt.forEach((far, v) => {
    dv.setUint16(v * 4, far & 0xffff, true);
    dv.setUint16(v * 4 + 2, far >>> 16, true);
  });
  m.write(0, ivt);
  m.fill(BDA_BASE, BDA_BYTES, 0);
  m.fill(EBDA_SEGMENT * 16, EBDA_BYTES, 0);
  m.writeU8(EBDA_SEGMENT * 16, EBDA_SIZE_KIB);

  const coms = (bios.config.comPorts ?? [0x3f8]).slice(0, MAX_COM);
  coms.forEach((base, i) => m.writeU16(BDA_BASE + BDA.comBases + 2 * i, base));
  m.writeU16(BDA_BASE + BDA.ebdaSegment, EBDA_SEGMENT);
  m.writeU16(BDA_BASE + BDA.equipment, EQUIP_X87 | EQUIP_VIDEO_80X25_COLOUR | (coms.length << EQUIP_COM_SHIFT));
  m.writeU16(BDA_BASE + BDA.baseMemoryKiB, EBDA_START / 1024);
  m.writeU8(BDA_BASE + BDA.kbdMode, KBD_MODE_101);
  m.writeU8(BDA_BASE + BDA.hdCount, hardDiskCount(bios.drives));
  bios.keyboard.reset();
}

/** Programs the interrupt controllers, the timer, A20, the keyboard controller and the screen. */
export function postDevices(bios: BiosContext): void {
  const io = bios.host;
  io.ioWrite(PIC_MASTER_CMD, 1, PIC_ICW1);
  io.ioWrite(PIC_SLAVE_CMD, 1, PIC_ICW1);
  io.ioWrite(PIC_MASTER_DATA, 1, IRQ_BASE_MASTER);
  io.ioWrite(PIC_SLAVE_DATA, 1, IRQ_BASE_SLAVE);
  io.ioWrite(PIC_MASTER_DATA, 1, PIC_ICW3_MASTER);
  io.ioWrite(PIC_SLAVE_DATA, 1, PIC_ICW3_SLAVE);
  io.ioWrite(PIC_MASTER_DATA, 1, PIC_ICW4);
  io.ioWrite(PIC_SLAVE_DATA, 1, PIC_ICW4);
  io.ioWrite(PIC_MASTER_DATA, 1, PIC_MASTER_MASK);
  io.ioWrite(PIC_SLAVE_DATA, 1, PIC_SLAVE_MASK);
  io.localApicVirtualWire?.();

  io.ioWrite(PIT_CONTROL, 1, PIT_CH0_MODE2);
  io.ioWrite(PIT_CHANNEL0, 1, 0);
  io.ioWrite(PIT_CHANNEL0, 1, 0);

  io.ioWrite(PORT_A, 1, io.ioRead(PORT_A, 1) | PORT_A_A20);
  io.ioWrite(KBC_COMMAND, 1, KBC_WRITE_COMMAND_BYTE);
  io.ioWrite(KBC_DATA, 1, I8042_BIOS_COMMAND_BYTE);

  bios.console.setMode(DEFAULT_TEXT_MODE, true);
  initVideoBda(bios);
}
