// fsyncint: fsync integrity.  Data that was written before a data-integrity
// call returned must be on the disk: the tests kill QEMU (no clean
// shutdown) right after this program says SYNCED, boot again, and run the
// verify phase.
//
//   fsyncint CASE write     do the case's writes and its integrity call;
//                           prints "fsyncint CASE: SYNCED"
//   fsyncint CASE verify    check what survived; prints "fsyncint CASE: PASS"
//                           or "fsyncint CASE: FAIL <why>"
//
// Cases: basic partial manyfiles large fdatasync sfr msync redirty truncrace
// mmapredirty mmapprivate.
// The data follows the pattern of grade/fsop.py (each 8-byte word at offset
// o holds (o ^ seed) * 0x9E3779B97F4A7C15), a seed per write.
#include "user/user.h"

#define PG 4096

static const char *casename;
static int failures;

static void
fail(const char *fmt, ...)
{
  va_list ap;

  if (failures++ == 0) {
    printf("fsyncint %s: FAIL ", casename);
    va_start(ap, fmt);
    vfprintf(1, fmt, ap);
    va_end(ap);
    printf("\n");
  }
}

static void
die(const char *what)
{
  fail("%s: %s", what, strerror(errno));
  exit(1);
}

static uint64
word(uint64 off, uint64 seed)
{
  return (off ^ seed) * 0x9E3779B97F4A7C15ULL;
}

// The pattern bytes for file offsets [off, off+n), into dst.
static void
fill(char *dst, uint64 off, uint64 n, uint64 seed)
{
  uint64 i = 0;

  for (; i < n && ((off + i) & 7); i++)
    dst[i] = (char)(word((off + i) & ~7ULL, seed) >> (8 * ((off + i) & 7)));
  for (; i + 8 <= n; i += 8) {
    uint64 w = word(off + i, seed);
    memmove(dst + i, &w, 8);
  }
  for (; i < n; i++)
    dst[i] = (char)(word((off + i) & ~7ULL, seed) >> (8 * ((off + i) & 7)));
}

static char big[64 * 1024];

static void
put(int fd, uint64 off, uint64 n, uint64 seed)
{
  while (n > 0) {
    uint64 m = n < sizeof(big) ? n : sizeof(big);
    fill(big, off, m, seed);
    if (pwrite(fd, big, m, off) != (ssize_t)m)
      die("pwrite");
    off += m;
    n -= m;
  }
}

// Compare [off, off+n) of the file with the pattern of seed.
static void
check(int fd, uint64 off, uint64 n, uint64 seed, const char *what)
{
  static char want[sizeof(big)];

  while (n > 0) {
    uint64 m = n < sizeof(big) ? n : sizeof(big);
    ssize_t r = pread(fd, big, m, off);
    if (r != (ssize_t)m) {
      fail("%s: read %ld of %lu bytes at %lu", what, (long)r, m, off);
      return;
    }
    fill(want, off, m, seed);
    for (uint64 i = 0; i < m; i++) {
      if (big[i] != want[i]) {
        fail("%s: wrong byte at offset %lu", what, off + i);
        return;
      }
    }
    off += m;
    n -= m;
  }
}

static void
check_size(int fd, uint64 size, const char *what)
{
  struct stat st;

  if (fstat(fd, &st) < 0)
    die("fstat");
  if (st.size != size)
    fail("%s: size %lu, want %lu", what, (unsigned long)st.size, (unsigned long)size);
}

static int
openf(const char *path, int flags)
{
  int fd = open(path, flags);

  if (fd < 0)
    die(path);
  return fd;
}

static void
sync_fd(int fd)
{
  if (fsync(fd) < 0)
    die("fsync");
}

// ---- the cases: each has a write and a verify half

static void
basic(int verify)
{
  if (!verify) {
    int fd = openf("fi.basic", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, 300000, 1);
    sync_fd(fd);
    return;
  }
  int fd = openf("fi.basic", O_RDONLY);
  check_size(fd, 300000, "fi.basic");
  check(fd, 0, 300000, 1, "fi.basic");
}

