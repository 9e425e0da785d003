// wbiter: the writeback lab's checks of writeback_iter() and its
// write_cache_pages() wrapper, through wbctl(2) (kernel/uapi/wbctl.h).
//
//   wbiter [CHECK ...]      run the named checks, or all of them
//
// Each check is named after one rule of labs/writeback/rules.md.  It
// prepares a scratch file whose folios are dirty or clean as it needs,
// stages what the rule is about (an error, a folio under writeback, a
// racing truncate, ...), runs one writeback with a writeback_control of
// its choosing, and compares what the iterator handed out, returned and
// left behind with what Linux's writeback_iter() does.  It prints
// "wbiter NAME: PASS", or "wbiter NAME: FAIL rule N (...): ..." naming the
// first rule the iterator broke: a check on a byte range judges the range
// (rules 1 and 2) before its own rule.  The flusher is off while checks
// run, so that nothing but the check writes the files.
#include "user/user.h"
#include "kernel/uapi/sysctl.h"

#define PG 4096
#define NPAGES 20              // the usual scratch file
#define BIGPAGES 4400          // more folios than any tagging batch
#define FIRST 2                // the usual byte range covers pages 2..13:
#define LAST 13                //   it starts inside page 2 and ends with
#define RANGE_START (FIRST * PG + 100)   // the first byte of page 13
#define RANGE_END ((int64_t)LAST * PG)

static struct wbctl c;
static const char *current;
static int failed;
static int64_t range_first, range_last;   // the pages the pass covers, or -1
static int64_t cyclic_from;                // writeback_index as a cyclic pass began

static const char *rule_names[] = {
  [1] = "the range starts with the folio holding range_start",
  [2] = "the range ends with the folio holding range_end, inclusive",
  [3] = "a folio found clean once locked is skipped",
  [4] = "a folio that left the file while you waited for its lock is skipped",
  [5] = "every folio reference is given back",
  [6] = "WB_SYNC_ALL waits for a folio under writeback and writes it again",
  [7] = "WB_SYNC_NONE skips a folio under writeback, without waiting",
  [8] = "tag_pages_for_writeback() tags every dirty folio of the range",
  [9] = "an integrity pass writes only the folios tagged when it began",
  [10] = "tagged_writepages makes a WB_SYNC_NONE pass tag first too",
  [11] = "tagging covers the pass's range only",
  [12] = "WB_SYNC_NONE stops when nr_to_write reaches 0",
  [13] = "nr_to_write goes down for every folio handed out, failed ones too",
  [14] = "WB_SYNC_ALL writes the whole range, whatever nr_to_write says",
  [15] = "a cyclic pass starts at writeback_index",
  [16] = "a cyclic pass runs to the end of the file, whatever range_end says",
  [17] = "a cyclic pass never goes back to index 0 within one call",
  [18] = "a cyclic pass that stops early leaves writeback_index after the last folio handed out",
  [19] = "a cyclic pass that reaches the end of the file leaves writeback_index at 0",
  [20] = "WB_SYNC_ALL goes on writing after a failed folio",
  [21] = "WB_SYNC_ALL returns the first error",
  [22] = "WB_SYNC_NONE stops at the first error and returns it",
  [23] = "write_cache_pages() unlocks a folio returned with AOP_WRITEPAGE_ACTIVATE",
  [24] = "write_cache_pages() returns the error writeback_iter() leaves in *error",
  [25] = "a large folio is handed out once, and the pass steps over all its pages",
};

// Report that rule was broken; only the first report of a check counts.
static void __attribute__((format(printf, 2, 3)))
fail(int rule, const char *fmt, ...)
{
  va_list ap;

  if (failed++)
    return;
  printf("wbiter %s: FAIL rule %d (%s): ", current, rule, rule_names[rule]);
  va_start(ap, fmt);
  vfprintf(1, fmt, ap);
  va_end(ap);
  printf("\n");
}

// Something the check needs went wrong (not the iterator's fault).
static void
broken(const char *what)
{
  if (failed++ == 0)
    printf("wbiter %s: FAIL %s: %s\n", current, what, strerror(errno));
}

