// crashwork: the workload of the crash checker (grade/crashcheck.py).
//
//   crashwork SEED [STEPS]
//
// It runs step by step, driven from the console: after each step it prints
// "READY k" and waits for a line on its standard input before the next
// one.  The host reads the write log of the disk (QEMU's blklogwrites)
// each time it sees READY, so it knows which disk writes came before which
// step ended.  The last step's line is "READY k last"; then the program
// waits for one more line and exits (the host usually pulls the plug
// first).
//
// Everything it does to a file is printed, so that the host can recompute
// every version the file went through:
//
//   OP name fid=N path=P               file N (new) is now called P
//   OP write fid=N off=O len=L seed=S  pwrite of the pattern of S
//   OP mwrite fid=N off=O len=L seed=S the same, stored through a MAP_SHARED
//                                      mapping
//   OP trunc fid=N size=L              ftruncate
//   OP rename fid=N from=P to=Q        rename(P, Q); a file called Q before
//                                      loses its name
//   OP unlink path=P
//
// and after each data-integrity call (fsync, fdatasync, msync MS_SYNC,
// sync) returns 0, what that call made durable:
//
//   DURABLE P fid=N size=L ext=O+L@S,O+L@S,...   (ext=- when all zeros)
//   ABSENT P                           (after sync: P names nothing)
//
// A DURABLE line describes the whole file as it was when the call
// returned: its size, and its content as extents, each written with the
// pattern of one seed; everything else below the size reads as zeros.
// The pattern is fsop's: the 8-byte word at file offset o holds
// (o ^ seed) * 0x9E3779B97F4A7C15.  Seeds are (tag << 40) | (fid << 20) |
// version (tag: 23 bits from SEED), so the host can tell from any word
// which file and which write it came from.  Offsets, lengths and sizes are multiples of 8.
//
// A background process (forked at the start, killed before the last
// steps) writes, overwrites, truncates and deletes files bg/gK without
// ever syncing them, file K with seeds (tag << 40) | ((0x80000 | K) << 20)
// | j, j < 4.  Its freed blocks get reused by the main files, and its
// unsynced data is half written at any moment: that is where bytes of
// another file would come from after a crash.
//
// `crashwork promises SEED` runs a fixed scenario instead, one step for
// each durability rule of grade/crashbugs/rules.md (see promises()): each
// step makes a promise about a file of its own, on a disk the host keeps
// slow, and then keeps the disk busy with writes no promise covers, so
// that a kernel that breaks a rule leaves many crash states in which that
// step's promise does not hold.
//
// `crashwork lab SEED` is the crash lab's scenario (see crashlab()).
//
// The same SEED gives the same operations (the timing of the background
// process against them varies).  The last four steps are quiet: the
// background process is gone, periodic writeback is off, and after a
// sync() each step overwrites blocks that are already on the disk, then
// makes them durable with fsync, fdatasync and msync in turn.  Such a call
// commits no metadata, so its own FLUSH is the only one that makes the
// data durable: a kernel that skips it is caught every time.
#include "user/user.h"
#include "kernel/uapi/sysctl.h"

#define GOLDEN    0x9E3779B97F4A7C15ULL
#define PG        4096
#define NFID      256         // fids 1..NFID-1
#define MAXEXT    96          // extents per file
#define MAXLIVE   10          // main files with a name at once
#define MAXPAGES  56          // largest main file (past NDIRECT: indirect)
#define BGPAGES   48          // largest background file
#define QUIET     4           // quiet steps at the end

struct ext {
  uint64 off, len, seed;
};

struct file {
  int used;                   // fid handed out
  int alive;                  // has a name
  char path[24];
  uint64 size;
  uint32 ver;                 // writes so far: the seed's low bits
  int next;
  int warm;                   // created since boot: its pages are cached
  int hurt;                   // a call about it failed: its state is unsure
  struct ext ext[MAXEXT];
};

static struct file files[NFID];
static int nfids = 1;         // next fid
static uint64 tag;            // the run's seed tag (24 bits)
static int bgpid = -1;
static int names;             // counter for new names
static char deadpath[NFID * 2][24];
static int ndead;
static uint64 buf[MAXPAGES * PG / 8];

// `crashwork errors` (see errors_main()): a failing disk is expected.
static int errmode;
static int dry;               // replaying earlier steps: the model only
static int stopped;           // a call failed: every later operation is skipped
static int cwfd = -1;         // cw, open from the start, for syncfs
static int cur[2];            // the files the operation in progress is about

static void
fail(const char *what, const char *path)
{
  printf("ERROR %s %s: %s\n", what, path ? path : "", strerror(errno));
  if (bgpid > 0) {
    kill(bgpid);
    wait(0);
  }
  exit(1);
}

