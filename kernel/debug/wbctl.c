// wbctl(2): one writeback with a chosen writeback_control, for testing the
// writeback iterator (see uapi/wbctl.h).
//
// The test writepage function is a stand-in for a file system's: it takes
// each folio write_cache_pages() hands it, records the index, and plays
// the part of the disk by ending the writeback at once.  Around that it
// can fail chosen folios, leave one locked with AOP_WRITEPAGE_ACTIVATE, or
// quietly clean a folio further ahead, as another writer might, to see
// that the iterator notices after it locks that folio.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/wbctl.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "debug/debug.h"

static struct sleeplock wbctl_lock;   // one wbctl at a time

void
wbctl_init(void)
{
  initsleeplock(&wbctl_lock, "wbctl");
}

struct test_ctx {
  struct wbctl *c;
  struct address_space *mapping;
  struct folio *activated;    // the folio left locked by ACTIVATE
};

// Clean folio index as another writeback would, just after it cleared the
// folio's dirty flag and before it started the write (Linux leaves the
// marks in place until then): "someone else wrote it" between the
// iterator's lookup and its lock.  The marks are tidied up after the run.
static void
clean_behind_the_back(struct address_space *mapping, pgoff_t index)
{
  struct folio *folio = filemap_get_folio(mapping, index);

  if (folio == 0)
    return;
  if (folio_trylock(folio)) {
    if (folio->mapping == mapping && !folio_test_writeback(folio) &&
        folio_test_clear_flag(folio, PG_dirty))
      mod_node_page_state(NR_FILE_DIRTY, -1);
    folio_unlock(folio);
  }
  folio_put(folio);
}

// After a run with clean_ahead: clear the DIRTY and TOWRITE marks that
// clean_behind_the_back left on clean folios.
static void
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

// Dirty folio index, as a process writing the file at the same time would.
static void
dirty_behind_the_back(struct address_space *mapping, pgoff_t index)
{
  struct folio *folio = filemap_get_folio(mapping, index);

  if (folio == 0)
    return;
  if (folio_trylock(folio)) {
    if (folio->mapping == mapping && folio_test_uptodate(folio) &&
        mapping->a_ops->write_begin(mapping, folio) == 0)
      folio_mark_dirty(folio);
    folio_unlock(folio);
  }
  folio_put(folio);
}

static int
test_writepage(struct folio *folio, struct writeback_control *wbc, void *data)
{
  struct test_ctx *t = data;
  struct wbctl *c = t->c;
  int64 index = folio->index;

  if (c->nvisited < WBCTL_MAXVISIT)
    c->visited[c->nvisited] = index;
  c->nvisited++;
  if (c->clean_ahead > 0)
    clean_behind_the_back(t->mapping, index + c->clean_ahead);
  if (c->dirty_ahead > 0)
    dirty_behind_the_back(t->mapping, index + c->dirty_ahead);
  if (index == c->activate_index) {
    t->activated = folio;   // write_cache_pages must unlock it
    folio_redirty_for_writepage(wbc, folio);
    return AOP_WRITEPAGE_ACTIVATE;
  }
  for (int i = 0; i < WBCTL_MAXFAIL; i++) {
    if (index == c->fail_index[i]) {
      // The write failed: the folio stays dirty, as a file system that
      // could not map it would leave it.
      folio_redirty_for_writepage(wbc, folio);
      folio_unlock(folio);
      return -EIO;
    }
  }
  folio_start_writeback(folio);
  folio_unlock(folio);
  folio_end_writeback(folio);
  return 0;
}

int64
sys_wbctl(void)
{
  int fd = argint(0);
  uint64 addr = argaddr(1);
  struct proc *p = myproc();
  struct file *f;
  static struct wbctl c;          // too big for the stack: one user at a time

  if (fd < 0 || fd >= NOFILE || (f = p->ofile[fd]) == 0)
    return -EBADF;
  if (f->type != FD_INODE || f->ip->type != T_FILE)
    return -EINVAL;
  acquiresleep(&wbctl_lock);
  int r = copyin(p->pagetable, &c, addr, sizeof(c)) < 0 ? -EFAULT : 0;
  if (r == 0 && (c.sync_mode < 0 || c.sync_mode > 1 || c.range_start < 0 ||
                 c.range_end < c.range_start))
    r = -EINVAL;
  if (r == 0) {
    struct address_space *mapping = &f->ip->i_data;
    struct writeback_control wbc = {
      .sync_mode = c.sync_mode ? WB_SYNC_ALL : WB_SYNC_NONE,
      .nr_to_write = c.nr_to_write,
      .range_start = c.range_start,
      .range_end = c.range_end,
      .range_cyclic = c.range_cyclic != 0,
      .tagged_writepages = c.tagged_writepages != 0,
    };
    if (c.writeback_index >= 0)
      mapping->writeback_index = c.writeback_index;
    c.nvisited = 0;
    c.left_locked = 0;
    if (c.test_writepage) {
      struct test_ctx t = { .c = &c, .mapping = mapping };
      c.ret = write_cache_pages(mapping, &wbc, test_writepage, &t);
      if (t.activated && folio_test_locked(t.activated)) {
        c.left_locked++;
        folio_unlock(t.activated);   // so the test can go on
      }
      if (c.clean_ahead > 0)
        tidy_marks(mapping);
    } else {
      c.ret = do_writepages(mapping, &wbc);
    }
    c.nr_to_write_left = wbc.nr_to_write;
    c.pages_skipped = wbc.pages_skipped;
    c.writeback_index_after = mapping->writeback_index;
    if (copyout(p->pagetable, addr, &c, sizeof(c)) < 0)
      r = -EFAULT;
  }
  releasesleep(&wbctl_lock);
  return r;
}