// "2 3 4 ..." of a list of indices, for messages.
static const char *
list(const int64_t *v, int n)
{
  static char s[2][300];
  static int which;
  char *b = s[which ^= 1];
  int k = 0;

  for (int i = 0; i < n && k < (int)sizeof(s[0]) - 24; i++)
    k += snprintf(b + k, sizeof(s[0]) - k, "%ld ", (long)v[i]);
  if (n == 0)
    snprintf(b, sizeof(s[0]), "(none)");
  else if (k >= (int)sizeof(s[0]) - 24)
    snprintf(b + k, sizeof(s[0]) - k, "...");
  return b;
}

static const char *
visits(void)
{
  return list(c.visited, c.nvisited < WBCTL_MAXVISIT ? c.nvisited : WBCTL_MAXVISIT);
}

static int
visited(int64_t index)
{
  for (int i = 0; i < c.nvisited && i < WBCTL_MAXVISIT; i++)
    if (c.visited[i] == index)
      return 1;
  return 0;
}

// ---------------------------------------------------------------- files

// Write a file of n pages and make it all clean, then dirty the pages
// from to to (inclusive; to < from: none) again.  Returns the descriptor.
static int
scratch(const char *name, int n, int from, int to)
{
  static char page[PG];
  int fd = open(name, O_CREAT | O_TRUNC | O_RDWR);

  if (fd < 0) {
    broken("open");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    memset(page, 'a' + i % 26, PG);
    if (write(fd, page, PG) != PG)
      broken("write");
  }
  if (fsync(fd) < 0)
    broken("fsync");
  for (int i = from; i <= to; i++) {
    memset(page, 'A' + i % 26, PG);
    if (pwrite(fd, page, PG, (off_t)i * PG) != PG)
      broken("pwrite");
  }
  return fd;
}

// A file of nfolios large folios of FOLIO pages each, all dirty: written
// FOLIO pages at a time (a write that covers a whole aligned 64 KiB gets
// a large folio), made clean, and written whole again.
#define FOLIO 16
static int
large_file(const char *name, int nfolios)
{
  static char chunk[FOLIO * PG];
  int fd = open(name, O_CREAT | O_TRUNC | O_RDWR);
  struct wbstat st;

  if (fd < 0) {
    broken("open");
    return -1;
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < nfolios; i++) {
      memset(chunk, (pass ? 'A' : 'a') + i % 26, sizeof(chunk));
      if (pwrite(fd, chunk, sizeof(chunk), (off_t)i * sizeof(chunk)) != sizeof(chunk))
        broken("pwrite");
    }
    if (pass == 0 && fsync(fd) < 0)
      broken("fsync");
  }
  if (wbstat(fd, &st) < 0)
    broken("wbstat");
  else if (st.f_large != (uint64)nfolios || st.f_dirty != (uint64)nfolios * FOLIO)
    broken("setup: the file did not get its large folios (memory too fragmented?)");
  return fd;
}

// The usual scratch file: NPAGES pages, all of them dirty.
static int
dirty_file(const char *name)
{
  return scratch(name, NPAGES, 0, NPAGES - 1);
}

static int
dirty_pages(int fd)
{
  struct wbstat st;

  if (wbstat(fd, &st) < 0)
    return -1;
  return st.f_dirty;
}

// ---------------------------------------------------------------- passes

// A writeback_control for wbctl, with no staged races: sync_all or not,
// over [start, end] (bytes), nr_to_write nr.
static void
setup(int sync_all, int64_t start, int64_t end, long nr)
{
  memset(&c, 0, sizeof(c));
  c.sync_mode = sync_all;
  c.test_writepage = 1;
  c.nr_to_write = nr;
  c.range_start = start;
  c.range_end = end;
  c.writeback_index = -1;
  for (int i = 0; i < WBCTL_MAXFAIL; i++)
    c.fail_index[i] = -1;
  c.activate_index = c.busy_index = -1;
  range_first = start / PG;
  range_last = end / PG;
}

// The usual byte range: pages FIRST..LAST.
static void
setup_range(int sync_all, long nr)
{
  setup(sync_all, RANGE_START, RANGE_END, nr);
}