// A call failed.  Normally that ends the run; with `crashwork errors`
// it is what the run is for: say so, and skip every later operation.
static int
failed(const char *what, const char *path)
{
  if (!errmode)
    fail(what, path);
  printf("EFAIL %s %s: %s\n", what, path ? path : "", strerror(errno));
  stopped = 1;
  files[cur[0]].hurt = files[cur[1]].hurt = 1;
  return -1;
}

static uint64
rnd(uint64 n)
{
  return n ? rand64() % n : 0;
}

static uint64
seed_of(int fid, uint32 ver)
{
  return (tag << 40) | ((uint64)fid << 20) | (ver & 0xFFFFF);
}

static void
fill(uint64 *dst, uint64 off, uint64 len, uint64 seed)
{
  for (uint64 i = 0; i < len / 8; i++)
    dst[i] = ((off + 8 * i) ^ seed) * GOLDEN;
}

// ---------------------------------------------------------------- extents

// Forget what lies at or past byte `from` (below `to`) in f's extents.
static void
ext_cut(struct file *f, uint64 from, uint64 to)
{
  struct ext out[MAXEXT];
  int n = 0;

  for (int i = 0; i < f->next; i++) {
    struct ext e = f->ext[i];
    uint64 end = e.off + e.len;
    if (end <= from || e.off >= to) {
      out[n++] = e;
      continue;
    }
    if (e.off < from)
      out[n++] = (struct ext){ e.off, from - e.off, e.seed };
    if (end > to) {
      if (n >= MAXEXT) {
        printf("ERROR crashwork: too many extents\n");
        exit(1);
      }
      out[n++] = (struct ext){ to, end - to, e.seed };
    }
  }
  memmove(f->ext, out, n * sizeof out[0]);
  f->next = n;
}

static void
ext_write(struct file *f, uint64 off, uint64 len, uint64 seed)
{
  ext_cut(f, off, off + len);
  if (f->next >= MAXEXT) {
    printf("ERROR crashwork: too many extents\n");
    exit(1);
  }
  int i = f->next;
  while (i > 0 && f->ext[i - 1].off > off) {
    f->ext[i] = f->ext[i - 1];
    i--;
  }
  f->ext[i] = (struct ext){ off, len, seed };
  f->next++;
}

// ---------------------------------------------------------------- operations

static int
new_fid(void)
{
  if (nfids >= NFID) {
    printf("ERROR crashwork: out of file ids\n");
    exit(1);
  }
  int fid = nfids++;
  memset(&files[fid], 0, sizeof files[fid]);
  files[fid].used = 1;
  return fid;
}

static void
forget_dead(const char *path)
{
  for (int i = 0; i < ndead; i++) {
    if (strcmp(deadpath[i], path) == 0) {
      strcpy(deadpath[i], deadpath[--ndead]);
      return;
    }
  }
}

static void
add_dead(const char *path)
{
  forget_dead(path);
  if (ndead < NFID * 2)
    strcpy(deadpath[ndead++], path);
}

static int
open_file(int fid, int flags)
{
  int fd = open(files[fid].path, flags);
  if (fd < 0)
    failed("open", files[fid].path);
  return fd;
}

// Each operation prints its OP line before it makes its calls: if one
// fails (crashwork errors), the operation may have been done in part.

// Write the pattern of a new seed over [off, off+len) of file fid.
static void
do_write(int fid, uint64 off, uint64 len)
{
  struct file *f = &files[fid];
  if (stopped)
    return;
  cur[0] = fid, cur[1] = 0;
  uint64 seed = seed_of(fid, ++f->ver);
  if (!dry) {
    printf("OP write fid=%d off=%lu len=%lu seed=0x%lx\n", fid, off, len, seed);
    int fd = open_file(fid, O_RDWR);
    if (fd < 0)
      return;
    fill(buf, off, len, seed);
    ssize_t n = pwrite(fd, buf, len, off);
    close(fd);
    if (n != (ssize_t)len) {
      failed("pwrite", f->path);
      return;
    }
  }
  ext_write(f, off, len, seed);
  if (off + len > f->size)
    f->size = off + len;
}

static void
do_trunc(int fid, uint64 size)
{
  struct file *f = &files[fid];
  if (stopped)
    return;
  cur[0] = fid, cur[1] = 0;
  if (!dry) {
    printf("OP trunc fid=%d size=%lu\n", fid, size);
    int fd = open_file(fid, O_RDWR);
    if (fd < 0)
      return;
    int r = ftruncate(fd, size);
    close(fd);
    if (r < 0) {
      failed("ftruncate", f->path);
      return;
    }
  }
  ext_cut(f, size, ~0ULL);
  f->size = size;
}

static int
do_create(void)
{
  int fid = new_fid();
  struct file *f = &files[fid];

  snprintf(f->path, sizeof f->path, "cw/f%d", fid);
  if (stopped)
    return fid;
  cur[0] = fid, cur[1] = 0;
  if (!dry) {
    printf("OP name fid=%d path=%s\n", fid, f->path);
    int fd = open(f->path, O_CREAT | O_EXCL | O_RDWR);
    if (fd < 0) {
      failed("create", f->path);
      return fid;
    }
    close(fd);
    f->warm = 1;
  }
  f->alive = 1;
  forget_dead(f->path);
  return fid;
}

