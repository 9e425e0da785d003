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
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

#define MAXBMAP 64        // bitmap blocks we can shadow: disks up to 8 GiB

static uchar *committed[MAXBMAP];   // one page per bitmap block
static uint nbmap;
static uint alloc_hint;             // where the next search starts

void
bitmap_init(void)
{
  nbmap = (sb.size + BPB - 1) / BPB;
  if (nbmap > MAXBMAP)
    panic("bitmap_init: disk too large (%d bitmap blocks)", nbmap);
  for (uint i = 0; i < nbmap; i++) {
    if ((committed[i] = kalloc()) == 0)
      panic("bitmap_init: out of memory");
    struct buf *b = bread(ROOTDEV, sb.bmapstart + i);
    memmove(committed[i], b->data, BSIZE);
    brelse(b);
  }
  alloc_hint = sb.datastart;
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

// Allocate a block inside the current operation; 0 if the disk is full.
// The block's contents are whatever the disk holds: a caller that uses it
// for metadata zeroes it through the log, and file data is written whole
// before anything points to it.
uint
balloc(uint dev)
{
  for (uint n = 0; n < sb.nblocks; ) {
    uint b = alloc_hint;
    uint bi = b / BPB;
    struct buf *bp = bread(dev, sb.bmapstart + bi);
    for (; b < (bi + 1) * BPB && b < sb.size && n < sb.nblocks; b++, n++) {
      uint i = b % BPB;
      if (!bit(bp->data, i) && !bit(committed[bi], i)) {
        bp->data[i / 8] |= 1 << (i % 8);
        log_write(bp);
        brelse(bp);
        alloc_hint = b + 1 < sb.size ? b + 1 : sb.datastart;
        return b;
      }
    }
    brelse(bp);
    alloc_hint = b < sb.size ? b : sb.datastart;
  }
  return 0;
}

// Free a block inside the current operation.
void
bfree(uint dev, uint b)
{
  if (b < sb.datastart || b >= sb.size)
    panic("bfree: block %d outside the data area", b);
  struct buf *bp = bread(dev, BBLOCK(b, sb));
  uint i = b % BPB;
  if (!bit(bp->data, i))
    panic("bfree: block %d is already free", b);
  bp->data[i / 8] &= ~(1 << (i % 8));
  log_write(bp);
  brelse(bp);
}
