// The races wbctl(2) stages for the writeback iterator's tests.
//
// A correct writeback_iter() must survive what other tasks do to a file
// while it walks it: write a folio it is about to lock, dirty one behind
// it, truncate one out of the file while it waits for that folio's lock,
// or still have a folio under writeback from an earlier pass.  Real races
// come and go with the timing; these happen every time, at the moment the
// test asks for, so that a test can tell an iterator that handles them
// from one that does not.  The slow ones run in a kernel thread of their
// own (a "stage") while the pass goes on.
#include "types.h"
#include "param.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "mm/reclaim.h"
#include "proc/proc.h"
#include "trap/trap.h"
#include "debug/wbctl_stage.h"

// Do act to folio index of mapping, if it is there, still in the file, and
// not locked by someone else (the iterator, say: then leave it alone).
static void
with_folio(struct address_space *mapping, pgoff_t index,
           void (*act)(struct address_space *, struct folio *))
{
  struct folio *folio = filemap_get_folio(mapping, index);

  if (folio == 0)
    return;
  if (folio_trylock(folio)) {
    if (folio->mapping == mapping)
      act(mapping, folio);
    folio_unlock(folio);
  }
  folio_put(folio);
}

// Another writeback just cleared the folio's dirty flag and has not
// started the write yet (Linux leaves the marks in place until then).
static void
clean_it(struct address_space *mapping, struct folio *folio)
{
  if (!folio_test_writeback(folio) && folio_test_clear_flag(folio, PG_dirty))
    mod_node_page_state(NR_FILE_DIRTY, -folio_nr_pages(folio));
}

// A process writing the file dirties the folio.
static void
dirty_it(struct address_space *mapping, struct folio *folio)
{
  if (folio_test_uptodate(folio) && mapping->a_ops->write_begin(mapping, folio) == 0)
    folio_mark_dirty(folio);
}

// "Someone else wrote it" between the iterator's lookup and its lock.
// tidy_marks() clears the marks later.
void
stage_clean(struct address_space *mapping, pgoff_t index)
{
  with_folio(mapping, index, clean_it);
}

// Dirty folio index, as a process writing the file at the same time would.
void
stage_dirty(struct address_space *mapping, pgoff_t index)
{
  with_folio(mapping, index, dirty_it);
}

// After stage_clean: clear the DIRTY and TOWRITE marks it left on clean
// folios.
void
tidy_marks(struct address_space *mapping)
{
  for (xa_mark_t tag = PAGECACHE_TAG_DIRTY; tag <= PAGECACHE_TAG_TOWRITE; tag++) {
    if (tag == PAGECACHE_TAG_WRITEBACK)
      continue;
    unsigned long index = 0;
    struct folio *folio;
    acquire(&mapping->i_pages_lock);
    while ((folio = xa_find(&mapping->i_pages, &index, ~0UL, tag)) != 0) {
      if (!folio_test_dirty(folio))
        xa_clear_mark(&mapping->i_pages, index, tag);
      index++;
    }
    release(&mapping->i_pages_lock);
  }
}

// The two slow races, each run by a kernel thread.
enum { STAGE_BUSY, STAGE_DETACH };

static struct stage {
  struct spinlock lock;
  int kind;
  struct folio *folio;         // referenced
  uint64 until;                // ticks: the stage acts by then at the latest
  int done;                    // the thread has acted
  int detached;                // STAGE_DETACH: the folio left the file
} stages[2];

// Take a dirty folio out of its file: what a racing truncate or
// invalidation does, except that the folio stays dirty (Quire's truncate
// cleans a folio before it removes it, so this state comes only from here;
// in Linux a folio can leave its mapping dirty, as shmem's do when they
// move to the swap cache).  The cache's reference goes to the stage.
static void
detach_folio(struct folio *folio)
{
  struct address_space *mapping = folio->mapping;

  if (mapping->a_ops->invalidate_folio)
    mapping->a_ops->invalidate_folio(folio);
  __filemap_remove_folio(folio);
}