// A cyclic pass from writeback_index from (-1: as it is), with the
// range_end the flusher passes (0: cyclic ignores it).
static void
setup_cyclic(int64_t from, long nr)
{
  setup(0, 0, 0, nr);
  c.range_cyclic = 1;
  c.writeback_index = from;
  range_first = range_last = -1;
  cyclic_from = from;
}

static void
fail_folio(int slot, int64_t index, int err)
{
  c.fail_index[slot] = index;
  c.fail_errno[slot] = err;
}

static void
run(int fd)
{
  struct wbstat st;

  if (c.range_cyclic && c.writeback_index < 0 && wbstat(fd, &st) == 0)
    cyclic_from = st.f_writeback_index;
  if (wbctl(fd, &c) < 0)
    broken("wbctl");
}

// The range rules, judged on what the pass handed out, given what a
// correct iterator hands out (want: n indices).  A pass that began one
// page late, or stopped one page early, broke rule 1 or 2.
static void
judge_range(const int64_t *want, int n)
{
  int m = c.nvisited < WBCTL_MAXVISIT ? c.nvisited : WBCTL_MAXVISIT;

  if (range_first < 0)
    return;
  for (int i = 0; i < m; i++) {
    if (c.visited[i] < range_first)
      fail(1, "range_start %ld lies in page %ld, but you handed out folio %ld (handed out: %s)",
           (long)c.range_start, (long)range_first, (long)c.visited[i], visits());
    if (c.visited[i] > range_last)
      fail(2, "range_end %ld lies in page %ld, but you handed out folio %ld (handed out: %s)",
           (long)c.range_end, (long)range_last, (long)c.visited[i], visits());
  }
  if (n > 0 && want[0] == range_first && !visited(range_first) && visited(range_first + 1))
    fail(1, "range_start %ld lies in page %ld, which you did not hand out (handed out: %s)",
         (long)c.range_start, (long)range_first, visits());
  if (n > 0 && want[n - 1] == range_last && !visited(range_last) && visited(range_last - 1))
    fail(2, "range_end %ld lies in page %ld, which you did not hand out (handed out: %s)",
         (long)c.range_end, (long)range_last, visits());
}

// The rules of a cyclic pass from writeback_index start: it begins there
// (rule 15), goes up only (17), and on to the end of the file (16).
static void
judge_cyclic(int64_t start, const int64_t *want, int n)
{
  int m = c.nvisited < WBCTL_MAXVISIT ? c.nvisited : WBCTL_MAXVISIT;

  if (c.writeback_index < 0 && n > 0 && start != want[0])
    fail(want[0] == 0 ? 19 : 18, "this pass began at writeback_index %ld, where the pass "
         "before left it; that pass should have left %ld", (long)start, (long)want[0]);
  if (m > 0 && c.visited[0] != want[0] && want[0] == start)
    fail(15, "writeback_index was %ld, and your cyclic pass began at folio %ld (handed out: %s)",
         (long)start, (long)c.visited[0], visits());
  for (int i = 1; i < m; i++)
    if (c.visited[i] < c.visited[i - 1])
      fail(17, "after folio %ld you went back to folio %ld (handed out: %s)",
           (long)c.visited[i - 1], (long)c.visited[i], visits());
  int prefix = m < n;
  for (int i = 0; prefix && i < m; i++)
    prefix = c.visited[i] == want[i];
  if (prefix && c.nr_to_write_left > 0 && c.ret == 0)
    fail(16, "a cyclic pass from %ld (range_end %ld) stopped after %s; it goes on to the "
         "end of the file (wbc_end())", (long)start, (long)c.range_end, visits());
}

// Did the pass hand out exactly want[0..n-1], in order?  If not, the
// range rules first, then rule.
static void
expect_visits(int rule, const int64_t *want, int n, const char *what)
{
  int same = c.nvisited == n;

  for (int i = 0; same && i < n && i < WBCTL_MAXVISIT; i++)
    same = c.visited[i] == want[i];
  if (same)
    return;
  judge_range(want, n);
  if (c.range_cyclic)
    judge_cyclic(cyclic_from, want, n);
  fail(rule, "%s: handed out %s; want %s", what, visits(), list(want, n));
}

