// Reverse mapping.  Until shared file mappings exist, no user page table
// maps a page-cache folio, so there is nothing to write-protect.
#include "types.h"
#include "mm/folio.h"
#include "mm/rmap.h"

int
folio_mkclean(struct folio *folio)
{
  return 0;
}

void
folio_unmap_all(struct folio *folio)
{
}
