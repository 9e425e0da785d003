// Reverse mapping: from a page-cache folio to the user page-table entries
// that map it.
#ifndef QUIRE_RMAP_H
#define QUIRE_RMAP_H

struct folio;

int folio_mkclean(struct folio *folio);
void folio_unmap_all(struct folio *folio);
void folio_page_mapcounts(struct folio *folio, int *counts);

#endif