static void
do_unlink(int fid)
{
  struct file *f = &files[fid];

  if (stopped)
    return;
  cur[0] = fid, cur[1] = 0;
  if (!dry) {
    printf("OP unlink path=%s\n", f->path);
    if (unlink(f->path) < 0) {
      failed("unlink", f->path);
      return;
    }
  }
  f->alive = 0;
  add_dead(f->path);
}

// Rename fid to a new name, or over the name of file `over` (> 0).
static void
do_rename(int fid, int over)
{
  struct file *f = &files[fid];
  char to[24];

  if (stopped)
    return;
  cur[0] = fid, cur[1] = over > 0 ? over : 0;
  if (over > 0)
    strcpy(to, files[over].path);
  else
    snprintf(to, sizeof to, "cw/n%d", ++names);
  if (!dry) {
    printf("OP rename fid=%d from=%s to=%s\n", fid, f->path, to);
    if (rename(f->path, to) < 0) {
      failed("rename", f->path);
      return;
    }
  }
  add_dead(f->path);
  forget_dead(to);
  if (over > 0)
    files[over].alive = 0;
  strcpy(f->path, to);
}

// Has the file system shut down?  A store into a mapping would then be
// killed (SIGBUS), so `crashwork errors` looks before it stores.
static int
shut_down(void)
{
  struct wbstat st;

  return errmode && wbstat(-1, &st) == 0 && st.fs_shutdown;
}

