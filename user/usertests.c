// usertests: Quire's self-test of the system-call interface.
//
//   usertests            run the default tests
//   usertests -q         the same, skipping the slowest ones
//   usertests NAME...    run the named tests (or groups: "mmap", "all")
//   usertests -l         list the tests
//
// Each test runs in a child process in a fresh directory /utmp/NAME, so a
// test that crashes or leaks descriptors cannot disturb the next one, and
// a watchdog kills a test that runs too long.  A test reports a failure by
// printing "test NAME: FAIL why" and exiting 1; the runner prints
// "test NAME: OK" when the child exits 0, and a FAIL line of its own when
// the child dies some other way.  The last line is "ALL TESTS PASSED" or
// "SOME TESTS FAILED".
//
// Expected error numbers are Linux's, the ones kernel/uapi/errno.h names.
// Where POSIX leaves a choice, a test accepts each reasonable answer.

#include "user/user.h"
#include "kernel/uapi/syscall.h"

#define PGSIZE     4096
#define PGROUNDUP(x) (((uint64)(x) + PGSIZE - 1) & ~(uint64)(PGSIZE - 1))
#define MAXFILE_BYTES ((off_t)MAXFILE * BSIZE)

#define SLOW 1          // skipped by -q
#define MMAP 2          // in the "mmap" group (and in every run)

#define TEST_TICKS 6000 // watchdog: 60 s per test

static const char *curtest;
static int runner_pid;
static char testdir[128];       // absolute path of the test's directory

// A general-purpose buffer, big enough for the I/O tests.
#define BUFSZ (64 * 1024)
static uchar buf[BUFSZ];
static uchar buf2[BUFSZ];

// ---------------------------------------------------------------- checks

static void fail(int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

static void
fail(int line, const char *fmt, ...)
{
  char msg[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  // One printf, so the line reaches the console in one piece.
  printf("test %s: FAIL %s (line %d)\n", curtest, msg, line);
  exit(1);
}

#define FAIL(...) fail(__LINE__, __VA_ARGS__)
#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

// OK(expr): expr must not fail (-1); returns its value.
#define OK(expr) ok_((long)(expr), #expr, __LINE__)
#define OKP(expr) ((void *)ok_((long)(expr), #expr, __LINE__))
static long
ok_(long r, const char *what, int line)
{
  if (r == -1)
    fail(line, "%s failed: %s", what, strerror(errno));
  return r;
}

// ERR(expr, e...): expr must return -1 with errno one of e...
#define ERR(expr, ...) err_((long)(expr), #expr, __LINE__, (int[]){ __VA_ARGS__, 0 })
static void
err_(long r, const char *what, int line, const int *errs)
{
  if (r != -1)
    fail(line, "%s returned %ld, want -1 (%s)", what, r, strerror(errs[0]));
  for (const int *e = errs; *e != 0; e++)
    if (errno == *e)
      return;
  fail(line, "%s: errno %d (%s), want %d (%s)", what, errno, strerror(errno),
       errs[0], strerror(errs[0]));
}

#define BAD(a) ((void *)(uint64)(a))

// Addresses no user program may read or write through the kernel.  The
// heap-gap address (just past the break) is added at run time.
static const uint64 kernel_addrs[] = {
  0x0,                    // NULL
  0x8000,                 // inside the unmapped first 64 KiB
  0xfffc,                 // last word of it
  0x80000000,             // the kernel's own image
  0x80000001,             // ... misaligned
  0x3ffffff000,           // trampoline page (mapped, but not for users)
  0x3fffffe000,           // trap frame page
  0x3fffffffff,           // last byte below MAXVA
  0x4000000000,           // MAXVA itself
  0x8000000000000000ULL,  // not a valid Sv39 address
  0xffffffc000000000ULL,  // upper half
  0xffffffffffffffffULL,
};
#define NKADDRS (sizeof(kernel_addrs) / sizeof(kernel_addrs[0]))

// Make the break page-aligned and return it: every byte from there up is
// then unmapped, so it is a bad address that is close to good memory.
static char *
heap_end(void)
{
  char *brk = sbrk(0);
  uint64 pad = PGROUNDUP(brk) - (uint64)brk;
  if (pad > 0)
    OK(sbrk(pad));
  return sbrk(0);
}

// ---------------------------------------------------------------- helpers

static int
createfile(const char *name, const void *data, int n)
{
  int fd = OK(open(name, O_CREATE | O_RDWR | O_TRUNC));
  if (n > 0) {
    int w = OK(write(fd, data, n));
    CHECK(w == n, "write to %s: %d of %d bytes", name, w, n);
  }
  return fd;
}

static void
putfile(const char *name, const void *data, int n)
{
  close(createfile(name, data, n));
}

static uint64
fdsize(int fd)
{
  struct stat st;
  OK(fstat(fd, &st));
  return st.size;
}

// The inode number of path, or a test failure.
static uint
inum(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    FAIL("stat %s: %s", path, strerror(errno));
  return st.ino;
}

// Read the whole file into dst (at most max bytes); returns the length.
static int
getfile(const char *name, void *dst, int max)
{
  int fd = open(name, O_RDONLY);
  if (fd < 0)
    FAIL("open %s: %s", name, strerror(errno));
  int total = 0, n;
  while (total < max && (n = OK(read(fd, (char *)dst + total, max - total))) > 0)
    total += n;
  close(fd);
  return total;
}

// Fork, run fn in the child, and return the child's exit status.
static int
in_child(void (*fn)(void))
{
  int pid = OK(fork());
  if (pid == 0) {
    fn();
    exit(0);
  }
  int st;
  int w = OK(wait(&st));
  CHECK(w == pid, "wait returned %d, want %d", w, pid);
  return st;
}

// Check that fn, run in a child, is killed (exit status -1).
static void
expect_killed(void (*fn)(void), const char *what)
{
  int st = in_child(fn);
  CHECK(st == -1, "%s: child exit status %d, want -1 (killed)", what, st);
}

static uint64
pattern(uint64 off, uint64 seed)
{
  return off ^ seed;
}

// Fill dst with the 8-byte pattern of file offsets off..off+n (n and off
// multiples of 8).
static void
fillpat(void *dst, uint64 off, int n, uint64 seed)
{
  uint64 *w = dst;
  for (int i = 0; i < n / 8; i++)
    w[i] = pattern(off + 8 * i, seed);
}

// Return the offset of the first word of src that does not hold the
// pattern for off, or -1.
static long
checkpat(const void *src, uint64 off, int n, uint64 seed)
{
  const uint64 *w = src;
  for (int i = 0; i < n / 8; i++)
    if (w[i] != pattern(off + 8 * i, seed))
      return off + 8 * i;
  return -1;
}

static int
allzero(const void *p, int n)
{
  const uchar *c = p;
  for (int i = 0; i < n; i++)
    if (c[i] != 0)
      return 0;
  return 1;
}

// ================================================================ processes

static void
t_forkwait(void)
{
  enum { N = 8 };
  int pids[N], seen[N] = { 0 };

  for (int i = 0; i < N; i++) {
    pids[i] = OK(fork());
    if (pids[i] == 0)
      exit(100 + i);
  }
  for (int i = 0; i < N; i++) {
    int st;
    int w = OK(wait(&st));
    int k = 0;
    while (k < N && pids[k] != w)
      k++;
    CHECK(k < N, "wait returned %d, not a child", w);
    CHECK(!seen[k], "wait returned pid %d twice", w);
    seen[k] = 1;
    CHECK(st == 100 + k, "child %d exit status %d, want %d", w, st, 100 + k);
  }
  int st;
  ERR(wait(&st), ECHILD);
  ERR(wait(0), ECHILD);
}

static void
t_exitstatus(void)
{
  static const int codes[] = { 0, 1, 42, 255, 256, -1, -12345, 0x7fffffff };

  for (int i = 0; i < (int)(sizeof(codes) / sizeof(codes[0])); i++) {
    int pid = OK(fork());
    if (pid == 0)
      exit(codes[i]);
    int st = 0x5a5a5a5a;
    CHECK(OK(wait(&st)) == pid, "wait: wrong pid");
    CHECK(st == codes[i], "exit(%d) gave status %d", codes[i], st);
  }
  // A program that returns from main exits with main's value.
  int fd = createfile("ret", "", 0);
  close(fd);
  int pid = OK(fork());
  if (pid == 0) {
    char *argv[] = { "grep", "zzz", "ret", NULL };   // no match: status 1
    exec("/grep", argv);
    exit(99);
  }
  int st;
  OK(wait(&st));
  CHECK(st == 1, "grep with no match: status %d, want 1", st);
}

static void
t_waitbad(void)
{
  // wait with a bad status pointer must fail without killing the caller.
  // Whether the child is reaped anyway is the kernel's choice, so just
  // collect whatever is left afterwards.
  static const uint64 bad[] = { 0x1, 0x80000000, 0x3fffffffff, 0xffffffffffffffffULL };
  for (int i = 0; i < 4; i++) {
    int pid = OK(fork());
    if (pid == 0)
      exit(7);
    ERR(wait(BAD(bad[i])), EFAULT);
    int st;
    while (wait(&st) >= 0)
      ;
    CHECK(errno == ECHILD, "wait: %s", strerror(errno));
  }
  // Read-only memory is not a place the kernel may write to.
  int pid = OK(fork());
  if (pid == 0)
    exit(7);
  ERR(wait((int *)(uint64)t_waitbad), EFAULT);
  ERR(wait((int *)"rodata"), EFAULT);
  int st;
  while (wait(&st) >= 0)
    ;
  // wait(NULL) reaps without storing anything.
  pid = OK(fork());
  if (pid == 0)
    exit(3);
  CHECK(OK(wait(0)) == pid, "wait(0): wrong pid");
}

static void
t_getpid(void)
{
  int me = getpid();
  CHECK(me > 0, "getpid() = %d", me);
  CHECK(getpid() == me, "getpid not stable");
  CHECK(getppid() == runner_pid, "getppid() = %d, want %d", getppid(), runner_pid);

  int p[2];
  OK(pipe(p));
  int pid = OK(fork());
  if (pid == 0) {
    int v[2] = { getpid(), getppid() };
    write(p[1], v, sizeof(v));
    exit(0);
  }
  int v[2];
  CHECK(read(p[0], v, sizeof(v)) == sizeof(v), "read from child");
  CHECK(v[0] == pid, "child getpid() = %d, fork said %d", v[0], pid);
  CHECK(v[1] == me, "child getppid() = %d, want %d", v[1], me);
  CHECK(pid != me, "child has the parent's pid");
  OK(wait(0));
}

static void
t_orphan(void)
{
  // A child whose parent exits is adopted by init (pid 1).
  int p[2];
  OK(pipe(p));
  int pid = OK(fork());
  if (pid == 0) {
    int mid = getpid();
    if (fork() == 0) {
      int ppid = mid;
      for (int i = 0; i < 500 && ppid == mid; i++) {
        sleep(1);
        ppid = getppid();
      }
      write(p[1], &ppid, sizeof(ppid));
      exit(0);
    }
    exit(0);
  }
  close(p[1]);
  OK(wait(0));
  int ppid = 0;
  CHECK(read(p[0], &ppid, sizeof(ppid)) == sizeof(ppid), "no word from the orphan");
  CHECK(ppid == 1, "orphan's parent is %d, want 1 (init)", ppid);
}

static void spin(void) { for (;;) getpid(); }
static void nap(void) { sleep(100000); exit(0); }

static void
t_kill(void)
{
  // A running child, a sleeping child and one blocked on a pipe all die.
  int p[2];
  OK(pipe(p));
  for (int kind = 0; kind < 3; kind++) {
    int pid = OK(fork());
    if (pid == 0) {
      if (kind == 0)
        spin();
      if (kind == 1)
        nap();
      char c;
      read(p[0], &c, 1);      // nobody ever writes
      exit(0);
    }
    sleep(2);
    int t0 = uptime();
    OK(kill(pid));
    int st;
    CHECK(OK(wait(&st)) == pid, "wait: wrong pid");
    CHECK(st == -1, "killed child (kind %d) exit status %d, want -1", kind, st);
    CHECK(uptime() - t0 < 200, "killing took %d ticks", uptime() - t0);
  }
  // A process may kill itself.
  int pid = OK(fork());
  if (pid == 0) {
    kill(getpid());
    spin();
  }
  int st;
  OK(wait(&st));
  CHECK(st == -1, "self-kill: status %d", st);

  ERR(kill(0x7fffffff), ESRCH);
  ERR(kill(123456), ESRCH);
  // A child that has exited and been reaped is gone.
  pid = OK(fork());
  if (pid == 0)
    exit(0);
  OK(wait(0));
  ERR(kill(pid), ESRCH);
}

// An address the compiler cannot see through, so it neither warns about
// nor optimises away an access that is meant to fault.
static volatile int *
addr(uint64 a)
{
  volatile int *p;
  asm volatile("mv %0, %1" : "=r"(p) : "r"(a));
  return p;
}

static void f_null_write(void) { *addr(0) = 1; }
static void f_null_read(void) { (void)*addr(0x100); }
static void f_kernel_read(void) { (void)*addr(0x80000000); }
static void f_tramp_read(void) { (void)*addr(0x3ffffff000); }
static void f_text_write(void) { *(volatile int *)(uint64)f_text_write = 0; }
static void f_rodata_write(void) { *(volatile char *)"constant" = 'x'; }
static void f_call_null(void) { ((void (*)(void))0)(); }
static void f_heap_gap(void) { char *e = heap_end(); *(volatile char *)(e + PGSIZE) = 1; }
static void f_illegal(void) { asm volatile(".word 0"); }
static void f_ebreak(void) { asm volatile("ebreak"); }
static void f_csr_priv(void) { uint64 x; asm volatile("csrr %0, sstatus" : "=r"(x)); }
static void f_fpu(void) { uint64 x; asm volatile("csrr %0, 0x003" : "=r"(x)); }  // fcsr
static void f_data_exec(void) { static uint32 code[1] = { 0x00008067 }; ((void (*)(void))(uint64)code)(); }

static void
t_faults(void)
{
  // Every one of these must kill only the faulting process.
  expect_killed(f_null_write, "store to NULL");
  expect_killed(f_null_read, "load from page 0");
  expect_killed(f_kernel_read, "load from 0x80000000");
  expect_killed(f_tramp_read, "load from the trampoline");
  expect_killed(f_text_write, "store to text");
  expect_killed(f_rodata_write, "store to rodata");
  expect_killed(f_call_null, "jump to 0");
  expect_killed(f_heap_gap, "store past the break");
  expect_killed(f_illegal, "illegal instruction");
  expect_killed(f_ebreak, "ebreak");
  expect_killed(f_csr_priv, "read sstatus");
  expect_killed(f_fpu, "FP instruction with the FPU off");
  expect_killed(f_data_exec, "execute from data");
}

static void
t_badsyscall(void)
{
  static const long nums[] = { 0, NSYSCALL, NSYSCALL + 1, 1000, -1, 0xffffffffL, 1L << 40 };
  for (int i = 0; i < (int)(sizeof(nums) / sizeof(nums[0])); i++) {
    long r = raw_syscall(nums[i], 0, 0, 0);
    CHECK(r == -ENOSYS, "system call %ld returned %ld, want %d", nums[i], r, -ENOSYS);
  }
}

// ---------------------------------------------------------------- memory

static void
t_sbrkbasic(void)
{
  char *a = sbrk(0);
  char *b = OKP(sbrk(10000));
  CHECK(a == b, "sbrk(10000) returned %p, break was %p", b, a);
  CHECK(sbrk(0) == a + 10000, "break did not move by 10000");
  memset(b, 0x5a, 10000);
  for (int i = 0; i < 10000; i++)
    CHECK(b[i] == 0x5a, "heap byte %d lost", i);

  // New memory is zeroed, also after shrinking and growing again.
  char *p = heap_end();
  OK(sbrk(4 * PGSIZE));
  CHECK(allzero(p, 4 * PGSIZE), "fresh sbrk memory is not zero");
  memset(p, 0xff, 4 * PGSIZE);
  CHECK(OKP(sbrk(-4 * PGSIZE)) == p + 4 * PGSIZE, "sbrk(-n) returned the wrong old break");
  CHECK(sbrk(0) == p, "break not lowered");
  expect_killed(f_heap_gap, "store to memory given back");
  CHECK(OKP(sbrk(4 * PGSIZE)) == p, "regrow");
  CHECK(allzero(p, 4 * PGSIZE), "memory regained after sbrk(-n) is not zero");
  OK(sbrk(-4 * PGSIZE));

  // sbrk(0) and sbrk of less than a page are fine.
  char *q = sbrk(0);
  OK(sbrk(1));
  OK(sbrk(-1));
  CHECK(sbrk(0) == q, "sbrk(1); sbrk(-1) moved the break");
}

static void
t_sbrkbad(void)
{
  char *top = sbrk(0);
  ERR(sbrk(-(int)((uint64)top + PGSIZE)), ENOMEM, EINVAL);
  ERR(sbrk(-0x7fffffff - 1), ENOMEM, EINVAL);
  CHECK(sbrk(0) == top, "failed sbrk moved the break");
  char *r = sbrk(0x7fffffff);
  if (r != (char *)-1) {
    // A lazily-allocating kernel may hand out 2 GiB of address space.
    CHECK(r == top, "sbrk returned %p, want %p", r, top);
    OK(sbrk(-0x7fffffff));
  } else {
    CHECK(errno == ENOMEM, "sbrk(2 GiB): %s, want ENOMEM", strerror(errno));
  }
  CHECK(sbrk(0) == top, "break moved");
}

static void
sbrkmax_child(void)
{
  // Grow a megabyte at a time, touching every page, until the kernel says
  // no; then give it all back and check the memory can be had again.
  char *start = heap_end();
  uint64 total = 0;
  for (;;) {
    char *p = sbrk(1 << 20);
    if (p == (char *)-1)
      break;
    for (int i = 0; i < (1 << 20); i += PGSIZE)
      p[i] = 1;
    total += 1 << 20;
    CHECK(total < (1ULL << 32), "sbrk never fails");
  }
  CHECK(errno == ENOMEM, "sbrk failed with %s, want ENOMEM", strerror(errno));
  CHECK(total >= (4 << 20), "only %lu bytes before ENOMEM", (unsigned long)total);
  while (total > 0) {
    uint64 n = total > (1 << 30) ? (1 << 30) : total;
    OK(sbrk(-(int)n));
    total -= n;
  }
  CHECK(sbrk(0) == start, "break not back at the start");
  char *p = OKP(sbrk(4 << 20));
  memset(p, 7, 4 << 20);
  exit(0);
}

static void
t_sbrkmax(void)
{
  int st = in_child(sbrkmax_child);
  CHECK(st == 0, "allocating child exited with %d", st);
  // Everything it held must be free again: a child can allocate a lot.
  int pid = OK(fork());
  if (pid == 0) {
    char *p = sbrk(16 << 20);
    if (p == (char *)-1)
      exit(1);
    memset(p, 1, 16 << 20);
    exit(0);
  }
  OK(wait(&st));
  CHECK(st == 0, "memory not recovered after a child used it all");
}

static void
t_sbrkfork(void)
{
  char *p = heap_end();
  OK(sbrk(64 * 1024));
  for (int i = 0; i < 64 * 1024; i++)
    p[i] = (char)(i * 7);
  int pid = OK(fork());
  if (pid == 0) {
    for (int i = 0; i < 64 * 1024; i++)
      if (p[i] != (char)(i * 7))
        exit(2);
    memset(p, 0, 64 * 1024);
    OK(sbrk(-32 * 1024));
    exit(0);
  }
  int st;
  OK(wait(&st));
  CHECK(st == 0, "child saw a wrong heap (status %d)", st);
  for (int i = 0; i < 64 * 1024; i++)
    CHECK(p[i] == (char)(i * 7), "child's store reached the parent at %d", i);
  CHECK(sbrk(0) == p + 64 * 1024, "child's sbrk moved the parent's break");
}

static void
t_malloc(void)
{
  // The library allocator, which sits on sbrk.
  enum { N = 200 };
  char *ptrs[N];
  int sizes[N];
  srand(17);
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < N; i++) {
      sizes[i] = 1 + rand64() % (i % 10 == 0 ? 20000 : 300);
      ptrs[i] = malloc(sizes[i]);
      CHECK(ptrs[i] != NULL, "malloc(%d) failed", sizes[i]);
      CHECK(((uint64)ptrs[i] & 15) == 0, "malloc returned unaligned %p", ptrs[i]);
      memset(ptrs[i], i, sizes[i]);
    }
    for (int i = 0; i < N; i += 2) {
      ptrs[i] = realloc(ptrs[i], sizes[i] * 2);
      CHECK(ptrs[i] != NULL, "realloc failed");
      memset(ptrs[i] + sizes[i], i, sizes[i]);
      sizes[i] *= 2;
    }
    for (int i = 0; i < N; i++) {
      for (int k = 0; k < sizes[i]; k++)
        CHECK((uchar)ptrs[i][k] == (uchar)i, "block %d byte %d overwritten", i, k);
      free(ptrs[i]);
    }
  }
  char *z = calloc(1000, 10);
  CHECK(z != NULL && allzero(z, 10000), "calloc");
  free(z);
  CHECK(calloc((size_t)1 << 40, (size_t)1 << 40) == NULL, "calloc overflow");
  CHECK(malloc((size_t)1 << 62) == NULL && errno == ENOMEM, "huge malloc");
  // Freed memory is reused rather than the heap growing forever.
  char *top = sbrk(0);
  for (int i = 0; i < 1000; i++)
    free(malloc(5000));
  CHECK(sbrk(0) <= top + 64 * 1024, "heap grew by %ld bytes", (long)((char *)sbrk(0) - top));
}

