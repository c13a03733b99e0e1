/**
 * `xl vcpu-set` on an HVM domain: VCPUs are plugged in and pulled out through ACPI CPU hotplug
 * (machine/acpi-cpu-hotplug.ts, the DSDT methods of firmware/tables/acpi-cpu-hotplug-aml.ts).
 *
 * Adding VCPU v: the scheduler takes it online (it waits for INIT/SIPI, like an AP at boot),
 * its bit in the present bitmap is set and GPE0 bit 2 raises the SCI; the guest's \_GPE._E02
 * sends Notify(Device Check) to processor v, the OS reads _STA and _MAT (the Local APIC entry,
 * now Enabled), adds the CPU and, when it is onlined (udev, or `echo 1 > .../cpuN/online`),
 * starts it with INIT-SIPI-SIPI.
 *
 * Removing VCPU v: its bit is cleared and the SCI raised; the guest sends itself an Eject
 * Request for processor v, takes the CPU offline (it parks in a halt loop) and runs _EJ0, which
 * writes v to the eject register; only then does the VCPU leave the scheduler (onCpuEject), so
 * the guest's CPU teardown is never cut short. A guest without ACPI hotplug support never
 * confirms and keeps the VCPU.
 *
 * Xen does the same through its device model: libxl's libxl_set_vcpuonline asks QEMU to add the
 * CPUs (QMP device_add / cpu-add), QEMU sets the bit at 0xAF00 and raises GPE 2, hvmloader's DSDT
 * notifies the guest. For fewer VCPUs, libxl with qemu-xen only rewrites cpu/N/availability in
 * xenstore, which only a guest with Xen PV CPU hotplug reads; an HVM guest keeps its CPUs.
 * qemu-xen-traditional cleared the bit and let the DSDT send the Eject Request, which is what
 * Domus does (docs/platform.md, "CPU hotplug").
 */
import { DomusError } from '../base/errors';
import type { SchedCore } from '../hv/sched/core';
import type { HvDomain } from './hv-domain';

/** What hotplugging changed, for the toolstack's log and tests. */
export interface VcpuHotplugResult {
  /** VCPUs plugged in by this call. */
  added: number[];
  /** VCPUs whose removal was requested (they leave once the guest ejects them). */
  removing: number[];
}

/**
 * Makes VCPUs 0 .. count-1 of HVM domain `d` present and the others absent. `count` has been
 * checked against maxvcpus by the caller.
 */
export function hvmSetVcpus(d: HvDomain, count: number, sched: SchedCore): VcpuHotplugResult {
  const hp = d.platform.cpuHotplug;
  if (hp === undefined) {
    throw new DomusError('domain.vcpu-hotplug', `Domain ${d.spec.name} has no ACPI platform, so its VCPUs cannot be plugged in or out; change vcpus= and start it again.`, d.spec.name);
  }
  d.onCpuEject = (v) => {
    if (!hp.isPresent(v)) sched.setVcpuOnline(d.domid, v, false);
  };
  const result: VcpuHotplugResult = { added: [], removing: [] };
  for (let v = 1; v < hp.cpus; v++) {
    const want = v < count;
    if (want && !hp.isPresent(v)) {
      // Online in the scheduler first: the guest may send INIT/SIPI as soon as it sees the CPU.
      d.deadHalt[v] = false;
      sched.setVcpuOnline(d.domid, v, true);
      hp.setPresent(v, true);
      result.added.push(v);
    } else if (!want && hp.isPresent(v)) {
      hp.setPresent(v, false);
      result.removing.push(v);
    }
  }
  // The SCI may have been raised: tick the devices at once, so a halted VCPU hears it.
  if (result.added.length + result.removing.length > 0) d.nextTick = 0;
  return result;
}
