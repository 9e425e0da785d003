// Setting a regular file's size: ftruncate(2), O_TRUNC, and unlink's
// final truncation.  The page cache lets go of the folios past the new
// end first; then the blocks are freed.
#include "types.h"
#include "param.h"
#include "lib/lib.h"
#include "mm/pagemap.h"
#include "fs/fs.h"

// Set the size of regular file ip to length.  The caller is inside a log
// operation and holds ip locked, in that order (begin_op before ilock,
// always: a process that waits in begin_op must hold no inode lock, or a
// process inside an operation could wait for it forever).
//
// Shrinking: i_size drops first, so writeback leaves the doomed folios
// alone; the folios past the end leave the cache (after any write in
// flight); the rest of the last partial page becomes zeros; then the
// blocks are freed.  Growing leaves a hole, which reads as zeros.
int
truncate_file(struct inode *ip, uint64 length)
{
  struct address_space *mapping = &ip->i_data;
  uint64 old_size = ip->size;

  if (length < ip->size) {
    ip->size = length;
    if (length % BSIZE) {
      // Bring the last page into the cache so that its tail is zeroed
      // there, and on the disk when it is written.
      int err;
      struct folio *folio = filemap_read_folio(0, mapping, length / BSIZE, &err);
      if (folio)
        folio_put(folio);
    }
    truncate_inode_pages(mapping, length);
  }
  acquiresleep(&ip->i_map_lock);
  if (length < ip->i_disksize)
    ip->i_disksize = length;
  else if (length > old_size && ip->i_disksize == old_size)
    ip->i_disksize = length;   // nothing pending: the hole can be recorded
  itrunc(ip, length);   // sets ip->size and writes the disk inode
  releasesleep(&ip->i_map_lock);
  return 0;
}
