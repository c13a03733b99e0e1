/*
 * The basic PVH guest: checks every Xen interface a single domain can exercise on its own, in
 * boot order - start state and hvm_start_info, CPUID, the hypercall page, xen_version, HVM
 * parameters, memory_op (reservations, memory map, ballooning), shared_info time and wall clock,
 * event channels (IPI, loopback interdomain, VIRQ_TIMER, masks, poll), the timers, grant tables,
 * xenstore (read/write/rm/directory/watch/transactions/permissions), error numbers, hypercall
 * arguments behind paging - then waits for control/shutdown like Mini-OS and shuts down with the
 * reason written there.
 */
#include "guest.h"

static char page_a[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static char page_b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static char balloon[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static uint32_t pgdir[1024] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static uint32_t pgtab[1024] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
/** A guest frame beyond RAM for the grant table (RAM is far smaller than 1 GiB in the tests). */
#define GRANT_GFN 0x40000
/** Where the paging test maps page_a. */
#define ALIAS_VA 0x80000000u

static void start_state(void) {
  struct hvm_start_info *si = boot_start_info;
  CHECK_EQ("entry-eflags-if-clear", boot_eflags & 0x200, 0);
  CHECK_EQ("entry-cr0", boot_cr0, 0x11);
  CHECK_EQ("entry-cr4", boot_cr4, 0);
  CHECK_EQ("start-info-magic", si->magic, XEN_HVM_START_MAGIC_VALUE);
  CHECK_EQ("start-info-version", si->version, 1);
  const char *tag = cmdline_arg("tag");
  CHECK("start-info-cmdline", tag && !strncmp(tag, "basic-cmdline", 13));
  struct hvm_memmap_table_entry *mm = (struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
  CHECK("start-info-memmap", si->memmap_entries >= 2 && mm[0].addr == 0 && mm[0].type == XEN_HVM_MEMMAP_TYPE_RAM &&
                                 mm[1].addr == 0xfeff8000ull && mm[1].size == 0x8000 && mm[1].type == XEN_HVM_MEMMAP_TYPE_RESERVED);
  CHECK_EQ("start-info-modules", si->nr_modules, 1);
  if (si->nr_modules == 1) {
    struct hvm_modlist_entry *m = (struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
    const char *data = (const char *)(uintptr_t)m->paddr;
    const char *mc = (const char *)(uintptr_t)m->cmdline_paddr;
    CHECK("start-info-module-data", m->size == 13 && !memcmp(data, "hello, module", 13) && (m->paddr & 0xfff) == 0);
    CHECK("start-info-module-cmdline", mc && !strcmp(mc, "initrd-args"));
  }
}

static void cpuid_and_page(void) {
  uint32_t r[4];
  cpuid(0x40000000, 0, r);
  CHECK("cpuid-signature", r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX && r[3] == XEN_CPUID_SIGNATURE_EDX);
  CHECK("cpuid-max-leaf", r[0] >= 0x40000004);
  cpuid(0x40000001, 0, r);
  CHECK_EQ("cpuid-version", r[0], (4 << 16) | 17);
  cpuid(0x40000002, 0, r);
  CHECK("cpuid-hypercall-msr", r[0] == 1 && r[1] == 0x40000000);
  cpuid(0x40000004, 0, r);
  CHECK("cpuid-hvm-leaf", (r[0] & (XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT)) && r[1] == 0 && r[2] == self_domid);
  cpuid(0x40000003, 1, r);
  CHECK("cpuid-time-leaf", r[2] == 0x80000000u && r[3] == 1);
  const unsigned char *p = (const unsigned char *)hypercall_page;
  CHECK("hypercall-page-stub", p[17 * 32] == 0xb8 && p[17 * 32 + 1] == 17 && p[17 * 32 + 5] == 0x0f && p[17 * 32 + 6] == 0x01 &&
                                   (p[17 * 32 + 7] == 0xc1 || p[17 * 32 + 7] == 0xd9) && p[17 * 32 + 8] == 0xc3);
  CHECK("hypercall-page-iret-ud2", p[23 * 32] == 0x0f && p[23 * 32 + 1] == 0x0b);
  CHECK_EQ("vmcall-direct", hypercall_vmcall(__HYPERVISOR_xen_version, XENVER_version, 0, 0), (4 << 16) | 17);
  CHECK_EQ("vmmcall-direct", hypercall_vmmcall(__HYPERVISOR_xen_version, XENVER_version, 0, 0), (4 << 16) | 17);
}

static void version_and_params(void) {
  CHECK_EQ("xen-version", HYPERVISOR_xen_version(XENVER_version, 0), (4 << 16) | 17);
  CHECK_EQ("xen-pagesize", HYPERVISOR_xen_version(XENVER_pagesize, 0), 4096);
  struct xen_feature_info fi = { .submap_idx = 0 };
  CHECK_EQ("xen-get-features", HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
  CHECK("xen-features-pvh", (fi.submap & (1u << XENFEAT_auto_translated_physmap)) && (fi.submap & (1u << XENFEAT_hvm_callback_vector)));
  fi.submap_idx = 1;
  CHECK_EQ("xen-features-submap-1", HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL);
  char extra[16];
  CHECK("xen-extraversion", HYPERVISOR_xen_version(XENVER_extraversion, extra) == 0 && extra[0] == '.');
  uint64_t v;
  CHECK("hvm-store-pfn", hvm_get_param(HVM_PARAM_STORE_PFN, &v) == 0 && v == 0xfeffc);
  CHECK("hvm-console-pfn", hvm_get_param(HVM_PARAM_CONSOLE_PFN, &v) == 0 && v == 0xfefff);
  CHECK("hvm-store-evtchn", hvm_get_param(HVM_PARAM_STORE_EVTCHN, &v) == 0 && v != 0);
  CHECK("hvm-callback-readback", hvm_get_param(HVM_PARAM_CALLBACK_IRQ, &v) == 0 && v == (((uint64_t)2 << 56) | UPCALL_VECTOR));
  CHECK_EQ("hvm-get-forbidden", hvm_get_param(HVM_PARAM_IOREQ_PFN, &v), -XEN_EPERM);
  CHECK_EQ("hvm-get-unknown", hvm_get_param(999, &v), -XEN_EINVAL);
  CHECK_EQ("hvm-set-forbidden", hvm_set_param(HVM_PARAM_STORE_PFN, 1), -XEN_EPERM);
  struct xen_hvm_param p = { .domid = 12345, .index = HVM_PARAM_STORE_PFN };
  CHECK_EQ("hvm-other-domain", HYPERVISOR_hvm_op(HVMOP_get_param, &p), -XEN_ESRCH);
}

static void memory(void) {
  domid_t self = DOMID_SELF;
  long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
  long ram = (long)(boot_start_info->memmap_paddr ? ((struct hvm_memmap_table_entry *)(uintptr_t)boot_start_info->memmap_paddr)[0].size >> 12 : 0);
  /* RAM + the 8 special pages - the RAM page that shared_info replaced (freed, as in Xen). */
  CHECK_EQ("mem-current-reservation", cur, ram + 8 - 1);
  CHECK("mem-maximum-reservation", HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self) >= cur);
  struct e820entry { uint64_t addr, size; uint32_t type; } __attribute__((packed)) map[8];
  struct xen_memory_map mm = { .nr_entries = 8 };
  set_xen_guest_handle(mm.buffer, map);
  CHECK("mem-memory-map", HYPERVISOR_memory_op(XENMEM_memory_map, &mm) == 0 && mm.nr_entries == 2 && map[0].addr == 0 &&
                              map[0].size == (uint64_t)ram << 12 && map[1].type == 2);
  /* Balloon one page out and back in. */
  balloon[0] = 0x5a;
  xen_pfn_t gfn = (uintptr_t)balloon >> 12;
  struct xen_memory_reservation r = { .nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF };
  set_xen_guest_handle(r.extent_start, &gfn);
  CHECK_EQ("mem-decrease-reservation", HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 1);
  CHECK_EQ("mem-after-decrease", HYPERVISOR_memory_op(XENMEM_current_reservation, &self), cur - 1);
  CHECK_EQ("mem-populate-physmap", HYPERVISOR_memory_op(XENMEM_populate_physmap, &r), 1);
  CHECK("mem-populated-zero", balloon[0] == 0 && HYPERVISOR_memory_op(XENMEM_current_reservation, &self) == cur);
  CHECK_EQ("mem-decrease-unpopulated", (gfn = 0xfff00, HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r)), 0);
  CHECK_EQ("mem-bad-pointer", HYPERVISOR_memory_op(XENMEM_memory_map, (void *)0xfffff000), -XEN_EFAULT);
}

static void time_checks(void) {
  struct vcpu_time_info *t = &shared->vcpu_info[0].time;
  CHECK("time-mul-shift", t->tsc_to_system_mul == 0x80000000u && t->tsc_shift == 1 && !(t->version & 1));
  uint64_t a = system_time(), b = system_time();
  uint64_t h = 0;
  HYPERVISOR_hvm_op(HVMOP_get_time, &h);
  uint64_t c = system_time();
  CHECK("time-monotonic", a <= b && b <= c && a > 0);
  check("time-matches-hvm-get-time", h >= a && h <= c + 1000000, "pv %llu..%llu hvm %llu", a, c, h);
  CHECK("time-wallclock", !(shared->wc_version & 1) && shared->wc_sec > 1600000000u);
}

static volatile uint32_t handled;
static void count_handler(evtchn_port_t p) { handled++; (void)p; }

static void events(void) {
  struct evtchn_bind_ipi ipi = { .vcpu = 0 };
  CHECK_EQ("evtchn-bind-ipi", HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
  evtchn_port_t p = ipi.port;
  set_upcall_handler(p, count_handler);
  unmask_port(p);
  uint32_t before = upcalls[0];
  sti();
  notify_port(p);
  cli();
  CHECK("evtchn-ipi-upcall", handled == 1 && upcalls[0] > before && port_hits[p] == 1);
  port_hits[p] = 0;
  mask_port(p);
  notify_port(p);
  CHECK("evtchn-masked-pending", handled == 1 && (shared->evtchn_pending[p / 32] & (1UL << (p % 32))));
  sti();
  unmask_port(p);
  cli();
  CHECK("evtchn-unmask-delivers", handled == 2);
  struct evtchn_status st = { .dom = DOMID_SELF, .port = p };
  CHECK("evtchn-status-ipi", HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0 && st.status == EVTCHNSTAT_ipi && st.vcpu == 0);
  struct evtchn_close cl = { .port = p };
  CHECK_EQ("evtchn-close", HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl), 0);
  CHECK("evtchn-status-closed", HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0 && st.status == EVTCHNSTAT_closed);
  CHECK_EQ("evtchn-send-closed", notify_port(p), -XEN_EINVAL);
  CHECK_EQ("evtchn-send-port-0", notify_port(0), -XEN_EINVAL);
  CHECK_EQ("evtchn-send-huge-port", notify_port(0x7fffffff), -XEN_EINVAL);
  evtchn_port_t tp;
  CHECK_EQ("evtchn-virq-timer-twice", bind_virq(VIRQ_TIMER, 0, &tp), -XEN_EEXIST);
  CHECK_EQ("evtchn-virq-unknown", bind_virq(99, 0, &tp), -XEN_EINVAL);
  CHECK_EQ("evtchn-virq-bad-vcpu", bind_virq(VIRQ_DEBUG, 7, &tp), -XEN_ENOENT);
  /* Loopback interdomain channel. */
  struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
  CHECK_EQ("evtchn-alloc-unbound", HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0);
  struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF, .remote_port = au.port };
  CHECK_EQ("evtchn-bind-interdomain", HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), 0);
  unmask_port(au.port);
  unmask_port(bi.local_port);
  port_hits[au.port] = 0;
  sti();
  notify_port(bi.local_port);
  cli();
  CHECK("evtchn-interdomain-send", port_hits[au.port] == 1);
  st.port = bi.local_port;
  CHECK("evtchn-status-interdomain", HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0 && st.status == EVTCHNSTAT_interdomain &&
                                         st.u.interdomain.port == au.port && st.u.interdomain.dom == self_domid);
  au.remote_dom = 0;
  au.dom = 42;
  CHECK_EQ("evtchn-alloc-other-domain", HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), -XEN_ESRCH);
  struct sched_poll poll = { .nr_ports = 1, .timeout = system_time() + 2000000 };
  set_xen_guest_handle(poll.ports, &bi.local_port);
  uint64_t t0 = system_time();
  CHECK("sched-poll-timeout", HYPERVISOR_sched_op(SCHEDOP_poll, &poll) == 0 && system_time() >= t0 + 1900000);
  mask_port(bi.local_port);
  notify_port(au.port);
  poll.timeout = 0;
  t0 = system_time();
  CHECK("sched-poll-pending", HYPERVISOR_sched_op(SCHEDOP_poll, &poll) == 0 && system_time() - t0 < 1000000);
}