static void
t_libc(void)
{
  // The formatted-output, number-parsing and string functions.
  char b[128];
  struct { const char *got, *want; } cases[16];
  int n = 0;
#define FMT(expect, ...) do { static char s_[64]; snprintf(s_, sizeof(s_), __VA_ARGS__); \
    cases[n].got = s_; cases[n].want = expect; n++; } while (0)
  FMT("42 -7 0", "%d %i %u", 42, -7, 0);
  FMT("ff FF 0x1f", "%x %X %#x", 255, 255, 31);
  FMT("[   12][12   ][00012]", "[%5d][%-5d][%05d]", 12, 12, 12);
  FMT("-9223372036854775808", "%ld", (long)(-0x7fffffffffffffffL - 1));
  FMT("18446744073709551615", "%lu", ~0UL);
  FMT("4294967295 -1", "%u %lld", 0xffffffffu, -1LL);
  FMT("[abc][  abc][ab]", "[%s][%5s][%.2s]", "abc", "abc", "abc");
  static char *volatile nullstr;     // volatile: gcc would warn about NULL
  FMT("(null) x %", "%s %c %%", nullstr, 'x');
  FMT("0x10000", "%p", (void *)0x10000);
  FMT("[-0042][  -42][+42]", "[%05d][%5d][%+d]", -42, -42, 42);
  FMT("123 7", "%zu %hhd", (size_t)123, 263);
  FMT("[   7][7   ]", "[%*d][%-*d]", 4, 7, 4, 7);
#undef FMT
  for (int i = 0; i < n; i++)
    CHECK(strcmp(cases[i].got, cases[i].want) == 0, "printf gave '%s', want '%s'",
          cases[i].got, cases[i].want);
  // Truncation: the return value is the length that would have been.
  CHECK(snprintf(b, 5, "%s", "abcdefgh") == 8 && strcmp(b, "abcd") == 0, "snprintf truncation");
  CHECK(snprintf(NULL, 0, "%d", 12345) == 5, "snprintf(NULL, 0)");

  char *end;
  CHECK(strtol("  -123xyz", &end, 10) == -123 && *end == 'x', "strtol decimal");
  CHECK(strtol("0x1F", &end, 0) == 31 && *end == '\0', "strtol hex");
  CHECK(strtol("017", NULL, 0) == 15, "strtol octal");
  CHECK(strtol("zz", &end, 36) == 35 * 36 + 35, "strtol base 36");
  CHECK(strtol("abc", &end, 10) == 0 && strcmp(end, "abc") == 0, "strtol no digits");
  errno = 0;
  CHECK(strtol("99999999999999999999", NULL, 10) == 0x7fffffffffffffffL && errno == ERANGE,
        "strtol overflow");
  CHECK(strtol("-9223372036854775808", NULL, 10) == -0x7fffffffffffffffL - 1, "strtol min");
  CHECK(atoi("42") == 42 && atoi("-1") == -1, "atoi");

  strcpy(b, "0123456789");
  memmove(b + 2, b, 5);
  CHECK(memcmp(b, "0101234789", 10) == 0, "memmove up: %s", b);
  memmove(b, b + 3, 5);
  CHECK(memcmp(b, "1234734789", 10) == 0, "memmove down: %s", b);
  CHECK(strstr("hello world", "o w") != NULL && strstr("abc", "abd") == NULL, "strstr");
  CHECK(strchr("abc", 'c') != NULL && strchr("abc", 0) != NULL && !strchr("abc", 'd'), "strchr");
  const char *path = "a/b/c";
  CHECK(strrchr(path, '/') == path + 3 && strrchr(path, 'x') == NULL, "strrchr");
  CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && strcmp("", "") == 0, "strcmp");
  CHECK(strncmp("abcx", "abcy", 3) == 0, "strncmp");
  CHECK(strcmp(strerror(ENOENT), "no such file or directory") == 0, "strerror");
  for (int e = 1; e <= ELOOP; e++)
    CHECK(strncmp(strerror(e), "unknown", 7) != 0 || e == 26 || e == 33 || e == 35 || e == 37 ||
          e == 15, "no message for errno %d", e);
}

static void
t_sleep(void)
{
  int t0 = uptime();
  OK(sleep(5));
  int t1 = uptime();
  CHECK(t1 - t0 >= 5, "sleep(5) took %d ticks", t1 - t0);
  CHECK(t1 - t0 < 200, "sleep(5) took %d ticks", t1 - t0);

  uint64 m0 = uptime_ms();
  OK(sleep(10));
  uint64 m1 = uptime_ms();
  CHECK(m1 >= m0 + 80, "sleep(10) took %lu ms", (unsigned long)(m1 - m0));
  CHECK(m1 < m0 + 5000, "sleep(10) took %lu ms", (unsigned long)(m1 - m0));
  OK(sleep(0));
  int r = sleep(-1);
  CHECK(r == 0 || (r == -1 && errno == EINVAL), "sleep(-1) returned %d", r);
}

// ---------------------------------------------------------------- exec

static void
t_exec(void)
{
  int fd = createfile("out", "", 0);
  int pid = OK(fork());
  if (pid == 0) {
    dup2(fd, 1);
    close(fd);
    char *argv[] = { "echo", "hello", "world", NULL };
    exec("/echo", argv);
    exit(99);
  }
  close(fd);
  int st;
  OK(wait(&st));
  CHECK(st == 0, "echo exited with %d", st);
  char got[64];
  int n = getfile("out", got, sizeof(got) - 1);
  got[n] = '\0';
  CHECK(strcmp(got, "hello world\n") == 0, "echo wrote '%s'", got);

  // Many arguments, and a long one, arrive intact.
  static char longarg[2000];
  memset(longarg, 'L', sizeof(longarg) - 1);
  char *argv[24];
  argv[0] = "echo";
  for (int i = 1; i < 21; i++)
    argv[i] = (i % 2) ? "odd" : "even";
  argv[21] = longarg;
  argv[22] = NULL;
  fd = createfile("out2", "", 0);
  pid = OK(fork());
  if (pid == 0) {
    dup2(fd, 1);
    close(fd);
    exec("/echo", argv);
    exit(99);
  }
  close(fd);
  OK(wait(&st));
  CHECK(st == 0, "echo exited with %d", st);
  n = getfile("out2", buf, BUFSZ);
  int want = 10 * 4 + 10 * 5 + 1999 + 1;    // "odd " "even " longarg "\n"
  CHECK(n == want, "echo of 21 args wrote %d bytes, want %d", n, want);
  CHECK(buf[n - 2] == 'L' && buf[n - 1] == '\n', "long argument damaged");
}

// Offsets into an ELF64 file, from the ELF specification.
#define E_CLASS     4
#define E_MACHINE   18
#define E_PHOFF     32
#define E_PHNUM     56
#define P_TYPE      0
#define P_OFFSET    8
#define P_VADDR     16
#define P_FILESZ    32
#define P_MEMSZ     40

static void
poke(uchar *image, int off, uint64 v, int size)
{
  memmove(image + off, &v, size);   // little-endian, like the file
}

static uint64
peek(const uchar *image, int off, int size)
{
  uint64 v = 0;
  memmove(&v, image + off, size);
  return v;
}

