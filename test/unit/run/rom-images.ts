/**
 * Hand-assembled system ROM images for the `domus run --bios` tests (the bytes are written out
 * here, with their assembly, so the tests need no assembler).
 */

/** Offset of the reset vector from the end of the ROM (FFFFFFF0h is 16 bytes below 4 GiB). */
const RESET_VECTOR_FROM_END = 0x10;
/** F000:E05B, the traditional POST entry the reset vector far-jumps to. */
const POST_OFFSET = 0xe05b;
/** Where the last 64 KiB of any ROM sit below 1 MiB. */
const F_SEGMENT = 0xf0000;
/** The bytes 0xFFFFFFFE-0xFFFFFFFF of every test ROM (the dword read there wraps to 0). */
export const ROM_LAST_BYTES = [0xab, 0xcd];
/** The first bytes of every test ROM ("DOMU"), checked through the low window. */
const ROM_MARKER = [0x44, 0x4f, 0x4d, 0x55];

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];

/**
 * A ROM of `size` bytes whose reset vector prints "R" on COM1 (before anything set the UART up)
 * and far-jumps to F000:E05B, which prints "L" from the low window, enters flat 32-bit protected
 * mode, checks the ROM's first dword through the low window, compares the whole low window with
 * the high mirror (REPE CMPSD), writes 11 22 33 44 at address 0 and reads the dword at FFFFFFFEh
 * (the ROM's last two bytes, then RAM bytes 0 and 1: 32-bit addresses wrap), then prints "K" and
 * leaves through isa-debug-exit with 0x21 (status 0x43). Any check failing prints "!" and exits
 * with 0x13 (status 0x27).
 */
export function mirrorCheckRom(size: number): Uint8Array {
  const rom = new Uint8Array(size).fill(0xff);
  const lowBase = 0x100000 - size;
  const highBase = 0x100000000 - size;
  const at = size - 0x10000 + POST_OFFSET; // ROM offset of F000:E05B
  const code: number[] = [];
  const gdtrFixup: number[] = [];
  const jne: number[] = [];
  code.push(0xba, 0xf8, 0x03); //                mov dx, 0x3f8
  code.push(0xb0, 0x4c, 0xee); //                mov al, 'L' / out dx, al
  code.push(0x2e, 0x0f, 0x01, 0x16, 0, 0); //    lgdt [cs:gdtr]
  gdtrFixup.push(code.length - 2);
  code.push(0x0f, 0x20, 0xc0); //                mov eax, cr0
  code.push(0x0c, 0x01); //                      or al, 1
  code.push(0x0f, 0x22, 0xc0); //                mov cr0, eax
  const pm32 = POST_OFFSET + code.length + 8;
  code.push(0x66, 0xea, ...le32(F_SEGMENT + pm32), 0x08, 0x00); // jmp dword 0x08:pm32
  // bits 32
  code.push(0x66, 0xb8, 0x10, 0x00); //          mov ax, 0x10
  code.push(0x8e, 0xd8, 0x8e, 0xc0, 0xfc); //    mov ds, ax / mov es, ax / cld
  code.push(0x81, 0x3d, ...le32(lowBase), ...ROM_MARKER); // cmp dword [lowBase], "DOMU"
  code.push(0x75, 0); //                         jne fail
  jne.push(code.length - 1);
  code.push(0xbe, ...le32(lowBase)); //          mov esi, lowBase
  code.push(0xbf, ...le32(highBase)); //         mov edi, highBase
  code.push(0xb9, ...le32(size / 4)); //         mov ecx, size / 4
  code.push(0xf3, 0xa7); //                      repe cmpsd
  code.push(0x75, 0); //                         jne fail
  jne.push(code.length - 1);
  code.push(0xc7, 0x05, ...le32(0), 0x11, 0x22, 0x33, 0x44); // mov dword [0], 0x44332211
  code.push(0xa1, ...le32(0xfffffffe)); //       mov eax, [0xfffffffe]
  code.push(0x3d, ...ROM_LAST_BYTES, 0x11, 0x22); // cmp eax, 0x2211cdab
  code.push(0x75, 0); //                         jne fail
  jne.push(code.length - 1);
  code.push(0x66, 0xba, 0xf8, 0x03, 0xb0, 0x4b, 0xee); // mov dx, 0x3f8 / mov al, 'K' / out dx, al
  code.push(0xb0, 0x21, 0xe6, 0xf4); //          mov al, 0x21 / out 0xf4, al
  const fail = code.length;
  for (const j of jne) code[j] = fail - (j + 1);
  code.push(0x66, 0xba, 0xf8, 0x03, 0xb0, 0x21, 0xee); // fail: mov dx, 0x3f8 / mov al, '!' / out dx, al
  code.push(0xb0, 0x13, 0xe6, 0xf4, 0xf4); //    mov al, 0x13 / out 0xf4, al / hlt
  while ((POST_OFFSET + code.length) % 8 !== 0) code.push(0x90);
  const gdt = POST_OFFSET + code.length;
  code.push(...new Array<number>(8).fill(0)); // null descriptor
  code.push(0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00); // 0x08: flat 4 GiB code
  code.push(0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00); // 0x10: flat 4 GiB data
  const gdtr = POST_OFFSET + code.length;
  code.push(...le16(23), ...le32(F_SEGMENT + gdt)); // gdtr: limit 23, base
  for (const f of gdtrFixup) [code[f], code[f + 1]] = le16(gdtr);
  rom.set(code, at);
  rom.set(ROM_MARKER, 0);
  setResetVector(rom, [0xba, 0xf8, 0x03, 0xb0, 0x52, 0xee]); // mov dx, 0x3f8 / mov al, 'R' / out dx, al
  rom.set(ROM_LAST_BYTES, size - 2);
  return rom;
}

