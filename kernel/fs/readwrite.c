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
// Returns the number of bytes read (0 at or past the end), or -EFAULT or
// -EIO if nothing could be copied.  Called with ip locked.
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
      return done > 0 ? (int64)done : r;
    // Through a small buffer on the stack: copying to user memory may
    // fault, and the fault must not happen with the block's buffer locked.
    char chunk[256];
    for (uint64 k = 0; k < m; k += sizeof(chunk)) {
      uint64 c = MIN(sizeof(chunk), m - k);
      if (addr == 0) {
        memset(chunk, 0, c);   // a hole reads as zeros
      } else {
        struct buf *bp = bread(ip->dev, addr);
        if (bp == 0)
          return done + k > 0 ? (int64)(done + k) : -EIO;
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
    if (bp == 0) {
      err = -EIO;
      break;
    }
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
