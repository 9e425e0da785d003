// Directories: files of struct dirent, looked up by name.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "fs/buf.h"
#include "fs/fs.h"

int
namecmp(const char *a, const char *b)
{
  return strncmp(a, b, DIRSIZ);
}

// Copy a path element into a directory entry's name field, padding with
// NULs.  Path lookup has already refused names of DIRSIZ bytes or more.
static void
copy_name(char *dst, const char *src)
{
  int i;

  for (i = 0; i < DIRSIZ && src[i]; i++)
    dst[i] = src[i];
  for (; i < DIRSIZ; i++)
    dst[i] = 0;
}

// Visit the entries of directory dp (locked) a block at a time, until
// fn returns non-zero (positive); returns that value, 0, or -EIO if the
// disk failed a read of the directory or dp is not a directory (callers
// check the type of what a user names, so only a corrupt ".." gets here).
// *poff gets the offset of the entry fn stopped at.
static int
dir_scan(struct inode *dp, int (*fn)(struct dirent *de, const void *arg),
         const void *arg, uint *poff)
{
  if (dp->type != T_DIR)
    return -EIO;
  for (uint64 off = 0; off < dp->size; off += BSIZE) {
    uint addr;
    int r = bmap(dp, off / BSIZE, 0, &addr);
    if (r < 0)
      return r;
    if (addr == 0)
      continue;   // directories have no holes; fsck reports one if seen
    struct buf *bp = bread(dp->dev, addr);
    if (bp == 0)
      return -EIO;
    struct dirent *de = (struct dirent *)bp->data;
    for (int i = 0; i < BSIZE / sizeof(*de) && off + i * sizeof(*de) < dp->size; i++) {
      int r = fn(&de[i], arg);
      if (r) {
        if (poff)
          *poff = off + i * sizeof(*de);
        brelse(bp);
        return r;
      }
    }
    brelse(bp);
  }
  return 0;
}

static int
match_name(struct dirent *de, const void *name)
{
  return de->inum != 0 && namecmp(name, de->name) == 0 ? (int)de->inum : 0;
}

static int
match_free(struct dirent *de, const void *unused)
{
  return de->inum == 0;
}

static int
match_used_not_dots(struct dirent *de, const void *unused)
{
  return de->inum != 0 && namecmp(de->name, ".") != 0 && namecmp(de->name, "..") != 0;
}

// Find name in directory dp (locked): 0 with its inode, referenced but
// not locked, in *ipp and the entry's byte offset in *poff; -ENOENT; or
// -EIO.
int
dirlookup(struct inode *dp, const char *name, uint *poff, struct inode **ipp)
{
  int inum = dir_scan(dp, match_name, name, poff);

  if (inum <= 0)
    return inum < 0 ? inum : -ENOENT;
  *ipp = iget(dp->dev, inum);
  return 0;
}

// Add the entry (name, inum) to directory dp (locked), inside an
// operation.  0, -EEXIST, -ENOSPC or -EIO.
int
dirlink(struct inode *dp, const char *name, uint inum)
{
  struct dirent de;
  struct inode *ip;
  uint off;
  int r = dirlookup(dp, name, 0, &ip);

  if (r == 0) {
    iput(ip);
    return -EEXIST;
  }
  if (r != -ENOENT)
    return r;
  // The first free slot, or the end (a new block, zeroed by bmap).
  if ((r = dir_scan(dp, match_free, 0, &off)) < 0)
    return r;
  if (r == 0)
    off = dp->size;
  copy_name(de.name, name);
  de.inum = inum;
  int64 n = writei(dp, 0, (uint64)&de, off, sizeof(de));
  if (n != sizeof(de))
    return n < 0 ? n : -ENOSPC;
  // Directory sizes stay a multiple of the block size.
  if (dp->size % BSIZE) {
    dp->size = (dp->size + BSIZE - 1) / BSIZE * BSIZE;
    iupdate(dp);
  }
  return 0;
}

// Clear the entry at byte offset off of dp (locked), inside an operation.
// 0, or -EIO.
int
dirunlink(struct inode *dp, uint off)
{
  struct dirent de;

  memset(&de, 0, sizeof(de));
  int64 r = writei(dp, 0, (uint64)&de, off, sizeof(de));
  return r == sizeof(de) ? 0 : r < 0 ? (int)r : -EIO;
}

// Is directory dp (locked) empty but for "." and ".."?  1, 0, or -EIO.
int
isdirempty(struct inode *dp)
{
  int r = dir_scan(dp, match_used_not_dots, 0, 0);

  return r < 0 ? r : !r;
}
