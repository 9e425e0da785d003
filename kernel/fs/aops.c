// The file system's side of the page cache: reading a folio from its
// block, and ->writepages, which allocates blocks for delayed folios,
// gathers folios whose blocks are consecutive into one disk request, and
// keeps many requests in flight.
//
// Writeback maps folios a run at a time.  A folio writeback_iter() hands
// out is put under writeback and unlocked at once, and waits in the run
// (ctx->run) with the folios of consecutive indexes after it; the run is
// then mapped in one bmap_range() call, which allocates its delayed blocks
// as one contiguous piece of the disk where it can, and sent as one
// request.  Per-folio block-map work was most of writeback's time (make
// profile: bmap, bread and the bitmap for every page).  A folio in the run
// is under writeback and unlocked, so nothing that waits for it can be
// holding a folio lock the iterator needs; but the run must be sent before
// the log operation is renewed, since a truncate in another operation may
// be waiting for it.
//
// Ordered data: when writeback gives a folio its first block, the block
// pointer (and the larger on-disk size) are metadata in the running log
// transaction.  The data write is registered with the log
// (log_ordered_begin), and the transaction waits for it before its
// commit record; so after a crash a file never points at a block that
// holds anything but the data written there.  If that write fails, the
// block holds whatever it held before (another file's old bytes, say), so
// the transaction must not commit: log_ordered_end shuts the file system
// down.  An overwrite of a block the file already had is not ordered: if
// it fails, the file keeps its old bytes, and fsync reports the error.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "lib/sleeplock.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"
#include "lib/trace.h"
#include "dev/blk.h"
#include "fs/fs.h"
#include "fs/log.h"

// Log blocks a writeback operation reserves (at most: a small log allows
// less), and the most one run of folios can add: two bitmap blocks (a
// search can cross from one to the next), two indirect blocks and the
// double-indirect block, a new indirect block, and the inode block; one
// spare.
#define WB_LOG_RESERVE MIN(32, log_op_max())
#define WB_LOG_PER_RUN 8

static void
read_end_io(struct blk_request *req)
{
  for (int i = 0; i < req->nseg; i++) {
    struct folio *folio = virt_to_folio(req->seg[i].addr);
    if (req->error == 0)
      folio_mark_uptodate(folio);
    folio_unlock(folio);
  }
  blk_free(req);
}

// The disk block of file block index in *addr, or 0 for a hole.  Returns
// 0, or -EIO if the disk failed the read of an indirect block: the block
// is then unknown, which is not a hole.
static int
lookup_block(struct inode *ip, pgoff_t index, uint *addr)
{
  acquiresleep(&ip->i_map_lock);
  int r = bmap(ip, index, BMAP_LOOKUP, addr);
  releasesleep(&ip->i_map_lock);
  return r < 0 ? r : 0;
}

// ->read_folio: start reading a locked folio; the disk interrupt marks it
// uptodate and unlocks it.  A hole reads as zeros at once.  On an error
// the folio is unlocked and left not uptodate, so that the reader sees
// EIO and a later read tries again.
static int
qfs_read_folio(struct file *file, struct folio *folio)
{
  struct inode *ip = folio->mapping->host;
  uint addr;
  int r = lookup_block(ip, folio->index, &addr);

  if (r < 0) {
    folio_unlock(folio);
    return r;
  }
  if (addr == 0) {
    memset(folio_address(folio), 0, PGSIZE);
    folio_mark_uptodate(folio);
    folio_unlock(folio);
    return 0;
  }
  folio_set_flag(folio, PG_mappedtodisk);
  struct blk_request *req = blk_alloc();
  req->op = BLK_READ;
  req->blockno = addr;
  req->nseg = 1;
  req->seg[0].addr = folio_address(folio);
  req->seg[0].len = PGSIZE;
  req->end_io = read_end_io;
  blk_submit(req);
  return 0;
}

