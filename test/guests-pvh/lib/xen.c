/* The Domus PVH test guests' library: hypercalls, interrupts, events, time, console, checks. */
#include "guest.h"
#include <stdarg.h>

char hypercall_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static char shared_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
struct shared_info *shared;
uint32_t xen_cpuid_base;
domid_t self_domid;
volatile uint32_t port_hits[MAX_PORTS];
struct vcpu_info *vcpu_infos[2];
volatile uint32_t upcalls[2];
static void (*handlers[MAX_PORTS])(evtchn_port_t);
static struct xencons_interface *cons;
static evtchn_port_t cons_port;
evtchn_port_t timer_port;
unsigned checks_passed, checks_failed;

/* ---- libc bits */
void *memset(void *d, int c, size_t n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *memcpy(void *d, const void *s, size_t n) { unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d; }
int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *p = a, *q = b;
  for (; n; n--, p++, q++) if (*p != *q) return *p - *q;
  return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int strcmp(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (unsigned char)*a - (unsigned char)*b; }
int strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) { if (*a != *b) return (unsigned char)*a - (unsigned char)*b; if (!*a) return 0; }
  return 0;
}
unsigned long parse_ulong(const char *s) {
  unsigned long v = 0;
  if (s[0] == '0' && s[1] == 'x') for (s += 2; ; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
    if (d < 0) return v;
    v = v * 16 + (unsigned long)d;
  }
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned long)(*s++ - '0');
  return v;
}
const char *cmdline_arg(const char *key) {
  const char *c = (const char *)(uintptr_t)boot_start_info->cmdline_paddr;
  size_t k = strlen(key);
  if (!c) return 0;
  while (*c) {
    while (*c == ' ') c++;
    if (!strncmp(c, key, k) && c[k] == '=') return c + k + 1;
    while (*c && *c != ' ') c++;
  }
  return 0;
}

/* ---- hypercalls */
long hypercall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
  long r;
  void *fn = hypercall_page + nr * 32;
  __asm__ volatile("call *%[fn]"
                   : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
                   : [fn] "m"(fn)
                   : "memory");
  return r;
}
long hypercall_vmcall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3) {
  long r;
  __asm__ volatile("vmcall" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3) : "a"(nr) : "memory");
  return r;
}
long hypercall_vmmcall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3) {
  long r;
  __asm__ volatile("vmmcall" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3) : "a"(nr) : "memory");
  return r;
}
long HYPERVISOR_set_timer_op(uint64_t deadline) {
  return hypercall(__HYPERVISOR_set_timer_op, (uint32_t)deadline, (uint32_t)(deadline >> 32), 0, 0, 0);
}
void shutdown(unsigned reason) {
  struct sched_shutdown s = { .reason = reason };
  for (;;) HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
}
long hvm_get_param(uint32_t index, uint64_t *value) {
  struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
  long r = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
  *value = p.value;
  return r;
}
long hvm_set_param(uint32_t index, uint64_t value) {
  struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = value };
  return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

/* ---- interrupts */
struct frame { uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax, vector, error, eip, cs, eflags; };
extern const uint32_t exc_stubs[32];
extern uint64_t idt[256];
void upcall_entry(void);
static void set_gate(int vec, uint32_t handler) {
  idt[vec] = (handler & 0xffff) | ((uint64_t)0x08 << 16) | ((uint64_t)0x8e00 << 32) | ((uint64_t)(handler >> 16) << 48);
}
void exception_handler(struct frame *f) {
  printf("FAIL exception %u error 0x%x at eip 0x%x\n", f->vector, f->error, f->eip);
  early_print("exception\n");
  shutdown(SHUTDOWN_crash);
}

