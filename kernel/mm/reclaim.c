// Page reclaim.
//
// Every page-cache folio is on one LRU list, newest at the tail.  When
// an allocation finds no free page, shrink_page_cache() walks the list
// from the oldest end and frees clean folios that nobody is using.
#include "types.h"
#include "param.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/list.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"
#include "mm/reclaim.h"

static struct {
  struct spinlock lock;
  struct list_head list;   // oldest first
} lru;

void
reclaim_init(void)
{
  initlock(&lru.lock, "lru");
  INIT_LIST_HEAD(&lru.list);
}

void
lru_add(struct folio *folio)
{
  acquire(&lru.lock);
  if (!folio_test_set_flag(folio, PG_lru))
    list_add_tail(&folio->lru, &lru.list);
  release(&lru.lock);
}

void
lru_del(struct folio *folio)
{
  acquire(&lru.lock);
  if (folio_test_clear_flag(folio, PG_lru))
    list_del_init(&folio->lru);
  release(&lru.lock);
}

// Try to free up to nr_wanted clean, unused page-cache folios.  Returns
// how many were freed.
uint64
shrink_page_cache(uint64 nr_wanted)
{
  return 0;
}

// A new folio, reclaiming page-cache memory if none is free.
struct folio *
folio_alloc_reclaim(void)
{
  struct folio *folio = folio_alloc();

  if (folio == 0 && shrink_page_cache(32) > 0)
    folio = folio_alloc();
  return folio;
}
