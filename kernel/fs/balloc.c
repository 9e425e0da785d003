// Allocating disk blocks: the free bitmap.
//
// One bit per block, 1 = in use.  Changes to the bitmap are metadata and
// go through the log.  But a block freed by a transaction that has not yet
// committed still belongs to its old owner on the disk: if it were handed
// out again and its new owner's data written straight to it, a power cut
// before the commit would leave the old owner (a file, or a directory!)
// showing someone else's bytes.  So the kernel keeps a second copy of the
// bitmap as the disk has it after the last commit, and a block is free for
// allocation only when it is free in both copies.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "uapi/errno.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

#define MAXBMAP 64        // bitmap blocks we can shadow: disks up to 8 GiB

static uchar *committed[MAXBMAP];   // one page per bitmap block
static uint nbmap;
static uint alloc_hint;             // where the next search starts

// Free space and delayed allocation.  write(2) gives a dirty folio no
// block; it reserves one instead, and writeback allocates it later.  A
// reservation must never fail to turn into a block, or data that write(2)
// accepted would be lost, so write(2) fails with ENOSPC up front when
// free - reserved is too small.  Blocks freed by a transaction that has
// not committed count as free here: if writeback meets one, it commits
// and tries again.
static struct spinlock space_lock;
static uint64 nfree;                // zero bits in the bitmap
static uint64 nreserved;            // blocks promised to dirty folios

// Load the bitmap at mount.  0, or why the mount must be refused.
const char *
bitmap_init(void)
{
  initlock(&space_lock, "space");
  nbmap = (sb.size + BPB - 1) / BPB;
  if (nbmap > MAXBMAP)
    return "the disk is too large for this kernel's bitmap";
  for (uint i = 0; i < nbmap; i++) {
    if ((committed[i] = kalloc()) == 0)
      panic("bitmap_init: out of memory");
    struct buf *b = bread(ROOTDEV, sb.bmapstart + i);
    if (b == 0)
      return "the disk failed a read of the free-block bitmap";
    memmove(committed[i], b->data, BSIZE);
    brelse(b);
  }
  for (uint blk = sb.datastart; blk < sb.size; blk++)
    if (!((committed[blk / BPB][(blk % BPB) / 8] >> (blk % 8)) & 1))
      nfree++;
  alloc_hint = sb.datastart;
  return 0;
}

// Indirect blocks that writing n delayed blocks of one file may need, at
// worst: one per NINDIRECT data blocks, plus one more and the double
// indirect block for a run that straddles their boundaries.
static uint64
meta_for(uint64 n)
{
  return n ? (n + NINDIRECT - 1) / NINDIRECT + 2 : 0;
}

// Reserve space for n more dirty pages of ip without a disk block (the
// pages of one folio that have none).  0, or -ENOSPC.  Called with the
// folio locked.
int
reserve_delalloc(struct inode *ip, uint64 n)
{
  int r = 0;

  acquire(&space_lock);
  uint64 want = n + meta_for(ip->i_delalloc + n) - meta_for(ip->i_delalloc);
  if (nfree < nreserved + want) {
    r = -ENOSPC;
  } else {
    nreserved += want;
    ip->i_delalloc += n;
    ip->i_reserved += want;
  }
  release(&space_lock);
  return r;
}

// n delayed pages of ip no longer need their reservations: they got their
// blocks (taken from the reserve by balloc_run_reserved) or they were
// truncated away.
void
release_delalloc(struct inode *ip, uint64 n)
{
  if (n == 0)
    return;
  acquire(&space_lock);
  if (ip->i_delalloc < n)
    panic("release_delalloc: %d reserved, %d released", (int)ip->i_delalloc, (int)n);
  uint64 give = n + meta_for(ip->i_delalloc) - meta_for(ip->i_delalloc - n);
  ip->i_delalloc -= n;
  ip->i_reserved -= give;
  nreserved -= give;
  release(&space_lock);
}

// The log calls this for every block it has just written home: if it is
// a bitmap block, the disk now has this version.
void
bitmap_committed(uint blockno, const uchar *data)
{
  if (blockno >= sb.bmapstart && blockno < sb.bmapstart + nbmap)
    memmove(committed[blockno - sb.bmapstart], data, BSIZE);
}

static int
bit(const uchar *map, uint i)
{
  return (map[i / 8] >> (i % 8)) & 1;
}