/* SCHEDOP_poll on one port (interrupts off): true if it is pending afterwards; clears it. */
static int poll_pending(evtchn_port_t port, uint64_t timeout_ns) {
  struct sched_poll poll = { .nr_ports = 1, .timeout = system_time() + timeout_ns };
  set_xen_guest_handle(poll.ports, &port);
  cli();
  HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
  int pending = (shared->evtchn_pending[port / 32] >> (port % 32)) & 1;
  __atomic_and_fetch(&shared->evtchn_pending[port / 32], ~(1UL << (port % 32)), __ATOMIC_SEQ_CST);
  return pending;
}

static void timers(void) {
  uint64_t t0 = system_time();
  port_hits[timer_port] = 0;
  HYPERVISOR_set_timer_op(t0 + 1000000);
  for (;;) {
    cli();
    if (port_hits[timer_port]) break;
    safe_halt();
  }
  CHECK("timer-set-timer-op", system_time() >= t0 + 1000000);
  HYPERVISOR_set_timer_op(system_time() + 1000000);
  HYPERVISOR_set_timer_op(0);
  CHECK("timer-cancel", !poll_pending(timer_port, 3000000));
  struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = system_time() - 1000, .flags = VCPU_SSHOTTMR_future };
  CHECK_EQ("timer-singleshot-past", HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), -XEN_ETIME);
  ss.timeout_abs_ns = system_time() + 500000;
  ss.flags = 0;
  t0 = system_time();
  CHECK("timer-singleshot", HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss) == 0 && poll_pending(timer_port, 5000000) &&
                                system_time() < t0 + 5000000);
  /* SCHEDOP_block with interrupts off (the race-free idle: an event raised between arming and
   * blocking cannot be taken early and lost): the VCPU sleeps until the timer's event is raised,
   * the hypercall returns, and the upcall is taken after STI (its shadow covers the NOP). */
  /* First take the upcall the polls above left behind (they clear pending bits, not
   * upcall_pending): with it still set, SCHEDOP_block would see an event and return at once. */
  __asm__ volatile("sti; nop; cli" ::: "memory");
  port_hits[timer_port] = 0;
  t0 = system_time();
  HYPERVISOR_set_timer_op(t0 + 1000000);
  long blocked = HYPERVISOR_sched_op(SCHEDOP_block, 0);
  __asm__ volatile("sti; nop" ::: "memory");
  CHECK("sched-block", blocked == 0 && port_hits[timer_port] == 1 && system_time() >= t0 + 1000000);
  struct vcpu_set_periodic_timer pt = { .period_ns = 2000000 };
  CHECK_EQ("timer-periodic-too-short", (pt.period_ns = 1000, HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt)), -XEN_EINVAL);
  pt.period_ns = 2000000;
  HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt);
  t0 = system_time();
  int ticks = 0;
  port_hits[timer_port] = 0;
  while (ticks < 3 && system_time() < t0 + 20000000) {
    cli();
    if (port_hits[timer_port]) { port_hits[timer_port] = 0; ticks++; }
    safe_halt();
  }
  cli();
  HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);
  CHECK("timer-periodic", ticks == 3 && system_time() >= t0 + 5000000);
}

