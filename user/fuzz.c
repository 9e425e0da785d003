// fuzz: throw random system calls at the kernel.
//
//   fuzz [ncalls] [nprocs] [seed] [keep]
//
// Defaults: 100000 calls, 4 processes, a seed from the clock.  With "keep"
// the scratch directory is left behind for inspection (and for fsck).
//
// nprocs processes share the calls.  Each makes random system calls with
// arguments drawn from a mix that finds bugs: descriptors it really has
// open, small integers, boundary values, huge and negative numbers,
// pointers into its own scratch memory, pointers that run off the end of
// it, NULL, and kernel addresses.  Whatever happens, the kernel must stay
// up and keep its promises; a call that succeeds with an argument that
// cannot be valid is printed as SUSPICIOUS.
//
// The fuzzer keeps itself alive: it never exits or powers off on purpose,
// never kills a process it did not just create, never reads the console
// (it would block), never closes its standard descriptors, lets a forked
// child do nothing but exit, execs only files that are not programs, and
// lets the kernel write only into scratch memory.  It works in /fuzzdir,
// which it removes at the end, so the root directory is left alone.

#include "user/user.h"
#include "kernel/uapi/syscall.h"

#define PGSIZE   4096
#define ARENA    (16 * PGSIZE)    // scratch memory the kernel may write to
#define MAXEXTRA (16 * PGSIZE)    // how far random sbrk calls may grow
#define NFD      64               // descriptor numbers we keep track of
#define NMAP     16
#define HOME     "/fuzzdir"

static char *arena;               // [arena, arena + ARENA), page-aligned
static long extra;                // bytes sbrk'd beyond the arena
static char fdopen_[NFD];         // which descriptors we believe are open
static int progress_fd = -1;      // pipe to the parent: one byte per 100 calls
static struct { char *addr; size_t len; } maps[NMAP];
static int me;                    // process index, for messages

static uint64
below(uint64 n)
{
  return n == 0 ? 0 : rand64() % n;
}

static int
chance(int percent)
{
  return (int)below(100) < percent;
}

// ---------------------------------------------------------------- arguments

static const long specials[] = {
  0, 1, -1, 2, 7, 8, 15, 16, 63, 64, 511, 512, 4095, 4096, 4097,
  0x7fffffff, -0x7fffffffL - 1, 0x80000000L, 0xffffffffL, 0x100000000L,
  0x7fffffffffffffffL, (long)0x8000000000000000UL,
  (long)MAXFILE * BSIZE, (long)MAXFILE * BSIZE - 1, (long)MAXFILE * BSIZE + 1,
};
#define NSPECIALS (sizeof(specials) / sizeof(specials[0]))

// An integer of the kind that exposes mistakes.
static long
rand_int(void)
{
  switch (below(8)) {
  case 0: return specials[below(NSPECIALS)];
  case 1: return -(long)below(5) - 1;
  case 2: return (long)rand64();
  case 3: return 1L << below(63);
  case 4: return (long)(below(32) * PGSIZE) + (long)below(3) - 1;
  default: return (long)below(5000);
  }
}

// A byte count: mostly modest, sometimes enormous.
static long
rand_len(void)
{
  int r = below(10);
  if (r < 6)
    return below(600);
  if (r < 8)
    return below(3 * PGSIZE);
  return rand_int();
}

// A file offset.
static long
rand_off(void)
{
  return chance(60) ? (long)below(20000) : rand_int();
}

// Descriptors the fuzzer must not touch: the console and the progress pipe.
static int
guarded(long fd)
{
  return (fd >= 0 && fd <= 2) || fd == progress_fd;
}

static int
rand_fd(void)
{
  int r = below(10);
  if (r < 6) {
    // One we have open, if any.
    int start = below(NFD);
    for (int i = 0; i < NFD; i++) {
      int fd = (start + i) % NFD;
      if (fdopen_[fd])
        return fd;
    }
  }
  // Check after the conversion to int: 0x100000001 becomes 1.
  int fd;
  if (r < 8)
    fd = 3 + below(20);
  else
    fd = (int)rand_int();
  return guarded(fd) ? -1 : fd;
}

