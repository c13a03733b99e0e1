/**
 * The shared control block between the hypervisor thread and the pCPU worker threads: one
 * Int32Array in a SharedArrayBuffer holding the hypervisor's doorbell and, per pCPU, an attention
 * word, a wake word, an exit mailbox and statistics.
 *
 * Concurrency. Every word has one writer side:
 *  - DOORBELL: anyone adds 1 and notifies to wake the hypervisor thread, which waits on it.
 *  - ATTN (per pCPU): the hypervisor sets bits (Atomics.or), the pCPU clears them (Atomics.and).
 *  - WAKE (per pCPU): the hypervisor adds 1 and notifies when an idle pCPU has work.
 *  - REQ/ARGS: written by the pCPU, then REQ is published with Atomics.store; the hypervisor
 *    reads them, writes RES_*, sets REQ to 0 and bumps RESP (Atomics.add + notify). The pCPU waits
 *    on RESP changing. One outstanding request per pCPU.
 *  - LAZY_HALT (per pCPU): the hypervisor stores 1 before it sleeps, 0 when it wakes.
 *  - POST ring (per pCPU): requests the pCPU does not wait for (an OUT to the 8259, a HLT). The
 *    pCPU writes an entry, then publishes P_POST_HEAD with Atomics.store; the hypervisor serves
 *    entries in order and publishes P_POST_TAIL (Atomics.store + notify). The hypervisor drains a
 *    pCPU's ring before it serves that pCPU's mailbox, so a request the pCPU waits for always
 *    sees the effects of the posted ones before it.
 *  - NEXT (per pCPU): the published next decision (see P_NEXT_SEQ). The hypervisor writes the
 *    fields while P_NEXT_SEQ is 0, then publishes a fresh sequence number with Atomics.store; the
 *    pCPU takes it, and the hypervisor revokes it, with Atomics.compareExchange(seq -> 0): exactly
 *    one side wins. The fields are stable while the sequence number is live.
 *  - TIMER (per pCPU): the timer offer (see P_TIMER), published like NEXT (fields first, then
 *    P_TSEQ with Atomics.store); the pCPU takes edges with compareExchange(word -> word + 1), the
 *    hypervisor ends the offer with Atomics.exchange(0), which tells it how many were taken.
 *  - stats words: written by the pCPU only.
 */

/** Words before the first per-pCPU slot. */
const HEADER_WORDS = 16;
/**
 * Words per pCPU slot: 64 words of fields, the posted-request ring, the chain of halt decisions,
 * the timer offer (P_TIMER), the edge publication (P_EDGES: header, table, model). Even, so that
 * the model's Float64 words of every slot are 8-byte aligned.
 */
export const PCPU_STRIDE = 64 + 1024 * 4 + 7 * 8 + 16 + 16 + 64 * 8 + 2 * 594;

export const CB_DOORBELL = 0;
/** Set to 1 when the engine shuts down: every thread leaves its loop. */
export const CB_SHUTDOWN = 1;
/** Messages the host posted to the hypervisor thread (it polls its port only when this moves). */
export const CB_HOST_MSGS = 2;
/** Times the hypervisor thread woke from its sleep on the doorbell (statistic, a count). */
export const CB_HV_WAKES = 3;

// Per-pCPU slot offsets.
export const P_ATTN = 0;
export const P_WAKE = 1;
export const P_REQ = 2;
export const P_ARG0 = 3;
export const P_ARG1 = 4;
export const P_ARG2 = 5;
export const P_ARG3 = 6;
export const P_RESP = 10;
export const P_RES0 = 11;
export const P_RES1 = 12;
export const P_RES2 = 13;
/** Response status: 0 = carry on, RES_STOP = stop running this VCPU (domain paused/destroyed). */
export const P_RES_STATUS = 14;
/** Nanoseconds this pCPU spent running guest code (float64 in two words, see stats helpers). */
export const P_BUSY_NS = 16;
/** Instructions this pCPU retired (float64). */
export const P_INSNS = 18;
/** The (domid, vcpu) the pCPU is running now, or -1. */
export const P_CUR_DOM = 20;
export const P_CUR_VCPU = 21;
/**
 * Direct assignment to an idle pCPU: the hypervisor thread decides for a pCPU that sleeps
 * (after a tickle), writes the VCPU here and bumps P_ASSIGN_SEQ before waking it, saving the
 * pCPU a scheduling round trip. P_ASSIGN_DOM is -1 for "idle".
 */
