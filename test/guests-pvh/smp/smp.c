/*
 * A PVH guest with 2 VCPUs: the boot VCPU brings up VCPU 1 with VCPUOP_initialise
 * (vcpu_hvm_context, 32-bit mode) and VCPUOP_up; both count on a shared counter with locked
 * increments, ping-pong through IPI event channels bound to each VCPU, take their own timer
 * interrupts, and VCPU 1 finally takes itself down with VCPUOP_down.
 */
#include "guest.h"

#define ROUNDS 10
#define COUNT 20000

static volatile uint32_t counter;
static volatile uint32_t ap_ready, ap_done, ap_vcpu_id, ap_timer_ok, ap_upcalls;
static volatile evtchn_port_t to_boot, to_ap;

static void lock_inc(volatile uint32_t *p) { __asm__ volatile("lock incl %0" : "+m"(*p) :: "memory"); }

/*
 * What the event machinery looked like when a ping-pong wait timed out (for the rare lost-event
 * failure after a restore, docs/xen-abi.md "Save and restore"): both ports, word 0 of the pending
 * and mask bitmaps, each VCPU's selector, upcall_pending and upcall_mask, upcall counts.
 */
static void ping_report(const char *who, int round) {
  printf("ping-pong timeout: %s round %d to_boot=%u hits=%u to_ap=%u hits=%u pending0=0x%x mask0=0x%x", who, round, to_boot,
         port_hits[to_boot], to_ap, port_hits[to_ap], (unsigned)shared->evtchn_pending[0], (unsigned)shared->evtchn_mask[0]);
  for (int v = 0; v < 2; v++) {
    struct vcpu_info *vi = vcpu_infos[v];
    printf(" v%d sel=0x%x up=%u umask=%u upcalls=%u", v, (unsigned)vi->evtchn_pending_sel, vi->evtchn_upcall_pending, vi->evtchn_upcall_mask, upcalls[v]);
  }
  printf("\n");
}

static uint32_t vcpu_id(void) {
  uint32_t r[4];
  cpuid(xen_cpuid_base + 4, 0, r);
  return r[1];
}

void ap_main(unsigned id) {
  ap_vcpu_id = vcpu_id();
  (void)id;
  evtchn_port_t timer;
  bind_virq(VIRQ_TIMER, 1, &timer);
  unmask_port(timer);
  sti();
  ap_ready = 1;
  for (unsigned k = 0; k < COUNT; k++) lock_inc(&counter);
  /* Own timer: halt until VIRQ_TIMER of VCPU 1 fires. */
  uint64_t t0 = system_time();
  HYPERVISOR_set_timer_op(t0 + 1000000);
  for (;;) {
    cli();
    if (port_hits[timer]) break;
    safe_halt();
  }
  sti();
  ap_timer_ok = system_time() >= t0 + 1000000;
  for (int r = 0; r < ROUNDS; r++) {
    if (!wait_port(to_ap, 1000000000ull)) {
      ping_report("ap", r);
      break;
    }
    notify_port(to_boot);
  }
  ap_upcalls = upcalls[1];
  ap_done = 1;
  HYPERVISOR_vcpu_op(VCPUOP_down, 1, 0);
  for (;;) safe_halt();
}

static void context(vcpu_hvm_context_t *c, uint16_t cs_ar) {
  memset(c, 0, sizeof *c);
  c->mode = VCPU_HVM_MODE_32B;
  struct vcpu_hvm_x86_32 *r = &c->cpu_regs.x86_32;
  r->eip = (uint32_t)(uintptr_t)ap_start;
  r->esp = (uint32_t)(uintptr_t)(stack1 + 16384);
  r->ebx = 1;
  r->eflags = 0x2;
  r->cr0 = 0x11;
  r->cs_limit = r->ds_limit = r->ss_limit = r->es_limit = 0xffffffff;
  r->cs_ar = cs_ar;
  r->ds_ar = r->ss_ar = r->es_ar = 0xc93;
  r->tr_limit = 0x67;
  r->tr_ar = 0x8b;
}

int main(void) {
  vcpu_hvm_context_t ctx;
  printf("smp: domain %u\n", self_domid);
  CHECK_EQ("smp-ap-starts-down", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 0);
  CHECK_EQ("smp-up-uninitialised", HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), -XEN_EINVAL);
  context(&ctx, 0xc93);
  CHECK_EQ("smp-initialise-bad-cs", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EINVAL);
  context(&ctx, 0xc9b);
  ctx.mode = VCPU_HVM_MODE_64B;
  CHECK_EQ("smp-initialise-64bit-refused", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EINVAL);
  context(&ctx, 0xc9b);
  CHECK_EQ("smp-initialise", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
  CHECK_EQ("smp-initialise-twice", HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST);
  CHECK_EQ("smp-initialise-no-vcpu", HYPERVISOR_vcpu_op(VCPUOP_initialise, 2, &ctx), -XEN_ENOENT);
  struct evtchn_bind_ipi a = { .vcpu = 0 }, b = { .vcpu = 1 };
  HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &a);
  HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);
  to_boot = a.port;
  to_ap = b.port;
  unmask_port(to_boot);
  unmask_port(to_ap);
  CHECK_EQ("smp-up", HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), 0);
  CHECK_EQ("smp-is-up", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 1);
  struct vcpu_runstate_info rs;
  CHECK("smp-runstate", HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs) == 0 && rs.state != RUNSTATE_offline);
  while (!ap_ready) HYPERVISOR_sched_op(SCHEDOP_yield, 0);
  CHECK_EQ("smp-ap-vcpu-id", ap_vcpu_id, 1);
  for (unsigned k = 0; k < COUNT; k++) lock_inc(&counter);
  int pongs = 0;
  for (int r = 0; r < ROUNDS; r++) {
    notify_port(to_ap);
    if (wait_port(to_boot, 1000000000ull)) pongs++;
    else ping_report("boot", r);
  }
  CHECK_EQ("smp-ipi-ping-pong", pongs, ROUNDS);
  uint64_t t0 = system_time();
  while (!ap_done && system_time() < t0 + 1000000000ull) HYPERVISOR_sched_op(SCHEDOP_yield, 0);
  CHECK_EQ("smp-locked-counter", counter, 2 * COUNT);
  CHECK("smp-ap-timer", ap_timer_ok);
  CHECK("smp-ap-upcalls", ap_upcalls >= ROUNDS);
  t0 = system_time();
  while (HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0) == 1 && system_time() < t0 + 1000000000ull) HYPERVISOR_sched_op(SCHEDOP_yield, 0);
  CHECK_EQ("smp-ap-down", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, 0), 0);
  CHECK_EQ("smp-down-last", HYPERVISOR_vcpu_op(VCPUOP_down, 0, 0), -XEN_EINVAL);
  CHECK_EQ("smp-up-again", HYPERVISOR_vcpu_op(VCPUOP_up, 1, 0), 0);
  done("smp");
}
