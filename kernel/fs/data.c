// Reading and writing an inode's contents.
//
// Directories are metadata: their blocks go through the buffer cache and
// the log.  Regular files take a direct path for now: each block is
// written to the disk at once through the buffer cache, outside the log.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "proc/proc.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

// Read up to n bytes at offset off into dst (a user address if user_dst).
// Returns the number of bytes read (0 at or past the end), or -EFAULT if
// nothing could be copied.  Called with ip locked.
int64
readi(struct inode *ip, int user_dst, uint64 dst, uint64 off, uint64 n)
{
  uint64 done = 0;

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
    if (addr == 0) {
      // A hole reads as zeros.
      static const uchar zeros[256];
      for (uint64 k = 0; k < m; k += sizeof(zeros))
        if (either_copyout(user_dst, dst + k, (void *)zeros, MIN(sizeof(zeros), m - k)) < 0)
          return done > 0 ? done : -EFAULT;
    } else {
      struct buf *bp = bread(ip->dev, addr);
      r = either_copyout(user_dst, dst, bp->data + boff, m);
      brelse(bp);
      if (r < 0)
        return done > 0 ? done : -EFAULT;
    }
    done += m;
    off += m;
    dst += m;
  }
  return done;
}

// Write n bytes from src (a user address if user_src) at offset off,
// growing the file if needed.  Returns the number of bytes written, or
// -errno if none were.  Called with ip locked, inside an operation.
int64
writei(struct inode *ip, int user_src, uint64 src, uint64 off, uint64 n)
{
  uint64 done = 0;
  int err = 0;

  if (off + n < off)
    return -EINVAL;
  if (off + n > (uint64)MAXFILE * BSIZE)
    return -EFBIG;
  while (done < n) {
    uint addr;
    uint64 boff = off % BSIZE;
    uint64 m = MIN(n - done, BSIZE - boff);
    int fresh = bmap(ip, off / BSIZE, 1, &addr);
    if (fresh < 0) {
      err = fresh;
      break;
    }
    // A new file block has undefined contents: start from zeros.
    struct buf *bp = (fresh && ip->type != T_DIR) ? bgetzero(ip->dev, addr)
                                                  : bread(ip->dev, addr);
    if (either_copyin(bp->data + boff, user_src, src, m) < 0) {
      brelse(bp);
      err = -EFAULT;
      break;
    }
    if (ip->type == T_DIR) {
      log_write(bp);
    } else if (bwrite(bp) != 0) {
      brelse(bp);
      err = -EIO;
      break;
    }
    brelse(bp);
    done += m;
    off += m;
    src += m;
  }
  if (off > ip->size && done > 0)
    ip->size = off;
  // The block map or the size may have changed.
  iupdate(ip);
  return done > 0 ? (int64)done : err;
}

// Set the size of regular file ip (locked) to length, inside an operation.
// Shrinking frees the blocks past the end and zeroes the rest of the last
// block, so that growing the file again shows zeros there, not old bytes.
int
truncate_file(struct inode *ip, uint64 length)
{
  if (length >= ip->size) {
    ip->size = length;   // the new part is a hole: it reads as zeros
    iupdate(ip);
    return 0;
  }
  if (length % BSIZE) {
    uint addr;
    if (bmap(ip, length / BSIZE, 0, &addr) == 0 && addr != 0) {
      struct buf *bp = bread(ip->dev, addr);
      memset(bp->data + length % BSIZE, 0, BSIZE - length % BSIZE);
      int r = bwrite(bp);
      brelse(bp);
      if (r < 0)
        return r;
    }
  }
  itrunc(ip, length);
  return 0;
}
