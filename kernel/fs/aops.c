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
// request.  A run holds at most BLK_MAXSEG pages: 64 single-page folios,
// or 4 large folios of 16 pages.  Per-folio block-map work was most of writeback's time (make
// profile: bmap, bread and the bitmap for every page).  A folio in the run
// is under writeback and unlocked, so nothing that waits for it can be
// holding a folio lock the iterator needs; but the run must be sent before
// the log operation is renewed, since a truncate in another operation may
// be waiting for it.
//
// Large folios: a folio's pages are contiguous in memory but their
// blocks need not be, and a large folio may cover blocks and holes, so
// the state of each page's block (PG_mappedtodisk, PG_delalloc) is kept
// per page (folio.h), and a folio's I/O may take several requests
// (io_pending counts its pages in flight).
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

// A large folio's pages can lie in several requests (its blocks need not
// be consecutive), so each folio counts its pages in flight (io_pending),
// set before the first of its requests is sent.  A completion calls fn
// for each run of pages of one folio in a segment; the run that brings
// the count to zero ends the folio's read or write.  Returns whether it
// did.
static int
folio_io_done(struct folio *folio, int npages)
{
  return __atomic_sub_fetch(&folio->io_pending, npages, __ATOMIC_ACQ_REL) == 0;
}

// Call fn(folio, npages, req) for each folio's share of each segment.
static void
for_each_folio_in(struct blk_request *req, void (*fn)(struct folio *, int, struct blk_request *))
{
  for (int i = 0; i < req->nseg; i++) {
    char *addr = req->seg[i].addr, *end = addr + req->seg[i].len;
    while (addr < end) {
      struct folio *folio = virt_to_folio(addr);
      char *folio_end = (char *)folio_address(folio) + folio_size(folio);
      char *upto = folio_end < end ? folio_end : end;
      fn(folio, (upto - addr) / PGSIZE, req);
      addr = upto;
    }
  }
}

static void
read_done(struct folio *folio, int npages, struct blk_request *req)
{
  if (req->error)
    folio_set_flag(folio, PG_error);
  if (!folio_io_done(folio, npages))
    return;
  if (!folio_test_clear_flag(folio, PG_error))
    folio_mark_uptodate(folio);
  folio_unlock(folio);
}

static void
read_end_io(struct blk_request *req)
{
  for_each_folio_in(req, read_done);
  blk_free(req);
}

// A request carries at most this many blocks, 256 KiB, in at most
// BLK_MAXSEG segments: the pages of a folio are contiguous in memory, so
// consecutive pages of one folio (or of two that happen to be neighbours)
// share a segment.
#define REQ_MAX_BLOCKS 64

static struct blk_request *
new_request(enum blk_op op, uint blockno, void (*end_io)(struct blk_request *))
{
  struct blk_request *req = blk_alloc();

  req->op = op;
  req->blockno = blockno;
  req->end_io = end_io;
  return req;
}

// Can the page at addr, whose block is blockno, join req, whose blocks
// end just before req_end?
static int
page_fits(struct blk_request *req, uint64 req_end, void *addr, uint blockno)
{
  struct blk_seg *last = &req->seg[req->nseg - 1];

  return blockno == req_end && req_end - req->blockno < REQ_MAX_BLOCKS &&
         ((char *)last->addr + last->len == addr || req->nseg < BLK_MAXSEG);
}

// Add the page at addr to req (page_fits() said it may).
static void
append_page(struct blk_request *req, void *addr)
{
  if (req->nseg > 0) {
    struct blk_seg *last = &req->seg[req->nseg - 1];
    if ((char *)last->addr + last->len == addr) {
      last->len += PGSIZE;
      return;
    }
  }
  req->seg[req->nseg].addr = addr;
  req->seg[req->nseg].len = PGSIZE;
  req->nseg++;
}