// want = first..last, without the index skip (-1: none).
static int
span(int64_t *want, int first, int last, int skip)
{
  int n = 0;

  for (int i = first; i <= last; i++)
    if (i != skip)
      want[n++] = i;
  return n;
}

static void
expect_span(int rule, int first, int last, int skip, const char *what)
{
  int64_t want[NPAGES + 16];

  expect_visits(rule, want, span(want, first, last, skip), what);
}

// ---------------------------------------------------------------- step 1

// Rule 1: a range that starts inside page 2 includes page 2.
static void
t_range_start(void)
{
  int fd = dirty_file("wbi.start");
  setup(1, RANGE_START, INT64_MAX, 1000);
  run(fd);
  expect_span(1, FIRST, NPAGES - 1, -1, "range_start inside page 2");
  close(fd);
}

// Rule 2: range_end is inclusive: a range that ends with the first byte
// of page 13 includes page 13.
static void
t_range_end(void)
{
  int fd = dirty_file("wbi.end");
  setup(1, 0, RANGE_END, 1000);
  run(fd);
  expect_span(2, 0, LAST, -1, "range_end the first byte of page 13");
  close(fd);
}

// Rule 3: handing out folio i cleans folio i + 1 behind the iterator's
// back (its marks stay, as they do while another writeback is between
// clearing the dirty flag and starting the write).
static void
t_recheck_dirty(void)
{
  int64_t want[] = { 2, 4, 6, 8, 10, 12 };
  int fd = dirty_file("wbi.recheck");
  setup_range(1, 1000);
  c.clean_ahead = 1;
  run(fd);
  expect_visits(3, want, 6, "while each folio i+1 is written by someone else");
  close(fd);
}

// Rule 4: while the iterator waits for the lock of folio 3, a racing
// truncate takes folio 3 out of the file.
static void
t_recheck_mapping(void)
{
  int fd = dirty_file("wbi.detach");
  setup_range(1, 1000);
  c.detach_ahead = 1;
  run(fd);
  if (c.detached_handed_out > 0)
    fail(4, "folio 3 left the file while you waited for its lock, and you handed it out "
         "(check folio->mapping once the folio is locked)");
  expect_span(4, FIRST, LAST, 3, "folio 3 truncated while you waited for its lock");
  close(fd);
}

// Rule 5: a pass that writes some folios and skips others (rule 3) gives
// back every reference it took.
static void
t_references(void)
{
  int64_t want[] = { 2, 4, 6, 8, 10, 12 };
  int fd = dirty_file("wbi.refs");
  setup_range(1, 1000);
  c.clean_ahead = 1;
  run(fd);
  expect_visits(3, want, 6, "while each folio i+1 is written by someone else");
  if (c.refs_leaked != 0)
    fail(5, "the pass kept %ld folio references it took (folio_put() each folio you hand "
         "out when you get it back, and each one you skip)", (long)c.refs_leaked);
  close(fd);
}

// ---------------------------------------------------------------- step 2

// Rule 6: folio 5 is dirty and still under writeback from an earlier
// pass; its write ends 0.2 s into this one.
static void
t_sync_all_waits(void)
{
  int fd = dirty_file("wbi.waits");
  setup_range(1, 1000);
  c.busy_index = 5;
  c.busy_ticks = 20;
  run(fd);
  if (c.busy_handed_out < 0)
    fail(6, "you handed out folio 5 while it was still under writeback: wait for the "
         "write in flight (folio_wait_writeback) before writing it again");
  expect_span(6, FIRST, LAST, -1, "WB_SYNC_ALL, folio 5 dirty and under writeback");
  close(fd);
}

// Rule 7: the same, for WB_SYNC_NONE; folio 5's write ends 1.5 s later.
static void
t_none_skips(void)
{
  int fd = dirty_file("wbi.skips");
  setup_range(0, 1000);
  c.busy_index = 5;
  c.busy_ticks = 150;
  run(fd);
  if (c.busy_handed_out > 0)
    fail(7, "you waited for the write of folio 5 to end and handed it out; memory "
         "cleaning skips a folio under writeback");
  expect_span(7, FIRST, LAST, 5, "WB_SYNC_NONE, folio 5 dirty and under writeback");
  close(fd);
}

