/**
 * INT 10h video services for the 80x25 colour text screen, and the VBE queries GRUB's multiboot
 * loader makes (answered as a VBE 3.0 controller with no graphics modes, current mode 3; spec
 * section 4.2: without that GRUB prints "Can't get controller info" and leaves multiboot
 * information flags 11/12 clear, unlike under QEMU).
 *
 * References: RBIL INT 10h; VESA BIOS Extension 2.0 (function 00h controller information layout,
 * status AX=004Fh success, AH=01h failure); SeaVGABIOS vgabios.c for what callers observe.
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import { BIOS_SEGMENT, BDA, BDA_BASE } from './layout';
import { SEG_ES } from '../../cpu/state';
import { TEXT_MODES } from './text-console';

/** INT 10h. */
const V = 0x10;
/** AL bit 7 of AH=00h: keep video memory. */
const MODE_NO_CLEAR = 0x80;
/** VBE status: function supported and successful. */
export const VBE_OK = 0x004f;
/** VBE status: function supported but failed. */
export const VBE_FAILED = 0x014f;
/** VBE status: function not supported (AL != 4Fh). */
export const VBE_UNSUPPORTED = 0x0100;
/** VBE version reported: 3.0, as SeaVGABIOS under QEMU (the block layout is that of 2.0). */
const VBE_VERSION = 0x0300;
/** Video memory in 64 KiB units: a 256 KiB VGA. */
const VBE_MEMORY_64K = 4;
/** "VESA" and "VBE2" signatures (little-endian dwords). */
const SIG_VESA = 0x41534556;
const SIG_VBE2 = 0x32454256;
/** Bytes of the controller information block: VBE 1.x callers get 256, "VBE2" callers 512. */
const VBE_INFO_BYTES_1 = 256;
const VBE_INFO_BYTES_2 = 512;
/** Controller information field offsets. */
const VBEI = { signature: 0, version: 4, oemString: 6, capabilities: 10, modeList: 14, totalMemory: 18, oemRevision: 20, vendor: 22, product: 26, productRev: 30 } as const;
/** VBE mode number bits: clear-memory inhibit (15) and linear framebuffer (14). */
const VBE_MODE_MASK = 0x1ff;
const VBE_NO_CLEAR = 0x8000;
/** The only mode VBE 02h accepts: standard VGA text mode 3. */
const TEXT_MODE_3 = 3;
/** Display combination code 08h: VGA with analogue colour display. */
const DCC_VGA_COLOUR = 0x08;
/** AL returned by supported display-combination calls. */
const DCC_SUPPORTED = 0x1a;
/** EGA information (AH=12h BL=10h): colour mode, 256 KiB, feature bits 0, switches 9. */
const EGA_INFO_BX = 0x0003;
const EGA_INFO_CX = 0x0009;
/** Font information (AX=1130h): 16-line characters. */
const CHAR_HEIGHT = 16;

function far(off: number): number {
  return ((BIOS_SEGMENT << 16) | off) >>> 0;
}

function setMode(c: BiosCall, bios: BiosContext): void {
  const mode = c.al & ~MODE_NO_CLEAR;
  if (!TEXT_MODES.has(mode)) return; // graphics modes: not available, mode unchanged
  bios.console.setMode(mode, (c.al & MODE_NO_CLEAR) === 0);
  c.al = 0x30; // SeaVGABIOS: "text mode set" indication for modes 0-5
}

function writeString(c: BiosCall, bios: BiosContext): void {
  const con = bios.console;
  const page = c.bh;
  const withAttrs = (c.al & 2) !== 0;
  const moveCursor = (c.al & 1) !== 0;
  const saved = con.cursor(page);
  con.setCursor(page, { row: c.dh, col: c.dl });
  const es = c.sel(SEG_ES);
  for (let i = 0; i < c.cx; i++) {
    const ch = c.readU8(es, c.bp + (withAttrs ? 2 * i : i));
    const attr = withAttrs ? c.readU8(es, c.bp + 2 * i + 1) : c.bl;
    con.teletype(page, ch, attr);
  }
  if (!moveCursor) con.setCursor(page, saved);
}

