// wbiter: checks of the writeback iterator, writeback_iter() and its
// write_cache_pages() wrapper, through wbctl(2) (kernel/uapi/wbctl.h).
//
//   wbiter [TEST ...]      run the named checks, or all of them
//
// Each check prepares a scratch file whose folios are dirty or clean as it
// needs, runs one writeback with a writeback_control of its choosing, and
// compares what the iterator handed out (and in what order) with what
// Linux's writeback_iter() would.  It prints "wbiter NAME: PASS" or
// "wbiter NAME: FAIL <why>".  The flusher is switched off while it runs,
// so that nothing but the check writes the files.
#include "user/user.h"
#include "kernel/uapi/sysctl.h"

#define PG 4096
#define NPAGES 20

static struct wbctl c;
static int failed;
static const char *current;

static void
fail(const char *fmt, ...)
{
  va_list ap;

  if (failed++ == 0) {
    printf("wbiter %s: FAIL ", current);
    va_start(ap, fmt);
    vfprintf(1, fmt, ap);
    va_end(ap);
    printf("\n");
  }
}

// "0 1 2 ..." of the visited indices, for messages.
static const char *
visits(void)
{
  static char s[400];
  int n = 0;

  for (int i = 0; i < c.nvisited && i < WBCTL_MAXVISIT && n < (int)sizeof(s) - 24; i++)
    n += snprintf(s + n, sizeof(s) - n, "%ld ", (long)c.visited[i]);
  if (c.nvisited == 0)
    snprintf(s, sizeof(s), "(none)");
  return s;
}

// A scratch file of NPAGES pages, all in the cache; the pages in dirty[]
// (ending with -1) dirty, the rest clean.  Returns the descriptor.
static int
scratch(const char *name, const int *dirty)
{
  static char page[PG];
  int fd = open(name, O_CREAT | O_TRUNC | O_RDWR);

  if (fd < 0) {
    fail("open %s: %s", name, strerror(errno));
    return -1;
  }
  for (int i = 0; i < NPAGES; i++) {
    memset(page, 'a' + i, PG);
    if (write(fd, page, PG) != PG)
      fail("write: %s", strerror(errno));
  }
  if (fsync(fd) < 0)
    fail("fsync: %s", strerror(errno));
  for (int i = 0; dirty[i] >= 0; i++) {
    memset(page, 'A' + dirty[i], PG);
    if (pwrite(fd, page, PG, (off_t)dirty[i] * PG) != PG)
      fail("pwrite: %s", strerror(errno));
  }
  return fd;
}

// Fill in a writeback_control for wbctl: cyclic or a whole-file range,
// and no test-writepage tricks.
static void
setup(int sync_all, int cyclic, long nr_to_write)
{
  memset(&c, 0, sizeof(c));
  c.sync_mode = sync_all;
  c.range_cyclic = cyclic;
  c.test_writepage = 1;
  c.nr_to_write = nr_to_write;
  c.range_start = 0;
  c.range_end = 0x7fffffffffffffffL;
  c.writeback_index = -1;
  for (int i = 0; i < WBCTL_MAXFAIL; i++)
    c.fail_index[i] = -1;
  c.activate_index = -1;
  c.clean_ahead = 0;
  c.dirty_ahead = 0;
}

static void
run(int fd)
{
  if (wbctl(fd, &c) < 0)
    fail("wbctl: %s", strerror(errno));
  if (c.left_locked)
    fail("a folio was left locked (AOP_WRITEPAGE_ACTIVATE not handled)");
}

// Was exactly want[] (ending with -1) visited, in that order?
static void
expect_visits(const int *want, const char *what)
{
  int n = 0;

  while (want[n] >= 0)
    n++;
  int same = c.nvisited == n;
  for (int i = 0; same && i < n; i++)
    same = c.visited[i] == want[i];
  if (!same) {
    char w[200];
    int k = 0;
    for (int i = 0; i < n; i++)
      k += snprintf(w + k, sizeof(w) - k, "%d ", want[i]);
    fail("%s: handed out %s; want %s", what, visits(), n ? w : "(none)");
  }
}

static int
dirty_pages(int fd)
{
  struct wbstat st;

  if (wbstat(fd, &st) < 0)
    return -1;
  return st.f_dirty;
}

static const int none[] = { -1 };
static const int first10[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1 };