// ---------------------------------------------------------------- step 3

// Rule 8: an integrity pass over 4200 dirty folios, more than any tagging
// batch, tags and writes every one.
static void
t_tag_all(void)
{
  int fd = scratch("wbi.tagall", BIGPAGES, 0, BIGPAGES - 1);
  int first = 100, last = 4299, n = last - first + 1;

  setup(1, (int64_t)first * PG, (int64_t)last * PG, 100000);
  run(fd);
  judge_range(0, 0);
  if (c.nvisited == n - 1 && c.tagged == n)
    fail(2, "range_end %ld lies in page %d, which was tagged but not handed out",
         (long)c.range_end, last);
  if (c.tagged != n)
    fail(8, "pages %d..%d were all dirty, and the pass tagged %ld of those %d "
         "(does your tagging stop after a batch?)", first, last, (long)c.tagged, n);
  if (c.nvisited != n)
    fail(8, "pages %d..%d were all dirty, and you handed out %ld folios, not %d",
         first, last, (long)c.nvisited, n);
  for (int i = 0; i < WBCTL_MAXVISIT && i < c.nvisited; i++) {
    if (c.visited[i] != first + i) {
      fail(8, "folio number %d handed out was %ld, want %d", i, (long)c.visited[i], first + i);
      break;
    }
  }
  close(fd);
  unlink("wbi.tagall");
}

// A file of 30 pages with pages 2..13 dirty; each folio i handed out
// dirties folio i + 10, as a writer racing ahead of the pass would.
static void
chase(int rule, int sync_all, const char *what)
{
  int fd = scratch(sync_all ? "wbi.chase" : "wbi.chase2", 30, FIRST, LAST);
  setup(sync_all, RANGE_START, 29 * PG, 1000);
  c.tagged_writepages = !sync_all;
  c.dirty_ahead = 10;
  run(fd);
  if (c.tagged == 0 && c.nvisited > 0)
    fail(rule, "%s: nothing was tagged TOWRITE", what);
  expect_span(rule, FIRST, LAST, -1, what);
  close(fd);
}

// Rule 9.
static void
t_towrite_only(void)
{
  chase(9, 1, "WB_SYNC_ALL while folios 12..23 are dirtied during the pass");
}

// Rule 10.
static void
t_tagged_writepages(void)
{
  chase(10, 0, "WB_SYNC_NONE with tagged_writepages, while folios 12..23 are dirtied");
}

// Rule 11: every page of the file is dirty; the pass covers 2..13.
static void
t_tag_range(void)
{
  int fd = dirty_file("wbi.tagrange");
  setup_range(1, 1000);
  run(fd);
  expect_span(11, FIRST, LAST, -1, "WB_SYNC_ALL over pages 2..13");
  if (c.tagged != LAST - FIRST + 1)
    fail(11, "all 20 pages were dirty and the pass covered pages 2..13, but %ld folios "
         "were tagged TOWRITE, not 12", (long)c.tagged);
  close(fd);
}

// ---------------------------------------------------------------- step 4

// Rule 12.
static void
t_nr_to_write_stop(void)
{
  int fd = dirty_file("wbi.nr");
  setup_range(0, 4);
  run(fd);
  expect_span(12, FIRST, FIRST + 3, -1, "WB_SYNC_NONE with nr_to_write = 4");
  if (dirty_pages(fd) != NPAGES - 4)
    fail(12, "%d folios dirty afterwards, want %d", dirty_pages(fd), NPAGES - 4);
  close(fd);
}

