// The write-ahead log for metadata, with group commit.
//
// A file-system call brackets its metadata changes with begin_op() and
// end_op(), and marks each block it changed with log_write() instead of
// writing it.  The changed blocks stay in the buffer cache, pinned, and
// accumulate in the running transaction; many calls share one transaction
// (group commit).  A transaction commits when the log is nearly full, when
// fsync or sync asks for it (log_force), or every few seconds.
//
// Commit writes the blocks to the log area, then the header (the commit
// record), then the blocks to their home locations, and finally an empty
// header, with FLUSHes between the steps: the disk has a volatile write
// cache, and a completed write is not yet durable.  After a power cut,
// mount looks at the header: a committed transaction is copied home again
// (replay), anything else never happened.  docs/filesystem.md ("Commit,
// and why each FLUSH") explains each FLUSH, and why the empty header
// needs none after it.
//
// A disk error in any of these steps stops the commit where it is, with
// no later step written, and shuts the file system down (shutdown.c):
// the disk then holds either the transaction's old state or a committed
// log that the next mount replays, never half a transaction.
#include "types.h"
#include "param.h"
#include "uapi/fs.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"
#include "dev/blk.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"
#include "mm/sysctl.h"
#include "trap/trap.h"

static struct {
  struct spinlock lock;
  uint dev;
  uint start;            // block number of the header
  uint size;             // most blocks one transaction may hold
  int outstanding;       // calls between begin_op and end_op
  uint reserved;         // log blocks those calls may still add
  int committing;        // a commit is writing; nobody may begin
  int commit_wanted;     // commit as soon as outstanding reaches 0
  uint64 tid;            // the running transaction
  uint64 done_tid;       // the last transaction known to be committed
  uint64 ncommits;       // for wbstat
  uint32 seq;            // written into each header
  int ordered;           // data writes the running transaction waits for
  uint n;                // blocks in the running transaction
  uint block[LOGMAX];    // their home block numbers
} log;

static const char *replay(void);

// Set the log up at mount, replaying a committed transaction.  Returns
// 0, or why the file system must not be mounted.
const char *
initlog(uint dev, struct superblock *sb)
{
  initlock(&log.lock, "log");
  log.dev = dev;
  log.start = sb->logstart;
  // The buffer cache must hold every logged block plus room for readers.
  log.size = MIN(MIN(sb->nlog - 1, LOGMAX), NBUF - 32);
  log.tid = 1;
  return replay();
}

// The commit record's checksum (the on-disk format, uapi/fs.h): over the
// header's n, seq and block numbers, then the contents of the n logged
// blocks, which are blocks[0..n-1].
static uint32
header_checksum(struct logheader *lh, uchar **blocks)
{
// LAB(crash) BEGIN header_checksum
#ifndef LAB_STARTER
  uint32 h = log_checksum_start(lh);

  for (uint i = 0; i < lh->n; i++)
    h = fnv1a(h, blocks[i], BSIZE);
  return h;
#else
  return log_checksum_start(lh);
#endif
// LAB(crash) END
}

// Write the header block: n == 0 empties the log.  0, or -EIO.
static int
write_header(uint n, uchar **blocks)
{
  struct buf *hb = bgetzero(log.dev, log.start);
  struct logheader *lh = (struct logheader *)hb->data;

  lh->magic = LOG_MAGIC;
  lh->n = n;
  lh->seq = log.seq;
  for (uint i = 0; i < n; i++)
    lh->block[i] = log.block[i];
  lh->checksum = header_checksum(lh, blocks);
  int err = bwrite(hb);
  if (err)
    hb->valid = 0;   // what the disk holds there is not known
  brelse(hb);
  return err;
}

// Write n cached blocks to the disk blocks where(0..n-1), all requests in
// flight at once, and wait for every one.  Runs of consecutive disk
// blocks go out as one multi-segment request.  Returns 0, or the first
// block of a request the disk failed.
static uint
write_blocks(uint n, uchar **data, uint (*where)(uint i))
{
  // Static, not on the kernel stack (8 KiB would overflow it): commits
  // run one at a time, and replay runs before anything else.
  static struct blk_request *reqs[LOGMAX];
  int nreq = 0;
  uint failed = 0;

  for (uint i = 0; i < n; i++) {
    struct blk_request *req = nreq > 0 ? reqs[nreq - 1] : 0;
    if (req == 0 || req->nseg == BLK_MAXSEG || req->blockno + req->nseg != where(i)) {
      req = reqs[nreq++] = blk_alloc();
      req->op = BLK_WRITE;
      req->blockno = where(i);
    }
    req->seg[req->nseg].addr = data[i];
    req->seg[req->nseg].len = BSIZE;
    req->nseg++;
  }
  blk_submit_batch(reqs, nreq);
  for (int i = 0; i < nreq; i++) {
    if (reqs[i]->error && failed == 0)
      failed = reqs[i]->blockno;
    blk_free(reqs[i]);
  }
  return failed;
}