/* ---- events */
static evtchn_port_t word_base(unsigned w) { return w * 32; }
void evtchn_upcall(void) {
  unsigned cpu = 0;
  uint32_t id[4];
  cpuid(xen_cpuid_base + 4, 0, id);
  cpu = id[1] & 1;
  upcalls[cpu]++;
  struct vcpu_info *vi = vcpu_infos[cpu];
  vi->evtchn_upcall_pending = 0;
  barrier();
  unsigned long sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  while (sel) {
    unsigned w = (unsigned)__builtin_ctzl(sel);
    sel &= sel - 1;
    unsigned long bits = shared->evtchn_pending[w] & ~shared->evtchn_mask[w];
    while (bits) {
      unsigned b = (unsigned)__builtin_ctzl(bits);
      bits &= bits - 1;
      evtchn_port_t port = word_base(w) + b;
      __atomic_and_fetch(&shared->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
      port_hits[port]++;
      if (handlers[port]) handlers[port](port);
    }
  }
}
void set_upcall_handler(evtchn_port_t port, void (*fn)(evtchn_port_t)) { handlers[port] = fn; }
void mask_port(evtchn_port_t port) { __atomic_or_fetch(&shared->evtchn_mask[port / 32], 1UL << (port % 32), __ATOMIC_SEQ_CST); }
void unmask_port(evtchn_port_t port) {
  struct evtchn_unmask u = { .port = port };
  HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}
long notify_port(evtchn_port_t port) {
  struct evtchn_send s = { .port = port };
  return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}
long bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port) {
  struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
  long r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);
  *port = b.port;
  return r;
}
int wait_port(evtchn_port_t port, uint64_t timeout_ns) {
  uint64_t end = system_time() + timeout_ns;
  for (;;) {
    cli();
    if (port_hits[port]) {
      port_hits[port] = 0;
      sti();
      return 1;
    }
    if (system_time() >= end) {
      sti();
      return 0;
    }
    HYPERVISOR_set_timer_op(end);
    safe_halt();
  }
}

/* ---- time */
uint64_t system_time(void) {
  struct vcpu_time_info *t = &vcpu_infos[0]->time;
  uint32_t v;
  uint64_t ns;
  do {
    v = t->version;
    barrier();
    uint64_t delta = rdtsc() - t->tsc_timestamp;
    if (t->tsc_shift >= 0) delta <<= t->tsc_shift; else delta >>= -t->tsc_shift;
    uint64_t mul = t->tsc_to_system_mul;
    ns = t->system_time + (delta >> 32) * mul + (((delta & 0xffffffffu) * mul) >> 32);
    barrier();
  } while ((v & 1) || v != t->version);
  return ns;
}