// Rule 13: an integrity pass in which folio 4 fails, and a memory-cleaning
// pass: each charges nr_to_write for every folio handed out.
static void
t_nr_to_write_charge(void)
{
  int fd = dirty_file("wbi.charge");
  setup_range(1, 100);
  fail_folio(0, 4, EIO);
  run(fd);
  if (c.nr_to_write_left != 100 - c.nvisited)
    fail(13, "WB_SYNC_ALL: nr_to_write was 100 and you handed out %ld folios (folio 4's "
         "write failed), but left it at %ld, not %ld", (long)c.nvisited,
         (long)c.nr_to_write_left, (long)(100 - c.nvisited));
  setup_range(0, 100);
  run(fd);
  if (c.nr_to_write_left != 100 - c.nvisited)
    fail(13, "WB_SYNC_NONE: nr_to_write was 100 and you handed out %ld folios, but left it "
         "at %ld, not %ld", (long)c.nvisited, (long)c.nr_to_write_left,
         (long)(100 - c.nvisited));
  close(fd);
}

// Rule 14.
static void
t_sync_all_ignores_nr(void)
{
  int fd = dirty_file("wbi.all");
  setup_range(1, 3);
  run(fd);
  expect_span(14, FIRST, LAST, -1, "WB_SYNC_ALL with nr_to_write = 3");
  close(fd);
}

// Rule 15: a cyclic pass from writeback_index 6, with range_start 0.
static void
t_cyclic_start(void)
{
  int fd = dirty_file("wbi.cstart");
  setup_cyclic(6, 1000);
  run(fd);
  expect_span(15, 6, NPAGES - 1, -1, "a cyclic pass from writeback_index 6");
  close(fd);
}

// Rule 16: the flusher passes range_end 0 to its cyclic passes.
static void
t_cyclic_to_end(void)
{
  int fd = dirty_file("wbi.cend");
  setup_cyclic(6, 1000);
  run(fd);
  expect_span(16, 6, NPAGES - 1, -1, "a cyclic pass from writeback_index 6");
  close(fd);
}

// Rule 17: a cyclic pass from 6 stops at the end of the file; the next
// one starts at 0 and writes 0..5.
static void
t_no_wrap(void)
{
  int fd = dirty_file("wbi.wrap");
  setup_cyclic(6, 1000);
  run(fd);
  expect_span(17, 6, NPAGES - 1, -1, "a cyclic pass from writeback_index 6");
  setup_cyclic(-1, 1000);
  run(fd);
  expect_span(17, 0, 5, -1, "the next cyclic pass");
  close(fd);
}

// Rule 18: cyclic passes of 4 (rule 22's check sees one stop at an error).
static void
t_wbindex_stop(void)
{
  int fd = dirty_file("wbi.wbstop");
  setup_cyclic(0, 4);
  run(fd);
  expect_span(12, 0, 3, -1, "a cyclic pass of 4 from writeback_index 0");
  if (c.writeback_index_after != 4)
    fail(18, "after handing out 0..3, writeback_index is %ld, not 4",
         (long)c.writeback_index_after);
  setup_cyclic(-1, 4);
  run(fd);
  expect_span(18, 4, 7, -1, "the next cyclic pass of 4 (it resumes at writeback_index)");
  if (c.writeback_index_after != 8)
    fail(18, "after handing out 4..7, writeback_index is %ld, not 8",
         (long)c.writeback_index_after);
  close(fd);
}

// Rule 19.
static void
t_wbindex_end(void)
{
  int fd = dirty_file("wbi.wbend");
  setup_cyclic(16, 1000);
  run(fd);
  expect_span(16, 16, NPAGES - 1, -1, "a cyclic pass from writeback_index 16");
  if (c.writeback_index_after != 0)
    fail(19, "the pass reached the end of the file, and left writeback_index at %ld, not 0",
         (long)c.writeback_index_after);
  close(fd);
}

// ---------------------------------------------------------------- step 5

static const char *
errname(int64_t ret)
{
  static char s[32];

  if (ret == 0)
    return "0";
  snprintf(s, sizeof(s), "%s (%ld)", ret == -EIO ? "EIO" : ret == -ENOSPC ? "ENOSPC" :
           "another error", (long)ret);
  return s;
}

// An integrity pass over pages 2..13 in which folio 5 fails with EIO and
// folio 9 with ENOSPC.
static void
two_errors(int fd)
{
  setup_range(1, 1000);
  fail_folio(0, 5, EIO);
  fail_folio(1, 9, ENOSPC);
  run(fd);
}

