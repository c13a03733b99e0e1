/**
 * `xl vcpu-set` on an HVM domain in the real engine (hypervisor thread + pCPU workers), with a
 * tiny guest standing in for an ACPI OS: a multiboot kernel (nasm) booted with vcpus=1 and
 * maxvcpus=2 routes the SCI (ISA IRQ 9, level, active high) through the IOAPIC to vector 0x30 and
 * enables GPE0 bit 2, as an OS does for a GPE with an _E02 method. Its SCI handler reports GPE0
 * status and the present bitmap at 0xAF00; when CPU 1 appears it starts it with INIT-SIPI-SIPI
 * (the AP reports from protected mode); when CPU 1 goes away it parks the AP and writes 1 to the
 * eject register at 0xAF20, as the DSDT's _EJ0 does. The Linux guest doing the same through the
 * real AML runs in test/slow/linux-vcpu-hotplug.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import { SMP_TRAMPOLINE_ASM } from '../../support/smp-guest-asm';

const hasNasm = spawnSync('nasm', ['-v']).status === 0;
if (!hasNasm) console.warn('nasm is missing: the HVM vcpu-set engine test is skipped');
const work = mkdtempSync(path.join(os.tmpdir(), 'domus-hvm-hotplug-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const KERNEL = String.raw`
bits 32
org 0x100000
MB_FLAGS equ 0x00010003
hdr:
  dd 0x1BADB002, MB_FLAGS, -(0x1BADB002 + MB_FLAGS)
  dd hdr, 0x100000, 0, 0, start
LAPIC equ 0xFEE00000
IOAPIC equ 0xFEC00000
GPE0_STS equ 0x620
GPE0_EN equ 0x622
CPU_PRESENT equ 0xAF00
CPU_EJECT equ 0xAF20
SCI_VECTOR equ 0x30

start:
  mov esp, stack_top
  lgdt [gdtr]
  jmp 0x08:.cs
.cs:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov edi, idt
  mov ecx, 256
  mov eax, bad
.fill:
  call set_gate
  add edi, 8
  loop .fill
  mov edi, idt + SCI_VECTOR * 8
  mov eax, sci_isr
  call set_gate
  mov edi, idt + 0xFF * 8
  mov eax, spurious
  call set_gate
  lidt [idtr]
  mov al, 0xFF                             ; 8259s masked: the PIT's IRQ 0 is of no use here
  out 0x21, al
  out 0xA1, al
  mov dword [LAPIC + 0xF0], 0x1FF          ; APIC on, spurious vector 0xFF
  ; IOAPIC redirection entry 9 (GSI 9 = the SCI): vector 0x30, level, active high, to APIC 0
  mov dword [IOAPIC], 0x10 + 2 * 9 + 1
  mov dword [IOAPIC + 0x10], 0
  mov dword [IOAPIC], 0x10 + 2 * 9
  mov dword [IOAPIC + 0x10], 0x8000 | SCI_VECTOR
  mov dx, GPE0_EN
  mov al, 0x04
  out dx, al
  mov esi, tramp
  mov edi, 0x8000
  mov ecx, tramp_end - tramp
  rep movsb
  mov esi, msg_ready
  call puts
  sti
main:
  cli
  mov eax, [scis]
  cmp eax, [scis_done]
  jne .event
  sti
  hlt
  jmp main
.event:
  sti
  inc dword [scis_done]
  mov esi, msg_sci
  call puts
  mov al, [gpe_sts]
  call puthex
  mov esi, msg_present
  call puts
  mov al, [present]
  call puthex
  mov al, 10
  call putc
  test byte [present], 2
  jz .gone
  cmp dword [ap_started], 0
  jne main
  mov dword [ap_started], 1
  mov dword [LAPIC + 0x310], 1 << 24      ; to APIC 1: INIT, then two STARTUPs at 0x8000
  mov dword [LAPIC + 0x300], 0x00004500
  mov dword [LAPIC + 0x310], 1 << 24
  mov dword [LAPIC + 0x300], 0x00004608
  mov dword [LAPIC + 0x310], 1 << 24
  mov dword [LAPIC + 0x300], 0x00004608
.wait_ap:
  cmp dword [ap_alive], 0
  jne .ap_up
  pause
  jmp .wait_ap
.ap_up:
  mov esi, msg_ap
  call puts
  jmp main
.gone:
  cmp dword [ap_started], 0
  je main
  mov dword [ap_park], 1                  ; the OS takes the CPU offline...
.wait_park:
  cmp dword [ap_parked], 0
  je .wait_park
  mov dx, CPU_EJECT                       ; ...then runs _EJ0
  mov al, 1
  out dx, al
  mov esi, msg_ejected
  call puts
  jmp main

sci_isr:
  push eax
  push edx
  mov dx, GPE0_STS
  in al, dx
  mov [gpe_sts], al
  mov dx, CPU_PRESENT
  in al, dx
  mov [present], al
  mov dx, GPE0_STS
  mov al, 0x04                            ; clear GPE0 bit 2 (write 1): the SCI line drops
  out dx, al
  inc dword [scis]
  mov dword [LAPIC + 0xB0], 0
  pop edx
  pop eax
  iret
spurious:
  iret
bad:
  mov esi, msg_bad
  call puts
  cli
  hlt

ap_main:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov dword [ap_alive], 1
.spin:
  cmp dword [ap_park], 0
  jne .park
  pause
  jmp .spin
.park:
  mov dword [ap_parked], 1
  cli
.dead:
  hlt
  jmp .dead

set_gate:
  mov [edi], ax
  mov word [edi + 2], 0x08
  mov word [edi + 4], 0x8E00
  ror eax, 16
  mov [edi + 6], ax
  ror eax, 16
  ret
putc:
  mov dx, 0x3F8
  out dx, al
  ret
puts:
  lodsb
  test al, al
  jz .done
  call putc
  jmp puts
.done:
  ret
puthex:
  push eax
  shr al, 4
  call .digit
  pop eax
  and al, 0x0F
.digit:
  and al, 0x0F
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'A' - '9' - 1
.out:
  jmp putc

${SMP_TRAMPOLINE_ASM}
msg_ready: db "READY", 10, 0
msg_sci: db "SCI GPE0_STS=", 0
msg_present: db " PRESENT=", 0
msg_ap: db "AP1 RUNNING", 10, 0
msg_ejected: db "EJECTED 1", 10, 0
msg_bad: db "BAD-VECTOR", 10, 0
align 4
scis: dd 0
scis_done: dd 0
gpe_sts: dd 0
present: dd 0
ap_started: dd 0
ap_alive: dd 0
ap_park: dd 0
ap_parked: dd 0
align 8
idt: times 256 dq 0
stack: times 4096 db 0
stack_top:
`;

describe('xl vcpu-set on an HVM domain (ACPI CPU hotplug) in the engine', () => {
  it.skipIf(!hasNasm)('raises the SCI with GPE0 bit 2, the new VCPU starts on INIT/SIPI, and leaves after the eject', async () => {
    writeFileSync(path.join(work, 'hotplug.asm'), KERNEL);
    const nasm = spawnSync('nasm', ['-f', 'bin', '-o', 'hotplug.bin', 'hotplug.asm'], { cwd: work, encoding: 'utf8' });
    expect(nasm.status, nasm.stderr).toBe(0);
    const home = path.join(work, 'home');
    const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
    const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 64, paths, version: 'test' });
    try {
      await svc.engine.whenReady();
      const cfg = `name = "hp"\ntype = "hvm"\nmemory = 8\nvcpus = 1\nmaxvcpus = 2\nkernel = "${path.join(work, 'hotplug.bin')}"\nserial = [ 'pty' ]\n`;
      const r = await svc.request('domain.create', { xlcfg: cfg });
      expect(readFileSync(path.join(work, 'hotplug.bin')).length).toBeGreaterThan(0);
      const d = svc.domains.get(r.domid);
      const text = (): string => new TextDecoder().decode(d?.consoles.get(1)?.contents());
      const waitFor = async (what: string): Promise<void> => {
        for (let i = 0; i < 600 && !text().includes(what) && d?.shutdown === undefined; i++) await new Promise((res) => setTimeout(res, 50));
        expect(text(), `waiting for "${what}"`).toContain(what);
      };
      const online = async (): Promise<number> =>
        ((await svc.request('domain.list', {})) as { name: string; onlineVcpus: number }[]).find((x) => x.name === 'hp')?.onlineVcpus ?? -1;

      await waitFor('READY\n');
      expect(await online()).toBe(1);
      await svc.request('domain.setVcpus', { domain: 'hp', count: 2 });
      await waitFor('SCI GPE0_STS=04 PRESENT=03\n');
      await waitFor('AP1 RUNNING\n');
      expect(await online()).toBe(2);
      // Setting the same count again changes nothing: no SCI.
      await svc.request('domain.setVcpus', { domain: 'hp', count: 2 });

      await svc.request('domain.setVcpus', { domain: 'hp', count: 1 });
      await waitFor('SCI GPE0_STS=04 PRESENT=01\n');
      await waitFor('EJECTED 1\n');
      for (let i = 0; i < 100 && (await online()) !== 1; i++) await new Promise((res) => setTimeout(res, 50));
      expect(await online()).toBe(1);
      expect(text().match(/SCI /g)).toHaveLength(2);
      expect(text()).not.toContain('BAD-VECTOR');

      // Out of range: refused with the maxvcpus limit.
      await expect(svc.request('domain.setVcpus', { domain: 'hp', count: 3 })).rejects.toThrow(/has 2 VCPUs \(maxvcpus\); ask for 1 to 2/);
      await svc.request('domain.destroy', { domain: 'hp' });
    } finally {
      await svc.close();
    }
  }, 90_000);
});