static uint
log_slot(uint i)
{
  return log.start + 1 + i;
}

static uint
home_slot(uint i)
{
  return log.block[i];
}

// The writes of a commit, in order: the n blocks data[0..n-1] to the log,
// the commit record (write_header), the blocks to their homes.  Each step
// must succeed before the next may start.  On a disk error, returns what
// failed (for the console) and sets *blockno to the block that failed (0
// for a FLUSH), and the caller shuts the file system down.
static const char *
commit_writes(uint n, uchar **data, uint *blockno)
{
// LAB(crash) BEGIN commit_writes
#ifndef LAB_STARTER
  if ((*blockno = write_blocks(n, data, log_slot)) != 0)
    return "writing the log";
  if (blk_flush() != 0)
    return "flushing the log blocks";
  if (write_header(n, data) != 0) {      // the commit point
    *blockno = log.start;
    return "writing the log header";
  }
  if (blk_flush() != 0)
    return "flushing the log header";
  if ((*blockno = write_blocks(n, data, home_slot)) != 0)
    return "writing home blocks";
  if (blk_flush() != 0)
    return "flushing the home blocks";
  return 0;
#else
  // The header first, so that a crash finds the transaction announced,
  // then the blocks.  (No FLUSH: the disk writes everything in the end.)
  if (write_header(n, data) != 0) {
    *blockno = log.start;
    return "writing the log header";
  }
  if ((*blockno = write_blocks(n, data, log_slot)) != 0)
    return "writing the log";
  if ((*blockno = write_blocks(n, data, home_slot)) != 0)
    return "writing home blocks";
  return 0;
#endif
// LAB(crash) END
}

// Ordered data: wait until no data write that the running transaction
// must wait for is in flight (log_ordered_begin/end, below).
static void
wait_for_ordered_data(void)
{
// LAB(crash) BEGIN ordered_wait
#ifndef LAB_STARTER
  acquire(&log.lock);
  while (log.ordered > 0)
    sleep(&log.ordered, &log.lock);
  release(&log.lock);
#else
  // Nothing yet: the commit does not wait.
#endif
// LAB(crash) END
}

// Commit the running transaction.  Nobody else is in the log (committing
// is set), so the pinned buffers hold stable contents.  Once the file
// system has shut down, a transaction is dropped instead: nothing more
// reaches the disk (shutdown.c).
static void
commit(void)
{
  static struct buf *bufs[LOGMAX];
  static uchar *data[LOGMAX];
  uint n = log.n, blockno = 0;
  const char *failed = 0;

  if (n == 0)
    return;
  // Ordered data: the transaction may point at blocks whose data is still
  // being written.  Those writes must be complete before the commit
  // record, so that the FLUSH before it makes them durable first.
  wait_for_ordered_data();
  for (uint i = 0; i < n; i++) {
    bufs[i] = bread(log.dev, log.block[i]);   // pinned: in the cache
    data[i] = bufs[i]->data;
  }
  log.seq++;
  if (!fs_is_shut_down() && (failed = commit_writes(n, data, &blockno)) != 0)
    fs_shutdown(failed, blockno);
  if (!fs_is_shut_down()) {
    for (uint i = 0; i < n; i++)
      bitmap_committed(log.block[i], data[i]);
    // Empty the log.  No FLUSH: see the top of this file.
    if (write_header(0, data) != 0)
      fs_shutdown("emptying the log header", log.start);
  }
  for (uint i = 0; i < n; i++) {
    bunpin(bufs[i]);
    brelse(bufs[i]);
  }
  log.n = 0;
}

// Called with log.lock held, outstanding == 0 and no commit running.
static void
commit_locked(void)
{
  log.committing = 1;
  release(&log.lock);
  commit();
  acquire(&log.lock);
  log.committing = 0;
  log.commit_wanted = 0;
  log.done_tid = log.tid;
  log.tid++;
  log.ncommits++;
  wakeup(&log);
}