export const P_ASSIGN_DOM = 22;
export const P_ASSIGN_VCPU = 23;
export const P_ASSIGN_SEQ = 24;
/**
 * Lazy halt allowed (1) or not (0), written by the hypervisor: 1 while it sleeps and nothing
 * waits for this pCPU, so a VCPU that halts with interrupts enabled posts its HLT without ringing
 * the doorbell; the hypervisor serves it when it next wakes (a timer is due by then). The pCPU
 * reads it after posting the HLT, the hypervisor reads the rings after setting it, so one of the
 * two always sees the other.
 */
export const P_LAZY_HALT = 25;
/**
 * End of the current slice in engine ns (float64, written by the hypervisor with the VCPU it
 * hands over; NO_DEADLINE when the slice has no end). The pCPU stops its VCPU there itself, so a
 * slice ends on time even when the hypervisor thread waits for a host CPU.
 */
export const P_DEADLINE = 26;
/** P_DEADLINE value of a slice with no end. */
export const NO_DEADLINE = Number.MAX_SAFE_INTEGER;
/**
 * When the pCPU stopped its last VCPU (engine ns, float64), written before it asks what to run
 * next: the scheduler accounts the run up to there, not up to whenever the hypervisor thread got
 * a host CPU to serve the request.
 */
export const P_STOP_NS = 28;
/** Posted requests written so far (pCPU side, a count). */
export const P_POST_HEAD = 30;
/** Posted requests served so far (hypervisor side, a count). */
export const P_POST_TAIL = 31;
/**
 * The posted-request ring: POST_SLOTS entries of POST_ENTRY_WORDS words (kind, arg0-arg2), after
 * the slot's fields (words 42-43 and 46-47 are free).
 */
export const P_POST_RING = 64;
/**
 * Entries in a pCPU's posted-request ring. A full ring wakes the hypervisor and waits for it to
 * drain, so a serial line costs no round trip when it fits: with LSR read on the pCPU a
 * character is one posted THR write (machine/uart-lsr-cache.ts). An idle tick taken on the pCPU
 * (P_TIMER) posts three (EOI, HLT, the take); the pCPU rings at POST_RING_SOFT_SLOTS (256, about
 * 85 ticks) unserved entries, so the hypervisor thread, which does not wake for those ticks, wakes
 * about once a second at 100 Hz. A pCPU under an edge publication (P_EDGES) fills the whole ring:
 * an edge taken while it runs posts about four entries (the take, the switch, the EOI, the halt),
 * so 5,000 edges a second fill it about 20 times a second.
 */
export const POST_SLOTS = 1024;
/** Words per posted request: the kind and three arguments. */
export const POST_ENTRY_WORDS = 4;
/**
 * The published next decision: what the scheduler would decide if this pCPU's VCPU stopped at
 * any instant in [P_NEXT_FROM, P_NEXT_UNTIL] with nothing else changed. 0 = nothing published;
 * otherwise a sequence number that is never reused. The pCPU that stops at its deadline inside
 * the window takes the decision (compareExchange to 0), switches to the VCPU itself and posts
 * REQ_SWITCHED; the hypervisor revokes it (compareExchange to 0) before it changes anything.
 */
export const P_NEXT_SEQ = 48;
/** The VCPU of the published decision (domid, vcpu). */
export const P_NEXT_DOM = 49;
export const P_NEXT_VCPU = 50;
/** Earliest stop instant the decision holds for (engine ns, float64). */
export const P_NEXT_FROM = 52;
/** Latest stop instant the decision holds for (engine ns, float64). */
export const P_NEXT_UNTIL = 54;
/** Length of the decision's slice from the stop instant (ns, float64; NO_DEADLINE for none). */
export const P_NEXT_LEN = 56;
/**
 * The stop instant of a taken decision (engine ns, float64), written by the pCPU before it takes
 * one: the hypervisor accounts the switch there when it replays it.
 */