static int
should_act(struct stage *s)
{
  if (ticks >= s->until)
    return 1;
  // Detach once the iterator is asleep in folio_lock() on the folio.
  return s->kind == STAGE_DETACH && folio_test_flag(s->folio, PG_waiters);
}

static void
stage_thread(void *arg)
{
  struct stage *s = arg;

  acquire(&tickslock);
  while (!should_act(s))
    sleep(&ticks, &tickslock);
  int waited = ticks < s->until;
  release(&tickslock);
  if (s->kind == STAGE_BUSY) {
    folio_end_writeback(s->folio);
  } else {
    if (waited) {
      detach_folio(s->folio);
      s->detached = 1;
    }
    folio_unlock(s->folio);
  }
  acquire(&s->lock);
  s->done = 1;
  wakeup(s);
  release(&s->lock);
}

static struct stage *
stage_start(int kind, struct folio *folio, uint64 nticks)
{
  struct stage *s = &stages[kind];

  initlock(&s->lock, "wbctl_stage");
  s->kind = kind;
  s->folio = folio;
  s->until = ticks + nticks;
  s->done = s->detached = 0;
  if (kthread_create(kind == STAGE_BUSY ? "wbctl-busy" : "wbctl-detach", stage_thread, s) == 0) {
    stage_thread(s);   // no process slot: act at once
  }
  return s;
}

/*
 * stage_busy - before the pass, leave folio index dirty and under
 * writeback, as a write of an earlier pass that the folio was dirtied
 * again behind; the write ends nticks later.  Returns the stage, or 0 if
 * the folio is not there to stage.
 */
struct stage *
stage_busy(struct address_space *mapping, pgoff_t index, uint64 nticks)
{
  struct folio *folio = filemap_get_folio(mapping, index);

  if (folio == 0)
    return 0;
  folio_lock(folio);
  if (folio->mapping != mapping || !folio_test_uptodate(folio) || folio_test_writeback(folio)) {
    folio_unlock(folio);
    folio_put(folio);
    return 0;
  }
  folio_clear_dirty_for_io(folio);
  folio_start_writeback(folio);
  if (mapping->a_ops->write_begin(mapping, folio) == 0)
    folio_mark_dirty(folio);
  folio_unlock(folio);
  return stage_start(STAGE_BUSY, folio, nticks);
}

/*
 * stage_detach - lock folio index now and, once the iterator waits for
 * that lock, take the folio out of the file and unlock it: the iterator
 * then holds a folio that is no longer part of the file it writes.  If
 * nobody waits within a second, the folio is just unlocked.  Called with
 * a lower-indexed folio locked (ascending order).  Returns the stage or 0.
 */
struct stage *
stage_detach(struct address_space *mapping, pgoff_t index)
{
  struct folio *folio = filemap_get_folio(mapping, index);

  if (folio == 0)
    return 0;
  folio_lock(folio);
  if (folio->mapping != mapping) {
    folio_unlock(folio);
    folio_put(folio);
    return 0;
  }
  return stage_start(STAGE_DETACH, folio, TICK_HZ);
}

/*
 * stage_finish - wait for a stage's thread, and let go of its folio.  A
 * detached folio is cleaned and freed (unless someone still holds it).
 * Returns whether the folio was detached.
 */
int
stage_finish(struct stage *s)
{
  acquire(&s->lock);
  while (!s->done)
    sleep(s, &s->lock);
  release(&s->lock);
  int detached = s->detached;
  if (detached) {
    if (folio_test_clear_flag(s->folio, PG_dirty))
      mod_node_page_state(NR_FILE_DIRTY, -folio_nr_pages(s->folio));
    folio_put(s->folio);   // the cache's reference, which detach_folio took
  }
  folio_put(s->folio);
  return detached;
}
