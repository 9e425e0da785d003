// stress: many processes dirtying, fsyncing, truncating and mmapping at
// once, for the SMP stress test.
//
//   stress SECONDS [NPROC]       run; each worker ends with one last version
//                                of its file made durable, and prints it
//   stress verify NPROC          check those last versions after a reboot
//
// Worker w owns the file st.w and a scratch file st.w.tmp.  Each round it
// makes a new version of st.w — the whole file rewritten with one seed, by
// write(2), by stores through a shared mapping, or after truncating it —
// and makes it durable (fsync, fdatasync or msync MS_SYNC); in between it
// scribbles on its scratch file without syncing and truncates it.  The
// last durable version of each st.w is written to st.w.last (and fsynced)
// so that verify knows what to expect.
#include "user/user.h"

#define PG 4096
#define MAXSIZE (48 * PG)

static char buf[MAXSIZE];

static uint64
word(uint64 off, uint64 seed)
{
  return (off ^ seed) * 0x9E3779B97F4A7C15ULL;
}

static void
fill(char *dst, uint64 n, uint64 seed)
{
  for (uint64 i = 0; i < n; i += 8) {
    uint64 w = word(i, seed);
    memmove(dst + i, &w, n - i < 8 ? n - i : 8);
  }
}

static void
die(int w, const char *what)
{
  printf("stress: worker %d: %s: %s\n", w, what, strerror(errno));
  exit(1);
}

// Make version seed of st.w, of size bytes, durable.
static void
new_version(int w, const char *path, uint64 size, uint64 seed, int how)
{
  int fd = open(path, O_CREAT | O_RDWR);

  if (fd < 0)
    die(w, "open");
  if (how == 0) {            // write(2), then fsync
    fill(buf, size, seed);
    if (pwrite(fd, buf, size, 0) != (ssize_t)size || ftruncate(fd, size) < 0)
      die(w, "write");
    if (fsync(fd) < 0)
      die(w, "fsync");
  } else if (how == 1) {     // truncate to nothing first, then fdatasync
    if (ftruncate(fd, 0) < 0)
      die(w, "ftruncate");
    fill(buf, size, seed);
    if (write(fd, buf, size) != (ssize_t)size)
      die(w, "write");
    if (fdatasync(fd) < 0)
      die(w, "fdatasync");
  } else {                   // stores through a shared mapping, then msync
    if (ftruncate(fd, size) < 0)
      die(w, "ftruncate");
    uint64 len = (size + PG - 1) / PG * PG;
    char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
      die(w, "mmap");
    fill(p, size, seed);
    if (msync(p, len, MS_SYNC) < 0)
      die(w, "msync");
    if (munmap(p, len) < 0)
      die(w, "munmap");
    if (fsync(fd) < 0)   // msync syncs the data; the size needs a commit
      die(w, "fsync");
  }
  close(fd);
}

static void
scribble(int w, const char *path)
{
  int fd = open(path, O_CREAT | O_RDWR);

  if (fd < 0)
    die(w, "open scratch");
  uint64 off = rand64() % MAXSIZE, n = rand64() % (8 * PG) + 1;
  fill(buf, n, rand64());
  if (pwrite(fd, buf, n, off) < 0)
    die(w, "pwrite scratch");
  if (rand64() % 4 == 0 && ftruncate(fd, rand64() % MAXSIZE) < 0)
    die(w, "ftruncate scratch");
  close(fd);
}

static void
worker(int w, uint64 until_ms)
{
  char path[32], tmp[32], last[32];
  uint64 size = 0, seed = 0;

  snprintf(path, sizeof(path), "st.%d", w);
  snprintf(tmp, sizeof(tmp), "st.%d.tmp", w);
  snprintf(last, sizeof(last), "st.%d.last", w);
  srand(1000 + w);
  for (int round = 0; uptime_ms() < until_ms; round++) {
    size = rand64() % MAXSIZE + 1;
    seed = (uint64)w << 32 | round;
    new_version(w, path, size, seed, rand64() % 3);
    for (int i = rand64() % 4; i > 0; i--)
      scribble(w, tmp);
  }
  // Record the last durable version, durably.
  int fd = open(last, O_CREAT | O_TRUNC | O_WRONLY);
  if (fd < 0)
    die(w, "open last");
  uint64 rec[2] = { size, seed };
  if (write(fd, rec, sizeof(rec)) != sizeof(rec) || fsync(fd) < 0)
    die(w, "write last");
  close(fd);
  exit(0);
}

static int
verify(int nproc)
{
  int bad = 0;

  for (int w = 0; w < nproc; w++) {
    char path[32], last[32];
    uint64 rec[2];
    snprintf(path, sizeof(path), "st.%d", w);
    snprintf(last, sizeof(last), "st.%d.last", w);
    int fd = open(last, O_RDONLY);
    if (fd < 0 || read(fd, rec, sizeof(rec)) != sizeof(rec)) {
      printf("stress: worker %d left no record\n", w);
      bad++;
      continue;
    }
    close(fd);
    fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.size != rec[0]) {
      printf("stress: %s: size %lu, want %lu\n", path, fd < 0 ? 0 : (unsigned long)st.size,
             (unsigned long)rec[0]);
      bad++;
      continue;
    }
    static char want[MAXSIZE];
    fill(want, rec[0], rec[1]);
    if (read(fd, buf, rec[0]) != (ssize_t)rec[0] || memcmp(buf, want, rec[0]) != 0) {
      printf("stress: %s: the last fsynced version is not intact\n", path);
      bad++;
    }
    close(fd);
  }
  return bad;
}

int
main(int argc, char **argv)
{
  if (argc >= 3 && strcmp(argv[1], "verify") == 0) {
    int bad = verify(atoi(argv[2]));
    printf("stress verify: %s\n", bad ? "FAIL" : "PASS");
    exit(bad ? 1 : 0);
  }
  if (argc < 2) {
    fprintf(2, "usage: stress SECONDS [NPROC] | stress verify NPROC\n");
    exit(2);
  }
  int secs = atoi(argv[1]), nproc = argc > 2 ? atoi(argv[2]) : 8;
  uint64 until = uptime_ms() + (uint64)secs * 1000;
  for (int w = 0; w < nproc; w++) {
    int pid = fork();
    if (pid < 0) {
      printf("stress: fork: %s\n", strerror(errno));
      exit(1);
    }
    if (pid == 0)
      worker(w, until);
  }
  int failed = 0;
  for (int w = 0; w < nproc; w++) {
    int status;
    if (wait(&status) < 0 || status != 0)
      failed++;
  }
  printf("stress: %d workers, %d failed: %s\n", nproc, failed, failed ? "FAIL" : "DONE");
  exit(failed ? 1 : 0);
}
