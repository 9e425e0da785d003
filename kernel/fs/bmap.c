// The block map: which disk block holds block bn of a file.
//
//   bn < NDIRECT                      addrs[bn]
//   bn < NDIRECT + NINDIRECT          the indirect block at addrs[IND_SLOT]
//   bn < MAXFILE                      the double-indirect block at
//                                     addrs[DIND_SLOT] points to indirect
//                                     blocks, each covering NINDIRECT blocks
//
// An address of 0 is a hole.  Indirect blocks are metadata: they are
// changed through the log.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

// Take a block: from the unreserved space, or (BMAP_RESERVED) from the
// space reserved for the file's delayed folios.  0, -ENOSPC or -EIO.
static int
alloc_block(struct inode *ip, int mode, uint *b)
{
  return mode == BMAP_RESERVED ? balloc_reserved(ip->dev, b) : balloc(ip->dev, b);
}

// A fresh block for metadata: allocated and zeroed through the log.
static int
alloc_meta(struct inode *ip, int mode, uint *b)
{
  int r = alloc_block(ip, mode, b);

  if (r == 0) {
    struct buf *bp = bgetzero(ip->dev, *b);
    log_write(bp);
    brelse(bp);
  }
  return r;
}

// Look up (and with alloc, fill) slot i of the indirect block at *ind,
// creating the indirect block itself if needed.  Returns 0, 1 if the slot
// was filled now, or -errno (-ENOSPC, -EIO).
static int
indirect_slot(struct inode *ip, uint *ind, uint i, int alloc, uint *addr)
{
  int r;

  if (*ind == 0) {
    if (!alloc) {
      *addr = 0;
      return 0;
    }
    if ((r = alloc_meta(ip, alloc, ind)) < 0)
      return r;
    iupdate(ip);
  }
  struct buf *bp = bread(ip->dev, *ind);
  if (bp == 0)
    return -EIO;
  uint *a = (uint *)bp->data;
  int fresh = 0;
  if (a[i] == 0 && alloc) {
    uint b;
    if ((r = alloc_block(ip, alloc, &b)) < 0) {
      brelse(bp);
      return r;
    }
    a[i] = b;
    log_write(bp);
    fresh = 1;
  }
  *addr = a[i];
  brelse(bp);
  return fresh;
}

// The disk block holding file block bn of ip, in *addr (0 for a hole when
// alloc is BMAP_LOOKUP).  Otherwise a hole gets a new block, taken as
// alloc says (BMAP_ALLOC or BMAP_RESERVED).  Returns 1 if the block
// is new (its contents are undefined, except for directories, whose new
// blocks are zeroed), 0 if it existed or stays a hole, or -ENOSPC,
// -EFBIG or -EIO (the disk failed the read of an indirect block).
// Called with ip->i_map_lock held (or ip locked, for directories) and,
// when allocating, inside an operation.
int
bmap(struct inode *ip, uint64 bn, int alloc, uint *addr)
{
  int r;

  if (bn < NDIRECT) {
    r = 0;
    if (ip->addrs[bn] == 0 && alloc) {
      if ((r = alloc_block(ip, alloc, &ip->addrs[bn])) < 0)
        return r;
      iupdate(ip);
      r = 1;
    }
    *addr = ip->addrs[bn];
  } else if (bn < NDIRECT + NINDIRECT) {
    r = indirect_slot(ip, &ip->addrs[IND_SLOT], bn - NDIRECT, alloc, addr);
  } else if (bn < MAXFILE) {
    bn -= NDIRECT + NINDIRECT;
    uint ind;
    r = indirect_slot(ip, &ip->addrs[DIND_SLOT], bn / NINDIRECT, alloc, &ind);
    if (r < 0 || ind == 0) {
      *addr = 0;
      return r < 0 ? r : 0;
    }
    if (r == 1) {
      // The new indirect block from balloc must be zeroed first.
      struct buf *bp = bgetzero(ip->dev, ind);
      log_write(bp);
      brelse(bp);
    }
    uint dind_entry = ind;
    r = indirect_slot(ip, &dind_entry, bn % NINDIRECT, alloc, addr);
  } else {
    return -EFBIG;
  }
  if (r == 1 && ip->type == T_DIR) {
    struct buf *bp = bgetzero(ip->dev, *addr);
    log_write(bp);
    brelse(bp);
  }
  return r;
}

// The indirect block that holds the address of file block bn (at least
// NDIRECT) in *ind (0: none, a hole), and bn's slot in it in *slot.  With
// alloc, a missing indirect block is made (and a missing double-indirect
// block).  0 or -errno.
static int
indirect_of(struct inode *ip, uint64 bn, int alloc, uint *ind, uint *slot)
{
  if (bn < NDIRECT + NINDIRECT) {
    *slot = bn - NDIRECT;
    if (ip->addrs[IND_SLOT] == 0 && alloc) {
      int r = alloc_meta(ip, alloc, &ip->addrs[IND_SLOT]);
      if (r < 0)
        return r;
      iupdate(ip);
    }
    *ind = ip->addrs[IND_SLOT];
    return 0;
  }
  if (bn >= MAXFILE)
    return -EFBIG;
  bn -= NDIRECT + NINDIRECT;
  *slot = bn % NINDIRECT;
  int r = indirect_slot(ip, &ip->addrs[DIND_SLOT], bn / NINDIRECT, alloc, ind);
  if (r == 1) {
    struct buf *bp = bgetzero(ip->dev, *ind);   // a new indirect block
    log_write(bp);
    brelse(bp);
  }
  return r < 0 ? r : 0;
}