// Rule 20.
static void
t_sync_all_continues(void)
{
  int fd = dirty_file("wbi.cont");
  two_errors(fd);
  expect_span(20, FIRST, LAST, -1, "WB_SYNC_ALL, folio 5 fails with EIO, folio 9 with ENOSPC");
  close(fd);
}

// Rule 21.
static void
t_first_error(void)
{
  int fd = dirty_file("wbi.first");
  two_errors(fd);
  expect_span(20, FIRST, LAST, -1, "WB_SYNC_ALL, folio 5 fails with EIO, folio 9 with ENOSPC");
  if (c.ret != -EIO)
    fail(21, "folio 5 failed with EIO and folio 9 with ENOSPC; the pass returned %s, not "
         "EIO (-5): keep the first error in wbc->saved_err and hand it back in *error",
         errname(c.ret));
  close(fd);
}

// Rule 22, on a range and in a cyclic pass, which must then also resume
// after the failed folio next time (rule 18).
static void
t_none_stops(void)
{
  int fd = dirty_file("wbi.stop");
  setup_range(0, 1000);
  fail_folio(0, 5, EIO);
  run(fd);
  expect_span(22, FIRST, 5, -1, "WB_SYNC_NONE, folio 5 fails with EIO");
  if (c.ret != -EIO)
    fail(22, "folio 5 failed with EIO; the pass returned %s", errname(c.ret));
  setup_cyclic(8, 1000);
  fail_folio(0, 10, EIO);
  run(fd);
  expect_span(22, 8, 10, -1, "a cyclic pass from 8 in which folio 10 fails");
  if (c.writeback_index_after != 11)
    fail(18, "after stopping at the failed folio 10, writeback_index is %ld, not 11",
         (long)c.writeback_index_after);
  close(fd);
}

// ---------------------------------------------------------------- step 6

// Rule 23.
static void
t_activate(void)
{
  int fd = dirty_file("wbi.act");
  setup_range(1, 1000);
  c.activate_index = 4;
  run(fd);
  if (c.left_locked)
    fail(23, "folio 4, returned with AOP_WRITEPAGE_ACTIVATE, was left locked");
  expect_span(23, FIRST, LAST, -1, "AOP_WRITEPAGE_ACTIVATE for folio 4");
  if (c.ret != 0)
    fail(23, "the pass returned %ld, not 0: ACTIVATE is not an error", (long)c.ret);
  close(fd);
}

// Rule 24: what write_cache_pages() returns, after the same two errors.
static void
t_wcp_error(void)
{
  int fd = dirty_file("wbi.wcp");
  two_errors(fd);
  expect_span(20, FIRST, LAST, -1, "WB_SYNC_ALL, folio 5 fails with EIO, folio 9 with ENOSPC");
  if (c.ret != -EIO)
    fail(24, "folio 5 failed with EIO and folio 9 with ENOSPC; write_cache_pages() "
         "returned %s, not EIO (-5)", errname(c.ret));
  close(fd);
}

// ---------------------------------------------------------------- large folios

// Rule 25: a file of 8 folios of 16 pages.  A cyclic pass with
// nr_to_write 40 hands out the folios at 0, 16 and 32 (40 - 3 * 16 = -8),
// stops, and leaves writeback_index at 48, where the next pass resumes;
// an integrity pass charges 16 for each folio too.
static void
t_large_folios(void)
{
  int64_t want[] = { 0, 16, 32 }, rest[] = { 48, 64, 80, 96, 112 };
  int fd = large_file("wbi.large", 8);

  setup_cyclic(0, 40);
  run(fd);
  expect_visits(25, want, 3, "a cyclic pass with nr_to_write 40 over folios of 16 pages");
  if (c.nr_to_write_left != 40 - (int64_t)c.nvisited * FOLIO)
    fail(25, "you handed out %ld folios of %d pages and left nr_to_write at %ld, not %ld "
         "(charge folio_nr_pages() for each)", (long)c.nvisited, FOLIO,
         (long)c.nr_to_write_left, (long)(40 - c.nvisited * FOLIO));
  if (c.writeback_index_after != 48)
    fail(25, "after handing out the folio of pages 32..47, writeback_index is %ld, not 48 "
         "(the index after the folio's last page)", (long)c.writeback_index_after);
  setup_cyclic(-1, 1000);
  run(fd);
  expect_visits(25, rest, 5, "the next cyclic pass (it resumes after the folio of pages 32..47)");
  close(fd);
  int64_t all[] = { 0, 16, 32, 48, 64, 80, 96, 112 };
  fd = large_file("wbi.large", 8);
  setup(1, 0, 8 * FOLIO * PG - 1, 1000);
  run(fd);
  expect_visits(25, all, 8, "WB_SYNC_ALL over 8 folios of 16 pages");
  if (c.nr_to_write_left != 1000 - (int64_t)c.nvisited * FOLIO)
    fail(25, "WB_SYNC_ALL: you handed out %ld folios of %d pages and left nr_to_write at "
         "%ld, not %ld", (long)c.nvisited, FOLIO, (long)c.nr_to_write_left,
         (long)(1000 - c.nvisited * FOLIO));
  close(fd);
  unlink("wbi.large");
}