// Store the pattern of a new seed over [off, off+len) through a shared
// mapping of the whole file.
static int
store_mapped(int fid, int fd, uint64 maplen, uint64 off, uint64 len, uint64 seed)
{
  char *p = mmap(0, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return failed("mmap", files[fid].path);
  if (shut_down()) {
    errno = EROFS;
    munmap(p, maplen);
    return failed("store", files[fid].path);
  }
  volatile uint64 *w = (volatile uint64 *)(p + off);
  for (uint64 i = 0; i < len / 8; i++)
    w[i] = ((off + 8 * i) ^ seed) * GOLDEN;
  int r = msync(p, maplen, MS_SYNC);
  if (r < 0)
    failed("msync", files[fid].path);
  if (munmap(p, maplen) < 0 && r == 0)
    r = failed("munmap", files[fid].path);
  return r;
}

// Store through a shared mapping, then msync(MS_SYNC).  Returns 0 if
// msync made the stores durable.
static int
do_mwrite_msync(int fid, uint64 off, uint64 len)
{
  struct file *f = &files[fid];
  uint64 maplen = (f->size + PG - 1) / PG * PG;
  if (stopped)
    return -1;
  cur[0] = fid, cur[1] = 0;
  uint64 seed = seed_of(fid, ++f->ver);
  int r = 0;
  if (!dry) {
    printf("OP mwrite fid=%d off=%lu len=%lu seed=0x%lx\n", fid, off, len, seed);
    int fd = open_file(fid, O_RDWR);
    if (fd < 0)
      return -1;
    r = store_mapped(fid, fd, maplen, off, len, seed);
    close(fd);
  }
  ext_write(f, off, len, seed);
  return r;
}

static void
durable(int fid)
{
  struct file *f = &files[fid];

  if (dry || stopped)
    return;
  printf("DURABLE %s fid=%d size=%lu ext=", f->path, fid, f->size);
  if (f->next == 0)
    printf("-");
  for (int i = 0; i < f->next; i++)
    printf("%s%lu+%lu@0x%lx", i ? "," : "", f->ext[i].off, f->ext[i].len, f->ext[i].seed);
  printf("\n");
}

static void
sync_call(int fid, int how)
{
  if (dry || stopped)
    return;
  cur[0] = fid, cur[1] = 0;
  int fd = open_file(fid, O_RDWR);
  if (fd < 0)
    return;
  int r = how ? fdatasync(fd) : fsync(fd);
  close(fd);
  if (r < 0)
    failed(how ? "fdatasync" : "fsync", files[fid].path);
  durable(fid);
}

// sync(), or with `crashwork errors` syncfs(), which reports errors.
static void
sync_all(void)
{
  if (dry || stopped)
    return;
  if (!errmode)
    sync();
  else if (syncfs(cwfd) < 0)
    failed("syncfs", "cw");
  if (stopped)
    return;
  for (int fid = 1; fid < nfids; fid++)
    if (files[fid].alive)
      durable(fid);
  for (int i = 0; i < ndead; i++)
    printf("ABSENT %s\n", deadpath[i]);
}

// ---------------------------------------------------------------- choices

static int
nlive(void)
{
  int n = 0;

  for (int fid = 1; fid < nfids; fid++)
    n += files[fid].alive;
  return n;
}

// A random live file other than `not` (0 if there is none).
static int
pick(int not)
{
  int cand[NFID], n = 0;

  for (int fid = 1; fid < nfids; fid++)
    if (files[fid].alive && fid != not)
      cand[n++] = fid;
  return n ? cand[rnd(n)] : 0;
}

// A length in bytes: whole pages, or not, always a multiple of 8.
static uint64
rnd_len(uint64 maxpages)
{
  uint64 len = (1 + rnd(maxpages)) * PG;
  if (rnd(2))
    len -= 8 * (1 + rnd(PG / 8 - 1));
  return len;
}

// A range [off, off+len) inside [0, limit) (limit > 0, a multiple of 8).
static void
rnd_range(uint64 limit, uint64 *off, uint64 *len)
{
  uint64 words = limit / 8;
  uint64 a = rnd(words), b = rnd(words);
  if (a > b) {
    uint64 t = a;
    a = b;
    b = t;
  }
  if (b - a > 24 * PG / 8)
    b = a + 24 * PG / 8;
  *off = a * 8;
  *len = (b - a + 1) * 8;
  if (*off + *len > limit)
    *len = limit - *off;
}

// Unsynced writes to random files, so that crash states find them half
// written and the synced files have later versions on the disk.
static void
noise(void)
{
  for (int n = rnd(3); n > 0; n--) {
    int fid = pick(0);
    if (fid == 0)
      return;
    struct file *f = &files[fid];
    uint64 off, len;
    if (f->size > 0 && rnd(3)) {
      rnd_range(f->size, &off, &len);
    } else {
      off = f->size;
      len = rnd_len(6);
      if (off / PG + len / PG + 1 > MAXPAGES)
        continue;
    }
    do_write(fid, off, len);
  }
}

// One step of the main phase.
static void
step(void)
{
  noise();
  int live = nlive();
  int kind = rnd(100);
  if (live < 3)
    kind = 0;
  else if (live >= MAXLIVE && kind < 15)
    kind = 63;                                  // replace instead
  int fid = pick(0);
  struct file *f = &files[fid];
  uint64 off, len;

  if (kind < 15) {
    // A new file, written and fsynced.
    fid = do_create();
    do_write(fid, 0, rnd_len(MAXPAGES - 8));
    if (rnd(3) == 0)
      do_write(fid, files[fid].size, rnd_len(6));
    sync_call(fid, 0);
  } else if (kind < 30) {
    // Append, then fdatasync.
    if (f->size / PG + 8 > MAXPAGES)
      do_trunc(fid, rnd_len(8));
    do_write(fid, f->size, rnd_len(6));
    sync_call(fid, 1);
  } else if (kind < 45) {
    // Overwrite part of the file (perhaps past its end), then fsync.
    if (f->size == 0)
      do_write(fid, 0, rnd_len(4));
    rnd_range(f->size, &off, &len);
    if (rnd(4) == 0 && f->size / PG + 4 < MAXPAGES)
      len = f->size - off + rnd_len(3);
    do_write(fid, off, len);
    sync_call(fid, 0);
  } else if (kind < 55) {
    // Shrink or grow, perhaps write past the new end, then fsync.
    uint64 size = f->size;
    if (rnd(2) && size > 8)
      size = 8 * rnd(size / 8);
    else if (size / PG + 10 < MAXPAGES)
      size += rnd_len(8);
    do_trunc(fid, size);
    if (rnd(2) && size / PG + 4 < MAXPAGES)
      do_write(fid, size + 8 * rnd(1024), rnd_len(2));
    sync_call(fid, rnd(2));
  } else if (kind < 63) {
    // Rename, to a new name or over another file, then fsync the file.
    do_rename(fid, rnd(2) ? pick(fid) : 0);
    sync_call(fid, 0);
  } else if (kind < 73) {
    // Delete a file, then write a new one: it gets the freed blocks.
    do_unlink(fid);
    int nfid = do_create();
    do_write(nfid, 0, rnd_len(MAXPAGES - 8));
    sync_call(nfid, rnd(2));
  } else if (kind < 85) {
    // Store through a shared mapping, then msync(MS_SYNC).
    if (f->size < 8)
      do_write(fid, 0, rnd_len(4));
    rnd_range(f->size, &off, &len);
    if (do_mwrite_msync(fid, off, len) == 0)
      durable(fid);
  } else {
    // A few unsynced writes more, then sync(): every file is durable.
    noise();
    noise();
    sync_all();
  }
}

static void
background(void)
{
  static uint64 bbuf[BGPAGES * PG / 8];

  srand(tag * 31 + 7);
  for (uint64 k = 0; ; k++) {
    char path[24];
    uint64 base = (tag << 40) | ((0x80000 | k) << 20);
    snprintf(path, sizeof path, "bg/g%lu", k);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR);
    if (fd < 0)
      exit(1);
    uint64 len = (1 + rnd(BGPAGES)) * PG;
    if (rnd(2))
      len -= 8 * (1 + rnd(PG / 8 - 1));
    fill(bbuf, 0, len, base);
    if (write(fd, bbuf, len) != (ssize_t)len)
      exit(1);
    if (rnd(3) == 0) {
      uint64 off = 8 * rnd(len / 8), n = len - off;
      fill(bbuf, off, n, base | 1);
      if (pwrite(fd, bbuf, n, off) != (ssize_t)n)
        exit(1);
    }
    if (rnd(4) == 0 && ftruncate(fd, 8 * rnd(len / 8)) < 0)
      exit(1);
    close(fd);
    if (k >= 4) {
      snprintf(path, sizeof path, "bg/g%lu", k - 4);
      if (unlink(path) < 0)
        exit(1);
    }
    sleep(1);
  }
}

