/**
 * The BIOS "ROM": 64 KiB at F000:0000 holding small real-mode stubs, data tables and the reset
 * vector. The stubs are the only guest code of the BIOS; every service is TypeScript reached by
 * the stub's `OUT 0xE0, AL` trap (layout.ts). The machine code is hand-assembled below, each
 * instruction with its mnemonic.
 *
 * Service stub (every trapped vector):
 *     entry:  out  0xE0, al      E6 E0     the service runs; it sets the caller's FLAGS image and
 *                                          the live CF/ZF: CF=1 means "not finished, call again"
 *             jc   again         72 01
 *             iret               CF
 *     again:  jnz  spin          75 02     ZF=0: poll again at once
 *             sti                FB        ZF=1: wait for an interrupt (the 18.2 Hz timer, a key)
 *             hlt                F4
 *     spin:   pause              F3 90
 *             jmp  entry         EB F3
 */
import {
  BIOS_DATE, BIOS_REVISION, BIOS_SIZE, BIOS_TRAP_PORT, IRQ_BASE_MASTER, IRQ_BASE_SLAVE, MODEL_AT, ROM, SUBMODEL,
  USER_VECTORS,
} from './layout';

// ---- Opcodes -------------------------------------------------------------------------------------

const OP_OUT_IMM8_AL = 0xe6;
const OP_IRET = 0xcf;
const OP_JC = 0x72;
const OP_JNZ = 0x75;
const OP_STI = 0xfb;
const OP_CLI = 0xfa;
const OP_HLT = 0xf4;
const OP_REP = 0xf3;
const OP_NOP = 0x90;
const OP_JMP_SHORT = 0xeb;
const OP_JMP_NEAR = 0xe9;
const OP_JMP_FAR = 0xea;
const OP_INT = 0xcd;
const OP_PUSH_AX = 0x50;
const OP_POP_AX = 0x58;
const OP_MOV_AL_IMM8 = 0xb0;
/** 8259A non-specific end of interrupt (OCW2). */
const PIC_EOI = 0x20;
/** Command ports of the master and slave 8259A. */
const PIC_MASTER_CMD = 0x20;
const PIC_SLAVE_CMD = 0xa0;
/** The user timer tick vector the IRQ0 handler calls. */
const VECTOR_USER_TICK = 0x1c;

/** Where the stubs without a fixed IBM address go. */
const STUB_AREA = 0x1000;

/** Pseudo-vector of the POST trap (not an interrupt). */
export const TRAP_POST = 0x100;

/** A trap site: the service behind one `OUT 0xE0, AL` in the ROM. */
export interface TrapSite {
  /** The interrupt vector served (or TRAP_POST). */
  vector: number;
  /** The stub loops on live CF=1 (services may ask to be called again). */
  retry: boolean;
}

/** The assembled ROM. */
export interface BiosRomImage {
  /** 64 KiB to place at 0xF0000. */
  image: Uint8Array;
  /** ROM offset of each trapping OUT instruction -> what it serves. */
  trapSites: ReadonlyMap<number, TrapSite>;
  /** Initial interrupt vector table: 256 far pointers as (segment << 16) | offset. */
  ivt: Uint32Array;
  /** ROM offset of the `cli; hlt` loop the BIOS parks a VCPU in when nothing can boot. */
  haltLoop: number;
  /** ROM offsets of data the services hand out as far pointers. */
  tables: { configTable: number; fdpt0: number; disketteParams: number; vbeOem: number; vbeVendor: number; vbeProduct: number; vbeRevision: number; vbeModes: number };
}

/** Vectors whose service stub the BIOS installs, with their IBM fixed entry point (if any). */
const SERVICE_VECTORS: ReadonlyArray<[vector: number, fixed: number | undefined]> = [
  [0x10, ROM.int10],
  [0x11, ROM.int11],
  [0x12, ROM.int12],
  [0x13, ROM.int13],
  [0x14, ROM.int14],
  [0x15, ROM.int15],
  [0x16, ROM.int16],
  [0x17, ROM.int17],
  [0x1a, ROM.int1a],
  [0x40, undefined],
];

