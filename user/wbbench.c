// wbbench: the benchmarks behind `make bench` (grade/bench.py runs them
// and prints the table).  Each prints one line of "name=value" figures.
//
//   wbbench seqwrite PATH MB        write MB MiB sequentially, then fsync
//   wbbench raw MB                  the same amount straight to the scratch
//                                   disk (rawdisk), then a FLUSH; then read
//                                   it back from the disk
//   wbbench memcpy MB               copy MB MiB in user space, in the same
//                                   256 KiB pieces as the others write
//   wbbench cached PATH MB          write MB MiB into the page cache (no
//                                   fsync), read it back from the cache;
//                                   and memcpy of as much; best of 5 rounds
//   wbbench fsync1 PATH NPAGES REPS fsync after dirtying one page of a
//                                   file with NPAGES cached pages
//   wbbench dirtied PATH MB SECS    fsync a file while another process keeps
//                                   dirtying it; and the same with no dirtier
//   wbbench bigfile PATH MB         write MB MiB, fsync, read it all back
#include "user/user.h"
#include "kernel/uapi/rawdisk.h"

#define CHUNK (256 * 1024)

// Microseconds since boot, from the time register (10 MHz on QEMU virt).
static uint64
now_us(void)
{
  uint64 t;

  asm volatile("rdtime %0" : "=r"(t));
  return t / 10;
}

static void
die(const char *what)
{
  fprintf(2, "wbbench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static char *
chunk_buffer(void)
{
  // Page-aligned, for rawdisk.
  char *p = sbrk(CHUNK + 4096);
  if (p == (char *)-1)
    die("sbrk");
  p = (char *)(((uint64)p + 4095) & ~4095UL);
  for (int i = 0; i < CHUNK; i += 8)
    *(uint64 *)(p + i) = (uint64)i * 0x9E3779B97F4A7C15ULL;
  return p;
}

static void
stat_of(int fd, struct wbstat *st)
{
  if (wbstat(fd, st) < 0)
    die("wbstat");
}

static void
seqwrite(const char *path, int mb)
{
  char *buf = chunk_buffer();
  struct wbstat before, after;
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY);

  if (fd < 0)
    die(path);
  stat_of(-1, &before);
  uint64 t0 = now_us();
  for (uint64 done = 0; done < (uint64)mb << 20; done += CHUNK)
    if (write(fd, buf, CHUNK) != CHUNK)
      die("write");
  uint64 tw = now_us();
  if (fsync(fd) < 0)
    die("fsync");
  uint64 t1 = now_us();
  stat_of(-1, &after);
  close(fd);
  printf("seqwrite mb=%d us=%lu write_us=%lu fsync_us=%lu disk_write_bytes=%lu "
         "disk_writes=%lu flushes=%lu\n", mb, t1 - t0, tw - t0, t1 - tw,
         after.disk_write_bytes - before.disk_write_bytes,
         after.disk_writes - before.disk_writes, after.disk_flushes - before.disk_flushes);
}

static void
raw(int mb)
{
  char *buf = chunk_buffer();
  int64_t size = rawdisk(RAWDISK_SIZE, 0, 0, 0);

  if (size < 0)
    die("rawdisk (is there a scratch disk?)");
  uint64 blocks = (uint64)mb << 8, per = CHUNK / 4096;
  if (blocks > (uint64)size)
    blocks = size;
  uint64 t0 = now_us();
  for (uint64 b = 0; b < blocks; b += per)
    if (rawdisk(RAWDISK_WRITE, b, buf, per) < 0)
      die("rawdisk write");
  if (rawdisk(RAWDISK_FLUSH, 0, 0, 0) < 0)
    die("rawdisk flush");
  uint64 t1 = now_us();
  for (uint64 b = 0; b < blocks; b += per)
    if (rawdisk(RAWDISK_READ, b, buf, per) < 0)
      die("rawdisk read");
  uint64 t2 = now_us();
  printf("raw mb=%lu us=%lu read_us=%lu\n", blocks >> 8, t1 - t0, t2 - t1);
}

// User-space memcpy of mb MiB, CHUNK bytes at a time: the speed limit of
// any path that copies the data once.
static uint64
memcpy_us(int mb)
{
  static char *src, *dst;

  if (src == 0) {
    src = chunk_buffer();
    dst = chunk_buffer();
  }
  uint64 t0 = now_us();
  for (uint64 done = 0; done < (uint64)mb << 20; done += CHUNK) {
    memcpy(dst, src, CHUNK);
    asm volatile("" : : "r"(dst) : "memory");   // keep every copy
  }
  return now_us() - t0;
}

// Write bytes from buf, CHUNK at a time, at the file offset; or read them
// back from offset 0 into buf.
static void
write_all(int fd, char *buf, uint64 bytes)
{
  for (uint64 off = 0; off < bytes; off += CHUNK)
    if (write(fd, buf, CHUNK) != CHUNK)
      die("write");
}

static void
read_all(int fd, char *buf, uint64 bytes)
{
  for (uint64 off = 0; off < bytes; off += CHUNK)
    if (pread(fd, buf, CHUNK, off) != CHUNK)
      die("read");
}

// One round of cached: write a fresh file of mb MiB into the cache, read
// it back, and leave nothing behind.  Times in us in w and r.
static void
cached_round(const char *path, char *buf, int mb, uint64 *w, uint64 *r)
{
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR);
  uint64 bytes = (uint64)mb << 20, t0 = now_us();

  if (fd < 0)
    die(path);
  write_all(fd, buf, bytes);
  uint64 t1 = now_us();
  read_all(fd, buf, bytes);
  uint64 t2 = now_us();
  if (fsync(fd) < 0)
    die("fsync");
  close(fd);
  unlink(path);
  *w = t1 - t0;
  *r = t2 - t1;
}