// Run exec(path, argv) in a child and return the errno it failed with.
// Running it in a child protects the test from a kernel that wrongly
// accepts a broken program: then the child runs it (and probably dies),
// and the caller sees a negative result instead of losing its process.
static int
exec_errno(const char *path, char **argv)
{
  int pid = OK(fork());
  if (pid == 0) {
    close(1);          // a wrongly started program has nowhere to print
    exec(path, argv);
    exit(1000 + errno);
  }
  int st;
  OK(wait(&st));
  if (st > 1000 && st <= 1000 + MAXERRNO)
    return st - 1000;
  return -1;
}

#define EXEC_ERR(path, argv, ...) \
  exec_check(path, argv, #path, __LINE__, (int[]){ __VA_ARGS__, 0 })
static void
exec_check(const char *path, char **argv, const char *what, int line, const int *errs)
{
  int e = exec_errno(path, argv);
  if (e < 0)
    fail(line, "exec(%s) succeeded", what);
  for (const int *p = errs; *p != 0; p++)
    if (e == *p)
      return;
  fail(line, "exec(%s): errno %d (%s), want %d (%s)", what, e, strerror(e),
       errs[0], strerror(errs[0]));
}

static void
t_execbad(void)
{
  char *argv[] = { "x", NULL };

  EXEC_ERR("/no/such/program", argv, ENOENT);
  EXEC_ERR("nosuchprogram", argv, ENOENT);
  EXEC_ERR("", argv, ENOENT);
  EXEC_ERR("/", argv, EACCES, ENOEXEC, EISDIR);
  EXEC_ERR("/echo/x", argv, ENOTDIR);

  putfile("text", "#!/sh\necho hi\n", 14);
  EXEC_ERR("text", argv, ENOEXEC);
  putfile("empty", "", 0);
  EXEC_ERR("empty", argv, ENOEXEC);

  // Damaged copies of a real program.
  struct stat est;
  OK(stat("/echo", &est));
  uchar *image = malloc(est.size);
  CHECK(image != NULL, "no memory for a copy of /echo");
  int size = getfile("/echo", image, est.size);
  CHECK(size == (int)est.size && size > 4096 + 64, "/echo is %d bytes", size);
  CHECK(peek(image, 0, 4) == 0x464c457f, "/echo is not ELF");
  int ph = (int)peek(image, E_PHOFF, 8);     // first program header
  while (peek(image, ph + P_TYPE, 4) != 1)   // find a PT_LOAD
    ph += 56;

  putfile("hdronly", image, 64);
  EXEC_ERR("hdronly", argv, ENOEXEC, EIO);
  putfile("cut", image, 4096 + 16);          // headers intact, segments cut
  EXEC_ERR("cut", argv, ENOEXEC, EIO);

  struct { const char *what; int off; uint64 val; int size; } bad[] = {
    { "wrong class", E_CLASS, 1, 1 },
    { "wrong machine", E_MACHINE, 62, 2 },
    { "phoff past EOF", E_PHOFF, 1 << 30, 8 },
    { "phnum huge", E_PHNUM, 0xffff, 2 },
    { "segment in kernel", ph + P_VADDR, 0x80000000, 8 },
    { "segment at MAXVA", ph + P_VADDR, 0x3ffffff000, 8 },
    { "segment wraps", ph + P_VADDR, 0xfffffffffffff000ULL, 8 },
    { "memsz < filesz", ph + P_MEMSZ, 1, 8 },
    { "memsz huge", ph + P_MEMSZ, 1ULL << 40, 8 },
    { "offset past EOF", ph + P_OFFSET, 1 << 30, 8 },
    { "filesz past EOF", ph + P_FILESZ, 1 << 30, 8 },
  };
  for (int i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
    uint64 old = peek(image, bad[i].off, bad[i].size);
    poke(image, bad[i].off, bad[i].val, bad[i].size);
    putfile("bad.elf", image, size);
    poke(image, bad[i].off, old, bad[i].size);
    int e = exec_errno("bad.elf", argv);
    CHECK(e > 0, "exec of an ELF file with %s succeeded", bad[i].what);
    CHECK(e != ENOENT && e != EFAULT, "exec of ELF with %s: %s", bad[i].what, strerror(e));
  }

  // Bad pointers for the path, the argv array and the strings in it.
  for (int i = 0; i < (int)NKADDRS; i++) {
    EXEC_ERR(BAD(kernel_addrs[i]), argv, EFAULT);
    if (kernel_addrs[i] != 0)
      EXEC_ERR("/echo", BAD(kernel_addrs[i]), EFAULT);
    char *badarg[] = { "echo", BAD(kernel_addrs[i]), NULL };
    if (kernel_addrs[i] != 0)   // a NULL there just ends the list
      EXEC_ERR("/echo", badarg, EFAULT);
  }
  // An argv array running into unmapped memory without a NULL.
  char **edge = (char **)heap_end();
  OK(sbrk(PGSIZE));
  char **tail = (char **)((char *)edge + PGSIZE) - 2;
  tail[0] = "echo";
  tail[1] = "x";
  EXEC_ERR("/echo", tail, EFAULT);
  // A path running into unmapped memory without a NUL.
  char *pg = heap_end();
  OK(sbrk(PGSIZE));
  memset(pg + PGSIZE - 10, 'a', 10);
  EXEC_ERR(pg + PGSIZE - 10, argv, EFAULT);

  // Too many arguments, or too much argument text.
  char **many = malloc(1001 * sizeof(char *));
  for (int i = 0; i < 1000; i++)
    many[i] = "arg";
  many[1000] = NULL;
  EXEC_ERR("/echo", many, E2BIG);
  char *huge = malloc(300 * 1024);
  memset(huge, 'h', 300 * 1024 - 1);
  huge[300 * 1024 - 1] = '\0';
  char *hugeargv[] = { "echo", huge, NULL };
  EXEC_ERR("/echo", hugeargv, E2BIG);

  // Over-long paths.
  char *longpath = malloc(5000);
  memset(longpath, 'p', 4999);
  longpath[4999] = '\0';
  EXEC_ERR(longpath, argv, ENAMETOOLONG);
  char name[100];
  memset(name, 'n', 99);
  name[99] = '\0';
  EXEC_ERR(name, argv, ENAMETOOLONG);

  // After all that, exec still works.
  int pid = OK(fork());
  if (pid == 0) {
    close(1);
    open("out", O_CREATE | O_WRONLY);
    char *ok[] = { "echo", "fine", NULL };
    exec("/echo", ok);
    exit(99);
  }
  int st;
  OK(wait(&st));
  CHECK(st == 0, "exec after failures: status %d", st);
  char got[16];
  int n = getfile("out", got, sizeof(got) - 1);
  got[n] = '\0';
  CHECK(strcmp(got, "fine\n") == 0, "echo wrote '%s'", got);
}

// ================================================================ descriptors

// Every call that takes a descriptor must say EBADF for fd.
static void
check_badfd(int fd)
{
  struct stat st;
  struct wbstat ws;

  ERR(read(fd, buf, 1), EBADF);
  ERR(write(fd, buf, 1), EBADF);
  ERR(pread(fd, buf, 1, 0), EBADF);
  ERR(pwrite(fd, buf, 1, 0), EBADF);
  ERR(fstat(fd, &st), EBADF);
  ERR(lseek(fd, 0, SEEK_SET), EBADF);
  ERR(ftruncate(fd, 0), EBADF);
  ERR(fsync(fd), EBADF);
  ERR(fdatasync(fd), EBADF);
  ERR(syncfs(fd), EBADF);
  ERR(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE), EBADF);
  ERR(dup(fd), EBADF);
  ERR(dup2(fd, 10), EBADF);
  if (fd != -1)        // wbstat(-1) asks for the global counters only
    ERR(wbstat(fd, &ws), EBADF);
  ERR(close(fd), EBADF);
}

static void
t_badfd(void)
{
  check_badfd(-1);
  check_badfd(1000);
  check_badfd(-0x7fffffff - 1);
  check_badfd(0x7fffffff);
  check_badfd(15);
  int fd = createfile("f", "data", 4);
  close(fd);
  check_badfd(fd);

  // Descriptors whose mode does not allow the operation.
  fd = OK(open("f", O_RDONLY));
  ERR(write(fd, "x", 1), EBADF);
  ERR(pwrite(fd, "x", 1, 0), EBADF);
  ERR(ftruncate(fd, 0), EBADF, EINVAL);
  close(fd);
  fd = OK(open("f", O_WRONLY));
  ERR(read(fd, buf, 1), EBADF);
  ERR(pread(fd, buf, 1, 0), EBADF);
  close(fd);
  fd = OK(open(".", O_RDONLY));
  ERR(write(fd, "x", 1), EBADF, EISDIR);
  close(fd);
  int p[2];
  OK(pipe(p));
  ERR(write(p[0], "x", 1), EBADF);
  ERR(read(p[1], buf, 1), EBADF);
  close(p[0]);
  close(p[1]);

  // dup2 with a bad target.
  ERR(dup2(0, -1), EBADF);
  ERR(dup2(0, 1000), EBADF);
  ERR(dup2(0, 0x7fffffff), EBADF);
  check_badfd(10);
}

static void
t_openmax(void)
{
  int fds[200];
  int n = 0;

  putfile("f", "x", 1);
  for (;;) {
    int fd = open("f", O_RDONLY);
    if (fd < 0)
      break;
    CHECK(n < 200, "200 descriptors and still no EMFILE");
    fds[n++] = fd;
  }
  CHECK(errno == EMFILE, "open failed with %s, want EMFILE", strerror(errno));
  CHECK(n >= 8, "only %d descriptors", n);
  int p[2] = { -5, -5 };
  ERR(pipe(p), EMFILE);
  ERR(dup(0), EMFILE);
  ERR(open("new", O_CREATE | O_RDWR), EMFILE);
  // The failed pipe must not have left half its descriptors behind.
  close(fds[--n]);
  ERR(pipe(p), EMFILE);
  int fd = OK(open("f", O_RDONLY));
  fds[n++] = fd;

  // Descriptors are numbered from the lowest free one.
  close(fds[3]);
  close(fds[1]);
  CHECK(OK(open("f", O_RDONLY)) == fds[1], "open did not take the lowest free fd");
  CHECK(OK(dup(0)) == fds[3], "dup did not take the lowest free fd");
  for (int i = 0; i < n; i++)
    close(fds[i]);
  fd = OK(open("f", O_RDONLY));
  CHECK(fd == 3, "after closing all, open returned %d", fd);
  close(fd);
}

static void
t_dup(void)
{
  int fd = createfile("f", "", 0);
  int d = OK(dup(fd));
  CHECK(d == fd + 1, "dup returned %d, want %d", d, fd + 1);
  OK(write(fd, "hello", 5));
  CHECK(OK(lseek(d, 0, SEEK_CUR)) == 5, "dup does not share the offset");
  OK(write(d, " world", 6));
  close(fd);
  CHECK(OK(lseek(d, 0, SEEK_SET)) == 0, "lseek");
  char got[16] = { 0 };
  CHECK(OK(read(d, got, sizeof(got))) == 11, "read through dup");
  CHECK(memcmp(got, "hello world", 11) == 0, "content '%s'", got);

  CHECK(OK(dup2(d, d)) == d, "dup2(fd, fd)");
  CHECK(OK(dup2(d, 9)) == 9, "dup2 to 9");
  int other = createfile("g", "", 0);
  CHECK(OK(dup2(other, 9)) == 9, "dup2 over an open fd");
  OK(write(9, "G", 1));        // goes to g now, not f
  CHECK(fdsize(other) == 1 && fdsize(d) == 11, "dup2 did not replace fd 9");
  OK(close(9));
  ERR(close(9), EBADF);
  CHECK(fdsize(other) == 1, "closing a dup closed the original");
  close(other);
  close(d);

  // A dup survives fork and exec: the child's echo writes into f.
  fd = createfile("out", "", 0);
  int pid = OK(fork());
  if (pid == 0) {
    dup2(fd, 1);
    char *argv[] = { "echo", "dup", NULL };
    exec("/echo", argv);
    exit(99);
  }
  OK(wait(0));
  CHECK(fdsize(fd) == 4, "child's output not in the file");
  close(fd);
}

static void
t_pipe(void)
{
  int p[2];
  OK(pipe(p));
  CHECK(p[0] >= 3 && p[1] >= 3 && p[0] != p[1], "pipe fds %d %d", p[0], p[1]);
  CHECK(OK(write(p[1], "abcde", 5)) == 5, "write");
  char got[8];
  CHECK(OK(read(p[0], got, 3)) == 3 && memcmp(got, "abc", 3) == 0, "read 3");
  CHECK(OK(read(p[0], got, 8)) == 2 && memcmp(got, "de", 2) == 0, "read rest");
  ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
  ERR(pread(p[0], got, 1, 0), ESPIPE);
  ERR(pwrite(p[1], got, 1, 0), ESPIPE);

  // End of file once every write end is closed, including the child's.
  int pid = OK(fork());
  if (pid == 0) {
    close(p[0]);
    write(p[1], "child", 5);
    exit(0);
  }
  close(p[1]);
  int total = 0, n;
  while ((n = OK(read(p[0], got, sizeof(got)))) > 0)
    total += n;
  CHECK(total == 5, "read %d bytes before EOF, want 5", total);
  CHECK(OK(read(p[0], got, 1)) == 0, "EOF is not sticky");
  close(p[0]);
  OK(wait(0));

  // Writing with no reader left fails with EPIPE; so does a writer that
  // was blocked on a full pipe when the last reader went away.
  OK(pipe(p));
  close(p[0]);
  ERR(write(p[1], "x", 1), EPIPE);
  close(p[1]);

  OK(pipe(p));
  pid = OK(fork());
  if (pid == 0) {
    close(p[0]);
    for (int i = 0; i < 1000; i++)
      if (write(p[1], buf, 4096) < 0)
        exit(errno == EPIPE ? 0 : 2);
    exit(3);     // 4 MB fitted in the pipe?
  }
  close(p[1]);
  sleep(5);      // let the writer fill the pipe and block
  CHECK(OK(read(p[0], got, 1)) == 1, "read");
  close(p[0]);
  int st;
  OK(wait(&st));
  CHECK(st == 0, "blocked writer: status %d, want EPIPE (0)", st);
}

static void
t_pipebig(void)
{
  // 1 MiB through a pipe in odd-sized pieces, checked on arrival.
  enum { TOTAL = 1 << 20 };
  int p[2];
  OK(pipe(p));
  int pid = OK(fork());
  if (pid == 0) {
    close(p[0]);
    srand(1);
    for (int sent = 0; sent < TOTAL;) {
      int n = 1 + rand64() % 9000;
      if (n > TOTAL - sent)
        n = TOTAL - sent;
      for (int i = 0; i < n; i++)
        buf[i] = (uchar)((sent + i) * 31 + 7);
      if (write(p[1], buf, n) != n)
        exit(2);
      sent += n;
    }
    exit(0);
  }
  close(p[1]);
  srand(2);
  int got = 0;
  for (;;) {
    int n = OK(read(p[0], buf2, 1 + rand64() % 7000));
    if (n == 0)
      break;
    for (int i = 0; i < n; i++)
      CHECK(buf2[i] == (uchar)((got + i) * 31 + 7), "byte %d wrong", got + i);
    got += n;
  }
  CHECK(got == TOTAL, "received %d bytes, want %d", got, TOTAL);
  int st;
  OK(wait(&st));
  CHECK(st == 0, "writer status %d", st);
  close(p[0]);
}

