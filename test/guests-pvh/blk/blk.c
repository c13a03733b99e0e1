/*
 * A PVH guest reads and writes a PV disk: a minimal blkfront over the blkif ring (io/blkif.h,
 * io/ring.h macros), connected through xenbus like Linux and Mini-OS do it, against every vbd
 * listed under device/vbd. The test gives it xvda (read-write, filled with a known pattern) and
 * xvdb (read-only).
 */
#include "guest.h"

#define GRANT_GFN 0x40000
#define RING_REF0 8
#define DATA_REF0 16
#define MAX_VBDS 2

static char rings[MAX_VBDS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static char data[4][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));

struct vbd {
  unsigned devid;
  char front[64], back[96];
  unsigned long sectors;
  unsigned info;
  blkif_front_ring_t ring;
  evtchn_port_t port;
};
static struct vbd vbds[MAX_VBDS];
static uint64_t next_id = 1;

/** The disk pattern the test writes: "DOMUS-PVH-DISK" then (offset * 7 + 3) & 0xff. */
static unsigned char pattern(unsigned long off) {
  static const char head[16] = "DOMUS-PVH-DISK";
  return off < 16 ? (unsigned char)head[off] : (unsigned char)((off * 7 + 3) & 0xff);
}

static void join(char *out, const char *a, const char *b) {
  size_t n = strlen(a);
  memcpy(out, a, n);
  out[n] = '/';
  memcpy(out + n + 1, b, strlen(b) + 1);
}

static void uint_str(unsigned v, char *out) {
  char t[12];
  int n = 0;
  do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) *out++ = t[--n];
  *out = 0;
}

/* One request with up to two segments; returns the response status. */
static int16_t io(struct vbd *v, uint8_t op, uint64_t sector, int nseg, const grant_ref_t *refs, const uint8_t *first, const uint8_t *last) {
  blkif_request_t *req = RING_GET_REQUEST(&v->ring, v->ring.req_prod_pvt);
  req->operation = op;
  req->nr_segments = (uint8_t)nseg;
  req->handle = (blkif_vdev_t)v->devid;
  req->id = next_id;
  req->sector_number = sector;
  for (int k = 0; k < nseg; k++) {
    req->seg[k].gref = refs[k];
    req->seg[k].first_sect = first[k];
    req->seg[k].last_sect = last[k];
  }
  v->ring.req_prod_pvt++;
  int notify;
  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&v->ring, notify);
  if (notify) notify_port(v->port);
  for (;;) {
    int more;
    RING_FINAL_CHECK_FOR_RESPONSES(&v->ring, more);
    if (more) break;
    if (!wait_port(v->port, 1000000000ull)) return 99;
  }
  blkif_response_t *rsp = RING_GET_RESPONSE(&v->ring, v->ring.rsp_cons);
  v->ring.rsp_cons++;
  if (rsp->id != next_id++) return 98;
  return rsp->status;
}

static int16_t io1(struct vbd *v, uint8_t op, uint64_t sector, int page, uint8_t first, uint8_t last) {
  grant_ref_t ref = DATA_REF0 + page;
  return io(v, op, sector, 1, &ref, &first, &last);
}

static int connect(struct vbd *v, int idx) {
  char path[128], val[64];
  join(path, v->front, "backend");
  if (xs_read(path, v->back, sizeof v->back)) return 0;
  join(path, v->back, "state");
  if (!xs_wait_value(path, "2", 2000000000ull)) return 0;
  join(path, v->back, "sectors");
  xs_read(path, val, sizeof val);
  v->sectors = parse_ulong(val);
  join(path, v->back, "info");
  xs_read(path, val, sizeof val);
  v->info = (unsigned)parse_ulong(val);
  blkif_sring_t *s = (blkif_sring_t *)rings[idx];
  SHARED_RING_INIT(s);
  FRONT_RING_INIT(&v->ring, s, PAGE_SIZE);
  grant_access(RING_REF0 + idx, 0, rings[idx], 0);
  struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 0 };
  if (HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au)) return 0;
  v->port = au.port;
  unmask_port(v->port);
  uint_str(RING_REF0 + idx, val);
  join(path, v->front, "ring-ref");
  xs_write(path, val);
  uint_str(v->port, val);
  join(path, v->front, "event-channel");
  xs_write(path, val);
  join(path, v->front, "protocol");
  xs_write(path, XEN_IO_PROTO_ABI_X86_32);
  join(path, v->front, "state");
  xs_write(path, "3");
  join(path, v->back, "state");
  if (!xs_wait_value(path, "4", 2000000000ull)) return 0;
  join(path, v->front, "state");
  xs_write(path, "4");
  return 1;
}

