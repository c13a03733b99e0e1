/**
 * An SMP test kernel on the Domus CPU with the SMP platform, run by a small single-threaded
 * stand-in for the runtime that follows the integration recipe of docs/platform.md: local APIC
 * MMIO and MSRs served from the VCPU's region, effects forwarded (IPIs to the APIC bus, level
 * EOIs to the IOAPIC), the INTR line recomputed from lapicHasInterrupt, INIT/SIPI applied before a
 * VCPU runs, ExtINT acknowledged at the 8259.
 *
 * The kernel (nasm, multiboot a.out kludge) reads the CPU count from fw_cfg, starts the APs with
 * INIT-SIPI-SIPI (all-excluding-self), each AP enables its APIC and sends a fixed IPI to the BSP,
 * the BSP answers with a broadcast IPI the APs count, runs the local APIC timer in periodic mode,
 * checks the 8259's timer through LINT0 (virtual wire), prints PASS and powers off through ACPI S5.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cpu, RunExit } from '../../../src-engine/cpu/cpu';
import type { CpuOps } from '../../../src-engine/cpu/ops';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { readTsc } from '../../../src-engine/cpu/msr';
import { S_HALTED, S_INTR_LINE, S_NMI_PENDING, S_RUNNING, STATE_BYTES } from '../../../src-engine/cpu/state';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { loadMultibootKernel } from '../../../src-engine/boot/multiboot';
import { createPcPlatform } from '../../../src-engine/machine/platform-pc';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { lapicHasInterrupt, lapicHasNmi, lapicStartupPending } from '../../../src-engine/machine/lapic-core';
import {
  LAPIC_ACK_EXTINT, LAPIC_EFFECT_EOI, LAPIC_EFFECT_IPI, LAPIC_MSR_FAULT, lapicAcknowledge, lapicClaims, lapicMmioBase,
  lapicMmioRead, lapicMmioWrite, lapicOwnsMsr, lapicReadMsr, lapicWriteMsr, newLapicWriteOut,
} from '../../../src-engine/machine/lapic';
import { lapicApplyStartup, lapicTakeNmis } from '../../../src-engine/machine/lapic-startup';
import { SMP_TRAMPOLINE_ASM } from '../../support/smp-guest-asm';

const hasNasm = spawnSync('nasm', ['-v']).status === 0;
if (!hasNasm) console.warn('nasm is missing: the SMP guest test is skipped');

const KERNEL = String.raw`
bits 32
org 0x100000
MB_FLAGS equ 0x00010003
hdr:
  dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
  dd hdr, 0x100000, 0, 0, start
LAPIC equ 0xFEE00000
%macro EOI 0
  mov dword [LAPIC + 0xB0], 0
%endmacro
%macro OUTS 1
  mov esi, %1
  call puts
%endmacro

start:
  mov esp, bsp_stack_top
  lgdt [gdtr]
  jmp 0x08:.cs
.cs:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  ; IDT: every vector to 'bad', then the ones we use
  mov edi, idt
  mov ecx, 256
  mov eax, bad
.fill:
  call set_gate
  add edi, 8
  loop .fill
  mov edi, idt + 0x40 * 8
  mov eax, isr40
  call set_gate
  mov edi, idt + 0x41 * 8
  mov eax, isr41
  call set_gate
  mov edi, idt + 0x42 * 8
  mov eax, isr42
  call set_gate
  mov edi, idt + 0x08 * 8
  mov eax, isr_pic
  call set_gate
  mov edi, idt + 0xFF * 8
  mov eax, spurious
  call set_gate
  lidt [idtr]
  ; CPU count from fw_cfg (selector 0x510, data 0x511)
  mov dx, 0x510
  mov ax, 0x05
  out dx, ax
  mov dx, 0x511
  in al, dx
  movzx eax, al
  dec eax
  mov [napps], eax
  ; the BSP's APIC: enabled, spurious vector 0xFF; APIC ID must be 0
  mov dword [LAPIC + 0xF0], 0x1FF
  mov eax, [LAPIC + 0x20]
  shr eax, 24
  jnz fail
  ; AP trampoline to 0x8000, then INIT and two SIPIs to everybody else
  mov esi, tramp
  mov edi, 0x8000
  mov ecx, tramp_end - tramp
  rep movsb
  mov dword [LAPIC + 0x300], 0x000C4500
  mov dword [LAPIC + 0x300], 0x000C4608
  mov dword [LAPIC + 0x300], 0x000C4608
  ; wait for one IPI 0x40 from each AP
.wait40:
  cli
  mov eax, [ipi40]
  cmp eax, [napps]
  jae .got40
  sti
  hlt
  jmp .wait40
.got40:
  sti
  mov eax, [started]
  cmp eax, [napps]
  jne fail
  ; broadcast 0x42 to the APs (all excluding self) and wait for every one to count it
  mov dword [LAPIC + 0x300], 0x000C4042
.wait42:
  mov eax, [ack42]
  cmp eax, [napps]
  jae .got42
  pause
  jmp .wait42
.got42:
  ; local APIC timer: divide by 16, periodic, vector 0x41, 50000 ticks (800 us)
  mov dword [LAPIC + 0x3E0], 0x3
  mov dword [LAPIC + 0x320], 0x20041
  mov dword [LAPIC + 0x380], 50000
.waitt:
  cli
  cmp dword [ticks], 5
  jae .gott
  sti
  hlt
  jmp .waitt
.gott:
  sti
  mov dword [LAPIC + 0x320], 0x10041
  ; the 8259 through LINT0 (virtual wire, as the BIOS left it): IRQ0 at vector 8
  mov al, 0x34
  out 0x43, al
  mov al, 0x00
  out 0x40, al
  mov al, 0x10
  out 0x40, al
.waitp:
  cli
  cmp dword [pic_ticks], 3
  jae .gotp
  sti
  hlt
  jmp .waitp
.gotp:
  OUTS msg_pass
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
  jmp fail

fail:
  OUTS msg_fail
  cli
.h: hlt
  jmp .h

; eax = handler, edi = gate
set_gate:
  mov [edi], ax
  mov word [edi + 2], 0x08
  mov word [edi + 4], 0x8E00
  ror eax, 16
  mov [edi + 6], ax
  ror eax, 16
  ret

puts:
  mov dx, 0x3F8
.next:
  lodsb
  test al, al
  jz .done
  out dx, al
  jmp .next
.done:
  ret

isr40:
  lock inc dword [ipi40]
  EOI
  iret
isr41:
  inc dword [ticks]
  EOI
  iret
isr42:
  lock inc dword [ack42]
  EOI
  iret
isr_pic:
  push eax
  inc dword [pic_ticks]
  mov al, 0x20
  out 0x20, al
  pop eax
  iret
spurious:
  iret
bad:
  OUTS msg_bad
  cli
  hlt

ap_main:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov eax, 1
  lock xadd [started], eax
  mov ebx, eax
  inc eax
  shl eax, 10
  lea esp, [ap_stacks + eax]
  lidt [idtr]
  mov dword [LAPIC + 0xF0], 0x1FF
  ; one IPI in flight at a time: two IPIs of one vector sent before the BSP takes the first
  ; would merge into one IRR bit (as on hardware)
.turn:
  cmp [ipi40], ebx
  je .send
  pause
  jmp .turn
.send:
  mov dword [LAPIC + 0x310], 0
  mov dword [LAPIC + 0x300], 0x00004040
  sti
.idle:
  hlt
  jmp .idle

${SMP_TRAMPOLINE_ASM}
msg_pass: db "PASS", 10, 0
msg_fail: db "FAIL", 10, 0
msg_bad: db "BAD-VECTOR", 10, 0
align 4
napps: dd 0
started: dd 0
ipi40: dd 0
ack42: dd 0
ticks: dd 0
pic_ticks: dd 0
align 8
idt: times 256 dq 0
ap_stacks: times 8 * 1024 db 0
bsp_stack: times 4096 db 0
bsp_stack_top:
`;

/** Builds the kernel with nasm. */
function assemble(): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'domus-smp-guest-'));
  try {
    writeFileSync(path.join(dir, 'smp.asm'), KERNEL);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', 'smp.bin', 'smp.asm'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr}`);
    return new Uint8Array(readFileSync(path.join(dir, 'smp.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the kernel on `vcpus` VCPUs, round-robin on this thread, with a virtual 1 GHz clock. */
function runSmp(kernel: Uint8Array, vcpus: number): { serial: string; poweredOff: boolean; exits: Record<string, number> } {
  const ram = 32 * 2 ** 20;
  const memory = new DomainMemory(new MachineMemory(ram), 'smp-guest', { ramBytes: ram });
  const clock = { ns: 0, now() { return this.ns; }, wallMs() { return 0; } };
  const lapics = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(vcpus)), vcpus);
  let serial = '';
  let poweredOff = false;
  const exits: Record<string, number> = { ipi: 0, eoi: 0, extint: 0 };
  const cpus: Cpu[] = [];
  const platform = createPcPlatform({
    clock,
    ramBelow4G: ram,
    cpus: vcpus,
    smp: { lapics, kick: (v) => cpus[v] && (cpus[v].attn[0] = 1) },
    onUartTransmit: (_com, byte) => (serial += String.fromCharCode(byte)),
    onPowerOff: () => {
      poweredOff = true;
      for (const c of cpus) c.attn[0] = 1;
    },
  });
  const states = new SharedArrayBuffer(vcpus * STATE_BYTES);
  const out = newLapicWriteOut();
  /** The runtime's job after anything that may change VCPU v's pending interrupt. */
  const recheck = (v: number) => {
    cpus[v].s[S_INTR_LINE] = lapicHasInterrupt(lapics[v]) ? 1 : 0;
    cpus[v].attn[0] = 1;
  };
  const effects = (v: number, e: number) => {
    if (e & LAPIC_EFFECT_IPI) {
      exits.ipi++;
      platform.lapicBus?.deliverIpi(out.ipi);
    }
    if (e & LAPIC_EFFECT_EOI) {
      exits.eoi++;
      platform.endOfInterrupt(out.eoiVector);
    }
    recheck(v);
  };
  for (let v = 0; v < vcpus; v++) {
    const r = lapics[v];
    const ops: CpuOps = {
      ioRead: (port, size) => platform.bus.read(port, size) >>> 0,
      ioWrite: (port, size, value) => platform.bus.write(port, size, value),
      mmioRead: (addr, size) => (lapicClaims(r, addr) ? lapicMmioRead(r, addr - lapicMmioBase(r), size, clock.ns) : platform.mmio.read(addr, size)),
      mmioWrite: (addr, size, value) => {
        if (lapicClaims(r, addr)) effects(v, lapicMmioWrite(r, addr - lapicMmioBase(r), size, value, clock.ns, out));
        else platform.mmio.write(addr, size, value);
      },
      rdmsr: (index) => (lapicOwnsMsr(index) ? lapicReadMsr(r, index, clock.ns) : undefined),
      wrmsr: (index, lo, hi) => {
        if (!lapicOwnsMsr(index)) return false;
        const e = lapicWriteMsr(r, index, lo, hi, clock.ns, readTsc(cpus[v]));
        if (e === LAPIC_MSR_FAULT) return false;
        effects(v, e);
        return true;
      },
      cpuid: () => false,
      hypercall: () => false,
      acknowledgeInterrupt: () => {
        let vector = lapicAcknowledge(r);
        if (vector === LAPIC_ACK_EXTINT) {
          exits.extint++;
          vector = platform.interruptController.acknowledge();
        }
        recheck(v);
        return vector;
      },
      attention: () => {
        cpus[v].attn[0] = 0;
        cpus[v].s[S_NMI_PENDING] += lapicTakeNmis(r);
        cpus[v].s[S_INTR_LINE] = lapicHasInterrupt(r) ? 1 : 0;
        // INIT/SIPI: leave run() so the loop applies it; power-off stops everything.
        return poweredOff || lapicStartupPending(r);
      },
      nowNs: () => clock.ns,
    };
    const cpu = new Cpu(states, v * STATE_BYTES, memory.physMemory, ops, { features: { ...DEFAULT_FEATURES, apic: true }, vcpuId: v });
    cpu.reset();
    if (v > 0) cpu.s[S_RUNNING] = 0;
    cpus.push(cpu);
  }
  const boot = loadMultibootKernel({ kernel, kernelPath: 'smp.bin', memory });
  cpus[0].init(boot.init);
  platform.directBootSetup();

  const SLICE = 2000;
  for (let round = 0; round < 20_000 && !poweredOff; round++) {
    let ran = false;
    for (let v = 0; v < vcpus && !poweredOff; v++) {
      const cpu = cpus[v];
      if (lapicStartupPending(lapics[v]) && lapicApplyStartup(lapics[v], cpu.s) !== 0) cpu.afterStateLoad();
      if (cpu.s[S_RUNNING] === 0) continue;
      if (cpu.s[S_HALTED] !== 0 && !lapicHasInterrupt(lapics[v]) && !lapicHasNmi(lapics[v])) continue;
      recheck(v);
      const before = cpu.icount;
      const exit = cpu.run(cpu.icount + SLICE);
      clock.ns += cpu.icount - before;
      ran = true;
      if (exit === RunExit.Shutdown) throw new Error(`VCPU ${v} shut down`);
    }
    const next = platform.tick(clock.ns);
    if (!ran) {
      if (next === Infinity) break;
      clock.ns = Math.max(clock.ns, next);
      platform.tick(clock.ns);
    }
  }
  return { serial, poweredOff, exits };
}

describe('SMP test kernel on the Domus CPU with local APICs', () => {
  const kernel = hasNasm ? assemble() : new Uint8Array();
  for (const vcpus of [1, 2, 3]) {
    it.skipIf(!hasNasm)(`boots ${vcpus} VCPU(s): INIT/SIPI, IPIs both ways, APIC timer, 8259 via LINT0, ACPI power-off`, () => {
      const r = runSmp(kernel, vcpus);
      expect(r.serial).toBe('PASS\n');
      expect(r.poweredOff).toBe(true);
      expect(r.exits.ipi).toBe(vcpus > 1 ? 3 + (vcpus - 1) + 1 : 4);
      expect(r.exits.extint).toBeGreaterThanOrEqual(3);
    }, 60_000);
  }
});