static void
ready(int k, int last)
{
  printf("READY %d%s\n", k, last ? " last" : "");
}

static void
wait_line(void)
{
  char line[32];

  gets(line, sizeof line);
}

// ---------------------------------------------------------------- promises

// A file of n pages, written and made durable by the caller's sync; holes
// at pages [hole, hole + nhole).
static int
make_file(const char *path, int n, int hole, int nhole)
{
  int fid = new_fid();

  strcpy(files[fid].path, path);
  int fd = open(path, O_CREAT | O_EXCL | O_RDWR);
  if (fd < 0)
    fail("create", path);
  if (ftruncate(fd, (uint64)n * PG) < 0)
    fail("ftruncate", path);
  close(fd);
  files[fid].alive = 1;
  files[fid].size = (uint64)n * PG;
  printf("OP name fid=%d path=%s\nOP trunc fid=%d size=%lu\n", fid, path, fid,
         files[fid].size);
  for (int i = 0; i < n; i++)
    if (i < hole || i >= hole + nhole)
      do_write(fid, (uint64)i * PG, PG);
  return fid;
}

// Start the writeback of [off, off+len) of fid without waiting for it:
// someone other than the integrity call that follows starts it.
static void
start_writeback(int fid, uint64 off, uint64 len)
{
  int fd = open_file(fid, O_RDWR);

  if (sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE) < 0)
    fail("sync_file_range", files[fid].path);
  close(fd);
}

// Keep the slow disk busy: overwrite every other page of the junk file
// (blocks on the disk already: no metadata to commit) and start their
// writes.  Called before a step's own writes, it puts them at the back of
// a queue that drains slowly (QEMU's throttle lets a burst through at
// once when the disk has been idle, so an idle disk is not enough); called
// after a promise, it makes the window to the next FLUSH long, so that
// the writes a broken promise left unflushed share it with many others.
static void
busy_pages(int junk, int n)
{
  for (int i = 0; i < n; i++)
    do_write(junk, (uint64)(2 * i) * PG, PG);
  start_writeback(junk, 0, (uint64)(2 * n) * PG);
}

static void
busy(int junk)
{
  busy_pages(junk, 24);
}

// One step per rule: D1 fsync waits for writes others started; D2 fsync
// FLUSHes even with nothing to commit; D3 fdatasync commits a new size;
// D4 msync(MS_SYNC) makes stores into a hole durable; D5 sync waits for
// everything.  Each promise is about a file of its own.
static void
promises(void)
{
  int p1 = make_file("cw/d1", 16, 16, 0), p2 = make_file("cw/d2", 16, 16, 0);
  int p3 = make_file("cw/d3", 16, 16, 0), p4 = make_file("cw/d4", 16, 8, 4);
  int p5 = make_file("cw/d5", 16, 16, 0), junk = make_file("cw/junk", 48, 48, 0);
  sync_all();
  ready(1, 0);
  wait_line();
  busy(junk);
  do_write(p1, PG, 3 * PG);
  start_writeback(p1, PG, 3 * PG);
  sync_call(p1, 0);
  busy(junk);
  ready(2, 0);
  wait_line();
  busy(junk);
  do_write(p2, 2 * PG, 3 * PG);
  sync_call(p2, 0);
  busy(junk);
  ready(3, 0);
  wait_line();
  busy(junk);
  do_write(p3, 16 * PG, 4 * PG);
  sync_call(p3, 1);
  busy(junk);
  ready(4, 0);
  wait_line();
  busy(junk);
  if (do_mwrite_msync(p4, 9 * PG, 2 * PG) == 0)
    durable(p4);
  busy(junk);
  ready(5, 0);
  wait_line();
  busy(junk);
  do_write(p5, 3 * PG, 5 * PG);
  sync_all();
  busy(junk);
  sleep(100);     // the busy writes reach the disk before the plug is pulled
  ready(6, 1);
  wait_line();
  exit(0);
}

// ---------------------------------------------------------------- errors

