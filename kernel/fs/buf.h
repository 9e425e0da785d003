// The buffer cache: in-memory copies of metadata blocks.
//
// Inodes, bitmap blocks, indirect blocks and directories are read and
// written through here, one 4096-byte block per buffer.  A buffer's sleep
// lock gives one process at a time the right to use its data.
#ifndef QUIRE_BUF_H
#define QUIRE_BUF_H

#include "types.h"
#include "lib/sleeplock.h"

struct buf {
  int valid;              // data holds the block's contents
  uint dev;
  uint blockno;
  struct sleeplock lock;
  uint refcnt;            // users, plus one while pinned by the log
  struct buf *prev;       // least-recently-used list: head.next is the
  struct buf *next;       //   most recent, head.prev the least
  uchar *data;            // BSIZE bytes (a page)
};

void binit(void);
struct buf *bread(uint dev, uint blockno) __attribute__((warn_unused_result));
struct buf *bgetzero(uint dev, uint blockno);
int bwrite(struct buf *b);
void brelse(struct buf *b);
void bpin(struct buf *b);
void bunpin(struct buf *b);
void binvalidate(uint dev, uint blockno);

#endif