// Slots [slot, slot + n) of indirect block ind into addrs; with alloc,
// holes get blocks, a run of holes one run of consecutive blocks from
// *goal on (balloc_run_reserved).  Bit (shift + i) of *fresh is set for
// each slot filled now; *goal follows the last block seen.
static int
fill_slots(struct inode *ip, uint ind, uint slot, int n, int alloc, uint *addrs,
           uint64 *fresh, int shift, uint *goal)
{
  struct buf *bp = bread(ip->dev, ind);
  if (bp == 0)
    return -EIO;
  uint *a = (uint *)bp->data + slot;
  int err = 0, changed = 0;

  for (int i = 0; i < n; i++) {
    if (a[i] == 0 && alloc) {
      uint holes = 1, got = 1, first;
      while (i + holes < n && a[i + holes] == 0)
        holes++;
      err = alloc == BMAP_RESERVED ?
        balloc_run_reserved(ip->dev, *goal ? *goal + 1 : 0, holes, &first, &got) :
        balloc(ip->dev, &first);
      if (err < 0)
        break;
      for (uint g = 0; g < got; g++) {
        a[i + g] = first + g;
        *fresh |= 1UL << (shift + i + g);
      }
      changed = 1;
    }
    addrs[i] = a[i];
    if (a[i])
      *goal = a[i];
  }
  if (changed)
    log_write(bp);
  brelse(bp);
  return err;
}

/**
 * bmap_range - the disk blocks of n consecutive file blocks
 * @ip: the inode; its i_map_lock held, and inside an operation if @alloc
 * @bn: the first file block
 * @n: how many (at most 64)
 * @alloc: BMAP_LOOKUP, BMAP_ALLOC or BMAP_RESERVED, as for bmap()
 * @addrs: out: the disk block of each, 0 for a hole (or one that could
 *         not be allocated)
 * @fresh: out: bit i set if block bn + i was allocated now
 *
 * bmap() for a run: each indirect block is read once for all the slots it
 * holds, and the holes get consecutive blocks where the bitmap has them,
 * starting right after the block before bn (goal allocation), so that a
 * file written in order is laid out in order and read back in long
 * requests.  Return: 0, or -errno (then the blocks from the first that
 * failed on are 0 in addrs).
 */
int
bmap_range(struct inode *ip, uint64 bn, int n, int alloc, uint *addrs, uint64 *fresh)
{
  uint goal = 0;

  *fresh = 0;
  memset(addrs, 0, n * sizeof(uint));
  if (alloc && bn > 0 && bmap(ip, bn - 1, BMAP_LOOKUP, &goal) < 0)
    goal = 0;
  for (int i = 0; i < n; ) {
    uint64 b = bn + i;
    if (b < NDIRECT) {
      int r = bmap(ip, b, alloc, &addrs[i]);
      if (r < 0)
        return r;
      if (r == 1)
        *fresh |= 1UL << i;
      if (addrs[i])
        goal = addrs[i];
      i++;
      continue;
    }
    uint ind, slot;
    int r = indirect_of(ip, b, alloc, &ind, &slot);
    if (r < 0)
      return r;
    int k = MIN(n - i, (int)(NINDIRECT - slot));
    if (ind && (r = fill_slots(ip, ind, slot, k, alloc, &addrs[i], fresh, i, &goal)) < 0)
      return r;
    i += k;
  }
  return 0;
}

// Free the blocks that indirect block ind lists for file blocks at or
// after from (counted from the start of what ind covers), and ind itself
// when from is 0.  depth 1: the entries are data blocks; depth 2: they are
// indirect blocks.  A block freed whole is not rewritten, so truncating
// even a huge file logs only bitmap blocks and a few indirect blocks.
static void
free_indirect(struct inode *ip, uint ind, uint64 from, int depth)
{
  struct buf *bp = bread(ip->dev, ind);
  if (bp == 0) {
    // Its blocks cannot be found, so they cannot be freed.
    fs_shutdown("reading an indirect block to free its blocks", ind);
    return;
  }
  uint *a = (uint *)bp->data;
  uint64 span = depth == 2 ? NINDIRECT : 1;   // file blocks per entry
  int changed = 0;

  for (uint i = from / span; i < NINDIRECT; i++) {
    if (a[i] == 0)
      continue;
    uint64 sub = (i == from / span) ? from % span : 0;
    if (depth == 2)
      free_indirect(ip, a[i], sub, 1);
    else
      bfree(ip->dev, a[i]);
    if (sub == 0 && from != 0) {
      a[i] = 0;
      changed = 1;
    }
  }
  if (changed)
    log_write(bp);
  brelse(bp);
  if (from == 0)
    bfree(ip->dev, ind);
}

// Free every block of ip at or beyond file block ceil(length / BSIZE), and
// set the size to length.  Called with ip locked (and its i_map_lock
// held), inside an operation.
void
itrunc(struct inode *ip, uint64 length)
{
  uint64 keep = (length + BSIZE - 1) / BSIZE;   // blocks that stay

  for (uint64 bn = keep; bn < NDIRECT; bn++) {
    if (ip->addrs[bn]) {
      bfree(ip->dev, ip->addrs[bn]);
      ip->addrs[bn] = 0;
    }
  }
  if (ip->addrs[IND_SLOT] && keep < NDIRECT + NINDIRECT) {
    uint64 from = keep > NDIRECT ? keep - NDIRECT : 0;
    free_indirect(ip, ip->addrs[IND_SLOT], from, 1);
    if (from == 0)
      ip->addrs[IND_SLOT] = 0;
  }
  if (ip->addrs[DIND_SLOT]) {
    uint64 base = NDIRECT + NINDIRECT;
    uint64 from = keep > base ? keep - base : 0;
    free_indirect(ip, ip->addrs[DIND_SLOT], from, 2);
    if (from == 0)
      ip->addrs[DIND_SLOT] = 0;
  }
  ip->size = length;
  iupdate(ip);
}