// Writes that start and end inside pages, over data already on the disk.
static const struct { uint64 off, len; } bits[] = {
  { 100, 17 }, { 4000, 300 }, { 8191, 2 }, { 12288 + 50, 4000 }, { 20000, 480 },
};

static void
partial(int verify)
{
  if (!verify) {
    int fd = openf("fi.partial", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, 5 * PG, 1);
    sync_fd(fd);
    for (int i = 0; i < (int)(sizeof(bits) / sizeof(bits[0])); i++)
      put(fd, bits[i].off, bits[i].len, 2 + i);
    sync_fd(fd);
    return;
  }
  int fd = openf("fi.partial", O_RDONLY);
  check_size(fd, 5 * PG, "fi.partial");
  uint64 at = 0;
  for (int i = 0; i < (int)(sizeof(bits) / sizeof(bits[0])); i++) {
    check(fd, at, bits[i].off - at, 1, "fi.partial (old data)");
    check(fd, bits[i].off, bits[i].len, 2 + i, "fi.partial (new data)");
    at = bits[i].off + bits[i].len;
  }
  check(fd, at, 5 * PG - at, 1, "fi.partial (old data)");
}

#define NMANY 60

static void
manyfiles(int verify)
{
  char name[32];

  if (!verify)
    mkdir("fi.many");
  for (int i = 0; i < NMANY; i++) {
    snprintf(name, sizeof(name), "fi.many/f%d", i);
    uint64 size = 1000 + i * 997;
    if (!verify) {
      int fd = openf(name, O_CREAT | O_TRUNC | O_RDWR);
      put(fd, 0, size, 100 + i);
      sync_fd(fd);
      close(fd);
    } else {
      int fd = openf(name, O_RDONLY);
      check_size(fd, size, name);
      check(fd, 0, size, 100 + i, name);
      close(fd);
    }
  }
}

#define LARGE (24 * 1024 * 1024)

static void
large(int verify)
{
  if (!verify) {
    int fd = openf("fi.large", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, LARGE, 7);
    sync_fd(fd);
    return;
  }
  int fd = openf("fi.large", O_RDONLY);
  check_size(fd, LARGE, "fi.large");
  check(fd, 0, LARGE, 7, "fi.large");
}

static void
fdatasync_case(int verify)
{
  if (!verify) {
    int fd = openf("fi.fdatasync", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, 50000, 3);
    if (fdatasync(fd) < 0)
      die("fdatasync");
    put(fd, 50000, 70000, 4);   // growing the file: the size must follow
    if (fdatasync(fd) < 0)
      die("fdatasync");
    return;
  }
  int fd = openf("fi.fdatasync", O_RDONLY);
  check_size(fd, 120000, "fi.fdatasync");
  check(fd, 0, 50000, 3, "fi.fdatasync");
  check(fd, 50000, 70000, 4, "fi.fdatasync");
}

// sync_file_range with all three flags: the range is written and waited
// for.  (It is not a data-integrity call: it commits no metadata and sends
// no FLUSH, so the case overwrites blocks that are already allocated and
// relies on the kill keeping what the disk has completed.)
static void
sfr(int verify)
{
  const unsigned all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                       SYNC_FILE_RANGE_WAIT_AFTER;
  if (!verify) {
    int fd = openf("fi.sfr", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, 10 * PG, 1);
    sync_fd(fd);
    put(fd, 2 * PG, 5 * PG, 5);
    if (sync_file_range(fd, 2 * PG, 5 * PG, all) < 0)
      die("sync_file_range");
    struct wbstat st;
    if (wbstat(fd, &st) < 0)
      die("wbstat");
    if (st.f_dirty != 0 || st.f_writeback != 0)
      fail("after sync_file_range: %lu dirty, %lu under writeback", st.f_dirty, st.f_writeback);
    return;
  }
  int fd = openf("fi.sfr", O_RDONLY);
  check(fd, 0, 2 * PG, 1, "fi.sfr");
  check(fd, 2 * PG, 5 * PG, 5, "fi.sfr");
  check(fd, 7 * PG, 3 * PG, 1, "fi.sfr");
}

