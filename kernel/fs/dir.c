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
// fn returns non-zero; returns that value, or 0.  *poff gets the offset
// of the entry fn stopped at.
static int
dir_scan(struct inode *dp, int (*fn)(struct dirent *de, const void *arg),
         const void *arg, uint *poff)
{
  if (dp->type != T_DIR)
    panic("dir_scan: not a directory");
  for (uint64 off = 0; off < dp->size; off += BSIZE) {
    uint addr;
    if (bmap(dp, off / BSIZE, 0, &addr) < 0 || addr == 0)
      continue;   // directories have no holes; fsck reports one if seen
    struct buf *bp = bread(dp->dev, addr);
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

// Find name in directory dp (locked).  Returns its inode, referenced but
// not locked, and the entry's byte offset in *poff; or 0.
struct inode *
dirlookup(struct inode *dp, const char *name, uint *poff)
{
  int inum = dir_scan(dp, match_name, name, poff);

  return inum ? iget(dp->dev, inum) : 0;
}

// Add the entry (name, inum) to directory dp (locked), inside an
// operation.  0, -EEXIST, or -ENOSPC.
int
dirlink(struct inode *dp, const char *name, uint inum)
{
  struct dirent de;
  struct inode *ip;
  uint off;

  if ((ip = dirlookup(dp, name, 0)) != 0) {
    iput(ip);
    return -EEXIST;
  }
  // The first free slot, or the end (a new block, zeroed by bmap).
  if (!dir_scan(dp, match_free, 0, &off))
    off = dp->size;
  copy_name(de.name, name);
  de.inum = inum;
  int64 r = writei(dp, 0, (uint64)&de, off, sizeof(de));
  if (r != sizeof(de))
    return r < 0 ? r : -ENOSPC;
  // Directory sizes stay a multiple of the block size.
  if (dp->size % BSIZE) {
    dp->size = (dp->size + BSIZE - 1) / BSIZE * BSIZE;
    iupdate(dp);
  }
  return 0;
}

// Clear the entry at byte offset off of dp (locked), inside an operation.
int
dirunlink(struct inode *dp, uint off)
{
  struct dirent de;

  memset(&de, 0, sizeof(de));
  if (writei(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
    panic("dirunlink: write");
  return 0;
}

// Is directory dp (locked) empty but for "." and ".."?
int
isdirempty(struct inode *dp)
{
  return !dir_scan(dp, match_used_not_dots, 0, 0);
}
