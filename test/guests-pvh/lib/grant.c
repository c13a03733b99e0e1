/* Grant table v1 for the test guests: frame 0 mapped with XENMEM_add_to_physmap. */
#include "guest.h"

grant_entry_v1_t *grant_table;

void grant_init(unsigned long gfn) {
  struct xen_add_to_physmap xatp = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0, .gpfn = gfn };
  if (HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp)) {
    printf("FAIL grant-table-map: add_to_physmap failed\n");
    shutdown(SHUTDOWN_crash);
  }
  grant_table = (grant_entry_v1_t *)(gfn << 12);
}

void grant_access(grant_ref_t ref, domid_t to, void *page, int readonly) {
  grant_table[ref].frame = (uint32_t)((uintptr_t)page >> 12);
  grant_table[ref].domid = to;
  barrier();
  grant_table[ref].flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
  mb();
}

void grant_end(grant_ref_t ref) {
  uint16_t flags = grant_table[ref].flags;
  while (!(flags & (GTF_reading | GTF_writing))) {
    uint16_t seen = __sync_val_compare_and_swap(&grant_table[ref].flags, flags, 0);
    if (seen == flags) return;
    flags = seen;
  }
  printf("FAIL grant-end: grant %u is still in use\n", ref);
}
