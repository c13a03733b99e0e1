/*
 * A small synchronous xenstore client over the ring (io/xs_wire.h): one request at a time,
 * replies matched by req_id, watch events queued for xs_next_event().
 */
#include "guest.h"

static struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static uint32_t next_id = 1;
#define EVQ 8
static char evq[EVQ][256];
static uint32_t evq_len[EVQ];
static unsigned ev_head, ev_tail;

void xs_init(void) {
  uint64_t v;
  hvm_get_param(HVM_PARAM_STORE_PFN, &v);
  ring = (struct xenstore_domain_interface *)(uintptr_t)(v << 12);
  hvm_get_param(HVM_PARAM_STORE_EVTCHN, &v);
  port = (evtchn_port_t)v;
  unmask_port(port);
}

static void put(const void *data, uint32_t n) {
  const char *p = data;
  while (n) {
    while (ring->req_prod - ring->req_cons >= XENSTORE_RING_SIZE) {
      notify_port(port);
      wait_port(port, 10000000);
    }
    ring->req[MASK_XENSTORE_IDX(ring->req_prod)] = *p++;
    barrier();
    ring->req_prod++;
    n--;
  }
}

/* Reads exactly n bytes of response; waits for the server as needed. */
static void get(void *data, uint32_t n) {
  char *p = data;
  while (n) {
    while (ring->rsp_prod == ring->rsp_cons) wait_port(port, 10000000);
    barrier();
    int was_full = ring->rsp_prod - ring->rsp_cons >= XENSTORE_RING_SIZE;
    *p++ = ring->rsp[MASK_XENSTORE_IDX(ring->rsp_cons)];
    barrier();
    ring->rsp_cons++;
    if (was_full) notify_port(port);
    n--;
  }
}

int xs_errno(const char *name) {
  static const struct { const char *n; int e; } t[] = {
    { "EINVAL", XEN_EINVAL }, { "EACCES", XEN_EACCES }, { "EEXIST", XEN_EEXIST }, { "EISDIR", XEN_EISDIR },
    { "ENOENT", XEN_ENOENT }, { "ENOMEM", XEN_ENOMEM }, { "ENOSPC", XEN_ENOSPC }, { "EIO", XEN_EIO },
    { "ENOTEMPTY", XEN_ENOTEMPTY }, { "ENOSYS", XEN_ENOSYS }, { "EROFS", XEN_EROFS }, { "EBUSY", XEN_EBUSY },
    { "EAGAIN", XEN_EAGAIN }, { "EISCONN", XEN_EISCONN }, { "E2BIG", XEN_E2BIG }, { "EPERM", XEN_EPERM },
  };
  for (unsigned k = 0; k < sizeof t / sizeof t[0]; k++) if (!strcmp(name, t[k].n)) return t[k].e;
  return XEN_EIO;
}

/* Sends a request made of n parts and waits for its reply; returns the reply type. */
int xs_request(uint32_t type, uint32_t tx, const char *const *parts, const uint32_t *lens, int n, char *reply, uint32_t *len) {
  struct xsd_sockmsg h = { .type = type, .req_id = next_id++, .tx_id = tx, .len = 0 };
  for (int k = 0; k < n; k++) h.len += lens[k];
  put(&h, sizeof h);
  for (int k = 0; k < n; k++) put(parts[k], lens[k]);
  mb();
  notify_port(port);
  for (;;) {
    struct xsd_sockmsg r;
    get(&r, sizeof r);
    static char body[XENSTORE_PAYLOAD_MAX + 1];
    if (r.len > XENSTORE_PAYLOAD_MAX) shutdown(SHUTDOWN_crash);
    get(body, r.len);
    body[r.len] = 0;
    if (r.type == XS_WATCH_EVENT) {
      if ((ev_tail - ev_head) < EVQ && r.len < sizeof evq[0]) {
        memcpy(evq[ev_tail % EVQ], body, r.len + 1);
        evq_len[ev_tail % EVQ] = r.len;
        ev_tail++;
      }
      continue;
    }
    if (r.req_id != h.req_id) continue;
    if (reply) memcpy(reply, body, r.len + 1);
    if (len) *len = r.len;
    return (int)r.type;
  }
}

static int simple(uint32_t type, const char *a, const char *b, uint32_t blen, char *reply, uint32_t *rlen) {
  const char *parts[2] = { a, b };
  uint32_t lens[2] = { (uint32_t)strlen(a) + 1, blen };
  char tmp[XS_MAX + 1];
  uint32_t n = 0;
  int t = xs_request(type, 0, parts, lens, b ? 2 : 1, reply ? reply : tmp, rlen ? rlen : &n);
  if (t == XS_ERROR) return -xs_errno(reply ? reply : tmp);
  return 0;
}

int xs_read(const char *path, char *value, uint32_t max) {
  char buf[XS_MAX + 1];
  uint32_t n;
  int r = simple(XS_READ, path, 0, 0, buf, &n);
  if (r) return r;
  if (n >= max) n = max - 1;
  memcpy(value, buf, n);
  value[n] = 0;
  return 0;
}
int xs_write(const char *path, const char *value) { return simple(XS_WRITE, path, value, (uint32_t)strlen(value), 0, 0); }
int xs_rm(const char *path) { return simple(XS_RM, path, 0, 0, 0, 0); }
int xs_watch(const char *path, const char *token) { return simple(XS_WATCH, path, token, (uint32_t)strlen(token) + 1, 0, 0); }

int xs_next_event(char *path, uint32_t max, uint64_t timeout_ns) {
  uint64_t end = system_time() + timeout_ns;
  while (ev_head == ev_tail) {
    if (ring->rsp_prod != ring->rsp_cons) {
      /* An unsolicited message: read it through a no-op request cycle. */
      struct xsd_sockmsg r;
      get(&r, sizeof r);
      static char body[XENSTORE_PAYLOAD_MAX + 1];
      get(body, r.len);
      if (r.type == XS_WATCH_EVENT && r.len < sizeof evq[0]) {
        memcpy(evq[ev_tail % EVQ], body, r.len);
        evq[ev_tail % EVQ][r.len] = 0;
        evq_len[ev_tail % EVQ] = r.len;
        ev_tail++;
      }
      continue;
    }
    if (system_time() >= end) return 0;
    wait_port(port, end - system_time());
  }
  uint32_t n = evq_len[ev_head % EVQ];
  if (n >= max) n = max - 1;
  memcpy(path, evq[ev_head % EVQ], n);
  path[n] = 0;
  ev_head++;
  return 1;
}

int xs_set_perms(const char *path, const char *owner, const char *reader) {
  const char *parts[3] = { path, owner, reader };
  uint32_t lens[3] = { (uint32_t)strlen(path) + 1, (uint32_t)strlen(owner) + 1, (uint32_t)strlen(reader) + 1 };
  char reply[XS_MAX + 1];
  uint32_t n;
  int t = xs_request(XS_SET_PERMS, 0, parts, lens, reader ? 3 : 2, reply, &n);
  return t == XS_ERROR ? -xs_errno(reply) : 0;
}

int xs_wait_value(const char *path, const char *want, uint64_t timeout_ns) {
  char v[128], ev[256];
  uint64_t end = system_time() + timeout_ns;
  xs_watch(path, path);
  for (;;) {
    if (xs_read(path, v, sizeof v) == 0 && !strcmp(v, want)) return 1;
    uint64_t now = system_time();
    if (now >= end) return 0;
    xs_next_event(ev, sizeof ev, end - now);
  }
}
