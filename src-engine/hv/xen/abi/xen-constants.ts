/**
 * Constants of Xen's public interface shared by several hypercall families. Sub-operation numbers
 * live beside their handlers (hypercalls/*.ts); each constant names its header under
 * xen/include/public/.
 */

// ---- xen.h: domain identifiers
/** DOMID_SELF: "the calling domain" in any domid argument. */
export const DOMID_SELF = 0x7ff0;
/** First reserved domain id; real domains are below it. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** The control domain's id (here: the engine's back ends and toolstack). */
export const DOMID_0 = 0;

// ---- xen.h: virtual IRQs
/** VIRQ_TIMER: per-VCPU timer (set_timer_op, singleshot/periodic). */
export const VIRQ_TIMER = 0;
/** VIRQ_DEBUG: per-VCPU debug request. */
export const VIRQ_DEBUG = 1;
/** VIRQ_CONSOLE: global, emergency console input (dom0). */
export const VIRQ_CONSOLE = 2;
/** NR_VIRQS: number of virtual IRQs (xen.h, 24). */
export const NR_VIRQS = 24;
/** Per-VCPU VIRQs (the "V." ones in xen.h): TIMER, DEBUG, XENOPROF (7), XENPMU (13). */
export const PER_VCPU_VIRQS: ReadonlySet<number> = new Set([0, 1, 7, 13]);

/** XEN_LEGACY_MAX_VCPUS (arch-x86/xen.h): VCPUs whose vcpu_info sits in shared_info. */
export const XEN_LEGACY_MAX_VCPUS = 32;
/** HVM_MAX_VCPUS (hvm/hvm_info_table.h). */
export const HVM_MAX_VCPUS = 128;

// ---- sched.h: shutdown reasons
export const SHUTDOWN_POWEROFF = 0;
export const SHUTDOWN_REBOOT = 1;
export const SHUTDOWN_SUSPEND = 2;
export const SHUTDOWN_CRASH = 3;
export const SHUTDOWN_WATCHDOG = 4;
export const SHUTDOWN_SOFT_RESET = 5;
/** SHUTDOWN_MAX: the largest valid reason. */
export const SHUTDOWN_MAX = 5;
/** Names of the shutdown reasons as xl prints them. */
export const SHUTDOWN_NAMES = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
/** A shutdown reason name. */
export type XenShutdownReason = (typeof SHUTDOWN_NAMES)[number];

// ---- version.h: what Domus reports as its Xen interface version
/** XENVER_version: major 4, minor 17 (the interface the spec was written against). */
export const XEN_VERSION_MAJOR = 4;
export const XEN_VERSION_MINOR = 17;
/** XENVER_extraversion string (at most 15 bytes + NUL). */
export const XEN_EXTRAVERSION = '.0-domus';
/** XENVER_capabilities string. */
export const XEN_CAPABILITIES = 'hvm-3.0-x86_32 hvm-3.0-x86_32p';

// ---- features.h: the submap a PVH domU gets (XENVER_get_features, submap 0)
export const XENFEAT_WRITABLE_PAGE_TABLES = 0;
export const XENFEAT_AUTO_TRANSLATED_PHYSMAP = 2;
export const XENFEAT_HVM_CALLBACK_VECTOR = 8;
export const XENFEAT_HVM_SAFE_PVCLOCK = 9;
export const XENFEAT_MEMORY_OP_VNODE_SUPPORTED = 13;
export const XENFEAT_NOT_DIRECT_MAPPED = 16;
/** XENFEAT_NR_SUBMAPS. */
export const XENFEAT_NR_SUBMAPS = 1;
/** Submap 0 for a PVH domU. */
export const PVH_FEATURES_SUBMAP0 =
  (1 << XENFEAT_WRITABLE_PAGE_TABLES) |
  (1 << XENFEAT_AUTO_TRANSLATED_PHYSMAP) |
  (1 << XENFEAT_HVM_CALLBACK_VECTOR) |
  (1 << XENFEAT_HVM_SAFE_PVCLOCK) |
  (1 << XENFEAT_NOT_DIRECT_MAPPED);

// ---- hvm/params.h
export const HVM_PARAM_CALLBACK_IRQ = 0;
export const HVM_PARAM_STORE_PFN = 1;
export const HVM_PARAM_STORE_EVTCHN = 2;
export const HVM_PARAM_PAE_ENABLED = 4;
export const HVM_PARAM_TIMER_MODE = 10;
export const HVM_PARAM_CONSOLE_PFN = 17;
export const HVM_PARAM_CONSOLE_EVTCHN = 18;
/** HVM_NR_PARAMS. */
export const HVM_NR_PARAMS = 39;
/** HVM_PARAM_CALLBACK_IRQ type (bits 63:56) "vector": the low 8 bits are an IDT vector. */
export const HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;
/** Bit position of the callback type in the parameter's high word (63:56 -> 31:24 of hi). */
export const CALLBACK_TYPE_SHIFT_HI = 24;
/** The lowest vector a callback may use (below are exceptions). */
export const MIN_CALLBACK_VECTOR = 0x10;

// ---- Special pages (Xen's layout: the 8 pages below 4 GiB - 16 MiB)
/** First of the special pfns (X86_HVM_END_SPECIAL_REGION - NR_SPECIAL_PAGES). */
export const SPECIAL_PFN_BASE = 0xfeff8;
/** Number of special pages. */
export const SPECIAL_PFN_COUNT = 8;
/** Console ring pfn (SPECIALPAGE_CONSOLE). */
export const CONSOLE_PFN = 0xfefff;
/** Xenstore ring pfn (SPECIALPAGE_XENSTORE). */
export const XENSTORE_PFN = 0xfeffc;

// ---- Per-domain limits (Xen / xl defaults)
/** xl max_event_channels default: the highest usable port + 1. */
export const DEFAULT_MAX_EVTCHN_PORTS = 1023;
/** xl max_grant_frames default (Xen 4.13+). */
export const DEFAULT_MAX_GRANT_FRAMES = 64;
/**
 * Grant-map handles a domain may hold: xl's max_maptrack_frames default (1024) times the 16-byte
 * maptrack entries per 4 KiB frame (256).
 */
export const DEFAULT_MAX_MAPTRACK = 1024 * 256;
/** INITIAL_NR_GRANT_FRAMES. */
export const INITIAL_GRANT_FRAMES = 1;