/** Puts `prefix` then `jmp far F000:E05B` at the reset vector (at most 11 bytes of prefix). */
function setResetVector(rom: Uint8Array, prefix: number[]): void {
  rom.set([...prefix, 0xea, ...le16(POST_OFFSET), ...le16(0xf000)], rom.length - RESET_VECTOR_FROM_END);
}

/** A 64 KiB ROM that runs `code` (16-bit) at F000:E05B after its reset vector jumps there. */
export function romRunning(code: number[]): Uint8Array {
  const rom = new Uint8Array(0x10000).fill(0xff);
  rom.set(code, POST_OFFSET);
  setResetVector(rom, []);
  return rom;
}

/**
 * Triple fault: LIDT with a zero limit (the 6 zero bytes after the code), print "T" on COM1, then
 * INT 3: the vector lies beyond the IDT limit (#GP), so does #GP's (#DF), so does #DF's: shutdown.
 */
export function tripleFaultRom(): Uint8Array {
  const code = [
    0x2e, 0x0f, 0x01, 0x1e, 0, 0, // lidt [cs:zero]
    0xba, 0xf8, 0x03, 0xb0, 0x54, 0xee, // mov dx, 0x3f8 / mov al, 'T' / out dx, al
    0xcc, //                         int 3
    0xf4, //                         hlt (never reached)
  ];
  const zero = POST_OFFSET + code.length;
  [code[4], code[5]] = le16(zero);
  return romRunning([...code, 0, 0, 0, 0, 0, 0]);
}

/** A reset request by `OUT port, value` (DX form), after printing "X" on COM1. */
export function resetRom(port: number, value: number): Uint8Array {
  return romRunning([
    0xba, 0xf8, 0x03, 0xb0, 0x58, 0xee, // mov dx, 0x3f8 / mov al, 'X' / out dx, al
    0xba, ...le16(port), //               mov dx, port
    0xb0, value, 0xee, //                 mov al, value / out dx, al
    0xfa, 0xf4, //                        cli / hlt (a missed reset ends the run with code 0)
  ]);
}

/**
 * isa-debugcon: reads port 0x402 and writes what it read back to it, then a newline, and leaves
 * through isa-debug-exit with 0x02 (status 5).
 */
export function debugconRom(): Uint8Array {
  return romRunning([
    0xba, 0x02, 0x04, //   mov dx, 0x402
    0xec, 0xee, //         in al, dx / out dx, al
    0xb0, 0x0a, 0xee, //   mov al, 10 / out dx, al
    0xb0, 0x02, 0xe6, 0xf4, // mov al, 2 / out 0xf4, al
    0xf4,
  ]);
}
