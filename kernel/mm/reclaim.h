// Page reclaim: the LRU list of page-cache folios, and freeing clean ones
// when memory runs short.
#ifndef QUIRE_RECLAIM_H
#define QUIRE_RECLAIM_H

#include "types.h"

struct folio;
struct address_space;

void reclaim_init(void);
void lru_add(struct folio *folio);
void lru_del(struct folio *folio);
struct folio *folio_alloc_reclaim(int order);
void *kalloc_reclaim(void);
uint64 shrink_page_cache(uint64 nr_wanted);
void balance_dirty_pages_ratelimited(struct address_space *mapping);

#endif