#define CACHED_ROUNDS 5

// write() into and read() from the page cache, against memcpy: the best
// of CACHED_ROUNDS rounds of each, since one round is a few milliseconds
// and a busy host can stop the machine for as long.
static void
cached(const char *path, int mb)
{
  char *buf = chunk_buffer();
  uint64 copy = ~0UL, w = ~0UL, r = ~0UL;

  for (int i = 0; i < CACHED_ROUNDS; i++) {
    uint64 c = memcpy_us(mb), wi, ri;
    cached_round(path, buf, mb, &wi, &ri);
    copy = c < copy ? c : copy;
    w = wi < w ? wi : w;
    r = ri < r ? ri : r;
  }
  printf("cached mb=%d memcpy_us=%lu write_us=%lu read_us=%lu\n", mb, copy, w, r);
}

static int
cmp_u64(const void *a, const void *b)
{
  uint64 x = *(const uint64 *)a, y = *(const uint64 *)b;
  return x < y ? -1 : x > y;
}

// Insertion sort: REPS is small.
static void
sort(uint64 *v, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && cmp_u64(&v[j - 1], &v[j]) > 0; j--) {
      uint64 t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
}

static void
fsync1(const char *path, int npages, int reps)
{
  char *buf = chunk_buffer();
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR);
  uint64 *us = malloc(reps * sizeof(uint64));

  if (fd < 0 || us == 0)
    die(path);
  for (int done = 0; done < npages; ) {
    int n = npages - done < CHUNK / 4096 ? npages - done : CHUNK / 4096;
    if (write(fd, buf, n * 4096) != n * 4096)
      die("write");
    done += n;
  }
  if (fsync(fd) < 0)
    die("fsync");
  srand(npages);
  for (int i = 0; i < reps; i++) {
    uint64 page = rand64() % npages;
    if (pwrite(fd, buf, 4096, page * 4096) != 4096)
      die("pwrite");
    uint64 t0 = now_us();
    if (fsync(fd) < 0)
      die("fsync");
    us[i] = now_us() - t0;
  }
  struct wbstat st;
  stat_of(fd, &st);
  close(fd);
  sort(us, reps);
  printf("fsync1 npages=%d cached=%lu median_us=%lu min_us=%lu\n", npages, st.f_nrpages,
         us[reps / 2], us[0]);
}

// The dirtier: overwrite the file round and round until killed.
static void
dirtier(int fd, uint64 bytes, char *buf)
{
  for (uint64 off = 0; ; off = (off + CHUNK) % bytes)
    if (pwrite(fd, buf, CHUNK, off) != CHUNK)
      exit(1);
}