// `crashwork errors SEED STEPS [FROM]`: the random steps on a disk that
// fails (grade/errsweep.py makes one chosen request fail), with no
// background process and no writeback or commit but the steps' own
// calls, so that every run with the same SEED makes the same requests up
// to the error.  Every call's failure is printed ("EFAIL call path:
// error") and stops the operations; then finish() looks at what the file
// system does after the error.  With FROM, steps 1 to FROM-1 are replayed
// in the model only (a run with the same SEED made them on this disk
// before), so that step FROM starts on a cold cache.

// The call `what` returned r; it should have failed with errno `want`.
static int
expect_errno(const char *what, int r, int want)
{
  if (r >= 0 || errno != want) {
    printf("RO BAD %s: %s, not %s\n", what, r >= 0 ? "succeeded" : strerror(errno),
           strerror(want));
    return 1;
  }
  return 0;
}

// Read file fid (open on fd) back: 0 if it is as the model says, 1 if
// not ("WRONG" is printed), -1 if the read failed.
static int
read_back(int fid, int fd)
{
  struct file *f = &files[fid];
  static uint64 want[MAXPAGES * PG / 8];

  memset(want, 0, f->size);
  for (int i = 0; i < f->next; i++)
    fill(want + f->ext[i].off / 8, f->ext[i].off, f->ext[i].len, f->ext[i].seed);
  if (pread(fd, buf, f->size, 0) != (ssize_t)f->size)
    return -1;
  for (uint64 i = 0; i < f->size / 8; i++) {
    if (buf[i] != want[i]) {
      printf("WRONG %s: the word at %lu reads 0x%lx, not 0x%lx\n", f->path, 8 * i,
             buf[i], want[i]);
      return 1;
    }
  }
  return 0;
}

// Read every file back: on a cold cache, from the disk.
static void
verify_all(void)
{
  for (int fid = 1; fid < nfids && !stopped; fid++) {
    if (!files[fid].alive)
      continue;
    cur[0] = fid, cur[1] = 0;
    int fd = open_file(fid, O_RDONLY);
    if (fd < 0)
      return;
    if (read_back(fid, fd) < 0)
      failed("pread", files[fid].path);
    close(fd);
  }
}

// The latest file created since boot that still has its name, is not
// the one a failed call was about, and can be opened for reading.
static int
open_warm_file(int *fid)
{
  for (*fid = nfids - 1; *fid > 0; (*fid)--) {
    struct file *f = &files[*fid];
    if (!f->alive || !f->warm || f->hurt)
      continue;
    int fd = open(f->path, O_RDONLY);
    if (fd >= 0)
      return fd;
  }
  return -1;
}

// After a shutdown: calls that would change the disk fail with EROFS,
// the integrity calls with EIO, and what the cache holds reads back.
static void
check_read_only(void)
{
  int bad = expect_errno("create", open("cw/ro", O_CREAT | O_RDWR), EROFS);
  bad |= expect_errno("mkdir", mkdir("cw/ro"), EROFS);
  bad |= expect_errno("sync", sync(), EIO);
  int fid, fd = open_warm_file(&fid);
  if (fd >= 0) {
    const char *path = files[fid].path;
    bad |= expect_errno("open for writing", open(path, O_RDWR), EROFS);
    bad |= expect_errno("unlink", unlink(path), EROFS);
    bad |= expect_errno("rename", rename(path, "cw/ro"), EROFS);
    bad |= expect_errno("fsync", fsync(fd), EIO);
    if (read_back(fid, fd) != 0) {
      printf("RO BAD reading %s from the cache\n", path);
      bad = 1;
    }
    close(fd);
  }
  printf("RO %s%s\n", bad ? "BAD" : "ok", fd < 0 ? " (no cached file to read)" : "");
}

// The end of a run: make everything durable (syncfs reports any write
// error of the run) and read it back, then say what the disk and the
// file system did.
static void
finish(void)
{
  struct wbstat st;

  if (!stopped) {
    sync_all();
    verify_all();
  } else
    printf("SYNCFS %s\n", syncfs(cwfd) < 0 ? strerror(errno) : "ok");
  if (wbstat(-1, &st) < 0)
    fail("wbstat", 0);
  printf("DISK errors=%lu shutdown=%lu\n", st.disk_errors, st.fs_shutdown);
  if (st.fs_shutdown)
    check_read_only();
}

static void
errors_main(int steps, int from)
{
  errmode = 1;
  if (sysctl(SYSCTL_DIRTY_WRITEBACK_CENTISECS, 0, 0) < 0 ||
      sysctl(SYSCTL_COMMIT_CENTISECS, 3000, 0) < 0)
    fail("sysctl", 0);
  if (from <= 1) {
    from = 1;
    if (mkdir("cw") < 0 || mkdir("bg") < 0)
      failed("mkdir", "cw");
    else if (sync() < 0)
      failed("sync", 0);
    else
      printf("DIRS cw bg\n");
  }
  dry = 1;
  for (int k = 1; k < from; k++)
    step();
  dry = 0;
  if (!stopped && (cwfd = open("cw", O_RDONLY)) < 0)
    failed("open", "cw");
  ready(from - 1, 0);
  int k = from;
  for (; k <= steps && !stopped; k++) {
    wait_line();
    step();
    ready(k, 0);
  }
  wait_line();
  finish();
  ready(k, 1);
  wait_line();
  exit(0);
}

