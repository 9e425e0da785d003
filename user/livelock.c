// livelock: fsync(2) and sync(2) must finish while another process keeps
// dirtying the file, writing only what was dirty when they were called.
//
//   livelock MODE CALL
//     MODE  append     the dirtier keeps appending to the file
//           overwrite  the dirtier keeps rewriting the file, round and round
//           mmap       the dirtier keeps storing into a MAP_SHARED mapping
//     CALL  fsync | sync
//
// The kernel counts, per process, the folios it tagged TOWRITE (the ones
// dirty when the call began) and the folios whose writeback it started
// (wbstat's self_tagged and self_written).  A call that chases the dirtier
// writes more than it tagged: it would never end if the dirtier never did.
// Prints "livelock MODE CALL: PASS ..." or "... FAIL ...".
#include "user/user.h"

#define MB (1024 * 1024)
#define FILE_MB 4          // the file the dirtier works on
#define APPEND_MAX_MB 96   // an appender stops here, so a failing kernel
                           // fails fast instead of filling the disk
#define CHUNK (64 * 1024)

static char buf[CHUNK];

static void
die(const char *what)
{
  printf("livelock: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void
dirty_append(int fd)
{
  for (uint64 total = 0; total < (uint64)APPEND_MAX_MB * MB; total += CHUNK) {
    buf[0]++;
    if (write(fd, buf, CHUNK) != CHUNK)
      exit(1);
  }
  exit(0);
}

static void
dirty_overwrite(int fd)
{
  for (uint64 off = 0; ; off = (off + CHUNK) % ((uint64)FILE_MB * MB)) {
    buf[0]++;
    if (pwrite(fd, buf, CHUNK, off) != CHUNK)
      exit(1);
  }
}

static void
dirty_mmap(int fd)
{
  char *p = mmap(0, (size_t)FILE_MB * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

  if (p == MAP_FAILED)
    exit(1);
  for (uint64 i = 0; ; i++)
    p[(i * 4096) % ((uint64)FILE_MB * MB)] = (char)i;
}

int
main(int argc, char **argv)
{
  if (argc != 3 || (strcmp(argv[1], "append") && strcmp(argv[1], "overwrite") &&
                    strcmp(argv[1], "mmap")) ||
      (strcmp(argv[2], "fsync") && strcmp(argv[2], "sync"))) {
    fprintf(2, "usage: livelock append|overwrite|mmap fsync|sync\n");
    exit(2);
  }
  const char *mode = argv[1], *call = argv[2];
  int fd = open("livelock.data", O_CREAT | O_TRUNC | O_RDWR);
  if (fd < 0)
    die("open");
  for (int i = 0; i < FILE_MB * MB / CHUNK; i++)
    if (write(fd, buf, CHUNK) != CHUNK)
      die("write");
  if (fsync(fd) < 0)
    die("fsync");

  int pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    if (strcmp(mode, "append") == 0)
      dirty_append(fd);
    else if (strcmp(mode, "overwrite") == 0)
      dirty_overwrite(fd);
    else
      dirty_mmap(fd);
  }
  // Let the dirtier get going, then call while it runs.
  sleep(20);
  struct wbstat before, after;
  if (wbstat(fd, &before) < 0)
    die("wbstat");
  uint64 t0 = uptime_ms();
  int r = strcmp(call, "fsync") == 0 ? fsync(fd) : (sync(), 0);
  uint64 ms = uptime_ms() - t0;
  if (wbstat(fd, &after) < 0)
    die("wbstat");
  int alive = kill(pid) == 0;
  wait(0);

  uint64 tagged = after.self_tagged - before.self_tagged;
  uint64 written = after.self_written - before.self_written;
  printf("livelock %s %s: tagged %lu folios, wrote %lu, in %lu ms; the file had %lu "
         "dirty folios just before\n", mode, call, tagged, written, ms, before.f_dirty);
  if (r < 0)
    printf("livelock %s %s: FAIL %s returned -1: %s\n", mode, call, call, strerror(errno));
  else if (!alive)
    printf("livelock %s %s: FAIL the dirtier had stopped before the call returned\n",
           mode, call);
  else if (tagged == 0 && written == 0 && strcmp(call, "sync") == 0)
    printf("livelock %s %s: FAIL rule 12 (labs/writeback/rules.md): sync neither tagged nor "
           "wrote anything: it waited while the flusher held the file, in one background "
           "pass that chased the dirtier; memory cleaning stops at nr_to_write\n", mode, call);
  else if (tagged == 0)
    printf("livelock %s %s: FAIL rule 9 (labs/writeback/rules.md): nothing was tagged "
           "TOWRITE, so nothing marks what was dirty when %s began\n", mode, call, call);
  else if (written > tagged)
    printf("livelock %s %s: FAIL rule 9 (labs/writeback/rules.md): wrote %lu folios but only "
           "%lu were dirty when it began: it chased the dirtier\n", mode, call, written, tagged);
  else
    printf("livelock %s %s: PASS\n", mode, call);
  close(fd);
  unlink("livelock.data");
  exit(0);
}