// Start a file-system call that may add up to nblocks blocks to the
// transaction.  Waits while a commit runs, and commits first if the
// running transaction might not have room.
void
begin_op_n(uint nblocks)
{
  struct proc *p = myproc();

  if (nblocks > log.size / 2)
    panic("begin_op: reservation of %d blocks too large", nblocks);
  acquire(&log.lock);
  for (;;) {
    if (log.committing) {
      sleep(&log, &log.lock);
    } else if (log.commit_wanted || log.n + log.reserved + nblocks > log.size) {
      log.commit_wanted = 1;
      if (log.outstanding == 0)
        commit_locked();
      else
        sleep(&log, &log.lock);
    } else {
      log.outstanding++;
      log.reserved += nblocks;
      break;
    }
  }
  release(&log.lock);
  p->op_reserved = nblocks;
  p->op_added = 0;
}

void
begin_op(void)
{
  begin_op_n(MAXOPBLOCKS);
}

// End a file-system call.  The last one out commits if a commit is wanted.
void
end_op(void)
{
  struct proc *p = myproc();

  acquire(&log.lock);
  if (log.outstanding <= 0 || log.committing)
    panic("end_op: not in an operation");
  log.outstanding--;
  log.reserved -= p->op_reserved;
  p->op_reserved = 0;
  if (log.outstanding == 0 && log.commit_wanted)
    commit_locked();
  release(&log.lock);
}

// The disk failed a read (bio.c).  In an operation that has changed
// something already, the rest of the change cannot be made, and what was
// changed must not commit on its own: half an operation would be on the
// disk.  The file system stops instead (shutdown.c).  Outside of one, or
// before its first change, the call that needed the block just fails.
void
log_read_failed(uint blockno)
{
  struct proc *p = myproc();

  if (p && p->op_reserved > 0 && p->op_added > 0)   // inside an operation
    fs_shutdown("reading a block in the middle of a change", blockno);
}

// How many more blocks the caller's operation may add.
int
log_op_room(void)
{
  struct proc *p = myproc();

  return p->op_reserved - p->op_added;
}

// A data write that the running transaction must wait for before it
// commits (ordered data); log_ordered_end() is called when it completes,
// possibly from an interrupt, with its error.  A failed ordered write
// shuts the file system down, so that the transaction never commits: it
// would make a block part of a file whose data never reached it.
void
log_ordered_begin(void)
{
  acquire(&log.lock);
  log.ordered++;
  release(&log.lock);
}

void
log_ordered_end(int error, uint blockno)
{
  if (error)
    fs_shutdown("writing new file data", blockno);
  acquire(&log.lock);
  if (--log.ordered == 0)
    wakeup(&log.ordered);
  release(&log.lock);
}

// Record that the caller changed b (which it holds locked): the block
// joins the running transaction and stays pinned in the cache until the
// commit has written it.
void
log_write(struct buf *b)
{
  acquire(&log.lock);
  if (log.outstanding < 1)
    panic("log_write: outside of an operation");
  uint i;
  for (i = 0; i < log.n; i++)
    if (log.block[i] == b->blockno)
      break;   // already in this transaction: absorbed
  if (i == log.n) {
    struct proc *p = myproc();
    if (log.n >= log.size || p->op_added >= p->op_reserved)
      panic("log_write: operation logs more blocks than it reserved");
    log.block[log.n++] = b->blockno;
    p->op_added++;
    bpin(b);
  }
  release(&log.lock);
}

/**
 * log_forget - take a freed block out of the running transaction
 * @blockno: a block just freed, inside the current operation
 *
 * A block this transaction logged and then freed (an indirect block of a
 * file truncated again) can be handed out at once as a data block: no
 * committed bitmap ever showed it in use.  File data goes to the disk
 * directly, so if the commit wrote the logged copy home, it would land on
 * that data.  The transaction ends with the block free, so nothing needs
 * the copy: the block leaves the transaction, and the cache may drop it.
 */
void
log_forget(uint blockno)
{
  int logged = 0;

  acquire(&log.lock);
  for (uint i = 0; i < log.n && !logged; i++) {
    if (log.block[i] == blockno) {
      log.block[i] = log.block[--log.n];
      logged = 1;
    }
  }
  release(&log.lock);
  if (logged) {
    struct buf *b = bread(log.dev, blockno);   // pinned: in the cache
    if (b) {
      bunpin(b);
      brelse(b);
    }
  }
}

// Make every completed file-system call durable: commit the running
// transaction (or wait for the commit in progress) unless it is empty.
// Does not FLUSH when there was nothing to commit; callers that need the
// disk cache emptied anyway call blk_flush().  Returns 0, or -EIO once
// the file system has shut down (then nothing is made durable).
int
log_force(void)
{
  acquire(&log.lock);
  if (log.committing || log.n > 0) {
    uint64 target = log.tid;
    while (log.done_tid < target) {
      if (!log.committing && log.outstanding == 0) {
        commit_locked();
      } else {
        log.commit_wanted = 1;
        sleep(&log, &log.lock);
      }
    }
  }
  release(&log.lock);
  return fs_is_shut_down() ? -EIO : 0;
}