export const P_TAKEN_NS = 58;
/** Published decisions this pCPU took (statistic, a count). */
export const P_TAKES = 60;
/** Deadlines at which a published decision stood but did not hold or was revoked (statistic). */
export const P_TAKE_MISSES = 61;
/**
 * After a take: nanoseconds to add to the slice end the pCPU computed from P_NEXT_LEN (the
 * shortest over the window), written by the hypervisor when it replays the switch; the pCPU zeroes
 * it before it takes a decision and reads it between run chunks.
 */
export const P_SLICE_EXTEND = 62;
/** Deadlines at which no decision was published, so the pCPU asked (statistic, a count). */
export const P_NO_NEXT = 63;
/**
 * The halt decisions published with the next decision under the same P_NEXT_SEQ, a chain of
 * P_HNEXT_STEPS steps (0: none) in the P_HCHAIN area: step 0 is the VCPU to run if this pCPU's
 * VCPU halts (HLT with interrupts enabled) at an instant of [P_HNEXT_FROM, P_HNEXT_UNTIL]; step k
 * the VCPU to run if the VCPU of step k-1, switched to that way, halts in turn within the window.
 * Published sequence numbers are multiples of HCHAIN_SEQ_STEP; the pCPU takes step k (the low bits
 * of the word) with compareExchange(seq + k -> seq + k + 1), a slice-end decision only at step 0
 * with compareExchange(seq -> 0); the hypervisor ends the publication with exchange(0) and learns
 * from the old value how many steps were taken.
 */
export const P_HNEXT_STEPS = 35;
/** Which decision the pCPU took (TAKE_SLICE_END or TAKE_HALT), written with P_TAKEN_NS. */
export const P_TAKEN_KIND = 37;
/** Earliest halt instant the halt decisions hold for (engine ns, float64). */
export const P_HNEXT_FROM = 38;
/** Latest halt instant the halt decisions hold for (engine ns, float64). */
export const P_HNEXT_UNTIL = 40;
/** Halt decisions this pCPU took (statistic, a count). */
export const P_HALT_TAKES = 44;
/**
 * An 8259 interrupt the pCPU injects into the next VCPU when it takes the slice-end decision (a
 * halt step has HC_EXTINT): the vector plus one, 0 for none. The hypervisor replays the INTA cycle
 * with the switch and checks it gives this vector.
 */
export const P_NEXT_EXTINT = 45;
/** The chain of halt decisions: HCHAIN_STEPS steps of HCHAIN_STEP_WORDS words, after the ring. */
export const P_HCHAIN = P_POST_RING + POST_SLOTS * POST_ENTRY_WORDS;
/** Most steps in a chain of halt decisions (the low bits of a published sequence number count them). */
export const HCHAIN_STEPS = 7;
/** Published sequence numbers are multiples of this; the low bits count the halt steps taken. */
export const HCHAIN_SEQ_STEP = 8;
/** Words per chain step. */
export const HCHAIN_STEP_WORDS = 8;
/** In a chain step: the VCPU (domid, vcpu). */
export const HC_DOM = 0;
export const HC_VCPU = 1;
/** In a chain step: the 8259 vector plus one the pCPU injects on entry, 0 for none. */
export const HC_EXTINT = 2;
/** In a chain step: the slice length from the halt instant (ns, float64; NO_DEADLINE for none). */
export const HC_LEN = 4;
/** In a chain step: the halt instant at which the pCPU took it (engine ns, float64, pCPU-written). */
export const HC_TAKEN_NS = 6;
/**
 * The timer offer (docs/architecture.md, "Timer interrupts on the pCPU"), after the chain: the
 * hypervisor does not wake for the PIT of the VCPU named here, which is halted on this pCPU or will
 * halt there; the pCPU sleeps until the PIT's next edge, takes it (compareExchange(word, word + 1)
 * on P_TSEQ: the low bits count takes, TSEQ_STEP), switches the VCPU in with the 8259 vector
 * injected and posts REQ_TIMER_TAKEN; the hypervisor ends the offer with exchange(0) at the start
 * of its next pass and replays the PIT edge, the 8259's INTA cycle and the scheduler's wake at each
 * take's instant, in ring order.
 */