static void
t_pipebad(void)
{
  int p[2];
  for (int i = 0; i < (int)NKADDRS; i++)
    ERR(pipe(BAD(kernel_addrs[i])), EFAULT);
  ERR(pipe((int *)(uint64)t_pipebad), EFAULT);
  ERR(pipe((int *)"rodata"), EFAULT);
  char *e = heap_end();
  ERR(pipe((int *)e), EFAULT);
  OK(sbrk(PGSIZE));
  ERR(pipe((int *)(e + PGSIZE - 4)), EFAULT);   // first int fits, second not
  // Failed pipes must not leak descriptors.
  int fd = OK(open(".", O_RDONLY));
  CHECK(fd == 3, "after failed pipes the next fd is %d, want 3", fd);
  close(fd);
  // A misaligned but valid array works.
  static char space[16];
  int *q = (int *)(space + 1);
  OK(pipe(q));
  memmove(p, q, sizeof(p));
  CHECK(OK(write(p[1], "m", 1)) == 1 && OK(read(p[0], space, 1)) == 1, "misaligned pipe");
  close(p[0]);
  close(p[1]);
}

// ================================================================ bad arguments

// Every pointer argument of every call gets the address a.  `writable`
// says whether a is also bad for reading (the text segment is readable,
// so only calls where the kernel writes may fail there).
static void
check_badptr(void *a, int fd, int pipefd)
{
  OK(lseek(fd, 0, SEEK_SET));
  ERR(read(fd, a, 10), EFAULT);
  ERR(pread(fd, a, 10, 0), EFAULT);
  ERR(fstat(fd, a), EFAULT);
  ERR(pipe(a), EFAULT);
  ERR(wbstat(-1, a), EFAULT);
  ERR(wbstat(fd, a), EFAULT);
  OK(write(pipefd + 1, "0123456789", 10));
  ERR(read(pipefd, a, 10), EFAULT);
  // Whatever the failed read did with the data, empty the pipe: write a
  // marker and read up to it.
  OK(write(pipefd + 1, "!", 1));
  for (;;) {
    int n = OK(read(pipefd, buf, 64));
    if (n > 0 && buf[n - 1] == '!')
      break;
  }
}

// Pointers the kernel must also refuse to read from.
static void
check_badsrc(void *a, int fd, int pipefd)
{
  char *argv[] = { "echo", NULL };

  ERR(write(fd, a, 10), EFAULT);
  ERR(pwrite(fd, a, 10, 0), EFAULT);
  ERR(write(pipefd + 1, a, 10), EFAULT);
  ERR(open(a, O_RDONLY), EFAULT);
  ERR(open(a, O_CREATE | O_RDWR), EFAULT);
  ERR(mkdir(a), EFAULT);
  ERR(chdir(a), EFAULT);
  ERR(unlink(a), EFAULT);
  ERR(mknod(a, CONSOLE, 0), EFAULT);
  ERR(link(a, "new"), EFAULT);
  ERR(link("f", a), EFAULT);
  ERR(rename(a, "new"), EFAULT);
  ERR(rename("f", a), EFAULT);
  EXEC_ERR(a, argv, EFAULT);
  if (a != NULL)      // a NULL argv may mean "no arguments"
    EXEC_ERR("/echo", a, EFAULT);
}

static void
t_badptr(void)
{
  int fd = createfile("f", "0123456789abcdefghij", 20);
  int p[2];
  OK(pipe(p));
  CHECK(p[1] == p[0] + 1, "pipe fds not consecutive");

  for (int i = 0; i < (int)NKADDRS; i++) {
    check_badptr(BAD(kernel_addrs[i]), fd, p[0]);
    check_badsrc(BAD(kernel_addrs[i]), fd, p[0]);
  }
  char *gap = heap_end();
  check_badptr(gap, fd, p[0]);
  check_badsrc(gap, fd, p[0]);
  check_badptr(gap + 123 * PGSIZE + 5, fd, p[0]);
  check_badsrc(gap + 123 * PGSIZE + 5, fd, p[0]);

  // Read-only memory: fine to read from, wrong to write to.
  check_badptr((void *)(uint64)t_badptr, fd, p[0]);
  check_badptr((void *)"a string in rodata", fd, p[0]);
  CHECK(OK(write(fd, (void *)(uint64)t_badptr, 8)) == 8, "write from text");

  // A buffer that starts in mapped memory and runs off its end: the kernel
  // may copy the part that fits, or refuse the whole call.
  OK(sbrk(PGSIZE));
  char *edge = gap + PGSIZE - 5;
  struct stat st;
  ERR(fstat(fd, (struct stat *)edge), EFAULT);
  OK(lseek(fd, 0, SEEK_SET));
  long r = read(fd, edge, 10);
  CHECK(r == 5 || (r == -1 && errno == EFAULT), "read across the break: %ld", r);
  OK(lseek(fd, 0, SEEK_SET));
  r = write(fd, edge, 10);
  CHECK(r == 5 || (r == -1 && errno == EFAULT), "write across the break: %ld", r);
  OK(pwrite(fd, "0123456789", 10, 0));
  // A path with no NUL before the unmapped page.
  memset(edge, 'a', 5);
  ERR(open(edge, O_RDONLY), EFAULT);
  ERR(open(edge, O_CREATE | O_RDWR), EFAULT);
  ERR(mkdir(edge), EFAULT);

  // A NUL-terminated path longer than any path can be.
  char *longpath = malloc(20000);
  memset(longpath, 'x', 19999);
  longpath[19999] = '\0';
  ERR(open(longpath, O_RDONLY), ENAMETOOLONG);
  ERR(open(longpath, O_CREATE | O_RDWR), ENAMETOOLONG);
  for (int i = 1; i < 19999; i += 2)
    longpath[i] = '/';
  ERR(open(longpath, O_CREATE | O_RDWR), ENAMETOOLONG);

  // Misaligned buffers are just buffers.
  static char space[sizeof(struct stat) + 16];
  struct stat *mst = (struct stat *)(space + 3);
  OK(fstat(fd, mst));
  OK(fstat(fd, &st));
  CHECK(memcmp(mst, &st, sizeof(st)) == 0, "fstat into a misaligned buffer");
  OK(lseek(fd, 0, SEEK_SET));
  CHECK(OK(read(fd, space + 1, 10)) == 10 && memcmp(space + 1, "0123456789", 10) == 0,
        "read into a misaligned buffer");

  // The process is still healthy and its descriptors intact.
  OK(lseek(fd, 0, SEEK_SET));
  char got[4];
  CHECK(OK(read(fd, got, 4)) == 4, "read after bad pointers");
  close(fd);
  close(p[0]);
  close(p[1]);
}

static void
t_badlen(void)
{
  int fd = createfile("f", "0123456789", 10);
  int p[2];
  OK(pipe(p));

  // Negative counts.  The C prototypes take int for read and write, so -1
  // is plainly invalid; a kernel that treats it as a huge unsigned count
  // fails with EFAULT instead.
  OK(lseek(fd, 0, SEEK_SET));
  ERR(read(fd, buf, -1), EINVAL, EFAULT);
  ERR(write(fd, buf, -1), EINVAL, EFAULT);
  ERR(read(fd, buf, -0x7fffffff - 1), EINVAL, EFAULT);
  ERR(write(p[1], buf, -1), EINVAL, EFAULT);
  ERR(read(p[0], buf, -1), EINVAL, EFAULT);
  CHECK(fdsize(fd) == 10, "failed write changed the size");

  // Huge counts into a small buffer: reading a 10-byte file touches only
  // 10 bytes, so either 10 or EFAULT is right.
  OK(lseek(fd, 0, SEEK_SET));
  long r = read(fd, buf, 0x7fffffff);
  CHECK(r == 10 || (r == -1 && (errno == EFAULT || errno == EINVAL)), "huge read: %ld", r);
  r = pread(fd, buf, (size_t)1 << 40, 0);
  CHECK(r == 10 || (r == -1 && (errno == EFAULT || errno == EINVAL)), "huge pread: %ld", r);
  r = pread(fd, buf, (size_t)-1, 0);
  CHECK(r == 10 || (r == -1 && (errno == EFAULT || errno == EINVAL)), "pread of -1 bytes: %ld", r);
  // Writing a huge count runs off the end of memory: a partial write or
  // EFAULT, and the size must match what was written.
  OK(lseek(fd, 0, SEEK_SET));
  r = write(fd, buf, 0x7fffffff);
  CHECK(r == -1 ? (errno == EFAULT || errno == EINVAL) : (r > 0 && r < 0x7fffffff),
        "huge write: %ld", r);
  CHECK(fdsize(fd) == (r > 10 ? (uint64)r : 10), "size %lu after write of %ld",
        (unsigned long)fdsize(fd), r);
  OK(ftruncate(fd, 10));
  r = pwrite(fd, buf, (size_t)1 << 40, 0);
  CHECK(r == -1 ? (errno == EFAULT || errno == EINVAL || errno == EFBIG) : r > 0,
        "huge pwrite: %ld", r);
  OK(ftruncate(fd, 10));

  // Zero counts do nothing, whatever the buffer.
  CHECK(OK(write(fd, buf, 0)) == 0, "write of 0");
  CHECK(OK(read(fd, buf, 0)) == 0, "read of 0");
  r = write(fd, BAD(0x80000000), 0);
  CHECK(r == 0 || (r == -1 && errno == EFAULT), "write of 0 from a kernel address: %ld", r);

  // Offsets and lengths that cannot be.
  ERR(pread(fd, buf, 1, -1), EINVAL);
  ERR(pwrite(fd, buf, 1, -1), EINVAL);
  ERR(pread(fd, buf, 1, (off_t)1 << 63), EINVAL);
  ERR(lseek(fd, -1, SEEK_SET), EINVAL);
  ERR(lseek(fd, -11, SEEK_END), EINVAL);
  OK(lseek(fd, 5, SEEK_SET));
  ERR(lseek(fd, -6, SEEK_CUR), EINVAL);
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 5, "failed lseek moved the offset");
  ERR(lseek(fd, 0, 3), EINVAL);
  ERR(lseek(fd, 0, -1), EINVAL);
  ERR(lseek(fd, 0x7fffffffffffffffLL, SEEK_CUR), EINVAL, EFBIG);
  ERR(ftruncate(fd, -1), EINVAL);
  ERR(ftruncate(fd, (off_t)1 << 63), EINVAL);
  ERR(ftruncate(fd, MAXFILE_BYTES + 1), EFBIG, EINVAL);
  ERR(sync_file_range(fd, -1, 10, SYNC_FILE_RANGE_WRITE), EINVAL);
  ERR(sync_file_range(fd, 0, -1, SYNC_FILE_RANGE_WRITE), EINVAL);
  ERR(sync_file_range(fd, 0, 0, 8), EINVAL);
  ERR(sync_file_range(fd, 0, 0, ~0u), EINVAL);
  CHECK(fdsize(fd) == 10, "size changed");
  close(fd);
  close(p[0]);
  close(p[1]);
}

static void
t_console(void)
{
  struct stat st;
  OK(fstat(1, &st));
  CHECK(st.type == T_DEVICE, "stdout is type %d, want a device", st.type);
  CHECK(OK(write(1, "", 0)) == 0, "empty write");
  ERR(lseek(1, 0, SEEK_SET), ESPIPE);
  ERR(pread(0, buf, 1, 0), ESPIPE);
  ERR(pwrite(1, "x", 1, 0), ESPIPE);
  ERR(ftruncate(1, 0), EINVAL, EBADF);
  int r = fsync(1);
  CHECK(r == 0 || (r == -1 && errno == EINVAL), "fsync(stdout): %s", strerror(errno));

  // The device file is a way in to the same console.
  OK(mknod("cons", CONSOLE, 0));
  OK(stat("cons", &st));
  CHECK(st.type == T_DEVICE, "mknod made type %d", st.type);
  int fd = OK(open("cons", O_WRONLY));
  CHECK(OK(write(fd, "", 0)) == 0, "write to the new console node");
  close(fd);
  ERR(mknod("cons", CONSOLE, 0), EEXIST);
  ERR(mknod("nodir/cons", CONSOLE, 0), ENOENT);
  OK(unlink("cons"));

  // A device number nobody drives: refused when the node is made, or
  // when it is opened or used.
  if (mknod("nodev", 999, 0) < 0) {
    CHECK(errno == EINVAL || errno == ENXIO || errno == ENODEV,
          "mknod of an unknown device: %s", strerror(errno));
    return;
  }
  fd = open("nodev", O_RDWR);
  if (fd >= 0) {
    ERR(read(fd, buf, 1), ENXIO, ENODEV, EINVAL);
    ERR(write(fd, buf, 1), ENXIO, ENODEV, EINVAL);
    close(fd);
  } else {
    CHECK(errno == ENXIO || errno == ENODEV, "open of a driverless node: %s", strerror(errno));
  }
  OK(unlink("nodev"));
}

// ================================================================ files

static void
t_createwrite(void)
{
  // Write in pieces that straddle block boundaries, read back in others.
  int fd = createfile("f", "", 0);
  fillpat(buf, 0, 3 * BSIZE + 512, 11);
  int off = 0;
  static const int pieces[] = { 1, 7, 4000, 100, 4096, 3, 4500, 0 };
  for (int i = 0; pieces[i]; i++) {
    CHECK(OK(write(fd, buf + off, pieces[i])) == pieces[i], "write of %d", pieces[i]);
    off += pieces[i];
  }
  CHECK(fdsize(fd) == (uint64)off, "size %lu, want %d", (unsigned long)fdsize(fd), off);
  close(fd);

  fd = OK(open("f", O_RDONLY));
  int got = 0, n;
  while ((n = OK(read(fd, buf2 + got, 999))) > 0)
    got += n;
  CHECK(got == off, "read %d bytes, want %d", got, off);
  CHECK(memcmp(buf, buf2, off) == 0, "data differs");
  struct stat a, b;
  OK(fstat(fd, &a));
  OK(stat("f", &b));
  CHECK(a.ino == b.ino && a.type == T_FILE && a.nlink == 1, "fstat/stat disagree");
  close(fd);

  // Overwrite in the middle; the rest stays.
  fd = OK(open("f", O_RDWR));
  OK(lseek(fd, 5000, SEEK_SET));
  OK(write(fd, "MIDDLE", 6));
  close(fd);
  memmove(buf + 5000, "MIDDLE", 6);
  CHECK(getfile("f", buf2, BUFSZ) == off && memcmp(buf, buf2, off) == 0, "overwrite");
  OK(unlink("f"));
  ERR(open("f", O_RDONLY), ENOENT);
}