// ->readahead: start reading nr locked folios of consecutive indexes.
// Their blocks are looked up at once (bmap_range), and folios
// whose blocks are consecutive share one disk request (up to BLK_MAXSEG):
// a file written sequentially is read back in 256 KiB requests.
static void
qfs_readahead(struct address_space *mapping, struct folio **folios, int nr)
{
  struct inode *ip = mapping->host;
  struct blk_request *req = 0;
  uint addrs[BLK_MAXSEG];

  if (nr > BLK_MAXSEG)
    panic("qfs_readahead: %d folios", nr);
  uint64 fresh;

  acquiresleep(&ip->i_map_lock);
  int err = bmap_range(ip, folios[0]->index, nr, BMAP_LOOKUP, addrs, &fresh);
  releasesleep(&ip->i_map_lock);
  for (int i = 0; i < nr; i++) {
    struct folio *folio = folios[i];
    if (addrs[i] == 0 && err < 0) {
      // A hole, or a block behind an indirect block the disk failed to
      // read: leave it to ->read_folio, if someone needs it.
      folio_unlock(folio);
      continue;
    }
    if (addrs[i] == 0) {
      memset(folio_address(folio), 0, PGSIZE);   // a hole
      folio_mark_uptodate(folio);
      folio_unlock(folio);
      continue;
    }
    folio_set_flag(folio, PG_mappedtodisk);
    if (req && (req->nseg == BLK_MAXSEG || req->blockno + req->nseg != addrs[i])) {
      blk_submit(req);
      req = 0;
    }
    if (req == 0) {
      req = blk_alloc();
      req->op = BLK_READ;
      req->blockno = addrs[i];
      req->end_io = read_end_io;
    }
    req->seg[req->nseg].addr = folio_address(folio);
    req->seg[req->nseg].len = PGSIZE;
    req->nseg++;
  }
  if (req)
    blk_submit(req);
}

// ->write_begin: a folio about to receive data must have a block on the
// disk or a reservation for one.
static int
qfs_write_begin(struct address_space *mapping, struct folio *folio)
{
  struct inode *ip = mapping->host;

  if (fs_is_shut_down())
    return -EROFS;
  if (folio_test_flag(folio, PG_mappedtodisk) || folio_test_flag(folio, PG_delalloc))
    return 0;
  // Every block of a file lies below its on-disk size (writeback moves
  // i_disksize past a folio when it gives the folio a block, and truncate
  // frees the blocks past the size it sets), so an append needs no look
  // at the block map, and does not queue behind writeback for i_map_lock.
  // A stale read is harmless: only this folio's writeback, which waits for
  // the folio lock held here, could give this index a block.
  uint64 disksize = __atomic_load_n(&ip->i_disksize, __ATOMIC_ACQUIRE);
  uint addr = 0;
  if ((uint64)folio_pos(folio) < disksize) {
    int r = lookup_block(ip, folio->index, &addr);
    if (r < 0)
      return r;
    if (addr != 0) {
      folio_set_flag(folio, PG_mappedtodisk);
      return 0;
    }
  }
  int r = reserve_delalloc(ip);
  if (r == 0)
    folio_set_flag(folio, PG_delalloc);
  return r;
}

// ->invalidate_folio: the folio leaves the cache; give back its reservation.
static void
qfs_invalidate_folio(struct folio *folio)
{
  if (folio_test_clear_flag(folio, PG_delalloc))
    release_delalloc(folio->mapping->host);
}

// The state of one ->writepages call.
struct wb_ctx {
  struct inode *ip;
  struct blk_request *req;   // being filled: consecutive blocks
  struct folio *run[BLK_MAXSEG];   // under writeback, not mapped yet
  int nrun;
  int trace_mode;
  int reserved_ok;           // a failed allocation may be retried
  int need_commit;           // ... after a log commit
  int disksize_changed;      // the disk inode must be written
  int ordered;               // req makes new data part of the file
};

// Write the disk inode if this writeback moved i_disksize.
static void
update_inode(struct wb_ctx *ctx)
{
  if (ctx->disksize_changed) {
    iupdate_locked_map(ctx->ip);
    ctx->disksize_changed = 0;
  }
}