export const P_TIMER = P_HCHAIN + 7 * 8;
/** The offer's sequence number (a multiple of TSEQ_STEP, never reused) plus the takes so far; 0: none. */
export const P_TSEQ = P_TIMER;
/** The VCPU the offer switches in (domid, vcpu). */
export const P_TDOM = P_TIMER + 1;
export const P_TVCPU = P_TIMER + 2;
/** The 8259 vector plus one the pCPU injects at a take. */
export const P_TVECTOR = P_TIMER + 3;
/**
 * The posted-request count the hypervisor had served when it published the offer: the pCPU looks
 * at what it posted since (only EOIs of the 8259's IRQ 0 keep the offer valid).
 */
export const P_TTAIL = P_TIMER + 4;
/** EOIs the guest owes the 8259 at publication (IRQ 0 in service: 1), before the first take. */
export const P_TEOIS = P_TIMER + 5;
/** 1 while the pCPU sleeps idle without a timeout: a new offer must wake it (pCPU-written). */
export const P_TIDLE = P_TIMER + 6;
/** Timer takes of this pCPU (statistic, a count). */
export const P_TTAKES = P_TIMER + 7;
/** The PIT edge of the first take (engine ns, float64). */
export const P_TFIRST = P_TIMER + 8;
/** The PIT period in picoseconds (float64, an integer): edge j is at P_TFIRST + j * period. */
export const P_TPERIOD_PS = P_TIMER + 10;
/** Latest instant a take may happen at (engine ns, float64): the domain's next other device deadline, or a bound. */
export const P_TLIMIT = P_TIMER + 12;
/** The instant of the last take (engine ns, float64), written by the pCPU before its compare-exchange. */
export const P_TTAKEN_NS = P_TIMER + 14;
/** Offer sequence numbers are multiples of this; the low bits count the takes. */
export const TSEQ_STEP = 1024;
/** Preemptions at which the pCPU took the decision published with them (statistic, a count). */
export const P_PREEMPT_TAKES = 36;
/**
 * The edge publication (docs/architecture.md, "Timer edges taken by a busy pCPU"), after the timer
 * offer: a scheduler model of the pCPU's one-pCPU pool (hv/sched/edge-model.ts) and a table of
 * blocked tick VCPUs whose PIT edges the pCPU takes itself while it runs another VCPU. The
 * hypervisor writes the fields while P_ESEQ is 0, then stores a fresh sequence number (a multiple
 * of ESEQ_STEP, never reused); the pCPU copies table and model (checking the word did not move
 * meanwhile), and makes every step (an edge taken, a switch at a tickle, a slice end or a halt)
 * with compareExchange(word -> word + 1) after writing it into P_ELAST_*; the hypervisor ends the
 * publication with exchange(0) at the start of its next pass and replays the steps with the real
 * calls, in ring order (REQ_EDGE_STEP), the last one from P_ELAST_* if its entry is not posted yet.
 */