static void
t_openflags(void)
{
  ERR(open("nx", O_RDONLY), ENOENT);
  ERR(open("nx", O_RDWR), ENOENT);
  ERR(open("", O_RDONLY), ENOENT);
  ERR(open("", O_CREATE | O_RDWR), ENOENT);

  int fd = OK(open("a", O_CREAT | O_EXCL | O_RDWR));
  OK(write(fd, "0123456789", 10));
  close(fd);
  ERR(open("a", O_CREAT | O_EXCL | O_RDWR), EEXIST);
  ERR(open(".", O_CREAT | O_EXCL | O_RDONLY), EEXIST);
  fd = OK(open("a", O_CREAT | O_RDWR));       // exists: just opened
  CHECK(fdsize(fd) == 10, "O_CREAT truncated an existing file");
  close(fd);

  // O_TRUNC empties the file; other open descriptors see it too.
  int keep = OK(open("a", O_RDONLY));
  OK(lseek(keep, 4, SEEK_SET));
  fd = OK(open("a", O_WRONLY | O_TRUNC));
  CHECK(fdsize(fd) == 0, "O_TRUNC left %lu bytes", (unsigned long)fdsize(fd));
  CHECK(OK(read(keep, buf, 10)) == 0, "read after O_TRUNC by another fd");
  OK(write(fd, "xy", 2));
  close(fd);
  close(keep);

  // O_APPEND: every write lands at the end, whatever the offset.
  fd = OK(open("a", O_WRONLY | O_APPEND));
  OK(write(fd, "abc", 3));
  OK(lseek(fd, 0, SEEK_SET));
  OK(write(fd, "def", 3));
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 8, "offset after append");
  close(fd);
  char got[16];
  CHECK(getfile("a", got, 16) == 8 && memcmp(got, "xyabcdef", 8) == 0, "append content");

  // Directories open only for reading.
  OK(mkdir("d"));
  ERR(open("d", O_WRONLY), EISDIR);
  ERR(open("d", O_RDWR), EISDIR);
  ERR(open("d", O_CREATE | O_RDWR), EISDIR);
  ERR(open("d", O_RDWR | O_TRUNC), EISDIR);
  fd = OK(open("d", O_RDONLY));
  close(fd);

  // Path components that are not directories.
  ERR(open("a/x", O_RDONLY), ENOTDIR);
  ERR(open("a/x", O_CREATE | O_RDWR), ENOTDIR);
  ERR(open("nodir/x", O_CREATE | O_RDWR), ENOENT);

  // Names of up to DIRSIZ-1 bytes are fine (a directory entry keeps a
  // NUL); longer ones are refused, never cut short.
  char name[DIRSIZ + 2];
  memset(name, 'n', DIRSIZ - 1);
  name[DIRSIZ - 1] = '\0';
  fd = OK(open(name, O_CREATE | O_RDWR));
  close(fd);
  OK(stat(name, (struct stat *)buf));
  name[DIRSIZ - 2] = '\0';
  ERR(open(name, O_RDONLY), ENOENT);     // a prefix is another name
  name[DIRSIZ - 2] = 'n';
  OK(unlink(name));
  name[DIRSIZ - 1] = 'n';
  name[DIRSIZ] = '\0';
  ERR(open(name, O_CREATE | O_RDWR), ENAMETOOLONG);
  ERR(open(name, O_RDONLY), ENAMETOOLONG);
  ERR(mkdir(name), ENAMETOOLONG);
  ERR(stat(name, (struct stat *)buf), ENAMETOOLONG);
}

static void
t_lseek(void)
{
  int fd = createfile("f", "0123456789", 10);
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 10, "offset after write");
  CHECK(OK(lseek(fd, 3, SEEK_SET)) == 3, "SEEK_SET");
  char got[4];
  CHECK(OK(read(fd, got, 2)) == 2 && memcmp(got, "34", 2) == 0, "read at 3");
  CHECK(OK(lseek(fd, 1, SEEK_CUR)) == 6, "SEEK_CUR");
  CHECK(OK(lseek(fd, -2, SEEK_END)) == 8, "SEEK_END");
  CHECK(OK(read(fd, got, 4)) == 2 && memcmp(got, "89", 2) == 0, "read at 8");
  CHECK(OK(read(fd, got, 4)) == 0, "read at EOF");

  // Seeking past the end and writing leaves a hole that reads as zeros.
  off_t far = 3 * BSIZE + 100;
  CHECK(OK(lseek(fd, far, SEEK_SET)) == far, "seek past EOF");
  CHECK(fdsize(fd) == 10, "seeking changed the size");
  OK(write(fd, "end", 3));
  CHECK(fdsize(fd) == (uint64)far + 3, "size after writing past EOF");
  OK(lseek(fd, 0, SEEK_SET));
  int n = getfile("f", buf, BUFSZ);
  CHECK(n == far + 3, "read %d bytes", n);
  CHECK(memcmp(buf, "0123456789", 10) == 0, "head damaged");
  CHECK(allzero(buf + 10, far - 10), "hole does not read as zeros");
  CHECK(memcmp(buf + far, "end", 3) == 0, "tail damaged");
  CHECK(OK(lseek(fd, 0, SEEK_END)) == far + 3, "SEEK_END");
  close(fd);
}

static void
t_preadwrite(void)
{
  int fd = createfile("f", "", 0);
  CHECK(OK(pwrite(fd, "hello", 5, 100)) == 5, "pwrite");
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 0, "pwrite moved the offset");
  CHECK(fdsize(fd) == 105, "size %lu", (unsigned long)fdsize(fd));
  char got[16];
  CHECK(OK(pread(fd, got, 5, 100)) == 5 && memcmp(got, "hello", 5) == 0, "pread");
  CHECK(OK(pread(fd, got, 16, 102)) == 3, "pread across EOF");
  CHECK(OK(pread(fd, got, 16, 105)) == 0, "pread at EOF");
  CHECK(OK(pread(fd, got, 16, 100000)) == 0, "pread past EOF");
  CHECK(OK(pread(fd, got, 10, 0)) == 10 && allzero(got, 10), "hole via pread");
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 0, "pread moved the offset");

  // Many small pwrites at scattered offsets, checked against a copy.
  memset(buf2, 0, 5 * BSIZE);
  memmove(buf2 + 100, "hello", 5);
  srand(5);
  for (int i = 0; i < 200; i++) {
    int off = rand64() % (5 * BSIZE - 64);
    int len = 1 + rand64() % 64;
    for (int k = 0; k < len; k++)
      buf[k] = (uchar)(i + k);
    CHECK(OK(pwrite(fd, buf, len, off)) == len, "pwrite");
    memmove(buf2 + off, buf, len);
  }
  uint64 size = fdsize(fd);
  CHECK(OK(pread(fd, buf, BUFSZ, 0)) == (long)size, "pread all");
  CHECK(memcmp(buf, buf2, size) == 0, "scattered pwrites lost");
  close(fd);
}

static void
t_truncate(void)
{
  int fd = createfile("f", "", 0);
  fillpat(buf, 0, 10000 & ~7, 3);
  OK(write(fd, buf, 10000));
  OK(ftruncate(fd, 5000));
  CHECK(fdsize(fd) == 5000, "shrink: size %lu", (unsigned long)fdsize(fd));
  CHECK(OK(pread(fd, buf2, BUFSZ, 0)) == 5000, "read after shrink");
  CHECK(memcmp(buf, buf2, 5000) == 0, "data before the cut changed");

  // Growing again must show zeros, not the old bytes past the cut, even
  // within the block that was cut in half.
  OK(ftruncate(fd, 12000));
  CHECK(fdsize(fd) == 12000, "grow: size %lu", (unsigned long)fdsize(fd));
  CHECK(OK(pread(fd, buf2, BUFSZ, 0)) == 12000, "read after grow");
  CHECK(memcmp(buf, buf2, 5000) == 0, "data before the cut changed");
  CHECK(allzero(buf2 + 5000, 7000), "old data came back after truncate+grow");

  // The file offset is not moved by ftruncate; writing there extends.
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 10000, "ftruncate moved the offset");
  OK(ftruncate(fd, 0));
  CHECK(fdsize(fd) == 0, "truncate to 0");
  OK(write(fd, "x", 1));
  CHECK(fdsize(fd) == 10001, "write at old offset: size %lu", (unsigned long)fdsize(fd));
  CHECK(OK(pread(fd, buf2, 10001, 0)) == 10001 && allzero(buf2, 10000), "hole after ftruncate(0)");

  // Grow across block-pointer boundaries with a hole, then shrink.
  OK(ftruncate(fd, (off_t)(NDIRECT + 5) * BSIZE + 17));
  CHECK(OK(pread(fd, buf2, 100, (off_t)(NDIRECT + 2) * BSIZE)) == 100 && allzero(buf2, 100),
        "grown region not zero");
  OK(ftruncate(fd, 1));
  CHECK(fdsize(fd) == 1, "size");
  close(fd);

  // Only writable regular files can be truncated.
  fd = OK(open("f", O_RDONLY));
  ERR(ftruncate(fd, 0), EBADF, EINVAL);
  close(fd);
  fd = OK(open(".", O_RDONLY));
  ERR(ftruncate(fd, 0), EBADF, EINVAL, EISDIR);
  close(fd);
  int p[2];
  OK(pipe(p));
  ERR(ftruncate(p[1], 0), EINVAL, EBADF);
  close(p[0]);
  close(p[1]);
}

static void
t_syncs(void)
{
  int fd = createfile("f", "", 0);
  fillpat(buf, 0, 3 * BSIZE, 9);
  OK(write(fd, buf, 3 * BSIZE));
  CHECK(OK(fsync(fd)) == 0, "fsync");
  OK(write(fd, buf, 100));
  CHECK(OK(fdatasync(fd)) == 0, "fdatasync");
  OK(pwrite(fd, "x", 1, 0));
  sync();
  CHECK(OK(syncfs(fd)) == 0, "syncfs");
  for (unsigned f = 0; f < 8; f++)
    CHECK(OK(sync_file_range(fd, 0, 0, f)) == 0, "sync_file_range flags %u", f);
  OK(pwrite(fd, "y", 1, BSIZE));
  CHECK(OK(sync_file_range(fd, BSIZE, 1, SYNC_FILE_RANGE_WAIT_BEFORE |
       SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)) == 0, "sync_file_range");
  CHECK(OK(sync_file_range(fd, 1 << 30, 4096, SYNC_FILE_RANGE_WRITE)) == 0,
        "sync_file_range past EOF");
  close(fd);

  // Read-only descriptors and directories can be synced too.
  fd = OK(open("f", O_RDONLY));
  OK(fsync(fd));
  OK(fdatasync(fd));
  close(fd);
  fd = OK(open(".", O_RDONLY));
  OK(fsync(fd));
  OK(syncfs(fd));
  close(fd);

  // Pipes have nothing to sync.
  int p[2];
  OK(pipe(p));
  ERR(fsync(p[1]), EINVAL);
  ERR(fdatasync(p[1]), EINVAL);
  ERR(sync_file_range(p[1], 0, 0, SYNC_FILE_RANGE_WRITE), ESPIPE, EINVAL);
  close(p[0]);
  close(p[1]);

  // The data is all still there.
  CHECK(getfile("f", buf2, BUFSZ) == 3 * BSIZE + 100, "size");
  buf[0] = 'x';
  buf[BSIZE] = 'y';
  CHECK(memcmp(buf, buf2, 3 * BSIZE) == 0, "data");
}

static void
t_linkunlink(void)
{
  struct stat st;
  int fd = createfile("a", "xyz", 3);
  OK(fstat(fd, &st));
  CHECK(st.nlink == 1, "new file nlink %d", st.nlink);
  OK(link("a", "b"));
  OK(fstat(fd, &st));
  CHECK(st.nlink == 2, "after link nlink %d", st.nlink);
  CHECK(inum("a") == inum("b"), "link made a different inode");
  char got[8];
  CHECK(getfile("b", got, 8) == 3 && memcmp(got, "xyz", 3) == 0, "content via the link");

  ERR(link("a", "b"), EEXIST);
  ERR(link("nx", "c"), ENOENT);
  ERR(link("a", "nodir/c"), ENOENT);
  ERR(link("a", "a/c"), ENOTDIR);
  ERR(link(".", "dirlink"), EPERM, EISDIR);
  ERR(link("a", ""), ENOENT);

  OK(unlink("a"));
  OK(fstat(fd, &st));
  CHECK(st.nlink == 1, "after unlink nlink %d", st.nlink);
  ERR(open("a", O_RDONLY), ENOENT);
  ERR(unlink("a"), ENOENT);
  OK(unlink("b"));
  OK(fstat(fd, &st));
  CHECK(st.nlink == 0, "after last unlink nlink %d", st.nlink);

  // An unlinked file lives on while it is open.
  CHECK(OK(pread(fd, got, 8, 0)) == 3 && memcmp(got, "xyz", 3) == 0, "read after unlink");
  fillpat(buf, 0, 20000 & ~7, 4);
  OK(write(fd, buf, 20000));
  CHECK(OK(pread(fd, buf2, 20000, 3)) == 20000 && memcmp(buf, buf2, 20000) == 0,
        "write after unlink");
  close(fd);

  // Many names for one file.
  putfile("m", "m", 1);
  char name[16];
  for (int i = 0; i < 20; i++) {
    snprintf(name, sizeof(name), "m%d", i);
    OK(link("m", name));
  }
  OK(stat("m", &st));
  CHECK(st.nlink == 21, "nlink %d, want 21", st.nlink);
  for (int i = 0; i < 20; i++) {
    snprintf(name, sizeof(name), "m%d", i);
    OK(unlink(name));
  }
  OK(stat("m", &st));
  CHECK(st.nlink == 1, "nlink %d, want 1", st.nlink);
  OK(unlink("m"));
  ERR(unlink(""), ENOENT);
  ERR(unlink("nodir/x"), ENOENT);
}