static void grants(void) {
  grant_init(GRANT_GFN);
  CHECK("gnttab-frame-mapped", grant_table[0].flags == 0 && grant_table[511].frame == 0);
  struct gnttab_query_size qs = { .dom = DOMID_SELF };
  CHECK("gnttab-query-size", HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1) == 0 && qs.status == GNTST_okay && qs.nr_frames >= 1 &&
                                 qs.max_nr_frames == 64);
  xen_pfn_t frames[2] = { 0, 0 };
  struct gnttab_setup_table su = { .dom = DOMID_SELF, .nr_frames = 2 };
  set_xen_guest_handle(su.frame_list, frames);
  CHECK("gnttab-setup-table", HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &su, 1) == 0 && su.status == GNTST_okay &&
                                  frames[0] == GRANT_GFN && frames[1] == (xen_pfn_t)~0UL);
  su.nr_frames = 65;
  CHECK("gnttab-setup-too-many", HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &su, 1) == 0 && su.status == GNTST_general_error);
  memcpy(page_a, "grant copy data", 16);
  struct gnttab_copy cp = { .len = 16, .flags = 0 };
  cp.source.u.gmfn = (uintptr_t)page_a >> 12;
  cp.source.domid = DOMID_SELF;
  cp.dest.u.gmfn = (uintptr_t)page_b >> 12;
  cp.dest.domid = DOMID_SELF;
  cp.dest.offset = 100;
  CHECK("gnttab-copy-own-frames", HYPERVISOR_grant_table_op(GNTTABOP_copy, &cp, 1) == 0 && cp.status == GNTST_okay &&
                                      !memcmp(page_b + 100, "grant copy data", 16));
  cp.dest.offset = 4090;
  CHECK("gnttab-copy-crosses-page", HYPERVISOR_grant_table_op(GNTTABOP_copy, &cp, 1) == 0 && cp.status == GNTST_bad_copy_arg);
  struct gnttab_set_version sv = { .version = 2 };
  CHECK("gnttab-set-version-2", HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1) == -XEN_EOPNOTSUPP && sv.version == 1);
  struct gnttab_map_grant_ref mg = { .host_addr = 0x50000000, .flags = GNTMAP_host_map, .ref = 9, .dom = self_domid };
  CHECK("gnttab-map-not-granted", HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &mg, 1) == 0 && mg.status == GNTST_permission_denied);
  CHECK_EQ("gnttab-bad-count", HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 2), -XEN_EINVAL);
}