static void
write_end_io(struct blk_request *req)
{
  for (int i = 0; i < req->nseg; i++) {
    struct folio *folio = virt_to_folio(req->seg[i].addr);
    if (req->error) {
      mapping_set_error(folio->mapping, req->error);
      errseq_set(&sb_wb_err, req->error);   // for syncfs(2)
      trace_event(TR_WB_ERROR, folio->mapping->host->inum, folio->index, -req->error, 0);
    }
    folio_end_writeback(folio);
  }
  if (req->private)
    log_ordered_end(req->error, req->blockno);
  blk_free(req);
}

// Send the request being gathered.  ctx->ordered says whether it makes
// new bytes part of the file (a new block, a larger on-disk size); the
// end_io (write_end_io) sees the same in req->private.
static void
submit_pending(struct wb_ctx *ctx)
{
  if (ctx->req) {
// LAB(crash) BEGIN ordered_submit
#ifndef LAB_STARTER
    if (ctx->ordered)
      log_ordered_begin();
    ctx->req->private = (void *)(uint64)ctx->ordered;
#else
    ctx->req->private = 0;
#endif
// LAB(crash) END
    blk_submit(ctx->req);
    ctx->req = 0;
    ctx->ordered = 0;
  }
}

// Add a mapped folio, under writeback, to the request being filled, or
// to a new one if its block does not follow; ordered if the write makes
// new data part of the file (a new block, or a larger on-disk size).
static void
add_to_request(struct wb_ctx *ctx, struct folio *folio, uint addr, int ordered)
{
  struct blk_request *req = ctx->req;

  if (req && (req->nseg == BLK_MAXSEG || req->blockno + req->nseg != addr)) {
    submit_pending(ctx);
    req = 0;
  }
  if (req == 0) {
    req = ctx->req = blk_alloc();
    req->op = BLK_WRITE;
    req->blockno = addr;
    req->end_io = write_end_io;
  }
  ctx->ordered |= ordered;
  req->seg[req->nseg].addr = folio_address(folio);
  req->seg[req->nseg].len = PGSIZE;
  req->nseg++;
}

// A folio of the run got no block (the disk is full of blocks freed by an
// uncommitted transaction, or an error): it was never written, so it
// leaves writeback dirty again, for the next pass.
static void
unwrite_folio(struct writeback_control *wbc, struct folio *folio)
{
  folio_redirty_for_writepage(wbc, folio);
  folio_end_writeback(folio);
}

// Map the run (delayed folios get their blocks, one contiguous piece
// where the bitmap allows), move the on-disk size past what is being
// written (the commit waits for the write: ordered data), and add the
// folios to disk requests.
static int
flush_run(struct wb_ctx *ctx, struct writeback_control *wbc)
{
  struct inode *ip = ctx->ip;
  int n = ctx->nrun;
  uint addrs[BLK_MAXSEG];
  uint64 fresh;

  if (n == 0)
    return 0;
  ctx->nrun = 0;
  pgoff_t first = ctx->run[0]->index;
  acquiresleep(&ip->i_map_lock);
  int err = bmap_range(ip, first, n, BMAP_RESERVED, addrs, &fresh);
  int mapped = 0;
  while (mapped < n && addrs[mapped])
    mapped++;
  uint64 isize = __atomic_load_n(&ip->size, __ATOMIC_RELAXED);
  uint64 end = MIN(isize, (uint64)(first + mapped) << PGSHIFT);
  uint64 old_disksize = ip->i_disksize;
  if (end > ip->i_disksize) {
    ip->i_disksize = end;
    ctx->disksize_changed = 1;
  }
  releasesleep(&ip->i_map_lock);
  for (int i = 0; i < n; i++) {
    struct folio *folio = ctx->run[i];
    if (i >= mapped) {
      unwrite_folio(wbc, folio);
      continue;
    }
    if (((fresh >> i) & 1) && folio_test_clear_flag(folio, PG_delalloc))
      release_delalloc(ip);
    folio_set_flag(folio, PG_mappedtodisk);
    uint64 folio_end = MIN(isize, (uint64)folio_pos(folio) + PGSIZE);
    add_to_request(ctx, folio, addrs[i], ((fresh >> i) & 1) || folio_end > old_disksize);
  }
  if (err == -ENOSPC && ctx->reserved_ok) {
    ctx->need_commit = 1;   // try again after a commit; not an error
    return 0;
  }
  return mapped < n && err == 0 ? -EIO : err;
}

