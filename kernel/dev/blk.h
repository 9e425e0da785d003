// The block request layer: asynchronous disk I/O with completion callbacks.
//
// A caller fills in a blk_request — an operation, a starting block, and up
// to BLK_MAXSEG memory segments that cover consecutive disk blocks — and
// hands it to blk_submit(), which returns as soon as the disk has it.  When
// the disk finishes, the interrupt handler sets req->error and calls
// req->end_io(req).  end_io runs in interrupt context: it must not sleep.
//
// blk_submit_wait() is the synchronous form: submit, then sleep until done.
#ifndef QUIRE_BLK_H
#define QUIRE_BLK_H

#include "types.h"

#define BLK_MAXSEG 64   // segments per request: 256 KiB of 4 KiB pages

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

struct blk_seg {
  void *addr;           // kernel address
  uint32 len;           // bytes, a multiple of 512
};

struct blk_request {
  int dev;              // which disk: 0 is the file system's
  enum blk_op op;
  uint64 blockno;       // first block (BSIZE bytes each); unused for FLUSH
  int nseg;
  struct blk_seg seg[BLK_MAXSEG];
  void (*end_io)(struct blk_request *req);   // called at completion
  void *private;        // for the submitter's end_io
  int error;            // 0 or -EIO, set before end_io is called
  int done;             // set after end_io returns (blk_submit_wait)

  // Owned by the driver while the request is in flight.
  uint8 status;                  // written by the device
  struct blk_request *next;      // driver queues
};

void blk_init(void);
void blk_submit(struct blk_request *req);
int blk_submit_wait(struct blk_request *req);
int blk_submit_batch(struct blk_request **reqs, int n);
int blk_rw(enum blk_op op, uint64 blockno, void *buf, int nblocks);
int blk_flush(void);
int blk_flush_dev(int dev);
int blk_flush_needed(void);          // would a FLUSH now make anything durable?
uint64 blk_capacity(void);           // the file-system disk's size in blocks

// Request allocation from a fixed pool; blk_alloc sleeps until one is free.
struct blk_request *blk_alloc(void);
void blk_free(struct blk_request *req);

// A hold: a test tool (kernel/debug/blkhold.c) that makes the disk look
// as if it reordered its queue.  An attached hold sees every request
// blk_submit() is given; if it returns 1 it has kept the request and will
// pass it to blk_dispatch() later.  Nothing else depends on it.
typedef int (*blk_hold_t)(struct blk_request *req);
void blk_attach_hold(blk_hold_t hold);
void blk_dispatch(struct blk_request *req);

// Disk counters since boot, for wbstat.
struct blk_stats {
  uint64 reads, writes, read_bytes, write_bytes, flushes, errors;
};
void blk_get_stats(struct blk_stats *st);

#endif