// The largest reservation one operation may make.
uint
log_op_max(void)
{
  return log.size / 2;
}

// The log's thread: commits the running transaction every commit interval
// (sysctl commit_centisecs), so that metadata changes reach the disk
// within that time even if nobody calls fsync (Linux's jbd2 thread does
// this job for ext4).
static void
committer(void *arg)
{
  uint64 last = ticks;

  for (;;) {
    acquire(&tickslock);
    while (ticks - last < (uint64)vm_tunables.commit_centisecs * TICK_HZ / 100)
      sleep(&ticks, &tickslock);
    last = ticks;
    release(&tickslock);
    log_force();
  }
}

void
log_start_committer(void)
{
  if (kthread_create("commit", committer, 0) == 0)
    panic("log: no process slot for the commit thread");
}

uint64
log_commits(void)
{
  return log.ncommits;
}

// Release n buffers.
static void
brelse_all(struct buf **bufs, uint n)
{
  for (uint i = 0; i < n; i++)
    brelse(bufs[i]);
}

// Read the n logged blocks into lbufs.  0, or the block that could not
// be read (the others are released).
static uint
read_logged(uint n, struct buf **lbufs, uchar **data)
{
  for (uint i = 0; i < n; i++) {
    if ((lbufs[i] = bread(log.dev, log.start + 1 + i)) == 0) {
      brelse_all(lbufs, i);
      return log.start + 1 + i;
    }
    data[i] = lbufs[i]->data;
  }
  return 0;
}

// Does the header, whose n logged blocks are data[0..n-1], hold a
// transaction that committed?
static int
log_committed(struct logheader *lh, uchar **data)
{
// LAB(crash) BEGIN replay_check
#ifndef LAB_STARTER
  // Only a header whose checksum matches was written whole, after all of
  // its blocks, by the commit that names them.
  return header_checksum(lh, data) == lh->checksum;
#else
  return 1;
#endif
// LAB(crash) END
}

// Copy a committed transaction home, the blocks data[0..n-1] to the homes
// in log.block[], and empty the log.  0, or a reason if the disk failed
// one of the writes (the mount is then refused).
static const char *
replay_writes(uint n, uchar **data)
{
// LAB(crash) BEGIN replay_writes
#ifndef LAB_STARTER
  if (write_blocks(n, data, home_slot) != 0)
    return "the disk failed a write of the log's blocks to their home";
  if (blk_flush() != 0 || write_header(0, data) != 0 || blk_flush() != 0)
    return "the disk failed to empty the log";
  return 0;
#else
  // Empty the log first, so that the transaction is not copied twice.
  if (write_header(0, data) != 0)
    return "the disk failed to empty the log";
  if (write_blocks(n, data, home_slot) != 0)
    return "the disk failed a write of the log's blocks to their home";
  return 0;
#endif
// LAB(crash) END
}

// At mount: if the log holds a committed transaction, copy its blocks
// home, then empty the log.  Returns 0, or why the mount must be refused:
// a committed transaction that cannot be read or written home would leave
// the file system half changed.
static const char *
replay(void)
{
  static uchar *data[LOGMAX];
  static struct buf *lbufs[LOGMAX];   // static: see write_blocks
  struct buf *hb = bread(log.dev, log.start);

  if (hb == 0)
    return "the disk failed the read of the log header";
  struct logheader *lh = (struct logheader *)hb->data;
  uint n = lh->n;
  log.seq = lh->seq;
  if (lh->magic != LOG_MAGIC || n == 0 || n > log.size) {
    brelse(hb);
    return 0;
  }
  if (read_logged(n, lbufs, data) != 0) {
    brelse(hb);
    return "the disk failed a read of the log: a committed transaction may be there";
  }
  if (!log_committed(lh, data)) {
    // The transaction never committed: nothing to do.
    brelse_all(lbufs, n);
    brelse(hb);
    return 0;
  }
  printf("log: replaying %d blocks of transaction %d\n", n, lh->seq);
  for (uint i = 0; i < n; i++) {
    log.block[i] = lh->block[i];
    binvalidate(log.dev, log.block[i]);
  }
  brelse(hb);
  const char *why = replay_writes(n, data);
  brelse_all(lbufs, n);
  return why;
}
