/*
 * Domus demo guest: the IDT, the two 8259A PICs, and what happens on each vector.
 *
 *   vectors 0-31    CPU exceptions: report the vector, EIP and registers on the console, then stop
 *                   in cli; hlt (a fault never reboots the machine or escalates to a triple fault)
 *   vectors 32-47   IRQ 0-15 after remapping the PICs (IRQ 0 PIT, IRQ 4 COM1; the rest masked)
 *   vectors 48-254  software interrupts nobody expects: reported, then execution continues
 *   vector 255      the local APIC's spurious vector: ignored
 *
 * The 8259's INTR reaches the CPU through the local APIC's LINT0 when the APIC is enabled. A PC
 * BIOS leaves the APIC in virtual wire mode (LINT0 ExtINT, LINT1 NMI; MultiProcessor
 * Specification 1.4, 3.6.2.2), but not every firmware does, so the kernel sets that mode itself.
 *
 * References: Intel SDM Vol. 3A 6.11 (IDT gate descriptors: offset, selector, type 0xE = 32-bit
 * interrupt gate, present, DPL), 6.15 (exception list); Intel 8259A datasheet (ICW1-ICW4
 * initialisation, OCW1 mask, OCW2 non-specific EOI 0x20, OCW3 0x0B reads the in-service register:
 * a spurious IRQ 7/15 has its ISR bit clear and must not be acknowledged); Intel SDM Vol. 3A 10.4.4
 * (IA32_APIC_BASE MSR 0x1B: bit 11 enable, bits 31-12 base), 10.5.1 (LVT: delivery mode bits
 * 10-8, 111 ExtINT, 100 NMI; bit 16 mask), 10.9 (SVR at offset 0xF0: bit 8 APIC software enable,
 * bits 7-0 spurious vector).
 */
#include "kernel.h"

#define PIC1_COMMAND 0x20
#define PIC1_DATA 0x21
#define PIC2_COMMAND 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11    /* edge triggered, cascade, ICW4 follows */
#define ICW3_MASTER_SLAVE_ON_IR2 0x04
#define ICW3_SLAVE_ID 0x02
#define ICW4_8086 0x01
#define OCW2_EOI 0x20          /* non-specific end of interrupt */
#define OCW3_READ_ISR 0x0B
#define IRQ_CASCADE 2
#define IRQ_SPURIOUS_MASTER 7
#define IRQ_SPURIOUS_SLAVE 15
#define IRQ_COUNT 16
#define EXCEPTION_COUNT 32
#define VECTOR_COUNT 256
#define VECTOR_PAGE_FAULT 14
#define VECTOR_NMI 2
#define GATE_INTERRUPT_32 0x8E /* present, DPL 0, 32-bit interrupt gate */
#define KERNEL_CODE_SELECTOR 0x08
#define CPUID_1_EDX_MSR (1u << 5)
#define CPUID_1_EDX_APIC (1u << 9)
#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_ADDRESS_MASK 0xFFFFF000u
#define LAPIC_SVR 0xF0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define SVR_SOFTWARE_ENABLE 0x100
#define VECTOR_APIC_SPURIOUS 0xFF
#define LVT_EXTINT 0x700      /* delivery mode ExtINT, unmasked */
#define LVT_NMI 0x400         /* delivery mode NMI, unmasked */

struct idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type;
    uint16_t offset_high;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

extern const uint32_t interrupt_stubs[VECTOR_COUNT];
static struct idt_entry idt[VECTOR_COUNT] __attribute__((aligned(8)));
static uint8_t pic_mask_master = 0xFF, pic_mask_slave = 0xFF;
static bool reporting;

static const char *const exception_names[EXCEPTION_COUNT] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 floating-point", "#AC alignment check", "#MC machine check",
    "#XM SIMD floating-point", "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

static void pic_write_masks(void) {
    outb(PIC1_DATA, pic_mask_master);
    outb(PIC2_DATA, pic_mask_slave);
}

static void pic_init(void) {
    outb(PIC1_COMMAND, ICW1_INIT_ICW4);
    io_delay();
    outb(PIC2_COMMAND, ICW1_INIT_ICW4);
    io_delay();
    outb(PIC1_DATA, IRQ_BASE_MASTER);
    io_delay();
    outb(PIC2_DATA, IRQ_BASE_SLAVE);
    io_delay();
    outb(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IR2);
    io_delay();
    outb(PIC2_DATA, ICW3_SLAVE_ID);
    io_delay();
    outb(PIC1_DATA, ICW4_8086);
    io_delay();
    outb(PIC2_DATA, ICW4_8086);
    io_delay();
    pic_write_masks();
}