// ---------------------------------------------------------------- the crash lab

// `crashwork lab SEED`: the scenario of the crash lab's tests
// (grade/test_crash_lab.py, rules in labs/crash/rules.md).  One step per
// promise of vfs_fsync_range(), each about a file of its own, on a disk
// the host keeps slow, with busy() writes around it as in promises();
// then a step where ordered data matters, and one where the log commits
// on its own, again and again.  Before the steps, the disk is filled and
// part of the filler freed again: every block the steps allocate still
// holds the filler's old bytes, which a file must never show.

#define LABFREE   64          // filler pages freed for the steps to use
#define LABHOLD   300         // centiseconds blkhold() keeps data writes at most

// Fill the disk with one file (cw/fill), a page at a time, until write(2)
// says ENOSPC; then give back its last LABFREE pages.
static void
fill_disk(void)
{
  int fid = new_fid();
  struct file *f = &files[fid];
  uint64 seed = seed_of(fid, ++f->ver), n = 0;

  strcpy(f->path, "cw/fill");
  int fd = open(f->path, O_CREAT | O_EXCL | O_RDWR);
  if (fd < 0)
    fail("create", f->path);
  f->alive = 1;
  printf("OP name fid=%d path=%s\n", fid, f->path);
  for (;; n++) {
    fill(buf, n * PG, PG, seed);
    if (pwrite(fd, buf, PG, n * PG) != PG)
      break;
  }
  if (errno != ENOSPC || n <= LABFREE + 8)
    fail("filling the disk", f->path);
  close(fd);
  ext_write(f, 0, n * PG, seed);
  f->size = n * PG;
  printf("OP write fid=%d off=0 len=%lu seed=0x%lx\n", fid, n * PG, seed);
  sync_all();
  do_trunc(fid, (n - LABFREE) * PG);
}

// The step that shows ordered data: a new file's writeback allocates its
// blocks and sends its data, which blkhold() keeps back; meanwhile an
// fsync of another file commits the transaction that points at them.
static void
lab_ordered(int other)
{
  int fid = do_create();

  do_write(fid, 0, 8 * PG);
  if (blkhold(LABHOLD) < 0)
    fail("blkhold", 0);
  start_writeback(fid, 0, 8 * PG);
  sync_call(other, 0);
  blkhold(0);
}

// Metadata alone, committed by the log's own thread every few ticks and
// never flushed after: each commit's empty header shares a window with
// the next commit's log blocks.
static void
lab_churn(void)
{
  if (sysctl(SYSCTL_COMMIT_CENTISECS, 5, 0) < 0)
    fail("sysctl", 0);
  for (int i = 0; i < 6; i++) {
    int fid = do_create();
    if (i % 2)
      do_rename(fid, 0);
    else if (i > 0)
      do_unlink(fid - 1);
    sleep(15);
  }
  if (sysctl(SYSCTL_COMMIT_CENTISECS, 3000, 0) < 0)
    fail("sysctl", 0);
  sync_all();
}

// busy() with fewer writes: eight overwrites of the junk file, enough to
// keep a step's own writes queued behind them, and a third of the crash
// states to check.
static void
lab_busy(int junk)
{
  busy_pages(junk, 8);
}

static void
lab_step(int k, int junk)
{
  lab_busy(junk);
  ready(k, 0);
  wait_line();
  lab_busy(junk);
}