export const P_EDGES = P_TIMER + 16;
/** The publication's sequence number plus the steps taken since; 0: none. */
export const P_ESEQ = P_EDGES;
/** Which model follows (EDGE_MODEL_CREDIT2 or EDGE_MODEL_CREDIT). */
export const P_EKIND = P_EDGES + 1;
/** Entries of the edge table. */
export const P_ECOUNT = P_EDGES + 2;
/** Edges this pCPU took (statistic, a count). */
export const P_ETAKES = P_EDGES + 3;
/** The publication instant (engine ns, float64): posted steps carry their instant relative to it. */
export const P_EBASE = P_EDGES + 4;
/** The latest instant a step may be made at (engine ns, float64). */
export const P_ELIMIT = P_EDGES + 6;
/** The last step's description (its REQ_EDGE_STEP a1), written by the pCPU before its compare-exchange. */
export const P_ELAST_WHAT = P_EDGES + 8;
/** Switches this pCPU made by stepping the model (statistic, a count). */
export const P_ESWITCHES = P_EDGES + 9;
/** The last step's instant (engine ns, float64), written with P_ELAST_WHAT. */
export const P_ELAST_NS = P_EDGES + 10;
/** Publications this pCPU gave up on (the model asked, a guest did what the offer rules out; statistic). */
export const P_EDECLINES = P_EDGES + 12;
/** The edge table: EDGE_ENTRIES entries of EDGE_ENTRY_WORDS words. */
export const P_ETABLE = P_EDGES + 16;
/** Most entries in an edge table. */
export const EDGE_ENTRIES = 64;
/** Words per edge-table entry. */
export const EDGE_ENTRY_WORDS = 8;
/** In an entry: the model's unit index of the VCPU. */
export const EE_UNIT = 0;
/** In an entry: the 8259 vector plus one the pCPU injects when it switches the VCPU in after a take. */
export const EE_VECTOR = 1;
/** In an entry: its first PIT edge (engine ns, float64). */
export const EE_FIRST = 2;
/** In an entry: the PIT period in picoseconds (float64, an integer). */
export const EE_PERIOD_PS = 4;
/** In an entry: its VCPU's state at publication (EES_* bits). */
export const EE_STATE = 6;
/** EE_STATE: blocked in HLT; its first edge may be taken at once. */
export const EES_BLOCKED = 1;
/** EE_STATE: running its handler; it owes the 8259 the EOI of IRQ 0. */
export const EES_EOI_OWED = 2;
/** EE_STATE: queued with its edge raised; the pCPU injects EE_VECTOR when it switches it in. */
export const EES_INJECT = 4;
/** The model's Float64 words (8-byte aligned): EDGE_MODEL_WORDS of them, two int32 words each. */
export const P_EMODEL = P_ETABLE + EDGE_ENTRIES * EDGE_ENTRY_WORDS;
/** Units a published model carries at most: the running VCPU and the table's. */
export const EDGE_MODEL_UNITS = EDGE_ENTRIES + 1;
/** Float64 words of the model area (credit2EdgeModelWords(EDGE_MODEL_UNITS); the credit model needs fewer). */
export const EDGE_MODEL_WORDS = 594;
/** P_EKIND: a Credit2EdgeModel. */
export const EDGE_MODEL_CREDIT2 = 1;
/** P_EKIND: a CreditEdgeModel. */
export const EDGE_MODEL_CREDIT = 2;
/** Edge publication sequence numbers are multiples of this; the low bits count the steps. */
export const ESEQ_STEP = 65536;
/** P_TAKEN_KIND: the pCPU stopped at its slice end and switched. */
export const TAKE_SLICE_END = 0;
/** P_TAKEN_KIND: the pCPU's VCPU halted and the pCPU switched. */
export const TAKE_HALT = 1;
/**
 * Switch token of a cpupool, in the slot of the pool's lowest pCPU: a pCPU about to take a
 * published decision first moves it on by one (Atomics.compareExchange from the value published
 * with its decision). Decisions of pCPUs of one pool assume that no other pCPU of the pool switches
 * first, so after one of them switched the others' decisions no longer hold: their compare-exchange
 * fails and they ask.
 */
export const P_POOL_TOKEN = 32;
/** The pCPU whose slot holds the switch token of the published decision's pool. */
export const P_NEXT_TOKEN_PCPU = 33;
/** The value of that token the decision assumes. */
export const P_NEXT_TOKEN = 34;

// Attention bits.
/** Stop the current VCPU and ask the scheduler what to run (slice over, tickle). */
export const ATTN_PREEMPT = 1;
/** Something changed for the running VCPU (interrupt line, NMI): re-check at once. */
export const ATTN_EVENT = 2;
/** Control messages wait on the worker's port. */
export const ATTN_CTRL = 4;
/** P2M changed: flush translations. */
export const ATTN_FLUSH = 8;
/** Publish busy time and instruction counts of the run in progress (statistics readers). */
export const ATTN_STATS = 16;

// Exit requests (P_REQ).
export const REQ_IO_IN = 1;
export const REQ_IO_OUT = 2;
export const REQ_MMIO_READ = 3;
export const REQ_MMIO_WRITE = 4;
export const REQ_INTA = 5;
/** The pCPU stopped its VCPU (ARG0 = reason) and asks what to run next. */
export const REQ_SCHEDULE = 6;
export const REQ_HYPERCALL = 7;
export const REQ_MSR_READ = 8;
export const REQ_MSR_WRITE = 9;
/** A local APIC's ICR write for other VCPUs (ARG0 = ICR low, ARG1 = ICR high). */
export const REQ_IPI = 10;
/** A local APIC EOI of a level-triggered vector (ARG0 = vector) for the IOAPIC. */
export const REQ_EOI = 11;
/**
 * Posted only: the pCPU took the published decision with sequence number ARG0 (ARG1 = TAKE_SLICE_END
 * or TAKE_HALT, ARG2 = the step of a halt chain) and switched to its VCPU at P_TAKEN_NS (a halt
 * step: HC_TAKEN_NS); the hypervisor replays the schedule() call there (for a halt, the block first).
 */