void irq_unmask(unsigned irq) {
    if (irq < 8) {
        pic_mask_master &= (uint8_t)~(1u << irq);
    } else {
        pic_mask_slave &= (uint8_t)~(1u << (irq - 8));
        pic_mask_master &= (uint8_t)~(1u << IRQ_CASCADE);
    }
    pic_write_masks();
}

static uint64_t rdmsr(uint32_t index) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
    return ((uint64_t)hi << 32) | lo;
}

/* Puts an enabled local APIC in virtual wire mode, so that the 8259's interrupts reach the CPU. */
static void apic_virtual_wire(void) {
    uint32_t r[4];
    cpuid(0, r);
    if (r[0] < 1) return;
    cpuid(1, r);
    if (!(r[3] & CPUID_1_EDX_APIC) || !(r[3] & CPUID_1_EDX_MSR)) return;
    uint32_t base = (uint32_t)rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) return; /* hardware-disabled: LINT0 is the INTR pin already */
    volatile uint32_t *apic = (volatile uint32_t *)(base & APIC_BASE_ADDRESS_MASK);
    apic[LAPIC_SVR / 4] = SVR_SOFTWARE_ENABLE | VECTOR_APIC_SPURIOUS;
    apic[LAPIC_LVT_LINT0 / 4] = LVT_EXTINT;
    apic[LAPIC_LVT_LINT1 / 4] = LVT_NMI;
}

void interrupts_init(void) {
    for (unsigned v = 0; v < VECTOR_COUNT; v++) {
        uint32_t handler = interrupt_stubs[v];
        idt[v] = (struct idt_entry){
            .offset_low = (uint16_t)handler,
            .selector = KERNEL_CODE_SELECTOR,
            .zero = 0,
            .type = GATE_INTERRUPT_32,
            .offset_high = (uint16_t)(handler >> 16),
        };
    }
    struct idt_pointer ptr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(ptr));
    pic_init();
    apic_virtual_wire();
}

void halt_forever(void) {
    for (;;) __asm__ volatile("cli; hlt");
}

static uint32_t read_cr2(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void report_exception(const struct interrupt_frame *f) {
    if (reporting) halt_forever(); /* a fault while reporting one: stop quietly */
    reporting = true;
    kprintf("\n" ANSI_RED ANSI_BOLD "*** CPU exception %u (%s) at EIP=%08x" ANSI_RESET "\n", f->vector,
            exception_names[f->vector], f->eip);
    kprintf("    CS=%04x EFLAGS=%08x error code=%08x", f->cs & 0xFFFF, f->eflags, f->error);
    if (f->vector == VECTOR_PAGE_FAULT) kprintf(" CR2=%08x", read_cr2());
    kprintf("\n    EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", f->eax, f->ebx, f->ecx, f->edx);
    kprintf("    ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", f->esi, f->edi, f->ebp, f->esp_at_pushad + 20); /* + vector, error, EIP, CS, EFLAGS */
    kprintf("*** The demo kernel has stopped (cli; hlt). Restart the domain to try again.\n");
    halt_forever();
}

/* True if the PIC really has `irq` in service (not a spurious IRQ 7 or 15). */
static bool irq_in_service(unsigned irq) {
    uint16_t port = irq < 8 ? PIC1_COMMAND : PIC2_COMMAND;
    outb(port, OCW3_READ_ISR);
    return (inb(port) & (1u << (irq & 7))) != 0;
}

static void irq_end(unsigned irq) {
    if (irq >= 8) outb(PIC2_COMMAND, OCW2_EOI);
    outb(PIC1_COMMAND, OCW2_EOI);
}

void interrupt_dispatch(struct interrupt_frame *f) {
    if (f->vector == VECTOR_NMI) {
        kprintf("\n[NMI at EIP=%08x: ignored]\n", f->eip);
        return;
    }
    if (f->vector < EXCEPTION_COUNT) report_exception(f);
    if (f->vector >= IRQ_BASE_MASTER && f->vector < IRQ_BASE_MASTER + IRQ_COUNT) {
        unsigned irq = f->vector - IRQ_BASE_MASTER;
        if (irq == IRQ_SPURIOUS_MASTER && !irq_in_service(irq)) return;
        if (irq == IRQ_SPURIOUS_SLAVE && !irq_in_service(irq)) {
            outb(PIC1_COMMAND, OCW2_EOI); /* the master saw a real cascade request */
            return;
        }
        if (irq == IRQ_PIT) timer_irq();
        else if (irq == IRQ_COM1) serial_irq();
        irq_end(irq);
        return;
    }
    if (f->vector == VECTOR_APIC_SPURIOUS) return; /* no EOI for a spurious APIC interrupt */
    kprintf("\n[unexpected interrupt vector %u at EIP=%08x]\n", f->vector, f->eip);
}