// Read the pages of nr locked folios of consecutive indexes, whose blocks
// are addrs (0: a hole; err < 0: the lookup failed from the first 0 on).
// Holes are zeroed here; the rest is read in requests of consecutive
// blocks, and each folio is unlocked when its last page arrives.  A folio
// with a page whose block is unknown (err) is unlocked unread, not
// uptodate: the reader gets EIO, or ->read_folio tries again.
static void
read_pages(struct folio **folios, int nr, uint *addrs, int err)
{
  struct blk_request *req = 0;
  uint64 req_end = 0;   // the block after req's last
  int p = 0;            // the first page of folios[i] in addrs

  for (int i = 0; i < nr; i++) {
    struct folio *folio = folios[i];
    long n = folio_nr_pages(folio), mapped = 0;
    int unknown = 0;
    for (long j = 0; j < n; j++) {
      mapped += addrs[p + j] != 0;
      unknown |= addrs[p + j] == 0 && err < 0;
    }
    if (unknown) {
      folio_unlock(folio);
      p += n;
      continue;
    }
    folio_clear_flag(folio, PG_error);
    folio->io_pending = mapped;
    for (long j = 0; j < n; j++, p++) {
      char *page = folio_page_address(folio, j);
      if (addrs[p] == 0) {
        memset(page, 0, PGSIZE);   // a hole
        continue;
      }
      folio_page_set(folio, j, PG_mappedtodisk);
      if (req && !page_fits(req, req_end, page, addrs[p])) {
        blk_submit(req);
        req = 0;
      }
      if (req == 0) {
        req = new_request(BLK_READ, addrs[p], read_end_io);
        req_end = addrs[p];
      }
      append_page(req, page);
      req_end++;
    }
    if (mapped == 0) {
      folio_mark_uptodate(folio);
      folio_unlock(folio);
    }
  }
  if (req)
    blk_submit(req);
}

// Look up the blocks of npages file pages from index (at most BLK_MAXSEG)
// in one pass over the block map.
static int
lookup_range(struct inode *ip, pgoff_t index, int npages, uint *addrs)
{
  uint64 fresh;

  acquiresleep(&ip->i_map_lock);
  int err = bmap_range(ip, index, npages, BMAP_LOOKUP, addrs, &fresh);
  releasesleep(&ip->i_map_lock);
  return err;
}

// ->read_folio: start reading a locked folio; the disk interrupt marks it
// uptodate and unlocks it.  Holes read as zeros at once.  On an error the
// folio is unlocked and left not uptodate, so that the reader sees EIO
// and a later read tries again.
static int
qfs_read_folio(struct file *file, struct folio *folio)
{
  uint addrs[1 << FOLIO_MAX_ORDER];
  int err = lookup_range(folio->mapping->host, folio->index, folio_nr_pages(folio), addrs);

  read_pages(&folio, 1, addrs, err);
  return err;
}

// ->readahead: start reading nr locked folios of consecutive indexes, at
// most BLK_MAXSEG pages in all.  Their blocks are looked up at once
// (bmap_range), and pages whose blocks are consecutive share one disk
// request: a file written sequentially is read back in 256 KiB requests.
// A hole, or a block behind an indirect block the disk failed to read, is
// left to ->read_folio, if someone needs it.
static void
qfs_readahead(struct address_space *mapping, struct folio **folios, int nr)
{
  uint addrs[BLK_MAXSEG];
  int npages = 0;

  for (int i = 0; i < nr; i++)
    npages += folio_nr_pages(folios[i]);
  if (npages > BLK_MAXSEG)
    panic("qfs_readahead: %d pages", npages);
  int err = lookup_range(mapping->host, folios[0]->index, npages, addrs);
  read_pages(folios, nr, addrs, err);
}

// Pages of the folio with neither a block nor a reservation for one.
static long
pages_without_space(struct folio *folio)
{
  long n = 0;

  for (long j = 0; j < folio_nr_pages(folio); j++)
    n += !folio_page_test(folio, j, PG_mappedtodisk) && !folio_page_test(folio, j, PG_delalloc);
  return n;
}

