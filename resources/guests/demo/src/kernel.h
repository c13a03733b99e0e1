/*
 * Domus demo guest: declarations shared by every file of the kernel.
 *
 * The kernel runs in 32-bit protected mode with flat segments and no paging, on one CPU, with
 * interrupts from the 8259 PICs (PIT on IRQ 0, COM1 on IRQ 4). It never uses the FPU or SSE
 * (built with -mgeneral-regs-only), so interrupt handlers need not save any of that state.
 */
#ifndef DEMO_KERNEL_H
#define DEMO_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Port I/O and CPU instructions ---------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t value) { __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port) {
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
/* A write to the POST diagnostic port: an ~1 us delay on real ISA hardware. */
static inline void io_delay(void) { outb(0x80, 0); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/*
 * Waits for the next interrupt with interrupts enabled. STI delays interrupt recognition by one
 * instruction, so "sti; hlt" cannot lose an interrupt that arrives between the two: call it with
 * interrupts off after checking that there is nothing to do.
 */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t regs[4]) {
    __asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3]) : "a"(leaf), "c"(0));
}
static inline uint32_t read_eflags(void) {
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}
/* EFLAGS.IF: maskable interrupts enabled. */
#define EFLAGS_IF (1u << 9)

/* ---- util.c: strings, numbers, 64-bit arithmetic -------------------------------------------- */

void *memset(void *dst, int value, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
/* Copies at most size-1 bytes of src and always terminates dst. */
void strlcpy_demo(char *dst, const char *src, size_t size);
/* Parses a decimal number; false if `s` is empty, has other characters or overflows 32 bits. */
bool parse_u32(const char *s, uint32_t *out);
/* n / d and n % d for a 64-bit n and 32-bit d, with two DIV instructions (no libgcc). */
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);
/* n * num / den without overflow for num, den < 2^32 and a result below 2^64. */
uint64_t muldiv64(uint64_t n, uint32_t num, uint32_t den);

/* ---- console.c: output to COM1 and the VGA screen ------------------------------------------- */

/* ANSI SGR sequences the console uses; the VGA screen interprets them too. */
#define ANSI_RESET "\x1b[0m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RED "\x1b[31m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_CYAN "\x1b[36m"

void console_putc(char c);
void console_write(const char *s);
void kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void kvprintf(const char *fmt, va_list ap);
/* Clears both screens and homes the cursor. */
void console_clear(void);

/* ---- serial.c: the COM1 16550A ------------------------------------------------------------- */

void serial_init(void);
void serial_putc(uint8_t c);
/* Receive interrupt (IRQ 4): moves every received byte into the input queue. */
void serial_irq(void);
/* Next byte of input, or -1 if none; safe with interrupts on. */
int serial_getc(void);
bool serial_has_input(void);
/* Drops queued input (after `load` or `ticks` was stopped by a key). */
void serial_flush_input(void);

/* ---- vga.c: 80x25 colour text screen at 0xB8000 ---------------------------------------------- */

void vga_init(void);
/* One byte of the console stream: text, \n \r \b, and ANSI SGR/erase sequences. */
void vga_putc(char c);
/* Moves the hardware cursor to where output stands (after a burst of vga_putc). */
void vga_sync_cursor(void);
void vga_clear(void);

/* ---- interrupts.c: IDT, 8259 PICs, exception reports ---------------------------------------- */

/* What entry.asm's interrupt_common leaves on the stack, lowest address first. */
struct interrupt_frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_at_pushad, ebx, edx, ecx, eax; /* PUSHAD order */
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
};

/* First IDT vectors of the master and slave 8259 after remapping. */
#define IRQ_BASE_MASTER 0x20
#define IRQ_BASE_SLAVE 0x28
#define IRQ_PIT 0
#define IRQ_COM1 4

void interrupts_init(void);
void irq_unmask(unsigned irq);
void interrupt_dispatch(struct interrupt_frame *frame);
/* Stops the CPU for good with interrupts off (cli; hlt). */
void halt_forever(void) NORETURN;