// Every dirty folio is handed out once, in ascending order, and comes
// back clean; clean folios are left alone.
static void
t_order(void)
{
  const int dirty[] = { 2, 3, 5, 8, 13, 19, -1 };
  int fd = scratch("wbi.order", dirty);
  setup(0, 0, 1000);
  run(fd);
  expect_visits(dirty, "WB_SYNC_NONE over the whole file");
  if (c.ret != 0)
    fail("returned %ld, want 0", (long)c.ret);
  if (dirty_pages(fd) != 0)
    fail("%d folios still dirty afterwards", dirty_pages(fd));
  setup(0, 0, 1000);
  run(fd);
  expect_visits(none, "a second pass with nothing dirty");
  close(fd);
}

// Every dirty folio is handed out once, in ascending order, and comes
// back clean; clean folios are left alone.  Then: a byte range limits the
// folios to those it covers (range_end inclusive).
static void
t_range(void)
{
  t_order();
  int fd = scratch("wbi.range", first10);
  setup(1, 0, 1000);
  c.range_start = 3 * PG + 100;   // inside page 3
  c.range_end = 6 * PG;           // the first byte of page 6
  run(fd);
  const int want[] = { 3, 4, 5, 6, -1 };
  expect_visits(want, "range 3*4096+100 .. 6*4096");
  close(fd);
}

// Data integrity ignores nr_to_write: everything dirty is written.
static void
t_syncall_all(void)
{
  int fd = scratch("wbi.all", first10);
  setup(1, 0, 3);
  run(fd);
  expect_visits(first10, "WB_SYNC_ALL with nr_to_write = 3");
  close(fd);
}

// WB_SYNC_NONE writes at most nr_to_write folios and counts them down;
// data integrity (WB_SYNC_ALL) ignores nr_to_write.
static void
t_nrtowrite(void)
{
  t_syncall_all();
  int fd = scratch("wbi.nr", first10);
  setup(0, 0, 4);
  run(fd);
  const int want[] = { 0, 1, 2, 3, -1 };
  expect_visits(want, "nr_to_write = 4");
  if (c.nr_to_write_left != 0)
    fail("nr_to_write left at %ld, want 0", (long)c.nr_to_write_left);
  if (dirty_pages(fd) != 6)
    fail("%d folios dirty afterwards, want 6", dirty_pages(fd));
  close(fd);
}

// Cyclic writeback resumes at writeback_index and leaves it after the
// last folio written; reaching the end of the file resets it to 0.
static void
t_wbindex(void)
{
  int fd = scratch("wbi.index", first10);
  setup(0, 1, 4);
  c.writeback_index = 0;
  run(fd);
  const int a[] = { 0, 1, 2, 3, -1 };
  expect_visits(a, "first cyclic pass of 4");
  if (c.writeback_index_after != 4)
    fail("writeback_index %ld after the first pass, want 4", (long)c.writeback_index_after);
  setup(0, 1, 4);
  run(fd);
  const int b[] = { 4, 5, 6, 7, -1 };
  expect_visits(b, "second cyclic pass of 4 (should resume at writeback_index)");
  if (c.writeback_index_after != 8)
    fail("writeback_index %ld after the second pass, want 8", (long)c.writeback_index_after);
  setup(0, 1, 100);
  run(fd);
  const int d[] = { 8, 9, -1 };
  expect_visits(d, "third cyclic pass");
  if (c.writeback_index_after != 0)
    fail("writeback_index %ld after reaching the end, want 0", (long)c.writeback_index_after);
  close(fd);
}

// A cyclic pass never wraps around to index 0 within one call: folios are
// locked in ascending order only.
static void
t_nowrap(void)
{
  int fd = scratch("wbi.wrap", first10);
  setup(0, 1, 1000);
  c.writeback_index = 6;
  run(fd);
  const int want[] = { 6, 7, 8, 9, -1 };
  expect_visits(want, "cyclic pass from writeback_index 6");
  if (c.writeback_index_after != 0)
    fail("writeback_index %ld at the end, want 0", (long)c.writeback_index_after);
  setup(0, 1, 1000);
  run(fd);
  const int rest[] = { 0, 1, 2, 3, 4, 5, -1 };
  expect_visits(rest, "the next cyclic pass");
  close(fd);
}

// Integrity writeback writes only what was dirty when it started: folios
// dirtied while it runs are left for later (TOWRITE tagging), or a busy
// writer could keep fsync going forever.  Same for tagged_writepages.
static void
t_towrite(void)
{
  int fd = scratch("wbi.tag", first10);
  setup(1, 0, 1000);
  c.dirty_ahead = 10;   // handing out i dirties i + 10, as a writer would
  run(fd);
  expect_visits(first10, "WB_SYNC_ALL while another writer dirties pages 10..19");
  if (dirty_pages(fd) != 10)
    fail("%d folios dirty afterwards, want the 10 dirtied during the pass", dirty_pages(fd));
  close(fd);

  fd = scratch("wbi.tag2", first10);
  setup(0, 0, 1000);
  c.tagged_writepages = 1;
  c.dirty_ahead = 10;
  run(fd);
  expect_visits(first10, "WB_SYNC_NONE with tagged_writepages, while pages 10..19 are dirtied");
  close(fd);
}

