/**
 * xen_version (17): version.h. arg1 = XENVER_* command, arg2 = buffer.
 */
import {
  PVH_FEATURES_SUBMAP0, XEN_CAPABILITIES, XEN_EXTRAVERSION, XEN_VERSION_MAJOR, XEN_VERSION_MINOR, XENFEAT_NR_SUBMAPS,
} from '../abi/xen-constants';
import { EINVAL, xenCheck } from '../abi/xen-errno';
import { XEN_FEATURE_INFO, XEN_PLATFORM_PARAMETERS } from '../abi/layouts';
import { GuestStruct } from '../guest-struct';
import { fixedString } from './util';
import { noSubop, type HypercallContext, type SubOp } from './types';

/** xen_extraversion_t size. */
const EXTRAVERSION_BYTES = 16;
/** xen_capabilities_info_t size. */
const CAPABILITIES_BYTES = 1024;
/** xen_changeset_info_t size. */
const CHANGESET_BYTES = 64;
/** struct xen_compile_info: compiler[64], compile_by[16], compile_domain[32], compile_date[32]. */
const COMPILE_INFO_FIELDS: readonly [string, number][] = [
  ['Domus TypeScript engine', 64],
  ['domus', 16],
  ['localdomain', 32],
  ['', 32],
];
/** xen_domain_handle_t: 16 bytes (the UUID). */
const HANDLE_BYTES = 16;
/** XENVER_pagesize result. */
const PAGE_SIZE = 4096;

function writeBytes(ctx: HypercallContext, bytes: Uint8Array): number {
  ctx.guest.write(ctx.args[1], bytes);
  return 0;
}

/** Sub-operations of xen_version. */
export const XEN_VERSION_OPS: readonly SubOp[] = [
  { nr: 0, name: 'XENVER_version', status: 'supported', note: `reports ${XEN_VERSION_MAJOR}.${XEN_VERSION_MINOR}`, handler: () => (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR },
  { nr: 1, name: 'XENVER_extraversion', status: 'supported', note: '', handler: (c) => writeBytes(c, fixedString(XEN_EXTRAVERSION, EXTRAVERSION_BYTES)) },
  {
    nr: 2, name: 'XENVER_compile_info', status: 'supported', note: '',
    handler: (c) => {
      const out = new Uint8Array(COMPILE_INFO_FIELDS.reduce((n, [, size]) => n + size, 0));
      let at = 0;
      for (const [text, size] of COMPILE_INFO_FIELDS) {
        out.set(fixedString(text, size), at);
        at += size;
      }
      return writeBytes(c, out);
    },
  },
  { nr: 3, name: 'XENVER_capabilities', status: 'supported', note: '', handler: (c) => writeBytes(c, fixedString(XEN_CAPABILITIES, CAPABILITIES_BYTES)) },
  { nr: 4, name: 'XENVER_changeset', status: 'supported', note: '', handler: (c) => writeBytes(c, fixedString('domus', CHANGESET_BYTES)) },
  {
    nr: 5, name: 'XENVER_platform_parameters', status: 'supported', note: 'virt_start 0, as Xen answers HVM guests',
    handler: (c) => {
      GuestStruct.read(c.guest, c.args[1], XEN_PLATFORM_PARAMETERS, c.width).put('virtStart', 0);
      return 0;
    },
  },
  {
    nr: 6, name: 'XENVER_get_features', status: 'supported', note: 'submap 0 of a PVH domU',
    handler: (c) => {
      const fi = GuestStruct.read(c.guest, c.args[1], XEN_FEATURE_INFO, c.width);
      xenCheck(fi.get('submapIdx') < XENFEAT_NR_SUBMAPS, EINVAL, 'no such feature submap');
      fi.put('submap', PVH_FEATURES_SUBMAP0);
      return 0;
    },
  },
  { nr: 7, name: 'XENVER_pagesize', status: 'supported', note: '', handler: () => PAGE_SIZE },
  {
    nr: 8, name: 'XENVER_guest_handle', status: 'supported', note: 'the domain UUID',
    handler: (c) => writeBytes(c, c.host.domainHandle(c.dom.domid).subarray(0, HANDLE_BYTES)),
  },
  { nr: 9, name: 'XENVER_commandline', status: 'privileged', note: 'the hypervisor command line', caller: 'privileged' },
  { nr: 10, name: 'XENVER_build_id', status: 'privileged', note: '', caller: 'privileged' },
  noSubop(11, 'XENVER_extraversion2', 'not-yet', 'Xen 4.19 variable-length queries'),
];
