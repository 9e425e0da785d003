// Page reclaim.
//
// Every page-cache folio is on one LRU list, newest at the tail.  When
// an allocation finds no free page, shrink_page_cache() walks the list
// from the oldest end and frees clean folios that nobody is using.  A
// large folio goes whole, all its pages at once, unless a process maps
// some of its pages: then it is split (split.c), and the pages that no
// process maps go.
#include "types.h"
#include "param.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/list.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/reclaim.h"
#include "mm/split.h"
#include "lib/trace.h"
#include "proc/proc.h"
#include "trap/trap.h"
#include "fs/fs.h"

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

// Try to take folio for reclaim: it must be clean, unused (only the
// cache's reference and ours), unmapped, not locked, not under writeback.
// Returns 1 with the folio locked.
static int
can_reclaim(struct folio *folio)
{
  if (folio_test_dirty(folio) || folio_test_writeback(folio) || folio->mapcount > 0)
    return 0;
  if (!folio_trylock(folio))
    return 0;
  if (folio->mapping == 0 || folio_test_dirty(folio) || folio_test_writeback(folio) ||
      folio->mapcount > 0 || __atomic_load_n(&folio->refcount, __ATOMIC_SEQ_CST) != 2) {
    folio_unlock(folio);
    return 0;
  }
  return 1;
}

// Free a folio that can_reclaim() took (locked); returns its pages.
static uint64
reclaim_folio(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;
  uint64 n = folio_nr_pages(folio);

  if (mapping->a_ops->invalidate_folio)
    mapping->a_ops->invalidate_folio(folio);
  trace_folio(TR_RECLAIM, folio);
  filemap_remove_folio(folio);
  folio_unlock(folio);
  return n;
}

// A clean large folio that processes map only some pages of: split it,
// and free the pages nobody maps.  Returns the pages freed.
static uint64
reclaim_split(struct folio *folio)
{
  uint64 freed = 0;

  if (folio_test_dirty(folio) || folio_test_writeback(folio) || !folio_trylock(folio))
    return 0;
  long n = folio_nr_pages(folio);
  if (folio->mapping == 0 || folio_test_dirty(folio) || split_folio(folio) != 0) {
    folio_unlock(folio);
    return 0;
  }
  folio_unlock(folio);
  // Each page is a folio now; our reference is the first page's.
  for (long i = 0; i < n; i++) {
    struct folio *page = folio + i;
    if ((i == 0 || folio_try_get(page)) && can_reclaim(page))
      freed += reclaim_folio(page);
    if (i > 0)
      folio_put(page);
  }
  return freed;
}

#define BATCH 32

/**
 * shrink_page_cache - free clean page-cache folios
 * @nr_wanted: how many pages to free
 *
 * Walks the LRU list from its oldest end.  A folio used since the last walk
 * (PG_referenced) gets a second chance: the bit is cleared and the folio
 * goes to the young end.  Clean, unused folios are removed from their
 * files and freed, a large one whole; a clean large folio of which a
 * process maps some pages is split, and its other pages freed.  Dirty
 * ones cannot be freed until they are written; if any were met, the
 * flusher is asked to write old dirty data (for_reclaim).  Never sleeps,
 * so it may be called anywhere a page allocation may.
 * Return: the number of pages freed.
 */
uint64
shrink_page_cache(uint64 nr_wanted)
{
  uint64 freed = 0, dirty = 0;
  uint64 budget = 4 * nr_wanted + BATCH;   // folios to look at, at most

  while (freed < nr_wanted && budget > 0) {
    struct folio *batch[BATCH];
    int n = 0;
    // Pick candidates under the LRU lock, with a reference each.
    acquire(&lru.lock);
    while (n < BATCH && budget > 0 && !list_empty(&lru.list)) {
      struct folio *folio = list_first_entry(&lru.list, struct folio, lru);
      budget--;
      list_move_tail(&folio->lru, &lru.list);
      if (folio_test_clear_flag(folio, PG_referenced))
        continue;   // second chance
      if (folio_test_dirty(folio) || folio_test_writeback(folio)) {
        dirty++;
        continue;
      }
      if (folio_try_get(folio))   // not while split.c has it frozen
        batch[n++] = folio;
    }
    release(&lru.lock);
    if (n == 0)
      break;
    for (int i = 0; i < n; i++) {
      struct folio *folio = batch[i];
      if (can_reclaim(folio))
        freed += reclaim_folio(folio);
      else if (folio_test_large(folio) && folio->mapcount > 0)
        freed += reclaim_split(folio);
      folio_put(folio);   // the last reference, for a reclaimed folio
    }
  }
  if (dirty > 0 && freed < nr_wanted)
    wakeup_flusher(WB_REASON_RECLAIM);
  mod_node_page_state(NR_RECLAIMED, freed);
  return freed;
}

// Free pages below which allocations reclaim before they allocate, so
// that allocations that cannot reclaim (under spin locks) still find pages.
#define LOW_WATERMARK 256
#define RETRY_TICKS 200    // give up after 2 s without a free page

// A page, reclaiming page-cache memory if free pages are short.  May
// sleep, waiting for writeback to turn dirty folios into reclaimable ones,
// except inside a log operation (writeback may need the log).  Returns 0
// when memory really is exhausted.
void *
kalloc_reclaim(void)
{
  if (nr_free_pages() < LOW_WATERMARK)
    shrink_page_cache(BATCH);
  void *page = kalloc();
  struct proc *p = myproc();
  for (int tries = 0; page == 0 && tries < RETRY_TICKS; tries++) {
    if (shrink_page_cache(BATCH) == 0) {
      // Waiting helps only if writeback can turn dirty folios into clean
      // ones; memory full of process pages stays full.
      if (p == 0 || p->op_reserved > 0 || killed(p) ||
          global_node_page_state(NR_FILE_DIRTY) + global_node_page_state(NR_WRITEBACK) == 0)
        break;
      // Everything reclaimable is dirty: wait for the flusher.
      acquire(&tickslock);
      sleep(&ticks, &tickslock);
      release(&tickslock);
    }
    page = kalloc();
  }
  return page;
}

/**
 * folio_alloc_reclaim - a new folio, reclaiming page-cache memory if needed
 * @order: the size wanted, 2^@order pages
 *
 * A large folio only if a free block that large is to be had, after
 * reclaiming a batch first if free memory is below the low watermark;
 * otherwise one page, with all that kalloc_reclaim() does to get it.
 * The page cache wants large folios but never needs them, so under
 * memory pressure, or when free memory is in pieces too small, it makes
 * do with single pages.
 * Return: the folio (of @order or 0: look), or NULL when memory is
 * exhausted.
 */
struct folio *
folio_alloc_reclaim(int order)
{
  if (order > 0) {
    if (nr_free_pages() < LOW_WATERMARK)
      shrink_page_cache(BATCH);
    struct folio *folio = folio_alloc(order);
    if (folio)
      return folio;
  }
  void *page = kalloc_reclaim();
  return page ? folio_init_page(page, 0) : 0;
}
