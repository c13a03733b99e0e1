/*
 * Two domains pass data through a grant and signal each other with an event channel.
 * Command line: role=granter peer=<domid> | role=mapper peer=<domid>.
 *   granter: grants a page to the peer, offers an unbound event channel, publishes both in
 *            xenstore (data/xfer, readable by the peer), waits for the peer's reply in the page.
 *   mapper:  reads them, binds the channel, maps the grant, reads the granter's message, writes
 *            its reply, notifies, copies through the grant, unmaps.
 */
#include "guest.h"

static char shared_data[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static char copy_dst[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
#define GRANT_GFN 0x40000
/** Where the mapper maps the granted frame: an empty guest frame beyond its RAM. */
#define MAP_GFN 0x41000
#define REF 10
#define UNGRANTED_REF 11

static void uint_str(unsigned v, char *out) {
  char t[12];
  int n = 0;
  do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) *out++ = t[--n];
  *out = 0;
}

static void granter(domid_t peer) {
  char path[64], num[12], v[64];
  grant_init(GRANT_GFN);
  memcpy(shared_data, "message from the granter", 25);
  grant_access(REF, peer, shared_data, 0);
  struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = peer };
  CHECK_EQ("granter-alloc-unbound", HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0);
  unmask_port(au.port);
  uint_str(peer, num);
  char reader[16] = "r";
  memcpy(reader + 1, num, strlen(num) + 1);
  char owner[16] = "n";
  uint_str(self_domid, owner + 1);
  CHECK_EQ("granter-xs-mkdir", xs_write("data/xfer", ""), 0);
  CHECK_EQ("granter-xs-set-perms", xs_set_perms("data/xfer", owner, reader), 0);
  uint_str(REF, num);
  xs_write("data/xfer/gref", num);
  uint_str(au.port, num);
  xs_write("data/xfer/port", num);
  xs_write("data/xfer/ready", "1");
  CHECK("granter-peer-replied", wait_port(au.port, 2000000000ull) && !strcmp(shared_data, "reply from the mapper"));
  uint16_t flags = grant_table[REF].flags;
  check("granter-grant-in-use", (flags & (GTF_reading | GTF_writing)) == (GTF_reading | GTF_writing), "flags 0x%x", flags);
  notify_port(au.port);
  CHECK("granter-peer-unmapped", wait_port(au.port, 2000000000ull) && !(grant_table[REF].flags & (GTF_reading | GTF_writing)));
  struct evtchn_status st = { .dom = DOMID_SELF, .port = au.port };
  CHECK("granter-status-interdomain", HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0 && st.status == EVTCHNSTAT_interdomain &&
                                          st.u.interdomain.dom == peer);
  (void)path;
  (void)v;
  done("grant-granter");
}

static void mapper(domid_t peer) {
  char base[64] = "/local/domain/", path[96], v[64];
  uint_str(peer, base + 14);
  size_t bl = strlen(base);
  memcpy(base + bl, "/data/xfer/", 12);
  bl = strlen(base);
  memcpy(path, base, bl);
  memcpy(path + bl, "ready", 6);
  CHECK("mapper-sees-ready", xs_wait_value(path, "1", 2000000000ull));
  memcpy(path + bl, "gref", 5);
  CHECK_EQ("mapper-read-gref", xs_read(path, v, sizeof v), 0);
  grant_ref_t ref = (grant_ref_t)parse_ulong(v);
  memcpy(path + bl, "port", 5);
  CHECK_EQ("mapper-read-port", xs_read(path, v, sizeof v), 0);
  struct evtchn_bind_interdomain bi = { .remote_dom = peer, .remote_port = (evtchn_port_t)parse_ulong(v) };
  CHECK_EQ("mapper-bind-interdomain", HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), 0);
  unmask_port(bi.local_port);
  port_hits[bi.local_port] = 0;
  struct gnttab_map_grant_ref bad = { .host_addr = (uint64_t)MAP_GFN << 12, .flags = GNTMAP_host_map, .ref = UNGRANTED_REF, .dom = peer };
  CHECK("mapper-map-ungranted", HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &bad, 1) == 0 && bad.status == GNTST_permission_denied);
  struct gnttab_map_grant_ref ro = { .host_addr = (uint64_t)MAP_GFN << 12, .flags = GNTMAP_host_map | GNTMAP_readonly, .ref = ref, .dom = peer };
  CHECK("mapper-map-readonly-refused", HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &ro, 1) == 0 && ro.status == GNTST_general_error);
  struct gnttab_map_grant_ref mg = { .host_addr = (uint64_t)MAP_GFN << 12, .flags = GNTMAP_host_map, .ref = ref, .dom = peer };
  CHECK("mapper-map", HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &mg, 1) == 0 && mg.status == GNTST_okay);
  char *page = (char *)(MAP_GFN << 12);
  CHECK("mapper-reads-granted-page", !strcmp(page, "message from the granter"));
  struct gnttab_copy cp = { .len = 25 };
  cp.source.u.ref = ref;
  cp.source.domid = peer;
  cp.dest.u.gmfn = (uintptr_t)copy_dst >> 12;
  cp.dest.domid = DOMID_SELF;
  cp.flags = GNTCOPY_source_gref;
  CHECK("mapper-grant-copy", HYPERVISOR_grant_table_op(GNTTABOP_copy, &cp, 1) == 0 && cp.status == GNTST_okay &&
                                 !strcmp(copy_dst, "message from the granter"));
  memcpy(page, "reply from the mapper", 22);
  mb();
  notify_port(bi.local_port);
  CHECK("mapper-peer-answered", wait_port(bi.local_port, 2000000000ull));
  struct gnttab_unmap_grant_ref um = { .host_addr = (uint64_t)MAP_GFN << 12, .handle = mg.handle };
  CHECK("mapper-unmap", HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &um, 1) == 0 && um.status == GNTST_okay);
  CHECK("mapper-unmap-again", HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &um, 1) == 0 && um.status == GNTST_bad_handle);
  notify_port(bi.local_port);
  done("grant-mapper");
}

int main(void) {
  const char *role = cmdline_arg("role");
  const char *peer = cmdline_arg("peer");
  printf("grant: domain %u, role %s\n", self_domid, role ? role : "?");
  if (!role || !peer) {
    printf("FAIL grant-cmdline: need role= and peer=\n");
    done("grant");
  }
  if (!strncmp(role, "granter", 7)) granter((domid_t)parse_ulong(peer));
  mapper((domid_t)parse_ulong(peer));
  return 0;
}