function vbeControllerInfo(c: BiosCall, bios: BiosContext): void {
  const es = c.sel(SEG_ES);
  const v2 = c.readU32(es, c.di) === SIG_VBE2;
  const block = new Uint8Array(v2 ? VBE_INFO_BYTES_2 : VBE_INFO_BYTES_1);
  const dv = new DataView(block.buffer);
  const t = bios.rom.tables;
  dv.setUint32(VBEI.signature, SIG_VESA, true);
  dv.setUint16(VBEI.version, VBE_VERSION, true);
  dv.setUint32(VBEI.oemString, far(t.vbeOem), true);
  dv.setUint32(VBEI.capabilities, 0, true);
  dv.setUint32(VBEI.modeList, far(t.vbeModes), true);
  dv.setUint16(VBEI.totalMemory, VBE_MEMORY_64K, true);
  if (v2) {
    dv.setUint16(VBEI.oemRevision, 0x0100, true);
    dv.setUint32(VBEI.vendor, far(t.vbeVendor), true);
    dv.setUint32(VBEI.product, far(t.vbeProduct), true);
    dv.setUint32(VBEI.productRev, far(t.vbeRevision), true);
  }
  c.write(es, c.di, block);
  c.ax = VBE_OK;
}

function vbeSetMode(c: BiosCall, bios: BiosContext): void {
  if ((c.bx & VBE_MODE_MASK) !== TEXT_MODE_3) {
    c.ax = VBE_FAILED;
    return;
  }
  bios.console.setMode(TEXT_MODE_3, (c.bx & VBE_NO_CLEAR) === 0);
  c.ax = VBE_OK;
}