static int
free_in_both(struct buf *bp, uint bi, uint b)
{
  uint i = b % BPB;

  return !bit(bp->data, i) && !bit(committed[bi], i);
}

// Find and take up to want free blocks in a row, inside the current
// operation, searching from start on: 0 with the first in *first and the
// count in *got; -ENOSPC if no block is free; -EIO if the disk failed a
// read of the bitmap.  A run ends at the first block in use, or at the
// end of a bitmap block.  One log_write covers the whole run.
static int
take_run(uint dev, uint start, uint want, uint *first, uint *got)
{
  uint b = start >= sb.datastart && start < sb.size ? start : alloc_hint;

  *got = 0;
  for (uint n = 0; n < sb.nblocks; ) {
    uint bi = b / BPB, end = MIN((bi + 1) * BPB, sb.size);
    struct buf *bp = bread(dev, sb.bmapstart + bi);
    if (bp == 0)
      return -EIO;
    for (; b < end && n < sb.nblocks; b++, n++) {
      if (!free_in_both(bp, bi, b))
        continue;
      *first = b;
      for (; b < end && *got < want && free_in_both(bp, bi, b); b++, (*got)++)
        bp->data[(b % BPB) / 8] |= 1 << (b % 8);
      log_write(bp);
      brelse(bp);
      alloc_hint = b < sb.size ? b : sb.datastart;
      acquire(&space_lock);
      nfree -= *got;
      release(&space_lock);
      return 0;
    }
    brelse(bp);
    if (b >= sb.size)
      b = sb.datastart;
  }
  return -ENOSPC;
}

// Find and take a free block inside the current operation: 0 with the
// block in *out; -ENOSPC if there is none; -EIO if the disk failed a read
// of the bitmap.
static int
take_block(uint dev, uint *out)
{
  uint got;

  return take_run(dev, alloc_hint, 1, out, &got);
}

// Allocate a block inside the current operation, for metadata or for a
// write that reserved nothing; space reserved for delayed folios is not
// touched.  0 with the block in *b, -ENOSPC if the disk is full, or
// -EIO.  The block's contents are whatever the disk holds: a caller that
// uses it for metadata zeroes it through the log, and file data is
// written whole before anything points to it.
int
balloc(uint dev, uint *b)
{
  acquire(&space_lock);
  int ok = nfree > nreserved;
  release(&space_lock);
  return ok ? take_block(dev, b) : -ENOSPC;
}

// Allocate a block for writeback of a delayed folio (or an indirect block
// it needs): space was reserved, so this may use reserved space.  -ENOSPC
// only if every free block was freed by an uncommitted transaction.
int
balloc_reserved(uint dev, uint *b)
{
  return take_block(dev, b);
}

/**
 * balloc_run_reserved - allocate consecutive blocks for delayed folios
 * @dev: the device
 * @goal: where the search starts: the block after the file's previous
 *        block, so that a file written in order lands in order (0: the
 *        allocator's own hint)
 * @want: how many blocks the caller would like in a row
 * @first: out: the first block
 * @got: out: how many it got, at least 1 on success
 *
 * For writeback of a run of delayed folios, whose space is reserved.
 * Return: 0; -ENOSPC only if every free block was freed by an
 * uncommitted transaction; -EIO.
 */
int
balloc_run_reserved(uint dev, uint goal, uint want, uint *first, uint *got)
{
  return take_run(dev, goal, want, first, got);
}

// Free a block inside the current operation.  A pointer to a block that
// is outside the data area or already free means the disk's metadata is
// damaged, and a bitmap that cannot be read cannot be changed: either
// way the file system stops writing (shutdown.c) rather than make it
// worse.
void
bfree(uint dev, uint b)
{
  if (b < sb.datastart || b >= sb.size) {
    fs_shutdown("freeing a block outside the data area: the metadata is damaged", b);
    return;
  }
  struct buf *bp = bread(dev, BBLOCK(b, sb));
  if (bp == 0) {
    fs_shutdown("reading the free-block bitmap", BBLOCK(b, sb));
    return;
  }
  uint i = b % BPB;
  if (!bit(bp->data, i)) {
    brelse(bp);
    fs_shutdown("freeing a block that is free already: the metadata is damaged", b);
    return;
  }
  bp->data[i / 8] &= ~(1 << (i % 8));
  log_write(bp);
  brelse(bp);
  log_forget(b);    // its logged copy, if any, must not be written home
  acquire(&space_lock);
  nfree++;
  release(&space_lock);
}
