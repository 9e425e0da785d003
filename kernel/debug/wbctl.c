// wbctl(2): one writeback with a chosen writeback_control, for testing the
// writeback iterator (see uapi/wbctl.h).
//
// The test writepage function is a stand-in for a file system's: it takes
// each folio write_cache_pages() hands it, records the index, and plays
// the part of the disk by ending the writeback at once.  Around that it
// fails chosen folios with chosen errors, leaves one locked with
// AOP_WRITEPAGE_ACTIVATE, and stages the races of wbctl_stage.c.  Then the
// call reports what the iterator left behind: its return value,
// nr_to_write, writeback_index, the folios it tagged, and any folio
// reference it forgot to give back.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/wbctl.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "debug/debug.h"
#include "debug/wbctl_stage.h"

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
  struct stage *detach;       // the folio taken out of the file, if any
};

// The error the test writepage returns for index: 0, or -errno.
static int
planned_error(struct wbctl *c, int64 index)
{
  for (int i = 0; i < WBCTL_MAXFAIL; i++)
    if (c->fail_index[i] >= 0 && index == c->fail_index[i])
      return c->fail_errno[i] > 0 ? -c->fail_errno[i] : -EIO;
  return 0;
}

// The races that the handing out of folio index sets off.
static void
stage_races(struct test_ctx *t, int64 index)
{
  struct wbctl *c = t->c;

  if (c->clean_ahead > 0)
    stage_clean(t->mapping, index + c->clean_ahead);
  if (c->dirty_ahead > 0)
    stage_dirty(t->mapping, index + c->dirty_ahead);
  if (c->detach_ahead > 0 && t->detach == 0 && c->nvisited == 1)
    t->detach = stage_detach(t->mapping, index + c->detach_ahead);
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
  if (index == c->busy_index)
    c->busy_handed_out = folio_test_writeback(folio) ? -1 : 1;
  if (folio->mapping != t->mapping || folio_test_writeback(folio)) {
    // Not the iterator's to hand out: recorded above; write nothing.
    if (folio->mapping != t->mapping)
      c->detached_handed_out++;
    folio_unlock(folio);
    return 0;
  }
  stage_races(t, index);
  if (index == c->activate_index) {
    t->activated = folio;   // write_cache_pages must unlock it
    folio_redirty_for_writepage(wbc, folio);
    return AOP_WRITEPAGE_ACTIVATE;
  }
  int err = planned_error(c, index);
  if (err) {
    // The write failed: the folio stays dirty, as a file system that
    // could not map it would leave it.
    folio_redirty_for_writepage(wbc, folio);
    folio_unlock(folio);
    return err;
  }
  folio_start_writeback(folio);
  folio_unlock(folio);
  folio_end_writeback(folio);
  return 0;
}

// The references held on the folios of a mapping, all together.
static int64
mapping_refs(struct address_space *mapping)
{
  unsigned long index = 0;
  struct folio *folio;
  int64 n = 0;

  acquire(&mapping->i_pages_lock);
  while ((folio = xa_find(&mapping->i_pages, &index, ~0UL, XA_PRESENT)) != 0) {
    n += __atomic_load_n(&folio->refcount, __ATOMIC_RELAXED);
    index++;
  }
  release(&mapping->i_pages_lock);
  return n;
}

// Run the pass with the test writepage and its staged races.
static void
run_test_pass(struct wbctl *c, struct address_space *mapping, struct writeback_control *wbc)
{
  struct test_ctx t = { .c = c, .mapping = mapping };
  struct stage *busy = 0;

  if (c->busy_index >= 0)
    busy = stage_busy(mapping, c->busy_index, c->busy_ticks);
  c->ret = write_cache_pages(mapping, wbc, test_writepage, &t);
  if (t.activated && folio_test_locked(t.activated)) {
    c->left_locked++;
    folio_unlock(t.activated);   // so the test can go on
  }
  if (busy)
    stage_finish(busy);
  if (t.detach)
    stage_finish(t.detach);
  if (c->clean_ahead > 0)
    tidy_marks(mapping);
}

// Run the writeback c asks for, and fill in what it did.
static void
run_pass(struct wbctl *c, struct address_space *mapping)
{
  struct writeback_control wbc = {
    .sync_mode = c->sync_mode ? WB_SYNC_ALL : WB_SYNC_NONE,
    .nr_to_write = c->nr_to_write,
    .range_start = c->range_start,
    .range_end = c->range_end,
    .range_cyclic = c->range_cyclic != 0,
    .tagged_writepages = c->tagged_writepages != 0,
  };

  if (c->writeback_index >= 0)
    mapping->writeback_index = c->writeback_index;
  c->nvisited = c->left_locked = c->busy_handed_out = c->detached_handed_out = 0;
  int64 refs = mapping_refs(mapping);
  unsigned long tags = mapping->i_pages.marks_set[PAGECACHE_TAG_TOWRITE];
  if (c->test_writepage)
    run_test_pass(c, mapping, &wbc);
  else
    c->ret = do_writepages(mapping, &wbc);
  c->tagged = mapping->i_pages.marks_set[PAGECACHE_TAG_TOWRITE] - tags;
  c->refs_leaked = mapping_refs(mapping) - refs;
  c->nr_to_write_left = wbc.nr_to_write;
  c->pages_skipped = wbc.pages_skipped;
  c->writeback_index_after = mapping->writeback_index;
}

static int
wbctl_valid(struct wbctl *c)
{
  return c->sync_mode >= 0 && c->sync_mode <= 1 && c->range_start >= 0 &&
         c->range_end >= c->range_start && c->busy_ticks >= 0 &&
         c->busy_ticks <= 10 * TICK_HZ;
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
  if (r == 0 && !wbctl_valid(&c))
    r = -EINVAL;
  if (r == 0) {
    run_pass(&c, &f->ip->i_data);
    if (copyout(p->pagetable, addr, &c, sizeof(c)) < 0)
      r = -EFAULT;
  }
  releasesleep(&wbctl_lock);
  return r;
}