static void xenstore(void) {
  char v[128];
  char want[16];
  memset(want, 0, sizeof want);
  unsigned d = self_domid, k = 0;
  char tmp[8];
  do { tmp[k++] = (char)('0' + d % 10); d /= 10; } while (d);
  for (unsigned i = 0; i < k; i++) want[i] = tmp[k - 1 - i];
  CHECK("xs-read-domid", xs_read("domid", v, sizeof v) == 0 && !strcmp(v, want));
  CHECK("xs-read-name", xs_read("name", v, sizeof v) == 0 && !strcmp(v, "pvh-basic"));
  CHECK_EQ("xs-write", xs_write("data/greeting", "hello"), 0);
  CHECK("xs-read-back", xs_read("data/greeting", v, sizeof v) == 0 && !strcmp(v, "hello"));
  const char *parts[1] = { "data" };
  uint32_t lens[1] = { 5 }, n = 0;
  char reply[256];
  CHECK("xs-directory", xs_request(XS_DIRECTORY, 0, parts, lens, 1, reply, &n) == XS_DIRECTORY && !strcmp(reply, "greeting"));
  CHECK_EQ("xs-write-readonly-node", xs_write("name", "evil"), -XEN_EACCES);
  CHECK_EQ("xs-read-other-domain", xs_read("/local/domain/0/name", v, sizeof v), -XEN_EACCES);
  CHECK_EQ("xs-bad-path", xs_read("data//x", v, sizeof v), -XEN_EINVAL);
  CHECK_EQ("xs-watch", xs_watch("data/w", "tok"), 0);
  char ev[256];
  CHECK("xs-watch-fires-once", xs_next_event(ev, sizeof ev, 1000000) && !strcmp(ev, "data/w"));
  xs_write("data/w/child", "1");
  CHECK("xs-watch-child-event", xs_next_event(ev, sizeof ev, 1000000) && !strcmp(ev, "data/w/child"));
  CHECK_EQ("xs-rm", xs_rm("data/greeting"), 0);
  CHECK_EQ("xs-read-removed", xs_read("data/greeting", v, sizeof v), -XEN_ENOENT);
  /* Transactions: commit, then a conflict. */
  const char *empty[1] = { "" };
  uint32_t one[1] = { 1 };
  CHECK("xs-transaction-start", xs_request(XS_TRANSACTION_START, 0, empty, one, 1, reply, &n) == XS_TRANSACTION_START);
  uint32_t tx = (uint32_t)parse_ulong(reply);
  const char *wparts[2] = { "data/t", "in-tx" };
  uint32_t wl[2] = { 7, 5 };
  xs_request(XS_WRITE, tx, wparts, wl, 2, reply, &n);
  CHECK_EQ("xs-transaction-isolated", xs_read("data/t", v, sizeof v), -XEN_ENOENT);
  const char *commit[1] = { "T" };
  uint32_t cl[1] = { 2 };
  CHECK("xs-transaction-commit", xs_request(XS_TRANSACTION_END, tx, commit, cl, 1, reply, &n) == XS_TRANSACTION_END &&
                                     xs_read("data/t", v, sizeof v) == 0 && !strcmp(v, "in-tx"));
  xs_request(XS_TRANSACTION_START, 0, empty, one, 1, reply, &n);
  tx = (uint32_t)parse_ulong(reply);
  xs_request(XS_READ, tx, wparts, wl, 1, reply, &n);
  xs_write("data/t", "outside");
  xs_request(XS_WRITE, tx, wparts, wl, 2, reply, &n);
  CHECK("xs-transaction-conflict", xs_request(XS_TRANSACTION_END, tx, commit, cl, 1, reply, &n) == XS_ERROR && !strcmp(reply, "EAGAIN"));
  const char *dbg[2] = { "print", "basic guest says hi" };
  uint32_t dl[2] = { 6, 20 };
  CHECK("xs-debug-print", xs_request(XS_DEBUG, 0, dbg, dl, 2, reply, &n) == XS_DEBUG);
}