// fsync under a dirtier: how many pages the fsync wrote against how many
// were dirty when it was called, and its time against an idle fsync.
static void
dirtied(const char *path, int mb, int secs)
{
  char *buf = chunk_buffer();
  uint64 bytes = (uint64)mb << 20;
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR);

  if (fd < 0)
    die(path);
  sync();   // start clean: nothing else dirty for the flusher to chase
  for (uint64 off = 0; off < bytes; off += CHUNK)
    if (write(fd, buf, CHUNK) != CHUNK)
      die("write");
  // Idle: dirty it all, then fsync.
  struct wbstat a, b;
  stat_of(fd, &a);
  uint64 t0 = now_us();
  if (fsync(fd) < 0)
    die("fsync");
  uint64 idle_us = now_us() - t0;
  stat_of(fd, &b);
  uint64 idle_dirty = a.f_dirty, idle_written = b.self_written - a.self_written;
  for (uint64 off = 0; off < bytes; off += CHUNK)
    if (pwrite(fd, buf, CHUNK, off) != CHUNK)
      die("write");

  int pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0)
    dirtier(fd, bytes, buf);
  sleep(secs * 100 / 2);
  // The fsync's own counts come from this process's counters: the folios
  // it tagged TOWRITE (those dirty when it began) and those whose
  // writeback it started.  The file's count also has the flusher's.
  stat_of(fd, &a);
  t0 = now_us();
  if (fsync(fd) < 0)
    die("fsync");
  uint64 busy_us = now_us() - t0;
  stat_of(fd, &b);
  kill(pid);
  wait(0);
  // Leave nothing dirty behind for the next run.
  if (fsync(fd) < 0)
    die("fsync");
  close(fd);
  unlink(path);
  printf("dirtied mb=%d idle_us=%lu idle_dirty=%lu idle_written=%lu busy_us=%lu "
         "busy_dirty=%lu busy_tagged=%lu busy_self_written=%lu busy_written=%lu\n",
         mb, idle_us, idle_dirty, idle_written, busy_us, a.f_dirty,
         b.self_tagged - a.self_tagged, b.self_written - a.self_written,
         b.f_pages_written - a.f_pages_written);
}

static void
bigfile(const char *path, int mb)
{
  char *buf = chunk_buffer();
  uint64 bytes = (uint64)mb << 20;
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR);

  if (fd < 0)
    die(path);
  uint64 t0 = now_us();
  write_all(fd, buf, bytes);
  if (fsync(fd) < 0)
    die("fsync");
  uint64 t1 = now_us();
  read_all(fd, buf, bytes);
  uint64 t2 = now_us();
  close(fd);
  printf("bigfile mb=%d write_us=%lu read_us=%lu\n", mb, t1 - t0, t2 - t1);
}

int
main(int argc, char **argv)
{
  if (argc == 4 && strcmp(argv[1], "seqwrite") == 0)
    seqwrite(argv[2], atoi(argv[3]));
  else if (argc == 3 && strcmp(argv[1], "raw") == 0)
    raw(atoi(argv[2]));
  else if (argc == 3 && strcmp(argv[1], "memcpy") == 0)
    printf("memcpy mb=%d us=%lu\n", atoi(argv[2]), memcpy_us(atoi(argv[2])));
  else if (argc == 4 && strcmp(argv[1], "cached") == 0)
    cached(argv[2], atoi(argv[3]));
  else if (argc == 5 && strcmp(argv[1], "fsync1") == 0)
    fsync1(argv[2], atoi(argv[3]), atoi(argv[4]));
  else if (argc == 5 && strcmp(argv[1], "dirtied") == 0)
    dirtied(argv[2], atoi(argv[3]), atoi(argv[4]));
  else if (argc == 4 && strcmp(argv[1], "bigfile") == 0)
    bigfile(argv[2], atoi(argv[3]));
  else {
    fprintf(2, "usage: wbbench seqwrite PATH MB | raw MB | memcpy MB | cached PATH MB |\n"
               "               fsync1 PATH NPAGES REPS | dirtied PATH MB SECS | bigfile PATH MB\n");
    exit(2);
  }
  exit(0);
}