// ->write_begin: every page of a folio about to receive data must have a
// block on the disk or a reservation for one.
static int
qfs_write_begin(struct address_space *mapping, struct folio *folio)
{
  struct inode *ip = mapping->host;
  long n = folio_nr_pages(folio);

  if (fs_is_shut_down())
    return -EROFS;
  if (pages_without_space(folio) == 0)
    return 0;
  // Every block of a file lies below its on-disk size (writeback moves
  // i_disksize past a page when it gives the page a block, and truncate
  // frees the blocks past the size it sets), so an append needs no look
  // at the block map, and does not queue behind writeback for i_map_lock.
  // A stale read is harmless: only this folio's writeback, which waits for
  // the folio lock held here, could give these indexes blocks.
  uint64 disksize = __atomic_load_n(&ip->i_disksize, __ATOMIC_ACQUIRE);
  if ((uint64)folio_pos(folio) < disksize) {
    uint addrs[1 << FOLIO_MAX_ORDER];
    int r = lookup_range(ip, folio->index, n, addrs);
    if (r < 0)
      return r;
    for (long j = 0; j < n; j++)
      if (addrs[j])
        folio_page_set(folio, j, PG_mappedtodisk);
  }
  long need = pages_without_space(folio);
  int r = need ? reserve_delalloc(ip, need) : 0;
  for (long j = 0; r == 0 && need && j < n; j++)
    if (!folio_page_test(folio, j, PG_mappedtodisk))
      folio_page_set(folio, j, PG_delalloc);
  return r;
}

// ->invalidate_folio: the folio leaves the cache (or loses pages to a
// split): give back its pages' reservations.
static void
qfs_invalidate_folio(struct folio *folio)
{
  long n = 0;

  for (long j = 0; j < folio_nr_pages(folio); j++)
    n += folio_page_test_clear(folio, j, PG_delalloc);
  release_delalloc(folio->mapping->host, n);
}