static void
t_reuse(void)
{
  // Blocks freed by one file must never show their old bytes in another.
  for (int round = 0; round < 3; round++) {
    memset(buf, 0xab, BUFSZ);
    int fd = createfile("old", buf, BUFSZ);
    fsync(fd);
    close(fd);
    OK(unlink("old"));
    fd = createfile("new", "", 0);
    OK(ftruncate(fd, BUFSZ));
    OK(pwrite(fd, "z", 1, 2 * BUFSZ));
    CHECK(OK(pread(fd, buf2, BUFSZ, 0)) == BUFSZ, "read");
    CHECK(allzero(buf2, BUFSZ), "a new file shows a deleted file's data");
    CHECK(OK(pread(fd, buf2, BUFSZ, BUFSZ)) == BUFSZ && allzero(buf2, BUFSZ), "hole");
    close(fd);
    OK(unlink("new"));
  }
}

static void
t_sharedoffset(void)
{
  // Parent and child share one open file, and so one offset.
  int fd = createfile("f", "", 0);
  int pid = OK(fork());
  if (pid == 0) {
    for (int i = 0; i < 100; i++)
      write(fd, "child\n", 6);
    exit(0);
  }
  OK(wait(0));
  CHECK(OK(lseek(fd, 0, SEEK_CUR)) == 600, "child's writes did not move our offset");
  OK(write(fd, "parent\n", 7));
  close(fd);
  CHECK(getfile("f", buf, BUFSZ) == 607, "size");
  CHECK(memcmp(buf + 600, "parent\n", 7) == 0, "parent's line misplaced");
}

// ================================================================ directories

// Does directory path contain an entry called name?  Returns how often.
static int
dircount(const char *path, const char *name)
{
  int fd = OK(open(path, O_RDONLY));
  struct dirent de;
  int count = 0, n;
  while ((n = OK(read(fd, &de, sizeof(de)))) == sizeof(de))
    if (de.inum != 0 && strncmp(de.name, name, DIRSIZ) == 0)
      count++;
  CHECK(n == 0, "directory read returned %d", n);
  close(fd);
  return count;
}

static void
t_dirs(void)
{
  OK(mkdir("d"));
  ERR(mkdir("d"), EEXIST);
  putfile("file", "f", 1);
  ERR(mkdir("file"), EEXIST);
  ERR(mkdir("nx/d"), ENOENT);
  ERR(mkdir("file/d"), ENOTDIR);
  ERR(mkdir(""), ENOENT);
  struct stat st;
  OK(stat("d", &st));
  CHECK(st.type == T_DIR, "mkdir made type %d", st.type);
  CHECK(dircount("d", ".") == 1 && dircount("d", "..") == 1, "new directory lacks . or ..");
  CHECK(dircount(".", "d") == 1, "parent lacks the entry");

  // Nested directories and relative paths.
  OK(mkdir("d/e"));
  OK(mkdir("d/e/f"));
  OK(chdir("d/e/f"));
  putfile("deep", "deep", 4);
  OK(chdir("../../.."));
  char got[8];
  CHECK(getfile("d/e/f/deep", got, 8) == 4, "file made after chdir");
  CHECK(getfile("d//e/./f/../f/deep", got, 8) == 4, "odd but valid path");
  CHECK(inum("d/e/..") == inum("d"), "d/e/.. is not d");
  CHECK(inum("d/.") == inum("d"), "d/. is not d");
  CHECK(inum("/..") == inum("/"), "/.. is not /");
  CHECK(inum("d/") == inum("d"), "trailing slash");
  CHECK(inum(testdir) == inum("."), "cwd is not the test directory");

  ERR(chdir("file"), ENOTDIR);
  ERR(chdir("nx"), ENOENT);
  ERR(chdir(""), ENOENT);

  // Only empty directories can be removed.
  ERR(unlink("d"), ENOTEMPTY);
  ERR(unlink("d/e/f"), ENOTEMPTY);
  ERR(unlink("."), EINVAL, EBUSY, EISDIR, EPERM, ENOTEMPTY);
  ERR(unlink("d/.."), EINVAL, EBUSY, EISDIR, EPERM, ENOTEMPTY);
  ERR(unlink("d/."), EINVAL, EBUSY, EISDIR, EPERM, ENOTEMPTY);
  OK(unlink("d/e/f/deep"));
  OK(unlink("d/e/f"));
  ERR(stat("d/e/f", &st), ENOENT);
  OK(unlink("d/e"));
  OK(unlink("d"));
  CHECK(dircount(".", "d") == 0, "removed directory still listed");

  // A directory removed while it is someone's cwd takes no new entries.
  OK(mkdir("gone"));
  OK(chdir("gone"));
  if (unlink("../gone") == 0) {
    ERR(open("x", O_CREATE | O_RDWR), ENOENT);
    ERR(mkdir("y"), ENOENT);
    ERR(mknod("z", CONSOLE, 0), ENOENT);
  } else {
    CHECK(errno == EBUSY, "unlink of a cwd: %s", strerror(errno));
  }
  OK(chdir(testdir));
  unlink("gone");
  CHECK(dircount(".", "gone") == 0, "gone is back");
}

static void
t_rename(void)
{
  putfile("a", "aaa", 3);
  uint ino = inum("a");
  OK(rename("a", "b"));
  ERR(stat("a", (struct stat *)buf), ENOENT);
  CHECK(inum("b") == ino, "rename changed the inode");

  // Across directories.
  OK(mkdir("d1"));
  OK(mkdir("d2"));
  OK(rename("b", "d1/b"));
  OK(rename("d1/b", "d2/c"));
  char got[8];
  CHECK(getfile("d2/c", got, 8) == 3 && memcmp(got, "aaa", 3) == 0, "content after moves");
  CHECK(dircount("d1", "b") == 0 && dircount("d2", "c") == 1, "entries after moves");

  // Over an existing file: the target's old inode loses its name.
  putfile("x", "XX", 2);
  int fd = createfile("y", "YYY", 3);
  OK(rename("x", "y"));
  CHECK(getfile("y", got, 8) == 2 && memcmp(got, "XX", 2) == 0, "rename over a file");
  struct stat st;
  OK(fstat(fd, &st));
  CHECK(st.nlink == 0, "replaced file still has nlink %d", st.nlink);
  CHECK(OK(pread(fd, got, 8, 0)) == 3, "replaced file unreadable through its fd");
  close(fd);
  ERR(stat("x", &st), ENOENT);
  CHECK(dircount(".", "y") == 1, "y listed %d times", dircount(".", "y"));

  // Renaming a file to itself, or to another link of itself, does nothing.
  OK(rename("y", "y"));
  OK(link("y", "y2"));
  OK(rename("y", "y2"));
  CHECK(inum("y") == inum("y2"), "rename between links of one file");
  OK(stat("y", &st));
  CHECK(st.nlink == 2, "nlink %d after rename between links", st.nlink);

  ERR(rename("nx", "z"), ENOENT);
  ERR(rename("y", "nodir/z"), ENOENT);
  ERR(rename("y", "y2/z"), ENOTDIR);
  ERR(rename("y", ""), ENOENT);
  ERR(rename(".", "z"), EINVAL, EBUSY);
  ERR(rename("..", "z"), EINVAL, EBUSY, ENOTEMPTY);
  char name[DIRSIZ + 2];
  memset(name, 'r', DIRSIZ + 1);
  name[DIRSIZ + 1] = '\0';
  ERR(rename("y", name), ENAMETOOLONG);
  CHECK(inum("y") == inum("y2"), "failed renames changed things");
}

static void
t_renamedir(void)
{
  OK(mkdir("d1"));
  OK(mkdir("d2"));
  OK(mkdir("d1/sub"));
  putfile("d1/sub/file", "s", 1);
  OK(rename("d1/sub", "d2/sub"));
  CHECK(dircount("d1", "sub") == 0, "old entry still there");
  CHECK(inum("d2/sub/..") == inum("d2"), "moved directory's .. not updated");
  uint d2 = inum("d2");
  OK(chdir("d2/sub"));
  OK(chdir(".."));
  CHECK(inum(".") == d2, "chdir .. from the moved directory went elsewhere");
  OK(chdir(testdir));
  char got[4];
  CHECK(getfile("d2/sub/file", got, 4) == 1, "file inside the moved directory");

  // A directory cannot move into itself or below itself.
  ERR(rename("d2", "d2/sub/x"), EINVAL);
  ERR(rename("d2", "d2/x"), EINVAL);

  // Directory over file and file over directory.
  putfile("f", "f", 1);
  ERR(rename("d1", "f"), ENOTDIR);
  ERR(rename("f", "d1"), EISDIR);
  // Over a non-empty directory, then over an empty one.
  ERR(rename("d1", "d2"), ENOTEMPTY, EEXIST);
  OK(mkdir("empty"));
  uint ino = inum("d1");
  OK(rename("d1", "empty"));
  CHECK(inum("empty") == ino, "rename over an empty directory");
  ERR(stat("d1", (struct stat *)buf), ENOENT);
  // Renaming back and forth leaves the tree consistent.
  OK(rename("d2/sub", "sub"));
  OK(rename("sub", "empty/sub"));
  CHECK(inum("empty/sub/..") == inum("empty"), ".. after second move");
  OK(unlink("empty/sub/file"));
  OK(unlink("empty/sub"));
  OK(unlink("empty"));
  OK(unlink("d2"));
}

static void
t_renameparent(void)
{
  // The target is the source's own parent directory, which the kernel
  // already holds locked as a parent.
  OK(mkdir("p"));
  putfile("p/f", "f", 1);
  ERR(rename("p/f", "p"), EISDIR);
  OK(mkdir("p/q"));
  ERR(rename("p/q", "p"), ENOTEMPTY, EEXIST);
  OK(mkdir("p/q/r"));
  ERR(rename("p/q/r", "p"), ENOTEMPTY, EEXIST);
  ERR(rename("p/q/r", "p/q"), ENOTEMPTY, EEXIST);
  // And the other way round: a directory over something inside it.
  ERR(rename("p", "p/f"), EINVAL, ENOTDIR);
  ERR(rename("p", "p/q"), EINVAL, ENOTEMPTY);
  OK(unlink("p/q/r"));
  OK(unlink("p/q"));
  OK(unlink("p/f"));
  OK(unlink("p"));
}

static void
t_dirfile(void)
{
  // Directory contents: reading a directory yields whole entries.
  OK(mkdir("d"));
  putfile("d/one", "1", 1);
  putfile("d/two", "2", 1);
  int fd = OK(open("d", O_RDONLY));
  struct stat st;
  OK(fstat(fd, &st));
  CHECK(st.type == T_DIR, "type");
  CHECK(st.size % sizeof(struct dirent) == 0, "directory size %lu", (unsigned long)st.size);
  struct dirent de;
  int names = 0;
  while (OK(read(fd, &de, sizeof(de))) == sizeof(de))
    if (de.inum != 0)
      names++;
  CHECK(names == 4, "%d names, want 4 (. .. one two)", names);
  close(fd);
  OK(unlink("d/one"));
  OK(unlink("d/two"));
  OK(unlink("d"));
}

// ================================================================ big files

static void
writepat(int fd, off_t off, uint64 len, uint64 seed)
{
  while (len > 0) {
    int n = len > BUFSZ ? BUFSZ : (int)len;
    fillpat(buf, off, n, seed);
    int w = OK(pwrite(fd, buf, n, off));
    CHECK(w == n, "pwrite at %ld: %d of %d", (long)off, w, n);
    off += n;
    len -= n;
  }
}

static void
readpat(int fd, off_t off, uint64 len, uint64 seed)
{
  while (len > 0) {
    int n = len > BUFSZ ? BUFSZ : (int)len;
    int r = OK(pread(fd, buf, n, off));
    CHECK(r == n, "pread at %ld: %d of %d", (long)off, r, n);
    long bad = checkpat(buf, off, n, seed);
    CHECK(bad < 0, "wrong data at offset %ld", bad);
    off += n;
    len -= n;
  }
}

static void
t_bigfile(void)
{
  // 8 MiB: direct blocks, the whole single-indirect block and well into
  // the double-indirect region, written sequentially with write().
  enum { SIZE = 8 << 20 };
  int fd = createfile("big", "", 0);
  for (off_t off = 0; off < SIZE; off += BUFSZ) {
    fillpat(buf, off, BUFSZ, 0xb16);
    CHECK(OK(write(fd, buf, BUFSZ)) == BUFSZ, "write at %ld", (long)off);
  }
  CHECK(fdsize(fd) == SIZE, "size %lu", (unsigned long)fdsize(fd));
  close(fd);

  fd = OK(open("big", O_RDONLY));
  for (off_t off = 0; off < SIZE;) {
    int n = OK(read(fd, buf, BUFSZ));
    CHECK(n > 0, "EOF at %ld", (long)off);
    CHECK(n % 8 == 0, "odd read of %d", n);
    long bad = checkpat(buf, off, n, 0xb16);
    CHECK(bad < 0, "wrong data at offset %ld", bad);
    off += n;
  }
  CHECK(OK(read(fd, buf, 1)) == 0, "data past the end");
  close(fd);

  // Truncate to the middle of the double-indirect region and regrow.
  fd = OK(open("big", O_RDWR));
  off_t cut = (off_t)(NDIRECT + NINDIRECT + 300) * BSIZE + 123 * 8;
  OK(ftruncate(fd, cut));
  readpat(fd, cut - 3 * BSIZE, 3 * BSIZE, 0xb16);
  OK(ftruncate(fd, SIZE));
  CHECK(OK(pread(fd, buf2, BUFSZ, cut)) == BUFSZ && allzero(buf2, BUFSZ),
        "old data after truncate and regrow");
  close(fd);
  OK(unlink("big"));
}

static void
t_indirect(void)
{
  // Write block-sized pieces around every boundary of the block map,
  // out of order, and read them back.
  static const long blocks[] = {
    0, NDIRECT - 1, NDIRECT, NDIRECT + 1,
    NDIRECT + NINDIRECT - 1, NDIRECT + NINDIRECT, NDIRECT + NINDIRECT + 1,
    NDIRECT + 2 * NINDIRECT - 1, NDIRECT + 2 * NINDIRECT,
  };
  int nb = sizeof(blocks) / sizeof(blocks[0]);
  int fd = createfile("f", "", 0);
  for (int i = nb - 1; i >= 0; i--)
    writepat(fd, blocks[i] * BSIZE, BSIZE, 0x1d);
  CHECK(fdsize(fd) == (uint64)(blocks[nb - 1] + 1) * BSIZE, "size");
  for (int i = 0; i < nb; i++)
    readpat(fd, blocks[i] * BSIZE, BSIZE, 0x1d);
  // Between them, holes.
  CHECK(OK(pread(fd, buf2, BSIZE, (NDIRECT + 5) * BSIZE)) == BSIZE && allzero(buf2, BSIZE),
        "hole in the indirect region");

  // And a file written straight through the first boundaries: 4.2 MiB
  // plus a bit, just past the end of the single-indirect region.
  int fd2 = createfile("g", "", 0);
  uint64 size = (uint64)(NDIRECT + NINDIRECT + 3) * BSIZE;
  writepat(fd2, 0, size, 0x2d);
  close(fd2);
  fd2 = OK(open("g", O_RDONLY));
  CHECK(fdsize(fd2) == size, "size");
  readpat(fd2, 0, size, 0x2d);
  close(fd2);
  close(fd);
  OK(unlink("f"));
  OK(unlink("g"));
}