/* VCPUOP_register_vcpu_info: vcpu_info moves into a page of ours, with its contents. */
static void register_vcpu_info(void) {
  static char vi_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
  struct vcpu_register_vcpu_info r = { .mfn = (uintptr_t)vi_page >> 12, .offset = 64 };
  cli();
  CHECK_EQ("vcpu-register-vcpu-info", HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), 0);
  struct vcpu_info *vi = (struct vcpu_info *)(vi_page + 64);
  CHECK("vcpu-info-moved-time", vi->time.tsc_to_system_mul == 0x80000000u && !(vi->time.version & 1));
  vcpu_infos[0] = vi;
  sti();
  struct evtchn_bind_ipi ipi = { .vcpu = 0 };
  HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi);
  unmask_port(ipi.port);
  port_hits[ipi.port] = 0;
  notify_port(ipi.port);
  CHECK("vcpu-info-moved-upcall", port_hits[ipi.port] == 1 && vi->evtchn_upcall_pending == 0);
  CHECK_EQ("vcpu-register-twice", HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_EINVAL);
  r.offset = PAGE_SIZE - 8;
  CHECK_EQ("vcpu-register-bad-offset", HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_EINVAL);
}

static void errors(void) {
  CHECK_EQ("hypercall-unknown", hypercall(99, 0, 0, 0, 0, 0), -XEN_ENOSYS);
  CHECK_EQ("hypercall-pv-only", hypercall(__HYPERVISOR_mmu_update, 0, 0, 0, 0, 0), -XEN_ENOSYS);
  CHECK_EQ("hypercall-privileged", hypercall(__HYPERVISOR_domctl, 0, 0, 0, 0, 0), -XEN_EPERM);
  CHECK_EQ("hypercall-bad-subop", HYPERVISOR_event_channel_op(77, 0), -XEN_ENOSYS);
  CHECK_EQ("hypercall-fault", HYPERVISOR_xen_version(XENVER_get_features, (void *)0xfffff000), -XEN_EFAULT);
  struct sched_shutdown bad = { .reason = 99 };
  CHECK_EQ("sched-shutdown-bad-reason", HYPERVISOR_sched_op(SCHEDOP_shutdown, &bad), -XEN_EINVAL);
  struct vcpu_set_singleshot_timer ss = { 0 };
  CHECK_EQ("vcpu-op-bad-vcpu", HYPERVISOR_vcpu_op(VCPUOP_is_up, 5, &ss), -XEN_ENOENT);
  CHECK_EQ("vcpu-op-is-up", HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, 0), 1);
  CHECK_EQ("vcpu-op-down-last", HYPERVISOR_vcpu_op(VCPUOP_down, 0, 0), -XEN_EINVAL);
}

