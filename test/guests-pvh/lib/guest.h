/*
 * The Domus PVH test guests' small kernel library, written against Xen's public headers
 * (xen/include/public, from Debian libxen-dev): hypercalls through the hypercall page, the
 * shared_info page and event channels with a vector upcall, the PV console ring, xenstore,
 * grant tables, time, and the PASS/FAIL reporting of the checks.
 */
#ifndef DOMUS_PVH_GUEST_H
#define DOMUS_PVH_GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

/* Barriers io/ring.h's macros expand to. */
#define xen_mb() mb()
#define xen_rmb() barrier()
#define xen_wmb() barrier()

#define PAGE_SIZE 4096
#define UPCALL_VECTOR 0x20
#define MAX_PORTS 1024

/* ---- entry state (start.S) */
extern struct hvm_start_info *boot_start_info;
extern uint32_t boot_eflags, boot_cr0, boot_cr4;
extern char stack0[], stack1[];
void ap_start(void);

/* ---- low level */
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("lock; addl $0,0(%%esp)" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline void wrmsr(uint32_t msr, uint64_t v) { __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *cmdline_arg(const char *key); /* value of key=... in the command line, or 0 */
unsigned long parse_ulong(const char *s);

/* ---- hypercalls */
extern char hypercall_page[PAGE_SIZE];
long hypercall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
long hypercall_vmcall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3);
long hypercall_vmmcall(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3);
#define HYPERVISOR_xen_version(c, a) hypercall(__HYPERVISOR_xen_version, (c), (unsigned long)(a), 0, 0, 0)
#define HYPERVISOR_memory_op(c, a) hypercall(__HYPERVISOR_memory_op, (c), (unsigned long)(a), 0, 0, 0)
#define HYPERVISOR_hvm_op(c, a) hypercall(__HYPERVISOR_hvm_op, (c), (unsigned long)(a), 0, 0, 0)
#define HYPERVISOR_event_channel_op(c, a) hypercall(__HYPERVISOR_event_channel_op, (c), (unsigned long)(a), 0, 0, 0)
#define HYPERVISOR_sched_op(c, a) hypercall(__HYPERVISOR_sched_op, (c), (unsigned long)(a), 0, 0, 0)
#define HYPERVISOR_vcpu_op(c, v, a) hypercall(__HYPERVISOR_vcpu_op, (c), (v), (unsigned long)(a), 0, 0)
#define HYPERVISOR_grant_table_op(c, a, n) hypercall(__HYPERVISOR_grant_table_op, (c), (unsigned long)(a), (n), 0, 0)
#define HYPERVISOR_console_io(c, n, b) hypercall(__HYPERVISOR_console_io, (c), (n), (unsigned long)(b), 0, 0)
long HYPERVISOR_set_timer_op(uint64_t deadline);
void shutdown(unsigned reason) __attribute__((noreturn));

/* ---- guest services (xen.c) */
extern uint32_t xen_cpuid_base;
extern domid_t self_domid;
extern struct shared_info *shared;
extern struct vcpu_info *vcpu_infos[2]; /* where each VCPU's vcpu_info is (shared_info or registered) */
void guest_init(void);                 /* hypercall page, IDT, upcall vector, shared_info, console */
long hvm_get_param(uint32_t index, uint64_t *value);
long hvm_set_param(uint32_t index, uint64_t value);
uint64_t system_time(void);            /* ns, from vcpu_time_info + RDTSC */
void set_upcall_handler(evtchn_port_t port, void (*fn)(evtchn_port_t));
extern volatile uint32_t port_hits[MAX_PORTS];
int wait_port(evtchn_port_t port, uint64_t timeout_ns); /* sti;hlt until the port fired; 0 on timeout */
void mask_port(evtchn_port_t port);
void unmask_port(evtchn_port_t port);
long notify_port(evtchn_port_t port);
long bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
extern volatile uint32_t upcalls[2];
extern evtchn_port_t timer_port;       /* VIRQ_TIMER of VCPU 0, bound by guest_init */

/* ---- console (PV ring, console_io for early lines) */
void early_print(const char *s);
void console_write(const char *s, size_t n);
void printf(const char *fmt, ...);

/* ---- checks */
void check(const char *name, int ok, const char *fmt, ...);
#define CHECK(name, cond) check((name), (cond), "%s", #cond)
#define CHECK_EQ(name, got, want) do { long long g__ = (long long)(got), w__ = (long long)(want); \
    check((name), g__ == w__, "%s = %lld, expected %lld", #got, g__, w__); } while (0)
void done(const char *guest) __attribute__((noreturn)); /* prints DONE, then SCHEDOP_shutdown(poweroff) */
extern unsigned checks_passed, checks_failed;

/* ---- xenstore (xs.c) */
#define XS_MAX 4096
int xs_request(uint32_t type, uint32_t tx, const char *const *parts, const uint32_t *lens, int n, char *reply, uint32_t *len);
int xs_read(const char *path, char *value, uint32_t max); /* value NUL-terminated; returns 0 or -XEN_Exxx */
int xs_write(const char *path, const char *value);
int xs_rm(const char *path);
int xs_watch(const char *path, const char *token);
int xs_set_perms(const char *path, const char *owner, const char *reader); /* e.g. "n1", "r2" */
int xs_wait_value(const char *path, const char *want, uint64_t timeout_ns); /* watch until path == want */
int xs_next_event(char *path, uint32_t max, uint64_t timeout_ns); /* 1 if one arrived */
int xs_errno(const char *name);
void xs_init(void);

/* ---- grant table (grant.c) */
extern grant_entry_v1_t *grant_table;
void grant_init(unsigned long gfn); /* maps grant frame 0 at gfn */
void grant_access(grant_ref_t ref, domid_t to, void *page, int readonly);
void grant_end(grant_ref_t ref);

#endif