/* ---- console */
void early_print(const char *s) { HYPERVISOR_console_io(CONSOLEIO_write, strlen(s), s); }
void console_write(const char *s, size_t n) {
  if (!cons) {
    HYPERVISOR_console_io(CONSOLEIO_write, n, s);
    return;
  }
  for (size_t k = 0; k < n; k++) {
    for (unsigned tries = 0; cons->out_prod - cons->out_cons >= sizeof(cons->out); tries++) {
      if (tries == 1000) {
        /* Nobody drains the ring (the guest broke it): say it on the emergency console. */
        cons = 0;
        HYPERVISOR_console_io(CONSOLEIO_write, n - k, s + k);
        return;
      }
      notify_port(cons_port);
      HYPERVISOR_sched_op(SCHEDOP_yield, 0);
    }
    cons->out[MASK_XENCONS_IDX(cons->out_prod, cons->out)] = s[k];
    barrier();
    cons->out_prod++;
  }
  mb();
  notify_port(cons_port);
}
static char *put_num(char *p, unsigned long long v, unsigned base, int width, char pad) {
  char tmp[24];
  int n = 0;
  do { tmp[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
  while (n < width) tmp[n++] = pad;
  while (n) *p++ = tmp[--n];
  return p;
}
static void vformat(char *out, size_t max, const char *fmt, va_list ap) {
  char *p = out, *end = out + max - 24;
  for (; *fmt && p < end; fmt++) {
    if (*fmt != '%') { *p++ = *fmt; continue; }
    fmt++;
    char pad = ' ';
    int width = 0, lng = 0;
    if (*fmt == '0') { pad = '0'; fmt++; }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') { lng++; fmt++; }
    switch (*fmt) {
      case 'd': {
        long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
        if (v < 0) { *p++ = '-'; v = -v; }
        p = put_num(p, (unsigned long long)v, 10, width, pad);
        break;
      }
      case 'u': p = put_num(p, lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, width, pad); break;
      case 'x': p = put_num(p, lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, width, pad); break;
      case 'c': *p++ = (char)va_arg(ap, int); break;
      case 's': { const char *s = va_arg(ap, const char *); if (!s) s = "(null)"; while (*s && p < end) *p++ = *s++; break; }
      default: *p++ = *fmt; break;
    }
  }
  *p = 0;
}
void printf(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vformat(buf, sizeof buf, fmt, ap);
  va_end(ap);
  console_write(buf, strlen(buf));
}
void check(const char *name, int ok, const char *fmt, ...) {
  char why[256];
  va_list ap;
  va_start(ap, fmt);
  vformat(why, sizeof why, fmt, ap);
  va_end(ap);
  if (ok) { checks_passed++; printf("PASS %s\n", name); }
  else { checks_failed++; printf("FAIL %s: %s\n", name, why); }
}
void done(const char *guest) {
  printf("DONE %s pass=%u fail=%u\n", guest, checks_passed, checks_failed);
  shutdown(SHUTDOWN_poweroff);
}

/* Secondary VCPUs of guests that do not start any. */
__attribute__((weak)) void ap_main(unsigned id) {
  (void)id;
  for (;;) __asm__ volatile("cli; hlt");
}

/* ---- start of day */
void guest_init(void) {
  uint32_t r[4];
  for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
    cpuid(base, 0, r);
    if (r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX && r[3] == XEN_CPUID_SIGNATURE_EDX && r[0] - base >= 2) {
      xen_cpuid_base = base;
      break;
    }
  }
  if (!xen_cpuid_base) for (;;) __asm__ volatile("cli; hlt");
  cpuid(xen_cpuid_base + 2, 0, r);
  wrmsr(r[1], (uint32_t)(uintptr_t)hypercall_page);
  cpuid(xen_cpuid_base + 4, 0, r);
  self_domid = (domid_t)r[2];
  early_print("Bootstrapping...\n");
  for (int v = 0; v < 32; v++) set_gate(v, exc_stubs[v]);
  set_gate(UPCALL_VECTOR, (uint32_t)(uintptr_t)upcall_entry);
  struct xen_add_to_physmap xatp = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0,
                                     .gpfn = (uintptr_t)shared_page >> 12 };
  if (HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp)) shutdown(SHUTDOWN_crash);
  shared = (struct shared_info *)shared_page;
  vcpu_infos[0] = &shared->vcpu_info[0];
  vcpu_infos[1] = &shared->vcpu_info[1];
  for (unsigned w = 0; w < sizeof(shared->evtchn_mask) / sizeof(shared->evtchn_mask[0]); w++) shared->evtchn_mask[w] = ~0UL;
  hvm_set_param(HVM_PARAM_CALLBACK_IRQ, ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | UPCALL_VECTOR);
  uint64_t v;
  hvm_get_param(HVM_PARAM_CONSOLE_PFN, &v);
  cons = (struct xencons_interface *)(uintptr_t)(v << 12);
  hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &v);
  cons_port = (evtchn_port_t)v;
  unmask_port(cons_port);
  evtchn_port_t timer;
  if (bind_virq(VIRQ_TIMER, 0, &timer) == 0) unmask_port(timer);
  timer_port = timer;
  xs_init();
  /* From here on interrupts are on, as in any kernel after start of day. */
  sti();
}