/* Hypercall arguments are guest-virtual: map page_a at ALIAS_VA and pass the alias. */
static void paging(void) {
  for (unsigned i = 0; i < 1024; i++) pgtab[i] = 0;
  for (unsigned i = 0; i < 1024; i++) pgdir[i] = (i << 22) | 0x83; /* 4 MiB identity pages */
  pgdir[ALIAS_VA >> 22] = (uint32_t)(uintptr_t)pgtab | 0x03;
  pgtab[0] = (uint32_t)(uintptr_t)page_a | 0x03;
  __asm__ volatile("mov %0, %%cr3; mov %%cr4, %%eax; or $0x10, %%eax; mov %%eax, %%cr4; mov %%cr0, %%eax; or $0x80000000, %%eax; mov %%eax, %%cr0"
                   :: "r"(pgdir) : "eax", "memory");
  struct xen_feature_info *fi = (struct xen_feature_info *)(uintptr_t)(ALIAS_VA + 64);
  fi->submap_idx = 0;
  fi->submap = 0;
  long r = HYPERVISOR_xen_version(XENVER_get_features, fi);
  uint32_t phys_view = ((struct xen_feature_info *)(page_a + 64))->submap;
  CHECK("paging-virtual-argument", r == 0 && phys_view != 0);
  CHECK_EQ("paging-unmapped-argument", HYPERVISOR_xen_version(XENVER_get_features, (void *)(uintptr_t)(ALIAS_VA + 0x2000)), -XEN_EFAULT);
  __asm__ volatile("mov %%cr0, %%eax; and $0x7fffffff, %%eax; mov %%eax, %%cr0" ::: "eax", "memory");
}