static void
crashlab(void)
{
  int waits = make_file("cw/waits", 16, 16, 0), flushes = make_file("cw/flushes", 16, 16, 0);
  int others = make_file("cw/others", 16, 16, 0), datasync = make_file("cw/datasync", 16, 16, 0);
  int resize = make_file("cw/resize", 16, 16, 0), junk = make_file("cw/junk", 16, 16, 0);
  sync_all();
  fill_disk();
  sync_all();
  ready(1, 0);
  wait_line();
  lab_busy(junk);
  for (int i = 0; i < 3; i++) {                 // new blocks, fsync
    int fresh = do_create();
    do_write(fresh, 0, 8 * PG);
    sync_call(fresh, 0);
  }
  lab_step(2, junk);
  do_write(waits, PG, 3 * PG);                  // fsync waits for others' writes
  start_writeback(waits, PG, 3 * PG);
  sync_call(waits, 0);
  lab_step(3, junk);
  do_write(flushes, 2 * PG, 3 * PG);            // fsync with nothing to commit
  sync_call(flushes, 0);
  lab_step(4, junk);
  do_write(others, 5 * PG, 3 * PG);             // written before fsync is called
  int fd = open_file(others, O_RDWR);
  if (sync_file_range(fd, 5 * PG, 3 * PG, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0)
    fail("sync_file_range", files[others].path);
  close(fd);
  sync_call(others, 0);
  lab_step(5, junk);
  do_write(datasync, 16 * PG, 4 * PG);          // fdatasync of an append
  sync_call(datasync, 1);
  lab_step(6, junk);
  do_trunc(resize, 6 * PG);                     // fsync of a size change
  sync_call(resize, 0);
  lab_step(7, junk);
  lab_ordered(flushes);
  lab_step(8, junk);
  lab_churn();
  lab_busy(junk);
  sleep(100);     // the busy writes reach the disk before the plug is pulled
  ready(9, 1);
  wait_line();
  exit(0);
}

int
main(int argc, char *argv[])
{
  int lab = argc > 1 && strcmp(argv[1], "lab") == 0;
  int scenario = lab || (argc > 1 && strcmp(argv[1], "promises") == 0);
  int errors = argc > 1 && strcmp(argv[1], "errors") == 0;
  if (argc < 2 || argc > 3 + 2 * errors || (scenario && argc != 3) || (errors && argc < 4)) {
    fprintf(2, "usage: crashwork SEED [STEPS] | crashwork promises SEED | "
               "crashwork lab SEED | crashwork errors SEED STEPS [FROM]\n");
    exit(2);
  }
  uint64 seed = strtol(argv[1 + scenario + errors], 0, 0);
  int steps = argc > 2 && !scenario ? atoi(argv[2 + errors]) : 40;
  // 23 bits: seeds stay below 2^63, so fsop (strtol) takes them too.
  tag = (seed * 0x9E3779B97F4A7C15ULL) >> 41;
  if (tag == 0)
    tag = 1;
  srand(seed);
  printf("TAG 0x%lx\n", tag);
  if (errors)
    errors_main(steps, argc > 4 ? atoi(argv[4]) : 1);

  // Eager writeback and commits: the disk is busy between the steps.
  if (sysctl(SYSCTL_DIRTY_WRITEBACK_CENTISECS, 10, 0) < 0 ||
      sysctl(SYSCTL_DIRTY_EXPIRE_CENTISECS, 10, 0) < 0 ||
      sysctl(SYSCTL_COMMIT_CENTISECS, 10, 0) < 0)
    fail("sysctl", 0);
  if (mkdir("cw") < 0)
    fail("mkdir", "cw");
  if (mkdir("bg") < 0)
    fail("mkdir", "bg");
  sync();
  printf("DIRS cw bg\n");
  if (scenario) {
    // Only the steps write, and nothing commits but their own calls.
    if (sysctl(SYSCTL_DIRTY_WRITEBACK_CENTISECS, 0, 0) < 0 ||
        sysctl(SYSCTL_COMMIT_CENTISECS, 3000, 0) < 0)
      fail("sysctl", 0);
    ready(0, 0);
    wait_line();
    if (lab)
      crashlab();
    promises();
  }
  bgpid = fork();
  if (bgpid < 0)
    fail("fork", 0);
  if (bgpid == 0)
    background();
  ready(0, 0);

  int k = 1;
  for (; k <= steps; k++) {
    wait_line();
    step();
    sleep(2);       // let writeback and the background process run
    ready(k, 0);
  }

  // The quiet steps.  First stop the background process and make
  // everything durable, with one more file (cw/q, no holes) to overwrite.
  wait_line();
  kill(bgpid);
  wait(0);
  bgpid = -1;
  // No periodic writeback from now on: nothing but the steps' own calls
  // writes to the disk.
  if (sysctl(SYSCTL_DIRTY_WRITEBACK_CENTISECS, 0, 0) < 0)
    fail("sysctl", 0);
  int q = new_fid();
  strcpy(files[q].path, "cw/q");
  int fd = open(files[q].path, O_CREAT | O_EXCL | O_RDWR);
  if (fd < 0)
    fail("create", files[q].path);
  close(fd);
  files[q].alive = 1;
  printf("OP name fid=%d path=%s\n", q, files[q].path);
  do_write(q, 0, 16 * PG);
  sync_all();
  ready(k++, 0);
  // Overwrite blocks already on the disk: fsync, fdatasync, msync.
  for (int i = 0; i < QUIET - 1; i++) {
    wait_line();
    uint64 off = (uint64)(1 + 5 * i) * PG + 8 * rnd(64);
    uint64 len = 2 * PG + 8 * rnd(256);
    if (i < 2) {
      do_write(q, off, len);
      sync_call(q, i);
    } else if (do_mwrite_msync(q, off, len) == 0) {
      durable(q);
    }
    ready(k++, i == QUIET - 2);
  }
  wait_line();
  exit(0);
}
