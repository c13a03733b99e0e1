/**
 * Tunables and port sets of the pCPU worker (pcpu-main.ts): when a switch the pCPU made by itself
 * rings the hypervisor, how long it waits for a domain's description, which port writes are posted.
 */
import { uartWriteChangesLsr } from '../machine/uart-lsr-cache';

/**
 * Longest a pCPU runs past its slice end to reach the start of a published decision's window
 * (ns): the window starts 1 us after the deadline (hv-pcpu-sched.ts, NEXT_LEAD_NS).
 */
export const NEXT_REACH_NS = 20_000;
/**
 * Whether a switch made without the hypervisor (REQ_SWITCHED) rings the doorbell at once. It does
 * not: like a posted 8259 write it rings at the end of the new VCPU's first run chunk (or its first
 * exit), some 50 us later, which leaves the hypervisor 0.9 ms to replay the switch and publish the
 * next decision before the next slice end. Ringing at once measured 14.6% overhead against 3.0% at
 * load 6 (credit2, docs/performance.md): the woken hypervisor thread preempted this thread on its
 * host CPU before it had entered the next VCPU, so the switch waited for the replay after all.
 */
export const RING_SWITCHED = false;
/**
 * Whether a switch at a halt (a step of a halt chain) rings the doorbell at once. It does not: the
 * chain already says what to run when the VCPU switched to halts in turn, and the replay can wait
 * for the hypervisor's next wake-up (a timer, usually). With 50 tick domains beside a spin domain
 * (load 4) ringing at once gave 4,000 switches by the pCPU of 5,100 halts a second and the spin
 * domain 56% of the pCPU; ringing late 4,800 of 5,300 and 69% (the woken hypervisor thread competes
 * with this one for a host CPU).
 */
export const RING_HALT_SWITCHED = false;
/**
 * Instructions of the first run chunk after a take, at whose end REQ_SWITCHED rings the doorbell:
 * about 10 us compiled, 100 us interpreted (a full chunk would be 1 ms interpreted, the whole slice).
 */
export const SWITCHED_RING_INSNS = 5_000;
/** Milliseconds to wait for a domain's description before giving up on an assignment. */
export const DOMAIN_WAIT_MS = 5000;
/** Destroyed domains a pCPU remembers, so that a late assignment of one of their VCPUs is dropped at once. */
export const GONE_REMEMBERED = 256;
/** First port and count of the 16550A UARTs at COM1-COM4 (their eight registers each). */
export const UART_PORT_RANGES: readonly (readonly [number, number])[] = [[0x3f8, 8], [0x2f8, 8], [0x3e8, 8], [0x2e8, 8]];
/**
 * Ports whose writes are posted without ringing the doorbell: the master and slave 8259
 * (command 0x20/0xa0, data 0x21/0xa1: EOIs and mask changes), the POST port 0x80 (Linux's I/O
 * delay) and the UARTs' registers (a serial driver writes THR after reading LSR, so a character
 * costs one round trip instead of two). Their effects on other threads are interrupt deliveries
 * and console output, which may come a little later (at most one run chunk) without the guest
 * being able to tell: anything it reads back goes through the mailbox, after the posted writes.
 * The one read answered here, LSR, comes from a copy the hypervisor publishes
 * (machine/uart-lsr-cache.ts), so a character costs no round trip at all; FCR and MCR writes,
 * which may change LSR, are therefore not posted.
 */
export const LAZY_POST_PORTS: ReadonlySet<number> = new Set([
  0x20, 0x21, 0x80, 0xa0, 0xa1,
  ...UART_PORT_RANGES.flatMap(([base, n]) => Array.from({ length: n }, (_, i) => base + i)).filter((p) => !uartWriteChangesLsr(p)),
]);