/* ---- timer.c: PIT at 100 Hz, TSC calibration ------------------------------------------------ */

#define TIMER_HZ 100

void timer_init(void);
void timer_irq(void);
/* Timer interrupts since timer_init. */
uint32_t timer_ticks(void);
/* Measures the TSC against the PIT (interrupts must be on); 0 if the CPU has no TSC. */
void timer_calibrate_tsc(void);
/* TSC frequency in Hz (0 if unknown). */
uint64_t tsc_hz(void);
/* TSC value when timer_init started the PIT (the origin of both uptime clocks), as measured. */
uint64_t tsc_origin(void);
/* Microseconds between two TSC values (0 if the TSC is not calibrated). */
uint64_t tsc_to_us(uint64_t delta);
/* Milliseconds of PIT time in `n` ticks. */
uint64_t ticks_to_ms(uint32_t n);
/* Sleeps in HLT for `ticks` timer ticks; returns false early when input arrives and `stop_on_key`. */
bool sleep_ticks(uint32_t ticks, bool stop_on_key);

/* ---- rtc.c: CMOS clock ---------------------------------------------------------------------- */

struct rtc_time {
    unsigned year, month, day, hour, minute, second;
};
/* Reads the clock outside an update cycle; false if the clock never settled. */
bool rtc_read(struct rtc_time *t);

/* ---- boot-info.c: what the boot loader told us ---------------------------------------------- */

#define MMAP_MAX 32
struct mmap_range {
    uint64_t base, length;
    uint32_t type;
};
struct boot_info {
    bool multiboot;           /* EAX held the multiboot magic */
    uint32_t flags;           /* multiboot_info.flags */
    uint32_t mem_lower_kib;   /* conventional memory (flag 0) */
    uint32_t mem_upper_kib;   /* memory from 1 MiB to the first hole (flag 0) */
    char cmdline[256];        /* command line (flag 2) */
    char loader[64];          /* boot loader name (flag 9) */
    uint32_t mmap_count;      /* memory map (flag 6) */
    struct mmap_range mmap[MMAP_MAX];
    uint32_t modules_end;     /* end of the last module (flag 3), 0 if none */
};
extern struct boot_info boot;
void boot_info_capture(uint32_t magic, uint32_t info_address);
/* RAM size in MiB as the boot loader reported it (rounded to the nearest MiB). */
uint32_t boot_ram_mib(void);
/* Name of an E820 / multiboot memory type. */
const char *mmap_type_name(uint32_t type);
/* The commands after "--" on the command line (empty if none). */
const char *boot_autorun(void);

/* ---- power.c: reset and ACPI soft-off ------------------------------------------------------- */

void power_reboot(void);
void power_off(void);

/* ---- shell.c and the commands --------------------------------------------------------------- */

void shell_run(void) NORETURN;
/* Runs one command line (also used for the command-line autorun list). */
void shell_execute(char *line);
void shell_prompt(void);

void cmd_help(const char *args);
void cmd_info(const char *args);
void cmd_uptime(const char *args);
void cmd_date(const char *args);
void cmd_echo(const char *args);
void cmd_clear(const char *args);
void cmd_load(const char *args);
void cmd_bench(const char *args);
void cmd_ticks(const char *args);
void cmd_mem(const char *args);
void cmd_reboot(const char *args);
void cmd_poweroff(const char *args);
void cmd_fault(const char *args);

/* Symbols of the link script. */
extern char __kernel_start[], __kernel_end[];

/* ---- main.c --------------------------------------------------------------------------------- */

void kernel_main(uint32_t magic, uint32_t info_address) NORETURN;
/* The banner lines (CPU, memory, command line) printed at boot. */
void print_banner(void);
/* Vendor string of CPUID leaf 0 (13 bytes with NUL) and brand string of 0x80000002-4 (49 bytes). */
void cpu_vendor(char out[13]);
bool cpu_brand(char out[49]);

#endif