static void
t_sparse(void)
{
  // Single bytes far apart, up to the largest offset a file can have.
  static const off_t offs[] = {
    0, 1 << 20, 100 << 20, 1LL << 30, 3LL << 30, MAXFILE_BYTES - 1,
  };
  int n = sizeof(offs) / sizeof(offs[0]);
  int fd = createfile("f", "", 0);
  for (int i = 0; i < n; i++) {
    uchar c = 'A' + i;
    CHECK(OK(pwrite(fd, &c, 1, offs[i])) == 1, "pwrite at %ld", (long)offs[i]);
  }
  CHECK(fdsize(fd) == (uint64)MAXFILE_BYTES, "size %lu", (unsigned long)fdsize(fd));
  for (int i = 0; i < n; i++) {
    uchar c = 0;
    CHECK(OK(pread(fd, &c, 1, offs[i])) == 1 && c == 'A' + i, "byte at %ld", (long)offs[i]);
    if (offs[i] > 100) {
      CHECK(OK(pread(fd, buf2, 100, offs[i] - 100)) == 100 && allzero(buf2, 100),
            "hole before %ld", (long)offs[i]);
    }
  }
  // Nothing can go at or past the maximum size.
  ERR(pwrite(fd, "x", 1, MAXFILE_BYTES), EFBIG);
  ERR(pwrite(fd, "x", 1, MAXFILE_BYTES + BSIZE), EFBIG);
  long r = pwrite(fd, "wxyz", 4, MAXFILE_BYTES - 2);
  CHECK(r == 2 || (r == -1 && errno == EFBIG), "write across the limit: %ld", r);
  OK(lseek(fd, MAXFILE_BYTES, SEEK_SET));
  ERR(write(fd, "x", 1), EFBIG);
  CHECK(fdsize(fd) == (uint64)MAXFILE_BYTES, "size changed");
  OK(ftruncate(fd, 0));
  OK(ftruncate(fd, MAXFILE_BYTES));
  CHECK(OK(pread(fd, buf2, 10, 3LL << 30)) == 10 && allzero(buf2, 10), "truncate did not free");
  close(fd);
  OK(unlink("f"));
}

static void
t_manyfiles(void)
{
  enum { N = 500 };
  char name[32];
  OK(mkdir("many"));
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "many/file%03d", i);
    int fd = OK(open(name, O_CREATE | O_EXCL | O_WRONLY));
    OK(write(fd, name, strlen(name)));
    close(fd);
  }
  int fd = OK(open("many", O_RDONLY));
  struct dirent de;
  int count = 0;
  while (OK(read(fd, &de, sizeof(de))) == sizeof(de))
    if (de.inum != 0 && strncmp(de.name, "file", 4) == 0)
      count++;
  close(fd);
  CHECK(count == N, "directory lists %d files, want %d", count, N);
  char got[32];
  for (int i = 0; i < N; i += 37) {
    snprintf(name, sizeof(name), "many/file%03d", i);
    int n = getfile(name, got, sizeof(got));
    CHECK(n == (int)strlen(name) && memcmp(got, name, n) == 0, "content of %s", name);
  }
  ERR(unlink("many"), ENOTEMPTY);
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "many/file%03d", i);
    OK(unlink(name));
  }
  OK(unlink("many"));
}

// ================================================================ concurrency

static void
t_concreate(void)
{
  // Four processes create and remove files in one directory at once:
  // some names are private to a process, some are shared by all.
  enum { NPROC = 4, ROUNDS = 40 };
  char name[32];
  for (int p = 0; p < NPROC; p++) {
    int pid = OK(fork());
    if (pid == 0) {
      srand(p + 1);
      for (int i = 0; i < ROUNDS; i++) {
        snprintf(name, sizeof(name), "p%d_%d", p, i);
        int fd = open(name, O_CREATE | O_EXCL | O_WRONLY);
        if (fd < 0 || write(fd, name, strlen(name)) != (int)strlen(name))
          exit(1);
        close(fd);
        if (i % 3 == 0 && unlink(name) < 0)
          exit(2);
        // Shared names: create, write, maybe remove; losing a race to
        // another process is fine, any other failure is not.
        snprintf(name, sizeof(name), "s%d", (int)(rand64() % 8));
        fd = open(name, O_CREATE | O_RDWR);
        if (fd < 0)
          exit(3);
        write(fd, "shared", 6);
        close(fd);
        if (rand64() % 2 && unlink(name) < 0 && errno != ENOENT)
          exit(4);
        if (rand64() % 4 == 0) {
          snprintf(name, sizeof(name), "sd%d", (int)(rand64() % 3));
          if (mkdir(name) < 0 && errno != EEXIST)
            exit(5);
          if (unlink(name) < 0 && errno != ENOENT)
            exit(6);
        }
      }
      exit(0);
    }
  }
  for (int p = 0; p < NPROC; p++) {
    int st;
    OK(wait(&st));
    CHECK(st == 0, "a worker failed with status %d", st);
  }

  // Private files: exactly the ones not removed, with their content.
  char got[32];
  for (int p = 0; p < NPROC; p++) {
    for (int i = 0; i < ROUNDS; i++) {
      snprintf(name, sizeof(name), "p%d_%d", p, i);
      int c = dircount(".", name);
      if (i % 3 == 0) {
        CHECK(c == 0, "%s listed after unlink", name);
      } else {
        CHECK(c == 1, "%s listed %d times", name, c);
        int n = getfile(name, got, sizeof(got));
        CHECK(n == (int)strlen(name) && memcmp(got, name, n) == 0, "content of %s", name);
        OK(unlink(name));
      }
    }
  }
  // Shared names appear at most once each.
  for (int i = 0; i < 8; i++) {
    snprintf(name, sizeof(name), "s%d", i);
    int c = dircount(".", name);
    CHECK(c <= 1, "%s listed %d times", name, c);
    unlink(name);
  }
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "sd%d", i);
    CHECK(dircount(".", name) <= 1, "%s duplicated", name);
    unlink(name);
  }
}

static void
t_concwrite(void)
{
  // Four processes pwrite disjoint interleaved blocks of one file.
  enum { NPROC = 4, BLOCKS = 64 };
  int fd = createfile("f", "", 0);
  for (int p = 0; p < NPROC; p++) {
    if (OK(fork()) == 0) {
      for (int b = p; b < BLOCKS; b += NPROC) {
        fillpat(buf, (uint64)b * BSIZE, BSIZE, 0xc0);
        if (pwrite(fd, buf, BSIZE, (off_t)b * BSIZE) != BSIZE)
          exit(1);
      }
      exit(0);
    }
  }
  for (int p = 0; p < NPROC; p++) {
    int st;
    OK(wait(&st));
    CHECK(st == 0, "writer failed");
  }
  CHECK(fdsize(fd) == BLOCKS * BSIZE, "size %lu", (unsigned long)fdsize(fd));
  readpat(fd, 0, BLOCKS * BSIZE, 0xc0);
  close(fd);

  // O_APPEND from four processes: no record lost or torn.
  enum { RECS = 100, RECLEN = 16 };
  fd = OK(open("log", O_CREATE | O_WRONLY | O_APPEND));
  for (int p = 0; p < NPROC; p++) {
    if (OK(fork()) == 0) {
      char rec[RECLEN + 1];
      for (int i = 0; i < RECS; i++) {
        snprintf(rec, sizeof(rec), "p%d rec %05d...\n", p, i);
        if (write(fd, rec, RECLEN) != RECLEN)
          exit(1);
      }
      exit(0);
    }
  }
  for (int p = 0; p < NPROC; p++) {
    int st;
    OK(wait(&st));
    CHECK(st == 0, "appender failed");
  }
  close(fd);
  int n = getfile("log", buf, BUFSZ);
  CHECK(n == NPROC * RECS * RECLEN, "log is %d bytes, want %d", n, NPROC * RECS * RECLEN);
  int next[NPROC] = { 0 };
  for (int off = 0; off < n; off += RECLEN) {
    char *r = (char *)buf + off;
    int p = r[1] - '0';
    CHECK(r[0] == 'p' && p >= 0 && p < NPROC && r[RECLEN - 1] == '\n', "torn record at %d", off);
    CHECK(atoi(r + 7) == next[p], "p%d: record %d out of order", p, atoi(r + 7));
    next[p]++;
  }
}

// ================================================================ Quire's calls

static void
t_wbstat(void)
{
  struct wbstat g, a, b;
  OK(wbstat(-1, &g));
  CHECK(g.total_pages > 0 && g.free_pages <= g.total_pages, "free %lu of %lu pages",
        (unsigned long)g.free_pages, (unsigned long)g.total_pages);

  int fd = createfile("f", "", 0);
  fillpat(buf, 0, 3 * BSIZE, 1);
  OK(write(fd, buf, 3 * BSIZE));
  struct stat st;
  OK(fstat(fd, &st));
  OK(wbstat(fd, &a));
  CHECK(a.f_ino == st.ino, "f_ino %lu, want %u", (unsigned long)a.f_ino, st.ino);
  CHECK(a.f_size == 3 * BSIZE, "f_size %lu", (unsigned long)a.f_size);
  CHECK(a.f_nrpages >= 1 && a.f_nrpages <= 3, "f_nrpages %lu", (unsigned long)a.f_nrpages);
  OK(fsync(fd));
  // sync, not fsync, for the FLUSH counter: in the crash lab's starter
  // fsync sends no FLUSH yet.
  sync();
  OK(wbstat(fd, &b));
  CHECK(b.f_dirty == 0 && b.f_writeback == 0, "after fsync: %lu dirty, %lu under writeback",
        (unsigned long)b.f_dirty, (unsigned long)b.f_writeback);
  CHECK(b.pages_written >= a.pages_written, "pages_written went down");
  CHECK(b.disk_writes > g.disk_writes || b.f_pages_written > 0, "fsync wrote nothing");
  CHECK(b.disk_flushes > g.disk_flushes, "fsync and sync sent no FLUSH to the disk");
  CHECK(b.f_disk_blocks >= 3, "f_disk_blocks %lu after fsync", (unsigned long)b.f_disk_blocks);

  ERR(wbstat(1000, &a), EBADF);
  ERR(wbstat(-1, NULL), EFAULT);
  ERR(wbstat(fd, BAD(0x80000000)), EFAULT);
  close(fd);
}

static void
t_wbtrace(void)
{
  // Make some writeback happen, then read the events that followed.
  static struct wbtrace_event ev[64];
  int fd = createfile("f", "", 0);
  fillpat(buf, 0, 4 * BSIZE, 2);
  OK(write(fd, buf, 4 * BSIZE));
  OK(fsync(fd));
  close(fd);
  int n = OK(wbtrace(ev, 64, 0));
  CHECK(n >= 0 && n <= 64, "wbtrace returned %d", n);
  for (int i = 1; i < n; i++)
    CHECK(ev[i].seq > ev[i - 1].seq, "events out of order: seq %lu then %lu",
          (unsigned long)ev[i - 1].seq, (unsigned long)ev[i].seq);
  if (n > 0) {
    // Asking for events after the last one seen gives only newer ones.
    uint64 last = ev[n - 1].seq;
    int m = OK(wbtrace(ev, 64, last));
    for (int i = 0; i < m; i++)
      CHECK(ev[i].seq > last, "event %lu is not after %lu", (unsigned long)ev[i].seq,
            (unsigned long)last);
  }
  int r = wbtrace(BAD(0x80000000), 64, 0);
  CHECK(r == 0 || (r == -1 && errno == EFAULT), "wbtrace to a kernel address: %d", r);
  r = wbtrace(NULL, 64, 0);
  CHECK(r == 0 || (r == -1 && errno == EFAULT), "wbtrace to NULL: %d", r);
  ERR(wbtrace(ev, -1, 0), EINVAL);
  r = wbtrace(ev, 0, 0);
  CHECK(r == 0 || (r == -1 && errno == EINVAL), "wbtrace of 0 events: %d", r);
}

static void
t_sysctl(void)
{
  // Names outside the table are refused.
  int64_t old;
  ERR(sysctl(-1, -1, &old), EINVAL, ENOENT);
  ERR(sysctl(100000, -1, &old), EINVAL, ENOENT);
  ERR(sysctl(-0x7fffffff - 1, 0, 0), EINVAL, ENOENT);
}

static void
t_rawdisk(void)
{
  // Only invalid requests, with a buffer no request could use: a valid
  // write would scribble on the file system.
  ERR(rawdisk(-1, 0, BAD(0x80000000), 1), EINVAL, EFAULT);
  ERR(rawdisk(12345, 0, BAD(0x80000000), 1), EINVAL, EFAULT);
  ERR(rawdisk(-1, 0, NULL, 1), EINVAL, EFAULT);
}

// ================================================================ mmap

static char *mapped;          // for the fault helpers below

static void f_touch_mapped(void) { *(volatile char *)mapped = 1; }
static void f_read_mapped(void) { (void)*(volatile char *)mapped; }

static void
t_mmapanon(void)
{
  size_t len = 3 * PGSIZE;
  char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
  CHECK(((uint64)p & (PGSIZE - 1)) == 0, "mapping at %p is not page-aligned", p);
  CHECK(allzero(p, len), "anonymous memory is not zero");
  for (size_t i = 0; i < len; i++)
    p[i] = (char)i;
  for (size_t i = 0; i < len; i++)
    CHECK(p[i] == (char)i, "byte %lu", (unsigned long)i);

  // The kernel can read from and write to the mapping.
  int fd = createfile("f", p, 100);
  CHECK(OK(pread(fd, p + PGSIZE, 100, 0)) == 100 && memcmp(p, p + PGSIZE, 100) == 0,
        "read into a mapping");
  close(fd);

  // A child gets a private copy.
  int pid = OK(fork());
  if (pid == 0) {
    memset(p, 0x77, len);
    exit(0);
  }
  OK(wait(0));
  CHECK(p[5] == 5, "child's store reached the parent's private mapping");

  // Unmapping the middle page leaves the others.
  OK(munmap(p + PGSIZE, PGSIZE));
  CHECK(p[0] == 0 && p[2 * PGSIZE + 1] == (char)(2 * PGSIZE + 1), "neighbours of the hole");
  mapped = p + PGSIZE;
  expect_killed(f_touch_mapped, "store to an unmapped page");
  OK(munmap(p, len));       // unmapping a range with holes is fine
  mapped = p;
  expect_killed(f_read_mapped, "load after munmap");

  // Map and unmap many times: nothing may leak or pile up.
  for (int i = 0; i < 200; i++) {
    char *q = mmap(0, 16 * PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED, "mmap round %d: %s", i, strerror(errno));
    q[0] = q[15 * PGSIZE] = 1;
    OK(munmap(q, 16 * PGSIZE));
  }
}

