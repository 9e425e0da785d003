// wbstat(2): counters for tests and for curious students.  See
// uapi/wbstat.h for what each one means.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/wbstat.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "dev/blk.h"
#include "mm/pagemap.h"
#include "mm/vmstat.h"
#include "mm/writeback.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"
#include "debug/debug.h"

// The pages of a mapping's folios that have the mark tag (XA_PRESENT:
// all of them); also the folios, and the large ones among them.
static uint64
count_tag(struct address_space *mapping, xa_mark_t tag, uint64 *folios, uint64 *large)
{
  unsigned long index = 0;
  struct folio *folio;
  uint64 n = 0;

  acquire(&mapping->i_pages_lock);
  while ((folio = xa_find(&mapping->i_pages, &index, ~0UL, tag)) != 0) {
    n += folio_nr_pages(folio);
    if (folios) {
      (*folios)++;
      *large += folio_test_large(folio);
    }
    index = folio->index + folio_nr_pages(folio);
    if (index == 0)
      break;
  }
  release(&mapping->i_pages_lock);
  return n;
}

// Allocated disk blocks of a file, indirect blocks included.
static uint64
count_blocks(struct inode *ip)
{
  uint64 n = 0, nblocks = (ip->size + BSIZE - 1) / BSIZE;

  acquiresleep(&ip->i_map_lock);
  for (uint64 bn = 0; bn < nblocks; bn++) {
    uint addr;
    if (bmap(ip, bn, BMAP_LOOKUP, &addr) == 0 && addr)
      n++;
  }
  n += (ip->addrs[IND_SLOT] != 0) + (ip->addrs[DIND_SLOT] != 0);
  releasesleep(&ip->i_map_lock);
  return n;
}

static int
file_wbstat(struct inode *ip, struct wbstat *st)
{
  struct address_space *mapping = &ip->i_data;
  int r = ilock(ip);

  if (r < 0)
    return r;
  st->f_ino = ip->inum;
  st->f_size = ip->size;
  st->f_nrpages = mapping->nrpages;
  count_tag(mapping, XA_PRESENT, &st->f_nrfolios, &st->f_large);
  st->f_dirty = count_tag(mapping, PAGECACHE_TAG_DIRTY, 0, 0);
  st->f_writeback = count_tag(mapping, PAGECACHE_TAG_WRITEBACK, 0, 0);
  st->f_towrite = count_tag(mapping, PAGECACHE_TAG_TOWRITE, 0, 0);
  st->f_writeback_index = mapping->writeback_index;
  st->f_pages_written = mapping->pages_written;
  st->f_wb_err = mapping->wb_err;
  if (ip->type == T_FILE)
    st->f_disk_blocks = count_blocks(ip);
  iunlock(ip);
  return 0;
}

int64
sys_wbstat(void)
{
  int fd = argint(0);
  uint64 addr = argaddr(1);
  struct wbstat st;
  struct blk_stats bs;
  struct file *f = 0;

  if (fd != -1) {
    if (fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == 0)
      return -EBADF;
    if (f->type != FD_INODE)
      return -EINVAL;
  }
  memset(&st, 0, sizeof(st));
  st.free_pages = nr_free_pages();
  st.total_pages = nr_total_pages();
  st.free_large = nr_free_blocks(FOLIO_MAX_ORDER);
  blk_get_stats(&bs);
  st.disk_reads = bs.reads;
  st.disk_writes = bs.writes;
  st.disk_read_bytes = bs.read_bytes;
  st.disk_write_bytes = bs.write_bytes;
  st.disk_flushes = bs.flushes;
  st.disk_errors = bs.errors;
  st.log_commits = log_commits();
  st.nr_cached = global_node_page_state(NR_FILE_PAGES);
  st.nr_dirty = global_node_page_state(NR_FILE_DIRTY);
  st.nr_writeback = global_node_page_state(NR_WRITEBACK);
  st.pages_dirtied = global_node_page_state(NR_DIRTIED);
  st.pages_written = global_node_page_state(NR_WRITTEN);
  st.pages_reclaimed = global_node_page_state(NR_RECLAIMED);
  st.throttled = nr_throttled;
  st.fs_shutdown = fs_is_shut_down();
  st.self_tagged = myproc()->wb_tagged;
  st.self_written = myproc()->wb_written;
  st.dirty_thresh = dirty_thresh();
  st.background_thresh = dirty_background_thresh();
  wb_list_stats(&st.nr_b_dirty, &st.nr_b_io, &st.nr_b_more_io, &st.oldest_dirty_ms);
  if (f && file_wbstat(f->ip, &st) < 0)
    return -EIO;
  if (copyout(myproc()->pagetable, addr, &st, sizeof(st)) < 0)
    return -EFAULT;
  return 0;
}


