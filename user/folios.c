// folios: checks of the page cache's large folios, as a program sees them
// through read, write, mmap, ftruncate and the wbstat(2) counters.
//
//   folios CHECK ...     write | small | mmap | truncate | tmapped |
//                        reclaim | fallback
//
// Each check prints "folios CHECK: PASS" or "folios CHECK: FAIL why".
// The file data is the pattern of grade/fsop.py (each 8-byte word at
// offset o holds (o ^ seed) * 0x9E3779B97F4A7C15), so the host can check
// a file after a reboot too (folios.N files, seed N).
#include "user/user.h"

#define PG 4096
#define FOLIO (16 * PG)   // the largest folio: 64 KiB

static const char *current;
static int failed;
static char buf[FOLIO];

static void __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
  va_list ap;

  if (failed++)
    return;
  printf("folios %s: FAIL ", current);
  va_start(ap, fmt);
  vfprintf(1, fmt, ap);
  va_end(ap);
  printf("\n");
}

static void
fill(char *dst, uint64 off, uint64 n, uint64 seed)
{
  for (uint64 i = 0; i < n; i += 8) {
    uint64 w = ((off + i) ^ seed) * 0x9E3779B97F4A7C15ULL;
    memmove(dst + i, &w, 8);
  }
}

static int
same(const char *p, uint64 off, uint64 n, uint64 seed)
{
  static char want[FOLIO];

  fill(want, off, n, seed);
  return memcmp(p, want, n) == 0;
}

static struct wbstat
stat_of(int fd)
{
  struct wbstat st;

  memset(&st, 0, sizeof(st));
  if (wbstat(fd, &st) < 0)
    fail("wbstat: %s", strerror(errno));
  return st;
}

// Write [off, off+n) with the pattern of seed, len bytes per write.
static void
put(int fd, uint64 off, uint64 n, uint64 len, uint64 seed)
{
  for (uint64 done = 0; done < n; done += len) {
    uint64 m = n - done < len ? n - done : len;
    fill(buf, off + done, m, seed);
    if (pwrite(fd, buf, m, off + done) != (ssize_t)m)
      fail("pwrite at %lu: %s", off + done, strerror(errno));
  }
}

// Read [off, off+n) back and compare with the pattern of seed (seed 0:
// zeros).
static void
expect(int fd, uint64 off, uint64 n, uint64 seed, const char *what)
{
  for (uint64 done = 0; done < n; done += FOLIO) {
    uint64 m = n - done < FOLIO ? n - done : FOLIO;
    if (pread(fd, buf, m, off + done) != (ssize_t)m) {
      fail("%s: pread at %lu: %s", what, off + done, strerror(errno));
      return;
    }
    for (uint64 i = 0; i < m; i += 8) {
      uint64 w = seed ? ((off + done + i) ^ seed) * 0x9E3779B97F4A7C15ULL : 0, got;
      memmove(&got, buf + i, 8);
      if (got != w) {
        fail("%s: wrong data at offset %lu", what, off + done + i);
        return;
      }
    }
  }
}

static int
create(const char *name)
{
  int fd = open(name, O_CREAT | O_TRUNC | O_RDWR);

  if (fd < 0)
    fail("open %s: %s", name, strerror(errno));
  return fd;
}

// A file of n pages that the page cache holds in large folios: written
// 64 KiB at a time, aligned.  Checks that it got them.
static int
large_file(const char *name, uint64 npages, uint64 seed)
{
  int fd = create(name);

  put(fd, 0, npages * PG, FOLIO, seed);
  struct wbstat st = stat_of(fd);
  if (st.f_large != npages / 16 || st.f_nrfolios != npages / 16 || st.f_nrpages != npages)
    fail("%s: %lu pages written 64 KiB at a time are in %lu folios, %lu of them large; "
         "want %lu large folios", name, npages, st.f_nrfolios, st.f_large, npages / 16);
  return fd;
}