static void
msync_case(int verify)
{
  if (!verify) {
    int fd = openf("fi.msync", O_CREAT | O_TRUNC | O_RDWR);
    if (ftruncate(fd, 6 * PG) < 0)
      die("ftruncate");
    char *p = mmap(0, 6 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
      die("mmap");
    fill(p, 0, 6 * PG, 6);
    if (msync(p, 6 * PG, MS_SYNC) < 0)
      die("msync");
    return;
  }
  int fd = openf("fi.msync", O_RDONLY);
  check_size(fd, 6 * PG, "fi.msync");
  check(fd, 0, 6 * PG, 6, "fi.msync");
}

static struct wbstat
stat_of(int fd)
{
  struct wbstat st;

  if (wbstat(fd, &st) < 0)
    die("wbstat");
  return st;
}

// The pages of each folio of a file whose folios are all one size (the
// four pages written here in one write make one folio of 4 pages, or
// single pages when memory is short): what f_dirty and f_writeback count
// for one folio.
static uint64
folio_pages(int fd)
{
  struct wbstat st = stat_of(fd);

  return st.f_nrfolios ? st.f_nrpages / st.f_nrfolios : 1;
}

// The write of page 1 was just started: on the slow disk it must still be
// in flight.  A write that never started is the iterator's fault.
static void
expect_in_flight(int fd)
{
  struct wbstat st = stat_of(fd);

  if (st.f_writeback == 0 && st.f_dirty > 0) {
    fail("rule 2 (labs/writeback/rules.md): the write of page 1 (bytes 4096..8191) did "
         "not start: the range ends with the page holding range_end, inclusive");
    exit(1);
  }
  if (st.f_writeback == 0) {
    fail("setup: the write finished at once; the disk must be slow for this case");
    exit(1);
  }
}

// After the crash: pages 0, 2 and 3 hold version 1, page 1 version 3.
static void
check_redirtied(const char *name, const char *what)
{
  int fd = openf(name, O_RDONLY);

  check(fd, 0, PG, 1, name);
  check(fd, PG, PG, 3, what);
  check(fd, 2 * PG, 2 * PG, 1, name);
}

// A folio written again while its first write is still going to the (slow)
// disk: fsync must wait for that write, then write the new data.
static void
redirty(int verify)
{
  if (verify) {
    check_redirtied("fi.redirty", "fi.redirty (the folio written under writeback; rule 6 "
                    "of labs/writeback/rules.md)");
    return;
  }
  int fd = openf("fi.redirty", O_CREAT | O_TRUNC | O_RDWR);
  put(fd, 0, 4 * PG, 1);
  sync_fd(fd);
  put(fd, PG, PG, 2);
  if (sync_file_range(fd, PG, PG, SYNC_FILE_RANGE_WRITE) < 0)
    die("sync_file_range");
  expect_in_flight(fd);
  put(fd, PG, PG, 3);   // redirty it under writeback
  struct wbstat st = stat_of(fd);
  uint64 want = folio_pages(fd);
  if (st.f_dirty != want || st.f_writeback != want)
    fail("setup: after the second write: %lu pages dirty, %lu under writeback; want the "
         "folio's %lu and %lu", st.f_dirty, st.f_writeback, want, want);
  sync_fd(fd);
  if (stat_of(fd).f_dirty != 0)
    fail("rule 6 (labs/writeback/rules.md): fsync returned with the folio redirtied "
         "under writeback still dirty: integrity writeback must wait for the write in "
         "flight and write the folio again");
}

// A store through a shared mapping after writeback of the folio started:
// writeback made the mapping read-only first, so the store faults, dirties
// the folio again, and msync(MS_SYNC) writes it.
static void
mmapredirty(int verify)
{
  if (verify) {
    check_redirtied("fi.mmapre", "fi.mmapre (the store made during writeback)");
    return;
  }
  int fd = openf("fi.mmapre", O_CREAT | O_TRUNC | O_RDWR);
  put(fd, 0, 4 * PG, 1);
  sync_fd(fd);
  char *p = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    die("mmap");
  fill(p + PG, PG, PG, 2);
  if (msync(p, 4 * PG, MS_ASYNC) < 0)
    die("msync");
  expect_in_flight(fd);
  fill(p + PG, PG, PG, 3);   // while the folio is under writeback
  uint64 dirty = stat_of(fd).f_dirty;
  if (dirty != folio_pages(fd))
    fail("a store during writeback did not dirty the folio again (%lu pages dirty, want "
         "the folio's %lu)", dirty, folio_pages(fd));
  if (msync(p, 4 * PG, MS_SYNC) < 0)
    die("msync");
}

// Stores to a MAP_PRIVATE mapping never reach the file, not even after
// msync and fsync.
static void
mmapprivate(int verify)
{
  if (!verify) {
    int fd = openf("fi.mmappriv", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, 3 * PG, 1);
    sync_fd(fd);
    char *p = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
      die("mmap");
    fill(p, 0, 3 * PG, 2);
    if (msync(p, 3 * PG, MS_SYNC) < 0)
      die("msync");
    sync_fd(fd);
    sync();
    return;
  }
  int fd = openf("fi.mmappriv", O_RDONLY);
  check(fd, 0, 3 * PG, 1, "fi.mmappriv (private stores reached the file)");
}

// ftruncate racing fsync: no deadlock, no damage, and the final state is
// durable after a last fsync.
static void
truncrace(int verify)
{
  if (!verify) {
    int fd = openf("fi.trunc", O_CREAT | O_TRUNC | O_RDWR);
    put(fd, 0, 64 * PG, 1);
    int pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      srand(42);
      for (int i = 0; i < 150; i++) {
        uint64 size = rand64() % (64 * PG);
        if (ftruncate(fd, size) < 0)
          exit(1);
        put(fd, size, rand64() % (8 * PG) + 1, 10 + i);
      }
      exit(0);
    }
    for (int i = 0; i < 40; i++)
      sync_fd(fd);
    int status;
    wait(&status);
    if (status != 0)
      fail("the truncating child failed");
    if (ftruncate(fd, 10000) < 0)
      die("ftruncate");
    put(fd, 0, 10000, 9);
    put(fd, 30000, 5000, 8);   // a hole from 10000 to 30000
    sync_fd(fd);
    return;
  }
  int fd = openf("fi.trunc", O_RDONLY);
  check_size(fd, 35000, "fi.trunc");
  check(fd, 0, 10000, 9, "fi.trunc");
  char zero[PG];
  for (uint64 off = 10000; off < 30000; off += sizeof(zero)) {
    uint64 n = 30000 - off < sizeof(zero) ? 30000 - off : sizeof(zero);
    if (pread(fd, zero, n, off) != (ssize_t)n) {
      fail("fi.trunc: short read in the hole");
      break;
    }
    for (uint64 i = 0; i < n; i++)
      if (zero[i] != 0) {
        fail("fi.trunc: the hole at %lu is not zeros", off + i);
        off = 30000;
        break;
      }
  }
  check(fd, 30000, 5000, 8, "fi.trunc");
}