static void
track(long fd, int open)
{
  if (fd >= 0 && fd < NFD && !guarded(fd))
    fdopen_[fd] = open;
}

// Addresses that are never valid for a user program.
static const uint64 kernelish[] = {
  0, 8, 0xfff0, 0x80000000, 0x80001234, 0x87fff000, 0x3ffffff000,
  0x3fffffe000, 0x3fffffffff, 0x4000000000, 0x8000000000000000UL,
  0xffffffc000000000UL, 0xffffffffffffffffUL,
};
#define NKERNELISH (sizeof(kernelish) / sizeof(kernelish[0]))

static int
is_kernelish(const void *p)
{
  for (int i = 0; i < (int)NKERNELISH; i++)
    if ((uint64)p == kernelish[i])
      return 1;
  return 0;
}

// The current break, which is also the first unmapped byte above it.
static char *
brk_end(void)
{
  return arena + ARENA + extra;
}

// Does [p, p+n) lie inside one of the regions we mmap'ed?
static int
in_a_map(const void *p, size_t n)
{
  for (int i = 0; i < NMAP; i++)
    if (maps[i].addr != NULL && (const char *)p >= maps[i].addr &&
        (const char *)p + n <= maps[i].addr + maps[i].len)
      return 1;
  return 0;
}

// A pointer the kernel may write through (or must refuse): scratch memory,
// scratch memory running into the unmapped gap, an mmap'ed region,
// read-only program memory, or an invalid address.
static void *
rand_outptr(void)
{
  switch (below(10)) {
  case 0:
    return (void *)kernelish[below(NKERNELISH)];
  case 1:
    return brk_end() - below(64);                     // near the edge
  case 2:
    return brk_end() + below(64) * PGSIZE + below(8); // in the gap
  case 3:
    return chance(50) ? (void *)(uint64)rand_outptr : (void *)"rodata";
  case 4: {
    int i = below(NMAP);
    if (maps[i].addr != NULL)
      return maps[i].addr + below(maps[i].len + 1);
    return arena;
  }
  default:
    return arena + below(ARENA);
  }
}

// A pointer the kernel reads from: the same, plus anything of ours.
static const void *
rand_inptr(void)
{
  if (chance(10))
    return (const void *)(uint64)rand_inptr;  // text: readable
  return rand_outptr();
}

