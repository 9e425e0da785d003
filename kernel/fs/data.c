// Reading and writing an inode's contents.
//
// Regular files go through the page cache (mm/filemap.c).  Directories
// are metadata: their blocks go through the buffer cache and the log.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "proc/proc.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "mm/pagemap.h"
#include "fs/fs.h"

// Read up to n bytes at offset off into dst (a user address if user_dst).
// Returns the number of bytes read (0 at or past the end), or -EFAULT if
// nothing could be copied.  Called with ip locked.
int64
readi(struct inode *ip, int user_dst, uint64 dst, uint64 off, uint64 n)
{
  uint64 done = 0;

  if (ip->type == T_FILE)
    return filemap_read(ip, user_dst, dst, off, n);

  if (off >= ip->size)
    return 0;
  if (n > ip->size - off)
    n = ip->size - off;
  while (done < n) {
    uint addr;
    uint64 boff = off % BSIZE;
    uint64 m = MIN(n - done, BSIZE - boff);
    int r = bmap(ip, off / BSIZE, 0, &addr);
    if (r < 0)
      break;
    // Through a small buffer on the stack: copying to user memory may
    // fault, and the fault must not happen with the block's buffer locked.
    char chunk[256];
    for (uint64 k = 0; k < m; k += sizeof(chunk)) {
      uint64 c = MIN(sizeof(chunk), m - k);
      if (addr == 0) {
        memset(chunk, 0, c);   // a hole reads as zeros
      } else {
        struct buf *bp = bread(ip->dev, addr);
        memmove(chunk, bp->data + boff + k, c);
        brelse(bp);
      }
      if (either_copyout(user_dst, dst + k, chunk, c) < 0)
        return done + k > 0 ? (int64)(done + k) : -EFAULT;
    }
    done += m;
    off += m;
    dst += m;
  }
  return done;
}

// Write n bytes from src (a user address if user_src) at offset off,
// growing the file if needed.  Returns the number of bytes written, or
// -errno if none were.  Called with ip locked; for a directory, inside an
// operation.
int64
writei(struct inode *ip, int user_src, uint64 src, uint64 off, uint64 n)
{
  uint64 done = 0;
  int err = 0;

  if (off + n < off)
    return -EINVAL;
  if (off + n > (uint64)MAXFILE * BSIZE)
    return -EFBIG;
  if (ip->type == T_FILE)
    return filemap_write(ip, user_src, src, off, n);
  if (ip->type != T_DIR)
    return -EINVAL;
  while (done < n) {
    uint addr;
    uint64 boff = off % BSIZE;
    uint64 m = MIN(n - done, BSIZE - boff);
    int r = bmap(ip, off / BSIZE, BMAP_ALLOC, &addr);
    if (r < 0) {
      err = r;
      break;
    }
    struct buf *bp = bread(ip->dev, addr);   // new blocks come zeroed
    if (either_copyin(bp->data + boff, user_src, src, m) < 0) {
      brelse(bp);
      err = -EFAULT;
      break;
    }
    log_write(bp);
    brelse(bp);
    done += m;
    off += m;
    src += m;
  }
  if (off > ip->size && done > 0)
    ip->size = ip->i_disksize = off;
  // The block map or the size may have changed.
  iupdate(ip);
  return done > 0 ? (int64)done : err;
}

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
