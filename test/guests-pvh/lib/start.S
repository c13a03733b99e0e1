/*
 * Entry of the Domus PVH test guests: the XEN_ELFNOTE_PHYS32_ENTRY note, the PVH entry (32-bit
 * protected mode, paging off, EBX = hvm_start_info), the secondary-VCPU entry used with
 * VCPUOP_initialise, a flat GDT and the interrupt entry stubs (exceptions 0-31 and the event
 * channel upcall vector).
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define STACK_BYTES 16384

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 4				/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long _start
	.balign 4

	.text
	.globl _start
_start:
	movl %ebx, boot_start_info
	movl $stack0 + STACK_BYTES, %esp
	pushfl
	popl boot_eflags
	movl %cr0, %eax
	movl %eax, boot_cr0
	movl %cr4, %eax
	movl %eax, boot_cr4
	call load_segments
	call guest_init
	call main
1:	cli
	hlt
	jmp 1b

/* Secondary VCPUs start here (VCPUOP_initialise: ESP set by the boot VCPU, EBX = VCPU id). */
	.globl ap_start
ap_start:
	call load_segments
	pushl %ebx
	call ap_main
2:	cli
	hlt
	jmp 2b

load_segments:
	lgdt gdt_desc
	ljmp $KERNEL_CS, $3f
3:	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	lidt idt_desc
	ret

/* Exception stubs: push an error code if the CPU did not, then the vector. */
.macro EXC n, err
exc\n:
	.if \err == 0
	pushl $0
	.endif
	pushl $\n
	jmp exc_common
.endm
EXC 0,0
EXC 1,0
EXC 2,0
EXC 3,0
EXC 4,0
EXC 5,0
EXC 6,0
EXC 7,0
EXC 8,1
EXC 9,0
EXC 10,1
EXC 11,1
EXC 12,1
EXC 13,1
EXC 14,1
EXC 15,0
EXC 16,0
EXC 17,1
EXC 18,0
EXC 19,0
EXC 20,0
EXC 21,0
EXC 22,0
EXC 23,0
EXC 24,0
EXC 25,0
EXC 26,0
EXC 27,0
EXC 28,0
EXC 29,0
EXC 30,0
EXC 31,0

exc_common:
	pushal
	pushl %esp
	call exception_handler
4:	cli
	hlt
	jmp 4b

	.globl upcall_entry
upcall_entry:
	pushal
	cld
	call evtchn_upcall
	popal
	iret

	.section .rodata
	.balign 4
	.globl exc_stubs
exc_stubs:
	.long exc0, exc1, exc2, exc3, exc4, exc5, exc6, exc7, exc8, exc9, exc10, exc11, exc12, exc13, exc14, exc15
	.long exc16, exc17, exc18, exc19, exc20, exc21, exc22, exc23, exc24, exc25, exc26, exc27, exc28, exc29, exc30, exc31

	.data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat 32-bit data */
gdt_end:
	.balign 4
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.word 0
	.globl idt_desc
idt_desc:
	.word 256 * 8 - 1
	.long idt

	.bss
	.balign 4096
	.globl idt
idt:
	.space 256 * 8
	.balign 16
	.globl stack0, stack1
stack0:
	.space STACK_BYTES
stack1:
	.space STACK_BYTES
	.balign 4
	.globl boot_start_info, boot_eflags, boot_cr0, boot_cr4
boot_start_info: .long 0
boot_eflags: .long 0
boot_cr0: .long 0
boot_cr4: .long 0