export const REQ_SWITCHED = 12;
/**
 * Posted only: the pCPU took its timer offer (ARG0 = the P_TSEQ word it took, the offer's sequence
 * number plus the takes before) at the instant in ARG1 (low 32 bits) and ARG2 (high bits).
 */
export const REQ_TIMER_TAKEN = 13;
/**
 * Posted only: the pCPU made a step of its edge publication (ARG0 = the P_ESEQ word it took,
 * ARG1 = what: EDGE_STEP_* in the low 4 bits, EDGE_STEP_TICKLED, the model's unit index from
 * bit 8; ARG2 = the instant minus P_EBASE, ns).
 */
export const REQ_EDGE_STEP = 14;
/** REQ_EDGE_STEP: a timer edge taken (the unit woken). */
export const EDGE_STEP_TAKE = 1;
/** REQ_EDGE_STEP: a schedule() at a stop for a tickle the pCPU's own take made. */
export const EDGE_STEP_TICKLE_STOP = 2;
/** REQ_EDGE_STEP: a schedule() at the slice end. */
export const EDGE_STEP_SLICE_END = 3;
/** REQ_EDGE_STEP: a HLT: block, then schedule(). */
export const EDGE_STEP_HALT = 4;
/** REQ_EDGE_STEP bit: the take's wake tickled the pCPU. */
export const EDGE_STEP_TICKLED = 0x10;
/** REQ_EDGE_STEP: the low bits say what; the model's unit index is above this shift. */
export const EDGE_STEP_UNIT_SHIFT = 8;

/** Why a pCPU asks the scheduler (REQ_SCHEDULE ARG0). */
export const SCHED_START = 0;
export const SCHED_PREEMPTED = 1;
export const SCHED_HALTED = 2;
export const SCHED_SHUTDOWN = 3;
export const SCHED_STOPPED = 4;
export const SCHED_IDLE_WAKE = 5;
export const SCHED_SIPI_WAIT = 6;
/**
 * Or'ed into a posted SCHED_HALTED: the VCPU halted with interrupts on, so the halt is not final.
 * The hypervisor replays a posted HLT later, when the VCPU may have run on (a timer edge taken on
 * the pCPU) and its EFLAGS no longer show the halt's.
 */
export const HALT_IF_ON = 0x100;

/** Response status: keep running. */
export const RES_OK = 0;
/** Response status: drop the current VCPU at once and reschedule. */
export const RES_STOP = 1;

/** Size in bytes of a control block for `nrPcpus`. */
export function controlBlockBytes(nrPcpus: number): number {
  return (HEADER_WORDS + PCPU_STRIDE * nrPcpus) * 4;
}

/** Index of word `off` of pCPU `p`. */
export function slot(p: number, off: number): number {
  return HEADER_WORDS + p * PCPU_STRIDE + off;
}

/** 2^32: a number (an instant, a statistic) split over two int32 words. */
const WORD_SPAN = 4294967296;

/** The low word of `t` (an instant in a posted entry, a statistic). */
export function instantLo(t: number): number {
  return (t - Math.floor(t / WORD_SPAN) * WORD_SPAN) | 0;
}

/** The high word of `t`. */
export function instantHi(t: number): number {
  return Math.floor(t / WORD_SPAN);
}

/** The number of two words made by instantLo and instantHi. */
export function instantOf(lo: number, hi: number): number {
  return (lo >>> 0) + hi * WORD_SPAN;
}

/** Writes a float64 statistic into two words (pCPU side; readers accept a torn read). */
export function putF64(cb: Int32Array, idx: number, v: number): void {
  cb[idx] = instantLo(v);
  cb[idx + 1] = instantHi(v);
}

/** Reads a float64 statistic written by putF64. */
export function getF64(cb: Int32Array, idx: number): number {
  return instantOf(cb[idx], cb[idx + 1]);
}

/** Rings the hypervisor's doorbell. */
export function ringDoorbell(cb: Int32Array): void {
  Atomics.add(cb, CB_DOORBELL, 1);
  Atomics.notify(cb, CB_DOORBELL);
}