// With no folio locked and the run empty: if the log operation is running
// out of room, send what is gathered and start a new operation (which may
// let a commit run).
static void
renew_op_if_full(struct wb_ctx *ctx)
{
  if (log_op_room() >= 2 * WB_LOG_PER_RUN)
    return;
  update_inode(ctx);
  submit_pending(ctx);
  end_op();
  begin_op_n(WB_LOG_RESERVE);
}

// Take one folio that writeback_iter handed out (locked, dirty state
// cleared): put it under writeback, unlock it, and add it to the run;
// send the run when the folio does not follow it, or when it is full or
// the log operation is short of room for another.
static int
qfs_write_folio(struct wb_ctx *ctx, struct writeback_control *wbc, struct folio *folio)
{
  uint64 isize = __atomic_load_n(&ctx->ip->size, __ATOMIC_RELAXED);
  int err = 0;

  if ((uint64)folio_pos(folio) >= isize) {
    // Past the end of the file: a truncate is removing it.
    folio_unlock(folio);
    return 0;
  }
  if (fs_is_shut_down()) {
    // Nothing reaches the disk any more (shutdown.c): the data is lost,
    // and the next fsync of the file says so.
    mapping_set_error(folio->mapping, -EIO);
    folio_unlock(folio);
    return -EIO;
  }
  if (ctx->nrun > 0 && ctx->run[ctx->nrun - 1]->index + 1 != folio->index)
    err = flush_run(ctx, wbc);
  folio_start_writeback(folio);
  folio_unlock(folio);
  ctx->run[ctx->nrun++] = folio;
  if (ctx->nrun == BLK_MAXSEG || log_op_room() < 2 * WB_LOG_PER_RUN) {
    int err2 = flush_run(ctx, wbc);
    err = err ? err : err2;
    renew_op_if_full(ctx);   // between folios, none locked, the run empty
  }
  return err;
}

// ->writepages: write the dirty folios wbc asks for.  One log operation
// covers the block allocations; it ends after the last request is sent.
// Rule: never wait for the log (begin_op, end_op, log_force) with a folio
// locked, or with a run of folios under writeback not yet sent; a
// truncate inside an operation may be waiting for either.
static int
qfs_writepages(struct address_space *mapping, struct writeback_control *wbc)
{
  struct wb_ctx ctx = { .ip = mapping->host, .trace_mode = wbc_trace_mode(wbc) };
  int error = 0;

  trace_event(TR_WRITEPAGES, ctx.ip->inum,
              wbc->range_cyclic ? mapping->writeback_index : wbc->range_start / PGSIZE,
              wbc->nr_to_write, ctx.trace_mode);
  for (int pass = 0; pass < 2; pass++) {
    struct folio *folio = 0;
    int err = 0;
    ctx.reserved_ok = pass == 0;
    ctx.need_commit = 0;
    begin_op_n(WB_LOG_RESERVE);
    while ((folio = writeback_iter(mapping, wbc, folio, &err)))
      err = qfs_write_folio(&ctx, wbc, folio);
    int err2 = flush_run(&ctx, wbc);
    update_inode(&ctx);
    submit_pending(&ctx);
    end_op();
    if (!err)
      err = err2;
    if (err && !error)
      error = err;
    if (!ctx.need_commit)
      break;
    // Some folios found only blocks freed by an uncommitted transaction:
    // commit it, and go over the range once more.
    log_force();
  }
  trace_event(TR_WRITEPAGES_END, ctx.ip->inum, mapping->writeback_index, error, ctx.trace_mode);
  return error;
}

const struct address_space_operations qfs_aops = {
  .read_folio = qfs_read_folio,
  .writepages = qfs_writepages,
  .dirty_folio = filemap_dirty_folio,
  .write_begin = qfs_write_begin,
  .invalidate_folio = qfs_invalidate_folio,
  .readahead = qfs_readahead,
};
