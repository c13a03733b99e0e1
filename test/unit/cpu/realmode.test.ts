// Real-address mode scenarios (fragments in fixtures/realmode.asm): 32-bit prefixes, 64 KiB
// limits, stack wrap, IVT interrupts and LIDT, big real ("unreal") mode, switching to protected
// mode and back, and the A20 gate through port 0x92 on the PC platform.
import { describe, expect, it } from 'vitest';
import { fragment } from '../../support/cpu-scenario';
import { createPcMachine } from '../../support/pc-machine';
import { bothModes, u } from './scenario-helpers';

const EXC_GP = 13;
const IF = 0x200;
const TF = 0x100;

describe('real mode', () => {
  it('executes 32-bit operand and address size prefixes (SIB addressing, 32-bit pushes)', () => {
    bothModes('realmode/o32_a32', {}, (r) => {
      expect(r.regs.ecx).toBe(0x12345678);
      expect(r.regs.edx).toBe(0x1234);
      expect(r.regs.esi).toBe(0x12345678);
      expect(r.regs.edi & 0xffff).toBe(0x7000);
      expect(r.regs.ebp).toBe(0x12345678 + 0x80 + 3);
      expect(r.exception).toBeUndefined();
    });
  });

  it('an offset beyond the 64 KiB limit raises #GP through the IVT', () => {
    bothModes('realmode/offset_limit', {}, (r) => expect(r.exception).toBe(EXC_GP));
    bothModes('realmode/word_at_ffff', {}, (r) => expect(r.exception).toBe(EXC_GP));
  });

  it('SP wraps within the 64 KiB stack segment', () => {
    bothModes('realmode/stack_wrap', {}, (r) => {
      expect(r.regs.ebx & 0xffff).toBe(0xfffe);
      expect(u(r.h, 0xfffe, 2)).toBe(0xbeef);
    });
  });

  it('INT n pushes FLAGS, CS, IP, clears IF and TF; IRET restores them', () => {
    bothModes('realmode/int_iret', {}, (r) => {
      expect(r.regs.eax & 0xffff).toBe(r.sym.back);
      expect(r.regs.esi & 0xffff).toBe(0);
      expect(r.regs.edi & IF).toBe(IF);
      expect(r.regs.ecx & (IF | TF)).toBe(0);
      expect(r.regs.edx & IF).toBe(IF);
    });
  });

  it('LIDT moves the real-mode interrupt table', () => {
    bothModes('realmode/lidt_real', {}, (r) => expect(r.regs.ebx & 0xffff).toBe(2));
  });

  it('big real mode: a 4 GiB limit loaded in protected mode survives real-mode segment loads', () => {
    bothModes('realmode/unreal', {}, (r) => {
      expect(r.regs.ebx).toBe(0xfeedface);
      expect(u(r.h, 0x100000)).toBe(0xfeedface);
      expect(r.exception).toBe(EXC_GP);
    });
  });

  it('LMSW and SMSW take a register operand: LMSW DX sets PE (Linux\'s AP trampoline), LMSW cannot clear it', () => {
    bothModes('realmode/lmsw_reg', {}, (r) => {
      expect(r.exception).toBeUndefined();
      expect(r.regs.ebx & 1).toBe(0);
      expect(r.regs.ecx & 0xffff).toBe((r.regs.ebx & 0xfffe) | 1);
      expect(r.regs.esi & 0xffff).toBe(r.regs.ecx & 0xffff);
      expect(r.regs.cr0 & 1).toBe(1);
    });
  });

  it('switches real -> 32-bit protected -> 16-bit protected -> real and takes IVT interrupts again', () => {
    bothModes('realmode/pm_roundtrip', {}, (r) => {
      expect(r.regs.edx).toBe(0x11223344);
      expect(r.regs.ebx & 0xffff).toBe(0x4242);
      expect(r.regs.esi & 1).toBe(0);
      expect(r.regs.cs).toBe(0);
      expect(r.exception).toBeUndefined();
    });
  });

  it('the A20 gate (port 0x92 and the 8042) wraps FFFF:0010 to 0 when closed; opening it takes effect at once', () => {
    const m = createPcMachine({ memBytes: 4 << 20 });
    m.startReal(fragment('realmode/a20_gate').bytes, 0x7c00);
    const end = m.run(10_000);
    expect(end).toBe('hang');
    expect(m.memory.read(0, 1)[0]).toBe(0x5a);
    expect(m.memory.read(0x100000, 1)[0]).toBe(0xa5);
    expect(m.cpu.s[1] & 0xff).toBe(0xa5);
  });
});