// Directory entries the processes fight over, all inside HOME.
static const char *const names[] = {
  "f0", "f1", "f2", "f3", "f4", "d0", "d1", "d0/f0", "d0/f1", "d0/d2",
  "d1/f2", "d0/d2/f3", "d0/d2/d3", ".", "d0/..", "", "f0/x", "nodir/x",
  "d0/", "d1//f2",
  "a-name-that-is-far-too-long-for-a-directory-entry-of-sixty-characters",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

// A string in scratch memory of random bytes, never '/', '.' or NUL,
// so it names nothing outside the current directory.
static char *
junk_name(int len)
{
  char *s = arena + ARENA - 2 * PGSIZE + below(PGSIZE);
  for (int i = 0; i < len; i++) {
    char c;
    do {
      c = (char)below(256);
    } while (c == '/' || c == '.' || c == '\0');
    s[i] = c;
  }
  s[len] = '\0';
  return s;
}

static const char *
rand_path(void)
{
  int r = below(20);
  if (r < 13)
    return names[below(NNAMES)];
  if (r == 13)
    return junk_name(1 + below(70));
  if (r == 14) {
    // Far longer than any path may be.
    char *s = arena;
    int len = 300 + below(6000);
    for (int i = 0; i < len; i++)
      s[i] = (i % 3 == 2) ? '/' : 'q';
    s[len] = '\0';
    return s;
  }
  if (r == 15) {
    // No NUL before the end of mapped memory.
    char *end = brk_end();
    int n = 1 + below(32);
    memset(end - n, 'z', n);
    return end - n;
  }
  return rand_outptr();      // usually junk or invalid
}

// A path that exec may be given: never a real program.
static const char *
rand_execpath(void)
{
  switch (below(6)) {
  case 0: return "/no-such-program";
  case 1: return "f1";              // a data file, if it exists
  case 2: return ".";
  case 3: return "d0";
  case 4: return (const char *)kernelish[below(NKERNELISH)];
  default: return junk_name(1 + below(20));
  }
}

static char **
rand_argv(void)
{
  char **v = (char **)(arena + 2 * PGSIZE);
  switch (below(5)) {
  case 0:
    return (char **)kernelish[1 + below(NKERNELISH - 1)];
  case 1:
    // Many arguments.
    for (int i = 0; i < 1000; i++)
      v[i] = "arg";
    v[1000] = NULL;
    return v;
  case 2:
    v[0] = "x";
    v[1] = (char *)kernelish[below(NKERNELISH)];
    v[2] = NULL;
    return v;
  case 3: {
    // Pointers up to the end of mapped memory, no NULL.
    char **end = (char **)brk_end();
    end[-1] = "x";
    return end - 1;
  }
  default:
    v[0] = "junk";
    v[1] = NULL;
    return v;
  }
}

// ---------------------------------------------------------------- calls

static int nsuspicious;

static void
suspicious(const char *call, long r, const void *p)
{
  // A broken kernel could make every call suspicious; a few lines tell
  // the story without flooding the console.
  if (++nsuspicious <= 20)
    printf("fuzz[%d]: SUSPICIOUS: %s returned %ld with pointer %p\n", me, call, r, p);
}

enum {
  C_READ, C_WRITE, C_OPEN, C_CLOSE, C_DUP, C_DUP2, C_PIPE, C_FSTAT, C_LSEEK,
  C_PREAD, C_PWRITE, C_FTRUNCATE, C_FSYNC, C_FDATASYNC, C_SYNC, C_SYNCFS,
  C_SYNC_FILE_RANGE, C_MKDIR, C_CHDIR, C_UNLINK, C_LINK, C_RENAME, C_MKNOD,
  C_EXEC, C_FORK, C_WAIT, C_KILL, C_SBRK, C_SLEEP, C_TIME, C_WBSTAT,
  C_WBTRACE, C_SYSCTL, C_RAWDISK, C_MMAP, C_MUNMAP, C_MSYNC, C_NOSYS,
  NCALLS
};

static void
one_call(void)
{
  long r;
  int fd;
  void *p;

  switch (below(NCALLS)) {
  case C_READ:
    fd = rand_fd();
    p = rand_outptr();
    r = read(fd, p, (int)rand_len());
    if (r > 0 && is_kernelish(p))
      suspicious("read", r, p);
    break;
  case C_WRITE:
    fd = rand_fd();
    p = (void *)rand_inptr();
    r = write(fd, p, (int)rand_len());
    if (r > 0 && is_kernelish(p))
      suspicious("write", r, p);
    break;
  case C_OPEN: {
    static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
    int flags = modes[below(3)];
    if (chance(50)) flags |= O_CREATE;
    if (chance(20)) flags |= O_TRUNC;
    if (chance(20)) flags |= O_EXCL;
    if (chance(20)) flags |= O_APPEND;
    if (chance(5)) flags = (int)rand_int();
    const char *path = rand_path();
    r = open(path, flags);
    if (r >= 0) {
      if (is_kernelish(path))
        suspicious("open", r, path);
      if (r >= NFD || guarded(r))
        suspicious("open (fd out of range)", r, path);
      track(r, 1);
    }
    break;
  }
  case C_CLOSE:
    fd = rand_fd();
    if (close(fd) == 0)
      track(fd, 0);
    break;
  case C_DUP:
    r = dup(rand_fd());
    track(r, 1);
    break;
  case C_DUP2: {
    int from = rand_fd();
    int to = chance(80) ? 3 + (int)below(20) : (int)rand_int();
    if (guarded(to))
      to = -1;
    r = dup2(from, to);
    if (r >= 0)
      track(r, 1);
    break;
  }
  case C_PIPE: {
    int *fds = chance(80) ? (int *)(arena + below(ARENA - 8)) : rand_outptr();
    r = pipe(fds);
    if (r == 0) {
      // Only two ints wholly inside writable memory could have worked:
      // the arena, or one of our mmap regions (whose protection we don't
      // track, so any of them counts).
      if (((char *)fds < arena || (char *)(fds + 2) > brk_end()) &&
          !in_a_map(fds, sizeof(int) * 2)) {
        suspicious("pipe", r, fds);
        break;
      }
      int f[2];
      memmove(f, fds, sizeof(f));
      // Keep only one end, so that no read or write can ever block: a
      // read end without writers sees EOF, a write end without readers
      // gets EPIPE.
      int drop = below(2);
      close(f[drop]);
      track(f[1 - drop], 1);
    }
    break;
  }
  case C_FSTAT:
    p = rand_outptr();
    r = fstat(rand_fd(), p);
    if (r == 0 && is_kernelish(p))
      suspicious("fstat", r, p);
    break;
  case C_LSEEK:
    lseek(rand_fd(), rand_off(), chance(90) ? (int)below(3) : (int)rand_int());
    break;
  case C_PREAD:
    p = rand_outptr();
    r = pread(rand_fd(), p, rand_len(), rand_off());
    if (r > 0 && is_kernelish(p))
      suspicious("pread", r, p);
    break;
  case C_PWRITE:
    p = (void *)rand_inptr();
    r = pwrite(rand_fd(), p, rand_len(), rand_off());
    if (r > 0 && is_kernelish(p))
      suspicious("pwrite", r, p);
    break;
  case C_FTRUNCATE:
    ftruncate(rand_fd(), chance(70) ? (long)below(50000) : rand_int());
    break;
  case C_FSYNC:
    fsync(rand_fd());
    break;
  case C_FDATASYNC:
    fdatasync(rand_fd());
    break;
  case C_SYNC:
    if (chance(20))     // sync is slow; do it now and then
      sync();
    break;
  case C_SYNCFS:
    syncfs(rand_fd());
    break;
  case C_SYNC_FILE_RANGE:
    sync_file_range(rand_fd(), rand_off(), rand_len(),
                    chance(80) ? (unsigned)below(8) : (unsigned)rand_int());
    break;
  case C_MKDIR:
    mkdir(rand_path());
    break;
  case C_CHDIR:
    chdir(rand_path());
    break;
  case C_UNLINK:
    unlink(rand_path());
    break;
  case C_LINK:
    link(rand_path(), rand_path());
    break;
  case C_RENAME:
    rename(rand_path(), rand_path());
    break;
  case C_MKNOD: {
    // Never the console's major number: reading it would block.
    static const short majors[] = { 0, 2, 7, 99, 999, -1, 0x7fff };
    mknod(rand_path(), majors[below(7)], (short)rand_int());
    break;
  }
  case C_EXEC: {
    const char *path = rand_execpath();
    r = exec(path, rand_argv());
    // Reaching here means exec failed, as it must.
    break;
  }
  case C_FORK: {
    int pid = fork();
    if (pid == 0)
      exit(below(256));
    if (pid > 0) {
      if (chance(30))
        kill(pid);
      int st;
      while (wait(&st) >= 0)
        ;
    }
    break;
  }
  case C_WAIT:
    wait(chance(50) ? NULL : rand_outptr());
    break;
  case C_KILL:
    // Only pids that cannot be anyone's.
    kill((int)((1 << 24) + below(1 << 30)));
    break;
  case C_SBRK: {
    long n = ((long)below(9) - 4) * PGSIZE;
    if (extra + n < 0 || extra + n > MAXEXTRA)
      n = -extra;
    if (chance(5)) {
      // A request no machine this size can meet.
      char *q = sbrk(0x7fffffff);
      if (q != (char *)-1)
        sbrk(-0x7fffffff);
      break;
    }
    if (sbrk((int)n) != (char *)-1)
      extra += n;
    break;
  }
  case C_SLEEP:
    sleep(chance(90) ? (int)below(2) : -(int)below(100));
    break;
  case C_TIME:
    getpid();
    getppid();
    uptime();
    uptime_ms();
    break;
  case C_WBSTAT:
    p = rand_outptr();
    r = wbstat(chance(30) ? -1 : rand_fd(), p);
    if (r == 0 && is_kernelish(p))
      suspicious("wbstat", r, p);
    break;
  case C_WBTRACE:
    p = rand_outptr();
    r = wbtrace(p, (int)rand_len(), chance(50) ? below(1000) : (uint64)rand_int());
    if (r > 0 && is_kernelish(p))
      suspicious("wbtrace", r, p);
    break;
  case C_SYSCTL:
    // Only names outside any table: real tunables are left alone.
    sysctl(chance(50) ? -(int)below(100) - 1 : 100000 + (int)below(1000),
           rand_int(), rand_outptr());
    break;
  case C_RAWDISK:
    // Only invalid operations and buffers: a valid request could
    // overwrite the file system under everyone's feet.
    rawdisk(-(int)below(100) - 1, rand_int(), (void *)kernelish[below(NKERNELISH)],
            (int)rand_int());
    break;
  case C_MMAP: {
    int i = below(NMAP);
    if (maps[i].addr != NULL) {
      munmap(maps[i].addr, maps[i].len);
      maps[i].addr = NULL;
    }
    static const int types[] = { MAP_PRIVATE, MAP_SHARED, MAP_PRIVATE | MAP_ANONYMOUS,
                                 MAP_SHARED | MAP_ANONYMOUS, 0, MAP_ANONYMOUS };
    int flags = types[below(6)];
    if (chance(5))
      flags |= (int)rand_int() & ~0x10 & ~0x100000;  // never MAP_FIXED kinds
    size_t len = chance(70) ? (below(8) + 1) * PGSIZE : (size_t)rand_len();
    void *hint = chance(80) ? NULL : (void *)kernelish[below(NKERNELISH)];
    char *a = mmap(hint, len, (int)below(8), flags, chance(30) ? -1 : rand_fd(), rand_off() & ~0xfffL);
    if (a != MAP_FAILED) {
      if ((a < brk_end() + MAXEXTRA && a + len > arena - 0x10000) || (uint64)a < 0x10000) {
        suspicious("mmap (over our own memory)", 0, a);
        break;
      }
      maps[i].addr = a;
      maps[i].len = len;
    }
    break;
  }
  case C_MUNMAP: {
    int i = below(NMAP);
    if (maps[i].addr != NULL && chance(70)) {
      munmap(maps[i].addr, maps[i].len);
      maps[i].addr = NULL;
    } else {
      // Addresses that are not ours to unmap: must be refused.
      munmap((void *)kernelish[3 + below(NKERNELISH - 3)], PGSIZE * (1 + below(4)));
    }
    break;
  }
  case C_MSYNC: {
    int i = below(NMAP);
    char *a = maps[i].addr != NULL ? maps[i].addr : (char *)kernelish[below(NKERNELISH)];
    msync(a, chance(80) ? maps[i].len : (size_t)rand_len(), (int)below(8));
    break;
  }
  case C_NOSYS: {
    // Numbers that name no system call (a random one could be exit).
    long num = chance(50) ? NSYSCALL + (long)below(1000) : rand_int();
    if (num > 0 && num < NSYSCALL)
      num = -num;
    r = raw_syscall(num, rand_int(), rand_int(), rand_int());
    break;
  }
  }
}

// ---------------------------------------------------------------- setup

static void
worker(int ncalls, uint64 seed)
{
  srand(seed);

  // The arena sits at the top of the heap, page-aligned, so that its end
  // is the edge of mapped memory.
  char *b = sbrk(0);
  long pad = (PGSIZE - ((uint64)b & (PGSIZE - 1))) & (PGSIZE - 1);
  if (sbrk(pad + ARENA) == (char *)-1) {
    printf("fuzz[%d]: no memory for the arena\n", me);
    exit(1);
  }
  arena = b + pad;
  for (int i = 0; i < ARENA; i++)
    arena[i] = (char)rand64();

  for (int i = 1; i <= ncalls; i++) {
    one_call();
    if (i % 64 == 0)
      chdir(HOME);          // wander, but come back
    if (i % 100 == 0)
      write(progress_fd, "", 1);
  }
  exit(0);
}

int
main(int argc, char *argv[])
{
  long ncalls = argc > 1 ? strtol(argv[1], NULL, 0) : 100000;
  long nprocs = argc > 2 ? strtol(argv[2], NULL, 0) : 4;
  uint64 seed = argc > 3 ? (uint64)strtol(argv[3], NULL, 0) : uptime_ms();
  int keep = argc > 4 && strcmp(argv[4], "keep") == 0;

  if (ncalls < 0 || nprocs < 1 || nprocs > 16) {
    fprintf(2, "usage: fuzz [ncalls] [nprocs 1..16] [seed] [keep]\n");
    exit(1);
  }
  printf("fuzz: %ld calls in %ld processes, seed %lu\n", ncalls, nprocs, (unsigned long)seed);

  rmtree(HOME);
  // A leftover that could not be removed is reused rather than refused.
  if ((mkdir(HOME) < 0 && errno != EEXIST) || chdir(HOME) < 0) {
    fprintf(2, "fuzz: %s: %s\n", HOME, strerror(errno));
    exit(1);
  }
  int p[2];
  if (pipe(p) < 0) {
    fprintf(2, "fuzz: pipe: %s\n", strerror(errno));
    exit(1);
  }

  uint64 t0 = uptime_ms();
  for (int i = 0; i < nprocs; i++) {
    long share = ncalls / nprocs + (i < ncalls % nprocs ? 1 : 0);
    int pid = fork();
    if (pid < 0) {
      fprintf(2, "fuzz: fork: %s\n", strerror(errno));
      break;
    }
    if (pid == 0) {
      me = i;
      close(p[0]);
      progress_fd = p[1];
      worker(share, seed * 1000003 + i);
    }
  }
  close(p[1]);

  // Count progress bytes until every worker has gone (EOF on the pipe).
  long hundreds = 0;
  char c;
  while (read(p[0], &c, 1) == 1) {
    hundreds++;
    if (hundreds % 100 == 0)
      printf("fuzz: %ld calls\n", hundreds * 100);
  }
  close(p[0]);

  int failures = 0;
  long done = hundreds * 100;
  for (;;) {
    int st;
    int pid = wait(&st);
    if (pid < 0)
      break;
    if (st != 0) {
      printf("fuzz: worker %d exited with status %d\n", pid, st);
      failures++;
    }
  }
  if (failures == 0)
    done = ncalls;     // the last partial hundred of each worker counts too

  chdir("/");
  if (!keep)
    rmtree(HOME);
  uint64 ms = uptime_ms() - t0;
  printf("fuzz: done %ld calls in %lu ms%s\n", done, (unsigned long)ms,
         failures ? " (some workers died)" : "");
  exit(failures ? 1 : 0);
}