// ---------------------------------------------------------------- main

static const struct {
  const char *name;
  void (*fn)(void);
} checks[] = {
  { "range-start", t_range_start },
  { "range-end", t_range_end },
  { "recheck-dirty", t_recheck_dirty },
  { "recheck-mapping", t_recheck_mapping },
  { "references", t_references },
  { "sync-all-waits", t_sync_all_waits },
  { "none-skips", t_none_skips },
  { "tag-all", t_tag_all },
  { "towrite-only", t_towrite_only },
  { "tagged-writepages", t_tagged_writepages },
  { "tag-range", t_tag_range },
  { "nr-to-write-stop", t_nr_to_write_stop },
  { "nr-to-write-charge", t_nr_to_write_charge },
  { "sync-all-ignores-nr", t_sync_all_ignores_nr },
  { "cyclic-start", t_cyclic_start },
  { "cyclic-to-end", t_cyclic_to_end },
  { "no-wrap", t_no_wrap },
  { "wbindex-stop", t_wbindex_stop },
  { "wbindex-end", t_wbindex_end },
  { "sync-all-continues", t_sync_all_continues },
  { "first-error", t_first_error },
  { "none-stops", t_none_stops },
  { "activate", t_activate },
  { "wcp-error", t_wcp_error },
  { "large-folios", t_large_folios },
};
#define NCHECKS ((int)(sizeof(checks) / sizeof(checks[0])))

static int
chosen(int argc, char **argv, const char *name)
{
  if (argc == 1)
    return 1;
  for (int a = 1; a < argc; a++)
    if (strcmp(argv[a], name) == 0)
      return 1;
  return 0;
}

static int
unknown_names(int argc, char **argv)
{
  int bad = 0;

  for (int a = 1; a < argc; a++) {
    int known = 0;
    for (int i = 0; i < NCHECKS; i++)
      known |= strcmp(argv[a], checks[i].name) == 0;
    if (!known) {
      fprintf(2, "wbiter: no check named %s\n", argv[a]);
      bad++;
    }
  }
  return bad;
}

int
main(int argc, char **argv)
{
  int64_t saved[SYSCTL_MAX + 1];
  int bad = unknown_names(argc, argv);

  // Only the checks may write the files: no periodic or background
  // writeback while they run.
  for (int i = 1; i <= SYSCTL_MAX; i++)
    sysctl(i, -1, &saved[i]);
  sysctl(SYSCTL_DIRTY_WRITEBACK_CENTISECS, 0, 0);
  sysctl(SYSCTL_DIRTY_BACKGROUND_RATIO, 100, 0);
  sysctl(SYSCTL_DIRTY_RATIO, 100, 0);
  for (int i = 0; i < NCHECKS; i++) {
    if (!chosen(argc, argv, checks[i].name))
      continue;
    current = checks[i].name;
    failed = 0;
    checks[i].fn();
    if (!failed)
      printf("wbiter %s: PASS\n", current);
    bad += failed > 0;
  }
  for (int i = 1; i <= SYSCTL_MAX; i++)
    sysctl(i, saved[i], 0);
  exit(bad ? 1 : 0);
}