// Map the first 64 KiB of the file shared and writable, and check that
// every page shows the pattern of seed.  Returns the mapping, or 0.
static char *
map_folio(int fd, uint64 seed)
{
  char *p = mmap(0, FOLIO, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

  if (p == MAP_FAILED) {
    fail("mmap: %s", strerror(errno));
    return 0;
  }
  for (int i = 0; i < 16; i++)
    if (!same(p + i * PG, i * PG, PG, seed))
      fail("page %d of the mapping is not the file's", i);
  return p;
}

// ---------------------------------------------------------------- checks

// Writes of 64 KiB, aligned, make large folios, which count in pages,
// are written by fsync as folios of 16 pages, and read back right.
static void
c_write(void)
{
  int fd = large_file("folios.1", 256, 1);
  struct wbstat g0 = stat_of(-1), st = stat_of(fd);

  if (st.f_dirty != 256)
    fail("1 MiB just written: %lu pages dirty, want 256", st.f_dirty);
  if (fsync(fd) < 0)
    fail("fsync: %s", strerror(errno));
  struct wbstat g1 = stat_of(-1);
  st = stat_of(fd);
  if (st.f_dirty != 0 || st.f_pages_written != 256 || g1.pages_written - g0.pages_written < 256)
    fail("after fsync: %lu pages dirty, %lu written; want 0 and 256", st.f_dirty,
         st.f_pages_written);
  expect(fd, 0, 256 * PG, 1, "folios.1");
  // An unaligned write over the large folios: into the folios that are there.
  put(fd, 5000, 3 * FOLIO, FOLIO, 2);
  expect(fd, 5000, 3 * FOLIO, 2, "folios.1 rewritten at 5000");
  expect(fd, 0, 4096, 1, "folios.1 page 0");
  st = stat_of(fd);
  if (st.f_large != 16 || st.f_dirty != 4 * 16)
    fail("a write over 4 large folios: %lu large, %lu pages dirty; want 16 and 64",
         st.f_large, st.f_dirty);
  close(fd);
}

// Small files, and small or unaligned writes, get single pages; an
// unaligned write gets the largest folios its alignment allows.
static void
c_small(void)
{
  int fd = create("folios.2");

  put(fd, 0, 10 * PG, 10 * PG, 3);   // one write, but the file is only 40 KiB
  struct wbstat st = stat_of(fd);
  if (st.f_large != 0 || st.f_nrpages != 10)
    fail("a file of 40 KiB, written at once: %lu large folios; want 10 single pages",
         st.f_large);
  put(fd, 16 * PG, FOLIO, PG, 3);    // 64 KiB, a page at a time
  st = stat_of(fd);
  if (st.f_large != 0 || st.f_nrpages != 26)
    fail("64 KiB written a page at a time: %lu large folios; want single pages",
         st.f_large);
  put(fd, 34 * PG, FOLIO, FOLIO, 3);  // 64 KiB at page 34: 2 + 4 + 8 + 2 pages
  st = stat_of(fd);
  if (st.f_nrpages != 42 || st.f_large != 4 || st.f_nrfolios != 26 + 4)
    fail("64 KiB written at page 34: %lu folios (%lu large) in all; want 30 (4 large: "
         "pages 34-35, 36-39, 40-47, 48-49)", st.f_nrfolios, st.f_large);
  expect(fd, 0, 10 * PG, 3, "folios.2");
  expect(fd, 16 * PG, FOLIO, 3, "folios.2");
  expect(fd, 34 * PG, FOLIO, 3, "folios.2");
  close(fd);
}

// Shared mappings map the pages of a large folio: a store to any page
// dirties the folio, writeback write-protects every page of it again, and
// a store after msync dirties it again.
static void
c_mmap(void)
{
  int fd = large_file("folios.3", 16, 4);

  if (fsync(fd) < 0)
    fail("fsync: %s", strerror(errno));
  char *p = map_folio(fd, 4);
  if (p == 0)
    return;
  fill(p + 3 * PG, 3 * PG, PG, 5);
  struct wbstat st = stat_of(fd);
  if (st.f_dirty != 16 || st.f_large != 1)
    fail("a store to page 3: %lu pages dirty, %lu large folios; want 16 and 1",
         st.f_dirty, st.f_large);
  if (msync(p, FOLIO, MS_SYNC) < 0)
    fail("msync: %s", strerror(errno));
  if (stat_of(fd).f_dirty != 0)
    fail("after msync: %lu pages dirty", stat_of(fd).f_dirty);
  fill(p + 3 * PG, 3 * PG, PG, 6);   // page 3's entry must be read-only again
  if (stat_of(fd).f_dirty != 16)
    fail("a store to page 3 after msync did not dirty the folio again: writeback must "
         "write-protect every page of a large folio");
  fill(p + 9 * PG, 9 * PG, PG, 6);
  if (msync(p, FOLIO, MS_SYNC) < 0)
    fail("msync: %s", strerror(errno));
  expect(fd, 3 * PG, PG, 6, "folios.3 page 3");
  expect(fd, 9 * PG, PG, 6, "folios.3 page 9");
  expect(fd, 4 * PG, PG, 4, "folios.3 page 4");
  munmap(p, FOLIO);
  close(fd);
}

// Truncating into a large folio: the bytes past the new end read as
// zeros, at once and when the file grows again; the folio is split and
// only the pages up to the end stay; the disk agrees after fsync.
static void
c_truncate(void)
{
  int fd = large_file("folios.4", 32, 7);

  if (fsync(fd) < 0)
    fail("fsync: %s", strerror(errno));
  if (ftruncate(fd, 10000) < 0)
    fail("ftruncate: %s", strerror(errno));
  struct wbstat st = stat_of(fd);
  if (st.f_nrpages != 3 || st.f_large != 0)
    fail("truncated to 10000 bytes: %lu pages cached, %lu large folios; want 3 and 0 "
         "(the folio split, pages 3 to 31 gone)", st.f_nrpages, st.f_large);
  if (ftruncate(fd, 2 * FOLIO) < 0)
    fail("ftruncate up: %s", strerror(errno));
  expect(fd, 0, 9992, 7, "folios.4 before the cut");
  expect(fd, 10000, 2 * FOLIO - 10000, 0, "folios.4 past the cut");
  if (fsync(fd) < 0)
    fail("fsync: %s", strerror(errno));
  close(fd);
}

// The same while a process maps the large folio: the split keeps its
// mapped pages mapped (with their data) and unmaps the pages cut off.
static void
c_tmapped(void)
{
  int fd = large_file("folios.5", 16, 8);
  char *p = map_folio(fd, 8);

  if (p == 0)
    return;
  if (ftruncate(fd, 2 * PG + 100) < 0)
    fail("ftruncate: %s", strerror(errno));
  struct wbstat st = stat_of(fd);
  if (st.f_nrpages != 3 || st.f_large != 0)
    fail("truncated to 3 pages while mapped: %lu pages cached, %lu large folios; want 3 "
         "and 0", st.f_nrpages, st.f_large);
  if (!same(p, 0, 2 * PG, 8) || !same(p + 2 * PG, 2 * PG, 96, 8))
    fail("the mapped pages before the cut lost their data");
  for (int i = 2 * PG + 104; i < 3 * PG; i++)
    if (p[i] != 0)
      fail("byte %d, past the end, is not zero through the mapping", i);
  fill(p + PG, PG, PG, 9);   // still mapped, and writable
  if (msync(p, 3 * PG, MS_SYNC) < 0)
    fail("msync: %s", strerror(errno));
  expect(fd, PG, PG, 9, "folios.5 page 1 stored through the mapping");
  munmap(p, FOLIO);
  close(fd);
}

// Grow the heap by up to n pages, 64 KiB at a time, so that reclaim must
// free page-cache memory for it; stop when memory runs out (sbrk fails).
// Returns the pages taken: give them back with sbrk(-pages * PG).
static uint64
hog(uint64 n)
{
  uint64 got = 0;

  while (got < n && sbrk(FOLIO) != (char *)-1)
    got += FOLIO / PG;
  return got;
}

// Under memory pressure reclaim frees clean large folios whole, and
// splits one a process maps a page of, freeing the pages nobody maps.
static void
c_reclaim(void)
{
  int fa = large_file("folios.6", 64, 10), fb = large_file("folios.7", 16, 11);

  if (fsync(fa) < 0 || fsync(fb) < 0)
    fail("fsync: %s", strerror(errno));
  char *p = mmap(0, PG, PROT_READ, MAP_SHARED, fb, 0);   // page 0 of folios.7
  if (p == MAP_FAILED || !same(p, 0, PG, 11))
    fail("mmap of folios.7, or its page 0: %s", strerror(errno));
  struct wbstat g0 = stat_of(-1);
  uint64 got = hog(g0.free_pages + g0.nr_cached);
  struct wbstat g1 = stat_of(-1), a = stat_of(fa), b = stat_of(fb);
  sbrk(-(int)(got * PG));
  if (a.f_nrpages != 0)
    fail("folios.6 (clean, not mapped) kept %lu pages under memory pressure",
         a.f_nrpages);
  if (b.f_nrpages != 1 || b.f_large != 0)
    fail("folios.7, of which page 0 is mapped, kept %lu pages in %lu large folios under "
         "memory pressure; want page 0 alone (the folio split)", b.f_nrpages, b.f_large);
  if (g1.pages_reclaimed - g0.pages_reclaimed < 64 + 15)
    fail("only %lu pages reclaimed", g1.pages_reclaimed - g0.pages_reclaimed);
  if (!same(p, 0, PG, 11))
    fail("the mapped page changed");
  munmap(p, PG);
  expect(fa, 0, 64 * PG, 10, "folios.6 read back");
  expect(fb, 0, 16 * PG, 11, "folios.7 read back");
  close(fa);
  close(fb);
}

// When free memory is in single pages, with few or no free 64 KiB blocks,
// writes that would get large folios get single pages once the blocks are
// gone, and large folios come back once memory does.  To get there: touch
// anonymous pages (single pages, which the allocator takes from its
// smallest blocks first) until memory is nearly full, then give every
// other page back: those cannot merge into blocks, their neighbours being
// in use.
static void
c_fallback(void)
{
  struct wbstat g = stat_of(-1);
  uint64 n = g.free_pages + g.nr_cached;
  char *h = mmap(0, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64 touched = 0;

  if (h == MAP_FAILED) {
    fail("mmap: %s", strerror(errno));
    return;
  }
  for (; touched < n; touched++) {
    if (touched % 16 == 0 && ((g = stat_of(-1)).free_large == 0 ||
                              g.free_pages + g.nr_cached < 600))
      break;
    h[touched * PG] = 1;
  }
  for (uint64 i = 1; i < touched; i += 2)   // every other page back
    munmap(h + i * PG, PG);
  g = stat_of(-1);
  // More folios than there are free blocks: some must be single pages.
  uint64 nfolios = 2 * g.free_large + 8;
  int fd = create("folios.8");
  put(fd, 0, nfolios * FOLIO, FOLIO, 12);
  struct wbstat st = stat_of(fd);
  if (st.f_nrpages != nfolios * 16 || st.f_nrfolios == st.f_large)
    fail("%lu writes of 64 KiB with %lu free 64 KiB blocks: %lu pages in %lu folios, %lu "
         "large; want %lu pages, single pages where the blocks ran out", nfolios,
         g.free_large, st.f_nrpages, st.f_nrfolios, st.f_large, nfolios * 16);
  if (fsync(fd) < 0)
    fail("fsync: %s", strerror(errno));
  expect(fd, 0, nfolios * FOLIO, 12, "folios.8");
  close(fd);
  unlink("folios.8");
  munmap(h, n * PG);
  fd = create("folios.9");
  put(fd, 0, 4 * FOLIO, FOLIO, 13);
  if (stat_of(fd).f_large != 4)
    fail("memory back: %lu large folios, want 4", stat_of(fd).f_large);
  close(fd);
}

static const struct {
  const char *name;
  void (*fn)(void);
} checks[] = {
  { "write", c_write }, { "small", c_small }, { "mmap", c_mmap },
  { "truncate", c_truncate }, { "tmapped", c_tmapped }, { "reclaim", c_reclaim },
  { "fallback", c_fallback },
};

int
main(int argc, char **argv)
{
  int bad = 0;

  for (int a = 1; a < argc; a++) {
    int found = 0;
    for (int i = 0; i < (int)(sizeof(checks) / sizeof(checks[0])); i++) {
      if (strcmp(argv[a], checks[i].name) != 0)
        continue;
      found = 1;
      current = checks[i].name;
      failed = 0;
      checks[i].fn();
      if (!failed)
        printf("folios %s: PASS\n", current);
      bad += failed > 0;
    }
    if (!found) {
      fprintf(2, "folios: no check named %s\n", argv[a]);
      bad++;
    }
  }
  exit(bad ? 1 : 0);
}