static void
t_mmapshared(void)
{
  int fd = createfile("f", "", 0);
  fillpat(buf, 0, 2 * PGSIZE, 0x5a);
  OK(write(fd, buf, 2 * PGSIZE));
  char *p = mmap(0, 2 * PGSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
  CHECK(memcmp(p, buf, 2 * PGSIZE) == 0, "mapping does not show the file");

  // Stores through the mapping reach the file...
  memmove(p + 10, "through the map", 15);
  OK(msync(p, 2 * PGSIZE, MS_SYNC));
  char got[16];
  CHECK(OK(pread(fd, got, 15, 10)) == 15 && memcmp(got, "through the map", 15) == 0,
        "read() does not see a store through the mapping");
  // ...and writes to the file show in the mapping.
  OK(pwrite(fd, "via write", 9, PGSIZE + 7));
  CHECK(memcmp(p + PGSIZE + 7, "via write", 9) == 0, "mapping does not see write()");

  // A child shares a MAP_SHARED mapping.
  int pid = OK(fork());
  if (pid == 0) {
    memmove(p + 100, "child", 5);
    exit(0);
  }
  OK(wait(0));
  CHECK(memcmp(p + 100, "child", 5) == 0, "child's store not visible");

  // The mapping outlives the descriptor and even the name.
  close(fd);
  OK(unlink("f"));
  memmove(p + 200, "late", 4);
  CHECK(memcmp(p + 10, "through the map", 15) == 0, "mapping lost after close");
  OK(msync(p, PGSIZE, MS_ASYNC));
  OK(munmap(p, 2 * PGSIZE));

  // Data stored through a mapping survives unmapping.
  fd = createfile("g", "", 0);
  OK(ftruncate(fd, PGSIZE));
  p = mmap(0, PGSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
  memset(p, 'm', PGSIZE);
  OK(munmap(p, PGSIZE));
  close(fd);
  CHECK(getfile("g", buf2, BUFSZ) == PGSIZE, "size");
  for (int i = 0; i < PGSIZE; i++)
    CHECK(buf2[i] == 'm', "byte %d not stored", i);
}

static void
t_mmapprivate(void)
{
  int fd = createfile("f", "original", 8);
  OK(ftruncate(fd, PGSIZE));
  char *p = mmap(0, PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
  CHECK(memcmp(p, "original", 8) == 0, "mapping does not show the file");
  memmove(p, "changed!", 8);
  OK(msync(p, PGSIZE, MS_SYNC));
  char got[8];
  CHECK(OK(pread(fd, got, 8, 0)) == 8 && memcmp(got, "original", 8) == 0,
        "a MAP_PRIVATE store reached the file");
  OK(munmap(p, PGSIZE));

  // Read-only mappings refuse stores.
  p = mmap(0, PGSIZE, PROT_READ, MAP_SHARED, fd, 0);
  CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
  mapped = p;
  expect_killed(f_touch_mapped, "store to a PROT_READ mapping");
  OK(munmap(p, PGSIZE));
  close(fd);
}

static void
t_mmapeof(void)
{
  // A mapping longer than the file: the rest of the last page reads as
  // zeros; whole pages past the end fault.
  int fd = createfile("f", "short", 5);
  char *p = mmap(0, 3 * PGSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
  CHECK(memcmp(p, "short", 5) == 0 && allzero(p + 5, PGSIZE - 5), "last page");
  mapped = p + 2 * PGSIZE;
  int st = in_child(f_read_mapped);
  CHECK(st == -1, "load past EOF: status %d, want -1", st);
  // Stores past EOF within the page do not change the file's size.
  p[100] = 'x';
  OK(msync(p, PGSIZE, MS_SYNC));
  CHECK(fdsize(fd) == 5, "size %lu", (unsigned long)fdsize(fd));
  OK(munmap(p, 3 * PGSIZE));
  close(fd);
}

static void
t_mmapbad(void)
{
  int fd = createfile("f", "data", 4);
  int ro = OK(open("f", O_RDONLY));
  int rw = PROT_READ | PROT_WRITE;

  ERR(mmap(0, 0, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
  ERR(mmap(0, PGSIZE, rw, MAP_ANONYMOUS, -1, 0), EINVAL);                 // neither
  ERR(mmap(0, PGSIZE, rw, MAP_SHARED | MAP_PRIVATE, fd, 0), EINVAL);      // both
  ERR(mmap(0, PGSIZE, rw, MAP_SHARED, fd, 1), EINVAL);                    // offset
  ERR(mmap(0, PGSIZE, rw, MAP_SHARED, fd, -PGSIZE), EINVAL);
  ERR(mmap(0, PGSIZE, rw, MAP_SHARED, -1, 0), EBADF);
  ERR(mmap(0, PGSIZE, rw, MAP_SHARED, 1000, 0), EBADF);
  ERR(mmap(0, PGSIZE, rw, MAP_SHARED, ro, 0), EACCES);
  int wo = OK(open("f", O_WRONLY));
  ERR(mmap(0, PGSIZE, PROT_READ, MAP_SHARED, wo, 0), EACCES);
  close(wo);
  int p[2];
  OK(pipe(p));
  ERR(mmap(0, PGSIZE, PROT_READ, MAP_SHARED, p[0], 0), ENODEV, EACCES, EINVAL);
  int dir = OK(open(".", O_RDONLY));
  ERR(mmap(0, PGSIZE, PROT_READ, MAP_SHARED, dir, 0), ENODEV, EACCES, EINVAL);
  ERR(mmap(0, (size_t)1 << 40, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
  ERR(mmap(0, (size_t)-PGSIZE, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM, EINVAL);

  // A private read-only file mapping needs only read access.
  char *m = mmap(0, PGSIZE, PROT_READ, MAP_PRIVATE, ro, 0);
  CHECK(m != MAP_FAILED && memcmp(m, "data", 4) == 0, "read-only private mapping");
  ERR(munmap(m + 1, PGSIZE), EINVAL);
  ERR(munmap(m, 0), EINVAL);
  ERR(msync(m + 1, PGSIZE, MS_SYNC), EINVAL);
  ERR(msync(m, PGSIZE, MS_SYNC | MS_ASYNC), EINVAL);
  ERR(msync(m, PGSIZE, 0x100), EINVAL);
  OK(munmap(m, PGSIZE));
  ERR(msync(m, PGSIZE, MS_SYNC), ENOMEM);
  // munmap of something never mapped is not an error.
  OK(munmap(heap_end() + 64 * PGSIZE, PGSIZE));
  // Nor may munmap take away the pages the kernel keeps in every address
  // space (the trap frame and the trampoline), or go past MAXVA.
  ERR(munmap(BAD(0x3ffffff000), PGSIZE), EINVAL);
  ERR(munmap(BAD(0x3fffffe000), PGSIZE), EINVAL);
  ERR(munmap(BAD(0x4000000000), PGSIZE), EINVAL);
  close(fd);
  close(ro);
  close(dir);
  close(p[0]);
  close(p[1]);
}

// ================================================================ the runner

struct test {
  const char *name;
  void (*fn)(void);
  int flags;
};

static struct test tests[] = {
  { "forkwait", t_forkwait, 0 },
  { "exitstatus", t_exitstatus, 0 },
  { "waitbad", t_waitbad, 0 },
  { "getpid", t_getpid, 0 },
  { "orphan", t_orphan, 0 },
  { "kill", t_kill, 0 },
  { "faults", t_faults, 0 },
  { "badsyscall", t_badsyscall, 0 },
  { "sbrkbasic", t_sbrkbasic, 0 },
  { "sbrkbad", t_sbrkbad, 0 },
  { "sbrkmax", t_sbrkmax, SLOW },
  { "sbrkfork", t_sbrkfork, 0 },
  { "malloc", t_malloc, 0 },
  { "libc", t_libc, 0 },
  { "sleep", t_sleep, 0 },
  { "exec", t_exec, 0 },
  { "execbad", t_execbad, 0 },
  { "badfd", t_badfd, 0 },
  { "openmax", t_openmax, 0 },
  { "dup", t_dup, 0 },
  { "pipe", t_pipe, 0 },
  { "pipebig", t_pipebig, 0 },
  { "pipebad", t_pipebad, 0 },
  { "badptr", t_badptr, 0 },
  { "badlen", t_badlen, 0 },
  { "console", t_console, 0 },
  { "createwrite", t_createwrite, 0 },
  { "openflags", t_openflags, 0 },
  { "lseek", t_lseek, 0 },
  { "preadwrite", t_preadwrite, 0 },
  { "truncate", t_truncate, 0 },
  { "syncs", t_syncs, 0 },
  { "linkunlink", t_linkunlink, 0 },
  { "reuse", t_reuse, 0 },
  { "sharedoffset", t_sharedoffset, 0 },
  { "dirs", t_dirs, 0 },
  { "dirfile", t_dirfile, 0 },
  { "rename", t_rename, 0 },
  { "renamedir", t_renamedir, 0 },
  { "renameparent", t_renameparent, 0 },
  { "indirect", t_indirect, 0 },
  { "sparse", t_sparse, 0 },
  { "bigfile", t_bigfile, SLOW },
  { "manyfiles", t_manyfiles, SLOW },
  { "concreate", t_concreate, 0 },
  { "concwrite", t_concwrite, 0 },
  { "wbstat", t_wbstat, 0 },
  { "wbtrace", t_wbtrace, 0 },
  { "sysctl", t_sysctl, 0 },
  { "rawdisk", t_rawdisk, 0 },
  { "mmapanon", t_mmapanon, MMAP },
  { "mmapshared", t_mmapshared, MMAP },
  { "mmapprivate", t_mmapprivate, MMAP },
  { "mmapeof", t_mmapeof, MMAP },
  { "mmapbad", t_mmapbad, MMAP },
};
#define NTESTS ((int)(sizeof(tests) / sizeof(tests[0])))

#define ROOT "/utmp"

// Run one test; returns 1 if it passed.
static int
run(struct test *t)
{
  snprintf(testdir, sizeof(testdir), "%s/%s", ROOT, t->name);
  rmtree(testdir);
  if (mkdir(testdir) < 0) {
    printf("test %s: FAIL cannot make %s: %s\n", t->name, testdir, strerror(errno));
    return 0;
  }

  int pid = fork();
  if (pid < 0) {
    printf("test %s: FAIL fork: %s\n", t->name, strerror(errno));
    return 0;
  }
  if (pid == 0) {
    curtest = t->name;
    if (chdir(testdir) < 0)
      FAIL("chdir %s: %s", testdir, strerror(errno));
    t->fn();
    exit(0);
  }

  // The watchdog: kills the test if it is still running after the limit.
  int dog = fork();
  if (dog == 0) {
    sleep(TEST_TICKS);
    kill(pid);
    exit(0);
  }

  int status = -1, timedout = 0;
  for (;;) {
    int st;
    int w = wait(&st);
    if (w < 0)
      break;
    if (w == pid) {
      status = st;
      if (dog > 0 && !timedout) {
        kill(dog);
        while (wait(0) != dog && errno != ECHILD)
          ;
      }
      break;
    }
    if (w == dog)
      timedout = 1;
  }

  if (timedout) {
    printf("test %s: FAIL timed out after %d s\n", t->name, TEST_TICKS / 100);
    return 0;
  }
  if (status == 0) {
    printf("test %s: OK\n", t->name);
    rmtree(testdir);
    return 1;
  }
  // Status 1 means the test printed its own FAIL line already.
  if (status != 1)
    printf("test %s: FAIL exited with status %d%s\n", t->name, status,
           status == -1 ? " (killed: a fault?)" : "");
  return 0;
}

int
main(int argc, char *argv[])
{
  int quick = 0, list = 0, nnamed = 0;
  char *names[64];

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0)
      quick = 1;
    else if (strcmp(argv[i], "-l") == 0)
      list = 1;
    else if (nnamed < 64)
      names[nnamed++] = argv[i];
  }
  if (list) {
    for (int i = 0; i < NTESTS; i++)
      printf("%s%s\n", tests[i].name,
             tests[i].flags & SLOW ? " (slow)" : tests[i].flags & MMAP ? " (mmap)" : "");
    exit(0);
  }

  // Choose the tests: by name or group, else the default set.
  int chosen[NTESTS] = { 0 };
  for (int k = 0; k < nnamed; k++) {
    int found = 0;
    for (int i = 0; i < NTESTS; i++) {
      if (strcmp(names[k], tests[i].name) == 0 ||
          strcmp(names[k], "all") == 0 ||
          (strcmp(names[k], "mmap") == 0 && (tests[i].flags & MMAP))) {
        chosen[i] = 1;
        found = 1;
      }
    }
    if (!found) {
      fprintf(2, "usertests: no test called %s (usertests -l lists them)\n", names[k]);
      exit(1);
    }
  }
  if (nnamed == 0)
    for (int i = 0; i < NTESTS; i++)
      chosen[i] = !(quick && (tests[i].flags & SLOW));

  runner_pid = getpid();
  if (mkdir(ROOT) < 0 && errno != EEXIST) {
    printf("usertests: cannot make %s: %s\n", ROOT, strerror(errno));
    exit(1);
  }

  printf("usertests starting\n");
  uint64 t0 = uptime_ms();
  int failed = 0, ran = 0;
  for (int i = 0; i < NTESTS; i++) {
    if (!chosen[i])
      continue;
    ran++;
    if (!run(&tests[i]))
      failed++;
  }
  uint64 ms = uptime_ms() - t0;
  printf("usertests: %d tests in %lu.%03lu s, %d failed\n", ran,
         (unsigned long)(ms / 1000), (unsigned long)(ms % 1000), failed);
  if (failed == 0) {
    unlink(ROOT);       // only if empty: a failed test leaves its directory
    printf("ALL TESTS PASSED\n");
    exit(0);
  }
  printf("SOME TESTS FAILED\n");
  exit(1);
}