static void test_rw(struct vbd *v) {
  int ok = 1;
  CHECK_EQ("blk-read-sector-0", io1(v, BLKIF_OP_READ, 0, 0, 0, 7), BLKIF_RSP_OKAY);
  for (unsigned k = 0; k < PAGE_SIZE; k++) if ((unsigned char)data[0][k] != pattern(k)) ok = 0;
  CHECK("blk-read-data", ok);
  CHECK_EQ("blk-read-partial-page", io1(v, BLKIF_OP_READ, 3, 1, 2, 2), BLKIF_RSP_OKAY);
  CHECK("blk-read-partial-data", (unsigned char)data[1][2 * 512] == pattern(3 * 512) && (unsigned char)data[1][3 * 512 - 1] == pattern(4 * 512 - 1));
  grant_ref_t refs[2] = { DATA_REF0 + 2, DATA_REF0 + 3 };
  uint8_t first[2] = { 0, 0 }, last[2] = { 7, 3 };
  CHECK_EQ("blk-read-two-segments", io(v, BLKIF_OP_READ, 0, 2, refs, first, last), BLKIF_RSP_OKAY);
  ok = 1;
  for (unsigned k = 0; k < PAGE_SIZE; k++) if ((unsigned char)data[2][k] != pattern(k)) ok = 0;
  for (unsigned k = 0; k < 2048; k++) if ((unsigned char)data[3][k] != pattern(PAGE_SIZE + k)) ok = 0;
  CHECK("blk-two-segment-data", ok);
  for (unsigned k = 0; k < PAGE_SIZE; k++) data[0][k] = (char)("written by pvh-blk "[k % 19]);
  CHECK_EQ("blk-write", io1(v, BLKIF_OP_WRITE, 16, 0, 0, 7), BLKIF_RSP_OKAY);
  memset(data[1], 0, PAGE_SIZE);
  CHECK("blk-read-back", io1(v, BLKIF_OP_READ, 16, 1, 0, 7) == BLKIF_RSP_OKAY && !memcmp(data[0], data[1], PAGE_SIZE));
  CHECK_EQ("blk-flush", io(v, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 0, 0), BLKIF_RSP_OKAY);
  CHECK_EQ("blk-beyond-end", io1(v, BLKIF_OP_READ, v->sectors, 0, 0, 0), BLKIF_RSP_ERROR);
  CHECK_EQ("blk-bad-segment", io1(v, BLKIF_OP_READ, 0, 0, 5, 2), BLKIF_RSP_ERROR);
  CHECK_EQ("blk-ungranted-page", (grant_end(DATA_REF0 + 3), io1(v, BLKIF_OP_READ, 0, 3, 0, 0)), BLKIF_RSP_ERROR);
  CHECK_EQ("blk-unknown-op", io(v, 9, 0, 0, 0, 0, 0), BLKIF_RSP_EOPNOTSUPP);
}

int main(void) {
  char reply[512];
  uint32_t n = 0;
  const char *parts[1] = { "device/vbd" };
  uint32_t lens[1] = { 11 };
  printf("blk: PVH guest with a PV disk, domain %u\n", self_domid);
  CHECK("blk-list-vbds", xs_request(XS_DIRECTORY, 0, parts, lens, 1, reply, &n) == XS_DIRECTORY && n > 0);
  grant_init(GRANT_GFN);
  for (int k = 0; k < 4; k++) grant_access(DATA_REF0 + k, 0, data[k], 0);
  int count = 0;
  for (uint32_t at = 0; at < n && count < MAX_VBDS; at += (uint32_t)strlen(reply + at) + 1) {
    struct vbd *v = &vbds[count];
    v->devid = (unsigned)parse_ulong(reply + at);
    join(v->front, "device/vbd", reply + at);
    count++;
  }
  CHECK_EQ("blk-two-vbds", count, 2);
  for (int k = 0; k < count; k++) {
    struct vbd *v = &vbds[k];
    check(k == 0 ? "blk-connect-xvda" : "blk-connect-xvdb", connect(v, k), "vbd %u did not connect", v->devid);
  }
  struct vbd *rw = vbds[0].devid == 51712 ? &vbds[0] : &vbds[1];
  struct vbd *ro = rw == &vbds[0] ? &vbds[1] : &vbds[0];
  CHECK("blk-xvda-info", rw->devid == 51712 && rw->sectors == 2048 && !(rw->info & VDISK_READONLY));
  CHECK("blk-xvdb-info", ro->devid == 51728 && (ro->info & VDISK_READONLY));
  test_rw(rw);
  grant_access(DATA_REF0 + 3, 0, data[3], 0);
  CHECK_EQ("blk-readonly-read", io1(ro, BLKIF_OP_READ, 0, 0, 0, 7), BLKIF_RSP_OKAY);
  CHECK_EQ("blk-readonly-write", io1(ro, BLKIF_OP_WRITE, 0, 0, 0, 7), BLKIF_RSP_ERROR);
  char path[128];
  join(path, rw->front, "state");
  xs_write(path, "5");
  join(path, rw->back, "state");
  CHECK("blk-close", xs_wait_value(path, "6", 2000000000ull));
  done("blk");
}