/** INT 10h catalogue. */
export const VIDEO_SERVICES: readonly BiosService[] = [
  { vector: V, ah: 0x00, name: 'set video mode', status: 'partial', contract: 'AL=mode (bit 7: keep memory). Text modes 0-3 give 80x25 colour text, AL=30h; graphics modes are not available and leave the mode unchanged.', run: setMode },
  { vector: V, ah: 0x01, name: 'set cursor shape', status: 'supported', contract: 'CH=start line (bit 5 hides the cursor), CL=end line; kept in BDA 0x460 and CRTC 0Ah/0Bh.', run: (c, b) => b.console.setCursorShape(c.cx) },
  { vector: V, ah: 0x02, name: 'set cursor position', status: 'supported', contract: 'BH=page, DH=row, DL=column.', run: (c, b) => b.console.setCursor(c.bh, { row: c.dh, col: c.dl }) },
  {
    vector: V, ah: 0x03, name: 'get cursor position and shape', status: 'supported', contract: 'BH=page -> DH=row, DL=column, CH/CL=shape, AX=0.',
    run: (c, b) => {
      const p = b.console.cursor(c.bh);
      c.dh = p.row;
      c.dl = p.col;
      c.cx = b.console.cursorShape;
      c.ax = 0;
    },
  },
  { vector: V, ah: 0x04, name: 'read light pen', status: 'not-yet', contract: 'No light pen: AH=0.', run: (c) => void (c.ah = 0) },
  { vector: V, ah: 0x05, name: 'select display page', status: 'supported', contract: 'AL=page 0-7.', run: (c, b) => b.console.setActivePage(c.al) },
  { vector: V, ah: 0x06, name: 'scroll window up', status: 'supported', contract: 'AL=lines (0 clears), BH=attribute for new lines, CH,CL=top left, DH,DL=bottom right; active page.', run: (c, b) => b.console.scroll(b.console.activePage, c.al, c.bh, c.ch, c.cl, c.dh, c.dl) },
  { vector: V, ah: 0x07, name: 'scroll window down', status: 'supported', contract: 'As AH=06h, downwards.', run: (c, b) => b.console.scroll(b.console.activePage, c.al === 0 ? 0 : -c.al, c.bh, c.ch, c.cl, c.dh, c.dl) },
  {
    vector: V, ah: 0x08, name: 'read character and attribute', status: 'supported', contract: 'BH=page -> AH=attribute, AL=character at the cursor.',
    run: (c, b) => void (c.ax = b.console.readCell(c.bh, b.console.cursor(c.bh))),
  },
  { vector: V, ah: 0x09, name: 'write character and attribute', status: 'supported', contract: 'AL=char, BL=attribute, BH=page, CX=count; the cursor does not move.', run: (c, b) => b.console.writeCells(c.bh, b.console.cursor(c.bh), c.al, c.bl, c.cx) },
  { vector: V, ah: 0x0a, name: 'write character', status: 'supported', contract: 'AL=char, BH=page, CX=count; attributes kept; the cursor does not move.', run: (c, b) => b.console.writeCells(c.bh, b.console.cursor(c.bh), c.al, undefined, c.cx) },
  { vector: V, ah: 0x0b, name: 'set palette (CGA)', status: 'partial', contract: 'Accepted; text colours are fixed.', run: () => {} },
  { vector: V, ah: 0x0c, name: 'write graphics pixel', status: 'not-yet', contract: 'No graphics modes.' },
  { vector: V, ah: 0x0d, name: 'read graphics pixel', status: 'not-yet', contract: 'No graphics modes.' },
  { vector: V, ah: 0x0e, name: 'teletype output', status: 'supported', contract: 'AL=char on the active page; BEL ignored, BS, CR, LF move the cursor; wraps and scrolls. BL (graphics colour) unused.', run: (c, b) => b.console.teletype(b.console.activePage, c.al) },
  {
    vector: V, ah: 0x0f, name: 'get video mode', status: 'supported', contract: '-> AL=mode, AH=columns, BH=active page.',
    run: (c, b) => {
      c.al = b.console.mode;
      c.ah = b.console.cols;
      c.bh = b.console.activePage;
    },
  },
  { vector: V, ah: 0x10, name: 'palette and DAC registers', status: 'partial', contract: 'Accepted; text colours are fixed, nothing is returned.', run: () => {} },
  {
    vector: V, ax: 0x1130, name: 'get font information', status: 'partial', contract: '-> CX=16 (bytes per character), DL=rows-1. ES:BP is left unchanged (no font tables).',
    run: (c, b) => {
      c.cx = CHAR_HEIGHT;
      c.dl = b.console.rows - 1;
    },
  },
  { vector: V, ah: 0x11, name: 'character generator', status: 'not-yet', contract: 'Font loading is not available.' },
  {
    vector: V, ah: 0x12, name: 'alternate function select', status: 'partial', contract: 'BL=10h (EGA information) -> BH=0 colour, BL=3 (256 KiB), CX=0009h. Other BL values are ignored.',
    run: (c) => {
      if (c.bl !== 0x10) return;
      c.bx = EGA_INFO_BX;
      c.cx = EGA_INFO_CX;
    },
  },
  { vector: V, ah: 0x13, name: 'write string', status: 'supported', contract: 'AL bit 0: move cursor, bit 1: string of char/attribute pairs; BH=page, BL=attribute, CX=length, DH,DL=position, ES:BP=string.', run: writeString },
  {
    vector: V, ah: 0x1a, name: 'display combination code', status: 'supported', contract: 'AL=00h -> AL=1Ah, BL=08h (VGA colour), BH=0. AL=01h -> AL=1Ah.',
    run: (c) => {
      if (c.al === 0) c.bx = DCC_VGA_COLOUR;
      c.al = DCC_SUPPORTED;
    },
  },
  { vector: V, ah: 0x1b, name: 'functionality/state information', status: 'not-yet', contract: 'Not available.' },
  { vector: V, ax: 0x4f00, name: 'VBE controller information', status: 'partial', contract: 'ES:DI -> 256-byte block ("VBE2" in it asks for 512): "VESA", version 3.0, OEM/vendor/product strings in the ROM, an empty mode list, 256 KiB. AX=004Fh.', run: vbeControllerInfo },
  { vector: V, ax: 0x4f01, name: 'VBE mode information', status: 'partial', contract: 'No VBE modes: AX=014Fh.', run: (c) => void (c.ax = VBE_FAILED) },
  { vector: V, ax: 0x4f02, name: 'VBE set mode', status: 'partial', contract: 'BX=3 (bit 15: keep memory) sets text mode 3, AX=004Fh; any other mode AX=014Fh.', run: vbeSetMode },
  { vector: V, ax: 0x4f03, name: 'VBE current mode', status: 'supported', contract: '-> AX=004Fh, BX=current mode (3).', run: (c, b) => { c.bx = b.console.mode; c.ax = VBE_OK; } },
  { vector: V, ax: 0x4f0a, name: 'VBE protected-mode interface', status: 'not-yet', contract: 'AX=0100h (not supported); GRUB then reports no interface.', run: (c) => void (c.ax = VBE_UNSUPPORTED) },
];

/** What INT 10h does with a function it does not have: VBE calls report "not supported". */
export function videoUnsupported(c: BiosCall): void {
  if (c.ah === 0x4f) c.ax = VBE_UNSUPPORTED;
}

/** Video fields of the BDA after POST (besides what TextConsole.setMode writes). */
export function initVideoBda(bios: BiosContext): void {
  const m = bios.host.memory;
  m.writeU16(BDA_BASE + BDA.crtcPort, 0x3d4);
  m.writeU8(BDA_BASE + BDA.modeControl, 0x29);
  m.writeU8(BDA_BASE + BDA.palette, 0x30);
  m.writeU16(BDA_BASE + BDA.charHeight, CHAR_HEIGHT);
  m.writeU8(BDA_BASE + BDA.videoCtl, 0x60);
  m.writeU8(BDA_BASE + BDA.videoSwitches, 0xf9);
  m.writeU8(BDA_BASE + BDA.vgaFlags, 0x51);
  m.writeU8(BDA_BASE + BDA.dccIndex, 0x08);
}
