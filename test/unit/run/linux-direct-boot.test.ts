/**
 * Direct Linux boot in the real engine: `domus run --kernel BZIMAGE --initrd F --append ARGS` and
 * an xl.cfg with type = "hvm" and kernel=/ramdisk=/cmdline= recognise a bzImage by its setup header
 * and boot it with the 32-bit boot protocol (src-engine/boot/linux.ts), with the same ACPI tables as
 * a multiboot direct boot. The kernel here is a synthetic bzImage whose protected-mode code reads
 * the zero page it is handed in ESI and reports on COM1: the command line (cmd_line_ptr), the
 * initrd's bytes (ramdisk_image, ramdisk_size), and "RSDP" if acpi_rsdp_addr points at an ACPI
 * RSDP; then it leaves through isa-debug-exit. The real Debian kernels boot in
 * test/slow/linux-boot.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { buildDomainSpec } from '../../../src-engine/node/service/spec-builder';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import { parseDomainConfig } from '../../../src-engine/config/domain-config-parse';
import { HvDomain } from '../../../src-engine/runtime/hv-domain';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { MTRR_STATE_WORDS, S_MTRR } from '../../../src-engine/cpu/state';

const work = mkdtempSync(path.join(os.tmpdir(), 'domus-linux-run-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Status the synthetic kernel writes to isa-debug-exit; `domus run` exits with (v << 1) | 1. */
const EXIT_STATUS = 0x15;
const SETUP_SECTS = 4;

/**
 * The protected-mode code (i386, hand-assembled; ESI = the zero page, flat 4 GiB segments):
 *   mov ebx, [esi+0x228]        ; cmd_line_ptr
 *   mov dx, 0x3f8
 * c: mov al, [ebx] / test al, al / jz n / out dx, al / inc ebx / jmp c
 * n: mov al, 10 / out dx, al
 *   mov ebx, [esi+0x218]        ; ramdisk_image
 *   mov ecx, [esi+0x21c]        ; ramdisk_size
 * r: mov al, [ebx] / out dx, al / inc ebx / loop r
 *   mov ebx, [esi+0x70]         ; acpi_rsdp_addr (low half)
 *   cmp dword [ebx], 'RSD '
 *   jne x
 *   mov al,'R' / out / mov al,'S' / out / mov al,'D' / out / mov al,'P' / out
 * x: mov al, 10 / out dx, al
 *   mov al, EXIT_STATUS / mov dx, 0xf4 / out dx, al
 * h: cli / hlt / jmp h
 */
const CODE = [
  0x8b, 0x9e, 0x28, 0x02, 0x00, 0x00,
  0x66, 0xba, 0xf8, 0x03,
  0x8a, 0x03, 0x84, 0xc0, 0x74, 0x04, 0xee, 0x43, 0xeb, 0xf6,
  0xb0, 0x0a, 0xee,
  0x8b, 0x9e, 0x18, 0x02, 0x00, 0x00,
  0x8b, 0x8e, 0x1c, 0x02, 0x00, 0x00,
  0x8a, 0x03, 0xee, 0x43, 0xe2, 0xfa,
  0x8b, 0x5e, 0x70,
  0x81, 0x3b, 0x52, 0x53, 0x44, 0x20,
  0x75, 0x0c,
  0xb0, 0x52, 0xee, 0xb0, 0x53, 0xee, 0xb0, 0x44, 0xee, 0xb0, 0x50, 0xee,
  0xb0, 0x0a, 0xee,
  0xb0, EXIT_STATUS, 0x66, 0xba, 0xf4, 0x00, 0xee,
  0xfa, 0xf4, 0xeb, 0xfc,
];

/** A bzImage (protocol 2.15, relocatable, init_size 1 MiB) around CODE. */
function syntheticBzImage(): Uint8Array {
  const real = (SETUP_SECTS + 1) * 512;
  const prot = 0x1000;
  const b = new Uint8Array(real + prot);
  const v = new DataView(b.buffer);
  b[0x1f1] = SETUP_SECTS;
  v.setUint32(0x1f4, prot / 16, true); // syssize
  v.setUint16(0x1fe, 0xaa55, true); // boot_flag
  b[0x200] = 0xeb; // jump over the header
  b[0x201] = 0x6a;
  b.set(new TextEncoder().encode('HdrS'), 0x202);
  v.setUint16(0x206, 0x020f, true); // version 2.15
  b[0x211] = 0x01; // loadflags: LOADED_HIGH
  v.setUint32(0x214, 0x100000, true); // code32_start
  v.setUint32(0x22c, 0x7fffffff, true); // initrd_addr_max
  v.setUint32(0x230, 0x1000000, true); // kernel_alignment
  b[0x234] = 1; // relocatable_kernel
  v.setUint32(0x238, 2047, true); // cmdline_size
  v.setBigUint64(0x258, 0x1000000n, true); // pref_address
  v.setUint32(0x260, 0x100000, true); // init_size
  b.set(CODE, real);
  return b;
}