class RomWriter {
  readonly image = new Uint8Array(BIOS_SIZE);
  private readonly used = new Uint8Array(BIOS_SIZE);
  private pos = STUB_AREA;

  /** Writes bytes at a fixed offset; refuses to overwrite anything already placed. */
  put(offset: number, bytes: readonly number[] | Uint8Array): number {
    for (let i = 0; i < bytes.length; i++) {
      if (this.used[offset + i]) throw new Error(`BIOS ROM layout: offset 0x${(offset + i).toString(16)} is used twice`);
      this.used[offset + i] = 1;
      this.image[offset + i] = bytes[i];
    }
    return offset;
  }

  /** Appends bytes in the stub area and returns their offset. */
  append(bytes: readonly number[] | Uint8Array): number {
    const at = this.put(this.pos, bytes);
    this.pos += bytes.length;
    return at;
  }

  /** Appends a NUL-terminated ASCII string. */
  string(text: string): number {
    return this.append([...Array.from(text, (c) => c.charCodeAt(0) & 0x7f), 0]);
  }

  /** A 3-byte `jmp near` at `from` to `to` (compatibility entry points). */
  jumpNear(from: number, to: number): void {
    const rel = (to - (from + 3)) & 0xffff;
    this.put(from, [OP_JMP_NEAR, rel & 0xff, rel >> 8]);
  }
}

/** The service stub bytes (see the file comment). */
function serviceStub(): number[] {
  return [OP_OUT_IMM8_AL, BIOS_TRAP_PORT, OP_JC, 0x01, OP_IRET, OP_JNZ, 0x02, OP_STI, OP_HLT, OP_REP, OP_NOP, OP_JMP_SHORT, 0xf3];
}

/** `push ax; mov al, 20h; out 20h, al; [out A0h, al;] pop ax; iret`: end of interrupt and return. */
function eoiTail(slave: boolean): number[] {
  const slaveEoi = slave ? [OP_OUT_IMM8_AL, PIC_SLAVE_CMD] : [];
  return [OP_PUSH_AX, OP_MOV_AL_IMM8, PIC_EOI, ...slaveEoi, OP_OUT_IMM8_AL, PIC_MASTER_CMD, OP_POP_AX, OP_IRET];
}