static void wait_for_shutdown(void) {
  char v[64];
  CHECK_EQ("xs-watch-control-shutdown", xs_watch("control/shutdown", "control/shutdown"), 0);
  char ev[256];
  xs_next_event(ev, sizeof ev, 1000000);
  CHECK("xs-control-shutdown-exists", xs_read("control/shutdown", v, sizeof v) == 0 && v[0] == 0);
  printf("DONE basic pass=%u fail=%u\n", checks_passed, checks_failed);
  printf("WAITING-SHUTDOWN\n");
  for (;;) {
    if (!xs_next_event(ev, sizeof ev, 1000000000ull)) continue;
    if (xs_read("control/shutdown", v, sizeof v) || !v[0]) continue;
    xs_write("control/shutdown", "");
    printf("shutting down: %s\n", v);
    shutdown(!strcmp(v, "poweroff") ? SHUTDOWN_poweroff : !strcmp(v, "reboot") ? SHUTDOWN_reboot : SHUTDOWN_crash);
  }
}

int main(void) {
  printf("basic: PVH guest running as domain %u\n", self_domid);
  start_state();
  cpuid_and_page();
  version_and_params();
  memory();
  time_checks();
  events();
  timers();
  grants();
  xenstore();
  register_vcpu_info();
  errors();
  paging();
  wait_for_shutdown();
  return 0;
}