// The state of one ->writepages call.
struct wb_ctx {
  struct inode *ip;
  struct blk_request *req;   // being filled: consecutive blocks
  uint64 req_end;            // ... the block after its last
  struct folio *run[BLK_MAXSEG];   // under writeback, not mapped yet
  int nrun;                  // folios in the run
  int run_pages;             // ... and their pages, at most BLK_MAXSEG
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
write_done(struct folio *folio, int npages, struct blk_request *req)
{
  if (req->error) {
    mapping_set_error(folio->mapping, req->error);
    errseq_set(&sb_wb_err, req->error);   // for syncfs(2)
    trace_event(TR_WB_ERROR, folio->mapping->host->inum, folio->index, -req->error, 0);
  }
  if (folio_io_done(folio, npages))
    folio_end_writeback(folio);
}

static void
write_end_io(struct blk_request *req)
{
  for_each_folio_in(req, write_done);
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

// Add a mapped page of a folio under writeback to the request being
// filled, or to a new one if its block does not follow; ordered if the
// write makes new data part of the file (a new block, or a larger on-disk
// size).
static void
add_to_request(struct wb_ctx *ctx, void *page, uint addr, int ordered)
{
  if (ctx->req && !page_fits(ctx->req, ctx->req_end, page, addr))
    submit_pending(ctx);
  if (ctx->req == 0) {
    ctx->req = new_request(BLK_WRITE, addr, write_end_io);
    ctx->req_end = addr;
  }
  ctx->ordered |= ordered;
  append_page(ctx->req, page);
  ctx->req_end++;
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

// Send the pages of one folio of the run, the first `inside` of which lie
// inside the file; page j's block is addrs[j], and the run mapped only
// pages before `mapped` (counted from addrs).  Returns the reservations
// its pages no longer need.
static long
write_run_folio(struct wb_ctx *ctx, struct writeback_control *wbc, struct folio *folio,
                long inside, long mapped, uint *addrs, uint64 fresh_bits, uint64 old_disksize)
{
  long got = MIN(inside, MAX(mapped, 0)), released = 0;
  uint64 isize = __atomic_load_n(&ctx->ip->size, __ATOMIC_RELAXED);

  if (got == 0) {
    if (inside > 0)
      unwrite_folio(wbc, folio);
    else
      folio_end_writeback(folio);   // wholly past the end now: a truncate
    return 0;
  }
  // Pages that got blocks are written even if a later page got none: a
  // block below i_disksize must never hold anything but its data.  The
  // folio is then dirtied again, so that it is written whole next time.
  if (got < inside)
    folio_redirty_for_writepage(wbc, folio);
  folio->io_pending = got;
  for (long j = 0; j < got; j++) {
    folio_page_set(folio, j, PG_mappedtodisk);
    released += folio_page_test_clear(folio, j, PG_delalloc);
    uint64 page_end = MIN(isize, (uint64)folio_pos(folio) + (j + 1) * PGSIZE);
    add_to_request(ctx, folio_page_address(folio, j), addrs[j],
                   ((fresh_bits >> j) & 1) || page_end > old_disksize);
  }
  return released;
}

// Map the run (delayed pages get their blocks, one contiguous piece
// where the bitmap allows), move the on-disk size past what is being
// written (the commit waits for the write: ordered data), and add the
// pages to disk requests.  Only pages inside the file are mapped: a large
// folio may reach past its end (a truncate that could not split it).
static int
flush_run(struct wb_ctx *ctx, struct writeback_control *wbc)
{
  struct inode *ip = ctx->ip;
  int n = ctx->nrun;
  uint addrs[BLK_MAXSEG];
  uint64 fresh = 0;

  if (n == 0)
    return 0;
  pgoff_t first = ctx->run[0]->index;
  uint64 isize = __atomic_load_n(&ip->size, __ATOMIC_RELAXED);
  pgoff_t eof = (isize + PGSIZE - 1) / PGSIZE;
  int npages = eof > first ? MIN(ctx->run_pages, eof - first) : 0;
  ctx->nrun = ctx->run_pages = 0;
  acquiresleep(&ip->i_map_lock);
  int err = npages ? bmap_range(ip, first, npages, BMAP_RESERVED, addrs, &fresh) : 0;
  int mapped = 0;
  while (mapped < npages && addrs[mapped])
    mapped++;
  uint64 end = MIN(isize, (uint64)(first + mapped) << PGSHIFT);
  uint64 old_disksize = ip->i_disksize;
  if (end > ip->i_disksize) {
    ip->i_disksize = end;
    ctx->disksize_changed = 1;
  }
  releasesleep(&ip->i_map_lock);
  long released = 0;
  for (int i = 0, p = 0; i < n; p += folio_nr_pages(ctx->run[i]), i++) {
    long inside = MIN(folio_nr_pages(ctx->run[i]), MAX(npages - p, 0));
    released += write_run_folio(ctx, wbc, ctx->run[i], inside, mapped - p, addrs + p,
                                fresh >> p, old_disksize);
  }
  release_delalloc(ip, released);
  if (err == -ENOSPC && ctx->reserved_ok) {
    ctx->need_commit = 1;   // try again after a commit; not an error
    return 0;
  }
  return mapped < npages && err == 0 ? -EIO : err;
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
  struct folio *last = ctx->nrun > 0 ? ctx->run[ctx->nrun - 1] : 0;
  if (last && (last->index + folio_nr_pages(last) != folio->index ||
               ctx->run_pages + folio_nr_pages(folio) > BLK_MAXSEG))
    err = flush_run(ctx, wbc);
  folio_start_writeback(folio);
  folio_unlock(folio);
  ctx->run[ctx->nrun++] = folio;
  ctx->run_pages += folio_nr_pages(folio);
  if (ctx->run_pages == BLK_MAXSEG || log_op_room() < 2 * WB_LOG_PER_RUN) {
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