const kernel = path.join(work, 'bzImage');
const initrd = path.join(work, 'initrd.txt');
writeFileSync(kernel, syntheticBzImage());
writeFileSync(initrd, 'initrd-bytes-here');

function domusRun(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/domus', 'run', ...args], { encoding: 'latin1', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('direct Linux boot wiring', () => {
  it.each([1, 2])('domus run hands a bzImage its command line, initrd and RSDP (%i VCPU)', (vcpus) => {
    const r = domusRun('--kernel', kernel, '--initrd', initrd, '--append', 'console=ttyS0 quiet', '--vcpus', String(vcpus), '--memory', '64', '--debug-exit', '--timeout', '20');
    expect(r.out).toBe('console=ttyS0 quiet\ninitrd-bytes-hereRSDP\n');
    expect(r.code).toBe((EXIT_STATUS << 1) | 1);
  }, 60_000);

  it('refuses an initrd for a kernel that is not a bzImage, and multiboot modules for one that is', () => {
    const notLinux = domusRun('--kernel', path.resolve('test/fixtures/run/clihlt.elf'), '--initrd', initrd);
    expect(notLinux.code).toBe(2);
    expect(notLinux.err).toContain('--initrd goes with a Linux bzImage');
    const modules = domusRun('--kernel', kernel, '--module', initrd);
    expect(modules.code).toBe(2);
    expect(modules.err).toContain('it takes --initrd, not --module');
    expect(domusRun('--initrd', initrd, '--cdrom', initrd).err).toContain('--initrd goes with --kernel');
  });

  it('an initrd too big for the memory is refused with the initrd named', () => {
    const big = path.join(work, 'big-initrd');
    writeFileSync(big, new Uint8Array(40 << 20));
    const r = domusRun('--kernel', kernel, '--initrd', big, '--memory', '32');
    expect(r.code).toBe(2);
    expect(r.err).toContain('big-initrd');
    expect(r.err).toContain('does not fit');
  });

  it('xl.cfg: type = "hvm" with a bzImage as kernel= takes ramdisk= as its initrd', () => {
    const text = `name = "lin"\ntype = "hvm"\nmemory = 64\nkernel = "bzImage"\nramdisk = "initrd.txt"\ncmdline = "console=ttyS0"\n`;
    const spec = buildDomainSpec(parseDomainConfig(text).config, work, { nrCpus: 2 });
    expect(spec.kernel?.initrd?.path).toBe('initrd.txt');
    expect(new TextDecoder().decode(spec.kernel?.initrd?.data)).toBe('initrd-bytes-here');
    expect(spec.kernel?.modules).toEqual([]);
    expect(spec.kernel?.cmdline).toBe('console=ttyS0');
    // A multiboot kernel keeps ramdisk= as its first module.
    const mb = buildDomainSpec(parseDomainConfig(text.replace('"bzImage"', `"${path.resolve('test/fixtures/run/clihlt.elf')}"`)).config, work, { nrCpus: 2 });
    expect(mb.kernel?.initrd).toBeUndefined();
    expect(mb.kernel?.modules.map((m) => m.path)).toEqual(['initrd.txt']);
  });

  it('xl.cfg: the engine boots the bzImage directly and the guest sees its command line and initrd', async () => {
    const home = path.join(work, 'home');
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 128, paths, version: 'test' });
    try {
      await svc.engine.whenReady();
      const cfg = `name = "lin"\ntype = "hvm"\nmemory = 64\nvcpus = 2\nkernel = "${kernel}"\nramdisk = "${initrd}"\ncmdline = "from-xl-cfg"\n`;
      const r = await svc.request('domain.create', { xlcfg: cfg });
      const expected = 'from-xl-cfg\ninitrd-bytes-hereRSDP\n';
      const text = () => new TextDecoder().decode(svc.domains.get(r.domid)?.consoles.get(1)?.contents());
      const t0 = Date.now();
      while (Date.now() - t0 < 30_000 && !text().includes(expected)) await new Promise((res) => setTimeout(res, 50));
      expect(text()).toBe(expected);
      await svc.request('domain.destroy', { domain: r.domid });
    } finally {
      await svc.close();
    }
  }, 60_000);

  it('the APs get the MTRRs the loader set on the BSP (a BIOS copies them when it wakes the APs)', () => {
    const pool = new MachineMemory(128 << 20);
    const clock = { now: () => 0, wallMs: () => 0 };
    const spec = { name: 'mtrr', memoryMiB: 64, vcpus: 3, kernel: { data: syntheticBzImage(), path: 'bzImage', cmdline: '', modules: [] } };
    const d = new HvDomain(1, spec, pool, clock, 0);
    try {
      const bsp = Array.from(d.vcpuState[0].subarray(S_MTRR, S_MTRR + MTRR_STATE_WORDS));
      // MTRRdefType: enabled (bit 11), write-back default (6), as firmware leaves it.
      expect(bsp[0]).toBe((1 << 11) | 6);
      for (const v of [1, 2]) expect(Array.from(d.vcpuState[v].subarray(S_MTRR, S_MTRR + MTRR_STATE_WORDS))).toEqual(bsp);
    } finally {
      d.release();
    }
  });
});