/** Assembles the ROM. Deterministic: the same bytes every time. */
export function buildBiosRom(): BiosRomImage {
  const w = new RomWriter();
  const trapSites = new Map<number, TrapSite>();
  const ivt = new Uint32Array(256);
  const far = (off: number) => ((0xf000 << 16) | off) >>> 0;

  // Default handler for every vector.
  w.put(ROM.iret, [OP_IRET]);
  ivt.fill(far(ROM.iret));
  for (let v = USER_VECTORS[0]; v <= USER_VECTORS[1]; v++) ivt[v] = 0;

  // Service stubs.
  for (const [vector, fixed] of SERVICE_VECTORS) {
    const at = w.append(serviceStub());
    trapSites.set(at, { vector, retry: true });
    ivt[vector] = far(at);
    if (fixed !== undefined) w.jumpNear(fixed, at);
  }

  // INT 19h (bootstrap) and INT 18h (boot failure): the service rewrites the IRET frame so that
  // the IRET enters the next boot image, or the halt loop when nothing boots.
  for (const vector of [0x19, 0x18]) {
    const at = w.append([OP_OUT_IMM8_AL, BIOS_TRAP_PORT, OP_IRET]);
    trapSites.set(at, { vector, retry: false });
    ivt[vector] = far(at);
    if (vector === 0x19) w.jumpNear(ROM.int19, at);
  }
  const haltLoop = w.append([OP_CLI, OP_HLT, OP_JMP_SHORT, 0xfd]);

  // POST entry, reached from the reset vector.
  w.put(ROM.post, [OP_CLI, OP_OUT_IMM8_AL, BIOS_TRAP_PORT, OP_IRET]);
  trapSites.set(ROM.post + 1, { vector: TRAP_POST, retry: false });
  w.put(ROM.reset, [OP_JMP_FAR, ROM.post & 0xff, ROM.post >> 8, 0x00, 0xf0]);

  // Hardware interrupts: IRQ0 (timer) and IRQ1 (keyboard) trap, the rest only acknowledge.
  const irq0 = w.append([OP_OUT_IMM8_AL, BIOS_TRAP_PORT, OP_INT, VECTOR_USER_TICK, ...eoiTail(false)]);
  trapSites.set(irq0, { vector: IRQ_BASE_MASTER, retry: false });
  ivt[IRQ_BASE_MASTER] = far(irq0);
  w.jumpNear(ROM.int08, irq0);
  const irq1 = w.append([OP_OUT_IMM8_AL, BIOS_TRAP_PORT, ...eoiTail(false)]);
  trapSites.set(irq1, { vector: IRQ_BASE_MASTER + 1, retry: false });
  ivt[IRQ_BASE_MASTER + 1] = far(irq1);
  w.jumpNear(ROM.int09, irq1);
  const eoiMaster = w.append(eoiTail(false));
  const eoiSlave = w.append(eoiTail(true));
  for (let irq = 2; irq < 8; irq++) ivt[IRQ_BASE_MASTER + irq] = far(eoiMaster);
  for (let irq = 0; irq < 8; irq++) ivt[IRQ_BASE_SLAVE + irq] = far(eoiSlave);

  // Data tables.
  w.put(ROM.configTable, configTable());
  ivt[0x41] = far(ROM.fdpt0);
  ivt[0x46] = far(ROM.fdpt0);
  w.put(ROM.fdpt0, new Array<number>(FDPT_BYTES).fill(0));
  w.put(ROM.disketteParams, DISKETTE_PARAMS);
  ivt[0x1e] = far(ROM.disketteParams);
  ivt[0x1d] = 0;
  ivt[0x1f] = 0;
  w.put(ROM.date, Array.from(BIOS_DATE, (c) => c.charCodeAt(0)));
  w.put(ROM.model, [MODEL_AT]);

  // Strings and lists the VBE controller information points into.
  const vbeOem = w.string('Domus VGA BIOS');
  const vbeVendor = w.string('Domus');
  const vbeProduct = w.string('Domus text-mode VGA');
  const vbeRevision = w.string('1.0');
  const vbeModes = w.append([0xff, 0xff]);

  return {
    image: w.image,
    trapSites,
    ivt,
    haltLoop,
    tables: {
      configTable: ROM.configTable,
      fdpt0: ROM.fdpt0,
      disketteParams: ROM.disketteParams,
      vbeOem,
      vbeVendor,
      vbeProduct,
      vbeRevision,
      vbeModes,
    },
  };
}

/** Bytes of a fixed disk parameter table. */
const FDPT_BYTES = 16;

/**
 * The 11-byte diskette parameter table of a 1.44 MB drive (RBIL INT 1Eh): step rate/head unload,
 * head load/DMA, motor-off delay, 512 bytes/sector, 18 sectors/track, gap, data length, format gap,
 * fill byte, head settle, motor start.
 */
const DISKETTE_PARAMS = [0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08];

/**
 * System configuration table (INT 15h AH=C0h): length word (bytes after it), model, submodel,
 * BIOS revision, feature bytes 1-5. Feature 1: bit 6 second 8259 present, bit 5 real-time clock,
 * bit 2 EBDA allocated.
 */
function configTable(): number[] {
  const FEATURE1 = 0x40 | 0x20 | 0x04;
  const LENGTH = 8;
  return [LENGTH, 0, MODEL_AT, SUBMODEL, BIOS_REVISION, FEATURE1, 0, 0, 0, 0];
}
