import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { effectiveCmdline, parseDomainConfig } from '../../../src-engine/config/domain-config-parse';
import { XlCfgError, formatProblem } from '../../../src-engine/config/xlcfg-problems';

const FIXTURES = new URL('../../fixtures/xlcfg/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

/** Config of a text that must be accepted. */
function cfg(text: string, overrides?: string[]) {
  return parseDomainConfig(text, { file: 'd.cfg', overrides }).config;
}

/** Warning lines of an accepted text. */
function warnings(text: string): string[] {
  return parseDomainConfig(text, { file: 'd.cfg' }).warnings.map(formatProblem);
}

/** Error lines of a refused text. */
function errors(text: string, overrides?: string[], topology?: { nrCpus: number; nodes?: number[][] }): string[] {
  try {
    parseDomainConfig(text, { file: 'd.cfg', overrides, topology });
  } catch (e) {
    expect(e).toBeInstanceOf(XlCfgError);
    return (e as XlCfgError).problems.filter((p) => p.severity === 'error').map(formatProblem);
  }
  throw new Error('accepted');
}

const HVM = 'name = "t"\ntype = "hvm"\ndisk = [ "/x.img,,hda" ]\n';

describe('DomainConfig from xl.cfg', () => {
  it('reads the mission example (hermit.cfg) completely', () => {
    const r = parseDomainConfig(fixture('hermit.cfg'), { file: 'hermit.cfg' });
    expect(r.warnings).toEqual([]);
    expect(r.config).toEqual({
      name: 'hermit',
      uuid: undefined,
      type: 'hvm',
      memoryMiB: 512,
      maxmemMiB: 512,
      vcpus: 2,
      maxvcpus: 2,
      cpus: undefined,
      cpusSoft: undefined,
      cpuWeight: 256,
      cap: 0,
      pool: undefined,
      rtdsPeriodUs: undefined,
      rtdsExtratime: undefined,
      kernel: undefined,
      ramdisk: undefined,
      cmdline: undefined,
      root: undefined,
      extra: undefined,
      boot: 'd',
      disks: [{ target: '/tmp/hermit.iso', format: 'raw', vdev: 'hdc', readOnly: true, cdrom: true, spec: 'file:/tmp/hermit.iso,hdc:cdrom,r' }],
      vifs: [{ params: { bridge: 'xenbr0' }, flags: [], spec: 'bridge=xenbr0' }],
      serial: [{ kind: 'file', path: '/tmp/hermit.log' }],
      nographic: true,
      onPoweroff: 'destroy',
      onReboot: 'restart',
      onWatchdog: 'destroy',
      onCrash: 'destroy',
      tscMode: 'default',
      otherSettings: {},
    });
  });

  it('reads a file using every construct (workstation.cfg) and warns about kept keys', () => {
    const r = parseDomainConfig(fixture('workstation.cfg'), { file: 'ws.cfg' });
    const c = r.config;
    expect([c.name, c.type, c.uuid]).toEqual(['ws1', 'hvm', '3f2504e0-4f89-11d3-9a0c-0305e82c3301']);
    expect([c.memoryMiB, c.maxmemMiB, c.vcpus, c.maxvcpus]).toEqual([1024, 2048, 2, 4]);
    expect([c.cpus, c.cpusSoft, c.cpuWeight, c.cap, c.pool]).toEqual([['0-1', '1', '2-3,^3'], 'all', 512, 150, 'Pool-0']);
    expect([c.kernel, c.ramdisk, effectiveCmdline(c)]).toEqual(['/boot/ldhermit.elf', '/boot/hermit_application', '-uart=io:0x3f8']);
    expect(c.disks.map((d) => [d.target, d.vdev, d.format, d.readOnly, d.cdrom])).toEqual([
      ['/var/lib/domus/ws1.img', 'xvda', 'raw', false, false],
      [undefined, 'hdc', 'empty', true, true],
    ]);
    expect(c.vifs.map((v) => v.params)).toEqual([{ mac: '00:16:3e:00:00:01', bridge: 'xenbr0', model: 'e1000' }, {}]);
    expect(c.serial).toEqual([{ kind: 'pty' }]);
    expect([c.onPoweroff, c.onReboot, c.onCrash, c.tscMode]).toEqual(['destroy', 'restart', 'preserve', 'native']);
    expect(c.otherSettings).toEqual({ sdl: 0, vnc: 1, vnclisten: '127.0.0.1', 'my_site.tag': ['a', ['nested', 1]], extra_args: 'x' });
    expect(r.warnings.map(formatProblem)).toEqual([
      'ws.cfg:37:7: warning: sdl (SDL console window) is not supported by Domus yet: kept in the file, ignored (key sdl)',
      'ws.cfg:38:7: warning: vnc (VNC console) is not supported by Domus yet: kept in the file, ignored (key vnc)',
      'ws.cfg:39:13: warning: vnclisten (VNC listen address) is not supported by Domus yet: kept in the file, ignored (key vnclisten)',
      'ws.cfg:40:15: warning: unknown key my_site.tag: kept in the file, ignored (key my_site.tag)',
      'ws.cfg:41:15: warning: unknown key extra_args: kept in the file, ignored (key extra_args)',
    ]);
  });

  it('fills in xl\'s defaults', () => {
    const c = cfg('name = "a"\ntype = "pvh"\nkernel = "/k"\n');
    expect([c.memoryMiB, c.maxmemMiB, c.vcpus, c.maxvcpus, c.cpuWeight, c.cap, c.boot]).toEqual([32, 32, 1, 1, 256, 0, 'cd']);
    expect([c.onPoweroff, c.onReboot, c.onWatchdog, c.onCrash, c.tscMode, c.nographic]).toEqual(['destroy', 'restart', 'destroy', 'destroy', 'default', false]);
    expect([c.cpus, c.cpusSoft, c.pool, c.rtdsPeriodUs, c.rtdsExtratime, c.uuid]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(cfg(`${HVM}memory = 300\n`).maxmemMiB).toBe(300);
    expect(cfg(`${HVM}maxmem = 300\n`).memoryMiB).toBe(300);
    expect(cfg(`${HVM}vcpus = 3\n`).maxvcpus).toBe(3);
    expect(cfg(`${HVM}maxvcpus = 0\nvcpus = 2\n`).maxvcpus).toBe(2);
  });

  it('reads numbers as xl does (strtol base 0; quoted numbers too)', () => {
    expect(cfg(`${HVM}memory = "512"\n`).memoryMiB).toBe(512);
    expect(cfg(`${HVM}memory = 010\n`).memoryMiB).toBe(8);
    expect(cfg(`${HVM}memory = 0x200\n`).memoryMiB).toBe(512);
    expect(cfg(`${HVM}memory = " 64"\n`).memoryMiB).toBe(64);
    expect(errors(`${HVM}memory = 12abc\n`)).toEqual([
      'd.cfg:4:10: memory = "12abc" is not a valid number (decimal, 0x hex or 0 octal, no units) (key memory)',
    ]);
    expect(errors(`${HVM}memory = 09\n`)[0]).toContain('is not a valid number');
    expect(errors(`${HVM}memory = 99999999999999999999\n`)[0]).toContain('is out of range');
    expect(errors(`${HVM}memory = 1\nmemory += 2\n`)).toEqual(["d.cfg:5:11: can't use += with numbers for memory (key memory)"]);
    expect(errors(`${HVM}memory = [ 1 ]\n`)).toEqual(['d.cfg:4:10: memory must be a single value, not a list (key memory)']);
  });

  it('checks memory and vCPU counts', () => {
    expect(errors(`${HVM}memory = 0\n`)).toEqual(['d.cfg:4:10: memory = 0 MiB is out of range: use 1..16777216 (key memory)']);
    expect(errors(`${HVM}memory = 512\nmaxmem = 256\n`)).toEqual(['d.cfg:5:10: maxmem (256 MiB) must be at least memory (512 MiB) (key maxmem)']);
    expect(errors(`${HVM}vcpus = 4\nmaxvcpus = 2\n`)).toEqual(['d.cfg:5:12: maxvcpus (2) is less than vcpus (4) (key maxvcpus)']);
    expect(errors(`${HVM}vcpus = 129\n`)).toEqual(['d.cfg:4:9: 129 vCPUs: a guest may have at most 128 (HVM_MAX_VCPUS) (key vcpus)']);
    const w = parseDomainConfig(`${HVM}vcpus = 0\n`, { file: 'd.cfg' });
    expect(w.config.vcpus).toBe(1);
    expect(w.warnings.map(formatProblem)).toEqual(['d.cfg:4:9: warning: vcpus = 0 is taken as 1, as xl does (key vcpus)']);
  });

  it('reads vCPU affinity in both forms and checks the CPU lists', () => {
    expect(cfg(`${HVM}cpus = "0-3,^1"\n`).cpus).toBe('0-3,^1');
    expect(cfg(`${HVM}maxvcpus = 2\ncpus_soft = [ "1", "nodes:0" ]\n`).cpusSoft).toEqual(['1', 'nodes:0']);
    expect(errors(`${HVM}cpus = "3-1"\n`)).toEqual(['d.cfg:4:8: "3-1": Invalid pcpu range: 3-1. (key cpus)']);
    expect(errors(`${HVM}cpus = "^all"\n`)).toEqual(['d.cfg:4:8: "^all": Can\'t combine "^" and "all". (key cpus)']);
    expect(errors(`${HVM}cpus = [ "1", "x" ]\n`)).toEqual(['d.cfg:4:15: "x": Invalid pcpu range: x. (key cpus)']);
    expect(errors(`${HVM}cpus = [ [ "1" ] ]\n`)).toEqual(['d.cfg:4:10: cpus items must be strings, not lists (key cpus)']);
    expect(errors(`${HVM}cpus = "nodes:2"\n`, undefined, { nrCpus: 4, nodes: [[0, 1], [2, 3]] })).toEqual([
      'd.cfg:4:8: "nodes:2": Invalid pcpu range: nodes:2. (key cpus)',
    ]);
    expect(warnings(`${HVM}cpus = [ "0", "1", "2" ]\n`)).toEqual([
      'd.cfg:4:8: warning: 3 CPU lists for 1 vCPU(s): the ones past vCPU 0 are ignored (key cpus)',
    ]);
    expect(cfg(`${HVM}cpus = "1,,2,"\n`).cpus).toBe('1,,2,'); // xl's strtok skips empty items
  });

  it('checks scheduler parameters with libxl\'s ranges and words', () => {
    expect(cfg(`${HVM}cpu_weight = 65535\ncap = 100\n`).cpuWeight).toBe(65535);
    expect(errors(`${HVM}cpu_weight = 0\n`)).toEqual([
      'd.cfg:4:14: Cpu weight out of range, valid values are within range from 1 to 65535 (key cpu_weight)',
    ]);
    expect(errors(`${HVM}cpu_weight = 65536\n`)[0]).toContain('Cpu weight out of range');
    expect(cfg(`${HVM}maxvcpus = 2\ncap = 200\n`).cap).toBe(200);
    expect(errors(`${HVM}maxvcpus = 2\ncap = 201\n`)).toEqual([
      'd.cfg:5:7: Cpu cap out of range, valid range is from 0 to 200 for specified number of vcpus (key cap)',
    ]);
    expect(errors(`${HVM}cap = "-1"\n`)[0]).toContain('Cpu cap out of range');
    const rt = cfg(`${HVM}period = 10000\nextratime = 0\n`);
    expect([rt.rtdsPeriodUs, rt.rtdsExtratime]).toEqual([10000, false]);
    expect(errors(`${HVM}period = 0\n`)).toEqual(['d.cfg:4:10: Invalid VCPU period of 0 (it should be >= 1) (key period)']);
    expect(warnings(`${HVM}period = 1000\n`)[0]).toContain('below the RTDS default budget of 4000 us');
  });

  it('selects the guest type like xl, and refuses PV as not supported yet', () => {
    expect(cfg('name = "a"\ntype = "pvh"\nkernel = "/k"\n').type).toBe('pvh');
    const abbrev = parseDomainConfig(`name = "a"\ntype = "h"\ndisk = [ "/x,,hda" ]\n`, { file: 'd.cfg' });
    expect(abbrev.config.type).toBe('hvm');
    expect(abbrev.warnings.map(formatProblem)).toEqual(['d.cfg:2:8: warning: type = "h" is read by xl as "hvm"; write it in full (key type)']);
    expect(errors('name = "a"\ntype = "pv"\nkernel = "/k"\n')).toEqual([
      'd.cfg:2:8: classic PV guests (type = "pv") are not supported yet: use type = "pvh" with a PVH kernel, or type = "hvm" (key type)',
    ]);
    expect(errors('name = "a"\nkernel = "/k"\n')).toEqual([
      'd.cfg: no type= given, and xl\'s default on x86 is "pv", which is not supported yet: add type = "hvm" or type = "pvh" (key type)',
    ]);
    expect(errors('name = "a"\ntype = "xen"\n')).toEqual(['d.cfg:2:8: Invalid domain type "xen": use "hvm" or "pvh" (key type)']);
    expect(errors('name = "a"\ntype = [ "hvm" ]\n')).toEqual(['d.cfg:2:8: type must be a single value, not a list (key type)']);
    expect(cfg('name = "a"\nbuilder = "hvm"\ndisk = [ "/x,,hda" ]\n').type).toBe('hvm');
    expect(errors('name = "a"\nbuilder = "generic"\nkernel = "/k"\n')[0]).toContain('not supported yet');
    expect(errors('name = "a"\ntype = "hvm"\nbuilder = "generic"\n')).toEqual([
      'd.cfg:3:11: Contradicting "builder" and "type" options specified. (key builder)',
    ]);
    expect(errors('name = "a"\ntype = "pvh"\n')).toEqual([
      'd.cfg: Neither kernel nor bootloader specified: a PVH guest boots a kernel directly, add kernel = "..." (key kernel)',
    ]);
  });

  it('requires a name and a well-formed UUID', () => {
    expect(errors('type = "hvm"\n')).toEqual(['d.cfg: Domain name must be specified: add name = "..." (key name)']);
    expect(errors(`${HVM}uuid = "1234"\n`)).toEqual(['d.cfg:4:8: Failed to parse UUID: 1234 (expected 8-4-4-4-12 hex digits) (key uuid)']);
    expect(errors('name = "a/b"\ntype = "hvm"\n')[0]).toContain('without \'/\' or control characters');
  });

  it('keeps the shutdown actions Domus implements and refuses the rest', () => {
    const c = cfg(`${HVM}on_poweroff = "preserve"\non_reboot = "rename-restart"\non_watchdog = "restart"\non_crash = "destroy"\n`);
    expect([c.onPoweroff, c.onReboot, c.onWatchdog, c.onCrash]).toEqual(['preserve', 'rename-restart', 'restart', 'destroy']);
    expect(errors(`${HVM}on_crash = "coredump-destroy"\n`)).toEqual([
      'd.cfg:4:12: on_crash = "coredump-destroy" is not supported yet: use destroy, restart, rename-restart, preserve (key on_crash)',
    ]);
    expect(errors(`${HVM}on_reboot = "soft-reset"\n`)[0]).toContain('is not supported yet');
    expect(errors(`${HVM}on_poweroff = "explode"\n`)).toEqual([
      'd.cfg:4:15: Unknown on_poweroff action "explode" specified: use destroy, restart, rename-restart, preserve (key on_poweroff)',
    ]);
  });

  it('reads tsc_mode names and the deprecated integers', () => {
    const r = parseDomainConfig(`${HVM}tsc_mode = 2\n`, { file: 'd.cfg' });
    expect(r.config.tscMode).toBe('native');
    expect(r.warnings.map(formatProblem)).toEqual(['d.cfg:4:12: warning: specifying tsc_mode as an integer is deprecated: write tsc_mode = "native" (key tsc_mode)']);
    expect(warnings(`${HVM}tsc_mode = "always_emulate"\n`)[0]).toContain('not implemented yet');
    expect(cfg(`${HVM}tsc_mode = "NATIVE"\n`).tscMode).toBe('native');
    expect(errors(`${HVM}tsc_mode = 7\n`)[0]).toContain('invalid value 7 for tsc_mode');
    expect(errors(`${HVM}tsc_mode = "fast"\n`)[0]).toContain('tsc_mode = "fast" is not a valid number');
  });

  it('checks the boot order, serial ports and disks', () => {
    expect(cfg(`${HVM}boot = "dcn"\n`).boot).toBe('dcn');
    expect(errors(`${HVM}boot = "a"\n`)[0]).toContain('boot device a (floppy) is not supported');
    expect(errors(`${HVM}boot = "cdc"\n`)[0]).toContain('boot device c is given twice');
    expect(errors(`${HVM}boot = "z"\n`)[0]).toContain('invalid boot device "z"');
    expect(cfg(`${HVM}serial = "file:/tmp/s.log"\n`).serial).toEqual([{ kind: 'file', path: '/tmp/s.log' }]);
    expect(cfg(`${HVM}serial = [ "pty", "stdio", "none" ]\n`).serial).toEqual([{ kind: 'pty' }, { kind: 'stdio' }, { kind: 'none' }]);
    expect(errors(`${HVM}serial = [ "pty", "tcp:127.0.0.1:4555" ]\n`)).toEqual([
      "d.cfg:4:19: serial `tcp:127.0.0.1:4555' is not supported yet: use file:PATH, pty, stdio or none (key serial)",
    ]);
    expect(errors(`${HVM}serial = [ "pty", "pty", "pty", "pty", "pty" ]\n`)[0]).toContain('at most 4 (COM1-COM4)');
    expect(errors('name = "t"\ntype = "hvm"\ndisk = [ "/a,,hda", "/b,,hdz" ]\n')).toEqual([
      'd.cfg:3:21: disk `/b,,hdz\': unknown vdev "hdz": use hda..hdd, xvda.., sda.. (xen-vbd-interface(7)) (key disk)',
    ]);
    expect(errors('name = "t"\ntype = "hvm"\ndisk = [ "/a,,hda", "/b,,hda" ]\n')[0]).toContain("vdev hda is already used by `/a,,hda'");
    expect(errors('name = "t"\ntype = "hvm"\ndisk = [ "/a,vmdk,hda" ]\n')).toEqual([
      "d.cfg:3:10: disk specification `/a,vmdk,hda': unknown value for format near `vmdk' (key disk)",
    ]);
    expect(errors('name = "t"\ntype = "hvm"\ndisk = "/a,,hda"\n')).toEqual(["d.cfg:3:8: disk must be a list, e.g. disk = [ '...' ] (key disk)"]);
  });

  it('keeps vifs as parsed, refusing a bad mac and warning about unknown words', () => {
    expect(cfg(`${HVM}vif = [ 'type=ioemu, mac=00:16:3E:01:02:03,bridge=br0', '' ]\n`).vifs.map((v) => v.params)).toEqual([
      { type: 'ioemu', mac: '00:16:3E:01:02:03', bridge: 'br0' },
      {},
    ]);
    expect(errors(`${HVM}vif = [ 'mac=00:16:3e' ]\n`)[0]).toContain("Invalid parameter `mac'");
    expect(warnings(`${HVM}vif = [ 'bridge=br0,speedy' ]\n`)).toEqual([
      "d.cfg:4:9: warning: unrecognized argument `speedy' in vif `bridge=br0,speedy' (kept, ignored) (key vif)",
    ]);
  });

  it('builds the kernel command line as xl does', () => {
    expect(effectiveCmdline(cfg('name="a"\ntype="pvh"\nkernel="/k"\nroot="/dev/xvda1"\nextra="ro"\n'))).toBe('root=/dev/xvda1 ro');
    expect(effectiveCmdline(cfg('name="a"\ntype="pvh"\nkernel="/k"\nroot="/dev/xvda1"\n'))).toBe('root=/dev/xvda1');
    expect(effectiveCmdline(cfg('name="a"\ntype="pvh"\nkernel="/k"\nextra="ro"\n'))).toBe('ro');
    const w = parseDomainConfig('name="a"\ntype="pvh"\nkernel="/k"\ncmdline="x"\nroot="/r"\n', { file: 'd.cfg' });
    expect(effectiveCmdline(w.config)).toBe('x');
    expect(w.warnings.map(formatProblem)).toEqual(['d.cfg:4:9: warning: ignoring root= and extra= in favour of cmdline= (key cmdline)']);
  });

  it('warns about HVM-only keys in a PVH guest and an HVM guest with nothing to boot', () => {
    expect(warnings('name="a"\ntype="pvh"\nkernel="/k"\nnographic=1\n')).toEqual([
      'd.cfg:4:11: warning: nographic= applies to HVM guests only; xl ignores it for PVH (key nographic)',
    ]);
    expect(warnings('name="a"\ntype="hvm"\n')).toEqual(['d.cfg: warning: no kernel= and no disk=: the HVM guest has nothing to boot']);
  });

  it('applies `xl create` key=value overrides after the file, naming them "command line"', () => {
    const c = cfg(fixture('hermit.cfg'), ['memory=1024', 'name="hermit2"', 'serial+=[ "pty" ]']);
    expect([c.memoryMiB, c.name]).toEqual([1024, 'hermit2']);
    expect(c.serial).toEqual([{ kind: 'file', path: '/tmp/hermit.log' }, { kind: 'pty' }]);
    expect(errors(fixture('hermit.cfg'), ['vcpus=2', 'name=hermit2'])).toEqual([
      'command line:2:6: expected a value: a "quoted string", a number or a [list]; the bare word `hermit2\' must be quoted, e.g. "hermit2" (key name)',
    ]);
    expect(errors(fixture('hermit.cfg'), ['cap=999'])).toEqual([
      'command line:1:5: Cpu cap out of range, valid range is from 0 to 200 for specified number of vcpus (key cap)',
    ]);
  });

  it('reports every problem of a file at once, nothing half-read', () => {
    const text = 'name = "a"\ntype = "hvm"\nmemory = 0\ncpu_weight = 70000\nboot = "q"\non_crash = "x"\ndisk = [ "nonsense" ]\n';
    expect(errors(text).map((e) => e.split(' ')[0])).toEqual(['d.cfg:3:10:', 'd.cfg:4:14:', 'd.cfg:5:8:', 'd.cfg:6:12:', 'd.cfg:7:10:']);
  });
});
