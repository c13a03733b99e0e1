import { describe, expect, it } from 'vitest';
import { generateGrubCfg, grubQuote, splitCommandLine } from '../../../src-engine/iso/grub-cfg';
import { emitXlCfg, xlQuote } from '../../../src-engine/iso/xl-cfg-emit';

describe('grub.cfg generation', () => {
  it('writes the spec reference config for a serial console', () => {
    const text = generateGrubCfg({
      title: 'HermitCore',
      timeoutSeconds: 0,
      console: { kind: 'serial', port: 1, speed: 115200 },
      protocol: 1,
      kernel: { path: '/boot/ldhermit.elf', args: '-uart=io:0x3f8' },
      modules: [{ path: '/boot/hermit_application', args: '' }],
    });
    expect(text).toBe(
      [
        '# grub.cfg written by Domus (GRUB ISO builder)',
        'serial --unit=0 --speed=115200',
        'terminal_input serial',
        'terminal_output serial',
        'set default=0',
        'set timeout=0',
        '',
        'menuentry HermitCore {',
        '    multiboot /boot/ldhermit.elf -uart=io:0x3f8',
        '    module /boot/hermit_application',
        '    boot',
        '}',
        '',
      ].join('\n'),
    );
  });
  it('uses multiboot2/module2, COM ports, VGA and quoting', () => {
    const text = generateGrubCfg({
      title: "Bob's kernel",
      timeoutSeconds: 5,
      console: { kind: 'serial', port: 3, speed: 9600 },
      protocol: 2,
      kernel: { path: '/boot/my kernel', args: `a=1 "b c" $HOME` },
      modules: [{ path: '/boot/initrd', args: 'x' }],
    });
    expect(text).toContain('serial --unit=2 --speed=9600');
    expect(text).toContain(`menuentry 'Bob'\\''s kernel' {`);
    expect(text).toContain(`    multiboot2 '/boot/my kernel' a=1 'b c' '$HOME'`);
    expect(text).toContain('    module2 /boot/initrd x');
    expect(text).toContain('set timeout=5');
    const vga = generateGrubCfg({ title: 't', timeoutSeconds: 0, console: { kind: 'vga' }, protocol: 1, kernel: { path: '/boot/k', args: '' }, modules: [] });
    expect(vga).toContain('terminal_output console');
    expect(vga).not.toContain('serial');
  });
  it('refuses bad consoles, timeouts and multi-line input', () => {
    const base = { title: 't', timeoutSeconds: 0, protocol: 1 as const, kernel: { path: '/boot/k', args: '' }, modules: [] };
    expect(() => generateGrubCfg({ ...base, console: { kind: 'serial', port: 5, speed: 115200 } })).toThrow(/COM5 does not exist/);
    expect(() => generateGrubCfg({ ...base, console: { kind: 'serial', port: 1, speed: 12345 } })).toThrow(/12345 is not one GRUB supports/);
    expect(() => generateGrubCfg({ ...base, console: { kind: 'vga' }, timeoutSeconds: -1 })).toThrow(/timeout/);
    expect(() => generateGrubCfg({ ...base, console: { kind: 'vga' }, title: 'a\nb' })).toThrow(/line break/);
  });
  it('splits command lines at blanks, honouring quotes', () => {
    expect(splitCommandLine('  a  b\t"c d" \'e "f\' "g\\"h" ""')).toEqual(['a', 'b', 'c d', 'e "f', 'g"h', '']);
    expect(() => splitCommandLine('"open')).toThrow(/Unclosed " quote/);
    expect(grubQuote('-uart=io:0x3f8')).toBe('-uart=io:0x3f8');
    expect(grubQuote('')).toBe(`''`);
    expect(grubQuote('a;b')).toBe(`'a;b'`);
  });
});

describe('xl.cfg emitter', () => {
  it('writes an HVM guest booting the ISO from hdc', () => {
    const text = emitXlCfg({ name: 'hermit', isoPath: '/tmp/hermit.iso', memoryMb: 512, vcpus: 2, console: { kind: 'serial', port: 1, speed: 115200 } });
    expect(text.split('\n')).toEqual([
      '# xl.cfg written by Domus: boots /tmp/hermit.iso (GRUB ISO) as an HVM guest.',
      'name = "hermit"',
      'type = "hvm"',
      'memory = 512',
      'vcpus = 2',
      "disk = [ 'file:/tmp/hermit.iso,hdc:cdrom,r' ]",
      'boot = "d"',
      'serial = [ "pty" ]',
      'nographic = 1',
      '',
    ]);
  });
  it('maps COM2 to the second serial entry and a log file; VGA has no serial line', () => {
    const com2 = emitXlCfg({ name: 'a', isoPath: '/x.iso', memoryMb: 64, vcpus: 1, console: { kind: 'serial', port: 2, speed: 9600 }, serialTarget: '/tmp/a.log' });
    expect(com2).toContain('serial = [ "none", "file:/tmp/a.log" ]');
    const vga = emitXlCfg({ name: 'a', isoPath: "/it's.iso", memoryMb: 64, vcpus: 1, console: { kind: 'vga' } });
    expect(vga).not.toContain('serial');
    expect(vga).toContain(`disk = [ 'file:/it\\'s.iso,hdc:cdrom,r' ]`);
  });
  it('quotes like libxlu reads and refuses impossible values', () => {
    expect(xlQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    const spec = { name: 'a', isoPath: '/x.iso', memoryMb: 64, vcpus: 1, console: { kind: 'vga' as const } };
    expect(() => emitXlCfg({ ...spec, name: '42' })).toThrow(/cannot be a domain name/);
    expect(() => emitXlCfg({ ...spec, memoryMb: 0 })).toThrow(/memory/);
    expect(() => emitXlCfg({ ...spec, vcpus: 1.5 })).toThrow(/vcpus/);
    expect(() => emitXlCfg({ ...spec, isoPath: '/a,b.iso' })).toThrow(/contains ","/);
  });
});
