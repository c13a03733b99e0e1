/** The xvda contents test/guests-pvh/blk/blk.c expects: "DOMUS-PVH-DISK", then (offset * 7 + 3) & 0xff. */
export function patternDisk(bytes: number): Uint8Array {
  const d = new Uint8Array(bytes);
  for (let k = 0; k < bytes; k++) d[k] = (k * 7 + 3) & 0xff;
  d.fill(0, 0, 16);
  d.set(new TextEncoder().encode('DOMUS-PVH-DISK'));
  return d;
}