// After locking a folio the iterator checks it again: one that someone
// else wrote meanwhile (clean now, though still tagged TOWRITE) is skipped.
static void
t_recheck(void)
{
  int fd = scratch("wbi.recheck", first10);
  setup(1, 0, 1000);
  c.clean_ahead = 1;    // handing out i cleans i + 1
  run(fd);
  const int want[] = { 0, 2, 4, 6, 8, -1 };
  expect_visits(want, "WB_SYNC_ALL while folio i+1 is written by someone else");
  close(fd);
}

// WB_SYNC_ALL goes on after an error and reports the first one;
// WB_SYNC_NONE stops at the first error.
static void
t_errors(void)
{
  int fd = scratch("wbi.err", first10);
  setup(1, 0, 1000);
  c.fail_index[0] = 3;
  c.fail_index[1] = 6;
  run(fd);
  expect_visits(first10, "WB_SYNC_ALL with errors at 3 and 6");
  if (c.ret != -EIO)
    fail("WB_SYNC_ALL returned %ld, want -EIO (-5): the first error", (long)c.ret);
  close(fd);

  fd = scratch("wbi.err2", first10);
  setup(0, 1, 1000);
  c.writeback_index = 0;
  c.fail_index[0] = 3;
  run(fd);
  const int want[] = { 0, 1, 2, 3, -1 };
  expect_visits(want, "WB_SYNC_NONE with an error at 3");
  if (c.ret != -EIO)
    fail("WB_SYNC_NONE returned %ld, want -EIO (-5)", (long)c.ret);
  if (c.writeback_index_after != 4)
    fail("writeback_index %ld after stopping at 3, want 4", (long)c.writeback_index_after);
  close(fd);
}

// write_cache_pages unlocks a folio its writepage returned
// AOP_WRITEPAGE_ACTIVATE for, and goes on.
static void
t_activate(void)
{
  int fd = scratch("wbi.act", first10);
  setup(1, 0, 1000);
  c.activate_index = 2;
  run(fd);
  expect_visits(first10, "with AOP_WRITEPAGE_ACTIVATE at 2");
  if (c.ret != 0)
    fail("returned %ld, want 0", (long)c.ret);
  close(fd);
}

static struct {
  const char *name;
  void (*fn)(void);
} tests[] = {
  { "range", t_range },
  { "nrtowrite", t_nrtowrite },
  { "wbindex", t_wbindex },
  { "nowrap", t_nowrap },
  { "towrite", t_towrite },
  { "recheck", t_recheck },
  { "errors", t_errors },
  { "activate", t_activate },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

int
main(int argc, char **argv)
{
  int64_t saved[SYSCTL_MAX + 1];
  int bad = 0;

  // Only the checks may write the files: no periodic or background
  // writeback while they run.
  for (int i = 1; i <= SYSCTL_MAX; i++)
    sysctl(i, -1, &saved[i]);
  sysctl(SYSCTL_DIRTY_WRITEBACK_CENTISECS, 0, 0);
  sysctl(SYSCTL_DIRTY_BACKGROUND_RATIO, 100, 0);
  sysctl(SYSCTL_DIRTY_RATIO, 100, 0);

  for (int i = 0; i < (int)NTESTS; i++) {
    int chosen = argc == 1;
    for (int a = 1; a < argc; a++)
      if (strcmp(argv[a], tests[i].name) == 0)
        chosen = 1;
    if (!chosen)
      continue;
    current = tests[i].name;
    failed = 0;
    tests[i].fn();
    if (!failed)
      printf("wbiter %s: PASS\n", current);
    bad += failed > 0;
  }
  for (int a = 1; a < argc; a++) {
    int known = 0;
    for (int i = 0; i < (int)NTESTS; i++)
      known |= strcmp(argv[a], tests[i].name) == 0;
    if (!known) {
      fprintf(2, "wbiter: no check named %s\n", argv[a]);
      bad++;
    }
  }
  for (int i = 1; i <= SYSCTL_MAX; i++)
    sysctl(i, saved[i], 0);
  exit(bad ? 1 : 0);
}