static struct {
  const char *name;
  void (*fn)(int verify);
} cases[] = {
  { "basic", basic }, { "partial", partial }, { "manyfiles", manyfiles },
  { "large", large }, { "fdatasync", fdatasync_case }, { "sfr", sfr },
  { "msync", msync_case }, { "redirty", redirty }, { "truncrace", truncrace },
  { "mmapredirty", mmapredirty }, { "mmapprivate", mmapprivate },
};

int
main(int argc, char **argv)
{
  int n = sizeof(cases) / sizeof(cases[0]);

  if (argc == 3 && (strcmp(argv[2], "write") == 0 || strcmp(argv[2], "verify") == 0)) {
    for (int i = 0; i < n; i++) {
      if (strcmp(argv[1], cases[i].name) != 0)
        continue;
      int verify = strcmp(argv[2], "verify") == 0;
      casename = cases[i].name;
      cases[i].fn(verify);
      if (failures == 0)
        printf("fsyncint %s: %s\n", casename, verify ? "PASS" : "SYNCED");
      exit(failures ? 1 : 0);
    }
  }
  fprintf(2, "usage: fsyncint CASE write|verify\ncases:");
  for (int i = 0; i < n; i++)
    fprintf(2, " %s", cases[i].name);
  fprintf(2, "\n");
  exit(2);
}
